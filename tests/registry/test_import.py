"""Spreadsheet import: preview with row errors, nothing written before confirming, idempotent."""

from __future__ import annotations

import io
import re

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select

from compound_app.extensions import db
from compound_app.registry.models import Building, Household, Occupant, Unit

HEADER = [
    "楼栋",
    "单元",
    "房号",
    "面积(m²)",
    "居住状态",
    "住户姓名",
    "手机号",
    "身份",
    "同意方式",
    "同意日期",
]
ROWS = [
    ["8号楼", "1单元", "101", "68.5", "自住", "张秀英", "13811112222", "业主"],
    ["8号楼", "1单元", "101", "68.5", "自住", "李建国", "", "家属"],
    ["8号楼", "1单元", "102", 72, "出租", "王磊", "13933334444", "租户"],
    ["8号楼", "2单元", 201, "68.50", "空置", "", "", ""],
]


def xlsx(rows: list[list[object]]) -> bytes:
    wb = Workbook()
    for row in rows:
        wb.active.append(row)
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def csv_bytes(rows: list[list[object]], encoding: str = "utf-8-sig") -> bytes:
    return "\n".join(",".join(str(c) for c in row) for row in rows).encode(encoding)


def counts() -> tuple[int, int, int, int]:
    db.session.expire_all()
    return tuple(  # type: ignore[return-value]
        db.session.scalar(select(func.count()).select_from(m))
        for m in (Building, Unit, Household, Occupant)
    )


def room(compound, number: str) -> Household:  # type: ignore[no-untyped-def]
    db.session.expire_all()
    return db.session.scalar(
        select(Household)
        .join(Unit, Unit.id == Household.unit_id)
        .join(Building, Building.id == Unit.building_id)
        .where(
            Building.compound_id == compound.id, Building.name == "8号楼", Household.room == number
        )
    )


def upload(client, compound, data: bytes, filename: str):  # type: ignore[no-untyped-def]
    return client.post(
        f"/registry/compounds/{compound.id}/import",
        data={"file": (io.BytesIO(data), filename)},
        content_type="multipart/form-data",
    )


def confirm(client, compound, preview_html: str):  # type: ignore[no-untyped-def]
    token = re.search(r'name="token" value="([^"]+)"', preview_html)
    assert token, "the preview offers no confirmation"
    return client.post(
        f"/registry/compounds/{compound.id}/import/confirm", data={"token": token.group(1)}
    )


def test_preview_writes_nothing_then_confirm_imports(world, login_as):
    client = login_as(world.users["staff"])
    before = counts()
    preview = upload(client, world.unmanaged, xlsx([HEADER, *ROWS]), "名册.xlsx")
    assert preview.status_code == 200
    html = preview.get_data(as_text=True)
    assert counts() == before
    assert "3" in html  # three new households in the summary
    response = confirm(client, world.unmanaged, html)
    assert response.status_code == 303
    after = counts()
    assert after == (before[0] + 1, before[1] + 2, before[2] + 3, before[3] + 3)
    rented = room(world.unmanaged, "102")
    assert rented.area_dm2 == 7200 and rented.occupancy == "rented"
    assert {o.relation for o in rented.occupants} == {"tenant"}


def test_reimporting_the_same_file_changes_nothing(world, login_as):
    client = login_as(world.users["staff"])
    data = csv_bytes([HEADER, *ROWS])
    confirm(
        client,
        world.unmanaged,
        upload(client, world.unmanaged, data, "r.csv").get_data(as_text=True),
    )
    once = counts()
    again = upload(client, world.unmanaged, data, "r.csv")
    html = again.get_data(as_text=True)
    assert again.status_code == 200
    assert 'name="token"' not in html  # nothing to confirm
    assert counts() == once


def test_gbk_csv_from_excel_is_read(world, login_as):
    client = login_as(world.users["staff"])
    response = upload(client, world.unmanaged, csv_bytes([HEADER, *ROWS], "gb18030"), "r.csv")
    assert response.status_code == 200 and 'name="token"' in response.get_data(as_text=True)


def test_changes_to_existing_households_are_previewed_and_applied(world, login_as):
    client = login_as(world.users["staff"])
    confirm(
        client,
        world.unmanaged,
        upload(client, world.unmanaged, xlsx([HEADER, *ROWS]), "a.xlsx").get_data(as_text=True),
    )
    changed = [row[:] for row in ROWS]
    changed[2][3] = "75"
    preview = upload(client, world.unmanaged, xlsx([HEADER, *changed]), "b.xlsx")
    html = preview.get_data(as_text=True)
    assert "72 m²" in html and "75 m²" in html
    confirm(client, world.unmanaged, html)
    assert room(world.unmanaged, "102").area_dm2 == 7500


def test_row_errors_are_listed_and_nothing_is_written(world, login_as):
    client = login_as(world.users["staff"])
    before = counts()
    bad = [
        HEADER,
        ["8号楼", "1单元", "101", "abc", "自住", "张三", "", ""],
        ["8号楼", "1单元", "102", "-5", "自住", "", "", ""],
        ["8号楼", "1单元", "103", "60", "宫殿", "", "", ""],
        ["8号楼", "1单元", "104", "60", "自住", "张三", "12345", ""],
        ["8号楼", "1单元", "105", "60", "自住", "张" * 51, "", ""],
        ["", "1单元", "106", "60", "自住", "", "", ""],
        ["8号楼", "1单元", "107", "60", "自住", "", "13800001111", ""],
        ["8号楼", "1单元", "108", "60", "自住", "<script>alert(1)</script>", "", ""],
        ["8号楼", "1单元", "109", "60", "自住", "王五", "", ""],
    ]
    response = upload(client, world.unmanaged, xlsx(bad), "bad.xlsx")
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    for line in range(2, 10):
        assert f"<td>{line}</td>" in html, line
    assert "<td>10</td>" not in html  # the good row is not listed as an error
    assert "<script>alert(1)</script>" not in html
    assert 'name="token"' not in html
    assert counts() == before


def test_conflicting_rows_for_one_room_are_errors(world, login_as):
    client = login_as(world.users["staff"])
    rows = [
        HEADER,
        ["8号楼", "1单元", "101", "60", "自住", "甲", "", ""],
        ["8号楼", "1单元", "101", "61", "自住", "乙", "", ""],
    ]
    response = upload(client, world.unmanaged, xlsx(rows), "c.xlsx")
    assert response.status_code == 422


def test_missing_columns_and_broken_files_are_refused(world, login_as):
    client = login_as(world.users["staff"])
    before = counts()
    cases = [
        (xlsx([["楼栋", "单元", "户室"], ["1号楼", "1单元", "101"]]), "m.xlsx"),
        (b"PK\x03\x04 this is not a zip file", "broken.xlsx"),
        (b"\x00\x01\x02binary", "x.csv"),
        (b"", "empty.csv"),
        (csv_bytes([HEADER]), "header-only.csv"),
        (b"<svg/>", "image.svg"),
        (b"\xff\xfe\xfa\xfb" * 10, "weird.csv"),
    ]
    for data, name in cases:
        response = upload(client, world.unmanaged, data, name)
        assert response.status_code == 422, name
        assert 'id="file-error"' in response.get_data(as_text=True), name
    assert counts() == before


def test_missing_column_names_the_column(world, login_as):
    client = login_as(world.users["staff"])
    response = upload(
        client,
        world.unmanaged,
        xlsx([["楼栋", "单元", "户室"], ["1号楼", "1单元", "101"]]),
        "m.xlsx",
    )
    assert "面积(m²)" in response.get_data(as_text=True)


def test_a_tampered_or_foreign_confirmation_is_refused(world, login_as):
    client = login_as(world.users["staff"])
    preview = upload(client, world.unmanaged, xlsx([HEADER, *ROWS]), "a.xlsx").get_data(
        as_text=True
    )
    token = re.search(r'name="token" value="([^"]+)"', preview).group(1)
    before = counts()
    forged = client.post(
        f"/registry/compounds/{world.unmanaged.id}/import/confirm",
        data={"token": token[:-3] + "abc"},
    )
    assert forged.status_code == 303
    elsewhere = client.post(
        f"/registry/compounds/{world.trust.id}/import/confirm", data={"token": token}
    )
    assert elsewhere.status_code == 303
    other_user = login_as(world.users["admin"]).post(
        f"/registry/compounds/{world.unmanaged.id}/import/confirm", data={"token": token}
    )
    assert other_user.status_code == 303
    assert counts() == before


def test_templates_download_with_chinese_headers(world, login_as):
    client = login_as(world.users["committee"])
    response = client.get("/registry/import-template.csv")
    text = response.data.decode("utf-8-sig")
    assert text.splitlines()[0].split(",") == HEADER
    xlsx_response = client.get("/registry/import-template.xlsx")
    assert xlsx_response.data[:2] == b"PK"
    assert "attachment" in xlsx_response.headers["Content-Disposition"]
    assert client.get("/registry/import-template.exe").status_code == 404


def test_residents_and_representatives_cannot_import(world, login_as):
    for role in ("resident", "rep"):
        response = login_as(world.users[role]).get(f"/registry/compounds/{world.branch.id}/import")
        assert response.status_code == 403, role


def test_a_later_file_with_mobiles_fills_them_in_rather_than_doubling_people(world, login_as):
    client = login_as(world.users["staff"])
    first = [row[:] for row in ROWS]
    first[0][6] = ""  # 张秀英 recorded without a mobile
    confirm(
        client,
        world.unmanaged,
        upload(client, world.unmanaged, xlsx([HEADER, *first]), "a.xlsx").get_data(as_text=True),
    )
    before = counts()
    confirm(
        client,
        world.unmanaged,
        upload(client, world.unmanaged, xlsx([HEADER, *ROWS]), "b.xlsx").get_data(as_text=True),
    )
    assert counts() == before
    people = [o for o in room(world.unmanaged, "101").occupants if o.name == "张秀英"]
    assert len(people) == 1 and people[0].mobile == "13811112222"


def test_an_old_preview_cannot_be_confirmed(world, login_as, monkeypatch):
    from compound_app.registry import import_views

    client = login_as(world.users["staff"])
    preview = upload(client, world.unmanaged, xlsx([HEADER, *ROWS]), "a.xlsx").get_data(
        as_text=True
    )
    monkeypatch.setattr(import_views, "PREVIEW_VALID_SECONDS", -1)
    before = counts()
    assert confirm(client, world.unmanaged, preview).status_code == 303
    assert counts() == before


# --- hostile spreadsheets: zip bombs and sheets that claim far more than they hold --------

SHEET = "xl/worksheets/sheet1.xml"
SHEET_START = (
    b'<?xml version="1.0" encoding="UTF-8"?>'
    b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
)


def xlsx_with_sheet(write_sheet) -> bytes:  # type: ignore[no-untyped-def]
    """A real workbook whose first sheet's XML is written by ``write_sheet(stream)``."""
    import zipfile

    source = zipfile.ZipFile(io.BytesIO(xlsx([HEADER])))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            if info.filename == SHEET:
                with target.open(SHEET, "w", force_zip64=True) as stream:
                    write_sheet(stream)
            else:
                target.writestr(info, source.read(info))
    return out.getvalue()


def bomb(megabytes: int) -> bytes:
    def write(stream) -> None:  # type: ignore[no-untyped-def]
        stream.write(SHEET_START + b"<sheetData>")
        spaces = b" " * (1024 * 1024)
        for _ in range(megabytes):
            stream.write(spaces)
        stream.write(b"</sheetData></worksheet>")

    return xlsx_with_sheet(write)


def refused_quickly_and_lightly(data: bytes, filename: str = "名册.xlsx") -> str:
    """Read ``data`` as the import does; it must be refused within a second and with
    little memory. Returns the reason.

    Timed in one read and weighed in another: tracing memory slows some work (regular
    expressions, allocations) many times over, and the time would then measure that.
    """
    import time
    import tracemalloc

    from compound_app.registry import importer

    started = time.perf_counter()
    with pytest.raises(importer.ImportFileError) as refused:
        importer.read_table(filename, data)
    elapsed = time.perf_counter() - started
    tracemalloc.start()
    try:
        with pytest.raises(importer.ImportFileError):
            importer.read_table(filename, data)
        _size, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert elapsed < 1.5, elapsed
    assert peak < 20 * 1024 * 1024, peak
    return str(refused.value)


def test_a_zip_bomb_is_refused_before_it_is_unpacked(world, login_as):
    """The tester's file: about 400 KB that unpacks to 400 MB (the server went to 1 GB)."""
    data = bomb(400)
    assert len(data) < 500 * 1024
    reason = refused_quickly_and_lightly(data)
    assert "xlsx" in reason
    client = login_as(world.users["staff"])
    before = counts()
    response = upload(client, world.unmanaged, data, "名册.xlsx")
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    error = re.search(r'<small class="error" id="file-error">(.*?)</small>', html, re.S)
    assert error and "解压" in error.group(1)  # next to the file field, in Chinese
    assert counts() == before


def test_a_file_compressed_beyond_any_roster_is_refused(world):
    # 8 MB of spaces: within the size limits, but compressed a thousandfold.
    refused_quickly_and_lightly(bomb(8))


def test_a_sheet_with_too_many_cells_in_a_row_is_refused_unread(world):
    def write(stream) -> None:  # type: ignore[no-untyped-def]
        stream.write(SHEET_START + b"<sheetData><row>")
        stream.write(b"<c/>" * 100_000)
        stream.write(b"</row></sheetData></worksheet>")

    refused_quickly_and_lightly(xlsx_with_sheet(write))


def test_a_sheet_with_too_many_rows_is_refused_unread(world):
    def write(stream) -> None:  # type: ignore[no-untyped-def]
        stream.write(SHEET_START + b"<sheetData>")
        stream.write(b"".join(f'<row r="{n}"/>'.encode() for n in range(1, 200_001)))
        stream.write(b"</sheetData></worksheet>")

    assert "5000" in refused_quickly_and_lightly(xlsx_with_sheet(write))


def test_entity_tricks_in_the_xml_are_refused(world):
    def write(stream) -> None:  # type: ignore[no-untyped-def]
        stream.write(
            b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
            b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>'
            b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
            b'<sheetData><row><c t="inlineStr"><is><t>&lol2;</t></is></c></row></sheetData>'
            b"</worksheet>"
        )

    refused_quickly_and_lightly(xlsx_with_sheet(write))


def test_a_sheet_claiming_every_column_is_read_as_the_roster_it_holds(world, login_as):
    """A dimension of A1:XFD1048576 used to pad every row to 16,384 cells."""

    def write(stream) -> None:  # type: ignore[no-untyped-def]
        stream.write(SHEET_START + b'<dimension ref="A1:XFD1048576"/><sheetData>')
        for n, row in enumerate([HEADER, ROWS[0]], start=1):
            cells = "".join(
                f'<c r="{chr(65 + i)}{n}" t="inlineStr"><is><t>{value}</t></is></c>'
                for i, value in enumerate(row)
            )
            stream.write(f'<row r="{n}">{cells}<c r="XFD{n}"><v>1</v></c></row>'.encode())
        stream.write(b"</sheetData></worksheet>")

    from compound_app.registry import importer

    table = importer.read_table("名册.xlsx", xlsx_with_sheet(write))
    assert len(table) == 2 and table[0][0] == "楼栋"
    assert table[1][:8] == [str(v) for v in ROWS[0]]
    assert all(len(row) <= importer.MAX_COLUMNS for row in table)
    client = login_as(world.users["staff"])
    preview = upload(client, world.unmanaged, xlsx_with_sheet(write), "名册.xlsx")
    assert preview.status_code == 200


def test_a_csv_with_a_row_of_endless_columns_is_refused(world):
    refused_quickly_and_lightly(("楼栋" + "," * 1_000_000).encode(), "名册.csv")


# --- every file in the zip is checked, whatever its name --------------------------------------

MAIN_NS = b'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
SHARED_STRINGS_TYPE = (
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"
)


def xlsx_with_parts(
    parts: dict[str, bytes], stored: bool = False, content_types: str = ""
) -> bytes:
    """The template workbook with ``parts`` replaced or added (``stored``: not compressed),
    and ``content_types`` (Override elements) added to [Content_Types].xml."""
    import zipfile

    source = zipfile.ZipFile(io.BytesIO(xlsx([HEADER, ROWS[0]])))
    out = io.BytesIO()
    method = zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            data = source.read(info)
            if info.filename == "[Content_Types].xml":
                data = data.replace(b"</Types>", content_types.encode() + b"</Types>")
            if info.filename not in parts:
                target.writestr(info.filename, data)
        for name, data in parts.items():
            target.writestr(name, data, compress_type=method)
    return out.getvalue()


def varied_elements(count: int) -> bytes:
    """``count`` empty elements with varied names, so the file packs no tighter than a
    real one (a zip of identical elements is refused for its ratio alone)."""
    import random

    rng = random.Random(7)
    names = [f"f{rng.randrange(36**3):x}".encode() for _ in range(4096)]
    return b"".join(b"<" + names[rng.randrange(4096)] + b"/>" for _ in range(count))


def test_a_stylesheet_of_a_million_elements_is_refused_unread(world):
    """styles.xml was never counted; openpyxl builds every element of it into objects."""
    styles = (
        b"<styleSheet "
        + MAIN_NS
        + b"><fonts>"
        + varied_elements(1_000_000)
        + b"</fonts></styleSheet>"
    )
    data = xlsx_with_parts({"xl/styles.xml": styles})
    assert len(data) < 4 * 1024 * 1024  # within the upload limit, and not packed tightly
    assert "解压" in refused_quickly_and_lightly(data)


def test_a_stylesheet_within_the_element_limits_is_still_bounded(world):
    """Fewer elements than a sheet may hold, but each would become an object at once."""
    fonts = b"<font><b/></font>" * 60_000
    styles = b"<styleSheet " + MAIN_NS + b"><fonts>" + fonts + b"</fonts></styleSheet>"
    assert "解压" in refused_quickly_and_lightly(xlsx_with_parts({"xl/styles.xml": styles}))


def test_shared_strings_under_any_name_are_counted(world):
    """The zip check used to look only at .xml files; the workbook may name any file."""
    strings = b"".join(f"<si><t>{n * 7919 % 100_003}</t></si>".encode() for n in range(300_000))
    data = xlsx_with_parts(
        {"xl/strings.bin": b"<sst " + MAIN_NS + b">" + strings + b"</sst>"},
        content_types=f'<Override PartName="/xl/strings.bin" ContentType="{SHARED_STRINGS_TYPE}"/>',
    )
    refused_quickly_and_lightly(data)


def test_a_sheet_under_any_name_has_its_rows_counted(world):
    rows = b"".join(f'<row r="{n}"><c><v>{n}</v></c></row>'.encode() for n in range(1, 20_001))
    sheet = SHEET_START + b"<sheetData>" + rows + b"</sheetData></worksheet>"
    data = xlsx_with_parts({"xl/worksheets/sheet1.xml": b"", "xl/media/rows.png": sheet})
    assert "5000" in refused_quickly_and_lightly(data)


def test_an_element_with_many_attributes_is_refused_before_it_is_parsed(world):
    """A parser takes seconds over one element with a million attributes, and openpyxl
    would keep them all."""
    attributes = b" ".join(b'a%x="%d"' % (n, n % 97) for n in range(300_000))
    data = xlsx_with_parts({"docProps/custom.xml": b"<Properties " + attributes + b"/>"})
    refused_quickly_and_lightly(data)


def test_every_file_is_bounded_in_how_tightly_it_is_packed(world):
    # Not XML, and under a megabyte: it was never looked at.
    data = xlsx_with_parts({"docProps/thumbnail.jpeg": b"\xff\xd8" + b"\x00" * 900_000})
    assert "解压" in refused_quickly_and_lightly(data)


@pytest.mark.parametrize(
    "start",
    [
        b'<?xml version="1.0" encoding="cp037"?>',
        b'<?xml version="1.0" encoding="GB18030"?>',
        "<styleSheet/>".encode("utf-16"),
        "<styleSheet/>".encode("utf-16-le"),
    ],
)
def test_xml_in_another_encoding_is_refused(world, start):
    """The byte counts see "<" and "=" only in UTF-8, which every spreadsheet uses."""
    data = xlsx_with_parts({"xl/styles.xml": start + b"<styleSheet/>"})
    assert "无法按表格读取" in refused_quickly_and_lightly(data)


def test_a_workbook_with_a_picture_and_odd_parts_is_still_read(world):
    picture = io.BytesIO()
    from PIL import Image

    Image.new("RGB", (64, 64), (61, 61, 61)).save(picture, "PNG")
    data = xlsx_with_parts(
        {
            "xl/media/image1.png": picture.getvalue(),
            "xl/printerSettings/printerSettings1.bin": b"\x00\x00" + bytes(range(256)) * 8,
            # Legacy drawings are not always well-formed; nothing reads them.
            "xl/drawings/vmlDrawing1.vml": b"<xml><o:shapelayout><br></xml>",
        }
    )
    from compound_app.registry import importer

    table = importer.read_table("名册.xlsx", data)
    assert table[0][0] == "楼栋" and table[1][:8] == [str(v) for v in ROWS[0]]


def test_a_full_roster_passes_the_checks(world):
    import zipfile

    from compound_app.registry import importer

    wb = Workbook()
    wb.active.append(HEADER)
    for n in range(importer.MAX_ROWS):
        wb.active.append(
            ["1号楼", "1单元", str(n), 68.5, "自住", f"住户{n}", f"138{n:08d}", "业主"]
        )
    buffer = io.BytesIO()
    wb.save(buffer)
    data = buffer.getvalue()
    importer._check_archive(zipfile.ZipFile(io.BytesIO(data)), len(data))

"""Spreadsheet import: preview with row errors, nothing written before confirming, idempotent."""

from __future__ import annotations

import io
import re

from openpyxl import Workbook
from sqlalchemy import func, select

from compound_app.extensions import db
from compound_app.registry.models import Building, Household, Occupant, Unit

HEADER = ["楼栋", "单元", "户室", "面积(m²)", "居住状态", "住户姓名", "手机号", "身份"]
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

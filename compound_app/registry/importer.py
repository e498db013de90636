"""Spreadsheet import of a compound's roster: read, check every row, plan, then apply.

Reading and planning write nothing; the plan is shown as a preview and applied only on
confirmation. Applying adds and updates but never deletes, so importing the same file
twice changes nothing the second time.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from .. import clock
from ..extensions import db
from ..fields import (
    clean_text,
    is_mobile,
    label_problem,
    name_problem,
    normalise_mobile,
    normalise_name,
    parse_area,
    parse_date,
)
from ..money import AmountError
from ..templating import fmt_date
from . import roster
from .models import Building, Compound, Consent, Household, Occupancy, Occupant, Relation, Unit

MAX_ROWS = 5000
MAX_BYTES = 4 * 1024 * 1024
# Columns read from each row; the template has eight, and headers are found by name.
MAX_COLUMNS = 30
# Cells per row and in the whole file, as stored (Excel may store empty styled cells).
MAX_CELLS_PER_ROW = 200
MAX_CELLS = 200_000
# An .xlsx is a zip of XML files: what they unpack to is checked before any is opened,
# every file in it whatever its name (the workbook says where its parts are, so a sheet or
# a stylesheet may sit under any name). A 5,000-row roster unpacks to about 2 MB and
# compresses about twelvefold; its sheet holds about 125,000 XML elements.
MAX_MEMBERS = 200
MAX_MEMBER_BYTES = 16 * 1024 * 1024
MAX_UNPACKED_BYTES = 32 * 1024 * 1024
# How much smaller a file may be packed than unpacked, each and all together (files
# smaller than RATIO_FLOOR unpacked may be packed tighter: they are small anyway).
MAX_RATIO = 100
RATIO_FLOOR = 64 * 1024
# XML elements per file and in the whole workbook. Those outside a sheet's rows and the
# shared strings (styles, the workbook, relationships) are built into objects all at
# once, at about 40 µs each, so far fewer of them are allowed: a real stylesheet has a
# few hundred to a few thousand.
MAX_ELEMENTS_PER_MEMBER = 400_000
MAX_STRUCTURE_ELEMENTS = 50_000
MAX_ELEMENTS = 600_000
# Attributes per file, and per element: counted as "=" in the bytes (between two "<" for
# one element) before any parser sees them, as one element with a million attributes
# takes a parser seconds. A 5,000-row sheet has about 150,000.
MAX_ATTRIBUTES_PER_MEMBER = 500_000
MAX_ATTRIBUTES_PER_ELEMENT = 1_000

# Column key → (Chinese header used in the template, other accepted headers).
COLUMNS: dict[str, tuple[str, tuple[str, ...]]] = {
    "building": ("楼栋", ("楼号", "楼", "building")),
    "unit": ("单元", ("unit",)),
    "room": ("房号", ("户室", "门牌号", "室", "room")),
    "area": (
        "面积(m²)",
        ("面积", "面积(平方米)", "面积（m²）", "建筑面积", "area", "area (m2)", "area (m²)"),
    ),
    "occupancy": ("居住状态", ("状态", "occupancy")),
    "name": ("住户姓名", ("姓名", "name")),
    "mobile": ("手机号", ("手机", "电话", "联系电话", "mobile")),
    "relation": ("身份", ("与房屋关系", "relation")),
    # Optional: how and when the person agreed that their mobile is kept and used.
    "consent": ("同意方式", ("同意", "授权方式", "consent")),
    "consent_on": ("同意日期", ("授权日期", "consent date", "consent_on")),
}
REQUIRED = ("building", "unit", "room", "area")

OCCUPANCY_WORDS = {
    "自住": Occupancy.OWNER_OCCUPIED,
    "业主自住": Occupancy.OWNER_OCCUPIED,
    "owner-occupied": Occupancy.OWNER_OCCUPIED,
    "owner_occupied": Occupancy.OWNER_OCCUPIED,
    "出租": Occupancy.RENTED,
    "rented": Occupancy.RENTED,
    "空置": Occupancy.VACANT,
    "vacant": Occupancy.VACANT,
}
RELATION_WORDS = {
    "业主": Relation.OWNER,
    "产权人": Relation.OWNER,
    "owner": Relation.OWNER,
    "共有人": Relation.CO_OWNER,
    "共有产权人": Relation.CO_OWNER,
    "co-owner": Relation.CO_OWNER,
    "co_owner": Relation.CO_OWNER,
    "租户": Relation.TENANT,
    "承租人": Relation.TENANT,
    "tenant": Relation.TENANT,
    "家属": Relation.FAMILY,
    "家庭成员": Relation.FAMILY,
    "family": Relation.FAMILY,
}

CONSENT_WORDS = {
    "纸质": Consent.PAPER,
    "书面": Consent.PAPER,
    "纸质同意书": Consent.PAPER,
    "签字": Consent.PAPER,
    "paper": Consent.PAPER,
    "当面": Consent.IN_PERSON,
    "口头": Consent.IN_PERSON,
    "当面同意": Consent.IN_PERSON,
    "in person": Consent.IN_PERSON,
    "in_person": Consent.IN_PERSON,
}

TEMPLATE_EXAMPLE = [
    [
        "1号楼",
        "1单元",
        "101",
        "68.5",
        "自住",
        "张秀英",
        "13800000000",
        "业主",
        "纸质",
        "2026-05-20",
    ],
    ["1号楼", "1单元", "101", "68.5", "自住", "李建国", "", "家属", "", ""],
    ["1号楼", "1单元", "102", "72", "出租", "王磊", "13900000000", "租户", "", ""],
    ["1号楼", "2单元", "201", "68.5", "空置", "", "", "", "", ""],
]


class ImportFileError(Exception):
    pass


@dataclass
class Row:
    line: int
    building: str = ""
    unit: str = ""
    room: str = ""
    area_dm2: int | None = None
    occupancy: str = Occupancy.OWNER_OCCUPIED
    name: str = ""
    mobile: str = ""
    relation: str = ""
    consent_how: str = ""
    consent_on: date | None = None
    errors: list[str] = field(default_factory=list)

    def key(self) -> tuple[str, str, str]:
        return (self.building, self.unit, self.room)


@dataclass
class Plan:
    rows: list[Row]
    new_buildings: list[str] = field(default_factory=list)
    new_units: list[tuple[str, str]] = field(default_factory=list)
    new_households: list[Row] = field(default_factory=list)
    changed_households: list[tuple[Row, Household]] = field(default_factory=list)
    new_occupants: list[Row] = field(default_factory=list)
    changed_occupants: list[tuple[Row, Occupant]] = field(default_factory=list)

    @property
    def errors(self) -> list[Row]:
        return [r for r in self.rows if r.errors]

    @property
    def consent_count(self) -> int:
        """Mobiles the plan records consent for (new residents, and recorded ones)."""
        return sum(1 for r in self.new_occupants if r.consent_how) + sum(
            1 for r, o in self.changed_occupants if _adds_consent(o, r)
        )

    @property
    def change_count(self) -> int:
        return (
            len(self.new_buildings)
            + len(self.new_units)
            + len(self.new_households)
            + len(self.changed_households)
            + len(self.new_occupants)
            + len(self.changed_occupants)
        )


# --- reading --------------------------------------------------------------------------------


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):  # a date cell (a consent's day)
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float):
        # Excel stores 301 as 301.0 and 68.5 as 68.5; keep what a person typed.
        text = format(Decimal(repr(value)).normalize(), "f")
        return text
    return clean_text(value)


def read_table(filename: str, data: bytes, *, max_rows: int = MAX_ROWS) -> list[list[str]]:
    """The rows of a CSV (UTF-8 or GBK) or the first sheet of an .xlsx, as cleaned text.

    ``max_rows`` is the roster's unless a caller reads longer files (a year of a bank
    statement); the cells allowed grow with the rows.
    """
    if len(data) > MAX_BYTES:
        raise ImportFileError(_("The file is larger than 4 MB."))
    name = (filename or "").lower()
    if name.endswith(".xlsx") or data[:2] == b"PK":
        return _read_xlsx(data, max_rows)
    if name.endswith(".csv") or name.endswith(".txt"):
        return _read_csv(data, max_rows)
    raise ImportFileError(_("Upload an .xlsx or .csv file."))


def _read_xlsx(data: bytes, max_rows: int = MAX_ROWS) -> list[list[str]]:
    from openpyxl import load_workbook

    try:
        _check_archive(zipfile.ZipFile(io.BytesIO(data)), len(data))
        # Read-only: the sheet is streamed, never held whole. External links (cached
        # copies of other workbooks) are not needed and not read.
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True, keep_links=False)
        ws = wb.worksheets[0]
        rows = []
        # Only the first columns: a sheet may claim (or hold) cells up to column XFD.
        for i, raw in enumerate(ws.iter_rows(max_col=MAX_COLUMNS, values_only=True)):
            if i > max_rows + 1:
                raise ImportFileError(_("At most %(n)d rows per file.", n=max_rows))
            rows.append([_cell(v) for v in raw])
        wb.close()
    except ImportFileError:
        raise
    except (zipfile.BadZipFile, KeyError, ValueError, OSError, IndexError, TypeError) as err:
        raise ImportFileError(_("The file could not be read as a spreadsheet.")) from err
    except Exception as err:  # openpyxl raises many kinds on damaged files
        raise ImportFileError(_("The file could not be read as a spreadsheet.")) from err
    return rows


def _too_large() -> ImportFileError:
    return ImportFileError(
        _(
            "This spreadsheet unpacks to far more than a roster needs. Save it as a new .xlsx "
            "or .csv file with just the roster, and upload that."
        )
    )


def _unreadable() -> ImportFileError:
    return ImportFileError(_("The file could not be read as a spreadsheet."))


def _check_archive(archive: zipfile.ZipFile, size: int) -> None:
    """Refuse a zip bomb before anything is unpacked, then count what every file holds.

    The sizes in the zip's directory are what Python's zipfile unpacks at most (more
    fails its checksum), so they are checked first: per file, in total, how much each
    and all were compressed, and that the packed files fit in the upload (a bomb made of
    files that overlap claims more). Then every file, whatever its name (the workbook
    says where its parts are, so a sheet or a stylesheet may sit under any name), is
    unpacked piece by piece, keeping nothing: first its bytes are counted (elements and
    attributes, at the speed of ``bytes.count``), then, if every file passed, an XML
    parser counts rows, cells and the elements outside them (``_Scan``).

    A file that is not XML (a picture) is left alone: no XML parser reads past its first
    byte. Where a file stops being well-formed the count stops too, as openpyxl's parser
    (expat, like this one) stops there and builds nothing after it.
    """
    members = archive.infolist()
    if len(members) > MAX_MEMBERS:
        raise _too_large()
    total = packed = 0
    for info in members:
        total += info.file_size
        packed += info.compress_size
        if info.file_size > MAX_MEMBER_BYTES or total > MAX_UNPACKED_BYTES or packed > size:
            raise _too_large()
        if info.file_size > RATIO_FLOOR and info.file_size > MAX_RATIO * info.compress_size:
            raise _too_large()
    if total > RATIO_FLOOR and total > MAX_RATIO * packed:
        raise _too_large()
    xml = [info for info in members if _is_xml(archive, info)]
    elements = 0
    for info in xml:
        elements += _count_bytes(archive, info)
        if elements > MAX_ELEMENTS:
            raise _too_large()
    for info in xml:
        _scan_xml(archive, info)


# The first bytes of XML in an encoding other than UTF-8 (UTF-16 or UTF-32, with or
# without a byte order mark, and EBCDIC): no spreadsheet program writes them, and the
# byte counts would not see their "<" and "=".
_OTHER_ENCODINGS = (b"\xff\xfe", b"\xfe\xff", b"\x00<", b"<\x00", b"\x00\x00\x00<", b"Lo\xa7\x94")
_UTF8_NAMES = frozenset({"utf-8", "utf8", "us-ascii", "ascii"})
_PIECE = 64 * 1024


def _is_xml(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> bool:
    with archive.open(info) as member:
        head = member.read(_PIECE)
    if head.startswith(_OTHER_ENCODINGS):
        raise _unreadable()
    start = head.removeprefix(b"\xef\xbb\xbf").lstrip(b" \t\r\n")
    return not start or start.startswith(b"<")


# A "<" followed by MAX_ATTRIBUTES_PER_ELEMENT "=" before the next "<". An attribute value
# may hold ">" but never "<", so a stretch from one "<" to the next holds at most one tag
# (and the text after it). Possessive: the search never backtracks.
_CROWDED_TAG = re.compile(rb"<[^<=]*+(?:=[^<=]*+){%d}" % (MAX_ATTRIBUTES_PER_ELEMENT + 1))


def _count_bytes(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> int:
    """The elements in one file (at most: comments and the like count too), refusing it
    over the limits on elements and attributes."""
    elements = attributes = 0
    open_tag = 0  # "=" since the last "<", carried from one piece to the next
    with archive.open(info) as member:
        while piece := member.read(_PIECE):
            elements += piece.count(b"<") - piece.count(b"</")
            attributes += piece.count(b"=")
            if elements > MAX_ELEMENTS_PER_MEMBER or attributes > MAX_ATTRIBUTES_PER_MEMBER:
                raise _too_large()
            first, last = piece.find(b"<"), piece.rfind(b"<")
            open_tag += piece.count(b"=", 0, first if first >= 0 else len(piece))
            if open_tag > MAX_ATTRIBUTES_PER_ELEMENT or _CROWDED_TAG.search(piece):
                raise _too_large()
            if last >= 0:
                open_tag = piece.count(b"=", last)
    return elements


# Where the bulk of a roster lies: the rows of a sheet and the shared strings. openpyxl
# streams these; everything else is structure (see MAX_STRUCTURE_ELEMENTS).
_BULK = frozenset({"sheetData", "si"})


class _Scan:
    def __init__(self) -> None:
        self.depth = 0
        self.bulk_from = 0  # depth of the open sheetData or si element (0: outside)
        self.structure = 0
        self.rows = 0
        self.cells = 0
        self.in_row = 0

    def start(self, name: str, _attrs: list[str]) -> None:
        self.depth += 1
        local = name.rpartition(":")[2]
        if not self.bulk_from:
            if local in _BULK:
                self.bulk_from = self.depth
            if local != "si":
                self.structure += 1
                if self.structure > MAX_STRUCTURE_ELEMENTS:
                    raise _too_large()
        if local == "row":
            self.rows += 1
            self.in_row = 0
            if self.rows > MAX_ROWS + 2:
                raise ImportFileError(_("At most %(n)d rows per file.", n=MAX_ROWS))
        elif local == "c" or local == "si":  # a cell, a shared string
            self.cells += 1
            self.in_row += local == "c"
            if self.in_row > MAX_CELLS_PER_ROW or self.cells > MAX_CELLS:
                raise _too_large()

    def end(self, _name: str) -> None:
        if self.depth == self.bulk_from:
            self.bulk_from = 0
        self.depth -= 1

    @staticmethod
    def declared(_version: str, encoding: str | None, _standalone: int) -> None:
        if encoding is not None and encoding.lower() not in _UTF8_NAMES:
            raise _unreadable()

    @staticmethod
    def refuse_dtd(*_args: Any) -> None:
        raise _too_large()


def _scan_xml(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> None:
    from xml.parsers import expat

    scan = _Scan()
    # No namespace processing: a prefix nobody declared must not stop the count early.
    parser = expat.ParserCreate()
    parser.ordered_attributes = True
    parser.StartElementHandler = scan.start
    parser.EndElementHandler = scan.end
    parser.XmlDeclHandler = scan.declared
    parser.StartDoctypeDeclHandler = scan.refuse_dtd
    parser.EntityDeclHandler = scan.refuse_dtd
    try:
        with archive.open(info) as member:
            while piece := member.read(_PIECE):
                parser.Parse(piece, False)
            parser.Parse(b"", True)
    except expat.ExpatError as err:
        if err.code in _ENCODING_ERRORS:
            raise _unreadable() from err
        # Not well-formed from here on: openpyxl's parser stops at this very place.


def _encoding_errors() -> frozenset[int]:
    from xml.parsers.expat import errors

    return frozenset(
        errors.codes[message]
        for message in (errors.XML_ERROR_UNKNOWN_ENCODING, errors.XML_ERROR_INCORRECT_ENCODING)
    )


_ENCODING_ERRORS = _encoding_errors()


def _read_csv(data: bytes, max_rows: int = MAX_ROWS) -> list[list[str]]:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise ImportFileError(_("The file is not UTF-8 or GBK text."))
    if "\x00" in text:
        raise ImportFileError(_("The file could not be read as a spreadsheet."))
    try:
        rows = []
        cells = 0
        for i, raw in enumerate(csv.reader(io.StringIO(text))):
            if i > max_rows + 1:
                raise ImportFileError(_("At most %(n)d rows per file.", n=max_rows))
            cells += len(raw)
            if len(raw) > MAX_CELLS_PER_ROW or cells > max(MAX_CELLS, 20 * max_rows):
                raise _too_large()
            rows.append([clean_text(v) for v in raw[:MAX_COLUMNS]])
    except csv.Error as err:
        raise ImportFileError(_("The file could not be read as a spreadsheet.")) from err
    return rows


def _header_map(header: list[str]) -> dict[str, int]:
    def norm(title: str) -> str:
        # NFKC turns "m²" into "m2" and full-width brackets into ASCII ones, on both sides.
        return clean_text(title).lower().replace(" ", "")

    lookup = {}
    for key, (title, aliases) in COLUMNS.items():
        for alias in (title, *aliases):
            lookup[norm(alias)] = key
    found: dict[str, int] = {}
    for index, title in enumerate(header):
        column = lookup.get(norm(title))
        if column and column not in found:
            found[column] = index
    missing = [COLUMNS[k][0] for k in REQUIRED if k not in found]
    if missing:
        raise ImportFileError(
            _(
                "Missing columns: %(cols)s. Download the template to see them.",
                cols="、".join(missing),
            )
        )
    return found


def parse_rows(table: list[list[str]]) -> list[Row]:
    # The header is the first non-empty line.
    while table and not any(table[0]):
        table = table[1:]
    if not table:
        raise ImportFileError(_("The file is empty."))
    columns = _header_map(table[0])
    rows: list[Row] = []
    for offset, raw in enumerate(table[1:], start=2):
        if not any(raw):
            continue
        values = {k: (raw[i] if i < len(raw) else "") for k, i in columns.items()}
        rows.append(_check_row(offset, values))
    if not rows:
        raise ImportFileError(_("The file has a header but no rows."))
    _check_consistency(rows)
    return rows


def _cell_problem(column: str, problem: str) -> str:
    return _("%(column)s: %(problem)s", column=COLUMNS[column][0], problem=problem)


def _check_row(line: int, v: dict[str, str]) -> Row:
    row = Row(line=line)
    for key in ("building", "unit", "room"):
        value = clean_text(v.get(key, ""))
        setattr(row, key, value)
        problem = label_problem(value)
        if problem:
            row.errors.append(_cell_problem(key, problem))
    try:
        row.area_dm2 = parse_area(v.get("area", ""))
    except AmountError as err:
        from ..fields import area_problem

        row.errors.append(_cell_problem("area", area_problem(err.code)))
    occupancy = clean_text(v.get("occupancy", "")).lower()
    if occupancy:
        if occupancy in OCCUPANCY_WORDS:
            row.occupancy = OCCUPANCY_WORDS[occupancy]
        else:
            row.errors.append(_cell_problem("occupancy", _("Use 自住, 出租 or 空置.")))
    row.name = normalise_name(v.get("name", ""))
    row.mobile = normalise_mobile(v.get("mobile", ""))
    relation = clean_text(v.get("relation", "")).lower()
    if row.name:
        problem = name_problem(row.name)
        if problem:
            row.errors.append(_cell_problem("name", problem))
        if relation and relation not in RELATION_WORDS:
            row.errors.append(_cell_problem("relation", _("Use 业主, 共有人, 租户 or 家属.")))
        row.relation = RELATION_WORDS.get(relation, Relation.OWNER)
    elif row.mobile or relation:
        row.errors.append(_("A mobile or relation was given without a name."))
    if row.mobile and not is_mobile(row.mobile):
        row.errors.append(_cell_problem("mobile", _("Not a valid mobile number.")))
    _check_consent(row, v)
    return row


def _check_consent(row: Row, v: dict[str, str]) -> None:
    """The optional consent cells: a way (纸质 or 当面) and its day, both or neither, and
    only beside a mobile."""
    way = clean_text(v.get("consent", "")).lower()
    raw_day = clean_text(v.get("consent_on", ""))
    if not way and not raw_day:
        return
    if way:
        if way in CONSENT_WORDS:
            row.consent_how = CONSENT_WORDS[way]
        else:
            row.errors.append(
                _cell_problem(
                    "consent",
                    _("Use 纸质 or 当面. Residents give consent online themselves, in the app."),
                )
            )
    if raw_day:
        day = parse_date(raw_day)
        if day is None:
            row.errors.append(_cell_problem("consent_on", _("Enter a date such as 2026-11-27.")))
        elif day > clock.today():
            row.errors.append(_cell_problem("consent_on", _("A day in the future.")))
        else:
            row.consent_on = day
    elif way:
        row.errors.append(_cell_problem("consent_on", _("Enter the day consent was given.")))
    if not way and raw_day:
        row.errors.append(_cell_problem("consent", _("Say how consent was given: 纸质 or 当面.")))
    if not row.mobile:
        row.errors.append(_("Consent was given without a mobile: it is consent to keep one."))


def _check_consistency(rows: list[Row]) -> None:
    households: dict[tuple[str, str, str], Row] = {}
    people: set[tuple[tuple[str, str, str], str]] = set()
    for row in rows:
        if row.errors:
            continue
        first = households.setdefault(row.key(), row)
        if first is not row and (first.area_dm2, first.occupancy) != (row.area_dm2, row.occupancy):
            row.errors.append(
                _(
                    "Room %(room)s has a different area or occupancy on line %(line)d.",
                    room=row.room,
                    line=first.line,
                )
            )
        if row.name:
            who = (row.key(), row.mobile or row.name)
            if who in people:
                row.errors.append(_("This person is listed twice for the same room."))
            people.add(who)


# --- planning and applying --------------------------------------------------------------------


def _load(compound_id: int) -> Compound:
    return db.session.scalars(
        select(Compound)
        .where(Compound.id == compound_id)
        .options(
            selectinload(Compound.buildings)
            .selectinload(Building.units)
            .selectinload(Unit.households)
            .selectinload(Household.occupants)
        )
    ).one()


def plan(compound: Compound, rows: list[Row]) -> Plan:
    result = Plan(rows=rows)
    compound = _load(compound.id)
    buildings = {b.name: b for b in compound.buildings}
    seen_households: set[tuple[str, str, str]] = set()
    for row in rows:
        if row.errors:
            continue
        building = buildings.get(row.building)
        if building is None and row.building not in result.new_buildings:
            result.new_buildings.append(row.building)
        unit = next((u for u in building.units if u.name == row.unit), None) if building else None
        if unit is None and (row.building, row.unit) not in result.new_units:
            result.new_units.append((row.building, row.unit))
        household = next((h for h in unit.households if h.room == row.room), None) if unit else None
        if row.key() not in seen_households:
            seen_households.add(row.key())
            if household is None:
                result.new_households.append(row)
            elif (household.area_dm2, household.occupancy) != (row.area_dm2, row.occupancy):
                result.changed_households.append((row, household))
        if not row.name:
            continue
        occupant = None
        if household is not None:
            occupant = _match(household, row)
        if occupant is None:
            result.new_occupants.append(row)
        elif _adds_consent(occupant, row) and roster.consent_predates_withdrawal(
            occupant, row.consent_on
        ):
            # A withdrawal empties the consent columns; the file (last year's, say) must
            # not read that as "never given" and record the old consent again.
            row.errors.append(
                _cell_problem(
                    "consent",
                    _(
                        "%(name)s withdrew consent on %(day)s, after the day in the file. "
                        "Clear the consent cells of this row, or give the day they "
                        "consented anew.",
                        name=occupant.name,
                        day=fmt_date(roster.withdrawn_on(occupant)),
                    ),
                )
            )
        elif _differs(occupant, row):
            result.changed_occupants.append((row, occupant))
    return result


def _match(household: Household, row: Row) -> Occupant | None:
    """The recorded resident a row describes: same mobile, or same name where the record
    has no mobile yet (a later file that adds numbers fills them in, not doubles people)."""
    for o in household.occupants:
        if row.mobile and o.mobile == row.mobile:
            return o
    for o in household.occupants:
        if not o.mobile and o.name == row.name:
            return o
    return None


def _differs(occupant: Occupant, row: Row) -> bool:
    return (
        (occupant.name, occupant.relation) != (row.name, row.relation)
        or bool(row.mobile and not occupant.mobile)
        or _adds_consent(occupant, row)
    )


def _adds_consent(occupant: Occupant, row: Row) -> bool:
    """The file records consent for a mobile that has none (a recorded consent is never
    changed by a file, and one withdrawn after the file's day is a row error)."""
    return bool(row.consent_how) and occupant.consent_how is None


def _consent(row: Row) -> tuple[Consent | None, date | None] | None:
    return (Consent(row.consent_how), row.consent_on) if row.consent_how else None


def apply(compound: Compound, rows: list[Row]) -> Plan:
    """Carry out the plan for ``rows`` (re-planned now, against the current records)."""
    result = plan(compound, rows)
    if result.errors:
        raise ValueError("rows with errors cannot be applied")
    compound = _load(compound.id)
    buildings = {b.name: b for b in compound.buildings}
    for row in rows:
        building = buildings.get(row.building)
        if building is None:
            building = roster.add_building(compound, row.building)
            building.units = []
            buildings[row.building] = building
        unit = next((u for u in building.units if u.name == row.unit), None)
        if unit is None:
            unit = roster.add_unit(building, row.unit)
            unit.households = []
            building.units.append(unit)
        household = next((h for h in unit.households if h.room == row.room), None)
        if household is None:
            assert row.area_dm2 is not None
            household = roster.add_household(unit, row.room, row.area_dm2, Occupancy(row.occupancy))
        elif (household.area_dm2, household.occupancy) != (row.area_dm2, row.occupancy):
            assert row.area_dm2 is not None
            roster.update_household(
                household, household.room, row.area_dm2, Occupancy(row.occupancy)
            )
        if not row.name:
            continue
        occupant = _match(household, row)
        if occupant is None:
            roster.add_occupant(
                household,
                row.name,
                row.mobile or None,
                Relation(row.relation),
                consent=_consent(row),
            )
        elif _differs(occupant, row):
            roster.update_occupant(
                occupant,
                row.name,
                occupant.mobile or row.mobile or None,
                Relation(row.relation),
                consent=_consent(row) if _adds_consent(occupant, row) else None,
            )
    return result


def rows_to_payload(rows: list[Row]) -> list[list[Any]]:
    return [
        [
            r.line,
            r.building,
            r.unit,
            r.room,
            r.area_dm2,
            r.occupancy,
            r.name,
            r.mobile,
            r.relation,
            r.consent_how,
            r.consent_on.isoformat() if r.consent_on else "",
        ]
        for r in rows
    ]


def rows_from_payload(payload: list[list[Any]]) -> list[Row]:
    rows = []
    for values in payload:
        line, building, unit, room, area, occupancy, name, mobile, relation = values[:9]
        how, day = [*values[9:11], "", ""][:2]
        rows.append(
            Row(
                line=int(line),
                building=str(building),
                unit=str(unit),
                room=str(room),
                area_dm2=int(area),
                occupancy=Occupancy(occupancy),
                name=str(name),
                mobile=str(mobile),
                relation=Relation(relation) if relation else "",
                consent_how=Consent(how) if how else "",
                consent_on=date.fromisoformat(day) if day else None,
            )
        )
    return rows


def template_rows() -> list[list[str]]:
    return [[title for title, _aliases in COLUMNS.values()], *TEMPLATE_EXAMPLE]


def template_xlsx() -> bytes:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.worksheets[0]
    ws.title = "住户名册"
    for row in template_rows():
        ws.append(row)
    for column, width in zip("ABCDEFGHIJ", (10, 8, 8, 10, 10, 12, 14, 8, 10, 12), strict=True):
        ws.column_dimensions[column].width = width
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def template_csv() -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer).writerows(template_rows())
    # A BOM so Excel opens the Chinese headers as UTF-8.
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


HELP = _l("One row per person; a room without residents gets one row with the name left empty.")
CONSENT_HELP = _l(
    "Optional: 同意方式 (纸质 or 当面) and 同意日期, how and when the person agreed that their "
    "mobile is kept and used. A mobile without them is kept, but the app sends it nothing."
)

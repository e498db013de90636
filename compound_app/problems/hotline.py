"""The 12345 hotline's Excel export, read into tickets for one community's register.

The export must have exactly the columns of ``COLUMNS`` (in any order): a missing or an
extra column is named in the message and nothing is read. Each row is then new, already
on the register (its ticket number is known in the subdistrict: importing the same file
again adds nothing), or bad, with the reason. Reading writes nothing; ``import_tickets``
files the new ones through ``service.file_problem``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select

from .. import audit, clock
from ..access import Principal
from ..auth.models import User
from ..errors import RuleError
from ..extensions import db
from ..fields import (
    clean_prose,
    clean_text,
    has_control,
    is_mobile,
    name_problem,
    normalise_mobile,
    normalise_name,
    parse_date,
)
from ..registry.importer import read_table
from ..registry.models import Community, Compound
from . import service
from .models import Problem, Source

COLUMNS = (
    "工单编号",
    "受理时间",
    "来电人",
    "联系电话",
    "所属社区",
    "所属小区",
    "问题类型",
    "诉求内容",
)
MAX_ROWS = 2000
_TIME = re.compile(r"^(.+?)[T ]+(\d{1,2}):(\d{2})(?::\d{2})?$")


class HotlineFileError(Exception):
    """The file cannot be read, or its columns are not the export's."""


@dataclass
class Ticket:
    line: int
    number: str
    at: datetime
    caller: str
    mobile: str
    compound_id: int | None
    compound: str
    kind: str  # as a form gives it (``service.kind_choices``)
    text: str


@dataclass
class Preview:
    new: list[Ticket] = field(default_factory=list)
    known: list[Ticket] = field(default_factory=list)
    bad: list[tuple[int, str]] = field(default_factory=list)


def _header(rows: list[list[str]]) -> dict[str, int]:
    if not rows:
        raise HotlineFileError(_("The file is empty."))
    header = [clean_text(c) for c in rows[0]]
    present = [h for h in header if h]
    missing = [c for c in COLUMNS if c not in present]
    extra = [h for h in present if h not in COLUMNS]
    doubled = sorted({h for h in present if present.count(h) > 1})
    problems = []
    if missing:
        problems.append(_("Missing columns: %(names)s.", names="、".join(missing)))
    if extra:
        problems.append(
            _("Columns not in the hotline's export: %(names)s.", names="、".join(extra[:10]))
        )
    if doubled:
        problems.append(_("Columns given twice: %(names)s.", names="、".join(doubled)))
    if problems:
        raise HotlineFileError(
            " ".join(problems)
            + " "
            + _("The export has these columns: %(names)s.", names="、".join(COLUMNS))
        )
    return {h: i for i, h in enumerate(header) if h}


def _when(text: str) -> datetime | None:
    text = clean_text(text)
    m = _TIME.match(text)
    day = parse_date(m[1] if m else text)
    if day is None:
        return None
    hour, minute = (int(m[2]), int(m[3])) if m else (0, 0)
    if hour > 23 or minute > 59:
        return None
    local = datetime.combine(day, time(hour, minute), tzinfo=clock.local_now().tzinfo)
    return local.astimezone(clock.now().tzinfo)


def read(filename: str, data: bytes, community: Community) -> Preview:
    """Read an export for ``community``: every row new, known or bad (nothing written)."""
    from ..registry.importer import ImportFileError

    try:
        rows = read_table(filename, data, max_rows=MAX_ROWS)
    except ImportFileError as err:
        raise HotlineFileError(str(err)) from err
    columns = _header(rows)
    compounds = {
        c.name: c.id
        for c in db.session.scalars(select(Compound).where(Compound.community_id == community.id))
    }
    kinds = {label: value for value, label in service.kind_choices(community.subdistrict_id)}
    preview = Preview()
    seen: set[str] = set()
    tickets: list[Ticket] = []
    now = clock.now()
    for line, raw in enumerate(rows[1:], start=2):
        cells = {name: (raw[i] if i < len(raw) else "") for name, i in columns.items()}
        if not any(clean_text(v) for v in cells.values()):
            continue
        number = clean_text(cells["工单编号"])
        text = clean_prose(cells["诉求内容"])
        problem = None
        at = _when(cells["受理时间"])
        caller = normalise_name(cells["来电人"])
        mobile = normalise_mobile(cells["联系电话"])
        community_name = clean_text(cells["所属社区"])
        compound_name = clean_text(cells["所属小区"])
        kind = kinds.get(clean_text(cells["问题类型"]))
        if not number or len(number) > 40 or not re.fullmatch(r"[A-Za-z0-9_-]+", number):
            problem = _("工单编号: a ticket number of letters and digits, at most 40.")
        elif number in seen:
            problem = _("Ticket %(no)s is in the file twice.", no=number)
        elif at is None or at > now + timedelta(minutes=5):
            problem = _("受理时间: a date such as 2026-06-10 09:30, not in the future.")
        elif caller and name_problem(caller):
            problem = _("来电人: %(problem)s", problem=name_problem(caller))
        elif mobile and not is_mobile(mobile):
            problem = _("联系电话: an 11-digit mobile number, or empty.")
        elif community_name != community.name:
            problem = _("所属社区: not %(name)s.", name=community.name)
        elif compound_name and compound_name not in compounds:
            problem = _("所属小区: no compound %(name)s in this community.", name=compound_name)
        elif kind is None:
            problem = _("问题类型: not one of the subdistrict's kinds.")
        elif not text or len(text) > 1000 or has_control(text):
            problem = _("诉求内容: the request's text, at most 1000 characters.")
        if problem is not None:
            preview.bad.append((line, problem))
            continue
        seen.add(number)
        assert at is not None and kind is not None
        tickets.append(
            Ticket(
                line=line,
                number=number,
                at=at,
                caller=caller,
                mobile=mobile,
                compound_id=compounds.get(compound_name) if compound_name else None,
                compound=compound_name,
                kind=kind,
                text=text,
            )
        )
    known = set(
        db.session.scalars(
            select(Problem.hotline_no).where(
                Problem.subdistrict_id == community.subdistrict_id,
                Problem.hotline_no.in_([t.number for t in tickets]),
            )
        )
    )
    for ticket in tickets:
        (preview.known if ticket.number in known else preview.new).append(ticket)
    return preview


def to_payload(tickets: list[Ticket]) -> list[list[Any]]:
    return [
        [
            t.line,
            t.number,
            t.at.isoformat(),
            t.caller,
            t.mobile,
            t.compound_id,
            t.compound,
            t.kind,
            t.text,
        ]
        for t in tickets
    ]


def from_payload(rows: list[list[Any]]) -> list[Ticket]:
    found = []
    for r in rows:
        at = datetime.fromisoformat(str(r[2]))
        if at.tzinfo is None:
            raise ValueError("a ticket's time without its zone")
        found.append(
            Ticket(
                line=int(r[0]),
                number=str(r[1])[:40],
                at=at,
                caller=str(r[3])[:50],
                mobile=str(r[4])[:11],
                compound_id=int(r[5]) if r[5] is not None else None,
                compound=str(r[6])[:50],
                kind=str(r[7])[:40],
                text=str(r[8])[:1000],
            )
        )
    return found


def import_tickets(
    community: Community, tickets: list[Ticket], actor: User, p: Principal | None = None
) -> tuple[int, int]:
    """File each ticket not yet on the register; (added, known). Importing again adds none."""
    added = known = 0
    for ticket in tickets:
        exists = db.session.scalar(
            select(Problem.id).where(
                Problem.subdistrict_id == community.subdistrict_id,
                Problem.hotline_no == ticket.number,
            )
        )
        if exists is not None:
            known += 1
            continue
        compound = None
        if ticket.compound_id is not None:
            compound = db.session.get(Compound, ticket.compound_id)
            if compound is None or compound.community_id != community.id:
                raise RuleError(_("The preview is out of date. Please upload the file again."))
        service.file_problem(
            community,
            compound,
            service.Filing(
                kind=ticket.kind,
                title=ticket.text[:30],
                detail=ticket.text,
                source=Source.HOTLINE,
                hotline_no=ticket.number,
                contact_name=ticket.caller,
                contact_mobile=ticket.mobile,
                level=None if compound is not None else "community",
                created_at=min(ticket.at, clock.now()),
            ),
            actor,
            p=p,
        )
        added += 1
    audit.record(
        "hotline_import",
        community,
        after={"community_id": community.id, "added": added, "known": known},
    )
    return added, known

"""The problem lists: a compound's, a community's, a subdistrict's, a person's; paged
(50), filtered by status, kind, level and overdue, each one query whatever the city's
size (the kinds and places joined, never looked up per row)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.orm import joinedload

from .. import access, clock
from ..extensions import db
from .models import OPEN, Level, Problem, Status
from .service import overdue_clause

PAGE = 50


@dataclass
class Wanted:
    status: str = "open"  # open | overdue | closed | all | one Status
    kind: int | None = None
    level: str = ""
    page: int = 1


def _filtered(where: ColumnElement[bool], wanted: Wanted) -> Any:
    query = select(Problem).where(where)
    match wanted.status:
        case "open":
            query = query.where(Problem.status.in_(OPEN))
        case "overdue":
            query = query.where(overdue_clause(clock.now()))
        case "closed":
            query = query.where(Problem.status == Status.CLOSED)
        case "all":
            pass
        case other if other in set(Status):
            query = query.where(Problem.status == other)
    if wanted.kind is not None:
        query = query.where(Problem.kind_id == wanted.kind)
    if wanted.level in set(Level):
        query = query.where(Problem.level == wanted.level)
    return query


def listed(where: ColumnElement[bool], wanted: Wanted) -> tuple[list[Problem], int]:
    """One page of the problems matching, newest first, and the number of pages."""
    query = _filtered(where, wanted)
    total = db.session.scalar(select(func.count()).select_from(query.subquery())) or 0
    pages = max(1, -(-total // PAGE))
    page = min(max(1, wanted.page), pages)
    rows = db.session.scalars(
        query.options(
            joinedload(Problem.kind), joinedload(Problem.compound), joinedload(Problem.building)
        )
        .order_by(Problem.id.desc())
        .limit(PAGE)
        .offset((page - 1) * PAGE)
    ).all()
    return list(rows), pages


def counts(where: ColumnElement[bool]) -> dict[str, int]:
    """Open, overdue and closed, for the head of a list: one grouped query."""
    now = clock.now()
    row = db.session.execute(
        select(
            func.count().filter(Problem.status.in_(OPEN)),
            func.count().filter(overdue_clause(now)),
            func.count().filter(Problem.status == Status.CLOSED),
        ).where(where)
    ).one()
    return {"open": row[0], "overdue": row[1], "closed": row[2]}


def mine(p: access.Principal) -> list[Problem]:
    """The user's own complaints: theirs, their homes', and those they entered for others."""
    clauses: list[ColumnElement[bool]] = [
        Problem.reporter_id == p.user_id,
        Problem.entered_by_id == p.user_id,
    ]
    if p.resident_households:
        clauses.append(Problem.household_id.in_(p.resident_households))
    return list(
        db.session.scalars(
            select(Problem)
            .options(joinedload(Problem.kind), joinedload(Problem.compound))
            .where(or_(*clauses))
            .order_by(Problem.id.desc())
            .limit(PAGE)
        )
    )


def assigned_to(user_id: int) -> list[Problem]:
    """Open problems given to this person by name (a cadre, a staff member)."""
    return list(
        db.session.scalars(
            select(Problem)
            .options(joinedload(Problem.kind), joinedload(Problem.compound))
            .where(Problem.owner_id == user_id, Problem.status.in_(OPEN))
            .order_by(Problem.reply_due_at, Problem.id)
            .limit(PAGE)
        )
    )

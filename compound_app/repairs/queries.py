"""What the repair pages read: the lists, the works board, the headline counts, and the
monthly figures with their proof.

The monthly figures (``RepairMonth``) are kept by the workflow as it writes; here they
are read back as service levels per month, and ``check_months`` recounts them from the
tasks' timelines (``flask repairs check``, the tests and the benchmark build).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from statistics import median

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import selectinload

from .. import access, clock
from ..access import Principal
from ..auth.models import User
from ..extensions import db
from ..months import add_months, month_of
from .models import FINISHED, OPEN, Category, Place, RepairEvent, RepairMonth, RepairTask, Status
from .workflow import EventKind

# --- lists ------------------------------------------------------------------------------------


def _recent_cutoff(days: int = 30) -> datetime:
    return clock.now() - timedelta(days=days)


def board(compound_id: int, recent_days: int = 30) -> dict[str, list[RepairTask]]:
    """The public works board: open tasks on common parts, and those closed lately."""
    base = select(RepairTask).where(
        RepairTask.compound_id == compound_id, RepairTask.place == Place.PUBLIC
    )
    open_tasks = db.session.scalars(
        base.where(RepairTask.status.in_(OPEN))
        .options(selectinload(RepairTask.building), selectinload(RepairTask.unit))
        .order_by(RepairTask.reported_at.desc())
        .limit(200)
    ).all()
    closed = db.session.scalars(
        base.where(
            RepairTask.status == Status.CLOSED,
            RepairTask.finished_at >= _recent_cutoff(recent_days),
        )
        .options(selectinload(RepairTask.building), selectinload(RepairTask.unit))
        .order_by(RepairTask.finished_at.desc())
        .limit(100)
    ).all()
    return {"open": list(open_tasks), "closed": list(closed)}


def my_reports(user: User, p: Principal | None = None, limit: int = 100) -> list[RepairTask]:
    p = p or access.principal()
    mine = RepairTask.reported_by_id == user.id
    if p.resident_households:
        mine = or_(mine, RepairTask.household_id.in_(p.resident_households))
    return list(
        db.session.scalars(
            select(RepairTask)
            .where(mine)
            .options(
                selectinload(RepairTask.compound),
                selectinload(RepairTask.building),
                selectinload(RepairTask.unit),
                selectinload(RepairTask.household),
            )
            .order_by(RepairTask.reported_at.desc())
            .limit(limit)
        )
    )


@dataclass
class TaskFilter:
    status: str = "open"  # "open", "overdue", "finished", or a Status
    category: str = ""
    page: int = 1


PAGE_SIZE = 50


def compound_tasks(compound_id: int, f: TaskFilter) -> tuple[list[RepairTask], int]:
    """The committee's list of a compound's tasks, with the number of pages."""
    where = [RepairTask.compound_id == compound_id]
    if f.status == "open":
        where.append(RepairTask.status.in_(OPEN))
    elif f.status == "overdue":
        where.append(RepairTask.status.in_((Status.REPORTED, Status.ASSIGNED, Status.IN_PROGRESS)))
        where.append(RepairTask.due_on < clock.today())
    elif f.status == "finished":
        where.append(RepairTask.status.in_(FINISHED))
    elif f.status in set(Status):
        where.append(RepairTask.status == f.status)
    if f.category in set(Category):
        where.append(RepairTask.category == f.category)
    total = db.session.scalar(select(func.count(RepairTask.id)).where(*where)) or 0
    tasks = db.session.scalars(
        select(RepairTask)
        .where(*where)
        .options(
            selectinload(RepairTask.building),
            selectinload(RepairTask.unit),
            selectinload(RepairTask.household),
        )
        .order_by(RepairTask.priority.desc(), RepairTask.due_on, RepairTask.id)
        .offset((f.page - 1) * PAGE_SIZE)
        .limit(PAGE_SIZE)
    ).all()
    return list(tasks), max(1, math.ceil(total / PAGE_SIZE))


@dataclass
class MonthLevel:
    month: date
    reported: int
    closed: int
    open_at_end: int
    in_target: int
    median_days: float | None


def service_levels(compound_id: int, months: int = 12) -> list[MonthLevel]:
    """Per month: reported, closed, open at the month's end, closed in target, median days."""
    last = month_of(clock.today())
    first = add_months(last, -(months - 1))
    rows = db.session.scalars(
        select(RepairMonth).where(RepairMonth.compound_id == compound_id, RepairMonth.month <= last)
    ).all()
    opening = sum(r.reported + r.reopened - r.closed - r.rejected for r in rows if r.month < first)
    by_month = {r.month: r for r in rows if r.month >= first}
    days = _close_days(compound_id, first)
    levels = []
    running = opening
    month = first
    while month <= last:
        r = by_month.get(month)
        if r is not None:
            running += r.reported + r.reopened - r.closed - r.rejected
        spans = days.get(month, [])
        levels.append(
            MonthLevel(
                month=month,
                reported=r.reported if r else 0,
                closed=r.closed if r else 0,
                open_at_end=running,
                in_target=r.closed_in_target if r else 0,
                median_days=median(spans) if spans else None,
            )
        )
        month = add_months(month, 1)
    return levels


def _close_days(compound_id: int, since: date) -> dict[date, list[int]]:
    """Days from report to close of every close since ``since``, by month of closing."""
    rows = db.session.execute(
        select(RepairEvent.at, RepairTask.reported_at)
        .join(RepairTask, RepairTask.id == RepairEvent.task_id)
        .where(
            RepairTask.compound_id == compound_id,
            RepairEvent.kind.in_((EventKind.CONFIRMED, EventKind.CLOSED)),
            RepairEvent.at >= clock.start_of_day(since),
        )
    ).all()
    found: dict[date, list[int]] = {}
    for at, reported_at in rows:
        closed_on = clock.local_date(at)
        found.setdefault(month_of(closed_on), []).append(
            (closed_on - clock.local_date(reported_at)).days
        )
    return found


def counts(compound_id: int) -> dict[str, int]:
    """Open and overdue tasks of a compound, for its pages' headlines."""
    today = clock.today()
    waiting = (Status.REPORTED, Status.ASSIGNED, Status.IN_PROGRESS)
    row = db.session.execute(
        select(
            func.count(RepairTask.id),
            func.count(RepairTask.id).filter(
                and_(RepairTask.status.in_(waiting), RepairTask.due_on < today)
            ),
        ).where(RepairTask.compound_id == compound_id, RepairTask.status.in_(OPEN))
    ).one()
    return {"open": row[0], "overdue": row[1]}


# --- proof --------------------------------------------------------------------------------------


MONTH_FIELDS = ("reported", "reopened", "closed", "rejected", "closed_in_target", "close_days")


def check_months(compound_ids: Sequence[int] | None = None) -> list[str]:
    """Recount every ``RepairMonth`` from the timeline; the differences, if any."""
    recount: dict[tuple[int, date], dict[str, int]] = {}

    def bump(key: tuple[int, date], **deltas: int) -> None:
        row = recount.setdefault(
            key,
            dict.fromkeys(MONTH_FIELDS, 0),
        )
        for k, v in deltas.items():
            row[k] += v

    query = select(
        RepairTask.compound_id,
        RepairTask.reported_at,
        RepairEvent.kind,
        RepairEvent.at,
        RepairEvent.due_on,
    ).join(RepairTask, RepairTask.id == RepairEvent.task_id)
    if compound_ids is not None:
        query = query.where(RepairTask.compound_id.in_(compound_ids))
    for compound_id, reported_at, kind, at, due_on in db.session.execute(query):
        on = clock.local_date(at)
        key = (compound_id, month_of(on))
        match kind:
            case EventKind.REPORTED:
                bump(key, reported=1)
            case EventKind.REOPENED:
                bump(key, reopened=1)
            case EventKind.REJECTED:
                bump(key, rejected=1)
            case EventKind.CONFIRMED | EventKind.CLOSED:
                bump(
                    key,
                    closed=1,
                    closed_in_target=1 if due_on is not None and on <= due_on else 0,
                    close_days=(on - clock.local_date(reported_at)).days,
                )
    stored_query = select(RepairMonth)
    if compound_ids is not None:
        stored_query = stored_query.where(RepairMonth.compound_id.in_(compound_ids))
    stored = {(r.compound_id, r.month): r for r in db.session.scalars(stored_query)}
    problems = []
    for key in sorted(set(recount) | set(stored)):
        want = recount.get(key, {})
        row = stored.get(key)
        for field, value in want.items():
            have = getattr(row, field) if row else 0
            if have != value:
                problems.append(f"compound {key[0]} {key[1]:%Y-%m} {field}: {have} ≠ {value}")
        if row is not None and key not in recount and any(getattr(row, f) for f in MONTH_FIELDS):
            problems.append(f"compound {key[0]} {key[1]:%Y-%m}: counts without events")
    return problems

"""The three lists' figures (问题清单、责任清单、整改清单), kept on write and read flat.

Every figure but one is a sum of ``ProblemMonth`` rows, kept per community, compound
(0: community-wide) and month in the same flush as the problem rows that change them:
whatever writes a problem (the register's moves, a project's, an inspection, the 12345
import, the clock's escalation), ``_keep`` takes the problem's old contribution away and
adds its new one. A problem contributes, each in the month of its own moment:

- ``filed`` 1 in the month of ``created_at``;
- ``replied`` 1 and the seconds from filing to ``replied_at``, in that month;
- ``resolved`` 1 (fixed or verified now) and the seconds from filing to the fix, in the
  month of ``fixed_at`` (or ``closed_at``); ``closed`` 1 when verified, in that of
  ``closed_at``;
- ``missed`` 1 in the month of its fix deadline when it was not fixed by then (or is not
  fixed yet): the trend's "overdue" for complete months;
- ``escalated`` its count of escalations, in the month of the last;
- ``rated`` 1 and its rating, in the month of ``rated_at``.

Overdue now (open past a reply or fix deadline) depends on the clock, not on a write: it
is the one figure counted live, over the open problems past a deadline only, through the
register's ``(status, reply_due_at)`` and ``(status, fix_due_at)`` indexes, grouped once.
``check`` recounts every kept row from the problems (``flask oversight check-lists``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import event, func, inspect, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from .. import clock
from ..extensions import db
from ..months import add_months, month_of
from ..problems.models import Problem, Status
from ..problems.service import overdue_clause
from ..rectify.models import ProjectKind, RectifyProject, Stage
from .models import ProblemMonth

FIELDS = (
    "filed",
    "replied",
    "reply_seconds",
    "resolved",
    "fix_seconds",
    "closed",
    "missed",
    "escalated",
    "rated",
    "rating_sum",
)
# The columns a problem's contribution reads.
WATCHED = (
    "community_id",
    "compound_id",
    "created_at",
    "status",
    "replied_at",
    "fixed_at",
    "closed_at",
    "fix_due_at",
    "escalations",
    "escalated_at",
    "rating",
    "rated_at",
)
RESOLVED = (Status.FIXED, Status.CLOSED)

Key = tuple[int, int, date]


def _month(moment: datetime) -> date:
    return month_of(clock.local_date(moment))


def _seconds(later: datetime, earlier: datetime) -> int:
    return max(0, int((later - earlier).total_seconds()))


def contribution(state: dict[str, Any]) -> dict[Key, dict[str, int]]:
    """What one problem, as ``state`` (its watched columns), adds to the kept rows."""
    created = state["created_at"]
    if state["community_id"] is None or created is None:
        return {}
    out: dict[Key, dict[str, int]] = defaultdict(lambda: dict.fromkeys(FIELDS, 0))
    place = (state["community_id"], state["compound_id"] or 0)

    def add(moment: datetime, **values: int) -> None:
        row = out[(*place, _month(moment))]
        for k, v in values.items():
            row[k] += v

    add(created, filed=1)
    if state["replied_at"] is not None:
        add(state["replied_at"], replied=1, reply_seconds=_seconds(state["replied_at"], created))
    done = None
    if state["status"] in RESOLVED:
        done = state["fixed_at"] or state["closed_at"] or created
        add(done, resolved=1, fix_seconds=_seconds(done, created))
        if state["status"] == Status.CLOSED:
            add(state["closed_at"] or done, closed=1)
    due = state["fix_due_at"]
    if due is not None and (done is None or done > due):
        add(due, missed=1)
    if state["escalations"]:
        add(state["escalated_at"] or created, escalated=state["escalations"])
    if state["rating"] is not None:
        add(state["rated_at"] or created, rated=1, rating_sum=state["rating"])
    return {k: {f: v for f, v in row.items() if v} for k, row in out.items()}


def _state(problem: Problem, old: bool) -> dict[str, Any] | None:
    state: dict[str, Any] = {}
    attrs = inspect(problem).attrs
    for name in WATCHED:
        history = attrs[name].history
        if old and history.deleted:
            state[name] = history.deleted[0]
        elif old and history.added:
            state[name] = None  # set for the first time in this flush
        else:
            state[name] = getattr(problem, name)
    return state


def _apply(session: Session, deltas: dict[Key, dict[str, int]]) -> None:
    rows = [
        {"community_id": k[0], "compound_id": k[1], "month": k[2], **dict.fromkeys(FIELDS, 0), **v}
        for k, v in sorted(deltas.items())
        if any(v.values())
    ]
    if not rows:
        return
    connection = session.connection()
    insert = postgresql.insert if connection.dialect.name == "postgresql" else sqlite.insert
    table: Any = ProblemMonth.__table__
    for row in rows:
        stmt = insert(table).values(**row)
        stmt = stmt.on_conflict_do_update(
            index_elements=["community_id", "compound_id", "month"],
            set_={f: table.c[f] + stmt.excluded[f] for f in FIELDS},
        )
        connection.execute(stmt)


def _merge(into: dict[Key, dict[str, int]], part: dict[Key, dict[str, int]], sign: int) -> None:
    for key, values in part.items():
        row = into.setdefault(key, {})
        for f, v in values.items():
            row[f] = row.get(f, 0) + sign * v


@event.listens_for(Session, "after_flush")
def _keep(session: Session, _context: Any) -> None:
    """Move each written problem's contribution, in the flush that writes it."""
    deltas: dict[Key, dict[str, int]] = {}
    for obj in session.new:
        if isinstance(obj, Problem):
            _merge(deltas, contribution(_state(obj, old=False) or {}), 1)
    for obj in session.dirty:
        if not isinstance(obj, Problem) or not session.is_modified(obj):
            continue
        old, new = _state(obj, old=True), _state(obj, old=False)
        if old == new:
            continue
        _merge(deltas, contribution(old or {}), -1)
        _merge(deltas, contribution(new or {}), 1)
    for obj in session.deleted:
        if isinstance(obj, Problem):
            _merge(deltas, contribution(_state(obj, old=True) or {}), -1)
    _apply(session, deltas)


def _active_history(*_args: Any) -> None:
    """Load a watched column's old value before it is replaced, so the old
    contribution can be taken away."""


for _name in WATCHED:
    event.listen(getattr(Problem, _name), "set", _active_history, active_history=True)


# --- the proof ----------------------------------------------------------------------------------


def recount(community_ids: Sequence[int] | None = None) -> dict[Key, dict[str, int]]:
    """Every kept row worked out again from the problem rows."""
    columns = [getattr(Problem, name) for name in WATCHED]
    query = select(*columns)
    if community_ids is not None:
        query = query.where(Problem.community_id.in_(community_ids))
    total: dict[Key, dict[str, int]] = {}
    for values in db.session.execute(query):
        _merge(total, contribution(dict(zip(WATCHED, values, strict=True))), 1)
    return {k: v for k, v in total.items() if any(v.values())}


def check(community_ids: Sequence[int] | None = None) -> list[str]:
    """The kept rows against a recount from the problems; the differences, if any."""
    want = recount(community_ids)
    query = select(ProblemMonth)
    if community_ids is not None:
        query = query.where(ProblemMonth.community_id.in_(community_ids))
    have = {(r.community_id, r.compound_id, r.month): r for r in db.session.scalars(query)}
    found = []
    for key in sorted(set(want) | set(have)):
        row = have.get(key)
        for f in FIELDS:
            kept = getattr(row, f) if row is not None else 0
            counted = want.get(key, {}).get(f, 0)
            if kept != counted:
                found.append(
                    f"community {key[0]} compound {key[1]} {key[2]:%Y-%m} {f}: {kept} ≠ {counted}"
                )
    return found


def rebuild(community_ids: Sequence[int] | None = None) -> int:
    """Write the kept rows from a recount (a bulk load, or rows kept before 0027)."""
    table: Any = ProblemMonth.__table__
    query = table.delete()
    if community_ids is not None:
        query = query.where(ProblemMonth.community_id.in_(community_ids))
    db.session.execute(query)
    rows = [
        {"community_id": k[0], "compound_id": k[1], "month": k[2], **dict.fromkeys(FIELDS, 0), **v}
        for k, v in sorted(recount(community_ids).items())
    ]
    if rows:
        db.session.execute(table.insert(), rows)
    return len(rows)


# --- reading them -------------------------------------------------------------------------------


@dataclass
class Figures:
    filed: int = 0
    replied: int = 0
    reply_seconds: int = 0
    resolved: int = 0
    fix_seconds: int = 0
    closed: int = 0
    missed: int = 0
    escalated: int = 0
    rated: int = 0
    rating_sum: int = 0
    overdue: int = 0  # open past a deadline, now (counted live)
    projects: dict[str, int] = field(default_factory=dict)  # by stage
    project_kinds: dict[str, int] = field(default_factory=dict)

    def add(self, values: dict[str, int] | Iterable[tuple[str, int]]) -> None:
        items = values.items() if isinstance(values, dict) else values
        for k, v in items:
            setattr(self, k, getattr(self, k) + int(v or 0))

    @property
    def open(self) -> int:
        """Not yet verified (已办结): waiting for a reply, a fix or its check."""
        return self.filed - self.closed

    @property
    def reply_days(self) -> float | None:
        return None if not self.replied else self.reply_seconds / self.replied / 86400

    @property
    def fix_days(self) -> float | None:
        return None if not self.resolved else self.fix_seconds / self.resolved / 86400

    @property
    def rate(self) -> float | None:
        """The rectification rate: problems fixed or verified ÷ problems filed, in %."""
        return None if not self.filed else 100 * self.resolved / self.filed

    @property
    def satisfaction(self) -> float | None:
        return None if not self.rated else self.rating_sum / self.rated

    @property
    def project_count(self) -> int:
        return sum(self.projects.values())


def _sums(group: Any, where: Any) -> dict[int, Figures]:
    found: dict[int, Figures] = defaultdict(Figures)
    query = select(group, *[func.sum(getattr(ProblemMonth, f)) for f in FIELDS]).where(where)
    for key, *values in db.session.execute(query.group_by(group)):
        found[key].add(zip(FIELDS, values, strict=True))
    return found


def _overdue(group: Any, where: Any) -> dict[int, int]:
    query = (
        select(group, func.count(Problem.id))
        .where(where, overdue_clause(clock.now()))
        .group_by(group)
    )
    return {key: int(n) for key, n in db.session.execute(query)}


def _projects(group: Any, where: Any, into: dict[int, Figures]) -> None:
    query = select(group, RectifyProject.stage, RectifyProject.kind, func.count(RectifyProject.id))
    for key, stage, kind, n in db.session.execute(
        query.where(where).group_by(group, RectifyProject.stage, RectifyProject.kind)
    ):
        f = into[key or 0]
        f.projects[stage] = f.projects.get(stage, 0) + n
        f.project_kinds[kind] = f.project_kinds.get(kind, 0) + n


def by_community(community_ids: Sequence[int]) -> dict[int, Figures]:
    """Each community's figures: one grouped read of the kept rows, one of the open
    problems past a deadline, one of the projects."""
    ids = list(community_ids)
    found = _sums(ProblemMonth.community_id, ProblemMonth.community_id.in_(ids))
    for key, n in _overdue(Problem.community_id, Problem.community_id.in_(ids)).items():
        found[key].overdue = n
    _projects(RectifyProject.community_id, RectifyProject.community_id.in_(ids), found)
    return {i: found[i] for i in ids}


def by_compound(community_id: int) -> dict[int, Figures]:
    """A community's figures per compound (0: its community-wide problems)."""
    found = _sums(ProblemMonth.compound_id, ProblemMonth.community_id == community_id)
    overdue = _overdue(Problem.compound_id, Problem.community_id == community_id)
    for key, n in overdue.items():
        found[key or 0].overdue = n
    _projects(RectifyProject.compound_id, RectifyProject.community_id == community_id, found)
    return dict(found)


def total(figures: Iterable[Figures]) -> Figures:
    out = Figures()
    for f in figures:
        out.add({k: getattr(f, k) for k in (*FIELDS, "overdue")})
        for stage, n in f.projects.items():
            out.projects[stage] = out.projects.get(stage, 0) + n
        for kind, n in f.project_kinds.items():
            out.project_kinds[kind] = out.project_kinds.get(kind, 0) + n
    return out


def of_compound(compound_id: int) -> Figures:
    found = _sums(ProblemMonth.compound_id, ProblemMonth.compound_id == compound_id)
    figures = found.get(compound_id, Figures())
    figures.overdue = _overdue(Problem.compound_id, Problem.compound_id == compound_id).get(
        compound_id, 0
    )
    projects: dict[int, Figures] = defaultdict(Figures)
    _projects(RectifyProject.compound_id, RectifyProject.compound_id == compound_id, projects)
    figures.projects = projects[compound_id].projects
    figures.project_kinds = projects[compound_id].project_kinds
    return figures


@dataclass
class Trend:
    months: list[date]
    filed: list[int]
    resolved: list[int]
    missed: list[int]


def trend(compound_id: int, months: int = 12, today: date | None = None) -> Trend:
    """A compound's last ``months`` complete months: filed, fixed, missed deadlines."""
    current = month_of(today or clock.today())
    span = [add_months(current, -i) for i in range(months, 0, -1)]
    rows = {
        r.month: r
        for r in db.session.scalars(
            select(ProblemMonth).where(
                ProblemMonth.compound_id == compound_id,
                ProblemMonth.month >= span[0],
                ProblemMonth.month <= span[-1],
            )
        )
    }

    def line(name: str) -> list[int]:
        return [getattr(rows[m], name) if m in rows else 0 for m in span]

    return Trend(span, line("filed"), line("resolved"), line("missed"))


PROJECT_STAGES = tuple(Stage)
PROJECT_KINDS = tuple(ProjectKind)

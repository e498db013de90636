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

The same flush adds each community's change to its ``ProblemTotal`` row (every month
summed), and a project's move to ``ProjectTotal`` (per community, stage and kind), so the
subdistrict's pages read one row per community however many problems it holds.

Overdue now (open past a reply or fix deadline) depends on the clock, not on a write. A
compound's and a community's pages count it live, over the open problems past a deadline
only, through the register's ``(status, reply_due_at)`` and ``(status, fix_due_at)``
indexes. For the subdistrict the escalation job counts it per community after each run
(``refresh_overdue``) and the pages say when. ``check`` recounts every kept row from the
problems and projects (``flask oversight check-lists``).
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
from .models import ProblemMonth, ProblemTotal, ProjectTotal

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


def _upsert(session: Session, model: Any, keys: list[str], rows: list[dict[str, Any]]) -> None:
    """Add each row's figures to the kept row of its key (inserting it when missing)."""
    connection = session.connection()
    insert = postgresql.insert if connection.dialect.name == "postgresql" else sqlite.insert
    table: Any = model.__table__
    for row in rows:
        stmt = insert(table).values(**row)
        stmt = stmt.on_conflict_do_update(
            index_elements=keys,
            set_={f: table.c[f] + stmt.excluded[f] for f in row if f not in keys},
        )
        connection.execute(stmt)


def _apply(session: Session, deltas: dict[Key, dict[str, int]]) -> None:
    months = [
        {"community_id": k[0], "compound_id": k[1], "month": k[2], **dict.fromkeys(FIELDS, 0), **v}
        for k, v in sorted(deltas.items())
        if any(v.values())
    ]
    if not months:
        return
    _upsert(session, ProblemMonth, ["community_id", "compound_id", "month"], months)
    totals = _totals_of(deltas)
    _upsert(
        session,
        ProblemTotal,
        ["community_id"],
        [{"community_id": c, **v} for c, v in sorted(totals.items()) if any(v.values())],
    )


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


PROJECT_WATCHED = ("community_id", "stage", "kind")
ProjectKey = tuple[int, str, str]


def _project_key(project: RectifyProject, old: bool) -> ProjectKey | None:
    values = []
    attrs = inspect(project).attrs
    for name in PROJECT_WATCHED:
        history = attrs[name].history
        if old and history.deleted:
            values.append(history.deleted[0])
        elif old and history.added:
            return None  # a new project: nothing to take away
        else:
            values.append(getattr(project, name))
    return None if values[0] is None else (values[0], values[1], values[2])


@event.listens_for(Session, "after_flush")
def _keep_projects(session: Session, _context: Any) -> None:
    """Move each written project between the kept counts, in the flush that writes it."""
    counts: dict[ProjectKey, int] = defaultdict(int)
    for obj in session.new:
        if isinstance(obj, RectifyProject) and (key := _project_key(obj, old=False)):
            counts[key] += 1
    for obj in session.dirty:
        if isinstance(obj, RectifyProject) and session.is_modified(obj):
            before, after = _project_key(obj, old=True), _project_key(obj, old=False)
            if before != after:
                if before:
                    counts[before] -= 1
                if after:
                    counts[after] += 1
    for obj in session.deleted:
        if isinstance(obj, RectifyProject) and (key := _project_key(obj, old=True)):
            counts[key] -= 1
    rows = [
        {"community_id": k[0], "stage": k[1], "kind": k[2], "projects": n}
        for k, n in sorted(counts.items())
        if n
    ]
    if rows:
        _upsert(session, ProjectTotal, ["community_id", "stage", "kind"], rows)


def _active_history(*_args: Any) -> None:
    """Load a watched column's old value before it is replaced, so the old
    contribution can be taken away."""


for _name in WATCHED:
    event.listen(getattr(Problem, _name), "set", _active_history, active_history=True)
for _name in PROJECT_WATCHED:
    event.listen(getattr(RectifyProject, _name), "set", _active_history, active_history=True)


def refresh_overdue(now: datetime | None = None) -> int:
    """Count every community's open problems past a deadline, as of ``now``, onto its kept
    total (the escalation job, after each run); returns the overdue problems counted."""
    now = now or clock.now()
    counted = dict(
        db.session.execute(
            select(Problem.community_id, func.count(Problem.id))
            .where(overdue_clause(now), Problem.community_id.is_not(None))
            .group_by(Problem.community_id)
        ).all()
    )
    table: Any = ProblemTotal.__table__
    db.session.execute(table.update().values(overdue=0, overdue_at=now))
    kept = set(db.session.scalars(select(ProblemTotal.community_id)))
    for community_id, n in counted.items():
        if community_id in kept:
            db.session.execute(
                table.update()
                .where(table.c.community_id == community_id)
                .values(overdue=n, overdue_at=now)
            )
        else:
            db.session.execute(
                table.insert().values(
                    community_id=community_id, **dict.fromkeys(FIELDS, 0), overdue=n, overdue_at=now
                )
            )
    return sum(counted.values())


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


def _project_recount(community_ids: Sequence[int] | None) -> dict[ProjectKey, int]:
    query = select(
        RectifyProject.community_id,
        RectifyProject.stage,
        RectifyProject.kind,
        func.count(RectifyProject.id),
    ).group_by(RectifyProject.community_id, RectifyProject.stage, RectifyProject.kind)
    if community_ids is not None:
        query = query.where(RectifyProject.community_id.in_(community_ids))
    return {(c, stage, kind): int(n) for c, stage, kind, n in db.session.execute(query)}


def _totals_of(months: dict[Key, dict[str, int]]) -> dict[int, dict[str, int]]:
    totals: dict[int, dict[str, int]] = {}
    for key, values in months.items():
        row = totals.setdefault(key[0], dict.fromkeys(FIELDS, 0))
        for f, v in values.items():
            row[f] += v
    return totals


def check(community_ids: Sequence[int] | None = None) -> list[str]:
    """The kept rows against a recount from the problems and projects; the differences."""
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
    wanted_totals = _totals_of(want)
    query_totals = select(ProblemTotal)
    if community_ids is not None:
        query_totals = query_totals.where(ProblemTotal.community_id.in_(community_ids))
    totals = {r.community_id: r for r in db.session.scalars(query_totals)}
    for community in sorted(set(wanted_totals) | set(totals)):
        total_row = totals.get(community)
        for f in FIELDS:
            kept = getattr(total_row, f) if total_row is not None else 0
            counted = wanted_totals.get(community, {}).get(f, 0)
            if kept != counted:
                found.append(f"community {community} total {f}: {kept} ≠ {counted}")
    projects = _project_recount(community_ids)
    query_projects = select(ProjectTotal)
    if community_ids is not None:
        query_projects = query_projects.where(ProjectTotal.community_id.in_(community_ids))
    kept_projects = {
        (r.community_id, r.stage, r.kind): r.projects for r in db.session.scalars(query_projects)
    }
    for pkey in sorted(set(projects) | set(kept_projects)):
        kept, counted = kept_projects.get(pkey, 0), projects.get(pkey, 0)
        if kept != counted:
            found.append(f"community {pkey[0]} projects {pkey[1]} {pkey[2]}: {kept} ≠ {counted}")
    return found


def rebuild(community_ids: Sequence[int] | None = None) -> int:
    """Write the kept rows from a recount (a bulk load, or rows kept before 0027), and count
    the overdue problems; returns the month rows written."""
    tables: list[Any] = [ProblemMonth.__table__, ProblemTotal.__table__, ProjectTotal.__table__]
    for table in tables:
        query = table.delete()
        if community_ids is not None:
            query = query.where(table.c.community_id.in_(community_ids))
        db.session.execute(query)
    months = recount(community_ids)
    rows = [
        {"community_id": k[0], "compound_id": k[1], "month": k[2], **dict.fromkeys(FIELDS, 0), **v}
        for k, v in sorted(months.items())
    ]
    if rows:
        db.session.execute(tables[0].insert(), rows)
    totals = [{"community_id": c, **v} for c, v in sorted(_totals_of(months).items())]
    if totals:
        db.session.execute(tables[1].insert(), totals)
    projects = [
        {"community_id": k[0], "stage": k[1], "kind": k[2], "projects": n}
        for k, n in sorted(_project_recount(community_ids).items())
    ]
    if projects:
        db.session.execute(tables[2].insert(), projects)
    refresh_overdue()
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
    overdue: int = 0  # open past a deadline: now, or as counted at ``overdue_at``
    overdue_at: datetime | None = None  # None: counted live for this page
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
    """Each community's figures: its kept total (overdue as the job last counted it) and its
    kept project counts, two reads of one row per community (and stage and kind)."""
    ids = list(community_ids)
    found: dict[int, Figures] = defaultdict(Figures)
    for row in db.session.scalars(select(ProblemTotal).where(ProblemTotal.community_id.in_(ids))):
        figures = found[row.community_id]
        figures.add({f: getattr(row, f) for f in (*FIELDS, "overdue")})
        figures.overdue_at = row.overdue_at
    projects = select(ProjectTotal).where(
        ProjectTotal.community_id.in_(ids), ProjectTotal.projects != 0
    )
    for kept in db.session.scalars(projects):
        figures = found[kept.community_id]
        figures.projects[kept.stage] = figures.projects.get(kept.stage, 0) + kept.projects
        figures.project_kinds[kept.kind] = figures.project_kinds.get(kept.kind, 0) + kept.projects
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
        if f.overdue_at is not None and (out.overdue_at is None or f.overdue_at < out.overdue_at):
            out.overdue_at = f.overdue_at  # the oldest count it sums
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

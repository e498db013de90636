"""The moves a project makes on the problems of the register, in one place.

Completing a project marks its problems fixed, verifying it verifies them, sending it back
reopens them, and making it counts as the reply to a problem still waiting for one. Each
move writes the problem's timeline step (``ProblemStep``) and its audit row, as the
problems' own pages do; an inspection files its failed items as problems here too.
"""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from .. import audit, clock
from ..access import Principal
from ..auth.models import User
from ..extensions import db
from ..problems.models import (
    DefaultKind,
    Level,
    Problem,
    ProblemKind,
    ProblemStep,
    Severity,
    Source,
    Status,
    StepKind,
)
from ..registry.models import Compound

OPEN_STATUSES = (Status.OPEN, Status.REPLIED, Status.FIXED)
FIXED = Status.FIXED


def _step(problem: Problem, actor: User, kind: StepKind, to: str, note: str) -> None:
    db.session.add(
        ProblemStep(
            problem_id=problem.id,
            kind=kind,
            from_status=problem.status,
            to_status=to,
            by_id=actor.id,
            note=note[:500],
            at=clock.now(),
        )
    )


def is_reporter(problem: Problem, p: Principal) -> bool:
    """Who reported it: its reporter's account, or a resident of the home it was for."""
    return (problem.reporter_id is not None and problem.reporter_id == p.user_id) or (
        problem.household_id is not None and problem.household_id in p.resident_households
    )


def taken_on(problem: Problem, actor: User, note: str) -> None:
    """A project took the problem on: that is its reply, if it still waited for one."""
    if problem.status != Status.OPEN:
        return
    before = audit.snapshot(problem)
    _step(problem, actor, StepKind.REPLIED, Status.REPLIED, note)
    problem.status, problem.replied_at, problem.reply = Status.REPLIED, clock.now(), note[:500]
    db.session.flush()
    audit.record("problem_replied", problem, before=before)


def mark_fixed(problem: Problem, actor: User, note: str) -> None:
    before = audit.snapshot(problem)
    if problem.replied_at is None:
        problem.replied_at = clock.now()
    _step(problem, actor, StepKind.FIXED, Status.FIXED, note)
    problem.status, problem.fixed_at, problem.fixed_by_id = Status.FIXED, clock.now(), actor.id
    db.session.flush()
    audit.record("problem_fixed", problem, before=before)


def verify(problem: Problem, actor: User, note: str) -> None:
    before = audit.snapshot(problem)
    now = clock.now()
    _step(problem, actor, StepKind.VERIFIED, Status.CLOSED, note)
    problem.status, problem.verified_at, problem.closed_at = Status.CLOSED, now, now
    db.session.flush()
    audit.record("problem_verified", problem, before=before)


def reopen(problem: Problem, actor: User, note: str) -> None:
    before = audit.snapshot(problem)
    _step(problem, actor, StepKind.REOPENED, Status.REPLIED, note)
    problem.status, problem.fixed_at, problem.fixed_by_id = Status.REPLIED, None, None
    db.session.flush()
    audit.record("problem_reopened", problem, before=before)


def rate(problem: Problem, actor: User, rating: int, comment: str) -> None:
    before = audit.snapshot(problem)
    db.session.add(
        ProblemStep(
            problem_id=problem.id,
            kind=StepKind.RATED,
            by_id=actor.id,
            note=f"{rating}★ {comment}"[:500],
            at=clock.now(),
        )
    )
    problem.rating, problem.rated_at, problem.rating_comment = rating, clock.now(), comment[:200]
    db.session.flush()
    audit.record("problem_rated", problem, before=before)


# --- an inspection's failed items --------------------------------------------------------------

# The inspection checklist's default items and the kind of problem each raises.
ITEM_KINDS = {
    "organisation": DefaultKind.PROPERTY_SERVICE,
    "accounts": DefaultKind.PROPERTY_SERVICE,
    "representatives": DefaultKind.PROPERTY_SERVICE,
    "repairs": DefaultKind.FACILITIES,
    "sanitation": DefaultKind.SANITATION,
    "fire": DefaultKind.SAFETY,
}


def kind_for(subdistrict_id: int, kind_id: int | None, code: str | None = None) -> ProblemKind:
    """The kind a failed item files its problem under: the item's own, else the default
    kind of ``code``, else the subdistrict's first kind (made, with the six defaults, when
    the subdistrict has none yet)."""
    kinds = list(
        db.session.scalars(
            select(ProblemKind)
            .where(ProblemKind.subdistrict_id == subdistrict_id)
            .order_by(ProblemKind.position, ProblemKind.id)
        )
    )
    if not kinds:
        for position, default in enumerate(DefaultKind):
            db.session.add(
                ProblemKind(subdistrict_id=subdistrict_id, code=default, position=position)
            )
        db.session.flush()
        return kind_for(subdistrict_id, kind_id, code)
    for kind in kinds:
        if kind.id == kind_id:
            return kind
    for kind in kinds:
        if code is not None and kind.code == code and not kind.retired:
            return kind
    return next((k for k in kinds if not k.retired), kinds[0])


def file_inspection_problem(
    compound: Compound,
    kind: ProblemKind,
    title: str,
    detail: str,
    visited_on: date,
    fix_days: int,
    actor: User,
) -> Problem:
    """A failed item of a visit as a problem of the compound, answered for by the
    community, to be fixed within the item's days of the visit."""
    fix_due = clock.start_of_day(visited_on + timedelta(days=fix_days + 1)) - timedelta(minutes=1)
    problem = Problem(
        subdistrict_id=compound.community.subdistrict_id,
        community_id=compound.community_id,
        compound_id=compound.id,
        kind_id=kind.id,
        severity=Severity.NORMAL,
        title=title[:60],
        detail=detail,
        source=Source.INSPECTION,
        entered_by_id=actor.id,
        level=Level.COMMUNITY,
        status=Status.OPEN,
        reply_due_at=clock.now() + timedelta(hours=48),
        fix_due_at=fix_due,
        created_at=clock.now(),
    )
    db.session.add(problem)
    db.session.flush()
    db.session.add(
        ProblemStep(
            problem_id=problem.id,
            kind=StepKind.FILED,
            to_status=Status.OPEN,
            to_level=Level.COMMUNITY,
            by_id=actor.id,
            note=detail[:500],
            at=clock.now(),
        )
    )
    audit.record("file_problem", problem)
    return problem

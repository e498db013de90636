"""Repair tasks: reporting, the allowed moves between statuses, ratings, service levels.

Every move is checked against ``MOVES``: which status it starts from, where it goes and
who may make it. The form that asks for a move carries the task's version; a task that
changed since the form was drawn is refused with "changed meanwhile" rather than
overwritten (and the version column catches the race between the check and the write).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from statistics import median
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, event, func, or_, select
from sqlalchemy.orm import Session, selectinload
from sqlalchemy.orm.exc import StaleDataError

from .. import access, audit, clock
from ..access import Action, Principal
from ..auth.models import User
from ..errors import RuleError
from ..extensions import db
from ..fees.ledger import add_to
from ..months import add_months, month_of
from ..registry.models import Building, Community, Compound, Household, Subdistrict, Unit
from ..uploads import discard_upload, save_photo
from .models import (
    DEFAULT_TARGET_DAYS,
    FINISHED,
    OPEN,
    AssigneeKind,
    Category,
    Channel,
    MeetingDecision,
    PhotoStage,
    Place,
    Priority,
    RepairEvent,
    RepairMonth,
    RepairPhoto,
    RepairTarget,
    RepairTask,
    Status,
)

MAX_PHOTOS = 6
REOPEN_DAYS = 7
# A task that waits this long for its reporter's check may be closed by the committee.
CHECK_DAYS = 7


class EventKind(StrEnum):
    REPORTED = "reported"
    ASSIGNED = "assigned"
    STARTED = "started"
    DONE = "done"
    CONFIRMED = "confirmed"  # the reporter checked the work
    CLOSED = "closed"  # the committee closed it for a reporter who did not answer
    SENT_BACK = "sent_back"  # the reporter found it not fixed
    REJECTED = "rejected"
    REOPENED = "reopened"
    RATED = "rated"


# --- service levels -------------------------------------------------------------------------


def target_days(subdistrict_id: int) -> dict[str, int]:
    days = dict(DEFAULT_TARGET_DAYS)
    rows = db.session.scalars(
        select(RepairTarget).where(RepairTarget.subdistrict_id == subdistrict_id)
    )
    days.update({row.category: row.days for row in rows})
    return days


def set_target_days(subdistrict_id: int, days: dict[str, int]) -> None:
    before = target_days(subdistrict_id)
    for category, value in days.items():
        row = db.session.get(RepairTarget, (subdistrict_id, category))
        if row is None:
            db.session.add(
                RepairTarget(subdistrict_id=subdistrict_id, category=category, days=value)
            )
        else:
            row.days = value
    db.session.flush()
    audit.record(
        "repair_targets",
        db.session.get(Subdistrict, subdistrict_id),
        before=before,
        after=target_days(subdistrict_id),
    )


def allowed_days(category: str, priority: str, days: dict[str, int]) -> int:
    """Urgent tasks get half the category's time, at least a day."""
    base = days.get(category, DEFAULT_TARGET_DAYS[Category.OTHER])
    return max(1, math.ceil(base / 2)) if priority == Priority.URGENT else base


def _subdistrict_of(compound: Compound) -> int:
    return db.session.scalar(
        select(Community.subdistrict_id).where(Community.id == compound.community_id)
    )


def _due(task: RepairTask, compound: Compound) -> date:
    days = allowed_days(task.category, task.priority, target_days(_subdistrict_of(compound)))
    return clock.local_date(task.reported_at) + timedelta(days=days)


def is_overdue(task: RepairTask, today: date | None = None) -> bool:
    """Late and still waiting for the work (a task awaiting the reporter's check is not)."""
    today = today or clock.today()
    return task.status in (Status.REPORTED, Status.ASSIGNED, Status.IN_PROGRESS) and (
        task.due_on < today
    )


# --- photos ------------------------------------------------------------------------------------


def store_photos(files: Sequence[Any], already: int = 0) -> list[str]:
    """Check and store up to the allowed number of photos; all or none are kept."""
    files = [f for f in files if f and getattr(f, "filename", "")]
    if already + len(files) > MAX_PHOTOS:
        raise RuleError(_("At most %(n)d photos per task.", n=MAX_PHOTOS), "photos")
    names: list[str] = []
    try:
        for storage in files:
            names.append(save_photo(storage, "photos"))
    except RuleError:
        for name in names:
            discard_upload(name)
        raise
    db.session.info.setdefault(_STORED, []).extend(names)
    return names


# Photos stored during a transaction live or die with it: a save that fails after the
# files were written (the audit row, the commit) must not leave photos nobody can find.
_STORED = "repair_photos_stored"


@event.listens_for(Session, "after_commit")
def _keep_stored(session: Session) -> None:
    session.info.pop(_STORED, None)


@event.listens_for(Session, "after_rollback")
def _discard_stored(session: Session) -> None:
    for name in session.info.pop(_STORED, ()):
        discard_upload(name)


def _attach(task: RepairTask, names: list[str], stage: PhotoStage, actor: User) -> None:
    for name in names:
        db.session.add(RepairPhoto(task=task, stage=stage, file=name, uploaded_by_id=actor.id))


# --- reporting ----------------------------------------------------------------------------------


@dataclass
class Report:
    category: str
    description: str
    priority: str = Priority.NORMAL
    place: str = Place.PUBLIC
    building_id: int | None = None
    unit_id: int | None = None
    household_id: int | None = None  # the home it is for (inside it, or its resident asked)
    resident_name: str = ""  # an assisted report: who asked
    decision_id: int | None = None
    request_key: str | None = None


def _in_compound(compound: Compound, report: Report) -> tuple[Any, Any, Any]:
    """The building, unit and home named by the report, each checked to be the compound's.

    A repair inside a home is in that home's unit; one on the common parts is where the
    report says, whichever home asked for it.
    """
    household = unit = building = None
    if report.household_id is not None:
        household = db.session.get(Household, report.household_id)
        if household is None or household.unit.building.compound_id != compound.id:
            raise RuleError(_("Choose a home in this compound."), "household_id")
    if report.unit_id is not None:
        unit = db.session.get(Unit, report.unit_id)
        if unit is None or unit.building.compound_id != compound.id:
            raise RuleError(_("Choose a unit in this compound."), "unit_id")
    if report.building_id is not None:
        building = db.session.get(Building, report.building_id)
        if building is None or building.compound_id != compound.id:
            raise RuleError(_("Choose a building in this compound."), "building_id")
        if unit is not None and unit.building_id != building.id:
            raise RuleError(_("That unit is not in the chosen building."), "unit_id")
    if report.place == Place.HOME and household is not None:
        unit = household.unit
    if unit is not None:
        building = unit.building
    return building, unit, household


def _channel(compound: Compound, report: Report, household: Any, p: Principal) -> Channel:
    if report.decision_id is not None:
        return Channel.MEETING
    if household is not None and household.id not in p.resident_households:
        return Channel.ASSISTED  # somebody reports for a home they do not live in
    if household is None and access.can(Action.TRIAGE, compound, p):
        return Channel.COMMITTEE
    return Channel.RESIDENT


def report_task(
    compound: Compound,
    report: Report,
    actor: User,
    photos: Sequence[Any] = (),
    p: Principal | None = None,
) -> RepairTask:
    p = p or access.principal()
    if report.request_key:
        sent = db.session.scalar(
            select(RepairTask).where(RepairTask.request_key == report.request_key)
        )
        if sent is not None and sent.reported_by_id == actor.id:
            return sent  # the same form sent twice: the task exists already
        if sent is not None:
            raise RuleError(_("This form has expired. Please open it again."))
    if report.category not in set(Category):
        raise RuleError(_("Choose a category."), "category")
    if not report.description:
        raise RuleError(_("Describe the problem."), "description")
    building, unit, household = _in_compound(compound, report)
    if report.place == Place.HOME and household is None:
        raise RuleError(_("Choose the home the repair is in."), "household_id")
    if household is not None and not access.can(Action.REPORT, household, p):
        raise RuleError(_("You cannot report for that home."), "household_id")
    if not access.can(Action.REPORT, unit or compound, p):
        raise RuleError(_("You cannot report repairs in this compound."))
    decision = None
    if report.decision_id is not None:
        decision = db.session.get(MeetingDecision, report.decision_id)
        if decision is None or decision.meeting.compound_id != compound.id:
            raise RuleError(_("That decision is not from this compound's meetings."))
        if not access.can(Action.TRIAGE, compound, p):
            raise RuleError(_("Only the committee turns meeting decisions into tasks."))
    channel = _channel(compound, report, household, p)
    if channel == Channel.ASSISTED and not report.resident_name:
        raise RuleError(
            _("Whom are you reporting for? Enter the resident's name."), "resident_name"
        )
    task = RepairTask(
        compound_id=compound.id,
        building_id=building.id if building else None,
        unit_id=unit.id if unit else None,
        place=report.place,
        category=report.category,
        description=report.description,
        priority=report.priority,
        channel=channel,
        reported_by_id=actor.id,
        household_id=household.id if household else None,
        resident_name=report.resident_name if channel == Channel.ASSISTED else "",
        decision_id=decision.id if decision else None,
        reported_at=clock.now(),
        request_key=report.request_key or None,
    )
    task.due_on = _due(task, compound)
    names = store_photos(photos)
    try:
        db.session.add(task)
        _attach(task, names, PhotoStage.REPORT, actor)
        _event(task, actor, EventKind.REPORTED, "", Status.REPORTED, at=task.reported_at)
        _count(task, clock.local_date(task.reported_at), reported=1)
        db.session.flush()
        audit.record("report_repair", task)
    except Exception:
        for name in names:
            discard_upload(name)
        raise
    return task


def _event(
    task: RepairTask,
    actor: User,
    kind: EventKind,
    before: str,
    after: str,
    note: str = "",
    at: datetime | None = None,
) -> RepairEvent:
    # The event's moment is the one its monthly figures were counted for.
    event = RepairEvent(
        task=task,
        actor_id=actor.id,
        kind=kind,
        from_status=before,
        to_status=after,
        note=note,
        at=at or clock.now(),
    )
    if kind in (EventKind.CONFIRMED, EventKind.CLOSED):
        event.due_on = task.due_on
    db.session.add(event)
    return event


def _count(task: RepairTask, on: date | None = None, **deltas: int) -> None:
    month = month_of(on or clock.today())
    add_to(RepairMonth, {"compound_id": task.compound_id, "month": month}, **deltas)


# --- moves --------------------------------------------------------------------------------------


class Who(StrEnum):
    TRIAGE = "triage"  # the committee, or community staff
    ASSIGNEE = "assignee"
    REPORTER = "reporter"


@dataclass(frozen=True)
class Move:
    name: str
    kind: EventKind
    before: tuple[Status, ...]
    after: Status
    who: tuple[Who, ...]
    label: Any
    needs_note: bool = False
    takes_photos: bool = False


MOVES: dict[str, Move] = {
    m.name: m
    for m in (
        Move(
            "start",
            EventKind.STARTED,
            (Status.ASSIGNED,),
            Status.IN_PROGRESS,
            (Who.TRIAGE, Who.ASSIGNEE),
            _l("Start work"),
        ),
        Move(
            "done",
            EventKind.DONE,
            (Status.IN_PROGRESS,),
            Status.DONE,
            (Who.TRIAGE, Who.ASSIGNEE),
            _l("Work done: ask for the check"),
            takes_photos=True,
        ),
        Move(
            "confirm",
            EventKind.CONFIRMED,
            (Status.DONE,),
            Status.CLOSED,
            (Who.REPORTER,),
            _l("Confirm: it is fixed"),
        ),
        Move(
            "close",
            EventKind.CLOSED,
            (Status.DONE,),
            Status.CLOSED,
            (Who.TRIAGE,),
            _l("Close without the reporter's check"),
            needs_note=True,
        ),
        Move(
            "send_back",
            EventKind.SENT_BACK,
            (Status.DONE,),
            Status.IN_PROGRESS,
            (Who.REPORTER,),
            _l("Not fixed: send back"),
            needs_note=True,
        ),
        Move(
            "reject",
            EventKind.REJECTED,
            (Status.REPORTED, Status.ASSIGNED),
            Status.REJECTED,
            (Who.TRIAGE,),
            _l("Reject"),
            needs_note=True,
        ),
        Move(
            "reopen",
            EventKind.REOPENED,
            (Status.CLOSED, Status.REJECTED),
            Status.REPORTED,
            (Who.REPORTER,),
            _l("Reopen"),
            needs_note=True,
        ),
    )
}


def roles_on(task: RepairTask, actor: User, p: Principal | None = None) -> set[Who]:
    p = p or access.principal()
    roles: set[Who] = set()
    if access.can(Action.TRIAGE, task.compound, p):
        roles.add(Who.TRIAGE)
    if task.assignee_id is not None and task.assignee_id == actor.id:
        roles.add(Who.ASSIGNEE)
    if access.is_reporter(task, p):
        roles.add(Who.REPORTER)
    return roles


def _may_close_for_reporter(task: RepairTask) -> bool:
    """The committee closes a task itself only when it reported it, or the reporter has
    not answered for a week."""
    if task.channel in (Channel.COMMITTEE, Channel.MEETING):
        return True
    return task.done_at is not None and clock.now() - task.done_at >= timedelta(days=CHECK_DAYS)


def _reopen_open(task: RepairTask) -> bool:
    return task.finished_at is not None and clock.now() - task.finished_at <= timedelta(
        days=REOPEN_DAYS
    )


def moves_for(task: RepairTask, actor: User, p: Principal | None = None) -> list[Move]:
    """The moves this user may make on the task now (the buttons they see)."""
    roles = roles_on(task, actor, p)
    found = []
    for move in MOVES.values():
        if task.status not in move.before or not roles.intersection(move.who):
            continue
        if move.name == "close" and not _may_close_for_reporter(task):
            continue
        if move.name == "reopen" and not _reopen_open(task):
            continue
        found.append(move)
    return found


def can_assign(task: RepairTask, p: Principal | None = None) -> bool:
    return task.status in (Status.REPORTED, Status.ASSIGNED, Status.IN_PROGRESS) and (
        access.can(Action.TRIAGE, task.compound, p)
    )


def _check_version(task: RepairTask, version: int | None) -> None:
    if version != task.version:
        raise RuleError(
            _(
                "Someone changed this task meanwhile (it is now “%(status)s”). "
                "Look at the latest state below and try again if still needed.",
                status=status_label(task.status),
            )
        )


def status_label(status: str) -> str:
    from ..labels import label

    return label("repair_status", status)


def move(
    task: RepairTask,
    name: str,
    actor: User,
    *,
    version: int | None,
    note: str = "",
    photos: Sequence[Any] = (),
    p: Principal | None = None,
) -> RepairTask:
    _check_version(task, version)
    chosen = MOVES.get(name)
    if chosen is None:
        raise RuleError(_("That is not a step a task can take."))
    if chosen not in moves_for(task, actor, p):
        if task.status not in chosen.before:
            raise RuleError(
                _(
                    "A task that is “%(status)s” cannot take this step.",
                    status=status_label(task.status),
                )
            )
        if not roles_on(task, actor, p).intersection(chosen.who):
            # Before the waiting rules: a week's wait never makes a step somebody else's.
            raise RuleError(_("This step is not yours to take on this task."))
        if chosen.name == "reopen":
            # Not next to the note: the page may offer no step (and so no note) any more.
            raise RuleError(_("A task can be reopened only within %(n)d days.", n=REOPEN_DAYS))
        if chosen.name == "close":
            raise RuleError(
                _(
                    "The reporter checks the work first; after %(n)d days you may close it.",
                    n=CHECK_DAYS,
                )
            )
        raise RuleError(_("This step is not yours to take on this task."))
    if chosen.needs_note and not note:
        raise RuleError(_("Please give the reason."), "note")
    names = store_photos(photos, already=0) if chosen.takes_photos else []
    try:
        before = task.status
        now = clock.now()
        today = clock.local_date(now)
        if chosen.kind == EventKind.REOPENED:
            # Reopened, the task has its full time again, from today (read before any change,
            # so the lookup flushes nothing).
            targets = target_days(_subdistrict_of(task.compound))
            fresh_due = today + timedelta(days=allowed_days(task.category, task.priority, targets))
        task.status = chosen.after
        counted: dict[str, int] = {}
        match chosen.kind:
            case EventKind.DONE:
                task.done_at = now
            case EventKind.CONFIRMED | EventKind.CLOSED:
                task.finished_at = now
                counted = {
                    "closed": 1,
                    "closed_in_target": 1 if today <= task.due_on else 0,
                    "close_days": (today - clock.local_date(task.reported_at)).days,
                }
            case EventKind.REJECTED:
                task.finished_at = now
                task.reject_reason = note
                counted = {"rejected": 1}
            case EventKind.REOPENED:
                task.finished_at = None
                task.done_at = None
                task.reject_reason = ""
                task.rating = None
                task.rating_comment = ""
                task.due_on = fresh_due
                counted = {"reopened": 1}
            case EventKind.SENT_BACK:
                task.done_at = None
        _attach(task, names, PhotoStage.AFTER, actor)
        _event(task, actor, chosen.kind, before, task.status, note, at=now)
        # The task's row first, where the version is checked; only then the month's
        # figures (counting first would flush the task from inside the count, beyond the
        # "changed meanwhile" check, and take the two rows' locks in the other order).
        _flush_versioned()
        _count(task, today, **counted)
        audit.record(f"repair_{chosen.name}", task, before={"status": before})
    except Exception:
        for name_ in names:
            discard_upload(name_)
        raise
    return task


def _flush_versioned() -> None:
    try:
        db.session.flush()
    except StaleDataError:
        db.session.rollback()
        raise RuleError(
            _("Someone changed this task meanwhile. Look at the latest state and try again.")
        ) from None


@dataclass
class Assignment:
    kind: str
    member_id: int | None = None  # a committee member's or staff member's account
    contractor: str = ""
    category: str | None = None
    priority: str | None = None
    note: str = ""


def assignable_people(task: RepairTask) -> dict[str, list[User]]:
    """Committee members of the area and the community's staff, by assignee kind."""
    from ..auth.models import Role, RoleGrant
    from ..committees.service import committee_for_area, is_current

    committee = committee_for_area(task.compound.area_id)
    members = sorted(
        {m.user for m in (committee.members if committee else []) if is_current(m)},
        key=lambda u: u.name,
    )
    staff = db.session.scalars(
        select(User)
        .join(RoleGrant, RoleGrant.user_id == User.id)
        .where(
            RoleGrant.role == Role.COMMUNITY_STAFF,
            RoleGrant.community_id == task.compound.community_id,
            User.is_enabled.is_(True),
        )
        .order_by(User.name)
    ).all()
    return {AssigneeKind.MEMBER: members, AssigneeKind.STAFF: list(staff)}


def assign(
    task: RepairTask,
    assignment: Assignment,
    actor: User,
    *,
    version: int | None,
    p: Principal | None = None,
) -> RepairTask:
    _check_version(task, version)
    if not can_assign(task, p):
        if not access.can(Action.TRIAGE, task.compound, p):
            raise RuleError(_("This step is not yours to take on this task."))
        raise RuleError(
            _(
                "A task that is “%(status)s” cannot be assigned.",
                status=status_label(task.status),
            )
        )
    people = assignable_people(task)
    before = {
        "status": task.status,
        "assignee_kind": task.assignee_kind,
        "assignee_id": task.assignee_id,
        "assignee_name": task.assignee_name,
        "category": task.category,
        "priority": task.priority,
    }
    match assignment.kind:
        case AssigneeKind.MEMBER | AssigneeKind.STAFF:
            chosen = next(
                (u for u in people[assignment.kind] if u.id == assignment.member_id), None
            )
            if chosen is None:
                raise RuleError(_("Choose someone from the list."), "member_id")
            task.assignee_id, task.assignee_name = chosen.id, chosen.name
        case AssigneeKind.CONTRACTOR:
            if not assignment.contractor:
                raise RuleError(_("Enter the contractor's name."), "contractor")
            task.assignee_id, task.assignee_name = None, assignment.contractor
        case _:
            raise RuleError(_("Choose who will do the work."), "kind")
    task.assignee_kind = assignment.kind
    if assignment.category in set(Category) and assignment.category != task.category:
        task.category = assignment.category
    if assignment.priority in set(Priority) and assignment.priority != task.priority:
        task.priority = assignment.priority
    with db.session.no_autoflush:  # the version is checked at the flush below
        # The target counts from the report, or from the reopening that gave the task its
        # time again; a new category or urgency changes only its length.
        targets = target_days(_subdistrict_of(task.compound))
        counted_from = task.due_on - timedelta(
            days=allowed_days(before["category"], before["priority"], targets)
        )
        task.due_on = counted_from + timedelta(
            days=allowed_days(task.category, task.priority, targets)
        )
    previous = task.status
    if task.status == Status.REPORTED:
        task.status = Status.ASSIGNED
    # A handover to somebody else restarts the work with them.
    if task.status == Status.IN_PROGRESS and before["assignee_name"] != task.assignee_name:
        task.status = Status.ASSIGNED
    note = assignment.note or task.assignee_name
    _event(task, actor, EventKind.ASSIGNED, previous, task.status, note[:200])
    _flush_versioned()
    audit.record("repair_assign", task, before=before)
    return task


def rate(
    task: RepairTask,
    actor: User,
    rating: int,
    comment: str,
    *,
    p: Principal | None = None,
) -> RepairTask:
    if Who.REPORTER not in roles_on(task, actor, p):
        raise RuleError(_("Only the reporter rates the work."))
    if task.status != Status.CLOSED:
        raise RuleError(_("A task is rated once it is closed."))
    if task.rating is not None:
        raise RuleError(_("This task has been rated already."))
    if not 1 <= rating <= 5:
        raise RuleError(_("Choose from 1 to 5 stars."), "rating")
    task.rating, task.rating_comment = rating, comment
    _event(task, actor, EventKind.RATED, "", task.status, comment)
    _flush_versioned()
    audit.record("repair_rate", task)
    return task


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

"""The life of a repair task: its report, the allowed moves between statuses, ratings.

Every move is checked against ``MOVES``: which status it starts from, where it goes and
who may make it. The form that asks for a move carries the task's version; a task that
changed since the form was drawn is refused with "changed meanwhile" rather than
overwritten (and the version column catches the race between the check and the write).

Each write also writes what it changes of the record: the timeline event, the photos
taken with it, and the compound's monthly figures (``RepairMonth``), in the same
transaction. Due dates come from ``levels``; the lists and recounts are in ``queries``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm.exc import StaleDataError

from .. import access, audit, clock, uploads
from ..access import Action, Principal
from ..auth.models import User
from ..errors import RuleError
from ..extensions import db
from ..fees.ledger import add_to
from ..messages import triggers
from ..months import month_of
from ..registry.models import Building, Compound, Household, Unit
from ..uploads import discard_upload
from .levels import allowed_days, due_date, subdistrict_of, target_days
from .models import (
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


# --- photos ------------------------------------------------------------------------------------


def store_photos(files: Sequence[Any], already: int = 0) -> list[str]:
    """Check and store up to the allowed number of photos; all or none are kept."""
    too_many = _("At most %(n)d photos per task.", n=MAX_PHOTOS)
    return uploads.store_photos(files, limit=MAX_PHOTOS, too_many=too_many, already=already)


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
    for_neighbour: bool = False  # reported for a resident of the reporter's units
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
    if report.for_neighbour and (household is None or household.id in p.resident_households):
        raise RuleError(_("Choose the home of the resident you report for."), "household_id")
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
    task.due_on = due_date(task, compound)
    names = store_photos(photos)
    try:
        db.session.add(task)
        _attach(task, names, PhotoStage.REPORT, actor)
        _event(task, actor, EventKind.REPORTED, "", Status.REPORTED, at=task.reported_at)
        _count(task, clock.local_date(task.reported_at), reported=1)
        db.session.flush()
        audit.record("report_repair", task)
        triggers.repair_reported(task)
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
    # A step off the usual way (refuse, reopen, send back, close unchecked): offered below
    # the page's main action, never as its big button.
    secondary: bool = False


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
            secondary=True,
        ),
        Move(
            "send_back",
            EventKind.SENT_BACK,
            (Status.DONE,),
            Status.IN_PROGRESS,
            (Who.REPORTER,),
            _l("Not fixed: send back"),
            needs_note=True,
            secondary=True,
        ),
        Move(
            "reject",
            EventKind.REJECTED,
            (Status.REPORTED, Status.ASSIGNED),
            Status.REJECTED,
            (Who.TRIAGE,),
            _l("Reject"),
            needs_note=True,
            secondary=True,
        ),
        Move(
            "reopen",
            EventKind.REOPENED,
            (Status.CLOSED, Status.REJECTED),
            Status.REPORTED,
            (Who.REPORTER,),
            _l("Reopen"),
            needs_note=True,
            secondary=True,
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
            targets = target_days(subdistrict_of(task.compound))
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
        triggers.repair_moved(task, actor)
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
    before: dict[str, Any] = {
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
        targets = target_days(subdistrict_of(task.compound))
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
    if task.status != previous:
        triggers.repair_moved(task, actor)
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

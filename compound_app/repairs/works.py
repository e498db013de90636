"""Works (larger projects), the facility register, and meetings that decide on repairs."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.exc import StaleDataError

from .. import audit, clock
from ..auth.models import User
from ..errors import RuleError
from ..extensions import db
from ..fees.models import Expense, ExpenseKind
from ..registry.models import Compound, ManagementModel
from ..uploads import discard_upload
from .models import (
    Facility,
    FacilityKind,
    Funding,
    Meeting,
    MeetingDecision,
    MeetingKind,
    PhotoStage,
    RepairPhoto,
    Work,
    WorkKind,
    WorkStatus,
)
from .workflow import store_photos

# What a completed work of a kind adds to the register, unless told otherwise.
WORK_FACILITY = {
    WorkKind.CAMERA: FacilityKind.CAMERA,
    WorkKind.CHARGING: FacilityKind.CHARGING_PILE,
    WorkKind.STREET_LIGHT: FacilityKind.STREET_LIGHT,
    WorkKind.BUILDING_DOOR: FacilityKind.BUILDING_DOOR,
    WorkKind.PARKING: FacilityKind.PARKING_SPACE,
}


# --- works --------------------------------------------------------------------------------------


@dataclass
class WorkPlan:
    kind: str
    title: str
    description: str
    budget_fen: int
    funding: str
    planned_on: date
    decision_id: int | None = None


def works_of(compound_id: int) -> list[Work]:
    return list(
        db.session.scalars(
            select(Work)
            .where(Work.compound_id == compound_id)
            .options(selectinload(Work.expense), selectinload(Work.facilities))
            .order_by(Work.planned_on.desc(), Work.id.desc())
        )
    )


def plan_work(compound: Compound, plan: WorkPlan, actor: User) -> Work:
    if plan.kind not in set(WorkKind):
        raise RuleError(_("Choose the kind of work."), "kind")
    if plan.funding not in set(Funding):
        raise RuleError(_("Choose the funding source."), "funding")
    if plan.decision_id is not None:
        decision = db.session.get(MeetingDecision, plan.decision_id)
        if decision is None or decision.meeting.compound_id != compound.id:
            raise RuleError(_("That decision is not from this compound's meetings."))
    work = Work(
        compound_id=compound.id,
        kind=plan.kind,
        title=plan.title,
        description=plan.description,
        budget_fen=plan.budget_fen,
        funding=plan.funding,
        planned_on=plan.planned_on,
        decision_id=plan.decision_id,
        created_by_id=actor.id,
    )
    db.session.add(work)
    db.session.flush()
    audit.record("plan_work", work)
    return work


def _check_version(work: Work, version: int | None) -> None:
    if version != work.version:
        raise RuleError(_("Someone changed this work meanwhile. Look at it again and retry."))


def _flush_versioned() -> None:
    """Save the work's row; another request that saved it since it was read wins."""
    try:
        db.session.flush()
    except StaleDataError:
        db.session.rollback()
        raise RuleError(
            _("Someone changed this work meanwhile. Look at it again and retry.")
        ) from None


def start_work(work: Work, on: date, version: int | None) -> None:
    _check_version(work, version)
    if work.status != WorkStatus.PLANNED:
        raise RuleError(_("This work has started already."))
    if on > clock.today():
        raise RuleError(_("The start date cannot be in the future."), "on")
    before = audit.snapshot(work)
    work.status, work.started_on = WorkStatus.UNDERWAY, on
    _flush_versioned()
    audit.record("start_work", work, before=before)


def complete_work(
    work: Work, on: date, installed: int, location: str, actor: User, version: int | None
) -> None:
    """Finish a work; what it installed goes into the compound's facility register."""
    _check_version(work, version)
    if work.status != WorkStatus.UNDERWAY:
        raise RuleError(_("Only work under way can be completed."))
    if on > clock.today():
        raise RuleError(_("The completion date cannot be in the future."), "on")
    if work.started_on and on < work.started_on:
        raise RuleError(_("The work cannot end before it started."), "on")
    kind = WORK_FACILITY.get(WorkKind(work.kind))
    if installed and kind is None:
        raise RuleError(_("This kind of work installs nothing to register."), "installed")
    before = audit.snapshot(work)
    work.status, work.completed_on = WorkStatus.COMPLETED, on
    _flush_versioned()  # before the register's line, whose flush would save it unchecked
    if installed and kind is not None:
        add_facility(
            work.compound,
            FacilityEntry(kind=kind, count=installed, location=location, installed_on=on),
            actor,
            work=work,
        )
    db.session.flush()
    audit.record("complete_work", work, before=before)


def linkable_expenses(work: Work) -> list[Expense]:
    """The area's repair expenses not yet linked to a work (newest first); a void one
    (entered by mistake) is no work's cost."""
    taken = select(Work.expense_id).where(Work.expense_id.is_not(None))
    return list(
        db.session.scalars(
            select(Expense)
            .where(
                Expense.area_id == work.compound.area_id,
                Expense.kind == ExpenseKind.REPAIR,
                Expense.amount_fen > 0,
                Expense.id.not_in(taken),
                ~Expense.void.has(),
            )
            .order_by(Expense.spent_on.desc(), Expense.id.desc())
            .limit(50)
        )
    )


def link_expense(work: Work, expense_id: int | None, version: int | None) -> None:
    """Link the fee-ledger expense that paid a fee-funded work. A work paid by the fund,
    the government or the community records its cost from that source (``fund``): only
    fee-funded costs reduce the fees' balance."""
    from ..fund.service import fee_funded_refusal

    _check_version(work, version)
    refusal = fee_funded_refusal(work)
    if refusal:
        raise RuleError(refusal, "expense_id")
    expense = next((e for e in linkable_expenses(work) if e.id == expense_id), None)
    if expense is None:
        raise RuleError(_("Choose one of the area's repair expenses."), "expense_id")
    before = audit.snapshot(work)
    work.expense_id = expense.id
    _flush_versioned()
    audit.record("link_work_expense", work, before=before)


def add_work_photos(work: Work, files: Sequence[Any], stage: str, actor: User) -> int:
    if stage not in (PhotoStage.BEFORE, PhotoStage.AFTER):
        raise RuleError(_("Choose before or after."), "stage")
    already = sum(1 for photo in work.photos if photo.stage == stage)
    names = store_photos(files, already=already)
    if not names:
        raise RuleError(_("Choose a photo to upload."), "photos")
    try:
        for name in names:
            db.session.add(RepairPhoto(work=work, stage=stage, file=name, uploaded_by_id=actor.id))
        db.session.flush()
    except Exception:
        for name in names:
            discard_upload(name)
        raise
    audit.record("work_photos", work, after={"stage": stage, "added": len(names)})
    return len(names)


# --- facility register ----------------------------------------------------------------------------


@dataclass
class FacilityEntry:
    kind: str
    count: int
    location: str
    installed_on: date


def facilities_of(compound_id: int) -> list[Facility]:
    return list(
        db.session.scalars(
            select(Facility)
            .where(Facility.compound_id == compound_id)
            .options(selectinload(Facility.work))
            .order_by(Facility.removed_on.is_not(None), Facility.kind, Facility.installed_on)
        )
    )


def facility_totals(compound_ids: Sequence[int] | None = None) -> dict[str, int]:
    """Facilities in service, by kind (for one compound, some, or all)."""
    query = select(Facility.kind, func.sum(Facility.count)).where(Facility.removed_on.is_(None))
    if compound_ids is not None:
        query = query.where(Facility.compound_id.in_(compound_ids))
    return {kind: int(n) for kind, n in db.session.execute(query.group_by(Facility.kind))}


def add_facility(
    compound: Compound, entry: FacilityEntry, actor: User, work: Work | None = None
) -> Facility:
    if entry.kind not in set(FacilityKind):
        raise RuleError(_("Choose the kind of facility."), "kind")
    if entry.installed_on > clock.today():
        raise RuleError(_("The installation date cannot be in the future."), "installed_on")
    facility = Facility(
        compound_id=compound.id,
        kind=entry.kind,
        count=entry.count,
        location=entry.location,
        installed_on=entry.installed_on,
        work=work,
        recorded_by_id=actor.id,
    )
    db.session.add(facility)
    db.session.flush()
    audit.record("add_facility", facility)
    return facility


def remove_facility(facility: Facility, on: date) -> None:
    if facility.removed_on is not None:
        raise RuleError(_("This line was taken out of service already."))
    if on < facility.installed_on or on > clock.today():
        raise RuleError(_("Enter a date between installation and today."), "on")
    before = audit.snapshot(facility)
    facility.removed_on = on
    db.session.flush()
    audit.record("remove_facility", facility, before=before)


# --- meetings -------------------------------------------------------------------------------------


@dataclass
class MeetingRecord:
    kind: str
    held_on: date
    attendees: str
    attendee_count: int
    problems: str
    decisions: list[str]


def meeting_kinds(compound: Compound) -> list[MeetingKind]:
    """Review meetings (会诊) are the party branch's: branch-managed compounds hold them."""
    if compound.model == ManagementModel.PARTY_BRANCH:
        return [MeetingKind.REVIEW, MeetingKind.RESIDENTS]
    return [MeetingKind.RESIDENTS]


def meetings_of(compound_id: int) -> list[Meeting]:
    return list(
        db.session.scalars(
            select(Meeting)
            .where(Meeting.compound_id == compound_id)
            .options(selectinload(Meeting.decisions).selectinload(MeetingDecision.tasks))
            .order_by(Meeting.held_on.desc(), Meeting.id.desc())
        )
    )


def record_meeting(compound: Compound, record: MeetingRecord, actor: User) -> Meeting:
    if record.kind not in meeting_kinds(compound):
        raise RuleError(_("Review meetings are held in party-branch managed compounds."), "kind")
    if record.held_on > clock.today():
        raise RuleError(_("Record a meeting once it has been held."), "held_on")
    meeting = Meeting(
        compound_id=compound.id,
        kind=record.kind,
        held_on=record.held_on,
        attendees=record.attendees,
        attendee_count=record.attendee_count,
        problems=record.problems,
        recorded_by_id=actor.id,
    )
    for text in record.decisions:
        meeting.decisions.append(MeetingDecision(text=text))
    db.session.add(meeting)
    db.session.flush()
    audit.record("record_meeting", meeting)
    return meeting

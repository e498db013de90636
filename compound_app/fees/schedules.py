"""Fee schedules: draft → published for comment (公示) → active → superseded.

An active schedule is never edited: a change is a new version from a future month,
drafted, published and approved like the first; approving it ends the old one the
month before. Who approved, when and how stays on the record.

The owners decide a fee standard (Civil Code art. 278): a version comes into force on a
passed owners' vote of the whole area, or, as an exception, on a decision of the
community staff who run the area, recorded with its reason and shown to residents as such.
Versions approved earlier by a meeting keep their record. The 公示 lasts at least the
subdistrict's minimum (``OversightSettings.min_publicity_days``).
"""

from __future__ import annotations

from datetime import date, timedelta

from flask_babel import gettext as _
from sqlalchemy import func, select

from .. import audit, clock
from ..auth.models import User
from ..errors import RuleError
from ..extensions import db
from ..labels import label
from ..months import add_months, month_of, months_between
from ..notices import service as notices
from ..registry.models import Compound, Household, ManagementArea, Pilot
from ..templating import fmt_date, fmt_month
from ..votes.models import Matter, Vote
from . import ledger
from .models import (
    ApprovalHow,
    Basis,
    Cycle,
    FeeItem,
    FeeRelief,
    FeeSchedule,
    FeeSettings,
    ScheduleStatus,
    ThresholdChange,
    ThresholdStatus,
)

# The pilots started charging two to three months after they began; earlier is a warning.
MIN_MONTHS_AFTER_PILOT_START = 2
MAX_ITEMS = 20


def schedules_of(area_id: int) -> list[FeeSchedule]:
    return list(
        db.session.scalars(
            select(FeeSchedule)
            .where(FeeSchedule.area_id == area_id)
            .order_by(FeeSchedule.version.desc())
        )
    )


def active_schedule(area_id: int) -> FeeSchedule | None:
    return db.session.scalar(
        select(FeeSchedule).where(
            FeeSchedule.area_id == area_id, FeeSchedule.status == ScheduleStatus.ACTIVE
        )
    )


def pending_schedule(area_id: int) -> FeeSchedule | None:
    """The draft or published version not yet approved, if there is one."""
    return db.session.scalar(
        select(FeeSchedule).where(
            FeeSchedule.area_id == area_id,
            FeeSchedule.status.in_((ScheduleStatus.DRAFT, ScheduleStatus.PUBLISHED)),
        )
    )


def settings_of(area_id: int) -> FeeSettings:
    found = db.session.get(FeeSettings, area_id)
    return found or FeeSettings(area_id=area_id, approval_threshold_fen=50_000)


def set_threshold(area: ManagementArea, threshold_fen: int) -> FeeSettings:
    """Put a threshold in force (once confirmed, see ``propose_threshold``)."""
    found = db.session.get(FeeSettings, area.id)
    before = audit.snapshot(found) if found else None
    if found is None:
        found = FeeSettings(area_id=area.id)
        db.session.add(found)
    found.approval_threshold_fen = threshold_fen
    audit.record("update" if before else "create", found, before)
    return found


# --- the approval threshold: proposed by one, confirmed by a second -------------------------


def pending_threshold(area_id: int) -> ThresholdChange | None:
    return db.session.scalar(
        select(ThresholdChange)
        .where(
            ThresholdChange.area_id == area_id,
            ThresholdChange.status == ThresholdStatus.PENDING,
        )
        .order_by(ThresholdChange.id.desc())
    )


def needs_confirmation(area_id: int) -> bool:
    """Where a committee runs the area, a second member confirms a new threshold; where
    community staff run it without one, staff set it (as they approve its expenses)."""
    from .expenses import has_committee

    return has_committee(area_id)


def propose_threshold(
    area: ManagementArea, threshold_fen: int, actor: User, *, staff: bool
) -> ThresholdChange | FeeSettings:
    """A new threshold, in force at once only where staff run the area without a committee;
    else pending until a second committee member confirms it."""
    if not needs_confirmation(area.id):
        if not staff:
            raise RuleError(
                _("Only community staff set the threshold of an area without a committee.")
            )
        return set_threshold(area, threshold_fen)
    if threshold_fen == settings_of(area.id).approval_threshold_fen:
        raise RuleError(_("That is the threshold already."), "threshold")
    earlier = pending_threshold(area.id)
    if earlier is not None:
        before = audit.snapshot(earlier)
        earlier.status = ThresholdStatus.REPLACED
        audit.record("replace_threshold", earlier, before)
    change = ThresholdChange(area_id=area.id, threshold_fen=threshold_fen, proposed_by_id=actor.id)
    db.session.add(change)
    audit.record("propose_threshold", change)
    return change


def may_confirm_threshold(change: ThresholdChange, user: User, staff: bool) -> bool:
    """A second member of the committee (not the proposer); without a committee, staff."""
    from .expenses import is_member

    if change.status != ThresholdStatus.PENDING or change.proposed_by_id == user.id:
        return False
    if needs_confirmation(change.area_id):
        return is_member(change.area_id, user)
    return staff


def confirm_threshold(change: ThresholdChange, actor: User, *, staff: bool) -> FeeSettings:
    if change.status != ThresholdStatus.PENDING:
        raise RuleError(_("This proposal was confirmed or replaced meanwhile."))
    if change.proposed_by_id == actor.id:
        raise RuleError(
            _("A second committee member must confirm it, not the one who proposed it.")
        )
    if not may_confirm_threshold(change, actor, staff):
        raise RuleError(_("Only a member of this area's committee can confirm it."))
    before = audit.snapshot(change)
    change.status = ThresholdStatus.CONFIRMED
    change.confirmed_by_id, change.confirmed_at = actor.id, clock.now()
    audit.record("confirm_threshold", change, before)
    return set_threshold(change.area, change.threshold_fen)


def min_publicity_days(area_id: int) -> int:
    """The fewest days a version stays on the notice board: the subdistrict's setting."""
    from ..oversight.checklist import settings_for
    from ..registry.models import Community

    subdistrict_id = db.session.scalar(
        select(Community.subdistrict_id)
        .join(ManagementArea, ManagementArea.community_id == Community.id)
        .where(ManagementArea.id == area_id)
    )
    return settings_for(subdistrict_id or 0).min_publicity_days


def _check_publicity(area_id: int, days: int) -> None:
    least = min_publicity_days(area_id)
    if days < least:
        raise RuleError(
            _(
                "Residents get at least %(n)d days on the notice board to comment "
                "(the subdistrict's minimum).",
                n=least,
            ),
            "publicity_days",
        )


def new_draft(area: ManagementArea, actor: User | None, today: date | None = None) -> FeeSchedule:
    """A new version, copying the items of the latest one, to start next month."""
    if pending_schedule(area.id) is not None:
        raise RuleError(_("A new version is already being prepared. Finish or withdraw it first."))
    today = today or clock.today()
    latest = db.session.scalar(
        select(FeeSchedule)
        .where(FeeSchedule.area_id == area.id)
        .order_by(FeeSchedule.version.desc())
        .limit(1)
    )
    version = (latest.version + 1) if latest else 1
    schedule = FeeSchedule(
        area_id=area.id,
        version=version,
        status=ScheduleStatus.DRAFT,
        cycle=latest.cycle if latest else Cycle.MONTH,
        start_month=add_months(month_of(today), 1),
        vacant_percent=latest.vacant_percent if latest else 50,
        publicity_days=max(latest.publicity_days if latest else 0, min_publicity_days(area.id)),
        created_by_id=actor.id if actor else None,
    )
    db.session.add(schedule)
    db.session.flush()
    for item in latest.items if latest else []:
        db.session.add(
            FeeItem(
                schedule_id=schedule.id,
                name=item.name,
                scope=item.scope,
                basis=item.basis,
                rate_fen=item.rate_fen,
                sort_key=item.sort_key,
            )
        )
    audit.record("create", schedule)
    return schedule


def _editable(schedule: FeeSchedule) -> None:
    if schedule.status != ScheduleStatus.DRAFT:
        raise RuleError(_("Only a draft can be changed. Withdraw it from the notice board first."))


def update_terms(
    schedule: FeeSchedule,
    *,
    cycle: Cycle,
    start_month: date,
    vacant_percent: int,
    publicity_days: int,
    today: date | None = None,
) -> None:
    _editable(schedule)
    start_month = month_of(start_month)
    _check_start(schedule, start_month, today or clock.today())
    _check_publicity(schedule.area_id, publicity_days)
    before = audit.snapshot(schedule)
    schedule.cycle, schedule.start_month = cycle, start_month
    schedule.vacant_percent, schedule.publicity_days = vacant_percent, publicity_days
    audit.record("update", schedule, before)


def _check_start(schedule: FeeSchedule, start_month: date, today: date) -> None:
    current = active_schedule(schedule.area_id)
    if current is not None and current.id != schedule.id:
        # A change applies from a future month; months already billed keep their bills.
        if start_month <= month_of(today) or start_month <= current.start_month:
            raise RuleError(
                _(
                    "A new version starts in a future month (after %(month)s).",
                    month=fmt_month(max(month_of(today), current.start_month)),
                ),
                "start_month",
            )
        if months_between(current.start_month, start_month) % current.months:
            # Bills already issued for the old version's period cover those months.
            raise RuleError(
                _(
                    "The current version bills %(cycle)s from %(month)s: a new version starts "
                    "when one of its billing periods begins.",
                    cycle=str(label("cycle", current.cycle)),
                    month=fmt_month(current.start_month),
                ),
                "start_month",
            )
    elif start_month < add_months(month_of(today), -12):
        raise RuleError(_("The start month is more than a year ago."), "start_month")


def start_warning(schedule: FeeSchedule) -> str | None:
    """A warning when charging starts less than two months after the pilot began."""
    pilot_start = db.session.scalar(
        select(func.min(Pilot.selected_on))
        .join(Compound, Compound.id == Pilot.compound_id)
        .where(Compound.area_id == schedule.area_id)
    )
    if pilot_start is None:
        return None
    gap = months_between(pilot_start, schedule.start_month)
    if gap < MIN_MONTHS_AFTER_PILOT_START:
        return _(
            "Charging starts %(n)d month(s) after the pilot began (%(date)s). The pilots "
            "that worked first agreed the service scope with residents and started "
            "charging after two to three months.",
            n=max(gap, 0),
            date=fmt_date(pilot_start),
        )
    return None


def add_item(
    schedule: FeeSchedule, *, name: str, scope: str, basis: Basis, rate_fen: int
) -> FeeItem:
    _editable(schedule)
    if any(item.name == name for item in schedule.items):
        raise RuleError(_("The schedule already has an item with this name."), "name")
    if len(schedule.items) >= MAX_ITEMS:
        raise RuleError(_("A schedule has at most %(n)d items.", n=MAX_ITEMS))
    item = FeeItem(
        schedule_id=schedule.id,
        name=name,
        scope=scope,
        basis=basis,
        rate_fen=rate_fen,
        sort_key=len(schedule.items),
    )
    db.session.add(item)
    schedule.items.append(item)
    audit.record("create", item)
    return item


def remove_item(item: FeeItem) -> None:
    _editable(item.schedule)
    before = audit.snapshot(item)
    item.schedule.items.remove(item)
    db.session.delete(item)
    audit.record("delete", item, before)


def publish(schedule: FeeSchedule, today: date | None = None) -> None:
    """Put the draft on the notice board for residents' comments."""
    _editable(schedule)
    if not schedule.items:
        raise RuleError(_("Add at least one service item first."))
    today = today or clock.today()
    _check_start(schedule, schedule.start_month, today)
    _check_publicity(schedule.area_id, schedule.publicity_days)
    before = audit.snapshot(schedule)
    schedule.status, schedule.published_on = ScheduleStatus.PUBLISHED, today
    audit.record("update", schedule, before)
    notices.post_automatic(schedule)


def withdraw(schedule: FeeSchedule) -> None:
    """Take a published version back to draft to change it (it must be published again)."""
    if schedule.status != ScheduleStatus.PUBLISHED:
        raise RuleError(_("Only a version on the notice board can be withdrawn."))
    before = audit.snapshot(schedule)
    schedule.status, schedule.published_on = ScheduleStatus.DRAFT, None
    audit.record("update", schedule, before)


def publicity_ends(schedule: FeeSchedule) -> date | None:
    if schedule.published_on is None:
        return None
    return schedule.published_on + timedelta(days=schedule.publicity_days)


# How a version comes into force now; a meeting's approval stays only on older versions.
DECIDING = (ApprovalHow.OWNERS_VOTE, ApprovalHow.COMMUNITY)
# The matters of an owners' vote that can set the fee standard: a "major matter" of the
# common parts, or the choice of a manager with its fees (art. 278).
FEE_MATTERS = (Matter.OTHER, Matter.MANAGER)


def approve(
    schedule: FeeSchedule,
    *,
    how: ApprovalHow,
    approved_on: date,
    note: str,
    actor: User,
    staff: bool,
    today: date | None = None,
    vote_id: int | None = None,
) -> int:
    """Put a published version into force; returns the bills issued for the current period.

    ``how`` is the owners' vote, citing ``vote_id`` (a closed vote of the whole area that
    passed), or the community's decision as an exception: by community staff (``staff``),
    with the reason in ``note``, and no vote.
    """
    today = today or clock.today()
    if schedule.status != ScheduleStatus.PUBLISHED:
        raise RuleError(_("Only a version that has been on the notice board can be approved."))
    ends = publicity_ends(schedule)
    if ends is not None and today < ends:
        raise RuleError(
            _("Residents can comment until %(date)s; approve it after that.", date=f"{ends}")
        )
    if approved_on > today or (schedule.published_on and approved_on < schedule.published_on):
        raise RuleError(
            _("The approval date must lie between publication and today."), "approved_on"
        )
    vote = _decision(schedule, how, note, staff, vote_id)
    if vote is not None and vote.closed_at and approved_on < clock.local_date(vote.closed_at):
        raise RuleError(
            _("The owners decided it when their vote closed: approve it on that day or later."),
            "approved_on",
        )
    _check_start(schedule, schedule.start_month, today)
    current = active_schedule(schedule.area_id)
    if current is not None:
        before = audit.snapshot(current)
        current.status = ScheduleStatus.SUPERSEDED
        current.end_month = add_months(schedule.start_month, -1)
        audit.record("update", current, before)
        db.session.flush()
    before = audit.snapshot(schedule)
    schedule.status = ScheduleStatus.ACTIVE
    schedule.approved_on, schedule.approved_how = approved_on, how
    schedule.approval_note, schedule.approved_by_id = note, actor.id
    schedule.approval_vote_id = vote.id if vote else None
    audit.record("update", schedule, before)
    db.session.flush()
    return catch_up(schedule.area_id, today)


def _decision(
    schedule: FeeSchedule, how: ApprovalHow, note: str, staff: bool, vote_id: int | None
) -> Vote | None:
    """The vote that decided the version, or None for the community's exception; refuses
    any other way of putting it into force."""
    from ..votes.service import decided_by

    if how not in DECIDING:
        raise RuleError(
            _(
                "The owners decide the fee standard: record their vote, or the community's "
                "decision as an exception with its reason."
            ),
            "how",
        )
    if how == ApprovalHow.COMMUNITY:
        if not staff:
            raise RuleError(
                _("Only community staff can record a community decision as an exception."),
                "how",
            )
        if vote_id is not None:
            raise RuleError(
                _("A community decision cites no vote; record the owners' vote instead."),
                "vote_id",
            )
        if not note.strip():
            raise RuleError(
                _("Give the reason the community decides instead of the owners."), "note"
            )
        return None
    if vote_id is None:
        raise RuleError(_("Choose the owners' vote that decided it."), "vote_id")
    vote = decided_by(schedule.area_id, vote_id)
    assert vote is not None
    refused = may_decide(schedule, vote)
    if refused is not None:
        raise RuleError(refused, "vote_id")
    return vote


def may_decide(schedule: FeeSchedule, vote: Vote) -> str | None:
    """Why the passed vote cannot decide this version, or None: it must have asked every
    owner of the area (not some of their homes), on a matter that sets fees, after the
    version went up for comment, and not have decided another version already."""
    from ..votes.service import covers_area

    if not covers_area(vote):
        return _("The vote must be of the owners of the whole area, not of part of it.")
    if vote.matter not in FEE_MATTERS:
        return _("The vote decided another matter: cite the owners' vote on the fee standard.")
    opened = vote.opens_on or (clock.local_date(vote.opened_at) if vote.opened_at else None)
    if schedule.published_on is not None and (opened is None or opened < schedule.published_on):
        return _("The vote opened before this version was published: it cannot have decided it.")
    cited = db.session.scalar(
        select(FeeSchedule.id).where(
            FeeSchedule.approval_vote_id == vote.id, FeeSchedule.id != schedule.id
        )
    )
    if cited is not None:
        return _("That vote decided another version of the fee standard already.")
    return None


def community_exception(schedule: FeeSchedule | None) -> str | None:
    """The reason, where the version is in force on the community's decision and not on
    the owners' vote; None otherwise."""
    if schedule is None or schedule.approved_how != ApprovalHow.COMMUNITY:
        return None
    return schedule.approval_note or "–"


def catch_up(area_id: int, today: date | None = None) -> int:
    """Issue every bill due up to this month that has not been issued; returns how many."""
    today = today or clock.today()
    issued = 0
    for schedule in schedules_of(area_id):
        if schedule.status not in (ScheduleStatus.ACTIVE, ScheduleStatus.SUPERSEDED):
            continue
        month = schedule.start_month
        last = min(schedule.end_month or month_of(today), month_of(today))
        while month <= last:
            issued += ledger.generate_bills(area_id, month)
            month = add_months(month, schedule.months)
    return issued


def relief_of(household: Household) -> FeeRelief | None:
    """The household's exemption or discount, if it has one."""
    return db.session.get(FeeRelief, household.id)


def set_relief(household: Household, percent_off: int, reason: str, since: date) -> FeeRelief:
    """Exempt (100 %) or discount a household's future bills, e.g. 低保户."""
    found = db.session.get(FeeRelief, household.id)
    before = audit.snapshot(found) if found else None
    if found is None:
        found = FeeRelief(household_id=household.id)
        db.session.add(found)
    found.percent_off, found.reason, found.since = percent_off, reason, since
    audit.record("update" if before else "create", found, before)
    return found


def clear_relief(household: Household) -> None:
    found = db.session.get(FeeRelief, household.id)
    if found is None:
        return
    before = audit.snapshot(found)
    db.session.delete(found)
    audit.record("delete", found, before)

"""Pilots: selection, their plan and milestones, the stage history, and certification."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from flask_babel import gettext as _
from sqlalchemy import select

from .. import audit, clock
from ..auth.models import User
from ..errors import RuleError
from ..extensions import db
from ..registry.models import Compound, ManagementModel, Pilot, PilotStage
from .checklist import checklist, passes, settings_for
from .facts import gather, window
from .models import Certification, Milestone, OversightSettings, StageChange

# The way forward; "paused" may interrupt any of it, and certification alone reaches the end.
ORDER = [
    PilotStage.SELECTED,
    PilotStage.CONSULTING,
    PilotStage.ORGANISED,
    PilotStage.FEES_STARTED,
    PilotStage.SELF_GOVERNING,
]
PILOT_MODELS = (
    ManagementModel.CONTIGUOUS,
    ManagementModel.PARTY_BRANCH,
    ManagementModel.TRUSTEESHIP,
)


def _not_future(on: date, field: str = "on") -> None:
    if on > clock.today():
        raise RuleError(_("The date cannot be in the future."), field)


def select_pilot(
    compound: Compound, model: str, selected_on: date, actor: User | None = None
) -> Pilot:
    """Make an unmanaged compound a pilot of ``model`` (the subdistrict's choice)."""
    if compound.pilot is not None:
        raise RuleError(_("This compound is already a pilot."), "compound_id")
    if compound.model != ManagementModel.UNMANAGED:
        raise RuleError(
            _("Pilots are chosen among unmanaged compounds; this one is managed already."),
            "compound_id",
        )
    if model not in PILOT_MODELS:
        raise RuleError(_("Choose the model the pilot will follow."), "model")
    _not_future(selected_on, "selected_on")
    pilot = Pilot(
        compound_id=compound.id,
        selected_on=selected_on,
        stage=PilotStage.SELECTED,
        stage_since=selected_on,
        model=model,
        organisation="branch" if model == ManagementModel.PARTY_BRANCH else "committee",
    )
    db.session.add(pilot)
    compound.pilot = pilot
    db.session.flush()
    db.session.add(
        StageChange(
            pilot_id=pilot.id,
            to_stage=PilotStage.SELECTED,
            on=selected_on,
            changed_by_id=actor.id if actor else None,
        )
    )
    audit.record("select_pilot", pilot)
    return pilot


def history(pilot: Pilot) -> list[StageChange]:
    return list(
        db.session.scalars(
            select(StageChange)
            .where(StageChange.pilot_id == pilot.id)
            .order_by(StageChange.on, StageChange.id)
        )
    )


def next_stages(pilot: Pilot) -> list[PilotStage]:
    """Where staff may move the pilot by hand (self-governing needs certification)."""
    if pilot.stage == PilotStage.PAUSED:
        last = _stage_before_pause(pilot)
        return [s for s in ORDER[: ORDER.index(last) + 1] if s != PilotStage.SELF_GOVERNING]
    current = ORDER.index(PilotStage(pilot.stage))
    found = []
    if current + 1 < len(ORDER) - 1:
        found.append(ORDER[current + 1])
    found.append(PilotStage.PAUSED)
    return found


def _stage_before_pause(pilot: Pilot) -> PilotStage:
    for change in reversed(history(pilot)):
        if change.to_stage == PilotStage.PAUSED and change.from_stage:
            return PilotStage(change.from_stage)
    return PilotStage.SELECTED


def change_stage(pilot: Pilot, to: str, on: date, note: str, actor: User) -> StageChange:
    if to not in next_stages(pilot):
        if to == PilotStage.SELF_GOVERNING:
            raise RuleError(_("A pilot becomes self-governing by certification."), "to")
        raise RuleError(_("The pilot cannot move to that stage from here."), "to")
    _not_future(on)
    if on < pilot.stage_since:
        raise RuleError(_("The date cannot be before the current stage began."), "on")
    if to == PilotStage.PAUSED and not note:
        raise RuleError(_("Please give the reason for the pause."), "note")
    return _move(pilot, PilotStage(to), on, note, actor)


def _move(pilot: Pilot, to: PilotStage, on: date, note: str, actor: User) -> StageChange:
    before = {"stage": pilot.stage, "stage_since": pilot.stage_since.isoformat()}
    change = StageChange(
        pilot_id=pilot.id,
        from_stage=pilot.stage,
        to_stage=to,
        on=on,
        note=note,
        changed_by_id=actor.id,
    )
    pilot.stage, pilot.stage_since = to, on
    db.session.add(change)
    db.session.flush()
    audit.record("pilot_stage", pilot, before=before)
    return change


@dataclass
class Plan:
    model: str
    service_scope: str
    fee_note: str
    organisation: str


ORGANISATIONS = ("committee", "branch", "group")


def update_plan(pilot: Pilot, plan: Plan) -> None:
    if plan.model not in PILOT_MODELS:
        raise RuleError(_("Choose the model the pilot will follow."), "model")
    if plan.organisation not in ORGANISATIONS:
        raise RuleError(_("Choose who organises it."), "organisation")
    before = audit.snapshot(pilot)
    pilot.model, pilot.service_scope = plan.model, plan.service_scope
    pilot.fee_note, pilot.organisation = plan.fee_note, plan.organisation
    db.session.flush()
    audit.record("pilot_plan", pilot, before=before)


def milestones(pilot: Pilot) -> list[Milestone]:
    return list(
        db.session.scalars(
            select(Milestone)
            .where(Milestone.pilot_id == pilot.id)
            .order_by(Milestone.due_on, Milestone.id)
        )
    )


def add_milestone(pilot: Pilot, title: str, due_on: date) -> Milestone:
    if due_on < pilot.selected_on:
        raise RuleError(_("A milestone cannot be due before the pilot began."), "due_on")
    milestone = Milestone(pilot_id=pilot.id, title=title, due_on=due_on)
    db.session.add(milestone)
    db.session.flush()
    audit.record("add_milestone", milestone)
    return milestone


def complete_milestone(
    milestone: Milestone, done_on: date, note: str, vote_id: int | None = None
) -> None:
    """Mark a milestone reached, citing the owners' vote that reached it if there was one."""
    from ..votes.service import decided_by

    vote = decided_by(milestone.pilot.compound.area_id, vote_id)
    if milestone.done_on is not None:
        raise RuleError(_("This milestone is reached already."))
    _not_future(done_on, "done_on")
    if done_on < milestone.pilot.selected_on:
        raise RuleError(_("The date cannot be before the pilot began."), "done_on")
    before = audit.snapshot(milestone)
    milestone.done_on, milestone.note = done_on, note
    milestone.vote_id = vote.id if vote else None
    db.session.flush()
    audit.record("complete_milestone", milestone, before=before)


def certifications(pilot: Pilot) -> list[Certification]:
    return list(
        db.session.scalars(
            select(Certification)
            .where(Certification.pilot_id == pilot.id)
            .order_by(Certification.id.desc())
        )
    )


def certify(pilot: Pilot | None, actor: User, on: date, override_reason: str = "") -> Certification:
    """Declare the pilot self-governing: on a passing checklist, or overriding it with a
    written reason that stays on record with the checklist as it stood."""
    if pilot is None:
        raise RuleError(_("Only a pilot can be certified."))
    if pilot.stage == PilotStage.SELF_GOVERNING:
        raise RuleError(_("This pilot is certified already."))
    if pilot.stage == PilotStage.PAUSED:
        raise RuleError(_("Resume the pilot before certifying it."))
    _not_future(on)
    subdistrict_id = pilot.compound.community.subdistrict_id
    settings = settings_for(subdistrict_id)
    facts = gather([pilot], window(settings.window_months))[0]
    checks = checklist(facts, settings)
    passed = passes(checks)
    if not passed and not override_reason:
        raise RuleError(
            _("The checklist does not pass. To certify anyway, write the reason."),
            "override_reason",
        )
    record = Certification(
        pilot_id=pilot.id,
        on=on,
        passed=passed,
        override_reason="" if passed else override_reason,
        checklist=[c.as_record() for c in checks],
        certified_by_id=actor.id,
    )
    db.session.add(record)
    _move(
        pilot,
        PilotStage.SELF_GOVERNING,
        max(on, pilot.stage_since),
        _("certified on the checklist") if passed else _("certified by override"),
        actor,
    )
    audit.record("certify_pilot", record)
    return record


LIMITS = {"window_months": (1, 12), "overdue_days": (1, 365), "min_publicity_days": (1, 90)}


def save_settings(subdistrict_id: int, **values: int) -> OversightSettings:
    for key, value in values.items():
        if key == "overdue_rule":
            continue
        low, limit = LIMITS.get(key, (0, 100))
        if not low <= value <= limit:
            raise RuleError(_("Enter a number from %(a)d to %(b)d.", a=low, b=limit), key)
    row = db.session.get(OversightSettings, subdistrict_id)
    before = audit.snapshot(row) if row else None
    if row is None:
        row = OversightSettings(subdistrict_id=subdistrict_id)
        db.session.add(row)
    for key, value in values.items():
        setattr(row, key, value)
    db.session.flush()
    audit.record("oversight_settings", row, before=before).entity_id = subdistrict_id
    return row

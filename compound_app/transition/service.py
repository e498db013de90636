"""The transition path of an area: from its property management committee (物管会) to an
elected owners' committee (业委会) or to a property company the owners chose.

Plain functions: they refuse with ``RuleError`` (nothing is written then), write their audit
rows and never commit. Each step is recorded once, in order, on a day that is neither in the
future nor before the step it follows; the first assembly may be called again only when its
vote did not pass. Who may take which step is ``access`` (``Action.TRANSITION`` for the
owners' side, ``Action.FILE_TRANSITION`` for the staff's filing and hand-over).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import ColumnElement, func, select

from .. import audit, clock
from ..auth.models import User
from ..committees import service as committees
from ..errors import RuleError
from ..extensions import db
from ..fees import ledger
from ..labels import label
from ..registry.models import Community, Compound, ManagementArea, Pilot
from ..votes.models import Matter, Vote, VoteStatus
from ..votes.service import covers_area
from . import bundle as bundles
from .models import (
    ElectedPosition,
    Part,
    PrepRole,
    Stage,
    Target,
    Transition,
    TransitionPerson,
    TransitionStep,
)

ORDER = list(Stage)
PAGE = 50
# The owners' vote that decides each target (Civil Code art. 278).
MATTER = {Target.OWNERS_COMMITTEE: Matter.COMMITTEE, Target.PROPERTY_COMPANY: Matter.MANAGER}
# An owners' committee: an odd number of members, 5 to 11 (北京市物业管理条例).
ELECTED_MIN, ELECTED_MAX = 5, 11
PREPARATION_MIN = 3
# 统一社会信用代码 (GB 32100-2015): 18 characters of this set, the last a check character.
CODE_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
CODE_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


# --- reading ----------------------------------------------------------------------------------


def transition_of(area: ManagementArea) -> Transition | None:
    return db.session.scalar(select(Transition).where(Transition.area_id == area.id))


def latest(transition: Transition, kind: Stage) -> TransitionStep | None:
    """The last step of that kind (the first assembly may have been called more than once)."""
    found = [step for step in transition.steps if step.kind == kind]
    return found[-1] if found else None


def people(step: TransitionStep | None) -> list[TransitionPerson]:
    return list(step.people) if step is not None else []


def next_stage(transition: Transition) -> Stage | None:
    """The step the path waits for; None once handed over."""
    at = ORDER.index(Stage(transition.stage))
    return ORDER[at + 1] if at + 1 < len(ORDER) else None


def rights_ended(transition: Transition, on: date | None = None) -> bool:
    """Whether the old committee's rights have ended (the day after its last day)."""
    on = on or clock.today()
    return transition.rights_end_on is not None and on > transition.rights_end_on


def assembly_votes(area: ManagementArea, target: str) -> list[Vote]:
    """The area's votes that can be its first owners' assembly: of the target's matter,
    newest first."""
    matter = MATTER[Target(target)]
    return list(
        db.session.scalars(
            select(Vote)
            .where(Vote.area_id == area.id, Vote.matter == matter)
            .order_by(Vote.id.desc())
            .limit(50)
        )
    )


def credit_code_problem(code: str) -> str | None:
    """Why a 统一社会信用代码 is not one (None when it is): 18 characters of digits and capital
    letters but I, O, S, V and Z, the last one the check character of the first 17."""
    if len(code) != 18:
        return _("A unified social credit code has 18 characters; this one has %(n)d.", n=len(code))
    if any(ch not in CODE_CHARS for ch in code):
        return _("A unified social credit code has digits and capital letters (not I, O, S, V, Z).")
    total = sum(CODE_CHARS.index(ch) * w for ch, w in zip(code, CODE_WEIGHTS, strict=False))
    if CODE_CHARS[(31 - total % 31) % 31] != code[-1]:
        return _("This unified social credit code does not check out: please look at it again.")
    return None


# --- the steps --------------------------------------------------------------------------------


def _in_order(transition: Transition, kind: Stage) -> None:
    """Refuse a step taken out of order, saying what comes first or that it is done."""
    at, wanted = ORDER.index(Stage(transition.stage)), ORDER.index(kind)
    if at >= wanted:
        raise RuleError(
            _(
                "“%(step)s” is recorded already: this transition is at “%(stage)s”.",
                step=label("transition_stage", kind),
                stage=label("transition_stage", transition.stage),
            )
        )
    if at + 1 < wanted:
        raise RuleError(
            _(
                "Out of order: record “%(step)s” first.",
                step=label("transition_stage", ORDER[at + 1]),
            )
        )


def _check_day(transition: Transition, on: date | None, field: str = "happened_on") -> date:
    if on is None:
        raise RuleError(_("Please enter a date."), field)
    if on > clock.today():
        raise RuleError(_("The date cannot be in the future."), field)
    if on < transition.stage_on:
        raise RuleError(
            _(
                "The date cannot be before the step it follows (%(date)s).",
                date=transition.stage_on.isoformat(),
            ),
            field,
        )
    return on


def _step(
    transition: Transition, kind: Stage, on: date, actor: User, note: str = "", **values: Any
) -> TransitionStep:
    before = audit.snapshot(transition)
    step = TransitionStep(
        transition_id=transition.id,
        kind=kind,
        happened_on=on,
        note=note,
        by_id=actor.id,
        **values,
    )
    db.session.add(step)
    transition.steps.append(step)
    transition.stage, transition.stage_on = kind, on
    db.session.flush()
    audit.record(f"transition_{kind}", step)
    audit.record("update", transition, before)
    return step


def start(area: ManagementArea, target: str, started_on: date | None, actor: User) -> Transition:
    """Start the area's transition towards an owners' committee or a property company."""
    if transition_of(area) is not None:
        raise RuleError(_("This area's transition has started already."))
    if target not in set(Target):
        raise RuleError(_("Choose to whom the committee hands over."), "target")
    if started_on is None:
        raise RuleError(_("Please enter a date."), "started_on")
    if started_on > clock.today():
        raise RuleError(_("The date cannot be in the future."), "started_on")
    transition = Transition(
        area_id=area.id,
        target=target,
        started_on=started_on,
        started_by_id=actor.id,
        stage=Stage.STARTED,
        stage_on=started_on,
    )
    db.session.add(transition)
    db.session.flush()
    audit.record("start_transition", transition)
    return transition


def _check_names(rows: Sequence[tuple[str, str]]) -> None:
    names = [name for name, _role in rows]
    twice = next((name for name in names if names.count(name) > 1), None)
    if twice is not None:
        raise RuleError(_("%(name)s is listed twice.", name=twice), "person_1")


def _add_people(step: TransitionStep, part: Part, rows: Sequence[tuple[str, str]]) -> None:
    for name, role in rows:
        person = TransitionPerson(step_id=step.id, part=part, name=name, role=role)
        db.session.add(person)
        step.people.append(person)
    db.session.flush()
    for person in step.people:
        audit.record("create", person)


def form_preparation(
    transition: Transition,
    on: date | None,
    members: Sequence[tuple[str, str]],
    actor: User,
    note: str = "",
) -> TransitionStep:
    """The preparation group (筹备组): its chair (the first) from the subdistrict office,
    owner representatives at least half of it."""
    _in_order(transition, Stage.PREPARED)
    if any(role not in set(PrepRole) for _name, role in members):
        raise RuleError(_("Choose whom each member represents."), "person_1")
    if len(members) < PREPARATION_MIN:
        raise RuleError(
            _("A preparation group has at least %(n)d members.", n=PREPARATION_MIN), "person_1"
        )
    _check_names(members)
    if members[0][1] != PrepRole.SUBDISTRICT:
        raise RuleError(
            _("The group's chair (the first name) represents the subdistrict office."), "role_1"
        )
    owners = sum(1 for _name, role in members if role == PrepRole.OWNER)
    if 2 * owners < len(members):
        raise RuleError(
            _(
                "%(owners)d of %(n)d members represent the owners: at least half must.",
                owners=owners,
                n=len(members),
            ),
            "person_1",
        )
    day = _check_day(transition, on)
    step = _step(transition, Stage.PREPARED, day, actor, note)
    _add_people(step, Part.PREPARATION, members)
    return step


def hold_assembly(
    transition: Transition, vote: Vote | None, on: date | None, actor: User, note: str = ""
) -> TransitionStep:
    """The first owners' assembly (首次业主大会), held as an owners' vote of the matter the
    target needs. Called again only when the vote of the last one did not pass."""
    earlier = latest(transition, Stage.ASSEMBLY)
    if transition.stage == Stage.ASSEMBLY and earlier is not None and earlier.vote is not None:
        if earlier.vote.status != VoteStatus.CLOSED or earlier.vote.passed:
            raise RuleError(
                _(
                    "The first assembly is recorded already; another is called only when "
                    "its vote did not pass."
                )
            )
    else:
        _in_order(transition, Stage.ASSEMBLY)
    matter = MATTER[Target(transition.target)]
    if vote is None or vote.area_id != transition.area_id:
        raise RuleError(_("Choose one of this area's votes."), "vote")
    if vote.matter != matter:
        raise RuleError(
            _(
                "The assembly decides “%(matter)s”: choose a vote of that matter.",
                matter=label("matter", matter),
            ),
            "vote",
        )
    if earlier is not None and earlier.vote_id == vote.id:
        raise RuleError(_("That vote did not pass: choose the new assembly's vote."), "vote")
    if not covers_area(vote):
        raise RuleError(
            _("The first assembly is a vote of every owner of the area, not of part of it."),
            "vote",
        )
    prepared = latest(transition, Stage.PREPARED)
    if prepared is not None and vote.announced_on and vote.announced_on < prepared.happened_on:
        raise RuleError(
            _("That vote was announced before the preparation group was formed."), "vote"
        )
    day = _check_day(transition, on)
    return _step(transition, Stage.ASSEMBLY, day, actor, note, vote_id=vote.id)


def _passed_assembly(transition: Transition) -> Vote:
    """The assembly's vote, closed and passed: what the owners' choice rests on."""
    _in_order(transition, Stage.ELECTED)
    step = latest(transition, Stage.ASSEMBLY)
    vote = step.vote if step is not None else None
    if vote is None:
        raise RuleError(_("Record the first owners' assembly first."))
    if vote.status != VoteStatus.CLOSED:
        raise RuleError(
            _(
                "The assembly's vote “%(title)s” is not closed yet: close it first.",
                title=vote.title,
            )
        )
    if not vote.passed:
        raise RuleError(
            _(
                "The assembly's vote “%(title)s” did not pass: call another assembly.",
                title=vote.title,
            )
        )
    return vote


def _chosen_on(transition: Transition, vote: Vote, on: date | None) -> date:
    day = _check_day(transition, on)
    closed = clock.local_date(vote.closed_at) if vote.closed_at else transition.stage_on
    if day < closed:
        raise RuleError(
            _("The date cannot be before the vote closed (%(date)s).", date=closed.isoformat()),
            "happened_on",
        )
    return day


def record_elected(
    transition: Transition,
    on: date | None,
    members: Sequence[tuple[str, str]],
    actor: User,
    note: str = "",
) -> TransitionStep:
    """The owners' committee the assembly elected: 5 to 11 members, an odd number, one chair."""
    if transition.target != Target.OWNERS_COMMITTEE:
        raise RuleError(_("The owners chose a property company: record the company instead."))
    vote = _passed_assembly(transition)
    if any(role not in set(ElectedPosition) for _name, role in members):
        raise RuleError(_("Choose each member's position."), "person_1")
    n = len(members)
    if not ELECTED_MIN <= n <= ELECTED_MAX or n % 2 == 0:
        raise RuleError(
            _(
                "%(n)d members: an owners' committee has an odd number of members, "
                "from %(low)d to %(high)d.",
                n=n,
                low=ELECTED_MIN,
                high=ELECTED_MAX,
            ),
            "person_1",
        )
    _check_names(members)
    chairs = sum(1 for _name, role in members if role == ElectedPosition.CHAIR)
    if chairs != 1:
        raise RuleError(_("The committee has one chair: %(n)d are marked.", n=chairs), "person_1")
    day = _chosen_on(transition, vote, on)
    step = _step(transition, Stage.ELECTED, day, actor, note)
    _add_people(step, Part.ELECTED, members)
    return step


def record_company(
    transition: Transition,
    on: date | None,
    name: str,
    credit_code: str,
    contract_from: date | None,
    contract_to: date | None,
    actor: User,
    note: str = "",
) -> TransitionStep:
    """The property company the owners chose, its credit code and its contract."""
    if transition.target != Target.PROPERTY_COMPANY:
        raise RuleError(_("The owners elect a committee: record its members instead."))
    vote = _passed_assembly(transition)
    if not name:
        raise RuleError(_("This field is required."), "company_name")
    code = credit_code.upper()
    problem = credit_code_problem(code)
    if problem:
        raise RuleError(problem, "credit_code")
    if contract_from is None:
        raise RuleError(_("Please enter a date."), "contract_from")
    if contract_to is None:
        raise RuleError(_("Please enter a date."), "contract_to")
    if contract_to <= contract_from:
        raise RuleError(_("The contract must end after it starts."), "contract_to")
    day = _chosen_on(transition, vote, on)
    return _step(
        transition,
        Stage.ELECTED,
        day,
        actor,
        note,
        company_name=name,
        credit_code=code,
        contract_from=contract_from,
        contract_to=contract_to,
    )


def record_filing(
    transition: Transition, on: date | None, filing_no: str, actor: User, note: str = ""
) -> TransitionStep:
    """The filing with the subdistrict (备案) of what the owners chose (staff)."""
    _in_order(transition, Stage.FILED)
    if not filing_no:
        raise RuleError(_("This field is required."), "filing_no")
    day = _check_day(transition, on)
    return _step(transition, Stage.FILED, day, actor, note, filing_no=filing_no)


def new_body(transition: Transition) -> str:
    """Whom the hand-over goes to, as the elected result names it."""
    elected = latest(transition, Stage.ELECTED)
    if elected is not None and elected.company_name:
        return elected.company_name
    return _("%(area)s owners' committee", area=transition.area.name)


# --- the hand-over -------------------------------------------------------------------------


def signatures(handed_to: str, signed_old: str, signed_new: str) -> list[tuple[str, str]]:
    """Who signs the frozen bundle's PDF for each party (printed in Chinese, as the bundle)."""
    return [("移交方（物业管理委员会）", signed_old), (f"接收方（{handed_to}）", signed_new)]


def _end_seats(area: ManagementArea, last_day: date) -> None:
    """The property committee's seats end on ``last_day``: its members keep their committee
    access to the area until that day is over, and lose it the day after."""
    committee = committees.committee_for_area(area.id)
    if committee is None:
        return
    running = [m for m in committee.members if m.term_end > last_day]
    for member in running:
        if member.term_start > last_day:
            raise RuleError(
                _(
                    "%(name)s's seat on the property committee begins after its rights end: "
                    "end or remove it on the committee's page first.",
                    name=member.user.name,
                ),
                "rights_end_on",
            )
    for member in running:
        committees.end_membership(member, last_day)


def hand_over(
    transition: Transition,
    on: date | None,
    handed_to: str,
    rights_end_on: date | None,
    signed_old: str,
    signed_new: str,
    actor: User,
    note: str = "",
) -> TransitionStep:
    """The property committee hands everything over (staff confirm it): refused while money
    is open (``bundle.open_money``); the bundle is built as of the hand-over day and frozen
    with the step, with the SHA-256 of its PDF signed by both parties; the committee's seats
    end on the day its rights end."""
    _in_order(transition, Stage.HANDED_OVER)
    if not handed_to:
        raise RuleError(_("This field is required."), "handed_to")
    if not signed_old:
        raise RuleError(_("Please enter a name."), "signed_old")
    if not signed_new:
        raise RuleError(_("Please enter a name."), "signed_new")
    day = _check_day(transition, on)
    if rights_end_on is None:
        raise RuleError(_("Please enter a date."), "rights_end_on")
    if rights_end_on < day:
        raise RuleError(
            _("The committee's rights end on the hand-over day or later."), "rights_end_on"
        )
    if day != clock.today():
        # Cash in hand, repairs and works are read as they stand: the bundle is the books
        # of the day the hand-over happens, recorded that day.
        raise RuleError(_("Record the hand-over on the day it happens, today."), "happened_on")
    area = transition.area
    ledger.ensure_current_bills(area.id)  # this period's bills are owed at the hand-over
    reasons = bundles.open_money(area)
    if reasons:
        raise RuleError(_("A hand-over with open money: %(reasons)s", reasons=" ".join(reasons)))
    _end_seats(area, rights_end_on)
    frozen = bundles.build(area, day)
    pdf = bundles.to_pdf(frozen, signatures(handed_to, signed_old, signed_new))
    transition.rights_end_on = rights_end_on
    return _step(
        transition,
        Stage.HANDED_OVER,
        day,
        actor,
        note,
        handed_to=handed_to,
        rights_end_on=rights_end_on,
        signed_old=signed_old,
        signed_new=signed_new,
        bundle=bundles.as_record(frozen),
        pdf_sha256=hashlib.sha256(pdf).hexdigest(),
    )


def frozen_pdf(step: TransitionStep) -> bytes:
    """The hand-over's bundle as it was frozen, on paper with both parties' signatories
    (the same bytes whose SHA-256 the step keeps)."""
    assert step.bundle is not None
    signed = signatures(step.handed_to, step.signed_old, step.signed_new)
    return bundles.to_pdf(bundles.from_record(step.bundle), signed)


def frozen_xlsx(step: TransitionStep) -> bytes:
    assert step.bundle is not None
    return bundles.to_xlsx(bundles.from_record(step.bundle))


# --- staff: where each pilot stands ---------------------------------------------------------


@dataclass
class PilotLine:
    pilot: Pilot
    compound: Compound
    community: Community
    transition: Transition | None


@dataclass
class Filters:
    stage: str = ""  # a stage, "none" (not started) or "" (all)
    page: int = 1


def pilot_lines(where: ColumnElement[bool], wanted: Filters) -> tuple[list[PilotLine], int]:
    """A page of the pilots ``where`` selects, with their area's transition (one query, and
    one to count them)."""
    stmt = (
        select(Pilot, Compound, Community, Transition)
        .join(Compound, Compound.id == Pilot.compound_id)
        .join(Community, Community.id == Compound.community_id)
        .outerjoin(Transition, Transition.area_id == Compound.area_id)
        .where(where)
    )
    if wanted.stage == "none":
        stmt = stmt.where(Transition.id.is_(None))
    elif wanted.stage in set(Stage):
        stmt = stmt.where(Transition.stage == wanted.stage)
    total = db.session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = db.session.execute(
        stmt.order_by(Community.name, Compound.name, Pilot.id)
        .limit(PAGE)
        .offset((max(wanted.page, 1) - 1) * PAGE)
    ).all()
    return [PilotLine(*row) for row in rows], total

"""Demo transition: one self-governing pilot of 迎宾南社区 on its way from its property
committee (物管会) to an elected owners' committee (业委会). The preparation group was
formed three months ago, with the subdistrict's admin as its chair and the community's
staff beside three owners; the first owners' assembly voted on paper and elected five of
the compound's owners; staff filed the result. The hand-over waits for staff to confirm it:
its bundle is previewable and no money is open. Written through the transition and vote
services, back in time."""

from __future__ import annotations

import io
import random
from datetime import UTC, datetime, time, timedelta
from typing import Any

from sqlalchemy import select
from werkzeug.datastructures import FileStorage

from .. import clock
from ..auth.models import Role, RoleGrant, User
from ..committees import service as committees
from ..committees.models import Position
from ..errors import RuleError
from ..extensions import db
from ..fees import cash, expenses
from ..reconcile import service as reconcile
from ..reconcile.models import Explanation
from ..registry.models import (
    Building,
    Community,
    Compound,
    Household,
    Occupant,
    Pilot,
    PilotStage,
    Relation,
    Unit,
)
from ..transition import service as transition
from ..transition.bundle import open_money
from ..transition.models import ElectedPosition, PrepRole, Target
from ..treasury import service as treasury
from ..votes import procedure
from ..votes import service as votes
from . import record_tellers, rights_of

COMMUNITY = "迎宾南社区"
SKIPPED = "新国土小区"  # the demo chair's own compound keeps its property committee


def _candidates() -> list[Compound]:
    """The community's self-governing pilots but the demo chair's, oldest first."""
    return list(
        db.session.scalars(
            select(Compound)
            .join(Pilot, Pilot.compound_id == Compound.id)
            .join(Community, Community.id == Compound.community_id)
            .where(
                Community.name == COMMUNITY,
                Pilot.stage == PilotStage.SELF_GOVERNING,
                Compound.name != SKIPPED,
            )
            .order_by(Compound.id)
        )
    )


def _owners(compound: Compound) -> list[str]:
    """The compound's owners' names, each once, in the order of their homes."""
    names = db.session.scalars(
        select(Occupant.name)
        .join(Household, Household.id == Occupant.household_id)
        .join(Unit, Unit.id == Household.unit_id)
        .join(Building, Building.id == Unit.building_id)
        .where(Building.compound_id == compound.id, Occupant.relation == Relation.OWNER)
        .order_by(Household.id)
    )
    return list(dict.fromkeys(name for name in names if name))


def _at(days_ago: int) -> datetime:
    day = clock.today() - timedelta(days=days_ago)
    return datetime.combine(day, time(9, 30), tzinfo=clock.LOCAL_TZ).astimezone(UTC)


def _ballot(rng: random.Random) -> FileStorage:
    """A photo of a signed paper ballot (a sheet with a box ticked)."""
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (240, 320), (248, 246, 238))
    draw = ImageDraw.Draw(image)
    top = 60 + rng.randrange(0, 3) * 50
    draw.rectangle((30, top, 60, top + 30), outline=(20, 20, 20), width=3)
    draw.line((34, top + 15, 45, top + 26, 58, top + 4), fill=(180, 20, 20), width=4)
    buffer = io.BytesIO()
    image.save(buffer, "JPEG")
    buffer.seek(0)
    return FileStorage(buffer, "ballot.jpg")


def _first(role: Role, where: Any) -> User | None:
    return db.session.scalar(
        select(User)
        .join(RoleGrant, RoleGrant.user_id == User.id)
        .where(RoleGrant.role == role, where)
        .order_by(RoleGrant.id)
    )


def _settle(area: Any, members: list[User]) -> None:
    """Before the hand-over, the committee brings every open sum into the books: collectors
    hand over their cash and the treasurer counts it, the second approvals are given, the
    statement lines are matched (or explained) and the residents' transfers checked."""
    keeper = cash.keepers(area.id)[0]
    for n, position in enumerate(cash.positions(area.id)):
        if position.held > 0 and position.user.id != keeper.id:
            cash.hand_over(
                area,
                position.user,
                amount_fen=position.held,
                handed_on=clock.today(),
                request_key=f"demo-transition-cash-{area.id}-{n}",
            )
    db.session.flush()
    for handover in cash.waiting(area.id):
        counter = next(u for u in cash.keepers(area.id) if cash.may_confirm(handover, u))
        cash.confirm(handover, counter, received_fen=None, note="", as_handed=True)
    for movement in treasury.awaiting_approval(area.id):
        second = next(u for u in members if treasury.may_approve(movement, u))
        treasury.approve_movement(movement, second)
    for expense in expenses.awaiting_approval(area.id):
        second = next(u for u in members if expenses.may_approve(expense, u, staff=False))
        expenses.approve_expense(expense, second, staff=False)
    for account in reconcile.reconciled_accounts(area.id):
        for state in reconcile.account_state(account).lines:
            target = (
                reconcile.find_target(area.id, state.proposal.value) if state.proposal else None
            )
            if target is not None:
                reconcile.confirm(state.line, target, keeper)
            else:
                reconcile.explain(state.line, keeper, Explanation.OTHER, "经核对为往来款，已说明")
    for claim in reconcile.waiting_claims(area.id):
        reconcile.reject_claim(claim, keeper, "账上未查到这笔转账，已电话告知住户")
    db.session.flush()


def transition_story(seed: int = 2026) -> int | None:
    """Take one pilot's area up to its filing; returns the area's id (None if none fits)."""
    rng = random.Random(seed)
    for compound in _candidates():
        area = compound.area
        committee = committees.committee_for_area(area.id)
        seats = committee.members if committee is not None else []
        chair = next(
            (m.user for m in seats if m.position == Position.CHAIR and committees.is_current(m)),
            None,
        )
        owners = _owners(compound)
        if chair is None or len(owners) < 8:
            continue
        community = compound.community
        admin = _first(Role.SUBDISTRICT_ADMIN, RoleGrant.subdistrict_id == community.subdistrict_id)
        staff = _first(Role.COMMUNITY_STAFF, RoleGrant.community_id == community.id)
        if admin is None or staff is None:
            continue
        with clock.held_at(_at(100)):
            found = transition.start(area, Target.OWNERS_COMMITTEE, clock.today(), chair)
        with clock.held_at(_at(90)):
            group = [
                (admin.name, PrepRole.SUBDISTRICT),
                (staff.name, PrepRole.RESIDENTS_COMMITTEE),
                *((name, PrepRole.OWNER) for name in owners[5:8]),
            ]
            transition.form_preparation(found, clock.today(), group, chair, "街道牵头成立筹备组")
        with clock.held_at(_at(80)):  # announced 18 days ahead, open for two weeks
            opens_on, ends_on = clock.today() + timedelta(days=18), clock.today() + timedelta(32)
            vote = votes.create_vote(
                votes.resolve_scope("area", area.id),
                "committee",
                "首次业主大会：选举第一届业主委员会",
                "候选人：" + "、".join(owners[:5]) + "。请对候选人名单表决。",
                ends_on,
                chair,
            )
            procedure.announce(vote, opens_on, ends_on, chair)
        with clock.held_at(_at(62)):
            votes.open_vote(vote, chair)
            record_tellers(vote, chair)
            transition.hold_assembly(found, vote, clock.today(), chair)
            p = rights_of(chair)
            for elector in vote.electors:
                if rng.random() < 0.85:
                    choice = rng.choices(["yes", "no", "abstain"], weights=[90, 6, 4])[0]
                    home = elector.homes[0].household_id
                    try:
                        votes.enter_paper(vote, home, choice, _ballot(rng), chair, p)
                    except RuleError:
                        continue
        with clock.held_at(_at(47)):
            votes.close_vote(vote, chair)
        if not vote.passed:
            db.session.rollback()
            continue
        with clock.held_at(_at(45)):
            positions = [ElectedPosition.CHAIR, ElectedPosition.VICE_CHAIR] + [
                ElectedPosition.MEMBER
            ] * 3
            elected = list(zip(owners[:5], positions, strict=True))
            transition.record_elected(found, clock.today(), elected, chair)
        with clock.held_at(_at(30)):
            number = f"孝新业备〔{clock.today().year}〕{area.id}号"
            transition.record_filing(found, clock.today(), number, staff)
        with clock.held_at(_at(1)):
            _settle(area, [m.user for m in seats if committees.is_current(m)])
        if open_money(area):
            db.session.rollback()
            continue
        db.session.commit()
        return area.id
    return None

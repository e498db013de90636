"""Paper ballots: who may enter one for whom, the committee's void of a mistaken one, and
the true reason an owner who linked their account after the vote opened is given.

Each attack a review found is replayed and refused; next to it, the legitimate path
still works.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from compound_app import access, clock
from compound_app.audit import AuditLog
from compound_app.auth.models import Role
from compound_app.auth.service import grant
from compound_app.errors import RuleError
from compound_app.extensions import db
from compound_app.registry import roster
from compound_app.registry.models import Relation
from compound_app.votes import service
from compound_app.votes.models import Ballot, BallotVoid, Vote
from tests.factories import World, close_counted, first_unit, user
from tests.votes.test_votes import Upload, _jpeg, _link_with_code, _vote


@pytest.fixture(autouse=True)
def request_context(app):  # type: ignore[no-untyped-def]
    """Refusals speak the user's language, as they would on a page."""
    with app.test_request_context():
        yield


def _paper(client: Any, vote: Vote, household_id: int, choice: str = "yes") -> Any:
    return client.post(
        f"/votes/{vote.id}/paper",
        data={"household_id": household_id, "choice": choice, "photo": (_jpeg(), "b.jpg")},
        content_type="multipart/form-data",
    )


def _ballots() -> int:
    return db.session.scalar(select(func.count(Ballot.id))) or 0


def _p(world: World, key: str) -> access.Principal:
    return access.load_principal(world.users[key])


# --- H1: a representative cannot pre-empt an owner who votes online -------------------------


def test_a_representative_cannot_enter_a_paper_ballot_for_an_owner_with_an_account(
    world: World, login_as: Any
) -> None:
    """The attack: before the owner, who has their own account, votes online, their
    representative enters a paper ballot for them, and the owner is locked out."""
    unit = first_unit(world.branch)
    owners_home = unit.households[0]  # 吴振华, who linked his account himself
    vote = _vote(world, "unit", unit)
    rep = login_as(world.users["rep"])
    response = _paper(rep, vote, owners_home.id, "no")
    assert response.status_code == 422
    assert "如本人希望用纸质表决票" in response.get_data(as_text=True)
    assert _ballots() == 0
    # The owner votes online as ever, and it counts.
    owner = login_as(world.users["resident"])
    assert owner.post(f"/votes/{vote.id}/ballot", data={"choice": "yes"}).status_code == 303
    assert service.tally(vote).heads == {"yes": 1, "no": 0, "abstain": 0}
    # The representative's own round is not hindered: the neighbour without an account.
    assert _paper(rep, vote, unit.households[1].id).status_code == 303
    assert service.tally(vote).heads == {"yes": 2, "no": 0, "abstain": 0}


def test_the_committee_enters_a_paper_ballot_for_an_owner_with_an_account(
    world: World, login_as: Any
) -> None:
    """An elderly owner who has an account brings a signed ballot to the committee."""
    unit = first_unit(world.branch)
    vote = _vote(world, "unit", unit)
    chair = login_as(world.users["committee"])
    assert _paper(chair, vote, unit.households[0].id, "no").status_code == 303
    ballot = db.session.scalars(select(Ballot)).one()
    assert ballot.channel == "paper" and ballot.entered_by_id == world.users["committee"].id
    assert service.tally(vote).heads["no"] == 1


def test_paper_homes_offer_a_representative_only_what_they_may_enter(world: World) -> None:
    unit = first_unit(world.branch)
    no_owner = unit.households[1]
    no_owner.occupants[0].relation = Relation.TENANT
    db.session.commit()
    vote = _vote(world, "compound", world.branch)
    lines = service.homes(vote)
    rep_homes = {line.household_id for line in service.paper_homes(lines, False, _p(world, "rep"))}
    # Neither the owner with an account nor the home with no owner recorded.
    assert rep_homes == set()
    everyone = {line.household_id for line in service.paper_homes(lines, True, _p(world, "rep"))}
    assert {unit.households[0].id, no_owner.id} <= everyone
    assert len(everyone) == len(lines)


def _owner_in_two_stairwells(world: World) -> tuple[Any, Any]:
    """吴振华 owns a second home, in the stairwell next door, linked with its code."""
    home = first_unit(world.branch).households[0]
    other = world.branch.buildings[0].units[1].households[0]
    owner = world.users["resident"]
    other.occupants[0].relation = Relation.FAMILY  # the former owner's record
    roster.add_occupant(other, owner.name, owner.mobile, Relation.OWNER)
    _link_with_code(other, owner)
    return home, other


def test_a_representative_needs_every_home_of_an_elector_to_enter_their_ballot(
    world: World,
) -> None:
    home, other = _owner_in_two_stairwells(world)
    vote = _vote(world, "compound", world.branch)
    elector = service.elector_for_user(vote, world.users["resident"])
    assert {h.household_id for h in elector.homes} == {home.id, other.id}
    rep = world.users["rep"]  # represents the first stairwell only
    with pytest.raises(RuleError, match="不在您负责的单元"):
        service.enter_paper(vote, home.id, "yes", Upload(), rep, _p(world, "rep"))
    # Representing both stairwells is not enough either: the owner has an account.
    grant(rep, Role.UNIT_REP, other.unit_id)
    db.session.commit()
    with pytest.raises(RuleError, match="网上表决"):
        service.enter_paper(vote, home.id, "yes", Upload(), rep, _p(world, "rep"))
    assert _ballots() == 0
    # The committee enters it, and it counts for both homes.
    chair = world.users["committee"]
    service.enter_paper(vote, other.id, "yes", Upload(), chair, _p(world, "committee"))
    db.session.commit()
    assert service.tally(vote).area["yes"] == home.area_dm2 + other.area_dm2


# --- H1: the committee voids a paper ballot entered by mistake ------------------------------


def test_the_committee_voids_a_wrong_paper_ballot_and_the_owner_votes_online(
    world: World,
) -> None:
    unit = first_unit(world.branch)
    vote = _vote(world, "unit", unit)
    chair, owner = world.users["committee"], world.users["resident"]
    wrong = service.enter_paper(
        vote, unit.households[0].id, "no", Upload(), chair, _p(world, "committee")
    )
    db.session.commit()
    with pytest.raises(RuleError, match="纸质表决票已计入"):
        service.cast_online(vote, owner, "yes")
    db.session.rollback()
    # Whoever entered it cannot void it alone; another who runs the vote can.
    with pytest.raises(RuleError, match="不能独自作废"):
        service.void_paper(wrong, "录错了户", chair, _p(world, "committee"))
    db.session.rollback()
    staff = world.users["staff"]
    void = service.void_paper(wrong, " 录错了户 ", staff, _p(world, "staff"))
    db.session.commit()
    assert void.reason == "录错了户" and void.voided_by_id == staff.id
    row = db.session.scalar(
        select(AuditLog).where(AuditLog.action == "void_ballot", AuditLog.entity_id == void.id)
    )
    assert row.user_id == staff.id and row.before["id"] == wrong.id and row.before["choice"] == "no"
    assert service.tally(vote).voted_heads == 0  # as if never cast
    service.cast_online(vote, owner, "yes")
    db.session.commit()
    assert service.tally(vote).heads == {"yes": 1, "no": 0, "abstain": 0}
    assert _ballots() == 2  # the void ballot stays on record
    # A voided ballot stays void; a second paper ballot after the online one is refused.
    with pytest.raises(RuleError, match="已经作废"):
        service.void_paper(wrong, "再次作废", staff, _p(world, "staff"))
    with pytest.raises(RuleError):
        service.enter_paper(
            vote, unit.households[0].id, "no", Upload(), chair, _p(world, "committee")
        )


def test_a_voided_paper_ballot_can_be_entered_again_correctly(world: World) -> None:
    unit = first_unit(world.branch)
    vote = _vote(world, "unit", unit)
    rep, chair = world.users["rep"], world.users["committee"]
    home = unit.households[1]  # its owner has no account: the representative's round
    wrong = service.enter_paper(vote, home.id, "no", Upload(), rep, _p(world, "rep"))
    db.session.commit()
    service.void_paper(wrong, "票上勾选的是同意", chair, _p(world, "committee"))
    service.enter_paper(vote, home.id, "yes", Upload(), rep, _p(world, "rep"))
    db.session.commit()
    assert service.tally(vote).heads == {"yes": 1, "no": 0, "abstain": 0}
    assert [line.choice for line in service.homes(vote) if line.household_id == home.id] == ["yes"]


def test_only_the_committee_voids_and_only_paper_ballots_of_an_open_vote(world: World) -> None:
    unit = first_unit(world.branch)
    vote = _vote(world, "unit", unit)
    rep, chair = world.users["rep"], world.users["committee"]
    paper = service.enter_paper(vote, unit.households[1].id, "no", Upload(), rep, _p(world, "rep"))
    online = service.cast_online(vote, world.users["resident"], "yes")
    db.session.commit()
    with pytest.raises(RuleError, match="只有物管会"):
        service.void_paper(paper, "我录错了", rep, _p(world, "rep"))
    with pytest.raises(RuleError, match="网上表决由业主本人更改"):
        service.void_paper(online, "不算", chair, _p(world, "committee"))
    with pytest.raises(RuleError, match="作废原因"):
        service.void_paper(paper, "   ", chair, _p(world, "committee"))
    close_counted(vote, chair)
    db.session.commit()
    with pytest.raises(RuleError, match="表决进行中"):
        service.void_paper(paper, "录错了", chair, _p(world, "committee"))
    assert db.session.scalar(select(func.count(BallotVoid.id))) == 0
    assert service.tally(vote).heads == {"yes": 1, "no": 1, "abstain": 0}


# --- H3: a home with no owner recorded --------------------------------------------------------


def test_a_home_without_an_owner_gets_its_paper_ballot_from_the_committee_only(
    world: World, login_as: Any
) -> None:
    unit = first_unit(world.branch)
    home = unit.households[1]
    home.occupants[0].relation = Relation.TENANT  # nobody recorded as owner
    db.session.commit()
    vote = _vote(world, "unit", unit)
    response = _paper(login_as(world.users["rep"]), vote, home.id)
    assert response.status_code == 422
    assert "没有登记业主" in response.get_data(as_text=True)
    assert _ballots() == 0
    assert _paper(login_as(world.users["committee"]), vote, home.id).status_code == 303
    assert service.tally(vote).voted_heads == 1


# --- M4: the owner who linked their account after the vote opened ------------------------------


def _activate_owner_of(world: World, app: Any, home: Any) -> tuple[Any, Any]:
    """The home's owner, recorded without an account, activates one with its code: their
    account, and their browser, signed in."""
    from compound_app.auth import service as auth
    from compound_app.auth.models import User

    record = home.occupants[0]
    code = auth.issue_invite(created_by=world.users["staff"], household_id=home.id)
    db.session.commit()
    client = app.test_client()
    response = client.post(
        "/auth/activate",
        data={
            "code": code,
            "mobile": record.mobile,
            "name": "钱桂兰",
            "new_password": "a brand new secret 7",
            "confirm": "a brand new secret 7",
        },
    )
    assert response.status_code == 303, response.get_data(as_text=True)
    db.session.expire_all()
    return client, db.session.scalar(select(User).where(User.mobile == record.mobile))


def test_an_owner_who_linked_after_the_vote_opened_is_told_so_and_votes_on_paper(
    world: World, app: Any, login_as: Any
) -> None:
    unit = first_unit(world.branch)
    home = unit.households[1]
    vote = _vote(world, "unit", unit)
    browser, owner = _activate_owner_of(world, app, home)
    assert home.occupants[0].user_id == owner.id  # linked, after the vote opened
    with pytest.raises(RuleError) as refused:
        service.cast_online(vote, owner, "yes")
    message = refused.value.message
    assert f"{clock.local(vote.opened_at):%Y-%m-%d}" in message and "纸质表决票" in message
    assert "只有业主" not in message  # not the tenants' answer
    page = browser.get(f"/votes/{vote.id}").get_data(as_text=True)
    assert "还没有把账号关联到您家" in page
    # And the paper ballot it points to is there: their representative enters it.
    assert _paper(login_as(world.users["rep"]), vote, home.id).status_code == 303
    assert service.tally(vote).voted_heads == 1


def test_someone_recorded_as_owner_after_the_vote_opened_is_told_so(world: World) -> None:
    unit = first_unit(world.branch)
    home = unit.households[1]
    heir = user("继承人")
    roster.add_occupant(home, heir.name, heir.mobile, Relation.FAMILY)
    _link_with_code(home, heir)
    vote = _vote(world, "unit", unit)
    record = next(o for o in home.occupants if o.user_id == heir.id)
    record.relation = Relation.OWNER  # the committee corrects the roster, after opening
    home.occupants[0].relation = Relation.FAMILY
    db.session.commit()
    message = service.why_not_elector(vote, heir, access.load_principal(heir))
    assert "当时名册上您还不是这户的业主" in message
    # A family member is still told the plain rule.
    record.relation = Relation.FAMILY
    db.session.commit()
    assert "只有业主可以表决" in service.why_not_elector(vote, heir, access.load_principal(heir))


def test_the_committee_voids_a_paper_ballot_from_the_vote_page(world: World, login_as: Any) -> None:
    unit = first_unit(world.branch)
    vote = _vote(world, "unit", unit)
    home = unit.households[1]  # its owner has no account: the representative's round
    wrong = service.enter_paper(vote, home.id, "no", Upload(), world.users["rep"], _p(world, "rep"))
    db.session.commit()
    void_url = f"/votes/ballots/{wrong.id}/void"
    chair, rep = login_as(world.users["committee"]), login_as(world.users["rep"])
    assert void_url in chair.get(f"/votes/{vote.id}").get_data(as_text=True)
    assert void_url not in rep.get(f"/votes/{vote.id}").get_data(as_text=True)
    # Ballots are out of sight of those who do not run the vote: the same 404 as for no ballot.
    assert rep.post(void_url, data={"reason": "不对"}).status_code == 404
    assert (
        login_as(world.users["other_staff"]).post(void_url, data={"reason": "x"}).status_code == 404
    )
    # A reason is needed; without one nothing changes and the page says why.
    refused = chair.post(void_url, data={"reason": "  "}, follow_redirects=True)
    assert "此项必须填写" in refused.get_data(as_text=True)
    assert db.session.scalar(select(func.count(BallotVoid.id))) == 0
    done = chair.post(void_url, data={"reason": "录错了户"}, follow_redirects=True)
    assert "不再计入" in done.get_data(as_text=True)
    assert service.tally(vote).voted_heads == 0
    # Sent twice: the second is refused, the ballot is void once.
    again = chair.post(void_url, data={"reason": "录错了户"}, follow_redirects=True)
    assert "已经作废" in again.get_data(as_text=True)
    assert db.session.scalar(select(func.count(BallotVoid.id))) == 1


def test_no_paper_ballot_is_voided_after_the_end_date(world: World) -> None:
    unit = first_unit(world.branch)
    vote = _vote(world, "unit", unit)
    chair = world.users["committee"]
    ballot = service.enter_paper(
        vote, unit.households[0].id, "no", Upload(), chair, _p(world, "committee")
    )
    db.session.commit()
    after = clock.start_of_day(vote.closes_on + timedelta(days=1)) + timedelta(hours=9)
    with clock.held_at(after), pytest.raises(RuleError):
        service.void_paper(ballot, "录错了户", world.users["staff"], _p(world, "staff"))
    db.session.rollback()
    assert db.session.scalar(select(func.count(BallotVoid.id))) == 0

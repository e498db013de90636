"""Owners' votes under Civil Code art. 278, and consultations: the thresholds at their exact
edges, who is an elector, ballots online and on paper, the refusals, the frozen result."""

from __future__ import annotations

import io
from datetime import timedelta
from fractions import Fraction

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image
from sqlalchemy import func, select, text

from compound_app import access, clock
from compound_app.auth.models import Role
from compound_app.auth.service import grant
from compound_app.errors import RuleError
from compound_app.extensions import db
from compound_app.registry import roster
from compound_app.registry.models import Occupant, Relation
from compound_app.votes import service
from compound_app.votes.models import Answer, Ballot, BallotChangeRefused, Elector, Vote
from compound_app.votes.tally import Cast, count
from tests.factories import (
    World,
    announced_ago,
    close_counted,
    compound,
    first_household,
    first_unit,
    open_announced,
    passed_area_vote,
    record_tellers,
    user,
)


@pytest.fixture(autouse=True)
def request_context(app):  # type: ignore[no-untyped-def]
    """Refusals speak the user's language, as they would on a page."""
    with app.test_request_context():
        yield


# --- the thresholds, exactly ------------------------------------------------------------------

CASES = [
    # (name, [(area, choice)], special, participation_met, approval_met)
    (
        "two thirds of area but not of owners",
        [(700, "yes"), (100, None), (100, None), (100, None)],
        False,
        False,
        True,
    ),
    (
        "two thirds of owners but not of area",
        [(100, "yes"), (100, "yes"), (801, None)],
        False,
        False,
        True,
    ),
    ("exactly two thirds of both", [(100, "yes"), (100, "yes"), (100, None)], False, True, True),
    (
        "a hair under two thirds of area",
        [(3333, "yes"), (3333, "yes"), (3334, None)],
        False,
        False,
        True,
    ),
    ("exactly half is not more than half", [(100, "yes"), (100, "no")], False, True, False),
    ("more than half of both", [(100, "yes"), (100, "yes"), (100, "no")], False, True, True),
    (
        "more than half of owners, half of area",
        [(50, "yes"), (50, "yes"), (100, "no")],
        False,
        True,
        False,
    ),
    (
        "three quarters exactly (special)",
        [(100, "yes"), (100, "yes"), (100, "yes"), (100, "no")],
        True,
        True,
        True,
    ),
    (
        "just under three quarters of area (special)",
        [(99, "yes"), (100, "yes"), (100, "yes"), (100, "no")],
        True,
        True,
        False,
    ),
    (
        "more than half is not enough (special)",
        [(100, "yes"), (100, "yes"), (100, "no")],
        True,
        True,
        False,
    ),
    (
        "abstentions take part",
        [(100, "yes"), (100, "yes"), (100, "abstain"), (100, None)],
        False,
        True,
        True,
    ),
    (
        "abstentions never consent",
        [(100, "yes"), (100, "abstain"), (100, "abstain")],
        False,
        True,
        False,
    ),
    ("silence is never consent", [(100, "yes"), (100, None), (100, None)], False, False, True),
    ("nobody voted", [(100, None), (100, None)], False, False, False),
]


@pytest.mark.parametrize(
    ("casts", "special", "participation", "approval"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_thresholds_at_their_edges(casts, special, participation, approval) -> None:  # type: ignore[no-untyped-def]
    tally = count([Cast(area, choice) for area, choice in casts], special)
    assert tally.participation_met is participation
    assert tally.approval_met is approval
    assert tally.passed is (participation and approval)


def test_shares_are_exact_fractions() -> None:
    tally = count([Cast(1, "yes"), Cast(1, "yes"), Cast(1, None)], False)
    assert tally.participation_heads == Fraction(2, 3)
    assert isinstance(tally.approval_area, Fraction)
    assert tally.as_record()["participation_heads"] == "2/3"


# --- the electorate ---------------------------------------------------------------------------


def _vote(world: World, scope_kind: str, scope_obj, matter: str = "manager") -> Vote:  # type: ignore[no-untyped-def]
    scope = service.resolve_scope(scope_kind, scope_obj.id)
    vote = service.create_vote(
        scope, matter, "选聘物业服务企业", "是否选聘", clock.today(), world.users["committee"]
    )
    open_announced(vote, world.users["committee"])
    db.session.commit()
    return vote


def _link_with_code(home, user):  # type: ignore[no-untyped-def]
    """The owner links their own account to ``home`` with its household code, signed in."""
    from compound_app.auth import service as auth

    code = auth.issue_invite(created_by=user, household_id=home.id)
    auth.redeem_invite(auth.find_invite(code), mobile="", name="", password=None, current=user)
    db.session.commit()


def test_one_owner_of_several_homes_is_one_person_with_the_areas_summed(world: World) -> None:
    unit = first_unit(world.branch)
    a, b = unit.households
    owner = world.users["resident"]  # owner of a
    roster.add_occupant(b, owner.name, owner.mobile, Relation.OWNER)
    b.occupants[0].relation = Relation.FAMILY  # b's former owner record is now family
    _link_with_code(b, owner)  # and they linked b to their account themselves
    vote = _vote(world, "unit", unit)
    electors = db.session.scalars(select(Elector).where(Elector.vote_id == vote.id)).all()
    assert len(electors) == 1 and vote.total_heads == 1
    assert electors[0].user_id == owner.id
    assert electors[0].area_dm2 == a.area_dm2 + b.area_dm2
    assert {h.household_id for h in electors[0].homes} == {a.id, b.id}


def test_a_mobile_on_the_roster_joins_no_homes_and_opens_no_account(world: World) -> None:
    """The same number typed on two homes is not proof of one owner: two electors, and
    neither votes through the account that has that number."""
    unit = first_unit(world.branch)
    a, b = unit.households
    owner = world.users["resident"]
    b.occupants[0].mobile = owner.mobile  # typed in, never linked
    db.session.commit()
    vote = _vote(world, "unit", unit)
    electors = db.session.scalars(select(Elector).where(Elector.vote_id == vote.id)).all()
    assert vote.total_heads == 2
    by_home = {h.household_id: e for e in electors for h in e.homes}
    assert by_home[a.id].user_id == owner.id  # a's record is linked to their account
    assert by_home[b.id].user_id is None  # b votes on paper
    service.cast_online(vote, owner, "yes")
    assert service.tally(vote).voted_area == a.area_dm2


def test_a_co_owned_home_votes_once_through_its_designated_co_owner(world: World) -> None:
    unit = first_unit(world.branch)
    home = unit.households[0]
    co = user("共有人")
    roster.add_occupant(home, co.name, co.mobile, Relation.CO_OWNER).user_id = co.id
    grant(co, Role.RESIDENT, home.id)
    db.session.commit()
    vote = _vote(world, "unit", unit)
    assert vote.total_heads == 2  # two homes, two owners: the co-owner is not a third
    with pytest.raises(RuleError, match=r"co-owned|共有"):
        service.cast_online(vote, co, "yes")
    service.cast_online(vote, world.users["resident"], "yes")  # the designated owner


def test_renters_and_homes_without_an_owner(world: World) -> None:
    home = first_household(world.trust)
    vote = _vote(world, "compound", world.trust)
    with pytest.raises(RuleError, match=r"[Oo]wners|业主"):
        service.cast_online(vote, world.users["tenant"], "yes")
    assert db.session.scalar(select(func.count(Ballot.id))) == 0
    # The tenant's home still counts: its owner exists, recorded or not.
    assert home.id in {h.household_id for e in vote.electors for h in e.homes}


def test_the_electorate_is_fixed_when_the_vote_opens(world: World) -> None:
    unit = first_unit(world.branch)
    vote = _vote(world, "unit", unit)
    roster.add_household(unit, "999", 9000, "owner_occupied")
    db.session.commit()
    assert vote.total_heads == 2
    assert service.tally(vote).total_heads == 2


# --- ballots ----------------------------------------------------------------------------------


def _jpeg() -> io.BytesIO:
    data = io.BytesIO()
    Image.new("RGB", (60, 80), "white").save(data, "JPEG")
    data.seek(0)
    return data


class Upload:
    def __init__(self) -> None:
        self.filename = "ballot.jpg"
        self._data = _jpeg()

    def read(self, n: int = -1) -> bytes:
        return self._data.read(n)


def test_online_ballots_change_until_closing_and_the_last_counts(world: World) -> None:
    unit = first_unit(world.branch)
    vote = _vote(world, "unit", unit)
    resident = world.users["resident"]
    service.cast_online(vote, resident, "no")
    service.cast_online(vote, resident, "yes")
    db.session.commit()
    tally = service.tally(vote)
    assert tally.heads == {"yes": 1, "no": 0, "abstain": 0}
    assert db.session.scalar(select(func.count(Ballot.id))) == 2  # both kept


def test_a_paper_ballot_after_an_online_vote_is_refused(world: World, login_as) -> None:
    unit = first_unit(world.branch)
    vote = _vote(world, "unit", unit)
    service.cast_online(vote, world.users["resident"], "yes")
    db.session.commit()
    client = login_as(world.users["rep"])
    response = client.post(
        f"/votes/{vote.id}/paper",
        data={"household_id": unit.households[0].id, "choice": "no", "photo": (_jpeg(), "b.jpg")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    assert db.session.scalar(select(func.count(Ballot.id))) == 1


def test_paper_ballots_need_the_photo_and_the_right_representative(world: World, login_as) -> None:
    vote = _vote(world, "compound", world.branch)
    rep = login_as(world.users["rep"])
    own_unit_home = first_unit(world.branch).households[1]
    other_unit_home = world.branch.buildings[0].units[1].households[0]
    no_photo = rep.post(
        f"/votes/{vote.id}/paper", data={"household_id": own_unit_home.id, "choice": "yes"}
    )
    assert no_photo.status_code == 422
    other = rep.post(
        f"/votes/{vote.id}/paper",
        data={"household_id": other_unit_home.id, "choice": "yes", "photo": (_jpeg(), "b.jpg")},
        content_type="multipart/form-data",
    )
    assert other.status_code == 422
    outside = rep.post(
        f"/votes/{vote.id}/paper",
        data={
            "household_id": first_household(world.trust).id,
            "choice": "yes",
            "photo": (_jpeg(), "b.jpg"),
        },
        content_type="multipart/form-data",
    )
    assert outside.status_code == 422
    assert db.session.scalar(select(func.count(Ballot.id))) == 0
    done = rep.post(
        f"/votes/{vote.id}/paper",
        data={"household_id": own_unit_home.id, "choice": "yes", "photo": (_jpeg(), "b.jpg")},
        content_type="multipart/form-data",
    )
    assert done.status_code == 303
    ballot = db.session.scalars(select(Ballot)).one()
    assert (
        ballot.channel == "paper" and ballot.photo and ballot.entered_by_id == world.users["rep"].id
    )
    # The owner's paper ballot cannot be overridden online afterwards, nor twice on paper.
    again = rep.post(
        f"/votes/{vote.id}/paper",
        data={"household_id": own_unit_home.id, "choice": "no", "photo": (_jpeg(), "b.jpg")},
        content_type="multipart/form-data",
    )
    assert again.status_code == 422
    assert db.session.scalar(select(func.count(Ballot.id))) == 1


def test_no_ballot_after_closing(world: World, login_as) -> None:
    unit = first_unit(world.branch)
    vote = _vote(world, "unit", unit)
    vote.closes_on = clock.today() - timedelta(days=1)
    db.session.commit()
    client = login_as(world.users["resident"])
    assert client.post(f"/votes/{vote.id}/ballot", data={"choice": "yes"}).status_code == 422
    vote.closes_on = clock.today()
    db.session.commit()
    close_counted(vote, world.users["committee"])
    db.session.commit()
    assert client.post(f"/votes/{vote.id}/ballot", data={"choice": "yes"}).status_code == 422
    assert db.session.scalar(select(func.count(Ballot.id))) == 0


def test_closing_freezes_and_publishes_rooms_and_choices_not_names(world: World, login_as) -> None:
    unit = first_unit(world.branch)
    vote = _vote(world, "unit", unit)
    service.cast_online(vote, world.users["resident"], "yes")
    db.session.commit()
    record_tellers(vote, world.users["committee"])
    db.session.commit()
    committee = login_as(world.users["committee"])
    # Closed before its end date while the others could still change the outcome: why.
    assert committee.post(f"/votes/{vote.id}/close").status_code == 422
    assert (
        committee.post(
            f"/votes/{vote.id}/close", data={"reason": "业主大会决定提前计票"}
        ).status_code
        == 303
    )
    db.session.expire_all()
    vote = db.session.get(Vote, vote.id)
    assert vote.status == "closed" and vote.result["heads"]["yes"] == 1
    assert vote.result["participation_heads"] == "1/2" and vote.passed is False
    notice = login_as(world.users["resident"]).get(f"/votes/{vote.id}/notice")
    page = notice.get_data(as_text=True)
    page = page[page.index('<article class="poster">') : page.index("</article>")]
    assert notice.status_code == 200
    assert unit.households[0].room in page and "data:image/svg+xml" in page
    # The tellers are named on the result; how each home voted shows rooms, never names.
    tellers = [t.name for t in service.tellers_of(vote)]
    assert f"监票、计票：{'、'.join(tellers)}。" in page
    rows = page[page.index("<table") :]
    for occupant in (o for h in unit.households for o in h.occupants):
        assert occupant.name not in rows and occupant.mobile not in page
    # A ballot after the count changes nothing.
    with pytest.raises(RuleError):
        service.cast_online(vote, world.users["resident"], "no")


def test_only_the_committee_or_staff_run_votes_and_strangers_see_nothing(
    world: World, login_as
) -> None:
    area = world.branch.area
    data = {
        "scope": f"area:{area.id}",
        "matter": "manager",
        "title": "t",
        "text": "x",
        "closes_on": clock.today().isoformat(),
    }
    assert (
        login_as(world.users["rep"]).post(f"/votes/areas/{area.id}/new", data=data).status_code
        == 403
    )
    assert (
        login_as(world.users["other_staff"])
        .post(f"/votes/areas/{area.id}/new", data=data)
        .status_code
        == 404
    )
    foreign = data | {"scope": f"compound:{world.elsewhere.id}"}
    assert (
        login_as(world.users["committee"])
        .post(f"/votes/areas/{area.id}/new", data=foreign)
        .status_code
        == 422
    )
    assert db.session.scalar(select(func.count(Vote.id))) == 0
    vote = _vote(world, "unit", first_unit(world.branch))
    assert login_as(world.users["outsider"]).get(f"/votes/{vote.id}").status_code == 404
    assert login_as(world.users["tenant"]).get(f"/votes/{vote.id}").status_code == 404


def test_ballots_are_never_rewritten(world: World) -> None:
    vote = _vote(world, "unit", first_unit(world.branch))
    ballot = service.cast_online(vote, world.users["resident"], "yes")
    db.session.commit()
    ballot.choice = "no"
    with pytest.raises(BallotChangeRefused):
        db.session.flush()
    db.session.rollback()
    with pytest.raises(Exception, match="append-only"):
        db.session.execute(text("UPDATE ballot SET choice = 'no'"))
    db.session.rollback()


# --- the tally equals a recount from the ballots ----------------------------------------------

_n = iter(range(1, 10**6))
BALLOTS = st.lists(
    st.tuples(
        st.integers(0, 5), st.sampled_from(["yes", "yes", "yes", "no", "abstain"]), st.booleans()
    ),
    max_size=25,
)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    areas=st.lists(st.integers(3000, 20000), min_size=6, max_size=6),
    ballots=BALLOTS,
    special=st.booleans(),
)
def test_the_tally_equals_a_recount_from_the_ballots(
    world: World, areas: list[int], ballots: list[tuple[int, str, bool]], special: bool
) -> None:
    c = compound(world.community, f"表决{next(_n)}号院", buildings=1, units=2, households=3)
    homes = [h for u in c.buildings[0].units for h in u.households]
    for home, area in zip(homes, areas, strict=True):
        home.area_dm2 = area
    # Homes 0 and 1 share an owner (one person, two homes); home 2 has no owner at all.
    twin = homes[0].occupants[0]
    homes[1].occupants[0].mobile = twin.mobile
    homes[2].occupants[0].relation = Relation.TENANT
    owners = {}
    for i in (0, 3, 4, 5):
        account = user(f"业主{i}")
        homes[i].occupants[0].user_id = account.id
        owners[i] = account
    homes[1].occupants[0].user_id = owners[0].id
    db.session.commit()
    scope = service.resolve_scope("compound", c.id)
    vote = service.create_vote(
        scope, "raise_fund" if special else "manager", "t", "x", clock.today(), world.users["staff"]
    )
    open_announced(vote, world.users["staff"])
    db.session.commit()
    assert vote.total_heads == 5  # 6 homes, one owner of two

    p = access.load_principal(world.users["staff"])
    for which, choice, on_paper in ballots:
        try:
            if on_paper or which not in owners:
                service.enter_paper(
                    vote, homes[which].id, choice, Upload(), world.users["staff"], p
                )
            else:
                service.cast_online(vote, owners[which], choice)
            db.session.commit()
        except RuleError:
            db.session.rollback()

    # Recount: the latest ballot of each elector, summed by hand in exact fractions.
    latest: dict[int, str] = {}
    for ballot in db.session.scalars(
        select(Ballot).where(Ballot.vote_id == vote.id).order_by(Ballot.id)
    ):
        latest[ballot.elector_id] = ballot.choice
    electors = db.session.scalars(select(Elector).where(Elector.vote_id == vote.id)).all()
    total_area = sum(e.area_dm2 for e in electors)
    voted = [e for e in electors if e.id in latest]
    yes = [e for e in voted if latest[e.id] == "yes"]
    tally = service.tally(vote)
    assert total_area == sum(areas) and tally.total_area == total_area
    assert tally.voted_heads == len(voted)
    assert tally.voted_area == sum(e.area_dm2 for e in voted)
    assert tally.heads["yes"] == len(yes) and tally.area["yes"] == sum(e.area_dm2 for e in yes)
    need = Fraction(3, 4) if special else Fraction(1, 2)
    participation = Fraction(len(voted), len(electors)) >= Fraction(2, 3) and Fraction(
        sum(e.area_dm2 for e in voted), total_area
    ) >= Fraction(2, 3)
    approve = bool(voted) and all(
        (share >= need if special else share > need)
        for share in (
            Fraction(len(yes), len(voted)),
            Fraction(sum(e.area_dm2 for e in yes), sum(e.area_dm2 for e in voted)),
        )
    )
    assert tally.passed is (participation and approve)
    # Every elector voted through at most one channel.
    channels = db.session.execute(
        select(Ballot.elector_id, func.count(func.distinct(Ballot.channel)))
        .where(Ballot.vote_id == vote.id)
        .group_by(Ballot.elector_id)
    ).all()
    assert all(n == 1 for _e, n in channels)


# --- a representative cannot take over a neighbour's vote ------------------------------------


def _rep_with_a_home(world: World):  # type: ignore[no-untyped-def]
    """The unit's representative owns a home of their own in it, linked to their account."""
    unit = first_unit(world.branch)
    rep = world.users["rep"]
    own = roster.add_household(unit, "301", 7000, "owner_occupied")
    roster.add_occupant(own, rep.name, rep.mobile, Relation.OWNER)
    _link_with_code(own, rep)
    return unit, own


def _draft(world: World, unit) -> Vote:  # type: ignore[no-untyped-def]
    scope = service.resolve_scope("unit", unit.id)
    vote = service.create_vote(
        scope, "use_fund", "更换楼道灯", "使用维修资金", clock.today(), world.users["committee"]
    )
    announced_ago(vote, world.users["committee"])
    db.session.commit()
    return vote


def _homes_of(elector: Elector) -> set[int]:
    return {h.household_id for h in elector.homes}


def _edit(client, occupant, **fields):  # type: ignore[no-untyped-def]
    """The occupant's edit form as a person sends it, changing ``fields``."""
    name = occupant.name if occupant.name.isalpha() else "钱桂兰"  # the factory's 住户112
    data = {"name": name, "mobile": occupant.mobile or "", "relation": occupant.relation}
    return client.post(f"/registry/occupants/{occupant.id}/edit", data={**data, **fields})


def test_a_representative_typing_their_mobile_for_a_neighbour_gains_no_vote(
    world: World, login_as
) -> None:
    """The tester's attack: the representative puts their own mobile on a neighbour's owner
    record, the chair opens a vote, the representative votes online and so for both homes,
    and the neighbour's paper ballot is refused as a second vote."""
    from compound_app.audit import AuditLog

    unit, own = _rep_with_a_home(world)
    neighbour_home = unit.households[1]  # its owner has no account: they vote on paper
    neighbour = neighbour_home.occupants[0]
    rep, chair = login_as(world.users["rep"]), login_as(world.users["committee"])
    # 1. Before the vote the roster is the representative's to keep: the edit goes through,
    # and is on record.
    assert _edit(rep, neighbour, mobile=world.users["rep"].mobile).status_code == 303
    db.session.expire_all()
    assert db.session.get(Occupant, neighbour.id).mobile == world.users["rep"].mobile
    assert db.session.scalar(
        select(AuditLog).where(
            AuditLog.entity == "occupant",
            AuditLog.entity_id == neighbour.id,
            AuditLog.user_id == world.users["rep"].id,
        )
    )
    # 2. The chair opens a vote on the stairwell.
    vote = _draft(world, unit)
    assert chair.post(f"/votes/{vote.id}/open").status_code == 303
    # 3. The representative votes online: for their own home only.
    assert rep.post(f"/votes/{vote.id}/ballot", data={"choice": "yes"}).status_code == 303
    db.session.expire_all()
    vote = db.session.get(Vote, vote.id)
    mine = service.elector_for_user(vote, world.users["rep"])
    assert _homes_of(mine) == {own.id}
    assert vote.total_heads == 3
    # 4. The neighbour's signed paper ballot is not blocked, and counts for their home.
    response = rep.post(
        f"/votes/{vote.id}/paper",
        data={"household_id": neighbour_home.id, "choice": "no", "photo": (_jpeg(), "b.jpg")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 303
    tally = service.tally(vote)
    assert tally.heads == {"yes": 1, "no": 1, "abstain": 0}
    assert tally.area["yes"] == own.area_dm2 and tally.area["no"] == neighbour_home.area_dm2


def test_the_real_owner_still_votes_online_after_a_representative_typed_their_number(
    world: World, login_as
) -> None:
    unit, own = _rep_with_a_home(world)
    home = unit.households[0]
    owner = home.occupants[0]  # 吴振华, who linked his account himself
    rep, chair = login_as(world.users["rep"]), login_as(world.users["committee"])
    assert _edit(rep, owner, mobile=world.users["rep"].mobile).status_code == 303
    vote = _draft(world, unit)
    assert chair.post(f"/votes/{vote.id}/open").status_code == 303
    assert rep.post(f"/votes/{vote.id}/ballot", data={"choice": "yes"}).status_code == 303
    resident = login_as(world.users["resident"])
    assert resident.post(f"/votes/{vote.id}/ballot", data={"choice": "no"}).status_code == 303
    db.session.expire_all()
    vote = db.session.get(Vote, vote.id)
    assert _homes_of(service.elector_for_user(vote, world.users["rep"])) == {own.id}
    assert _homes_of(service.elector_for_user(vote, world.users["resident"])) == {home.id}
    assert service.tally(vote).heads == {"yes": 1, "no": 1, "abstain": 0}
    # Nor can the representative take the record over with the home's code.
    from compound_app.auth import service as auth

    code = auth.issue_invite(created_by=world.users["staff"], household_id=home.id)
    db.session.commit()
    taken = rep.post("/auth/activate", data={"code": code})
    assert taken.status_code == 422
    db.session.expire_all()
    assert db.session.get(Occupant, owner.id).user_id == world.users["resident"].id


def test_while_a_vote_is_open_only_the_committee_changes_who_owns_a_home(
    world: World, login_as
) -> None:
    from compound_app.audit import AuditLog

    unit = first_unit(world.branch)
    home = unit.households[1]
    owner = home.occupants[0]
    _vote(world, "unit", unit)
    rep = login_as(world.users["rep"])
    refused = [
        _edit(rep, owner, mobile=world.users["rep"].mobile),
        _edit(rep, owner, name="代表改名"),
        _edit(rep, owner, relation="family"),
        rep.post(
            f"/registry/households/{home.id}/occupants",
            data={"name": "新业主", "mobile": "13912340001", "relation": "owner"},
        ),
    ]
    assert [r.status_code for r in refused] == [422] * 4
    assert "只有物管会" in refused[0].get_data(as_text=True)
    audit_rows = db.session.scalar(select(func.count(AuditLog.id)))
    rep.post(f"/registry/occupants/{owner.id}/delete")
    db.session.expire_all()
    kept = db.session.get(Occupant, owner.id)
    assert (kept.name, kept.mobile, kept.relation) == (owner.name, owner.mobile, "owner")
    assert db.session.scalar(select(func.count(AuditLog.id))) == audit_rows
    # Family members are the representative's to record as ever...
    family = rep.post(
        f"/registry/households/{home.id}/occupants",
        data={"name": "家属甲", "mobile": "13912340002", "relation": "family"},
    )
    assert family.status_code == 303
    # ...and the committee may correct the owner's record, on the record.
    chair = login_as(world.users["committee"])
    assert _edit(chair, owner, mobile="13912340003").status_code == 303
    row = db.session.scalar(
        select(AuditLog)
        .where(AuditLog.entity == "occupant", AuditLog.entity_id == owner.id)
        .order_by(AuditLog.id.desc())
    )
    assert row.user_id == world.users["committee"].id and row.after["mobile"] == "13912340003"


# --- consultations ----------------------------------------------------------------------------


def test_a_consultation_is_answered_online_and_through_the_representative(
    world: World, login_as
) -> None:
    c = world.branch
    committee = login_as(world.users["committee"])
    created = committee.post(
        f"/votes/areas/{c.area_id}/consultations/new",
        data={
            "scope": f"compound:{c.id}",
            "title": "收费标准征求意见",
            "text": "每户每月10元",
            "options": "同意\n不同意\n",
            "closes_on": clock.today().isoformat(),
        },
    )
    assert created.status_code == 303
    url = created.headers["Location"]
    resident = login_as(world.users["resident"])
    mine = first_household(c)
    assert (
        resident.post(f"{url}/answer", data={"household_id": mine.id, "option": "同意"}).status_code
        == 303
    )
    # Answering again replaces the home's answer.
    assert (
        resident.post(
            f"{url}/answer", data={"household_id": mine.id, "option": "不同意"}
        ).status_code
        == 303
    )
    rep = login_as(world.users["rep"])
    neighbour = first_unit(c).households[1]
    missing_name = rep.post(f"{url}/answer", data={"household_id": neighbour.id, "option": "同意"})
    assert missing_name.status_code == 422
    other_unit = c.buildings[0].units[1].households[0]
    assert (
        rep.post(
            f"{url}/answer",
            data={"household_id": other_unit.id, "option": "同意", "resident_name": "王大妈"},
        ).status_code
        == 422
    )
    assert (
        rep.post(
            f"{url}/answer",
            data={"household_id": neighbour.id, "option": "同意", "resident_name": "王大妈"},
        ).status_code
        == 303
    )
    answers = db.session.scalars(select(Answer).order_by(Answer.household_id)).all()
    assert [(a.household_id, a.option, a.resident_name) for a in answers] == [
        (mine.id, "不同意", ""),
        (neighbour.id, "同意", "王大妈"),
    ]
    page = committee.get(url).get_data(as_text=True)
    assert "2/8" in page
    # Residents see the outcome once it closes.
    assert committee.post(f"{url}/close").status_code == 303
    outcome = resident.get(url).get_data(as_text=True)
    assert "2/8" in outcome
    assert (
        resident.post(f"{url}/answer", data={"household_id": mine.id, "option": "同意"}).status_code
        == 422
    )


def test_a_consultation_needs_two_to_six_answers(world: World, login_as) -> None:
    c = world.branch
    response = login_as(world.users["committee"]).post(
        f"/votes/areas/{c.area_id}/consultations/new",
        data={
            "scope": f"compound:{c.id}",
            "title": "t",
            "text": "x",
            "options": "同意",
            "closes_on": clock.today().isoformat(),
        },
    )
    assert response.status_code == 422


# --- a decision cites its vote ----------------------------------------------------------------


def _decided(world: World, passes: bool) -> Vote:
    unit = first_unit(world.branch)
    vote = _vote(world, "unit", unit)
    if passes:
        p = access.load_principal(world.users["committee"])
        for home in unit.households:
            service.enter_paper(vote, home.id, "yes", Upload(), world.users["committee"], p)
    close_counted(vote, world.users["committee"])
    db.session.commit()
    return vote


def test_a_fee_schedule_approval_cites_a_passed_vote_only(world: World) -> None:
    from compound_app.fees import schedules
    from compound_app.fees.models import ApprovalHow, Basis, Cycle, ScheduleStatus

    area = world.branch.area
    start = clock.today().replace(day=1)
    failed, stairwell = _decided(world, False), _decided(world, True)
    assert stairwell.passed and not failed.passed
    passed = passed_area_vote(area, on=start - timedelta(days=12))  # before its approval

    def draft():  # type: ignore[no-untyped-def]
        d = schedules.new_draft(area, None, today=start - timedelta(days=40))
        schedules.update_terms(
            d,
            cycle=Cycle.MONTH,
            start_month=start,
            vacant_percent=100,
            publicity_days=7,
            today=start - timedelta(days=40),
        )
        schedules.add_item(d, name="保洁", scope="", basis=Basis.PER_HOUSEHOLD, rate_fen=1000)
        schedules.publish(d, today=start - timedelta(days=20))
        return d

    d = draft()
    kwargs = {
        "how": ApprovalHow.OWNERS_VOTE,
        "approved_on": start - timedelta(days=10),
        "note": "业主表决",
        "actor": world.users["committee"],
        "staff": False,
        "today": start,
    }
    with pytest.raises(RuleError, match=r"passed|通过"):
        schedules.approve(d, vote_id=failed.id, **kwargs)
    with pytest.raises(RuleError):
        schedules.approve(d, vote_id=10**9, **kwargs)
    with pytest.raises(RuleError, match=r"whole area|整个"):  # one stairwell's owners
        schedules.approve(d, vote_id=stairwell.id, **kwargs)
    schedules.approve(d, vote_id=passed.id, **kwargs)
    db.session.commit()
    assert d.status == ScheduleStatus.ACTIVE and d.approval_vote_id == passed.id


def test_a_milestone_cites_the_vote_that_reached_it(world: World) -> None:
    from compound_app.oversight import pilots
    from compound_app.oversight.models import Milestone

    pilot = pilots.select_pilot(world.unmanaged, "contiguous", clock.today() - timedelta(days=30))
    db.session.commit()
    milestone = pilots.add_milestone(pilot, "业主表决通过收费标准", clock.today())
    other_area_vote = _decided(world, True)  # the branch's area, not this pilot's
    with pytest.raises(RuleError):
        pilots.complete_milestone(milestone, clock.today(), "", other_area_vote.id)
    db.session.rollback()
    milestone = db.session.get(Milestone, milestone.id)
    assert milestone.done_on is None


def test_staff_choose_the_area_to_ask_from_the_list(world: World, login_as) -> None:
    admin = login_as(world.users["admin"])
    page = admin.get("/votes/").get_data(as_text=True)
    assert 'name="area"' in page  # many areas: a chooser, not a wall of buttons
    response = admin.get(f"/votes/start?area={world.branch.area_id}&kind=vote")
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/votes/areas/{world.branch.area_id}/new")
    assert admin.get("/votes/start?area=abc").status_code == 404
    resident = login_as(world.users["resident"])
    assert resident.get(f"/votes/start?area={world.branch.area_id}").status_code == 403

"""What a representative may not do to the roster they keep, at any time: change what a
record linked to its person's own account is to the home, remove it, or set a new home's
floor area and occupancy; and what a household code may not do: make its holder an
owner's elector by steering which record it links to.

Each attack a review found is replayed and refused; next to it, the legitimate path
still works.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from compound_app import access, clock
from compound_app.audit import AuditLog
from compound_app.auth import service as auth
from compound_app.auth.models import Role, RoleGrant, User
from compound_app.errors import RuleError
from compound_app.extensions import db
from compound_app.registry import roster
from compound_app.registry.models import Household, Occupancy, Occupant, Relation
from compound_app.votes import service as votes
from tests.factories import World, first_unit, user
from tests.votes.test_votes import _edit, _link_with_code, _vote

NEW_PASSWORD = "a brand new secret 7"


@pytest.fixture(autouse=True)
def request_context(app):  # type: ignore[no-untyped-def]
    """Refusals speak the user's language, as they would on a page."""
    with app.test_request_context():
        yield


def _audit_rows() -> int:
    return db.session.scalar(select(func.count(AuditLog.id))) or 0


def _spouse(world: World) -> tuple[User, Occupant]:
    """吴振华's wife, recorded as family and linked to her own account with the home's code."""
    home = first_unit(world.branch).households[0]
    spouse = user("林美华")
    roster.add_occupant(home, spouse.name, spouse.mobile, Relation.FAMILY)
    _link_with_code(home, spouse)
    record = db.session.scalar(select(Occupant).where(Occupant.user_id == spouse.id))
    return spouse, record


# --- H2: linked records are the committee's to change -----------------------------------------


def test_a_representative_cannot_change_or_remove_a_linked_record_at_any_time(
    world: World, login_as: Any
) -> None:
    """The attack: with no vote open (or one only drafted), the representative demotes the
    owner who linked their account, makes a linked family member the owner, or removes the
    owner's record, so that someone else votes for the home when the vote opens."""
    unit = first_unit(world.branch)
    home = unit.households[0]
    owner = home.occupants[0]  # 吴振华, linked to his own account
    _spouse_account, spouse = _spouse(world)
    rep = login_as(world.users["rep"])
    rows = _audit_rows()
    refused = [
        _edit(rep, owner, relation="family"),
        _edit(rep, spouse, relation="owner"),
        _edit(rep, spouse, relation="co_owner"),
    ]
    assert [r.status_code for r in refused] == [422] * 3
    assert "只有物管会可以更改其与这户的关系" in refused[0].get_data(as_text=True)
    removed = rep.post(f"/registry/occupants/{owner.id}/delete", follow_redirects=True)
    assert "只有物管会可以将其移出" in removed.get_data(as_text=True)
    assert _audit_rows() == rows
    # A vote drafted and about to open changes nothing.
    scope = votes.resolve_scope("unit", unit.id)
    votes.create_vote(scope, "manager", "选聘物业", "是否选聘", clock.today(), world.users["staff"])
    db.session.commit()
    rows = _audit_rows()
    assert _edit(rep, spouse, relation="owner").status_code == 422
    rep.post(f"/registry/occupants/{spouse.id}/delete")
    db.session.expire_all()
    assert _audit_rows() == rows
    kept = db.session.get(Occupant, owner.id)
    assert (kept.relation, kept.user_id) == ("owner", world.users["resident"].id)
    assert db.session.get(Occupant, spouse.id).relation == "family"
    # Service callers are held to it too.
    with pytest.raises(RuleError):
        roster.remove_occupant(kept, access.load_principal(world.users["rep"]))
    db.session.rollback()


def test_the_committee_changes_and_removes_linked_records_on_the_record(
    world: World, login_as: Any
) -> None:
    spouse_account, spouse = _spouse(world)
    spouse_id = spouse.id
    chair = login_as(world.users["committee"])
    assert _edit(chair, spouse, relation="co_owner").status_code == 303
    row = db.session.scalar(
        select(AuditLog)
        .where(AuditLog.entity == "occupant", AuditLog.entity_id == spouse.id)
        .order_by(AuditLog.id.desc())
    )
    assert row.action == "update" and row.user_id == world.users["committee"].id
    assert (row.before["relation"], row.after["relation"]) == ("family", "co_owner")
    assert chair.post(f"/registry/occupants/{spouse_id}/delete").status_code == 303
    db.session.expire_all()
    assert db.session.get(Occupant, spouse_id) is None
    deleted = db.session.scalar(
        select(AuditLog).where(
            AuditLog.entity == "occupant",
            AuditLog.entity_id == spouse_id,
            AuditLog.action == "delete",
        )
    )
    assert deleted.user_id == world.users["committee"].id
    assert not db.session.scalar(
        select(RoleGrant).where(
            RoleGrant.user_id == spouse_account.id, RoleGrant.role == Role.RESIDENT
        )
    )


def test_a_representative_still_keeps_the_rest_of_the_roster(world: World, login_as: Any) -> None:
    unit = first_unit(world.branch)
    owner = unit.households[0].occupants[0]
    neighbour = unit.households[1].occupants[0]  # an owner without an account
    rep = login_as(world.users["rep"])
    assert _edit(rep, owner, mobile="13912340011").status_code == 303  # a new number
    assert _edit(rep, neighbour, relation="co_owner").status_code == 303
    lodger = rep.post(
        f"/registry/households/{unit.households[1].id}/occupants",
        data={"name": "租客甲", "mobile": "13912340012", "relation": "tenant"},
    )
    assert lodger.status_code == 303
    found = db.session.scalar(select(Occupant.id).where(Occupant.mobile == "13912340012"))
    assert rep.post(f"/registry/occupants/{found}/delete").status_code == 303
    db.session.expire_all()
    assert db.session.get(Occupant, found) is None
    assert db.session.get(Occupant, neighbour.id).relation == "co_owner"


# --- H2: linking with the home's code ----------------------------------------------------------


def _code(world: World, home: Household) -> str:
    code = auth.issue_invite(created_by=world.users["staff"], household_id=home.id)
    db.session.commit()
    return code


def _activate(app: Any, code: str, mobile: str, name: str = "新住户") -> Any:
    return app.test_client().post(
        "/auth/activate",
        data={
            "code": code,
            "mobile": mobile,
            "name": name,
            "new_password": NEW_PASSWORD,
            "confirm": NEW_PASSWORD,
        },
    )


def test_a_code_never_links_a_new_account_to_an_owner_record_linked_to_another(
    world: World, app: Any, login_as: Any
) -> None:
    home = first_unit(world.branch).households[0]
    owner = home.occupants[0]
    # The representative puts a fresh number on the linked owner's record (allowed: the
    # link, not the number, is who the owner is) and hands the home's code to its holder.
    assert _edit(login_as(world.users["rep"]), owner, mobile="13912340021").status_code == 303
    response = _activate(app, _code(world, home), "13912340021")
    assert response.status_code == 422
    db.session.expire_all()
    assert db.session.get(Occupant, owner.id).user_id == world.users["resident"].id
    assert db.session.scalar(select(User).where(User.mobile == "13912340021")) is None


def test_a_representative_cannot_link_themselves_to_a_neighbours_owner_record(
    world: World, login_as: Any
) -> None:
    """The attack: the representative types their own mobile on a neighbour's owner record
    (the neighbour has no account), gets the home's code, and links the record to their
    account: the neighbour's home would vote through the representative."""
    unit = first_unit(world.branch)
    home = unit.households[1]
    neighbour = home.occupants[0]
    rep_user = world.users["rep"]
    rep = login_as(rep_user)
    assert _edit(rep, neighbour, mobile=rep_user.mobile).status_code == 303
    response = rep.post("/auth/activate", data={"code": _code(world, home)})
    assert response.status_code == 422
    assert "是您本人录入的" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Occupant, neighbour.id).user_id is None
    assert home.id not in access.load_principal(rep_user).resident_households
    vote = _vote(world, "unit", unit)
    assert votes.elector_for_user(vote, rep_user) is None
    assert {e.user_id for e in vote.electors} == {world.users["resident"].id, None}


def test_an_owner_links_the_record_their_representative_typed_for_them(
    world: World, app: Any, login_as: Any
) -> None:
    unit = first_unit(world.branch)
    home = unit.households[1]
    neighbour = home.occupants[0]
    rep = login_as(world.users["rep"])
    assert _edit(rep, neighbour, mobile="13912340031").status_code == 303  # her new number
    assert _activate(app, _code(world, home), "13912340031", "钱桂兰").status_code == 303
    db.session.expire_all()
    owner = db.session.scalar(select(User).where(User.mobile == "13912340031"))
    assert db.session.get(Occupant, neighbour.id).user_id == owner.id
    vote = _vote(world, "unit", unit)
    mine = votes.elector_for_user(vote, owner)
    assert mine is not None and {h.household_id for h in mine.homes} == {home.id}


def test_a_representative_links_their_own_home_recorded_by_the_committee(
    world: World, login_as: Any
) -> None:
    unit = first_unit(world.branch)
    rep_user = world.users["rep"]
    chair = login_as(world.users["committee"])
    added = chair.post(
        f"/registry/units/{unit.id}/households/new",
        data={"room": "301", "area": "70", "occupancy": "owner_occupied"},
    )
    assert added.status_code == 303
    own = db.session.scalar(
        select(Household).where(Household.unit_id == unit.id, Household.room == "301")
    )
    recorded = chair.post(
        f"/registry/households/{own.id}/occupants",
        data={"name": rep_user.name, "mobile": rep_user.mobile, "relation": "owner"},
    )
    assert recorded.status_code == 303
    rep = login_as(rep_user)
    assert rep.post("/auth/activate", data={"code": _code(world, own)}).status_code == 303
    vote = _vote(world, "unit", unit)
    mine = votes.elector_for_user(vote, rep_user)
    assert mine is not None and {h.household_id for h in mine.homes} == {own.id}


def test_a_code_cannot_put_a_second_owner_record_in_place_of_the_linked_owner(
    world: World, app: Any, login_as: Any
) -> None:
    """The attack: a home sold to a new owner still holds the former owner's record, older
    and unlinked. The representative types an accomplice's mobile on it; the accomplice
    links it with a code, and as the older linked owner record it would be the one the
    home votes through, in place of the new owner who linked their own account."""
    unit = first_unit(world.branch)
    home = unit.households[1]
    former = home.occupants[0]
    chair = login_as(world.users["committee"])
    new_owner = chair.post(
        f"/registry/households/{home.id}/occupants",
        data={"name": "韩立新", "mobile": "13912340041", "relation": "owner"},
    )
    assert new_owner.status_code == 303
    assert _activate(app, _code(world, home), "13912340041", "韩立新").status_code == 303
    owner = db.session.scalar(select(User).where(User.mobile == "13912340041"))
    rep = login_as(world.users["rep"])
    assert _edit(rep, former, mobile="13912340042").status_code == 303
    response = _activate(app, _code(world, home), "13912340042", "同伙")
    assert response.status_code == 422
    assert "不能取代其位置" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Occupant, former.id).user_id is None
    assert db.session.scalar(select(User).where(User.mobile == "13912340042")) is None
    # A co-owner links their own record: the home still votes through the owner.
    assert (
        chair.post(
            f"/registry/households/{home.id}/occupants",
            data={"name": "韩妻", "mobile": "13912340043", "relation": "co_owner"},
        ).status_code
        == 303
    )
    assert _activate(app, _code(world, home), "13912340043", "韩妻").status_code == 303
    vote = _vote(world, "unit", unit)
    elector = votes.elector_for_user(vote, owner)
    assert elector is not None and {h.household_id for h in elector.homes} == {home.id}


# --- H3: a new home's floor area and occupancy take fee rights ----------------------------------


def test_a_representative_cannot_set_a_new_homes_area_and_occupancy(
    world: World, login_as: Any
) -> None:
    unit = first_unit(world.branch)
    homes, rows = db.session.scalar(select(func.count(Household.id))), _audit_rows()
    response = login_as(world.users["rep"]).post(
        f"/registry/units/{unit.id}/households/new",
        data={"room": "801", "area": "300", "occupancy": "vacant"},
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert f'id="u{unit.id}-area-error"' in html and "只有物管会可以新增房屋" in html
    assert db.session.scalar(select(func.count(Household.id))) == homes
    assert _audit_rows() == rows
    with pytest.raises(RuleError):
        roster.add_household(
            unit, "802", 6000, Occupancy.VACANT, access.load_principal(world.users["rep"])
        )
    db.session.rollback()
    # The committee adds it, area and occupancy as given, on the record.
    chair = login_as(world.users["committee"])
    assert (
        chair.post(
            f"/registry/units/{unit.id}/households/new",
            data={"room": "801", "area": "300", "occupancy": "vacant"},
        ).status_code
        == 303
    )
    added = db.session.scalar(select(Household).where(Household.room == "801"))
    assert (added.area_dm2, added.occupancy) == (30000, "vacant")

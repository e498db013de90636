"""The rules ``access`` keeps besides place: duties, lookups from forms, votes, grants."""

from __future__ import annotations

from typing import Any

import pytest
from werkzeug.exceptions import Forbidden, NotFound

from compound_app import access, clock
from compound_app.access import Action
from compound_app.auth.models import Role, RoleGrant
from compound_app.extensions import db
from compound_app.registry.models import Compound
from compound_app.votes import service as votes
from tests.factories import World, first_unit, open_announced


def _as(world: World, key: str) -> access.Principal:
    return access.load_principal(world.users[key])


@pytest.mark.parametrize(
    ("key", "oversee", "administer", "browse"),
    [
        ("admin", True, True, True),
        ("staff", True, False, True),
        ("committee", False, False, True),
        ("rep", False, False, False),
        ("resident", False, False, False),
        ("outsider", False, False, False),
    ],
)
def test_duties_without_an_object(
    world: World, key: str, oversee: bool, administer: bool, browse: bool
) -> None:
    p = _as(world, key)
    assert access.can(Action.OVERSEE, p=p) is oversee
    assert access.can(Action.ADMINISTER, p=p) is administer
    assert access.can(Action.BROWSE, p=p) is browse


def test_staff_oversee_only_their_own_compounds(world: World) -> None:
    assert access.can(Action.OVERSEE, world.branch, _as(world, "staff"))
    assert not access.can(Action.OVERSEE, world.elsewhere, _as(world, "staff"))
    assert not access.can(Action.OVERSEE, world.branch, _as(world, "committee"))


def test_require_staff_and_admin_answer_404_then_403(app: Any, world: World) -> None:
    def as_user(key: str) -> Any:
        from flask import g

        g._principal = _as(world, key)

    with app.test_request_context():
        as_user("committee")
        with pytest.raises(NotFound):
            access.require_staff()
        with pytest.raises(NotFound):
            access.require_admin()
    with app.test_request_context():
        as_user("staff")
        assert access.require_staff().is_staff
        with pytest.raises(Forbidden):
            access.require_admin()
    with app.test_request_context():
        as_user("admin")
        assert access.require_admin().admin_subdistricts


def test_find_answers_none_for_what_is_not_the_users(app: Any, world: World) -> None:
    from flask import g

    with app.test_request_context():
        g._principal = _as(world, "staff")
        assert access.find(Compound, world.branch.id) is world.branch
        assert access.find(Compound, world.elsewhere.id) is None  # another community's
        assert access.find(Compound, 2**40) is None  # beyond any id
        assert access.find(Compound, "1") is None  # not an id at all
        assert access.find(Compound, world.branch.id, Action.ADMINISTER) is None


def test_a_vote_is_seen_by_its_electorate_once_open(world: World) -> None:
    unit = first_unit(world.branch)
    vote = votes.create_vote(
        votes.resolve_scope("unit", unit.id),
        "manager",
        "选聘物业",
        "是否选聘",
        clock.today(),
        world.users["committee"],
    )
    db.session.commit()
    resident, rep, outsider = _as(world, "resident"), _as(world, "rep"), _as(world, "outsider")
    assert access.can(Action.VIEW, vote, _as(world, "committee"))
    assert not access.can(Action.VIEW, vote, resident)  # a draft is the committee's
    open_announced(vote, world.users["committee"])
    db.session.commit()
    assert access.can(Action.VIEW, vote, resident) and access.can(Action.VIEW, vote, rep)
    assert not access.can(Action.CONSULT, vote, resident)
    assert not access.can(Action.VIEW, vote, outsider)
    assert not access.can(Action.VIEW, vote, _as(world, "area_committee"))


def test_a_role_grant_is_in_sight_only_where_it_can_be_taken_back(world: World) -> None:
    def grant_of(key: str, role: Role) -> RoleGrant:
        found = db.session.query(RoleGrant).filter_by(user_id=world.users[key].id, role=role)
        return found.one()

    staff = _as(world, "staff")
    assert access.can(Action.MANAGE_PEOPLE, grant_of("rep", Role.UNIT_REP), staff)
    assert not access.can(Action.VIEW, grant_of("admin", Role.SUBDISTRICT_ADMIN), staff)
    assert not access.can(Action.VIEW, grant_of("other_staff", Role.COMMUNITY_STAFF), staff)
    assert not access.can(Action.VIEW, grant_of("rep", Role.UNIT_REP), _as(world, "committee"))

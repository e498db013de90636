"""Every route, every role: out-of-scope objects answer 404, and every write needs CSRF.

The routes are enumerated from ``app.url_map``, so a new route is checked the day it is
added; a URL argument this file cannot fill fails the test rather than being skipped.
"""

from __future__ import annotations

import re

import pytest
from flask import Flask
from sqlalchemy import select

from compound_app import PUBLIC_ENDPOINTS
from compound_app.auth.models import RoleGrant
from compound_app.committees.models import CommitteeMember
from compound_app.extensions import db
from tests.conftest import _config, make_app
from tests.factories import (
    World,
    archive_objects,  # the archive's routes
    days_ago,
    fee_objects,
    fund_objects,  # the maintenance fund
    income_objects,  # common-part income
    notice_objects,  # the notices' routes
    pilot_vote_objects,
    problem_objects,  # the problem register
    recon_objects,  # reconciliation
    rectify_objects,  # rectification and inspections
    repair_objects,
    transition_objects,  # the transition to an owners' committee
)

ROLES = ["staff", "committee", "area_committee", "rep", "resident", "tenant", "outsider"]
WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


def _rules(app: Flask) -> list:
    return [r for r in app.url_map.iter_rules() if r.endpoint != "static"]


def _foreign_args(world: World) -> dict[str, object]:
    """URL arguments that all point into the other community (out of scope for most)."""
    objs = world.objects_of(world.elsewhere)
    other_grant = db.session.scalar(
        select(RoleGrant).where(RoleGrant.user_id == world.users["other_staff"].id)
    )
    foreign_member = CommitteeMember(
        committee_id=_committee_for(world.elsewhere.area).id,
        user_id=world.users["other_staff"].id,
        position="member",
        background="grid_worker",
        term_start=days_ago(165),
        term_end=days_ago(-930),
    )
    db.session.add(foreign_member)
    db.session.commit()
    other = world.users["other_staff"]
    # --- public links: the other community's works board has a live one ---
    from compound_app.public import service as public_links
    from compound_app.public.models import LinkKind

    foreign_link = public_links.link_for(LinkKind.WORKS_BOARD, objs["compound"].id, other)
    db.session.commit()
    # --- end public links ---
    fees = fee_objects(world.elsewhere, other, other)
    return {
        **fees,
        **recon_objects(world.elsewhere, other),  # reconciliation
        **repair_objects(world.elsewhere, other, other),
        **pilot_vote_objects(world.elsewhere, other),
        **notice_objects(world.elsewhere, other),  # notices
        **income_objects(world.elsewhere, other),  # common-part income
        **archive_objects(world.elsewhere, other),  # archive
        **fund_objects(world.elsewhere, other),  # the maintenance fund
        **problem_objects(world.elsewhere, other),  # the problem register
        **rectify_objects(world.elsewhere, other),  # rectification and inspections
        **transition_objects(world.elsewhere, other),  # the transition
        "compound_id": objs["compound"].id,
        "community_id": world.other_community.id,
        "area_id": objs["area"].id,
        "building_id": objs["building"].id,
        "unit_id": objs["unit"].id,
        "household_id": objs["household"].id,
        "occupant_id": objs["occupant"].id,
        "member_id": foreign_member.id,
        "user_id": world.users["other_staff"].id,
        "grant_id": other_grant.id,
        "ext": "xlsx",
        "link_id": foreign_link.id,  # public links
        "token": foreign_link.token,  # public links
        **_foreign_messages(other),
    }


# --- messages: a message of, and a failed SMS to, the other community's staff ---------------


def _foreign_messages(other) -> dict[str, object]:  # type: ignore[no-untyped-def]
    from compound_app.messages.models import Kind, OutboxStatus
    from compound_app.messages.service import enqueue_sms, notify

    (message,) = notify([other], Kind.DUTY, "待点收现金", "/")
    row = enqueue_sms(other.mobile, "duty", {"title": "待点收现金"})
    row.status = OutboxStatus.FAILED
    db.session.commit()
    return {"message_id": message.id, "outbox_id": row.id}


def _committee_for(area):  # type: ignore[no-untyped-def]
    from compound_app.committees import service

    return service.committee_for_area(area.id) or service.create_committee(
        area, "供电家属院物管会", days_ago(165)
    )


def _url(rule, args: dict[str, object]) -> str:  # type: ignore[no-untyped-def]
    missing = set(rule.arguments) - set(args)
    assert not missing, f"{rule.endpoint}: no test value for {missing}"
    url = rule.rule
    for name in rule.arguments:
        url = re.sub(rf"<(?:\w+:)?{name}>", str(args[name]), url)
    return url


def test_out_of_scope_objects_answer_404_for_every_role(world, app, login_as):
    args = _foreign_args(world)
    checked = 0
    for role in ROLES:
        client = login_as(world.users[role])
        for rule in _rules(app):
            object_args = set(rule.arguments) - {"ext"}
            if not object_args or rule.endpoint in PUBLIC_ENDPOINTS:
                continue
            url = _url(rule, args)
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                response = client.open(url, method=method, data={})
                assert response.status_code == 404, (role, method, url, response.status_code)
                # Nothing of the other community leaks into the error page.
                assert world.elsewhere.name not in response.get_data(as_text=True)
                checked += 1
    assert checked > 100


def test_other_community_staff_get_404_for_this_community(world, app, login_as):
    client = login_as(world.users["other_staff"])
    objs = world.objects_of(world.branch)
    for path in (
        f"/registry/compounds/{world.branch.id}",
        f"/registry/communities/{world.community.id}",
        f"/registry/households/{objs['household'].id}",
        f"/registry/units/{objs['unit'].id}/representative",
        f"/committees/areas/{world.branch.area_id}",
        f"/people/{world.users['resident'].id}",
    ):
        assert client.get(path).status_code == 404, path


def test_anonymous_visitors_are_sent_to_sign_in(world, app, client):
    args = _foreign_args(world)
    for rule in _rules(app):
        if rule.endpoint in PUBLIC_ENDPOINTS:
            continue
        url = _url(rule, args)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            response = client.open(url, method=method, data={})
            assert response.status_code == 302, (method, url, response.status_code)
            assert response.headers["Location"].startswith("/auth/login"), url


def test_htmx_request_without_session_redirects_the_whole_page(world, client):
    response = client.get(f"/registry/compounds/{world.branch.id}", headers={"HX-Request": "true"})
    assert response.status_code == 204
    assert response.headers["HX-Redirect"].startswith("/auth/login")


def test_huge_ids_answer_404_not_500(world, login_as):
    client = login_as(world.users["admin"])
    for path in (
        "/registry/compounds/99999999999999999999999",
        "/registry/households/9223372036854775808",
        "/people/99999999999999999999",
        "/committees/members/99999999999999999999/edit",
        "/people/grants/99999999999999999999/revoke",
    ):
        method = "POST" if path.endswith("revoke") else "GET"
        assert client.open(path, method=method).status_code == 404, path


@pytest.fixture
def csrf_app(database_uri, tmp_path):  # type: ignore[no-untyped-def]
    config = _config(database_uri, tmp_path)
    config["WTF_CSRF_ENABLED"] = True
    app = make_app(config)
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()


def _csrf_login(app: Flask, user) -> object:  # type: ignore[no-untyped-def]
    from tests.factories import PASSWORD

    client = app.test_client()
    page = client.get("/auth/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
    assert token, "login form has no CSRF field"
    response = client.post(
        "/auth/login",
        data={"mobile": user.mobile, "password": PASSWORD, "csrf_token": token.group(1)},
    )
    assert response.status_code == 303
    return client


def test_every_state_changing_route_refuses_a_request_without_csrf_token(csrf_app):
    from tests.factories import build_world

    world = build_world()
    args = _foreign_args(world)
    own = world.objects_of(world.branch)
    args.update(
        compound_id=own["compound"].id,
        community_id=world.community.id,
        area_id=own["area"].id,
        building_id=own["building"].id,
        unit_id=own["unit"].id,
        household_id=own["household"].id,
        occupant_id=own["occupant"].id,
        user_id=world.users["resident"].id,
    )
    client = _csrf_login(csrf_app, world.users["admin"])
    writes = [r for r in _rules(csrf_app) if r.methods & WRITE_METHODS]
    assert len(writes) > 20
    for rule in writes:
        url = _url(rule, args)
        for method in sorted(rule.methods & WRITE_METHODS):
            response = client.open(url, method=method, data={"name": "x"})
            assert response.status_code == 400, (method, url, response.status_code)
            # htmx sends the token as a header; a wrong one is refused as well.
            response = client.open(
                url, method=method, data={}, headers={"X-CSRFToken": "forged", "HX-Request": "true"}
            )
            assert response.status_code == 400, (method, url, "forged header")
    # Still signed in: the refusals changed nothing.
    assert client.get("/").status_code == 200

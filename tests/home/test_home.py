"""The home page: what waits for this person comes first, in words they read at a glance, with
one big button to it; a tenant or family member learns there that owners alone vote."""

from __future__ import annotations

import re
from typing import Any

import pytest

from compound_app.extensions import db
from compound_app.registry import roster
from compound_app.registry.models import Relation
from compound_app.repairs.models import Status
from tests.factories import World, first_household, user
from tests.repairs.test_repairs_on_a_phone import assert_ids_name_their_fields
from tests.repairs.test_repairs_pages import _move
from tests.repairs.test_repairs_service import Cast, bring, make_cast, resident_report
from tests.votes.test_votes_for_residents import OWNERS_ONLY

WAITS = "您的报修已完成，等您确认"


@pytest.fixture
def cast(world: World) -> Cast:
    return make_cast(world)


def _text(response: Any) -> str:
    return response.get_data(as_text=True)


def _card(html: str) -> str:
    start = html.index('<section class="card callout"')
    return html[start : html.index("</section>", start)]


def test_a_repair_done_waits_for_the_owners_check_at_the_top_of_his_home_page(
    world: World, cast: Cast, login_as: Any
) -> None:
    owner = login_as(cast["resident"])
    assert WAITS not in _text(owner.get("/"))  # nothing waits yet
    task = bring(resident_report(world), Status.DONE, cast)
    page = _text(owner.get("/"))
    assert_ids_name_their_fields(page, "home")
    card = _card(page)
    assert WAITS in card and "水暖 · 1号楼-1单元" in card
    assert f'<a class="button primary big" href="/repairs/{task.id}">去确认</a>' in card
    # First on the page: before the other things waiting and before his home's buttons.
    assert page.index(WAITS) < page.index('class="todo"') < page.index("我家")

    # Two waiting: the count, and the button leads to his reports.
    second = bring(resident_report(world, description="二楼楼道灯不亮"), Status.DONE, cast)
    card = _card(_text(owner.get("/")))
    assert "您有2项报修已完成，等您确认" in card
    assert '<a class="button primary big" href="/repairs/mine">去确认</a>' in card

    # Nobody else is asked to check his repairs.
    for role in ("neighbour", "committee", "rep", "tenant"):
        assert WAITS not in _text(login_as(cast[role]).get("/")), role
        assert "项报修已完成" not in _text(login_as(cast[role]).get("/")), role

    for done in (task, second):
        assert _move(owner, done, "confirm").status_code == 303
    assert 'class="card callout"' not in _text(owner.get("/"))


def test_on_the_home_page_a_tenant_or_family_member_learns_owners_alone_vote(
    world: World, login_as: Any
) -> None:
    tenant = _text(login_as(world.users["tenant"]).get("/"))
    home = tenant[tenant.index("城建小区") :]
    assert OWNERS_ONLY in home
    assert OWNERS_ONLY not in _text(login_as(world.users["resident"]).get("/"))

    family_home = first_household(world.branch)
    son = user("吴小军", resident=family_home.id)
    roster.add_occupant(family_home, son.name, son.mobile, Relation.FAMILY).user_id = son.id
    db.session.commit()
    assert OWNERS_ONLY in _text(login_as(son).get("/"))


def test_a_representatives_unit_card_reports_for_a_neighbour(
    world: World, cast: Cast, login_as: Any
) -> None:
    page = _text(login_as(cast["rep"]).get("/"))
    link = re.search(r'href="([^"]*neighbour=1[^"]*)">代居民报修</a>', page)
    assert link is not None and f"/repairs/compounds/{world.branch.id}/new?" in link[1]

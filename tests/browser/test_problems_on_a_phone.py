"""The problem register in a real browser: a resident on a 360×740 phone sends a complaint
from her home page, the committee hands it to the community, community staff reply and
fix it, and the resident checks the fix and rates the handling; every page accessible and
without sideways scrolling."""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import expect
from sqlalchemy import select

from compound_app.extensions import db
from compound_app.problems.models import Level, Problem, Status
from tests.browser.axe import assert_accessible
from tests.browser.test_flows import no_horizontal_scroll

PHONE = {"width": 360, "height": 740}


def _phone(page_factory: Any, who: Any) -> Any:
    page = page_factory(who, phone=True)
    page.set_viewport_size(PHONE)
    return page


def _checked(page: Any) -> None:
    assert_accessible(page)
    assert no_horizontal_scroll(page)


def test_a_complaint_from_a_phone_to_its_rating(page_factory: Any, live_server: Any) -> None:
    world = live_server.world
    resident = _phone(page_factory, world.users["resident"])
    resident.goto("/")
    resident.locator(f"a[href*='/problems/compounds/{world.branch.id}/new']").first.click()
    resident.wait_for_url(re.compile(r".*/problems/compounds/\d+/new.*"))
    _checked(resident)
    resident.locator("label", has_text="安全隐患").click()
    resident.fill("#title", "楼道灯坏了")
    resident.fill("#detail", "二单元三楼，晚上很黑，老人容易摔倒。")
    resident.locator("main button.primary").click()
    resident.wait_for_url(re.compile(r".*/problems/\d+$"))
    _checked(resident)
    db.session.rollback()
    problem = db.session.scalars(select(Problem)).one()
    assert problem.reporter_id == world.users["resident"].id

    chair = _phone(page_factory, world.users["committee"])
    chair.goto(f"/problems/compounds/{world.branch.id}")
    _checked(chair)
    chair.locator(f"a[href='/problems/{problem.id}']").click()
    chair.wait_for_url(f"**/problems/{problem.id}")
    _checked(chair)
    chair.locator("summary", has_text="责任层级").click()
    chair.select_option("#level-level", "community")
    chair.locator("form[action$='/level'] button").click()
    chair.wait_for_url(f"**/problems/{problem.id}")
    db.session.rollback()
    assert db.session.get(Problem, problem.id).level == Level.COMMUNITY

    staff = page_factory(world.users["staff"])
    staff.goto(f"/problems/{problem.id}")
    _checked(staff)
    staff.fill("#move-note", "已安排电工明天更换。")
    staff.locator("button[name=move][value=reply]").click()
    staff.wait_for_url(f"**/problems/{problem.id}")
    staff.locator("button[name=move][value=fix]").click()
    staff.wait_for_url(f"**/problems/{problem.id}")

    resident.goto("/")
    resident.locator("a", has_text="请验证").first.click()
    resident.wait_for_url(f"**/problems/{problem.id}")
    _checked(resident)
    resident.locator("button.primary[name=move][value=verify]").click()
    resident.wait_for_url(f"**/problems/{problem.id}")
    resident.locator("label", has_text="★★★★★").click()
    resident.locator("form[action$='/rate'] button").click()
    resident.wait_for_url(f"**/problems/{problem.id}")
    _checked(resident)
    db.session.rollback()
    done = db.session.get(Problem, problem.id)
    assert (done.status, done.rating) == (Status.CLOSED, 5)
    expect(resident.locator("main")).to_contain_text("★★★★★")

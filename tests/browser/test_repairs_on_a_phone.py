"""The repair pages the walk-through found wanting, in a real browser on a 360×740 phone: the
chair's new report (readable 退回, its own reason box), the filtered task list (one table),
the owner's check from his home page, and a representative reporting for a neighbour."""

from __future__ import annotations

import re
from typing import Any

from flask import current_app
from playwright.sync_api import expect
from sqlalchemy import select

from compound_app.extensions import db
from compound_app.repairs.models import Channel, RepairTask, Status
from tests.browser.axe import assert_accessible
from tests.browser.test_flows import no_horizontal_scroll
from tests.factories import first_household, first_unit
from tests.repairs.test_repairs_service import bring, make_cast, resident_report

PHONE = {"width": 360, "height": 740}


def _phone(page_factory: Any, who: Any) -> Any:
    page = page_factory(who, phone=True)
    page.set_viewport_size(PHONE)
    return page


def test_the_chair_assigns_or_rejects_and_filters_the_list_on_a_phone(
    page_factory: Any, live_server: Any
) -> None:
    world = live_server.world
    with current_app.test_request_context():
        task = resident_report(world)
    chair = _phone(page_factory, world.users["committee"])
    chair.goto(f"/repairs/{task.id}")
    assert_accessible(chair)
    assert no_horizontal_scroll(chair)
    chair.locator("details.other-steps summary").click()
    chair.fill("#other-note", "属于户内维修，请联系物业公司")
    assert_accessible(chair)  # 退回 is readable, and 原因 names its own box
    chair.locator("label[for=assign-note]").click()
    expect(chair.locator("#assign-note")).to_be_focused()  # 派单's 备注 is its own field

    chair.goto(f"/repairs/compounds/{world.branch.id}")
    for value, shown in (("finished", "没有符合条件的任务。"), ("open", "楼道水管漏水")):
        with chair.expect_response(lambda r: "status=" in r.url):
            chair.select_option("#status", value)
        expect(chair.locator("#task-table")).to_contain_text(shown)
        assert chair.locator("[id=task-table]").count() == 1, value
    assert "status=open" in chair.url
    assert_accessible(chair)


def test_the_owner_checks_from_his_home_page_and_a_representative_reports_for_a_neighbour(
    page_factory: Any, live_server: Any
) -> None:
    world = live_server.world
    with current_app.test_request_context():
        cast = make_cast(world)
        task = bring(resident_report(world), Status.DONE, cast)
    owner = _phone(page_factory, world.users["resident"])
    owner.goto("/")
    assert_accessible(owner)
    owner.locator(".callout a.button.primary").click()  # 去确认
    owner.wait_for_url(f"**/repairs/{task.id}")
    owner.locator("button.primary[name=move][value=confirm]").click()
    owner.wait_for_url(f"**/repairs/{task.id}")
    expect(owner.locator("#live .badge.repair-closed")).to_have_count(1)
    # Reopening is there, but folded away under its name and never the big button.
    reopen = owner.locator("details.other-steps button[value=reopen]")
    expect(owner.locator("details.other-steps summary")).to_have_text(reopen.text_content() or "?")
    expect(owner.locator("#live button.primary")).to_have_text("提交评价")
    assert_accessible(owner)

    rep = _phone(page_factory, world.users["rep"])
    unit = first_unit(world.branch)
    granny = first_household(world.branch)
    rep.locator(f"a[href*='neighbour=1'][href*='unit={unit.id}']").click()  # 代居民报修
    rep.select_option("#household", str(granny.id))
    assert_accessible(rep)
    rep.locator("main button.primary").click()  # 继续
    rep.wait_for_url(re.compile(rf".*household={granny.id}.*"))
    expect(rep.locator("h1")).to_have_text("代居民报修 · 1号楼-1单元-101")
    expect(rep.locator("#unit_id")).to_have_value(str(unit.id))
    assert_accessible(rep)
    assert no_horizontal_scroll(rep)
    rep.fill("#resident_name", "王奶奶")
    rep.select_option("#category", "building_door")
    rep.fill("#description", "楼宇门关不上，（老人）推不动！")
    rep.locator("main button.primary").click()
    rep.wait_for_url(re.compile(r".*/repairs/\d+$"))
    expect(rep.locator("h1")).to_have_text("楼宇门 · 1号楼-1单元")
    db.session.rollback()
    made = db.session.scalars(select(RepairTask).where(RepairTask.id != task.id)).one()
    assert (made.channel, made.household_id) == (Channel.ASSISTED, granny.id)
    assert made.description == "楼宇门关不上，（老人）推不动！"

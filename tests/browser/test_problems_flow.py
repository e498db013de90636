"""The three lists in a real browser: a resident on a 360×740 phone files a complaint, the
committee marks it community-level, community staff turn it into a rectification project
and record its progress and completion, the resident verifies and rates it from the
project's page, and staff see it counted on the register, the project list, the
dashboard's three lists and the exported ledger. Every page
accessible and without sideways scrolling."""

from __future__ import annotations

import io
import re
from datetime import timedelta
from pathlib import Path
from typing import Any

from openpyxl import load_workbook
from sqlalchemy import select

from compound_app import clock
from compound_app.extensions import db
from compound_app.problems.models import Level, Problem, Status
from compound_app.rectify.models import RectifyProject, Stage
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


def _counted(staff: Any, world: Any, problem: Problem, project: RectifyProject) -> None:
    """Staff see the handled complaint counted: closed on the register, verified among the
    community's projects, on the dashboard and in the exported ledger."""
    staff.goto(f"/problems/communities/{world.community.id}?status=closed")
    _checked(staff)
    assert staff.locator(f"a[href='/problems/{problem.id}']").count() == 1
    staff.goto(f"/rectify/communities/{world.community.id}?stage=verified")
    _checked(staff)
    assert staff.locator(f"a[href='/rectify/projects/{project.id}']").count() >= 1
    # The dashboard counts it, rated 5, and leads to the community's three lists; the
    # ledger (台账) exported there lists both.
    staff.goto("/oversight/")
    _checked(staff)
    lists = staff.locator("section.card", has_text="三个清单：问题、责任、整改")
    filed = lists.locator(".stat").first  # 问题总数; the rate's label names it too
    assert filed.locator("span").inner_text() == "问题总数"
    assert filed.locator("b").inner_text() == "1"
    assert "5.0 / 5" in lists.locator(".stat", has_text="群众满意度").inner_text()
    lists.get_by_role("link", name="社区三个清单").first.click()
    staff.wait_for_url(f"**/oversight/lists/communities/{world.community.id}")
    _checked(staff)
    assert staff.locator("main table", has_text=world.branch.name).count() >= 1
    with staff.expect_download() as info:
        staff.get_by_role("link", name="导出台账（Excel）").click()
    book = load_workbook(io.BytesIO(Path(info.value.path()).read_bytes()))
    cells = {
        sheet: {str(c) for row in book[sheet].iter_rows(values_only=True) for c in row}
        for sheet in ("问题清单", "整改清单")
    }
    assert problem.title in cells["问题清单"]
    assert project.title in cells["整改清单"]


def test_a_complaint_becomes_a_project_verified_and_rated(
    page_factory: Any, live_server: Any
) -> None:
    world = live_server.world
    resident = _phone(page_factory, world.users["resident"])
    resident.goto(f"/problems/compounds/{world.branch.id}/new")
    _checked(resident)
    resident.locator("label", has_text="设施设备").click()
    resident.fill("#title", "单元门坏了")
    resident.fill("#detail", "一单元防盗门关不上，晚上不安全。")
    resident.locator("main button.primary").click()
    resident.wait_for_url(re.compile(r".*/problems/\d+$"))
    _checked(resident)
    db.session.rollback()
    problem = db.session.scalars(select(Problem)).one()

    chair = _phone(page_factory, world.users["committee"])
    chair.goto(f"/problems/{problem.id}")
    _checked(chair)
    chair.locator("summary", has_text="责任层级").click()
    chair.select_option("#level-level", "community")
    chair.locator("form[action$='/level'] button").click()
    chair.wait_for_url(f"**/problems/{problem.id}")
    db.session.rollback()
    assert db.session.get(Problem, problem.id).level == Level.COMMUNITY

    # Community staff make it a project from the problem's page, and run it.
    staff = page_factory(world.users["staff"])
    staff.goto(f"/problems/{problem.id}")
    _checked(staff)
    staff.locator("#rectification a", has_text="立项整改").click()
    staff.wait_for_url(re.compile(r".*/rectify/communities/\d+/new.*"))
    _checked(staff)
    staff.select_option("#kind", "livelihood")
    staff.fill("#title", "单元门维修")
    staff.fill("#plan", "更换闭门器和门锁")
    staff.fill("#due_on", (clock.today() + timedelta(days=14)).isoformat())
    staff.locator("main button.primary").click()
    staff.wait_for_url(re.compile(r".*/rectify/projects/\d+$"))
    _checked(staff)
    db.session.rollback()
    project = db.session.scalars(select(RectifyProject)).one()
    assert db.session.get(Problem, problem.id).status == Status.REPLIED
    staff.locator("summary", has_text="记录进展").click()
    staff.fill("#note-note", "已采购闭门器")
    staff.locator("button", has_text="保存进展").click()
    staff.wait_for_url(f"**/rectify/projects/{project.id}")
    staff.locator("summary", has_text="整改已完成").click()
    staff.fill("#done-evidence", "闭门器和门锁已更换，门能自动关好")
    staff.locator("button", has_text="标记完成").click()
    staff.wait_for_url(f"**/rectify/projects/{project.id}")
    _checked(staff)

    # The resident is told; she checks the work and rates it from the project's page.
    resident.goto(f"/problems/{problem.id}")
    _checked(resident)
    resident.locator(f"#rectification a[href='/rectify/projects/{project.id}']").click()
    resident.wait_for_url(f"**/rectify/projects/{project.id}")
    _checked(resident)
    resident.select_option("#verdict", "accept")
    resident.select_option("#rating", "5")
    resident.fill("#note", "门修好了，谢谢")
    resident.locator("#verify button.primary").click()
    resident.wait_for_url(f"**/rectify/projects/{project.id}")
    _checked(resident)
    db.session.rollback()
    done = db.session.get(Problem, problem.id)
    assert (done.status, done.rating) == (Status.CLOSED, 5)
    assert db.session.get(RectifyProject, project.id).stage == Stage.VERIFIED

    _counted(staff, world, problem, project)

"""Repairs in a real browser: a resident reports from the stairwell, the committee works it."""

from __future__ import annotations

import re
from pathlib import Path

from PIL import Image
from sqlalchemy import select

from compound_app.extensions import db
from compound_app.repairs import queries
from compound_app.repairs.models import RepairTask
from tests.browser.test_flows import no_horizontal_scroll
from tests.factories import first_unit


def test_resident_reports_a_leak_with_a_photo_and_sees_it_move_without_reloading(
    page_factory, live_server, tmp_path: Path
):
    world = live_server.world
    compound = world.branch
    unit = first_unit(compound)
    photo = tmp_path / "leak.jpg"
    Image.new("RGB", (800, 600), (90, 110, 130)).save(photo, "JPEG")

    resident = page_factory(world.users["resident"], phone=True)
    resident.click(f"a[href*='/repairs/compounds/{compound.id}/new']")  # 报修, on the home page
    resident.wait_for_url(f"**/repairs/compounds/{compound.id}/new*")
    assert no_horizontal_scroll(resident)
    resident.select_option("select[name=category]", "sewer")
    resident.select_option("select[name=unit_id]", str(unit.id))
    resident.fill("textarea[name=description]", "一单元楼道下水管道漏水，地面积水")
    resident.set_input_files("input[name=photos]", str(photo))
    resident.locator("main button[type=submit]").dblclick()
    resident.wait_for_url(re.compile(r".*/repairs/\d+$"))
    db.session.rollback()
    task = db.session.scalars(select(RepairTask)).one()  # a double tap makes one report
    assert len(task.photos) == 1 and task.channel == "resident"
    assert resident.locator("#live .badge.repair-reported").count() == 1
    assert no_horizontal_scroll(resident)
    # Marks this page load: a reload would lose it.
    resident.evaluate("window.__sameLoad = true")

    chair = page_factory(world.users["committee"])
    chair.goto(f"/repairs/compounds/{compound.id}")
    chair.click(f"a[href$='/repairs/{task.id}']")
    chair.wait_for_url(f"**/repairs/{task.id}")
    chair.select_option("select[name=kind]", "member")
    chair.select_option("select[name=member_id]", str(world.users["committee"].id))
    chair.locator("form[action$='/assign'] button[type=submit]").click()
    chair.wait_for_url(f"**/repairs/{task.id}")
    chair.locator("button[name=move][value=start]").click()
    chair.wait_for_url(f"**/repairs/{task.id}")
    chair.fill("textarea[name=note], input[name=note]", "已更换破损管段")
    chair.locator("button[name=move][value=done]").click()
    chair.wait_for_url(f"**/repairs/{task.id}")
    assert chair.locator("#live .badge.repair-done").count() == 1

    # The resident's open page catches up by itself and offers the check.
    resident.wait_for_selector("#live .badge.repair-done", timeout=20_000)
    assert resident.evaluate("window.__sameLoad") is True
    resident.locator("button[name=move][value=confirm]").click()
    resident.wait_for_url(f"**/repairs/{task.id}")
    assert resident.locator("#live .badge.repair-closed").count() == 1
    db.session.rollback()
    task = db.session.get(RepairTask, task.id)
    assert task.status == "closed"
    assert [e.kind for e in task.events] == ["reported", "assigned", "started", "done", "confirmed"]
    assert queries.check_months() == []

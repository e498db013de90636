"""The committee's make-up in a real browser: the subdistrict's admin sets the committee
rules from the checklist thresholds page (a wrong range is explained, not saved); community
staff on a 360×740 phone see where the committee departs from them, seat a police station
member and record how the chair was appointed; the chair sees the same advice, a resident
of the compound sees the members only. Every page accessible and without sideways
scrolling."""

from __future__ import annotations

from typing import Any

from compound_app.committees import service
from compound_app.committees.models import CommitteeRules
from compound_app.extensions import db
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


def test_the_rules_are_set_and_the_committee_page_advises(
    page_factory: Any, live_server: Any
) -> None:
    world = live_server.world
    sub_id, area_id = world.subdistrict.id, world.branch.area_id

    # The admin follows the thresholds page's link to the committee rules.
    admin = page_factory(world.users["admin"])
    admin.goto(f"/oversight/subdistricts/{sub_id}/settings")
    _checked(admin)
    admin.get_by_role("link", name="物管会应如何组成（物管会组成规则）").click()
    admin.wait_for_url(f"**/committees/rules/{sub_id}")
    _checked(admin)
    admin.fill("#min_members", "9")
    admin.fill("#max_members", "7")
    admin.locator("main button.primary").click()
    assert "最多人数不能少于最少人数" in admin.locator("#max_members-error").inner_text()
    _checked(admin)
    db.session.rollback()
    assert db.session.get(CommitteeRules, sub_id) is None
    admin.fill("#min_members", "3")
    admin.fill("#max_members", "9")
    admin.fill("#max_term_years", "5")
    admin.locator("main button.primary").click()
    admin.wait_for_url(f"**/committees/rules/{sub_id}")
    _checked(admin)
    db.session.rollback()
    saved = db.session.get(CommitteeRules, sub_id)
    assert (saved.min_members, saved.max_members, saved.max_term_years) == (3, 9, 5)

    # Staff on a phone: the committee of one is too small, and its chair's appointment
    # is not recorded.
    staff = _phone(page_factory, world.users["staff"])
    staff.goto(f"/committees/areas/{area_id}")
    _checked(staff)
    advice = staff.locator("#makeup-findings")
    assert "现有成员1人：规则要求3至9人。" in advice.inner_text()
    assert "未记录主任产生方式" in advice.inner_text()
    staff.get_by_role("link", name="添加委员").click()
    staff.wait_for_url(f"**/committees/areas/{area_id}/members/new")
    _checked(staff)
    staff.fill("#name", "钱警官")
    staff.fill("#mobile", "13655556666")
    staff.select_option("#kind", "police")
    staff.locator("main button.primary").click()
    staff.wait_for_url(f"**/committees/areas/{area_id}")
    assert "派出所" in staff.locator("main table").inner_text()
    staff.get_by_role("link", name="记录主任产生方式").click()
    staff.wait_for_url(f"**/committees/areas/{area_id}/chair")
    _checked(staff)
    staff.select_option("#chair_appointed", "named")
    staff.fill("#chair_appointed_by", "新义街道办事处")
    staff.locator("main button.primary").click()
    staff.wait_for_url(f"**/committees/areas/{area_id}")
    _checked(staff)
    advice_text = staff.locator("#makeup-findings").inner_text()
    assert "未记录主任产生方式" not in advice_text
    assert "成员人数为双数（2人）" in advice_text and "现有成员2人" in advice_text
    db.session.rollback()
    assert service.committee_for_area(area_id).chair_appointed == "named"

    # The chair sees the same advice; a resident sees the members only.
    chair = _phone(page_factory, world.users["committee"])
    chair.goto(f"/committees/areas/{area_id}")
    _checked(chair)
    assert chair.locator("#makeup-findings").count() == 1
    resident = _phone(page_factory, world.users["resident"])
    resident.goto(f"/committees/areas/{area_id}")
    _checked(resident)
    assert resident.locator("#makeup-findings").count() == 0
    assert "钱警官" in resident.locator("main table").inner_text()

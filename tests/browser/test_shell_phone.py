"""The shared shell on a 360×740 phone: the header, the sign-in pages, the compound page, the
oversight pages and large text (适老化), checked after every page load and htmx swap.

Each check: no serious axe finding, no sideways scrolling, no id twice, nothing to tap
smaller than 24×24 px (WCAG 2.5.8), and the navigation, the header's switches and the
primary buttons at least 44×44 px.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from compound_app.extensions import db
from compound_app.oversight.facts import window
from tests.browser.axe import assert_accessible
from tests.factories import PASSWORD, first_unit
from tests.oversight.test_oversight import _fees, _pilot, _reps_everywhere

PHONE = {"viewport": {"width": 360, "height": 740}, "is_mobile": True, "has_touch": True}

MEASURE = """() => {
  const ids = {};
  document.querySelectorAll('[id]').forEach(e => { ids[e.id] = (ids[e.id] || 0) + 1; });
  const tappable = 'a[href], button, input:not([type=hidden]), select, textarea, summary';
  const small = [], nav = [];
  for (const el of document.querySelectorAll(tappable)) {
    let box = el.getBoundingClientRect();
    if (!box.width || !box.height || getComputedStyle(el).visibility === 'hidden') continue;
    if ((el.type === 'checkbox' || el.type === 'radio') && el.closest('label')) {
      box = el.closest('label').getBoundingClientRect();  // the label is the target
    }
    const text = (el.innerText || el.name || '').trim().slice(0, 20);
    const size = `${Math.round(box.width)}×${Math.round(box.height)}`;
    const what = `${el.tagName.toLowerCase()}.${el.className} "${text}" ${size}`;
    if (box.width < 24 || box.height < 24) small.push(what);
    const header = el.closest('.topbar, .langswitch');
    const big = header || el.matches('.primary, .button.small, button.small');
    if (big && (box.height < 44 || (header && box.width < 44))) nav.push(what);
  }
  return {
    duplicates: Object.keys(ids).filter(k => ids[k] > 1),
    overflow: document.scrollingElement.scrollWidth - window.innerWidth,
    small, nav,
  };
}"""


def check(page: Any) -> None:
    """Everything a phone user would trip over on the page as it is now."""
    found = page.evaluate(MEASURE)
    where = page.url
    assert found["overflow"] <= 0, f"{where}: {found['overflow']} px wider than the phone"
    assert not found["duplicates"], f"{where}: ids twice: {found['duplicates']}"
    assert not found["small"], f"{where}: smaller than 24×24: {found['small']}"
    assert not found["nav"], f"{where}: navigation or primary under 44×44: {found['nav']}"
    assert_accessible(page)


@pytest.fixture
def phone(browser: Any, live_server: Any) -> Iterator[Any]:
    """``phone(user=None, large=False)`` → a 360×740 page, signed in when a user is given."""
    contexts, problems = [], []

    def make(user: Any = None) -> Any:
        context = browser.new_context(locale="zh-CN", base_url=live_server.url, **PHONE)
        contexts.append(context)
        page = context.new_page()
        page.on("pageerror", lambda err: problems.append(str(err)))
        page.on(
            "console",
            lambda msg: problems.append(msg.text) if "Refused to" in msg.text else None,
        )
        page.goto("/auth/login")
        if user is not None:
            page.fill("#mobile", user.mobile)
            page.fill("#password", PASSWORD)
            page.click("button[type=submit].primary")
            page.wait_for_url(live_server.url + "/")
        return page

    yield make
    for context in contexts:
        context.close()
    assert not problems, problems


def is_large(page: Any) -> bool:
    return page.evaluate("document.documentElement.classList.contains('large')")


def test_sign_in_pages_on_a_phone_in_both_text_sizes(phone: Any, live_server: Any) -> None:
    page = phone()
    for large in (False, True):
        for path in ("/auth/login", "/auth/code", "/auth/activate"):
            page.goto(path)
            assert is_large(page) is large
            check(page)
        if not large:
            # One tap in the header, and the page comes back the same, in large text.
            page.goto("/auth/code")
            page.click(".topbar .textsize button")
            page.wait_for_url(re.compile(r".*/auth/code$"))
            assert is_large(page)
    size = page.evaluate("parseFloat(getComputedStyle(document.body).fontSize)")
    line = page.evaluate("parseFloat(getComputedStyle(document.body).lineHeight)")
    assert size >= 18 and line >= 1.5 * size
    # Signing in keeps large text on: the same person needs it inside too.
    page.goto("/auth/login")
    resident = live_server.world.users["resident"]
    page.fill("#mobile", resident.mobile)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit].primary")
    page.wait_for_url(live_server.url + "/")
    assert is_large(page)
    check(page)
    page.click(".topbar .textsize button")
    page.wait_for_url(live_server.url + "/")
    assert not is_large(page)
    check(page)


def test_the_chair_adds_a_household_on_a_phone(phone: Any, live_server: Any) -> None:
    world = live_server.world
    unit = first_unit(world.branch)
    page = phone(world.users["committee"])
    check(page)
    page.goto(f"/registry/compounds/{world.branch.id}")
    check(page)
    page.locator(f"#add-household-{unit.id} a").click()
    form = page.locator(f"#add-household-{unit.id} form")
    form.wait_for()
    check(page)
    form.locator("input[name=room]").fill("601")
    form.locator("input[name=area]").fill("88.5")
    form.locator("button[type=submit]").click()
    status = page.locator(f"#add-household-{unit.id} [role=status]")
    status.wait_for()
    assert "601" in status.inner_text()
    # The confirmation is on the screen where the chair is, not at the top of the page.
    box = status.bounding_box()
    assert box is not None and 0 <= box["y"] <= 740
    assert page.locator("#flash").inner_text() == ""
    check(page)
    # A second unit's form open beside the first: still no id twice.
    other = world.branch.buildings[1].units[0]
    page.locator(f"#add-household-{other.id} a").click()
    page.locator(f"#add-household-{other.id} form").wait_for()
    check(page)
    # And a row opened for editing.
    row = page.locator(f"#household-{unit.households[0].id}")
    row.locator("a[href$='/edit']").click()
    page.locator(f"#household-{unit.households[0].id}.editing").wait_for()
    check(page)


def test_a_resident_reads_the_compound_and_the_account_in_large_text(
    phone: Any, live_server: Any
) -> None:
    world = live_server.world
    page = phone(world.users["resident"])
    page.goto("/auth/account")
    page.get_by_role("button", name="换成大字").click()
    page.wait_for_url(re.compile(r".*/auth/account$"))
    assert is_large(page)
    for path in ("/", "/auth/account", f"/registry/compounds/{world.branch.id}"):
        page.goto(path)
        assert is_large(page)
        check(page)
    # 7:1 for body text: the text colour against white.
    ink = page.evaluate("getComputedStyle(document.body).color")
    assert ink in ("rgb(17, 17, 17)",), ink


def test_staff_oversight_on_a_phone_after_each_swap(phone: Any, live_server: Any) -> None:
    world = live_server.world
    _pilot(world.branch, "party_branch", window(3)[0])
    _reps_everywhere(world)
    _fees(world, paid_months={0: 2})
    pilot = _pilot(world.trust, "trusteeship", window(3)[0])
    db.session.commit()
    page = phone(world.users["admin"])
    page.goto("/oversight/")
    check(page)
    page.select_option("#f-model", "party_branch")
    page.wait_for_url(re.compile(r".*model=party_branch.*"))
    page.locator("#pilot-table tbody tr").first.wait_for()
    assert page.locator("[id=pilot-table]").count() == 1
    assert page.locator("#pilot-table .card").count() == 0
    check(page)
    # The table's headings are hidden on a phone: the filter form sorts it.
    page.select_option("#f-sort", "rate")
    page.wait_for_url(re.compile(r".*sort=rate.*"))
    page.select_option("#f-dir", "desc")
    page.wait_for_url(re.compile(r".*dir=desc.*"))
    assert page.locator("[id=pilot-table]").count() == 1
    check(page)
    page.goto(f"/oversight/pilots/{pilot.id}")
    check(page)
    sizes = page.eval_on_selector_all(
        ".chart-axis span, .chart-top",
        "els => els.map(e => parseFloat(getComputedStyle(e).fontSize))",
    )
    assert sizes and min(sizes) >= 12, sizes
    for path in ("/registry/compounds", "/registry/communities", "/people/"):
        page.goto(path)
        check(page)
    page.goto(f"/committees/areas/{world.branch.area_id}")
    check(page)

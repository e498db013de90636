"""The main flow of each persona, in a real browser, on a desktop and on a phone."""

from __future__ import annotations

from sqlalchemy import select

from compound_app.extensions import db
from compound_app.registry.models import Household
from tests.factories import first_unit


def no_horizontal_scroll(page) -> bool:  # type: ignore[no-untyped-def]
    """The page fits the device's width. Measured against the viewport set for the page,
    not innerWidth: a mobile browser widens its layout viewport to fit an overflowing page."""
    width = page.viewport_size["width"]
    page.wait_for_load_state()
    return page.evaluate(
        "w => (document.scrollingElement || document.documentElement).scrollWidth <= w + 1", width
    )


def test_committee_member_adds_a_household_through_the_htmx_form(page_factory, live_server):
    world = live_server.world
    unit = first_unit(world.branch)
    page = page_factory(world.users["committee"])
    page.click(f'a[href$="/registry/compounds/{world.branch.id}"]')
    page.wait_for_url(f"**/registry/compounds/{world.branch.id}")
    # A marker on window survives only if the page is not reloaded.
    page.evaluate("window.__stillHere = true")
    section = page.locator(f"#unit-{unit.id}")
    section.locator("text=添加房屋").first.click()
    form = page.locator(f"#add-household-{unit.id} form")
    form.wait_for()
    form.locator("input[name=room]").fill("601")
    form.locator("input[name=area]").fill("88.5")
    form.locator("select[name=occupancy]").select_option("rented")
    form.locator("button[type=submit]").click()
    page.locator(f"#unit-{unit.id}-rows >> text=601").wait_for()
    assert page.evaluate("window.__stillHere") is True
    # Confirmed where the chair is typing, not at the top of the page.
    assert "601" in page.locator(f"#add-household-{unit.id} [role=status]").inner_text()
    # A bad value is answered next to the field, still without a reload.
    form = page.locator(f"#add-household-{unit.id} form")
    form.locator("input[name=room]").fill("602")
    form.locator("input[name=area]").fill("abc")
    form.locator("button[type=submit]").click()
    page.locator(f"#add-household-{unit.id} #u{unit.id}-area-error").wait_for()
    assert page.evaluate("window.__stillHere") is True
    db.session.rollback()  # end this thread's read snapshot to see the server's writes
    rooms = {
        h.room for h in db.session.scalars(select(Household).where(Household.unit_id == unit.id))
    }
    assert "601" in rooms and "602" not in rooms


def test_household_row_is_edited_inline(page_factory, live_server):
    world = live_server.world
    household = first_unit(world.branch).households[1]
    page = page_factory(world.users["staff"])
    page.goto(f"/registry/compounds/{world.branch.id}")
    row = page.locator(f"#household-{household.id}")
    row.locator("a[href$='/edit']").click()
    page.locator(f"#household-{household.id}.editing input[name=area]").fill("99")
    page.locator(f"#household-{household.id}.editing button[type=submit]").click()
    page.locator(f"#household-{household.id}:not(.editing) >> text=99 m²").wait_for()


def test_staff_filter_the_compound_list_live(page_factory, live_server):
    page = page_factory(live_server.world.users["staff"])
    page.goto("/registry/compounds")
    assert page.locator("#compound-table >> text=城建小区").count() == 1
    page.fill("#f-q", "绿城")
    page.locator("#compound-table >> text=城建小区").wait_for(state="detached")
    assert page.locator("#compound-table >> text=绿城2号院").count() == 1
    assert "q=" in page.url  # the filter is in the address, so it can be shared and reloaded


def test_resident_sees_home_and_compound_on_a_phone(page_factory, live_server):
    world = live_server.world
    page = page_factory(world.users["resident"], phone=True)
    assert no_horizontal_scroll(page)
    page.click(f"a[href$='/registry/compounds/{world.branch.id}']")
    page.wait_for_url(f"**/registry/compounds/{world.branch.id}")
    assert page.locator("text=孙德明").count() >= 1
    assert no_horizontal_scroll(page)
    page.go_back()
    page.click("a[href^='/registry/households/']")
    page.wait_for_url("**/registry/households/*")
    assert no_horizontal_scroll(page)
    assert page.locator("h1").inner_text().startswith(world.branch.name)


def test_representative_on_a_phone_sees_the_unit_roster(page_factory, live_server):
    world = live_server.world
    unit = first_unit(world.branch)
    page = page_factory(world.users["rep"], phone=True)
    card = page.locator(".card", has_text=unit.name).first
    card.get_by_role("link", name="居民", exact=True).click()
    page.locator(f"#unit-{unit.id}-rows").wait_for()
    assert no_horizontal_scroll(page)
    assert page.locator(f"#unit-{unit.id}-rows tr").count() == len(unit.households)


def test_opening_a_building_of_a_large_compound_loads_its_rows(page_factory, live_server):
    from compound_app.extensions import db
    from tests.factories import compound

    world = live_server.world
    big = compound(world.community, "大院", buildings=5, units=2, households=8)
    building_id = big.buildings[4].id
    db.session.commit()
    page = page_factory(world.users["staff"])
    page.goto(f"/registry/compounds/{big.id}")
    assert page.locator("tr[id^=household-]").count() == 0
    page.locator(f"#building-{building_id} > summary").click()
    page.locator(f"#building-{building_id} tr[id^=household-]").first.wait_for()
    assert page.locator(f"#building-{building_id} tr[id^=household-]").count() == 16

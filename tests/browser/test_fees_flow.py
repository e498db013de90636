"""Fees in a real browser: a representative in the stairwell, the treasurer at home."""

from __future__ import annotations

from sqlalchemy import func, select

from compound_app import clock
from compound_app.extensions import db
from compound_app.fees import proofs, schedules
from compound_app.fees.models import CashHandover, HandoverConfirmation, Payment
from compound_app.months import add_months, month_of
from tests.browser.axe import assert_accessible
from tests.browser.test_flows import no_horizontal_scroll
from tests.factories import fee_schedule, first_unit


def test_rep_logs_cash_on_a_phone_double_clicks_and_the_treasurer_counts_it(
    page_factory, live_server
):
    world = live_server.world
    area = world.branch.area
    fee_schedule(area, start=add_months(month_of(clock.today()), -1))
    schedules.catch_up(area.id)
    db.session.commit()
    unit = first_unit(world.branch)
    home = unit.households[1]

    page = page_factory(world.users["rep"], phone=True)
    page.click(f"a[href$='/fees/units/{unit.id}']")  # 物业费：谁欠多少, on the home page
    page.wait_for_url(f"**/fees/units/{unit.id}")
    assert no_horizontal_scroll(page)
    page.click(f"a[href$='/fees/households/{home.id}/pay']")
    page.wait_for_url(f"**/fees/households/{home.id}/pay")
    assert no_horizontal_scroll(page)
    page.fill("input[name=amount]", "30")
    page.locator("main button[type=submit]").dblclick()
    page.wait_for_url("**/fees/payments/*")
    assert "叁拾元整" in page.locator(".receipt.copy-payer").inner_text()
    assert no_horizontal_scroll(page)
    db.session.rollback()  # a fresh snapshot: the server's writes
    assert db.session.scalar(select(func.count(Payment.id))) == 1

    # The cash goes to the treasurer (this committee has none: its chair counts it). The
    # amount is checked on a second step before anything is recorded.
    page.goto(f"/fees/areas/{area.id}/cash")
    assert page.locator("input[name=amount]").input_value() == "30"
    with page.expect_navigation():
        page.locator("#my-cash form button.primary").click()
    assert "¥30.00" in page.locator("#check-handover").inner_text()
    assert no_horizontal_scroll(page)
    assert_accessible(page)
    db.session.rollback()
    assert db.session.scalar(select(func.count(CashHandover.id))) == 0
    with page.expect_navigation():
        page.locator("#my-cash form button.primary").dblclick()
    page.wait_for_url(f"**/fees/areas/{area.id}/cash")
    db.session.rollback()
    handover = db.session.scalars(select(CashHandover)).one()
    assert handover.amount_fen == 3000

    # The chair counts it on a phone: the waiting hand-over is on the first screen, the
    # count field empty until she types it or ticks that it matches.
    chair = page_factory(world.users["committee"], phone=True)
    chair.goto(f"/fees/areas/{area.id}/cash")
    assert no_horizontal_scroll(chair)
    assert_accessible(chair)
    count = chair.locator(f"form[action$='/fees/handovers/{handover.id}/confirm']")
    assert count.locator("input[name=received]").input_value() == ""
    assert count.locator("button").bounding_box()["y"] < 740 * 1.5
    with chair.expect_navigation():
        count.locator("button").click()  # neither typed nor ticked: refused
    db.session.rollback()
    assert db.session.scalar(select(func.count(HandoverConfirmation.id))) == 0
    count.locator("input[name=as_handed]").check()
    with chair.expect_navigation():
        count.locator("button").click()
    db.session.rollback()
    confirmation = db.session.scalars(select(HandoverConfirmation)).one()
    assert confirmation.received_fen == 3000
    assert proofs.check_totals() == []


def test_the_board_and_the_cash_page_show_their_totals_first_on_a_small_phone(
    page_factory, live_server
):
    world = live_server.world
    area = world.branch.area
    fee_schedule(area, start=add_months(month_of(clock.today()), -2))
    schedules.catch_up(area.id)
    db.session.commit()

    chair = page_factory(world.users["committee"], phone=True)
    chair.set_viewport_size({"width": 360, "height": 740})
    for path in (f"/fees/areas/{area.id}/board", f"/fees/areas/{area.id}/cash"):
        chair.goto(path)
        assert no_horizontal_scroll(chair), path
        totals = chair.locator("main .stats.money").first.bounding_box()
        assert totals["y"] + totals["height"] <= 740, path  # on the first screen
        assert_accessible(chair)

    # On the board the rooms owing open on a tap, without script of their own.
    chair.goto(f"/fees/areas/{area.id}/board")
    rooms = chair.locator("#owing ul.arrears-rooms")
    assert not rooms.is_visible()
    chair.locator("#owing > summary").click()
    assert rooms.is_visible()
    assert no_horizontal_scroll(chair)
    assert_accessible(chair)


def test_staff_record_the_communitys_exception_and_the_resident_reads_it_on_a_phone(
    page_factory, live_server
):
    """The trusteeship's staff put a fee standard into force as the community's exception,
    with its reason; the resident's fee page says so, in a line of its own."""
    from datetime import timedelta

    from compound_app.fees.models import Basis, Cycle, FeeSchedule
    from tests.factories import first_household

    world = live_server.world
    area = world.branch.area
    today = clock.today()
    draft = schedules.new_draft(area, None, today=today - timedelta(days=7))
    schedules.update_terms(
        draft,
        cycle=Cycle.MONTH,
        start_month=month_of(today),
        vacant_percent=50,
        publicity_days=7,
        today=today - timedelta(days=7),
    )
    schedules.add_item(draft, name="保洁", scope="", basis=Basis.PER_HOUSEHOLD, rate_fen=1000)
    schedules.publish(draft, today=today - timedelta(days=7))
    db.session.commit()

    staff = page_factory(world.users["staff"], phone=True)
    staff.goto(f"/fees/schedules/{draft.id}")
    assert no_horizontal_scroll(staff)
    assert_accessible(staff)
    staff.select_option("select[name=how]", "community")
    staff.fill("[name=note]", "托管期间由社区决定，待业主表决")
    with staff.expect_navigation():
        staff.locator("form[action$='/approve'] button.primary").click()
    db.session.rollback()
    assert db.session.get(FeeSchedule, draft.id).approved_how == "community"

    resident = page_factory(world.users["resident"], phone=True)
    resident.goto(f"/fees/households/{first_household(world.branch).id}")
    line = resident.locator("[data-exception]").inner_text()
    assert line == "本收费标准由社区决定（例外），未经业主表决：托管期间由社区决定，待业主表决"
    assert no_horizontal_scroll(resident)
    assert_accessible(resident)

"""Fees in a real browser: a representative in the stairwell, the treasurer at home."""

from __future__ import annotations

from sqlalchemy import func, select

from compound_app import clock
from compound_app.extensions import db
from compound_app.fees import proofs, schedules
from compound_app.fees.models import CashHandover, HandoverConfirmation, Payment
from compound_app.months import add_months, month_of
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
    assert "叁拾元整" in page.locator(".receipt").inner_text()
    assert no_horizontal_scroll(page)
    db.session.rollback()  # a fresh snapshot: the server's writes
    assert db.session.scalar(select(func.count(Payment.id))) == 1

    # The cash goes to the treasurer (this committee has none: its chair counts it).
    page.goto(f"/fees/areas/{area.id}/cash")
    assert page.locator("input[name=amount]").input_value() == "30"
    page.locator("main form button.primary").click()
    page.wait_for_url(f"**/fees/areas/{area.id}/cash")
    db.session.rollback()
    handover = db.session.scalars(select(CashHandover)).one()
    assert handover.amount_fen == 3000

    chair = page_factory(world.users["committee"])
    chair.goto(f"/fees/areas/{area.id}/cash")
    chair.locator(f"form[action$='/fees/handovers/{handover.id}/confirm'] button").click()
    chair.wait_for_url(f"**/fees/areas/{area.id}/cash")
    db.session.rollback()
    confirmation = db.session.scalars(select(HandoverConfirmation)).one()
    assert confirmation.received_fen == 3000
    assert proofs.check_totals() == []

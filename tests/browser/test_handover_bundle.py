"""The hand-over bundle in a real browser: the committee's chair on a phone finds it from
the area's fee page, sees the cash still out and the arrears; staff take the workbook and
the PDF to sign. axe on every page."""

from __future__ import annotations

import io
import re

from openpyxl import load_workbook

from compound_app import clock
from compound_app.extensions import db
from compound_app.fees import ledger, schedules
from compound_app.fees.models import Method
from compound_app.months import add_months, this_month
from tests.browser.axe import assert_accessible
from tests.browser.test_flows import no_horizontal_scroll
from tests.factories import fee_schedule, first_household, user


def test_the_chair_previews_the_bundle_on_a_phone_and_staff_download_it(page_factory, live_server):
    world = live_server.world
    area = world.contiguous_area
    fee_schedule(area, start=add_months(this_month(), -2))
    schedules.catch_up(area.id)
    ledger.record_payment(
        first_household(world.contiguous[0]),
        amount_fen=3000,
        method=Method.CASH,
        paid_on=clock.today(),
        collector=user("钱收款"),
        request_key="browser-bundle-payment-0001",
    )
    db.session.commit()

    chair = page_factory(world.users["area_committee"], phone=True)
    chair.goto(f"/fees/areas/{area.id}")
    chair.click(f"a[href$='/fees/areas/{area.id}/handover-bundle']")
    chair.wait_for_url(re.compile(rf".*/fees/areas/{area.id}/handover-bundle$"))
    notice = chair.locator("#open-money").inner_text()
    assert "钱收款" in notice and "¥30.00" in notice
    chair.locator("#arrears summary").click()
    assert chair.locator("#arrears tbody tr").count() == 11  # twelve homes, one has paid
    assert no_horizontal_scroll(chair)
    assert_accessible(chair)

    staff = page_factory(world.users["staff"])
    staff.goto(f"/fees/areas/{area.id}/handover-bundle")
    assert_accessible(staff)
    with staff.expect_download() as download:
        staff.click("a[href$='/handover-bundle.xlsx']")
    assert download.value.suggested_filename.endswith(".xlsx")
    book = load_workbook(io.BytesIO(download.value.path().read_bytes()))
    assert book.sheetnames[0] == "汇总" and book["欠费"].max_row == 12
    with staff.expect_download() as download:
        staff.click("a[href$='/handover-bundle.pdf']")
    assert download.value.path().read_bytes().startswith(b"%PDF-")

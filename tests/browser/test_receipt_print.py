"""A receipt in a real browser: the payer's copy on a phone, and printed, both copies on
one A4 sheet with the seal on the payer's copy only."""

from __future__ import annotations

import io
import os

from compound_app import clock
from compound_app.extensions import db
from compound_app.fees import ledger, schedules
from compound_app.fees.models import Method, ReceiptSeal
from compound_app.months import add_months, month_of
from compound_app.uploads import upload_dir
from tests.browser.axe import assert_accessible
from tests.browser.test_flows import no_horizontal_scroll
from tests.factories import fee_schedule, first_household


def _seal_file() -> str:
    from PIL import Image, ImageDraw

    image = Image.new("RGBA", (200, 200), (255, 255, 255, 0))
    ImageDraw.Draw(image).ellipse((8, 8, 192, 192), outline=(200, 0, 0, 255), width=10)
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    name = "browser-test-seal.png"
    (upload_dir() / name).write_bytes(buffer.getvalue())
    return name


def test_a_receipt_reads_on_a_phone_and_prints_two_copies_on_one_a4_sheet(
    page_factory, live_server
):
    world = live_server.world
    area = world.branch.area
    fee_schedule(area, start=add_months(month_of(clock.today()), -1))
    schedules.catch_up(area.id)
    chair = world.users["committee"]
    db.session.add(
        ReceiptSeal(
            area_id=area.id,
            file=_seal_file(),
            uploaded_by_id=chair.id,
            request_key="browser-test-seal-0000001",
        )
    )
    payment = ledger.record_payment(
        first_household(world.branch),
        amount_fen=12_050,
        method=Method.CASH,
        paid_on=clock.today(),
        collector=world.users["rep"],
        request_key="browser-test-receipt-00001",
        payer_name="阿依古丽·买买提",
        note="代邻居交",
    ).payment
    db.session.commit()

    page = page_factory(world.users["rep"], phone=True)
    page.goto(f"/fees/payments/{payment.id}")
    payer_copy = page.locator(".receipt.copy-payer")
    assert "壹佰贰拾元伍角整" in payer_copy.inner_text()
    assert "阿依古丽·买买提" in payer_copy.inner_text()
    assert page.locator(".receipt.copy-stub").is_hidden()  # on screen: the payer's copy
    assert page.locator(".receipt.copy-payer img.seal").is_visible()
    assert no_horizontal_scroll(page)
    assert_accessible(page)

    page.emulate_media(media="print")
    assert page.locator(".receipt.copy-stub").is_visible()
    assert page.locator(".cut-line").is_visible()
    assert page.locator(".receipt.copy-stub img.seal").count() == 0
    pdf = page.pdf(format="A4", print_background=True)
    assert pdf.count(b"/Type /Page") - pdf.count(b"/Type /Pages") == 1  # one A4 sheet
    if os.environ.get("RECEIPT_SHOTS"):
        page.set_viewport_size({"width": 794, "height": 1123})
        page.screenshot(path=os.environ["RECEIPT_SHOTS"] + "/receipt-print.png", full_page=True)
        page.emulate_media(media="screen")
        page.set_viewport_size({"width": 390, "height": 844})
        page.screenshot(path=os.environ["RECEIPT_SHOTS"] + "/receipt-phone.png", full_page=True)

"""The owner's right to see, in a real browser on a 360×740 phone: from his home page to
the finance board, a category's expenses, and an expense's voucher photo; axe on every
page."""

from __future__ import annotations

import io
from typing import Any

from flask import current_app
from PIL import Image
from werkzeug.datastructures import FileStorage

from compound_app import clock
from compound_app.extensions import db
from compound_app.fees import expenses, schedules
from compound_app.fees.models import ExpenseKind
from compound_app.months import add_months, month_of
from compound_app.uploads import save_photo
from tests.browser.axe import assert_accessible
from tests.browser.test_flows import no_horizontal_scroll
from tests.factories import fee_schedule

PHONE = {"width": 360, "height": 740}


def _voucher() -> str:
    buffer = io.BytesIO()
    Image.new("RGB", (60, 40), (250, 250, 245)).save(buffer, "JPEG")
    buffer.seek(0)
    return save_photo(FileStorage(buffer, "发票.jpg"))


def test_the_owner_taps_from_the_board_to_an_expenses_voucher(
    page_factory: Any, live_server: Any
) -> None:
    world = live_server.world
    area = world.branch.area
    last_month = add_months(month_of(clock.today()), -1)
    fee_schedule(area, start=add_months(last_month, -1))
    schedules.catch_up(area.id)
    with current_app.test_request_context():
        expense = expenses.record_expense(
            area,
            world.users["committee"],
            kind=ExpenseKind.SERVICE,
            category="保洁",
            amount_fen=18_000,
            payee="孝义市洁美保洁有限公司",
            spent_on=last_month.replace(day=20),
            note="楼道保洁",
            voucher=_voucher(),
            request_key="browser-archive-expense-0001",
        )
    db.session.commit()

    owner = page_factory(world.users["resident"], phone=True)
    owner.set_viewport_size(PHONE)
    board = owner.locator(f"a[href$='/fees/areas/{area.id}/board']").first
    board.click()
    owner.wait_for_url(f"**/fees/areas/{area.id}/board")
    assert no_horizontal_scroll(owner)
    assert_accessible(owner)
    owner.locator("#spending summary").click()  # the spending folds to its total on a phone
    category = owner.locator("#spending a", has_text="保洁")
    assert category.bounding_box()["height"] >= 44
    category.click()
    owner.wait_for_url("**/archive/areas/*/expenses?*")
    assert "孝义市洁美保洁有限公司" in owner.locator("main").inner_text()
    assert no_horizontal_scroll(owner)
    assert_accessible(owner)
    voucher = owner.locator(f"a[href$='/archive/expenses/{expense.id}/voucher']")
    assert voucher.bounding_box()["height"] >= 44
    with owner.expect_download() as download:
        voucher.click()
    assert download.value.suggested_filename == f"voucher-{expense.id}.jpg"

    # The archive, from the board's link: on the phone, and accessible.
    owner.go_back()
    owner.locator(f"a[href$='/archive/areas/{area.id}']").first.click()
    owner.wait_for_url(f"**/archive/areas/{area.id}")
    assert no_horizontal_scroll(owner)
    assert_accessible(owner)

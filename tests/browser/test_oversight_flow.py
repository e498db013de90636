"""Oversight in a real browser: subdistrict staff compare the pilots and take the ledger."""

from __future__ import annotations

import io
import re

from openpyxl import load_workbook
from playwright.sync_api import expect

from compound_app.oversight.facts import window
from tests.oversight.test_oversight import _fees, _pilot, _reps_everywhere


def test_subdistrict_staff_filter_sort_open_a_pilot_and_export_the_ledger(
    page_factory, live_server
):
    world = live_server.world
    _pilot(world.branch, "party_branch", window(3)[0])
    _reps_everywhere(world)
    _fees(world, paid_months={0: 2})
    _pilot(world.unmanaged, "contiguous", window(3)[0])
    _pilot(world.trust, "trusteeship", window(3)[0])

    page = page_factory(world.users["admin"])
    page.click("a[href$='/oversight/']")
    page.wait_for_url("**/oversight/")
    rows = page.locator("#pilot-table tbody tr")
    assert rows.count() == 3

    page.select_option("#f-model", "party_branch")
    page.wait_for_url(re.compile(r".*model=party_branch.*"))
    expect(rows).to_have_count(1)
    assert world.branch.name in rows.first.inner_text()

    page.select_option("#f-model", "")
    expect(rows).to_have_count(3)
    page.click("#pilot-table a[data-sort=rate]")  # ascending
    page.wait_for_url(re.compile(r".*sort=rate.*"))
    page.click("#pilot-table a[data-sort=rate]")  # and descending: the best first
    page.wait_for_url(re.compile(r".*dir=desc.*"))
    assert world.branch.name in rows.first.inner_text()
    assert "87.5%" in rows.first.locator("td.rate").inner_text()

    with page.expect_download() as download:
        page.click("a[href*='/oversight/ledger.xlsx']")
    assert download.value.suggested_filename.endswith(".xlsx")
    book = load_workbook(io.BytesIO(download.value.path().read_bytes()))
    ledger = list(book["试点台账"].values)
    assert ledger[0][1] == "小区"
    assert {row[1] for row in ledger[1:]} == {
        world.branch.name,
        world.unmanaged.name,
        world.trust.name,
    }

    rows.first.locator("a").first.click()
    page.wait_for_url(re.compile(r".*/oversight/pilots/\d+$"))
    assert page.locator("ul.checklist li").count() == 7  # six thresholds, owners decide fees
    assert page.locator("figure.chart svg polyline").count() >= 1

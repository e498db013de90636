"""The transition in a real browser: the committee's chair on a phone records the elected
owners' committee, staff at a desk find the pilot on their list, file the result and
confirm the hand-over, take its PDF; a resident reads the path on a phone. axe on every
page."""

from __future__ import annotations

import hashlib
import re

from sqlalchemy import select

from compound_app import clock
from compound_app.extensions import db
from compound_app.registry.models import Pilot
from compound_app.transition.models import TransitionStep
from tests.browser.axe import assert_accessible
from tests.browser.test_flows import no_horizontal_scroll
from tests.factories import ELECTED, days_ago, transition_objects


def test_the_path_from_the_chairs_phone_to_the_staffs_hand_over(page_factory, live_server):
    world = live_server.world
    branch = world.branch
    db.session.add(
        Pilot(
            compound_id=branch.id,
            selected_on=days_ago(200),
            stage="self_governing",
            stage_since=days_ago(30),
            model="party_branch",
        )
    )
    db.session.commit()
    transition_objects(branch, world.users["committee"], "assembly")
    here = f"/transition/areas/{branch.area_id}"

    chair = page_factory(world.users["committee"], phone=True)
    chair.goto(f"/committees/areas/{branch.area_id}")
    chair.click(f"a[href$='{here}']")
    chair.wait_for_url(re.compile(rf".*{here}$"))
    assert "王主任" in chair.locator("#path").inner_text()
    assert_accessible(chair)
    assert no_horizontal_scroll(chair)
    # Four names only: refused, the names kept.
    for n, (name, position) in enumerate(ELECTED[:4], start=1):
        chair.fill(f"#person_{n}", name)
        chair.select_option(f"#role_{n}", position)
    chair.click("#elected button[type=submit]")
    assert "单数" in chair.locator("#elected").inner_text()
    assert chair.input_value("#person_1") == "周建国"
    assert_accessible(chair)
    chair.fill("#person_5", ELECTED[4][0])
    chair.select_option("#role_5", ELECTED[4][1])
    chair.click("#elected button[type=submit]")
    chair.wait_for_selector("#step-elected")
    assert "陈大海" in chair.locator("#step-elected").inner_text()
    assert no_horizontal_scroll(chair)

    staff = page_factory(world.users["staff"])
    staff.goto("/transition/")
    assert_accessible(staff)
    staff.select_option("#f-stage", "elected")
    staff.wait_for_selector("#pilot-table >> text=新国土小区")
    staff.click("#pilot-table a:has-text('新国土小区')")
    staff.wait_for_url(re.compile(rf".*{here}$"))
    staff.fill("#filing_no", "孝新业备〔2026〕8号")
    staff.click("#filing button[type=submit]")
    staff.wait_for_selector("#step-filed")
    assert_accessible(staff)
    staff.fill("#signed_old", "孙德明")
    staff.fill("#signed_new", "周建国")
    staff.fill("#rights_end_on", days_ago(-10).isoformat())
    staff.click("#handover button[type=submit]")
    staff.wait_for_selector("#step-handed")
    assert_accessible(staff)
    with staff.expect_download() as download:
        staff.click(f"a[href$='{here}/handover.pdf']")
    data = download.value.path().read_bytes()
    db.session.rollback()  # a fresh read: the server wrote meanwhile
    step = db.session.scalars(
        select(TransitionStep).where(TransitionStep.kind == "handed_over")
    ).one()
    assert hashlib.sha256(data).hexdigest() == step.pdf_sha256
    assert step.happened_on == clock.today()

    resident = page_factory(world.users["resident"], phone=True)
    resident.goto(here)
    path = resident.locator("#path").inner_text()
    assert "周建国" in path and "王主任" not in path and "孙德明" not in path
    assert resident.locator("form[action^='/transition']").count() == 0
    assert_accessible(resident)
    assert no_horizontal_scroll(resident)

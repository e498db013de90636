"""Reaching residents in a real browser: an urgent water-cut notice from the chair's desk to
the stairwell's paper, a neighbour's phone without an account, the representative's round,
and a resident who signs in with a code from the SMS box and finds it in their inbox."""

from __future__ import annotations

import re

from playwright.sync_api import expect
from sqlalchemy import select

from compound_app.extensions import db
from compound_app.messages import delivery
from compound_app.messages.models import DevSms
from compound_app.notices.models import Notice
from compound_app.public.models import LinkKind, PublicLink
from compound_app.registry import roster
from compound_app.registry.models import Occupancy, Occupant
from tests.browser.axe import assert_accessible
from tests.browser.test_flows import no_horizontal_scroll
from tests.factories import first_unit, mobile

PHONE = {"viewport": {"width": 360, "height": 740}, "is_mobile": True, "has_touch": True}


def test_urgent_notice_poster_public_page_door_knocking_and_code_sign_in(
    page_factory, browser, live_server
):
    world = live_server.world
    unit = first_unit(world.branch)
    building = unit.building
    # Two more homes in the representative's stairwell: four doors to knock on.
    for room in ("301", "401"):
        home = roster.add_household(unit, room, 8800, Occupancy.OWNER_OCCUPIED)
        db.session.flush()
        roster.add_occupant(home, f"住户{room}", mobile(), "owner")
    db.session.commit()
    names = [n for n in db.session.scalars(select(Occupant.name)) if n]
    mobiles = [m for m in db.session.scalars(select(Occupant.mobile)) if m]
    db.session.rollback()  # end the read, so later reads see what the server wrote

    # 1. On a desktop, the chair posts an urgent water cut to one building and prints it.
    chair = page_factory(world.users["committee"])
    chair.goto(f"/notices/compounds/{world.branch.id}")
    assert_accessible(chair)
    chair.goto(f"/notices/compounds/{world.branch.id}/new")
    assert_accessible(chair)
    chair.select_option("select[name=scope]", f"building:{building.id}")
    chair.select_option("select[name=kind]", "urgent")
    chair.fill("input[name=title]", "明天8:00至12:00停水")
    chair.fill(
        "textarea[name=body]",
        "因主管道维修，1号楼明天上午停水。\n\n- 请提前储水\n- 有困难请找单元代表",
    )
    chair.locator("form button[type=submit].primary").click()
    chair.wait_for_url(re.compile(r".*/notices/\d+$"))
    db.session.rollback()
    notice = db.session.scalar(select(Notice).order_by(Notice.id.desc()))
    assert notice is not None and notice.title == "明天8:00至12:00停水"
    expect(chair.locator("main")).to_contain_text("请提前储水")
    assert_accessible(chair)
    chair.click(f"a[href$='/notices/{notice.id}/poster']")
    chair.wait_for_url(re.compile(rf".*/notices/{notice.id}/poster$"))
    expect(chair.locator("img[alt]").first).to_be_visible()
    assert_accessible(chair)
    db.session.rollback()
    link = db.session.scalar(
        select(PublicLink).where(
            PublicLink.kind == LinkKind.NOTICE.value, PublicLink.target_id == notice.id
        )
    )
    assert link is not None, "printing the poster made its public link"

    # 2. On a phone without an account, the QR code's link opens the notice.
    stranger = browser.new_context(locale="zh-CN", base_url=live_server.url, **PHONE)
    try:
        public = stranger.new_page()
        response = public.goto(f"/p/{link.token}")
        assert response is not None and response.status == 200
        assert "noindex" in (response.headers.get("x-robots-tag") or "")
        expect(public.locator("body")).to_contain_text("明天8:00至12:00停水")
        text = public.locator("body").inner_text()
        assert not [n for n in names if n in text], "a resident's name on the public page"
        assert not [m for m in mobiles if m in text], "a mobile on the public page"
        assert no_horizontal_scroll(public)
        assert_accessible(public)
        assert public.goto("/p/not-a-real-token-at-all-0000000").status == 404
    finally:
        stranger.close()

    # 3. The representative marks three households told; the coverage shows it.
    rep = page_factory(world.users["rep"], phone=True)
    rep.goto(f"/notices/{notice.id}/doors")
    assert_accessible(rep)
    knock = rep.locator("button[value=in_person]")
    for _ in range(3):
        left = knock.count()
        knock.first.click()
        # the door's card is swapped for its told line: one button fewer
        expect(knock).to_have_count(left - 1)
    assert no_horizontal_scroll(rep)
    expect(rep.locator("main")).to_contain_text("当面告知")
    rep.goto(f"/notices/{notice.id}")
    coverage = rep.locator("main").inner_text()
    told = re.search(r"已告知\s*(\d+)\s*/\s*(\d+)", coverage)
    assert told, coverage
    assert int(told[1]) >= 3 and int(told[2]) >= 4, told[0]

    # 4. A resident signs in with a code read from the SMS box and finds the notice.
    resident = world.users["resident"]
    context = browser.new_context(locale="zh-CN", base_url=live_server.url, **PHONE)
    try:
        owner = context.new_page()
        owner.goto("/auth/login")
        owner.locator("form[action$='/auth/code'] button").click()
        owner.wait_for_url(re.compile(r".*/auth/code(\?.*)?$"))
        assert_accessible(owner)
        owner.fill("input[name=mobile]", resident.mobile)
        owner.locator("form button[type=submit].primary").click()
        owner.wait_for_url(re.compile(r".*/auth/code/enter.*"))
        db.session.rollback()
        delivery.run_batch()
        sms = db.session.scalar(
            select(DevSms).where(DevSms.mobile == resident.mobile).order_by(DevSms.id.desc())
        )
        assert sms is not None, "the code went through the outbox to the SMS box"
        code = re.search(r"(?<!\d)(\d{6})(?!\d)", sms.text)
        assert code, sms.text
        assert_accessible(owner)
        owner.fill("input[name=code]", code[1])
        owner.locator("form button[type=submit].primary").click()
        owner.wait_for_url(live_server.url + "/")
        assert_accessible(owner)
        owner.goto("/messages/")
        expect(owner.locator("main")).to_contain_text("明天8:00至12:00停水")
        assert no_horizontal_scroll(owner)
        assert_accessible(owner)
    finally:
        context.close()

"""An owners' vote in a real browser: paper ballots in the stairwell, one online, the count."""

from __future__ import annotations

import re
from pathlib import Path

from PIL import Image
from playwright.sync_api import expect
from sqlalchemy import func, select

from compound_app import clock
from compound_app.extensions import db
from compound_app.registry import roster
from compound_app.registry.models import Occupancy, Relation
from compound_app.votes import service
from compound_app.votes.models import Ballot, Vote
from tests.browser.test_flows import no_horizontal_scroll
from tests.factories import first_unit, mobile, open_announced, record_tellers


def test_paper_ballots_on_a_phone_an_online_vote_and_the_closing_notice(
    page_factory, live_server, tmp_path: Path
):
    world = live_server.world
    unit = first_unit(world.branch)
    third = roster.add_household(unit, "301", 9120, Occupancy.OWNER_OCCUPIED)
    db.session.flush()
    roster.add_occupant(third, "钱桂兰", mobile(), Relation.OWNER)
    db.session.commit()
    vote = service.create_vote(
        service.resolve_scope("unit", unit.id),
        "manager",
        "选聘物业服务人",
        "是否选聘某物业公司提供保洁和秩序维护",
        clock.today(),
        world.users["committee"],
    )
    open_announced(vote, world.users["committee"])
    record_tellers(vote, world.users["committee"])
    db.session.commit()
    photo = tmp_path / "ballot.jpg"
    Image.new("RGB", (600, 800), "white").save(photo, "JPEG")

    staff = page_factory(world.users["staff"])
    staff.goto(f"/votes/{vote.id}")
    assert "0.0%" in staff.locator("#tally tr").first.inner_text()

    rep = page_factory(world.users["rep"], phone=True)
    rep.goto(f"/votes/{vote.id}")
    assert no_horizontal_scroll(rep)
    for home in (unit.households[1], third):
        rep.locator("details summary").first.click()
        rep.select_option("select[name=household_id]", str(home.id))
        rep.check("form[action$='/paper'] input[name=choice][value=yes]")
        rep.set_input_files("input[name=photo]", str(photo))
        rep.locator("form[action$='/paper'] button[type=submit]").click()
        rep.wait_for_url(re.compile(rf".*/votes/{vote.id}$"))
    assert no_horizontal_scroll(rep)

    owner = page_factory(world.users["resident"], phone=True)
    owner.goto(f"/votes/{vote.id}")
    owner.check("form[action$='/ballot'] input[name=choice][value=no]")
    owner.locator("form[action$='/ballot'] button[type=submit]").click()
    owner.wait_for_url(re.compile(rf".*/votes/{vote.id}$"))
    db.session.rollback()
    assert db.session.scalar(select(func.count(Ballot.id))) == 3

    # The staff member's open page counts the ballots by itself.
    expect(staff.locator("#tally tr").first).to_contain_text("100.0%", timeout=25_000)
    staff.once("dialog", lambda dialog: dialog.accept())
    staff.locator("form[action$='/close'] button").click()
    staff.wait_for_url(re.compile(rf".*/votes/{vote.id}$"))
    db.session.rollback()
    closed = db.session.get(Vote, vote.id)
    assert closed.status == "closed" and closed.passed is True  # 2 of 3 owners, most of the area
    staff.click(f"a[href$='/votes/{vote.id}/notice']")
    staff.wait_for_url(f"**/votes/{vote.id}/notice")
    poster = staff.locator("article.poster").inner_text()
    assert "301" in poster and "钱桂兰" not in poster
    assert staff.locator("article.poster img").count() == 1

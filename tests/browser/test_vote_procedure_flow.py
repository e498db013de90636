"""The vote procedure in a real browser: the chair drafts and announces a vote on a desktop;
fifteen days later (the clock moved) opens it, an owner votes online on a 360×740 phone,
the representative enters a paper ballot on theirs (the other owners' paper ballots come
in on the committee's round); the chair records the tellers and, a second person, corrects
that paper ballot; after the end date the job closes the vote,
and the fee schedule comes into force citing it. Every page accessible and without
sideways scrolling."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import time_machine
from PIL import Image
from sqlalchemy import select

from compound_app import access, clock
from compound_app.extensions import db
from compound_app.fees import schedules
from compound_app.fees.models import Basis, Cycle, FeeSchedule
from compound_app.months import month_of
from compound_app.registry import roster
from compound_app.registry.models import Occupancy, Relation
from compound_app.votes import service as votes
from compound_app.votes.cli import close_due_now
from compound_app.votes.models import Ballot, BallotCorrection, Vote
from tests.browser.axe import assert_accessible
from tests.browser.test_flows import no_horizontal_scroll
from tests.factories import _jpeg, first_unit, mobile

PHONE = {"width": 360, "height": 740}


def _phone(page_factory: Any, who: Any) -> Any:
    page = page_factory(who, phone=True)
    page.set_viewport_size(PHONE)
    return page


def _checked(page: Any) -> None:
    assert_accessible(page)
    assert no_horizontal_scroll(page)


def _published_schedule(area: Any, start: Any) -> FeeSchedule:
    """Next version of the area's fees, on the notice board for a week: it waits for the
    owners' decision."""
    draft = schedules.new_draft(area, None)
    schedules.update_terms(
        draft, cycle=Cycle.MONTH, start_month=start, vacant_percent=50, publicity_days=7
    )
    schedules.add_item(
        draft, name="保洁", scope="每日清扫楼道", basis=Basis.PER_HOUSEHOLD, rate_fen=1500
    )
    schedules.publish(draft)
    db.session.commit()
    return draft


def _later(days: int) -> Any:
    """The whole process (the live server's thread too) some days on, ticking."""
    return time_machine.travel(clock.now() + timedelta(days=days), tick=True)


def test_announce_open_vote_correct_close_on_the_end_date_and_cite_it(
    page_factory: Any, live_server: Any, tmp_path: Path
) -> None:
    world = live_server.world
    chair, rep, owner = world.users["committee"], world.users["rep"], world.users["resident"]
    unit = first_unit(world.branch)
    third = roster.add_household(unit, "301", 6000, Occupancy.OWNER_OCCUPIED)
    db.session.flush()
    roster.add_occupant(third, "钱桂兰", mobile(), Relation.OWNER)
    db.session.commit()
    start = month_of(clock.today() + timedelta(days=60))
    schedule = _published_schedule(world.branch.area, start)
    photo = tmp_path / "ballot.jpg"
    Image.new("RGB", (600, 800), "white").save(photo, "JPEG")
    announced_on = clock.today()
    opens_on, ends_on = announced_on + timedelta(days=15), announced_on + timedelta(days=20)

    # 1. The chair drafts the vote and announces it.
    desk = page_factory(chair)
    desk.goto(f"/votes/areas/{world.branch.area_id}/new")
    _checked(desk)
    desk.select_option("#scope", f"area:{world.branch.area_id}")  # the area decides its fees
    desk.select_option("#matter", "manager")
    desk.fill("#title", "选聘物业服务人")
    desk.fill("#text", "是否选聘某物业公司提供保洁和秩序维护，每户每月15元")
    desk.fill("#closes_on", ends_on.isoformat())
    desk.click("form button[type=submit].primary")
    desk.wait_for_url(re.compile(r".*/votes/\d+$"))
    vote_id = int(desk.url.rsplit("/", 1)[1])
    _checked(desk)
    assert desk.input_value("#opens_on") == opens_on.isoformat()
    desk.fill("#opens_on", (opens_on - timedelta(days=1)).isoformat())
    desk.click("form[action$='/announce'] button")
    desk.wait_for_load_state()
    assert "最早" in desk.locator("form[action$='/announce']").inner_text()  # day 14: refused
    _checked(desk)
    desk.fill("#opens_on", opens_on.isoformat())
    desk.fill("#closes_on", ends_on.isoformat())
    desk.click("form[action$='/announce'] button")
    desk.wait_for_url(re.compile(rf".*/votes/{vote_id}$"))
    _checked(desk)
    assert "已于" in desk.locator("main").inner_text()
    # Too early to open: refused, the vote stays a draft.
    desk.once("dialog", lambda dialog: dialog.accept())
    desk.click("form[action$='/open'] button")
    desk.wait_for_url(re.compile(rf".*/votes/{vote_id}$"))
    assert "公告期未满" in desk.locator("main").inner_text()
    db.session.rollback()
    assert db.session.get(Vote, vote_id).status == "draft"
    # The owner reads the announcement on their phone.
    phone = _phone(page_factory, owner)
    phone.goto(f"/votes/{vote_id}")
    _checked(phone)
    assert "议事规则" in phone.locator("main").inner_text()

    # 2. Fifteen days later the chair opens it; the owner votes online, the
    #    representative enters a paper ballot (ticking the wrong box).
    with _later(15):
        desk = page_factory(chair)
        desk.goto(f"/votes/{vote_id}")
        desk.once("dialog", lambda dialog: dialog.accept())
        desk.click("form[action$='/open'] button")
        desk.wait_for_url(re.compile(rf".*/votes/{vote_id}$"))
        _checked(desk)
        db.session.rollback()
        assert db.session.get(Vote, vote_id).status == "open"

        phone = _phone(page_factory, owner)
        phone.goto(f"/votes/{vote_id}")
        _checked(phone)
        phone.check("form[action$='/ballot'] input[name=choice][value=yes]")
        phone.locator("form[action$='/ballot'] button[type=submit]").click()
        phone.wait_for_url(re.compile(rf".*/votes/{vote_id}$"))
        _checked(phone)

        stairs = _phone(page_factory, rep)
        stairs.goto(f"/votes/{vote_id}")
        _checked(stairs)
        stairs.locator("details summary", has_text="录入纸质表决票").click()
        stairs.select_option("select[name=household_id]", str(unit.households[1].id))
        stairs.check("form[action$='/paper'] input[name=choice][value=no]")
        stairs.set_input_files("form[action$='/paper'] input[name=photo]", str(photo))
        stairs.locator("form[action$='/paper'] button[type=submit]").click()
        stairs.wait_for_url(re.compile(rf".*/votes/{vote_id}$"))
        _checked(stairs)
        db.session.rollback()
        wrong = db.session.scalars(select(Ballot).where(Ballot.channel == "paper")).one()

        # 3. The chair records the tellers and corrects the paper ballot (a second
        #    person: the representative entered it).
        desk.reload()
        for n, role in enumerate(("scrutineer", "counter")):
            desk.select_option("#role", role)
            desk.select_option("#occupant_id", index=n)
            desk.locator("form[action$='/tellers'] button").click()
            desk.wait_for_url(re.compile(rf".*/votes/{vote_id}$"))
            _checked(desk)
        assert desk.locator("#procedure li", has_text="监票人").count() >= 1
        desk.locator("details summary", has_text="更正纸质表决票").click()
        _checked(desk)
        desk.select_option("#correct-ballot", str(wrong.id))
        desk.check("form[action$='/correct'] input[name=choice][value=yes]")
        desk.fill("form[action$='/correct'] input[name=reason]", "业主签的是同意，录入时勾错")
        desk.set_input_files("form[action$='/correct'] input[name=photo]", str(photo))
        desk.locator("form[action$='/correct'] button[type=submit]").click()
        desk.wait_for_url(re.compile(rf".*/votes/{vote_id}$"))
        _checked(desk)
        db.session.rollback()
        correction = db.session.scalars(select(BallotCorrection)).one()
        assert correction.ballot_id == wrong.id and correction.corrected_by_id == chair.id
        assert db.session.query(Ballot).count() == 3  # both paper ballots stay
        # The rest of the area's owners vote yes on paper on the committee's round.
        vote = db.session.get(Vote, vote_id)
        voted = {b.elector_id for b in db.session.scalars(select(Ballot))}
        p = access.load_principal(chair)
        for elector in vote.electors:
            if elector.id not in voted:
                home = elector.homes[0].household_id
                votes.enter_paper(vote, home, "yes", _jpeg(), chair, p)
        db.session.commit()

    # 4. The day after the end date the job counts and closes the vote.
    with _later(21):
        assert close_due_now() == (1, 0)
        db.session.rollback()
        vote = db.session.get(Vote, vote_id)
        assert vote.status == "closed" and vote.passed is True
        assert vote.result["heads"] == {"yes": vote.total_heads, "no": 0, "abstain": 0}
        desk = page_factory(chair)
        desk.goto(f"/votes/{vote_id}/notice")
        _checked(desk)
        poster = desk.locator("article.poster").inner_text()
        assert "监票、计票" in poster and "钱桂兰" not in poster.split("监票、计票")[0]

        # 5. The fee schedule comes into force, citing the vote.
        desk.goto(f"/fees/schedules/{schedule.id}")
        _checked(desk)
        desk.select_option("#how", "owners_vote")
        desk.select_option("#vote_id", str(vote_id))
        desk.fill("#note", "业主表决通过，见表决结果公告")
        desk.locator("form[action$='/approve'] button[type=submit]").click()
        desk.wait_for_url(re.compile(rf".*/fees/schedules/{schedule.id}$"))
        _checked(desk)
        db.session.rollback()
        approved = db.session.get(FeeSchedule, schedule.id)
        assert approved.status == "active" and approved.approval_vote_id == vote_id

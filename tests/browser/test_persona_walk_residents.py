"""The persona walk on a phone: the unit representative, the owner and the tenant.

Each persona signs in through the login page of a fresh copy of the demo and does what the
README's table of demo sign-ins says to try, by clicking (tests/browser/walk.py checks every
page and swap on the way). The walk fails at its end with every finding, or where the
persona could not go on.
"""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from compound_app.extensions import db
from compound_app.fees import cash
from compound_app.fees.models import Account, CashHandover, Payment
from compound_app.messages.models import Message
from compound_app.notices.models import NoticeComment, NoticeRead
from compound_app.repairs.models import RepairTask, Status
from compound_app.votes.models import Ballot
from tests.browser import demo_places as demo
from tests.browser.walk import PERSONAS, Walker, one_more_told, photo, walking

# Every walk uses the demo, built once per run: one worker takes them all (and test_cli's
# demo tests), so no worker waits for another to build it.
pytestmark = pytest.mark.xdist_group("demo")


def test_08_representative_collects_hands_over_reports_enters_ballots_and_knocks(
    browser, demo_server, tmp_path
):
    """周玉梅, unit representative of 新国土小区 1号楼 1–2单元, on her phone."""
    stairwell = demo.unit("新国土小区", "1号楼", "1单元")
    area_id = demo.compound("新国土小区").area_id
    rep = demo.user("13900000008")
    payer = demo.home("新国土小区", "1号楼", "1单元", "102")
    neighbour = demo.home("新国土小区", "1号楼", "1单元", "402")
    owed = db_balance(payer.id)
    assert owed > 0, "the demo's 102 owes nothing: the walk needs a home in arrears"
    vote = demo.vote("使用维修资金更换楼道照明")
    duty = demo.notice("物管会值班时间")
    ballot_homes = [payer, demo.home("新国土小区", "1号楼", "1单元", "202")]
    voted_before = demo.count(Ballot, Ballot.vote_id == vote.id)
    tasks_before = demo.top_id(RepairTask)
    handovers_before = demo.top_id(CashHandover)

    with walking(browser, demo_server.url, PERSONAS["08"]) as w:
        # Who owes what in her stairwell.
        w.click(f"main a[href='/fees/units/{stairwell.id}']", what="收费：谁欠多少 (1单元)")
        w.must_see(demo.yuan(owed), "the unit's fees page shows what 102 owes")

        # She takes 102's cash and logs it: a numbered receipt.
        w.click(f"main a[href='/fees/households/{payer.id}/pay']", what="登记缴费 for 102")
        w.fill("main form input[name=amount]", demo.plain(owed), what="the amount")
        w.click("main form button[type=submit].primary", what="登记缴费并开收据")
        w.must_be_at(r"/fees/payments/\d+", "after logging the payment, its receipt")
        w.must_see(demo.yuan(owed), "the receipt shows the amount")
        w.must_see(r"[A-Z]{2}\d{2}-\d{4}-\d{6}", "the receipt shows its number")
        demo.fresh()
        paid = demo.count(Payment, Payment.household_id == payer.id, Payment.collector_id == rep.id)
        w.expect(paid == 1, f"one payment recorded for 102 (found {paid})")
        w.expect(db_balance(payer.id) == 0, "102 owes nothing after paying in full")

        # She hands the cash she holds to the treasurer.
        held = cash.held_by(area_id, rep.id)
        w.click(f"main a[href='/fees/units/{stairwell.id}']", what="返回单元")
        w.click(f"main a[href='/fees/areas/{area_id}/cash']", what="我的现金和交接")
        hand_over(w, area_id, rep.id, held)
        demo.fresh()
        handed = db_handovers(area_id, rep.id, handovers_before)
        w.expect(held in handed, f"a hand-over of {demo.yuan(held)} is recorded (found {handed})")
        w.must_see(demo.yuan(held), "the cash page lists the hand-over")

        # She reports a leaking pipe for her elderly neighbour in 402, who has no phone.
        w.home()
        w.click(
            f"main a[href^='/repairs/compounds/{stairwell.building.compound_id}/new']"
            ":not([href*='household='])",
            what="代居民报修",
        )
        report_for_neighbour(w, stairwell.id, neighbour.id, "刘平", "厨房水管漏水，已经两天了。")
        w.must_be_at(r"/repairs/\d+", "after reporting, the new task's page")
        w.must_see("刘平", "the task names the neighbour she reported for")
        w.must_see("402", "the task names the neighbour's home")
        w.should_see(
            "厨房水管漏水，已经两天了。",
            "the description reads as she typed it (full-width ，and 。)",
        )
        demo.fresh()
        task = demo.first(
            select(RepairTask).where(
                RepairTask.household_id == neighbour.id, RepairTask.id > tasks_before
            )
        )
        w.expect(task is not None, "the report is recorded for 402")

        # Paper ballots from two owners who signed on paper.
        w.home()
        w.click("main a[href='/votes/']", what="征求意见与业主表决")
        w.click(f"main a[href='/votes/{vote.id}']", what="the stairwell lights vote")
        ballot = photo(tmp_path, "ballot.jpg")
        for household in ballot_homes:
            w.click("details:has(form[action$='/paper']) > summary", what="录入纸质表决票")
            w.choose(
                "form[action$='/paper'] select[name=household_id]",
                value=str(household.id),
                what="the home of the paper ballot",
            )
            w.tick("form[action$='/paper'] input[name=choice][value=yes]", what="同意")
            w.attach("form[action$='/paper'] input[type=file]", ballot, what="the ballot's photo")
            w.click("form[action$='/paper'] button[type=submit]", what="录入")
            w.must_be_at(rf"/votes/{vote.id}", "after entering a ballot, the vote's page")
        demo.fresh()
        voted = demo.count(Ballot, Ballot.vote_id == vote.id)
        w.expect(voted == voted_before + 2, f"two paper ballots recorded ({voted - voted_before})")
        w.must_see(
            rf"(?<![\d.]){voted}(?![\d.%])", "the count shows the two new ballots", within="#tally"
        )

        # The doors still to tell about the duty-hours notice.
        w.home()
        w.click(
            f"main a[href='/registry/compounds/{stairwell.building.compound_id}']", what="我的小区"
        )
        w.click(
            f"main a[href='/notices/compounds/{stairwell.building.compound_id}']", what="通知公告"
        )
        w.click("main a[href='/notices/rounds']", what="待告知的通知")
        w.click(f"main a[href='/notices/{duty.id}']", what="物管会值班时间")
        on_notice = w.counts_told()
        w.click(f"main a[href='/notices/{duty.id}/doors']", what="还没告知的住户")
        on_doors = w.counts_told()
        door = f"#door-{duty.id}-{payer.id}"
        w.click(f"{door} button[value=in_person]", what="当面告知 at 102")
        w.must_see("✓", "the door shows it has been told", within=door)
        w.expect(
            one_more_told(on_doors, w.counts_told()),
            f"the counts on the doors page include the door just told (still {on_doors})",
        )
        w.click(f"main a[href='/notices/{duty.id}']", what="back to the notice")
        if not one_more_told(on_notice, w.counts_told()):
            w.blocked(f"the notice does not count the home just told ({w.counts_told()})")
        demo.fresh()
        w.expect(
            demo.count(
                NoticeRead, NoticeRead.notice_id == duty.id, NoticeRead.household_id == payer.id
            )
            == 1,
            "the door told is recorded once",
        )


def db_balance(household_id: int) -> int:
    account = demo.first(select(Account).where(Account.household_id == household_id))
    return account.balance_fen if account else 0


def db_handovers(area_id: int, collector_id: int, after_id: int) -> list[int]:
    return list(
        db.session.scalars(
            select(CashHandover.amount_fen).where(
                CashHandover.area_id == area_id,
                CashHandover.collector_id == collector_id,
                CashHandover.id > after_id,
            )
        )
    )


def hand_over(w: Walker, area_id: int, collector_id: int, held: int) -> None:
    """The hand-over form: the amount she holds, then whatever confirmation it asks."""
    form = f"main form[action='/fees/areas/{area_id}/cash']"
    field = w.find(f"{form} input[name=amount]", what="the amount to hand over")
    if field.input_value() != demo.plain(held):
        w.fill(field, demo.plain(held))
    for box in w.page.locator(f"{form} input[type=checkbox]").filter(visible=True).all():
        box.check()
    before = demo.top_id(CashHandover)
    w.click(f"{form} button[type=submit].primary", what="交给财务委员")

    def recorded() -> bool:
        demo.fresh()
        return bool(db_handovers(area_id, collector_id, before))

    w.confirm_if_asked("the hand-over", recorded)


def report_for_neighbour(w: Walker, unit_id: int, household_id: int, name: str, text: str) -> None:
    """The assisted report: the neighbour's home first (a step of its own, or a field), then
    what is broken."""
    form = "main form[action*='/new']"
    if w.has(f"{form} select[name=household]") and not w.has(f"{form} textarea"):
        w.choose(f"{form} select[name=household]", value=str(household_id), what="为哪一户报修")
        w.click(f"{form} button[type=submit]", what="继续")
    if w.has(f"{form} select[name=household_id]"):
        w.choose(f"{form} select[name=household_id]", value=str(household_id), what="哪一户")
    w.choose(f"{form} select[name=category]", value="plumbing", what="报修类别 水暖")
    if w.has(f"{form} select[name=place]"):
        w.choose(f"{form} select[name=place]", value="home", what="位置 户内")
    if w.has(f"{form} select[name=unit_id]"):
        w.choose(f"{form} select[name=unit_id]", value=str(unit_id), what="单元")
    w.fill(f"{form} input[name=resident_name]", name, what="代谁报修")
    w.fill(f"{form} textarea[name=description]", text, what="问题描述")
    w.click(f"{form} button[type=submit]", what="提交报修")


def test_09_owner_reads_messages_comments_checks_the_repair_votes_and_pays_attention_to_money(
    browser, demo_server
):
    """吴振华, owner of 新国土小区 1-1-101, on his phone."""
    owner = demo.user("13900000009")
    his_home = demo.home("新国土小区", "1号楼", "1单元", "101")
    area_id = demo.compound("新国土小区").area_id
    publicity = demo.notice("电动车充电桩安装位置公示")
    inbox_line = demo.first(
        select(Message).where(Message.user_id == owner.id, Message.title == publicity.title)
    )
    pipe = demo.first(
        select(RepairTask).where(
            RepairTask.reported_by_id == owner.id, RepairTask.status == Status.DONE
        )
    )
    assert inbox_line is not None and pipe is not None, "the demo's owner story changed"
    vote = demo.vote("使用维修资金更换楼道照明")
    voted_before = demo.count(Ballot, Ballot.vote_id == vote.id)
    comments_before = demo.count(NoticeComment, NoticeComment.notice_id == publicity.id)

    with walking(browser, demo_server.url, PERSONAS["09"]) as w:
        # What waits for him: the repaired pipe and the vote are on his home page.
        w.should_see("待办", "the home page has a to-do list")
        w.expect(
            w.has(f"main a[href='/repairs/{pipe.id}']"),
            "the home page links the repair that waits for his check",
        )
        w.expect(w.has(f"main a[href='/votes/{vote.id}']"), "the home page links the open vote")

        # His messages: the charging-post 公示, and his comment on it.
        w.click("header a[href='/messages/']", what="消息 in the navigation")
        w.click(
            f"main form[action='/messages/{inbox_line.id}/open'] button",
            what="the message about the charging-post 公示",
        )
        w.must_be_at(rf"/notices/{publicity.id}", "the message opens the 公示")
        comment = "3号楼北侧车棚离楼远，夜里充电更安全，我同意。"
        w.fill("main form[action$='/comment'] textarea", comment, what="您的意见")
        w.click("main form[action$='/comment'] button[type=submit]", what="提交意见")
        w.must_see("3号楼北侧车棚离楼远", "his comment is on the 公示")
        w.should_see(re.escape(comment), "his comment reads as he typed it (full-width ，and 。)")
        demo.fresh()
        w.expect(
            demo.count(NoticeComment, NoticeComment.notice_id == publicity.id)
            == comments_before + 1,
            "one comment recorded",
        )

        # The repaired pipe: he checks it and confirms, then rates the work.
        w.home()
        w.click(f"main a[href='/repairs/{pipe.id}']", what="有1项维修已完成，请您验收")
        w.click("main button[name=move][value=confirm]", what="确认已修好")
        w.must_be_at(rf"/repairs/{pipe.id}", "after confirming, the task's page")
        demo.fresh()
        w.expect(
            db.session.get(RepairTask, pipe.id).status == Status.CLOSED,
            "the repair is closed after his check",
        )
        if w.has("main form[action$='/rate']"):
            w.tick("main form[action$='/rate'] input[name=rating][value='5']", what="★★★★★")
            w.click("main form[action$='/rate'] button[type=submit]", what="the rating's button")
            demo.fresh()
            w.expect(db.session.get(RepairTask, pipe.id).rating == 5, "his rating is recorded")
        else:
            w.note("task", "after confirming the repair there is no way to rate the work")

        # The stairwell lights: he votes online.
        w.home()
        w.click(f"main a[href='/votes/{vote.id}']", what="请在…前投票")
        w.tick("main form[action$='/ballot'] input[name=choice][value=yes]", what="同意")
        w.click("main form[action$='/ballot'] button[type=submit]", what="表决")
        w.must_be_at(rf"/votes/{vote.id}", "after voting, the vote's page")
        demo.fresh()
        voted = demo.count(Ballot, Ballot.vote_id == vote.id)
        w.expect(voted == voted_before + 1, "his ballot is recorded")
        w.must_see(rf"(?<![\d.]){voted}(?![\d.%])", "the count includes his vote", within="#tally")

        # His bills and receipts.
        w.home()
        w.click(f"main a[href='/fees/households/{his_home.id}']", what="我的账单和收据")
        balance = db_balance(his_home.id)
        if balance > 0:
            w.must_see(demo.yuan(balance), "his page shows what he owes")
        w.click("main a[href^='/fees/payments/']", what="his latest receipt")
        w.must_be_at(r"/fees/payments/\d+", "a receipt")
        w.must_see(r"[A-Z]{2}\d{2}-\d{4}-\d{6}", "the receipt shows its number")

        # The finance board of his compound.
        w.home()
        w.click(f"main a[href='/fees/areas/{area_id}/board']", what="收支公示")
        w.must_be_at(rf"/fees/areas/{area_id}/board", "the finance board")
        w.must_see(r"¥[\d,]+\.\d\d", "the board shows money")


def test_10_tenant_acknowledges_the_water_cut_and_follows_the_door_repair(browser, demo_server):
    """郑晓燕, tenant of 城建小区 2-1-302, on her phone."""
    tenant = demo.user("13900000010")
    her_home = demo.home("城建小区", "2号楼", "1单元", "302")
    water = demo.notice("2号楼明日停水")
    inbox_line = demo.first(
        select(Message).where(Message.user_id == tenant.id, Message.title == water.title)
    )
    door = demo.first(
        select(RepairTask).where(
            RepairTask.reported_by_id == tenant.id,
            RepairTask.category == "building_door",
            RepairTask.status.in_([Status.ASSIGNED, Status.IN_PROGRESS, Status.REPORTED]),
        )
    )
    assert inbox_line is not None and door is not None, "the demo's tenant story changed"
    acked = demo.first(
        select(NoticeRead).where(
            NoticeRead.notice_id == water.id,
            NoticeRead.household_id == her_home.id,
            NoticeRead.acked_at.is_not(None),
        )
    )

    with walking(browser, demo_server.url, PERSONAS["10"]) as w:
        # The urgent water cut: her home page should ask for her 已知悉; her messages lead to it.
        if acked is None:
            w.expect(
                w.has(f"main a[href='/notices/{water.id}']"),
                "the home page shows the urgent water-cut notice that asks her to confirm",
            )
        w.click("header a[href='/messages/']", what="消息 in the navigation")
        w.click(
            f"main form[action='/messages/{inbox_line.id}/open'] button",
            what="the urgent message 2号楼明日停水",
        )
        w.must_be_at(rf"/notices/{water.id}", "the message opens the notice")
        w.must_see("停水", "the notice says the water will be cut")
        if acked is not None:
            w.note(
                "task",
                "the demo has her acknowledge the water cut already: "
                "there is nothing left for her to press (README: 已知悉)",
            )
        else:
            w.click(f"main form[action='/notices/{water.id}/ack'] button", what="已知悉")
            demo.fresh()
            w.expect(
                demo.first(
                    select(NoticeRead).where(
                        NoticeRead.notice_id == water.id,
                        NoticeRead.household_id == her_home.id,
                        NoticeRead.acked_at.is_not(None),
                    )
                )
                is not None,
                "her acknowledgement is recorded",
            )
        w.expect(
            not w.has(f"main form[action='/notices/{water.id}/ack']"),
            "once acknowledged, the notice no longer asks",
        )

        # The building door she reported: where it stands.
        w.home()
        w.click("main a[href='/repairs/mine']", what="我的报修")
        w.click(f"main a[href='/repairs/{door.id}']", what="the building-door repair")
        w.must_be_at(rf"/repairs/{door.id}", "the repair's page")
        w.must_see("楼宇门", "the task is the building door")
        w.expect(w.has("main ol.timeline li, main .timeline li"), "the task shows its timeline")

        # Tenants do not vote: the votes page should tell her why she has nothing to do.
        w.home()
        w.click("main a[href='/votes/']", what="征求意见与业主表决")
        w.should_see(
            "租户|只有业主|仅限业主|不参加", "the votes page tells a tenant that only owners vote"
        )

"""The persona walk: the committees — the chair of a contiguous area, its treasurer on her
phone, and the chair of a branch-managed compound.

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
from compound_app.fees.models import (
    CashHandover,
    Expense,
    FeeSchedule,
    FinanceBoard,
    HandoverConfirmation,
    ScheduleStatus,
)
from compound_app.notices.models import Notice
from compound_app.registry.models import Compound, Household
from compound_app.repairs.models import RepairTask, Status
from tests.browser import demo_places as demo
from tests.browser.walk import PERSONAS, Walker, photo, walking

# Every walk uses the demo, built once per run: one worker takes them all (and test_cli's
# demo tests), so no worker waits for another to build it.
pytestmark = pytest.mark.xdist_group("demo")


def test_05_chair_runs_one_committee_for_four_compounds(browser, demo_server):
    """刘国庆, chair of 绿城一片区 (four compounds, one committee), at his desk."""
    area = demo.area("绿城一片区")
    compounds = list(db.session.scalars(select(Compound).where(Compound.area_id == area.id)))
    assert len(compounds) == 4, "the demo's 绿城一片区 no longer has four compounds"
    new_reports = reported_tasks([c.id for c in compounds])
    assert new_reports, "the demo has no new repair reports in 绿城一片区"
    task = new_reports[0]
    helper = demo.user("13900000006")  # the treasurer is a committee member too

    with walking(browser, demo_server.url, PERSONAS["05"]) as w:
        # One committee for the four compounds.
        w.click(f"main a[href='/committees/areas/{area.id}']", what="我的物管会 绿城一片区")
        for compound in compounds:
            w.must_see(compound.name, f"the committee's page names {compound.name}")

        # A new repair report in one of them: he gives it to a committee member.
        w.home()
        w.click(
            f"main a[href='/repairs/compounds/{task.compound_id}?status=reported']",
            what="…有新的维修上报",
        )
        w.click(f"main a[href='/repairs/{task.id}']", what="the new report")
        assign(w, member_id=helper.id, what=helper.name)
        demo.fresh()
        done = db.session.get(RepairTask, task.id)
        w.expect(
            done.status == Status.ASSIGNED and done.assignee_id == helper.id,
            f"the task is assigned to {helper.name} (status {done.status})",
        )
        w.must_see(helper.name, "the task names who it was given to")

        # The fees of the whole area: one schedule, the arrears of all four compounds.
        w.home()
        w.click(f"main a[href='/fees/areas/{area.id}/arrears']", what="欠费")
        w.open_folds()
        for compound in compounds:
            w.should_see(compound.name, f"the area's arrears include {compound.name}")


def test_06_treasurer_counts_the_cash_records_an_expense_and_reads_the_board(
    browser, demo_server, tmp_path
):
    """张桂英, treasurer of 绿城一片区, on her phone."""
    treasurer = demo.user("13900000006")
    area = demo.area("绿城一片区")
    waiting = waiting_handovers(area.id, treasurer.id)
    assert waiting, "the demo has no cash hand-overs waiting for the treasurer"
    board = demo.first(
        select(FinanceBoard)
        .where(FinanceBoard.area_id == area.id)
        .order_by(FinanceBoard.month.desc())
    )
    expenses_before = demo.top_id(Expense)

    with walking(browser, demo_server.url, PERSONAS["06"]) as w:
        # Every hand-over that waits for her count; the last one is ¥10 short.
        w.click(f"main a[href='/fees/areas/{area.id}/cash']", what="有…笔现金交接等您点收")
        for n, handover in enumerate(waiting):
            form = f"main form[action='/fees/handovers/{handover.id}/confirm']"
            if not w.has(form):
                w.blocked(
                    f"{handover.collector.name}'s hand-over of {demo.yuan(handover.amount_fen)}"
                    f" ({handover.handed_on}) waits for her count but is not on the cash page"
                    f" ({n} of {len(waiting)} counted)"
                )
            short = 1000 if n == len(waiting) - 1 else 0
            counted = handover.amount_fen - short
            # She counted: a matching count is ticked as such (or typed), a short one typed
            # with a note.
            matches = f"{form} input[type=checkbox]"
            if not short and w.has(matches):
                w.tick(matches, what="点收金额与交来的一致")
            else:
                count = f"{form} input[name=received]"
                if not w.has(count):  # whatever the field is called: the form's amount field
                    count = f"{form} input[inputmode=decimal], {form} input[name*=amount]"
                w.fill(count, demo.plain(counted), what="点收金额")
            if short:
                w.fill(f"{form} input[name=note]", "少了10元，已告诉收款人", what="备注")
            w.click(f"{form} button[type=submit]", what="确认 (the count)")
            w.confirm_if_asked("the count", lambda h=handover: counted_already(h.id))
            confirmation = counted_already(handover.id)
            w.expect(
                confirmation is not None and confirmation.received_fen == counted,
                f"her count of {demo.yuan(counted)} is recorded for {handover.collector.name}",
            )
            w.expect(not w.has(form), "a counted hand-over no longer asks to be counted")
        w.should_see("少了10元", "the shortfall is shown with her note", folded=True)
        demo.fresh()
        w.expect(not waiting_handovers(area.id, treasurer.id), "no hand-over waits any more")

        # An expense with its voucher photo.
        w.home()
        w.click(f"main a[href='/fees/areas/{area.id}']", what="收费")
        w.click(f"main a[href='/fees/areas/{area.id}/expenses']", what="支出")
        form = f"main form[action='/fees/areas/{area.id}/expenses']"
        w.choose(f"{form} select[name=category]", value="repair:", what="类别：维修")
        w.fill(f"{form} input[name=amount]", "120.00", what="金额")
        w.fill(f"{form} input[name=payee]", "城东五金店", what="收款方")
        w.fill(f"{form} input[name=note]", "更换1号楼楼道灯泡", what="用途")
        w.attach(f"{form} input[type=file]", photo(tmp_path, "voucher.jpg"), what="凭证照片")
        w.click(f"{form} button[type=submit]", what="登记支出")
        w.must_see("更换1号楼楼道灯泡", "the expense is on the page", folded=True)
        w.should_see(
            "更换1号楼楼道灯泡", "after recording it, she sees the expense without opening a fold"
        )
        w.open_folds()
        w.must_see(re.escape(demo.yuan(12000)), "the expense's amount is listed")
        demo.fresh()
        w.expect(
            demo.first(
                select(Expense).where(Expense.id > expenses_before, Expense.amount_fen == 12000)
            )
            is not None,
            "the expense is recorded",
        )

        # The finance board, as the residents see it: the totals come first.
        w.click(f"main a[href='/fees/areas/{area.id}']", what="the area's fees (breadcrumb)")
        w.click(f"main a[href='/fees/areas/{area.id}/board']", what="收支公示")
        if board is not None:
            received = demo.yuan(board.figures["received"])
            w.must_see(re.escape(received), "the board shows the month's income")
            w.expect(
                received in w.first_screen(),
                f"the board's first phone screen shows the month's income ({received})",
            )


def test_07_chair_of_a_branch_managed_compound(browser, demo_server):
    """孙德明, chair of 新国土小区 (branch-managed), at his desk."""
    compound = demo.compound("新国土小区")
    bare = demo.unit("新国土小区", "5号楼", "2单元")  # the one unit without a representative
    building = bare.building
    schedule = demo.first(
        select(FeeSchedule).where(
            FeeSchedule.area_id == compound.area_id, FeeSchedule.status == ScheduleStatus.ACTIVE
        )
    )
    new_reports = reported_tasks([compound.id])
    assert len(new_reports) >= 2, "the demo's 新国土小区 has fewer than two new reports"
    member = demo.first(  # another committee member to give the repairs to
        select(RepairTask.assignee_id).where(
            RepairTask.compound_id == compound.id, RepairTask.assignee_kind == "member"
        )
    )
    vote = demo.vote("使用维修资金更换楼道照明")

    with walking(browser, demo_server.url, PERSONAS["07"]) as w:
        # A household added inline, in the building's list, without leaving the page.
        w.click(f"main a[href='/registry/compounds/{compound.id}']", what="新国土小区")
        w.page.evaluate("window.__stayed = true")
        w.click(f"#building-{building.id} > summary", what=building.name)
        w.click(f"main a[href='/registry/units/{bare.id}/households/new']", what="＋ 添加户室")
        form = w.find(f"#add-household-{bare.id} form", what="the new household's form")
        w.fill(form.locator("input[name=room]"), "601", what="房号")
        w.fill(form.locator("input[name=area]"), "76.5", what="面积")
        w.choose(form.locator("select[name=occupancy]"), value="vacant", what="空置")
        w.click(form.locator("button[type=submit]"), what="添加")
        w.must_see("601", "the new household is in the unit's list", within=f"#unit-{bare.id}")
        w.expect(w.page.evaluate("window.__stayed === true"), "adding a household keeps the page")
        demo.fresh()
        w.expect(
            demo.count(Household, Household.unit_id == bare.id, Household.room == "601") == 1,
            "the household is recorded",
        )

        # A representative for the unit that has none.
        w.click(f"main a[href='/registry/units/{bare.id}/representative']", what="指定 (单元代表)")
        candidate = w.page.locator("datalist option").first
        if not candidate.count():
            w.blocked("the representative form offers no residents of the unit to choose")
        name, mobile = candidate.get_attribute("value"), candidate.inner_text().strip()
        w.fill("main form input[name=name]", name or "", what="姓名")
        w.fill("main form input[name=mobile]", mobile, what="手机号")
        w.click("main form button[type=submit].primary", what="指定")
        w.must_be_at(rf"/registry/compounds/{compound.id}", "back on the compound's page")
        w.must_see(r"14\s*/\s*14", "every unit of the compound has a representative now")

        # The fee schedule: the one in force, then a new version for the residents' comments.
        w.click(f"main a[href='/fees/areas/{compound.area_id}']", what="收费")
        if schedule is not None:
            w.click(f"main a[href='/fees/schedules/{schedule.id}']", what="the schedule in force")
            w.must_see("保洁", "the schedule lists its services")
            w.click(f"main a[href='/fees/areas/{compound.area_id}']", what="back to the fees")
        w.click(
            f"main form[action='/fees/areas/{compound.area_id}/schedules'] button",
            what="起草新版本",
        )
        w.must_be_at(r"/fees/schedules/\d+", "the draft's page")
        items = "main form[action$='/items']"
        w.fill(f"{items} input[name=name]", "化粪池清掏", what="服务项目")
        w.fill(f"{items} input[name=scope]", "每年清掏一次", what="服务范围和标准")
        w.choose(f"{items} select[name=basis]", value="per_household", what="每户每月")
        w.fill(f"{items} input[name=rate]", "2", what="单价")
        w.click(f"{items} button[type=submit]", what="添加项目")
        w.must_see("化粪池清掏", "the new item is in the draft")
        w.click("main form[action$='/publish'] button[type=submit]", what="公示")
        demo.fresh()
        draft = demo.first(
            select(FeeSchedule)
            .where(FeeSchedule.area_id == compound.area_id)
            .order_by(FeeSchedule.id.desc())
        )
        w.expect(
            draft.status == ScheduleStatus.PUBLISHED,
            f"the new version is out for comments (status {draft.status})",
        )

        # Arrears: who owes, and what for.
        w.click(f"main a[href='/fees/areas/{compound.area_id}']", what="the area's fees")
        w.click(f"main a[href='/fees/areas/{compound.area_id}/arrears']", what="欠费")
        w.click("main a[href^='/fees/households/']", what="the first household in arrears")
        w.must_see(r"¥\d", "the household's page shows what it owes")

        # The two new repair reports: each given to a committee member.
        w.home()
        reported = f"main a[href='/repairs/compounds/{compound.id}?status=reported']"
        task_list = (
            f"main a[href='/repairs/compounds/{compound.id}'],"
            f" main a[href^='/repairs/compounds/{compound.id}?']"
        )
        w.click(reported, what="新国土小区有…条新的维修上报")
        for n, task in enumerate(new_reports[:2]):
            if n:
                if w.has(task_list):
                    w.click(task_list, what="back to the repair tasks")
                    if w.has("main select[name=status]"):
                        w.choose("main select[name=status]", value="reported", what="显示：待受理")
                else:
                    w.note("task", "the task's page does not lead back to the repair tasks")
                    w.home()
                    w.click(reported, what="新国土小区有…条新的维修上报")
            w.click(f"main a[href='/repairs/{task.id}']", what="a new report")
            assign(w, member_id=member, what="a committee member")
            demo.fresh()
            w.expect(
                db.session.get(RepairTask, task.id).status == Status.ASSIGNED,
                f"task {task.id} is assigned",
            )

        # The owners' vote on the stairwell lights: how it stands.
        w.home()
        w.click("main a[href='/votes/']", what="征求意见与业主表决")
        w.click(f"main a[href='/votes/{vote.id}']", what=vote.title)
        w.must_see(r"\d+\.\d%", "the vote's count shows its shares", within="#tally")

        # A notice to the compound, then its poster with the QR code, printed.
        w.home()
        w.click(f"main a[href='/registry/compounds/{compound.id}']", what="新国土小区")
        w.click(f"main a[href='/notices/compounds/{compound.id}']", what="通知公告")
        w.click(f"main a[href='/notices/compounds/{compound.id}/new']", what="发通知")
        form = f"main form[action='/notices/compounds/{compound.id}/new']"
        title = "6月20日上午清洗二次供水水箱"
        w.fill(f"{form} input[name=title]", title, what="名称")
        w.fill(
            f"{form} textarea[name=body]",
            "6月20日8点至11点清洗水箱，期间可能水压偏低。",
            what="通知内容",
        )
        w.click(f"{form} button[type=submit]", what="发布通知")
        w.must_be_at(r"/notices/\d+", "the new notice's page")
        w.must_see(title, "the notice is published")
        demo.fresh()
        posted = demo.first(select(Notice).where(Notice.title == title))
        w.expect(posted is not None, "the notice is recorded")
        w.click("main a[href$='/poster']", what="打印A4通知（带二维码）")
        w.expect(w.has("main img.qr, main .poster img"), "the poster has its QR code")
        w.click("main [data-print]", what="打印")
        w.expect(w.printed() == 1, "the print button opens the print dialog")
        link = w.find("main a[href*='/p/']", what="the address the QR code opens")
        address = link.get_attribute("href") or ""

        # Someone scans it in the stairwell: the public page, no sign-in, on a phone.
        scan = w.visitor()
        scan.open(address)
        scan.must_see(title, "the QR code opens the notice without signing in")


def reported_tasks(compound_ids: list[int]) -> list[RepairTask]:
    return list(
        db.session.scalars(
            select(RepairTask)
            .where(RepairTask.compound_id.in_(compound_ids), RepairTask.status == Status.REPORTED)
            .order_by(RepairTask.priority.desc(), RepairTask.id)
        )
    )


def counted_already(handover_id: int) -> HandoverConfirmation | None:
    demo.fresh()
    return demo.first(
        select(HandoverConfirmation).where(HandoverConfirmation.handover_id == handover_id)
    )


def waiting_handovers(area_id: int, keeper_id: int) -> list[CashHandover]:
    return list(
        db.session.scalars(
            select(CashHandover)
            .outerjoin(HandoverConfirmation)
            .where(
                CashHandover.area_id == area_id,
                CashHandover.collector_id != keeper_id,
                HandoverConfirmation.id.is_(None),
            )
            .order_by(CashHandover.handed_on, CashHandover.id)
        )
    )


def assign(w: Walker, *, member_id: int | None, what: str) -> None:
    """The task page's 派单 form: to a committee member."""
    form = "main form[action$='/assign']"
    if not w.has(form):
        w.click("details:has(form[action$='/assign']) > summary", what="派单")
    if w.has(f"{form} select[name=kind]"):
        w.choose(f"{form} select[name=kind]", value="member", what="由谁处理：物管会成员")
    chooser = f"{form} select[name=member_id]"
    if member_id is not None and w.page.locator(f"{chooser} option[value='{member_id}']").count():
        w.choose(chooser, value=str(member_id), what=what)
    else:
        value = w.page.locator(f"{chooser} option:not([value=''])").first.get_attribute("value")
        w.choose(chooser, value=value, what="the first committee member")
    w.click(f"{form} button[type=submit]", what="派单")

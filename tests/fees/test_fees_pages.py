"""The fee pages through the browser's eyes: who may do what, and what they see."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from compound_app import clock
from compound_app.committees.models import Position
from compound_app.extensions import db
from compound_app.fees import proofs
from compound_app.fees.models import (
    Bill,
    BillAdjustment,
    CashHandover,
    Expense,
    FeeSchedule,
    FinanceBoard,
    Payment,
    Reversal,
    ScheduleStatus,
)
from compound_app.months import add_months, this_month
from tests.factories import (
    World,
    fee_schedule,
    first_household,
    first_unit,
    passed_area_vote,
    user,
)


def _key(n: int = 0) -> str:
    return f"test-form-key-{n:08d}-abcdef"


def _ledger_rows() -> tuple[int, ...]:
    return tuple(
        db.session.scalar(select(func.count()).select_from(model))
        for model in (Bill, Payment, Reversal, CashHandover, Expense, FinanceBoard)
    )


@pytest.fixture
def billed(world: World) -> World:
    """The branch-managed compound with a schedule since two months ago, all bills issued."""
    from compound_app.fees import schedules

    fee_schedule(
        world.branch.area,
        start=add_months(this_month(), -2),
        items=(("保洁", "per_household", 1000), ("公共照明电费", "per_m2", 5)),
    )
    schedules.catch_up(world.branch.area_id)
    db.session.commit()
    return world


def _pay(client, household, amount: str = "45", key: str | None = None, **extra):  # type: ignore[no-untyped-def]
    data = {
        "amount": amount,
        "method": "cash",
        "paid_on": clock.today().isoformat(),
        "note": "",
        "key": key or _key(),
        **extra,
    }
    return client.post(f"/fees/households/{household.id}/pay", data=data)


# --- schedules through the pages --------------------------------------------------------------


def test_committee_drafts_publishes_and_approves_a_schedule(
    world: World, login_as, held_clock
) -> None:
    chair = login_as(world.users["committee"])
    area = world.branch.area
    response = chair.post(f"/fees/areas/{area.id}/schedules")
    assert response.status_code == 303
    schedule = db.session.scalars(select(FeeSchedule)).one()
    url = f"/fees/schedules/{schedule.id}"
    assert chair.post(f"{url}/publish").status_code == 303  # refused: no items
    db.session.expire_all()
    assert schedule.status == ScheduleStatus.DRAFT

    item = {"name": "保洁", "scope": "楼道每日清扫", "basis": "per_household", "rate": "10"}
    assert chair.post(f"{url}/items", data=item).status_code == 303
    bad = {**item, "name": "照明", "rate": "0.255"}
    page = chair.post(f"{url}/items", data=bad)
    assert page.status_code == 422 and "小数" in page.get_data(as_text=True)
    terms = {
        "cycle": "month",
        "start_month": f"{this_month():%Y-%m}",
        "vacant_percent": "50",
        "publicity_days": "6",
    }
    # The subdistrict's minimum is 7 days on the notice board; the form says so.
    page = chair.post(f"{url}/terms", data=terms)
    assert page.status_code == 422 and "7" in page.get_data(as_text=True)
    terms["publicity_days"] = "7"
    assert chair.post(f"{url}/terms", data=terms).status_code == 303
    assert chair.post(f"{url}/publish").status_code == 303
    # Residents see a published schedule; the approval needs the owners' vote and its record.
    resident = login_as(world.users["resident"])
    assert "楼道每日清扫" in resident.get(url).get_data(as_text=True)
    held_clock.now = clock.now() + timedelta(days=7)  # the days for comments are over
    chair = login_as(world.users["committee"])
    vote = passed_area_vote(area)
    approve = {"how": "residents_meeting", "approved_on": clock.today().isoformat(), "note": "x"}
    assert chair.post(f"{url}/approve", data=approve).status_code == 422
    approve = {"how": "owners_vote", "approved_on": clock.today().isoformat(), "note": ""}
    approve["vote_id"] = str(vote.id)
    assert chair.post(f"{url}/approve", data=approve).status_code == 422
    approve["note"] = "业主表决通过"
    assert chair.post(f"{url}/approve", data=approve).status_code == 303
    db.session.expire_all()
    assert schedule.status == ScheduleStatus.ACTIVE
    households = sum(len(u.households) for b in world.branch.buildings for u in b.units)
    assert db.session.scalar(select(func.count(Bill.id))) == households


def test_drafts_are_the_committees_until_published(world: World, login_as) -> None:
    chair = login_as(world.users["committee"])
    chair.post(f"/fees/areas/{world.branch.area_id}/schedules")
    schedule = db.session.scalars(select(FeeSchedule)).one()
    assert (
        login_as(world.users["resident"]).get(f"/fees/schedules/{schedule.id}").status_code == 404
    )
    assert (
        login_as(world.users["rep"]).post(f"/fees/schedules/{schedule.id}/publish").status_code
        == 403
    )
    assert (
        login_as(world.users["area_committee"]).get(f"/fees/schedules/{schedule.id}").status_code
        == 404
    )


# --- payments ---------------------------------------------------------------------------------


def test_rep_logs_a_cash_payment_and_gets_one_receipt_for_a_double_click(
    billed: World, login_as
) -> None:
    rep = login_as(billed.users["rep"])
    home = first_household(billed.branch)
    form = rep.get(f"/fees/households/{home.id}/pay")
    assert form.status_code == 200
    first = _pay(rep, home, "45", key=_key(1))
    second = _pay(rep, home, "45", key=_key(1))  # the double click
    assert first.status_code == second.status_code == 303
    assert first.headers["Location"] == second.headers["Location"]
    payments = db.session.scalars(select(Payment)).all()
    assert len(payments) == 1 and payments[0].amount_fen == 4500
    receipt = rep.get(first.headers["Location"]).get_data(as_text=True)
    assert payments[0].receipt_no in receipt and "肆拾伍元整" in receipt
    assert proofs.check_totals() == []


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        ("abc", "金额"),
        ("1e3", "金额"),
        ("NaN", "金额"),
        ("Infinity", "金额"),
        ("12.345", "小数"),
        ("-5", "大于"),
        ("0", "大于"),
        ("", "金额"),
        ("9" * 400, "太大"),
    ],
)
def test_bad_amounts_are_refused_with_a_message_and_nothing_written(
    billed: World, login_as, amount: str, message: str
) -> None:
    rep = login_as(billed.users["rep"])
    before = _ledger_rows()
    response = _pay(rep, first_household(billed.branch), amount)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert _ledger_rows() == before


def test_full_width_amounts_are_accepted(billed: World, login_as) -> None:
    rep = login_as(billed.users["rep"])
    assert _pay(rep, first_household(billed.branch), "１２.５").status_code == 303
    assert db.session.scalar(select(Payment.amount_fen)) == 1250


def test_a_rep_cannot_log_for_someone_elses_unit_or_another_area(billed: World, login_as) -> None:
    rep = login_as(billed.users["rep"])
    other_unit = billed.branch.buildings[0].units[1].households[0]
    other_area = first_household(billed.trust)
    before = _ledger_rows()
    assert _pay(rep, other_unit).status_code == 404
    assert _pay(rep, other_area).status_code == 404
    assert rep.get(f"/fees/units/{billed.branch.buildings[0].units[1].id}").status_code == 403
    # Committee members of another area, and residents, cannot log payments either.
    assert (
        _pay(login_as(billed.users["area_committee"]), first_household(billed.branch)).status_code
        == 404
    )
    assert (
        _pay(login_as(billed.users["resident"]), first_household(billed.branch)).status_code == 403
    )
    assert _ledger_rows() == before


def test_a_payment_date_in_the_future_is_refused(billed: World, login_as) -> None:
    rep = login_as(billed.users["rep"])
    tomorrow = (clock.today() + timedelta(days=1)).isoformat()
    response = _pay(rep, first_household(billed.branch), paid_on=tomorrow)
    assert response.status_code == 422 and db.session.scalar(select(func.count(Payment.id))) == 0


def test_reversal_voids_the_receipt_once(billed: World, login_as) -> None:
    rep = login_as(billed.users["rep"])
    home = first_household(billed.branch)
    _pay(rep, home, "30")
    payment = db.session.scalars(select(Payment)).one()
    url = f"/fees/payments/{payment.id}/reverse"
    assert rep.post(url, data={"reason": "收错"}).status_code == 403  # reps cannot reverse
    chair = login_as(billed.users["committee"])
    assert chair.post(url, data={"reason": ""}).status_code == 422
    assert chair.post(url, data={"reason": "收错户了"}).status_code == 303
    assert chair.post(url, data={"reason": "再冲一次"}).status_code == 422
    assert db.session.scalar(select(func.count(Reversal.id))) == 1
    page = chair.get(f"/fees/payments/{payment.id}").get_data(as_text=True)
    assert payment.receipt_no in page and "作废" in page
    assert proofs.check_totals() == []


# --- what people see --------------------------------------------------------------------------


def test_resident_sees_own_bills_and_the_board_but_no_names(billed: World, login_as) -> None:
    rep = login_as(billed.users["rep"])
    home = first_household(billed.branch)
    _pay(rep, home, "10")
    resident = login_as(billed.users["resident"])
    page = resident.get(f"/fees/households/{home.id}")
    assert page.status_code == 200 and "公共照明电费" in page.get_data(as_text=True)
    neighbour = billed.branch.buildings[0].units[0].households[1]
    assert resident.get(f"/fees/households/{neighbour.id}").status_code == 404
    board = resident.get(f"/fees/areas/{billed.branch.area_id}/board?month={this_month():%Y-%m}")
    text = board.get_data(as_text=True)
    assert board.status_code == 200 and neighbour.room in text
    for occupant in neighbour.occupants:
        assert occupant.name not in text  # rooms, never names
    assert resident.get(f"/fees/areas/{billed.branch.area_id}/arrears").status_code == 403
    assert resident.get(f"/fees/areas/{billed.trust.area_id}/board").status_code == 404


def test_unit_page_and_arrears_notice(billed: World, login_as) -> None:
    rep = login_as(billed.users["rep"])
    unit = first_unit(billed.branch)
    page = rep.get(f"/fees/units/{unit.id}").get_data(as_text=True)
    assert unit.households[1].occupants[0].name in page  # the rep knows the neighbours
    notice = rep.get(f"/fees/units/{unit.id}/notice").get_data(as_text=True)
    assert unit.households[1].room in notice and "data:image/svg+xml" in notice
    assert unit.households[1].occupants[0].name not in notice  # the stairwell sees rooms only


def test_committee_arrears_page_and_export(billed: World, login_as) -> None:
    chair = login_as(billed.users["committee"])
    _pay(login_as(billed.users["rep"]), first_household(billed.branch), "1000")
    page = chair.get(f"/fees/areas/{billed.branch.area_id}/arrears")
    assert page.status_code == 200
    export = chair.get(f"/fees/areas/{billed.branch.area_id}/ledger.xlsx?year={clock.today().year}")
    assert export.status_code == 200
    from openpyxl import load_workbook

    wb = load_workbook(io.BytesIO(export.data))
    assert wb.sheetnames == ["收款", "作废", "账单更正", "支出", "现金交接"]
    assert wb["收款"]["A1"].value == "收据号"
    assert wb["收款"]["D2"].value == 1000


# --- expenses -------------------------------------------------------------------------------


def _photo(kind: str = "JPEG") -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 10, 10)).save(buffer, kind)
    return buffer.getvalue()


def test_expense_above_threshold_needs_a_second_member(billed: World, login_as) -> None:
    second = user("钱桂芳")
    from compound_app.committees import service as committees

    committees.add_member(
        committees.committee_for_area(billed.branch.area_id),
        name=second.name,
        mobile=second.mobile,
        position=Position.TREASURER,
        background="party_member",
        term_start=clock.today() - timedelta(days=30),
        term_end=clock.today() + timedelta(days=300),
        actor=None,
    )
    db.session.commit()
    chair = login_as(billed.users["committee"])
    area_id = billed.branch.area_id
    data = {
        "category": "service:保洁",
        "amount": "800",
        "payee": "保洁员张师傅",
        "spent_on": clock.today().isoformat(),
        "note": "十一月工资",
        "key": _key(7),
        "voucher": (io.BytesIO(_photo()), "发票.jpg"),
    }
    assert (
        chair.post(
            f"/fees/areas/{area_id}/expenses", data=data, content_type="multipart/form-data"
        ).status_code
        == 303
    )
    expense = db.session.scalars(select(Expense)).one()
    assert expense.needs_approval and expense.voucher.endswith(".jpg")
    url = f"/fees/expenses/{expense.id}/approve"
    assert chair.post(url).status_code == 303  # refused: the one who entered it
    db.session.expire_all()
    assert expense.approval is None
    assert login_as(second).post(url).status_code == 303
    db.session.expire_all()
    assert expense.approval is not None
    assert login_as(second).post(url).status_code == 303  # a second approval: refused
    voucher = chair.get(f"/fees/expenses/{expense.id}/voucher")
    assert voucher.status_code == 200 and "attachment" in voucher.headers["Content-Disposition"]
    assert proofs.check_totals() == []


def test_a_voucher_that_is_not_a_photo_is_refused(billed: World, login_as) -> None:
    chair = login_as(billed.users["committee"])
    data = {
        "category": "other:",
        "amount": "20",
        "payee": "五金店",
        "spent_on": clock.today().isoformat(),
        "key": _key(8),
        "voucher": (io.BytesIO(b"<html><script>alert(1)</script></html>"), "发票.jpg"),
    }
    response = chair.post(
        f"/fees/areas/{billed.branch.area_id}/expenses",
        data=data,
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    assert db.session.scalar(select(func.count(Expense.id))) == 0


# --- the finance board ------------------------------------------------------------------------


def test_a_published_month_is_frozen(billed: World, login_as) -> None:
    chair = login_as(billed.users["committee"])
    rep = login_as(billed.users["rep"])
    home = first_household(billed.branch)
    last_month = add_months(this_month(), -1)
    _pay(rep, home, "10", key=_key(1), paid_on=(this_month() - timedelta(days=1)).isoformat())
    area_id = billed.branch.area_id
    assert (
        chair.post(
            f"/fees/areas/{area_id}/board", data={"month": f"{this_month():%Y-%m}"}
        ).status_code
        == 303
    )
    assert db.session.scalar(select(func.count(FinanceBoard.id))) == 0  # not ended yet
    assert (
        chair.post(
            f"/fees/areas/{area_id}/board", data={"month": f"{last_month:%Y-%m}"}
        ).status_code
        == 303
    )
    board = db.session.scalars(select(FinanceBoard)).one()
    assert board.figures["received"] == 1000
    # A payment dated in the published month counts in this month instead.
    _pay(rep, home, "5", key=_key(2), paid_on=(this_month() - timedelta(days=2)).isoformat())
    late = db.session.scalars(select(Payment).order_by(Payment.id.desc())).first()
    assert late.book_month == this_month()
    page = chair.get(f"/fees/areas/{area_id}/board?month={last_month:%Y-%m}").get_data(as_text=True)
    assert "¥10.00" in page
    assert proofs.check_totals() == []
    poster = chair.get(f"/fees/areas/{area_id}/board/poster?month={last_month:%Y-%m}")
    assert poster.status_code == 200 and "data:image/svg+xml" in poster.get_data(as_text=True)


def test_an_expense_entered_by_mistake_is_voided_not_deleted(billed: World, login_as) -> None:
    chair = login_as(billed.users["committee"])
    area_id = billed.branch.area_id
    data = {
        "category": "other:",
        "amount": "60",
        "payee": "五金店",
        "spent_on": clock.today().isoformat(),
        "key": _key(9),
    }
    recorded = chair.post(f"/fees/areas/{area_id}/expenses", data=data)
    expense = db.session.scalars(select(Expense)).one()
    # Back on the list, the recorded expenses are open where the new one shows.
    assert recorded.status_code == 303 and recorded.location.endswith("#history")
    shown = chair.get(recorded.location).get_data(as_text=True)
    assert '<details class="card fold" id="history" open>' in shown and "五金店" in shown
    plain = chair.get(f"/fees/areas/{area_id}/expenses").get_data(as_text=True)
    assert '<details class="card fold" id="history">' in plain
    # One above the approval threshold waits for a second member: shown with those waiting.
    big = chair.post(
        f"/fees/areas/{area_id}/expenses", data={**data, "amount": "90000", "key": _key(10)}
    )
    assert big.status_code == 303 and big.location.endswith("#awaiting"), big.location
    assert 'id="awaiting"' in chair.get(big.location).get_data(as_text=True)
    void_target = db.session.scalars(select(Expense).where(Expense.amount_fen == 6000)).one()
    assert void_target.id == expense.id
    url = f"/fees/expenses/{expense.id}/void"
    assert login_as(billed.users["rep"]).post(url, data={"reason": "x"}).status_code in (403, 404)
    assert chair.post(url, data={"reason": ""}).status_code == 303  # refused: no reason
    db.session.expire_all()
    assert expense.void is None
    assert chair.post(url, data={"reason": "重复登记"}).status_code == 303
    assert chair.post(url, data={"reason": "再作废一次"}).status_code == 303  # refused
    db.session.expire_all()
    assert expense.void.reason == "重复登记" and not expense.counts
    page = chair.get(f"/fees/areas/{area_id}/expenses").get_data(as_text=True)
    assert "重复登记" in page and "作废" in page
    board = reports_figures(billed)
    assert board["spent"] == 0 and board["expenses"] == []
    assert proofs.check_totals() == []


def reports_figures(world: World) -> dict:
    from compound_app.fees import reports

    return reports.figures(world.branch.area, this_month())


def test_committee_money_actions_are_refused_to_reps_and_residents(billed: World, login_as) -> None:
    area_id = billed.branch.area_id
    home = first_household(billed.branch)
    bill = db.session.scalars(select(Bill).where(Bill.household_id == home.id)).first()
    last_month = add_months(this_month(), -1)
    posts = {
        f"/fees/areas/{area_id}/threshold": {"threshold": "0"},
        f"/fees/areas/{area_id}/bills": {"month": f"{this_month():%Y-%m}"},
        f"/fees/areas/{area_id}/board": {"month": f"{last_month:%Y-%m}"},
        f"/fees/areas/{area_id}/schedules": {},
        f"/fees/households/{home.id}/relief": {
            "percent_off": "100",
            "reason": "x",
            "since": "2026-01-01",
        },
        f"/fees/households/{home.id}/adjust": {"bill": str(bill.id), "amount": "1", "reason": "x"},
    }
    before = _ledger_rows()
    for role in ("rep", "resident"):
        client = login_as(billed.users[role])
        for url, data in posts.items():
            assert client.post(url, data=data).status_code == 403, (role, url)
    assert _ledger_rows() == before
    assert db.session.scalar(select(func.count(FeeSchedule.id))) == 1


def test_a_correction_larger_than_the_bill_is_refused(billed: World, login_as) -> None:
    chair = login_as(billed.users["committee"])
    home = first_household(billed.branch)
    bill = db.session.scalars(select(Bill).where(Bill.household_id == home.id)).first()
    url = f"/fees/households/{home.id}/adjust"
    too_much = f"{bill.amount_fen / 100 + 1:.2f}"
    response = chair.post(url, data={"bill": str(bill.id), "amount": too_much, "reason": "空置"})
    assert response.status_code == 422 and "最多" in response.get_data(as_text=True)
    assert too_much in response.get_data(as_text=True)  # the typed amount stays in the form
    other = db.session.scalars(select(Bill).where(Bill.household_id != home.id)).first()
    stray = chair.post(url, data={"bill": str(other.id), "amount": "1", "reason": "空置"})
    assert stray.status_code == 422
    assert db.session.scalar(select(func.count(BillAdjustment.id))) == 0


# --- the approval threshold: one member proposes, a second confirms ---------------------------


def _second_member(world: World):  # type: ignore[no-untyped-def]
    from compound_app.committees import service as committees

    second = user("钱桂芳")
    committees.add_member(
        committees.committee_for_area(world.branch.area_id),
        name=second.name,
        mobile=second.mobile,
        position=Position.TREASURER,
        background="party_member",
        term_start=clock.today() - timedelta(days=30),
        term_end=clock.today() + timedelta(days=300),
        actor=None,
    )
    db.session.commit()
    return second


def _threshold(area_id: int) -> int:
    from compound_app.fees import schedules

    db.session.expire_all()
    return schedules.settings_of(area_id).approval_threshold_fen


def test_one_committee_member_alone_cannot_raise_the_threshold(world: World, login_as) -> None:
    """Any single member used to set the amount above which a second must approve: 0 or
    a million, and every expense of theirs went through unchecked."""
    from compound_app.audit import AuditLog
    from compound_app.fees.models import ThresholdChange

    area_id = world.branch.area_id
    second = _second_member(world)
    chair = login_as(world.users["committee"])
    before = _threshold(area_id)
    url = f"/fees/areas/{area_id}/threshold"
    assert chair.post(url, data={"threshold": "1000000"}).status_code == 303
    assert _threshold(area_id) == before  # proposed, not in force
    change = db.session.scalars(select(ThresholdChange)).one()
    assert (change.status, change.threshold_fen) == ("pending", 100_000_000)
    # The page shows it; the proposer gets no confirm button...
    page = chair.get(f"/fees/areas/{area_id}").get_data(as_text=True)
    assert "1,000,000" in page.replace("，", ",") or "1000000" in page
    assert f"/fees/threshold-changes/{change.id}/confirm" not in page
    # ...and confirming their own proposal is refused.
    confirm = f"/fees/threshold-changes/{change.id}/confirm"
    assert chair.post(confirm).status_code == 303
    with chair.session_transaction() as session:
        assert any(cat == "error" for cat, _ in session.pop("_flashes", []))
    assert _threshold(area_id) == before
    # Community staff may propose but not confirm where a committee runs the area.
    staff = login_as(world.users["staff"])
    assert staff.post(confirm).status_code == 303
    assert _threshold(area_id) == before
    # A representative or a resident has no say at all.
    for role in ("rep", "resident"):
        assert login_as(world.users[role]).post(confirm).status_code == 403
        assert login_as(world.users[role]).post(url, data={"threshold": "0"}).status_code == 403
    # The second member sees the button and confirms: now it is in force.
    other = login_as(second)
    assert confirm in other.get(f"/fees/areas/{area_id}").get_data(as_text=True)
    assert other.post(confirm).status_code == 303
    assert _threshold(area_id) == 100_000_000
    actions = [
        (row.action, row.user_id)
        for row in db.session.scalars(
            select(AuditLog).where(AuditLog.entity == "threshold_change").order_by(AuditLog.id)
        )
    ]
    assert actions == [
        ("propose_threshold", world.users["committee"].id),
        ("confirm_threshold", second.id),
    ]
    assert other.post(confirm).status_code == 303  # twice confirms nothing twice
    assert (
        db.session.scalar(
            select(func.count(AuditLog.id)).where(AuditLog.action == "confirm_threshold")
        )
        == 1
    )


def test_a_new_proposal_replaces_the_pending_one(world: World, login_as) -> None:
    from compound_app.fees.models import ThresholdChange

    area_id = world.branch.area_id
    second = _second_member(world)
    chair, other = login_as(world.users["committee"]), login_as(second)
    url = f"/fees/areas/{area_id}/threshold"
    chair.post(url, data={"threshold": "800"})
    first = db.session.scalars(select(ThresholdChange)).one()
    other.post(url, data={"threshold": "600"})
    db.session.expire_all()
    assert db.session.get(ThresholdChange, first.id).status == "replaced"
    # The replaced one can no longer be confirmed; the new one, by the other member.
    assert chair.post(f"/fees/threshold-changes/{first.id}/confirm").status_code == 303
    assert _threshold(area_id) == 50_000
    latest = db.session.scalars(select(ThresholdChange).order_by(ThresholdChange.id.desc())).first()
    assert chair.post(f"/fees/threshold-changes/{latest.id}/confirm").status_code == 303
    assert _threshold(area_id) == 60_000


def test_staff_running_an_area_without_a_committee_set_the_threshold_alone(
    world: World, login_as
) -> None:
    """As they approve its expenses alone (fees/expenses.py may_approve)."""
    from compound_app.fees.models import ThresholdChange

    area_id = world.trust.area_id
    staff = login_as(world.users["staff"])
    assert (
        staff.post(f"/fees/areas/{area_id}/threshold", data={"threshold": "300"}).status_code == 303
    )
    assert _threshold(area_id) == 30_000
    assert db.session.scalar(select(func.count(ThresholdChange.id))) == 0


def test_a_representative_cannot_change_what_a_home_is_billed_for(world: World, login_as) -> None:
    """Floor area and occupancy make a home's bills: they need fee rights."""
    from compound_app import access
    from compound_app.errors import RuleError
    from compound_app.registry import roster
    from compound_app.registry.models import Household, Occupancy

    home = first_unit(world.branch).households[1]
    area, occupancy, room = home.area_dm2, home.occupancy, home.room
    rep = login_as(world.users["rep"])
    form = rep.get(f"/registry/households/{home.id}/edit").get_data(as_text=True)
    assert 'name="area"' not in form and 'name="occupancy"' not in form
    response = rep.post(
        f"/registry/households/{home.id}/edit",
        data={"room": room, "area": "20", "occupancy": "vacant"},
    )
    assert response.status_code == 303
    db.session.expire_all()
    home = db.session.get(Household, home.id)
    assert (home.area_dm2, home.occupancy) == (area, occupancy)
    # The service itself refuses it, next to the field.
    with pytest.raises(RuleError) as refused:
        roster.update_household(
            home, room, 2000, Occupancy(occupancy), access.load_principal(world.users["rep"])
        )
    assert refused.value.field == "area"
    db.session.rollback()
    # The room number is still the representative's to correct.
    assert (
        rep.post(f"/registry/households/{home.id}/edit", data={"room": "2010"}).status_code == 303
    )
    db.session.expire_all()
    assert db.session.get(Household, home.id).room == "2010"
    # The committee, with fee rights, changes area and occupancy.
    chair = login_as(world.users["committee"])
    response = chair.post(
        f"/registry/households/{home.id}/edit",
        data={"room": "2010", "area": "70", "occupancy": "rented"},
    )
    assert response.status_code == 303
    db.session.expire_all()
    home = db.session.get(Household, home.id)
    assert (home.area_dm2, home.occupancy) == (7000, "rented")

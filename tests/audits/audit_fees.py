"""The fee routes' cases for ``test_audit``: every change to money writes its audit row."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select

from compound_app import clock
from compound_app.committees import service as committees
from compound_app.committees.models import Background, Position
from compound_app.extensions import db
from compound_app.fees import expenses, ledger, schedules
from compound_app.fees.models import (
    Basis,
    Bill,
    BillAdjustment,
    CashHandover,
    Expense,
    ExpenseApproval,
    ExpenseKind,
    ExpenseVoid,
    FeeItem,
    FeeRelief,
    FeeSchedule,
    FinanceBoard,
    HandoverConfirmation,
    Method,
    Payment,
    ReceiptSeal,
    Reversal,
    ThresholdChange,
)
from compound_app.months import add_months, this_month
from tests.audits.test_audit import Changed, Post, case, changed, deleted, one
from tests.factories import World, fee_schedule, first_household, passed_area_vote, user

KEY = "audit-case-form-key-000000001"


def _draft(w: World, *, item: bool = False, published: bool = False) -> FeeSchedule:
    draft = schedules.new_draft(w.branch.area, w.users["committee"])
    if item or published:
        schedules.add_item(draft, name="保洁", scope="", basis=Basis.PER_HOUSEHOLD, rate_fen=1000)
    if published:  # a week ago: its days for comments are over
        schedules.publish(draft, today=clock.today() - timedelta(days=draft.publicity_days))
    db.session.commit()
    return draft


def _active(w: World) -> FeeSchedule:
    schedule = fee_schedule(w.branch.area, start=add_months(this_month(), -1))
    return schedule


def _payment(w: World, method: Method = Method.CASH) -> Payment:
    _active(w)
    schedules.catch_up(w.branch.area_id)
    payment = ledger.record_payment(
        first_household(w.branch),
        amount_fen=2000,
        method=method,
        paid_on=clock.today(),
        collector=w.users["rep"],
        request_key="audit-case-payment-00000001",
    ).payment
    db.session.commit()
    return payment


@case("fees.new_schedule", "committee")
def _new_schedule(w: World, client: Any) -> Post:
    area = w.branch.area

    def expect() -> list[Changed]:
        return [changed(one(select(FeeSchedule)), "create", version=1, area_id=area.id)]

    return Post(f"/fees/areas/{area.id}/schedules", {}, expect)


@case("fees.terms", "committee")
def _terms(w: World, client: Any) -> Post:
    draft = _draft(w)
    start = add_months(this_month(), 1)
    return Post(
        f"/fees/schedules/{draft.id}/terms",
        {
            "cycle": "quarter",
            "start_month": f"{start:%Y-%m}",
            "vacant_percent": "40",
            "publicity_days": "10",
        },
        lambda: [changed(draft, "update", cycle="quarter", vacant_percent=40)],
    )


@case("fees.add_item", "committee")
def _add_item(w: World, client: Any) -> Post:
    draft = _draft(w)
    return Post(
        f"/fees/schedules/{draft.id}/items",
        {"name": "垃圾清运", "scope": "每日清运", "basis": "per_m2", "rate": "0.05"},
        lambda: [changed(one(select(FeeItem)), "create", name="垃圾清运", rate_fen=5)],
    )


@case("fees.delete_item", "committee")
def _delete_item(w: World, client: Any) -> Post:
    draft = _draft(w, item=True)
    item_id = draft.items[0].id
    return Post(
        f"/fees/items/{item_id}/delete",
        {},
        lambda: [deleted("fee_item", item_id, "delete", name="保洁")],
    )


@case("fees.publish", "committee")
def _publish(w: World, client: Any) -> Post:
    draft = _draft(w, item=True)
    return Post(
        f"/fees/schedules/{draft.id}/publish",
        {},
        lambda: [changed(draft, "update", status="published")],
    )


@case("fees.withdraw", "committee")
def _withdraw(w: World, client: Any) -> Post:
    draft = _draft(w, published=True)
    return Post(
        f"/fees/schedules/{draft.id}/withdraw",
        {},
        lambda: [changed(draft, "update", status="draft")],
    )


@case("fees.approve", "committee")
def _approve(w: World, client: Any) -> Post:
    draft = _draft(w, published=True)
    vote = passed_area_vote(w.branch.area)
    return Post(
        f"/fees/schedules/{draft.id}/approve",
        {
            "how": "owners_vote",
            "vote_id": str(vote.id),
            "approved_on": clock.today().isoformat(),
            "note": "业主表决通过",
        },
        lambda: [
            changed(
                draft,
                "update",
                status="active",
                approved_how="owners_vote",
                approval_vote_id=vote.id,
            )
        ],
    )


@case("fees.bills", "committee")
def _bills(w: World, client: Any) -> Post:
    _active(w)  # the first month billed on approval; this month not yet
    area = w.branch.area
    return Post(
        f"/fees/areas/{area.id}/bills",
        {"month": f"{this_month():%Y-%m}"},
        lambda: [
            Changed("management_area", area.id, {"period": f"{this_month():%Y-%m}"}, "issue_bills")
        ],
    )


@case("fees.threshold", "committee")
def _threshold(w: World, client: Any) -> Post:
    # A committee runs the area: the change is proposed, in force once a second confirms.
    return Post(
        f"/fees/areas/{w.branch.area_id}/threshold",
        {"threshold": "300"},
        lambda: [
            changed(
                one(select(ThresholdChange)),
                "propose_threshold",
                threshold_fen=30000,
                status="pending",
                proposed_by_id=w.users["committee"].id,
            )
        ],
    )


@case("fees.threshold", "staff", "no committee")
def _threshold_by_staff(w: World, client: Any) -> Post:
    # Community staff run the area without a committee: they set it, as they approve.
    return Post(
        f"/fees/areas/{w.trust.area_id}/threshold",
        {"threshold": "300"},
        lambda: [Changed("fee_settings", None, {"approval_threshold_fen": 30000}, "create")],  # type: ignore[arg-type]
    )


@case("fees.confirm_threshold", "committee")
def _confirm_threshold(w: World, client: Any) -> Post:
    second = user("钱桂芳")
    committees.add_member(
        committees.committee_for_area(w.branch.area_id),
        name=second.name,
        mobile=second.mobile,
        position=Position.TREASURER,
        background=Background.KEEN_RESIDENT,
        term_start=clock.today() - timedelta(days=10),
        term_end=clock.today() + timedelta(days=300),
        actor=None,
    )
    change = schedules.propose_threshold(w.branch.area, 120_000, second, staff=False)
    db.session.commit()
    return Post(
        f"/fees/threshold-changes/{change.id}/confirm",
        {},
        lambda: [
            changed(
                change,
                "confirm_threshold",
                status="confirmed",
                confirmed_by_id=w.users["committee"].id,
            ),
            Changed("fee_settings", None, {"approval_threshold_fen": 120_000}, "create"),  # type: ignore[arg-type]
        ],
    )


@case("fees.pay", "rep")
def _pay(w: World, client: Any) -> Post:
    _active(w)
    home = first_household(w.branch)
    return Post(
        f"/fees/households/{home.id}/pay",
        {
            "amount": "25.5",
            "method": "cash",
            "paid_on": clock.today().isoformat(),
            "note": "",
            "key": KEY,
        },
        lambda: [changed(one(select(Payment)), "create", amount_fen=2550, household_id=home.id)],
    )


@case("fees.reverse", "committee")
def _reverse(w: World, client: Any) -> Post:
    payment = _payment(w)
    return Post(
        f"/fees/payments/{payment.id}/reverse",
        {"reason": "登记错户"},
        lambda: [
            changed(one(select(Reversal)), "create", payment_id=payment.id, reason="登记错户")
        ],
    )


@case("fees.relief", "committee")
def _relief(w: World, client: Any) -> Post:
    home = first_household(w.branch)
    return Post(
        f"/fees/households/{home.id}/relief",
        {"percent_off": "50", "reason": "低保户", "since": clock.today().isoformat()},
        lambda: [
            Changed("fee_relief", None, {"percent_off": 50, "household_id": home.id}, "create")
        ],  # type: ignore[arg-type]
    )


@case("fees.clear_relief", "committee")
def _clear_relief(w: World, client: Any) -> Post:
    home = first_household(w.branch)
    schedules.set_relief(home, 100, "低保户", clock.today())
    db.session.commit()
    return Post(
        f"/fees/households/{home.id}/relief/clear",
        {},
        lambda: [
            Changed("fee_relief", None, {"percent_off": 100}, "delete", deleted=True)  # type: ignore[arg-type]
        ],
    )


@case("fees.hand_over", "rep")
def _hand_over(w: World, client: Any) -> Post:
    _payment(w)
    return Post(
        f"/fees/areas/{w.branch.area_id}/cash",
        {"amount": "20", "handed_on": clock.today().isoformat(), "key": KEY, "confirmed": "y"},
        lambda: [changed(one(select(CashHandover)), "create", amount_fen=2000)],
    )


@case("fees.confirm", "committee")
def _confirm(w: World, client: Any) -> Post:
    _payment(w)
    handover = CashHandover(
        area_id=w.branch.area_id,
        collector_id=w.users["rep"].id,
        amount_fen=2000,
        handed_on=clock.today(),
        request_key="audit-case-handover-000001",
    )
    db.session.add(handover)
    db.session.commit()
    return Post(
        f"/fees/handovers/{handover.id}/confirm",
        {"received": "20", "note": ""},
        lambda: [changed(one(select(HandoverConfirmation)), "create", received_fen=2000)],
    )


@case("fees.new_expense", "committee")
def _new_expense(w: World, client: Any) -> Post:
    return Post(
        f"/fees/areas/{w.branch.area_id}/expenses",
        {
            "category": "repair:",
            "amount": "120",
            "payee": "五金店",
            "spent_on": clock.today().isoformat(),
            "note": "楼道灯泡",
            "key": KEY,
        },
        lambda: [changed(one(select(Expense)), "create", amount_fen=12000, kind="repair")],
    )


@case("fees.approve_expense", "committee")
def _approve_expense(w: World, client: Any) -> Post:
    second = user("钱桂芳")
    committee = committees.committee_for_area(w.branch.area_id)
    committees.add_member(
        committee,
        name=second.name,
        mobile=second.mobile,
        position=Position.TREASURER,
        background=Background.KEEN_RESIDENT,
        term_start=clock.today() - timedelta(days=10),
        term_end=clock.today() + timedelta(days=300),
        actor=None,
    )
    expense = expenses.record_expense(
        w.branch.area,
        second,
        kind=ExpenseKind.REPAIR,
        category="",
        amount_fen=90_000,
        payee="维修队",
        spent_on=clock.today(),
        note="下水管道",
        voucher=None,
        request_key="audit-case-expense-0000001",
    )
    db.session.commit()
    return Post(
        f"/fees/expenses/{expense.id}/approve",
        {},
        lambda: [changed(one(select(ExpenseApproval)), "create", expense_id=expense.id)],
    )


@case("fees.void_expense", "committee")
def _void_expense(w: World, client: Any) -> Post:
    expense = expenses.record_expense(
        w.branch.area,
        w.users["committee"],
        kind=ExpenseKind.OTHER,
        category="",
        amount_fen=3_000,
        payee="文具店",
        spent_on=clock.today(),
        note="",
        voucher=None,
        request_key="audit-case-expense-0000002",
    )
    db.session.commit()
    return Post(
        f"/fees/expenses/{expense.id}/void",
        {"reason": "重复登记"},
        lambda: [changed(one(select(ExpenseVoid)), "create", counted=True, reason="重复登记")],
    )


@case("fees.adjust", "committee")
def _adjust(w: World, client: Any) -> Post:
    _active(w)
    home = first_household(w.branch)
    bill = one(select(Bill).where(Bill.household_id == home.id))
    return Post(
        f"/fees/households/{home.id}/adjust",
        {"bill": str(bill.id), "amount": "4", "reason": "当月空置"},
        lambda: [changed(one(select(BillAdjustment)), "create", amount_fen=400, bill_id=bill.id)],
    )


@case("fees.publish_board", "committee")
def _publish_board(w: World, client: Any) -> Post:
    last_month = add_months(this_month(), -1)
    return Post(
        f"/fees/areas/{w.branch.area_id}/board",
        {"month": f"{last_month:%Y-%m}"},
        lambda: [changed(one(select(FinanceBoard)), "create", month=last_month.isoformat())],
    )


@case("fees.upload_seal", "committee")
def _upload_seal(w: World, client: Any) -> Post:
    from tests.audits.audit_repairs import Photo

    area_id = w.branch.area_id
    return Post(
        f"/fees/areas/{area_id}/seal",
        {"seal": Photo("印章.png"), "key": KEY},
        lambda: [changed(one(select(ReceiptSeal)), "upload_seal", area_id=area_id)],
    )


__all__ = ["FeeRelief"]

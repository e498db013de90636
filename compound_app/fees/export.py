"""The area's ledger for a year as an Excel workbook, with Chinese headers (台账)."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from .. import clock
from ..extensions import db
from ..registry.models import Building, Household, ManagementArea, Unit
from ..xlsx import workbook, yuan, zh
from .models import (
    Bill,
    BillAdjustment,
    CashHandover,
    Expense,
    HandoverConfirmation,
    Payment,
    Reversal,
)

_HOME = (
    joinedload(Payment.household)
    .joinedload(Household.unit)
    .joinedload(Unit.building)
    .joinedload(Building.compound)
)


def _room(household: Household | None) -> str:
    if household is None:
        return ""
    unit = household.unit
    return "-".join((unit.building.compound.name, unit.building.name, unit.name, household.room))


def ledger_xlsx(area: ManagementArea, year: int) -> bytes:
    first, last = date(year, 1, 1), date(year, 12, 31)
    sheets: list[tuple[str, list[str], list[list[Any]]]] = []

    payments = db.session.scalars(
        select(Payment)
        .where(Payment.area_id == area.id, Payment.paid_on >= first, Payment.paid_on <= last)
        .options(_HOME, joinedload(Payment.collector), joinedload(Payment.reversal))
        .order_by(Payment.id)
    ).all()
    sheets.append(
        (
            "收款",
            [
                "收据号",
                "收款日期",
                "房屋",
                "金额(元)",
                "方式",
                "收款人",
                "所缴期间",
                "备注",
                "状态",
            ],
            [
                [
                    p.receipt_no,
                    p.paid_on,
                    _room(p.household),
                    yuan(p.amount_fen),
                    zh("method", p.method),
                    p.collector.name,
                    p.covers,
                    p.note,
                    "已作废" if p.reversal else "有效",
                ]
                for p in payments
            ],
        )
    )
    reversals = db.session.scalars(
        select(Reversal)
        .join(Payment, Payment.id == Reversal.payment_id)
        .where(
            Reversal.area_id == area.id, Reversal.book_month >= first, Reversal.book_month <= last
        )
        .options(joinedload(Reversal.payment), joinedload(Reversal.reversed_by))
        .order_by(Reversal.id)
    ).all()
    sheets.append(
        (
            "作废",
            ["原收据号", "作废日期", "金额(元)", "原因", "经办人"],
            [
                [
                    r.payment.receipt_no,
                    clock.local_date(r.created_at),
                    yuan(r.amount_fen),
                    r.reason,
                    r.reversed_by.name,
                ]
                for r in reversals
            ],
        )
    )
    adjustments = db.session.scalars(
        select(BillAdjustment)
        .where(BillAdjustment.area_id == area.id)
        .options(
            joinedload(BillAdjustment.bill).joinedload(Bill.item),
            joinedload(BillAdjustment.adjusted_by),
        )
        .order_by(BillAdjustment.id)
    ).all()
    sheets.append(
        (
            "账单更正",
            ["更正日期", "房屋", "计费期", "项目", "核减金额(元)", "原因", "经办人"],
            [
                [
                    clock.local_date(a.created_at),
                    _room(db.session.get(Household, a.household_id)),
                    f"{a.bill.period:%Y-%m}",
                    a.bill.item.name,
                    yuan(a.amount_fen),
                    a.reason,
                    a.adjusted_by.name,
                ]
                for a in adjustments
                if clock.local_date(a.created_at).year == year
            ],
        )
    )
    expenses = db.session.scalars(
        select(Expense)
        .where(Expense.area_id == area.id, Expense.spent_on >= first, Expense.spent_on <= last)
        .options(
            joinedload(Expense.recorded_by),
            joinedload(Expense.approval),
            joinedload(Expense.void),
        )
        .order_by(Expense.spent_on, Expense.id)
    ).all()
    sheets.append(
        (
            "支出",
            ["日期", "类别", "项目", "金额(元)", "收款方", "用途", "登记人", "审批"],
            [
                [
                    e.spent_on,
                    zh("expense_kind", e.kind),
                    e.category,
                    yuan(e.amount_fen),
                    e.payee,
                    e.note,
                    e.recorded_by.name,
                    ("已作废：" + e.void.reason)
                    if e.void
                    else ("已审批：" + e.approval.approved_by.name)
                    if e.approval
                    else ("待审批" if e.needs_approval else "无需审批"),
                ]
                for e in expenses
            ],
        )
    )
    handovers = db.session.execute(
        select(CashHandover, HandoverConfirmation)
        .outerjoin(HandoverConfirmation, HandoverConfirmation.handover_id == CashHandover.id)
        .where(
            CashHandover.area_id == area.id,
            CashHandover.handed_on >= first,
            CashHandover.handed_on <= last,
        )
        .options(joinedload(CashHandover.collector))
        .order_by(CashHandover.id)
    ).all()
    sheets.append(
        (
            "现金交接",
            ["交接日期", "交款人", "交款金额(元)", "点收金额(元)", "点收人", "说明"],
            [
                [
                    h.handed_on,
                    h.collector.name,
                    yuan(h.amount_fen),
                    yuan(c.received_fen) if c else "待点收",
                    c.confirmed_by.name if c else "",
                    c.note if c else "",
                ]
                for h, c in handovers
            ],
        )
    )
    return workbook(sheets)

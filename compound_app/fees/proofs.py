"""Proofs of the fee ledger: every running total recomputed from the entries.

The ledger keeps its totals (``Account``, ``AreaMonth``, ``IncomeMonth``) in step with
the bills, payments, reversals, adjustments and expenses it posts. ``check_totals``
recomputes them all from those entries and lists every difference, with the checks
that each entry sits in its home's area and that receipt numbers run without gaps.
``flask fees check``, the tests and the benchmarks call it; nothing here writes.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from typing import Any

from sqlalchemy import func, select, true

from ..extensions import db
from ..income.proofs import check_income, receipt_numbers
from ..registry.models import Building, Compound, Household, Unit
from .ledger import allocate, bills_of, owing_since
from .models import (
    Account,
    AreaMonth,
    Bill,
    BillAdjustment,
    Expense,
    ExpenseApproval,
    ExpenseVoid,
    IncomeMonth,
    Payment,
    ReceiptCounter,
    Reversal,
)


def _check_places(area_id: int | None) -> list[str]:
    """Every account and entry belongs to the area its household is in."""
    home_area = (
        select(Household.id.label("hid"), Compound.area_id.label("area_id"))
        .join(Unit, Unit.id == Household.unit_id)
        .join(Building, Building.id == Unit.building_id)
        .join(Compound, Compound.id == Building.compound_id)
        .subquery()
    )
    problems = []
    for model in (Account, Bill, Payment):
        stmt = (
            select(func.count())
            .select_from(model)
            .join(home_area, home_area.c.hid == model.household_id)
            .where(home_area.c.area_id != model.area_id)
        )
        if area_id is not None:
            stmt = stmt.where(model.area_id == area_id)
        wrong = db.session.scalar(stmt)
        if wrong:
            problems.append(f"{wrong} {model.__tablename__} rows in another area than their home")
    return problems


def _check_receipts(area_id: int | None) -> list[str]:
    """Receipt numbers of each area and year run 1, 2, 3… up to the counter, no gaps
    (fee payments and common-part income receipts share the series)."""
    problems = []
    stmt = select(ReceiptCounter)
    if area_id is not None:
        stmt = stmt.where(ReceiptCounter.area_id == area_id)
    for counter in db.session.scalars(stmt):
        issued = [
            *db.session.scalars(
                select(Payment.receipt_no).where(
                    Payment.area_id == counter.area_id,
                    Payment.receipt_no.like(f"%-{counter.year}-%"),
                )
            ),
            *receipt_numbers(counter.area_id, counter.year),
        ]
        numbers = sorted(int(no.rsplit("-", 1)[1]) for no in issued)
        if numbers != list(range(1, counter.last + 1)):
            problems.append(f"area {counter.area_id} {counter.year}: receipt numbers have gaps")
    return problems


def check_totals(area_id: int | None = None) -> list[str]:
    """Recompute every running total from the entries; return the differences found.

    Which bills a household's money settles depends only on its bills and its paid
    total, so the collected figures are recomputed exactly; money received per month
    and item must add up to the payments and reversals booked in that month.
    """
    problems: list[str] = []

    def where(model: Any) -> Any:
        return model.area_id == area_id if area_id is not None else true()

    billed: dict[int, int] = defaultdict(int)
    for model, sign in ((Bill, 1), (BillAdjustment, -1)):
        for hid, amount in db.session.execute(
            select(model.household_id, func.sum(model.amount_fen))
            .where(where(model))
            .group_by(model.household_id)
        ):
            billed[hid] += sign * int(amount)
    last_periods = dict(
        db.session.execute(
            select(Bill.household_id, func.max(Bill.period))
            .where(where(Bill))
            .group_by(Bill.household_id)
        ).all()
    )
    paid: dict[int, int] = defaultdict(int)
    for hid, amount in db.session.execute(
        select(Payment.household_id, func.sum(Payment.amount_fen))
        .where(where(Payment))
        .group_by(Payment.household_id)
    ):
        paid[hid] += int(amount)
    for hid, amount in db.session.execute(
        select(Reversal.household_id, func.sum(Reversal.amount_fen))
        .where(where(Reversal))
        .group_by(Reversal.household_id)
    ):
        paid[hid] -= int(amount)
    collected: dict[tuple[int, date], int] = defaultdict(int)
    for account in db.session.scalars(select(Account).where(where(Account))):
        hid = account.household_id
        if account.billed_fen != int(billed.get(hid, 0)) or account.paid_fen != paid.get(hid, 0):
            problems.append(
                f"household {hid}: account {account.billed_fen}/{account.paid_fen}, "
                f"entries {billed.get(hid, 0)}/{paid.get(hid, 0)}"
            )
        bills = bills_of(hid)
        settled = allocate(bills, account.paid_fen)
        if account.owing_since != owing_since(bills, settled):
            problems.append(f"household {hid}: owing since {account.owing_since}")
        if account.last_period != last_periods.get(hid):
            problems.append(f"household {hid}: last period {account.last_period}")
        for bill in bills:
            collected[(account.area_id, bill.period)] += settled.get(bill.id, 0)
    problems += _check_places(area_id) + _check_receipts(area_id)
    missing = (set(billed) | set(paid)) - set(
        db.session.scalars(select(Account.household_id).where(where(Account)))
    )
    problems += [f"household {hid}: entries without an account" for hid in sorted(missing)]

    expected: dict[tuple[int, date], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for a, m, amount, n in db.session.execute(
        select(
            Bill.area_id,
            Bill.period,
            func.sum(Bill.amount_fen),
            func.count(Bill.household_id.distinct()),
        )
        .where(where(Bill))
        .group_by(Bill.area_id, Bill.period)
    ):
        expected[(a, m)]["billed_fen"] += int(amount)
        expected[(a, m)]["households_billed"] += int(n)
    for a, m, amount in db.session.execute(
        select(Bill.area_id, Bill.period, func.sum(BillAdjustment.amount_fen))
        .join(BillAdjustment, BillAdjustment.bill_id == Bill.id)
        .where(where(Bill))
        .group_by(Bill.area_id, Bill.period)
    ):
        expected[(a, m)]["billed_fen"] -= int(amount)
    for key, amount in collected.items():
        expected[key]["collected_fen"] += amount
    for entry in (Payment, Reversal):
        sign = 1 if entry is Payment else -1
        for a, m, amount in db.session.execute(
            select(entry.area_id, entry.book_month, func.sum(entry.amount_fen))
            .where(where(entry))
            .group_by(entry.area_id, entry.book_month)
        ):
            expected[(a, m)]["received_fen"] += sign * int(amount)
    for a, m, amount in db.session.execute(
        select(Expense.area_id, Expense.book_month, func.sum(Expense.amount_fen))
        .where(where(Expense), Expense.needs_approval.is_(False))
        .group_by(Expense.area_id, Expense.book_month)
    ):
        expected[(a, m)]["spent_fen"] += int(amount)
    for a, m, amount in db.session.execute(
        select(Expense.area_id, ExpenseApproval.book_month, func.sum(Expense.amount_fen))
        .join(ExpenseApproval, ExpenseApproval.expense_id == Expense.id)
        .where(where(Expense))
        .group_by(Expense.area_id, ExpenseApproval.book_month)
    ):
        expected[(a, m)]["spent_fen"] += int(amount)
    for a, m, amount in db.session.execute(
        select(Expense.area_id, ExpenseVoid.book_month, func.sum(Expense.amount_fen))
        .join(ExpenseVoid, ExpenseVoid.expense_id == Expense.id)
        .where(where(Expense), ExpenseVoid.counted.is_(True))
        .group_by(Expense.area_id, ExpenseVoid.book_month)
    ):
        expected[(a, m)]["spent_fen"] -= int(amount)
    income = defaultdict(int)
    for a, m, amount in db.session.execute(
        select(IncomeMonth.area_id, IncomeMonth.month, func.sum(IncomeMonth.amount_fen))
        .where(where(IncomeMonth))
        .group_by(IncomeMonth.area_id, IncomeMonth.month)
    ):
        income[(a, m)] = int(amount)
    kept = {
        (r.area_id, r.month): r
        for r in db.session.scalars(select(AreaMonth).where(where(AreaMonth)))
    }
    columns = ("billed_fen", "collected_fen", "households_billed", "received_fen", "spent_fen")
    for key in set(kept) | set(expected):
        row = kept.get(key)
        for column in columns:
            have = getattr(row, column) if row else 0
            want = expected[key][column] if key in expected else 0
            if have != want:
                problems.append(f"area {key[0]} {key[1]:%Y-%m} {column}: {have} ≠ {want}")
        received = row.received_fen if row else 0
        if income.get(key, 0) != received:
            problems.append(f"area {key[0]} {key[1]:%Y-%m}: income by item ≠ received")
    from ..fund.proofs import check_fund
    from ..reconcile.proofs import check_reconcile
    from ..treasury.proofs import check_accounts

    return (
        problems
        + check_income(area_id)
        + check_accounts(area_id)
        + check_reconcile(area_id)
        + check_fund(area_id)
    )

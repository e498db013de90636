"""Proofs of the money accounts: each balance equals its entries, and the entries equal
what caused them (counted hand-overs, expenses that count, movements that count)."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy import func, select, true

from ..extensions import db
from ..fees.models import (
    CashHandover,
    Expense,
    ExpenseApproval,
    ExpenseVoid,
    HandoverConfirmation,
    Payment,
    Reversal,
)
from ..fund.models import Payer, WorkPayment
from ..income.models import IncomeReceipt, IncomeReversal
from .models import EntrySource, MoneyAccount, MoneyEntry, Movement, MovementApproval


def check_accounts(area_id: int | None = None) -> list[str]:
    problems: list[str] = []

    def where(model: Any) -> Any:
        return model.area_id == area_id if area_id is not None else true()

    sums = dict(
        db.session.execute(
            select(MoneyEntry.account_id, func.sum(MoneyEntry.amount_fen))
            .where(where(MoneyEntry))
            .group_by(MoneyEntry.account_id)
        ).all()
    )
    for account in db.session.scalars(select(MoneyAccount).where(where(MoneyAccount))):
        want = int(sums.get(account.id) or 0)
        if account.balance_fen != want:
            problems.append(f"money account {account.id}: balance {account.balance_fen} ≠ {want}")
    by_source: dict[tuple[int, str], int] = defaultdict(int)
    for a, source, amount in db.session.execute(
        select(MoneyEntry.area_id, MoneyEntry.source, func.sum(MoneyEntry.amount_fen))
        .where(where(MoneyEntry))
        .group_by(MoneyEntry.area_id, MoneyEntry.source)
    ):
        by_source[(a, source)] = int(amount)
    # Every counted hand-over is in its area's cash box.
    for a, amount in db.session.execute(
        select(CashHandover.area_id, func.sum(HandoverConfirmation.received_fen))
        .join(HandoverConfirmation, HandoverConfirmation.handover_id == CashHandover.id)
        .where(where(CashHandover))
        .group_by(CashHandover.area_id)
    ):
        if int(amount or 0) != by_source[(a, EntrySource.HANDOVER)]:
            problems.append(f"area {a}: counted hand-overs {amount} ≠ cash box entries")
    # Every expense that counts has left an account; a counted void has come back.
    counting = (
        select(Expense.area_id, func.sum(Expense.amount_fen))
        .where(
            where(Expense),
            (Expense.needs_approval.is_(False))
            | select(ExpenseApproval.id).where(ExpenseApproval.expense_id == Expense.id).exists(),
            ~select(ExpenseVoid.id).where(ExpenseVoid.expense_id == Expense.id).exists(),
        )
        .group_by(Expense.area_id)
    )
    spent = {a: int(amount) for a, amount in db.session.execute(counting)}
    for a in set(spent) | {a for a, s in by_source if s in (EntrySource.EXPENSE, "expense_void")}:
        entries = by_source[(a, EntrySource.EXPENSE)] + by_source[(a, EntrySource.EXPENSE_VOID)]
        if -entries != spent.get(a, 0):
            problems.append(f"area {a}: expenses {spent.get(a, 0)} ≠ account entries {-entries}")
    # A movement that counts has two entries that cancel out; one that does not, none.
    moved = dict(
        db.session.execute(
            select(MoneyEntry.source_id, func.count())
            .where(where(MoneyEntry), MoneyEntry.source == EntrySource.MOVEMENT)
            .group_by(MoneyEntry.source_id)
        ).all()
    )
    approved = set(db.session.scalars(select(MovementApproval.movement_id)))
    movements = {m.id: m for m in db.session.scalars(select(Movement).where(where(Movement)))}

    def counts_of(movement: Movement) -> bool:
        if movement.reverses_id is not None:  # a reversal moves money only if its original did
            return counts_of(movements[movement.reverses_id])
        return not movement.needs_approval or movement.id in approved

    for movement in movements.values():
        counts = counts_of(movement)
        if moved.get(movement.id, 0) != (2 if counts else 0):
            problems.append(f"movement {movement.id}: {moved.get(movement.id, 0)} entries")
    for a, source in by_source:
        if source == EntrySource.MOVEMENT and by_source[(a, source)] != 0:
            problems.append(f"area {a}: movements do not cancel out")
    # A fee payment's (or income receipt's) entry is its amount; once it is reversed, the
    # same amount goes out.
    for source, model, sign in (
        (EntrySource.PAYMENT, Payment, 1),
        (EntrySource.REVERSAL, Reversal, -1),
        (EntrySource.INCOME, IncomeReceipt, 1),
        (EntrySource.INCOME_VOID, IncomeReversal, -1),
        (EntrySource.WORK_PAYMENT, WorkPayment, -1),
    ):
        wrong = db.session.scalar(
            select(func.count())
            .select_from(MoneyEntry)
            .join(model, model.id == MoneyEntry.source_id)
            .where(
                where(MoneyEntry),
                MoneyEntry.source == source,
                (MoneyEntry.amount_fen != sign * model.amount_fen)
                | (MoneyEntry.area_id != model.area_id),
            )
        )
        if wrong:
            problems.append(f"{wrong} {source} entries differ from their {model.__tablename__}")
    for source, void_source, void_model, link in (
        (EntrySource.PAYMENT, EntrySource.REVERSAL, Reversal, Reversal.payment_id),
        (EntrySource.INCOME, EntrySource.INCOME_VOID, IncomeReversal, IncomeReversal.receipt_id),
    ):
        booked = select(MoneyEntry.source_id).where(MoneyEntry.source == source)
        unbooked = db.session.scalar(
            select(func.count())
            .select_from(void_model)
            .where(
                where(void_model),
                link.in_(booked),
                ~select(MoneyEntry.id)
                .where(MoneyEntry.source == void_source, MoneyEntry.source_id == void_model.id)
                .exists(),
            )
        )
        if unbooked:
            problems.append(f"{unbooked} reversed {source} rows still in their account")
    # A work paid from common-part income left one account, and nothing else did.
    unpaid = db.session.scalar(
        select(func.count())
        .select_from(WorkPayment)
        .where(
            where(WorkPayment),
            WorkPayment.payer == Payer.COMMON_INCOME,
            ~select(MoneyEntry.id)
            .where(
                MoneyEntry.source == EntrySource.WORK_PAYMENT,
                MoneyEntry.source_id == WorkPayment.id,
            )
            .exists(),
        )
    )
    stray = db.session.scalar(
        select(func.count())
        .select_from(MoneyEntry)
        .join(WorkPayment, WorkPayment.id == MoneyEntry.source_id)
        .where(
            where(MoneyEntry),
            MoneyEntry.source == EntrySource.WORK_PAYMENT,
            WorkPayment.payer != Payer.COMMON_INCOME,
        )
    )
    if unpaid or stray:
        problems.append(
            f"work payments: {unpaid} from common income not in an account, {stray} stray"
        )
    return problems

"""What the fee ledger tells the money accounts, one line at each place it writes.

A counted cash hand-over goes into the area's cash box; an expense, once it counts, comes
out of the account it was paid from (the cash box when none was chosen); a fee paid by
bank transfer, WeChat Pay or Alipay goes into the area's one open account of that kind
(a bank transfer into the community's account where the area has no bank account of its
own), and stays outside the accounts when there is none or more than one. Callers hold
the area's lock (``fees.ledger.lock_area``) already.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from .. import clock
from ..extensions import db
from ..fees.models import (
    CashHandover,
    Expense,
    ExpenseVoid,
    HandoverConfirmation,
    Method,
    Payment,
    Reversal,
)
from .models import AccountKind, EntrySource, ExpensePaidFrom, MoneyAccount, MoneyEntry

# Which account a fee paid by each method goes into, in order of preference.
METHOD_ACCOUNTS: dict[str, tuple[AccountKind, ...]] = {
    Method.BANK: (AccountKind.BANK, AccountKind.COMMUNITY),
    Method.WECHAT: (AccountKind.WECHAT,),
    Method.ALIPAY: (AccountKind.ALIPAY,),
}


def post(
    account: MoneyAccount, amount_fen: int, on: date, source: EntrySource, source_id: int
) -> MoneyEntry:
    """Write one entry and move the account's running total with it."""
    entry = MoneyEntry(
        account_id=account.id,
        area_id=account.area_id,
        amount_fen=amount_fen,
        entry_on=on,
        source=source,
        source_id=source_id,
    )
    db.session.add(entry)
    account.balance_fen = MoneyAccount.balance_fen + amount_fen
    db.session.flush()
    return entry


def cash_box(area_id: int) -> MoneyAccount:
    """The area's cash box; every area has one, opened the first time money reaches it."""
    box = db.session.scalar(
        select(MoneyAccount).where(
            MoneyAccount.area_id == area_id, MoneyAccount.kind == AccountKind.CASH_BOX
        )
    )
    if box is None:
        box = MoneyAccount(
            area_id=area_id, kind=AccountKind.CASH_BOX, name="", opened_on=clock.today()
        )
        db.session.add(box)
        db.session.flush()
    return box


def handover_counted(confirmation: HandoverConfirmation, area_id: int) -> None:
    if confirmation.received_fen > 0:
        post(
            cash_box(area_id),
            confirmation.received_fen,
            clock.today(),
            EntrySource.HANDOVER,
            confirmation.id,
        )


def paid_from(expense: Expense) -> MoneyAccount:
    chosen = db.session.get(ExpensePaidFrom, expense.id)
    if chosen is None:
        return cash_box(expense.area_id)
    account = db.session.get(MoneyAccount, chosen.account_id)
    assert account is not None
    return account


def expense_counts(expense: Expense, on: date) -> None:
    post(paid_from(expense), -expense.amount_fen, on, EntrySource.EXPENSE, expense.id)


def expense_voided(expense: Expense, void: ExpenseVoid) -> None:
    if void.counted:
        post(
            paid_from(expense), expense.amount_fen, clock.today(), EntrySource.EXPENSE_VOID, void.id
        )


def account_for(area_id: int, method: str) -> MoneyAccount | None:
    for kind in METHOD_ACCOUNTS.get(method, ()):
        found = db.session.scalars(
            select(MoneyAccount).where(
                MoneyAccount.area_id == area_id,
                MoneyAccount.kind == kind,
                MoneyAccount.closed_on.is_(None),
            )
        ).all()
        if len(found) == 1:
            return found[0]
        if found:
            return None  # more than one: nobody can say which it went into
    return None


def payment_logged(payment: Payment) -> None:
    account = account_for(payment.area_id, payment.method)
    if account is not None:
        db.session.flush()
        post(account, payment.amount_fen, payment.paid_on, EntrySource.PAYMENT, payment.id)


def payment_reversed(payment: Payment, reversal: Reversal) -> None:
    entry = db.session.scalar(
        select(MoneyEntry).where(
            MoneyEntry.source == EntrySource.PAYMENT, MoneyEntry.source_id == payment.id
        )
    )
    if entry is not None:
        account = db.session.get(MoneyAccount, entry.account_id)
        assert account is not None
        db.session.flush()
        post(account, -payment.amount_fen, clock.today(), EntrySource.REVERSAL, reversal.id)


def book_earlier(area_id: int) -> int:
    """Enter into the cash box what was counted and spent before it kept entries: counted
    hand-overs, expenses that count and counted voids without an entry yet (as migration
    0019 does for an existing database; the demo's bulk rows use it too). Idempotent."""
    box = cash_box(area_id)
    have = set(
        db.session.execute(
            select(MoneyEntry.source, MoneyEntry.source_id).where(MoneyEntry.area_id == area_id)
        ).all()
    )
    found = 0
    rows = db.session.execute(
        select(HandoverConfirmation.id, HandoverConfirmation.received_fen, CashHandover.handed_on)
        .join(CashHandover, CashHandover.id == HandoverConfirmation.handover_id)
        .where(CashHandover.area_id == area_id, HandoverConfirmation.received_fen > 0)
    ).all()
    for ident, amount, on in rows:
        if (EntrySource.HANDOVER, ident) not in have:
            post(box, amount, on, EntrySource.HANDOVER, ident)
            found += 1
    for expense in db.session.scalars(select(Expense).where(Expense.area_id == area_id)):
        counted = not expense.needs_approval or expense.approval is not None
        if counted and (EntrySource.EXPENSE, expense.id) not in have:
            post(
                paid_from(expense),
                -expense.amount_fen,
                expense.spent_on,
                EntrySource.EXPENSE,
                expense.id,
            )
            found += 1
        void = expense.void
        if (
            counted
            and void is not None
            and void.counted
            and (EntrySource.EXPENSE_VOID, void.id) not in have
        ):
            post(
                paid_from(expense),
                expense.amount_fen,
                void.book_month,
                EntrySource.EXPENSE_VOID,
                void.id,
            )
            found += 1
    return found

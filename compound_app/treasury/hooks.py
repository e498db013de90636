"""What the fee ledger tells the money accounts, one line at each place it writes.

A counted cash hand-over goes into the area's cash box; an expense, once it counts, comes
out of the account it was paid from (the cash box when none was chosen); a fee paid by
bank transfer, WeChat Pay or Alipay goes into the area's one open account of that kind
(a bank transfer into the community's account where the area has no bank account of its
own), and stays outside the accounts when there is none or more than one; common-part
income follows the same rule, its cash straight into the cash box (it is received by the
committee, not a collector on a round). Cash taken by
a keeper of the cash box (the treasurer, the chair while there is none, the community
staff of a trusteeship area) goes straight into the cash box: there is no one to hand it
to. Callers hold the area's lock (``fees.ledger.lock_area``) already.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import insert, select, update

from .. import clock
from ..extensions import db
from ..fees.models import (
    CashHandover,
    Expense,
    ExpenseApproval,
    ExpenseVoid,
    HandoverConfirmation,
    Method,
    Payment,
    Reversal,
)
from ..income.models import IncomeReceipt, IncomeReversal
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


def _keeps_cash(area_id: int, user_id: int) -> bool:
    from ..fees.cash import keepers  # the cash chain tells these hooks; not the reverse

    return user_id in {u.id for u in keepers(area_id)}


def destination(payment: Payment) -> MoneyAccount | None:
    """The account a fee payment goes into, if any (see the module's rule)."""
    if payment.method == Method.CASH:
        if _keeps_cash(payment.area_id, payment.collector_id):
            return cash_box(payment.area_id)
        return None  # the collector's cash in hand, until handed over
    return account_for(payment.area_id, payment.method)


def payment_logged(payment: Payment) -> None:
    account = destination(payment)
    if account is not None:
        db.session.flush()
        post(account, payment.amount_fen, payment.paid_on, EntrySource.PAYMENT, payment.id)


def _take_back(
    source: EntrySource, source_id: int, amount_fen: int, void: EntrySource, void_id: int
) -> None:
    """Money that came in is voided: it leaves the account its entry put it in (if any)."""
    entry = db.session.scalar(
        select(MoneyEntry).where(MoneyEntry.source == source, MoneyEntry.source_id == source_id)
    )
    if entry is not None:
        account = db.session.get(MoneyAccount, entry.account_id)
        assert account is not None
        db.session.flush()
        post(account, -amount_fen, clock.today(), void, void_id)


def payment_reversed(payment: Payment, reversal: Reversal) -> None:
    _take_back(
        EntrySource.PAYMENT, payment.id, payment.amount_fen, EntrySource.REVERSAL, reversal.id
    )


def income_received(receipt: IncomeReceipt) -> None:
    """Common-part income goes into the cash box (cash) or the account of its method."""
    if receipt.method == Method.CASH:
        account: MoneyAccount | None = cash_box(receipt.area_id)
    else:
        account = account_for(receipt.area_id, receipt.method)
    if account is not None:
        db.session.flush()
        post(account, receipt.amount_fen, receipt.received_on, EntrySource.INCOME, receipt.id)


def income_reversed(receipt: IncomeReceipt, reversal: IncomeReversal) -> None:
    _take_back(
        EntrySource.INCOME, receipt.id, receipt.amount_fen, EntrySource.INCOME_VOID, reversal.id
    )


def work_paid(account: MoneyAccount, amount_fen: int, on: date, payment_id: int) -> None:
    """A work's cost paid from common-part income leaves the account it was paid from."""
    post(account, -amount_fen, on, EntrySource.WORK_PAYMENT, payment_id)


def book_earlier(area_id: int, expenses_from: MoneyAccount | None = None) -> int:
    """Enter what was counted, paid and spent before the accounts kept entries: counted
    hand-overs into the cash box, fee payments by the rule above (with the keepers of
    today), expenses that count and counted voids (from ``expenses_from`` when given, which
    is then recorded as the account they were paid from; else the cash box). Migration
    0019 does the same for hand-overs and expenses of an existing database; the demo's
    bulk rows use it. Written in bulk, each balance moved once. Idempotent."""
    from ..fees.cash import keepers

    box = cash_box(area_id)
    db.session.flush()
    have = set(
        db.session.execute(
            select(MoneyEntry.source, MoneyEntry.source_id).where(MoneyEntry.area_id == area_id)
        ).all()
    )
    keeper_ids = {u.id for u in keepers(area_id)}
    by_method = {m: account_for(area_id, m) for m in METHOD_ACCOUNTS}
    chosen = dict(
        db.session.execute(
            select(ExpensePaidFrom.expense_id, ExpensePaidFrom.account_id)
            .join(Expense, Expense.id == ExpensePaidFrom.expense_id)
            .where(Expense.area_id == area_id)
        ).all()
    )
    rows: list[dict[str, object]] = []
    moved: dict[int, int] = {}

    def add(account_id: int, amount: int, on: date, source: EntrySource, ident: int) -> None:
        if (source, ident) in have or not amount:
            return
        rows.append(
            {
                "account_id": account_id,
                "area_id": area_id,
                "amount_fen": amount,
                "entry_on": on,
                "source": source.value,
                "source_id": ident,
                "created_at": clock.now(),
            }
        )
        moved[account_id] = moved.get(account_id, 0) + amount

    for ident, amount, on in db.session.execute(
        select(HandoverConfirmation.id, HandoverConfirmation.received_fen, CashHandover.handed_on)
        .join(CashHandover, CashHandover.id == HandoverConfirmation.handover_id)
        .where(CashHandover.area_id == area_id, HandoverConfirmation.received_fen > 0)
    ):
        add(box.id, amount, on, EntrySource.HANDOVER, ident)
    for pid, amount, method, collector_id, paid_on, rid, rbooked in db.session.execute(
        select(
            Payment.id,
            Payment.amount_fen,
            Payment.method,
            Payment.collector_id,
            Payment.paid_on,
            Reversal.id,
            Reversal.book_month,
        )
        .outerjoin(Reversal, Reversal.payment_id == Payment.id)
        .where(Payment.area_id == area_id)
    ):
        if (EntrySource.PAYMENT, pid) in have:
            continue
        if method == Method.CASH:
            account = box if collector_id in keeper_ids else None
        else:
            account = by_method.get(method)
        if account is None:
            continue
        add(account.id, amount, paid_on, EntrySource.PAYMENT, pid)
        if rid is not None:
            add(account.id, -amount, rbooked, EntrySource.REVERSAL, rid)
    for eid, amount, spent_on, needs, approved, vid, vcounted, vbooked in db.session.execute(
        select(
            Expense.id,
            Expense.amount_fen,
            Expense.spent_on,
            Expense.needs_approval,
            ExpenseApproval.id,
            ExpenseVoid.id,
            ExpenseVoid.counted,
            ExpenseVoid.book_month,
        )
        .outerjoin(ExpenseApproval, ExpenseApproval.expense_id == Expense.id)
        .outerjoin(ExpenseVoid, ExpenseVoid.expense_id == Expense.id)
        .where(Expense.area_id == area_id)
    ):
        if eid not in chosen and expenses_from is not None:
            db.session.add(ExpensePaidFrom(expense_id=eid, account_id=expenses_from.id))
            chosen[eid] = expenses_from.id
        account_id = chosen.get(eid, box.id)
        if not needs or approved is not None:
            add(account_id, -amount, spent_on, EntrySource.EXPENSE, eid)
            if vid is not None and vcounted:
                add(account_id, amount, vbooked, EntrySource.EXPENSE_VOID, vid)
    if rows:
        db.session.execute(insert(MoneyEntry), rows)
    for account_id, amount in moved.items():
        db.session.execute(
            update(MoneyAccount)
            .where(MoneyAccount.id == account_id)
            .values(balance_fen=MoneyAccount.balance_fen + amount)
        )
    db.session.flush()
    db.session.expire_all()
    return len(rows)

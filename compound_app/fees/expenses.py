"""Expenses: what the area's fees paid for, with a voucher photo.

Above the area's threshold a second committee member approves before the expense
counts (on the finance board and in the balance). Entries are never changed or deleted.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import ColumnElement, Select, and_, func, select
from sqlalchemy.orm import joinedload

from .. import audit, clock
from ..auth.models import User
from ..committees.models import Committee, CommitteeMember
from ..errors import RuleError
from ..extensions import db
from ..money import format_fen
from ..registry.models import ManagementArea
from ..treasury import hooks as treasury
from ..treasury.labels import account_name
from ..treasury.models import ExpensePaidFrom, MoneyAccount
from . import ledger
from .ledger import book_month
from .models import AreaMonth, Expense, ExpenseApproval, ExpenseKind, ExpenseVoid
from .schedules import settings_of

EXPENSES_PAGE = 20  # expenses per page on the expenses page


def _listed() -> Select[Any]:
    return select(Expense).options(
        joinedload(Expense.recorded_by),
        joinedload(Expense.approval).joinedload(ExpenseApproval.approved_by),
        joinedload(Expense.void).joinedload(ExpenseVoid.voided_by),
    )


def _awaiting(area_id: int) -> tuple[ColumnElement[bool], ...]:
    return (
        Expense.area_id == area_id,
        Expense.needs_approval.is_(True),
        ~select(ExpenseApproval.id).where(ExpenseApproval.expense_id == Expense.id).exists(),
        ~select(ExpenseVoid.id).where(ExpenseVoid.expense_id == Expense.id).exists(),
    )


def awaiting_approval(area_id: int) -> list[Expense]:
    """Every expense still waiting for its second approval, oldest first: all of them."""
    return list(
        db.session.scalars(
            _listed().where(*_awaiting(area_id)).order_by(Expense.spent_on, Expense.id)
        ).unique()
    )


@dataclass
class ExpensePage:
    expenses: list[Expense]  # by the day spent, newest first
    page: int
    pages: int
    total: int


def expenses_of(area_id: int, page: int = 1, size: int = EXPENSES_PAGE) -> ExpensePage:
    """The area's expenses other than those awaiting approval, newest first, a page at a time."""
    others = (Expense.area_id == area_id, ~and_(*_awaiting(area_id)[1:]))
    total = db.session.scalar(select(func.count()).select_from(Expense).where(*others)) or 0
    pages = max(1, -(-total // size))
    page = min(max(page, 1), pages)
    rows = db.session.scalars(
        _listed()
        .where(*others)
        .order_by(Expense.spent_on.desc(), Expense.id.desc())
        .limit(size)
        .offset((page - 1) * size)
    ).unique()
    return ExpensePage(list(rows), page, pages, total)


def record_expense(
    area: ManagementArea,
    actor: User,
    *,
    kind: ExpenseKind,
    category: str,
    amount_fen: int,
    payee: str,
    spent_on: date,
    note: str,
    voucher: str | None,
    request_key: str,
    paid_from: MoneyAccount | None = None,
) -> Expense:
    """Record an expense. ``paid_from``: the account it was paid from (the cash box when
    none is given); an expense that counts at once must not overdraw it."""
    ledger.lock_area(area.id)
    earlier = db.session.scalar(select(Expense).where(Expense.request_key == request_key))
    if earlier is not None:
        if earlier.area_id != area.id or earlier.amount_fen != amount_fen:
            raise RuleError(_("This form was already used. Please open it again."))
        return earlier  # the same form sent twice
    ledger.check_date(spent_on, "spent_on")
    needs_approval = amount_fen > settings_of(area.id).approval_threshold_fen
    expense = Expense(
        area_id=area.id,
        kind=kind,
        category=category,
        amount_fen=amount_fen,
        payee=payee,
        spent_on=spent_on,
        book_month=book_month(area.id, spent_on),
        note=note,
        voucher=voucher,
        needs_approval=needs_approval,
        recorded_by_id=actor.id,
        request_key=request_key,
    )
    if paid_from is not None:
        check_paid_from(area.id, paid_from, amount_fen if not needs_approval else 0)
    db.session.add(expense)
    if paid_from is not None:
        db.session.flush()
        db.session.add(ExpensePaidFrom(expense_id=expense.id, account_id=paid_from.id))
    if not needs_approval:
        ledger.add_to(
            AreaMonth, {"area_id": area.id, "month": expense.book_month}, spent_fen=amount_fen
        )
        db.session.flush()
        treasury.expense_counts(expense, spent_on)
    audit.record("create", expense)
    return expense


def check_paid_from(area_id: int, account: MoneyAccount, amount_fen: int) -> None:
    """Refuse an account that is not an open one of the area, or that holds too little."""
    if account.area_id != area_id or not account.is_open:
        raise RuleError(_("Choose an open account of this area."), "paid_from")
    db.session.refresh(account)
    if amount_fen > account.balance_fen:
        raise RuleError(
            _(
                "%(account)s holds %(balance)s; it cannot pay %(amount)s.",
                account=account_name(account),
                balance=format_fen(account.balance_fen),
                amount=format_fen(amount_fen),
            ),
            "paid_from",
        )


def is_member(area_id: int, user: User, on: date | None = None) -> bool:
    on = on or clock.today()
    return (
        db.session.scalar(
            select(CommitteeMember.id)
            .join(Committee, Committee.id == CommitteeMember.committee_id)
            .where(
                Committee.area_id == area_id,
                CommitteeMember.user_id == user.id,
                CommitteeMember.term_start <= on,
                CommitteeMember.term_end >= on,
            )
            .limit(1)
        )
        is not None
    )


def has_committee(area_id: int) -> bool:
    return db.session.scalar(select(Committee.id).where(Committee.area_id == area_id)) is not None


def may_approve(expense: Expense, user: User, staff: bool) -> bool:
    """A second member of the committee; where community staff run the area, other staff."""
    if expense.recorded_by_id == user.id:
        return False
    if has_committee(expense.area_id):
        return is_member(expense.area_id, user)
    return staff


def approve_expense(expense: Expense, actor: User, *, staff: bool) -> ExpenseApproval:
    if not expense.needs_approval:
        raise RuleError(_("This expense needs no approval."))
    ledger.lock_area(expense.area_id)
    existing = db.session.scalar(
        select(ExpenseApproval).where(ExpenseApproval.expense_id == expense.id)
    )
    if existing is not None:
        raise RuleError(_("This expense has already been approved."))
    if db.session.scalar(select(ExpenseVoid.id).where(ExpenseVoid.expense_id == expense.id)):
        raise RuleError(_("This expense is void."))
    if expense.recorded_by_id == actor.id:
        raise RuleError(_("A second committee member must approve it, not the one who entered it."))
    if not may_approve(expense, actor, staff):
        raise RuleError(_("Only a member of this area's committee can approve it."))
    chosen = db.session.get(ExpensePaidFrom, expense.id)
    if chosen is not None:
        account = db.session.get(MoneyAccount, chosen.account_id)
        assert account is not None
        check_paid_from(expense.area_id, account, expense.amount_fen)
    booked = book_month(expense.area_id, clock.today())
    approval = ExpenseApproval(expense_id=expense.id, approved_by_id=actor.id, book_month=booked)
    db.session.add(approval)
    ledger.add_to(
        AreaMonth, {"area_id": expense.area_id, "month": booked}, spent_fen=expense.amount_fen
    )
    treasury.expense_counts(expense, clock.today())
    audit.record("create", approval)
    return approval


def void_expense(expense: Expense, reason: str, actor: User) -> ExpenseVoid:
    """Cancel an expense entered by mistake; it stays on record, marked void with the reason."""
    if not reason.strip():
        raise RuleError(_("Please give the reason."), "reason")
    ledger.lock_area(expense.area_id)
    db.session.refresh(expense)  # read its approval and void as they are now, under the lock
    if expense.void is not None:
        raise RuleError(_("This expense is already void."), "reason")
    counted = expense.counts
    booked = book_month(expense.area_id, clock.today())
    void = ExpenseVoid(
        expense_id=expense.id,
        reason=reason,
        counted=counted,
        book_month=booked,
        voided_by_id=actor.id,
    )
    db.session.add(void)
    if counted:
        ledger.add_to(
            AreaMonth, {"area_id": expense.area_id, "month": booked}, spent_fen=-expense.amount_fen
        )
    db.session.flush()
    treasury.expense_voided(expense, void)
    audit.record("create", void)
    return void

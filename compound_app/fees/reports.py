"""What people read: a household's statement, arrears by unit and area, the finance board."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import joinedload, selectinload

from .. import audit, clock
from ..auth.models import User
from ..errors import RuleError
from ..extensions import db
from ..income.reports import board_section
from ..months import add_months, month_of
from ..notices import service as notices
from ..registry.models import Building, Compound, Household, ManagementArea, Unit
from ..templating import fmt_month
from .ledger import BillLine, allocate, bill_lines, bills_of, lock_area
from .models import (
    Account,
    AreaMonth,
    Expense,
    ExpenseApproval,
    ExpenseVoid,
    FinanceBoard,
    IncomeMonth,
    Payment,
)

# --- a household ----------------------------------------------------------------------------


@dataclass
class PeriodLine:
    period: date
    months: int
    items: list[tuple[str, int, int]] = field(default_factory=list)  # item, amount, bill id
    amount: int = 0
    settled: int = 0

    @property
    def owed(self) -> int:
        return self.amount - self.settled


def _by_period(bills: list[BillLine], settled: dict[int, int]) -> list[PeriodLine]:
    lines: dict[date, PeriodLine] = {}
    for bill in bills:
        line = lines.setdefault(bill.period, PeriodLine(bill.period, bill.months))
        line.items.append((bill.item, bill.amount, bill.id))
        line.amount += bill.amount
        line.settled += settled.get(bill.id, 0)
    return list(lines.values())


@dataclass
class Statement:
    periods: list[PeriodLine]  # newest first
    payments: list[Payment]  # newest first
    billed: int
    paid: int

    @property
    def balance(self) -> int:
        return self.billed - self.paid

    @property
    def owed_periods(self) -> list[PeriodLine]:
        return [p for p in reversed(self.periods) if p.owed > 0]


def statement(household: Household, payments: int = 50) -> Statement:
    account = db.session.get(Account, household.id)
    paid = account.paid_fen if account else 0
    bills = bills_of(household.id)
    periods = _by_period(bills, allocate(bills, paid))
    recent = list(
        db.session.scalars(
            select(Payment)
            .where(Payment.household_id == household.id)
            .options(joinedload(Payment.reversal), joinedload(Payment.collector))
            .order_by(Payment.id.desc())
            .limit(payments)
        )
    )
    billed = account.billed_fen if account else 0
    return Statement(list(reversed(periods)), recent, billed, paid)


def months_text(covers: str) -> str:
    """The months a payment settled as people write them: 2026年11月–2026年12月.

    ``Payment.covers`` keeps them as ISO months ("2026-11–2026-12"), as the ledger export
    shows them; anything else is shown as it is.
    """
    try:
        return "–".join(fmt_month(date.fromisoformat(f"{part}-01")) for part in covers.split("–"))
    except ValueError:
        return covers


# --- arrears ------------------------------------------------------------------------------


@dataclass
class Owing:
    household: Household
    balance: int
    since: date | None
    periods: list[PeriodLine] = field(default_factory=list)


def unit_arrears(unit: Unit) -> list[Owing]:
    """Every household of the unit with what it owes for which months (all, paid or not)."""
    households = list(
        db.session.scalars(
            select(Household)
            .where(Household.unit_id == unit.id)
            .options(selectinload(Household.occupants))
            .order_by(Household.sort_key, Household.room)
        )
    )
    ids = [h.id for h in households]
    accounts = {
        a.household_id: a
        for a in db.session.scalars(select(Account).where(Account.household_id.in_(ids)))
    }
    bills = bill_lines(ids)
    found = []
    for household in households:
        account = accounts.get(household.id)
        paid = account.paid_fen if account else 0
        lines = _by_period(bills[household.id], allocate(bills[household.id], paid))
        owed = [p for p in lines if p.owed > 0]
        found.append(
            Owing(
                household,
                account.balance_fen if account else 0,
                account.owing_since if account else None,
                owed,
            )
        )
    return found


@dataclass
class AreaArrears:
    # compound, building, unit, room, owed (fen), owing since, household id
    rows: list[tuple[str, str, str, str, int, date | None, int]]
    total: int
    households: int
    by_unit: list[tuple[str, int, int]]  # "compound building unit", households, owed


def area_arrears(area: ManagementArea) -> AreaArrears:
    rows = db.session.execute(
        select(
            Compound.name,
            Building.name,
            Unit.name,
            Household.room,
            Account.billed_fen - Account.paid_fen,
            Account.owing_since,
            Household.id,
        )
        .join(Household, Household.id == Account.household_id)
        .join(Unit, Unit.id == Household.unit_id)
        .join(Building, Building.id == Unit.building_id)
        .join(Compound, Compound.id == Building.compound_id)
        .where(Account.area_id == area.id, Account.billed_fen > Account.paid_fen)
        .order_by(
            Compound.name,
            Building.sort_key,
            Building.name,
            Unit.sort_key,
            Unit.name,
            Household.sort_key,
            Household.room,
        )
    ).all()
    by_unit: dict[str, list[int]] = {}
    for compound, building, unit, _room, owed, _since, _hid in rows:
        key = f"{compound} {building} {unit}"
        by_unit.setdefault(key, []).append(owed)
    return AreaArrears(
        [tuple(r) for r in rows],  # type: ignore[misc]
        sum(r[4] for r in rows),
        len(rows),
        [(k, len(v), sum(v)) for k, v in by_unit.items()],
    )


def area_months(area_id: int, months: int = 12) -> list[AreaMonth]:
    """The last ``months`` months of the area's figures, oldest first (gaps filled)."""
    until = month_of(clock.today())
    first = add_months(until, -(months - 1))
    found = {
        m.month: m
        for m in db.session.scalars(
            select(AreaMonth).where(
                AreaMonth.area_id == area_id, AreaMonth.month >= first, AreaMonth.month <= until
            )
        )
    }
    result = []
    for i in range(months):
        month = add_months(first, i)
        result.append(
            found.get(month)
            or AreaMonth(
                area_id=area_id,
                month=month,
                billed_fen=0,
                collected_fen=0,
                received_fen=0,
                spent_fen=0,
                households_billed=0,
            )
        )
    return result


def rate(collected: int, billed: int) -> float | None:
    """Collection rate in percent (for display and oversight; money stays in fen)."""
    return None if not billed else round(100 * collected / billed, 1)


# --- the finance board ----------------------------------------------------------------------


def published_months(area_id: int) -> list[date]:
    return list(
        db.session.scalars(
            select(FinanceBoard.month)
            .where(FinanceBoard.area_id == area_id)
            .order_by(FinanceBoard.month.desc())
        )
    )


def board_for(area_id: int, month: date) -> FinanceBoard | None:
    return db.session.scalar(
        select(FinanceBoard).where(FinanceBoard.area_id == area_id, FinanceBoard.month == month)
    )


def figures(area: ManagementArea, month: date) -> dict[str, Any]:
    """The finance board of a month, computed from the running totals."""
    month = month_of(month)
    income = db.session.execute(
        select(IncomeMonth.item_name, IncomeMonth.amount_fen)
        .where(IncomeMonth.area_id == area.id, IncomeMonth.month == month)
        .order_by(IncomeMonth.item_name)
    ).all()
    approved_here = select(ExpenseApproval.expense_id).where(ExpenseApproval.book_month == month)
    spending: dict[tuple[str, str], int] = defaultdict(int)
    for kind, category, amount in db.session.execute(
        select(Expense.kind, Expense.category, func.sum(Expense.amount_fen))
        .where(
            Expense.area_id == area.id,
            or_(
                and_(Expense.needs_approval.is_(False), Expense.book_month == month),
                Expense.id.in_(approved_here),
            ),
        )
        .group_by(Expense.kind, Expense.category)
    ):
        spending[(kind, category)] += int(amount)
    # An expense voided this month gives its amount back, under its own category.
    for kind, category, amount in db.session.execute(
        select(Expense.kind, Expense.category, func.sum(Expense.amount_fen))
        .join(ExpenseVoid, ExpenseVoid.expense_id == Expense.id)
        .where(
            Expense.area_id == area.id,
            ExpenseVoid.book_month == month,
            ExpenseVoid.counted.is_(True),
        )
        .group_by(Expense.kind, Expense.category)
    ):
        spending[(kind, category)] -= int(amount)
    this = db.session.get(AreaMonth, (area.id, month))
    before = db.session.execute(
        select(
            func.coalesce(func.sum(AreaMonth.received_fen), 0),
            func.coalesce(func.sum(AreaMonth.spent_fen), 0),
        ).where(AreaMonth.area_id == area.id, AreaMonth.month < month)
    ).one()
    opening = int(before[0]) - int(before[1])
    received = this.received_fen if this else 0
    spent_total = this.spent_fen if this else 0
    arrears = area_arrears(area)
    month_end = add_months(month, 1) - timedelta(days=1)
    from ..fund.service import board_works
    from ..treasury.service import balances_on

    return {
        "month": f"{month:%Y-%m}",
        "income": [{"item": name, "amount": int(amount)} for name, amount in income if amount],
        "received": received,
        "expenses": [
            {"kind": kind, "category": category, "amount": amount}
            for (kind, category), amount in sorted(spending.items())
            if amount
        ],
        "spent": spent_total,
        "opening": opening,
        "closing": opening + received - spent_total,
        "billed": this.billed_fen if this else 0,
        "collected": this.collected_fen if this else 0,
        "households_billed": this.households_billed if this else 0,
        # Rooms and amounts, never names.
        "arrears": [
            {"room": "-".join((c, b, u, r)), "amount": owed, "since": f"{s:%Y-%m}" if s else ""}
            for c, b, u, r, owed, s, _hid in arrears.rows
        ],
        "arrears_total": arrears.total,
        # Arrears are as they stand on this day (for a published board: the day it was).
        "arrears_on": clock.today().isoformat(),
        # Common-part income (公共收益): shown apart, never part of the fee figures above.
        "common_income": board_section(area.id, month),
        # Works paid this month, each with where its money came from (only the fee
        # ledger's are in the spending above).
        "works": board_works(area.id, month),
        # Where the money was at the month's end (资金存放), each account's balance that day.
        "accounts": balances_on(area.id, month_end),
        "accounts_on": month_end.isoformat(),
    }


def publish_board(area: ManagementArea, month: date, actor: User) -> FinanceBoard:
    """Freeze a finished month's board; later corrections count in a later month."""
    month = month_of(month)
    if month >= month_of(clock.today()):
        raise RuleError(_("A month can be published once it has ended."), "month")
    lock_area(area.id)
    latest = db.session.scalar(
        select(func.max(FinanceBoard.month)).where(FinanceBoard.area_id == area.id)
    )
    if latest is not None and month <= latest:
        raise RuleError(
            _(
                "%(month)s is already published; publish the months after it.",
                month=fmt_month(latest),
            ),
            "month",
        )
    if latest is not None and month != add_months(latest, 1):
        # Months are published in order, so none is left open behind a frozen one.
        raise RuleError(
            _("Publish %(month)s first.", month=fmt_month(add_months(latest, 1))), "month"
        )
    board = FinanceBoard(
        area_id=area.id, month=month, figures=figures(area, month), published_by_id=actor.id
    )
    db.session.add(board)
    audit.record("create", board)
    notices.post_automatic(board, actor)
    return board


def recent_payments(area_id: int, limit: int = 20) -> list[Payment]:
    stmt = (
        select(Payment)
        .where(Payment.area_id == area_id)
        .options(
            selectinload(Payment.reversal),
            joinedload(Payment.collector),
            joinedload(Payment.household)
            .joinedload(Household.unit)
            .joinedload(Unit.building)
            .joinedload(Building.compound),
        )
        .order_by(Payment.id.desc())
        .limit(limit)
    )
    return list(db.session.scalars(stmt))

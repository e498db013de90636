"""Bills, payments and reversals, and the running totals kept in step with them.

Payments settle a household's oldest bills first (by billing period, then item); what
is left over is credit in hand and settles the next bills as they are issued. Which
bill is settled is never stored: it follows from the entries, so ``allocate`` gives the
same answer at any time. The totals (``Account``, ``AreaMonth``, ``IncomeMonth``) are
changed in the same transaction as the entries; ``proofs.check_totals`` recomputes them.

Concurrency: a money write first locks the household's account row (``FOR UPDATE`` on
PostgreSQL; SQLite writers are serialised by ``BEGIN IMMEDIATE``), so two people logging
a payment for the same household at once are applied one after the other. Counters
and monthly totals are changed by single ``UPDATE … SET x = x + n`` statements.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite

from .. import audit, clock
from ..auth.models import User
from ..errors import RuleError
from ..extensions import db
from ..messages import triggers
from ..money import area_charge, format_fen, round_half_up
from ..months import add_months, month_of, months_between
from ..registry.models import Building, Compound, Household, ManagementArea, Occupancy, Unit
from ..treasury import hooks as treasury
from .models import (
    Account,
    AreaMonth,
    Basis,
    Bill,
    BillAdjustment,
    BillRun,
    FeeItem,
    FeeRelief,
    FeeSchedule,
    FinanceBoard,
    IncomeMonth,
    Method,
    Payment,
    ReceiptCounter,
    Reversal,
    ScheduleStatus,
)

CREDIT = ""  # IncomeMonth.item_name of money not yet owed (预收)


# --- months ---------------------------------------------------------------------------------


def book_month(area_id: int, on: date) -> date:
    """The finance-board month an entry dated ``on`` counts in.

    Its own month, unless that month's board is already published (frozen): then the
    first month after the latest published one, where it shows as a late adjustment.
    """
    latest = db.session.scalar(
        select(func.max(FinanceBoard.month)).where(FinanceBoard.area_id == area_id)
    )
    month = month_of(on)
    if latest is not None and month <= latest:
        return add_months(latest, 1)
    return month


# --- upserts that add, so concurrent writers never lose each other's sums ------------------


def _dialect_insert(model: Any) -> Any:
    name = db.session.get_bind().dialect.name
    return (postgresql.insert if name == "postgresql" else sqlite.insert)(model)


def add_to(model: Any, keys: dict[str, Any], **amounts: int) -> None:
    amounts = {k: v for k, v in amounts.items() if v}
    if not amounts:
        return
    stmt = _dialect_insert(model).values(**keys, **amounts)
    table = model.__table__
    stmt = stmt.on_conflict_do_update(
        index_elements=list(keys),
        set_={k: table.c[k] + stmt.excluded[k] for k in amounts},
    )
    db.session.execute(stmt)


def _insert_missing(model: Any, rows: list[dict[str, Any]]) -> None:
    if rows:
        db.session.execute(_dialect_insert(model).on_conflict_do_nothing(), rows)


# --- locks -------------------------------------------------------------------------------


def lock_area(area_id: int) -> None:
    """Serialise money writes within one area until the transaction ends.

    On PostgreSQL every writer of an area's money (payments, reversals, bills, expenses,
    hand-overs, publishing a board) first locks the area's row, so the totals, the
    receipt counter, "what is already issued" and "which month is frozen" are always read
    and changed by one writer at a time, and locks are always taken in the same order (no
    deadlocks). SQLite writers are serialised by ``BEGIN IMMEDIATE`` already.
    """
    db.session.execute(
        select(ManagementArea.id).where(ManagementArea.id == area_id).with_for_update()
    )


def check_date(on: date, field: str) -> None:
    """Money dates lie between a year ago and today."""
    today = clock.today()
    if on > today:
        raise RuleError(_("The date cannot be in the future."), field)
    if on < add_months(month_of(today), -12):
        raise RuleError(_("The date can be at most a year ago."), field)


def has_fee_records(compound: Compound) -> bool:
    """Whether any home of the compound has bills or payments (an account)."""
    homes = (
        select(Household.id)
        .join(Unit, Unit.id == Household.unit_id)
        .join(Building, Building.id == Unit.building_id)
        .where(Building.compound_id == compound.id)
    )
    return (
        db.session.scalar(
            select(Account.household_id).where(Account.household_id.in_(homes)).limit(1)
        )
        is not None
    )


# --- accounts and allocation -------------------------------------------------------------


def lock_account(household_id: int, area_id: int) -> Account:
    """The household's account row, locked until the transaction ends."""
    _insert_missing(Account, [{"household_id": household_id, "area_id": area_id}])
    db.session.flush()
    account = db.session.scalars(
        select(Account)
        .where(Account.household_id == household_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()
    return account


@dataclass(frozen=True)
class BillLine:
    id: int
    period: date
    months: int
    item: str
    amount: int


def bill_lines(household_ids: Sequence[int]) -> dict[int, list[BillLine]]:
    """Each household's bills, less their adjustments, in the order payments settle them."""
    if not household_ids:
        return {}
    off = (
        select(BillAdjustment.bill_id, func.sum(BillAdjustment.amount_fen).label("off"))
        .where(BillAdjustment.household_id.in_(household_ids))
        .group_by(BillAdjustment.bill_id)
        .subquery()
    )
    owed = Bill.amount_fen - func.coalesce(off.c.off, 0)
    rows = db.session.execute(
        select(Bill.household_id, Bill.id, Bill.period, Bill.months, FeeItem.name, owed)
        .join(FeeItem, FeeItem.id == Bill.item_id)
        .outerjoin(off, off.c.bill_id == Bill.id)
        .where(Bill.household_id.in_(household_ids), owed > 0)
        .order_by(Bill.household_id, Bill.period, FeeItem.sort_key, Bill.id)
    )
    found: dict[int, list[BillLine]] = {hid: [] for hid in household_ids}
    for hid, bill_id, period, months, item, amount in rows:
        found[hid].append(BillLine(bill_id, period, months, item, amount))
    return found


def bills_of(household_id: int) -> list[BillLine]:
    """The household's bills (less adjustments) in the order payments settle them."""
    return bill_lines([household_id])[household_id]


def allocate(bills: Sequence[BillLine], paid: int) -> dict[int, int]:
    """How much of each bill ``paid`` settles, oldest first."""
    left = max(paid, 0)
    settled: dict[int, int] = {}
    for bill in bills:
        if left <= 0:
            break
        take = min(left, bill.amount)
        settled[bill.id] = take
        left -= take
    return settled


def owing_since(bills: Sequence[BillLine], settled: dict[int, int]) -> date | None:
    for bill in bills:
        if settled.get(bill.id, 0) < bill.amount:
            return bill.period
    return None


@dataclass
class Settlement:
    """What a change of a household's paid total did to its bills."""

    by_period: dict[date, int]
    by_item: dict[str, int]
    periods: list[date]  # periods whose settled amount grew, oldest first


def _settlement(bills: Sequence[BillLine], paid_before: int, paid_after: int) -> Settlement:
    before, after = allocate(bills, paid_before), allocate(bills, paid_after)
    by_period: dict[date, int] = defaultdict(int)
    by_item: dict[str, int] = defaultdict(int)
    grew: list[date] = []
    for bill in bills:
        delta = after.get(bill.id, 0) - before.get(bill.id, 0)
        if delta:
            by_period[bill.period] += delta
            by_item[bill.item] += delta
            if delta > 0 and bill.period not in grew:
                grew.append(bill.period)
    # What no bill takes is credit in hand (or, for a reversal, credit given back).
    credit = paid_after - paid_before - sum(by_item.values())
    if credit:
        by_item[CREDIT] += credit
    return Settlement(dict(by_period), dict(by_item), grew)


def _apply(area_id: int, settlement: Settlement, booked: date, received: int) -> None:
    for period, amount in settlement.by_period.items():
        add_to(AreaMonth, {"area_id": area_id, "month": period}, collected_fen=amount)
    for item, amount in settlement.by_item.items():
        add_to(
            IncomeMonth,
            {"area_id": area_id, "month": booked, "item_name": item},
            amount_fen=amount,
        )
    add_to(AreaMonth, {"area_id": area_id, "month": booked}, received_fen=received)


def _periods_text(periods: list[date]) -> str:
    if not periods:
        return ""
    first, last = periods[0], periods[-1]
    if first == last:
        return f"{first:%Y-%m}"
    return f"{first:%Y-%m}–{last:%Y-%m}"


# --- payments ---------------------------------------------------------------------------


def next_receipt_no(area: ManagementArea, year: int) -> str:
    """The area's next receipt number for the year; a rolled-back payment leaves no gap."""
    _insert_missing(ReceiptCounter, [{"area_id": area.id, "year": year, "last": 0}])
    db.session.execute(
        update(ReceiptCounter)
        .where(ReceiptCounter.area_id == area.id, ReceiptCounter.year == year)
        .values(last=ReceiptCounter.last + 1)
    )
    last = db.session.scalar(
        select(ReceiptCounter.last).where(
            ReceiptCounter.area_id == area.id, ReceiptCounter.year == year
        )
    )
    return f"{area.code}-{year}-{last:06d}"


def payment_for_key(request_key: str) -> Payment | None:
    return db.session.scalar(select(Payment).where(Payment.request_key == request_key))


@dataclass
class Recorded:
    payment: Payment
    repeated: bool  # the same form was sent again: nothing new was written


def record_payment(
    household: Household,
    *,
    amount_fen: int,
    method: Method,
    paid_on: date,
    collector: User,
    request_key: str,
    note: str = "",
    payer_name: str | None = None,
) -> Recorded:
    """Log a payment; the same form sent twice records it once. ``payer_name`` is who
    handed the money over, as they gave it (交款人), or None."""
    area = household.unit.building.compound.area
    lock_area(area.id)
    earlier = payment_for_key(request_key)
    if earlier is not None:
        if earlier.household_id != household.id or earlier.amount_fen != amount_fen:
            raise RuleError(_("This form was already used for another payment. Open it again."))
        return Recorded(earlier, repeated=True)
    check_date(paid_on, "paid_on")
    today = clock.today()
    account = lock_account(household.id, area.id)
    bills = bills_of(household.id)
    settlement = _settlement(bills, account.paid_fen, account.paid_fen + amount_fen)
    booked = book_month(area.id, paid_on)
    payment = Payment(
        area_id=area.id,
        household_id=household.id,
        receipt_no=next_receipt_no(area, today.year),
        amount_fen=amount_fen,
        method=method,
        paid_on=paid_on,
        book_month=booked,
        collector_id=collector.id,
        request_key=request_key,
        covers=_periods_text(settlement.periods),
        note=note,
        payer_name=payer_name or None,
    )
    db.session.add(payment)
    account.paid_fen += amount_fen
    account.owing_since = owing_since(bills, allocate(bills, account.paid_fen))
    _apply(area.id, settlement, booked, amount_fen)
    treasury.payment_logged(payment)
    audit.record("create", payment)
    return Recorded(payment, repeated=False)


def reverse_payment(payment: Payment, reason: str, actor: User) -> Reversal:
    """Void a payment with a reason; its receipt number stays used and shows as void."""
    if not reason.strip():
        raise RuleError(_("Please give the reason for the reversal."), "reason")
    lock_area(payment.area_id)
    account = lock_account(payment.household_id, payment.area_id)
    # Read after the lock: a reversal sent twice at once finds the first one here.
    existing = db.session.scalar(select(Reversal).where(Reversal.payment_id == payment.id))
    if existing is not None:
        raise RuleError(_("This payment has already been reversed."), "reason")
    bills = bills_of(payment.household_id)
    settlement = _settlement(bills, account.paid_fen, account.paid_fen - payment.amount_fen)
    booked = book_month(payment.area_id, clock.today())
    reversal = Reversal(
        payment_id=payment.id,
        area_id=payment.area_id,
        household_id=payment.household_id,
        amount_fen=payment.amount_fen,
        reason=reason,
        book_month=booked,
        reversed_by_id=actor.id,
    )
    db.session.add(reversal)
    account.paid_fen -= payment.amount_fen
    account.owing_since = owing_since(bills, allocate(bills, account.paid_fen))
    _apply(payment.area_id, settlement, booked, -payment.amount_fen)
    treasury.payment_reversed(payment, reversal)
    audit.record("create", reversal)
    return reversal


def adjust_bill(bill: Bill, amount_fen: int, reason: str, actor: User) -> BillAdjustment:
    """Reduce (or cancel) a bill issued wrongly; the bill stays, the correction is a row."""
    if not reason.strip():
        raise RuleError(_("Please give the reason."), "reason")
    lock_area(bill.area_id)
    account = lock_account(bill.household_id, bill.area_id)
    before_bills = bills_of(bill.household_id)
    left = next((b.amount for b in before_bills if b.id == bill.id), 0)
    if amount_fen > left:
        raise RuleError(
            _("At most %(amount)s of this bill is left to correct.", amount=format_fen(left)),
            "amount",
        )
    adjustment = BillAdjustment(
        bill_id=bill.id,
        area_id=bill.area_id,
        household_id=bill.household_id,
        amount_fen=amount_fen,
        reason=reason,
        adjusted_by_id=actor.id,
    )
    db.session.add(adjustment)
    db.session.flush()
    after_bills = bills_of(bill.household_id)
    before = allocate(before_bills, account.paid_fen)
    after = allocate(after_bills, account.paid_fen)
    periods = {b.id: b.period for b in before_bills}
    for bill_id, period in periods.items():
        delta = after.get(bill_id, 0) - before.get(bill_id, 0)
        if delta:
            add_to(AreaMonth, {"area_id": bill.area_id, "month": period}, collected_fen=delta)
    add_to(AreaMonth, {"area_id": bill.area_id, "month": bill.period}, billed_fen=-amount_fen)
    account.billed_fen -= amount_fen
    account.owing_since = owing_since(after_bills, after)
    audit.record("create", adjustment)
    return adjustment


# --- bills ------------------------------------------------------------------------------


def bill_amount(
    item: FeeItem | Any,
    *,
    area_dm2: int,
    months: int,
    vacant_percent: int | None,
    relief_percent: int,
) -> tuple[int, int]:
    """(base, amount) in fen for one household, item and billing period.

    Rounding: per m² rates multiply the exact area by the rate and the months and round
    half up once; a vacancy share and then a relief are each applied to that whole sum
    and rounded half up once more. Never per m² or per month.
    """
    match Basis(item.basis):
        case Basis.PER_HOUSEHOLD:
            base = item.rate_fen * months
        case Basis.PER_M2:
            base = area_charge(area_dm2, item.rate_fen, months)
        case Basis.FIXED:
            base = item.rate_fen
    amount = base
    if vacant_percent is not None:
        amount = round_half_up(Decimal(amount) * vacant_percent / 100)
    if relief_percent:
        amount = round_half_up(Decimal(amount) * (100 - relief_percent) / 100)
    return base, amount


def schedule_for_month(area_id: int, month: date) -> FeeSchedule | None:
    """The schedule that bills ``month`` in the area, if any."""
    return db.session.scalar(
        select(FeeSchedule)
        .where(
            FeeSchedule.area_id == area_id,
            FeeSchedule.status.in_((ScheduleStatus.ACTIVE, ScheduleStatus.SUPERSEDED)),
            FeeSchedule.start_month <= month,
            (FeeSchedule.end_month.is_(None)) | (FeeSchedule.end_month >= month),
        )
        .order_by(FeeSchedule.version.desc())
        .limit(1)
    )


def period_start(schedule: FeeSchedule, month: date) -> date:
    """The first month of the billing period that contains ``month``."""
    offset = months_between(schedule.start_month, month) % schedule.months
    return add_months(month, -offset)


def _area_households(area_id: int, period: date) -> list[tuple[int, int, str, int]]:
    """The area's homes with the reduction in force for a period starting in ``period``."""
    rows = db.session.execute(
        select(Household.id, Household.area_dm2, Household.occupancy, FeeRelief.percent_off)
        .join(Unit, Unit.id == Household.unit_id)
        .join(Building, Building.id == Unit.building_id)
        .join(Compound, Compound.id == Building.compound_id)
        .outerjoin(
            FeeRelief,
            (FeeRelief.household_id == Household.id) & (FeeRelief.since < add_months(period, 1)),
        )
        .where(Compound.area_id == area_id)
    )
    return [(hid, dm2, occ, relief or 0) for hid, dm2, occ, relief in rows]


def generate_bills(area_id: int, month: date) -> int:
    """Issue the bills of the billing period starting in ``month``; returns how many.

    Each period of an area is issued once (``BillRun``): running it again issues nothing,
    and the database refuses a second bill for a household, period and item anyway.
    """
    month = month_of(month)
    schedule = schedule_for_month(area_id, month)
    if schedule is None or period_start(schedule, month) != month or not schedule.items:
        return 0
    lock_area(area_id)
    if db.session.get(BillRun, (area_id, month)) is not None:
        return 0
    rows: list[dict[str, Any]] = []
    totals: dict[int, int] = defaultdict(int)
    for hid, dm2, occupancy, relief in _area_households(area_id, month):
        vacant = schedule.vacant_percent if occupancy == Occupancy.VACANT else None
        for item in schedule.items:
            base, amount = bill_amount(
                item,
                area_dm2=dm2,
                months=schedule.months,
                vacant_percent=vacant,
                relief_percent=relief,
            )
            if amount <= 0:
                continue  # fully exempt: no bill at all
            rows.append(
                {
                    "area_id": area_id,
                    "household_id": hid,
                    "item_id": item.id,
                    "period": month,
                    "months": schedule.months,
                    "base_fen": base,
                    "amount_fen": amount,
                }
            )
            totals[hid] += amount
    db.session.add(BillRun(area_id=area_id, period=month, bills=len(rows)))
    if not rows:
        return 0
    accounts = _lock_accounts(area_id, list(totals))
    # An earlier period billed after a later one changes which bills credit settled:
    # those households are settled again from their full list of bills.
    late = {hid: bills_of(hid) for hid, a in accounts.items() if _billed_after(a, month)}
    for chunk in _chunks(rows, 5000):
        db.session.execute(insert(Bill), chunk)
    _post_bills(area_id, month, totals, accounts, late)
    audit.record(
        "issue_bills",
        db.session.get(ManagementArea, area_id),
        after={"period": f"{month:%Y-%m}", "bills": len(rows), "households": len(totals)},
    )
    triggers.bills_issued(area_id, month, list(totals))
    return len(rows)


def ensure_current_bills(area_id: int, today: date | None = None) -> int:
    """Issue this period's bills if nobody has yet: the first money write of a new period
    opens it (``flask fees bills`` does the same for every area from a timer)."""
    month = month_of(today or clock.today())
    schedule = schedule_for_month(area_id, month)
    if schedule is None:
        return 0
    start = period_start(schedule, month)
    issued = db.session.get(BillRun, (area_id, start))
    return 0 if issued is not None else generate_bills(area_id, start)


def _billed_after(account: Account, month: date) -> bool:
    return account.last_period is not None and account.last_period > month


def _chunks(rows: list[dict[str, Any]], size: int) -> Iterable[list[dict[str, Any]]]:
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


def _lock_accounts(area_id: int, household_ids: list[int]) -> dict[int, Account]:
    _insert_missing(Account, [{"household_id": hid, "area_id": area_id} for hid in household_ids])
    found: dict[int, Account] = {}
    for start in range(0, len(household_ids), 5000):
        chunk = household_ids[start : start + 5000]
        for account in db.session.scalars(
            select(Account)
            .where(Account.household_id.in_(chunk))
            .with_for_update()
            .execution_options(populate_existing=True)
        ):
            found[account.household_id] = account
    return found


def _post_bills(
    area_id: int,
    month: date,
    totals: dict[int, int],
    accounts: dict[int, Account],
    late: dict[int, list[BillLine]],
) -> None:
    """Add new bills to the accounts; credit in hand settles them at once."""
    collected = 0
    changes: list[dict[str, Any]] = []
    for hid, amount in totals.items():
        account = accounts[hid]
        if hid in late:
            bills = bills_of(hid)
            before, after = allocate(late[hid], account.paid_fen), allocate(bills, account.paid_fen)
            for bill in bills:
                delta = after.get(bill.id, 0) - before.get(bill.id, 0)
                if delta:
                    add_to(
                        AreaMonth, {"area_id": area_id, "month": bill.period}, collected_fen=delta
                    )
            since = owing_since(bills, after)
            last = account.last_period
        else:
            credit = max(account.paid_fen - account.billed_fen, 0)
            covered = min(credit, amount)
            collected += covered
            since = account.owing_since
            if since is None and covered < amount:
                since = month
            last = month
        changes.append(
            {
                "household_id": hid,
                "billed_fen": account.billed_fen + amount,
                "last_period": last,
                "owing_since": since,
            }
        )
    for chunk in _chunks(changes, 5000):
        db.session.execute(update(Account), chunk)
    add_to(
        AreaMonth,
        {"area_id": area_id, "month": month},
        billed_fen=sum(totals.values()),
        collected_fen=collected,
        households_billed=len(totals),
    )

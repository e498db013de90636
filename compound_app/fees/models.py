"""Fees: schedules, bills, payments, reversals, hand-overs, expenses and finance boards.

Money is integer fen. Bills, payments, reversals, expenses, expense approvals and
hand-over confirmations are ledger rows: once written they are never changed or deleted
(the ORM refuses, and so do database triggers). The account and monthly tables are
running totals kept in step with the ledger on every write, so pages read a few rows
instead of summing years of entries; ``proofs.check_totals`` proves they agree.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .. import clock
from ..appendonly import append_only
from ..auth.models import User
from ..dbtypes import UTCDateTime
from ..extensions import Model
from ..registry.models import Household, ManagementArea, _in


class Basis(StrEnum):
    PER_HOUSEHOLD = "per_household"  # fen per household per month
    PER_M2 = "per_m2"  # fen per m² of the household's area per month
    FIXED = "fixed"  # fen per household per billing period


class Cycle(StrEnum):
    MONTH = "month"
    QUARTER = "quarter"
    HALF_YEAR = "half_year"
    YEAR = "year"


CYCLE_MONTHS = {Cycle.MONTH: 1, Cycle.QUARTER: 3, Cycle.HALF_YEAR: 6, Cycle.YEAR: 12}


class ScheduleStatus(StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"  # 公示: on the notice board for residents' comments
    ACTIVE = "active"
    SUPERSEDED = "superseded"


class ApprovalHow(StrEnum):
    RESIDENTS_MEETING = "residents_meeting"  # 居民(业主)大会
    OWNERS_VOTE = "owners_vote"  # 业主表决
    COMMITTEE_MEETING = "committee_meeting"  # 物管会会议
    COMMUNITY = "community"  # 社区托管: community decision


class Method(StrEnum):
    CASH = "cash"
    WECHAT = "wechat"
    ALIPAY = "alipay"
    BANK = "bank"


class ExpenseKind(StrEnum):
    SERVICE = "service"  # one of the schedule's service items
    REPAIR = "repair"
    OTHER = "other"


class FeeSettings(Model):
    """An area's money settings that are not part of a schedule."""

    area_id: Mapped[int] = mapped_column(ForeignKey("management_area.id"), primary_key=True)
    # Expenses above this need a second committee member's approval before they count.
    approval_threshold_fen: Mapped[int] = mapped_column(default=50_000)

    __table_args__ = (CheckConstraint("approval_threshold_fen >= 0", name="threshold"),)


class ThresholdStatus(StrEnum):
    PENDING = "pending"
    CONFIRMED = "confirmed"
    REPLACED = "replaced"  # another proposal came before anyone confirmed this one


class ThresholdChange(Model):
    """A proposed new approval threshold for an area's expenses.

    It takes effect only when a second committee member with fee rights confirms it (where
    community staff run an area without a committee, staff set it alone).
    """

    id: Mapped[int] = mapped_column(primary_key=True)
    area_id: Mapped[int] = mapped_column(ForeignKey("management_area.id"), index=True)
    threshold_fen: Mapped[int]
    status: Mapped[str] = mapped_column(String(10), default=ThresholdStatus.PENDING)
    proposed_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    proposed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    confirmed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    area: Mapped[ManagementArea] = relationship()
    proposed_by: Mapped[User] = relationship(foreign_keys=[proposed_by_id])
    confirmed_by: Mapped[User | None] = relationship(foreign_keys=[confirmed_by_id])

    __table_args__ = (
        CheckConstraint("threshold_fen >= 0", name="threshold"),
        CheckConstraint(_in("status", ThresholdStatus), name="status"),
    )


class FeeSchedule(Model):
    """One version of an area's fee standard (收费标准)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    area_id: Mapped[int] = mapped_column(ForeignKey("management_area.id"), index=True)
    version: Mapped[int]
    status: Mapped[str] = mapped_column(String(12), default=ScheduleStatus.DRAFT)
    cycle: Mapped[str] = mapped_column(String(10), default=Cycle.MONTH)
    start_month: Mapped[date]  # the first of a month
    end_month: Mapped[date | None]  # the last month billed, once superseded
    # Share of the fee a vacant home pays, in percent (空置房: often 50 %).
    vacant_percent: Mapped[int] = mapped_column(default=100)
    publicity_days: Mapped[int] = mapped_column(default=7)
    published_on: Mapped[date | None]
    approved_on: Mapped[date | None]
    approved_how: Mapped[str | None] = mapped_column(String(20))
    approval_note: Mapped[str] = mapped_column(String(200), default="")
    # The owners' vote that decided it, when it was decided by one.
    approval_vote_id: Mapped[int | None] = mapped_column(ForeignKey("vote.id"))
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)

    area: Mapped[ManagementArea] = relationship()
    items: Mapped[list[FeeItem]] = relationship(
        back_populates="schedule", order_by="(FeeItem.sort_key, FeeItem.id)"
    )
    approved_by: Mapped[User | None] = relationship(foreign_keys=[approved_by_id])

    __table_args__ = (
        UniqueConstraint("area_id", "version"),
        CheckConstraint(_in("status", ScheduleStatus), name="status"),
        CheckConstraint(_in("cycle", Cycle), name="cycle"),
        CheckConstraint("vacant_percent BETWEEN 0 AND 100", name="vacant_percent"),
        CheckConstraint("publicity_days BETWEEN 0 AND 90", name="publicity_days"),
    )

    @property
    def months(self) -> int:
        return CYCLE_MONTHS[Cycle(self.cycle)]


class FeeItem(Model):
    """A service the fee pays for, with its written scope and standard, and its rate."""

    id: Mapped[int] = mapped_column(primary_key=True)
    schedule_id: Mapped[int] = mapped_column(ForeignKey("fee_schedule.id"), index=True)
    name: Mapped[str] = mapped_column(String(30))
    scope: Mapped[str] = mapped_column(Text, default="")
    basis: Mapped[str] = mapped_column(String(20))
    rate_fen: Mapped[int]
    sort_key: Mapped[int] = mapped_column(default=0)

    schedule: Mapped[FeeSchedule] = relationship(back_populates="items")

    __table_args__ = (
        UniqueConstraint("schedule_id", "name"),
        CheckConstraint(_in("basis", Basis), name="basis"),
        CheckConstraint("rate_fen > 0", name="rate_positive"),
    )


class FeeRelief(Model):
    """A household's exemption or discount (e.g. 低保户 50 % or 100 %)."""

    household_id: Mapped[int] = mapped_column(ForeignKey("household.id"), primary_key=True)
    percent_off: Mapped[int]
    reason: Mapped[str] = mapped_column(String(50))
    since: Mapped[date]

    household: Mapped[Household] = relationship()

    __table_args__ = (CheckConstraint("percent_off BETWEEN 1 AND 100", name="percent_off"),)


class Bill(Model):
    """What one household owes for one item and one billing period. Ledger row."""

    id: Mapped[int] = mapped_column(primary_key=True)
    area_id: Mapped[int] = mapped_column(ForeignKey("management_area.id"))
    household_id: Mapped[int] = mapped_column(ForeignKey("household.id"))
    item_id: Mapped[int] = mapped_column(ForeignKey("fee_item.id"))
    period: Mapped[date]  # first month of the billing period
    months: Mapped[int]
    base_fen: Mapped[int]  # before relief and vacancy
    amount_fen: Mapped[int]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)

    item: Mapped[FeeItem] = relationship()

    __table_args__ = (
        UniqueConstraint("household_id", "period", "item_id"),
        Index("ix_bill_area_period", "area_id", "period"),
        CheckConstraint("amount_fen > 0 AND amount_fen <= base_fen", name="amount"),
        CheckConstraint("months BETWEEN 1 AND 12", name="months"),
    )


class BillAdjustment(Model):
    """Reduces or cancels a bill issued wrongly, with the reason. Ledger row.

    The bill stays as issued; what the household owes for it is its amount less its
    adjustments.
    """

    id: Mapped[int] = mapped_column(primary_key=True)
    bill_id: Mapped[int] = mapped_column(ForeignKey("bill.id"), index=True)
    area_id: Mapped[int] = mapped_column(ForeignKey("management_area.id"), index=True)
    household_id: Mapped[int] = mapped_column(ForeignKey("household.id"), index=True)
    amount_fen: Mapped[int]
    reason: Mapped[str] = mapped_column(String(200))
    adjusted_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)

    bill: Mapped[Bill] = relationship()
    adjusted_by: Mapped[User] = relationship()

    __table_args__ = (CheckConstraint("amount_fen > 0", name="amount_positive"),)


class BillRun(Model):
    """A billing period issued for an area: each period is issued once, when it opens.

    Homes added or relieved later are billed from the next period on, never back-billed
    for months already issued.
    """

    area_id: Mapped[int] = mapped_column(ForeignKey("management_area.id"), primary_key=True)
    period: Mapped[date] = mapped_column(primary_key=True)
    bills: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)


class ReceiptCounter(Model):
    """The last receipt number issued per area and year: numbers run without gaps."""

    area_id: Mapped[int] = mapped_column(ForeignKey("management_area.id"), primary_key=True)
    year: Mapped[int] = mapped_column(primary_key=True)
    last: Mapped[int] = mapped_column(default=0)


class Payment(Model):
    """Money a household paid, logged by whoever received it. Ledger row."""

    id: Mapped[int] = mapped_column(primary_key=True)
    area_id: Mapped[int] = mapped_column(ForeignKey("management_area.id"))
    household_id: Mapped[int] = mapped_column(ForeignKey("household.id"), index=True)
    receipt_no: Mapped[str] = mapped_column(String(30), unique=True)
    amount_fen: Mapped[int]
    method: Mapped[str] = mapped_column(String(10))
    paid_on: Mapped[date]
    book_month: Mapped[date]  # the finance-board month it counts in
    collector_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    # The key of the form that sent it: a second submission of the same form finds this row.
    request_key: Mapped[str] = mapped_column(String(64), unique=True)
    # The billing periods it settled when logged, for the receipt ("2026年9月–11月").
    covers: Mapped[str] = mapped_column(String(60), default="")
    note: Mapped[str] = mapped_column(String(100), default="")
    # Who handed over the money, as they gave their name (交款人): never filled from the
    # roster, so a neighbour paying for a home is written as the neighbour. None: not given.
    payer_name: Mapped[str | None] = mapped_column(String(50))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)

    household: Mapped[Household] = relationship()
    collector: Mapped[User] = relationship()
    reversal: Mapped[Reversal | None] = relationship(back_populates="payment", uselist=False)

    __table_args__ = (
        Index("ix_payment_area_book_month", "area_id", "book_month"),
        Index("ix_payment_area_latest", "area_id", "id"),  # the latest payments of an area
        # What each collector took in cash, summed from the index alone.
        Index("ix_payment_area_cash", "area_id", "method", "collector_id", "amount_fen"),
        CheckConstraint("amount_fen > 0", name="amount_positive"),
        CheckConstraint(_in("method", Method), name="method"),
    )


class Reversal(Model):
    """Voids a payment: its amount is owed again; the receipt number stays used. Ledger row."""

    id: Mapped[int] = mapped_column(primary_key=True)
    payment_id: Mapped[int] = mapped_column(ForeignKey("payment.id"), unique=True)
    area_id: Mapped[int] = mapped_column(ForeignKey("management_area.id"), index=True)
    household_id: Mapped[int] = mapped_column(ForeignKey("household.id"), index=True)
    amount_fen: Mapped[int]
    reason: Mapped[str] = mapped_column(String(200))
    book_month: Mapped[date]
    reversed_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)

    payment: Mapped[Payment] = relationship(back_populates="reversal")
    reversed_by: Mapped[User] = relationship()

    __table_args__ = (CheckConstraint("amount_fen > 0", name="amount_positive"),)


class Account(Model):
    """A household's running totals; its balance always equals the sum of its entries."""

    household_id: Mapped[int] = mapped_column(ForeignKey("household.id"), primary_key=True)
    area_id: Mapped[int] = mapped_column(ForeignKey("management_area.id"), index=True)
    billed_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    paid_fen: Mapped[int] = mapped_column(BigInteger, default=0)  # payments less reversals
    last_period: Mapped[date | None]  # the latest billing period billed
    owing_since: Mapped[date | None]  # the oldest billing period not fully paid

    @property
    def balance_fen(self) -> int:
        """Owed (> 0) or credit in hand (< 0)."""
        return self.billed_fen - self.paid_fen


class AreaMonth(Model):
    """An area's figures for one month, kept in step with the ledger.

    ``billed``/``collected``: bills of this billing month and how much of them is paid
    (payments settle the oldest bills first) — the collection rate. ``received`` and
    ``spent``: money booked in this month — the finance board.
    """

    area_id: Mapped[int] = mapped_column(ForeignKey("management_area.id"), primary_key=True)
    month: Mapped[date] = mapped_column(primary_key=True)
    billed_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    collected_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    households_billed: Mapped[int] = mapped_column(default=0)
    received_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    spent_fen: Mapped[int] = mapped_column(BigInteger, default=0)


class IncomeMonth(Model):
    """Money booked in a month, by the item of the bills it settled ('' = credit in hand)."""

    area_id: Mapped[int] = mapped_column(ForeignKey("management_area.id"), primary_key=True)
    month: Mapped[date] = mapped_column(primary_key=True)
    item_name: Mapped[str] = mapped_column(String(30), primary_key=True)
    amount_fen: Mapped[int] = mapped_column(BigInteger, default=0)


class CashHandover(Model):
    """Cash a collector hands to the treasurer. Ledger row; the confirmation is another."""

    id: Mapped[int] = mapped_column(primary_key=True)
    area_id: Mapped[int] = mapped_column(ForeignKey("management_area.id"), index=True)
    collector_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    amount_fen: Mapped[int]
    handed_on: Mapped[date]
    request_key: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)

    collector: Mapped[User] = relationship()
    confirmation: Mapped[HandoverConfirmation | None] = relationship(
        back_populates="handover", uselist=False
    )

    __table_args__ = (CheckConstraint("amount_fen > 0", name="amount_positive"),)


class HandoverConfirmation(Model):
    """The treasurer's count of a hand-over; a different sum is a recorded discrepancy."""

    id: Mapped[int] = mapped_column(primary_key=True)
    handover_id: Mapped[int] = mapped_column(ForeignKey("cash_handover.id"), unique=True)
    received_fen: Mapped[int]
    note: Mapped[str] = mapped_column(String(200), default="")
    confirmed_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)

    handover: Mapped[CashHandover] = relationship(back_populates="confirmation")
    confirmed_by: Mapped[User] = relationship()

    __table_args__ = (CheckConstraint("received_fen >= 0", name="received"),)


class Expense(Model):
    """Money spent from the area's fees. Ledger row; a correction is a negative expense."""

    id: Mapped[int] = mapped_column(primary_key=True)
    area_id: Mapped[int] = mapped_column(ForeignKey("management_area.id"), index=True)
    kind: Mapped[str] = mapped_column(String(10))
    category: Mapped[str] = mapped_column(String(30))
    amount_fen: Mapped[int]
    payee: Mapped[str] = mapped_column(String(50))
    spent_on: Mapped[date]
    book_month: Mapped[date]
    note: Mapped[str] = mapped_column(String(200), default="")
    voucher: Mapped[str | None] = mapped_column(String(60))  # stored file name (random)
    needs_approval: Mapped[bool] = mapped_column(default=False)
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    request_key: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)

    recorded_by: Mapped[User] = relationship(foreign_keys=[recorded_by_id])
    approval: Mapped[ExpenseApproval | None] = relationship(back_populates="expense", uselist=False)
    void: Mapped[ExpenseVoid | None] = relationship(back_populates="expense", uselist=False)

    __table_args__ = (
        CheckConstraint("amount_fen > 0", name="amount_positive"),
        CheckConstraint(_in("kind", ExpenseKind), name="kind"),
    )

    @property
    def counts(self) -> bool:
        return self.void is None and (not self.needs_approval or self.approval is not None)


class ExpenseApproval(Model):
    """A second committee member's approval of an expense above the threshold. Ledger row."""

    id: Mapped[int] = mapped_column(primary_key=True)
    expense_id: Mapped[int] = mapped_column(ForeignKey("expense.id"), unique=True)
    approved_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    book_month: Mapped[date]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)

    expense: Mapped[Expense] = relationship(back_populates="approval")
    approved_by: Mapped[User] = relationship()


class ExpenseVoid(Model):
    """Cancels an expense entered by mistake, with the reason. Ledger row.

    The expense stays on record, marked void; if it already counted, the amount comes
    back into the balance in the month the void is booked.
    """

    id: Mapped[int] = mapped_column(primary_key=True)
    expense_id: Mapped[int] = mapped_column(ForeignKey("expense.id"), unique=True)
    reason: Mapped[str] = mapped_column(String(200))
    counted: Mapped[bool]  # whether the expense had counted (so the balance changes)
    book_month: Mapped[date]
    voided_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)

    expense: Mapped[Expense] = relationship(back_populates="void")
    voided_by: Mapped[User] = relationship()


class FinanceBoard(Model):
    """A published month of the finance board (收支公示): its figures, frozen."""

    id: Mapped[int] = mapped_column(primary_key=True)
    area_id: Mapped[int] = mapped_column(ForeignKey("management_area.id"))
    month: Mapped[date]
    figures: Mapped[dict[str, Any]] = mapped_column(JSON)
    published_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    published_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)

    published_by: Mapped[User] = relationship()

    __table_args__ = (UniqueConstraint("area_id", "month"),)


class ReceiptSeal(Model):
    """The seal (印章) printed on the payer's copy of an area's receipts. Append-only.

    Uploading again adds a row; the latest row is the seal in use, the earlier ones stay
    on record with who uploaded them and when.
    """

    id: Mapped[int] = mapped_column(primary_key=True)
    area_id: Mapped[int] = mapped_column(ForeignKey("management_area.id"), index=True)
    file: Mapped[str] = mapped_column(String(60))  # stored PNG's file name (random)
    uploaded_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    # The upload form's key: the same form sent twice keeps one seal.
    request_key: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)

    uploaded_by: Mapped[User] = relationship()


# Rows that are never changed or deleted once written.
LEDGER = (
    Bill,
    BillAdjustment,
    Payment,
    Reversal,
    CashHandover,
    HandoverConfirmation,
    Expense,
    ExpenseApproval,
    ExpenseVoid,
    FinanceBoard,
)
LEDGER_TABLES = tuple(model.__tablename__ for model in LEDGER)


class LedgerChangeRefused(RuntimeError):
    """Somebody tried to change or delete a ledger row; corrections are new entries."""


append_only(*LEDGER, error=LedgerChangeRefused)
# Not money, but a record of what the receipts carried: kept the same way.
append_only(ReceiptSeal, error=LedgerChangeRefused)

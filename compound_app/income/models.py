"""Common-part income (公共收益): parking, advertising, charging piles and the like.

By the Civil Code (art. 282) the income of the common parts belongs to all the owners, so
it is kept like the fees: integer fen, ledger rows that are never changed or deleted,
corrections as new rows with a reason, and monthly totals kept in step on every write
(``CommonIncomeMonth``; ``proofs.check_income`` recomputes them).

A contract (``IncomeContract``) and its instalments are written once, together. It is
ended early by an ``IncomeContractEnd`` row; a wrong contract is ended and entered again.
Which instalment a receipt settled is never stored: receipts of a contract settle its
instalments oldest first (``service.instalment_lines``), as fee payments settle bills.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .. import clock
from ..appendonly import append_only
from ..auth.models import User
from ..dbtypes import UTCDateTime
from ..extensions import Model
from ..fees.models import LedgerChangeRefused, Method
from ..registry.models import ManagementArea, _in


class IncomeKind(StrEnum):
    # Kinds of contract
    PARKING = "parking"  # 停车
    ADVERTISING = "advertising"  # 广告
    CHARGING = "charging"  # 充电桩
    VENUE = "venue"  # 场地租赁
    RECYCLING = "recycling"  # 废品回收
    OTHER = "other"  # 其他
    # One-off income of its own kind
    DONATION = "donation"  # 捐赠
    SUBSIDY = "subsidy"  # 政府补助
    COMMUNITY = "community"  # 社区支持


CONTRACT_KINDS = (
    IncomeKind.PARKING,
    IncomeKind.ADVERTISING,
    IncomeKind.CHARGING,
    IncomeKind.VENUE,
    IncomeKind.RECYCLING,
    IncomeKind.OTHER,
)
ONE_OFF_KINDS = (IncomeKind.DONATION, IncomeKind.SUBSIDY, IncomeKind.COMMUNITY)


class IncomeContract(Model):
    """A contract for the use of the common parts, with its term and total. Ledger row."""

    id: Mapped[int] = mapped_column(primary_key=True)
    area_id: Mapped[int] = mapped_column(ForeignKey("management_area.id"), index=True)
    kind: Mapped[str] = mapped_column(String(12))
    counterparty: Mapped[str] = mapped_column(String(50))  # the company or person paying
    starts_on: Mapped[date]
    ends_on: Mapped[date]
    total_fen: Mapped[int] = mapped_column(BigInteger)
    note: Mapped[str] = mapped_column(String(200), default="")
    created_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    request_key: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)

    area: Mapped[ManagementArea] = relationship()
    created_by: Mapped[User] = relationship()
    instalments: Mapped[list[IncomeInstalment]] = relationship(
        back_populates="contract", order_by="(IncomeInstalment.due_on, IncomeInstalment.id)"
    )
    end: Mapped[IncomeContractEnd | None] = relationship(back_populates="contract", uselist=False)

    __table_args__ = (
        CheckConstraint("total_fen > 0", name="total_positive"),
        CheckConstraint("ends_on >= starts_on", name="term"),
        CheckConstraint(_in("kind", IncomeKind), name="kind"),
    )


class IncomeInstalment(Model):
    """One instalment of a contract: what falls due on which day. Ledger row."""

    id: Mapped[int] = mapped_column(primary_key=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("income_contract.id"), index=True)
    due_on: Mapped[date]
    amount_fen: Mapped[int] = mapped_column(BigInteger)

    contract: Mapped[IncomeContract] = relationship(back_populates="instalments")

    __table_args__ = (CheckConstraint("amount_fen > 0", name="amount_positive"),)


class IncomeContractEnd(Model):
    """Ends a contract early, with the reason: instalments due after the day no longer
    fall due; what was received stays received. Ledger row."""

    id: Mapped[int] = mapped_column(primary_key=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("income_contract.id"), unique=True)
    ended_on: Mapped[date]
    reason: Mapped[str] = mapped_column(String(200))
    ended_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)

    contract: Mapped[IncomeContract] = relationship(back_populates="end")
    ended_by: Mapped[User] = relationship()


class IncomeReceipt(Model):
    """Money received for the common parts: against a contract, or one-off. Ledger row.

    Its number comes from the area's receipt series, shared with fee payments.
    """

    id: Mapped[int] = mapped_column(primary_key=True)
    area_id: Mapped[int] = mapped_column(ForeignKey("management_area.id"))
    contract_id: Mapped[int | None] = mapped_column(ForeignKey("income_contract.id"), index=True)
    kind: Mapped[str] = mapped_column(String(12))
    payer: Mapped[str] = mapped_column(String(50))
    receipt_no: Mapped[str] = mapped_column(String(30), unique=True)
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    method: Mapped[str] = mapped_column(String(10))
    received_on: Mapped[date]
    book_month: Mapped[date]  # the finance-board month it counts in
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    request_key: Mapped[str] = mapped_column(String(64), unique=True)
    note: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)

    area: Mapped[ManagementArea] = relationship()
    contract: Mapped[IncomeContract | None] = relationship()
    recorded_by: Mapped[User] = relationship()
    reversal: Mapped[IncomeReversal | None] = relationship(back_populates="receipt", uselist=False)

    __table_args__ = (
        Index("ix_income_receipt_area_book_month", "area_id", "book_month"),
        CheckConstraint("amount_fen > 0", name="amount_positive"),
        CheckConstraint(_in("kind", IncomeKind), name="kind"),
        CheckConstraint(_in("method", Method), name="method"),
    )


class IncomeReversal(Model):
    """Voids an income receipt with the reason; its number stays used. Ledger row."""

    id: Mapped[int] = mapped_column(primary_key=True)
    receipt_id: Mapped[int] = mapped_column(ForeignKey("income_receipt.id"), unique=True)
    area_id: Mapped[int] = mapped_column(ForeignKey("management_area.id"), index=True)
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    reason: Mapped[str] = mapped_column(String(200))
    book_month: Mapped[date]
    reversed_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)

    receipt: Mapped[IncomeReceipt] = relationship(back_populates="reversal")
    reversed_by: Mapped[User] = relationship()

    __table_args__ = (CheckConstraint("amount_fen > 0", name="amount_positive"),)


class CommonIncomeMonth(Model):
    """Common-part income booked in a month, by kind: receipts less reversals."""

    area_id: Mapped[int] = mapped_column(ForeignKey("management_area.id"), primary_key=True)
    month: Mapped[date] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(12), primary_key=True)
    amount_fen: Mapped[int] = mapped_column(BigInteger, default=0)


LEDGER = (IncomeContract, IncomeInstalment, IncomeContractEnd, IncomeReceipt, IncomeReversal)
LEDGER_TABLES = tuple(model.__tablename__ for model in LEDGER)

append_only(*LEDGER, error=LedgerChangeRefused)

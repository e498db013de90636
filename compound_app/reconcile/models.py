"""Statements imported for a money account, their lines, the treasurer's decisions about
each line, and residents' transfer claims (我已转账).

Imports, lines, decisions and claims are ledger rows: never changed or deleted (the ORM
refuses, and so do database triggers). What a line is now (matched, explained, waiting)
is derived from the decisions: a decision is undone only by a later ``undo`` row with
its reason. The one row that may change is an account's column mapping for statements of
a layout the app does not know.
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
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .. import clock
from ..appendonly import append_only
from ..auth.models import User
from ..dbtypes import UTCDateTime
from ..extensions import Model
from ..fees.models import Method
from ..registry.models import Household, _in


class ReconChangeRefused(RuntimeError):
    """Somebody tried to change or delete a statement line or a decision; corrections are
    new rows."""


class StatementImport(Model):
    """One statement file imported into one account: who, when, which file, what it added."""

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("money_account.id"), index=True)
    area_id: Mapped[int] = mapped_column(ForeignKey("management_area.id"), index=True)
    file_name: Mapped[str] = mapped_column(String(100))
    sha256: Mapped[str] = mapped_column(String(64))
    layout: Mapped[str] = mapped_column(String(10))
    lines_read: Mapped[int]  # lines with money on them
    lines_added: Mapped[int]
    lines_known: Mapped[int]  # imported before (by reference or fingerprint)
    lines_doubled: Mapped[int]  # the same reference twice in this file
    first_on: Mapped[date | None]
    last_on: Mapped[date | None]
    imported_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    request_key: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)

    imported_by: Mapped[User] = relationship()


class StatementLine(Model):
    """One line of a statement: money in (> 0) or out (< 0) of the account on a day.

    ``identity`` is the line's reference (交易单号, 流水号) or, without one, a fingerprint
    of its date, time, amount, counterparty, note and its occurrence among identical lines
    of its file: importing the same or an overlapping statement adds nothing twice.
    """

    id: Mapped[int] = mapped_column(primary_key=True)
    import_id: Mapped[int] = mapped_column(ForeignKey("statement_import.id"), index=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("money_account.id"))
    area_id: Mapped[int] = mapped_column(ForeignKey("management_area.id"), index=True)
    line_no: Mapped[int]  # its row in the file
    booked_on: Mapped[date]
    booked_time: Mapped[str] = mapped_column(String(8), default="")
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    counterparty: Mapped[str] = mapped_column(String(100), default="")
    note: Mapped[str] = mapped_column(String(200), default="")
    reference: Mapped[str] = mapped_column(String(64), default="")
    identity: Mapped[str] = mapped_column(String(70))

    __table_args__ = (
        UniqueConstraint("account_id", "identity"),
        Index("ix_statement_line_account_on", "account_id", "booked_on"),
        CheckConstraint("amount_fen <> 0", name="amount_nonzero"),
    )


class ClaimStatus(StrEnum):
    WAITING = "waiting"  # 已申报，待核对
    CONFIRMED = "confirmed"  # matched to a statement line: a receipt was issued
    REJECTED = "rejected"  # the treasurer found no such transfer, with the reason


class TransferClaim(Model):
    """A resident's word that they paid their home's fees by transfer (我已转账)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    area_id: Mapped[int] = mapped_column(ForeignKey("management_area.id"), index=True)
    household_id: Mapped[int] = mapped_column(ForeignKey("household.id"), index=True)
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    paid_on: Mapped[date]
    method: Mapped[str] = mapped_column(String(10))
    note: Mapped[str] = mapped_column(String(100), default="")
    photo: Mapped[str | None] = mapped_column(String(60))
    claimed_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    request_key: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)

    household: Mapped[Household] = relationship()
    claimed_by: Mapped[User] = relationship()

    __table_args__ = (
        CheckConstraint("amount_fen > 0", name="amount_positive"),
        CheckConstraint("method IN ('bank', 'wechat', 'alipay')", name="method"),
    )


CLAIM_METHODS = (Method.BANK, Method.WECHAT, Method.ALIPAY)


class DecisionKind(StrEnum):
    CONFIRM = "confirm"  # 确认: the line is this payment (or this claim, which made one)
    REJECT = "reject"  # 不是这笔: not this payment or claim; it is not proposed again
    EXPLAIN = "explain"  # the line is something else: bank fee, interest, a deposit…
    UNDO = "undo"  # a confirmation or explanation taken back, with the reason
    REJECT_CLAIM = "reject_claim"  # a claim with no such transfer, with the reason


class Explanation(StrEnum):
    BANK_FEE = "bank_fee"  # 手续费
    INTEREST = "interest"  # 利息
    CASH_DEPOSIT = "cash_deposit"  # 现金存入 (from the cash box)
    OTHER = "other"  # 其他 (with the reason)


class ReconDecision(Model):
    """What the keeper decided about a statement line or a claim. Ledger row."""

    id: Mapped[int] = mapped_column(primary_key=True)
    area_id: Mapped[int] = mapped_column(ForeignKey("management_area.id"), index=True)
    kind: Mapped[str] = mapped_column(String(12))
    line_id: Mapped[int | None] = mapped_column(ForeignKey("statement_line.id"), index=True)
    payment_id: Mapped[int | None] = mapped_column(ForeignKey("payment.id"), index=True)
    claim_id: Mapped[int | None] = mapped_column(ForeignKey("transfer_claim.id"), index=True)
    explanation: Mapped[str | None] = mapped_column(String(12))
    reason: Mapped[str] = mapped_column(String(200), default="")
    undoes_id: Mapped[int | None] = mapped_column(ForeignKey("recon_decision.id"), unique=True)
    decided_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)

    decided_by: Mapped[User] = relationship()
    line: Mapped[StatementLine | None] = relationship()

    __table_args__ = (
        CheckConstraint(_in("kind", DecisionKind), name="kind"),
        CheckConstraint(
            f"explanation IS NULL OR {_in('explanation', Explanation)}", name="explanation"
        ),
    )


class StatementMapping(Model):
    """Which column of an unknown statement layout holds what, saved per account and used
    on later imports. Not a ledger row: it may be saved again."""

    account_id: Mapped[int] = mapped_column(ForeignKey("money_account.id"), primary_key=True)
    columns: Mapped[dict[str, Any]] = mapped_column(JSON)
    saved_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    saved_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now, onupdate=clock.now)


RECON_LEDGER = (StatementImport, StatementLine, TransferClaim, ReconDecision)
RECON_TABLES = tuple(model.__tablename__ for model in RECON_LEDGER)

append_only(*RECON_LEDGER, error=ReconChangeRefused)

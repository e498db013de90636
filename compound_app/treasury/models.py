"""Where an area's money is kept: its money accounts (资金账户) and what moves between them.

Each account's ``balance_fen`` is a running total kept in step with its entries
(``MoneyEntry``) on every write; ``treasury.proofs`` recomputes it. Entries, movements,
their approvals and the account an expense was paid from are ledger rows: never changed
or deleted (the ORM refuses, and so do database triggers); a correction is a reversing
movement with its reason.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .. import clock
from ..appendonly import append_only
from ..auth.models import User
from ..dbtypes import UTCDateTime
from ..extensions import Model
from ..registry.models import _in


class AccountKind(StrEnum):
    CASH_BOX = "cash_box"  # 现金箱: the treasurer's (or the keeper's) cash box
    BANK = "bank"  # 银行账户
    WECHAT = "wechat"  # 微信收款码
    ALIPAY = "alipay"  # 支付宝收款码
    COMMUNITY = "community"  # 社区代管账户: held by the community for a trusteeship area


class MoneyAccount(Model):
    """One place the area's money is kept. Opened and closed, never deleted."""

    id: Mapped[int] = mapped_column(primary_key=True)
    area_id: Mapped[int] = mapped_column(ForeignKey("management_area.id"), index=True)
    kind: Mapped[str] = mapped_column(String(10))
    name: Mapped[str] = mapped_column(String(40))  # what the treasurer calls it
    bank: Mapped[str] = mapped_column(String(40), default="")
    holder: Mapped[str] = mapped_column(String(40), default="")  # the account's name (户名)
    last4: Mapped[str] = mapped_column(String(4), default="")  # never the whole number
    balance_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    opened_on: Mapped[date]
    opened_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    closed_on: Mapped[date | None]
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))

    __table_args__ = (
        CheckConstraint(_in("kind", AccountKind), name="kind"),
        CheckConstraint("length(last4) IN (0, 4)", name="last4"),
    )

    @property
    def is_open(self) -> bool:
        return self.closed_on is None


class MovementKind(StrEnum):
    DEPOSIT = "deposit"  # 存入: cash box → bank (or a collection account)
    WITHDRAW = "withdraw"  # 取现: bank (or a collection account) → cash box
    TRANSFER = "transfer"  # 划转: between two accounts that are not the cash box
    REVERSAL = "reversal"  # 冲正: undoes another movement, with the reason


class Movement(Model):
    """Money moved between two accounts of one area. Ledger row.

    Above the area's approval threshold it counts only once a second person approves it
    (``MovementApproval``); a reversal undoes it (another movement, ``reverses_id``).
    """

    id: Mapped[int] = mapped_column(primary_key=True)
    area_id: Mapped[int] = mapped_column(ForeignKey("management_area.id"), index=True)
    kind: Mapped[str] = mapped_column(String(10))
    from_account_id: Mapped[int] = mapped_column(ForeignKey("money_account.id"))
    to_account_id: Mapped[int] = mapped_column(ForeignKey("money_account.id"))
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    moved_on: Mapped[date]
    note: Mapped[str] = mapped_column(String(200), default="")
    needs_approval: Mapped[bool] = mapped_column(default=False)
    reverses_id: Mapped[int | None] = mapped_column(ForeignKey("movement.id"), unique=True)
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    request_key: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)

    from_account: Mapped[MoneyAccount] = relationship(foreign_keys=[from_account_id])
    to_account: Mapped[MoneyAccount] = relationship(foreign_keys=[to_account_id])
    recorded_by: Mapped[User] = relationship(foreign_keys=[recorded_by_id])
    approval: Mapped[MovementApproval | None] = relationship(
        back_populates="movement", uselist=False
    )
    reverses: Mapped[Movement | None] = relationship(
        remote_side=[id], foreign_keys=[reverses_id], back_populates="reversed_by"
    )
    reversed_by: Mapped[Movement | None] = relationship(
        foreign_keys=[reverses_id], back_populates="reverses", uselist=False
    )

    __table_args__ = (
        CheckConstraint("amount_fen > 0", name="amount_positive"),
        CheckConstraint("from_account_id <> to_account_id", name="two_accounts"),
        CheckConstraint(_in("kind", MovementKind), name="kind"),
    )

    @property
    def counts(self) -> bool:
        """Whether it has moved the money (approved where it needed it). A reversal moves
        money only if the movement it reverses had: cancelling one still awaiting its
        approval moves nothing."""
        if self.reverses is not None:
            return self.reverses.counts
        return not self.needs_approval or self.approval is not None


class MovementApproval(Model):
    """A second person's approval of a movement above the threshold. Ledger row."""

    id: Mapped[int] = mapped_column(primary_key=True)
    movement_id: Mapped[int] = mapped_column(ForeignKey("movement.id"), unique=True)
    approved_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)

    movement: Mapped[Movement] = relationship(back_populates="approval")
    approved_by: Mapped[User] = relationship()


class ExpensePaidFrom(Model):
    """The account an expense was paid from. Ledger row. An expense without one (those
    recorded before accounts existed, or where none was chosen) is paid from the cash box."""

    expense_id: Mapped[int] = mapped_column(ForeignKey("expense.id"), primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("money_account.id"), index=True)


class EntrySource(StrEnum):
    HANDOVER = "handover"  # a counted cash hand-over, into the cash box
    PAYMENT = "payment"  # a fee paid by transfer or WeChat/Alipay into the matching account
    REVERSAL = "reversal"  # that payment voided: out of the same account
    EXPENSE = "expense"  # an expense, once it counts, out of the account it was paid from
    EXPENSE_VOID = "expense_void"  # a counted expense voided: back into the same account
    MOVEMENT = "movement"  # one side of a movement, once it counts
    INCOME = "income"  # common-part income received, into the account it was paid into
    INCOME_VOID = "income_void"  # that income receipt reversed: out of the same account
    WORK_PAYMENT = "work_payment"  # a work paid from common-part income, out of its account


class MoneyEntry(Model):
    """One change to one account's balance, with what caused it. Ledger row.

    An account's balance is the sum of its entries; on a day, the sum of those dated on
    or before it (the finance board's 资金存放).
    """

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("money_account.id"))
    area_id: Mapped[int] = mapped_column(ForeignKey("management_area.id"))
    amount_fen: Mapped[int] = mapped_column(BigInteger)  # in (> 0) or out (< 0)
    entry_on: Mapped[date]
    source: Mapped[str] = mapped_column(String(12))
    source_id: Mapped[int]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)

    __table_args__ = (
        UniqueConstraint("source", "source_id", "account_id"),
        Index("ix_money_entry_account_on", "account_id", "entry_on"),
        Index("ix_money_entry_area_source", "area_id", "source"),
        CheckConstraint("amount_fen <> 0", name="amount_nonzero"),
        CheckConstraint(_in("source", EntrySource), name="source"),
    )


class TreasuryChangeRefused(RuntimeError):
    """Somebody tried to change or delete a money entry or movement; corrections are new rows."""


TREASURY_LEDGER = (MoneyEntry, Movement, MovementApproval, ExpensePaidFrom)
TREASURY_TABLES = tuple(model.__tablename__ for model in TREASURY_LEDGER)

append_only(*TREASURY_LEDGER, error=TreasuryChangeRefused)

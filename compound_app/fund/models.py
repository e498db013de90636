"""The maintenance fund of a compound and where a work's cost came from.

The fund's money is not the committee's: it is kept by the housing fund centre
(住房专项维修资金管理中心), which reports each building's or compound's balance. So the app
keeps the reports it was given (``FundBalance``), never a running balance of its own, and
every use of the fund as an application whose steps are dated rows (``FundStep``): drafted,
put to the owners' vote, 公示, disbursed, closed (or 未通过). ``FundApplication.state`` is
the last step's state, kept in the same transaction; ``fund.proofs`` checks it.

Reports, shares, steps, disbursements and work payments are ledger rows: never changed or
deleted (the ORM refuses, and so do database triggers).
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
from ..registry.models import Building, Compound, _in
from ..repairs.models import Work


class FundBalance(Model):
    """The fund centre's statement of a building's (or the whole compound's) balance on a
    day, as the committee or staff entered it. A newer statement supersedes; all stay."""

    id: Mapped[int] = mapped_column(primary_key=True)
    compound_id: Mapped[int] = mapped_column(ForeignKey("compound.id"))
    building_id: Mapped[int | None] = mapped_column(ForeignKey("building.id"))  # None: all
    balance_fen: Mapped[int] = mapped_column(BigInteger)
    stated_on: Mapped[date]  # the statement's date (截至)
    photo: Mapped[str] = mapped_column(String(60), default="")
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    request_key: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)

    building: Mapped[Building | None] = relationship()
    recorded_by: Mapped[User] = relationship()

    __table_args__ = (
        Index("ix_fund_balance_compound_on", "compound_id", "stated_on"),
        CheckConstraint("balance_fen >= 0", name="balance"),
    )


class AppState(StrEnum):
    DRAFT = "draft"  # 草拟
    VOTING = "voting"  # 业主表决中
    PUBLICITY = "publicity"  # 公示中
    DISBURSED = "disbursed"  # 已拨付
    CLOSED = "closed"  # 已完结
    REJECTED = "rejected"  # 未通过


class Split(StrEnum):
    AREA = "area"  # by floor area (按建筑面积分摊)
    EQUAL = "equal"  # equally per home (按户均摊)


class FundApplication(Model):
    """A use application (使用申请): the work, its budget, the homes that bear it."""

    id: Mapped[int] = mapped_column(primary_key=True)
    area_id: Mapped[int] = mapped_column(ForeignKey("management_area.id"))
    compound_id: Mapped[int] = mapped_column(ForeignKey("compound.id"), index=True)
    work_id: Mapped[int] = mapped_column(ForeignKey("work.id"), index=True)
    title: Mapped[str] = mapped_column(String(100))
    budget_fen: Mapped[int] = mapped_column(BigInteger)
    split: Mapped[str] = mapped_column(String(8))
    comment_days: Mapped[int]
    # The last step's state, kept with the steps (``fund.proofs`` checks it).
    state: Mapped[str] = mapped_column(String(10), default=AppState.DRAFT)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    request_key: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)

    compound: Mapped[Compound] = relationship()
    work: Mapped[Work] = relationship()
    steps: Mapped[list[FundStep]] = relationship(order_by="FundStep.id")
    shares: Mapped[list[FundShare]] = relationship(order_by="FundShare.id")
    disbursements: Mapped[list[FundDisbursement]] = relationship(
        back_populates="application", order_by="FundDisbursement.id"
    )

    __table_args__ = (
        CheckConstraint("budget_fen > 0", name="budget"),
        CheckConstraint("comment_days >= 1", name="comment_days"),
        CheckConstraint(_in("state", AppState), name="state"),
        CheckConstraint(_in("split", Split), name="split"),
    )

    def step(self, state: AppState) -> FundStep | None:
        """The latest step into ``state``, if any."""
        found = [s for s in self.steps if s.state == state]
        return found[-1] if found else None

    @property
    def disbursed_fen(self) -> int:
        return sum(d.amount_fen for d in self.disbursements)


class FundShare(Model):
    """One home bearing the cost and its share of the budget. Ledger row."""

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("fund_application.id"))
    household_id: Mapped[int] = mapped_column(ForeignKey("household.id"))
    area_dm2: Mapped[int] = mapped_column(BigInteger)
    share_fen: Mapped[int] = mapped_column(BigInteger)

    __table_args__ = (
        UniqueConstraint("application_id", "household_id"),
        CheckConstraint("share_fen >= 0", name="share"),
    )


class FundStep(Model):
    """One dated step of an application. Ledger row."""

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("fund_application.id"), index=True)
    state: Mapped[str] = mapped_column(String(10))
    on: Mapped[date]
    vote_id: Mapped[int | None] = mapped_column(ForeignKey("vote.id"))
    notice_id: Mapped[int | None] = mapped_column(ForeignKey("notice.id"))
    ends_on: Mapped[date | None]  # the 公示's last day for comments
    disbursement_id: Mapped[int | None] = mapped_column(ForeignKey("fund_disbursement.id"))
    actor_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)

    actor: Mapped[User] = relationship()

    __table_args__ = (CheckConstraint(_in("state", AppState), name="state"),)


class FundDisbursement(Model):
    """Money the fund centre paid out for an application (已拨付). Ledger row."""

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("fund_application.id"), index=True)
    compound_id: Mapped[int] = mapped_column(ForeignKey("compound.id"), index=True)
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    disbursed_on: Mapped[date]
    reference: Mapped[str] = mapped_column(String(60))  # the fund centre's number
    photo: Mapped[str] = mapped_column(String(60), default="")
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    request_key: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)

    application: Mapped[FundApplication] = relationship(back_populates="disbursements")

    __table_args__ = (CheckConstraint("amount_fen > 0", name="amount_positive"),)


class Payer(StrEnum):
    GOVERNMENT = "government"  # 政府资金 (老旧小区改造)
    COMMUNITY = "community"  # 社区经费
    COMMON_INCOME = "common_income"  # 公共收益, for a work the committee pays for


class WorkPayment(Model):
    """A work's cost paid by the government, the community or from common-part income:
    never an expense of the fee ledger. Ledger row."""

    id: Mapped[int] = mapped_column(primary_key=True)
    work_id: Mapped[int] = mapped_column(ForeignKey("work.id"), index=True)
    area_id: Mapped[int] = mapped_column(ForeignKey("management_area.id"), index=True)
    payer: Mapped[str] = mapped_column(String(14))
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    paid_on: Mapped[date]
    reference: Mapped[str] = mapped_column(String(100))  # the document or its number
    photo: Mapped[str] = mapped_column(String(60), default="")
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    request_key: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)

    work: Mapped[Work] = relationship()

    __table_args__ = (
        CheckConstraint("amount_fen > 0", name="amount_positive"),
        CheckConstraint(_in("payer", Payer), name="payer"),
    )


class FundChangeRefused(RuntimeError):
    """Somebody tried to change or delete a fund record; corrections are new rows."""


FUND_LEDGER = (FundBalance, FundShare, FundStep, FundDisbursement, WorkPayment)
FUND_TABLES = tuple(model.__tablename__ for model in FUND_LEDGER)

append_only(*FUND_LEDGER, error=FundChangeRefused)

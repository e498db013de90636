"""A management area's transition from its temporary property management committee (物管会)
to an elected owners' committee (业主委员会) or to a property company the owners chose
(选聘物业服务企业).

``Transition`` is one per area: its target, when and by whom it was started, and its stage,
which is the last step's, kept in the same transaction. The steps (``TransitionStep``) are
append-only dated records, one per stage, in order: the preparation group formed (筹备组,
its members in ``TransitionPerson``), the first owners' assembly (首次业主大会, a linked
owners' vote), the result (the elected members, or the chosen company with its credit
code and contract), the filing with the subdistrict (备案), and the hand-over, which
freezes the hand-over bundle and sets the day the old committee's rights end.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .. import clock
from ..appendonly import append_only
from ..auth.models import User
from ..dbtypes import UTCDateTime
from ..extensions import Model
from ..registry.models import ManagementArea, _in
from ..votes.models import Vote


class Target(StrEnum):
    OWNERS_COMMITTEE = "owners_committee"  # 业主委员会, elected by the first assembly
    PROPERTY_COMPANY = "property_company"  # 物业服务企业, chosen by the owners' vote


class Stage(StrEnum):
    """Where the path stands: each step moves it to the stage of its own name."""

    STARTED = "started"  # 已启动
    PREPARED = "prepared"  # 筹备组成立
    ASSEMBLY = "assembly"  # 首次业主大会 (an owners' vote)
    ELECTED = "elected"  # 业委会选出 / 物业企业选定
    FILED = "filed"  # 备案
    HANDED_OVER = "handed_over"  # 移交


class PrepRole(StrEnum):
    """Whom a member of the preparation group represents."""

    SUBDISTRICT = "subdistrict"  # 街道办事处
    RESIDENTS_COMMITTEE = "residents_committee"  # 居委会
    POLICE = "police"  # 派出所
    HOUSING = "housing"  # 房管部门
    OWNER = "owner"  # 业主代表


class ElectedPosition(StrEnum):
    CHAIR = "chair"  # 主任
    VICE_CHAIR = "vice_chair"  # 副主任
    MEMBER = "member"  # 委员


class Part(StrEnum):
    PREPARATION = "preparation"  # a member of the preparation group
    ELECTED = "elected"  # an elected member of the owners' committee


class Transition(Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    area_id: Mapped[int] = mapped_column(ForeignKey("management_area.id"), unique=True)
    target: Mapped[str] = mapped_column(String(20))
    started_on: Mapped[date]
    started_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    # The last step's stage and day, kept with the steps.
    stage: Mapped[str] = mapped_column(String(12), default=Stage.STARTED)
    stage_on: Mapped[date]
    # Set by the hand-over: the old committee's last day (its seats end on it).
    rights_end_on: Mapped[date | None]
    version: Mapped[int] = mapped_column(default=1)

    area: Mapped[ManagementArea] = relationship()
    started_by: Mapped[User] = relationship()
    steps: Mapped[list[TransitionStep]] = relationship(order_by="TransitionStep.id")

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        CheckConstraint(_in("target", Target), name="target"),
        CheckConstraint(_in("stage", Stage), name="stage"),
    )


class TransitionStep(Model):
    """One step of the path, as it was recorded; the columns of other kinds stay empty."""

    id: Mapped[int] = mapped_column(primary_key=True)
    transition_id: Mapped[int] = mapped_column(ForeignKey("transition.id"), index=True)
    kind: Mapped[str] = mapped_column(String(12))
    happened_on: Mapped[date]
    note: Mapped[str] = mapped_column(Text, default="")
    by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    # The first owners' assembly: the owners' vote it was held as.
    vote_id: Mapped[int | None] = mapped_column(ForeignKey("vote.id"), index=True)
    # The chosen property company: its name, 统一社会信用代码 and contract.
    company_name: Mapped[str] = mapped_column(String(100), default="")
    credit_code: Mapped[str] = mapped_column(String(18), default="")
    contract_from: Mapped[date | None]
    contract_to: Mapped[date | None]
    # The filing with the subdistrict (备案).
    filing_no: Mapped[str] = mapped_column(String(50), default="")
    # The hand-over: to whom, the old body's last day, who signed for each party, and the
    # bundle frozen as it stood (its record, and the SHA-256 of its PDF).
    handed_to: Mapped[str] = mapped_column(String(100), default="")
    rights_end_on: Mapped[date | None]
    signed_old: Mapped[str] = mapped_column(String(50), default="")
    signed_new: Mapped[str] = mapped_column(String(50), default="")
    bundle: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    pdf_sha256: Mapped[str] = mapped_column(String(64), default="")

    by: Mapped[User] = relationship(lazy="joined", innerjoin=True)
    vote: Mapped[Vote | None] = relationship()
    people: Mapped[list[TransitionPerson]] = relationship(order_by="TransitionPerson.id")

    __table_args__ = (
        CheckConstraint(_in("kind", Stage), name="kind"),
        CheckConstraint(
            "contract_to IS NULL OR contract_from IS NULL OR contract_to > contract_from",
            name="contract",
        ),
        CheckConstraint("rights_end_on IS NULL OR rights_end_on >= happened_on", name="rights_end"),
    )


class TransitionPerson(Model):
    """A member of the preparation group (by whom they represent) or of the elected
    owners' committee (by position): a name, nothing more."""

    id: Mapped[int] = mapped_column(primary_key=True)
    step_id: Mapped[int] = mapped_column(ForeignKey("transition_step.id"), index=True)
    part: Mapped[str] = mapped_column(String(12))
    name: Mapped[str] = mapped_column(String(50))
    role: Mapped[str] = mapped_column(String(20))

    __table_args__ = (
        CheckConstraint(_in("part", Part), name="part"),
        CheckConstraint(
            f"(part = 'preparation' AND {_in('role', PrepRole)}) OR "
            f"(part = 'elected' AND {_in('role', ElectedPosition)})",
            name="role",
        ),
    )


class TransitionChangeRefused(RuntimeError):
    """A step of a transition or one of its people was about to be changed or deleted: the
    path is a record, a later step or a new transition says what happened next."""


TRANSITION_LEDGER = (TransitionStep, TransitionPerson)
TRANSITION_TABLES = tuple(model.__tablename__ for model in TRANSITION_LEDGER)

append_only(*TRANSITION_LEDGER, error=TransitionChangeRefused)

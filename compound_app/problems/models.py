"""The problem register (问题清单) and who answers for each problem (责任清单).

A ``Problem`` lies in a community, usually in one of its compounds (``compound_id`` None:
community-wide), and has a kind from its subdistrict's list (``ProblemKind``), a severity,
the source it came from and a level that answers for it: the compound's committee, the
community, the subdistrict's 党工委, or a named department or cadre (包联干部). Its owner
and deadlines follow the level (``ProblemDeadline``). Every move leaves a ``ProblemStep``
(append-only: the ORM refuses a change and so do database triggers); the problem's
status, level and dates are kept in the same transaction as its steps.

A ``Grid`` (网格) of a community covers compounds and buildings (``GridCompound``,
``GridBuilding``); a grid worker (网格员) holds a role grant on it.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .. import clock
from ..appendonly import append_only
from ..auth.models import User
from ..dbtypes import UTCDateTime
from ..extensions import Model
from ..registry.models import Building, Community, Compound, Household, Unit, _in

if TYPE_CHECKING:
    from ..repairs.models import RepairTask


class DefaultKind(StrEnum):
    """The subdistrict's six kinds, given to a subdistrict that has none."""

    SANITATION = "sanitation"  # 环境卫生
    FACILITIES = "facilities"  # 设施设备
    SAFETY = "safety"  # 安全隐患
    PROPERTY_SERVICE = "property_service"  # 物业服务
    NEIGHBOURS = "neighbours"  # 邻里纠纷
    CONVENIENCE = "convenience"  # 便民服务


class Severity(StrEnum):
    NORMAL = "normal"  # 一般
    SERIOUS = "serious"  # 较重
    URGENT = "urgent"  # 紧急


class Source(StrEnum):
    COMPLAINT = "complaint"  # 投诉: a resident's own
    SUGGESTION = "suggestion"  # 建议: a resident's own
    ASSISTED = "assisted"  # a representative or grid worker entered it for a resident
    CONSULTATION = "consultation"  # an answer to a consultation
    INSPECTION = "inspection"  # 督导检查: a failed item of a staff visit
    GRID = "grid"  # 网格员: a grid worker's own finding
    MEETING = "meeting"  # a meeting
    HOTLINE = "hotline"  # 12345 市民热线
    SURVEY = "survey"  # 入户排查


class Level(StrEnum):
    """Who answers for a problem, lowest first; an overdue problem goes up one."""

    COMMITTEE = "committee"  # 物管会
    COMMUNITY = "community"  # 社区
    CADRE = "cadre"  # 包联干部 / 分管部门, named
    SUBDISTRICT = "subdistrict"  # 街道党工委


LEVELS = (Level.COMMITTEE, Level.COMMUNITY, Level.CADRE, Level.SUBDISTRICT)


class Status(StrEnum):
    OPEN = "open"  # 待答复
    REPLIED = "replied"  # 已答复，整改中
    FIXED = "fixed"  # 已整改，待验证
    CLOSED = "closed"  # 已办结 (verified)


OPEN = (Status.OPEN, Status.REPLIED, Status.FIXED)


class StepKind(StrEnum):
    FILED = "filed"
    LEVEL = "level"  # level set (and with it the owner and deadlines)
    OWNER = "owner"  # owner set within the level
    REPLIED = "replied"
    DECLINED = "declined"  # sent back one level, with the reason
    ESCALATED = "escalated"  # overdue: up one level (by the clock, or by hand)
    FIXED = "fixed"
    VERIFIED = "verified"
    REOPENED = "reopened"
    RATED = "rated"
    LINKED = "linked"  # linked to a repair task, a work or a vote


class ProblemKind(Model):
    """A kind of problem in a subdistrict's list. Retired kinds stay on old problems."""

    id: Mapped[int] = mapped_column(primary_key=True)
    subdistrict_id: Mapped[int] = mapped_column(ForeignKey("subdistrict.id"))
    # One of the six defaults (its name then translates until someone renames it), or None.
    code: Mapped[str | None] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(30), default="")
    position: Mapped[int] = mapped_column(default=0)
    retired: Mapped[bool] = mapped_column(default=False, server_default=false())

    __table_args__ = (
        Index("ix_problem_kind_subdistrict_position", "subdistrict_id", "position"),
        UniqueConstraint("subdistrict_id", "code"),
        CheckConstraint(f"code IS NULL OR {_in('code', DefaultKind)}", name="code"),
    )


class ProblemDeadline(Model):
    """A subdistrict's reply and fix deadlines for one level; missing rows use defaults."""

    subdistrict_id: Mapped[int] = mapped_column(ForeignKey("subdistrict.id"), primary_key=True)
    level: Mapped[str] = mapped_column(String(12), primary_key=True)
    reply_hours: Mapped[int]
    fix_days: Mapped[int]

    __table_args__ = (
        CheckConstraint(_in("level", Level), name="level"),
        CheckConstraint("reply_hours BETWEEN 1 AND 720", name="reply_hours"),
        CheckConstraint("fix_days BETWEEN 1 AND 365", name="fix_days"),
    )


class Problem(Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    subdistrict_id: Mapped[int] = mapped_column(ForeignKey("subdistrict.id"))
    community_id: Mapped[int] = mapped_column(ForeignKey("community.id"))
    compound_id: Mapped[int | None] = mapped_column(ForeignKey("compound.id"))  # None: community
    building_id: Mapped[int | None] = mapped_column(ForeignKey("building.id"))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"))
    # The reporter's home (a resident's complaint, an assisted entry): its residents are
    # "the reporter" who verifies and rates, and see it under "my complaints".
    household_id: Mapped[int | None] = mapped_column(ForeignKey("household.id"), index=True)
    kind_id: Mapped[int] = mapped_column(ForeignKey("problem_kind.id"), index=True)
    severity: Mapped[str] = mapped_column(String(10), default=Severity.NORMAL)
    title: Mapped[str] = mapped_column(String(60))
    detail: Mapped[str] = mapped_column(Text, default="")
    source: Mapped[str] = mapped_column(String(14))
    hotline_no: Mapped[str | None] = mapped_column(String(40))  # 12345 工单号
    # The account that reported it (a resident), if any; who typed it in, always.
    reporter_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"), index=True)
    entered_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    # Who asked, where no account did (assisted entry, hotline caller): staff only.
    contact_name: Mapped[str] = mapped_column(String(50), default="")
    contact_mobile: Mapped[str] = mapped_column(String(11), default="")
    # Hidden from the committee (never from staff).
    anonymous: Mapped[bool] = mapped_column(default=False, server_default=false())
    level: Mapped[str] = mapped_column(String(12), default=Level.COMMITTEE)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"), index=True)
    owner_name: Mapped[str] = mapped_column(String(50), default="")  # a department or cadre
    status: Mapped[str] = mapped_column(String(10), default=Status.OPEN)
    reply_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    fix_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    replied_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reply: Mapped[str] = mapped_column(String(500), default="")
    fixed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    fixed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    escalated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    escalations: Mapped[int] = mapped_column(default=0)
    # What it became or came from.
    repair_task_id: Mapped[int | None] = mapped_column(ForeignKey("repair_task.id"), unique=True)
    work_id: Mapped[int | None] = mapped_column(ForeignKey("work.id"), index=True)
    vote_id: Mapped[int | None] = mapped_column(ForeignKey("vote.id"), index=True)
    answer_id: Mapped[int | None] = mapped_column(ForeignKey("answer.id"), unique=True)
    meeting_id: Mapped[int | None] = mapped_column(ForeignKey("meeting.id"), index=True)
    # The reporter's rating of the handling.
    rating: Mapped[int | None]
    rated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    rating_comment: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    # The filing form's one-time key: the same form sent twice files one problem.
    request_key: Mapped[str | None] = mapped_column(String(64), unique=True)
    version: Mapped[int] = mapped_column(default=1)

    community: Mapped[Community] = relationship()
    compound: Mapped[Compound | None] = relationship()
    building: Mapped[Building | None] = relationship()
    unit: Mapped[Unit | None] = relationship()
    household: Mapped[Household | None] = relationship()
    kind: Mapped[ProblemKind] = relationship()
    reporter: Mapped[User | None] = relationship(foreign_keys=[reporter_id])
    entered_by: Mapped[User] = relationship(foreign_keys=[entered_by_id])
    owner: Mapped[User | None] = relationship(foreign_keys=[owner_id])
    fixed_by: Mapped[User | None] = relationship(foreign_keys=[fixed_by_id])
    repair_task: Mapped[RepairTask | None] = relationship()
    steps: Mapped[list[ProblemStep]] = relationship(
        back_populates="problem", order_by="ProblemStep.id"
    )
    photos: Mapped[list[ProblemPhoto]] = relationship(
        back_populates="problem", order_by="ProblemPhoto.id"
    )

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        Index("ix_problem_compound_status", "compound_id", "status"),
        Index("ix_problem_community_status", "community_id", "status"),
        Index("ix_problem_subdistrict_status", "subdistrict_id", "status"),
        Index("ix_problem_compound_created", "compound_id", "created_at"),
        Index("ix_problem_status_reply_due", "status", "reply_due_at"),
        Index("ix_problem_status_fix_due", "status", "fix_due_at"),
        UniqueConstraint("subdistrict_id", "hotline_no"),
        CheckConstraint(_in("severity", Severity), name="severity"),
        CheckConstraint(_in("source", Source), name="source"),
        CheckConstraint(_in("level", Level), name="level"),
        CheckConstraint(_in("status", Status), name="status"),
        CheckConstraint("escalations >= 0", name="escalations"),
        CheckConstraint("rating IS NULL OR rating BETWEEN 1 AND 5", name="rating"),
        CheckConstraint("unit_id IS NULL OR building_id IS NOT NULL", name="unit_in_building"),
        CheckConstraint(
            "building_id IS NULL OR compound_id IS NOT NULL", name="building_in_compound"
        ),
    )

    @property
    def is_open(self) -> bool:
        return self.status in OPEN


class ProblemStep(Model):
    """One line of a problem's timeline. Written once, never changed."""

    id: Mapped[int] = mapped_column(primary_key=True)
    problem_id: Mapped[int] = mapped_column(ForeignKey("problem.id"), index=True)
    kind: Mapped[str] = mapped_column(String(12))
    from_status: Mapped[str] = mapped_column(String(10), default="")
    to_status: Mapped[str] = mapped_column(String(10), default="")
    from_level: Mapped[str] = mapped_column(String(12), default="")
    to_level: Mapped[str] = mapped_column(String(12), default="")
    # The owner after this step (level and owner steps), so a decline knows whom it goes back to.
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    owner_name: Mapped[str] = mapped_column(String(50), default="")
    # None for the clock's escalation.
    by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    note: Mapped[str] = mapped_column(String(500), default="")
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)

    problem: Mapped[Problem] = relationship(back_populates="steps")
    by: Mapped[User | None] = relationship(foreign_keys=[by_id])
    owner: Mapped[User | None] = relationship(foreign_keys=[owner_id])

    __table_args__ = (CheckConstraint(_in("kind", StepKind), name="kind"),)


class PhotoStage(StrEnum):
    REPORT = "report"  # with the problem
    FIXED = "fixed"  # the fix


class ProblemPhoto(Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    problem_id: Mapped[int] = mapped_column(ForeignKey("problem.id"), index=True)
    stage: Mapped[str] = mapped_column(String(10), default=PhotoStage.REPORT)
    file: Mapped[str] = mapped_column(String(60))
    uploaded_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)

    problem: Mapped[Problem] = relationship(back_populates="photos")

    __table_args__ = (CheckConstraint(_in("stage", PhotoStage), name="stage"),)


class Grid(Model):
    """网格: a community's grid, covering compounds and buildings, with its grid workers."""

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("community.id"), index=True)
    name: Mapped[str] = mapped_column(String(30))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)

    community: Mapped[Community] = relationship()
    compounds: Mapped[list[Compound]] = relationship(
        secondary="grid_compound", order_by="Compound.name"
    )
    buildings: Mapped[list[Building]] = relationship(
        secondary="grid_building",
        order_by="(Building.compound_id, Building.sort_key, Building.name)",
    )

    __table_args__ = (UniqueConstraint("community_id", "name"),)


class GridCompound(Model):
    """A whole compound in a grid."""

    grid_id: Mapped[int] = mapped_column(ForeignKey("grid.id"), primary_key=True)
    compound_id: Mapped[int] = mapped_column(
        ForeignKey("compound.id"), primary_key=True, index=True
    )


class GridBuilding(Model):
    """One building in a grid (its compound's other buildings may be another grid's)."""

    grid_id: Mapped[int] = mapped_column(ForeignKey("grid.id"), primary_key=True)
    building_id: Mapped[int] = mapped_column(
        ForeignKey("building.id"), primary_key=True, index=True
    )


class ProblemChangeRefused(RuntimeError):
    """A problem's timeline step was about to be changed or deleted."""


append_only(ProblemStep, error=ProblemChangeRefused)
PROBLEM_LEDGER = (ProblemStep,)
PROBLEM_TABLES = tuple(model.__tablename__ for model in PROBLEM_LEDGER)

"""Rectification projects and inspections.

A ``RectifyProject`` fixes one problem of the register or a group of them (``RectifyProblem``),
all of one community: one of the seed's five kinds, at compound, community or subdistrict
level, with a plan, a budget in fen (and the work that carries it, where there is one), an
owner and a deadline. Its stage (立项 → 整改中 → 已完成 → 已验收) is the last step's, kept in
the same transaction; the steps (``RectifyStep``: created, progress notes, completion with
its evidence, the agreement of a dispute, verification or sending back) and their photos are
append-only, as are the dispute's parties (by role) and the volunteers' hours.

An ``Inspection`` is a visit to a pilot compound that records each item of the
subdistrict's checklist (``InspectionItem``) passed or failed (``InspectionResult``, the
latest per item counts until the visit is finished); finishing it files a problem for every
failed item (``InspectionProblem``). Results and the problems they raised are append-only.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import (
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
from ..registry.models import Compound, _in
from ..repairs.models import Work


class ProjectKind(StrEnum):
    CONVENIENCE = "convenience"  # 惠民便民
    LIVELIHOOD = "livelihood"  # 民生
    DISPUTE = "dispute"  # 化解矛盾纠纷
    CONTACT = "contact"  # 联系群众
    VOLUNTEER = "volunteer"  # 志愿服务


class ProjectLevel(StrEnum):
    COMPOUND = "compound"  # 小区
    COMMUNITY = "community"  # 社区
    SUBDISTRICT = "subdistrict"  # 街道党工委


class Stage(StrEnum):
    APPROVED = "approved"  # 立项
    IN_PROGRESS = "in_progress"  # 整改中
    COMPLETED = "completed"  # 已完成, awaiting verification
    VERIFIED = "verified"  # 已验收


class StepKind(StrEnum):
    CREATED = "created"
    NOTE = "note"  # a progress note
    COMPLETED = "completed"  # with the evidence
    VERIFIED = "verified"
    SENT_BACK = "sent_back"  # verification found it not done
    AGREEMENT = "agreement"  # a dispute's agreement reached


class PhotoKind(StrEnum):
    PROGRESS = "progress"
    EVIDENCE = "evidence"
    AGREEMENT = "agreement"


class RectifyProject(Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    subdistrict_id: Mapped[int] = mapped_column(ForeignKey("subdistrict.id"), index=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("community.id"))
    # Set for a project of one compound (always at compound level; else where all its
    # problems lie in one compound).
    compound_id: Mapped[int | None] = mapped_column(ForeignKey("compound.id"))
    level: Mapped[str] = mapped_column(String(12))
    kind: Mapped[str] = mapped_column(String(12))
    title: Mapped[str] = mapped_column(String(100))
    plan: Mapped[str] = mapped_column(Text, default="")
    budget_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    # The repair work that carries the budget, where there is one (its costs and payers
    # are the fund's and the ledger's: see ``fund.service.costs_of``).
    work_id: Mapped[int | None] = mapped_column(ForeignKey("work.id"), index=True)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"), index=True)
    owner_name: Mapped[str] = mapped_column(String(50), default="")  # a department or cadre
    due_on: Mapped[date]
    # The last step's stage, kept with the steps.
    stage: Mapped[str] = mapped_column(String(12), default=Stage.APPROVED)
    completed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    request_key: Mapped[str] = mapped_column(String(64), unique=True)
    version: Mapped[int] = mapped_column(default=1)

    compound: Mapped[Compound | None] = relationship()
    work: Mapped[Work | None] = relationship()
    owner: Mapped[User | None] = relationship(foreign_keys=[owner_id])
    completed_by: Mapped[User | None] = relationship(foreign_keys=[completed_by_id])
    created_by: Mapped[User] = relationship(foreign_keys=[created_by_id])
    steps: Mapped[list[RectifyStep]] = relationship(order_by="RectifyStep.id")
    links: Mapped[list[RectifyProblem]] = relationship(order_by="RectifyProblem.id")

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        Index("ix_rectify_project_community_stage", "community_id", "stage"),
        Index("ix_rectify_project_compound_stage", "compound_id", "stage"),
        CheckConstraint("budget_fen >= 0", name="budget"),
        CheckConstraint(_in("level", ProjectLevel), name="level"),
        CheckConstraint(_in("kind", ProjectKind), name="kind"),
        CheckConstraint(_in("stage", Stage), name="stage"),
        CheckConstraint("level <> 'compound' OR compound_id IS NOT NULL", name="compound_level"),
    )


class RectifyProblem(Model):
    """A problem of the register that the project fixes."""

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("rectify_project.id"))
    problem_id: Mapped[int] = mapped_column(ForeignKey("problem.id"), index=True)

    __table_args__ = (UniqueConstraint("project_id", "problem_id"),)


class RectifyStep(Model):
    """One dated step of a project: its stage history, notes, evidence and verdicts."""

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("rectify_project.id"), index=True)
    kind: Mapped[str] = mapped_column(String(12))
    from_stage: Mapped[str] = mapped_column(String(12), default="")
    to_stage: Mapped[str] = mapped_column(String(12))
    note: Mapped[str] = mapped_column(Text, default="")
    rating: Mapped[int | None]  # a reporter's verdict may rate the handling
    by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    request_key: Mapped[str | None] = mapped_column(String(64), unique=True)

    by: Mapped[User] = relationship(lazy="joined", innerjoin=True)
    photos: Mapped[list[RectifyPhoto]] = relationship(order_by="RectifyPhoto.id")

    __table_args__ = (
        CheckConstraint(_in("kind", StepKind), name="kind"),
        CheckConstraint(_in("to_stage", Stage), name="to_stage"),
        CheckConstraint("rating IS NULL OR rating BETWEEN 1 AND 5", name="rating"),
    )


class RectifyPhoto(Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("rectify_project.id"), index=True)
    step_id: Mapped[int] = mapped_column(ForeignKey("rectify_step.id"), index=True)
    kind: Mapped[str] = mapped_column(String(10))
    file: Mapped[str] = mapped_column(String(60))
    uploaded_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)

    __table_args__ = (CheckConstraint(_in("kind", PhotoKind), name="kind"),)


class DisputeParty(Model):
    """A party to a dispute, by role (3-2-301 住户, 楼上住户, 商户). The name, when given,
    is for those who run the project only; every other page shows the role."""

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("rectify_project.id"), index=True)
    role: Mapped[str] = mapped_column(String(60))
    household_id: Mapped[int | None] = mapped_column(ForeignKey("household.id"))
    name: Mapped[str] = mapped_column(String(50), default="")
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)


class Volunteer(Model):
    """Someone who gave time to a volunteer project; optionally an account or a home."""

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("rectify_project.id"), index=True)
    name: Mapped[str] = mapped_column(String(50))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    household_id: Mapped[int | None] = mapped_column(ForeignKey("household.id"))
    added_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)

    __table_args__ = (UniqueConstraint("project_id", "name"),)


class VolunteerSession(Model):
    """Time a volunteer gave on a day, in minutes."""

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("rectify_project.id"), index=True)
    volunteer_id: Mapped[int] = mapped_column(ForeignKey("volunteer.id"), index=True)
    on: Mapped[date]
    minutes: Mapped[int]
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    request_key: Mapped[str] = mapped_column(String(64), unique=True)

    volunteer: Mapped[Volunteer] = relationship()

    __table_args__ = (CheckConstraint("minutes BETWEEN 1 AND 1440", name="minutes"),)


# --- inspections ------------------------------------------------------------------------------


class InspectionItem(Model):
    """An item of the subdistrict's inspection checklist; retired, never deleted."""

    id: Mapped[int] = mapped_column(primary_key=True)
    subdistrict_id: Mapped[int] = mapped_column(ForeignKey("subdistrict.id"), index=True)
    text: Mapped[str] = mapped_column(String(100))
    fix_days: Mapped[int]  # the default deadline of the problem a failed item raises
    # The kind of problem a failed item raises (None: the subdistrict's first kind).
    kind_id: Mapped[int | None] = mapped_column(ForeignKey("problem_kind.id"))
    position: Mapped[int] = mapped_column(default=0)
    retired: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)

    __table_args__ = (CheckConstraint("fix_days BETWEEN 1 AND 365", name="fix_days"),)


class Inspection(Model):
    """A visit to a pilot compound (督导检查)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    compound_id: Mapped[int] = mapped_column(ForeignKey("compound.id"), index=True)
    pilot_id: Mapped[int] = mapped_column(ForeignKey("pilot.id"), index=True)
    visited_on: Mapped[date]
    inspector_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    # Who signs for the compound: the committee's or the branch's representative.
    counterpart: Mapped[str] = mapped_column(String(60), default="")
    note: Mapped[str] = mapped_column(String(500), default="")
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    request_key: Mapped[str] = mapped_column(String(64), unique=True)
    version: Mapped[int] = mapped_column(default=1)

    compound: Mapped[Compound] = relationship()
    inspector: Mapped[User] = relationship()

    __mapper_args__ = {"version_id_col": version}


class InspectionResult(Model):
    """An item passed or failed on a visit; the item's words and days as they stood."""

    id: Mapped[int] = mapped_column(primary_key=True)
    inspection_id: Mapped[int] = mapped_column(ForeignKey("inspection.id"), index=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("inspection_item.id"))
    text: Mapped[str] = mapped_column(String(100))
    fix_days: Mapped[int]
    passed: Mapped[bool]
    note: Mapped[str] = mapped_column(String(200), default="")
    photo: Mapped[str] = mapped_column(String(60), default="")
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)


class InspectionProblem(Model):
    """The problem a failed item raised when the visit was finished."""

    id: Mapped[int] = mapped_column(primary_key=True)
    inspection_id: Mapped[int] = mapped_column(ForeignKey("inspection.id"), index=True)
    result_id: Mapped[int] = mapped_column(ForeignKey("inspection_result.id"), unique=True)
    problem_id: Mapped[int] = mapped_column(ForeignKey("problem.id"), unique=True)


class RectifyChangeRefused(RuntimeError):
    """A project's step, photo, party or hours, or an inspection's result, was about to be
    changed or deleted: corrections are new rows."""


RECTIFY_LEDGER = (
    RectifyProblem,
    RectifyStep,
    RectifyPhoto,
    DisputeParty,
    VolunteerSession,
    InspectionResult,
    InspectionProblem,
)
RECTIFY_TABLES = tuple(model.__tablename__ for model in RECTIFY_LEDGER)

append_only(*RECTIFY_LEDGER, error=RectifyChangeRefused)

"""Repairs and works: tasks with their timeline and photos, larger works, the facility
register, review and residents' meetings, and the monthly figures of each compound.

A task's status changes only through ``workflow.move`` (the allowed transitions, each by
the roles allowed to make it), and every change leaves a ``RepairEvent`` row: the
timeline is the record. ``RepairTask.version`` is an optimistic lock, so two people
changing one task at once cannot overwrite each other. ``RepairMonth`` keeps per
compound and month the counts the oversight pages read, in step with the events.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .. import clock
from ..appendonly import append_only
from ..auth.models import User
from ..dbtypes import UTCDateTime
from ..extensions import Model
from ..registry.models import Building, Compound, Household, Unit, _in


class Category(StrEnum):
    CLEANING = "cleaning"  # 保洁
    SEPTIC = "septic"  # 化粪池清理
    STREET_LIGHT = "street_light"  # 路灯
    SEWER = "sewer"  # 下水管道
    ROAD = "road"  # 路面硬化
    BUILDING_DOOR = "building_door"  # 楼宇门
    PARKING = "parking"  # 停车位施划
    CAMERA = "camera"  # 监控
    PLUMBING = "plumbing"  # 水暖
    ELECTRICAL = "electrical"  # 电路
    OTHER = "other"


# Working days are not counted apart: residents count calendar days, and so do we.
DEFAULT_TARGET_DAYS: dict[str, int] = {
    Category.CLEANING: 3,
    Category.SEPTIC: 7,
    Category.STREET_LIGHT: 7,
    Category.SEWER: 3,
    Category.ROAD: 60,
    Category.BUILDING_DOOR: 30,
    Category.PARKING: 30,
    Category.CAMERA: 30,
    Category.PLUMBING: 3,
    Category.ELECTRICAL: 2,
    Category.OTHER: 14,
}


class Status(StrEnum):
    REPORTED = "reported"  # 待受理
    ASSIGNED = "assigned"  # 已派单
    IN_PROGRESS = "in_progress"  # 处理中
    DONE = "done"  # 待验收: awaiting the reporter's check
    CLOSED = "closed"  # 已完成
    REJECTED = "rejected"  # 已退回


OPEN = (Status.REPORTED, Status.ASSIGNED, Status.IN_PROGRESS, Status.DONE)
FINISHED = (Status.CLOSED, Status.REJECTED)


class Priority(StrEnum):
    NORMAL = "normal"
    URGENT = "urgent"


class Channel(StrEnum):
    RESIDENT = "resident"  # the resident themself
    ASSISTED = "assisted"  # a unit representative on a resident's behalf
    COMMITTEE = "committee"  # a committee member (or community staff)
    MEETING = "meeting"  # a decision of a review or residents' meeting


class Place(StrEnum):
    PUBLIC = "public"  # stairwell, road, yard: everybody's
    HOME = "home"  # inside one home


class AssigneeKind(StrEnum):
    MEMBER = "member"  # a committee member
    CONTRACTOR = "contractor"  # a firm or craftsman, by name
    STAFF = "staff"  # community staff


class RepairTarget(Model):
    """A subdistrict's target days for a category; missing rows use the defaults."""

    subdistrict_id: Mapped[int] = mapped_column(ForeignKey("subdistrict.id"), primary_key=True)
    category: Mapped[str] = mapped_column(String(20), primary_key=True)
    days: Mapped[int]

    __table_args__ = (
        CheckConstraint("days BETWEEN 1 AND 365", name="days"),
        CheckConstraint(_in("category", Category), name="category"),
    )


class RepairTask(Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    compound_id: Mapped[int] = mapped_column(ForeignKey("compound.id"))
    building_id: Mapped[int | None] = mapped_column(ForeignKey("building.id"))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"), index=True)
    place: Mapped[str] = mapped_column(String(10), default=Place.PUBLIC)
    category: Mapped[str] = mapped_column(String(20))
    description: Mapped[str] = mapped_column(Text)
    priority: Mapped[str] = mapped_column(String(10), default=Priority.NORMAL)
    channel: Mapped[str] = mapped_column(String(10))
    # The person who typed it in; for an assisted report, the representative.
    reported_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    # The home it was reported for (residents and assisted reports): its residents are
    # "the reporter" who checks the work, and see it under "my reports".
    household_id: Mapped[int | None] = mapped_column(ForeignKey("household.id"), index=True)
    resident_name: Mapped[str] = mapped_column(String(50), default="")  # assisted: who asked
    decision_id: Mapped[int | None] = mapped_column(ForeignKey("meeting_decision.id"), index=True)
    status: Mapped[str] = mapped_column(String(12), default=Status.REPORTED)
    assignee_kind: Mapped[str | None] = mapped_column(String(12))
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"), index=True)
    assignee_name: Mapped[str] = mapped_column(String(50), default="")
    reported_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    due_on: Mapped[date]
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # closed or rejected
    reject_reason: Mapped[str] = mapped_column(String(200), default="")
    rating: Mapped[int | None]
    rating_comment: Mapped[str] = mapped_column(String(200), default="")
    version: Mapped[int] = mapped_column(default=1)
    # The report form's one-time key: the same form sent twice makes one task.
    request_key: Mapped[str | None] = mapped_column(String(64), unique=True)

    compound: Mapped[Compound] = relationship()
    building: Mapped[Building | None] = relationship()
    unit: Mapped[Unit | None] = relationship()
    household: Mapped[Household | None] = relationship()
    reported_by: Mapped[User] = relationship(foreign_keys=[reported_by_id])
    assignee: Mapped[User | None] = relationship(foreign_keys=[assignee_id])
    decision: Mapped[MeetingDecision | None] = relationship(back_populates="tasks")
    events: Mapped[list[RepairEvent]] = relationship(
        back_populates="task", order_by="RepairEvent.id"
    )
    photos: Mapped[list[RepairPhoto]] = relationship(
        back_populates="task", order_by="RepairPhoto.id"
    )

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        Index("ix_repair_task_compound_status", "compound_id", "status"),
        Index("ix_repair_task_compound_finished", "compound_id", "finished_at"),
        CheckConstraint(_in("status", Status), name="status"),
        CheckConstraint(_in("category", Category), name="category"),
        CheckConstraint(_in("channel", Channel), name="channel"),
        CheckConstraint(_in("place", Place), name="place"),
        CheckConstraint("rating IS NULL OR rating BETWEEN 1 AND 5", name="rating"),
    )

    @property
    def is_open(self) -> bool:
        return self.status in OPEN


class RepairEvent(Model):
    """One line of a task's timeline. Written once, never changed."""

    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("repair_task.id"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    actor_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    # Empty for events that change no status (a rating, a reassignment note).
    from_status: Mapped[str] = mapped_column(String(12), default="")
    to_status: Mapped[str] = mapped_column(String(12))
    kind: Mapped[str] = mapped_column(String(12))  # see workflow.EventKind
    note: Mapped[str] = mapped_column(String(200), default="")
    # On a closing event: the due date it was measured against.
    due_on: Mapped[date | None]

    task: Mapped[RepairTask] = relationship(back_populates="events")
    # Loaded with the event: a timeline names its actors, one query for the whole of it.
    actor: Mapped[User] = relationship(lazy="joined", innerjoin=True)


class PhotoStage(StrEnum):
    REPORT = "report"
    AFTER = "after"  # the work done
    BEFORE = "before"  # works only


class RepairPhoto(Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int | None] = mapped_column(ForeignKey("repair_task.id"), index=True)
    work_id: Mapped[int | None] = mapped_column(ForeignKey("work.id"), index=True)
    stage: Mapped[str] = mapped_column(String(10))
    file: Mapped[str] = mapped_column(String(60))
    uploaded_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)

    task: Mapped[RepairTask | None] = relationship(back_populates="photos")
    work: Mapped[Work | None] = relationship(back_populates="photos")

    __table_args__ = (
        CheckConstraint("(task_id IS NULL) <> (work_id IS NULL)", name="owner"),
        CheckConstraint(_in("stage", PhotoStage), name="stage"),
    )


class RepairMonth(Model):
    """A compound's task counts for one month, kept in step with the events.

    Open at the end of a month = everything reported or reopened up to it, less everything
    closed or rejected up to it. ``queries.check_months`` recounts them from the events.
    """

    compound_id: Mapped[int] = mapped_column(ForeignKey("compound.id"), primary_key=True)
    month: Mapped[date] = mapped_column(primary_key=True)
    reported: Mapped[int] = mapped_column(default=0)
    reopened: Mapped[int] = mapped_column(default=0)
    closed: Mapped[int] = mapped_column(default=0)
    rejected: Mapped[int] = mapped_column(default=0)
    closed_in_target: Mapped[int] = mapped_column(default=0)
    close_days: Mapped[int] = mapped_column(default=0)  # summed days from report to close


# --- works and facilities ---------------------------------------------------------------------


class WorkKind(StrEnum):
    ROAD = "road"  # 路面硬化
    BUILDING_DOOR = "building_door"  # 楼宇门
    PARKING = "parking"  # 停车位施划
    CAMERA = "camera"  # 监控安装
    STREET_LIGHT = "street_light"
    CHARGING = "charging"  # 充电桩
    SEWER = "sewer"  # 管网改造
    OTHER = "other"


class Funding(StrEnum):
    FEES = "fees"  # the area's fee balance
    MAINTENANCE_FUND = "maintenance_fund"  # 专项维修资金 application
    COMMUNITY = "community"  # 社区经费
    GOVERNMENT = "government"  # 老旧小区改造资金


class WorkStatus(StrEnum):
    PLANNED = "planned"
    UNDERWAY = "underway"
    COMPLETED = "completed"


class Work(Model):
    """A larger project: hardening a road, fitting building doors, installing cameras."""

    id: Mapped[int] = mapped_column(primary_key=True)
    compound_id: Mapped[int] = mapped_column(ForeignKey("compound.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    title: Mapped[str] = mapped_column(String(60))
    description: Mapped[str] = mapped_column(Text, default="")
    budget_fen: Mapped[int]
    funding: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(12), default=WorkStatus.PLANNED)
    planned_on: Mapped[date]
    started_on: Mapped[date | None]
    completed_on: Mapped[date | None]
    # What it cost, as booked in the fee ledger (an expense of the compound's area).
    expense_id: Mapped[int | None] = mapped_column(ForeignKey("expense.id"), unique=True)
    decision_id: Mapped[int | None] = mapped_column(ForeignKey("meeting_decision.id"))
    created_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    version: Mapped[int] = mapped_column(default=1)

    compound: Mapped[Compound] = relationship()
    expense: Mapped[Any] = relationship("Expense")
    photos: Mapped[list[RepairPhoto]] = relationship(
        back_populates="work", order_by="RepairPhoto.id"
    )
    facilities: Mapped[list[Facility]] = relationship(back_populates="work")

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        CheckConstraint("budget_fen >= 0", name="budget"),
        CheckConstraint(_in("kind", WorkKind), name="kind"),
        CheckConstraint(_in("funding", Funding), name="funding"),
        CheckConstraint(_in("status", WorkStatus), name="status"),
    )


class FacilityKind(StrEnum):
    CAMERA = "camera"  # 监控摄像头
    CHARGING_PILE = "charging_pile"  # 充电桩
    STREET_LIGHT = "street_light"  # 路灯
    BUILDING_DOOR = "building_door"  # 楼宇门
    PARKING_SPACE = "parking_space"  # 停车位
    OTHER = "other"


class Facility(Model):
    """A line of a compound's facility register: so many of a kind, where, since when."""

    id: Mapped[int] = mapped_column(primary_key=True)
    compound_id: Mapped[int] = mapped_column(ForeignKey("compound.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    count: Mapped[int]
    location: Mapped[str] = mapped_column(String(60), default="")
    installed_on: Mapped[date]
    removed_on: Mapped[date | None]
    work_id: Mapped[int | None] = mapped_column(ForeignKey("work.id"), index=True)
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))

    work: Mapped[Work | None] = relationship(back_populates="facilities")

    __table_args__ = (
        CheckConstraint("count BETWEEN 1 AND 10000", name="count"),
        CheckConstraint(_in("kind", FacilityKind), name="kind"),
    )


# --- meetings -----------------------------------------------------------------------------------


class MeetingKind(StrEnum):
    REVIEW = "review"  # 会诊: the party branch's periodic review (branch-managed compounds)
    RESIDENTS = "residents"  # 座谈会: a residents' meeting (any model)


class Meeting(Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    compound_id: Mapped[int] = mapped_column(ForeignKey("compound.id"), index=True)
    kind: Mapped[str] = mapped_column(String(10))
    held_on: Mapped[date]
    attendees: Mapped[str] = mapped_column(String(500))
    attendee_count: Mapped[int]
    problems: Mapped[str] = mapped_column(Text)
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)

    compound: Mapped[Compound] = relationship()
    decisions: Mapped[list[MeetingDecision]] = relationship(
        back_populates="meeting", order_by="MeetingDecision.id"
    )

    __table_args__ = (
        CheckConstraint(_in("kind", MeetingKind), name="kind"),
        CheckConstraint("attendee_count BETWEEN 1 AND 10000", name="attendee_count"),
    )


class MeetingDecision(Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meeting.id"), index=True)
    text: Mapped[str] = mapped_column(String(300))

    meeting: Mapped[Meeting] = relationship(back_populates="decisions")
    tasks: Mapped[list[RepairTask]] = relationship(
        back_populates="decision", order_by="RepairTask.id"
    )


class TimelineChangeRefused(RuntimeError):
    """A timeline event or a meeting's record was about to be changed or deleted."""


append_only(RepairEvent, error=TimelineChangeRefused)

"""A notice, its attachments, who has been told (and who acknowledged), and comments.

A notice has one scope: a management area, or one compound, building or unit in it. The
scope is kept as the four ids down the tree (the lower ones empty), so "does this notice
reach that home" is a plain comparison, in Python and in SQL.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from enum import StrEnum

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .. import clock
from ..auth.models import User
from ..dbtypes import UTCDateTime
from ..extensions import Model
from ..registry.models import ManagementArea, _in
from ..votes.models import PLACES


class NoticeKind(StrEnum):
    NOTICE = "notice"  # 通知
    PUBLICITY = "publicity"  # 公示: residents in scope may comment until the period closes
    URGENT = "urgent"  # 紧急: water or power cut, safety
    EVENT = "event"  # 活动


class FileKind(StrEnum):
    PHOTO = "photo"  # re-encoded JPEG (uploads.save_photo)
    PDF = "pdf"  # checked by its first bytes, stored under a random name


class TellHow(StrEnum):
    OPENED = "opened"  # one of the household's accounts opened the notice
    IN_PERSON = "in_person"  # told at the door by the representative, committee or staff
    PHONE = "phone"  # told by phone


class Notice(Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    area_id: Mapped[int] = mapped_column(ForeignKey("management_area.id"))
    compound_id: Mapped[int | None] = mapped_column(ForeignKey("compound.id"))
    building_id: Mapped[int | None] = mapped_column(ForeignKey("building.id"))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"))
    scope_kind: Mapped[str] = mapped_column(String(10))
    scope_label: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(10))
    title: Mapped[str] = mapped_column(String(100))
    # Plain text, one entry per line; "" separates paragraphs. Never HTML.
    body: Mapped[list[str]] = mapped_column(JSON, default=list)
    # A page of the app the notice points to (automatic notices only: a schedule, a vote).
    link: Mapped[str] = mapped_column(String(200), default="")
    publish_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # 公示: comments are taken through this day (Asia/Shanghai).
    comments_until: Mapped[date | None]
    pinned: Mapped[bool] = mapped_column(default=False)
    ask_ack: Mapped[bool] = mapped_column(default=False)
    posted_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    # When residents were sent their messages (set once: publishing is idempotent).
    announced_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    withdrawn_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    withdraw_reason: Mapped[str] = mapped_column(String(200), default="")
    # Automatic notices: what posted them (``fee_schedule:12``), so each is posted once.
    source: Mapped[str | None] = mapped_column(String(60), unique=True)

    area: Mapped[ManagementArea] = relationship()
    posted_by: Mapped[User | None] = relationship(foreign_keys=[posted_by_id])
    withdrawn_by: Mapped[User | None] = relationship(foreign_keys=[withdrawn_by_id])
    files: Mapped[list[NoticeFile]] = relationship(
        back_populates="notice", order_by="NoticeFile.id"
    )

    __table_args__ = (
        CheckConstraint(_in("kind", NoticeKind), name="kind"),
        CheckConstraint(_in("scope_kind", PLACES), name="scope_kind"),
        CheckConstraint(
            "(kind = 'publicity') = (comments_until IS NOT NULL)", name="comment_period"
        ),
        CheckConstraint("expires_at IS NULL OR expires_at > publish_at", name="expiry"),
        CheckConstraint(
            "withdrawn_at IS NULL OR (withdrawn_by_id IS NOT NULL AND withdraw_reason <> '')",
            name="withdrawal",
        ),
        CheckConstraint("unit_id IS NULL OR building_id IS NOT NULL", name="unit_in_building"),
        CheckConstraint(
            "building_id IS NULL OR compound_id IS NOT NULL", name="building_in_compound"
        ),
        Index("ix_notice_area_publish", "area_id", "publish_at"),
        Index("ix_notice_compound", "compound_id"),
        Index("ix_notice_due", "announced_at", "publish_at"),
    )

    @property
    def withdrawn(self) -> bool:
        return self.withdrawn_at is not None

    @property
    def urgent(self) -> bool:
        return self.kind == NoticeKind.URGENT

    def published(self, now: datetime | None = None) -> bool:
        return self.publish_at <= (now or clock.now())

    def expired(self, now: datetime | None = None) -> bool:
        return self.expires_at is not None and self.expires_at <= (now or clock.now())

    @property
    def last_day(self) -> date | None:
        """The last day it stays up (Asia/Shanghai), as chosen on the form: ``expires_at``
        is 00:00 of the day after, which pages must not show as the day it ends."""
        if self.expires_at is None:
            return None
        return clock.local_date(self.expires_at - timedelta(seconds=1))

    def current(self, now: datetime | None = None) -> bool:
        """Published, not expired and not withdrawn: what residents see in the list."""
        now = now or clock.now()
        return self.published(now) and not self.expired(now) and not self.withdrawn


class NoticeFile(Model):
    """A photo or PDF attached to a notice, stored under a random name."""

    id: Mapped[int] = mapped_column(primary_key=True)
    notice_id: Mapped[int] = mapped_column(ForeignKey("notice.id"), index=True)
    kind: Mapped[str] = mapped_column(String(8))
    name: Mapped[str] = mapped_column(String(60))

    notice: Mapped[Notice] = relationship(back_populates="files")

    __table_args__ = (CheckConstraint(_in("kind", FileKind), name="kind"),)


class NoticeRead(Model):
    """A household that has been told: opened by one of its accounts, or told at the door or
    by phone (then ``by`` is who told them); and, if the notice asks, its acknowledgement."""

    id: Mapped[int] = mapped_column(primary_key=True)
    notice_id: Mapped[int] = mapped_column(ForeignKey("notice.id"))
    household_id: Mapped[int] = mapped_column(ForeignKey("household.id"), index=True)
    how: Mapped[str] = mapped_column(String(10))
    by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    acked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    acked_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))

    by: Mapped[User] = relationship(foreign_keys=[by_id])

    __table_args__ = (
        UniqueConstraint("notice_id", "household_id"),
        CheckConstraint(_in("how", TellHow), name="how"),
        CheckConstraint("(acked_at IS NULL) = (acked_by_id IS NULL)", name="ack"),
    )


class NoticeComment(Model):
    """A resident's comment on a 公示, from their home in the notice's scope."""

    id: Mapped[int] = mapped_column(primary_key=True)
    notice_id: Mapped[int] = mapped_column(ForeignKey("notice.id"), index=True)
    household_id: Mapped[int] = mapped_column(ForeignKey("household.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    text: Mapped[str] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)

    notice: Mapped[Notice] = relationship()
    user: Mapped[User] = relationship()

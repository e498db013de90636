"""Property committees (物管会) and their members."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .. import clock
from ..auth.models import User
from ..dbtypes import UTCDateTime
from ..extensions import Model
from ..registry.models import ManagementArea, _in


class Position(StrEnum):
    CHAIR = "chair"
    VICE_CHAIR = "vice_chair"
    TREASURER = "treasurer"
    MEMBER = "member"


class Background(StrEnum):
    PARTY_MEMBER = "party_member"
    RETIRED_CADRE = "retired_cadre"
    GRID_WORKER = "grid_worker"
    KEEN_RESIDENT = "keen_resident"


class Committee(Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    area_id: Mapped[int] = mapped_column(ForeignKey("management_area.id"), unique=True)
    name: Mapped[str] = mapped_column(String(50))
    formed_on: Mapped[date]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)

    area: Mapped[ManagementArea] = relationship()
    members: Mapped[list[CommitteeMember]] = relationship(
        back_populates="committee", order_by="CommitteeMember.id"
    )


class CommitteeMember(Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    committee_id: Mapped[int] = mapped_column(ForeignKey("committee.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    position: Mapped[str] = mapped_column(String(20))
    background: Mapped[str] = mapped_column(String(20))
    term_start: Mapped[date]
    term_end: Mapped[date]

    committee: Mapped[Committee] = relationship(back_populates="members")
    user: Mapped[User] = relationship()

    # One person may hold several seats over the years (re-election after a break), but
    # never two at once: the service refuses overlapping terms.
    __table_args__ = (
        CheckConstraint(_in("position", Position), name="position"),
        CheckConstraint(_in("background", Background), name="background"),
        CheckConstraint("term_end >= term_start", name="term"),
    )

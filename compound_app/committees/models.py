"""Property committees (物管会) and their members."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, ForeignKey, String, true
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


class MemberKind(StrEnum):
    """Whom a member sits for: an office of the local government, or the owners."""

    SUBDISTRICT = "subdistrict"  # 街道
    RESIDENTS_COMMITTEE = "residents_committee"  # 居委会
    POLICE = "police"  # 派出所
    HOUSING = "housing"  # 房管
    OWNER = "owner"  # 业主代表


class ChairAppointment(StrEnum):
    """How a committee's chair came to the seat."""

    NAMED = "named"  # 街道指定
    ELECTED = "elected"  # 推选


class Committee(Model):
    """A temporary property management committee (物管会), made up under the local
    regulation until the owners elect their own committee."""

    id: Mapped[int] = mapped_column(primary_key=True)
    area_id: Mapped[int] = mapped_column(ForeignKey("management_area.id"), unique=True)
    name: Mapped[str] = mapped_column(String(50))
    formed_on: Mapped[date]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    # How the chair was appointed ("" until recorded), by whom and on which day.
    chair_appointed: Mapped[str] = mapped_column(String(20), default="", server_default="")
    chair_appointed_by: Mapped[str] = mapped_column(String(50), default="", server_default="")
    chair_appointed_on: Mapped[date | None]

    area: Mapped[ManagementArea] = relationship()
    members: Mapped[list[CommitteeMember]] = relationship(
        back_populates="committee", order_by="CommitteeMember.id"
    )

    __table_args__ = (
        CheckConstraint(
            f"chair_appointed = '' OR {_in('chair_appointed', ChairAppointment)}",
            name="chair_appointed",
        ),
    )


class CommitteeMember(Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    committee_id: Mapped[int] = mapped_column(ForeignKey("committee.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    position: Mapped[str] = mapped_column(String(20))
    background: Mapped[str] = mapped_column(String(20))
    kind: Mapped[str] = mapped_column(
        String(20), default=MemberKind.OWNER, server_default=MemberKind.OWNER.value
    )
    term_start: Mapped[date]
    term_end: Mapped[date]

    committee: Mapped[Committee] = relationship(back_populates="members")
    user: Mapped[User] = relationship()

    # One person may hold several seats over the years (re-election after a break), but
    # never two at once: the service refuses overlapping terms.
    __table_args__ = (
        CheckConstraint(_in("position", Position), name="position"),
        CheckConstraint(_in("background", Background), name="background"),
        CheckConstraint(_in("kind", MemberKind), name="kind"),
        CheckConstraint("term_end >= term_start", name="term"),
    )


class CommitteeRules(Model):
    """How a subdistrict's committees must be made up (its local regulation).

    A subdistrict without a row has the defaults (``committees.service.DEFAULT_RULES``);
    the admin's first save writes the row.
    """

    subdistrict_id: Mapped[int] = mapped_column(ForeignKey("subdistrict.id"), primary_key=True)
    min_members: Mapped[int] = mapped_column(default=5)
    max_members: Mapped[int] = mapped_column(default=11)
    odd_members: Mapped[bool] = mapped_column(default=True, server_default=true())
    owners_rule: Mapped[bool] = mapped_column(default=True, server_default=true())
    owners_pct: Mapped[int] = mapped_column(default=50)  # owner representatives, at least
    chair_appointment: Mapped[str] = mapped_column(String(20), default=ChairAppointment.NAMED)
    max_term_years: Mapped[int] = mapped_column(default=3)

    __table_args__ = (
        CheckConstraint("min_members BETWEEN 1 AND 99", name="min_members"),
        CheckConstraint("max_members BETWEEN 1 AND 99", name="max_members"),
        CheckConstraint("min_members <= max_members", name="members_range"),
        CheckConstraint("owners_pct BETWEEN 1 AND 100", name="owners_pct"),
        CheckConstraint("max_term_years BETWEEN 1 AND 10", name="max_term_years"),
        CheckConstraint(_in("chair_appointment", ChairAppointment), name="chair_appointment"),
    )

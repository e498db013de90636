"""The organisation tree: subdistrict → community → compound → building → unit → household."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .. import clock
from ..dbtypes import UTCDateTime
from ..extensions import Model

if TYPE_CHECKING:
    from ..auth.models import User


def _in(column: str, enum: Iterable[StrEnum]) -> str:
    return f"{column} IN ({', '.join(repr(m.value) for m in enum)})"


class ManagementModel(StrEnum):
    UNMANAGED = "unmanaged"
    CONTIGUOUS = "contiguous"
    PARTY_BRANCH = "party_branch"
    TRUSTEESHIP = "trusteeship"


class Occupancy(StrEnum):
    OWNER_OCCUPIED = "owner_occupied"
    RENTED = "rented"
    VACANT = "vacant"


class Relation(StrEnum):
    OWNER = "owner"
    CO_OWNER = "co_owner"
    TENANT = "tenant"
    FAMILY = "family"


class PartyOrgKind(StrEnum):
    BRANCH = "branch"  # 小区党支部
    GROUP = "group"  # 小区党小组


class PilotStage(StrEnum):
    SELECTED = "selected"
    CONSULTING = "consulting"
    ORGANISED = "organised"
    FEES_STARTED = "fees_started"
    SELF_GOVERNING = "self_governing"
    PAUSED = "paused"


class Subdistrict(Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(50), unique=True)
    city: Mapped[str] = mapped_column(String(50), default="")

    communities: Mapped[list[Community]] = relationship(
        back_populates="subdistrict", order_by="Community.name"
    )


class Community(Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    subdistrict_id: Mapped[int] = mapped_column(ForeignKey("subdistrict.id"), index=True)
    name: Mapped[str] = mapped_column(String(50))
    code: Mapped[str] = mapped_column(String(10), unique=True)

    subdistrict: Mapped[Subdistrict] = relationship(back_populates="communities")
    compounds: Mapped[list[Compound]] = relationship(
        back_populates="community", order_by="Compound.name"
    )

    __table_args__ = (UniqueConstraint("subdistrict_id", "name"),)


class ManagementArea(Model):
    """物业管理区域: one or more compounds run by one committee under one fee schedule."""

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("community.id"), index=True)
    name: Mapped[str] = mapped_column(String(50))
    # Prefix of the area's receipt numbers, e.g. LC01-2026-000123.
    code: Mapped[str] = mapped_column(String(12), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)

    community: Mapped[Community] = relationship()
    compounds: Mapped[list[Compound]] = relationship(
        back_populates="area", order_by="Compound.name"
    )


class Compound(Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("community.id"), index=True)
    area_id: Mapped[int] = mapped_column(ForeignKey("management_area.id"), index=True)
    name: Mapped[str] = mapped_column(String(50))
    address: Mapped[str] = mapped_column(String(100), default="")
    model: Mapped[str] = mapped_column(String(20), default=ManagementModel.UNMANAGED)
    model_since: Mapped[date | None]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)

    community: Mapped[Community] = relationship(back_populates="compounds")
    area: Mapped[ManagementArea] = relationship(back_populates="compounds")
    buildings: Mapped[list[Building]] = relationship(
        back_populates="compound", order_by="(Building.sort_key, Building.name)"
    )
    pilot: Mapped[Pilot | None] = relationship(back_populates="compound", uselist=False)
    party_organisation: Mapped[PartyOrganisation | None] = relationship(
        back_populates="compound", uselist=False
    )
    model_changes: Mapped[list[ModelChange]] = relationship(
        back_populates="compound", order_by="ModelChange.id.desc()"
    )

    __table_args__ = (
        UniqueConstraint("community_id", "name"),
        CheckConstraint(_in("model", ManagementModel), name="model"),
    )


class ModelChange(Model):
    """A dated change of a compound's management model; the compound's history."""

    id: Mapped[int] = mapped_column(primary_key=True)
    compound_id: Mapped[int] = mapped_column(ForeignKey("compound.id"), index=True)
    from_model: Mapped[str] = mapped_column(String(20))
    to_model: Mapped[str] = mapped_column(String(20))
    effective_on: Mapped[date]
    reason: Mapped[str] = mapped_column(String(200), default="")
    changed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)

    compound: Mapped[Compound] = relationship(back_populates="model_changes")
    changed_by: Mapped[User | None] = relationship()


class PartyOrganisation(Model):
    """The compound party branch (党支部) or party group (党小组)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    compound_id: Mapped[int] = mapped_column(ForeignKey("compound.id"), unique=True)
    kind: Mapped[str] = mapped_column(String(10))
    name: Mapped[str] = mapped_column(String(50))
    secretary_name: Mapped[str] = mapped_column(String(50))
    member_count: Mapped[int] = mapped_column(default=0)
    founded_on: Mapped[date | None]

    compound: Mapped[Compound] = relationship(back_populates="party_organisation")

    __table_args__ = (
        CheckConstraint(_in("kind", PartyOrgKind), name="kind"),
        CheckConstraint("member_count >= 0", name="member_count"),
    )


class Pilot(Model):
    """A compound chosen by the subdistrict to become self-managed."""

    id: Mapped[int] = mapped_column(primary_key=True)
    compound_id: Mapped[int] = mapped_column(ForeignKey("compound.id"), unique=True)
    selected_on: Mapped[date]
    stage: Mapped[str] = mapped_column(String(20), default=PilotStage.SELECTED)
    stage_since: Mapped[date]
    # The plan (一小区一方案): the model it is to follow, what the service covers, the fee
    # standard in words (the schedule itself is the area's), and who organises it.
    model: Mapped[str] = mapped_column(String(20), default=ManagementModel.CONTIGUOUS)
    service_scope: Mapped[str] = mapped_column(Text, default="")
    fee_note: Mapped[str] = mapped_column(String(200), default="")
    organisation: Mapped[str] = mapped_column(String(20), default="committee")

    compound: Mapped[Compound] = relationship(back_populates="pilot")

    __table_args__ = (
        CheckConstraint(_in("stage", PilotStage), name="stage"),
        CheckConstraint("model IN ('contiguous', 'party_branch', 'trusteeship')", name="model"),
    )


class Building(Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    compound_id: Mapped[int] = mapped_column(ForeignKey("compound.id"), index=True)
    name: Mapped[str] = mapped_column(String(20))
    sort_key: Mapped[int] = mapped_column(default=0)

    compound: Mapped[Compound] = relationship(back_populates="buildings")
    units: Mapped[list[Unit]] = relationship(
        back_populates="building", order_by="(Unit.sort_key, Unit.name)"
    )

    __table_args__ = (UniqueConstraint("compound_id", "name"),)


class Unit(Model):
    """单元: one stairwell of a building."""

    id: Mapped[int] = mapped_column(primary_key=True)
    building_id: Mapped[int] = mapped_column(ForeignKey("building.id"), index=True)
    name: Mapped[str] = mapped_column(String(20))
    sort_key: Mapped[int] = mapped_column(default=0)

    building: Mapped[Building] = relationship(back_populates="units")
    households: Mapped[list[Household]] = relationship(
        back_populates="unit", order_by="(Household.sort_key, Household.room)"
    )

    __table_args__ = (UniqueConstraint("building_id", "name"),)


class Household(Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), index=True)
    room: Mapped[str] = mapped_column(String(20))
    sort_key: Mapped[int] = mapped_column(default=0)
    # Exclusive area in hundredths of a square metre (1 dm²), so sums and fee maths stay exact.
    area_dm2: Mapped[int]
    occupancy: Mapped[str] = mapped_column(String(20), default=Occupancy.OWNER_OCCUPIED)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)

    unit: Mapped[Unit] = relationship(back_populates="households")
    occupants: Mapped[list[Occupant]] = relationship(
        back_populates="household", order_by="Occupant.id"
    )

    __table_args__ = (
        UniqueConstraint("unit_id", "room"),
        CheckConstraint("area_dm2 > 0", name="area_positive"),
        CheckConstraint(_in("occupancy", Occupancy), name="occupancy"),
    )


class Consent(StrEnum):
    """How a resident's consent to keep and use their mobile was obtained."""

    PAPER = "paper"  # a signed paper form, kept by the committee
    IN_PERSON = "in_person"  # said to a representative or staff member, who recorded it
    ONLINE = "online"  # given by the resident in the app


class Occupant(Model):
    """A person living in or owning a household: name and mobile only, nothing more."""

    id: Mapped[int] = mapped_column(primary_key=True)
    household_id: Mapped[int] = mapped_column(ForeignKey("household.id"), index=True)
    name: Mapped[str] = mapped_column(String(50))
    mobile: Mapped[str | None] = mapped_column(String(11), index=True)
    relation: Mapped[str] = mapped_column(String(10))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"), index=True)
    # Consent to keep and use the mobile (个人信息保护法): how and when it was given, and
    # who recorded it. Without it the mobile is kept for the committee's own list but the
    # app sends it nothing.
    consent_how: Mapped[str | None] = mapped_column(String(10))
    consent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    consent_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    # When consent was last withdrawn (the columns above are then empty): a roster file
    # cannot record consent given before it, and a form only consent given after it.
    consent_withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    household: Mapped[Household] = relationship(back_populates="occupants")

    __table_args__ = (
        CheckConstraint(_in("relation", Relation), name="relation"),
        CheckConstraint(
            f"consent_how IS NULL OR ({_in('consent_how', Consent)} AND consent_at IS NOT NULL)",
            name="consent",
        ),
        Index("ix_occupant_household_mobile", "household_id", "mobile", unique=True),
    )

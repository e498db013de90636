"""Consultations of residents (征求意见) and owners' votes under Civil Code art. 278.

A vote is drafted, announced (公告: its opening and end dates, the counting rules and the
area's 议事规则 options frozen on it), opened no earlier than the announcement period of
the subdistrict's ``VoteRules`` allows, and closed at its end date or earlier. A vote's
electorate is fixed when it opens: one ``Elector`` per owner (one person per
exclusive unit, except that an owner of several units is one person with their areas
summed; a co-owned unit votes through its designated co-owner), each holding the homes
it votes for. Ballots are append-only; an elector's latest ballot counts, unless the
committee voided it (a paper ballot entered by mistake: a ``BallotVoid``, append-only
too), or a second person corrected it (a ``BallotCorrection`` pointing at the new ballot).
Closing freezes the counts on the vote itself; its tellers (``Teller``: 监票人 and 计票人,
owners who sit on no committee) are named on the result.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
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
from ..registry.models import Household, ManagementArea, _in


class ScopeKind(StrEnum):
    AREA = "area"
    COMPOUND = "compound"
    BUILDING = "building"
    UNIT = "unit"
    COMPOUNDS = "compounds"  # a chosen set of one area's compounds (``VoteCompound``)


# The places a notice or a consultation is put to: one area, compound, building or unit.
PLACES = (ScopeKind.AREA, ScopeKind.COMPOUND, ScopeKind.BUILDING, ScopeKind.UNIT)


class Matter(StrEnum):
    """Art. 278 matters; the last three need three quarters, the rest more than half."""

    RULES = "rules"  # 制定和修改业主大会议事规则、管理规约
    COMMITTEE = "committee"  # 选举业主委员会或者更换业主委员会成员
    MANAGER = "manager"  # 选聘和解聘物业服务企业或者其他管理人
    USE_FUND = "use_fund"  # 使用建筑物及其附属设施的维修资金
    OTHER = "other"  # 有关共有和共同管理权利的其他重大事项
    RAISE_FUND = "raise_fund"  # 筹集建筑物及其附属设施的维修资金
    REBUILD = "rebuild"  # 改建、重建建筑物及其附属设施
    CHANGE_USE = "change_use"  # 改变共有部分的用途或者利用共有部分从事经营活动


SPECIAL = (Matter.RAISE_FUND, Matter.REBUILD, Matter.CHANGE_USE)


class VoteStatus(StrEnum):
    DRAFT = "draft"
    OPEN = "open"
    CLOSED = "closed"


class Choice(StrEnum):
    YES = "yes"
    NO = "no"
    ABSTAIN = "abstain"


class BallotChannel(StrEnum):
    ONLINE = "online"  # the owner, signed in
    PAPER = "paper"  # a paper ballot collected door to door, entered with its photo


class Vote(Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    area_id: Mapped[int] = mapped_column(ForeignKey("management_area.id"), index=True)
    scope_kind: Mapped[str] = mapped_column(String(10))
    scope_id: Mapped[int]
    scope_label: Mapped[str] = mapped_column(String(100))
    matter: Mapped[str] = mapped_column(String(12))
    title: Mapped[str] = mapped_column(String(100))
    text: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(8), default=VoteStatus.DRAFT)
    closes_on: Mapped[date]
    created_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    opened_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    # Frozen at closing: the electorate's totals, the counts and the result.
    total_area_dm2: Mapped[int] = mapped_column(BigInteger, default=0)
    total_heads: Mapped[int] = mapped_column(default=0)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    passed: Mapped[bool | None]
    # The announcement (公告): its day, the day the vote may open, the area's 议事规则
    # options as they stood then, and the homes asked where not every home of the scope
    # is (a maintenance fund application: the homes bearing its cost).
    announced_on: Mapped[date | None]
    opens_on: Mapped[date | None]
    rules: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    only_homes: Mapped[list[int] | None] = mapped_column(JSON)
    # Closed before its end date while the outcome could still change: why.
    close_reason: Mapped[str] = mapped_column(String(500), default="", server_default="")

    area: Mapped[ManagementArea] = relationship()
    created_by: Mapped[User] = relationship(foreign_keys=[created_by_id])
    electors: Mapped[list[Elector]] = relationship(back_populates="vote", order_by="Elector.id")

    __table_args__ = (
        CheckConstraint(_in("scope_kind", ScopeKind), name="scope_kind"),
        CheckConstraint(_in("matter", Matter), name="matter"),
        CheckConstraint(_in("status", VoteStatus), name="status"),
    )

    @property
    def special(self) -> bool:
        return self.matter in SPECIAL

    @property
    def announced(self) -> bool:
        return self.announced_on is not None


class VoteCompound(Model):
    """One of the compounds a chosen-compounds vote is put to (all of the vote's area)."""

    vote_id: Mapped[int] = mapped_column(ForeignKey("vote.id"), primary_key=True)
    compound_id: Mapped[int] = mapped_column(ForeignKey("compound.id"), primary_key=True)


class VoteRules(Model):
    """A subdistrict's rules for owners' votes: how long before opening a vote is announced,
    and how many scrutineers (监票人) and counters (计票人) each vote needs."""

    subdistrict_id: Mapped[int] = mapped_column(ForeignKey("subdistrict.id"), primary_key=True)
    announce_days: Mapped[int] = mapped_column(default=15, server_default="15")
    scrutineers: Mapped[int] = mapped_column(default=1, server_default="1")
    counters: Mapped[int] = mapped_column(default=1, server_default="1")

    __table_args__ = (
        CheckConstraint("announce_days BETWEEN 1 AND 90", name="announce_days"),
        CheckConstraint("scrutineers BETWEEN 1 AND 5", name="scrutineers"),
        CheckConstraint("counters BETWEEN 1 AND 5", name="counters"),
    )


class AssemblyRules(Model):
    """The options of an area's 议事规则 (rules of the owners' assembly) the guidance allows,
    each off until the committee turns it on; a vote keeps those of its announcement."""

    area_id: Mapped[int] = mapped_column(ForeignKey("management_area.id"), primary_key=True)
    # 未参与表决的业主计入已表决的多数票: an owner who was told of the vote and did not
    # vote is counted with the majority of those who voted.
    non_voters_follow_majority: Mapped[bool] = mapped_column(default=False)


class TellerRole(StrEnum):
    SCRUTINEER = "scrutineer"  # 监票人
    COUNTER = "counter"  # 计票人


class Teller(Model):
    """An owner who scrutinises (监票) or counts (计票) a vote; never a committee member."""

    id: Mapped[int] = mapped_column(primary_key=True)
    vote_id: Mapped[int] = mapped_column(ForeignKey("vote.id"), index=True)
    role: Mapped[str] = mapped_column(String(10))
    # Empty once the owner has moved out and left the roster: the name and home stay.
    occupant_id: Mapped[int | None] = mapped_column(ForeignKey("occupant.id", ondelete="SET NULL"))
    name: Mapped[str] = mapped_column(String(50))
    home: Mapped[str] = mapped_column(String(100))  # the room, as the notice prints it
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)

    __table_args__ = (
        UniqueConstraint("vote_id", "occupant_id"),
        CheckConstraint(_in("role", TellerRole), name="role"),
    )


class Elector(Model):
    """One owner of the vote's electorate (fixed when the vote opened)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    vote_id: Mapped[int] = mapped_column(ForeignKey("vote.id"), index=True)
    # Who the owner is: their account, else their mobile, else the home's record.
    identity: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(50))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"), index=True)
    area_dm2: Mapped[int] = mapped_column(BigInteger)

    vote: Mapped[Vote] = relationship(back_populates="electors")
    homes: Mapped[list[ElectorHome]] = relationship(
        back_populates="elector", order_by="ElectorHome.id"
    )

    __table_args__ = (UniqueConstraint("vote_id", "identity"),)


class ElectorHome(Model):
    """A home an elector votes for; each home of the electorate belongs to one elector."""

    id: Mapped[int] = mapped_column(primary_key=True)
    vote_id: Mapped[int] = mapped_column(ForeignKey("vote.id"))
    elector_id: Mapped[int] = mapped_column(ForeignKey("elector.id"), index=True)
    household_id: Mapped[int] = mapped_column(ForeignKey("household.id"))
    area_dm2: Mapped[int] = mapped_column(BigInteger)

    vote: Mapped[Vote] = relationship()
    elector: Mapped[Elector] = relationship(back_populates="homes")
    household: Mapped[Household] = relationship()

    __table_args__ = (UniqueConstraint("vote_id", "household_id"),)


class Ballot(Model):
    """A ballot as cast. Never changed; an elector's latest ballot is the one that counts."""

    id: Mapped[int] = mapped_column(primary_key=True)
    vote_id: Mapped[int] = mapped_column(ForeignKey("vote.id"))
    elector_id: Mapped[int] = mapped_column(ForeignKey("elector.id"))
    choice: Mapped[str] = mapped_column(String(8))
    channel: Mapped[str] = mapped_column(String(8))
    entered_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    photo: Mapped[str | None] = mapped_column(String(60))  # the paper ballot, photographed
    cast_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)

    elector: Mapped[Elector] = relationship()
    entered_by: Mapped[User] = relationship()

    __table_args__ = (
        Index("ix_ballot_vote_elector", "vote_id", "elector_id"),
        CheckConstraint(_in("choice", Choice), name="choice"),
        CheckConstraint(_in("channel", BallotChannel), name="channel"),
        CheckConstraint("channel = 'online' OR photo IS NOT NULL", name="paper_photo"),
    )


# --- consultations ----------------------------------------------------------------------------


class Consultation(Model):
    """A question or a plan put to the households of a unit, building, compound or area."""

    id: Mapped[int] = mapped_column(primary_key=True)
    area_id: Mapped[int] = mapped_column(ForeignKey("management_area.id"), index=True)
    scope_kind: Mapped[str] = mapped_column(String(10))
    scope_id: Mapped[int]
    scope_label: Mapped[str] = mapped_column(String(100))
    title: Mapped[str] = mapped_column(String(100))
    text: Mapped[str] = mapped_column(Text)
    options: Mapped[list[str]] = mapped_column(JSON)
    closes_on: Mapped[date]
    closed: Mapped[bool] = mapped_column(default=False)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)

    area: Mapped[ManagementArea] = relationship()

    __table_args__ = (CheckConstraint(_in("scope_kind", PLACES), name="scope_kind"),)


class Answer(Model):
    """A household's answer; a later one from the same home replaces it (kept in audit)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    consultation_id: Mapped[int] = mapped_column(ForeignKey("consultation.id"))
    household_id: Mapped[int] = mapped_column(ForeignKey("household.id"))
    option: Mapped[str] = mapped_column(String(40))
    comment: Mapped[str] = mapped_column(String(500), default="")
    answered_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    # Assisted mode: a representative entered it for this resident.
    resident_name: Mapped[str] = mapped_column(String(50), default="")
    answered_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)

    household: Mapped[Household] = relationship()
    answered_by: Mapped[User] = relationship()

    __table_args__ = (UniqueConstraint("consultation_id", "household_id"),)


class BallotVoid(Model):
    """Cancels a paper ballot entered by mistake, with the reason; the committee's act.

    The ballot stays on record, marked void, and no longer counts: the elector has not
    voted, and may vote again (online through their own account, or on paper).
    """

    id: Mapped[int] = mapped_column(primary_key=True)
    ballot_id: Mapped[int] = mapped_column(ForeignKey("ballot.id"), unique=True)
    reason: Mapped[str] = mapped_column(String(200))
    voided_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    voided_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)

    ballot: Mapped[Ballot] = relationship()
    voided_by: Mapped[User] = relationship()


class BallotCorrection(Model):
    """A paper ballot entered wrongly, superseded by a new one (with the paper's photo and
    the reason) that a second person entered: never the one who entered the wrong ballot.
    Both ballots stay on record; the new one counts."""

    id: Mapped[int] = mapped_column(primary_key=True)
    ballot_id: Mapped[int] = mapped_column(ForeignKey("ballot.id"), unique=True)
    new_ballot_id: Mapped[int] = mapped_column(ForeignKey("ballot.id"), unique=True)
    reason: Mapped[str] = mapped_column(String(200))
    corrected_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    corrected_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)

    ballot: Mapped[Ballot] = relationship(foreign_keys=[ballot_id])
    new_ballot: Mapped[Ballot] = relationship(foreign_keys=[new_ballot_id])
    corrected_by: Mapped[User] = relationship()


class BallotChangeRefused(RuntimeError):
    """A ballot (or the void of one) was about to be changed or deleted."""


append_only(Ballot, BallotVoid, BallotCorrection, error=BallotChangeRefused)

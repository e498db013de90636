"""Pilot oversight: the subdistrict's thresholds, a pilot's stage history, milestones and
certifications of self-governance.

A certification keeps the checklist as it stood when staff signed it, so the record says
what the decision rested on even after the figures move on.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, CheckConstraint, ForeignKey, Index, String, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .. import clock
from ..auth.models import User
from ..dbtypes import UTCDateTime
from ..extensions import Model
from ..registry.models import Pilot


class OversightSettings(Model):
    """What "self-governing" demands in a subdistrict (percentages, whole numbers)."""

    subdistrict_id: Mapped[int] = mapped_column(ForeignKey("subdistrict.id"), primary_key=True)
    rep_coverage_pct: Mapped[int] = mapped_column(default=90)  # branch-managed: units with a rep
    collection_pct: Mapped[int] = mapped_column(default=80)  # in each of the last months
    repairs_in_target_pct: Mapped[int] = mapped_column(default=80)
    window_months: Mapped[int] = mapped_column(default=3)
    # The rule "no problem overdue longer than N days", switched on per subdistrict.
    overdue_rule: Mapped[bool] = mapped_column(default=False, server_default=false())
    overdue_days: Mapped[int] = mapped_column(default=30, server_default="30")
    # The fewest days a fee schedule stays on the notice board (公示) before it is decided.
    min_publicity_days: Mapped[int] = mapped_column(default=7, server_default="7")

    __table_args__ = (
        CheckConstraint("overdue_days BETWEEN 1 AND 365", name="overdue_days"),
        CheckConstraint("min_publicity_days BETWEEN 1 AND 90", name="min_publicity_days"),
        CheckConstraint("rep_coverage_pct BETWEEN 0 AND 100", name="rep_coverage"),
        CheckConstraint("collection_pct BETWEEN 0 AND 100", name="collection"),
        CheckConstraint("repairs_in_target_pct BETWEEN 0 AND 100", name="repairs"),
        CheckConstraint("window_months BETWEEN 1 AND 12", name="window"),
    )


class StageChange(Model):
    """One dated step of a pilot's stage history."""

    id: Mapped[int] = mapped_column(primary_key=True)
    pilot_id: Mapped[int] = mapped_column(ForeignKey("pilot.id"), index=True)
    from_stage: Mapped[str] = mapped_column(String(20), default="")
    to_stage: Mapped[str] = mapped_column(String(20))
    on: Mapped[date]
    note: Mapped[str] = mapped_column(String(200), default="")
    changed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)

    pilot: Mapped[Pilot] = relationship()
    changed_by: Mapped[User | None] = relationship()


class Milestone(Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    pilot_id: Mapped[int] = mapped_column(ForeignKey("pilot.id"), index=True)
    title: Mapped[str] = mapped_column(String(60))
    due_on: Mapped[date]
    done_on: Mapped[date | None]
    note: Mapped[str] = mapped_column(String(200), default="")
    # The residents' decision that reached it, e.g. the owners' vote on the fee standard.
    vote_id: Mapped[int | None] = mapped_column(ForeignKey("vote.id"))

    pilot: Mapped[Pilot] = relationship()


class Certification(Model):
    """Staff declared the pilot self-governing: on the checklist, or overriding it."""

    id: Mapped[int] = mapped_column(primary_key=True)
    pilot_id: Mapped[int] = mapped_column(ForeignKey("pilot.id"), index=True)
    on: Mapped[date]
    passed: Mapped[bool]  # the checklist passed when certified
    override_reason: Mapped[str] = mapped_column(String(500), default="")
    checklist: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    certified_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    certified_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)

    pilot: Mapped[Pilot] = relationship()
    certified_by: Mapped[User] = relationship()

    __table_args__ = (CheckConstraint("passed OR override_reason <> ''", name="override_reason"),)


class ProblemMonth(Model):
    """The three lists' figures of one community, compound and month, kept on write.

    ``compound_id`` 0 holds the community-wide problems. Each figure is what the problem
    rows say now, counted in the month of the moment it names (filed in the month of
    ``created_at``, replied in that of ``replied_at``, …): ``oversight.lists`` takes a
    problem's old contribution away and adds its new one in the flush that changes it, and
    ``flask oversight check-lists`` recounts them from the problems.
    """

    community_id: Mapped[int] = mapped_column(ForeignKey("community.id"), primary_key=True)
    compound_id: Mapped[int] = mapped_column(primary_key=True)  # 0: community-wide
    month: Mapped[date] = mapped_column(primary_key=True)
    filed: Mapped[int] = mapped_column(default=0)
    replied: Mapped[int] = mapped_column(default=0)
    reply_seconds: Mapped[int] = mapped_column(BigInteger, default=0)
    resolved: Mapped[int] = mapped_column(default=0)  # fixed or verified, now
    fix_seconds: Mapped[int] = mapped_column(BigInteger, default=0)
    closed: Mapped[int] = mapped_column(default=0)  # verified (已办结), now
    missed: Mapped[int] = mapped_column(default=0)  # its fix deadline passed unfixed
    escalated: Mapped[int] = mapped_column(default=0)
    rated: Mapped[int] = mapped_column(default=0)
    rating_sum: Mapped[int] = mapped_column(default=0)

    __table_args__ = (Index("ix_problem_month_compound_month", "compound_id", "month"),)


class ProblemTotal(Model):
    """A community's figures over every month: the sum of its ``ProblemMonth`` rows, kept in
    the same flush, so the subdistrict's pages read one row per community.

    ``overdue`` is the one figure the clock changes without a write: the community's open
    problems past a deadline, counted by the escalation job (``overdue_at`` says when).
    """

    community_id: Mapped[int] = mapped_column(ForeignKey("community.id"), primary_key=True)
    filed: Mapped[int] = mapped_column(default=0)
    replied: Mapped[int] = mapped_column(default=0)
    reply_seconds: Mapped[int] = mapped_column(BigInteger, default=0)
    resolved: Mapped[int] = mapped_column(default=0)
    fix_seconds: Mapped[int] = mapped_column(BigInteger, default=0)
    closed: Mapped[int] = mapped_column(default=0)
    missed: Mapped[int] = mapped_column(default=0)
    escalated: Mapped[int] = mapped_column(default=0)
    rated: Mapped[int] = mapped_column(default=0)
    rating_sum: Mapped[int] = mapped_column(default=0)
    overdue: Mapped[int] = mapped_column(default=0)
    overdue_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ProjectTotal(Model):
    """A community's rectification projects by stage and kind, kept on write."""

    community_id: Mapped[int] = mapped_column(ForeignKey("community.id"), primary_key=True)
    stage: Mapped[str] = mapped_column(String(12), primary_key=True)
    kind: Mapped[str] = mapped_column(String(12), primary_key=True)
    projects: Mapped[int] = mapped_column(default=0)

"""What the records say about a set of pilots, read in a fixed number of grouped queries.

Every figure comes from the monthly aggregates kept on write (``AreaMonth`` for fees,
``RepairMonth`` for repairs) and a few small grouped counts, never from scanning the
ledger or the tasks per request: the dashboard costs the same number of statements for
30 pilots as for 300.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cached_property

from sqlalchemy import func, select

from .. import clock
from ..auth.models import Role, RoleGrant
from ..committees.models import Committee, CommitteeMember
from ..extensions import db
from ..fees.models import AreaMonth, FeeSchedule, FinanceBoard, ScheduleStatus
from ..months import add_months, month_of
from ..problems.models import Problem
from ..problems.models import Status as ProblemStatus
from ..registry.models import (
    Building,
    Community,
    Compound,
    Household,
    PartyOrganisation,
    Pilot,
    Unit,
)
from ..repairs.models import Facility, RepairMonth, RepairTask, Status


@dataclass
class Month:
    billed_fen: int = 0
    collected_fen: int = 0
    board: bool = False
    closed: int = 0
    in_target: int = 0
    open_at_end: int = 0

    @property
    def rate(self) -> float | None:
        return None if not self.billed_fen else 100 * self.collected_fen / self.billed_fen


@dataclass
class Facts:
    """One pilot's figures. ``months`` are the complete months of the window, oldest first."""

    pilot: Pilot
    compound: Compound
    community: Community
    households: int = 0
    committee_members: int = 0
    party_members: int = 0
    party_kind: str | None = None
    staff: int = 0
    units: int = 0
    units_with_rep: int = 0
    schedule_id: int | None = None
    # How the schedule in force was decided (``ApprovalHow``), and its record or reason.
    schedule_how: str | None = None
    schedule_note: str = ""
    months: dict[date, Month] = field(default_factory=dict)
    open_repairs: int = 0
    overdue_repairs: int = 0
    facilities: dict[str, int] = field(default_factory=dict)
    # The earliest deadline an open problem of the compound has let pass, if any.
    oldest_overdue: datetime | None = None

    # Read many times per request (sorting, three summaries): worked out once.
    @cached_property
    def rep_coverage(self) -> float | None:
        return None if not self.units else 100 * self.units_with_rep / self.units

    def last_complete(self) -> Month | None:
        return self.months[max(self.months)] if self.months else None

    @cached_property
    def latest_rate(self) -> float | None:
        month = self.last_complete()
        return month.rate if month else None

    @cached_property
    def in_target_share(self) -> float | None:
        closed = sum(m.closed for m in self.months.values())
        return None if not closed else 100 * sum(m.in_target for m in self.months.values()) / closed


def window(months: int, today: date | None = None) -> list[date]:
    """The last ``months`` complete months (the running month cannot be judged yet)."""
    current = month_of(today or clock.today())
    return [add_months(current, -i) for i in range(months, 0, -1)]


def gather(pilots: Sequence[Pilot], months: list[date], today: date | None = None) -> list[Facts]:
    """Facts for every pilot over ``months`` (complete months, oldest first)."""
    today = today or clock.today()
    if not pilots:
        return []
    rows = db.session.execute(
        select(Pilot, Compound, Community)
        .join(Compound, Compound.id == Pilot.compound_id)
        .join(Community, Community.id == Compound.community_id)
        .where(Pilot.id.in_([p.id for p in pilots]))
    ).all()
    facts = [Facts(pilot=p, compound=c, community=m) for p, c, m in rows]
    by_compound = {f.compound.id: f for f in facts}
    compound_ids = list(by_compound)
    area_ids = {f.compound.area_id for f in facts}
    community_ids = {f.community.id for f in facts}

    for compound_id, n in db.session.execute(
        select(Building.compound_id, func.count(Household.id))
        .join(Unit, Unit.building_id == Building.id)
        .join(Household, Household.unit_id == Unit.id)
        .where(Building.compound_id.in_(compound_ids))
        .group_by(Building.compound_id)
    ):
        by_compound[compound_id].households = n
    for compound_id, n in db.session.execute(
        select(Building.compound_id, func.count(Unit.id))
        .join(Unit, Unit.building_id == Building.id)
        .where(Building.compound_id.in_(compound_ids))
        .group_by(Building.compound_id)
    ):
        by_compound[compound_id].units = n
    for compound_id, n in db.session.execute(
        select(Building.compound_id, func.count(func.distinct(Unit.id)))
        .join(Unit, Unit.building_id == Building.id)
        .join(RoleGrant, RoleGrant.unit_id == Unit.id)
        .where(Building.compound_id.in_(compound_ids), RoleGrant.role == Role.UNIT_REP)
        .group_by(Building.compound_id)
    ):
        by_compound[compound_id].units_with_rep = n
    for org in db.session.scalars(
        select(PartyOrganisation).where(PartyOrganisation.compound_id.in_(compound_ids))
    ):
        by_compound[org.compound_id].party_kind = org.kind
        by_compound[org.compound_id].party_members = org.member_count

    members = dict(
        db.session.execute(
            select(Committee.area_id, func.count(func.distinct(CommitteeMember.user_id)))
            .join(CommitteeMember, CommitteeMember.committee_id == Committee.id)
            .where(
                Committee.area_id.in_(area_ids),
                CommitteeMember.term_start <= today,
                CommitteeMember.term_end >= today,
            )
            .group_by(Committee.area_id)
        ).all()
    )
    staff = dict(
        db.session.execute(
            select(RoleGrant.community_id, func.count(RoleGrant.id))
            .where(
                RoleGrant.role == Role.COMMUNITY_STAFF, RoleGrant.community_id.in_(community_ids)
            )
            .group_by(RoleGrant.community_id)
        ).all()
    )
    schedules = {
        area_id: (schedule_id, how, note)
        for area_id, schedule_id, how, note in db.session.execute(
            select(
                FeeSchedule.area_id,
                FeeSchedule.id,
                FeeSchedule.approved_how,
                FeeSchedule.approval_note,
            )
            .where(FeeSchedule.area_id.in_(area_ids), FeeSchedule.status == ScheduleStatus.ACTIVE)
            .order_by(FeeSchedule.id)
        )
    }
    first, last = (months[0], months[-1]) if months else (today, today)
    area_months: dict[int, dict[date, tuple[int, int]]] = defaultdict(dict)
    for area_id, month, billed, collected in db.session.execute(
        select(
            AreaMonth.area_id, AreaMonth.month, AreaMonth.billed_fen, AreaMonth.collected_fen
        ).where(AreaMonth.area_id.in_(area_ids), AreaMonth.month >= first, AreaMonth.month <= last)
    ):
        area_months[area_id][month] = (billed, collected)
    boards = set(
        db.session.execute(
            select(FinanceBoard.area_id, FinanceBoard.month).where(
                FinanceBoard.area_id.in_(area_ids),
                FinanceBoard.month >= first,
                FinanceBoard.month <= last,
            )
        ).all()
    )
    delta = RepairMonth.reported + RepairMonth.reopened - RepairMonth.closed - RepairMonth.rejected
    # Open tasks before the window, now, and the window's own months: three small reads
    # instead of every month of every compound's history.
    opening = dict(
        db.session.execute(
            select(RepairMonth.compound_id, func.sum(delta))
            .where(RepairMonth.compound_id.in_(compound_ids), RepairMonth.month < first)
            .group_by(RepairMonth.compound_id)
        ).all()
    )
    open_now = dict(
        db.session.execute(
            select(RepairMonth.compound_id, func.sum(delta))
            .where(RepairMonth.compound_id.in_(compound_ids))
            .group_by(RepairMonth.compound_id)
        ).all()
    )
    in_window: dict[int, dict[date, tuple[int, int, int]]] = defaultdict(dict)
    for compound_id, month, change, closed, in_target in db.session.execute(
        select(
            RepairMonth.compound_id,
            RepairMonth.month,
            delta,
            RepairMonth.closed,
            RepairMonth.closed_in_target,
        ).where(
            RepairMonth.compound_id.in_(compound_ids),
            RepairMonth.month >= first,
            RepairMonth.month <= last,
        )
    ):
        in_window[compound_id][month] = (change, closed, in_target)
    overdue = dict(
        db.session.execute(
            select(RepairTask.compound_id, func.count(RepairTask.id))
            .where(
                RepairTask.compound_id.in_(compound_ids),
                RepairTask.status.in_((Status.REPORTED, Status.ASSIGNED, Status.IN_PROGRESS)),
                RepairTask.due_on < today,
            )
            .group_by(RepairTask.compound_id)
        ).all()
    )
    # The problems' checklist rule: the earliest deadline passed by an open problem, two
    # grouped reads over the open problems past a deadline only.
    now = clock.now()
    for status_in, due in (
        ((ProblemStatus.OPEN,), Problem.reply_due_at),
        ((ProblemStatus.OPEN, ProblemStatus.REPLIED), Problem.fix_due_at),
    ):
        for place_id, oldest in db.session.execute(
            select(Problem.compound_id, func.min(due))
            .where(Problem.compound_id.in_(compound_ids), Problem.status.in_(status_in), due < now)
            .group_by(Problem.compound_id)
        ):
            if place_id is None or oldest is None:
                continue
            held = by_compound[place_id].oldest_overdue
            if held is None or oldest < held:
                by_compound[place_id].oldest_overdue = oldest
    for compound_id, kind, n in db.session.execute(
        select(Facility.compound_id, Facility.kind, func.sum(Facility.count))
        .where(Facility.compound_id.in_(compound_ids), Facility.removed_on.is_(None))
        .group_by(Facility.compound_id, Facility.kind)
    ):
        by_compound[compound_id].facilities[kind] = int(n)

    for f in facts:
        area_id = f.compound.area_id
        f.committee_members = members.get(area_id, 0)
        f.staff = staff.get(f.community.id, 0)
        f.schedule_id, f.schedule_how, f.schedule_note = schedules.get(area_id, (None, None, ""))
        f.open_repairs = int(open_now.get(f.compound.id) or 0)
        f.overdue_repairs = overdue.get(f.compound.id, 0)
        running = int(opening.get(f.compound.id) or 0)
        repair_months = in_window.get(f.compound.id, {})
        fee_months = area_months.get(area_id, {})
        for month in months:
            billed, collected = fee_months.get(month, (0, 0))
            change, closed, in_target = repair_months.get(month, (0, 0, 0))
            running += change
            f.months[month] = Month(
                billed,
                collected,
                board=(area_id, month) in boards,
                closed=closed,
                in_target=in_target,
                open_at_end=running,
            )
    return sorted(facts, key=lambda f: (f.community.name, f.compound.name))

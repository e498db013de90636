"""What needs this person now (待办), for the top of the home page.

One query per sort of item, whatever the size of the city: the page's statement count
stays flat. Each item links to the page where it is done.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import ColumnElement, and_, exists, func, or_, select

from .. import clock
from ..access import Principal, may_reconcile
from ..auth.models import User
from ..extensions import db
from ..fees.cash import pending_for
from ..fees.models import Account
from ..income.service import overdue_by_area
from ..money import format_fen
from ..notices.service import awaiting_ack
from ..reconcile.service import claims_waiting_by_area
from ..registry.models import (
    Building,
    Compound,
    Household,
    ManagementArea,
    ManagementModel,
    Unit,
)
from ..repairs.models import RepairTask, Status
from ..votes.models import Ballot, BallotVoid, Elector, Vote, VoteStatus

SHOWN = 5  # of each sort; the page behind the link has the rest


@dataclass(frozen=True)
class Todo:
    text: str
    url: str
    urgent: bool = False


@dataclass(frozen=True)
class Check:
    """Repairs reported done that wait for this person's check: the home page's first
    card, with one big button to the task (or to their reports, when several wait)."""

    count: int
    url: str
    category: str  # of the first one
    building: str | None
    unit: str | None


def todos(user: User, p: Principal) -> list[Todo]:
    """What else waits (``checks_waiting`` has its own card)."""
    items: list[Todo] = []
    items += _notices_to_acknowledge(p)
    items += _bills_owed(p)
    items += _votes_waiting(user)
    items += _cash_to_count(user, p)
    items += _income_overdue(p)
    items += _claims_to_check(p)
    items += _new_reports(p)
    items += _problems_to_answer(p)
    items += _my_complaints(p)
    return items


def checks_waiting(p: Principal) -> Check | None:
    """Repairs done and waiting for this person's check (their reports, their homes)."""
    mine = RepairTask.reported_by_id == p.user_id
    if p.resident_households:
        mine = or_(mine, RepairTask.household_id.in_(p.resident_households))
    row = db.session.execute(
        select(
            RepairTask.id,
            RepairTask.category,
            Building.name,
            Unit.name,
            func.count().over(),
        )
        .outerjoin(Building, Building.id == RepairTask.building_id)
        .outerjoin(Unit, Unit.id == RepairTask.unit_id)
        .where(RepairTask.status == Status.DONE, mine)
        .order_by(RepairTask.id)
        .limit(1)
    ).first()
    if row is None:
        return None
    first, category, building, unit, count = row
    url = url_for("repairs.task", task_id=first) if count == 1 else url_for("repairs.mine")
    return Check(count, url, category, building, unit)


def _notices_to_acknowledge(p: Principal) -> list[Todo]:
    """A notice that asks each home to confirm it has been read (停水, 停电): first."""
    return [
        Todo(
            _("Please confirm you have read: %(title)s", title=notice.title),
            url_for("notices.show", notice_id=notice.id),
            urgent=True,
        )
        for notice in awaiting_ack(p, SHOWN)
    ]


def _bills_owed(p: Principal) -> list[Todo]:
    if not p.resident_households:
        return []
    rows = db.session.execute(
        select(Household.id, Household.room, Account.billed_fen - Account.paid_fen)
        .join(Account, Account.household_id == Household.id)
        .where(Household.id.in_(p.resident_households), Account.billed_fen > Account.paid_fen)
        .order_by(Household.id)
        .limit(SHOWN)
    ).all()
    return [
        Todo(
            _("Room %(room)s owes %(amount)s in fees.", room=room, amount=format_fen(owed)),
            url_for("fees.household", household_id=hid),
        )
        for hid, room, owed in rows
    ]


def _votes_waiting(user: User) -> list[Todo]:
    """Open votes where this person is an elector and has no ballot that counts."""
    voted = exists().where(
        Ballot.elector_id == Elector.id,
        ~exists().where(BallotVoid.ballot_id == Ballot.id),
    )
    rows = db.session.execute(
        select(Vote.id, Vote.title, Vote.closes_on)
        .join(Elector, Elector.vote_id == Vote.id)
        .where(
            Elector.user_id == user.id,
            Vote.status == VoteStatus.OPEN,
            Vote.closes_on >= clock.today(),
            ~voted,
        )
        .order_by(Vote.closes_on, Vote.id)
        .limit(SHOWN)
    ).all()
    return [
        Todo(
            _(
                "Vote by %(date)s: %(title)s",
                date=f"{closes.month}月{closes.day}日" if closes else "",
                title=title,
            ),
            url_for("votes.vote", vote_id=vid),
            urgent=True,
        )
        for vid, title, closes in rows
    ]


def _cash_to_count(user: User, p: Principal) -> list[Todo]:
    waiting = pending_for(user, p.committee_areas)
    return [
        Todo(
            ngettext(
                "%(num)d cash hand-over awaits your count.",
                "%(num)d cash hand-overs await your count.",
                n,
            ),
            url_for("fees.cash_page", area_id=area_id),
            urgent=True,
        )
        for area_id, n in sorted(waiting.items())
    ]


def _income_overdue(p: Principal) -> list[Todo]:
    """Common-part income contracts with an instalment past its due date: for the area's
    committee, who chase the payer."""
    overdue = overdue_by_area(sorted(p.committee_areas))
    return [
        Todo(
            ngettext(
                "%(num)d income contract has an overdue instalment.",
                "%(num)d income contracts have overdue instalments.",
                n,
            ),
            url_for("income.area", area_id=area_id, _anchor="overdue"),
            urgent=True,
        )
        for area_id, n in sorted(overdue.items())[:SHOWN]
    ]


def _claims_to_check(p: Principal) -> list[Todo]:
    """Residents' transfer claims (我已转账) waiting for a statement line: for those who keep
    the area's money (its chair or treasurer, the community staff)."""
    areas = [
        a for a in sorted(p.committee_areas) if may_reconcile(db.session.get(ManagementArea, a), p)
    ]
    if p.staff_communities:
        areas += db.session.scalars(
            select(ManagementArea.id).where(ManagementArea.community_id.in_(p.staff_communities))
        ).all()
    waiting = claims_waiting_by_area(areas)
    return [
        Todo(
            ngettext(
                "%(num)d resident says they paid by transfer: check the statement.",
                "%(num)d residents say they paid by transfer: check the statement.",
                n,
            ),
            url_for("reconcile.area", area_id=area_id, _anchor="claims"),
            urgent=True,
        )
        for area_id, n in sorted(waiting.items())[:SHOWN]
    ]


def _new_reports(p: Principal) -> list[Todo]:
    """New repair reports nobody has taken on: for the area's committee, and for the staff
    of compounds under community trusteeship."""
    places: list[ColumnElement[bool]] = []
    if p.committee_areas:
        places.append(Compound.area_id.in_(p.committee_areas))
    if p.staff_communities:
        places.append(
            and_(
                Compound.community_id.in_(p.staff_communities),
                Compound.model == ManagementModel.TRUSTEESHIP,
            )
        )
    if not places:
        return []
    rows = db.session.execute(
        select(Compound.id, Compound.name, func.count(RepairTask.id))
        .join(RepairTask, RepairTask.compound_id == Compound.id)
        .where(or_(*places), RepairTask.status == Status.REPORTED)
        .group_by(Compound.id, Compound.name)
        .order_by(Compound.name)
        .limit(SHOWN)
    ).all()
    return [
        Todo(
            ngettext(
                "%(num)d new repair report in %(compound)s.",
                "%(num)d new repair reports in %(compound)s.",
                n,
                compound=name,
            ),
            url_for("repairs.tasks", compound_id=cid, status=Status.REPORTED.value),
        )
        for cid, name, n in rows
    ]


def _problems_to_answer(p: Principal) -> list[Todo]:
    """Problems on the register that wait for this person's reply: the committee's in its
    areas, the community's for its staff, the subdistrict's for its admins, and any given
    to them by name. One grouped query; overdue ones first."""
    from ..problems.models import Level, Problem
    from ..problems.models import Status as ProblemStatus

    mine: list[ColumnElement[bool]] = [Problem.owner_id == p.user_id]
    if p.committee_areas:
        mine.append(
            and_(
                Problem.level == Level.COMMITTEE,
                Problem.compound_id.in_(
                    select(Compound.id).where(Compound.area_id.in_(p.committee_areas))
                ),
            )
        )
    if p.staff_communities:
        mine.append(
            and_(Problem.level == Level.COMMUNITY, Problem.community_id.in_(p.staff_communities))
        )
    if p.admin_subdistricts:
        mine.append(
            and_(
                Problem.level == Level.SUBDISTRICT,
                Problem.subdistrict_id.in_(p.admin_subdistricts),
            )
        )
    now = clock.now()
    row = db.session.execute(
        select(
            func.count(Problem.id),
            func.count(Problem.id).filter(Problem.reply_due_at < now),
            func.min(Problem.id),
        ).where(or_(*mine), Problem.status == ProblemStatus.OPEN)
    ).one()
    waiting, late, first = row
    if not waiting:
        return []
    url = (
        url_for("problems.show", problem_id=first)
        if waiting == 1
        else url_for("problems.mine")
        if not (p.committee_areas or p.is_staff)
        else _problem_list_url(p)
    )
    text = ngettext(
        "%(num)d problem on the register waits for your reply.",
        "%(num)d problems on the register wait for your reply.",
        waiting,
    )
    if late:
        text += " " + ngettext("%(num)d is overdue.", "%(num)d are overdue.", late)
    return [Todo(text, url, urgent=bool(late))]


def _problem_list_url(p: Principal) -> str:
    if p.admin_subdistricts:
        return url_for("problems.subdistrict", subdistrict_id=min(p.admin_subdistricts))
    if p.staff_communities:
        return url_for("problems.community", community_id=min(p.staff_communities))
    compound = db.session.scalar(
        select(func.min(Compound.id)).where(Compound.area_id.in_(p.committee_areas))
    )
    return url_for("problems.compound", compound_id=compound)


def _my_complaints(p: Principal) -> list[Todo]:
    """A resident's complaints: one reported fixed waits for their check (first)."""
    from ..problems.models import OPEN, Problem
    from ..problems.models import Status as ProblemStatus

    if not p.resident_households:
        return []
    mine = or_(Problem.reporter_id == p.user_id, Problem.household_id.in_(p.resident_households))
    rows = db.session.execute(
        select(Problem.status, func.count(Problem.id), func.min(Problem.id))
        .where(mine, Problem.status.in_(OPEN))
        .group_by(Problem.status)
    ).all()
    found: list[Todo] = []
    fixed = next(((n, first) for status, n, first in rows if status == ProblemStatus.FIXED), None)
    if fixed is not None:
        found.append(
            Todo(
                _("Your complaint is reported fixed: please check it."),
                url_for("problems.show", problem_id=fixed[1])
                if fixed[0] == 1
                else url_for("problems.mine"),
                urgent=True,
            )
        )
    waiting = sum(n for status, n, _first in rows if status != ProblemStatus.FIXED)
    if waiting:
        found.append(
            Todo(
                ngettext(
                    "%(num)d of your complaints and suggestions is being handled.",
                    "%(num)d of your complaints and suggestions are being handled.",
                    waiting,
                ),
                url_for("problems.mine"),
            )
        )
    return found

"""Who hears of what: the messages the other areas' services write with their changes.

Each hook is called from the service function that makes the change, inside its
transaction (one line there), so a message exists exactly when its event does. Titles are
written in the app's default language (Chinese), the one every resident reads; a message
is kept as written.

``remind`` is the daily job behind ``flask messages remind``: arrears and votes closing
soon, each reminder once per period through its ``dedupe_key``.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from typing import Any

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import exists, select

from .. import clock
from ..auth.models import Role, RoleGrant, User
from ..extensions import db
from ..labels import label
from ..money import format_fen
from ..registry.models import Building, Compound, Household, ManagementModel, Unit
from .models import Kind
from .service import notify


def path_for(endpoint: str, **values: Any) -> str:
    """A page's path, with or without a request (CLI jobs and the demo have none)."""
    adapter = current_app.url_map.bind("localhost")
    return adapter.build(endpoint, values)


@contextmanager
def _words() -> Iterator[None]:
    with force_locale(current_app.config.get("BABEL_DEFAULT_LOCALE", "zh_CN")):
        yield


def household_accounts(household_ids: Collection[int] | Any) -> list[User]:
    """The enabled accounts that live in these homes (their resident grant)."""
    return list(
        db.session.scalars(
            select(User)
            .join(RoleGrant, RoleGrant.user_id == User.id)
            .where(
                RoleGrant.role == Role.RESIDENT,
                RoleGrant.household_id.in_(household_ids),
                User.is_enabled.is_(True),
            )
            .distinct()
        )
    )


def _others(users: Collection[User], actor: User | None) -> list[User]:
    return [u for u in users if actor is None or u.id != actor.id]


# --- repairs ----------------------------------------------------------------------------------


def repair_moved(task: Any, actor: User | None) -> None:
    """A repair task changed status: its reporter and the home's accounts hear of it."""
    from ..repairs.models import Status

    people = {task.reported_by_id: task.reported_by} if task.reported_by is not None else {}
    if task.household_id is not None:
        people.update({u.id: u for u in household_accounts([task.household_id])})
    recipients = _others(list(people.values()), actor)
    if not recipients:
        return
    with _words():
        what = label("repair_category", task.category)
        if task.status == Status.DONE:
            title = _("Repair done: please check it (%(what)s)", what=what)
        else:
            title = _(
                "Your repair report (%(what)s) is now: %(status)s",
                what=what,
                status=label("repair_status", task.status),
            )
    notify(recipients, Kind.REPAIR, title, path_for("repairs.task", task_id=task.id))


def repair_reported(task: Any) -> None:
    """A new repair report: the area's committee, or in a trusteeship the community's staff."""
    compound = task.compound
    people = committee_of(compound.area_id)
    if compound.model == ManagementModel.TRUSTEESHIP or not people:
        people += community_staff(compound.community_id)
    recipients = _others(people, task.reported_by)
    if not recipients:
        return
    with _words():
        title = _(
            "New repair report in %(compound)s: %(what)s",
            compound=compound.name,
            what=label("repair_category", task.category),
        )
    notify(recipients, Kind.DUTY, title, path_for("repairs.task", task_id=task.id))


def committee_of(area_id: int) -> list[User]:
    from ..committees.service import committee_for_area, is_current

    committee = committee_for_area(area_id)
    if committee is None:
        return []
    return [m.user for m in committee.members if is_current(m) and m.user.is_enabled]


def community_staff(community_id: int) -> list[User]:
    return list(
        db.session.scalars(
            select(User)
            .join(RoleGrant, RoleGrant.user_id == User.id)
            .where(
                RoleGrant.role == Role.COMMUNITY_STAFF,
                RoleGrant.community_id == community_id,
                User.is_enabled.is_(True),
            )
        )
    )


# --- problems (问题清单) --------------------------------------------------------------------------


def _problem_reporters(problem: Any) -> list[User]:
    people = {problem.reporter_id: problem.reporter} if problem.reporter is not None else {}
    if problem.household_id is not None:
        people.update({u.id: u for u in household_accounts([problem.household_id])})
    return list(people.values())


def problem_moved(problem: Any, actor: User | None) -> None:
    """A problem was replied to or fixed: its reporter (and the home's accounts) hear of it."""
    from ..problems.models import Status

    recipients = _others(_problem_reporters(problem), actor)
    if not recipients:
        return
    with _words():
        if problem.status == Status.FIXED:
            title = _("Your complaint is fixed: please check it (%(title)s)", title=problem.title)
        else:
            title = _("Your complaint has a reply: %(title)s", title=problem.title)
    notify(recipients, Kind.REPAIR, title, path_for("problems.show", problem_id=problem.id))


def project_completed(project: Any, problems: Collection[Any], actor: User | None) -> None:
    """A rectification project was completed: the reporters of its problems (and their
    homes' accounts) are asked to check the work and rate it, on the project's page."""
    people: dict[int, User] = {}
    for problem in problems:
        people.update({u.id: u for u in _problem_reporters(problem)})
    recipients = _others(list(people.values()), actor)
    if not recipients:
        return
    with _words():
        title = _(
            "The work on your complaint is done: please check it and rate it (%(title)s)",
            title=project.title,
        )
    notify(recipients, Kind.REPAIR, title, path_for("rectify.project", project_id=project.id))


def problem_filed(problem: Any, actor: User | None) -> None:
    """A new problem: whoever answers at its level hears of it (the area's committee in a
    compound, else the community's staff)."""
    from ..problems.models import Level

    people: list[User] = []
    if problem.level == Level.COMMITTEE and problem.compound is not None:
        people = committee_of(problem.compound.area_id)
    if not people:
        people = community_staff(problem.community_id)
    recipients = _others(people, actor)
    if not recipients:
        return
    with _words():
        title = _("New problem on the register: %(title)s", title=problem.title)
    notify(recipients, Kind.DUTY, title, path_for("problems.show", problem_id=problem.id))


def problem_assigned(problem: Any) -> None:
    """A problem was given to someone: they hear of it."""
    if problem.owner is None or not problem.owner.is_enabled:
        return
    with _words():
        title = _("A problem is yours to answer for: %(title)s", title=problem.title)
    notify([problem.owner], Kind.DUTY, title, path_for("problems.show", problem_id=problem.id))


# --- fees -------------------------------------------------------------------------------------


def bills_issued(area_id: int, period: date, household_ids: Collection[int]) -> None:
    """A bill run issued a period's bills: the accounts of the billed homes hear of it (once
    per period); a home the run gave no bill (exempt, not yet in the schedule) hears nothing."""
    billed = sorted(set(household_ids))
    if not billed:
        return
    people: dict[int, User] = {}
    for start in range(0, len(billed), 5000):
        chunk = billed[start : start + 5000]
        in_area = (
            select(Household.id)
            .join(Unit, Unit.id == Household.unit_id)
            .join(Building, Building.id == Unit.building_id)
            .join(Compound, Compound.id == Building.compound_id)
            .where(Compound.area_id == area_id, Household.id.in_(chunk))
        )
        people.update({u.id: u for u in household_accounts(in_area)})
    users = sorted(people.values(), key=lambda u: u.id)
    if not users:
        return
    with _words():
        title = _("Your fee bill for %(month)s is out", month=f"{period.year}年{period.month}月")
        body = _("Pay your unit representative or the committee; you get a receipt.")
    notify(
        users,
        Kind.BILL,
        title,
        path_for("home.index"),
        body,
        dedupe_key=f"bill:{area_id}:{period:%Y-%m}",
    )


def handover_waiting(handover: Any) -> None:
    """Cash handed over: the treasurer (or the chair) who must count it hears of it."""
    from ..fees.cash import keepers

    recipients = [u for u in keepers(handover.area_id) if u.id != handover.collector_id]
    if not recipients:
        return
    with _words():
        title = _(
            "Cash hand-over of %(amount)s waits for your count",
            amount=format_fen(handover.amount_fen),
        )
    notify(recipients, Kind.DUTY, title, path_for("fees.cash_page", area_id=handover.area_id))


# --- votes and consultations ------------------------------------------------------------------


def vote_announced(vote: Any) -> None:
    """A vote was announced: the community's staff (居委会) hear of it, with its dates."""
    people = community_staff(vote.area.community_id)
    if not people:
        return
    with _words():
        title = _(
            "Owners' vote announced in %(area)s, open %(opens)s to %(ends)s: %(title)s",
            area=vote.area.name,
            opens=_day(vote.opens_on),
            ends=_day(vote.closes_on),
            title=vote.title,
        )
    notify(
        people,
        Kind.DUTY,
        title,
        path_for("votes.vote", vote_id=vote.id),
        dedupe_key=f"vote-announce:{vote.id}",
    )


def vote_opened(vote: Any) -> None:
    """A vote opened: its electors with an account hear of it."""
    from ..votes.models import Elector

    users = list(
        db.session.scalars(
            select(User)
            .join(Elector, Elector.user_id == User.id)
            .where(Elector.vote_id == vote.id, User.is_enabled.is_(True))
        )
    )
    if not users:
        return
    with _words():
        title = _(
            "Vote open until %(date)s: %(title)s", date=_day(vote.closes_on), title=vote.title
        )
    notify(
        users,
        Kind.VOTE,
        title,
        path_for("votes.vote", vote_id=vote.id),
        dedupe_key=f"vote-open:{vote.id}",
    )


def consultation_opened(consultation: Any) -> None:
    """A consultation was put to a scope: the accounts of its homes hear of it."""
    from ..votes.service import households_in

    homes = households_in(consultation.scope_kind, consultation.scope_id).with_only_columns(
        Household.id
    )
    users = household_accounts(homes)
    if not users:
        return
    with _words():
        title = _(
            "Your opinion is asked until %(date)s: %(title)s",
            date=_day(consultation.closes_on),
            title=consultation.title,
        )
    notify(
        users,
        Kind.VOTE,
        title,
        path_for("votes.consultation", consultation_id=consultation.id),
        dedupe_key=f"consultation-open:{consultation.id}",
    )


def _day(day: date) -> str:
    return f"{day.month}月{day.day}日"


# --- reminders (flask messages remind) --------------------------------------------------------


def remind(today: date | None = None) -> dict[str, int]:
    """Write the day's reminders; returns how many messages of each sort were written."""
    today = today or clock.today()
    return {"arrears": remind_arrears(today), "votes": remind_votes(today)}


def remind_arrears(today: date) -> int:
    """Homes owing since ARREARS_REMIND_DAYS ago or longer: their accounts, once a month."""
    from ..fees.models import Account

    since = today - timedelta(days=int(current_app.config["ARREARS_REMIND_DAYS"]))
    rows = db.session.execute(
        select(Account.household_id, Account.billed_fen - Account.paid_fen, User)
        .join(RoleGrant, RoleGrant.household_id == Account.household_id)
        .join(User, User.id == RoleGrant.user_id)
        .where(
            RoleGrant.role == Role.RESIDENT,
            User.is_enabled.is_(True),
            Account.owing_since.is_not(None),
            Account.owing_since <= since,
            Account.billed_fen > Account.paid_fen,
        )
        .order_by(Account.household_id)
    ).all()
    written = 0
    for household_id, owed, user in rows:
        with _words():
            title = _("Fees of %(amount)s are overdue for your home", amount=format_fen(owed))
            body = _("Please pay your unit representative or the committee soon.")
        written += len(
            notify(
                [user],
                Kind.BILL,
                title,
                path_for("fees.household", household_id=household_id),
                body,
                dedupe_key=f"arrears:{household_id}:{today:%Y-%m}",
            )
        )
    return written


def remind_votes(today: date) -> int:
    """Open votes closing within VOTE_REMIND_DAYS: electors with an account who have not
    voted, once per vote."""
    from ..votes.models import Ballot, BallotVoid, Elector, Vote, VoteStatus

    last = today + timedelta(days=int(current_app.config["VOTE_REMIND_DAYS"]))
    voted = (
        select(Ballot.id)
        .where(
            Ballot.elector_id == Elector.id,
            ~exists().where(BallotVoid.ballot_id == Ballot.id),
        )
        .exists()
    )
    rows = db.session.execute(
        select(Vote, User)
        .join(Elector, Elector.vote_id == Vote.id)
        .join(User, User.id == Elector.user_id)
        .where(
            Vote.status == VoteStatus.OPEN,
            Vote.closes_on >= today,
            Vote.closes_on <= last,
            User.is_enabled.is_(True),
            ~voted,
        )
        .order_by(Vote.id)
    ).all()
    written = 0
    for vote, user in rows:
        with _words():
            title = _(
                "The vote closes on %(date)s and you have not voted: %(title)s",
                date=_day(vote.closes_on),
                title=vote.title,
            )
        written += len(
            notify(
                [user],
                Kind.VOTE,
                title,
                path_for("votes.vote", vote_id=vote.id),
                dedupe_key=f"vote-closing:{vote.id}",
            )
        )
    return written

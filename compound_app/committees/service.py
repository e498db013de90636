"""Committee membership: positions, terms, and the access that comes with a seat."""

from __future__ import annotations

from datetime import date

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from .. import audit, clock
from ..auth.models import Role, RoleGrant, User
from ..auth.service import find_or_create_user, grant, revoke
from ..errors import RuleError
from ..extensions import db
from ..registry.models import ManagementArea
from .models import Background, Committee, CommitteeMember, Position

# Positions a committee holds at most once at any time.
SINGLE_SEATS = (Position.CHAIR, Position.TREASURER)


def committee_for_area(area_id: int) -> Committee | None:
    return db.session.scalars(
        select(Committee)
        .where(Committee.area_id == area_id)
        .options(selectinload(Committee.members).joinedload(CommitteeMember.user))
    ).one_or_none()


def is_current(member: CommitteeMember, on: date | None = None) -> bool:
    on = on or clock.today()
    return member.term_start <= on <= member.term_end


def create_committee(area: ManagementArea, name: str, formed_on: date) -> Committee:
    if committee_for_area(area.id) is not None:
        raise RuleError(_("This area already has a committee."))
    committee = Committee(area_id=area.id, name=name, formed_on=formed_on)
    db.session.add(committee)
    audit.record("create", committee)
    return committee


def _check_seat(
    committee: Committee, position: Position, start: date, end: date, except_id: int | None = None
) -> None:
    if position not in SINGLE_SEATS:
        return
    for other in committee.members:
        if other.id == except_id or other.position != position:
            continue
        if other.term_start <= end and start <= other.term_end:
            raise RuleError(
                _("%(name)s already holds this position in that period.", name=other.user.name),
                "position",
            )


def add_member(
    committee: Committee,
    *,
    name: str,
    mobile: str,
    position: Position,
    background: Background,
    term_start: date,
    term_end: date,
    actor: User | None,
) -> CommitteeMember:
    if term_end < term_start:
        raise RuleError(_("The term must end after it starts."), "term_end")
    user = find_or_create_user(mobile, name)
    db.session.flush()
    # Re-election after a break is a new seat; two seats at once are not.
    if any(
        m.user_id == user.id and m.term_start <= term_end and term_start <= m.term_end
        for m in committee.members
    ):
        raise RuleError(_("This person is already on the committee."), "mobile")
    _check_seat(committee, position, term_start, term_end)
    member = CommitteeMember(
        committee_id=committee.id,
        user_id=user.id,
        position=position,
        background=background,
        term_start=term_start,
        term_end=term_end,
    )
    db.session.add(member)
    committee.members.append(member)
    audit.record("create", member)
    grant(user, Role.COMMITTEE_MEMBER, committee.area_id, granted_by=actor)
    return member


def update_member(
    member: CommitteeMember,
    *,
    position: Position,
    background: Background,
    term_start: date,
    term_end: date,
) -> None:
    if term_end < term_start:
        raise RuleError(_("The term must end after it starts."), "term_end")
    _check_seat(member.committee, position, term_start, term_end, except_id=member.id)
    before = audit.snapshot(member)
    member.position, member.background = position, background
    member.term_start, member.term_end = term_start, term_end
    if before != audit.snapshot(member):
        audit.record("update", member, before)
        db.session.flush()
        _sync_access(member)


def _sync_access(member: CommitteeMember) -> None:
    """The role follows the term: given while it has not ended, taken once it has.

    Access itself is decided by the term (``current_areas``); the role row is what the
    people pages list, so it is kept in step.
    """
    area_id = member.committee.area_id
    seat = db.session.scalar(
        select(RoleGrant).where(
            RoleGrant.user_id == member.user_id,
            RoleGrant.role == Role.COMMITTEE_MEMBER,
            RoleGrant.area_id == area_id,
        )
    )
    today = clock.today()
    still_on = any(
        m.user_id == member.user_id and m.term_end >= today for m in member.committee.members
    )
    if still_on and seat is None:
        grant(member.user, Role.COMMITTEE_MEMBER, area_id)
    elif not still_on and seat is not None:
        revoke(seat)


def end_membership(member: CommitteeMember, on: date) -> None:
    """The seat's last day becomes ``on`` (never later than its term). A day already past
    ends the access now; today or later lets it run to the end of that day. The record
    stays as history; a seat entered by mistake is removed instead (``remove_member``)."""
    if on < member.term_start:
        raise RuleError(_("The term must end after it starts."), "ended_on")
    before = audit.snapshot(member)
    member.term_end = min(member.term_end, on)
    audit.record("end_term", member, before)
    db.session.flush()
    _sync_access(member)


def remove_member(member: CommitteeMember) -> None:
    """Delete a seat entered by mistake; one that has begun is ended instead."""
    if member.term_start < clock.today():
        raise RuleError(_("This seat has begun: end it instead, so its history is kept."))
    committee = member.committee
    before = audit.snapshot(member)
    committee.members.remove(member)
    db.session.delete(member)
    audit.record("delete", member, before)
    db.session.flush()
    seat = db.session.scalar(
        select(RoleGrant).where(
            RoleGrant.user_id == before["user_id"],
            RoleGrant.role == Role.COMMITTEE_MEMBER,
            RoleGrant.area_id == committee.area_id,
        )
    )
    if seat is not None and not any(m.user_id == before["user_id"] for m in committee.members):
        revoke(seat)


def current_areas(user_id: int, area_ids: set[int]) -> set[int]:
    """Of ``area_ids``, those where the user's committee term covers today."""
    today = clock.today()
    rows = db.session.scalars(
        select(Committee.area_id)
        .join(CommitteeMember, CommitteeMember.committee_id == Committee.id)
        .where(
            CommitteeMember.user_id == user_id,
            Committee.area_id.in_(area_ids),
            CommitteeMember.term_start <= today,
            CommitteeMember.term_end >= today,
        )
    )
    return set(rows)

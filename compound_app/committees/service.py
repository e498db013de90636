"""Committee membership: positions, terms, and the access that comes with a seat."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from flask_babel import gettext as _
from sqlalchemy import and_, select
from sqlalchemy.orm import selectinload

from .. import audit, clock
from ..auth.models import Role, RoleGrant, User
from ..auth.service import find_or_create_user, grant, revoke
from ..errors import RuleError
from ..extensions import db
from ..labels import label
from ..registry.models import Community, ManagementArea
from .models import (
    Background,
    ChairAppointment,
    Committee,
    CommitteeMember,
    CommitteeRules,
    MemberKind,
    Position,
)

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
    kind: MemberKind = MemberKind.OWNER,
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
        kind=kind,
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
    kind: MemberKind,
) -> None:
    if term_end < term_start:
        raise RuleError(_("The term must end after it starts."), "term_end")
    _check_seat(member.committee, position, term_start, term_end, except_id=member.id)
    before = audit.snapshot(member)
    member.position, member.background, member.kind = position, background, kind
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


# --- the committee's make-up against the subdistrict's rules -------------------------------

DEFAULT_RULES: dict[str, int | bool | str] = {
    "min_members": 5,
    "max_members": 11,
    "odd_members": True,
    "owners_rule": True,
    "owners_pct": 50,
    "chair_appointment": ChairAppointment.NAMED.value,
    "max_term_years": 3,
}


def rules_for(subdistrict_id: int) -> CommitteeRules:
    """The subdistrict's rules: its saved row, or (not added to the session) the defaults."""
    found = db.session.get(CommitteeRules, subdistrict_id)
    return found or CommitteeRules(subdistrict_id=subdistrict_id, **DEFAULT_RULES)


def save_rules(
    subdistrict_id: int,
    *,
    min_members: int,
    max_members: int,
    odd_members: bool,
    owners_rule: bool,
    owners_pct: int,
    chair_appointment: ChairAppointment,
    max_term_years: int,
) -> CommitteeRules:
    for key, value, low, high in (
        ("min_members", min_members, 1, 99),
        ("max_members", max_members, 1, 99),
        ("owners_pct", owners_pct, 1, 100),
        ("max_term_years", max_term_years, 1, 10),
    ):
        if not low <= value <= high:
            raise RuleError(_("Enter a whole number from %(a)d to %(b)d.", a=low, b=high), key)
    if min_members > max_members:
        raise RuleError(
            _("The most members cannot be fewer than the fewest (%(n)d).", n=min_members),
            "max_members",
        )
    if odd_members and min_members == max_members and min_members % 2 == 0:
        raise RuleError(
            _("No odd number lies between the fewest and the most members: widen the range."),
            "max_members",
        )
    row = db.session.get(CommitteeRules, subdistrict_id)
    before = audit.snapshot(row) if row is not None else None
    if row is None:
        row = CommitteeRules(subdistrict_id=subdistrict_id)
        db.session.add(row)
    row.min_members, row.max_members = min_members, max_members
    row.odd_members, row.owners_rule, row.owners_pct = odd_members, owners_rule, owners_pct
    row.chair_appointment = chair_appointment
    row.max_term_years = max_term_years
    db.session.flush()
    audit.record("committee_rules", row, before=before).entity_id = subdistrict_id
    return row


def record_chair_appointment(
    committee: Committee, how: ChairAppointment, by: str, on: date | None
) -> None:
    """How, by whom and on which day the committee's chair was appointed."""
    if on is not None and on > clock.today():
        raise RuleError(_("The day cannot be in the future."), "chair_appointed_on")
    if on is not None and on < committee.formed_on:
        raise RuleError(
            _("The day cannot be before the committee was formed."), "chair_appointed_on"
        )
    before = audit.snapshot(committee)
    committee.chair_appointed, committee.chair_appointed_by = how, by
    committee.chair_appointed_on = on
    audit.record("chair_appointed", committee, before)


@dataclass(frozen=True)
class Finding:
    """One way a committee departs from its subdistrict's rules (advisory: nothing is
    refused because of it)."""

    rule: str  # members | odd | owners | chair | term
    text: str

    def __str__(self) -> str:
        return self.text


def add_years(day: date, years: int) -> date:
    """The same day ``years`` later (29 February becomes 28 February)."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def makeup_findings(
    committee: Committee, rules: CommitteeRules, on: date | None = None
) -> list[Finding]:
    """Where the committee's current members (on ``on``, today by default) depart from the
    rules: their number, an even number, too few owner representatives, no chair or one
    not appointed as the rules say, a term longer than the rules allow."""
    on = on or clock.today()
    return _findings(committee, [m for m in committee.members if is_current(m, on)], rules)


def _findings(
    committee: Committee, current: list[CommitteeMember], rules: CommitteeRules
) -> list[Finding]:
    found: list[Finding] = []
    count = len(current)
    if not rules.min_members <= count <= rules.max_members:
        found.append(
            Finding(
                "members",
                _(
                    "%(n)d members: the rules ask for between %(a)d and %(b)d.",
                    n=count,
                    a=rules.min_members,
                    b=rules.max_members,
                ),
            )
        )
    if rules.odd_members and count and count % 2 == 0:
        found.append(
            Finding(
                "odd",
                _("An even number of members (%(n)d): the rules ask for an odd number.", n=count),
            )
        )
    owners = sum(m.kind == MemberKind.OWNER for m in current)
    if rules.owners_rule and count and owners * 100 < rules.owners_pct * count:
        text = (
            _("%(k)d of %(n)d members represent the owners: at least half must.", k=owners, n=count)
            if rules.owners_pct == 50
            else _(
                "%(k)d of %(n)d members represent the owners: at least %(pct)d%% must.",
                k=owners,
                n=count,
                pct=rules.owners_pct,
            )
        )
        found.append(Finding("owners", text))
    wanted = label("chair_appointment", rules.chair_appointment)
    if count and not any(m.position == Position.CHAIR for m in current):
        found.append(Finding("chair", _("The committee has no chair.")))
    elif count and not committee.chair_appointed:
        found.append(
            Finding(
                "chair",
                _(
                    "How the chair was appointed is not recorded; the rules say: %(how)s.",
                    how=wanted,
                ),
            )
        )
    elif count and committee.chair_appointed != rules.chair_appointment:
        found.append(
            Finding(
                "chair",
                _(
                    "The chair was not appointed as the rules say: %(how)s, not %(was)s.",
                    how=wanted,
                    was=label("chair_appointment", committee.chair_appointed),
                ),
            )
        )
    for m in current:
        if m.term_end > add_years(m.term_start, rules.max_term_years):
            found.append(
                Finding(
                    "term",
                    _(
                        "The term of %(name)s ends after more than %(n)d years.",
                        name=m.user.name,
                        n=rules.max_term_years,
                    ),
                )
            )
    return found


def areas_off_rules(area_ids: Iterable[int], on: date | None = None) -> set[int]:
    """Of ``area_ids``, those whose committee departs from its subdistrict's rules on ``on``:
    one query, whatever the number of committees."""
    on = on or clock.today()
    wanted = set(area_ids)
    if not wanted:
        return set()
    rows = db.session.execute(
        select(Committee, Community.subdistrict_id, CommitteeRules, CommitteeMember, User)
        .join(ManagementArea, ManagementArea.id == Committee.area_id)
        .join(Community, Community.id == ManagementArea.community_id)
        .outerjoin(CommitteeRules, CommitteeRules.subdistrict_id == Community.subdistrict_id)
        .outerjoin(
            CommitteeMember,
            and_(
                CommitteeMember.committee_id == Committee.id,
                CommitteeMember.term_start <= on,
                CommitteeMember.term_end >= on,
            ),
        )
        .outerjoin(User, User.id == CommitteeMember.user_id)
        .where(Committee.area_id.in_(wanted))
    ).all()
    committees: dict[int, tuple[Committee, CommitteeRules, list[CommitteeMember]]] = {}
    for committee, subdistrict_id, rules, member, _user in rows:
        entry = committees.setdefault(
            committee.id,
            (
                committee,
                rules or CommitteeRules(subdistrict_id=subdistrict_id, **DEFAULT_RULES),
                [],
            ),
        )
        if member is not None:
            entry[2].append(member)
    return {
        committee.area_id
        for committee, rules, current in committees.values()
        if _findings(committee, current, rules)
    }

"""The roster: buildings, units, households, residents and unit representatives."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from flask import has_request_context
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, or_, select

from .. import access, audit, clock
from ..access import Action, Principal
from ..auth.models import Role, RoleGrant, User
from ..auth.service import find_or_create_user, grant, revoke
from ..errors import RuleError
from ..extensions import db
from .models import (
    Building,
    Compound,
    Consent,
    Household,
    Occupancy,
    Occupant,
    Relation,
    Unit,
)


def _sort_key(label: str) -> int:
    # isdecimal, not isdigit: labels may hold digits such as "፩" that int() refuses.
    digits = "".join(ch for ch in label if ch.isdecimal())
    return int(digits[:9]) if digits else 0


def add_building(compound: Compound, name: str, unit_count: int = 0) -> Building:
    if db.session.scalar(
        select(Building.id).where(Building.compound_id == compound.id, Building.name == name)
    ):
        raise RuleError(_("This compound already has a building of that name."), "name")
    building = Building(compound_id=compound.id, name=name, sort_key=_sort_key(name))
    db.session.add(building)
    audit.record("create", building)
    for n in range(1, unit_count + 1):
        add_unit(building, f"{n}单元")  # stored data, in the records' language
    return building


def add_unit(building: Building, name: str) -> Unit:
    if db.session.scalar(select(Unit.id).where(Unit.building_id == building.id, Unit.name == name)):
        raise RuleError(_("This building already has a unit of that name."), "name")
    unit = Unit(building_id=building.id, name=name, sort_key=_sort_key(name))
    db.session.add(unit)
    audit.record("create", unit)
    return unit


def _room_taken(unit: Unit, room: str, except_id: int | None = None) -> bool:
    stmt = select(Household.id).where(Household.unit_id == unit.id, Household.room == room)
    if except_id is not None:
        stmt = stmt.where(Household.id != except_id)
    return db.session.scalar(stmt) is not None


def _system(p: Principal | None) -> bool:
    """Whether the change is the system's own: a CLI job, the demo, a test's set-up, called
    with no principal and nobody signed in. A request reaches the roster only through a
    view that has checked its user, so a signed-in user is always asked about."""
    return p is None and not (has_request_context() and current_user.is_authenticated)


def _allowed(action: Action, obj: Any, p: Principal | None) -> bool:
    return _system(p) or access.can(action, obj, p)


def add_household(
    unit: Unit, room: str, area_dm2: int, occupancy: Occupancy, p: Principal | None = None
) -> Household:
    # A new home's floor area and occupancy make its bills from the next run on: setting
    # them takes fee rights, as changing them does (``update_household``).
    if not _allowed(Action.MANAGE_FEES, unit, p):
        raise RuleError(
            _(
                "A home's floor area and occupancy set its bills: only the committee can add "
                "a home. Give them the room number and the floor area on the property "
                "certificate."
            ),
            "area",
        )
    if _room_taken(unit, room):
        raise RuleError(_("Room %(room)s already exists in this unit.", room=room), "room")
    household = Household(
        unit_id=unit.id,
        room=room,
        sort_key=_sort_key(room),
        area_dm2=area_dm2,
        occupancy=occupancy,
    )
    db.session.add(household)
    unit.households.append(household)
    audit.record("create", household)
    return household


def update_household(
    household: Household,
    room: str,
    area_dm2: int,
    occupancy: Occupancy,
    p: Principal | None = None,
) -> bool:
    if _room_taken(household.unit, room, except_id=household.id):
        raise RuleError(_("Room %(room)s already exists in this unit.", room=room), "room")
    # Floor area and occupancy make the home's future bills: they belong to fee rights.
    for field, now, new in (
        ("area", household.area_dm2, area_dm2),
        ("occupancy", household.occupancy, occupancy),
    ):
        if now != new and not access.can(Action.MANAGE_FEES, household, p):
            raise RuleError(
                _("Floor area and occupancy set the bills: only the committee can change them."),
                field,
            )
    before = audit.snapshot(household)
    household.room, household.sort_key = room, _sort_key(room)
    household.area_dm2, household.occupancy = area_dm2, occupancy
    after = audit.snapshot(household)
    if after == before:
        return False
    audit.record("update", household, before, after)
    return True


def _mobile_taken(household: Household, mobile: str | None, except_id: int | None = None) -> bool:
    if not mobile:
        return False
    return any(o.mobile == mobile and o.id != except_id for o in household.occupants)


OWNERS = (Relation.OWNER, Relation.CO_OWNER)


def designated_owner(
    occupants: Sequence[Occupant], linking: Occupant | None = None
) -> Occupant | None:
    """The record through which a home votes: the owner, else the first co-owner; of
    several, one who set up their own account comes before one only typed in.

    ``linking``: a record about to be linked to an account, counted as linked already.
    """

    def first(found: list[Occupant]) -> list[Occupant]:
        return sorted(found, key=lambda o: (o.user_id is None and o is not linking, o.id))

    owners = [o for o in occupants if o.relation == Relation.OWNER]
    co_owners = [o for o in occupants if o.relation == Relation.CO_OWNER]
    chosen = first(owners) or first(co_owners)
    return chosen[0] if chosen else None


def in_open_vote(household: Household) -> bool:
    """Whether an owners' vote that counts this home is open now."""
    from ..votes.models import ElectorHome, Vote, VoteStatus

    return (
        db.session.scalar(
            select(ElectorHome.id)
            .join(Vote, Vote.id == ElectorHome.vote_id)
            .where(ElectorHome.household_id == household.id, Vote.status == VoteStatus.OPEN)
            .limit(1)
        )
        is not None
    )


def _guard_linked(occupant: Occupant, p: Principal | None, message: str, field: str | None) -> None:
    """A record its person linked to their own account (with the home's code) says who they
    are to the home, and so whether they vote for it: only the committee and community
    staff change what it is or remove it, at any time (a vote may be drafted and opened
    any day), and the change is on the audit trail like every roster change."""
    if occupant.user_id is not None and not _allowed(Action.CONSULT, occupant.household, p):
        raise RuleError(message, field)


def _guard_owner(household: Household, p: Principal | None) -> None:
    """Who a home's owner is stays put while a vote counts the home, except for the
    committee and community staff (who run votes); a representative waits for the close."""
    if in_open_vote(household) and not access.can(Action.CONSULT, household, p):
        raise RuleError(
            _(
                "An owners' vote that counts this home is open: until it closes, only the "
                "committee can change who owns it."
            )
        )


def add_occupant(
    household: Household,
    name: str,
    mobile: str | None,
    relation: Relation,
    p: Principal | None = None,
    *,
    consent: tuple[Consent | None, date | None] | None = None,
) -> Occupant:
    if _mobile_taken(household, mobile):
        raise RuleError(_("Someone in this household already has this mobile."), "mobile")
    if not mobile and any(o.name == name and not o.mobile for o in household.occupants):
        # Without a mobile the name is all that tells people apart: a second tap, not a twin.
        raise RuleError(_("%(name)s is already recorded in this household.", name=name), "name")
    if relation in OWNERS:
        _guard_owner(household, p)
    occupant = Occupant(
        household_id=household.id, name=name, mobile=mobile or None, relation=relation
    )
    if consent is not None:
        _set_consent(occupant, *consent)
    db.session.add(occupant)
    household.occupants.append(occupant)
    audit.record("create", occupant)
    return occupant


def update_occupant(
    occupant: Occupant,
    name: str,
    mobile: str | None,
    relation: Relation,
    p: Principal | None = None,
    *,
    consent: tuple[Consent | None, date | None] | None = None,
) -> None:
    """Change a record; ``consent`` (how, on) as the form shows it, None to leave it.

    Consent is given for one number: a new mobile drops it, unless the same form records
    consent anew (a way or date other than those shown for the old number).
    """
    if _mobile_taken(occupant.household, mobile, except_id=occupant.id):
        raise RuleError(_("Someone in this household already has this mobile."), "mobile")
    was = (occupant.name, occupant.mobile, occupant.relation)
    if relation != occupant.relation:
        _guard_linked(
            occupant,
            p,
            _(
                "%(name)s linked their own account to this home: only the committee can "
                "change how they are related to it.",
                name=occupant.name,
            ),
            "relation",
        )
    if was != (name, mobile or None, relation) and (was[2] in OWNERS or relation in OWNERS):
        _guard_owner(occupant.household, p)
    before = audit.snapshot(occupant)
    new_number = (mobile or None) != occupant.mobile
    occupant.name, occupant.mobile, occupant.relation = name, mobile or None, relation
    if consent is not None and not (new_number and consent == shown_consent(occupant)):
        _set_consent(occupant, *consent)
    elif new_number:
        occupant.consent_how = occupant.consent_at = occupant.consent_by_id = None
    if before != audit.snapshot(occupant):
        audit.record("update", occupant, before)


def remove_occupant(occupant: Occupant, p: Principal | None = None) -> None:
    """Someone moved out: the record goes, and so does their account's link to the home."""
    household = occupant.household
    _guard_linked(
        occupant,
        p,
        _(
            "%(name)s linked their own account to this home: only the committee can remove "
            "them from it.",
            name=occupant.name,
        ),
        None,
    )
    if occupant.relation in OWNERS:
        _guard_owner(household, p)
    if occupant.user_id is not None:
        link = db.session.scalar(
            select(RoleGrant).where(
                RoleGrant.user_id == occupant.user_id,
                RoleGrant.role == Role.RESIDENT,
                RoleGrant.household_id == household.id,
            )
        )
        if link is not None:
            revoke(link)
    before = audit.snapshot(occupant)
    household.occupants.remove(occupant)
    db.session.delete(occupant)
    audit.record("delete", occupant, before)


# --- consent to keep and use a mobile (个人信息保护法) ------------------------------------------
#
# Each roster mobile records how consent to keep and use it was given (a signed paper form,
# said in person to whoever keeps the roster, or by the resident online in the app), when,
# and who recorded it. A mobile without consent stays on the committee's own list, but the
# app sends it nothing (a sign-in code only to an owner, who asks for it: auth/codes.py).


def shown_consent(occupant: Occupant) -> tuple[Consent | None, date | None]:
    """A record's consent as a form shows it: the way, and the day in China."""
    if occupant.consent_how is None or occupant.consent_at is None:
        return None, None
    return Consent(occupant.consent_how), clock.local_date(occupant.consent_at)


def withdrawn_on(occupant: Occupant) -> date | None:
    """The day (in China) consent for this record's mobile was last withdrawn, if it was."""
    if occupant.consent_withdrawn_at is None:
        return None
    return clock.local_date(occupant.consent_withdrawn_at)


def consent_predates_withdrawal(occupant: Occupant, on: date | None) -> bool:
    """Whether consent given ``on`` that day is one the resident has since withdrawn: only
    consent given on a later day than the withdrawal records it again."""
    withdrawn = withdrawn_on(occupant)
    return withdrawn is not None and on is not None and on <= withdrawn


def _set_consent(occupant: Occupant, how: Consent | None, on: date | None) -> None:
    """Record (or, with ``how`` None, withdraw) consent as given on paper or in person.

    Online consent is the resident's own (``consent_online``): nobody records it for them,
    though a form that shows it unchanged keeps it. A withdrawal is remembered
    (``consent_withdrawn_at``): consent is recorded again only as given on a later day, so
    an old paper form, or last year's roster file, never brings it back.
    """
    if (how, on) == shown_consent(occupant):
        return
    if how is None:
        if on is not None:
            raise RuleError(_("Choose how consent was given, or clear the date."), "consent_how")
        occupant.consent_how = occupant.consent_at = occupant.consent_by_id = None
        occupant.consent_withdrawn_at = clock.now()
        return
    if not occupant.mobile:
        raise RuleError(
            _("Consent is about keeping and using a mobile: enter the mobile first."),
            "consent_how",
        )
    if how is Consent.ONLINE:
        raise RuleError(
            _("Only residents give consent online, themselves. Choose paper or in person."),
            "consent_how",
        )
    if on is None:
        raise RuleError(_("Enter the day consent was given."), "consent_on")
    if on > clock.today():
        raise RuleError(_("The day consent was given cannot be in the future."), "consent_on")
    if consent_predates_withdrawal(occupant, on):
        raise RuleError(withdrawn_message(occupant), "consent_on")
    occupant.consent_how = how.value
    occupant.consent_at = clock.start_of_day(on)
    occupant.consent_by_id = _actor_id()
    occupant.consent_withdrawn_at = None


def withdrawn_message(occupant: Occupant) -> str:
    from ..templating import fmt_date

    return _(
        "%(name)s withdrew consent for this mobile on %(day)s: consent given on that day or "
        "before cannot be recorded again. Record it only if they gave it anew, with that "
        "later day.",
        name=occupant.name,
        day=fmt_date(withdrawn_on(occupant)),
    )


def _actor_id() -> int | None:
    if has_request_context() and current_user.is_authenticated:
        return int(current_user.id)
    return None


def consent_online(user: User) -> int:
    """The resident consents, online, for their own records' mobiles that have none yet.

    Returns how many records it was recorded on (each audited).
    """
    count = 0
    for occupant in db.session.scalars(
        select(Occupant)
        .where(
            Occupant.user_id == user.id,
            Occupant.mobile.is_not(None),
            Occupant.consent_how.is_(None),
        )
        .order_by(Occupant.id)
    ):
        before = audit.snapshot(occupant)
        occupant.consent_how = Consent.ONLINE.value
        occupant.consent_at = clock.now()
        occupant.consent_by_id = user.id
        occupant.consent_withdrawn_at = None  # given anew, by the resident, now
        audit.record("consent", occupant, before, actor_id=user.id)
        count += 1
    return count


def own_records(user: User) -> list[Occupant]:
    """The roster records linked to this person's account, with their homes."""
    from sqlalchemy.orm import selectinload

    return list(
        db.session.scalars(
            select(Occupant)
            .where(Occupant.user_id == user.id)
            .options(
                selectinload(Occupant.household)
                .selectinload(Household.unit)
                .selectinload(Unit.building)
                .selectinload(Building.compound)
            )
            .order_by(Occupant.id)
        )
    )


def own_consent_missing(user: User) -> bool:
    """Whether any of this person's own records has a mobile kept without consent."""
    return (
        db.session.scalar(
            select(Occupant.id)
            .where(
                Occupant.user_id == user.id,
                Occupant.mobile.is_not(None),
                Occupant.consent_how.is_(None),
            )
            .limit(1)
        )
        is not None
    )


def consent_missing_count(unit_ids: Collection[int]) -> int:
    """Mobiles kept without consent in these units."""
    if not unit_ids:
        return 0
    return int(
        db.session.scalar(
            select(func.count(Occupant.id))
            .join(Household, Household.id == Occupant.household_id)
            .where(
                Household.unit_id.in_(unit_ids),
                Occupant.mobile.is_not(None),
                Occupant.consent_how.is_(None),
            )
        )
        or 0
    )


@dataclass(slots=True)
class MissingConsent:
    occupant_id: int
    name: str
    mobile: str
    relation: str
    household_id: int
    room: str
    unit_id: int


def consent_missing(unit_ids: Collection[int], limit: int, offset: int = 0) -> list[MissingConsent]:
    """Whose consent is missing in these units, room by room (a page of them)."""
    if not unit_ids:
        return []
    rows = db.session.execute(
        select(
            Occupant.id,
            Occupant.name,
            Occupant.mobile,
            Occupant.relation,
            Household.id,
            Household.room,
            Household.unit_id,
        )
        .join(Household, Household.id == Occupant.household_id)
        .where(
            Household.unit_id.in_(unit_ids),
            Occupant.mobile.is_not(None),
            Occupant.consent_how.is_(None),
        )
        .order_by(Household.unit_id, Household.sort_key, Household.room, Occupant.id)
        .limit(limit)
        .offset(offset)
    )
    return [
        MissingConsent(oid, name, mobile or "", relation, household_id, room, unit_id)
        for oid, name, mobile, relation, household_id, room, unit_id in rows
    ]


# --- signing in with a code sent to a roster mobile ---------------------------------------------


def linkable_by_mobile(mobile: str) -> list[Occupant]:
    """Records a code sent to ``mobile`` links to that number's account (first by id).

    The records bearing the number and linked to no account yet, whose number (and
    relation) were put there by someone the home may trust with it: the system or an
    import, the committee or community staff (who run the home's votes), or a resident of
    that very home. Never one a representative typed in: whoever keeps a stairwell's roster
    would otherwise add themselves as 家属 to any home of it and, with a code to their own
    phone, read its bills and its messages. Such a record is linked with the home's printed
    code instead. And of an owner's or co-owner's record (how a home votes online), never
    one that would vote in place of an owner who linked their own account: the same rules
    as for household codes (``owner_link_refusal``).
    """
    found = []
    for occupant in db.session.scalars(
        select(Occupant)
        .where(Occupant.mobile == mobile, Occupant.user_id.is_(None))
        .order_by(Occupant.id)
    ):
        if _details_set_by_the_home(occupant) and (
            occupant.relation not in OWNERS or not _displaces_a_linked_owner(occupant)
        ):
            found.append(occupant)
    return found


def _displaces_a_linked_owner(occupant: Occupant) -> bool:
    household = occupant.household
    now = designated_owner(household.occupants)
    return (
        now is not None
        and now is not occupant
        and now.user_id is not None
        and designated_owner(household.occupants, linking=occupant) is occupant
    )


def _details_set_by_the_home(occupant: Occupant) -> bool:
    """Whether the record's mobile and relation were last set by the system (an import by
    the committee counts as theirs), the committee or staff, or one of the home's own
    residents; not by a representative or anybody else."""
    setter = _owner_details_set_by(occupant)
    if setter is None:
        return True
    setter_user = db.session.get(User, setter)
    if setter_user is None:
        return False
    p = access.load_principal(setter_user)
    return (
        access.can(Action.CONSULT, occupant.household, p)
        or occupant.household_id in p.resident_households
    )


def may_get_code(occupants: Sequence[Occupant]) -> bool:
    """Whether a sign-in code may be sent to these records' number (no account has it):
    one of them has consent recorded, or is an owner's or co-owner's, who asks for the
    code themselves and can then consent online."""
    return any(o.consent_how is not None or o.relation in OWNERS for o in occupants)


def link_by_code(user: User, occupants: Sequence[Occupant]) -> None:
    """Link the records to the account that proved it holds their mobile, and give it
    each home (audited, as a household code would)."""
    for occupant in occupants:
        before = audit.snapshot(occupant)
        occupant.user_id = user.id
        audit.record("link", occupant, before)
        grant(user, Role.RESIDENT, occupant.household_id, granted_by=None)


# --- linking an account to a record with the home's code ------------------------------------


def _owner_details_set_by(occupant: Occupant) -> int | None:
    """Who last put this record's mobile or relation where they are (None: the system)."""
    from ..audit import AuditLog

    rows = db.session.scalars(
        select(AuditLog)
        .where(
            AuditLog.entity == Occupant.__tablename__,
            AuditLog.entity_id == occupant.id,
            AuditLog.action.in_(("create", "update")),
        )
        .order_by(AuditLog.id.desc())
    )
    for row in rows:
        before, after = row.before or {}, row.after or {}
        if row.action == "create" or any(
            before.get(key) != after.get(key) for key in ("mobile", "relation")
        ):
            return row.user_id
    return None


def owner_link_refusal(occupant: Occupant, user: User) -> str | None:
    """Why a household code must not link ``user`` to ``occupant``, an owner's or co-owner's
    record (None: it may).

    The code links the account to the record bearing its mobile, and a linked owner's
    record is how an owner votes online. So the holder of a code must not become an owner's
    elector by steering which record that is: not by putting their own mobile on an owner's
    record (a representative keeps the roster), and not by claiming a second owner's record
    that would then vote in place of the owner who already linked their account.
    """
    if occupant.relation not in OWNERS:
        return None
    household = occupant.household
    now = designated_owner(household.occupants)
    if (
        now is not None
        and now is not occupant
        and now.user_id not in (None, user.id)
        and designated_owner(household.occupants, linking=occupant) is occupant
    ):
        return _(
            "This home's owner already votes through their own account: another owner's "
            "record cannot take their place. Ask the committee to check the roster."
        )
    if _owner_details_set_by(occupant) == user.id and not access.can(
        Action.CONSULT, household, access.load_principal(user)
    ):
        return _(
            "You entered this owner's record yourself, so a code cannot link you to it as the "
            "owner. Ask the committee to check the record first."
        )
    return None


# --- representatives ------------------------------------------------------------------------


def representative(unit: Unit) -> RoleGrant | None:
    return db.session.scalar(
        select(RoleGrant).where(RoleGrant.role == Role.UNIT_REP, RoleGrant.unit_id == unit.id)
    )


def residents_with_mobiles(unit: Unit) -> list[Occupant]:
    """The people of a stairwell who could be its representative, in one query."""
    return list(
        db.session.scalars(
            select(Occupant)
            .join(Household, Household.id == Occupant.household_id)
            .where(Household.unit_id == unit.id, Occupant.mobile.is_not(None))
            .order_by(Household.sort_key, Household.room, Occupant.id)
        )
    )


def assign_representative(unit: Unit, mobile: str, name: str, actor: User | None) -> User:
    current = representative(unit)
    user = find_or_create_user(mobile, name)
    if current is not None:
        if current.user_id == user.id:
            return user
        revoke(current)
        db.session.flush()
    grant(user, Role.UNIT_REP, unit.id, granted_by=actor)
    return user


def remove_representative(unit: Unit) -> None:
    current = representative(unit)
    if current is None:
        raise RuleError(_("This unit has no representative."))
    revoke(current)


# --- what the roster pages show --------------------------------------------------------------


@dataclass
class Coverage:
    covered: int
    total: int

    @property
    def complete(self) -> bool:
        return self.total > 0 and self.covered == self.total


def coverage(totals: Counts, reps: dict[int, User]) -> Coverage:
    """How many of the counted units have a representative."""
    return Coverage(
        covered=sum(1 for unit_id in totals.per_unit if unit_id in reps), total=totals.units
    )


@dataclass
class Counts:
    buildings: int
    units: int
    households: int
    occupants: int
    area_dm2: int
    by_occupancy: dict[str, int]
    per_unit: dict[int, int]


def counts(compound: Compound, unit_ids: list[int] | None = None) -> Counts:
    """Totals for the compound page (or some of its units), counted by the database."""
    if unit_ids is None:
        unit_ids = [u.id for b in compound.buildings for u in b.units]
    by_occupancy = {o.value: 0 for o in Occupancy}
    per_unit = dict.fromkeys(unit_ids, 0)
    area = 0
    if unit_ids:
        rows = db.session.execute(
            select(
                Household.unit_id,
                Household.occupancy,
                func.count(Household.id),
                func.coalesce(func.sum(Household.area_dm2), 0),
            )
            .where(Household.unit_id.in_(unit_ids))
            .group_by(Household.unit_id, Household.occupancy)
        )
        for unit_id, occupancy, n, area_sum in rows:
            per_unit[unit_id] += n
            by_occupancy[occupancy] += n
            area += area_sum
    occupants = (
        db.session.scalar(
            select(func.count(Occupant.id))
            .join(Household, Household.id == Occupant.household_id)
            .where(Household.unit_id.in_(unit_ids))
        )
        if unit_ids
        else 0
    )
    return Counts(
        buildings=len(compound.buildings),
        units=len(unit_ids),
        households=sum(per_unit.values()),
        occupants=occupants or 0,
        area_dm2=area,
        by_occupancy=by_occupancy,
        per_unit=per_unit,
    )


def units_of_households(household_ids: set[int], unit_ids: list[int]) -> set[int]:
    """Which of ``unit_ids`` hold one of ``household_ids`` (a resident's homes)."""
    if not household_ids or not unit_ids:
        return set()
    return set(
        db.session.scalars(
            select(Household.unit_id).where(
                Household.id.in_(household_ids), Household.unit_id.in_(unit_ids)
            )
        )
    )


@dataclass(slots=True)
class RosterOccupant:
    id: int
    name: str
    mobile: str | None
    relation: str


@dataclass(slots=True)
class RosterHousehold:
    """A household as the roster shows it: plain values, cheap to load by the hundred."""

    id: int
    unit_id: int
    room: str
    area_dm2: int
    occupancy: str
    occupants: list[RosterOccupant]


def roster(
    unit_ids: Collection[int], household_ids: Collection[int] = frozenset()
) -> dict[int, list[RosterHousehold]]:
    """Households (with their occupants) of ``unit_ids`` plus ``household_ids``, by unit."""
    if not unit_ids and not household_ids:
        return {}
    which = or_(Household.unit_id.in_(unit_ids), Household.id.in_(household_ids))
    homes: dict[int, RosterHousehold] = {}
    by_unit: dict[int, list[RosterHousehold]] = {}
    rows = db.session.execute(
        select(
            Household.id, Household.unit_id, Household.room, Household.area_dm2, Household.occupancy
        )
        .where(which)
        .order_by(Household.unit_id, Household.sort_key, Household.room)
    )
    for hid, unit_id, room, area_dm2, occupancy in rows:
        home = RosterHousehold(hid, unit_id, room, area_dm2, occupancy, [])
        homes[hid] = home
        by_unit.setdefault(unit_id, []).append(home)
    people = db.session.execute(
        select(
            Occupant.household_id, Occupant.id, Occupant.name, Occupant.mobile, Occupant.relation
        )
        .join(Household, Household.id == Occupant.household_id)
        .where(which)
        .order_by(Occupant.id)
    )
    for household_id, oid, name, mobile, relation in people:
        homes[household_id].occupants.append(RosterOccupant(oid, name, mobile, relation))
    return by_unit


def representatives_by_unit(compound: Compound) -> dict[int, User]:
    rows = db.session.execute(
        select(RoleGrant.unit_id, User)
        .join(User, User.id == RoleGrant.user_id)
        .join(Unit, Unit.id == RoleGrant.unit_id)
        .join(Building, Building.id == Unit.building_id)
        .where(RoleGrant.role == Role.UNIT_REP, Building.compound_id == compound.id)
    )
    return {unit_id: user for unit_id, user in rows if unit_id is not None}


# A roster up to this many rows is shown whole; a larger one opens building by building.
ROSTER_INLINE_ROWS = 60


def page_context(
    compound: Compound, buildings: list[Building], *, expand_all: bool
) -> dict[str, Any]:
    """What the roster templates need for ``buildings``, loading rows only where shown.

    Each user sees the households they may: all of them for the committee and staff, the
    stairwell for its representative, the home for a resident. Rows of a large roster are
    loaded per building when it is opened (htmx), so the page stays light on a phone.
    """
    p = access.principal()
    units = [u for b in buildings for u in b.units]
    roster_units = {u.id for u in units if access.can(Action.VIEW_ROSTER, u)}
    totals = counts(compound, [u.id for u in units])
    own_units = {u.id for u in units if u.id in p.rep_units}
    own_households = set(p.resident_households)
    visible_rows = sum(totals.per_unit[u] for u in roster_units)
    homes = units_of_households(own_households, [u.id for u in units])
    mine = {b.id for b in buildings if any(u.id in own_units or u.id in homes for u in b.units)}
    if expand_all or visible_rows <= ROSTER_INLINE_ROWS:
        expanded = {b.id for b in buildings}
    else:
        expanded = mine
    shown_units = {u.id for b in buildings if b.id in expanded for u in b.units}
    editable_units = {
        u.id for u in units if u.id in roster_units and access.can(Action.EDIT_ROSTER, u)
    }
    return {
        "counts": totals,
        "consent_missing": consent_missing_count(editable_units),
        "reps": representatives_by_unit(compound),
        "households": roster(roster_units & shown_units, own_households),
        "building_households": {
            b.id: sum(totals.per_unit[u.id] for u in b.units) for b in buildings
        },
        "expanded": expanded,
        # A few buildings are shown open; of many, only the user's own.
        "open_buildings": expanded if len(buildings) <= 4 else expanded & mine,
        "roster_units": roster_units,
        "editable_units": editable_units,
        "contact_units": {
            u.id for u in units if u.id in roster_units and access.can(Action.VIEW_CONTACTS, u)
        },
        "own_households": own_households,
    }

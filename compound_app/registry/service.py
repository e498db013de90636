"""Rules of the organisation tree and of the three management models."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from flask_babel import gettext as _
from sqlalchemy import func, or_, select

from .. import audit
from ..auth.models import Role, RoleGrant, User
from ..auth.service import grant, revoke
from ..errors import RuleError
from ..extensions import db
from ..templating import fmt_date
from .models import (
    Building,
    Community,
    Compound,
    Household,
    ManagementArea,
    ManagementModel,
    ModelChange,
    Occupancy,
    Occupant,
    PartyOrganisation,
    PartyOrgKind,
    Pilot,
    PilotStage,
    Relation,
    Subdistrict,
    Unit,
)

# A contiguous area groups 3–5 compounds; 2 or 6 are allowed with a warning.
CONTIGUOUS_GOOD = range(3, 6)
CONTIGUOUS_ALLOWED = range(2, 7)


# --- communities, compounds and areas ---------------------------------------------------


def next_area_code(community: Community) -> str:
    taken = set(
        db.session.scalars(
            select(ManagementArea.code).where(ManagementArea.community_id == community.id)
        )
    )
    n = len(taken) + 1
    while f"{community.code}{n:02d}" in taken:
        n += 1
    return f"{community.code}{n:02d}"


def create_community(subdistrict: Subdistrict, name: str, code: str) -> Community:
    if db.session.scalar(
        select(Community.id).where(
            Community.subdistrict_id == subdistrict.id, Community.name == name
        )
    ):
        raise RuleError(_("A community of that name already exists."), "name")
    if db.session.scalar(select(Community.id).where(Community.code == code)):
        raise RuleError(_("This code is already used by another community."), "code")
    community = Community(subdistrict_id=subdistrict.id, name=name, code=code)
    db.session.add(community)
    audit.record("create", community)
    return community


def create_compound(community: Community, name: str, address: str = "") -> Compound:
    if db.session.scalar(
        select(Compound.id).where(Compound.community_id == community.id, Compound.name == name)
    ):
        raise RuleError(_("This community already has a compound of that name."), "name")
    area = ManagementArea(community_id=community.id, name=name, code=next_area_code(community))
    db.session.add(area)
    db.session.flush()
    compound = Compound(
        community_id=community.id,
        area_id=area.id,
        name=name,
        address=address,
        model=ManagementModel.UNMANAGED,
    )
    db.session.add(compound)
    audit.record("create", compound)
    return compound


def area_size_warning(area: ManagementArea, size: int | None = None) -> str | None:
    size = len(area.compounds) if size is None else size
    if not any(c.model == ManagementModel.CONTIGUOUS for c in area.compounds):
        return None
    if size in CONTIGUOUS_GOOD:
        return None
    return _("A contiguous area normally groups 3 to 5 compounds; this one has %(n)d.", n=size)


def _record_model(
    compound: Compound, to_model: ManagementModel, effective_on: date, reason: str
) -> None:
    if compound.model == to_model:
        return
    before = audit.snapshot(compound)
    db.session.add(
        ModelChange(
            compound_id=compound.id,
            from_model=compound.model,
            to_model=to_model,
            effective_on=effective_on,
            reason=reason,
            changed_by_id=_actor_id(),
        )
    )
    compound.model = to_model
    compound.model_since = effective_on
    audit.record("model_change", compound, before)


def change_model(
    compound: Compound, to_model: ManagementModel, effective_on: date, reason: str
) -> None:
    """Change a compound's model, dated; contiguity is set up through areas instead."""
    if to_model == compound.model:
        raise RuleError(_("The compound already uses this model."), "model")
    if to_model == ManagementModel.CONTIGUOUS:
        raise RuleError(
            _("To manage compounds contiguously, group them into one area on the community page."),
            "model",
        )
    if compound.model == ManagementModel.CONTIGUOUS and len(compound.area.compounds) > 1:
        raise RuleError(
            _("Take the compound out of its contiguous area first (on the area page)."), "model"
        )
    last = db.session.scalar(
        select(func.max(ModelChange.effective_on)).where(ModelChange.compound_id == compound.id)
    )
    if last is not None and effective_on < last:
        raise RuleError(
            _("The date cannot be before the last change (%(d)s).", d=fmt_date(last)),
            "effective_on",
        )
    _record_model(compound, to_model, effective_on, reason)


def eligible_for_area(community: Community) -> list[Compound]:
    """Compounds of the community that are not yet part of a multi-compound area."""
    alone = (
        select(Compound.area_id)
        .where(Compound.community_id == community.id)
        .group_by(Compound.area_id)
        .having(func.count(Compound.id) == 1)
    )
    return list(
        db.session.scalars(
            select(Compound)
            .where(Compound.community_id == community.id, Compound.area_id.in_(alone))
            .order_by(Compound.name)
        )
    )


def form_contiguous_area(
    community: Community, compounds: list[Compound], name: str, effective_on: date
) -> ManagementArea:
    if len(compounds) not in CONTIGUOUS_ALLOWED:
        raise RuleError(
            _("Choose between 2 and 6 compounds (3 to 5 is the usual size)."), "compounds"
        )
    for compound in compounds:
        if compound.community_id != community.id:
            raise RuleError(_("All compounds must belong to this community."), "compounds")
        if len(compound.area.compounds) > 1:
            raise RuleError(
                _("%(name)s already belongs to a contiguous area.", name=compound.name),
                "compounds",
            )
    area = ManagementArea(community_id=community.id, name=name, code=next_area_code(community))
    db.session.add(area)
    db.session.flush()
    audit.record("create", area)
    for compound in compounds:
        _move(compound, area)
        _record_model(compound, ManagementModel.CONTIGUOUS, effective_on, name)
    return area


def add_to_area(area: ManagementArea, compound: Compound, effective_on: date) -> None:
    if compound.community_id != area.community_id:
        raise RuleError(_("The compound belongs to another community."), "compound")
    if compound.area_id == area.id or len(compound.area.compounds) > 1:
        raise RuleError(
            _("%(name)s already belongs to a contiguous area.", name=compound.name), "compound"
        )
    if len(area.compounds) + 1 not in CONTIGUOUS_ALLOWED:
        raise RuleError(_("A contiguous area can have at most 6 compounds."), "compound")
    _move(compound, area)
    _record_model(compound, ManagementModel.CONTIGUOUS, effective_on, area.name)


def remove_from_area(compound: Compound, effective_on: date) -> ManagementArea:
    """The compound leaves its contiguous area for an area of its own, unmanaged again."""
    area = compound.area
    if len(area.compounds) <= 2:
        raise RuleError(
            _("A contiguous area needs at least 2 compounds; this one would keep only one.")
        )
    community = compound.community
    own = ManagementArea(
        community_id=community.id, name=compound.name, code=next_area_code(community)
    )
    db.session.add(own)
    db.session.flush()
    _move(compound, own)
    _record_model(compound, ManagementModel.UNMANAGED, effective_on, area.name)
    return own


def _move(compound: Compound, area: ManagementArea) -> None:
    before = audit.snapshot(compound)
    compound.area = area  # the back-reference also takes it out of the old area's list
    audit.record("move_area", compound, before)


def set_party_organisation(
    compound: Compound,
    kind: PartyOrgKind,
    name: str,
    secretary_name: str,
    member_count: int,
    founded_on: date | None,
) -> PartyOrganisation:
    org = compound.party_organisation
    before = audit.snapshot(org) if org else None
    if org is None:
        org = PartyOrganisation(compound_id=compound.id)
        db.session.add(org)
        compound.party_organisation = org
    org.kind, org.name, org.secretary_name = kind, name, secretary_name
    org.member_count, org.founded_on = member_count, founded_on
    audit.record("update" if before else "create", org, before)
    return org


def select_pilot(compound: Compound, selected_on: date) -> Pilot:
    if compound.pilot is not None:
        raise RuleError(_("This compound is already a pilot."))
    pilot = Pilot(
        compound_id=compound.id,
        selected_on=selected_on,
        stage=PilotStage.SELECTED,
        stage_since=selected_on,
    )
    db.session.add(pilot)
    compound.pilot = pilot
    audit.record("create", pilot)
    return pilot


# --- the roster: buildings, units, households, occupants ---------------------------------


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


def add_household(unit: Unit, room: str, area_dm2: int, occupancy: Occupancy) -> Household:
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


def update_household(household: Household, room: str, area_dm2: int, occupancy: Occupancy) -> bool:
    if _room_taken(household.unit, room, except_id=household.id):
        raise RuleError(_("Room %(room)s already exists in this unit.", room=room), "room")
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


def add_occupant(
    household: Household, name: str, mobile: str | None, relation: Relation
) -> Occupant:
    if _mobile_taken(household, mobile):
        raise RuleError(_("Someone in this household already has this mobile."), "mobile")
    occupant = Occupant(
        household_id=household.id, name=name, mobile=mobile or None, relation=relation
    )
    db.session.add(occupant)
    household.occupants.append(occupant)
    audit.record("create", occupant)
    return occupant


def update_occupant(occupant: Occupant, name: str, mobile: str | None, relation: Relation) -> None:
    if _mobile_taken(occupant.household, mobile, except_id=occupant.id):
        raise RuleError(_("Someone in this household already has this mobile."), "mobile")
    before = audit.snapshot(occupant)
    occupant.name, occupant.mobile, occupant.relation = name, mobile or None, relation
    if before != audit.snapshot(occupant):
        audit.record("update", occupant, before)


def remove_occupant(occupant: Occupant) -> None:
    """Someone moved out: the record goes, and so does their account's link to the home."""
    household = occupant.household
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


# --- representatives and people -----------------------------------------------------------


def find_or_create_user(mobile: str, name: str) -> User:
    user = db.session.scalar(select(User).where(User.mobile == mobile))
    if user is None:
        user = User(mobile=mobile, name=name)
        db.session.add(user)
        audit.record("create", user)
    return user


def representative(unit: Unit) -> RoleGrant | None:
    return db.session.scalar(
        select(RoleGrant).where(RoleGrant.role == Role.UNIT_REP, RoleGrant.unit_id == unit.id)
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


# --- the compound page ----------------------------------------------------------------------


@dataclass
class Coverage:
    covered: int
    total: int

    @property
    def complete(self) -> bool:
        return self.total > 0 and self.covered == self.total


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
    unit_ids: set[int], household_ids: set[int] = frozenset()
) -> dict[int, list[RosterHousehold]]:  # type: ignore[assignment]
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
    return dict(rows.all())


def model_checks(compound: Compound, coverage: Coverage, community_staff: list[User]) -> list[str]:
    """What the compound's model expects but the records do not yet show."""
    problems: list[str] = []
    org = compound.party_organisation
    match compound.model:
        case ManagementModel.CONTIGUOUS:
            warning = area_size_warning(compound.area)
            if warning:
                problems.append(warning)
        case ManagementModel.PARTY_BRANCH:
            if org is None or org.kind != PartyOrgKind.BRANCH:
                problems.append(_("A branch-managed compound needs its party branch recorded."))
            if not coverage.complete:
                problems.append(
                    _(
                        "Every unit should have a representative: %(c)d of %(t)d have one.",
                        c=coverage.covered,
                        t=coverage.total,
                    )
                )
        case ManagementModel.TRUSTEESHIP:
            if org is None or org.kind != PartyOrgKind.GROUP:
                problems.append(_("A trusteeship compound needs its party group recorded."))
            if not community_staff:
                problems.append(_("The community has no staff account to manage this compound."))
    return problems


def community_staff(community_id: int) -> list[User]:
    return list(
        db.session.scalars(
            select(User)
            .join(RoleGrant, RoleGrant.user_id == User.id)
            .where(RoleGrant.role == Role.COMMUNITY_STAFF, RoleGrant.community_id == community_id)
            .order_by(User.name)
        )
    )


def _actor_id() -> int | None:
    from flask import has_request_context
    from flask_login import current_user

    if has_request_context() and current_user.is_authenticated:
        return current_user.id
    return None

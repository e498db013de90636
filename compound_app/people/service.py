"""Accounts managed by staff: create, enable or disable, and describe their roles."""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import select

from .. import access, audit
from ..auth.models import Role, RoleGrant, User
from ..auth.service import end_other_sessions
from ..extensions import db
from ..registry.models import (
    Building,
    Community,
    Compound,
    Household,
    ManagementArea,
    Subdistrict,
    Unit,
)
from ..registry.service import RegistryError


def create_person(name: str, mobile: str) -> User:
    if db.session.scalar(select(User.id).where(User.mobile == mobile)):
        raise RegistryError(_("An account with this mobile number already exists."), "mobile")
    user = User(name=name, mobile=mobile)
    db.session.add(user)
    audit.record("create", user)
    return user


_SCOPE_MODELS = {
    Role.SUBDISTRICT_ADMIN: Subdistrict,
    Role.COMMUNITY_STAFF: Community,
    Role.COMMITTEE_MEMBER: ManagementArea,
    Role.UNIT_REP: Unit,
    Role.RESIDENT: Household,
}


def can_manage_account(user: User, p: access.Principal | None = None) -> bool:
    """May the acting staff member reset this account's password or disable it?

    Both act on every role the account holds, so each of them must lie within the actor's
    own reach. Otherwise community staff could print an activation code for, say, the
    subdistrict admin who happens to live in one of their compounds, and sign in as them.
    """
    for g in user.grants:
        model = _SCOPE_MODELS[Role(g.role)]
        obj = db.session.get(model, g.scope_id)
        if obj is None or not access.can(access.Action.MANAGE_PEOPLE, obj, p):
            return False
    return True


def set_enabled(user: User, enabled: bool) -> None:
    if user.is_enabled == enabled:
        return
    before = {"is_enabled": user.is_enabled}
    user.is_enabled = enabled
    if not enabled:
        end_other_sessions(user)
    audit.record("enable" if enabled else "disable", user, before, {"is_enabled": enabled})


@dataclass
class GrantView:
    grant: RoleGrant
    place: str
    url_args: tuple[str, dict[str, int]] | None


def describe_grants(user: User) -> list[GrantView]:
    """Each of a user's roles with the place it applies to, in a fixed number of queries."""
    grants = list(user.grants)
    by_role: dict[str, set[int]] = {}
    for g in grants:
        by_role.setdefault(g.role, set()).add(g.scope_id)
    places: dict[tuple[str, int], tuple[str, tuple[str, dict[str, int]] | None]] = {}
    if ids := by_role.get(Role.COMMUNITY_STAFF):
        for c in db.session.scalars(select(Community).where(Community.id.in_(ids))):
            places[(Role.COMMUNITY_STAFF, c.id)] = (
                c.name,
                ("registry.community", {"community_id": c.id}),
            )
    if ids := by_role.get(Role.COMMITTEE_MEMBER):
        for a in db.session.scalars(select(ManagementArea).where(ManagementArea.id.in_(ids))):
            places[(Role.COMMITTEE_MEMBER, a.id)] = (a.name, ("committees.area", {"area_id": a.id}))
    if ids := by_role.get(Role.UNIT_REP):
        rows = db.session.execute(
            select(Unit.id, Unit.name, Building.name, Compound.name, Compound.id)
            .join(Building, Building.id == Unit.building_id)
            .join(Compound, Compound.id == Building.compound_id)
            .where(Unit.id.in_(ids))
        )
        for uid, unit, building, compound, cid in rows:
            places[(Role.UNIT_REP, uid)] = (
                "-".join((compound, building, unit)),
                ("registry.compound", {"compound_id": cid}),
            )
    if ids := by_role.get(Role.RESIDENT):
        rows = db.session.execute(
            select(Household.id, Household.room, Unit.name, Building.name, Compound.name)
            .join(Unit, Unit.id == Household.unit_id)
            .join(Building, Building.id == Unit.building_id)
            .join(Compound, Compound.id == Building.compound_id)
            .where(Household.id.in_(ids))
        )
        for hid, room, unit, building, compound in rows:
            places[(Role.RESIDENT, hid)] = (
                "-".join((compound, building, unit, room)),
                ("registry.household", {"household_id": hid}),
            )
    views = []
    for g in grants:
        place, url = places.get((g.role, g.scope_id), ("", None))
        if g.role == Role.SUBDISTRICT_ADMIN:
            place = _("the whole subdistrict")
        views.append(GrantView(g, place, url))
    return views

"""Accounts managed by staff: create, enable or disable, and describe their roles."""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import select

from .. import access, audit
from ..auth.models import Role, RoleGrant, User
from ..auth.service import end_other_sessions
from ..errors import RuleError
from ..extensions import db
from ..registry.models import Community, Household, ManagementArea, Subdistrict, Unit


def create_person(name: str, mobile: str) -> User:
    if db.session.scalar(select(User.id).where(User.mobile == mobile)):
        raise RuleError(_("An account with this mobile number already exists."), "mobile")
    user = User(name=name, mobile=mobile)
    db.session.add(user)
    audit.record("create", user)
    return user


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
    """Each of a user's roles with the place it applies to.

    A place outside the viewer's reach is named only as "elsewhere": staff of one
    community must not learn another community's addresses through a shared person.
    """
    views = []
    for g in user.grants:
        role = Role(g.role)
        obj = db.session.get(access.SCOPE_MODELS[role], g.scope_id)
        if role is not Role.SUBDISTRICT_ADMIN and (
            obj is None or not access.can(access.Action.VIEW, obj)
        ):
            views.append(GrantView(g, _("elsewhere (another community)"), None))
            continue
        place: str
        url: tuple[str, dict[str, int]] | None
        match obj:
            case Subdistrict():
                place, url = _("the whole subdistrict"), None
            case Community():
                place, url = obj.name, ("registry.community", {"community_id": obj.id})
            case ManagementArea():
                place, url = obj.name, ("committees.area", {"area_id": obj.id})
            case Unit():
                building = obj.building
                place = "-".join((building.compound.name, building.name, obj.name))
                url = ("registry.compound", {"compound_id": building.compound_id})
            case Household():
                building = obj.unit.building
                place = "-".join((building.compound.name, building.name, obj.unit.name, obj.room))
                url = ("registry.household", {"household_id": obj.id})
        views.append(GrantView(g, place, url))
    return views

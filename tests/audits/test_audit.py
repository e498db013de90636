"""The audit rule (docs/ARCHITECTURE.md §3.3), route by route: every change leaves its
audit row, in the same transaction as the change.

Every route of ``app.url_map`` that accepts POST (the same set as ``test_hostile.FORMS``)
is either in ``CASES``, with one valid request as a role allowed to make it, or in
``NOT_AUDITED`` with the reason; a new route in neither fails
``test_every_post_route_is_audited_or_excused``.

For each case, ``test_route_writes_its_audit_row`` checks that:

- when the audit write fails (``audit.record`` raises after adding its row, or the
  database refuses the audit row's INSERT), the change is not saved either: every table
  is as it was, and the answer is a 500, not a success with half a change;
- the valid request succeeds and writes at least one audit row; every new row names the
  signed-in user (or, signed out with a code, the account being set up), an action, a
  recent aware UTC time and the client's address, and keeps no secrets; and the rows the
  case expects
  name the changed record and hold its new values (``after``), or for a deletion the old
  ones (``before``).
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import event, func, select

from compound_app import audit, clock
from compound_app.audit import SECRET_FIELDS, AuditLog
from compound_app.auth import service as auth_service
from compound_app.auth.models import InviteCode, Role, RoleGrant, User
from compound_app.committees import service as committees
from compound_app.committees.models import Background, Committee, CommitteeMember, Position
from compound_app.extensions import db
from compound_app.registry.models import (
    Building,
    Community,
    Compound,
    Household,
    ManagementArea,
    Occupant,
    PartyOrganisation,
    Unit,
)
from tests.audits.test_hostile import (
    FORMS,
    HEADER,
    UNCHECKED_TABLES,
    _snapshot_query,
    csv_upload,
    fields_of,
)
from tests.factories import PASSWORD, World, first_household, first_unit, mobile

# Endpoint → why a successful request needs no audit row.
NOT_AUDITED: dict[str, str] = {
    "auth.login": "starts a login session (user_session) or counts a failed attempt "
    "(login_attempt); changes no people, money, roles or task status",
    "auth.logout": "ends the login session only",
    "auth.language": "stores the display language in the session and as the user's own "
    "preference; no people, roles or roster data",
    "auth.text_size": "stores the text size (large text) in a cookie and as the user's own "
    "preference, like the display language; no people, roles or roster data",
    "registry.import_roster": "reads the file and previews the plan; writes nothing "
    "(registry.import_confirm applies it, audited)",
    # --- signin ---
    "auth.code_request": "stores a request for a sign-in code (login_code) and its SMS "
    "(outbox); changes no people, money, roles or task status",
    # --- end signin ---
    # --- messages ---
    "messages.open_message": "marks one of the person's own messages read; no people, roles, "
    "money or task status",
    "messages.read_all": "marks the person's own messages read",
    "messages.sms_choices": "stores the person's own choice of SMS, like the display language; "
    "no people, roles or roster data",
}


# --- what a case sends and what it expects -------------------------------------------------


@dataclass
class Changed:
    """An audit row the request must write: its entity and id, and values it must hold
    (a callable value is a predicate) in ``after``, or in ``before`` for a deletion."""

    entity: str
    entity_id: int
    values: dict[str, Any]
    action: str | None = None
    deleted: bool = False


def changed(obj: Any, action: str | None = None, **values: Any) -> Changed:
    assert obj is not None, "the changed record was not found"
    return Changed(obj.__tablename__, obj.id, values, action)


def deleted(entity: str, entity_id: int, action: str | None = None, **values: Any) -> Changed:
    return Changed(entity, entity_id, values, action, deleted=True)


@dataclass
class Post:
    url: str
    data: dict[str, Any]
    expect: Callable[[], list[Changed]]  # run after the request, against the saved records
    status: int = 303
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Case:
    endpoint: str
    role: str | None  # None: nobody signed in
    build: Callable[[World, Any], Post]


CASES: dict[str, Case] = {}


def case(endpoint: str, role: str | None, variant: str = "") -> Callable[[Any], Any]:
    def register(build: Callable[[World, Any], Post]) -> Callable[[World, Any], Post]:
        name = f"{endpoint}[{variant}]" if variant else endpoint
        assert name not in CASES, name
        CASES[name] = Case(endpoint, role, build)
        return build

    return register


def one(stmt: Any) -> Any:
    found = db.session.scalars(stmt).one_or_none()
    assert found is not None, f"nothing found for {stmt}"
    return found


def user_by_mobile(number: str) -> User:
    return one(select(User).where(User.mobile == number))


def grant_of(user_id: int, role: Role) -> RoleGrant:
    return one(select(RoleGrant).where(RoleGrant.user_id == user_id, RoleGrant.role == role))


def member_of(user: User) -> CommitteeMember:
    return one(select(CommitteeMember).where(CommitteeMember.user_id == user.id))


def is_none(value: Any) -> bool:
    return value is None


def is_set(value: Any) -> bool:
    return value is not None


# --- auth -----------------------------------------------------------------------------------


@case("auth.password", "resident")
def _password(w: World, client: Any) -> Post:
    resident = w.users["resident"]
    new = "another horse 43"
    return Post(
        "/auth/password",
        {"current_password": PASSWORD, "new_password": new, "confirm": new},
        lambda: [changed(resident, "password_change", password_changed_at=is_set)],
    )


def _household_code(w: World) -> tuple[str, Household]:
    home = w.branch.buildings[1].units[0].households[1]
    code = auth_service.issue_invite(created_by=w.users["staff"], household_id=home.id)
    db.session.commit()
    return code, home


@case("auth.activate", None, "household code")
def _activate_household(w: World, client: Any) -> Post:
    code, home = _household_code(w)
    number = mobile()
    new = "another horse 43"

    def expect() -> list[Changed]:
        user = user_by_mobile(number)
        occupant = one(select(Occupant).where(Occupant.user_id == user.id))
        return [
            changed(user, "create", mobile=number, name="钱新户"),
            changed(user, "activate", mobile=number),
            changed(occupant, "link", household_id=home.id, user_id=user.id),
            changed(
                grant_of(user.id, Role.RESIDENT), "grant", user_id=user.id, household_id=home.id
            ),
        ]

    return Post(
        "/auth/activate",
        {"code": code, "mobile": number, "name": "钱新户", "new_password": new, "confirm": new},
        expect,
    )


@case("auth.activate", None, "activation code")
def _activate_account(w: World, client: Any) -> Post:
    # An account staff set up (no password yet), activated with its own code.
    person = User(mobile=mobile(), name="钱委员")
    db.session.add(person)
    db.session.flush()
    code = auth_service.issue_invite(created_by=w.users["admin"], user_id=person.id)
    db.session.commit()
    new = "another horse 43"
    return Post(
        "/auth/activate",
        {"code": code, "mobile": person.mobile, "name": "", "new_password": new, "confirm": new},
        lambda: [changed(person, "activate", mobile=person.mobile)],
    )


@case("auth.activate", "resident", "signed in")
def _activate_signed_in(w: World, client: Any) -> Post:
    # A signed-in resident adds a second home with its household code.
    code, home = _household_code(w)
    resident = w.users["resident"]

    def expect() -> list[Changed]:
        occupant = one(
            select(Occupant).where(
                Occupant.user_id == resident.id, Occupant.household_id == home.id
            )
        )
        grant = one(
            select(RoleGrant).where(
                RoleGrant.user_id == resident.id, RoleGrant.household_id == home.id
            )
        )
        return [
            changed(occupant, "link", user_id=resident.id),
            changed(grant, "grant", role=Role.RESIDENT, household_id=home.id),
        ]

    return Post("/auth/activate", {"code": code}, expect)


# --- signin: sign-in codes and consent online ------------------------------------------------


@case("auth.code_enter", None, "roster activation")
def _code_activation(w: World, client: Any) -> Post:
    # An owner on the roster, without an account, signs in with the code sent to them.
    from compound_app.auth import codes
    from compound_app.messages.models import Outbox

    occupant = w.branch.buildings[1].units[1].households[0].occupants[0]
    number = occupant.mobile
    codes.request_code(number, "127.0.0.1")
    db.session.commit()
    code = one(select(Outbox).where(Outbox.mobile == number)).params["code"]

    def expect() -> list[Changed]:
        user = user_by_mobile(number)
        return [
            changed(user, "create", mobile=number, name=occupant.name),
            changed(user, "activate", mobile=number),
            changed(occupant, "link", user_id=user.id),
            changed(grant_of(user.id, Role.RESIDENT), "grant", household_id=occupant.household_id),
            changed(occupant, "consent", consent_how="online", consent_by_id=user.id),
        ]

    return Post("/auth/code/enter", {"mobile": number, "code": code, "consent": "y"}, expect)


@case("auth.account", "resident")
def _account_consent(w: World, client: Any) -> Post:
    resident = w.users["resident"]
    record = one(select(Occupant).where(Occupant.user_id == resident.id))
    return Post(
        "/auth/account",
        {"consent": "y"},
        lambda: [changed(record, "consent", consent_how="online", consent_by_id=resident.id)],
    )


# --- end signin ---

# --- committees -----------------------------------------------------------------------------


@case("committees.create", "staff")
def _committee_create(w: World, client: Any) -> Post:
    area = w.trust.area

    def expect() -> list[Changed]:
        committee = one(select(Committee).where(Committee.area_id == area.id))
        return [changed(committee, "create", name="城建小区物管会", formed_on="2026-06-01")]

    return Post(
        f"/committees/areas/{area.id}",
        {"name": "城建小区物管会", "formed_on": "2026-06-01"},
        expect,
    )


@case("committees.new_member", "staff")
def _committee_new_member(w: World, client: Any) -> Post:
    number = mobile()
    area = w.branch.area

    def expect() -> list[Changed]:
        user = user_by_mobile(number)
        return [
            changed(user, "create", mobile=number, name="钱多多"),
            changed(member_of(user), "create", position="treasurer", term_end="2029-01-01"),
            changed(
                grant_of(user.id, Role.COMMITTEE_MEMBER), "grant", area_id=area.id, user_id=user.id
            ),
        ]

    return Post(
        f"/committees/areas/{area.id}/members/new",
        {
            "name": "钱多多",
            "mobile": number,
            "position": "treasurer",
            "kind": "owner",
            "background": "grid_worker",
            "term_start": "2026-01-01",
            "term_end": "2029-01-01",
        },
        expect,
    )


@case("committees.edit_member", "staff")
def _committee_edit_member(w: World, client: Any) -> Post:
    member = member_of(w.users["committee"])
    return Post(
        f"/committees/members/{member.id}/edit",
        {
            "position": "chair",
            "kind": "residents_committee",
            "background": "retired_cadre",
            "term_start": "2026-01-01",
            "term_end": "2029-01-01",
        },
        lambda: [
            changed(
                member,
                "update",
                background="retired_cadre",
                position="chair",
                kind="residents_committee",
            )
        ],
    )


@case("committees.end_member", "staff")
def _committee_end_member(w: World, client: Any) -> Post:
    member = member_of(w.users["committee"])
    return Post(
        f"/committees/members/{member.id}/end",
        {"ended_on": "2028-12-31"},
        lambda: [changed(member, "end_term", term_end="2028-12-31")],
    )


@case("committees.remove_member", "staff")
def _committee_remove_member(w: World, client: Any) -> Post:
    # Only a seat that has not begun may be removed (one entered by mistake).
    start = clock.today() + timedelta(days=30)
    member = committees.add_member(
        committees.committee_for_area(w.branch.area_id),
        name="钱未来",
        mobile=mobile(),
        position=Position.MEMBER,
        background=Background.KEEN_RESIDENT,
        term_start=start,
        term_end=start + timedelta(days=3 * 365),
        actor=None,
    )
    db.session.commit()
    member_id, user_id = member.id, member.user_id
    seat = grant_of(user_id, Role.COMMITTEE_MEMBER).id
    return Post(
        f"/committees/members/{member_id}/remove",
        {},
        lambda: [
            deleted("committee_member", member_id, "delete", user_id=user_id, position="member"),
            deleted("role_grant", seat, "revoke", user_id=user_id, role=Role.COMMITTEE_MEMBER),
        ],
    )


# --- people ---------------------------------------------------------------------------------


@case("people.new", "staff")
def _people_new(w: World, client: Any) -> Post:
    number = mobile()
    community = w.community.id

    def expect() -> list[Changed]:
        user = user_by_mobile(number)
        return [
            changed(user, "create", name="孙小红", mobile=number),
            changed(
                grant_of(user.id, Role.COMMUNITY_STAFF),
                "grant",
                user_id=user.id,
                community_id=community,
                granted_by_id=w.users["staff"].id,
            ),
        ]

    return Post(
        "/people/new",
        {"name": "孙小红", "mobile": number, "grant": f"community_staff:{community}"},
        expect,
    )


@case("people.add_grant", "staff")
def _people_add_grant(w: World, client: Any) -> Post:
    resident = w.users["resident"]
    return Post(
        f"/people/{resident.id}/grants",
        {"grant": f"community_staff:{w.community.id}"},
        lambda: [
            changed(
                grant_of(resident.id, Role.COMMUNITY_STAFF),
                "grant",
                user_id=resident.id,
                community_id=w.community.id,
            )
        ],
    )


@case("people.revoke", "staff")
def _people_revoke(w: World, client: Any) -> Post:
    resident = w.users["resident"]
    row = grant_of(resident.id, Role.RESIDENT)
    row_id, home = row.id, row.household_id
    occupant = one(select(Occupant).where(Occupant.user_id == resident.id))
    return Post(
        f"/people/grants/{row_id}/revoke",
        {},
        lambda: [
            deleted("role_grant", row_id, "revoke", user_id=resident.id, household_id=home),
            changed(occupant, "unlink", user_id=is_none),
        ],
    )


@case("people.activation", "staff")
def _people_activation(w: World, client: Any) -> Post:
    resident = w.users["resident"]
    return Post(
        f"/people/{resident.id}/activation",
        {},
        lambda: [
            changed(
                one(select(InviteCode).where(InviteCode.user_id == resident.id)),
                "invite_issue",
                user_id=resident.id,
                created_by_id=w.users["staff"].id,
            )
        ],
        status=200,
    )


@case("people.set_enabled", "staff")
def _people_set_enabled(w: World, client: Any) -> Post:
    resident = w.users["resident"]
    return Post(
        f"/people/{resident.id}/enabled",
        {"enabled": "0"},
        lambda: [changed(resident, "disable", is_enabled=False)],
    )


# --- registry: communities, compounds, areas --------------------------------------------------


@case("registry.new_community", "admin")
def _new_community(w: World, client: Any) -> Post:
    return Post(
        "/registry/communities/new",
        {"name": "新义社区", "code": "XY"},
        lambda: [
            changed(
                one(select(Community).where(Community.code == "XY")),
                "create",
                name="新义社区",
                subdistrict_id=w.subdistrict.id,
            )
        ],
    )


@case("registry.new_compound", "staff")
def _new_compound(w: World, client: Any) -> Post:
    def expect() -> list[Changed]:
        compound = one(select(Compound).where(Compound.name == "新建小区"))
        return [
            changed(compound, "create", address="和平路8号", community_id=w.community.id),
            # Its own one-compound management area (docs/ARCHITECTURE.md §1.3).
            changed(compound.area, "create", name="新建小区", community_id=w.community.id),
        ]

    return Post(
        f"/registry/communities/{w.community.id}/compounds/new",
        {"name": "新建小区", "address": "和平路8号"},
        expect,
    )


@case("registry.new_area", "staff")
def _new_area(w: World, client: Any) -> Post:
    moved = [w.unmanaged, w.trust]

    def expect() -> list[Changed]:
        area = one(select(ManagementArea).where(ManagementArea.name == "二片区"))
        return [
            changed(area, "create", name="二片区"),
            *(changed(c, "move_area", area_id=area.id) for c in moved),
            *(changed(c, "model_change", model="contiguous", area_id=area.id) for c in moved),
        ]

    return Post(
        f"/registry/communities/{w.community.id}/areas/new",
        {"name": "二片区", "compounds": [str(c.id) for c in moved], "effective_on": "2026-07-01"},
        expect,
    )


@case("registry.add_to_area", "staff")
def _add_to_area(w: World, client: Any) -> Post:
    area = w.contiguous_area
    return Post(
        f"/registry/areas/{area.id}/compounds",
        {"compound": str(w.unmanaged.id), "effective_on": "2026-07-01"},
        lambda: [
            changed(w.unmanaged, "move_area", area_id=area.id),
            changed(w.unmanaged, "model_change", model="contiguous", model_since="2026-07-01"),
        ],
    )


@case("registry.remove_from_area", "staff")
def _remove_from_area(w: World, client: Any) -> Post:
    area = w.contiguous_area
    leaving = w.contiguous[2]

    def expect() -> list[Changed]:
        own = leaving.area_id
        assert own != area.id
        return [
            changed(leaving.area, "create", name=leaving.name),
            changed(leaving, "move_area", area_id=own),
            changed(leaving, "model_change", model="unmanaged", area_id=own),
        ]

    return Post(
        f"/registry/areas/{area.id}/compounds/{leaving.id}/remove",
        {"effective_on": "2026-07-01"},
        expect,
    )


@case("registry.change_model", "staff")
def _change_model(w: World, client: Any) -> Post:
    return Post(
        f"/registry/compounds/{w.unmanaged.id}/model",
        {"model": "trusteeship", "effective_on": "2026-07-01", "reason": "居民会议决定"},
        lambda: [
            changed(w.unmanaged, "model_change", model="trusteeship", model_since="2026-07-01")
        ],
    )


@case("registry.party", "staff")
def _party(w: World, client: Any) -> Post:
    return Post(
        f"/registry/compounds/{w.unmanaged.id}/party",
        {
            "kind": "branch",
            "name": "粮食局宿舍党支部",
            "secretary_name": "钱德明",
            "member_count": "5",
            "founded_on": "",
        },
        lambda: [
            changed(
                one(
                    select(PartyOrganisation).where(PartyOrganisation.compound_id == w.unmanaged.id)
                ),
                "create",
                name="粮食局宿舍党支部",
                secretary_name="钱德明",
                member_count=5,
            )
        ],
    )


# --- registry: the roster ---------------------------------------------------------------------


@case("registry.new_building", "committee")
def _new_building(w: World, client: Any) -> Post:
    def expect() -> list[Changed]:
        building = one(
            select(Building).where(Building.compound_id == w.branch.id, Building.name == "9号楼")
        )
        return [
            changed(building, "create", name="9号楼"),
            *(changed(u, "create", building_id=building.id) for u in building.units),
        ]

    return Post(
        f"/registry/compounds/{w.branch.id}/buildings/new",
        {"name": "9号楼", "unit_count": "2"},
        expect,
    )


@case("registry.new_unit", "committee")
def _new_unit(w: World, client: Any) -> Post:
    building = w.branch.buildings[0]
    return Post(
        f"/registry/buildings/{building.id}/units/new",
        {"name": "9单元"},
        lambda: [
            changed(
                one(select(Unit).where(Unit.building_id == building.id, Unit.name == "9单元")),
                "create",
                name="9单元",
            )
        ],
    )


def _new_household(w: World, htmx: bool) -> Post:
    unit = first_unit(w.branch)
    return Post(
        f"/registry/units/{unit.id}/households/new",
        {"room": "901", "area": "68.5", "occupancy": "rented"},
        lambda: [
            changed(
                one(select(Household).where(Household.unit_id == unit.id, Household.room == "901")),
                "create",
                area_dm2=6850,
                occupancy="rented",
            )
        ],
        status=200 if htmx else 303,
        headers={"HX-Request": "true", "HX-Target": f"add-household-{unit.id}"} if htmx else {},
    )


# A new home's floor area and occupancy make its bills: the committee's, with fee rights.
@case("registry.new_household", "committee")
def _new_household_page(w: World, client: Any) -> Post:
    return _new_household(w, htmx=False)


@case("registry.new_household", "committee", "htmx")
def _new_household_inline(w: World, client: Any) -> Post:
    return _new_household(w, htmx=True)


def _edit_household(w: World, htmx: bool) -> Post:
    home = first_unit(w.branch).households[1]
    assert (home.area_dm2, home.occupancy) != (7000, "rented")
    return Post(
        f"/registry/households/{home.id}/edit",
        {"room": home.room, "area": "70", "occupancy": "rented"},
        lambda: [changed(home, "update", area_dm2=7000, occupancy="rented")],
        status=200 if htmx else 303,
        headers={"HX-Request": "true", "HX-Target": f"household-{home.id}"} if htmx else {},
    )


# Floor area and occupancy make the bills: the committee's, with fee rights.
@case("registry.edit_household", "committee")
def _edit_household_page(w: World, client: Any) -> Post:
    return _edit_household(w, htmx=False)


@case("registry.edit_household", "committee", "htmx")
def _edit_household_inline(w: World, client: Any) -> Post:
    return _edit_household(w, htmx=True)


@case("registry.edit_household", "rep", "room")
def _edit_household_room(w: World, client: Any) -> Post:
    home = first_unit(w.branch).households[1]
    return Post(
        f"/registry/households/{home.id}/edit",
        {"room": "2010"},
        lambda: [changed(home, "update", room="2010", area_dm2=home.area_dm2)],
    )


@case("registry.add_occupant", "rep")
def _add_occupant(w: World, client: Any) -> Post:
    home = first_unit(w.branch).households[1]
    number = mobile()
    return Post(
        f"/registry/households/{home.id}/occupants",
        {"name": "钱小六", "mobile": number, "relation": "family"},
        lambda: [
            changed(
                one(select(Occupant).where(Occupant.mobile == number)),
                "create",
                name="钱小六",
                household_id=home.id,
                relation="family",
            )
        ],
    )


@case("registry.edit_occupant", "rep")
def _edit_occupant(w: World, client: Any) -> Post:
    occupant = first_unit(w.branch).households[1].occupants[0]
    return Post(
        f"/registry/occupants/{occupant.id}/edit",
        {"name": "钱改名", "mobile": occupant.mobile, "relation": "co_owner"},
        lambda: [changed(occupant, "update", name="钱改名", relation="co_owner")],
    )


@case("registry.delete_occupant", "rep")
def _delete_occupant(w: World, client: Any) -> Post:
    occupant = first_unit(w.branch).households[1].occupants[0]
    occupant_id, name = occupant.id, occupant.name
    return Post(
        f"/registry/occupants/{occupant_id}/delete",
        {},
        lambda: [deleted("occupant", occupant_id, "delete", name=name)],
    )


@case("registry.delete_occupant", "staff", "with an account")
def _delete_linked_occupant(w: World, client: Any) -> Post:
    # The resident moves out: the record goes, and so does their account's link to the home.
    resident = w.users["resident"]
    occupant = one(select(Occupant).where(Occupant.user_id == resident.id))
    occupant_id, home = occupant.id, occupant.household_id
    link = grant_of(resident.id, Role.RESIDENT).id
    return Post(
        f"/registry/occupants/{occupant_id}/delete",
        {},
        lambda: [
            deleted("occupant", occupant_id, "delete", name=resident.name, household_id=home),
            deleted("role_grant", link, "revoke", user_id=resident.id, household_id=home),
        ],
    )


@case("registry.invite", "staff")
def _invite(w: World, client: Any) -> Post:
    home = first_household(w.trust)
    return Post(
        f"/registry/households/{home.id}/invite",
        {},
        lambda: [
            changed(
                one(select(InviteCode).where(InviteCode.household_id == home.id)),
                "invite_issue",
                household_id=home.id,
                created_by_id=w.users["staff"].id,
            )
        ],
        status=200,
    )


@case("registry.representative", "committee")
def _representative(w: World, client: Any) -> Post:
    unit = w.branch.buildings[0].units[1]  # no representative yet
    number = mobile()

    def expect() -> list[Changed]:
        user = user_by_mobile(number)
        return [
            changed(user, "create", name="钱七", mobile=number),
            changed(
                grant_of(user.id, Role.UNIT_REP),
                "grant",
                unit_id=unit.id,
                granted_by_id=w.users["committee"].id,
            ),
        ]

    return Post(
        f"/registry/units/{unit.id}/representative", {"name": "钱七", "mobile": number}, expect
    )


@case("registry.representative", "staff", "replace")
def _replace_representative(w: World, client: Any) -> Post:
    unit = first_unit(w.branch)
    old = grant_of(w.users["rep"].id, Role.UNIT_REP)
    old_id = old.id
    successor = w.users["committee"]

    def expect() -> list[Changed]:
        return [
            deleted("role_grant", old_id, "revoke", user_id=w.users["rep"].id, unit_id=unit.id),
            changed(grant_of(successor.id, Role.UNIT_REP), "grant", unit_id=unit.id),
        ]

    return Post(
        f"/registry/units/{unit.id}/representative",
        {"name": successor.name, "mobile": successor.mobile},
        expect,
    )


@case("registry.remove_representative", "committee")
def _remove_representative(w: World, client: Any) -> Post:
    unit = first_unit(w.branch)
    row = grant_of(w.users["rep"].id, Role.UNIT_REP)
    row_id = row.id
    return Post(
        f"/registry/units/{unit.id}/representative/remove",
        {},
        lambda: [
            deleted(
                "role_grant",
                row_id,
                "revoke",
                role=Role.UNIT_REP,
                unit_id=unit.id,
                user_id=w.users["rep"].id,
            )
        ],
    )


@case("registry.import_confirm", "committee")
def _import_confirm(w: World, client: Any) -> Post:
    compound = w.branch
    upload = csv_upload([HEADER, ["7号楼", "1单元", "101", "68.5", "自住", "张秀英", "", "业主"]])
    # The preview (registry.import_roster, not audited) writes nothing at all.
    before = snapshot()
    preview = client.post(
        f"/registry/compounds/{compound.id}/import",
        data={"file": (io.BytesIO(upload.data), upload.filename)},
        content_type="multipart/form-data",
    )
    assert preview.status_code == 200, preview.get_data(as_text=True)[:500]
    touched = changed_tables(before, snapshot())
    assert not touched, f"the import preview wrote to {touched}"
    token = re.search(r'name="token" value="([^"]+)"', preview.get_data(as_text=True))
    assert token, "the preview offers no confirmation"

    def expect() -> list[Changed]:
        building = one(
            select(Building).where(Building.compound_id == compound.id, Building.name == "7号楼")
        )
        unit = building.units[0]
        home = unit.households[0]
        return [
            changed(building, "create", name="7号楼"),
            changed(unit, "create", name="1单元", building_id=building.id),
            changed(home, "create", room="101", area_dm2=6850),
            changed(home.occupants[0], "create", name="张秀英", relation="owner"),
        ]

    return Post(f"/registry/compounds/{compound.id}/import/confirm", {"token": token[1]}, expect)


# --- the machinery ----------------------------------------------------------------------------


_SNAPSHOT: dict[str, Any] = {}


def snapshot() -> dict[str, Any]:
    """Every table but the sign-in ones, in one statement (the audit log by count and last id)."""
    key = db.engine.dialect.name
    if key not in _SNAPSHOT:
        tables = [t for t in db.metadata.sorted_tables if t.name not in UNCHECKED_TABLES]
        _SNAPSHOT[key] = _snapshot_query(tables, key)
    db.session.commit()  # a fresh view of what the requests saved
    return dict(db.session.execute(_SNAPSHOT[key]).one()._mapping)


def changed_tables(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    return sorted(name for name in after if after[name] != before[name])


def last_audit_id() -> int:
    return db.session.scalar(select(func.coalesce(func.max(AuditLog.id), 0))) or 0


def new_audit_rows(after_id: int) -> list[AuditLog]:
    db.session.expire_all()
    return list(db.session.scalars(select(AuditLog).where(AuditLog.id > after_id)))


class AuditWriteFailed(RuntimeError):
    """The audit row could not be written (a full disk, a lost connection…)."""


@contextmanager
def record_raises(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """``audit.record`` adds its row, then fails: whatever came before must be undone too."""
    original = audit.record

    def failing(*args: Any, **kwargs: Any) -> AuditLog:
        original(*args, **kwargs)
        raise AuditWriteFailed("audit.record failed")

    with monkeypatch.context() as m:
        m.setattr(audit, "record", failing)
        yield


@contextmanager
def insert_fails(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The audit row reaches the database, which refuses it at flush."""

    def refuse(*_args: Any) -> None:
        raise AuditWriteFailed("INSERT INTO audit_log failed")

    event.listen(AuditLog, "before_insert", refuse)
    try:
        yield
    finally:
        event.remove(AuditLog, "before_insert", refuse)


def _send(client: Any, post: Post) -> Any:
    return client.post(post.url, data=post.data, headers=post.headers)


def _client(app: Flask, world: World, login_as: Any, role: str | None) -> Any:
    return login_as(world.users[role]) if role else app.test_client()


# Register the fee, repair, oversight and vote routes' cases before the tests.
from . import (  # noqa: E402,F401
    audit_archive,
    audit_committees,
    audit_fees,
    audit_fund,
    audit_income,
    audit_messages,
    audit_notices,
    audit_oversight_votes,
    audit_problems,
    audit_public,
    audit_reconcile,
    audit_rectify,
    audit_repairs,
    audit_transition,
    audit_treasury,
    audit_votes_procedure,
)

# --- the tests --------------------------------------------------------------------------------


def _post_endpoints(app: Flask) -> set[str]:
    return {r.endpoint for r in app.url_map.iter_rules() if r.methods and "POST" in r.methods}


def test_every_post_route_is_audited_or_excused(app: Flask) -> None:
    posts = _post_endpoints(app)
    assert posts == set(FORMS), "test_hostile.FORMS is out of date"
    covered = {c.endpoint for c in CASES.values()}
    assert not covered & set(NOT_AUDITED), sorted(covered & set(NOT_AUDITED))
    missing = posts - covered - set(NOT_AUDITED)
    assert not missing, f"add a case to CASES or a reason to NOT_AUDITED: {sorted(missing)}"
    gone = (covered | set(NOT_AUDITED)) - posts
    assert not gone, f"no such POST route any more: {sorted(gone)}"
    assert all(reason.strip() for reason in NOT_AUDITED.values())


@pytest.mark.parametrize("name", sorted(CASES))
def test_route_writes_its_audit_row(
    name: str, app: Flask, world: World, login_as: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    spec = CASES[name]
    client = _client(app, world, login_as, spec.role)
    actor = world.users[spec.role].id if spec.role else None
    post = spec.build(world, client)
    endpoint, _args = app.url_map.bind("localhost").match(post.url, method="POST")
    assert endpoint == spec.endpoint, (post.url, endpoint)
    unknown = set(post.data) - set(fields_of(spec.endpoint))
    assert not unknown, f"{name} sends fields its form does not have: {unknown}"

    # The audit write fails: the change goes with it, and the answer says so.
    for failure in (record_raises, insert_fails):
        before = snapshot()
        with failure(monkeypatch):
            response = _send(client, post)
        assert response.status_code == 500, (
            f"{name}: {failure.__name__}, yet answered {response.status_code}: "
            "is the change audited, and in the same transaction?"
        )
        touched = changed_tables(before, snapshot())
        assert not touched, f"{name}: {failure.__name__}, yet {touched} were saved"

    # The audit write succeeds: the change and its rows are saved together.
    last = last_audit_id()
    start = clock.now()
    response = _send(client, post)
    end = clock.now()
    assert response.status_code == post.status, (
        name,
        response.status_code,
        response.get_data(as_text=True)[:800],
    )
    rows = new_audit_rows(last)
    assert rows, f"{name} changed something without an audit row"
    if actor is None:
        # Signed out, setting up one's own account: that account is named as the actor.
        actors = {row.user_id for row in rows}
        assert len(actors) == 1 and None not in actors, (name, actors)
        actor = actors.pop()
        if spec.endpoint == "auth.code_enter":
            # signin: the account is the one of the number the code was sent to.
            assert db.session.get(User, actor).mobile == post.data["mobile"], name
        else:
            used = one(select(InviteCode).where(InviteCode.used_by_id.is_not(None)))
            assert used.used_by_id == actor, name
    for row in rows:
        where = f"{name}: {row.action} {row.entity} #{row.entity_id}"
        assert row.user_id == actor, where
        assert row.action and row.entity, where
        assert row.at.tzinfo is not None and row.at.utcoffset() == timedelta(0), where
        assert start - timedelta(seconds=1) <= row.at <= end + timedelta(seconds=1), where
        assert row.ip == "127.0.0.1", where
        for values in (row.before or {}, row.after or {}):
            assert not SECRET_FIELDS & set(values), where
    for want in post.expect():
        _check_expected(name, want, rows)


def _check_expected(name: str, want: Changed, rows: list[AuditLog]) -> None:
    matching = [
        r
        for r in rows
        if r.entity == want.entity
        and r.entity_id == want.entity_id
        and (want.action is None or r.action == want.action)
    ]
    written = [(r.action, r.entity, r.entity_id) for r in rows]
    assert matching, f"{name}: no audit row for {want}; written: {written}"
    failures = []
    for row in matching:
        values = row.before if want.deleted else row.after
        if want.deleted:
            assert row.after is None, f"{name}: a deletion keeps no 'after'"
        problems = _mismatches(values or {}, want.values)
        if not problems:
            return
        failures.append((row.action, problems))
    raise AssertionError(f"{name}: {want.entity} #{want.entity_id}: {failures}")


def _mismatches(values: dict[str, Any], wanted: dict[str, Any]) -> list[str]:
    problems = []
    for key, expected in wanted.items():
        if key not in values:
            problems.append(f"{key} missing")
            continue
        actual = values[key]
        ok = expected(actual) if callable(expected) else actual == expected
        if not ok:
            problems.append(f"{key}={actual!r}, expected {expected!r}")
    return problems


# --- refusals write no audit row ----------------------------------------------------------------


def test_refused_requests_write_no_audit_row(
    app: Flask, world: World, login_as: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    w = world
    spare = w.branch.buildings[0].units[1]
    chair = w.users["committee"]
    started = member_of(chair)
    refusals: list[tuple[str | None, str, dict[str, Any], int]] = [
        # bad input
        (
            "rep",
            f"/registry/units/{first_unit(w.branch).id}/households/new",
            {"room": "902", "area": "abc", "occupancy": "rented"},
            422,
        ),
        (
            "staff",
            "/people/new",
            {
                "name": "重名",
                "mobile": w.users["rep"].mobile,
                "grant": f"community_staff:{w.community.id}",
            },
            422,
        ),
        (
            "staff",
            f"/registry/compounds/{w.branch.id}/model",
            {"model": "party_branch", "effective_on": "2026-07-01", "reason": "同一模式"},
            422,
        ),
        (
            None,
            "/auth/activate",
            {
                "code": "ABCDE-FGHJK",
                "mobile": mobile(),
                "name": "某人",
                "new_password": "another horse 43",
                "confirm": "another horse 43",
            },
            422,
        ),
        # a rule broken after a new account was already made (and its row recorded)
        (
            "staff",
            f"/committees/areas/{w.branch.area_id}/members/new",
            {
                "name": "第二主任",
                "mobile": mobile(),
                "position": "chair",
                "kind": "owner",
                "background": "party_member",
                "term_start": "2026-01-01",
                "term_end": "2029-01-01",
            },
            422,
        ),
        # refused with a flashed reason
        ("committee", f"/registry/units/{spare.id}/representative/remove", {}, 303),
        ("staff", f"/committees/members/{started.id}/remove", {}, 303),
        # wrong role, or out of scope
        ("resident", f"/registry/compounds/{w.branch.id}/buildings/new", {"name": "9号楼"}, 403),
        ("committee", f"/committees/areas/{w.branch.area_id}/members/new", {}, 403),
        ("rep", f"/registry/households/{first_household(w.branch).id}/invite", {}, 403),
        ("other_staff", f"/people/{w.users['resident'].id}/enabled", {"enabled": "0"}, 404),
        (
            "tenant",
            f"/registry/units/{spare.id}/representative",
            {"name": "钱八", "mobile": mobile()},
            404,
        ),
    ]
    clients = {role: _client(app, w, login_as, role) for role, *_rest in refusals}
    # Which refusals came after a change had already been recorded (and had to be undone).
    recorded: list[str] = []
    original = audit.record

    def spy(action: str, obj: Any, *args: Any, **kwargs: Any) -> AuditLog:
        recorded.append(f"{action} {obj.__tablename__}")
        return original(action, obj, *args, **kwargs)

    monkeypatch.setattr(audit, "record", spy)
    for role, url, data, status in refusals:
        before = snapshot()
        recorded.clear()
        response = clients[role].post(url, data=data)
        if "第二主任" in data.values():
            assert recorded == ["create user"], recorded
        assert response.status_code == status, (role, url, response.status_code)
        if status == 303:
            with clients[role].session_transaction() as session:
                flashes = session.pop("_flashes", [])
            assert any(category == "error" for category, _ in flashes), (role, url, flashes)
        touched = changed_tables(before, snapshot())
        assert not touched, f"{role} POST {url} was refused, yet wrote to {touched}"


def test_unaudited_routes_change_no_audited_data(app: Flask, world: World, login_as: Any) -> None:
    """Signing in and out and choosing a language touch only sessions and the preference."""
    resident = world.users["resident"]
    before = snapshot()
    client = login_as(resident)
    assert client.post("/auth/language", data={"lang": "en", "next": "/"}).status_code == 303
    assert client.post("/auth/logout").status_code == 303
    after = snapshot()
    # Only the language preference; the audit log is as it was.
    assert changed_tables(before, after) == ["user"]
    db.session.expire_all()
    assert db.session.get(User, resident.id).locale == "en"

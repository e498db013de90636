"""People and roles: staff manage accounts within their community, never beyond it."""

from __future__ import annotations

import re

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select

from compound_app.audit import AuditLog
from compound_app.auth import service as auth_service
from compound_app.auth.models import InviteCode, Role, RoleGrant, User, UserSession
from compound_app.extensions import db
from tests import factories
from tests.factories import PASSWORD, World, first_household, first_unit

NEW_PASSWORD = "a brand new secret 7"
NON_STAFF = ["committee", "area_committee", "rep", "resident", "tenant", "outsider"]


def signed_in(client: FlaskClient) -> bool:
    response = client.get("/auth/password")
    assert response.status_code in (200, 302)
    return response.status_code == 200


def grants_of(user: User) -> set[tuple[str, int]]:
    db.session.expire_all()
    rows = db.session.scalars(select(RoleGrant).where(RoleGrant.user_id == user.id))
    return {(g.role, g.scope_id) for g in rows}


def user_by_mobile(mobile: str) -> User | None:
    db.session.expire_all()
    return db.session.scalar(select(User).where(User.mobile == mobile))


def count(model: type) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model))


def field_error(html: str, field_id: str) -> str:
    match = re.search(rf'<small class="error" id="{field_id}-error">(.*?)</small>', html, re.S)
    assert match, f"no error shown next to {field_id}"
    return match.group(1).strip()


def listed_mobiles(html: str, world: World) -> set[str]:
    """The world's users whose mobile shows in the people table."""
    table = html[html.index("<tbody>") : html.index("</tbody>")]
    return {name for name, u in world.users.items() if u.mobile in table}


# --- who may open the people pages ------------------------------------------------------


@pytest.mark.parametrize("role", NON_STAFF)
def test_people_pages_do_not_exist_for_non_staff(world, login_as, role):
    client = login_as(world.users[role])
    target = world.users["rep"] if role != "rep" else world.users["resident"]
    for url in ("/people/", "/people/new", f"/people/{target.id}"):
        assert client.get(url).status_code == 404, url
    for url in (f"/people/{target.id}/activation", f"/people/{target.id}/enabled"):
        assert client.post(url, data={"enabled": "0"}).status_code == 404, url
    assert count(InviteCode) == 0
    db.session.refresh(target)
    assert target.is_enabled


def test_signed_out_visitors_are_sent_to_sign_in(world, client):
    for url in ("/people/", f"/people/{world.users['rep'].id}"):
        response = client.get(url)
        assert response.status_code == 302
        assert response.headers["Location"].startswith("/auth/login")


# --- the list -----------------------------------------------------------------------------


def test_community_staff_see_only_their_community(world, login_as):
    html = login_as(world.users["staff"]).get("/people/").get_data(as_text=True)
    assert listed_mobiles(html, world) == {
        "staff",
        "committee",
        "area_committee",
        "rep",
        "resident",
        "tenant",
    }
    html = login_as(world.users["other_staff"]).get("/people/").get_data(as_text=True)
    assert listed_mobiles(html, world) == {"other_staff"}


def test_the_subdistrict_admin_sees_everyone(world, login_as):
    html = login_as(world.users["admin"]).get("/people/").get_data(as_text=True)
    assert listed_mobiles(html, world) == set(world.users)


def test_search_narrows_the_list(world, login_as):
    client = login_as(world.users["staff"])
    rep = world.users["rep"]
    html = client.get("/people/", query_string={"q": rep.mobile}).get_data(as_text=True)
    assert listed_mobiles(html, world) == {"rep"}
    html = client.get("/people/", query_string={"q": rep.name}).get_data(as_text=True)
    assert listed_mobiles(html, world) == {"rep"}
    # Searching never widens the scope.
    other = world.users["other_staff"]
    html = client.get("/people/", query_string={"q": other.mobile}).get_data(as_text=True)
    assert listed_mobiles(html, world) == set()


def test_search_for_htmx_returns_only_the_table(world, login_as):
    response = login_as(world.users["staff"]).get(
        "/people/?q=" + world.users["rep"].mobile,
        headers={"HX-Request": "true", "HX-Target": "people-table"},
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert html.lstrip().startswith('<div id="people-table">')
    assert "<html" not in html
    assert "HX-Request" in response.headers.get("Vary", "")


# --- one person ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["other_staff", "outsider", "admin"])
def test_staff_get_404_for_people_outside_their_community(world, login_as, name):
    client = login_as(world.users["staff"])
    person = world.users[name]
    assert client.get(f"/people/{person.id}").status_code == 404
    assert client.post(f"/people/{person.id}/activation").status_code == 404
    before = grants_of(person)
    staff_grant = f"{Role.COMMUNITY_STAFF}:{world.community.id}"
    assert (
        client.post(f"/people/{person.id}/grants", data={"grant": staff_grant}).status_code == 404
    )
    assert client.post(f"/people/{person.id}/activation").status_code == 404
    assert client.post(f"/people/{person.id}/enabled", data={"enabled": "0"}).status_code == 404
    assert grants_of(person) == before
    assert count(InviteCode) == 0
    db.session.refresh(person)
    assert person.is_enabled


def test_staff_see_the_roles_of_a_person_in_their_community(world, login_as):
    rep = world.users["rep"]
    response = login_as(world.users["staff"]).get(f"/people/{rep.id}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert rep.name in html and rep.mobile in html
    unit = first_unit(world.branch)
    assert "-".join((world.branch.name, unit.building.name, unit.name)) in html


@pytest.mark.parametrize("user_id", ["0", "abc", "-1", "99999999999999999999999", "999999"])
def test_odd_person_ids_answer_404(world, login_as, user_id):
    assert login_as(world.users["admin"]).get(f"/people/{user_id}").status_code == 404


# --- creating a staff account -------------------------------------------------------------


def new_account(client: FlaskClient, world: World, **fields: str):  # type: ignore[no-untyped-def]
    data = {
        "name": "钱新华",
        "mobile": "13812345678",
        "grant": f"{Role.COMMUNITY_STAFF}:{world.community.id}",
        **fields,
    }
    return client.post("/people/new", data=data)


def test_staff_create_a_colleague_who_activates_with_a_printed_code(world, app, login_as):
    staff = login_as(world.users["staff"])
    assert staff.get("/people/new").status_code == 200
    response = new_account(staff, world, mobile="１３８-1234-5678")
    assert response.status_code == 303, response.get_data(as_text=True)
    created = user_by_mobile("13812345678")
    assert created is not None and created.name == "钱新华"
    assert created.password_hash is None  # nobody knows a password yet
    assert response.headers["Location"] == f"/people/{created.id}"
    assert grants_of(created) == {(Role.COMMUNITY_STAFF, world.community.id)}
    actions = set(db.session.scalars(select(AuditLog.action)))
    assert {"create", "grant"} <= actions
    # The activation code, its slip, and the colleague setting a password with it.
    response = staff.post(f"/people/{created.id}/activation")
    assert response.status_code == 200  # the slip is the answer; nothing keeps the code
    slip = response.get_data(as_text=True)
    code = re.search(r'class="code">([A-Z0-9]{5}-[A-Z0-9]{5})<', slip).group(1)
    assert created.mobile in slip and "data:image/svg+xml;base64," in slip
    assert "no-store" in response.headers["Cache-Control"]
    with staff.session_transaction() as cookie_session:
        assert code not in str(dict(cookie_session))
    colleague = app.test_client()
    response = colleague.post(
        "/auth/activate",
        data={
            "code": code,
            "mobile": created.mobile,
            "new_password": NEW_PASSWORD,
            "confirm": NEW_PASSWORD,
        },
    )
    assert response.status_code == 303
    assert colleague.get("/people/").status_code == 200


def test_a_new_activation_code_voids_the_previous_one(world, app, login_as):
    staff = login_as(world.users["staff"])
    rep = world.users["rep"]
    first = re.search(
        r'class="code">([^<]+)<',
        staff.post(f"/people/{rep.id}/activation").get_data(as_text=True),
    ).group(1)
    staff.post(f"/people/{rep.id}/activation")
    assert auth_service.find_invite(first) is None
    assert count(InviteCode) == 2


def test_a_mobile_can_have_only_one_account(world, login_as):
    staff = login_as(world.users["staff"])
    before = count(User)
    response = new_account(staff, world, mobile=world.users["resident"].mobile)
    assert response.status_code == 422
    assert field_error(response.get_data(as_text=True), "mobile")
    assert count(User) == before


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"mobile": "12345678901"}, "mobile"),
        ({"mobile": ""}, "mobile"),
        ({"name": ""}, "name"),
        ({"name": "名" * 51}, "name"),
        ({"name": "Robert'); DROP TABLE user;--"}, "name"),
    ],
)
def test_bad_account_input_is_refused_next_to_the_field(world, login_as, fields, field):
    staff = login_as(world.users["staff"])
    before = count(User), count(AuditLog)
    response = new_account(staff, world, **fields)
    assert response.status_code == 422
    assert field_error(response.get_data(as_text=True), field)
    assert (count(User), count(AuditLog)) == before


def test_names_with_a_middle_dot_are_accepted(world, login_as):
    response = new_account(login_as(world.users["staff"]), world, name="阿依古丽・买买提")
    assert response.status_code == 303
    assert user_by_mobile("13812345678").name == "阿依古丽·买买提"


@pytest.mark.parametrize(
    "grant",
    [
        "other community",
        "subdistrict_admin",
        "committee_member",
        "resident",
        "community_staff:abc",
        "community_staff:99999",
        "",
        "nonsense",
    ],
)
def test_community_staff_cannot_create_accounts_with_roles_beyond_their_own(world, login_as, grant):
    values = {
        "other community": f"{Role.COMMUNITY_STAFF}:{world.other_community.id}",
        "subdistrict_admin": f"{Role.SUBDISTRICT_ADMIN}:{world.subdistrict.id}",
        "committee_member": f"{Role.COMMITTEE_MEMBER}:{world.branch.area_id}",
        "resident": f"{Role.RESIDENT}:{first_household(world.branch).id}",
    }
    before = count(User), count(RoleGrant)
    response = new_account(login_as(world.users["staff"]), world, grant=values.get(grant, grant))
    assert response.status_code == 422
    assert (count(User), count(RoleGrant)) == before


def test_only_the_staff_own_community_is_offered(world, login_as):
    html = login_as(world.users["staff"]).get("/people/new").get_data(as_text=True)
    assert f'value="{Role.COMMUNITY_STAFF}:{world.community.id}"' in html
    assert f'value="{Role.COMMUNITY_STAFF}:{world.other_community.id}"' not in html
    assert Role.SUBDISTRICT_ADMIN.value not in html


def test_the_admin_may_create_staff_anywhere_and_other_admins(world, login_as):
    admin = login_as(world.users["admin"])
    response = new_account(admin, world, grant=f"{Role.COMMUNITY_STAFF}:{world.other_community.id}")
    assert response.status_code == 303
    assert grants_of(user_by_mobile("13812345678")) == {
        (Role.COMMUNITY_STAFF, world.other_community.id)
    }
    response = new_account(
        admin,
        world,
        mobile="13812345679",
        grant=f"{Role.SUBDISTRICT_ADMIN}:{world.subdistrict.id}",
    )
    assert response.status_code == 303
    assert grants_of(user_by_mobile("13812345679")) == {
        (Role.SUBDISTRICT_ADMIN, world.subdistrict.id)
    }


# --- giving and removing roles ------------------------------------------------------------


def give(client: FlaskClient, user: User, value: str):  # type: ignore[no-untyped-def]
    return client.post(f"/people/{user.id}/grants", data={"grant": value})


def test_staff_give_a_staff_role_in_their_community(world, login_as):
    rep = world.users["rep"]
    rep_client = login_as(rep)
    assert rep_client.get("/people/").status_code == 404
    response = give(
        login_as(world.users["staff"]), rep, f"{Role.COMMUNITY_STAFF}:{world.community.id}"
    )
    assert response.status_code == 303
    assert (Role.COMMUNITY_STAFF, world.community.id) in grants_of(rep)
    assert rep_client.get("/people/").status_code == 200  # takes effect at once
    entry = db.session.scalar(
        select(AuditLog).where(AuditLog.action == "grant").order_by(AuditLog.id.desc())
    )
    assert entry.user_id == world.users["staff"].id
    assert entry.after["community_id"] == world.community.id


@pytest.mark.parametrize(
    "value",
    [
        "other community",
        "subdistrict_admin",
        "unit_rep",
        "community_staff:0",
        "community_staff:-1",
        "community_staff",
        "",
    ],
)
def test_staff_cannot_give_roles_beyond_their_reach(world, login_as, value):
    values = {
        "other community": f"{Role.COMMUNITY_STAFF}:{world.other_community.id}",
        "subdistrict_admin": f"{Role.SUBDISTRICT_ADMIN}:{world.subdistrict.id}",
        "unit_rep": f"{Role.UNIT_REP}:{first_unit(world.branch).id}",
    }
    rep = world.users["rep"]
    before = grants_of(rep)
    response = give(login_as(world.users["staff"]), rep, values.get(value, value))
    assert response.status_code == 422
    assert field_error(response.get_data(as_text=True), "grant")
    assert grants_of(rep) == before


def test_staff_can_not_make_themselves_admin(world, login_as):
    staff = world.users["staff"]
    client = login_as(staff)
    response = give(client, staff, f"{Role.SUBDISTRICT_ADMIN}:{world.subdistrict.id}")
    assert response.status_code == 422
    assert grants_of(staff) == {(Role.COMMUNITY_STAFF, world.community.id)}


def test_giving_a_role_twice_keeps_one_grant(world, login_as):
    client = login_as(world.users["staff"])
    rep = world.users["rep"]
    value = f"{Role.COMMUNITY_STAFF}:{world.community.id}"
    assert give(client, rep, value).status_code == 303
    assert give(client, rep, value).status_code == 303
    assert len([g for g in grants_of(rep) if g[0] == Role.COMMUNITY_STAFF]) == 1


def grant_id(user: User, role: Role) -> int:
    return db.session.scalar(
        select(RoleGrant.id).where(RoleGrant.user_id == user.id, RoleGrant.role == role)
    )


def test_removing_a_role_takes_effect_at_once(world, login_as):
    rep = world.users["rep"]
    staff = login_as(world.users["staff"])
    give(staff, rep, f"{Role.COMMUNITY_STAFF}:{world.community.id}")
    rep_client = login_as(rep)
    assert rep_client.get("/people/").status_code == 200
    response = staff.post(f"/people/grants/{grant_id(rep, Role.COMMUNITY_STAFF)}/revoke")
    assert response.status_code == 303
    assert (Role.COMMUNITY_STAFF, world.community.id) not in grants_of(rep)
    assert rep_client.get("/people/").status_code == 404
    entry = db.session.scalar(select(AuditLog).where(AuditLog.action == "revoke"))
    assert entry.before["community_id"] == world.community.id


def test_roles_outside_reach_cannot_be_removed(world, login_as):
    staff = login_as(world.users["staff"])
    admin_client = login_as(world.users["admin"])
    cases = [
        (staff, world.users["other_staff"], Role.COMMUNITY_STAFF),  # other community
        (staff, world.users["admin"], Role.SUBDISTRICT_ADMIN),  # above them
        (staff, world.users["committee"], Role.COMMITTEE_MEMBER),  # ends on committee page
        (admin_client, world.users["admin"], Role.SUBDISTRICT_ADMIN),  # the last key
    ]
    for client, user, role in cases:
        gid = grant_id(user, role)
        assert client.post(f"/people/grants/{gid}/revoke").status_code == 404, (user, role)
        assert grant_id(user, role) == gid
    assert staff.post("/people/grants/999999/revoke").status_code == 404


# --- enabling and disabling ---------------------------------------------------------------


def test_disabling_signs_the_person_out_everywhere_and_blocks_sign_in(world, app, login_as):
    rep = world.users["rep"]
    phone, tablet = login_as(rep), login_as(rep)
    staff = login_as(world.users["staff"])
    response = staff.post(f"/people/{rep.id}/enabled", data={"enabled": "0"})
    assert response.status_code == 303
    assert not signed_in(phone) and not signed_in(tablet)
    assert count(UserSession) == 3
    assert (
        db.session.scalar(
            select(func.count()).where(
                UserSession.user_id == rep.id, UserSession.ended_at.is_(None)
            )
        )
        == 0
    )
    again = app.test_client()
    response = again.post("/auth/login", data={"mobile": rep.mobile, "password": PASSWORD})
    assert response.status_code == 422
    html = staff.get("/people/").get_data(as_text=True)
    assert "disabled" in html or "停用" in html
    assert signed_in(staff)  # the staff member's own session is untouched
    assert db.session.scalar(select(AuditLog).where(AuditLog.action == "disable"))
    # Enabled again, the old sessions stay dead but a new sign-in works.
    assert staff.post(f"/people/{rep.id}/enabled", data={"enabled": "1"}).status_code == 303
    assert not signed_in(phone)
    response = again.post("/auth/login", data={"mobile": rep.mobile, "password": PASSWORD})
    assert response.status_code == 303


def test_nobody_disables_or_resets_themselves_here(world, login_as):
    staff = world.users["staff"]
    client = login_as(staff)
    assert client.post(f"/people/{staff.id}/enabled", data={"enabled": "0"}).status_code == 404
    assert client.post(f"/people/{staff.id}/activation").status_code == 404
    assert signed_in(client)
    assert count(InviteCode) == 0


@pytest.mark.parametrize("who", ["admin", "other_staff"])
def test_staff_cannot_reset_or_disable_someone_with_wider_roles(world, app, login_as, who):
    """A powerful account living in the staff member's community is visible, not theirs.

    Resetting its password would hand the staff member its roles elsewhere.
    """
    target = world.users[who]
    home = first_unit(world.branch).households[1]
    auth_service.grant(target, Role.RESIDENT, home.id)
    db.session.commit()
    target_client = login_as(target)
    staff = login_as(world.users["staff"])
    assert staff.get(f"/people/{target.id}").status_code == 200  # in scope: they live here
    assert staff.post(f"/people/{target.id}/activation").status_code == 403
    assert staff.post(f"/people/{target.id}/enabled", data={"enabled": "0"}).status_code == 403
    assert count(InviteCode) == 0
    db.session.refresh(target)
    assert target.is_enabled
    assert signed_in(target_client)
    # The admin, whose reach covers every role the account has, may.
    if who == "other_staff":
        admin = login_as(world.users["admin"])
        assert admin.post(f"/people/{target.id}/activation").status_code == 200


def test_staff_may_reset_a_resident_of_their_community(world, app, login_as):
    resident = world.users["resident"]
    resident_client = login_as(resident)
    staff = login_as(world.users["staff"])
    slip = staff.post(f"/people/{resident.id}/activation")
    assert slip.status_code == 200
    code = re.search(r'class="code">([^<]+)<', slip.get_data(as_text=True)).group(1)
    fresh = app.test_client()
    response = fresh.post(
        "/auth/activate",
        data={
            "code": code,
            "mobile": resident.mobile,
            "new_password": NEW_PASSWORD,
            "confirm": NEW_PASSWORD,
        },
    )
    assert response.status_code == 303
    assert signed_in(fresh)
    assert not signed_in(resident_client)  # whoever had the old password is out


def test_the_people_pages_render_for_a_person_without_roles(world, login_as):
    lonely = factories.user("无角色", password=None)
    admin = login_as(world.users["admin"])
    response = admin.get(f"/people/{lonely.id}")
    assert response.status_code == 200
    assert lonely.mobile in response.get_data(as_text=True)
    assert login_as(world.users["staff"]).get(f"/people/{lonely.id}").status_code == 404

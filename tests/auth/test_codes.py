"""Signing in with a six-digit code sent by SMS: the outbox, the limits, activation from the
roster, remembered sessions, the way in past a password lockout, and consent online."""

from __future__ import annotations

import logging
import re
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from compound_app import clock
from compound_app.audit import AuditLog
from compound_app.auth import codes, service
from compound_app.auth.models import LoginCode, Role, RoleGrant, User, UserSession
from compound_app.extensions import db
from compound_app.messages.models import Outbox
from compound_app.registry import roster
from compound_app.registry.models import Consent, Occupant, Relation
from tests.factories import PASSWORD, World, first_household, mobile

# The answers, in the default language (Chinese).
WRONG = "验证码不对。请看短信"
LAST_TRY = "最后一次机会"
DEAD = "已作废"
USED = "已经用过"
EXPIRED = "已过期"


def ask(client: Any, number: str, ip: str = "127.0.0.1") -> Any:
    return client.post("/auth/code", data={"mobile": number}, environ_base={"REMOTE_ADDR": ip})


def enter(client: Any, number: str, code: str, ip: str = "127.0.0.1", **extra: str) -> Any:
    return client.post(
        "/auth/code/enter",
        data={"mobile": number, "code": code, **extra},
        environ_base={"REMOTE_ADDR": ip},
    )


def sent_codes(number: str) -> list[str]:
    db.session.expire_all()
    rows = db.session.scalars(
        select(Outbox).where(Outbox.mobile == number).order_by(Outbox.id)
    ).all()
    return [row.params["code"] for row in rows]


def last_code(number: str) -> str:
    found = sent_codes(number)
    assert found, f"no SMS to {number}"
    return found[-1]


def owner_without_account(world: World) -> Occupant:
    """An owner on the roster (put there by the system), with a mobile and no account."""
    occupant = world.branch.buildings[1].units[0].households[0].occupants[0]
    assert occupant.user_id is None and occupant.relation == Relation.OWNER
    return occupant


def signed_in(client: Any) -> bool:
    response = client.get("/auth/account")
    return response.status_code == 200


# --- the SMS and what is stored ---------------------------------------------------------------


def test_a_code_goes_to_the_outbox_urgent_with_the_code_only_in_its_params(world, client):
    number = owner_without_account(world).mobile
    response = ask(client, number)
    assert response.status_code == 303
    assert response.headers["Location"].startswith("/auth/code/enter")
    db.session.expire_all()
    sms = db.session.scalars(select(Outbox).where(Outbox.mobile == number)).one()
    assert sms.template == "login_code" and sms.urgent is True
    code = sms.params["code"]
    assert re.fullmatch(r"[0-9]{6}", code) and set(sms.params) == {"code", "minutes"}
    assert sms.message_id is None  # never in anybody's inbox
    row = db.session.scalars(select(LoginCode).where(LoginCode.mobile == number)).one()
    assert row.code_hash and code not in row.code_hash
    assert row.expires_at - row.created_at == timedelta(minutes=5)
    # The enter page names the number masked, and remembers it for the form.
    page = client.get("/auth/code/enter").get_data(as_text=True)
    assert f"{number[:3]}****{number[7:]}" in page
    assert f'value="{number}"' in page


def test_the_answer_is_the_same_for_a_number_nobody_knows_and_nothing_is_sent(world, client):
    known = owner_without_account(world).mobile
    unknown = mobile()
    answers = []
    for number in (known, unknown):
        fresh = client.application.test_client()
        response = ask(fresh, number)
        page = fresh.get(response.headers["Location"]).get_data(as_text=True)
        page = page.replace(number, "#").replace(f"{number[:3]}****{number[7:]}", "#")
        # Each visitor's own CSRF token aside.
        page = re.sub(r'(csrf[-_]token"? (?:content|value)=")[^"]+', r"\1", page)
        answers.append((response.status_code, page))
    assert answers[0] == answers[1]
    assert sent_codes(unknown) == []
    assert len(sent_codes(known)) == 1
    row = db.session.scalars(select(LoginCode).where(LoginCode.mobile == unknown)).one()
    assert row.code_hash is None
    # Wrong tries there are answered and counted exactly as for a known number.
    fresh = client.application.test_client()
    for n in range(5):
        answer = enter(fresh, unknown, "000000").get_data(as_text=True)
        assert (LAST_TRY if n == 4 else WRONG) in answer, n
    sixth = enter(fresh, unknown, "000000").get_data(as_text=True)
    assert DEAD in sixth


def test_who_gets_a_code(world, client):
    """Accounts, owners on the roster, and others on it only with consent; no one else."""
    household = first_household(world.trust)
    tenant = roster.add_occupant(household, "钱租户", mobile(), Relation.TENANT)
    consenting = roster.add_occupant(
        household,
        "孙家属",
        mobile(),
        Relation.FAMILY,
        consent=(Consent.PAPER, clock.today()),
    )
    disabled = world.users["outsider"]
    disabled.is_enabled = False
    db.session.commit()
    cases = {
        world.users["staff"].mobile: True,  # an account
        owner_without_account(world).mobile: True,  # an owner without an account
        tenant.mobile: False,  # a tenant without consent
        consenting.mobile: True,  # with consent recorded on paper
        disabled.mobile: False,  # a disabled account
        mobile(): False,  # nobody
    }
    for number, gets_one in cases.items():
        assert ask(client.application.test_client(), number).status_code == 303
        assert bool(sent_codes(number)) is gets_one, number


def test_an_owner_record_a_representative_typed_in_gets_no_code(world, login_as):
    """A representative putting their own number on an owner's record must not become the
    owner's elector by signing in with it."""
    rep = world.users["rep"]
    household = world.branch.buildings[0].units[0].households[1]
    number = mobile()
    client = login_as(rep)
    response = client.post(
        f"/registry/households/{household.id}/occupants",
        data={"name": "冒名业主", "mobile": number, "relation": "co_owner"},
    )
    assert response.status_code == 303
    fresh = client.application.test_client()
    assert ask(fresh, number).status_code == 303
    assert sent_codes(number) == []


def _homes_of(user: User) -> list[int]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            select(RoleGrant.household_id).where(
                RoleGrant.user_id == user.id, RoleGrant.role == Role.RESIDENT
            )
        )
    )


def test_a_family_record_a_representative_typed_in_is_not_linked_by_a_code(world, login_as):
    """A representative adding themselves as 家属 to a home of their stairwell must not get
    that home (its bills, its messages) by signing in with a code to their own phone."""
    rep = world.users["rep"]
    household = world.branch.buildings[0].units[0].households[1]
    response = login_as(rep).post(
        f"/registry/households/{household.id}/occupants",
        data={"name": "张三", "mobile": rep.mobile, "relation": "family"},
    )
    assert response.status_code == 303
    record = db.session.scalars(
        select(Occupant).where(Occupant.household_id == household.id, Occupant.name == "张三")
    ).one()
    assert roster.linkable_by_mobile(rep.mobile) == []
    fresh = login_as(rep).application.test_client()
    ask(fresh, rep.mobile)
    assert enter(fresh, rep.mobile, last_code(rep.mobile)).status_code == 303
    assert household.id not in _homes_of(rep)
    assert db.session.get(Occupant, record.id).user_id is None


def test_a_family_record_a_stranger_number_the_representative_typed_is_not_linked(world, login_as):
    """Nor with a second phone of theirs, with consent recorded: it gets no code at all."""
    household = world.branch.buildings[0].units[0].households[1]
    number = mobile()
    response = login_as(world.users["rep"]).post(
        f"/registry/households/{household.id}/occupants",
        data={
            "name": "张三",
            "mobile": number,
            "relation": "family",
            "consent_how": "paper",
            "consent_on": clock.today().isoformat(),
        },
    )
    assert response.status_code == 303
    fresh = login_as(world.users["rep"]).application.test_client()
    ask(fresh, number)
    assert sent_codes(number) == []


def test_a_family_record_the_committee_entered_is_linked_by_a_code(world, login_as):
    rep = world.users["rep"]
    household = world.branch.buildings[0].units[0].households[1]
    response = login_as(world.users["committee"]).post(
        f"/registry/households/{household.id}/occupants",
        data={"name": rep.name, "mobile": rep.mobile, "relation": "family"},
    )
    assert response.status_code == 303
    fresh = login_as(rep).application.test_client()
    ask(fresh, rep.mobile)
    assert enter(fresh, rep.mobile, last_code(rep.mobile)).status_code == 303
    assert household.id in _homes_of(rep)


def test_a_record_the_representative_entered_links_once_the_committee_checks_it(world, login_as):
    """The committee re-entering the number (checked with the family) makes it theirs."""
    rep = world.users["rep"]
    household = world.branch.buildings[0].units[0].households[1]
    number = mobile()
    login_as(rep).post(
        f"/registry/households/{household.id}/occupants",
        data={"name": "张三", "mobile": number, "relation": "family"},
    )
    record = db.session.scalars(
        select(Occupant).where(Occupant.household_id == household.id, Occupant.name == "张三")
    ).one()
    assert roster.linkable_by_mobile(number) == []
    committee = login_as(world.users["committee"])
    for step in (mobile(), number):  # away and back: the committee now set the number
        response = committee.post(
            f"/registry/occupants/{record.id}/edit",
            data={"name": "张三", "mobile": step, "relation": "family"},
        )
        assert response.status_code == 303
    assert [o.id for o in roster.linkable_by_mobile(number)] == [record.id]


# --- activation from the roster ---------------------------------------------------------------


def test_the_first_code_sign_in_activates_an_owner_on_the_roster(world, client):
    occupant = owner_without_account(world)
    number, home_id = occupant.mobile, occupant.household_id
    ask(client, number)
    response = enter(client, number, last_code(number))
    assert response.status_code == 303
    db.session.expire_all()
    user = db.session.scalars(select(User).where(User.mobile == number)).one()
    assert user.password_hash is None and user.activated_at is not None and user.is_active
    assert user.name == occupant.name
    assert db.session.get(Occupant, occupant.id).user_id == user.id
    grant = db.session.scalars(select(RoleGrant).where(RoleGrant.user_id == user.id)).one()
    assert (grant.role, grant.household_id) == (Role.RESIDENT, home_id)
    actions = {
        (row.action, row.entity)
        for row in db.session.scalars(select(AuditLog).where(AuditLog.user_id == user.id))
    }
    assert {("create", "user"), ("activate", "user"), ("link", "occupant")} <= actions
    assert ("grant", "role_grant") in actions
    # Signed in: the home is theirs to see.
    assert client.get(f"/registry/households/{home_id}").status_code == 200
    # The password path is not weakened: no password opens this account.
    other = client.application.test_client()
    refused = other.post("/auth/login", data={"mobile": number, "password": ""})
    assert refused.status_code == 422


def test_a_code_activated_account_sets_a_password_later(world, client):
    number = owner_without_account(world).mobile
    ask(client, number)
    enter(client, number, last_code(number))
    page = client.get("/auth/password").get_data(as_text=True)
    assert "current_password" not in page
    new = "another horse 43"
    response = client.post("/auth/password", data={"new_password": new, "confirm": new})
    assert response.status_code == 303
    other = client.application.test_client()
    assert other.post("/auth/login", data={"mobile": number, "password": new}).status_code == 303
    # From now on the current password is asked for.
    again = client.post("/auth/password", data={"new_password": PASSWORD, "confirm": PASSWORD})
    assert again.status_code == 422


def test_an_existing_account_signs_in_and_gains_its_roster_homes(world, client):
    staff = world.users["staff"]
    household = first_household(world.unmanaged)
    roster.add_occupant(household, staff.name, staff.mobile, Relation.FAMILY)
    db.session.commit()
    ask(client, staff.mobile)
    assert enter(client, staff.mobile, last_code(staff.mobile)).status_code == 303
    db.session.expire_all()
    homes = db.session.scalars(
        select(RoleGrant.household_id).where(
            RoleGrant.user_id == staff.id, RoleGrant.role == Role.RESIDENT
        )
    ).all()
    assert homes == [household.id]


def test_consent_given_online_at_the_first_sign_in(world, client):
    occupant = owner_without_account(world)
    number = occupant.mobile
    ask(client, number)
    assert enter(client, number, last_code(number), consent="y").status_code == 303
    db.session.expire_all()
    stored = db.session.get(Occupant, occupant.id)
    assert stored.consent_how == Consent.ONLINE
    assert stored.consent_by_id == stored.user_id and stored.consent_at is not None
    assert any(
        row.action == "consent"
        for row in db.session.scalars(
            select(AuditLog).where(AuditLog.entity == "occupant", AuditLog.entity_id == occupant.id)
        )
    )


def test_consent_given_later_on_the_account_page(world, client):
    occupant = owner_without_account(world)
    number = occupant.mobile
    ask(client, number)
    enter(client, number, last_code(number))
    page = client.get("/auth/account").get_data(as_text=True)
    assert 'name="consent"' in page
    assert client.post("/auth/account", data={}).status_code == 422
    assert client.post("/auth/account", data={"consent": "y"}).status_code == 303
    db.session.expire_all()
    assert db.session.get(Occupant, occupant.id).consent_how == Consent.ONLINE
    assert 'name="consent"' not in client.get("/auth/account").get_data(as_text=True)


# --- the limits --------------------------------------------------------------------------------


def test_the_sixth_wrong_try_is_refused_and_the_code_is_dead(world, client):
    number = owner_without_account(world).mobile
    ask(client, number)
    right = last_code(number)
    wrong = f"{(int(right) + 1) % 1_000_000:06d}"
    for n in range(5):
        response = enter(client, number, wrong)
        assert response.status_code == 422, n
    assert LAST_TRY in response.get_data(as_text=True)
    sixth = enter(client, number, right)
    assert sixth.status_code == 422
    assert DEAD in sixth.get_data(as_text=True)
    assert not signed_in(client)
    db.session.expire_all()
    row = db.session.scalars(select(LoginCode).where(LoginCode.mobile == number)).one()
    assert row.tries == 5 and row.used_at is None


def test_a_code_works_once(world, client):
    number = owner_without_account(world).mobile
    ask(client, number)
    code = last_code(number)
    assert enter(client, number, code).status_code == 303
    client.post("/auth/logout")
    again = enter(client, number, code)
    assert again.status_code == 422
    assert USED in again.get_data(as_text=True)
    assert not signed_in(client)


def test_a_code_expires_after_five_minutes(world, client, held_clock):
    number = owner_without_account(world).mobile
    held_clock.now = clock.now()
    ask(client, number)
    code = last_code(number)
    held_clock.now += timedelta(minutes=5, seconds=1)
    late = enter(client, number, code)
    assert late.status_code == 422
    assert EXPIRED in late.get_data(as_text=True)
    assert not signed_in(client)


def test_asking_again_ends_the_earlier_code(world, client, held_clock):
    number = owner_without_account(world).mobile
    held_clock.now = clock.now()
    ask(client, number)
    first = last_code(number)
    held_clock.now += timedelta(seconds=61)
    ask(client, number)
    second = last_code(number)
    if first != second:
        assert enter(client, number, first).status_code == 422
    assert enter(client, number, second).status_code == 303


def test_a_hundred_requests_for_one_number_send_one_code(world, client):
    number = owner_without_account(world).mobile
    statuses = [ask(client, number).status_code for _ in range(100)]
    assert statuses[0] == 303
    assert set(statuses[1:]) == {429}
    assert len(sent_codes(number)) == 1
    refused = ask(client, number).get_data(as_text=True)
    assert "请等" in refused


def test_over_an_hour_a_number_gets_at_most_the_hourly_limit(app, world, client, held_clock):
    number = owner_without_account(world).mobile
    held_clock.now = clock.now()
    statuses = []
    for _ in range(100):
        statuses.append(ask(client, number).status_code)
        held_clock.now += timedelta(seconds=30)  # a request every half minute: 50 minutes
    limit = app.config["LOGIN_CODE_MAX_PER_MOBILE"]
    assert statuses.count(303) == limit
    assert len(sent_codes(number)) == limit
    # An hour after the first, the number may ask again.
    held_clock.now += timedelta(minutes=15)
    assert ask(client, number).status_code == 303


def test_one_address_asks_for_a_limited_number_of_codes(app, world, client):
    limit = app.config["LOGIN_CODE_MAX_PER_IP"]
    numbers = [mobile() for _ in range(limit + 1)]
    statuses = [ask(client, n, ip="203.0.113.9").status_code for n in numbers]
    assert statuses == [303] * limit + [429]
    # The same /64 is the same address; another address is not held up.
    assert ask(client, mobile(), ip="203.0.113.10").status_code == 303
    v6 = [ask(client, mobile(), ip=f"2001:db8:1:2::{n:x}").status_code for n in range(limit + 1)]
    assert v6[-1] == 429


def test_one_address_types_a_limited_number_of_wrong_codes(app, world, client):
    limit = app.config["LOGIN_CODE_MAX_FAILURES_PER_IP"]
    for _ in range(limit):
        assert enter(client, mobile(), "123456", ip="198.51.100.7").status_code == 422
    assert enter(client, mobile(), "123456", ip="198.51.100.7").status_code == 429


def test_bad_input_is_refused_without_counting(world, client):
    number = owner_without_account(world).mobile
    ask(client, number)
    for code in ("", "12345", "1234567", "abcdef"):
        response = enter(client, number, code)
        assert response.status_code == 422, code
    db.session.expire_all()
    assert db.session.scalars(select(LoginCode).where(LoginCode.mobile == number)).one().tries == 0
    # Full-width digits from a Chinese input method are the same code.
    code = last_code(number)
    wide = "".join(chr(ord(d) + 0xFEE0) for d in code)
    assert enter(client, number, wide).status_code == 303
    assert ask(client.application.test_client(), "12345").status_code == 422


# --- sessions ---------------------------------------------------------------------------------


def _session_of(user_id: int) -> UserSession:
    db.session.expire_all()
    return db.session.scalars(
        select(UserSession).where(UserSession.user_id == user_id).order_by(UserSession.id.desc())
    ).first()


def test_remember_this_phone_gives_a_resident_thirty_days(world, client, held_clock):
    resident = world.users["resident"]
    held_clock.now = clock.now()
    ask(client, resident.mobile)
    response = enter(client, resident.mobile, last_code(resident.mobile), remember="y")
    assert response.status_code == 303
    cookie = response.headers.get("Set-Cookie", "")
    assert "Expires=" in cookie  # kept when the browser closes
    session = _session_of(resident.id)
    assert session.remembered
    assert session.expires_at - session.created_at == timedelta(days=30)
    # Unused for a week: still signed in (no idle timeout); after 30 days, out.
    held_clock.now += timedelta(days=7)
    assert signed_in(client)
    held_clock.now += timedelta(days=23, minutes=1)
    assert not signed_in(client)


def test_without_remember_a_resident_keeps_the_short_session(world, client, held_clock):
    resident = world.users["resident"]
    held_clock.now = clock.now()
    client.post("/auth/login", data={"mobile": resident.mobile, "password": PASSWORD})
    session = _session_of(resident.id)
    assert not session.remembered
    assert session.expires_at - session.created_at == timedelta(hours=12)
    held_clock.now += timedelta(minutes=31)
    assert not signed_in(client)


@pytest.mark.parametrize("role", ["committee", "rep", "staff", "admin"])
def test_staff_and_committee_keep_short_sessions_even_when_remembered(
    world, client, held_clock, role
):
    person = world.users[role]
    held_clock.now = clock.now()
    response = client.post(
        "/auth/login", data={"mobile": person.mobile, "password": PASSWORD, "remember": "y"}
    )
    assert response.status_code == 303
    assert "Expires=" not in response.headers.get("Set-Cookie", "")
    session = _session_of(person.id)
    assert not session.remembered
    assert session.expires_at - session.created_at == timedelta(hours=12)
    held_clock.now += timedelta(minutes=31)
    assert not signed_in(client)


def test_a_new_role_ends_a_remembered_session(world, client):
    resident = world.users["resident"]
    client.post(
        "/auth/login", data={"mobile": resident.mobile, "password": PASSWORD, "remember": "y"}
    )
    assert _session_of(resident.id).remembered
    service.grant(resident, Role.UNIT_REP, world.branch.buildings[1].units[1].id)
    db.session.commit()
    assert not signed_in(client)


# --- the way in past a password lockout ----------------------------------------------------------


def test_a_locked_owner_signs_in_with_a_code(world, client):
    resident = world.users["resident"]
    notice = "您仍可以用发到自己手机上的短信验证码登录"
    for _ in range(5):
        wrong = client.post(
            "/auth/login", data={"mobile": resident.mobile, "password": "wrong horse"}
        )
        assert notice not in wrong.get_data(as_text=True)
    locked = client.post("/auth/login", data={"mobile": resident.mobile, "password": PASSWORD})
    assert locked.status_code == 429
    page = locked.get_data(as_text=True)
    assert notice in page and 'action="/auth/code"' in page
    ask(client, resident.mobile)
    assert enter(client, resident.mobile, last_code(resident.mobile)).status_code == 303
    assert signed_in(client)


def test_wrong_codes_do_not_lock_the_password(world, client):
    """Code failures and password failures are counted apart, even from one address: a
    carrier's shared address that used up its wrong codes still signs in by password."""
    resident = world.users["resident"]
    limit = client.application.config["LOGIN_CODE_MAX_FAILURES_PER_IP"]
    per_ip = client.application.config["LOGIN_MAX_FAILURES_PER_IP"]
    for _ in range(limit):
        assert enter(client, resident.mobile, "000000").status_code == 422
    assert enter(client, resident.mobile, "000000").status_code == 429
    # Enough wrong passwords (on other numbers) that, with the wrong codes, the address
    # would reach its password limit if the two were counted together.
    strangers = [mobile() for _ in range(per_ip - limit)]
    for number in strangers:
        wrong = client.post("/auth/login", data={"mobile": number, "password": "wrong horse"})
        assert wrong.status_code == 422
    response = client.post("/auth/login", data={"mobile": resident.mobile, "password": PASSWORD})
    assert response.status_code == 303


# --- secrets -------------------------------------------------------------------------------------


def test_a_code_is_never_logged_nor_audited(world, client, caplog):
    number = owner_without_account(world).mobile
    with caplog.at_level(logging.DEBUG):
        ask(client, number)
        code = last_code(number)
        enter(client, number, f"{(int(code) + 7) % 1_000_000:06d}")
        enter(client, number, code)
    assert all(code not in record.getMessage() for record in caplog.records)
    for row in db.session.scalars(select(AuditLog)):
        assert code not in repr(row.before) + repr(row.after)


def test_signed_in_people_are_sent_home(world, login_as):
    client = login_as(world.users["resident"])
    assert client.get("/auth/code").status_code == 302
    assert client.get("/auth/code/enter").status_code == 302


def test_the_enter_page_without_a_number_goes_back_to_step_one(client):
    response = client.get("/auth/code/enter?next=/registry/compounds")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/auth/code?next=")


def test_requests_are_pruned_after_two_days(world, client, held_clock):
    number = owner_without_account(world).mobile
    held_clock.now = clock.now()
    ask(client, number)
    held_clock.now += timedelta(days=3)
    ask(client, number)
    enter(client, number, last_code(number))
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).where(LoginCode.mobile == number)) == 1


def test_codes_module_normalises(app):
    assert codes.normalise("１２３ ４５６") == "123456"
    assert codes.normalise("12-34-56") == "123456"
    assert codes.normalise("٣٤٥") == ""

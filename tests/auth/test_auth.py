"""Signing in and out, login sessions, the login rate limit, invite codes, language.

Written from the outside: what a resident, a staff member or an attacker would see.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select, update

from compound_app import clock
from compound_app.audit import AuditLog
from compound_app.auth import service
from compound_app.auth.models import InviteCode, LoginAttempt, Role, RoleGrant, User, UserSession
from compound_app.extensions import db
from compound_app.registry.models import Occupant
from tests import factories
from tests.conftest import _config, make_app
from tests.factories import PASSWORD, World, first_household, first_unit

COOKIE = "compound_session"
NEW_PASSWORD = "a brand new secret 7"
WRONG = "not the password 1"


# --- helpers ----------------------------------------------------------------------------


def post_login(
    client: FlaskClient, mobile: str, password: str = PASSWORD, *, query: str = "", ip: str = ""
):  # type: ignore[no-untyped-def]
    kwargs = {"environ_base": {"REMOTE_ADDR": ip}} if ip else {}
    return client.post(
        "/auth/login" + query, data={"mobile": mobile, "password": password}, **kwargs
    )


def signed_in(client: FlaskClient) -> bool:
    """A page only a signed-in user may open answers 200; otherwise it sends to sign-in."""
    response = client.get("/auth/password")
    assert response.status_code in (200, 302), response.status_code
    return response.status_code == 200


def count(model: type) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model))


def table_counts() -> dict[str, int]:
    db.session.expire_all()
    return {
        t.name: db.session.scalar(select(func.count()).select_from(t))
        for t in db.metadata.sorted_tables
    }


def fresh(obj):  # type: ignore[no-untyped-def]
    db.session.expire_all()
    return db.session.get(type(obj), obj.id)


def copy_cookie(source: FlaskClient, target: FlaskClient) -> None:
    cookie = source.get_cookie(COOKIE)
    assert cookie is not None
    target.set_cookie(COOKIE, cookie.value)


def form_error_block(html: str) -> str:
    """The text of the form's error area, which must sit inside the page's own form (the
    header's large-text switch is a form too)."""
    main = html.index("<main")
    start, end = html.index("<form", main), html.index("</form>", main)
    match = re.search(r'<div class="form-errors"[^>]*>(.*?)</div>', html, re.S)
    assert match, "no form-level error shown"
    assert start < match.start() < end, "the error is not next to the form"
    return re.sub(r"<[^>]+>", "", match.group(1)).strip()


def field_error(html: str, field_id: str) -> str:
    match = re.search(rf'<small class="error" id="{field_id}-error">(.*?)</small>', html, re.S)
    assert match, f"no error shown next to {field_id}"
    return match.group(1).strip()


def has_cjk(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


class Accounts(dict):
    """Plain accounts with the test password and no roles, made on first use.

    Tests about signing in need nobody's roles, and skipping the world keeps them fast.
    """

    NAMES = {"resident": "吴振华", "staff": "李秀兰", "committee": "孙德明", "tenant": "郑晓燕"}

    def __missing__(self, key: str) -> User:
        self[key] = factories.user(self.NAMES.get(key, "测试用户"))
        return self[key]


@pytest.fixture
def accounts(app: Flask) -> Accounts:
    return Accounts()


@pytest.fixture
def second_app(database_uri: str, tmp_path: Path) -> Iterator[Flask]:
    """Another worker process: its own app and engine on the same database."""
    other = make_app(_config(database_uri, tmp_path))
    yield other
    with other.app_context():
        db.engine.dispose()


def household_code(world: World, household_id: int | None = None) -> str:
    """A household invitation code, issued by staff through the service."""
    code = service.issue_invite(
        created_by=world.users["staff"],
        household_id=household_id or first_unit(world.branch).households[1].id,
    )
    db.session.commit()
    return code


def activation_code(world: World, user: User) -> str:
    code = service.issue_invite(created_by=world.users["staff"], user_id=user.id)
    db.session.commit()
    return code


def activate(client: FlaskClient, code: str, mobile: str, **fields: str):  # type: ignore[no-untyped-def]
    data = {
        "code": code,
        "mobile": mobile,
        "name": "新住户",
        "new_password": NEW_PASSWORD,
        "confirm": NEW_PASSWORD,
    }
    data.update(fields)
    return client.post("/auth/activate", data=data)


# --- signing in ---------------------------------------------------------------------------


def test_right_password_signs_in_and_starts_a_server_side_session(accounts, client):
    user = accounts["resident"]
    response = post_login(client, user.mobile)
    assert response.status_code == 303
    assert response.headers["Location"] == "/"
    assert signed_in(client)
    sessions = db.session.scalars(select(UserSession).where(UserSession.user_id == user.id)).all()
    assert len(sessions) == 1 and sessions[0].ended_at is None
    # The cookie carries a random token, not the user id; only its hash is stored.
    cookie = client.get_cookie(COOKIE).value
    assert sessions[0].token_hash not in cookie


def test_wrong_password_answers_422_next_to_the_form_and_writes_only_an_attempt(accounts, client):
    user = accounts["resident"]
    before = table_counts()
    hash_before = user.password_hash
    response = post_login(client, user.mobile, WRONG)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    message = form_error_block(html)
    assert message
    assert 'value="' + user.mobile + '"' in html  # the mobile is kept, the password is not
    assert WRONG not in html
    after = table_counts()
    assert after["login_attempt"] == before["login_attempt"] + 1
    assert {k: v for k, v in after.items() if k != "login_attempt"} == {
        k: v for k, v in before.items() if k != "login_attempt"
    }
    assert fresh(user).password_hash == hash_before
    assert not signed_in(client)


@pytest.fixture
def compiled_translations() -> None:
    """Compile any missing or stale .mo, as `make translations` does before the tests."""
    import os

    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    from compound_app.extensions import babel

    root = Path(__file__).resolve().parents[2] / "translations"
    for po in root.glob("*/LC_MESSAGES/messages.po"):
        mo = po.with_suffix(".mo")
        if mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime:
            continue
        with po.open("rb") as fh:
            catalog = read_po(fh, locale=po.parent.parent.name)
        tmp = mo.with_name(f"messages.mo.{os.getpid()}.tmp")
        with tmp.open("wb") as fh:
            write_mo(fh, catalog, use_fuzzy=True)
        os.replace(tmp, mo)
    if "domain_instance" in vars(babel):
        babel.domain_instance.cache.clear()


def test_wrong_password_message_is_in_chinese_by_default_and_english_on_request(
    accounts, client, compiled_translations
):
    response = post_login(client, accounts["resident"].mobile, WRONG)
    assert response.status_code == 422
    chinese = form_error_block(response.get_data(as_text=True))
    assert has_cjk(chinese)
    client.post("/auth/language", data={"lang": "en"})
    response = post_login(client, accounts["resident"].mobile, WRONG)
    english = form_error_block(response.get_data(as_text=True))
    assert english != chinese and not has_cjk(english)


def test_unknown_mobile_disabled_and_unactivated_accounts_get_the_same_refusal(accounts, client):
    """No way to learn from the answer whether a mobile has an account."""
    wrong = post_login(client, accounts["resident"].mobile, WRONG)
    expected = form_error_block(wrong.get_data(as_text=True))

    unknown = post_login(client, "13999999999")
    disabled_user = accounts["tenant"]
    disabled_user.is_enabled = False
    pending = factories.user("未激活", password=None)
    db.session.commit()
    disabled = post_login(client, disabled_user.mobile)  # the right password
    unactivated = post_login(client, pending.mobile)
    for response in (unknown, disabled, unactivated):
        assert response.status_code == 422
        assert form_error_block(response.get_data(as_text=True)) == expected
    assert count(UserSession) == 0
    assert not signed_in(client)


@pytest.mark.parametrize(
    "typed",
    ["１３７０００００００１", "+86 137 0000 0001", " 137-0000-0001 ", "+86１３７０００００００１"],
)
def test_mobile_is_normalised_before_sign_in(app, typed):
    user = factories.user("全角", password=PASSWORD)
    user.mobile = "13700000001"
    db.session.commit()
    client = app.test_client()
    assert post_login(client, typed).status_code == 303
    assert signed_in(client)


@pytest.mark.parametrize(
    "typed", ["12700000001", "1370000000", "137000000011", "abcdefghijk", "", "10123456789"]
)
def test_invalid_mobile_is_refused_next_to_the_field_without_counting(accounts, client, typed):
    response = post_login(client, typed)
    assert response.status_code == 422
    assert field_error(response.get_data(as_text=True), "mobile")
    assert count(LoginAttempt) == 0


def test_empty_password_is_refused_next_to_the_field(accounts, client):
    response = post_login(client, accounts["resident"].mobile, "")
    assert response.status_code == 422
    assert field_error(response.get_data(as_text=True), "password")
    assert count(LoginAttempt) == 0


def test_login_starts_a_fresh_session(accounts, client):
    with client.session_transaction() as s:
        s["planted"] = "by an attacker"
        s["_user_id"] = "planted-token"
    before = client.get_cookie(COOKIE).value
    assert post_login(client, accounts["resident"].mobile).status_code == 303
    with client.session_transaction() as s:
        assert "planted" not in s
        assert s.get("_user_id") not in (None, "planted-token")
    assert client.get_cookie(COOKIE).value != before


def test_each_sign_in_gets_its_own_token(accounts, login_as):
    user = accounts["resident"]
    first, second = login_as(user), login_as(user)
    with first.session_transaction() as a, second.session_transaction() as b:
        assert a["_user_id"] != b["_user_id"]
    assert count(UserSession) == 2


def test_a_forged_session_with_a_user_id_gives_no_access(accounts, client):
    """Sessions are looked up on the server: knowing ids (or the key) is not enough."""
    user = accounts["resident"]
    with client.session_transaction() as s:
        s["_user_id"] = str(user.id)
        s["_fresh"] = True
    assert not signed_in(client)


def test_a_signed_in_user_visiting_login_is_sent_home(accounts, login_as):
    response = login_as(accounts["resident"]).get("/auth/login")
    assert response.status_code == 302
    assert response.headers["Location"] == "/"


# --- next ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "target",
    [
        "//evil.com",
        "https://evil.com",
        "/\\evil.com",
        "\\\\evil.com",
        "http:/evil.com",
        "/\t/evil.com",
        "javascript:alert(1)",
        "evil.com",
        "///evil.com",
        "https:evil.com",
    ],
)
def test_next_leaving_the_site_is_ignored(accounts, client, target):
    from urllib.parse import quote

    response = post_login(client, accounts["staff"].mobile, query="?next=" + quote(target))
    assert response.status_code == 303
    assert response.headers["Location"] == "/"


@pytest.mark.parametrize("target", ["/registry/compounds", "/registry/compounds?q=%E7%BB%BF"])
def test_next_on_this_site_is_honoured(accounts, client, target):
    from urllib.parse import quote

    response = post_login(client, accounts["staff"].mobile, query="?next=" + quote(target))
    assert response.status_code == 303
    assert response.headers["Location"] == target


def test_a_signed_out_visitor_comes_back_to_the_page_they_asked_for(accounts, client):
    response = client.get("/registry/compounds")
    assert response.status_code == 302
    login_url = response.headers["Location"]
    assert login_url.startswith("/auth/login?next=")
    response = client.post(
        login_url, data={"mobile": accounts["staff"].mobile, "password": PASSWORD}
    )
    assert response.status_code == 303
    assert response.headers["Location"] == "/registry/compounds"


# --- rate limit ---------------------------------------------------------------------------


def test_sixth_attempt_is_refused_with_429_even_with_the_right_password(accounts, client):
    user = accounts["resident"]
    for _ in range(5):
        assert post_login(client, user.mobile, WRONG).status_code == 422
    response = post_login(client, user.mobile, PASSWORD)
    assert response.status_code == 429
    message = form_error_block(response.get_data(as_text=True))
    assert re.search(r"\d+", message)  # says how many minutes to wait
    assert not signed_in(client)
    assert count(UserSession) == 0
    assert count(LoginAttempt) == 5  # a refused attempt is not checked, so not counted


def test_a_stranger_guessing_from_elsewhere_cannot_lock_the_owner_out(accounts, app, client):
    """Five wrong passwords used to lock any account for everybody for a quarter of an hour."""
    user = accounts["resident"]
    attacker, owner = "198.51.100.66", "203.0.113.5"
    for _ in range(5):
        assert post_login(client, user.mobile, WRONG, ip=attacker).status_code == 422
    # The stranger's own address is stopped...
    assert post_login(client, user.mobile, WRONG, ip=attacker).status_code == 429
    # ...the owner, from theirs, still signs in, and only their own failures are cleared.
    owner_client = app.test_client()
    assert post_login(owner_client, user.mobile, ip=owner).status_code == 303
    assert signed_in(owner_client)
    assert count(LoginAttempt) == 5
    assert post_login(client, user.mobile, PASSWORD, ip=attacker).status_code == 429


def test_the_owner_has_their_own_five_tries_beside_a_stranger(accounts, app, client):
    user = accounts["resident"]
    for _ in range(5):
        post_login(client, user.mobile, WRONG, ip="198.51.100.66")
    owner = app.test_client()
    for _ in range(4):
        assert post_login(owner, user.mobile, WRONG, ip="203.0.113.5").status_code == 422
    assert post_login(owner, user.mobile, ip="203.0.113.5").status_code == 303


def test_guesses_from_many_addresses_meet_the_wider_limit_per_account(accounts, app, client):
    user = accounts["resident"]
    limit = app.config["LOGIN_MAX_FAILURES_PER_MOBILE"]
    assert limit > app.config["LOGIN_MAX_FAILURES_PER_PAIR"]
    for n in range(limit):
        assert (
            post_login(client, user.mobile, WRONG, ip=f"10.0.{n // 4}.{n % 4}").status_code == 422
        )
    assert post_login(client, user.mobile, ip="10.9.9.9").status_code == 429


def test_the_limit_is_shared_by_two_workers_on_one_database(accounts, app, second_app):
    user = accounts["resident"]
    one, two = app.test_client(), second_app.test_client()
    for client in (one, two, one, two, one):
        assert post_login(client, user.mobile, WRONG).status_code == 422
    assert post_login(two, user.mobile).status_code == 429
    assert post_login(one, user.mobile).status_code == 429
    assert not signed_in(one) and not signed_in(two)


def test_one_address_guessing_many_mobiles_is_stopped(accounts, app, client):
    app.config["LOGIN_MAX_FAILURES_PER_IP"] = 4
    for n in range(4):
        assert post_login(client, f"1380000000{n}", WRONG).status_code == 422
    # A real account with the right password, from the same address: still refused.
    assert post_login(client, accounts["resident"].mobile).status_code == 429
    # The same account from elsewhere is fine.
    assert post_login(client, accounts["resident"].mobile, ip="10.1.1.1").status_code == 303


@pytest.mark.parametrize(
    ("given", "counted_as"),
    [
        ("203.0.113.5", "203.0.113.5"),
        ("2001:db8:1:2::a", "2001:db8:1:2::/64"),
        ("2001:db8:1:2:ffff:ffff:ffff:ffff", "2001:db8:1:2::/64"),
        ("2001:DB8:1:2:0:0:0:1", "2001:db8:1:2::/64"),
        ("fe80::1%eth0", "fe80::/64"),
        ("::ffff:203.0.113.5", "203.0.113.5"),  # IPv4 written as IPv6
        ("2002:cb00:7105::1", "203.0.113.5"),  # 6to4: a /48 for every IPv4 address
        ("2001:0:4136:e378:8000:63bf:3fff:fdd2", "192.0.2.45"),  # Teredo
        ("unknown", "unknown"),
    ],
)
def test_addresses_are_counted_by_ipv4_address_or_ipv6_64(given, counted_as):
    assert service.address_key(given) == counted_as


def test_an_ipv6_client_cannot_rotate_through_its_64(accounts, app, client):
    """Every IPv6 client holds a /64: one address after another used to mean fresh tries."""
    user = accounts["resident"]
    for n in range(5):
        response = post_login(client, user.mobile, WRONG, ip=f"2001:db8:1:2::{n + 1:x}")
        assert response.status_code == 422
    for ip in ("2001:db8:1:2::99", "2001:db8:1:2:dead:beef:0:1"):
        assert post_login(client, user.mobile, ip=ip).status_code == 429
    assert set(db.session.scalars(select(LoginAttempt.ip))) == {"2001:db8:1:2::/64"}
    # The owner, on another network, still signs in, and clears only their own failures.
    assert post_login(app.test_client(), user.mobile, ip="2001:db8:1:3::1").status_code == 303
    assert count(LoginAttempt) == 5


def test_an_ipv6_64_meets_the_limit_per_address(accounts, app, client):
    app.config["LOGIN_MAX_FAILURES_PER_IP"] = 4
    for n in range(4):
        ip = f"2001:db8:7:7::{n + 1}"
        assert post_login(client, f"1380000000{n}", WRONG, ip=ip).status_code == 422
    assert post_login(client, accounts["resident"].mobile, ip="2001:db8:7:7::ff").status_code == 429
    assert post_login(client, accounts["resident"].mobile, ip="2001:db8:7:8::1").status_code == 303


def test_behind_a_proxy_each_client_has_its_own_address_limit(
    accounts, app, database_uri, tmp_path
):
    proxied = make_app({**_config(database_uri, tmp_path), "PROXY_HOPS": 1})
    proxied.config["LOGIN_MAX_FAILURES_PER_IP"] = 3
    client = proxied.test_client()
    user = accounts["resident"]

    def attempt(forwarded: str, mobile: str, password: str = WRONG):  # type: ignore[no-untyped-def]
        return client.post(
            "/auth/login",
            data={"mobile": mobile, "password": password},
            headers={"X-Forwarded-For": forwarded},
            environ_base={"REMOTE_ADDR": "127.0.0.1"},  # every request comes from nginx
        )

    for n in range(3):
        assert attempt("203.0.113.9", f"1380000000{n}").status_code == 422
    # That client stays blocked, even when it forges an earlier hop...
    assert attempt("198.51.100.7, 203.0.113.9", user.mobile, PASSWORD).status_code == 429
    # ...and the other residents behind the same proxy are not.
    assert attempt("203.0.113.10", user.mobile, PASSWORD).status_code == 303
    db.session.expire_all()
    assert set(db.session.scalars(select(LoginAttempt.ip))) == {"203.0.113.9"}
    with proxied.app_context():
        db.engine.dispose()


def test_without_a_proxy_a_forged_forwarded_header_changes_nothing(accounts, client):
    client.post(
        "/auth/login",
        data={"mobile": accounts["resident"].mobile, "password": WRONG},
        headers={"X-Forwarded-For": "203.0.113.9"},
    )
    assert set(db.session.scalars(select(LoginAttempt.ip))) == {"127.0.0.1"}


def test_the_block_lifts_when_the_window_has_passed(accounts, app, client):
    user = accounts["resident"]
    for _ in range(5):
        post_login(client, user.mobile, WRONG)
    assert post_login(client, user.mobile).status_code == 429
    old = clock.now() - app.config["LOGIN_WINDOW"] - timedelta(minutes=1)
    db.session.execute(update(LoginAttempt).values(at=old))
    db.session.commit()
    assert post_login(client, user.mobile).status_code == 303


def test_a_successful_sign_in_clears_the_failures(accounts, client):
    user = accounts["resident"]
    for _ in range(4):
        post_login(client, user.mobile, WRONG)
    assert post_login(client, user.mobile).status_code == 303
    client.post("/auth/logout")
    for _ in range(4):
        assert post_login(client, user.mobile, WRONG).status_code == 422
    assert post_login(client, user.mobile).status_code == 303


# --- logout and sessions that really end ------------------------------------------------


def test_a_replayed_cookie_is_rejected_after_logout(accounts, app, login_as):
    victim = login_as(accounts["staff"])
    thief = app.test_client()
    copy_cookie(victim, thief)
    assert signed_in(thief)  # the copy works while the session lives...
    response = victim.post("/auth/logout")
    assert response.status_code == 303
    assert response.headers["Location"] == "/auth/login"
    assert not signed_in(victim)
    assert not signed_in(thief)  # ...and dies with it, on the server
    row = db.session.scalar(select(UserSession))
    assert row.ended_at is not None


def test_logout_needs_post(accounts, login_as):
    client = login_as(accounts["resident"])
    assert client.get("/auth/logout").status_code == 405
    assert signed_in(client)


def test_logout_for_htmx_redirects_the_whole_page(accounts, login_as):
    client = login_as(accounts["resident"])
    response = client.post("/auth/logout", headers={"HX-Request": "true"})
    assert response.status_code == 204
    assert response.headers["HX-Redirect"] == "/auth/login"
    assert not signed_in(client)


def test_an_expired_login_session_is_rejected(accounts, login_as):
    client = login_as(accounts["resident"])
    db.session.execute(update(UserSession).values(expires_at=clock.now() - timedelta(seconds=1)))
    db.session.commit()
    assert not signed_in(client)


def test_an_account_disabled_in_the_database_loses_its_sessions(accounts, login_as):
    client = login_as(accounts["resident"])
    user = accounts["resident"]
    user.is_enabled = False  # not through the people page, which also ends sessions
    db.session.commit()
    assert not signed_in(client)


# --- changing the password --------------------------------------------------------------


def change(client: FlaskClient, current: str, new: str, confirm: str | None = None):  # type: ignore[no-untyped-def]
    return client.post(
        "/auth/password",
        data={
            "current_password": current,
            "new_password": new,
            "confirm": new if confirm is None else confirm,
        },
    )


def test_password_change_keeps_this_session_and_ends_the_others(accounts, app, login_as):
    user = accounts["committee"]
    here, phone = login_as(user), login_as(user)
    thief = app.test_client()
    copy_cookie(phone, thief)
    response = change(here, PASSWORD, NEW_PASSWORD)
    assert response.status_code == 303
    assert signed_in(here)
    assert not signed_in(phone)
    assert not signed_in(thief)
    fresh_client = app.test_client()
    assert post_login(fresh_client, user.mobile, PASSWORD).status_code == 422
    assert post_login(fresh_client, user.mobile, NEW_PASSWORD).status_code == 303
    entry = db.session.scalar(select(AuditLog).where(AuditLog.action == "password_change"))
    assert entry is not None and entry.user_id == user.id
    assert "password_hash" not in (entry.after or {}) and "password_hash" not in (
        entry.before or {}
    )


def test_password_is_stored_as_argon2id(accounts, login_as):
    user = accounts["committee"]
    change(login_as(user), PASSWORD, NEW_PASSWORD)
    stored = fresh(user).password_hash
    assert stored.startswith("$argon2id$")
    assert NEW_PASSWORD not in stored


def test_an_old_hash_is_upgraded_to_the_current_parameters_at_sign_in(accounts, app, client):
    user = accounts["resident"]
    assert "t=1," in user.password_hash
    app.config["ARGON2_TIME_COST"] = 2
    assert post_login(client, user.mobile).status_code == 303
    stored = fresh(user).password_hash
    assert stored.startswith("$argon2id$") and "t=2," in stored
    client.post("/auth/logout")
    assert post_login(client, user.mobile).status_code == 303


def test_wrong_current_password_changes_nothing(accounts, login_as):
    user = accounts["committee"]
    here, other = login_as(user), login_as(user)
    before = user.password_hash
    response = change(here, WRONG, NEW_PASSWORD)
    assert response.status_code == 422
    assert field_error(response.get_data(as_text=True), "current_password")
    assert fresh(user).password_hash == before
    assert signed_in(other)


def test_guessing_the_current_password_is_rate_limited(accounts, login_as):
    """A stolen session must not give unlimited guesses at the password behind it."""
    user = accounts["committee"]
    client = login_as(user)
    before = user.password_hash
    for _ in range(5):
        assert change(client, WRONG, NEW_PASSWORD).status_code == 422
    assert change(client, PASSWORD, NEW_PASSWORD).status_code == 429
    assert fresh(user).password_hash == before


@pytest.mark.parametrize(
    ("new", "confirm", "field"),
    [
        ("short1", None, "new_password"),
        ("11111111", None, "new_password"),
        ("12121212", None, "new_password"),
        ("x" * 129, None, "new_password"),
        (NEW_PASSWORD, NEW_PASSWORD + "x", "confirm"),
        ("", None, "new_password"),
    ],
)
def test_weak_or_mistyped_new_passwords_are_refused(accounts, login_as, new, confirm, field):
    user = accounts["committee"]
    client = login_as(user)
    before = user.password_hash
    response = change(client, PASSWORD, new, confirm)
    assert response.status_code == 422
    assert field_error(response.get_data(as_text=True), field)
    assert fresh(user).password_hash == before


COMMON_OR_PATTERNS = [
    # What the outside tester set, and their kin.
    "password",
    "12345678",
    "aaaaaaaa",
    "Password1!",
    "PASSWORD2024",
    "iloveyou",
    "123456789",
    "qwerty123",
    "qwertyuiop",
    "1qaz2wsx",
    "zxcvbnm,./",
    "asdfghjkl;",
    "abcdefgh",
    "87654321",
    "abcabcabc",
    # Common in China: number puns, pinyin, a surname and 123456, a birthday.
    "woaini1314",
    "5201314520",
    "a123456789",
    "qq123456",
    "wang123456",
    "19650312",
    "１２３４５６７８",  # full-width digits are the same password
]


@pytest.mark.parametrize("new", COMMON_OR_PATTERNS)
def test_common_passwords_and_patterns_are_refused_in_chinese(accounts, login_as, new):
    user = accounts["committee"]
    client = login_as(user)
    before = user.password_hash
    response = change(client, PASSWORD, new)
    assert response.status_code == 422, new
    message = field_error(response.get_data(as_text=True), "new_password")
    assert has_cjk(message), message
    assert fresh(user).password_hash == before


@pytest.mark.parametrize(
    "variant",
    [
        lambda m, n: m,
        lambda m, n: f"a{m}",
        lambda m, n: f"{m[3:]}!x",  # the last eight digits
        lambda m, n: m[::-1],
        lambda m, n: f"{n}2026abc",
        lambda m, n: f"我是{n}啊好的",
    ],
    ids=["mobile", "mobile-prefixed", "last-eight", "reversed", "name-and-digits", "name-inside"],
)
def test_ones_own_mobile_or_name_is_refused(accounts, login_as, variant):
    user = accounts["committee"]  # 孙德明
    client = login_as(user)
    response = change(client, PASSWORD, variant(user.mobile, user.name))
    assert response.status_code == 422
    assert has_cjk(field_error(response.get_data(as_text=True), "new_password"))


def test_a_latin_name_is_refused_whatever_its_case_and_spaces(app, login_as):
    user = factories.user("Li Lei")
    client = login_as(user)
    assert change(client, PASSWORD, "lilei is great 9").status_code == 422
    assert change(client, PASSWORD, "LiLei-2026!").status_code == 422
    assert change(client, PASSWORD, "little orchard 9").status_code == 303


@pytest.mark.parametrize(
    "good", ["correct horse 42", "a brand new secret 7", "老房子的楼道灯2026", "Xq7#mv2Lp!"]
)
def test_passphrases_and_random_passwords_are_welcome(accounts, login_as, good):
    user = accounts["resident"]
    response = change(login_as(user), PASSWORD, good)
    assert response.status_code == 302 or response.status_code == 303, good


@pytest.mark.parametrize("new", ["xinyi2026", "XINYI2026"])
def test_the_published_demo_password_cannot_be_chosen(accounts, login_as, new):
    """Else an owner's account would look like a demo account left open (check-deploy)."""
    from compound_app.auth import passwords
    from compound_app.demo.generate import DEMO_PASSWORD

    assert DEMO_PASSWORD in passwords.PUBLISHED
    user = accounts["resident"]
    response = login_as(user).post(
        "/auth/password",
        data={"current_password": PASSWORD, "new_password": new, "confirm": new},
    )
    assert response.status_code == 422
    assert fresh(user).password_changed_at is None


def test_activation_refuses_a_common_password_or_the_typed_mobile(world, app):
    code = household_code(world)
    for bad in ("password", "13912345678", "新住户12345"):
        response = activate(app.test_client(), code, "13912345678", new_password=bad, confirm=bad)
        assert response.status_code == 422, bad
        assert has_cjk(field_error(response.get_data(as_text=True), "new_password"))
    assert db.session.scalar(select(InviteCode)).used_at is None
    assert activate(app.test_client(), code, "13912345678").status_code == 303


def test_activation_refuses_the_accounts_own_name(world, app):
    """An account set up by staff has its name on record: its owner may not use it."""
    pending = factories.user("Aygul Mamat", password=None, community_staff=world.community.id)
    code = activation_code(world, pending)
    bad = "aygulmamat 2026"
    response = activate(
        app.test_client(), code, pending.mobile, name="", new_password=bad, confirm=bad
    )
    assert response.status_code == 422
    assert field_error(response.get_data(as_text=True), "new_password")
    assert fresh(pending).password_hash is None
    assert db.session.scalar(select(InviteCode)).used_at is None
    assert activate(app.test_client(), code, pending.mobile, name="").status_code == 303


def test_password_page_needs_sign_in(client):
    response = client.get("/auth/password")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/auth/login")
    assert change(client, PASSWORD, NEW_PASSWORD).status_code == 302


# --- invitation codes -------------------------------------------------------------------


def test_staff_issue_a_household_code_that_signs_up_a_new_resident(world, app, login_as):
    household = first_unit(world.branch).households[1]
    staff = login_as(world.users["staff"])
    response = staff.post(f"/registry/households/{household.id}/invite")
    assert response.status_code == 200  # the slip itself: the code is never stored readable
    assert "no-store" in response.headers["Cache-Control"]
    slip = response.get_data(as_text=True)
    code = re.search(r'class="code">([A-Z0-9]{5}-[A-Z0-9]{5})<', slip).group(1)
    # Only a hash is kept.
    stored = db.session.scalar(select(InviteCode))
    assert stored.code_hash != code.replace("-", "")
    assert code.replace("-", "") not in str(
        [(a.before, a.after) for a in db.session.scalars(select(AuditLog))]
    )

    newcomer = app.test_client()
    assert newcomer.get("/auth/activate").status_code == 200
    response = activate(newcomer, code, "13912345678", name="阿依古丽·买买提")
    assert response.status_code == 303, response.get_data(as_text=True)
    assert signed_in(newcomer)
    user = db.session.scalar(select(User).where(User.mobile == "13912345678"))
    assert user.name == "阿依古丽·买买提"
    assert user.password_hash.startswith("$argon2id$")
    assert db.session.scalar(
        select(RoleGrant).where(
            RoleGrant.user_id == user.id,
            RoleGrant.role == Role.RESIDENT,
            RoleGrant.household_id == household.id,
        )
    )
    occupant = db.session.scalar(select(Occupant).where(Occupant.user_id == user.id))
    assert occupant.household_id == household.id
    assert newcomer.get(f"/registry/households/{household.id}").status_code == 200
    # The code is spent.
    again = activate(app.test_client(), code, "13912345679")
    assert again.status_code == 422
    assert field_error(again.get_data(as_text=True), "code")


def test_a_code_cannot_be_used_twice(world, app):
    code = household_code(world)
    assert activate(app.test_client(), code, "13912345678").status_code == 303
    response = activate(app.test_client(), code, "13912345679")
    assert response.status_code == 422
    assert field_error(response.get_data(as_text=True), "code")
    assert db.session.scalar(select(User).where(User.mobile == "13912345679")) is None


def test_an_expired_code_fails(world, app):
    code = household_code(world)
    db.session.execute(update(InviteCode).values(expires_at=clock.now() - timedelta(seconds=1)))
    db.session.commit()
    response = activate(app.test_client(), code, "13912345678")
    assert response.status_code == 422
    assert field_error(response.get_data(as_text=True), "code")
    assert db.session.scalar(select(User).where(User.mobile == "13912345678")) is None


def test_a_new_code_for_the_same_household_voids_the_old_one(world, app):
    old = household_code(world)
    new = household_code(world)
    assert activate(app.test_client(), old, "13912345678").status_code == 422
    assert activate(app.test_client(), new, "13912345678").status_code == 303


def full_width(text: str) -> str:
    """As a Chinese input method types it in full-width mode."""
    return "".join(chr(ord(ch) + 0xFEE0) if "!" <= ch <= "~" else ch for ch in text)


@pytest.mark.parametrize(
    "variant",
    [
        str.lower,
        lambda c: c.replace("-", " "),
        str,
        full_width,  # ＡＢＣＤＥ－ＦＧＨＪＫ
        lambda c: full_width(c.lower()),
        lambda c: full_width(c).replace("－", "\u3000"),  # an ideographic space
        lambda c: " " + c.replace("-", "—") + "\u3000",
    ],
)
def test_codes_are_forgiving_about_case_and_separators(world, app, variant):
    code = household_code(world)
    assert activate(app.test_client(), variant(code), "13912345678").status_code == 303


def test_every_spelling_of_a_code_counts_against_that_code(world, app):
    """Full-width and lower-case spellings used to be counted as other codes, so trying a
    found code with many mobiles got five tries per spelling."""
    code = household_code(world)
    taken = world.users["resident"].mobile  # the code does not work with this mobile
    spellings = [code, code.lower(), full_width(code), full_width(code.lower()), code + " "]
    for n, spelling in enumerate(spellings):
        assert activate_from(app, f"10.2.0.{n + 1}", spelling, taken).status_code == 422
    keys = set(db.session.scalars(select(LoginAttempt.mobile)))
    assert keys == {service.code_attempt_key(code)}
    assert activate_from(app, "10.2.0.9", code, "13912345678").status_code == 429


def test_a_household_code_cannot_take_over_an_account_with_a_password(world, app):
    victim = world.users["resident"]
    before = victim.password_hash
    code = household_code(world)
    attacker = app.test_client()
    response = activate(attacker, code, victim.mobile)
    assert response.status_code == 422
    assert field_error(response.get_data(as_text=True), "code")
    assert not signed_in(attacker)
    assert fresh(victim).password_hash == before
    assert post_login(app.test_client(), victim.mobile, NEW_PASSWORD).status_code == 422
    # The refused attempt did not spend the code.
    assert db.session.scalar(select(InviteCode)).used_at is None


def test_a_household_code_cannot_claim_a_staff_created_account_without_password(world, app):
    """A representative appointed by mobile has no password yet; a code is no key to it."""
    rep_unit = first_unit(world.branch).households[0].unit.building.units[1]
    pending = factories.user("待激活代表", password=None, unit_rep=rep_unit.id)
    code = household_code(world)
    attacker = app.test_client()
    response = activate(attacker, code, pending.mobile)
    assert response.status_code == 422
    assert field_error(response.get_data(as_text=True), "code")
    assert not signed_in(attacker)
    assert fresh(pending).password_hash is None
    assert count(UserSession) == 0


def test_a_signed_in_user_redeeming_a_household_code_just_gains_the_household(world, login_as):
    user = world.users["tenant"]
    household = first_unit(world.branch).households[1]
    client = login_as(user)
    assert client.get(f"/registry/households/{household.id}").status_code == 404
    before = user.password_hash
    resident_before = world.users["resident"].password_hash
    code = household_code(world, household.id)
    # Whatever mobile and password are posted, the account in use is the one linked.
    response = activate(client, code, world.users["resident"].mobile, new_password="x")
    assert response.status_code == 303, response.get_data(as_text=True)
    assert signed_in(client)
    assert client.get(f"/registry/households/{household.id}").status_code == 200
    assert fresh(user).password_hash == before
    assert fresh(world.users["resident"]).password_hash == resident_before
    assert count(UserSession) == 1
    assert db.session.scalar(
        select(RoleGrant).where(
            RoleGrant.user_id == user.id, RoleGrant.household_id == household.id
        )
    )


def test_activation_code_sets_up_a_pending_account(world, app):
    pending = factories.user("新工作人员", password=None, community_staff=world.community.id)
    code = activation_code(world, pending)
    client = app.test_client()
    response = activate(client, code, pending.mobile, name="")
    assert response.status_code == 303, response.get_data(as_text=True)
    assert signed_in(client)
    assert client.get("/people/").status_code == 200  # it is that account, with its role
    assert post_login(app.test_client(), pending.mobile, NEW_PASSWORD).status_code == 303


def test_activation_code_only_works_with_its_own_mobile(world, app):
    pending = factories.user("新工作人员", password=None, community_staff=world.community.id)
    code = activation_code(world, pending)
    client = app.test_client()
    response = activate(client, code, "13912345678")
    assert response.status_code == 422
    assert field_error(response.get_data(as_text=True), "code")
    assert fresh(pending).password_hash is None
    assert db.session.scalar(select(User).where(User.mobile == "13912345678")) is None
    # Still usable by its owner.
    assert activate(app.test_client(), code, pending.mobile).status_code == 303


def test_one_code_tells_nothing_about_which_mobiles_have_accounts(world, app):
    """With one unused household code, "has an account", "not activated yet", a disabled
    account and a mistyped code all get the same answer, and every try is counted."""
    code = household_code(world)
    pending = factories.user("待激活代表", password=None)
    disabled = factories.user("已停用")
    disabled.is_enabled = False
    db.session.commit()
    answers = {}
    for label, mobile, typed_code in (
        ("has an account", world.users["resident"].mobile, code),
        ("not activated", pending.mobile, code),
        ("disabled", disabled.mobile, code),
        ("wrong code", "13912345678", "ZZZZZ-ZZZZZ"),
    ):
        response = activate(app.test_client(), typed_code, mobile)
        assert response.status_code == 422, label
        html = response.get_data(as_text=True)
        assert 'id="mobile-error"' not in html and 'id="name-error"' not in html, label
        answers[label] = field_error(html, "code")
    assert len(set(answers.values())) == 1, answers
    assert has_cjk(next(iter(answers.values())))
    assert count(LoginAttempt) == 4  # every try counted
    assert db.session.scalar(select(InviteCode)).used_at is None  # and none spent the code
    # Tries with the code count against it from any address: the sixth is turned away.
    for ip in ("10.1.0.1", "10.1.0.2"):
        response = activate_from(app, ip, code, pending.mobile)
        assert response.status_code == 422
    response = activate_from(app, "10.1.0.3", code, "13912345678")
    assert response.status_code == 429
    assert field_error(response.get_data(as_text=True), "code")
    assert db.session.scalar(select(User).where(User.mobile == "13912345678")) is None


def activate_from(app: Flask, ip: str, code: str, mobile: str):  # type: ignore[no-untyped-def]
    data = {
        "code": code,
        "mobile": mobile,
        "name": "新住户",
        "new_password": NEW_PASSWORD,
        "confirm": NEW_PASSWORD,
    }
    return app.test_client().post("/auth/activate", data=data, environ_base={"REMOTE_ADDR": ip})


def test_a_mistyped_name_is_asked_for_whatever_the_mobile(world, app):
    """The name is asked of every newcomer with a household code, before any account is
    looked up: its absence tells nothing either."""
    code = household_code(world)
    for mobile in (world.users["resident"].mobile, "13912345678"):
        response = activate(app.test_client(), code, mobile, name="")
        html = response.get_data(as_text=True)
        assert response.status_code == 422 and field_error(html, "name")


def test_a_signed_in_user_cannot_redeem_someone_elses_activation_code(world, login_as):
    pending = factories.user("新工作人员", password=None, community_staff=world.community.id)
    code = activation_code(world, pending)
    client = login_as(world.users["resident"])
    response = activate(client, code, pending.mobile)
    assert response.status_code == 422
    # Told next to the one field a signed-in user sees.
    assert field_error(response.get_data(as_text=True), "code")
    assert fresh(pending).password_hash is None
    assert client.get("/people/").status_code == 404
    assert db.session.scalar(select(InviteCode)).used_at is None


def test_a_signed_in_user_entering_their_own_reset_code_is_told_what_to_do(world, login_as):
    user = world.users["rep"]
    client = login_as(user)
    code = activation_code(world, user)
    response = activate(client, code, user.mobile)
    assert response.status_code == 422
    assert field_error(response.get_data(as_text=True), "code")
    assert signed_in(client)
    assert db.session.scalar(select(InviteCode)).used_at is None


def test_a_signed_in_user_with_a_household_code_is_not_asked_for_a_name(world, login_as):
    client = login_as(world.users["tenant"])
    response = activate(client, household_code(world), "", name="<script>")
    assert response.status_code == 303


def test_activation_code_for_an_existing_account_resets_it_and_ends_its_sessions(world, app):
    user = world.users["rep"]
    old_phone = app.test_client()
    assert post_login(old_phone, user.mobile).status_code == 303
    code = activation_code(world, user)
    client = app.test_client()
    assert activate(client, code, user.mobile).status_code == 303
    assert signed_in(client)
    assert not signed_in(old_phone)
    assert post_login(app.test_client(), user.mobile, PASSWORD).status_code == 422
    assert post_login(app.test_client(), user.mobile, NEW_PASSWORD).status_code == 303


def test_a_disabled_account_cannot_be_activated(world, app):
    user = world.users["rep"]
    user.is_enabled = False
    db.session.commit()
    before = user.password_hash
    code = activation_code(world, user)
    client = app.test_client()
    response = activate(client, code, user.mobile)
    assert response.status_code == 422
    assert not signed_in(client)
    assert fresh(user).password_hash == before


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"name": ""}, "name"),
        ({"name": "名" * 51}, "name"),
        ({"name": "<script>"}, "name"),
        ({"mobile": "12345"}, "mobile"),
        ({"new_password": "short", "confirm": "short"}, "new_password"),
        ({"confirm": "different 123"}, "confirm"),
        ({"code": ""}, "code"),
    ],
)
def test_bad_activation_input_is_refused_next_to_the_field(world, app, fields, field):
    code = household_code(world)
    client = app.test_client()
    before = table_counts()
    data = {"code": code, "mobile": "13912345678", **fields}
    response = activate(client, data.pop("code"), data.pop("mobile"), **data)
    assert response.status_code == 422
    assert field_error(response.get_data(as_text=True), field)
    assert not signed_in(client)
    after = table_counts()
    assert {k: v for k, v in after.items() if k != "login_attempt"} == {
        k: v for k, v in before.items() if k != "login_attempt"
    }
    assert db.session.scalar(select(InviteCode)).used_at is None


def test_guessing_codes_is_rate_limited(world, app):
    code = household_code(world)
    client = app.test_client()
    limit = app.config["CODE_MAX_FAILURES_PER_IP"]
    assert limit == 20
    for n in range(limit):
        assert activate(client, f"AAAAA-{n:05d}", "13912345678").status_code == 422
    assert activate(client, code, "13912345678").status_code == 429
    assert db.session.scalar(select(User).where(User.mobile == "13912345678")) is None


def test_guessing_codes_from_one_ipv6_64_shares_one_limit(world, app):
    code = household_code(world)
    for n in range(app.config["CODE_MAX_FAILURES_PER_IP"]):
        response = activate_from(app, f"2001:db8:5:5::{n + 1:x}", f"AAAAA-{n:05d}", "13912345678")
        assert response.status_code == 422
    assert activate_from(app, "2001:db8:5:5::ffff", code, "13912345678").status_code == 429
    # Another network is not held up by it.
    assert activate_from(app, "2001:db8:5:6::1", code, "13912345678").status_code == 303


def test_a_household_behind_one_address_is_not_locked_out(world, app):
    """Residents helped on the community office's Wi-Fi, each mistyping twice: with five
    failures per address, the sixth locked everybody there out for a quarter of an hour."""
    office = "203.0.113.80"
    homes = [h for b in world.branch.buildings for u in b.units for h in u.households][:4]
    codes = [household_code(world, home.id) for home in homes]
    for n, code in enumerate(codes):
        mobile = f"1391234560{n}"
        slip = code[:-1] + ("3" if code.endswith("2") else "2")  # one character wrong
        for typo in (slip, code.replace("-", "")[1:]):
            assert activate_from(app, office, typo, mobile).status_code == 422
        assert activate_from(app, office, code, mobile).status_code == 303
    assert count(LoginAttempt) == 8


def test_a_code_used_meanwhile_by_another_worker_is_refused(world, app):
    """Two requests with one code: the one that checks second must lose."""
    code = household_code(world)
    invite = service.find_invite(code)
    assert invite is not None
    db.session.expunge(invite)  # this request's stale copy
    db.session.execute(
        update(InviteCode).where(InviteCode.id == invite.id).values(used_at=clock.now())
    )
    db.session.commit()
    db.session.add(invite)
    with (
        app.test_request_context("/auth/activate", method="POST"),
        pytest.raises(service.InviteError),
    ):
        service.redeem_invite(
            invite, mobile="13912345678", name="抢先者", password=NEW_PASSWORD, current=None
        )
    db.session.rollback()
    assert db.session.scalar(select(User).where(User.mobile == "13912345678")) is None


def test_committee_member_cannot_issue_household_codes(world, login_as):
    household = first_household(world.branch)
    response = login_as(world.users["committee"]).post(
        f"/registry/households/{household.id}/invite"
    )
    assert response.status_code == 403
    assert count(InviteCode) == 0


def test_staff_of_another_community_cannot_issue_household_codes(world, login_as):
    household = first_household(world.branch)
    response = login_as(world.users["other_staff"]).post(
        f"/registry/households/{household.id}/invite"
    )
    assert response.status_code == 404
    assert count(InviteCode) == 0


# --- language ---------------------------------------------------------------------------


def html_lang(client: FlaskClient, path: str = "/auth/login") -> str:
    html = client.get(path).get_data(as_text=True)
    return re.search(r'<html lang="([^"]+)"', html).group(1)


def test_chinese_is_the_default_and_english_can_be_chosen(client):
    assert html_lang(client) == "zh-CN"
    response = client.post("/auth/language", data={"lang": "en", "next": "/auth/login"})
    assert response.status_code == 303
    assert response.headers["Location"] == "/auth/login"
    assert html_lang(client) == "en"


def test_unknown_language_is_refused(client):
    response = client.post("/auth/language", data={"lang": "xx"})
    assert response.status_code == 400
    assert html_lang(client) == "zh-CN"


def test_language_switch_needs_post(accounts, login_as):
    client = login_as(accounts["resident"])
    assert client.get("/auth/language?lang=en").status_code == 405
    assert html_lang(client, "/") == "zh-CN"


@pytest.mark.parametrize("target", ["//evil.com", "https://evil.com/x", "/\\evil.com"])
def test_language_switch_never_leaves_the_site(client, target):
    response = client.post("/auth/language", data={"lang": "en", "next": target})
    assert response.status_code == 303
    assert response.headers["Location"] == "/"


def test_the_language_is_remembered_on_the_account(accounts, app, login_as):
    user = accounts["resident"]
    client = login_as(user)
    client.post("/auth/language", data={"lang": "en"})
    assert fresh(user).locale == "en"
    other_device = app.test_client()
    assert post_login(other_device, user.mobile).status_code == 303
    assert html_lang(other_device, "/") == "en"


def test_the_language_chosen_before_sign_in_survives_it(accounts, client):
    client.post("/auth/language", data={"lang": "en"})
    assert post_login(client, accounts["resident"].mobile).status_code == 303
    assert html_lang(client, "/") == "en"


# --- CSRF on the sign-in forms ----------------------------------------------------------


@pytest.fixture
def csrf_app(database_uri: str, tmp_path: Path) -> Iterator[Flask]:
    app = make_app({**_config(database_uri, tmp_path), "WTF_CSRF_ENABLED": True})
    yield app
    with app.app_context():
        db.engine.dispose()


def token_from(html: str) -> str:
    match = re.search(r'<meta name="csrf-token" content="([^"]+)"', html)
    assert match
    return match.group(1)


def test_login_without_csrf_token_is_refused_with_a_generic_page(accounts, csrf_app):
    client = csrf_app.test_client()
    response = post_login(client, accounts["resident"].mobile)
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "error-page" in html
    assert "CSRF" not in html and "Bad Request" not in html
    assert not signed_in(client)
    assert count(LoginAttempt) == 0 and count(UserSession) == 0


def test_login_with_the_token_from_the_form_works(accounts, csrf_app):
    client = csrf_app.test_client()
    token = token_from(client.get("/auth/login").get_data(as_text=True))
    response = client.post(
        "/auth/login",
        data={"mobile": accounts["resident"].mobile, "password": PASSWORD, "csrf_token": token},
    )
    assert response.status_code == 303
    assert signed_in(client)


def signed_in_csrf_client(csrf_app: Flask, user: User) -> tuple[FlaskClient, str]:
    client = csrf_app.test_client()
    token = token_from(client.get("/auth/login").get_data(as_text=True))
    client.post(
        "/auth/login", data={"mobile": user.mobile, "password": PASSWORD, "csrf_token": token}
    )
    return client, token


def test_logout_without_token_is_refused_and_the_session_lives_on(accounts, csrf_app):
    client, _ = signed_in_csrf_client(csrf_app, accounts["resident"])
    assert client.post("/auth/logout").status_code == 400
    assert signed_in(client)


def test_the_token_from_before_sign_in_is_void_after_it(accounts, csrf_app):
    client, old_token = signed_in_csrf_client(csrf_app, accounts["resident"])
    assert client.post("/auth/logout", data={"csrf_token": old_token}).status_code == 400
    assert signed_in(client)


def test_htmx_logout_with_the_token_in_the_header_works(accounts, csrf_app):
    client, _ = signed_in_csrf_client(csrf_app, accounts["resident"])
    token = token_from(client.get("/").get_data(as_text=True))
    response = client.post("/auth/logout", headers={"HX-Request": "true", "X-CSRFToken": token})
    assert response.status_code == 204
    assert response.headers["HX-Redirect"] == "/auth/login"
    assert not signed_in(client)


def test_htmx_request_with_a_wrong_header_token_is_refused(accounts, csrf_app):
    client, _ = signed_in_csrf_client(csrf_app, accounts["resident"])
    response = client.post("/auth/logout", headers={"HX-Request": "true", "X-CSRFToken": "forged"})
    assert response.status_code == 400
    assert signed_in(client)


def test_language_switch_needs_the_token(app, csrf_app):
    client = csrf_app.test_client()
    assert client.post("/auth/language", data={"lang": "en"}).status_code == 400
    assert html_lang(client) == "zh-CN"

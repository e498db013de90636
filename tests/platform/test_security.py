"""Headers on every response, generic error pages, cookie flags, ``flask check-deploy``,
and templates that keep to the Content-Security-Policy (no inline script or style).
"""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
from collections.abc import Callable, Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from flask import Flask, abort
from flask.testing import FlaskClient

from compound_app import create_app
from compound_app.committees.models import CommitteeMember
from compound_app.extensions import db
from tests.conftest import _config, make_app
from tests.factories import (
    PASSWORD,
    World,
    fee_objects,
    first_household,
    pilot_vote_objects,
    repair_objects,
)

ROOT = Path(__file__).resolve().parents[2]
COOKIE = "compound_session"
SAFE_KEY = "9f3c2a7b5e1d4c8a0b6f2e9d7c3a1b5e8d4f0a2c6b9e7d1f3a5c8b0e2d4f6a9c"  # made up


# --- headers on every response ------------------------------------------------------------


def assert_security_headers(response: Any) -> None:
    h = response.headers
    csp = h.get("Content-Security-Policy", "")
    directives = {
        part.strip().split()[0]: part.strip().split()[1:] for part in csp.split(";") if part.strip()
    }
    assert "'unsafe-inline'" not in csp and "'unsafe-eval'" not in csp, csp
    assert directives.get("frame-ancestors") == ["'none'"], csp
    assert directives.get("default-src") == ["'self'"], csp
    for name in ("script-src", "style-src"):
        assert directives.get(name, directives["default-src"]) == ["'self'"], csp
    assert directives.get("object-src") == ["'none'"], csp
    assert "base-uri" in directives, csp
    assert h.get("X-Content-Type-Options") == "nosniff"
    assert h.get("Referrer-Policy") in (
        "no-referrer",
        "same-origin",
        "strict-origin",
        "strict-origin-when-cross-origin",
    )


@pytest.fixture
def boom(app: Flask) -> str:
    """A route that fails with an unexpected error (added before the first request)."""

    def fail() -> str:
        raise RuntimeError("secret-internal-detail-42 at /srv/compound/db.py")

    app.add_url_rule("/test-boom", "test_boom", fail)
    app.add_url_rule("/test-forbidden", "test_forbidden", lambda: abort(403))
    return "/test-boom"


class PostgresUniqueViolation(Exception):
    """What psycopg raises for a duplicate: the server's text names the value."""

    sqlstate = "23505"

    class diag:  # psycopg's name
        constraint_name = "uq_user_mobile"
        table_name = "user"


@pytest.fixture
def conflicts(app: Flask) -> dict[str, str]:
    """Routes whose change the database refuses (added before the first request)."""
    from sqlalchemy import select
    from sqlalchemy.exc import IntegrityError

    from compound_app.auth.models import User

    def duplicate() -> str:
        taken = db.session.scalar(select(User.mobile).order_by(User.id).limit(1))
        db.session.add(User(mobile=taken, name="重名住户"))
        db.session.flush()
        return "not reached"

    def postgres() -> str:
        raise IntegrityError(
            'INSERT INTO "user" (mobile, name) VALUES (%(mobile)s, %(name)s)',
            {"mobile": "13812345678", "name": "张秀英"},
            PostgresUniqueViolation(
                'duplicate key value violates unique constraint "uq_user_mobile"\n'
                "DETAIL:  Key (mobile)=(13812345678) already exists."
            ),
        )

    app.add_url_rule("/test-duplicate", "test_duplicate", duplicate)
    app.add_url_rule("/test-postgres-duplicate", "test_postgres_duplicate", postgres)
    return {"duplicate": "/test-duplicate", "postgres": "/test-postgres-duplicate"}


def test_a_conflict_logs_the_constraint_never_the_values(world, conflicts, login_as, caplog):
    """The log named the failing row's mobile (PostgreSQL's DETAIL, SQLAlchemy's
    parameters): personal data where only a constraint's name is needed."""
    from sqlalchemy import select

    from compound_app.auth.models import User

    reused = db.session.scalar(select(User.mobile).order_by(User.id).limit(1))
    client = login_as(world.users["staff"])
    with caplog.at_level("WARNING", logger="compound_app"):
        assert client.get(conflicts["duplicate"]).status_code == 409
        assert client.get(conflicts["postgres"]).status_code == 409
    logged = [r.getMessage() for r in caplog.records if "integrity" in r.getMessage()]
    assert len(logged) == 2, logged
    for secret in (reused, "13812345678", "张秀英", "重名住户"):
        assert secret not in caplog.text
    assert "user" in logged[0]  # SQLite: "UNIQUE constraint failed: user.mobile"
    assert logged[1] == "integrity conflict: constraint=uq_user_mobile table=user sqlstate=23505"


def _scenarios() -> dict[str, Callable[[World, Any, FlaskClient], Any]]:
    return {
        "login page": lambda w, login_as, anon: anon.get("/auth/login"),
        "signed-in home": lambda w, login_as, anon: login_as(w.users["staff"]).get("/"),
        "redirect to sign in": lambda w, login_as, anon: anon.get("/registry/compounds"),
        "post redirect": lambda w, login_as, anon: login_as(w.users["staff"]).post("/auth/logout"),
        "wrong password 422": lambda w, login_as, anon: anon.post(
            "/auth/login", data={"mobile": w.users["staff"].mobile, "password": "nope nope"}
        ),
        "404": lambda w, login_as, anon: login_as(w.users["staff"]).get("/no/such/page"),
        "405": lambda w, login_as, anon: login_as(w.users["staff"]).get("/auth/logout"),
        "500": lambda w, login_as, anon: login_as(w.users["staff"]).get("/test-boom"),
        "static file": lambda w, login_as, anon: anon.get("/static/css/app.css"),
        "htmx fragment": lambda w, login_as, anon: login_as(w.users["staff"]).get(
            "/people/?q=1", headers={"HX-Request": "true", "HX-Target": "people-table"}
        ),
    }


@pytest.mark.parametrize("scenario", list(_scenarios()))
def test_every_kind_of_response_carries_the_security_headers(
    world, boom, login_as, client, scenario
):
    response = _scenarios()[scenario](world, login_as, client)
    assert_security_headers(response)


@pytest.mark.parametrize(
    "path", ["/", "/registry/compounds", "/people/", "/auth/password", "/no/such/page"]
)
def test_signed_in_pages_are_not_cached(world, login_as, path):
    response = login_as(world.users["staff"]).get(path)
    assert "no-store" in response.headers.get("Cache-Control", "")


def test_responses_to_posts_are_not_cached(world, client):
    response = client.post("/auth/login", data={"mobile": world.users["staff"].mobile})
    assert "no-store" in response.headers.get("Cache-Control", "")


def test_the_htmx_configuration_allows_no_eval_and_no_inline_styles(client):
    html = client.get("/auth/login").get_data(as_text=True)
    raw = re.search(r"<meta name=\"htmx-config\" content='([^']+)'>", html).group(1)
    config = json.loads(raw)
    assert config["allowEval"] is False
    assert config["includeIndicatorStyles"] is False
    assert config["historyCacheSize"] == 0
    assert config.get("allowScriptTags") is False


# --- error pages --------------------------------------------------------------------------


def assert_generic_error_page(response: Any, status: int) -> str:
    assert response.status_code == status
    assert response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    assert 'class="card error-page"' in html  # our page, in our layout
    assert "<!doctype html>" in html.lower()
    for leak in (
        "Traceback",
        "werkzeug",
        "Werkzeug",
        "secret-internal-detail-42",
        "/srv/compound",
        "RuntimeError",
        "The CSRF token",
        "Bad Request",
        "Internal Server Error",
        "sqlalchemy",
    ):
        assert leak not in html, leak
    assert_security_headers(response)
    return html


def test_403_page(world, boom, login_as):
    response = login_as(world.users["staff"]).get("/test-forbidden")
    assert_generic_error_page(response, 403)


def test_403_page_for_a_role_that_may_see_but_not_change(world, login_as):
    household = first_household(world.branch)
    response = login_as(world.users["committee"]).post(
        f"/registry/households/{household.id}/invite"
    )
    assert_generic_error_page(response, 403)


def test_404_page(world, login_as):
    assert_generic_error_page(login_as(world.users["staff"]).get("/no/such/page"), 404)


def test_404_for_an_id_too_large_for_the_database(world, login_as):
    client = login_as(world.users["staff"])
    assert_generic_error_page(client.get("/people/99999999999999999999999"), 404)


def test_405_page_names_the_allowed_methods(world, login_as):
    response = login_as(world.users["staff"]).get("/auth/logout")
    assert_generic_error_page(response, 405)
    assert "POST" in response.headers["Allow"]


def test_413_page_for_an_oversized_request(app, world, login_as):
    client = login_as(world.users["staff"])
    app.config["MAX_CONTENT_LENGTH"] = 1024
    response = client.post(
        "/auth/password", data={"current_password": "x" * 4096, "new_password": "y"}
    )
    assert_generic_error_page(response, 413)


class CountingBody(io.RawIOBase):
    """A request body of ``size`` bytes made on demand, counting what the server reads."""

    def __init__(self, size: int) -> None:
        self.size, self.pos, self.read_bytes = size, 0, 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = 0) -> int:
        self.pos = offset if whence == 0 else self.size + offset if whence == 2 else self.pos
        return self.pos

    def tell(self) -> int:
        return self.pos

    def readinto(self, buffer: Any) -> int:
        n = max(0, min(len(buffer), self.size - self.pos))
        buffer[:n] = b"x" * n
        self.pos += n
        self.read_bytes += n
        return n


def test_a_38_mb_form_to_the_login_page_is_refused_unread(world, csrf_app):
    """The body used to be parsed, before the CSRF check, up to the 40 MB meant for photos."""
    body = CountingBody(38 * 1024 * 1024)
    response = csrf_app.test_client().post(
        "/auth/login", input_stream=body, content_type="application/x-www-form-urlencoded"
    )
    assert_generic_error_page(response, 413)
    assert body.read_bytes == 0


def test_every_plain_form_takes_a_small_body_only(app, world, login_as):
    limit = app.config["MAX_FORM_CONTENT_LENGTH"]
    assert limit <= 64 * 1024
    filler = "x" * (limit + 1)
    staff, anonymous = login_as(world.users["staff"]), app.test_client()
    home = first_household(world.branch)
    for client, url in (
        (anonymous, "/auth/login"),
        (anonymous, "/auth/activate"),
        (staff, "/auth/password"),
        (staff, f"/registry/households/{home.id}/occupants"),
        (staff, f"/fees/areas/{world.branch.area_id}/threshold"),
    ):
        response = client.post(url, data={"name": filler})
        assert response.status_code == 413, url
        # Multipart to a route that takes no files is no way around it.
        response = client.post(
            url,
            data={"f": (io.BytesIO(filler.encode()), "f.jpg")},
            content_type="multipart/form-data",
        )
        assert response.status_code == 413, url
    # A body within the limit is read as before.
    assert staff.post("/auth/password", data={"current_password": "x" * 1000}).status_code == 422


def test_upload_routes_take_photos_larger_than_a_form(app, world, login_as):
    from PIL import Image

    from compound_app.fields import new_key
    from compound_app.security import UPLOAD_FIELD_BYTES

    buffer = io.BytesIO()
    Image.effect_noise((600, 600), 90).convert("RGB").save(buffer, "PNG")
    assert buffer.tell() > app.config["MAX_FORM_CONTENT_LENGTH"]
    buffer.seek(0)
    resident = login_as(world.users["resident"])
    response = resident.post(
        f"/repairs/compounds/{world.branch.id}/new",
        data={
            "category": "plumbing",
            "place": "public",
            "description": "楼道水管漏水",
            "priority": "normal",
            "key": new_key(),
            "photos": (buffer, "leak.png"),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 303, response.status_code
    # ...but no text field of one beyond the limit for text.
    response = resident.post(
        f"/repairs/compounds/{world.branch.id}/new",
        data={
            "description": "x" * (UPLOAD_FIELD_BYTES + 1),
            "f": (io.BytesIO(b"x"), "x.jpg"),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 413


def test_the_upload_routes_are_the_ones_whose_forms_send_files(app):
    from flask_wtf.file import FileField, MultipleFileField

    from compound_app.security import upload_endpoints
    from tests.audits.test_hostile import FORMS, form_fields

    sending_files = {
        endpoint
        for endpoint, spec in FORMS.items()
        if not isinstance(spec, dict)
        and any(
            isinstance(getattr(spec, name).field_class, type)
            and issubclass(getattr(spec, name).field_class, FileField | MultipleFileField)
            for name in form_fields(spec)
        )
    }
    # The import's confirmation sends back the preview's token, as large as the file was.
    tokens = {"registry.import_confirm", "reconcile.import_confirm", "problems.hotline_confirm"}
    assert upload_endpoints(app) == sending_files | tokens
    assert sending_files >= {
        "fees.new_expense",
        "repairs.create",
        "repairs.move",
        "repairs.work_photos",
        "votes.paper",
        "registry.import_roster",
    }


def test_500_page_hides_the_error_and_logs_it(world, boom, login_as, caplog):
    response = login_as(world.users["staff"]).get(boom)
    assert_generic_error_page(response, 500)
    assert "secret-internal-detail-42" in caplog.text  # it is logged for the operator


def test_500_page_for_htmx_is_generic_too(world, boom, login_as):
    response = login_as(world.users["staff"]).get(boom, headers={"HX-Request": "true"})
    assert response.status_code == 500
    assert "secret-internal-detail-42" not in response.get_data(as_text=True)


def test_429_next_to_the_code_when_codes_are_guessed(world, app, client):
    data = {"mobile": "13912345678", "name": "猜码人", "new_password": "guess guess 1"}
    data["confirm"] = data["new_password"]
    for n in range(app.config["CODE_MAX_FAILURES_PER_IP"]):
        response = client.post("/auth/activate", data={**data, "code": f"AAAAA-{n:05d}"})
        assert response.status_code == 422
    response = client.post("/auth/activate", data={**data, "code": "AAAAA-AAAAA"})
    assert response.status_code == 429
    html = response.get_data(as_text=True)
    # The form comes back with what was typed and the reason next to the code field.
    assert 'id="code-error"' in html and 'value="猜码人"' in html


def test_wrong_codes_from_ipv6_neighbours_do_not_lock_each_other_out(world, app):
    data = {"mobile": "13912345678", "name": "猜码人", "new_password": "guess guess 1"}
    data["confirm"] = data["new_password"]
    first = app.test_client()
    for n in range(5):
        first.post(
            "/auth/activate",
            data={**data, "code": f"AAAA{n + 2}-AAAAA"},
            environ_base={"REMOTE_ADDR": "2408:8456:1234:5678::1"},
        )
    neighbour = app.test_client().post(
        "/auth/activate",
        data={**data, "code": "AAAA7-AAAAA"},
        environ_base={"REMOTE_ADDR": "2408:8456:1234:9999::2"},
    )
    assert neighbour.status_code == 422  # refused as a wrong code, not as rate limited


@pytest.fixture
def csrf_app(app: Flask, database_uri: str, tmp_path: Path) -> Iterator[Flask]:
    other = make_app({**_config(database_uri, tmp_path), "WTF_CSRF_ENABLED": True})
    yield other
    with other.app_context():
        db.engine.dispose()


def test_missing_csrf_token_gets_a_generic_page(world, csrf_app):
    response = csrf_app.test_client().post(
        "/auth/login", data={"mobile": world.users["staff"].mobile, "password": PASSWORD}
    )
    html = assert_generic_error_page(response, 400)
    assert "<h1>" in html


# --- cookies ------------------------------------------------------------------------------


def session_cookie_header(response: Any) -> str:
    headers = [h for h in response.headers.getlist("Set-Cookie") if h.startswith(COOKIE + "=")]
    assert headers, response.headers
    return headers[-1]


def test_session_cookie_is_httponly_and_samesite_lax(world, client):
    response = client.post(
        "/auth/login", data={"mobile": world.users["staff"].mobile, "password": PASSWORD}
    )
    assert response.status_code == 303
    header = session_cookie_header(response)
    assert "HttpOnly" in header
    assert "SameSite=Lax" in header
    assert "Secure" not in header  # development runs on plain http
    assert "Strict-Transport-Security" not in response.headers


@pytest.fixture
def production_app(app: Flask, database_uri: str, tmp_path: Path) -> Iterator[Flask]:
    config = {**_config(database_uri, tmp_path), "ENV_NAME": "production", "TESTING": False}
    other = make_app(config)
    yield other
    with other.app_context():
        db.engine.dispose()


def test_production_session_cookie_is_secure_and_hsts_is_sent(world, production_app):
    client = production_app.test_client()
    response = client.post(
        "/auth/login", data={"mobile": world.users["staff"].mobile, "password": PASSWORD}
    )
    assert response.status_code == 303
    header = session_cookie_header(response)
    assert "Secure" in header and "HttpOnly" in header and "SameSite=Lax" in header
    assert "max-age=" in response.headers["Strict-Transport-Security"]


# --- behind a reverse proxy ---------------------------------------------------------------


def test_behind_a_proxy_printed_slips_link_to_https(world, app, database_uri, tmp_path):
    proxied = make_app({**_config(database_uri, tmp_path), "PROXY_HOPS": 1})
    staff = proxied.test_client()
    headers = {"X-Forwarded-For": "203.0.113.9", "X-Forwarded-Proto": "https"}
    staff.post(
        "/auth/login",
        data={"mobile": world.users["staff"].mobile, "password": PASSWORD},
        headers=headers,
    )
    rep = world.users["rep"]
    slip = staff.post(f"/people/{rep.id}/activation", headers=headers).get_data(as_text=True)
    assert "https://localhost/auth/activate" in slip
    with proxied.app_context():
        db.engine.dispose()


def test_without_a_proxy_forwarded_headers_are_ignored(world, login_as):
    staff = login_as(world.users["staff"])
    rep = world.users["rep"]
    headers = {"X-Forwarded-Proto": "https"}
    slip = staff.post(f"/people/{rep.id}/activation", headers=headers).get_data(as_text=True)
    assert "http://localhost/auth/activate" in slip


# --- flask check-deploy ---------------------------------------------------------------------


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in list(os.environ):
        if name.startswith(("COMPOUND_", "FLASK_")) or name in ("SECRET_KEY", "DATABASE_URL"):
            monkeypatch.delenv(name)
    return monkeypatch


def safe_config(database_uri: str) -> dict[str, Any]:
    return {
        "ENV_NAME": "production",
        "SECRET_KEY": SAFE_KEY,
        "SQLALCHEMY_DATABASE_URI": database_uri,
        "PROXY_HOPS": 1,
        "SMS_BACKEND": "aliyun",
    }


def check_deploy(target: Flask) -> Any:
    with target.app_context():
        return target.test_cli_runner().invoke(args=["check-deploy"])


def test_check_deploy_passes_on_safe_production_settings(app, database_uri, clean_env):
    clean_env.setenv("SECRET_KEY", SAFE_KEY)
    result = check_deploy(create_app(safe_config(database_uri)))
    assert result.exit_code == 0, result.output
    assert "OK" in result.output and "FAIL" not in result.output


def test_check_deploy_accepts_the_prefixed_secret_key_variable(app, database_uri, clean_env):
    clean_env.setenv("COMPOUND_SECRET_KEY", SAFE_KEY)
    result = check_deploy(create_app(safe_config(database_uri)))
    assert result.exit_code == 0, result.output


def test_check_deploy_fails_on_the_test_settings(app, clean_env):
    result = check_deploy(app)
    assert result.exit_code == 1
    assert "TESTING" in result.output
    assert "CSRF" in result.output
    assert "Argon2" in result.output
    assert not any(line.startswith("OK") for line in result.output.splitlines())


UNSAFE: dict[str, tuple[dict[str, Any], dict[str, Any], dict[str, str], str]] = {
    # name: (config at creation, config set afterwards, environment, expected words)
    "development": ({"ENV_NAME": "development"}, {"SESSION_COOKIE_SECURE": True}, {}, "_ENV"),
    "FLASK_DEBUG": ({}, {}, {"FLASK_DEBUG": "1"}, "Debug"),
    "DEBUG": ({"DEBUG": True}, {}, {}, "Debug"),
    "TESTING": ({"TESTING": True}, {}, {}, "TESTING"),
    "no key in env": ({}, {}, {"SECRET_KEY": ""}, "SECRET_KEY is not set"),
    "short key": ({"SECRET_KEY": "short"}, {}, {"SECRET_KEY": "short"}, "shorter"),
    "insecure cookie": ({}, {"SESSION_COOKIE_SECURE": False}, {}, "SESSION_COOKIE_SECURE"),
    "script-readable cookie": ({"SESSION_COOKIE_HTTPONLY": False}, {}, {}, "HTTPONLY"),
    "cross-site cookie": ({"SESSION_COOKIE_SAMESITE": None}, {}, {}, "SAMESITE"),
    "csrf off": ({"WTF_CSRF_ENABLED": False}, {}, {}, "CSRF"),
    "csrf not checked": ({"WTF_CSRF_CHECK_DEFAULT": False}, {}, {}, "CSRF"),
    "weak argon2": ({"ARGON2_MEMORY_COST": 64, "ARGON2_TIME_COST": 1}, {}, {}, "Argon2"),
    "unlimited uploads": ({"MAX_CONTENT_LENGTH": None}, {}, {}, "MAX_CONTENT_LENGTH"),
    "proxy unknown": ({}, {}, {}, "PROXY_HOPS"),
    # Every SMS, sign-in codes included, would be in the staff's dev SMS box.
    "dev SMS": ({"SMS_BACKEND": "dev"}, {}, {}, "SMS_BACKEND"),
}


@pytest.mark.parametrize("case", list(UNSAFE))
def test_check_deploy_fails_on_each_unsafe_setting(app, database_uri, clean_env, case):
    at_creation, afterwards, env, expected = UNSAFE[case]
    clean_env.setenv("SECRET_KEY", SAFE_KEY)
    for name, value in env.items():
        if value:
            clean_env.setenv(name, value)
        else:
            clean_env.delenv(name)
    config = {**safe_config(database_uri), **at_creation}
    if case == "proxy unknown":
        del config["PROXY_HOPS"]
    target = create_app(config)
    target.config.update(afterwards)
    result = check_deploy(target)
    assert result.exit_code == 1, result.output
    fails = [line for line in result.output.splitlines() if line.startswith("FAIL")]
    assert len(fails) == 1, result.output  # exactly the one problem, named
    assert expected in fails[0]


def _demo_accounts(password: str) -> list[Any]:
    from compound_app.auth.models import User
    from compound_app.auth.service import hash_password
    from compound_app.demo.generate import DEMO_ACCOUNTS

    users = [
        User(mobile=a.mobile, name=a.name, password_hash=hash_password(password))
        for a in DEMO_ACCOUNTS[:3]
    ]
    db.session.add_all(users)
    db.session.commit()
    return users


def test_check_deploy_fails_while_demo_accounts_sign_in_with_the_demo_password(
    app, database_uri, clean_env
):
    """It used to pass against the demo's database, the README's password still working."""
    from compound_app.demo.generate import DEMO_ACCOUNTS, DEMO_PASSWORD

    users = _demo_accounts(DEMO_PASSWORD)
    clean_env.setenv("SECRET_KEY", SAFE_KEY)
    result = check_deploy(create_app(safe_config(database_uri)))
    assert result.exit_code == 1, result.output
    fails = [line for line in result.output.splitlines() if line.startswith("FAIL")]
    assert len(fails) == 1 and "demo" in fails[0], result.output
    assert all(a.mobile in fails[0] for a in DEMO_ACCOUNTS[:3])
    # Changed passwords, or disabled accounts, pass.
    from compound_app.auth.service import hash_password

    users[0].password_hash = hash_password("a new secret for real 1")
    users[1].is_enabled = False
    users[2].password_hash = None
    db.session.commit()
    result = check_deploy(create_app(safe_config(database_uri)))
    assert result.exit_code == 0, result.output


def failures(result: Any) -> list[str]:
    return [line for line in result.output.splitlines() if line.startswith("FAIL")]


def test_check_deploy_fails_on_the_sample_accounts_of_the_generated_datasets(
    world, database_uri, clean_env
):
    """``flask demo --scale small|city`` gives the first account of each role the demo
    password; the check knew only the story's ten mobiles, and passed."""
    from compound_app.demo.generate import DEMO_ACCOUNTS, sample_accounts

    samples = sample_accounts()  # what the command does after loading those datasets
    assert samples and not {a.mobile for a in samples} & {a.mobile for a in DEMO_ACCOUNTS}
    clean_env.setenv("SECRET_KEY", SAFE_KEY)
    result = check_deploy(create_app(safe_config(database_uri)))
    assert result.exit_code == 1, result.output
    fails = failures(result)
    assert len(fails) == 1 and "demo" in fails[0], result.output
    assert all(a.mobile in fails[0] for a in samples)


def test_check_deploy_finds_the_demo_password_on_any_account(app, database_uri, clean_env):
    from compound_app import clock
    from compound_app.demo.generate import DEMO_PASSWORD
    from tests import factories

    owners = [factories.user(f"住户{n}") for n in range(3)]
    chosen = factories.user("林小梅", password=DEMO_PASSWORD)
    for user in [*owners, chosen]:
        user.password_changed_at = clock.now()  # chosen by their owners
    db.session.commit()
    clean_env.setenv("SECRET_KEY", SAFE_KEY)
    result = check_deploy(create_app(safe_config(database_uri)))
    assert result.exit_code == 1, result.output
    fails = failures(result)
    assert len(fails) == 1 and chosen.mobile in fails[0]
    assert not any(user.mobile in fails[0] for user in owners)


@pytest.fixture
def verifications(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The hashes check-deploy tries the demo password on."""
    from argon2 import PasswordHasher

    tried: list[str] = []
    verify = PasswordHasher.verify

    def counting(self: PasswordHasher, hash: str | bytes, password: str | bytes) -> bool:
        tried.append(str(hash))
        return verify(self, hash, password)

    monkeypatch.setattr(PasswordHasher, "verify", counting)
    return tried


def test_check_deploy_tries_the_likeliest_demo_accounts_first_and_no_more_than_its_budget(
    app, database_uri, clean_env, monkeypatch, verifications
):
    from compound_app import clock, deploy_checks
    from compound_app.auth.service import hash_password
    from compound_app.demo.generate import DEMO_PASSWORD
    from tests import factories

    monkeypatch.setattr(deploy_checks, "MAX_PASSWORD_CHECKS", 3)
    owners = [factories.user(f"住户{n}") for n in range(6)]
    for user in owners:
        user.password_changed_at = clock.now()
    # Two accounts sharing one hash, made last: a bulk load, as the generated datasets do.
    shared = hash_password(DEMO_PASSWORD)
    samples = [factories.user(f"样例{n}", password=None) for n in range(2)]
    for user in samples:
        user.password_hash = shared
    db.session.commit()
    clean_env.setenv("SECRET_KEY", SAFE_KEY)
    result = check_deploy(create_app(safe_config(database_uri)))
    assert len(verifications) == 3 and verifications[0] == shared
    fails = failures(result)
    assert len(fails) == 1 and all(user.mobile in fails[0] for user in samples), result.output
    # Owners' own passwords beyond the budget go unchecked without a failure (an owner
    # cannot choose the demo password)...
    for user in samples:
        user.is_enabled = False
    db.session.commit()
    verifications.clear()
    result = check_deploy(create_app(safe_config(database_uri)))
    assert result.exit_code == 0, result.output
    assert len(verifications) == 3
    # ...but passwords set without the app, past the budget, fail the check unseen.
    for user in owners:
        user.password_changed_at = None
    db.session.commit()
    result = check_deploy(create_app(safe_config(database_uri)))
    fails = failures(result)
    assert len(fails) == 1 and "3 accounts" in fails[0] and "not checked" in fails[0]


def configured(instance: Path, config_py: str | None) -> Flask:
    """A Flask app configured as the real one is, from ``instance`` (no test config)."""
    from compound_app.config import load_config

    target = Flask("compound_app", instance_path=str(instance))
    if config_py is not None:
        (instance / "config.py").write_text(config_py)
    load_config(target, None)
    return target


def test_check_deploy_accepts_a_secret_key_from_instance_config(tmp_path, clean_env):
    """The app reads instance/config.py; check-deploy wanted the key in the environment."""
    from compound_app.deploy_checks import _secret_key_problems

    target = configured(tmp_path, f"SECRET_KEY = {SAFE_KEY!r}\n")
    assert target.config["SECRET_KEY"] == SAFE_KEY
    assert _secret_key_problems(target) == []
    clean_env.setenv("COMPOUND_SECRET_KEY", SAFE_KEY[::-1])
    assert configured(tmp_path, None).config["SECRET_KEY_SOURCE"] == "COMPOUND_SECRET_KEY"


@pytest.mark.parametrize(
    "key",
    [
        "dev",
        "change-me-before-going-live-0123456789",
        "x" * 48,
        "0123456789" * 4,
        "test-secret-key-not-for-production-0123456789",  # the test suite's
        "screenshots-only-" + "x" * 32,
    ],
)
def test_check_deploy_refuses_an_example_or_development_key(tmp_path, clean_env, key):
    from compound_app.deploy_checks import _secret_key_problems

    problems = _secret_key_problems(configured(tmp_path, f"SECRET_KEY = {key!r}\n"))
    assert len(problems) == 1 and "SECRET_KEY" in problems[0]


def test_check_deploy_refuses_the_key_generated_for_development(tmp_path, clean_env):
    from compound_app.deploy_checks import _secret_key_problems

    target = configured(tmp_path, None)  # no key given: one is generated into instance/
    assert (tmp_path / "secret_key").is_file()
    assert "not set" in _secret_key_problems(target)[0]
    # Copied into the environment it is still that one machine's development key.
    clean_env.setenv("SECRET_KEY", (tmp_path / "secret_key").read_text().strip())
    assert "development" in _secret_key_problems(configured(tmp_path, None))[0]


def test_check_deploy_warns_about_sqlite_without_failing(app, database_uri, clean_env):
    clean_env.setenv("SECRET_KEY", SAFE_KEY)
    result = check_deploy(create_app(safe_config(database_uri)))
    warns = [line for line in result.output.splitlines() if line.startswith("WARN")]
    if database_uri.startswith("sqlite"):
        assert len(warns) == 1 and "SQLite" in warns[0] and "PostgreSQL" in warns[0]
    else:
        assert warns == []
    assert result.exit_code == 0, result.output


def _flask_check_deploy(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    base = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("COMPOUND_", "FLASK_")) and k not in ("SECRET_KEY", "DATABASE_URL")
    }
    return subprocess.run(
        [sys.executable, "-m", "flask", "--app", "compound_app", "check-deploy"],
        cwd=ROOT,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_the_real_command_fails_in_development(tmp_path):
    result = _flask_check_deploy({"DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}"})
    assert result.returncode != 0
    assert "FAIL" in result.stderr


def test_the_real_command_passes_with_production_environment(tmp_path):
    result = _flask_check_deploy(
        {
            "COMPOUND_ENV": "production",
            "COMPOUND_PROXY_HOPS": "0",
            "COMPOUND_SMS_BACKEND": "aliyun",
            "SECRET_KEY": SAFE_KEY,
            "DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}",
        }
    )
    assert result.returncode == 0, result.stderr
    assert "OK" in result.stdout
    assert "WARN" in result.stderr and "SQLite" in result.stderr


def test_the_readmes_nginx_takes_the_bodies_the_app_takes():
    """nginx's default of 1 MB turned away a resident's photos before the app saw them."""
    from compound_app.config import Defaults

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    nginx = re.search(r"```nginx\n(.*?)```", readme, re.S)
    assert nginx, "the README has no nginx example"
    size = re.search(r"client_max_body_size (\d+)m;", nginx.group(1))
    assert size and int(size.group(1)) * 1024 * 1024 == Defaults.MAX_CONTENT_LENGTH
    assert "X-Forwarded-For $remote_addr" in nginx.group(1)
    assert "X-Request-ID $request_id" in nginx.group(1)


# --- templates keep to the CSP ------------------------------------------------------------


class InlineCodeFinder(HTMLParser):
    """Collects what a CSP without 'unsafe-inline'/'unsafe-eval' would block or break."""

    EXECUTABLE = ("", "text/javascript", "application/javascript", "module")

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []
        self._script: str | None = None
        self.tags = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags += 1
        attr = dict(attrs)
        for name, value in attrs:
            value = (value or "").strip()
            if name.startswith("on"):
                self.problems.append(f"<{tag} {name}=…> inline event handler")
            if name == "style":
                self.problems.append(f"<{tag} style=…> inline style")
            if name.startswith(("hx-on", "data-hx-on")):
                self.problems.append(f"<{tag} {name}> needs eval")
            if name in ("hx-vals", "hx-vars", "data-hx-vals") and value.startswith(
                ("js:", "javascript:")
            ):
                self.problems.append(f"<{tag} {name}=js:…> needs eval")
            if name == "hx-vars":
                self.problems.append(f"<{tag} hx-vars> always evaluates")
            if name in ("href", "src", "action", "formaction") and value.lower().startswith(
                "javascript:"
            ):
                self.problems.append(f"<{tag} {name}=javascript:…>")
        if tag == "style":
            self.problems.append("<style> element")
        if tag == "script":
            kind = (attr.get("type") or "").lower()
            if kind in self.EXECUTABLE:
                if not attr.get("src"):
                    self.problems.append("inline <script>")
                else:
                    self._script = ""

    def handle_data(self, data: str) -> None:
        if self._script is not None:
            self._script += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "script" and self._script is not None:
            if self._script.strip():
                self.problems.append("<script src> with inline content")
            self._script = None


def inline_code(html: str) -> list[str]:
    finder = InlineCodeFinder()
    finder.feed(html)
    finder.close()
    assert finder.tags > 0
    return finder.problems


def test_the_finder_finds_what_it_looks_for():
    """The scan below must be able to fail."""
    bad = (
        '<p style="color:red">x</p><button onclick="go()">b</button>'
        "<script>alert(1)</script><style>p{}</style>"
        '<a href="javascript:void(0)">a</a><div hx-on:click="x()"></div>'
        '<div hx-vals="js:{a: 1}"></div>'
    )
    assert len(inline_code(bad)) == 7
    good = '<script src="/static/js/app.js" defer></script><p class="x" data-confirm="y">ok</p>'
    assert inline_code(good) == []


def _url_args(world: World, app: Flask) -> dict[str, object]:
    from sqlalchemy import select

    from compound_app.auth.models import RoleGrant

    objs = world.objects_of(world.branch)
    member = db.session.scalar(
        select(CommitteeMember).where(CommitteeMember.user_id == world.users["committee"].id)
    )
    grant = db.session.scalar(select(RoleGrant).where(RoleGrant.user_id == world.users["rep"].id))
    fees = fee_objects(world.branch, world.users["rep"], world.users["committee"])
    repairs = repair_objects(world.branch, world.users["resident"], world.users["committee"])
    asked = pilot_vote_objects(world.branch, world.users["committee"])
    # --- public links: the works board's live link (its public page, its withdrawal) ---
    from compound_app.public import service as public_links
    from compound_app.public.models import LinkKind

    link = public_links.link_for(LinkKind.WORKS_BOARD, world.branch.id)
    db.session.commit()
    # --- end public links ---
    from tests.factories import notice_objects  # notices

    told = notice_objects(world.branch, world.users["committee"])
    from tests.factories import income_objects  # common-part income

    earned = income_objects(world.branch, world.users["committee"])
    from tests.factories import archive_objects  # archive

    kept = archive_objects(world.branch, world.users["committee"])
    from tests.factories import fund_objects, recon_objects

    reconciled = recon_objects(world.branch, world.users["committee"])  # reconciliation
    funded = fund_objects(world.branch, world.users["committee"])  # the maintenance fund
    from tests.factories import problem_objects  # the problem register

    listed = problem_objects(world.branch, world.users["committee"])
    from tests.factories import rectify_objects  # rectification and inspections

    rectified = rectify_objects(world.branch, world.users["staff"])
    return {
        **listed,
        **rectified,
        **reconciled,
        **funded,
        **earned,
        **fees,
        **repairs,
        **asked,
        "token": link.token,  # public links
        "link_id": link.id,  # public links
        **told,
        **kept,  # archive
        "compound_id": objs["compound"].id,
        "community_id": world.community.id,
        "area_id": world.contiguous_area.id,
        "building_id": objs["building"].id,
        "unit_id": objs["unit"].id,
        "household_id": objs["household"].id,
        "occupant_id": objs["occupant"].id,
        "member_id": member.id,
        "user_id": world.users["rep"].id,
        "grant_id": grant.id,
        "ext": "xlsx",
        **_message_args(world),
    }


# --- messages: a message of the resident, a failed SMS to the resident -----------------------


def _message_args(world: World) -> dict[str, object]:
    from compound_app.messages.models import Kind, OutboxStatus
    from compound_app.messages.service import enqueue_sms, notify

    resident = world.users["resident"]
    (message,) = notify([resident], Kind.REPAIR, "维修已完成，请验收", "/repairs/mine")
    row = enqueue_sms(resident.mobile, "repair", {"title": "维修已完成"})
    row.status = OutboxStatus.FAILED
    db.session.commit()
    return {"message_id": message.id, "outbox_id": row.id}


def _fill(rule: Any, args: dict[str, object]) -> str:
    url = rule.rule
    for name in rule.arguments:
        url = re.sub(rf"<(?:\w+:)?{name}>", str(args[name]), url)
    return url


def test_no_page_has_inline_script_style_or_event_handlers(world, app, login_as, client):
    args = _url_args(world, app)
    rules = [r for r in app.url_map.iter_rules() if r.endpoint != "static"]
    clients: dict[str, FlaskClient] = {"anonymous": client}
    for role in ("admin", "staff", "committee", "area_committee", "rep", "resident", "tenant"):
        clients[role] = login_as(world.users[role])
    staff = clients["staff"]
    extra = [
        f"/committees/areas/{world.branch.area_id}",
        f"/registry/areas/{world.branch.area_id}",
        "/no/such/page",
    ]
    problems: dict[str, list[str]] = {}
    pages: set[str] = set()

    def scan(role: str, method: str, url: str, response: Any) -> None:
        if response.status_code >= 500:
            problems[f"{role} {method} {url}"] = [f"answered {response.status_code}"]
        if response.mimetype != "text/html" or not response.data:
            return
        if response.status_code == 200:
            pages.add(url)
        found = inline_code(response.get_data(as_text=True))
        if found:
            problems[f"{role} {method} {url} ({response.status_code})"] = found

    # Slips are the answers to making a code.
    for url in (
        f"/registry/households/{args['household_id']}/invite",
        f"/people/{args['user_id']}/activation",
    ):
        scan("staff", "POST", url, staff.post(url))
    for role, c in clients.items():
        for rule in rules:
            url = _fill(rule, args)
            if "GET" in rule.methods:
                scan(role, "GET", url, c.get(url))
                scan(
                    role,
                    "GET htmx",
                    url,
                    c.get(url, headers={"HX-Request": "true", "HX-Target": "people-table"}),
                )
        for url in extra:
            scan(role, "GET", url, c.get(url))
    # Forms sent back with errors (422) by the people who use them.
    for role in ("admin", "staff", "committee", "rep"):
        for rule in rules:
            if {"GET", "POST"} <= rule.methods and not rule.endpoint.startswith("auth.log"):
                url = _fill(rule, args)
                scan(role, "POST", url, clients[role].post(url, data={"name": "\x00"}))
    scan("anonymous", "POST", "/auth/login", client.post("/auth/login", data={}))
    scan("anonymous", "POST", "/auth/activate", client.post("/auth/activate", data={}))
    assert not problems, json.dumps(problems, ensure_ascii=False, indent=1)
    # Enough distinct pages were really rendered for the scan to mean something.
    assert len(pages) >= 25, sorted(pages)
    assert any("/activation" in p for p in pages) and any("/invite" in p for p in pages)


def test_static_script_never_evaluates_strings():
    script = (ROOT / "static" / "js" / "app.js").read_text(encoding="utf-8")
    assert "eval(" not in script and "new Function" not in script
    assert "innerHTML" not in script

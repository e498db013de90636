"""Operations: the health check, and the one log line every request leaves."""

from __future__ import annotations

import io
import json
import logging
import re
from pathlib import Path

import pytest
from flask import Flask

from compound_app.logging_setup import HANDLER, LOGGER, configure_logging
from tests.conftest import _config, make_app
from tests.factories import PASSWORD, World

# --- /healthz ----------------------------------------------------------------------------------


def test_healthz_answers_without_signing_in(app: Flask) -> None:
    response = app.test_client().get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}
    assert response.headers["Cache-Control"] == "no-store"
    assert "Set-Cookie" not in response.headers


def test_healthz_needs_no_csrf_token(database_uri: str, tmp_path: Path) -> None:
    app = make_app(_config(database_uri, tmp_path) | {"WTF_CSRF_ENABLED": True})
    with app.app_context():
        assert app.test_client().get("/healthz").status_code == 200


def test_healthz_is_503_when_the_database_does_not_answer(tmp_path: Path) -> None:
    broken = f"sqlite:///{tmp_path / 'no-such-folder' / 'compound.db'}"
    app = make_app(_config(broken, tmp_path))
    with app.app_context():
        response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.get_json() == {"status": "unavailable"}


@pytest.fixture
def hung_database(monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """The database accepts the query and never answers, until the test ends."""
    import threading

    from compound_app import health

    released = threading.Event()
    asked: list[int] = []

    def hang(_engine) -> None:  # type: ignore[no-untyped-def]
        asked.append(1)
        released.wait(30)

    monkeypatch.setattr(health, "_ask", hang)
    yield asked
    released.set()


def test_healthz_answers_503_in_time_when_the_database_hangs(app: Flask, hung_database) -> None:
    """The probe used to wait as long as the database did: a hung database hung it."""
    import time

    app.config["HEALTH_TIMEOUT"] = 0.3
    started = time.perf_counter()
    response = app.test_client().get("/healthz")
    elapsed = time.perf_counter() - started
    assert response.status_code == 503 and response.get_json() == {"status": "unavailable"}
    assert 0.3 <= elapsed < 1.5, elapsed


def test_healthz_starts_no_more_checks_while_earlier_ones_hang(app: Flask, hung_database) -> None:
    import time

    from compound_app import health

    app.config["HEALTH_TIMEOUT"] = 0.05
    client = app.test_client()
    for _ in range(health.MAX_WAITING):
        assert client.get("/healthz").status_code == 503
    started = time.perf_counter()
    assert client.get("/healthz").status_code == 503
    assert time.perf_counter() - started < 0.05  # not even waited for
    assert len(hung_database) == health.MAX_WAITING


def test_healthz_answers_503_when_the_database_server_is_unreachable(tmp_path: Path) -> None:
    import time

    # TEST-NET-1: nothing answers there (refused at once, or never: the timeout decides).
    unreachable = "postgresql+psycopg://nobody@192.0.2.1:5432/compound"
    app = make_app(_config(unreachable, tmp_path) | {"HEALTH_TIMEOUT": 0.5})
    started = time.perf_counter()
    with app.app_context():
        response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert time.perf_counter() - started < 2.5


def test_the_probe_bounds_connecting_and_the_statement_on_postgresql() -> None:
    from sqlalchemy import make_url

    from compound_app.health import connect_args

    url = make_url("postgresql+psycopg://app@db/compound")
    assert connect_args(url, 2.0) == {
        "connect_timeout": 2,
        "options": "-c statement_timeout=2000",
    }
    assert connect_args(url, 0.3) == {"connect_timeout": 1, "options": "-c statement_timeout=300"}
    assert connect_args(make_url("sqlite:///x.db"), 2.0) == {"timeout": 2.0}


# --- one line per request ---------------------------------------------------------------------

TEXT_LINE = re.compile(
    r"^\S+ \S+ INFO compound_app\.request: (?P<method>[A-Z]+) (?P<path>\S+) (?P<status>\d{3}) "
    r"(?P<ms>\d+(\.\d+)?)ms user=(?P<user>\d+|-) request=(?P<rid>[A-Za-z0-9._-]+)$"
)


def capture(app: Flask, fmt: str, level: str = "INFO") -> io.StringIO:
    """Log in ``fmt`` at ``level`` into a string, through the handler the app configured."""
    app.config.update(LOG_FORMAT=fmt, LOG_LEVEL=level)
    configure_logging(app)
    handler = next(h for h in logging.getLogger(LOGGER).handlers if h.name == HANDLER)
    stream = io.StringIO()
    handler.setStream(stream)  # type: ignore[attr-defined]
    return stream


def test_a_request_logs_one_text_line(app: Flask, world: World, login_as) -> None:
    user = world.users["staff"]
    client = login_as(user)
    out = capture(app, "text")
    app.config["PROXY_HOPS"] = 1  # behind a proxy, which names its requests
    response = client.get("/?token=s3cret-value", headers={"X-Request-ID": "edge-42"})
    assert response.status_code == 200
    assert response.headers["X-Request-ID"] == "edge-42"
    lines = out.getvalue().splitlines()
    assert len(lines) == 1, lines
    found = TEXT_LINE.match(lines[0])
    assert found, lines[0]
    assert found["method"] == "GET" and found["path"] == "/" and found["status"] == "200"
    assert found["user"] == str(user.id) and found["rid"] == "edge-42"
    assert "s3cret-value" not in out.getvalue()


def test_a_request_logs_one_json_line(app: Flask, world: World, login_as) -> None:
    user = world.users["staff"]
    client = login_as(user)
    out = capture(app, "json")
    response = client.get("/healthz?key=s3cret-value")
    lines = out.getvalue().splitlines()
    assert len(lines) == 1, lines
    entry = json.loads(lines[0])
    assert entry["logger"] == "compound_app.request" and entry["level"] == "INFO"
    assert entry["method"] == "GET" and entry["path"] == "/healthz" and entry["status"] == 200
    assert isinstance(entry["duration_ms"], int | float) and entry["duration_ms"] >= 0
    assert entry["user_id"] == user.id
    assert entry["request_id"] == response.headers["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{16}", entry["request_id"])  # made up: none was sent
    assert "s3cret-value" not in out.getvalue()


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_signing_in_logs_neither_password_nor_mobile(app: Flask, world: World, fmt: str) -> None:
    user = world.users["staff"]
    out = capture(app, fmt)
    client = app.test_client()
    client.post("/auth/login", data={"mobile": user.mobile, "password": PASSWORD})
    client.post("/auth/login", data={"mobile": user.mobile, "password": "wrong horse 42"})
    lines = out.getvalue().splitlines()
    assert len(lines) == 2, lines
    for secret in (PASSWORD, "wrong horse 42", user.mobile):
        assert secret not in out.getvalue()


def test_an_unsigned_request_and_a_forged_request_id(app: Flask) -> None:
    out = capture(app, "json")
    response = app.test_client().get("/fees/", headers={"X-Request-ID": 'bad id "x": {}'})
    entry = json.loads(out.getvalue())
    assert entry["status"] == response.status_code == 302  # sent to sign in
    assert entry["user_id"] is None
    assert entry["request_id"] == response.headers["X-Request-ID"] != 'bad id "x": {}'


def test_without_a_proxy_the_clients_request_id_is_not_believed(app: Flask) -> None:
    """A client could name its requests after someone else's to muddle the log."""
    out = capture(app, "json")
    response = app.test_client().get("/healthz", headers={"X-Request-ID": "edge-42"})
    entry = json.loads(out.getvalue())
    assert entry["request_id"] == response.headers["X-Request-ID"] != "edge-42"
    assert re.fullmatch(r"[0-9a-f]{16}", entry["request_id"])


def test_a_proxys_request_id_is_bounded_in_length_and_characters(app: Flask) -> None:
    app.config["PROXY_HOPS"] = 1
    client = app.test_client()
    for given in ("x" * 65, "a b", "a\u00e9", "a;b"):
        assert (
            client.get("/healthz", headers={"X-Request-ID": given}).headers["X-Request-ID"] != given
        )
    assert (
        client.get("/healthz", headers={"X-Request-ID": "x" * 64}).headers["X-Request-ID"]
        == "x" * 64
    )


FORGED_PATH = (
    "/nope%0D%0A2026-06-15 10:00:00,000 INFO compound_app.request: "
    "GET /people 200 1.0ms user=1 request=forged"
)


def test_a_path_cannot_forge_a_text_line_or_fields(app: Flask) -> None:
    """%0D%0A in a path used to start a line of the attacker's own in the log."""
    out = capture(app, "text")
    response = app.test_client().get(FORGED_PATH + "%C2%85%E2%80%A8%E2%80%AE%1B[31m")
    lines = out.getvalue().splitlines()
    assert len(lines) == 1, lines
    found = TEXT_LINE.match(lines[0])
    assert found, lines[0]
    assert found["path"].startswith("/nope\\r\\n2026-06-15\\x2010:00:00,000")
    assert found["status"] == str(response.status_code) and found["user"] == "-"
    assert found["rid"] != "forged"
    for raw in ("\r", "\x85", "\u2028", "\u202e", "\x1b"):
        assert raw not in out.getvalue()
    assert "\\x85\\u2028\\u202e\\x1b[31m" in found["path"]


def test_a_path_cannot_forge_a_json_line(app: Flask) -> None:
    out = capture(app, "json")
    app.test_client().get(FORGED_PATH + "%C2%85%E2%80%A8")
    text = out.getvalue()
    assert len(text.splitlines()) == 1 and "\x85" not in text and "\u2028" not in text
    entry = json.loads(text)
    assert entry["path"].startswith("/nope\\r\\n2026") and entry["request_id"] != "forged"
    assert "\n" not in entry["message"] and "\\x85\\u2028" in entry["path"]


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_any_message_stays_on_its_line(app: Flask, fmt: str) -> None:
    out = capture(app, fmt)
    logging.getLogger(LOGGER).warning("looked up %s", "13800000000\nFAKE ERROR root: x")
    assert len(out.getvalue().splitlines()) == 1


def test_the_level_comes_from_the_configuration(app: Flask) -> None:
    out = capture(app, "text", level="WARNING")
    app.test_client().get("/healthz")
    assert out.getvalue() == ""


def test_an_unknown_log_format_is_refused(database_uri: str, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="LOG_FORMAT"):
        make_app(_config(database_uri, tmp_path) | {"LOG_FORMAT": "xml"})

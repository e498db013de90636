"""Fixtures: an app per test on a database built by the migrations.

SQLite (the default): the migrations build a template file once per session and every
test gets a copy. PostgreSQL (``TEST_DATABASE_URL``): the migrations run once per
session and every test starts from empty tables.

The suite never reads the real date: it runs at ``TEST_NOW`` (an ISO moment with its
offset), moving on from there as real time passes. CI runs parts of it at other moments
(a later year, New Year's midnight in China) to prove nothing depends on one date.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import time_machine
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import create_engine, text

from compound_app import clock, create_app
from compound_app.extensions import db
from tests import factories

PG_URL = os.environ.get("TEST_DATABASE_URL")
TEST_NOW = os.environ.get("TEST_NOW") or "2026-06-15T10:00:00+08:00"


def pytest_configure(config: pytest.Config) -> None:
    moment = datetime.fromisoformat(TEST_NOW)
    if moment.tzinfo is None:
        raise pytest.UsageError("TEST_NOW needs an offset, e.g. 2029-06-01T09:00:00+08:00")
    # tick: time goes on from there, so timeouts and "a minute later" behave as in life.
    config._travel = time_machine.travel(moment, tick=True)  # type: ignore[attr-defined]
    config._travel.start()  # type: ignore[attr-defined]


def pytest_unconfigure(config: pytest.Config) -> None:
    travel = getattr(config, "_travel", None)
    if travel is not None:
        travel.stop()


class HeldClock:
    """The app's clock, held at ``now`` while that is set; the suite's running time if None."""

    now: datetime | None = None


@pytest.fixture
def held_clock() -> Iterator[HeldClock]:
    held = HeldClock()
    with clock.following(lambda: held.now or datetime.now(UTC)):
        yield held


def _config(uri: str, instance: Path) -> dict[str, Any]:
    engine_options: dict[str, Any] = {"pool_pre_ping": True}
    if uri.startswith("postgresql"):
        # Tests need no durability across a power cut; this saves an fsync per commit.
        engine_options["connect_args"] = {"options": "-c synchronous_commit=off"}
    return {
        "SQLALCHEMY_ENGINE_OPTIONS": engine_options,
        "TESTING": True,
        "SECRET_KEY": "test-secret-key-not-for-production-0123456789",
        "SQLALCHEMY_DATABASE_URI": uri,
        "WTF_CSRF_ENABLED": False,
        # Cheap hashes keep the suite fast; production parameters are checked elsewhere.
        "ARGON2_TIME_COST": 1,
        "ARGON2_MEMORY_COST": 64,
        "ARGON2_PARALLELISM": 1,
    }


def _migrate(uri: str, instance: Path) -> None:
    from flask_migrate import upgrade

    app = create_app(_config(uri, instance))
    with app.app_context():
        upgrade()
        db.engine.dispose()


@pytest.fixture(scope="session")
def database_template(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The migrated database every test starts from (a file for SQLite)."""
    instance = tmp_path_factory.mktemp("instance")
    if PG_URL:
        engine = create_engine(PG_URL)
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        engine.dispose()
        _migrate(PG_URL, instance)
        return PG_URL
    path = tmp_path_factory.mktemp("template") / "template.db"
    _migrate(f"sqlite:///{path}", instance)
    return str(path)


def _truncate_all(uri: str) -> None:
    engine = create_engine(uri)
    with engine.begin() as conn:
        tables = [
            row[0]
            for row in conn.execute(
                text(
                    "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
                    "AND tablename <> 'alembic_version'"
                )
            )
        ]
        if tables:
            conn.execute(
                text(
                    "TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " RESTART IDENTITY CASCADE"
                )
            )
    engine.dispose()


@pytest.fixture
def database_uri(database_template: str, tmp_path: Path) -> str:
    if PG_URL:
        _truncate_all(PG_URL)
        return PG_URL
    target = tmp_path / "test.db"
    shutil.copyfile(database_template, target)
    return f"sqlite:///{target}"


class IsolatedClient(FlaskClient):
    """A test client whose every request runs in its own app context.

    The test keeps an app context open for its own queries; without this, requests would
    share its ``g`` (and so the signed-in user) and its database session. Each request
    gets fresh ones, as in a real server; the test's session sees the results after
    ``db.session.expire_all()``.
    """

    def open(self, *args: Any, **kwargs: Any) -> Any:
        # The test's own work is saved first, as if another process had done it, and its
        # transaction ends, so it holds no SQLite lock while the request runs.
        db.session.commit()
        with self.application.app_context():
            return super().open(*args, **kwargs)


def make_app(config: dict[str, Any]) -> Flask:
    app = create_app(config)
    app.test_client_class = IsolatedClient
    return app


@pytest.fixture
def app(database_uri: str, tmp_path: Path) -> Iterator[Flask]:
    app = make_app(_config(database_uri, tmp_path))
    # Uploaded photos and backups stay with the test, not in the project's instance folder.
    app.instance_path = str(tmp_path / "instance")
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def world(app: Flask) -> factories.World:
    return factories.build_world()


def login(client: FlaskClient, user: Any, password: str = factories.PASSWORD) -> None:
    """Sign ``client`` in as ``user`` through the real login form."""
    response = client.post("/auth/login", data={"mobile": user.mobile, "password": password})
    assert response.status_code == 303, response.get_data(as_text=True)[:500]


@pytest.fixture
def login_as(app: Flask) -> Any:
    """``login_as(user)`` → a fresh client signed in as that user."""

    def _login(user: Any) -> FlaskClient:
        c = app.test_client()
        login(c, user)
        return c

    return _login

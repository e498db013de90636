"""Fixtures: an app per worker, on a fresh database per test built by the migrations.

The shared test world (factories.build_world: two communities, every management model,
a user for every role) is built once per run. SQLite (the default): the migrations build
a template file once, the world another, and every test gets a copy of one of them.
PostgreSQL (``TEST_DATABASE_URL``): each xdist worker migrates a database of its own
once; every test starts from emptied tables, refilled with the world's rows if it asks
for the world.

The suite never reads the real date: it runs at ``TEST_NOW`` (an ISO moment with its
offset), moving on from there as real time passes. CI runs parts of it at other moments
(a later year, New Year's midnight in China) to prove nothing depends on one date.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import time_machine
from flask import Flask
from flask.testing import FlaskClient
from jinja2.bccache import Bucket, BytecodeCache
from sqlalchemy import create_engine, func, make_url, select, text
from werkzeug.routing import Rule

from compound_app import clock, create_app
from compound_app.database import configure_engine
from compound_app.extensions import db
from compound_app.logging_setup import configure_logging
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
        # Nor on SQLite: no fsync per commit (production keeps FULL, test_database checks).
        "SQLITE_SYNCHRONOUS": "OFF",
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


def _worker_pg_url(base: str) -> str:
    """Each xdist worker gets a database of its own, named after the base one."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not worker:
        return base
    url = make_url(base)
    name = f"{url.database}_{worker}"
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        exists = conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name})
        if not exists:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return url.set(database=name).render_as_string(hide_password=False)


@dataclass
class Template:
    """The migrated database every test starts from, empty or with the shared world in it.

    SQLite: two files, copied for each test. PostgreSQL: one database per worker, emptied
    for each test and, for tests of the world, refilled from a snapshot of its rows.
    """

    uri: str  # PostgreSQL: the worker's database; SQLite: the empty file's path
    world_path: str = ""  # SQLite: the file holding the world
    world_ids: dict[str, Any] = field(default_factory=dict)
    rows: list[tuple[Any, list[dict[str, Any]]]] = field(default_factory=list)
    sequences: str = ""  # PostgreSQL: one statement setting every id sequence


def _build_world(uri: str, instance: Path) -> dict[str, Any]:
    app = make_app(_config(uri, instance))
    with app.app_context():
        ids = factories.build_world().ids()
        db.session.remove()
        db.engine.dispose()
    return ids


@pytest.fixture(scope="session")
def database_template(tmp_path_factory: pytest.TempPathFactory) -> Template:
    instance = tmp_path_factory.mktemp("instance")
    if PG_URL:
        url = _worker_pg_url(PG_URL)
        engine = create_engine(url)
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        engine.dispose()
        _migrate(url, instance)
        template = Template(uri=url)
        template.world_ids = _build_world(url, instance)
        _snapshot(template)
        return template
    folder = tmp_path_factory.mktemp("template")
    empty, with_world = folder / "empty.db", folder / "world.db"
    _migrate(f"sqlite:///{empty}", instance)
    shutil.copyfile(empty, with_world)
    template = Template(uri=str(empty), world_path=str(with_world))
    template.world_ids = _build_world(f"sqlite:///{with_world}", instance)
    return template


def _snapshot(template: Template) -> None:
    """Keep the world's rows (in foreign-key order) and its sequences' positions."""
    engine = create_engine(template.uri)
    setvals = []
    with engine.begin() as conn:
        for table in db.metadata.sorted_tables:
            rows = [dict(r._mapping) for r in conn.execute(table.select())]
            if rows:
                template.rows.append((table, rows))
            if "id" in table.c and table.c.id.autoincrement in (True, "auto"):
                top = conn.scalar(select(func.coalesce(func.max(table.c.id), 0)))
                setvals.append(
                    f"setval(pg_get_serial_sequence('\"{table.name}\"', 'id'), {top + 1}, false)"
                )
    template.sequences = "SELECT " + ", ".join(setvals)
    engine.dispose()
    _empty_pg(template.uri)


def _empty_pg(uri: str, template: Template | None = None) -> None:
    engine = create_engine(uri)
    names = ", ".join(f'"{t.name}"' for t in db.metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        if template is not None:
            for table, rows in template.rows:
                conn.execute(table.insert(), rows)
            conn.execute(text(template.sequences))
    engine.dispose()


@pytest.fixture
def database_uri(
    database_template: Template, tmp_path: Path, request: pytest.FixtureRequest
) -> str:
    """A fresh database for the test: with the shared world in it if the test asks for one."""
    wants_world = "world" in request.fixturenames or "live_server" in request.fixturenames
    if PG_URL:
        _empty_pg(database_template.uri, database_template if wants_world else None)
        return database_template.uri
    target = tmp_path / "test.db"
    shutil.copyfile(database_template.world_path if wants_world else database_template.uri, target)
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


class _SharedBytecode(BytecodeCache):
    """Compiled templates kept for the whole run: every test's app reuses them.

    Jinja checks each template's source checksum, so an edited template is compiled again.
    """

    def __init__(self) -> None:
        self.code: dict[str, bytes] = {}

    def load_bytecode(self, bucket: Bucket) -> None:
        if bucket.key in self.code:
            bucket.bytecode_from_string(self.code[bucket.key])

    def dump_bytecode(self, bucket: Bucket) -> None:
        self.code[bucket.key] = bucket.bytecode_to_string()


_TEMPLATES = _SharedBytecode()


def _memoise_url_builders() -> None:
    """An app per test compiles ~160 URL builders; the same rule always compiles the same.

    Werkzeug's builder is a function of the rule's text, its defaults and whether unknown
    arguments go to the query string; it reaches the rule's converters through ``self``.
    Without this, building the URL map was a third of the suite's set-up time.
    """
    original = getattr(Rule, "_compile_builder", None)
    if original is None or getattr(original, "memoised", False):
        return
    built: dict[tuple[Any, ...], Any] = {}

    def compile_builder(self: Rule, append_unknown: bool = True) -> Any:
        key = (
            self.rule,
            self.subdomain,
            self.host,
            self.merge_slashes,
            repr(sorted((self.defaults or {}).items())),
            append_unknown,
        )
        if key not in built:
            built[key] = original(self, append_unknown)
        return built[key]

    compile_builder.memoised = True  # type: ignore[attr-defined]
    Rule._compile_builder = compile_builder  # type: ignore[method-assign]


_memoise_url_builders()


def make_app(config: dict[str, Any]) -> Flask:
    app = create_app(config)
    app.test_client_class = IsolatedClient
    app.jinja_env.bytecode_cache = _TEMPLATES
    return app


# Fixtures that add routes to the app: the tests using them get an app of their own, as
# Flask refuses new routes once an app has served a request.
ROUTE_ADDING_FIXTURES = {"boom", "conflicts"}
_SHARED: list[Flask] = []


def _use_database(app: Flask, uri: str) -> None:
    """Point the worker's app at ``uri`` with a new engine, as ``create_app`` would make."""
    app.config["SQLALCHEMY_DATABASE_URI"] = uri
    engines = db._app_engines[app]  # Flask-SQLAlchemy's engines per app and bind
    if engines[None].url.render_as_string(hide_password=False) != uri:
        engines[None] = create_engine(uri, **app.config["SQLALCHEMY_ENGINE_OPTIONS"])
        configure_engine(app)


@pytest.fixture
def app(database_uri: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Flask]:
    """The worker's app, on this test's fresh database.

    Building an app (blueprints, URL map, extensions) took a quarter of a short test's
    time, so one app serves every test of a worker: it gets an engine on the test's
    database, and whatever a test changes on it (config, extensions, middleware, logging)
    is put back afterwards.
    """
    if ROUTE_ADDING_FIXTURES & set(request.fixturenames):
        app = make_app(_config(database_uri, tmp_path))
    else:
        if not _SHARED:
            _SHARED.append(make_app(_config(database_uri, tmp_path)))
        app = _SHARED[0]
        _use_database(app, database_uri)
    # Uploaded photos and backups stay with the test, not in the project's instance folder.
    app.instance_path = str(tmp_path / "instance")
    config, extensions, wsgi_app = dict(app.config), dict(app.extensions), app.wsgi_app
    try:
        with app.app_context():
            yield app
            db.session.remove()
            db.engine.dispose()
    finally:
        logging_changed = any(
            app.config.get(key) != config.get(key) for key in ("LOG_FORMAT", "LOG_LEVEL")
        )
        app.config.clear()
        app.config.update(config)
        if logging_changed:
            configure_logging(app)
        for name in set(app.extensions) - set(extensions):
            del app.extensions[name]
        app.wsgi_app = wsgi_app  # type: ignore[method-assign]


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def world(app: Flask, database_template: Template) -> factories.World:
    """The shared world (built once per run, copied into this test's database)."""
    return factories.load_world(database_template.world_ids)


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

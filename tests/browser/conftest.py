"""Real-browser tests: Debian's chromium driven by Playwright against a live server."""

from __future__ import annotations

import fcntl
import logging
import os
import shutil
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import create_engine, make_url, text
from werkzeug.serving import make_server

from compound_app.extensions import db
from tests import factories
from tests.conftest import PG_URL, Template, _config, _migrate, make_app

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/browser" in str(item.fspath):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        if os.environ.get("REQUIRE_BROWSER"):
            pytest.fail(f"{CHROMIUM} is missing: apt-get install -y chromium fonts-noto-cjk")
        pytest.skip("chromium is not installed (apt-get install -y chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        yield browser
        browser.close()


class LiveServer:
    def __init__(self, url: str, world: factories.World) -> None:
        self.url = url
        self.world = world


@pytest.fixture
def live_server(
    database_uri: str, database_template: Template, tmp_path: Path
) -> Iterator[LiveServer]:
    app = make_app(_config(database_uri, tmp_path))
    app.instance_path = str(tmp_path / "instance")
    with app.app_context():
        world = factories.load_world(database_template.world_ids)
        server = make_server("127.0.0.1", 0, app, threaded=True)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield LiveServer(f"http://127.0.0.1:{server.server_port}", world)
        finally:
            server.shutdown()
            thread.join(timeout=5)
            db.session.remove()
            db.engine.dispose()


@pytest.fixture
def page_factory(browser: Any, live_server: LiveServer) -> Iterator[Any]:
    """``page_factory(user, phone=False)`` → a signed-in page; fails on any CSP violation."""
    contexts = []
    violations: list[str] = []

    def make(user: Any, phone: bool = False) -> Any:
        options: dict[str, Any] = {"locale": "zh-CN", "base_url": live_server.url}
        if phone:
            options.update(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
        context = browser.new_context(**options)
        contexts.append(context)
        page = context.new_page()
        # Script errors and CSP refusals fail the test; a 422 answer to a bad form is normal.
        page.on("pageerror", lambda err: violations.append(str(err)))
        page.on(
            "console",
            lambda msg: (
                violations.append(msg.text)
                if "Content Security Policy" in msg.text or "Refused to" in msg.text
                else None
            ),
        )
        page.goto("/auth/login")
        page.fill("#mobile", user.mobile)
        page.fill("#password", factories.PASSWORD)
        page.click("button[type=submit].primary")
        page.wait_for_url(live_server.url + "/")
        return page

    yield make
    for context in contexts:
        context.close()
    assert not violations, violations


# --- The demo data for the persona walk (tests/browser/test_persona_walk*.py) -----------


@dataclass
class DemoSource:
    """The demo loaded once per run: an SQLite file, or a PostgreSQL template database;
    with the photos it wrote into its instance folder."""

    folder: Path  # holds instance/ (and, on SQLite, demo.db)
    pg_template: str = ""  # PostgreSQL: the database every walk is cloned from


def _shared_folder(tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> Path:
    base = tmp_path_factory.getbasetemp()
    return base.parent if worker_id != "master" else base  # one folder per run


def _load_demo(uri: str, folder: Path) -> None:
    app = make_app(_config(uri, folder))
    app.instance_path = str(folder / "instance")
    with app.app_context():
        result = app.test_cli_runner().invoke(args=["demo"])
        assert result.exit_code == 0, result.output
        db.session.remove()
        db.engine.dispose()
    (folder / "output.txt").write_text(result.output, encoding="utf-8")


def _admin_engine() -> Any:
    return create_engine(make_url(PG_URL).set(database="postgres"), isolation_level="AUTOCOMMIT")


@pytest.fixture(scope="session")
def walk_demo(
    database_template: Template, tmp_path_factory: pytest.TempPathFactory, worker_id: str
) -> DemoSource:
    """`flask demo` run once per run and shared by the xdist workers (a file lock: the first
    to need it builds it, the others wait). On SQLite it is the same folder and lock as
    tests/platform/test_cli.py's ``loaded_demo``, so a run builds the demo once for both."""
    shared = _shared_folder(tmp_path_factory, worker_id)
    if not PG_URL:
        folder = shared / "demo"
        with open(shared / "demo.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if not (folder / "output.txt").exists():
                folder.mkdir(exist_ok=True)
                shutil.copyfile(database_template.uri, folder / "demo.db")
                _load_demo(f"sqlite:///{folder / 'demo.db'}", folder)
        return DemoSource(folder)
    base = make_url(PG_URL)
    name = f"{base.database}_walkdemo"
    folder = shared / "walk-demo-pg"
    with open(shared / "walk-demo-pg.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (folder / "output.txt").exists():
            folder.mkdir(exist_ok=True)
            admin = _admin_engine()
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
                conn.execute(text(f'CREATE DATABASE "{name}"'))
            admin.dispose()
            url = base.set(database=name).render_as_string(hide_password=False)
            _migrate(url, folder)
            _load_demo(url, folder)
    return DemoSource(folder, pg_template=name)


@dataclass
class DemoServer:
    url: str
    app: Flask


@pytest.fixture
def demo_server(
    walk_demo: DemoSource, tmp_path: Path, tmp_path_factory: pytest.TempPathFactory, worker_id: str
) -> Iterator[DemoServer]:
    """A live server on a fresh copy of the demo: each walk may write without touching
    another's data. The test holds an app context on the same database for its look-ups."""
    if PG_URL:
        base = make_url(PG_URL)
        name = f"{base.database}_walk_{worker_id}"
        shared = _shared_folder(tmp_path_factory, worker_id)
        with open(shared / "walk-demo-pg.lock", "w") as lock:  # one clone of the template at a time
            fcntl.flock(lock, fcntl.LOCK_EX)
            admin = _admin_engine()
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
                # FILE_COPY (PostgreSQL 15+) copies the files: a third of the time of WAL_LOG.
                version = int(conn.scalar(text("SHOW server_version_num")))
                strategy = " STRATEGY FILE_COPY" if version >= 150000 else ""
                conn.execute(
                    text(f'CREATE DATABASE "{name}" TEMPLATE "{walk_demo.pg_template}"{strategy}')
                )
            admin.dispose()
        uri = base.set(database=name).render_as_string(hide_password=False)
    else:
        shutil.copyfile(walk_demo.folder / "demo.db", tmp_path / "demo.db")
        uri = f"sqlite:///{tmp_path / 'demo.db'}"
    instance = tmp_path / "instance"
    shutil.copytree(walk_demo.folder / "instance", instance, dirs_exist_ok=True)
    # Warnings and errors only: a failing walk's report is not buried under request lines.
    app = make_app({**_config(uri, tmp_path), "LOG_LEVEL": "WARNING"})
    app.instance_path = str(instance)
    werkzeug_log = logging.getLogger("werkzeug")
    werkzeug_level = werkzeug_log.level
    werkzeug_log.setLevel(logging.WARNING)
    with app.app_context():
        server = make_server("127.0.0.1", 0, app, threaded=True)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield DemoServer(f"http://127.0.0.1:{server.server_port}", app)
        finally:
            server.shutdown()
            thread.join(timeout=5)
            db.session.remove()
            db.engine.dispose()
            werkzeug_log.setLevel(werkzeug_level)

"""Real-browser tests: Debian's chromium driven by Playwright against a live server."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from werkzeug.serving import make_server

from compound_app.extensions import db
from tests import factories
from tests.conftest import Template, _config, make_app

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

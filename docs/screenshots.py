"""Regenerate the README screenshots from the demo data: `.venv/bin/python docs/screenshots.py`."""

from __future__ import annotations

import tempfile
import threading
from pathlib import Path

from flask_migrate import upgrade
from playwright.sync_api import sync_playwright
from sqlalchemy import select
from werkzeug.serving import make_server

from compound_app import create_app
from compound_app.demo import generate
from compound_app.extensions import db
from compound_app.registry.models import Compound

HERE = Path(__file__).parent
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        app = create_app(
            {
                "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp}/demo.db",
                "SECRET_KEY": "screenshots-only-" + "x" * 32,
            }
        )
        with app.app_context():
            upgrade()
            generate.generate("story")
            generate.set_demo_passwords()
            compound_id = db.session.scalar(
                select(Compound.id).where(Compound.name == "新国土小区")
            )
            db.session.remove()
        server = make_server("127.0.0.1", 0, app, threaded=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        base = f"http://127.0.0.1:{server.server_port}"
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
            for name, options in (
                ("compound-desktop.png", {"viewport": {"width": 1280, "height": 900}}),
                (
                    "compound-phone.png",
                    {
                        "viewport": {"width": 390, "height": 844},
                        "is_mobile": True,
                        "device_scale_factor": 2,
                    },
                ),
            ):
                page = browser.new_context(base_url=base, locale="zh-CN", **options).new_page()
                page.goto("/auth/login")
                page.fill("#mobile", "13900000007")
                page.fill("#password", generate.DEMO_PASSWORD)
                page.click("button[type=submit].primary")
                page.wait_for_url(base + "/")
                page.goto(f"/registry/compounds/{compound_id}")
                page.screenshot(path=str(HERE / name))
            browser.close()
        server.shutdown()


if __name__ == "__main__":
    main()

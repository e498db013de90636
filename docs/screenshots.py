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
from compound_app.registry.models import Compound, ManagementArea

HERE = Path(__file__).parent
DESKTOP: dict = {"viewport": {"width": 1280, "height": 900}}
PHONE: dict = {
    "viewport": {"width": 390, "height": 844},
    "is_mobile": True,
    "device_scale_factor": 2,
}
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
            xgt = db.session.scalar(select(Compound).where(Compound.name == "新国土小区"))
            first_unit = xgt.buildings[0].units[0].id
            area = db.session.scalar(
                select(ManagementArea).where(ManagementArea.name == "绿城一片区")
            )
            from compound_app.auth.models import User
            from compound_app.repairs.models import RepairTask

            wu = db.session.scalar(select(User).where(User.mobile == "13900000009"))
            pipe = db.session.scalar(
                select(RepairTask)
                .where(RepairTask.reported_by_id == wu.id, RepairTask.status == "done")
                .order_by(RepairTask.id.desc())
            )
            shots = [
                ("compound-desktop.png", "13900000007", f"/registry/compounds/{xgt.id}", DESKTOP),
                ("compound-phone.png", "13900000007", f"/registry/compounds/{xgt.id}", PHONE),
                ("fees-unit-phone.png", "13900000008", f"/fees/units/{first_unit}", PHONE),
                ("board-desktop.png", "13900000006", f"/fees/areas/{area.id}/board", DESKTOP),
                ("oversight-desktop.png", "13900000001", "/oversight/?sort=rate&dir=desc", DESKTOP),
                ("repair-phone.png", "13900000009", f"/repairs/{pipe.id}", PHONE),
                ("home-large-phone.png", "13900000009", "/", PHONE),
            ]
            db.session.remove()
        server = make_server("127.0.0.1", 0, app, threaded=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        base = f"http://127.0.0.1:{server.server_port}"
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
            for name, mobile, path, options in shots:
                page = browser.new_context(base_url=base, locale="zh-CN", **options).new_page()
                page.goto("/auth/login")
                page.fill("#mobile", mobile)
                page.fill("#password", generate.DEMO_PASSWORD)
                page.click("button[type=submit].primary")
                page.wait_for_url(base + "/")
                page.goto(path)
                if name.endswith("-large-phone.png"):  # the elder-friendly mode, one tap away
                    page.click("button[name=size][value=large]")
                    page.wait_for_selector("html.large")
                page.screenshot(path=str(HERE / name))
            browser.close()
        server.shutdown()


if __name__ == "__main__":
    main()

"""Shared by the benchmark, the load test and the crash test: datasets, users, servers."""

from __future__ import annotations

import contextlib
import os
import platform
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
SECRET = "bench-secret-key-not-for-production-0123456789abcdef"
PASSWORD = "bench-password-2026"


def engine_name() -> str:
    url = os.environ.get("DATABASE_URL", "")
    return "postgresql" if url.startswith("postgres") else "sqlite"


def dataset_url(name: str) -> str:
    """Where dataset ``name`` lives: a file in bench/out, or a database next to DATABASE_URL."""
    base = os.environ.get("DATABASE_URL", "")
    if not base.startswith("postgres"):
        OUT.mkdir(parents=True, exist_ok=True)
        return f"sqlite:///{OUT / f'{name}.db'}"
    url = make_url(base).set(drivername="postgresql+psycopg")
    return url.set(database=f"{url.database}_{name}").render_as_string(hide_password=False)


def recreate(url: str) -> None:
    """An empty database at ``url``."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        path = Path(parsed.database or "")
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        return
    admin = create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{parsed.database}"'))
    admin.dispose()


def make_app(url: str) -> Flask:
    from compound_app import create_app

    return create_app(
        {
            "SQLALCHEMY_DATABASE_URI": url,
            "SECRET_KEY": SECRET,
            "ARGON2_TIME_COST": 1,
            "ARGON2_MEMORY_COST": 1024,
            "ARGON2_PARALLELISM": 1,
            "LOGIN_MAX_FAILURES_PER_IP": 10**6,
        }
    )


def build(scale: str, url: str, timings: dict[str, float] | None = None) -> float:
    """Migrate an empty database and load a dataset; returns the seconds it took.

    ``timings`` receives the seconds of the repairs' part of it, and of proving their
    monthly figures equal the timelines (which the build checks).
    """
    from flask_migrate import upgrade

    from compound_app.database import writing
    from compound_app.demo import generate
    from compound_app.extensions import db
    from compound_app.repairs.queries import check_months

    recreate(url)
    app = make_app(url)
    timings = {} if timings is None else timings
    with app.app_context():
        upgrade()
        started = time.perf_counter()
        with writing():
            generate.generate(scale, timings=timings)
        seconds = time.perf_counter() - started
        started = time.perf_counter()
        problems = check_months()
        timings["check_months"] = time.perf_counter() - started
        assert not problems, problems[:5]
        db.session.remove()
        db.engine.dispose()
    return seconds


def set_passwords(user_ids: list[int]) -> None:
    """Give bench users a known password (one hash, computed once, shared)."""
    from compound_app.auth.models import User
    from compound_app.auth.service import hash_password
    from compound_app.database import writing
    from compound_app.extensions import db

    hashed = hash_password(PASSWORD)
    with writing():
        for user in db.session.scalars(select(User).where(User.id.in_(user_ids))):
            user.password_hash = hashed
        db.session.commit()


@dataclass
class Cast:
    """The people and places a benchmark acts with, picked the same way in every dataset."""

    compound_id: int
    building_id: int
    household_id: int
    area_id: int
    community_id: int
    users: dict[str, int]
    unit_id: int = 0
    payment_id: int = 0
    task_id: int = 0
    pilot_id: int = 0
    notice_id: int = 0
    notice_token: str = ""
    subdistrict_id: int = 0


def cast() -> Cast:
    """The first compound of 绿城社区 (present in both datasets) and a user per role."""
    from compound_app.auth.models import Role, RoleGrant
    from compound_app.extensions import db
    from compound_app.registry.models import Building, Community, Compound, Household, Unit

    community = db.session.scalar(select(Community).where(Community.code == "LC"))
    compound = db.session.scalar(
        select(Compound).where(Compound.community_id == community.id).order_by(Compound.id)
    )
    units = select(Unit.id).join(Building).where(Building.compound_id == compound.id)
    first_unit = db.session.scalar(units.order_by(Unit.id))
    household = db.session.scalar(
        select(Household).where(Household.unit_id == first_unit).order_by(Household.id)
    )

    def holder(role: Role, column: str, scope: int) -> int:
        return db.session.scalar(
            select(RoleGrant.user_id)
            .where(RoleGrant.role == role, getattr(RoleGrant, column) == scope)
            .order_by(RoleGrant.id)
        )

    users = {
        "subdistrict_admin": db.session.scalar(
            select(RoleGrant.user_id).where(RoleGrant.role == Role.SUBDISTRICT_ADMIN)
        ),
        "community_staff": holder(Role.COMMUNITY_STAFF, "community_id", community.id),
        "committee_member": holder(Role.COMMITTEE_MEMBER, "area_id", compound.area_id),
        "unit_rep": holder(Role.UNIT_REP, "unit_id", first_unit),
        "resident": holder(Role.RESIDENT, "household_id", household.id),
    }
    # Who keeps the area's money (its chair or treasurer): the reconciliation page's reader.
    from compound_app.treasury.service import money_keepers

    keepers = money_keepers(compound.area_id)
    users["treasurer"] = keepers[0].id if keepers else users["committee_member"]
    from compound_app.fees.models import Payment

    building_id = db.session.scalar(select(Unit.building_id).where(Unit.id == first_unit))
    payment_id = db.session.scalar(
        select(Payment.id).where(Payment.household_id == household.id).order_by(Payment.id.desc())
    )
    from compound_app.repairs.models import RepairTask, Status

    # The newest task under way, as the committee opens it: the page with the most on it.
    task_id = db.session.scalar(
        select(RepairTask.id)
        .where(
            RepairTask.compound_id == compound.id,
            RepairTask.status.in_((Status.ASSIGNED, Status.IN_PROGRESS)),
            RepairTask.household_id.is_not(None),
        )
        .order_by(RepairTask.reported_at.desc(), RepairTask.id.desc())
    )
    from compound_app.notices.models import Notice, NoticeKind
    from compound_app.public.models import LinkKind, PublicLink

    # The urgent notice to the cast's building, with its poster's public link.
    notice_id = db.session.scalar(
        select(Notice.id)
        .where(Notice.building_id == building_id, Notice.kind == NoticeKind.URGENT)
        .order_by(Notice.id.desc())
    )
    token = db.session.scalar(
        select(PublicLink.token).where(
            PublicLink.kind == LinkKind.NOTICE.value,
            PublicLink.target_id == notice_id,
            PublicLink.revoked_at.is_(None),
        )
    )
    return Cast(
        compound.id,
        building_id,
        household.id,
        compound.area_id,
        community.id,
        users,
        unit_id=first_unit,
        payment_id=payment_id or 0,
        task_id=task_id or 0,
        pilot_id=compound.pilot.id if compound.pilot else 0,
        notice_id=notice_id or 0,
        notice_token=token or "",
        subdistrict_id=community.subdistrict_id,
    )


def machine() -> dict[str, Any]:
    versions = {}
    for package in (
        "flask",
        "sqlalchemy",
        "werkzeug",
        "jinja2",
        "flask-sqlalchemy",
        "psycopg",
        "gunicorn",
    ):
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = None
    return {
        "cpu_count": os.cpu_count(),
        "platform": platform.platform(),
        "python": sys.version.split()[0],
        "versions": versions,
    }


# --- a real server (gunicorn), for the load and crash tests -----------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """gunicorn in its own process group, so it can be killed outright."""

    def __init__(self, url: str, workers: int = 4) -> None:
        self.url = url
        self.workers = workers
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 30) -> None:
        env = dict(os.environ, DATABASE_URL=self.url, SECRET_KEY=SECRET)
        env.pop("COMPOUND_ENV", None)  # plain HTTP on loopback: no Secure-only cookies
        env["COMPOUND_LOGIN_MAX_FAILURES_PER_IP"] = "1000000"
        env["COMPOUND_LOG_LEVEL"] = "WARNING"  # not a line for each of thousands of requests
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "-w",
                str(self.workers),
                "-b",
                f"127.0.0.1:{self.port}",
                "--log-level",
                "warning",
                "compound_app:create_app()",
            ],
            cwd=ROOT,
            env=env,
            start_new_session=True,
        )
        # Ready means a worker answers a page, not just that the master accepts connections.
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(self.base + "/auth/login", timeout=2) as response:
                    if response.status == 200:
                        return
            except OSError:
                time.sleep(0.1)
        self.kill()
        raise RuntimeError("gunicorn did not start")

    def kill(self) -> None:
        """kill -9 the whole process group: master and workers, no goodbyes."""
        if self.process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)
        self.process = None

    def stop(self) -> None:
        if self.process is None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=15)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            self.kill()
        self.process = None

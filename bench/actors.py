"""Simulated people for the load and crash tests: they sign in and use a real server."""

from __future__ import annotations

import itertools
import re
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import requests
from sqlalchemy import func, select

from . import common

_TOKEN = re.compile(r'<meta name="csrf-token" content="([^"]+)"')
_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def tag(n: int) -> str:
    """A name made of letters only (names may not contain digits): 0 → A, 27 → BB…"""
    out = ""
    n += 1
    while n:
        n, r = divmod(n - 1, 26)
        out = _LETTERS[r] + out
    return out


@dataclass
class Actor:
    """A committee member or unit representative with the homes they may add residents to."""

    mobile: str
    role: str
    compound_id: int
    building_id: int
    household_ids: list[int]


def pick(count: int) -> list[Actor]:
    """``count`` actors, half committee members and half representatives, spread over compounds.

    Must run inside an app context; gives them the bench password.
    """
    from compound_app.auth.models import Role, RoleGrant, User
    from compound_app.extensions import db
    from compound_app.registry.models import Building, Compound, Household, Unit

    actors: list[Actor] = []
    reps = db.session.execute(
        select(User.id, User.mobile, Unit.id, Building.id, Building.compound_id)
        .join(RoleGrant, RoleGrant.user_id == User.id)
        .join(Unit, Unit.id == RoleGrant.unit_id)
        .join(Building, Building.id == Unit.building_id)
        .where(RoleGrant.role == Role.UNIT_REP)
        .order_by(Building.compound_id, Unit.id)
    ).all()
    committee = db.session.execute(
        select(User.id, User.mobile, Compound.id)
        .join(RoleGrant, RoleGrant.user_id == User.id)
        .join(Compound, Compound.area_id == RoleGrant.area_id)
        .where(RoleGrant.role == Role.COMMITTEE_MEMBER)
        .order_by(Compound.id, User.id)
    ).all()
    # Every n-th so that actors are spread over all compounds.
    reps = reps[:: max(1, len(reps) // max(1, count - count // 2))][: count - count // 2]
    committee = committee[:: max(1, len(committee) // max(1, count // 2))][: count // 2]
    ids = [r[0] for r in reps] + [c[0] for c in committee]
    for _uid, mobile, unit_id, building_id, compound_id in reps:
        homes = db.session.scalars(select(Household.id).where(Household.unit_id == unit_id)).all()
        actors.append(Actor(mobile, "unit_rep", compound_id, building_id, list(homes)))
    for _uid, mobile, compound_id in committee:
        rows = db.session.execute(
            select(Household.id, Building.id)
            .join(Unit, Unit.id == Household.unit_id)
            .join(Building, Building.id == Unit.building_id)
            .where(Building.compound_id == compound_id)
        ).all()
        actors.append(
            Actor(mobile, "committee_member", compound_id, rows[0][1], [h for h, _ in rows])
        )
    common.set_passwords(ids)
    return actors


@dataclass
class Record:
    """What all simulated users saw, shared between their threads."""

    latencies: dict[str, list[float]] = field(default_factory=dict)
    errors: dict[str, int] = field(default_factory=dict)
    acknowledged: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    counter: itertools.count = field(default_factory=itertools.count)

    def seen(self, kind: str, ms: float) -> None:
        with self.lock:
            self.latencies.setdefault(kind, []).append(ms)

    def failed(self, what: str) -> None:
        with self.lock:
            self.errors[what] = self.errors.get(what, 0) + 1


class Session:
    """One signed-in browser: keeps its cookie and its CSRF token."""

    def __init__(self, base: str, actor: Actor, record: Record) -> None:
        self.base, self.actor, self.record = base, actor, record
        self.http = requests.Session()
        self.token = ""

    def _call(self, kind: str, method: str, path: str, **kwargs: Any) -> requests.Response:
        started = time.perf_counter()
        response = self.http.request(
            method, self.base + path, allow_redirects=False, timeout=30, **kwargs
        )
        self.record.seen(kind, (time.perf_counter() - started) * 1000)
        if response.status_code >= 500:
            self.record.failed(f"{kind}: HTTP {response.status_code}")
        return response

    def login(self) -> None:
        page = self._call("login_page", "GET", "/auth/login")
        self.token = _TOKEN.search(page.text).group(1)
        response = self._call(
            "login",
            "POST",
            "/auth/login",
            data={
                "mobile": self.actor.mobile,
                "password": common.PASSWORD,
                "csrf_token": self.token,
            },
        )
        if response.status_code != 303:
            raise RuntimeError(f"login failed for {self.actor.mobile}: {response.status_code}")
        # The token is tied to the session, which login renews.
        home = self._call("home", "GET", "/")
        self.token = _TOKEN.search(home.text).group(1)

    def read(self, kind: str, path: str) -> None:
        response = self._call(kind, "GET", path)
        if response.status_code != 200:
            self.record.failed(f"{kind}: HTTP {response.status_code}")

    def add_resident(self, household_id: int) -> str | None:
        """Add a resident with a unique name; returns the name once the server confirmed it."""
        name = "压测" + tag(next(self.record.counter))
        response = self._call(
            "add_resident",
            "POST",
            f"/registry/households/{household_id}/occupants",
            data={"name": name, "mobile": "", "relation": "family", "csrf_token": self.token},
        )
        if response.status_code == 303:
            with self.record.lock:
                self.record.acknowledged.append(name)
            return name
        self.record.failed(f"add_resident: HTTP {response.status_code}")
        return None


def verify(names: list[str]) -> list[str]:
    """Every acknowledged resident is stored exactly once, with its audit row."""
    from compound_app.audit import AuditLog
    from compound_app.extensions import db
    from compound_app.registry.models import Occupant

    problems = []
    counts = dict(
        db.session.execute(
            select(Occupant.name, func.count(Occupant.id))
            .where(Occupant.name.like("压测%"))
            .group_by(Occupant.name)
        ).all()
    )
    audited = db.session.scalar(
        select(func.count(AuditLog.id)).where(
            AuditLog.entity == "occupant",
            AuditLog.action == "create",
            AuditLog.entity_id.in_(select(Occupant.id).where(Occupant.name.like("压测%"))),
        )
    )
    for name in names:
        if counts.get(name, 0) != 1:
            problems.append(f"{name}: stored {counts.get(name, 0)} times")
    if audited != sum(counts.values()):
        problems.append(f"{sum(counts.values())} residents added but {audited} audit rows")
    return problems

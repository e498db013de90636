"""Simulated people for the load and crash tests: they sign in and use a real server."""

from __future__ import annotations

import re
import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import requests
from sqlalchemy import func, select

from . import common

_TOKEN = re.compile(r'<meta name="csrf-token" content="([^"]+)"')


@dataclass
class Actor:
    """A committee member or unit representative with the homes they may take payments from."""

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

    def pay(self, household_id: int, again: bool = False) -> str | None:
        """Log a ¥10 cash payment as the representative would (the form, then the post);
        ``again`` sends the same form twice, as a double tap does. Returns the form's key
        once the server confirmed it with a receipt."""
        from compound_app import clock

        path = f"/fees/households/{household_id}/pay"
        self.read("pay_form", path)
        key = secrets.token_urlsafe(24)
        data = {
            "amount": "10",
            "method": "cash",
            "paid_on": clock.today().isoformat(),
            "note": "",
            "key": key,
            "csrf_token": self.token,
        }
        response = self._call("pay", "POST", path, data=data)
        if response.status_code != 303:
            self.record.failed(f"pay: HTTP {response.status_code}")
            return None
        with self.record.lock:
            self.record.acknowledged.append(key)
        if again:
            repeat = self._call("pay", "POST", path, data=data)
            if repeat.headers.get("Location") != response.headers.get("Location"):
                self.record.failed("pay: a double submission got another receipt")
        return key


def verify_payments(keys: list[str], *, exact: bool = True) -> list[str]:
    """Every acknowledged payment stored exactly once, audited, and every balance and
    monthly total equal to the sum of the ledger's entries. Not ``exact``: after a kill,
    a payment may be stored whose answer never reached the client; it must be whole."""
    from compound_app.audit import AuditLog
    from compound_app.extensions import db
    from compound_app.fees.models import Payment
    from compound_app.fees.proofs import check_totals

    problems = []
    stored = set()
    for start in range(0, len(keys), 500):
        chunk = keys[start : start + 500]
        stored |= set(
            db.session.scalars(select(Payment.request_key).where(Payment.request_key.in_(chunk)))
        )
    problems += [f"payment {key}: acknowledged, not stored" for key in keys if key not in stored]
    if len(set(keys)) != len(keys):
        problems.append("one form key acknowledged twice")
    payments = db.session.scalar(
        select(func.count(Payment.id)).where(~Payment.request_key.like("demo-%"))
    )
    audited = db.session.scalar(
        select(func.count(AuditLog.id)).where(
            AuditLog.entity == "payment", AuditLog.action == "create"
        )
    )
    if payments < len(keys) or (exact and payments != len(keys)):
        problems.append(f"{len(keys)} payments acknowledged but {payments} stored")
    if audited != payments:
        problems.append(f"{payments} payments stored but {audited} audit rows")
    problems += check_totals()
    return problems

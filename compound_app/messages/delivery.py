"""Delivering the outbox: claim, hand over, record; never the same SMS twice.

One batch (``run_batch``), each step its own committed transaction:

1. **Resolve** rows left ``sending`` past their lease by a worker that died. Never handed
   to the provider (``handed_at`` empty): back to ``pending``, nothing was sent. Handed
   over: the provider says whether it was delivered (the dev box knows; Aliyun cannot be
   asked by our out-id), else the row is ``failed`` with "outcome unknown" for staff to
   look at; it is not sent again on its own.
2. **Claim** due rows: ``pending``, ``next_try_at`` passed, and outside quiet hours only
   urgent ones (urgent notices, sign-in codes). PostgreSQL: ``SELECT … FOR UPDATE SKIP
   LOCKED``; SQLite: the same SELECT inside ``BEGIN IMMEDIATE`` (one writer at a time).
   The rows become ``sending`` with this worker's claim token and a lease, committed
   before any provider is called.
3. **Send** each row. The dev backend writes the dev box's row and marks the outbox row
   ``sent`` in one transaction, only while the claim is still this worker's. A real
   provider: the hand-off (``handed_at``, a lease longer than the request's timeout) is
   committed first, then the request, then its result: ``sent`` with the provider's
   reference, ``pending`` again with exponential backoff when it surely did not go out
   (no connection made, or the provider said it did not send), ``failed`` "outcome
   unknown" when it may have (a timeout or reset once connected, a 5xx: never resent on
   its own), or ``failed`` after ``SMS_MAX_TRIES`` tries or on a permanent error. Every
   write checks the claim, so a row another worker resolved meanwhile is left alone.
"""

from __future__ import annotations

import os
import socket
import uuid
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import and_, or_, select, update

from .. import audit, clock
from ..database import writing
from ..errors import RuleError
from ..extensions import db
from .models import Outbox, OutboxStatus
from .providers import DevBackend, Provider, Result, provider_for

# Templates that go at once whatever the hour, besides rows marked urgent.
ALWAYS_AT_ONCE = frozenset({"login_code"})
UNKNOWN = "outcome unknown: the worker stopped after handing it to the provider"
NO_ANSWER = "outcome unknown: the provider was reached but its answer did not come"


def worker_id() -> str:
    """A claim token: this host and process, and a random part (pids are reused)."""
    return f"{socket.gethostname()[:30]}:{os.getpid()}:{uuid.uuid4().hex[:12]}"


def _setting(name: str) -> Any:
    return current_app.config[name]


def quiet_now(moment: datetime | None = None) -> bool:
    """Whether it is quiet hours on the compounds' wall clock (22:00–07:00 by default)."""
    start, end = int(_setting("SMS_QUIET_START")), int(_setting("SMS_QUIET_END"))
    if start == end:
        return False
    hour = clock.local(moment or clock.now()).time()
    if start > end:  # over midnight
        return hour >= time(start) or hour < time(end)
    return time(start) <= hour < time(end)


def backoff(tries: int) -> timedelta:
    """The wait before try ``tries + 1``: doubling from SMS_RETRY_SECONDS, at most an hour."""
    base = int(_setting("SMS_RETRY_SECONDS"))
    return timedelta(seconds=min(base * 2 ** max(tries - 1, 0), 3600))


@dataclass
class BatchReport:
    claimed: int = 0
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    released: int = 0  # rows of a dead worker never handed over: back to pending
    unknown: int = 0  # handed over by a dead worker, or unanswered: failed, outcome unknown
    ids: list[int] = field(default_factory=list)


def resolve_expired(provider: Provider, report: BatchReport | None = None) -> BatchReport:
    """Settle rows whose worker died while they were ``sending`` (see the module doc)."""
    report = report or BatchReport()
    now = clock.now()
    with writing():
        rows = db.session.scalars(
            _locked(
                select(Outbox).where(
                    Outbox.status == OutboxStatus.SENDING, Outbox.claimed_until < now
                )
            )
        ).all()
        for row in rows:
            delivered = (
                provider.outcome(row)
                if (row.handed_at or isinstance(provider, DevBackend))
                else False
            )
            if delivered:
                row.status, row.sent_at = OutboxStatus.SENT, row.sent_at or now
                row.provider_ref = row.provider_ref or "recovered"
            elif delivered is False:
                row.status, row.next_try_at = OutboxStatus.PENDING, now
                row.handed_at = None
                report.released += 1
            else:
                row.status, row.last_error = OutboxStatus.FAILED, UNKNOWN
                report.unknown += 1
            row.claimed_by, row.claimed_until = None, None
        db.session.commit()
    return report


def _locked(stmt: Any) -> Any:
    """Row locks that skip rows other workers hold (PostgreSQL); SQLite's BEGIN IMMEDIATE
    already made this transaction the only writer."""
    if db.engine.dialect.name == "postgresql":
        return stmt.with_for_update(skip_locked=True)
    return stmt


def claim(token: str, limit: int, lease: timedelta) -> list[int]:
    """Mark up to ``limit`` due rows as this worker's; committed before anything is sent."""
    now = clock.now()
    due = and_(Outbox.status == OutboxStatus.PENDING, Outbox.next_try_at <= now)
    if quiet_now(now):
        due = and_(due, or_(Outbox.urgent.is_(True), Outbox.template.in_(ALWAYS_AT_ONCE)))
    with writing():
        ids = list(
            db.session.scalars(
                _locked(
                    select(Outbox.id)
                    .where(due)
                    .order_by(Outbox.urgent.desc(), Outbox.next_try_at, Outbox.id)
                    .limit(limit)
                )
            )
        )
        if ids:
            db.session.execute(
                update(Outbox)
                .where(Outbox.id.in_(ids), Outbox.status == OutboxStatus.PENDING)
                .values(status=OutboxStatus.SENDING, claimed_by=token, claimed_until=now + lease)
            )
        db.session.commit()
    return ids


def _mine(row_id: int, token: str) -> Any:
    return and_(
        Outbox.id == row_id, Outbox.claimed_by == token, Outbox.status == OutboxStatus.SENDING
    )


def _send_dev(provider: DevBackend, row_id: int, token: str, report: BatchReport) -> None:
    provider.pause()
    now = clock.now()
    with writing():
        row = db.session.scalar(select(Outbox).where(_mine(row_id, token)))
        if row is None:
            db.session.rollback()
            return  # resolved by another worker meanwhile
        box = provider.deliver_dev(row)
        row.status, row.sent_at, row.tries = OutboxStatus.SENT, now, row.tries + 1
        row.handed_at, row.claimed_by, row.claimed_until = now, None, None
        db.session.flush()
        row.provider_ref = f"dev-{box.id}"
        db.session.commit()
    report.sent += 1


def _send_real(provider: Provider, row_id: int, token: str, report: BatchReport) -> None:
    timeout = float(_setting("SMS_TIMEOUT"))
    with writing():
        now = clock.now()
        handed = db.session.execute(
            update(Outbox)
            .where(_mine(row_id, token))
            .values(
                handed_at=now,
                tries=Outbox.tries + 1,
                claimed_until=now + timedelta(seconds=timeout * 2 + 30),
            )
        )
        db.session.commit()
    if not getattr(handed, "rowcount", 0):
        return
    row = db.session.get(Outbox, row_id, populate_existing=True)
    if row is None:
        return
    result: Result = provider.send(row)
    db.session.rollback()  # the read above ends before the result's write begins
    with writing():
        row = db.session.scalar(select(Outbox).where(_mine(row_id, token)))
        if row is None:
            db.session.rollback()
            return
        now = clock.now()
        row.claimed_by, row.claimed_until = None, None
        if result.ok:
            row.status, row.sent_at, row.provider_ref = OutboxStatus.SENT, now, result.ref
            row.last_error = ""
            report.sent += 1
        elif result.unknown:
            # It may have gone out: staff decide whether to send it again (``retry``).
            row.status = OutboxStatus.FAILED
            row.last_error = f"{NO_ANSWER} ({result.error})"[:300]
            report.unknown += 1
        elif result.permanent or row.tries >= int(_setting("SMS_MAX_TRIES")):
            row.status, row.last_error = OutboxStatus.FAILED, result.error[:300]
            row.handed_at = None
            report.failed += 1
        else:
            row.status, row.last_error = OutboxStatus.PENDING, result.error[:300]
            row.next_try_at, row.handed_at = now + backoff(row.tries), None
            report.retrying += 1
        db.session.commit()


def run_batch(token: str | None = None, provider: Provider | None = None) -> BatchReport:
    """Resolve, claim and send one batch (``flask messages work --once``)."""
    token = token or worker_id()
    provider = provider or provider_for()
    report = resolve_expired(provider)
    ids = claim(
        token, int(_setting("SMS_BATCH")), timedelta(seconds=int(_setting("SMS_LEASE_SECONDS")))
    )
    report.claimed, report.ids = len(ids), ids
    for row_id in ids:
        if isinstance(provider, DevBackend):
            _send_dev(provider, row_id, token, report)
        else:
            _send_real(provider, row_id, token, report)
    return report


# --- staff: failures and retry ---------------------------------------------------------------


def retry(row: Outbox) -> Outbox:
    """Staff send a failed SMS again: it is due now, with its tries counted afresh."""
    if row.status != OutboxStatus.FAILED:
        raise RuleError(_("Only a failed SMS can be sent again."))
    if row.template in ALWAYS_AT_ONCE:
        raise RuleError(_("A sign-in code is not sent again: ask for a new one."))
    before = {"status": row.status, "tries": row.tries, "last_error": row.last_error}
    row.status, row.tries, row.next_try_at = OutboxStatus.PENDING, 0, clock.now()
    row.handed_at, row.claimed_by, row.claimed_until = None, None, None
    # The snapshot leaves the SMS's parameters out: a code or a notice's words.
    audit.record(
        "retry_sms", row, before=before, after={"status": row.status, "mobile": row.mobile}
    )
    return row

"""Exactly once: the worker killed with kill -9 mid-batch, restarted, delivers every SMS once.

Runs on SQLite and, with TEST_DATABASE_URL, on PostgreSQL: the worker is a real
``flask messages work`` process in its own process group, on the test's database.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from compound_app.extensions import db
from compound_app.messages.models import DevSms, Outbox, OutboxStatus
from compound_app.messages.service import enqueue_sms

ROOT = Path(__file__).resolve().parents[2]
ROWS = 60
LONG_AGO = datetime(2000, 1, 1, tzinfo=UTC)  # due whatever the machine's date


def _worker(database_uri: str) -> subprocess.Popen[bytes]:
    env = dict(
        os.environ,
        DATABASE_URL=database_uri,
        SECRET_KEY="kill-test-secret-key-0123456789abcdef",
        COMPOUND_SMS_BACKEND="dev",
        COMPOUND_SMS_DEV_DELAY="0.03",
        COMPOUND_SMS_BATCH="10",
        COMPOUND_SMS_LEASE_SECONDS="2",
        COMPOUND_LOG_LEVEL="WARNING",
    )
    env.pop("COMPOUND_ENV", None)
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "flask",
            "--app",
            "compound_app",
            "messages",
            "work",
            "--sleep",
            "0.2",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )


def _delivered() -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count(DevSms.id))) or 0


def _sending() -> int:
    db.session.rollback()
    return (
        db.session.scalar(
            select(func.count(Outbox.id)).where(Outbox.status == OutboxStatus.SENDING)
        )
        or 0
    )


def _mid_batch() -> bool:
    """Past the first batch, with half a batch still claimed: some 0.15 s of work left in
    it when the kill lands, so the kill is mid-batch, not between two batches."""
    return _delivered() >= 12 and _sending() >= 5


def _wait_for(condition, seconds: float) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


def _kill(process: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=10)


@pytest.mark.slow
def test_killed_mid_batch_every_sms_is_delivered_exactly_once(app, database_uri):
    for n in range(ROWS):
        row = enqueue_sms(f"1390000{n:04d}", "urgent", {"title": f"停水通知{n}"}, urgent=True)
        row.next_try_at = LONG_AGO
    db.session.commit()
    db.session.remove()

    first = _worker(database_uri)
    try:
        assert _wait_for(_mid_batch, 60), first.stderr and first.stderr.read()
    finally:
        _kill(first)  # kill -9 to the whole group, in the middle of a batch of ten
    after_kill = _delivered()
    assert after_kill < ROWS, "the worker finished before it could be killed"
    in_flight = _sending()
    assert in_flight > 0, "the kill left no SMS claimed: it did not land mid-batch"

    second = _worker(database_uri)
    try:
        finished = _wait_for(lambda: _delivered() >= ROWS, 90)
        # Give it time to (wrongly) send anything a second time.
        time.sleep(0.5)
    finally:
        second.send_signal(signal.SIGTERM)
        try:
            second.wait(timeout=15)
        except subprocess.TimeoutExpired:
            _kill(second)
    assert finished, "not every SMS was delivered after the restart"

    db.session.rollback()
    # Every outbox row sent, each with exactly one SMS in the box, and no SMS besides.
    outbox = dict(db.session.execute(select(Outbox.id, Outbox.status)).all())
    box = db.session.scalars(select(DevSms.outbox_id)).all()
    assert len(outbox) == ROWS and set(outbox.values()) == {OutboxStatus.SENT.value}
    # The rows the kill left claimed were among them: released and sent, not lost.
    assert sorted(box) == sorted(outbox), "an SMS was lost, or delivered twice"

"""The outbox worker: claims, quiet hours, retries with backoff, crash recovery, retry."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from compound_app import clock
from compound_app.errors import RuleError
from compound_app.extensions import db
from compound_app.messages import delivery
from compound_app.messages.models import DevSms, Outbox, OutboxStatus
from compound_app.messages.providers import DevBackend, Result
from compound_app.messages.service import enqueue_sms

# 10:00 and 23:30 in Asia/Shanghai.
DAY = datetime(2026, 6, 15, 2, 0, tzinfo=UTC)
NIGHT = datetime(2026, 6, 15, 15, 30, tzinfo=UTC)


@dataclass
class FakeProvider:
    """A real provider's behaviour without the network: answers from a script."""

    answers: list[Result]
    name: str = "fake"
    sent: list[int] = field(default_factory=list)

    def send(self, row: Outbox) -> Result:
        self.sent.append(row.id)
        return self.answers.pop(0) if self.answers else Result(True, ref="x")

    def outcome(self, row: Outbox) -> bool | None:
        return None


def _fill(
    n: int, *, urgent: bool = False, template: str = "notice", at: datetime = DAY
) -> list[int]:
    rows = [
        enqueue_sms(f"139{i:08d}", template, {"title": f"第{i}条"}, urgent=urgent) for i in range(n)
    ]
    for row in rows:
        row.next_try_at = at - timedelta(minutes=1)
    db.session.commit()
    return [r.id for r in rows]


def _status(row_id: int) -> Outbox:
    db.session.expire_all()
    row = db.session.get(Outbox, row_id)
    assert row is not None
    return row


def test_dev_backend_delivers_each_row_once_into_the_dev_box(app, held_clock):
    held_clock.now = DAY
    ids = _fill(3)
    report = delivery.run_batch("w1", DevBackend())
    assert (report.claimed, report.sent) == (3, 3)
    again = delivery.run_batch("w1", DevBackend())
    assert again.claimed == 0
    box = db.session.scalars(select(DevSms).order_by(DevSms.outbox_id)).all()
    assert [b.outbox_id for b in box] == ids
    assert all(_status(i).status == OutboxStatus.SENT for i in ids)
    assert _status(ids[0]).provider_ref == f"dev-{box[0].id}"
    assert "第0条" in box[0].text


def test_quiet_hours_hold_non_urgent_sms_until_seven(app, held_clock):
    held_clock.now = NIGHT
    plain = _fill(2, at=NIGHT)
    urgent = _fill(1, urgent=True, at=NIGHT)
    code = _fill(1, template="login_code", at=NIGHT)
    report = delivery.run_batch("w1", DevBackend())
    assert sorted(report.ids) == sorted(urgent + code)
    assert all(_status(i).status == OutboxStatus.PENDING for i in plain)
    held_clock.now = datetime(2026, 6, 15, 23, 1, tzinfo=UTC)  # 07:01 the next morning
    assert sorted(delivery.run_batch("w1", DevBackend()).ids) == plain


def test_quiet_hours_follow_the_settings(app):
    app.config.update(SMS_QUIET_START=7, SMS_QUIET_END=7)
    assert not delivery.quiet_now(NIGHT)
    app.config.update(SMS_QUIET_START=12, SMS_QUIET_END=14)
    assert delivery.quiet_now(datetime(2026, 6, 15, 5, 0, tzinfo=UTC))  # 13:00 local
    assert not delivery.quiet_now(DAY)


def test_temporary_failures_back_off_then_fail_after_the_last_try(app, held_clock):
    app.config.update(SMS_MAX_TRIES=3, SMS_RETRY_SECONDS=60)
    held_clock.now = DAY
    (row_id,) = _fill(1)
    provider = FakeProvider([Result(False, error="HTTP 500")] * 3)
    report = delivery.run_batch("w1", provider)
    assert report.retrying == 1
    row = _status(row_id)
    assert (row.status, row.tries, row.last_error) == ("pending", 1, "HTTP 500")
    assert row.next_try_at == DAY + timedelta(seconds=60)
    assert delivery.run_batch("w1", provider).claimed == 0  # not due yet
    held_clock.now = DAY + timedelta(seconds=61)
    delivery.run_batch("w1", provider)
    assert _status(row_id).next_try_at == held_clock.now + timedelta(seconds=120)
    held_clock.now += timedelta(seconds=121)
    assert delivery.run_batch("w1", provider).failed == 1
    row = _status(row_id)
    assert (row.status, row.tries) == ("failed", 3) and provider.sent == [row_id] * 3


def test_a_permanent_error_fails_at_once(app, held_clock):
    held_clock.now = DAY
    (row_id,) = _fill(1)
    provider = FakeProvider([Result(False, error="isv.MOBILE_NUMBER_ILLEGAL", permanent=True)])
    assert delivery.run_batch("w1", provider).failed == 1
    assert _status(row_id).status == OutboxStatus.FAILED


def test_an_unknown_outcome_fails_for_staff_and_is_never_resent_on_its_own(app, held_clock):
    app.config.update(SMS_MAX_TRIES=5)
    held_clock.now = DAY
    (row_id,) = _fill(1)
    provider = FakeProvider([Result(False, error="timeout", unknown=True)])
    report = delivery.run_batch("w1", provider)
    assert (report.unknown, report.retrying, report.failed) == (1, 0, 0)
    row = _status(row_id)
    assert row.status == OutboxStatus.FAILED and row.tries == 1
    assert row.last_error.startswith("outcome unknown") and "timeout" in row.last_error
    held_clock.now = DAY + timedelta(hours=3)
    assert delivery.run_batch("w1", provider).claimed == 0
    assert provider.sent == [row_id]
    delivery.retry(_status(row_id))  # staff looked and decided to send it again
    db.session.commit()
    assert delivery.run_batch("w1", provider).sent == 1


def test_a_sent_row_keeps_the_providers_reference(app, held_clock):
    held_clock.now = DAY
    (row_id,) = _fill(1)
    delivery.run_batch("w1", FakeProvider([Result(True, ref="BIZ-1")]))
    row = _status(row_id)
    assert (row.status, row.provider_ref, row.tries) == ("sent", "BIZ-1", 1)
    assert row.sent_at is not None and row.claimed_by is None


def test_two_workers_never_claim_the_same_row(app, held_clock):
    held_clock.now = DAY
    _fill(5)
    lease = timedelta(seconds=60)
    first = delivery.claim("a", 3, lease)
    second = delivery.claim("b", 3, lease)
    assert len(first) == 3 and len(second) == 2 and not set(first) & set(second)
    assert delivery.claim("c", 3, lease) == []


def test_a_dead_workers_rows_are_resolved_never_sent_twice(app, held_clock):
    held_clock.now = DAY
    never_handed, handed, delivered = _fill(3)
    assert len(delivery.claim("dead", 3, timedelta(seconds=30))) == 3
    _status(handed).handed_at = DAY
    db.session.commit()
    assert delivery.resolve_expired(FakeProvider([])).released == 0  # lease not over
    held_clock.now = DAY + timedelta(seconds=31)
    report = delivery.resolve_expired(FakeProvider([]))
    assert (report.released, report.unknown) == (2, 1)
    assert _status(never_handed).status == OutboxStatus.PENDING
    assert _status(delivered).status == OutboxStatus.PENDING
    row = _status(handed)
    assert row.status == OutboxStatus.FAILED and "unknown" in row.last_error

    # The dev box knows what it delivered: such a row is marked sent, not sent again.
    delivery.claim("dead2", 1, timedelta(seconds=30))
    box_row = _status(never_handed)
    db.session.add(DevSms(outbox_id=box_row.id, mobile=box_row.mobile, template="notice", text="x"))
    db.session.commit()
    held_clock.now += timedelta(seconds=31)
    delivery.resolve_expired(DevBackend())
    assert _status(never_handed).status == OutboxStatus.SENT
    delivery.run_batch("w", DevBackend())
    assert db.session.scalar(select(func.count(DevSms.id))) == 2


def test_a_claim_lost_to_another_worker_is_not_delivered(app, held_clock):
    held_clock.now = DAY
    (row_id,) = _fill(1)
    delivery.claim("slow", 1, timedelta(seconds=30))
    held_clock.now = DAY + timedelta(seconds=31)
    delivery.run_batch("fast", DevBackend())  # resolves the slow one's row and sends it
    report = delivery.BatchReport()
    delivery._send_dev(DevBackend(), row_id, "slow", report)  # the slow worker wakes up
    assert report.sent == 0
    assert db.session.scalar(select(func.count(DevSms.id))) == 1


def test_staff_retry_makes_a_failed_sms_due_again(app, held_clock):
    held_clock.now = DAY
    (row_id,) = _fill(1)
    delivery.run_batch("w", FakeProvider([Result(False, error="bad", permanent=True)]))
    row = _status(row_id)
    delivery.retry(row)
    db.session.commit()
    row = _status(row_id)
    assert (row.status, row.tries) == ("pending", 0)
    with pytest.raises(RuleError):
        delivery.retry(row)  # pending: nothing to retry
    (code_id,) = _fill(1, template="login_code")
    code = _status(code_id)
    code.status = OutboxStatus.FAILED
    with pytest.raises(RuleError):
        delivery.retry(code)


def test_backoff_doubles_up_to_an_hour(app):
    app.config["SMS_RETRY_SECONDS"] = 60
    assert [delivery.backoff(n).total_seconds() for n in (1, 2, 3, 10)] == [60, 120, 240, 3600]
    assert clock.now() is not None

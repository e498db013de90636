"""The messages routes' case for ``test_audit``: a staff member sends a failed SMS again."""

from __future__ import annotations

from typing import Any

from compound_app.extensions import db
from compound_app.messages.models import OutboxStatus
from compound_app.messages.service import enqueue_sms
from tests.audits.test_audit import Post, case, changed
from tests.factories import World


@case("messages.retry", "staff")
def _retry(w: World, client: Any) -> Post:
    row = enqueue_sms(w.users["resident"].mobile, "repair", {"title": "维修已完成"})
    row.status, row.tries, row.last_error = OutboxStatus.FAILED, 5, "HTTP 500"
    db.session.commit()
    return Post(
        f"/messages/outbox/{row.id}/retry",
        {},
        lambda: [changed(row, "retry_sms", status="pending", mobile=row.mobile)],
    )

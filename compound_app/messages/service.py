"""Writing messages and SMS: called by the services whose events concern someone.

Nothing here commits: a message is part of the transaction of the change that caused it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import select

from ..auth.models import User
from ..extensions import db
from .models import Kind, Message, Outbox

# Kinds that come by SMS when a person has not chosen otherwise.
SMS_BY_DEFAULT = frozenset({Kind.URGENT})


def wants_sms(user: User, kind: Kind) -> bool:
    """Whether this person gets messages of this kind by SMS as well."""
    return kind in SMS_BY_DEFAULT


def enqueue_sms(
    mobile: str,
    template: str,
    params: dict[str, Any],
    *,
    urgent: bool = False,
    message: Message | None = None,
) -> Outbox:
    """Put one SMS in the outbox; the worker delivers it after the transaction commits."""
    row = Outbox(mobile=mobile, template=template, params=params, urgent=urgent)
    if message is not None:
        if message.id is None:
            db.session.flush([message])
        row.message_id = message.id
    db.session.add(row)
    return row


def notify(
    users: Iterable[User],
    kind: Kind,
    title: str,
    url: str = "",
    body: str = "",
    *,
    dedupe_key: str | None = None,
) -> list[Message]:
    """Put a message in each person's inbox (once per ``dedupe_key``), with SMS if wanted."""
    people = {u.id: u for u in users}
    if not people:
        return []
    seen: set[int] = set()
    if dedupe_key is not None:
        seen = set(
            db.session.scalars(
                select(Message.user_id).where(
                    Message.dedupe_key == dedupe_key, Message.user_id.in_(people)
                )
            )
        )
    written = []
    for user in people.values():
        if user.id in seen:
            continue
        message = Message(user_id=user.id, kind=kind.value, title=title, url=url, body=body)
        message.dedupe_key = dedupe_key
        db.session.add(message)
        written.append(message)
    if any(wants_sms(u, kind) for u in people.values()):
        db.session.flush(written)
        for message in written:
            user = people[message.user_id]
            if wants_sms(user, kind):
                enqueue_sms(
                    user.mobile,
                    kind.value,
                    {"title": title[:60]},
                    urgent=kind is Kind.URGENT,
                    message=message,
                )
    return written

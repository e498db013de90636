"""Writing messages and SMS: called by the services whose events concern someone.

Nothing here commits: a message is part of the transaction of the change that caused it.

SMS choices (docs/ARCHITECTURE.md §3.9): every message goes to the inbox; a person
chooses per kind whether it also comes by SMS. Without a choice only urgent notices do
(``SMS_BY_DEFAULT``); once a person saves their choice it replaces the defaults, so
unticking urgent notices is an explicit opt-out. Sign-in codes always come by SMS. A
resident without an account is reached only by urgent notices, and only when the roster
records their consent (``may_sms_occupant``).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import func, select, update

from .. import clock
from ..auth.models import User
from ..extensions import db
from ..fields import is_mobile
from ..registry.models import Occupant
from .models import SMS_CHOICES, Kind, Message, Outbox, SmsPreference

# Kinds that come by SMS when a person has not chosen otherwise.
SMS_BY_DEFAULT = frozenset({Kind.URGENT})
PAGE_SIZE = 30


# --- preferences ------------------------------------------------------------------------------


def sms_kinds(user_id: int) -> set[str]:
    """The kinds this person gets by SMS as well (their choice, else the defaults)."""
    pref = db.session.get(SmsPreference, user_id)
    if pref is None:
        return {k.value for k in SMS_BY_DEFAULT}
    return {k for k in pref.kinds if k in {c.value for c in SMS_CHOICES}}


def wants_sms(user: User, kind: Kind) -> bool:
    """Whether this person gets messages of this kind by SMS as well."""
    return kind.value in sms_kinds(user.id)


def sms_wanted(user_ids: Collection[int], kind: Kind) -> set[int]:
    """Of these people, those who get ``kind`` by SMS too: one query for any number."""
    if not user_ids:
        return set()
    rows = db.session.execute(
        select(SmsPreference.user_id, SmsPreference.kinds).where(
            SmsPreference.user_id.in_(user_ids)
        )
    )
    chosen: dict[int, list[str]] = {row[0]: row[1] for row in rows}
    by_default = kind in SMS_BY_DEFAULT
    return {uid for uid in user_ids if (kind.value in chosen[uid] if uid in chosen else by_default)}


def set_sms_kinds(user: User, kinds: Iterable[str]) -> SmsPreference:
    """Save a person's choice (it replaces the defaults, see the module's docstring)."""
    allowed = [k.value for k in SMS_CHOICES]
    chosen = sorted({k for k in kinds if k in allowed}, key=allowed.index)
    pref = db.session.get(SmsPreference, user.id)
    if pref is None:
        pref = SmsPreference(user_id=user.id, kinds=chosen)
        db.session.add(pref)
    else:
        pref.kinds = chosen
        pref.updated_at = clock.now()
    return pref


def may_sms_occupant(occupant: Occupant) -> bool:
    """Whether an urgent notice may go by SMS to this person on the roster.

    Only to a person without an account (one with an account is reached through their
    inbox and their own choices), with a valid mobile, whose consent the roster records.
    """
    return (
        occupant.user_id is None
        and occupant.consent_at is not None
        and bool(occupant.mobile)
        and is_mobile(occupant.mobile or "")
    )


# --- writing ----------------------------------------------------------------------------------


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
    """Put a message in each person's inbox (once per ``dedupe_key``), with SMS if wanted.

    Disabled accounts get nothing. Three statements at most, however many people.
    """
    people = {u.id: u for u in users if u.is_enabled}
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
        message = Message(
            user_id=user.id, kind=kind.value, title=title[:200], url=url[:300], body=body
        )
        message.dedupe_key = dedupe_key
        db.session.add(message)
        written.append(message)
    by_sms = sms_wanted([m.user_id for m in written], kind)
    if by_sms:
        db.session.flush(written)
        for message in written:
            if message.user_id in by_sms:
                enqueue_sms(
                    people[message.user_id].mobile,
                    kind.value,
                    {"title": title[:60]},
                    urgent=kind is Kind.URGENT,
                    message=message,
                )
    return written


# --- the inbox --------------------------------------------------------------------------------


def unread_count(user_id: int) -> int:
    """One COUNT on the (user_id, read_at, id) index."""
    return (
        db.session.scalar(
            select(func.count())
            .select_from(Message)
            .where(Message.user_id == user_id, Message.read_at.is_(None))
        )
        or 0
    )


@dataclass
class InboxPage:
    messages: list[Message]
    page: int
    pages: int
    unread: int


def inbox(user_id: int, page: int = 1, size: int = PAGE_SIZE) -> InboxPage:
    """A person's messages, newest first, a page at a time."""
    total, unread = db.session.execute(
        select(
            func.count(),
            func.count(Message.id).filter(Message.read_at.is_(None)),
        ).where(Message.user_id == user_id)
    ).one()
    pages = max(1, -(-total // size))
    page = min(max(page, 1), pages)
    rows = db.session.scalars(
        select(Message)
        .where(Message.user_id == user_id)
        .order_by(Message.id.desc())
        .limit(size)
        .offset((page - 1) * size)
    ).all()
    return InboxPage(list(rows), page, pages, unread)


def mark_read(message: Message) -> None:
    if message.read_at is None:
        message.read_at = clock.now()


def mark_all_read(user: User) -> int:
    result = db.session.execute(
        update(Message)
        .where(Message.user_id == user.id, Message.read_at.is_(None))
        .values(read_at=clock.now())
    )
    return int(getattr(result, "rowcount", 0) or 0)


# --- what an SMS says -------------------------------------------------------------------------


def sms_text(template: str, params: dict[str, Any]) -> str:
    """The words of an SMS as the provider's approved template would render them (the
    dev box shows these; real providers render their own from the template code)."""
    title = str(params.get("title", ""))
    texts = {
        "login_code": _(
            "Your sign-in code is %(code)s, valid for %(minutes)s minutes.",
            code=params.get("code", ""),
            minutes=params.get("minutes", 5),
        ),
        Kind.URGENT.value: _(
            "Urgent: %(title)s. Details in the app or at your community office.", title=title
        ),
    }
    if template in texts:
        return texts[template][:500]
    return _("%(title)s. Open the app to read more.", title=title)[:500]

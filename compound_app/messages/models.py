"""The inbox and the outbox.

A ``Message`` is one line in a person's inbox. An ``Outbox`` row is one SMS still to be
delivered; it is written in the same transaction as the event that caused it, so a
rolled-back change sends nothing and a committed one is never forgotten. The delivery
worker (``flask messages work``) moves rows from ``pending`` to ``sent`` or ``failed``.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from .. import clock
from ..dbtypes import UTCDateTime
from ..extensions import Model


class Kind(StrEnum):
    """What a message is about; each person chooses per kind whether it also comes by SMS."""

    REPAIR = "repair"  # their repair changed status or waits for their check
    BILL = "bill"  # a bill was issued, or arrears are reminded
    VOTE = "vote"  # a vote or consultation opened in their electorate, or closes soon
    NOTICE = "notice"  # a notice was published to their scope
    URGENT = "urgent"  # an urgent notice (water, power, safety): ignores quiet hours
    DUTY = "duty"  # staff and committee work: hand-overs to count, new repair reports
    LOGIN = "login"  # a sign-in code (outbox only, never in the inbox)


class Message(Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    kind: Mapped[str] = mapped_column(String(20))
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text, default="")
    url: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Set for messages that must reach a person once only (a reminder, a notice).
    dedupe_key: Mapped[str | None] = mapped_column(String(100))

    __table_args__ = (
        CheckConstraint(f"kind IN ({', '.join(repr(k.value) for k in Kind)})", name="kind"),
        Index("ix_message_user_unread", "user_id", "read_at", "id"),
        UniqueConstraint("user_id", "dedupe_key"),
    )


class OutboxStatus(StrEnum):
    PENDING = "pending"  # waiting for the worker (or for its next try)
    SENDING = "sending"  # claimed by a worker; handed to the provider at most once
    SENT = "sent"
    FAILED = "failed"  # given up after the last try, or the outcome is unknown


class Outbox(Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(10), default="sms")
    mobile: Mapped[str] = mapped_column(String(11))
    # Our template name (``login_code``, ``notice``…); settings map it to the provider's code.
    template: Mapped[str] = mapped_column(String(40))
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    urgent: Mapped[bool] = mapped_column(default=False)
    message_id: Mapped[int | None] = mapped_column(ForeignKey("message.id"))
    status: Mapped[str] = mapped_column(String(10), default=OutboxStatus.PENDING.value)
    tries: Mapped[int] = mapped_column(default=0)
    next_try_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # When the worker handed it to the provider (committed before the call): a row still
    # ``sending`` past its lease without it was never sent and may go again; with it, only
    # the provider knows (docs in ``delivery``).
    handed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    provider_ref: Mapped[str | None] = mapped_column(String(100))
    last_error: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)

    __table_args__ = (
        CheckConstraint(
            f"status IN ({', '.join(repr(s.value) for s in OutboxStatus)})", name="status"
        ),
        CheckConstraint("status != 'sending' OR claimed_until IS NOT NULL", name="claimed"),
        CheckConstraint("status != 'sent' OR sent_at IS NOT NULL", name="sent"),
        CheckConstraint("tries >= 0", name="tries"),
        Index("ix_outbox_due", "status", "next_try_at"),
        Index("ix_outbox_mobile_created", "mobile", "created_at"),
    )


# Kinds a person may choose to receive by SMS as well (login codes always come by SMS).
SMS_CHOICES = (Kind.REPAIR, Kind.BILL, Kind.VOTE, Kind.NOTICE, Kind.URGENT, Kind.DUTY)


class SmsPreference(Model):
    """Which kinds of message a person also wants by SMS. No row: the defaults
    (``service.SMS_BY_DEFAULT``, urgent notices only); a row replaces them entirely, so
    someone who unticks urgent notices has opted out of them explicitly."""

    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), primary_key=True)
    kinds: Mapped[list[str]] = mapped_column(JSON, default=list)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)


class DevSms(Model):
    """The development SMS box: what the dev backend "sent", one row per outbox row.

    Written in the same transaction that marks the outbox row sent, so a delivery is never
    half done; the unique outbox id makes a second delivery of one row impossible.
    """

    id: Mapped[int] = mapped_column(primary_key=True)
    outbox_id: Mapped[int] = mapped_column(ForeignKey("outbox.id"), unique=True)
    mobile: Mapped[str] = mapped_column(String(11), index=True)
    template: Mapped[str] = mapped_column(String(40))
    text: Mapped[str] = mapped_column(String(500))
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)

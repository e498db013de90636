"""A public link: an unguessable token that shows one poster's content without a login."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column

from .. import clock
from ..dbtypes import UTCDateTime
from ..extensions import Model


class LinkKind(StrEnum):
    """What a link shows; ``target_id`` is the id of that object."""

    NOTICE = "notice"  # notices.Notice
    BOARD = "board"  # fees.FinanceBoard (a published month)
    ARREARS = "arrears"  # registry.Unit (the arrears notice posted in its stairwell)
    VOTE_RESULT = "vote_result"  # votes.Vote (once closed)
    WORKS_BOARD = "works_board"  # registry.Compound (its works board)


class PublicLink(Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    # secrets.token_urlsafe: printed in the QR code, so kept as it is (it grants only what
    # the paper already shows to anyone passing by).
    token: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(20))
    target_id: Mapped[int]
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    revoke_reason: Mapped[str] = mapped_column(String(200), default="")

    __table_args__ = (
        CheckConstraint(f"kind IN ({', '.join(repr(k.value) for k in LinkKind)})", name="kind"),
        # At most one live link per poster.
        Index(
            "uq_public_link_live",
            "kind",
            "target_id",
            unique=True,
            sqlite_where=text("revoked_at IS NULL"),
            postgresql_where=text("revoked_at IS NULL"),
        ),
    )


class PublicMiss(Model):
    """A request for a public link whose token matches no link: a guess, counted per address.

    A table of its own rather than ``login_attempt``: the sign-in limits count every row of
    an address there, so a phone that scanned a few mistyped or stale codes would be kept
    from signing in; and these rows need nothing but the address and the moment. Kept in
    the database, like the sign-in failures, so every server process counts the same
    misses (public/service.py ``miss_wait``).
    """

    id: Mapped[int] = mapped_column(primary_key=True)
    # auth.service.address_key: an IPv4 address, or an IPv6 address's /64 network.
    ip: Mapped[str] = mapped_column(String(45))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now, index=True)

    __table_args__ = (Index("ix_public_miss_ip_at", "ip", "at"),)

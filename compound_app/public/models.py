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
    ARREARS = "arrears"  # registry.ManagementArea (its arrears notice)
    VOTE_RESULT = "vote_result"  # votes.Vote
    WORKS_BOARD = "works_board"  # registry.ManagementArea (its works board)


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

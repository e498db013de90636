"""Creating, finding and revoking public links."""

from __future__ import annotations

import secrets

from flask import url_for
from flask_babel import gettext as _
from sqlalchemy import select

from .. import audit, clock
from ..auth.models import User
from ..errors import RuleError
from ..extensions import db
from .models import LinkKind, PublicLink

TOKEN_BYTES = 24  # 192 bits: 32 URL-safe characters


def live_link(kind: LinkKind, target_id: int) -> PublicLink | None:
    return db.session.scalar(
        select(PublicLink).where(
            PublicLink.kind == kind.value,
            PublicLink.target_id == target_id,
            PublicLink.revoked_at.is_(None),
        )
    )


def link_for(kind: LinkKind, target_id: int, by: User | None = None) -> PublicLink:
    """The poster's live link, made on first print (flushed, not committed)."""
    link = live_link(kind, target_id)
    if link is None:
        link = PublicLink(
            token=secrets.token_urlsafe(TOKEN_BYTES),
            kind=kind.value,
            target_id=target_id,
            created_by_id=by.id if by else None,
        )
        db.session.add(link)
        db.session.flush([link])
    return link


def find_live(token: str) -> PublicLink | None:
    """The live link with this token, or None (unknown, malformed or revoked)."""
    if not token or len(token) > 64:
        return None
    return db.session.scalar(
        select(PublicLink).where(PublicLink.token == token, PublicLink.revoked_at.is_(None))
    )


def revoke(link: PublicLink, by: User, reason: str) -> None:
    """End a link: its page answers 404 from now on; the next print makes a new one."""
    reason = reason.strip()
    if not reason:
        raise RuleError(_("Say why the link is withdrawn."), "reason")
    if link.revoked_at is not None:
        raise RuleError(_("This link was already withdrawn."), "reason")
    before = audit.snapshot(link)
    link.revoked_at = clock.now()
    link.revoked_by_id = by.id
    link.revoke_reason = reason[:200]
    audit.record("revoke", link, before=before)


def public_url(link: PublicLink) -> str:
    """The absolute address printed in the QR code."""
    return url_for("public.show", token=link.token, _external=True)

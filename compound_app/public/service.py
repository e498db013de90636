"""Creating, finding and revoking public links, and the limit on guessing their tokens."""

from __future__ import annotations

import math
import re
import secrets
from datetime import date, datetime, timedelta

from flask import current_app, url_for
from flask_babel import gettext as _
from sqlalchemy import delete, func, select

from .. import audit, clock
from ..auth.models import User
from ..auth.service import address_key
from ..errors import RuleError
from ..extensions import db
from .models import LinkKind, PublicLink, PublicMiss

TOKEN_BYTES = 24  # 192 bits: 32 URL-safe characters
TOKEN_SHAPE = re.compile(r"[A-Za-z0-9_-]{1,64}")


def live_link(kind: LinkKind, target_id: int) -> PublicLink | None:
    return db.session.scalar(
        select(PublicLink).where(
            PublicLink.kind == kind.value,
            PublicLink.target_id == target_id,
            PublicLink.revoked_at.is_(None),
        )
    )


def expires_at(link: PublicLink) -> datetime | None:
    """When a link stops opening its page by itself; None: only when withdrawn.

    A stairwell's arrears notice recomputes who owes what each time it is opened, so its
    code is good for PUBLIC_ARREARS_DAYS from the first print: a photo of the code passed
    round a chat group does not show, months later, homes no paper ever listed.
    """
    if link.kind == LinkKind.ARREARS:
        return link.created_at + timedelta(days=current_app.config["PUBLIC_ARREARS_DAYS"])
    return None


def expired(link: PublicLink, now: datetime | None = None) -> bool:
    ends = expires_at(link)
    return ends is not None and ends <= (now or clock.now())


def last_day(link: PublicLink) -> date | None:
    """The last day (Asia/Shanghai) the link opens its page, for the poster to say."""
    ends = expires_at(link)
    return clock.local_date(ends - timedelta(seconds=1)) if ends is not None else None


def link_for(kind: LinkKind, target_id: int, by: User | None = None) -> PublicLink:
    """The poster's live link, made on first print (flushed, not committed); made anew
    when the live one has expired, which is then ended with the reason."""
    link = live_link(kind, target_id)
    if link is not None and expired(link):
        before = audit.snapshot(link)
        link.revoked_at = clock.now()
        link.revoked_by_id = by.id if by else None
        link.revoke_reason = _("Expired: the poster was printed again.")[:200]
        audit.record("expire", link, before=before)
        db.session.flush()
        link = None
    if link is None:
        link = PublicLink(
            token=secrets.token_urlsafe(TOKEN_BYTES),
            kind=kind.value,
            target_id=target_id,
            created_by_id=by.id if by else None,
        )
        db.session.add(link)
        db.session.flush()
    return link


def find(token: str) -> PublicLink | None:
    """The link with this token, live or revoked; None for a token no link ever had."""
    if not TOKEN_SHAPE.fullmatch(token):  # nothing else was ever made (nor a NUL, for PostgreSQL)
        return None
    return db.session.scalar(select(PublicLink).where(PublicLink.token == token))


def find_live(token: str) -> PublicLink | None:
    """The live link with this token, or None (unknown, malformed, revoked or expired)."""
    link = find(token)
    return link if link is not None and link.revoked_at is None and not expired(link) else None


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


# --- guessing --------------------------------------------------------------------------
#
# A token is 192 random bits, so guessing one is hopeless; the limit keeps anyone from
# trying at scale all the same. Only tokens that match no link count as misses: a revoked
# poster still on a wall is scanned by honest neighbours. Misses count per address
# (``auth.service.address_key``: IPv4, or an IPv6 /64), in the database so that every
# server process sees them. An address over the limit is answered 429 whatever it asks,
# so that it cannot tell a hit from a miss while it waits; every other address, and so
# everyone scanning a real poster elsewhere, is untouched by its misses.


def miss_wait(ip: str) -> int:
    """Minutes this address must wait before its next public link (0 = go ahead)."""
    cfg = current_app.config
    window: timedelta = cfg["PUBLIC_MISS_WINDOW"]
    since = clock.now() - window
    count, first = db.session.execute(
        select(func.count(), func.min(PublicMiss.at)).where(
            PublicMiss.ip == address_key(ip), PublicMiss.at > since
        )
    ).one()
    if count < cfg["PUBLIC_MAX_MISSES_PER_IP"] or first is None:
        return 0
    seconds = (first + window - clock.now()).total_seconds()
    return max(1, math.ceil(seconds / 60))


def record_miss(ip: str) -> None:
    """Count a token that matched no link against this address; forget day-old misses."""
    db.session.execute(delete(PublicMiss).where(PublicMiss.at < clock.now() - timedelta(days=1)))
    db.session.add(PublicMiss(ip=address_key(ip)))

"""Signing in with a six-digit code sent by SMS (手机验证码登录).

A person types their mobile and asks for a code; the code goes out through the SMS
outbox (``messages.service.enqueue_sms``, urgent, so quiet hours never hold it) and works
for LOGIN_CODE_LIFETIME, once, with at most LOGIN_CODE_MAX_TRIES tries. Asking again
ends the earlier code.

Who gets an SMS: the mobile of an enabled account, or, with no account, a roster mobile
that the code may link (``roster.linkable_by_mobile``) and that has consent recorded or
is an owner's or co-owner's (``roster.may_get_code``). Any other number gets nothing, and
the answers never tell which numbers are known: every request is stored and counted
against the same limits (with no code behind it where nothing was sent), every wrong try
is counted the same way, and the pages say the same thing either way.

The first sign-in of a roster mobile without an account creates the account (active
without a password) and links the records, with a resident grant for each home, as a
household code would. The code itself is kept only as an HMAC keyed with the app's
secret, and is never logged or audited; it is in the outbox row's parameters only.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, select, update

from .. import audit, clock
from ..extensions import db
from ..messages.service import enqueue_sms
from . import service
from .models import LoginAttempt, LoginCode, User

SMS_TEMPLATE = "login_code"
CODE_DIGITS = 6
# Failed tries are counted as login attempts under this prefix (and the number): they
# share the table with password failures but never their buckets (``service.login_wait``
# leaves them out), so a code still lets the owner in while password attempts on their
# account are locked, and wrong codes from a shared address lock nobody's password.
FAILURE_PREFIX = service.SMS_CODE_PREFIX
# How far back a typed code is looked for, to say "used" or "expired" rather than "wrong".
LOOK_BACK = timedelta(days=1)
HOUR = timedelta(hours=1)


class CodeRefused(Exception):
    """A request or a try that is refused; ``status`` 429 for a limit, else 422."""

    def __init__(self, message: str, status: int = 422) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


def normalise(code: str) -> str:
    """The digits as typed, however: full-width digits and spaces are fine."""
    text = unicodedata.normalize("NFKC", code or "")
    return "".join(ch for ch in text if ch.isascii() and ch.isdigit())


def _hash(mobile: str, code: str) -> str:
    key = str(current_app.config["SECRET_KEY"]).encode()
    return hmac.new(key, f"{mobile}:{code}".encode(), hashlib.sha256).hexdigest()


# --- asking for a code -----------------------------------------------------------------------


def _seconds_until(moment: datetime) -> int:
    seconds = (moment - clock.now()).total_seconds()
    return max(1, int(seconds) + 1)


def request_wait(mobile: str, ip: str) -> tuple[int, str]:
    """Seconds before this number may get another code from this address (0: now), and
    which limit holds it (``resend``, ``mobile`` or ``address``)."""
    cfg = current_app.config
    now = clock.now()
    address = service.address_key(ip)
    latest = db.session.scalar(
        select(func.max(LoginCode.created_at)).where(LoginCode.mobile == mobile)
    )
    if latest is not None and latest > now - cfg["LOGIN_CODE_RESEND"]:
        return _seconds_until(latest + cfg["LOGIN_CODE_RESEND"]), "resend"
    for column, value, limit, which in (
        (LoginCode.mobile, mobile, cfg["LOGIN_CODE_MAX_PER_MOBILE"], "mobile"),
        (LoginCode.ip, address, cfg["LOGIN_CODE_MAX_PER_IP"], "address"),
    ):
        count, first = db.session.execute(
            select(func.count(), func.min(LoginCode.created_at)).where(
                column == value, LoginCode.created_at > now - HOUR
            )
        ).one()
        if count >= limit and first is not None:
            return _seconds_until(first + HOUR), which
    return 0, ""


def _wait_message(seconds: int, which: str) -> str:
    if which == "resend":
        return _(
            "A code was just sent. Please wait %(n)d seconds before asking for another.",
            n=seconds,
        )
    minutes = max(1, (seconds + 59) // 60)
    if which == "mobile":
        return _(
            "Too many codes for this number. Try again in %(n)d minutes, or sign in with "
            "your password.",
            n=minutes,
        )
    return _("Too many codes asked from here. Try again in %(n)d minutes.", n=minutes)


def may_receive(mobile: str) -> bool:
    """Whether a sign-in code may be sent to this number (see the module's docstring)."""
    from ..registry import roster

    user = db.session.scalar(select(User).where(User.mobile == mobile))
    if user is not None:
        return user.is_enabled
    return roster.may_get_code(roster.linkable_by_mobile(mobile))


def request_code(mobile: str, ip: str) -> LoginCode:
    """Store a request for a code (and put the SMS in the outbox if the number may get
    one); refused with CodeRefused (429) over a limit. Does not commit."""
    wait, which = request_wait(mobile, ip)
    if wait:
        raise CodeRefused(_wait_message(wait, which), 429)
    now = clock.now()
    # Asking again ends the earlier code: only the newest one works.
    db.session.execute(
        update(LoginCode)
        .where(LoginCode.mobile == mobile, LoginCode.used_at.is_(None), LoginCode.expires_at > now)
        .values(expires_at=now)
        .execution_options(synchronize_session=False)
    )
    code = f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"
    send = may_receive(mobile)
    row = LoginCode(
        mobile=mobile,
        ip=service.address_key(ip),
        code_hash=_hash(mobile, code) if send else None,
        created_at=now,
        expires_at=now + current_app.config["LOGIN_CODE_LIFETIME"],
    )
    db.session.add(row)
    if send:
        minutes = int(current_app.config["LOGIN_CODE_LIFETIME"].total_seconds() // 60)
        enqueue_sms(mobile, SMS_TEMPLATE, {"code": code, "minutes": minutes}, urgent=True)
    return row


# --- typing it in ------------------------------------------------------------------------------


def failure_wait(ip: str) -> int:
    """Minutes before this address may try another code (0: now)."""
    cfg = current_app.config
    return service._wait(
        [
            (
                service._count_since(
                    LoginAttempt.ip == service.address_key(ip),
                    LoginAttempt.mobile.startswith(FAILURE_PREFIX),
                ),
                cfg["LOGIN_CODE_MAX_FAILURES_PER_IP"],
            )
        ]
    )


def _fail(mobile: str, ip: str, message: str) -> CodeRefused:
    service.record_failure(FAILURE_PREFIX + mobile, ip)
    return CodeRefused(message)


def _dead() -> str:
    return _("Too many wrong tries: this code no longer works. Ask for a new code.")


def check_code(mobile: str, typed: str, ip: str) -> LoginCode:
    """The live code of this number that ``typed`` is, claimed (used); else CodeRefused.

    The caller commits either way: a wrong try is counted even though it is refused.
    """
    cfg = current_app.config
    wait = failure_wait(ip)
    if wait:
        raise CodeRefused(
            _("Too many wrong codes. Try again in %(n)d minutes.", n=wait),
            429,
        )
    code = normalise(typed)
    now = clock.now()
    row = db.session.scalar(
        select(LoginCode).where(LoginCode.mobile == mobile).order_by(LoginCode.id.desc()).limit(1)
    )
    live = row is not None and row.used_at is None and row.expires_at > now
    if row is not None and live:
        if row.tries >= cfg["LOGIN_CODE_MAX_TRIES"]:
            raise _fail(mobile, ip, _dead())
        if (
            row.code_hash is not None
            and len(code) == CODE_DIGITS
            and hmac.compare_digest(row.code_hash, _hash(mobile, code))
        ):
            # Claimed in one statement: two requests racing with the code cannot both use it.
            claimed = db.session.execute(
                update(LoginCode)
                .where(
                    LoginCode.id == row.id,
                    LoginCode.used_at.is_(None),
                    LoginCode.expires_at > now,
                    LoginCode.tries < cfg["LOGIN_CODE_MAX_TRIES"],
                )
                .values(used_at=now)
                .execution_options(synchronize_session=False)
            )
            if service._rowcount(claimed) == 1:
                db.session.refresh(row)
                return row
            raise _fail(mobile, ip, _("This code was already used. Ask for a new code."))
        db.session.execute(
            update(LoginCode)
            .where(LoginCode.id == row.id, LoginCode.tries < cfg["LOGIN_CODE_MAX_TRIES"])
            .values(tries=LoginCode.tries + 1)
            .execution_options(synchronize_session=False)
        )
        if row.tries + 1 >= cfg["LOGIN_CODE_MAX_TRIES"]:
            raise _fail(
                mobile,
                ip,
                _("Wrong code, and that was the last try. Ask for a new code."),
            )
        raise _fail(mobile, ip, _("Wrong code. Check the SMS and type its 6 digits again."))
    # No live code: say why, if the typed one is an earlier code of this number.
    earlier = None
    if len(code) == CODE_DIGITS:
        earlier = db.session.scalar(
            select(LoginCode)
            .where(
                LoginCode.mobile == mobile,
                LoginCode.code_hash == _hash(mobile, code),
                LoginCode.created_at > now - LOOK_BACK,
            )
            .order_by(LoginCode.id.desc())
            .limit(1)
        )
    if earlier is not None and earlier.used_at is not None:
        raise _fail(mobile, ip, _("This code was already used. Ask for a new code."))
    if earlier is not None and earlier.tries >= cfg["LOGIN_CODE_MAX_TRIES"]:
        raise _fail(mobile, ip, _dead())
    if earlier is not None:
        raise _fail(
            mobile,
            ip,
            _("This code has expired: a code works for 5 minutes. Ask for a new code."),
        )
    raise _fail(mobile, ip, _("This code is wrong or has expired. Ask for a new code."))


@dataclass
class SignedIn:
    user: User
    created: bool  # a new account, set up by this sign-in
    linked: int  # roster records linked to the account now


def sign_in(mobile: str, typed: str, ip: str, *, consent: bool = False) -> SignedIn:
    """Check the code, then the account of this number: set up from the roster on its
    first sign-in, its records linked and, with ``consent``, consent recorded online.
    Does not commit; the caller commits whether it succeeds or not (tries are counted)."""
    from ..registry import roster

    check_code(mobile, typed, ip)
    user = db.session.scalar(select(User).where(User.mobile == mobile))
    records = roster.linkable_by_mobile(mobile)
    created = False
    if user is None:
        if not roster.may_get_code(records):
            raise CodeRefused(_cannot_sign_in())
        user = User(mobile=mobile, name=records[0].name)
        db.session.add(user)
        db.session.flush()
        audit.record("create", user, actor_id=user.id)
        created = True
    elif not user.is_enabled:
        raise CodeRefused(_cannot_sign_in())
    with audit.acting_as(user.id):
        if not user.is_active:
            user.activated_at = clock.now()
            audit.record("activate", user, None, {"mobile": user.mobile, "by": "sms_code"})
        roster.link_by_code(user, records)
        if consent:
            roster.consent_online(user)
    service.clear_failures(mobile, ip)
    prune()
    return SignedIn(user, created, len(records))


def _cannot_sign_in() -> str:
    return _(
        "This number cannot sign in here now. Ask your community office or your committee for help."
    )


def prune(older_than: timedelta = timedelta(days=2)) -> None:
    """Forget requests older than any limit or message looks back."""
    from sqlalchemy import delete

    db.session.execute(delete(LoginCode).where(LoginCode.created_at < clock.now() - older_than))

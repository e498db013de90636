"""Passwords, login sessions, the login rate limit and invite codes."""

from __future__ import annotations

import hashlib
import ipaddress
import secrets
import unicodedata
from datetime import datetime, timedelta
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app
from sqlalchemy import delete, func, or_, select, update

from .. import audit, clock
from ..extensions import db
from . import passwords
from .models import InviteCode, LoginAttempt, Role, RoleGrant, User, UserSession

# Unambiguous characters for codes people copy from paper (no 0/O, 1/I/L).
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"


def _hasher() -> PasswordHasher:
    cfg = current_app.config
    return PasswordHasher(
        time_cost=cfg["ARGON2_TIME_COST"],
        memory_cost=cfg["ARGON2_MEMORY_COST"],
        parallelism=cfg["ARGON2_PARALLELISM"],
    )


def hash_password(password: str) -> str:
    return _hasher().hash(password)


# Verifying against this keeps the response time the same whether or not a mobile exists.
_DUMMY_HASH: dict[tuple[int, int, int], str] = {}


def _dummy_hash() -> str:
    h = _hasher()
    key = (h.time_cost, h.memory_cost, h.parallelism)
    if key not in _DUMMY_HASH:
        _DUMMY_HASH[key] = h.hash(secrets.token_hex(8))
    return _DUMMY_HASH[key]


def check_password(user: User | None, password: str) -> bool:
    h = _hasher()
    stored = user.password_hash if user is not None else None
    try:
        h.verify(stored or _dummy_hash(), password)
    except (VerificationError, InvalidHashError):
        return False
    if stored is None or user is None:
        return False
    if h.check_needs_rehash(stored):
        user.password_hash = h.hash(password)
    return True


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


# --- login sessions ---------------------------------------------------------------------


def may_remember(user: User) -> bool:
    """Whether this account may stay signed in on a phone ("remember this phone").

    Residents only: whoever holds a role over other people's homes, money or records
    (staff, committee members, unit representatives) keeps the short sessions.
    """
    return all(g.role == Role.RESIDENT for g in user.grants)


def start_session(user: User, user_agent: str = "", *, remember: bool = False) -> str:
    """A new login session; ``remember`` (granted to residents only) makes it last
    REMEMBER_LIFETIME with no idle timeout, else SESSION_ABSOLUTE_LIFETIME at most."""
    cfg = current_app.config
    remember = remember and may_remember(user)
    lifetime = cfg["REMEMBER_LIFETIME"] if remember else cfg["SESSION_ABSOLUTE_LIFETIME"]
    token = secrets.token_urlsafe(32)
    db.session.add(
        UserSession(
            user_id=user.id,
            token_hash=_digest(token),
            expires_at=clock.now() + lifetime,
            user_agent=user_agent[:200],
            remembered=remember,
        )
    )
    user.session_token = token
    return token


# How often a session's last use is written down: often enough for the idle timeout,
# rarely enough that reading pages does not mean writing to the database each time.
TOUCH_EVERY = timedelta(minutes=5)


def user_for_token(token: str | None) -> User | None:
    if not token or len(token) > 100:
        return None
    now = clock.now()
    found = db.session.execute(
        select(User, UserSession.id, UserSession.last_seen_at)
        .join(UserSession, UserSession.user_id == User.id)
        .where(
            UserSession.token_hash == _digest(token),
            UserSession.ended_at.is_(None),
            UserSession.expires_at > now,
            or_(
                UserSession.remembered.is_(True),
                UserSession.last_seen_at > now - current_app.config["SESSION_IDLE_TIMEOUT"],
            ),
            # A disabled account is out even if some path disabled it without ending sessions.
            User.is_enabled.is_(True),
        )
    ).one_or_none()
    if found is None:
        return None
    user, session_id, last_seen = found
    if now - last_seen > TOUCH_EVERY:
        _touch(session_id, now)
    user.session_token = token
    return user


def _touch(session_id: int, now: datetime) -> None:
    from ..database import writes_now

    stmt = update(UserSession).where(UserSession.id == session_id).values(last_seen_at=now)
    if writes_now():
        # A form post already holds the write lock in this session: write there (a second
        # connection would wait for it forever), committed with the post.
        db.session.execute(stmt)
    else:
        # A page that only reads: a short transaction of its own, so the page itself
        # never holds a write lock.
        with db.engine.begin() as conn:
            conn.execute(stmt)


def end_session(token: str | None) -> None:
    if token:
        db.session.execute(
            update(UserSession)
            .where(UserSession.token_hash == _digest(token), UserSession.ended_at.is_(None))
            .values(ended_at=clock.now())
        )


def _rowcount(result: Any) -> int:
    """Rows an UPDATE changed (a CursorResult, though ``execute`` is typed as any Result)."""
    return int(result.rowcount or 0)


def end_other_sessions(user: User, keep_token: str | None = None) -> int:
    stmt = update(UserSession).where(UserSession.user_id == user.id, UserSession.ended_at.is_(None))
    if keep_token:
        stmt = stmt.where(UserSession.token_hash != _digest(keep_token))
    return _rowcount(db.session.execute(stmt.values(ended_at=clock.now())))


def check_new_password(user: User, password: str) -> str | None:
    """Why ``password`` may not become ``user``'s password (None: it may)."""
    return passwords.problem(password, mobile=user.mobile, name=user.name)


def change_password(user: User, new_password: str) -> None:
    from ..errors import RuleError

    problem = check_new_password(user, new_password)
    if problem:
        raise RuleError(problem, "new_password")
    before = {"password_changed_at": _iso(user.password_changed_at)}
    user.password_hash = hash_password(new_password)
    user.password_changed_at = clock.now()
    end_other_sessions(user, keep_token=user.session_token)
    audit.record(
        "password_change",
        user,
        before,
        {"password_changed_at": _iso(user.password_changed_at)},
    )


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


# --- rate limit ---------------------------------------------------------------------------
#
# Failed sign-ins are counted per account and client address, per account, and per
# address. The small limit on the pair stops guessing from one place; a stranger guessing
# from their own address fills only their own pair, so the owner, from theirs, still gets
# in. Only many addresses together reach the wider per-account limit.
#
# "Address" is an IPv4 address, or an IPv6 address's /64 network: one home or one phone
# gets a whole /64, so counting single IPv6 addresses would give each client 2**64 fresh
# counts. The README's "Limits" section has the numbers and why.

IPV6_PREFIX = 64


def address_key(ip: str) -> str:
    """The address a failure is counted against: IPv4 as is, IPv6 by its /64 network.

    An IPv4 address written as IPv6 (``::ffff:203.0.113.5``), or carried in a 6to4 or
    Teredo address, counts as that IPv4 address. Anything else is kept as given (cut to
    the column's 45 characters).
    """
    text = (ip or "").strip()
    try:
        address = ipaddress.ip_address(text.split("%", 1)[0])  # without an interface (%eth0)
    except ValueError:
        return text[:45]
    if isinstance(address, ipaddress.IPv6Address):
        embedded = address.ipv4_mapped or address.sixtofour or (address.teredo or (None, None))[1]
        if embedded is not None:
            return str(embedded)
        return str(ipaddress.IPv6Network((address, IPV6_PREFIX), strict=False))
    return str(address)


def _count_since(*conditions: Any) -> tuple[int, datetime | None]:
    since = clock.now() - current_app.config["LOGIN_WINDOW"]
    count, first = db.session.execute(
        select(func.count(), func.min(LoginAttempt.at)).where(LoginAttempt.at > since, *conditions)
    ).one()
    return count, first


def _wait(counted: list[tuple[tuple[int, datetime | None], int]]) -> int:
    """Minutes until the earliest full bucket empties enough (0 = go ahead)."""
    blocked_since = [first for (count, first), limit in counted if count >= limit and first]
    if not blocked_since:
        return 0
    free_at = min(blocked_since) + current_app.config["LOGIN_WINDOW"]
    seconds = (free_at - clock.now()).total_seconds()
    return max(1, int(seconds // 60) + 1)


# Wrong sign-in codes (``auth/codes.py``) are counted in the same table under this prefix
# and the number, in buckets of their own: they never count towards the password limits
# below, so twenty wrong codes from a shared carrier address lock nobody's password.
SMS_CODE_PREFIX = "sms:"


def _not_sms_code() -> Any:
    return LoginAttempt.mobile.not_like(SMS_CODE_PREFIX + "%")


def login_wait(mobile: str, ip: str) -> int:
    """Minutes to wait before another login attempt is allowed (0 = go ahead)."""
    cfg = current_app.config
    mobile, ip = mobile[:20], address_key(ip)
    return _wait(
        [
            (
                _count_since(LoginAttempt.mobile == mobile, LoginAttempt.ip == ip),
                cfg["LOGIN_MAX_FAILURES_PER_PAIR"],
            ),
            (_count_since(LoginAttempt.mobile == mobile), cfg["LOGIN_MAX_FAILURES_PER_MOBILE"]),
            (
                _count_since(LoginAttempt.ip == ip, _not_sms_code()),
                cfg["LOGIN_MAX_FAILURES_PER_IP"],
            ),
        ]
    )


CODE_PREFIX = "code:"


def code_attempt_key(code: str) -> str:
    """The bucket for failed attempts with one invitation code (as typed, normalised).

    Hashed: the column holds 20 characters, and the code itself is a secret.
    """
    return CODE_PREFIX + hashlib.sha256(normalise_code(code).encode()).hexdigest()[:15]


def code_wait(code: str, ip: str) -> int:
    """Minutes to wait before another try at a code from this address (0 = go ahead).

    Every failure counts against the code (however many addresses try it, and however it
    is typed) and against the address (whichever codes it tries), and with password
    failures against the address (wrong SMS sign-in codes have buckets of their own). The
    limit per address is wider than per code: a family, or the residents the community
    helps on its office Wi-Fi, share one address.
    """
    cfg = current_app.config
    ip = address_key(ip)
    return _wait(
        [
            (
                _count_since(LoginAttempt.mobile == code_attempt_key(code)),
                cfg["CODE_MAX_FAILURES"],
            ),
            (
                _count_since(LoginAttempt.ip == ip, LoginAttempt.mobile.startswith(CODE_PREFIX)),
                cfg["CODE_MAX_FAILURES_PER_IP"],
            ),
            (
                _count_since(LoginAttempt.ip == ip, _not_sms_code()),
                cfg["LOGIN_MAX_FAILURES_PER_IP"],
            ),
        ]
    )


def record_failure(mobile: str, ip: str) -> None:
    db.session.add(LoginAttempt(mobile=mobile[:20], ip=address_key(ip)))


def record_code_failure(code: str, ip: str) -> None:
    record_failure(code_attempt_key(code), ip)


def clear_failures(mobile: str, ip: str) -> None:
    """After a sign-in: this address's failures for the account. Others' stay counted."""
    db.session.execute(
        delete(LoginAttempt).where(
            LoginAttempt.mobile == mobile[:20], LoginAttempt.ip == address_key(ip)
        )
    )


def prune_attempts(older_than: timedelta = timedelta(days=1)) -> None:
    db.session.execute(delete(LoginAttempt).where(LoginAttempt.at < clock.now() - older_than))


# --- invite codes -----------------------------------------------------------------------


def normalise_code(code: str) -> str:
    """The code as printed: ``ABCDE-FGHJK`` however it was typed.

    NFKC first, so that what a Chinese input method types in full-width mode (``ＡＢＣ１２``,
    an ideographic space, ``－``) is the same code, and is counted as the same code; then
    upper case, and only the ASCII letters and digits (other scripts' digits and letters
    are never part of a code).
    """
    text = unicodedata.normalize("NFKC", code).upper()
    return "".join(ch for ch in text if ch.isascii() and ch.isalnum())


def issue_invite(
    *, created_by: User, household_id: int | None = None, user_id: int | None = None
) -> str:
    """A new one-time code; earlier unused codes for the same target stop working."""
    now = clock.now()
    target = (
        InviteCode.household_id == household_id
        if household_id is not None
        else InviteCode.user_id == user_id
    )
    db.session.execute(
        update(InviteCode)
        .where(target, InviteCode.used_at.is_(None), InviteCode.expires_at > now)
        .values(expires_at=now)
    )
    raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(10))
    invite = InviteCode(
        code_hash=_digest(raw),
        household_id=household_id,
        user_id=user_id,
        created_by_id=created_by.id,
        expires_at=now + timedelta(days=current_app.config["INVITE_VALID_DAYS"]),
    )
    db.session.add(invite)
    audit.record("invite_issue", invite)
    return f"{raw[:5]}-{raw[5:]}"


def find_invite(code: str) -> InviteCode | None:
    raw = normalise_code(code)
    if len(raw) != 10:
        return None
    return db.session.execute(
        select(InviteCode).where(
            InviteCode.code_hash == _digest(raw),
            InviteCode.used_at.is_(None),
            InviteCode.expires_at > clock.now(),
        )
    ).scalar_one_or_none()


def grant(user: User, role: Role, scope_id: int, *, granted_by: User | None = None) -> RoleGrant:
    from .models import ROLE_SCOPE

    existing = db.session.execute(
        select(RoleGrant).where(
            RoleGrant.user_id == user.id,
            RoleGrant.role == role.value,
            getattr(RoleGrant, ROLE_SCOPE[role]) == scope_id,
        )
    ).scalar_one_or_none()
    if existing is not None:
        return existing
    row = RoleGrant(
        user_id=user.id, role=role.value, granted_by_id=granted_by.id if granted_by else None
    )
    setattr(row, ROLE_SCOPE[role], scope_id)
    db.session.add(row)
    audit.record("grant", row)
    if role is not Role.RESIDENT:
        # A remembered phone was a resident's privilege: with this role, short sessions.
        db.session.execute(
            update(UserSession)
            .where(
                UserSession.user_id == user.id,
                UserSession.remembered.is_(True),
                UserSession.ended_at.is_(None),
            )
            .values(ended_at=clock.now())
        )
    return row


def revoke(row: RoleGrant) -> None:
    if row.role == Role.RESIDENT:
        # The household no longer shows this person as having an account.
        from ..registry.models import Occupant

        for occupant in db.session.scalars(
            select(Occupant).where(
                Occupant.household_id == row.household_id, Occupant.user_id == row.user_id
            )
        ):
            linked = audit.snapshot(occupant)
            occupant.user_id = None
            audit.record("unlink", occupant, linked)
    before = audit.snapshot(row)
    db.session.delete(row)
    audit.record("revoke", row, before)


class InviteError(Exception):
    """Why an invite code cannot be redeemed; ``field`` says where to show it.

    ``guess`` marks the one answer every failed try with a code gets (wrong, used or
    expired code, or a mobile it does not work with, whatever the reason): it counts as
    a wrong guess, and says nothing about which accounts exist.
    """

    def __init__(self, field: str, message: str, *, guess: bool = False) -> None:
        super().__init__(message)
        self.field = field
        self.message = message
        self.guess = guess

    @classmethod
    def refused(cls) -> InviteError:
        from flask_babel import gettext as _

        return cls(
            "code",
            _(
                "This code does not work with this mobile number, or it is used or expired. "
                "Check both. If this number already has an account, sign in first, then "
                "enter the code."
            ),
            guess=True,
        )


def redeem_invite(
    invite: InviteCode | None,
    *,
    mobile: str,
    name: str,
    password: str | None,
    current: User | None,
) -> User:
    """Turn a code into a working account (and a household link for resident codes).

    A signed-in person redeeming a household code just gains the household. Otherwise the
    mobile must not belong to an account at all: a code found on a notice board must never
    let anyone take over somebody else's account. Every such refusal is the same answer
    (``InviteError.refused``), so trying mobiles with a code tells nothing about them.
    """
    from flask_babel import gettext as _

    if invite is None:
        raise InviteError.refused()
    if invite.user_id is not None:
        user = db.session.get(User, invite.user_id)
        if user is None or user.mobile != mobile or not user.is_enabled:
            raise InviteError.refused()
        if current is not None:
            raise InviteError.refused()
        if password is None:
            raise InviteError("new_password", _("Please choose a password."))
    else:
        user = current
        if user is None:
            # Asked whatever the mobile, so the question itself tells nothing about it.
            if not name:
                raise InviteError("name", _("Please enter your name."))
            if password is None:
                raise InviteError("new_password", _("Please choose a password."))
            # An account with a password signs in first. One set up by staff (a
            # representative, a committee member, a staff member) and not activated yet is
            # activated by its owner with their own activation code: a household code,
            # handed to a whole household and maybe pinned up in a stairwell, must not
            # claim it, with its roles, by typing its mobile.
            if db.session.scalar(select(User.id).where(User.mobile == mobile)) is not None:
                raise InviteError.refused()
            user = User(mobile=mobile, name=name)
            db.session.add(user)
            db.session.flush()
            audit.record("create", user, actor_id=user.id)
    if password is not None and (user.password_hash is None or invite.user_id is not None):
        problem = check_new_password(user, password)
        if problem:
            raise InviteError("new_password", problem)
    with audit.acting_as(user.id):
        return _use_invite(invite, user, password)


def _use_invite(invite: InviteCode, user: User, password: str | None) -> User:
    from ..registry.models import Household, Occupant, Relation

    # Claim the code in one statement, so two requests racing with it cannot both use it.
    claimed = _rowcount(
        db.session.execute(
            update(InviteCode)
            .where(
                InviteCode.id == invite.id,
                InviteCode.used_at.is_(None),
                InviteCode.expires_at > clock.now(),
            )
            .values(used_at=clock.now())
            .execution_options(synchronize_session=False)
        )
    )
    if claimed != 1:
        raise InviteError.refused()
    if password is not None and (user.password_hash is None or invite.user_id is not None):
        if user.password_hash is not None:
            end_other_sessions(user)  # a reset: whoever knew the old password is out
        user.password_hash = hash_password(password)
        user.password_changed_at = clock.now()
        audit.record("activate", user, None, {"mobile": user.mobile})
    if invite.household_id is not None:
        household = db.session.get(Household, invite.household_id)
        assert household is not None
        occupant = db.session.execute(
            select(Occupant).where(
                Occupant.household_id == household.id, Occupant.mobile == user.mobile
            )
        ).scalar_one_or_none()
        if occupant is not None and occupant.user_id not in (None, user.id):
            # The record with this mobile is someone else's, linked when they activated:
            # a number typed into the roster never hands their place (their vote) over.
            raise InviteError.refused()
        if occupant is not None and occupant.user_id is None:
            # Nor may the code make its holder an owner's elector by steering which
            # owner's record bears their number (registry/roster.py).
            from ..registry.roster import owner_link_refusal

            refusal = owner_link_refusal(occupant, user)
            if refusal:
                raise InviteError("code", refusal)
        if occupant is None:
            occupant = Occupant(
                household_id=household.id,
                name=user.name,
                mobile=user.mobile,
                relation=Relation.FAMILY,
            )
            db.session.add(occupant)
        if occupant.user_id != user.id:
            before = audit.snapshot(occupant) if occupant.id else None
            occupant.user_id = user.id
            audit.record("link", occupant, before)
        grant(user, Role.RESIDENT, household.id, granted_by=None)
    invite.used_at = clock.now()
    invite.used_by_id = user.id
    audit.record("invite_use", invite)
    return user


def find_or_create_user(mobile: str, name: str) -> User:
    """The account of this mobile number, or a new one.

    A number already registered under another name is refused, without saying whose it
    is: appointing someone must not reveal, or hand a role to, the wrong person.
    """
    from flask_babel import gettext as _

    from ..errors import RuleError

    user = db.session.scalar(select(User).where(User.mobile == mobile))
    if user is None:
        user = User(mobile=mobile, name=name)
        db.session.add(user)
        audit.record("create", user)
    elif user.name != name:
        raise RuleError(
            _("This mobile number belongs to an account with another name. Check both."),
            "mobile",
        )
    return user

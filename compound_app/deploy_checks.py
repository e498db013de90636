"""Checks behind ``flask check-deploy``: settings that must hold before going live."""

from __future__ import annotations

import os
import re
from pathlib import Path

from flask import Flask
from sqlalchemy import inspect, select
from sqlalchemy.exc import SQLAlchemyError


def problems(app: Flask) -> list[str]:
    cfg = app.config
    found = []
    if cfg["ENV_NAME"] != "production":
        found.append("COMPOUND_ENV is not 'production'.")
    if app.debug or os.environ.get("FLASK_DEBUG") in ("1", "true", "True"):
        found.append("Debug mode is on: it exposes code and allows remote execution.")
    if cfg.get("TESTING"):
        found.append("TESTING is on.")
    found.extend(_secret_key_problems(app))
    if not cfg.get("SESSION_COOKIE_SECURE"):
        found.append("SESSION_COOKIE_SECURE is off: the session cookie would travel without TLS.")
    if not cfg.get("SESSION_COOKIE_HTTPONLY"):
        found.append("SESSION_COOKIE_HTTPONLY is off.")
    if str(cfg.get("SESSION_COOKIE_SAMESITE")).lower() not in ("lax", "strict"):
        found.append("SESSION_COOKIE_SAMESITE must be 'Lax' or 'Strict'.")
    if not cfg.get("WTF_CSRF_ENABLED", True) or not cfg.get("WTF_CSRF_CHECK_DEFAULT", True):
        found.append("CSRF protection is disabled.")
    if not cfg.get("MAX_CONTENT_LENGTH"):
        found.append("MAX_CONTENT_LENGTH is not set: request bodies would be unlimited.")
    if "PROXY_HOPS" not in cfg:
        found.append(
            "PROXY_HOPS is not set: set COMPOUND_PROXY_HOPS=1 behind nginx or Caddy (0 with "
            "no proxy), or every client shares the proxy's address and its login limit."
        )
    if cfg.get("SMS_BACKEND", "dev") == "dev":
        found.append(
            "SMS_BACKEND is 'dev': no SMS reaches a phone, and every one, sign-in codes "
            "included, is shown to staff in the dev SMS box (staff could sign in as any "
            "resident). Set COMPOUND_SMS_BACKEND=aliyun with its keys."
        )
    if cfg.get("ARGON2_MEMORY_COST", 0) < 19456 or cfg.get("ARGON2_TIME_COST", 0) < 2:
        found.append("Argon2 parameters are below the OWASP minimum (19 MiB, 2 passes).")
    found.extend(_demo_accounts_open())
    return found


# Words of example, test and development keys: none is in a random key of 32 or more
# characters by chance (a hex or base64 key holds no "-", and these are long).
PLACEHOLDER_WORDS = (
    "change",
    "example",
    "not-for-production",
    "development",
    "dev-key",
    "devkey",
    "secret-key",
    "secretkey",
    "insecure",
    "placeholder",
    "your-",
    "test-",
)


def _patterned(key: str) -> bool:
    """Typed rather than generated: few characters, one repeated eight times in a row, or a
    short piece over and over (chances for a random key of 32 hex digits: below 10⁻⁶)."""
    if len(set(key)) < 8 or re.search(r"(.)\1{7}", key):
        return True
    return any(key == (key[:n] * (len(key) // n + 1))[: len(key)] for n in range(1, 17))


def _secret_key_problems(app: Flask) -> list[str]:
    """SECRET_KEY given to this server explicitly, long, and not an example or dev key.

    Given means the environment (SECRET_KEY, COMPOUND_SECRET_KEY) or instance/config.py;
    the key generated into instance/secret_key when none is given is this server's alone
    (another server, or a rebuilt container, signs with another and its sessions fail).
    """
    from .config import GENERATED_KEY_FILE

    cfg = app.config
    key = str(cfg.get("SECRET_KEY") or "")
    given = bool(os.environ.get("SECRET_KEY") or os.environ.get("COMPOUND_SECRET_KEY"))
    if not given and cfg.get("SECRET_KEY_SOURCE") != "instance/config.py":
        return [
            "SECRET_KEY is not set: put it in the environment (SECRET_KEY) or in "
            "instance/config.py; all servers must share one."
        ]
    if len(key) < 32:
        return ["SECRET_KEY is shorter than 32 characters."]
    generated = Path(app.instance_path) / GENERATED_KEY_FILE
    try:
        is_generated = generated.is_file() and generated.read_text().strip() == key
    except OSError:
        is_generated = False
    lowered = key.lower()
    if is_generated or _patterned(key) or any(word in lowered for word in PLACEHOLDER_WORDS):
        return [
            "SECRET_KEY is a development, test or example key. Generate one: "
            "python3 -c 'import secrets; print(secrets.token_hex(32))'"
        ]
    return []


def warnings(app: Flask) -> list[str]:
    """Worth a look, but no reason to stop: the deployment may have chosen it."""
    found = []
    if str(app.config.get("SQLALCHEMY_DATABASE_URI", "")).startswith("sqlite"):
        found.append(
            "The database is SQLite: fine for one server with a few workers; use PostgreSQL "
            "(DATABASE_URL) for more, and back the file up (flask backup)."
        )
    return found


# At most this many password hashes are tried against the demo password (a tenth of a
# second each with the production argon2 parameters).
MAX_PASSWORD_CHECKS = 100


def _demo_accounts_open() -> list[str]:
    """Accounts that still sign in with the demo password the README prints.

    Whatever the demo made them: the ten story accounts (``flask demo``) or the sample
    accounts of the small and city datasets (``flask demo --scale …``), which share one
    hash. A password is tried hash by hash (accounts sharing a hash are tried once),
    those most likely the demo's first: the demo's mobiles; a hash shared by several
    accounts (argon2 salts every hash, so only a bulk load shares one); a password set
    without the app (``password_changed_at`` empty: activating and changing a password
    always set it); then the others while the budget lasts. Owners cannot choose the demo
    password (``auth/passwords.py``), so a budget spent on the first three is what counts:
    any of them left unchecked is a problem too.
    """
    from argon2 import PasswordHasher
    from argon2.exceptions import InvalidHashError, VerificationError

    from .auth.models import User
    from .demo.generate import DEMO_ACCOUNTS, DEMO_PASSWORD
    from .extensions import db

    try:
        if not inspect(db.engine).has_table(User.__tablename__):
            return []  # nothing migrated yet, so no accounts at all
        rows = db.session.execute(
            select(User.password_hash, User.mobile, User.password_changed_at)
            .where(User.password_hash.is_not(None), User.is_enabled.is_(True))
            .order_by(User.id)
        ).all()
    except SQLAlchemyError as err:
        return [
            f"The database could not be read to check for demo accounts ({type(err).__name__})."
        ]
    accounts: dict[str, list[str]] = {}
    unowned: set[str] = set()
    for password_hash, mobile, changed_at in rows:
        if password_hash is None:  # not selected; for the type checker
            continue
        accounts.setdefault(password_hash, []).append(mobile)
        if changed_at is None:
            unowned.add(password_hash)
    demo_mobiles = {a.mobile for a in DEMO_ACCOUNTS}

    def suspicion(password_hash: str) -> int:
        mobiles = accounts[password_hash]
        if demo_mobiles.intersection(mobiles):
            return 0
        if len(mobiles) > 1:
            return 1
        return 2 if password_hash in unowned else 3

    hashes = sorted(accounts, key=suspicion)  # stable: oldest account first within each
    hasher = PasswordHasher()
    open_: list[str] = []
    for password_hash in hashes[:MAX_PASSWORD_CHECKS]:
        try:
            hasher.verify(password_hash, DEMO_PASSWORD)
        except (VerificationError, InvalidHashError):
            continue
        open_.extend(accounts[password_hash])
    unchecked = sum(len(accounts[h]) for h in hashes[MAX_PASSWORD_CHECKS:] if suspicion(h) < 3)
    found = []
    if open_:
        shown = ", ".join(open_[:20]) + (f" and {len(open_) - 20} more" if len(open_) > 20 else "")
        found.append(
            f"Demo accounts still sign in with the published demo password: {shown}. "
            "Go live on a database without the demo data, or disable these accounts."
        )
    if unchecked:
        found.append(
            f"{unchecked} accounts have a password that was not set through the app (as the "
            f"demo data sets them) and were not checked against the demo password (at most "
            f"{MAX_PASSWORD_CHECKS} checks). Go live on a database without the demo data."
        )
    return found

"""Configuration layers: defaults here, then instance/config.py, then the environment."""

from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path
from typing import Any

from flask import Flask


class Defaults:
    ENV_NAME = "development"
    BABEL_DEFAULT_LOCALE = "zh_CN"
    BABEL_DEFAULT_TIMEZONE = "Asia/Shanghai"
    LANGUAGES = ("zh_CN", "en")
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = False
    SESSION_COOKIE_NAME = "compound_session"
    # A sign-in ends after this long however active it is, or after this long unused
    # (OWASP ASVS level 2: 12 hours, 30 minutes).
    SESSION_ABSOLUTE_LIFETIME = timedelta(hours=12)
    SESSION_IDLE_TIMEOUT = timedelta(minutes=30)
    WTF_CSRF_TIME_LIMIT = None  # tied to the session instead, which expires on its own
    # Six phone photos of a repair (each at most 6 MB, see uploads.py) fit in one request:
    # for the routes marked with security.accepts_uploads. Every other form gets far less,
    # and no text field more than MAX_FORM_MEMORY_SIZE.
    MAX_CONTENT_LENGTH = 40 * 1024 * 1024
    MAX_FORM_CONTENT_LENGTH = 64 * 1024
    MAX_FORM_MEMORY_SIZE = 64 * 1024
    SQLALCHEMY_ENGINE_OPTIONS: dict[str, Any] = {"pool_pre_ping": True}
    # argon2id parameters (RFC 9106 second recommended option, scaled to a small server).
    ARGON2_TIME_COST = 3
    ARGON2_MEMORY_COST = 65536
    ARGON2_PARALLELISM = 2
    # Failed sign-ins per account from one address, per account from all addresses, and
    # per address, in LOGIN_WINDOW: a stranger elsewhere cannot lock the owner out.
    LOGIN_MAX_FAILURES_PER_PAIR = 5
    LOGIN_MAX_FAILURES_PER_MOBILE = 50
    LOGIN_MAX_FAILURES_PER_IP = 30
    # Failed activations per invitation code (however typed), and per address (an IPv6
    # address's /64), in LOGIN_WINDOW. Per address it is wider: a household, or residents
    # helped on a community office's Wi-Fi, share one. Guessing stays hopeless: see the
    # README's "Limits" section for the numbers.
    CODE_MAX_FAILURES = 5
    CODE_MAX_FAILURES_PER_IP = 20
    LOGIN_WINDOW = timedelta(minutes=15)
    # Public links (the QR codes on posters): addresses (an IPv6 address's /64) that asked
    # for this many tokens matching no link within PUBLIC_MISS_WINDOW are answered 429
    # until the window has passed (public/service.py). A live token never counts.
    PUBLIC_MAX_MISSES_PER_IP = 20
    PUBLIC_MISS_WINDOW = timedelta(minutes=15)
    # An arrears notice's code opens its page for this many days from the first print;
    # after that it answers 404 and the next print makes a new code (public/service.py).
    PUBLIC_ARREARS_DAYS = 31
    INVITE_VALID_DAYS = 30
    # Signing in with a six-digit code sent by SMS (auth/codes.py). A code works for
    # LOGIN_CODE_LIFETIME and LOGIN_CODE_MAX_TRIES tries; a number gets one code per
    # LOGIN_CODE_RESEND and at most LOGIN_CODE_MAX_PER_MOBILE an hour, an address (an IPv6
    # address's /64) asks for at most LOGIN_CODE_MAX_PER_IP an hour, and at most
    # LOGIN_CODE_MAX_FAILURES_PER_IP wrong codes are typed from one address in LOGIN_WINDOW.
    LOGIN_CODE_LIFETIME = timedelta(minutes=5)
    LOGIN_CODE_MAX_TRIES = 5
    LOGIN_CODE_RESEND = timedelta(seconds=60)
    LOGIN_CODE_MAX_PER_MOBILE = 5
    LOGIN_CODE_MAX_PER_IP = 20
    LOGIN_CODE_MAX_FAILURES_PER_IP = 20
    # "Remember this phone": a resident's sign-in lasts this long, unused or not. Staff,
    # committee members and representatives keep the short sessions above.
    REMEMBER_LIFETIME = timedelta(days=30)
    PERMANENT_SESSION_LIFETIME = timedelta(days=30)
    PAGE_SIZE = 50
    # Seconds /healthz gives the database to answer before it says 503 (health.py).
    HEALTH_TIMEOUT = 2.0
    # Logging (logging_setup.py): "text" lines or "json" lines on stderr, from this level.
    LOG_FORMAT = "text"
    LOG_LEVEL = "INFO"
    # SMS (compound_app/messages): "dev" writes each SMS to the dev SMS box (a table shown
    # to staff); "aliyun" sends through Aliyun SMS (dysmsapi, RPC style, signature v1).
    SMS_BACKEND = "dev"
    SMS_ALIYUN_ENDPOINT = "https://dysmsapi.aliyuncs.com/"
    SMS_ALIYUN_ACCESS_KEY_ID = ""
    SMS_ALIYUN_ACCESS_KEY_SECRET = ""
    SMS_ALIYUN_SIGN_NAME = ""
    # Our template name (login_code, repair, bill, vote, notice, urgent, duty) → the
    # provider's approved template code (SMS_123456789). `urgent` carries every urgent
    # notice, to accounts and to roster residents without one alike.
    SMS_ALIYUN_TEMPLATES: dict[str, str] = {}
    SMS_TIMEOUT = 10.0  # seconds the provider has to answer one request
    SMS_MAX_TRIES = 5  # then the SMS is failed and shown to staff
    SMS_RETRY_SECONDS = 60  # the first retry's wait; doubled each time, at most an hour
    SMS_BATCH = 50  # rows one worker claims at a time
    # How long a claimed row is the worker's: longer than a batch of the dev backend, and
    # than one provider call (SMS_TIMEOUT) after its hand-off.
    SMS_LEASE_SECONDS = 120
    SMS_WORKER_SLEEP = 5.0  # seconds between batches when the outbox is empty
    # The SMS worker also escalates overdue problems and closes votes past their end date
    # this often (0: never; cron instead).
    PROBLEM_ESCALATE_SECONDS = 300
    # Quiet hours on the compounds' wall clock: non-urgent SMS wait until the end (07:00).
    # Urgent notices and sign-in codes go at once. Equal hours switch quiet hours off.
    SMS_QUIET_START = 22
    SMS_QUIET_END = 7
    SMS_DEV_DELAY = 0.0  # seconds the dev backend takes per SMS (to try a slow provider)
    # `flask messages remind`: households owing for this many days are reminded, monthly.
    ARREARS_REMIND_DAYS = 30
    VOTE_REMIND_DAYS = 3  # electors who have not voted, this many days before the close


GENERATED_KEY_FILE = "secret_key"


def _secret_key(instance_path: Path) -> str:
    """SECRET_KEY from the environment, else one generated once into instance/ (for
    development: each server would generate its own, and check-deploy refuses it)."""
    from_env = os.environ.get("SECRET_KEY")
    if from_env:
        return from_env
    key_file = instance_path / GENERATED_KEY_FILE
    if not key_file.exists():
        instance_path.mkdir(parents=True, exist_ok=True)
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_hex(32))
    return key_file.read_text().strip()


def database_url(instance_path: Path) -> str:
    url = os.environ.get("DATABASE_URL")
    if url:
        # Heroku-style URLs name the old driver; psycopg 3 is the one we ship.
        if url.startswith("postgres://"):
            url = "postgresql+psycopg://" + url.removeprefix("postgres://")
        elif url.startswith("postgresql://"):
            url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
        return url
    return f"sqlite:///{instance_path / 'compound.db'}"


def load_config(app: Flask, test_config: dict[str, Any] | None) -> None:
    app.config.from_object(Defaults)
    instance_path = Path(app.instance_path)
    # Where SECRET_KEY came from, for check-deploy: every server must be given the same.
    source = "given"
    if test_config is None:
        # By its full path: a relative name is looked up beside the package, where this
        # very module is called config.py too.
        app.config.from_pyfile(str(instance_path / "config.py"), silent=True)
        source = "instance/config.py" if app.config.get("SECRET_KEY") else ""
        app.config.from_prefixed_env("COMPOUND")
        if os.environ.get("COMPOUND_SECRET_KEY"):
            source = "COMPOUND_SECRET_KEY"
        env_name = os.environ.get("COMPOUND_ENV")
        if env_name:
            app.config["ENV_NAME"] = env_name
    else:
        app.config.update(test_config)
    if not app.config.get("SQLALCHEMY_DATABASE_URI"):
        app.config["SQLALCHEMY_DATABASE_URI"] = database_url(instance_path)
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = _secret_key(instance_path)
        source = "SECRET_KEY" if os.environ.get("SECRET_KEY") else "generated"
    app.config["SECRET_KEY_SOURCE"] = source
    if app.config["ENV_NAME"] == "production":
        app.config["SESSION_COOKIE_SECURE"] = True

"""Checks behind ``flask check-deploy``: settings that must hold before going live."""

from __future__ import annotations

import os

from flask import Flask


def problems(app: Flask) -> list[str]:
    cfg = app.config
    found = []
    if cfg["ENV_NAME"] != "production":
        found.append("COMPOUND_ENV is not 'production'.")
    if app.debug or os.environ.get("FLASK_DEBUG") in ("1", "true", "True"):
        found.append("Debug mode is on: it exposes code and allows remote execution.")
    if cfg.get("TESTING"):
        found.append("TESTING is on.")
    if not os.environ.get("SECRET_KEY"):
        found.append("SECRET_KEY is not set in the environment (all servers must share one).")
    elif len(cfg["SECRET_KEY"]) < 32:
        found.append("SECRET_KEY is shorter than 32 characters.")
    if not cfg.get("SESSION_COOKIE_SECURE"):
        found.append("SESSION_COOKIE_SECURE is off: the session cookie would travel without TLS.")
    if not cfg.get("SESSION_COOKIE_HTTPONLY"):
        found.append("SESSION_COOKIE_HTTPONLY is off.")
    if not cfg.get("WTF_CSRF_ENABLED", True):
        found.append("CSRF protection is disabled.")
    if cfg.get("ARGON2_MEMORY_COST", 0) < 19456 or cfg.get("ARGON2_TIME_COST", 0) < 2:
        found.append("Argon2 parameters are below the OWASP minimum (19 MiB, 2 passes).")
    return found

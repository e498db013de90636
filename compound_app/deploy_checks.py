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
    # COMPOUND_SECRET_KEY reaches the config through from_prefixed_env("COMPOUND").
    if not (os.environ.get("SECRET_KEY") or os.environ.get("COMPOUND_SECRET_KEY")):
        found.append("SECRET_KEY is not set in the environment (all servers must share one).")
    elif len(str(cfg.get("SECRET_KEY") or "")) < 32:
        found.append("SECRET_KEY is shorter than 32 characters.")
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
    if cfg.get("ARGON2_MEMORY_COST", 0) < 19456 or cfg.get("ARGON2_TIME_COST", 0) < 2:
        found.append("Argon2 parameters are below the OWASP minimum (19 MiB, 2 passes).")
    return found

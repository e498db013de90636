"""Logging, set up in one place: the app's messages and one line per request, on stderr.

Plain text by default; JSON lines (one object per line, for a log collector) with
``COMPOUND_LOG_FORMAT=json``. The level comes from ``COMPOUND_LOG_LEVEL`` (INFO).

A request's line holds its method, path (never the query string, which may carry a
code or token), status, duration in milliseconds, the signed-in user's id and a request
id — the proxy's ``X-Request-ID`` when the app sits behind one (``PROXY_HOPS``) and it
sends a sane one, else a new one — which is also sent back in the response's
``X-Request-ID``. Request bodies (passwords, names) are never logged.

Nothing a client sends can start a line of its own or pass for another field: control
characters (``\r``, ``\n``, the rest of C0 and C1, Unicode's line and paragraph
separators and the bidirectional overrides) are written as escapes in every message, in
both formats, and a space in a path as ``\x20``.
"""

from __future__ import annotations

import json
import logging
import logging.config
import re
import secrets
import time
import unicodedata
from datetime import UTC, datetime
from typing import Any

from flask import Flask, current_app, g, has_request_context, request
from werkzeug.wrappers import Response

LOGGER = "compound_app"
REQUEST_LOGGER = "compound_app.request"
HANDLER = "compound_app_stderr"
FORMATS = ("text", "json")
# What a request's line carries besides its message, in this order.
REQUEST_FIELDS = ("method", "path", "status", "duration_ms", "user_id", "request_id")
_SANE_ID = re.compile(r"[A-Za-z0-9._-]{1,64}\Z")
_NAMED = {"\r": "\\r", "\n": "\\n", "\t": "\\t"}
_BIDI = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def _escaped(ch: str) -> str:
    if ch in _NAMED:
        return _NAMED[ch]
    if ch in _BIDI or unicodedata.category(ch) in ("Cc", "Zl", "Zp"):
        code = ord(ch)
        return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"
    return ch


def printable(text: str) -> str:
    """``text`` on one line: control characters, line separators and bidirectional
    overrides written as escapes (``\\n``, ``\\x85``, ``\\u2028``). Escaping again changes
    nothing, as the escapes hold none of them."""
    if text.isprintable():  # the common case, quickly (a space is printable)
        return text
    return "".join(_escaped(ch) for ch in text)


class TextFormatter(logging.Formatter):
    """The plain-text line, its message on that one line whatever it holds."""

    def formatMessage(self, record: logging.LogRecord) -> str:
        record.message = printable(record.message)
        return super().formatMessage(record)


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (UTC), level, logger, message and the request fields."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            # json.dumps escapes C0 controls but writes C1 and U+2028 as they are.
            "message": printable(record.getMessage()),
        }
        for field in REQUEST_FIELDS:
            if hasattr(record, field):  # a request's line has them all (user_id may be null)
                value = getattr(record, field)
                entry[field] = printable(value) if isinstance(value, str) else value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


class _RequestIdFilter(logging.Filter):
    """Every message written while a request is served names that request."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "request_id", None) is None and has_request_context():
            record.request_id = g.get("request_id")
        return True


def configure_logging(app: Flask) -> None:
    """Configure the app's loggers from LOG_FORMAT and LOG_LEVEL (``dictConfig``)."""
    fmt = str(app.config.get("LOG_FORMAT") or "text").lower()
    if fmt not in FORMATS:
        raise ValueError(f"LOG_FORMAT must be one of {', '.join(FORMATS)}, not {fmt!r}")
    level = str(app.config.get("LOG_LEVEL") or "INFO").upper()
    logging.config.dictConfig(
        {
            "version": 1,
            # Other libraries' loggers (gunicorn's, SQLAlchemy's) keep their own settings.
            "disable_existing_loggers": False,
            "filters": {"request_id": {"()": _RequestIdFilter}},
            "formatters": {
                "text": {
                    "()": TextFormatter,
                    "fmt": "%(asctime)s %(levelname)s %(name)s: %(message)s",
                },
                "json": {"()": JsonFormatter},
            },
            "handlers": {
                HANDLER: {
                    "class": "logging.StreamHandler",
                    "stream": "ext://sys.stderr",
                    "formatter": fmt,
                    "filters": ["request_id"],
                }
            },
            # Our records still propagate: a root handler set up by the host (or pytest's
            # caplog) sees them too; gunicorn and flask run leave the root without one.
            "loggers": {LOGGER: {"level": level, "handlers": [HANDLER], "propagate": True}},
        }
    )
    # A migration run in this process (alembic's fileConfig) disables every logger its
    # ini file does not name, ours included; dictConfig re-enables only the one it names.
    for name, logger in logging.root.manager.loggerDict.items():
        if name.startswith(f"{LOGGER}.") and isinstance(logger, logging.Logger):
            logger.disabled = False


def _behind_proxy() -> bool:
    return int(current_app.config.get("PROXY_HOPS") or 0) > 0


def init_request_logging(app: Flask) -> None:
    """One line per request. Register before any hook that may answer early (sign-in)."""

    @app.before_request
    def _start() -> None:
        g.request_started = time.perf_counter()
        # Only a proxy in front (which sets it, replacing the client's) is believed:
        # without one, the header is whatever the client wants the log to say.
        given = request.headers.get("X-Request-ID", "") if _behind_proxy() else ""
        g.request_id = given if _SANE_ID.match(given) else secrets.token_hex(8)

    @app.after_request
    def _log(response: Response) -> Response:
        started = g.get("request_started")
        duration_ms = round((time.perf_counter() - started) * 1000, 1) if started else None
        request_id = g.get("request_id") or secrets.token_hex(8)
        response.headers["X-Request-ID"] = request_id
        # The user as already loaded by this request: logging never queries for it.
        user = g.get("_login_user")
        user_id = user.id if user is not None and user.is_authenticated else None
        fields = {
            "method": printable(request.method),
            # A space would let a path pass for the fields after it in the text line.
            "path": printable(request.path).replace(" ", "\\x20"),
            "status": response.status_code,
            "duration_ms": duration_ms,
            "user_id": user_id,
            "request_id": request_id,
        }
        logging.getLogger(REQUEST_LOGGER).info(
            "%s %s %s %sms user=%s request=%s",
            *(fields[name] if fields[name] is not None else "-" for name in REQUEST_FIELDS),
            extra=fields,
        )
        return response

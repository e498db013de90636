"""Response headers and error pages that every response gets, and request body limits."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, TypeVar, overload

from flask import Flask, Response, current_app, request
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import IntegrityError
from werkzeug.exceptions import HTTPException

CSP = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
        "object-src 'none'",
    ]
)


def _headers(response: Response) -> Response:
    h = response.headers
    h.setdefault("Content-Security-Policy", CSP)
    h.setdefault("X-Content-Type-Options", "nosniff")
    h.setdefault("Referrer-Policy", "same-origin")
    h.setdefault("X-Frame-Options", "DENY")
    h.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
    h.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    if current_app.config.get("SESSION_COOKIE_SECURE"):
        # Production runs behind TLS only (check-deploy insists): browsers must not try http.
        h.setdefault("Strict-Transport-Security", "max-age=31536000")
    if request.path.startswith("/static/"):
        return response
    if current_user.is_authenticated or request.method != "GET":
        # Pages with people's data must not linger in shared caches or the back/forward cache.
        h["Cache-Control"] = "no-store"
    return response


# --- request bodies ----------------------------------------------------------------------
#
# A plain form is a few kilobytes; only the routes that take photos or a spreadsheet need
# more. Every request's body is limited before anything reads it (the CSRF check parses
# the form first of all): MAX_FORM_CONTENT_LENGTH for plain forms, MAX_CONTENT_LENGTH for
# the routes marked with ``accepts_uploads``. Over the limit the answer is 413.

F = TypeVar("F", bound=Callable[..., Any])
_UPLOADS = "accepts_uploads"
# A text field of a multipart upload: Werkzeug's parser buffers 64 KB reads against this
# limit, so it must stay well above that (its own default).
UPLOAD_FIELD_BYTES = 500_000


@overload
def accepts_uploads(view: F) -> F: ...
@overload
def accepts_uploads(*, field_bytes: int) -> Callable[[F], F]: ...
def accepts_uploads(view: Any = None, *, field_bytes: int | None = None) -> Any:
    """Mark a view whose form sends files: its body may reach MAX_CONTENT_LENGTH.

    ``field_bytes`` raises the limit on one text field (MAX_FORM_MEMORY_SIZE), for a
    view that is sent back a large value of its own making (the import preview's token).
    """

    def mark(fn: F) -> F:
        setattr(fn, _UPLOADS, field_bytes or 0)
        return fn

    return mark(view) if view is not None else mark


def upload_endpoints(app: Flask) -> set[str]:
    return {name for name, fn in app.view_functions.items() if hasattr(fn, _UPLOADS)}


def _limit_body() -> None:
    cfg = current_app.config
    view = current_app.view_functions.get(request.endpoint or "")
    field_bytes = getattr(view, _UPLOADS, None)
    if field_bytes is None:
        limits = [cfg.get("MAX_CONTENT_LENGTH"), cfg["MAX_FORM_CONTENT_LENGTH"]]
        request.max_content_length = min(n for n in limits if n is not None)
        request.max_form_memory_size = cfg["MAX_FORM_MEMORY_SIZE"]
    else:
        request.max_content_length = cfg.get("MAX_CONTENT_LENGTH")
        request.max_form_memory_size = max(field_bytes, UPLOAD_FIELD_BYTES)


def _error_page(code: int, *, title: str | None = None, message: str | None = None) -> Response:
    from .htmx import render

    return render("errors/error.html", code=code, title=title, message=message, status=code)


# SQLite's words for a refused row: the kind of constraint and the table.column names,
# never the values (those are only in the statement's parameters).
_SQLITE_CONSTRAINT = re.compile(
    r"(UNIQUE|CHECK|NOT NULL|FOREIGN KEY|PRIMARY KEY) constraint failed(?:: ([\w., ]+))?"
)


def integrity_detail(err: IntegrityError) -> str:
    """Which constraint refused the row, and on which table: never the row's values.

    The error's own text may hold them: PostgreSQL's says ``Key (mobile)=(138…)``, and
    SQLAlchemy's adds the statement's parameters (names, mobiles).
    """
    orig = err.orig
    diag = getattr(orig, "diag", None)
    if diag is not None:  # psycopg: the server names the constraint and the table
        names = {
            "constraint": getattr(diag, "constraint_name", None),
            "table": getattr(diag, "table_name", None),
            "sqlstate": getattr(orig, "sqlstate", None),
        }
        return " ".join(f"{key}={value}" for key, value in names.items() if value) or "unknown"
    found = _SQLITE_CONSTRAINT.match(str(orig))
    if found:
        return found.group(0)
    return type(orig).__name__


def _trust_proxies(app: Flask) -> None:
    """Take the client's address (and scheme) from the reverse proxies in front, if any.

    Behind nginx every request comes from 127.0.0.1: the login limit per address would
    then lock everybody out after a few people's typing slips, and audit rows would all
    name the proxy. PROXY_HOPS (COMPOUND_PROXY_HOPS) says how many proxies to believe;
    headers beyond that many, which a client can forge, are ignored.
    """
    hops = int(app.config.get("PROXY_HOPS") or 0)
    if hops > 0:
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)  # type: ignore[method-assign]


def init_security(app: Flask) -> None:
    _trust_proxies(app)
    # First of all: before the CSRF check (registered earlier) reads the form.
    app.before_request_funcs.setdefault(None, []).insert(0, _limit_body)
    app.after_request(_headers)

    @app.errorhandler(CSRFError)
    def csrf_error(_err: CSRFError) -> Response:
        return _error_page(400, title="csrf")

    @app.errorhandler(HTTPException)
    def http_error(err: HTTPException) -> Response | HTTPException:
        if err.code is None or err.code < 400:
            return err
        response = _error_page(err.code)
        if err.code == 405 and hasattr(err, "valid_methods") and err.valid_methods:
            response.headers["Allow"] = ", ".join(err.valid_methods)
        return response

    @app.errorhandler(IntegrityError)
    def conflict(err: IntegrityError) -> Response:
        # Two people saving the same thing at once: the database refused the second one.
        # The checks before saving catch everything else, so this is a race, not a bug.
        from .extensions import db

        db.session.rollback()
        app.logger.warning("integrity conflict: %s", integrity_detail(err))
        return _error_page(409)

    @app.errorhandler(Exception)
    def server_error(err: Exception) -> Response:
        app.logger.exception("unhandled error", exc_info=err)
        from .extensions import db

        db.session.rollback()
        return _error_page(500)

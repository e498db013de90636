"""``/healthz``: whether this server can answer, for load balancers and container checks.

No sign-in, no session, no page: one cheap query, and a tiny JSON body.
"""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.wrappers import Response

from .extensions import csrf, db

bp = Blueprint("health", __name__)
csrf.exempt(bp)


@bp.get("/healthz")
def healthz() -> tuple[Response, int]:
    try:
        db.session.execute(text("SELECT 1"))
    except (SQLAlchemyError, OSError) as err:
        db.session.rollback()
        current_app.logger.warning("health check: the database does not answer: %s", err)
        status, body = 503, {"status": "unavailable"}
    else:
        db.session.rollback()
        status, body = 200, {"status": "ok"}
    response = jsonify(body)
    response.headers["Cache-Control"] = "no-store"
    return response, status

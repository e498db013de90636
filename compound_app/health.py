"""``/healthz``: whether this server can answer, for load balancers and container checks.

No sign-in, no session, no page: one cheap query, and a tiny JSON body.

The query has HEALTH_TIMEOUT seconds (2) to answer, or the probe says 503: a database
that hangs must not hang the probe, which is how the load balancer learns of it. The
query runs on a connection of its own (not one of the pool's), opened with a connect
and statement timeout where the driver has them (PostgreSQL), and in a thread that the
request waits for no longer than the timeout, which also covers a server that stops
answering mid-query. At most a few such threads wait on a hung database at once; beyond
that the probe answers 503 without starting another.
"""

from __future__ import annotations

import math
import threading
from typing import Any

from flask import Blueprint, Flask, current_app, jsonify
from sqlalchemy import create_engine, make_url, text
from sqlalchemy.engine import URL, Engine
from sqlalchemy.pool import NullPool
from werkzeug.wrappers import Response

from .extensions import csrf

bp = Blueprint("health", __name__)
csrf.exempt(bp)

ENGINE_KEY = "compound_app.health_engine"
# Checks still waiting on a database that does not answer, per process.
MAX_WAITING = 4
_waiting = threading.BoundedSemaphore(MAX_WAITING)


def connect_args(url: URL, timeout: float) -> dict[str, Any]:
    """Driver options that bound connecting and the statement to ``timeout`` seconds."""
    backend = url.get_backend_name()
    if backend == "postgresql":
        return {
            "connect_timeout": max(1, math.ceil(timeout)),  # libpq: whole seconds, at least 1
            "options": f"-c statement_timeout={max(1, round(timeout * 1000))}",
        }
    if backend == "sqlite":
        return {"timeout": timeout}  # waiting for a lock
    return {}


def _engine(app: Flask) -> Engine:
    engine = app.extensions.get(ENGINE_KEY)
    if engine is None:
        url = make_url(app.config["SQLALCHEMY_DATABASE_URI"])
        timeout = float(app.config["HEALTH_TIMEOUT"])
        engine = create_engine(url, poolclass=NullPool, connect_args=connect_args(url, timeout))
        app.extensions[ENGINE_KEY] = engine
    return engine


def _ask(engine: Engine) -> None:
    with engine.connect() as conn:
        conn.execute(text("SELECT 1"))


def database_answers(app: Flask) -> tuple[bool, str]:
    """Whether the database answers ``SELECT 1`` within HEALTH_TIMEOUT, and if not, why."""
    if not _waiting.acquire(blocking=False):
        return False, f"{MAX_WAITING} earlier checks are still waiting for it"
    timeout = float(app.config["HEALTH_TIMEOUT"])
    engine = _engine(app)
    done = threading.Event()
    failure: list[BaseException] = []

    def run() -> None:
        try:
            _ask(engine)
        except Exception as err:  # whatever the driver raises: the database is not there
            failure.append(err)
        finally:
            done.set()
            _waiting.release()

    threading.Thread(target=run, name="healthz", daemon=True).start()
    if not done.wait(timeout):
        return False, f"no answer within {timeout:g} s"
    if failure:
        return False, f"{type(failure[0]).__name__}: {failure[0]}"
    return True, ""


@bp.get("/healthz")
def healthz() -> tuple[Response, int]:
    ok, why = database_answers(current_app._get_current_object())  # type: ignore[attr-defined]
    if ok:
        status, body = 200, {"status": "ok"}
    else:
        current_app.logger.warning("health check: the database does not answer: %s", why)
        status, body = 503, {"status": "unavailable"}
    response = jsonify(body)
    response.headers["Cache-Control"] = "no-store"
    return response, status

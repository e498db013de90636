"""Engine set-up: durable SQLite settings, IMMEDIATE write transactions."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import partial
from typing import Any

from flask import Flask, has_request_context, request
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine

from .extensions import db

READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_write_intent: ContextVar[bool | None] = ContextVar("write_intent", default=None)


@contextmanager
def writing() -> Iterator[None]:
    """Mark work outside a request (CLI jobs) as writing, so its transactions lock up front."""
    token = _write_intent.set(True)
    try:
        yield
    finally:
        _write_intent.reset(token)


# FULL: a commit is on disk before it is acknowledged, and survives a power cut (money is
# never acknowledged and then lost). The test suite, which needs no durability, sets OFF.
SYNCHRONOUS = ("FULL", "OFF")


def _on_connect(dbapi_connection: Any, _record: Any, synchronous: str = "FULL") -> None:
    if not isinstance(dbapi_connection, sqlite3.Connection):
        return
    # Take over transaction control from pysqlite so BEGIN can be IMMEDIATE (below).
    dbapi_connection.isolation_level = None
    cur = dbapi_connection.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute(f"PRAGMA synchronous={synchronous}")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=8000")
    cur.close()


def writes_now() -> bool:
    """Whether transactions begun now are writers (a POST, or a job inside ``writing()``)."""
    intent = _write_intent.get()
    if intent is None:
        intent = has_request_context() and request.method not in READ_METHODS
    return intent


def _on_begin(conn: Connection) -> None:
    # A deferred transaction that later writes can fail with SQLITE_BUSY without waiting
    # for busy_timeout; IMMEDIATE takes the write lock up front. Requests that change
    # something (POST…) and jobs inside ``writing()`` are the writers; pages that only
    # read (GET) and read-only scripts stay deferred, so readers never queue.
    conn.exec_driver_sql("BEGIN IMMEDIATE" if writes_now() else "BEGIN")


def configure_engine(app: Flask) -> None:
    with app.app_context():
        engine: Engine = db.engine
        if engine.dialect.name == "sqlite":
            synchronous = app.config.get("SQLITE_SYNCHRONOUS", "FULL")
            if synchronous not in SYNCHRONOUS:
                raise ValueError(f"SQLITE_SYNCHRONOUS must be one of {SYNCHRONOUS}")
            event.listen(engine, "connect", partial(_on_connect, synchronous=synchronous))
            event.listen(engine, "begin", _on_begin)


def sqlite_pragmas(engine: Engine) -> dict[str, Any]:
    """The effective settings of a fresh connection (used by tests and check-deploy)."""
    with engine.connect() as conn:
        return {
            name: conn.exec_driver_sql(f"PRAGMA {name}").scalar()
            for name in ("journal_mode", "synchronous", "foreign_keys", "busy_timeout")
        }

"""Append-only tables: rows written once and never changed or deleted.

The fee ledger, a repair task's timeline, cast ballots and the audit trail are records:
a correction is a new row, never a rewrite. Each is guarded twice:

- in the app, ``append_only(Model, ..., error=AreaError)`` makes every session refuse to
  flush a change or deletion of such an object, and to run an ``update()`` or
  ``delete()`` statement on its table;
- in the database, ``create_triggers`` (called from a migration) makes UPDATE and DELETE
  fail whoever sends them: raw SQL, a console, another program.

On SQLite a table that a migration rebuilds (``batch_alter_table`` copies it and drops
the old one) loses its triggers with it: create them again in that migration.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import ORMExecuteState, Session

_refused: dict[type, type[Exception]] = {}
_refused_tables: dict[str, tuple[str, type[Exception]]] = {}


def append_only(*models: type, error: type[Exception]) -> None:
    """Refuse, in every session, to change or delete rows of ``models``: ``error`` says so."""
    for model in models:
        _refused[model] = error
        _refused_tables[model.__table__.name] = (model.__name__, error)  # type: ignore[attr-defined]
    if not event.contains(Session, "before_flush", _refuse_changes):
        event.listen(Session, "before_flush", _refuse_changes)
        event.listen(Session, "do_orm_execute", _refuse_statements)


def guarded() -> dict[type, type[Exception]]:
    """Every append-only model, with the error its area raises."""
    return dict(_refused)


def _error_for(cls: type) -> type[Exception] | None:
    for klass in cls.__mro__:
        if klass in _refused:
            return _refused[klass]
    return None


def _refuse_changes(session: Session, _context: Any, _instances: Any) -> None:
    for obj in session.dirty:
        error = _error_for(type(obj))
        if error and session.is_modified(obj, include_collections=False):
            raise error(f"{type(obj).__name__} rows are never changed")
    for obj in session.deleted:
        error = _error_for(type(obj))
        if error:
            raise error(f"{type(obj).__name__} rows are never deleted")


def _refuse_statements(state: ORMExecuteState) -> None:
    # update(Model) / delete(Model) (and their Core table forms) never reach a flush.
    if not (state.is_update or state.is_delete):
        return
    verb = "changed" if state.is_update else "deleted"
    for mapper in state.all_mappers:
        error = _error_for(mapper.class_)
        if error:
            raise error(f"{mapper.class_.__name__} rows are never {verb}")
    table = getattr(getattr(state.statement, "table", None), "name", None)
    if table in _refused_tables:
        name, error = _refused_tables[table]
        raise error(f"{name} rows are never {verb}")


# --- database triggers, for migrations ---------------------------------------------------

_NAME = re.compile(r"[a-z_][a-z0-9_]*\Z")


def _checked(names: Sequence[str], what: str) -> None:
    for name in names:
        if not _NAME.match(name):
            raise ValueError(f"not a plain table or function name: {name!r}")
    if "'" in what or "%" in what:
        raise ValueError(f"no quotes or percent signs in the message: {what!r}")


def create_triggers(name: str, tables: Sequence[str], what: str) -> None:
    """In a migration: make the database refuse UPDATE and DELETE on ``tables``.

    PostgreSQL gets one function ``<name>_append_only()`` and a trigger
    ``<table>_append_only`` per table; SQLite gets ``<table>_no_update`` and
    ``<table>_no_delete``. The error says "<what> are append-only".
    """
    from alembic import op

    _checked([name, *tables], what)
    message = f"{what} are append-only"
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            f"CREATE FUNCTION {name}_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ "
            f"BEGIN RAISE EXCEPTION '{message}: % on %', TG_OP, TG_TABLE_NAME "
            "USING ERRCODE = 'restrict_violation'; END $$"
        )
        for table in tables:
            op.execute(
                f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                f"FOR EACH ROW EXECUTE FUNCTION {name}_append_only()"
            )
        return
    for table in tables:
        for verb in ("update", "delete"):
            op.execute(
                f"CREATE TRIGGER {table}_no_{verb} BEFORE {verb.upper()} ON {table} "
                f"BEGIN SELECT RAISE(ABORT, '{message}: {verb} on {table}'); END"
            )


def drop_triggers(name: str, tables: Sequence[str]) -> None:
    """In a migration's downgrade: remove what ``create_triggers`` made."""
    from alembic import op

    _checked([name, *tables], "")
    if op.get_bind().dialect.name == "postgresql":
        for table in tables:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
        op.execute(f"DROP FUNCTION IF EXISTS {name}_append_only()")
        return
    for table in tables:
        for verb in ("update", "delete"):
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_{verb}")

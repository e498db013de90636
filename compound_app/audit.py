"""Audit trail: who changed what, before and after, in the same transaction as the change."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import date, datetime
from typing import Any

from flask import has_request_context, request
from flask_login import current_user
from sqlalchemy import JSON, ForeignKey, String, inspect
from sqlalchemy.orm import Mapped, mapped_column

from . import clock
from .appendonly import append_only
from .dbtypes import UTCDateTime
from .extensions import Model, db

# Never copied into the audit trail.
SECRET_FIELDS = frozenset({"password_hash", "token_hash", "code_hash", "token"})


class AuditLog(Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now, index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"), index=True)
    action: Mapped[str] = mapped_column(String(40))
    entity: Mapped[str] = mapped_column(String(40))
    entity_id: Mapped[int | None]
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    ip: Mapped[str] = mapped_column(String(45), default="")


class AuditChangeRefused(RuntimeError):
    """An audit row was about to be changed or deleted: the trail is only ever added to."""


append_only(AuditLog, error=AuditChangeRefused)


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def snapshot(obj: Any) -> dict[str, Any]:
    """The column values of a mapped object, secrets left out."""
    mapper = inspect(obj).mapper
    return {
        attr.key: _plain(getattr(obj, attr.key))
        for attr in mapper.column_attrs
        if attr.key not in SECRET_FIELDS
    }


_acting: ContextVar[int | None] = ContextVar("audit_actor", default=None)


@contextmanager
def acting_as(user_id: int) -> Iterator[None]:
    """Name ``user_id`` as the actor of what is recorded inside, for changes someone makes
    before they are signed in (setting up their own account with a code)."""
    token = _acting.set(user_id)
    try:
        yield
    finally:
        _acting.reset(token)


def record(
    action: str,
    obj: Any,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    *,
    actor_id: int | None = None,
) -> AuditLog:
    """Add an audit row to the current session; it commits (or not) with the change."""
    if actor_id is None:
        actor_id = _acting.get()
    if actor_id is None and has_request_context() and current_user.is_authenticated:
        actor_id = current_user.id
    if obj is not None and getattr(obj, "id", None) is None and obj not in db.session.deleted:
        db.session.flush()
    deleted = obj is not None and (obj in db.session.deleted or inspect(obj).was_deleted)
    if obj is not None and after is None and not deleted:
        if inspect(obj).modified:
            # A foreign key set through a relationship (compound.area = area) reaches its
            # column only at flush: without this, "after" would show the old value.
            db.session.flush()
        after = snapshot(obj)
    entry = AuditLog(
        user_id=actor_id,
        action=action,
        entity=obj.__tablename__ if obj is not None else "",
        entity_id=getattr(obj, "id", None),
        before=before,
        after=after,
        ip=(request.remote_addr or "")[:45] if has_request_context() else "",
    )
    db.session.add(entry)
    return entry

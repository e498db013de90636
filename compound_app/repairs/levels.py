"""Service levels: how many days a repair may take, and when a task is late.

The subdistrict sets target days per category (``RepairTarget``, falling back to
``DEFAULT_TARGET_DAYS``); an urgent task gets half of them. A task's due date follows
from its report (or its reopening), and it is overdue while the work is still awaited
after that day. The workflow and the lists both ask here; nothing here asks them.
"""

from __future__ import annotations

import math
from datetime import date, timedelta

from sqlalchemy import select

from .. import audit, clock
from ..extensions import db
from ..registry.models import Community, Compound, Subdistrict
from .models import DEFAULT_TARGET_DAYS, Category, Priority, RepairTarget, RepairTask, Status


def target_days(subdistrict_id: int) -> dict[str, int]:
    days = dict(DEFAULT_TARGET_DAYS)
    rows = db.session.scalars(
        select(RepairTarget).where(RepairTarget.subdistrict_id == subdistrict_id)
    )
    days.update({row.category: row.days for row in rows})
    return days


def set_target_days(subdistrict_id: int, days: dict[str, int]) -> None:
    before = target_days(subdistrict_id)
    for category, value in days.items():
        row = db.session.get(RepairTarget, (subdistrict_id, category))
        if row is None:
            db.session.add(
                RepairTarget(subdistrict_id=subdistrict_id, category=category, days=value)
            )
        else:
            row.days = value
    db.session.flush()
    audit.record(
        "repair_targets",
        db.session.get(Subdistrict, subdistrict_id),
        before=before,
        after=target_days(subdistrict_id),
    )


def allowed_days(category: str, priority: str, days: dict[str, int]) -> int:
    """Urgent tasks get half the category's time, at least a day."""
    base = days.get(category, DEFAULT_TARGET_DAYS[Category.OTHER])
    return max(1, math.ceil(base / 2)) if priority == Priority.URGENT else base


def subdistrict_of(compound: Compound) -> int:
    return db.session.execute(
        select(Community.subdistrict_id).where(Community.id == compound.community_id)
    ).scalar_one()


def due_date(task: RepairTask, compound: Compound) -> date:
    """The day a newly reported task is due, by its category and urgency."""
    days = allowed_days(task.category, task.priority, target_days(subdistrict_of(compound)))
    return clock.local_date(task.reported_at) + timedelta(days=days)


def is_overdue(task: RepairTask, today: date | None = None) -> bool:
    """Late and still waiting for the work (a task awaiting the reporter's check is not)."""
    today = today or clock.today()
    return task.status in (Status.REPORTED, Status.ASSIGNED, Status.IN_PROGRESS) and (
        task.due_on < today
    )

"""Common-part income on the finance board: the month by kind and the year to date."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import func, select

from ..extensions import db
from ..months import month_of
from .models import CommonIncomeMonth


def board_section(area_id: int, month: date) -> dict[str, Any]:
    """The board's 公共收益 section, from the kept monthly totals (frozen when published)."""
    month = month_of(month)
    this = db.session.execute(
        select(CommonIncomeMonth.kind, CommonIncomeMonth.amount_fen)
        .where(CommonIncomeMonth.area_id == area_id, CommonIncomeMonth.month == month)
        .order_by(CommonIncomeMonth.kind)
    ).all()
    year = db.session.execute(
        select(CommonIncomeMonth.kind, func.sum(CommonIncomeMonth.amount_fen))
        .where(
            CommonIncomeMonth.area_id == area_id,
            CommonIncomeMonth.month >= month.replace(month=1),
            CommonIncomeMonth.month <= month,
        )
        .group_by(CommonIncomeMonth.kind)
        .order_by(CommonIncomeMonth.kind)
    ).all()
    in_month = {kind: int(amount) for kind, amount in this}
    return {
        # Each kind received this year: the month's amount and the year's so far.
        "kinds": [
            {"kind": kind, "month": in_month.get(kind, 0), "year": int(amount)}
            for kind, amount in year
            if amount or in_month.get(kind)
        ],
        "total": sum(in_month.values()),
        "year_total": sum(int(amount) for _kind, amount in year),
        "year": month.year,
    }

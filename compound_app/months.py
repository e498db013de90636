"""Month arithmetic on dates that stand for a whole month (the 1st of it)."""

from __future__ import annotations

from datetime import date


def month_of(d: date) -> date:
    """The month ``d`` falls in, as its first day."""
    return d.replace(day=1)


def add_months(d: date, n: int) -> date:
    """The first day of the month ``n`` months after ``d``'s (before it when negative)."""
    index = d.year * 12 + d.month - 1 + n
    return date(index // 12, index % 12 + 1, 1)


def months_between(a: date, b: date) -> int:
    """Whole months from ``a``'s month to ``b``'s month."""
    return (b.year - a.year) * 12 + b.month - a.month


def this_month() -> date:
    """The month that is running where the compounds are."""
    from . import clock

    return month_of(clock.today())


def month_name(d: date) -> str:
    """A month as people write it: 2026年11月 in Chinese, 2026-11 in English."""
    from flask_babel import get_locale

    locale = str(get_locale() or "zh_CN")
    return f"{d.year}年{d.month}月" if locale.startswith("zh") else f"{d:%Y-%m}"

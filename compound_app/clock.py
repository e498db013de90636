"""The one clock: the moment now, in UTC for storage and in Asia/Shanghai for people.

Everything that asks "what time is it" or "which day is it where the compounds are" asks
here. Tests move this clock (``time-machine``) instead of depending on the real date.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

LOCAL_TZ_NAME = "Asia/Shanghai"
LOCAL_TZ = ZoneInfo(LOCAL_TZ_NAME)

# Set only while a story is told at moments of its own (the demo's half year of repairs).
_source: ContextVar[Callable[[], datetime] | None] = ContextVar("clock_source", default=None)


def now() -> datetime:
    """The current moment, timezone-aware UTC (what the database stores)."""
    source = _source.get()
    return source().astimezone(UTC) if source is not None else datetime.now(UTC)


@contextmanager
def following(source: Callable[[], datetime]) -> Iterator[None]:
    """Inside the block, ``now()`` answers what ``source`` says (aware datetimes only).

    It holds for this thread of work alone: a server's other requests keep the real time.
    """
    token = _source.set(source)
    try:
        yield
    finally:
        _source.reset(token)


def held_at(moment: datetime) -> Any:
    """Inside the block, ``now()`` answers ``moment``."""
    if moment.tzinfo is None:
        raise ValueError("a held moment must be timezone-aware")
    return following(lambda: moment)


def local_now() -> datetime:
    """The current moment on the compounds' wall clocks."""
    return now().astimezone(LOCAL_TZ)


def today() -> date:
    """Today's date where the compounds are, whatever the server's own time zone."""
    return local_now().date()


def local(moment: datetime) -> datetime:
    """A stored (UTC) moment on the compounds' wall clocks."""
    return moment.astimezone(LOCAL_TZ)


def local_date(moment: datetime) -> date:
    """The compounds' calendar day of a stored moment."""
    return local(moment).date()


def start_of_day(day: date) -> datetime:
    """The UTC moment the compounds' calendar day ``day`` begins."""
    return datetime.combine(day, time.min, tzinfo=LOCAL_TZ).astimezone(UTC)

"""The life of a demo repair task, shared by the story and the benchmark datasets.

``plan_life`` plans, once, every step a task takes after its report (assigned, started,
done, checked, rated, perhaps rejected, sent back or reopened), each at its moment, as
a compound of a given ``Profile`` tends to handle its repairs. The story plays these
steps through the services (``repair_story``); the benchmark writes them as rows
(``repair_bench``). Which categories the residents report under each management model,
and at which hours of the day, are here too.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from .. import clock
from ..registry.models import ManagementModel, PilotStage
from ..repairs.levels import allowed_days
from ..repairs.models import DEFAULT_TARGET_DAYS, Category
from . import repair_texts as texts


@dataclass(frozen=True)
class Profile:
    """How a compound's repairs tend to go."""

    in_target: float  # share of the work finished within the target days
    answer: float  # share of reporters who check the work themselves
    rate: float  # share of checked work the reporter rates
    reject: float
    stuck: float  # share that waits far beyond its target (funds, a contractor, the weather)
    reopen: float = 0.03
    send_back: float = 0.04


PROFILES = {
    # The self-governing ones finish on time and hear back from every reporter.
    PilotStage.SELF_GOVERNING: Profile(1.0, 1.0, 0.7, 0.04, 0.0, 0.01, 0.0),
    PilotStage.FEES_STARTED: Profile(0.8, 0.85, 0.55, 0.06, 0.06),
    PilotStage.ORGANISED: Profile(0.65, 0.8, 0.45, 0.07, 0.12),
}
BENCH_PROFILE = Profile(0.85, 0.85, 0.6, 0.05, 0.04)


@dataclass(frozen=True)
class Step:
    move: str  # "assign", "rate", or the name of one of ``workflow.MOVES``
    at: datetime
    note: str = ""
    rating: int = 0


def hours(n: float) -> timedelta:
    """``n`` hours, as the steps of a life are spaced."""
    return timedelta(hours=n)


def plan_life(
    rng: random.Random,
    category: str,
    priority: str,
    reported_at: datetime,
    profile: Profile,
    *,
    own: bool,
    home: bool = False,
) -> list[Step]:
    """The steps of one task after its report, each at its moment.

    ``own``: the committee reported it itself, so it closes the work without anybody's
    check; otherwise the reporter confirms (or, silent for a week, the committee closes).
    """
    target_h = 24 * allowed_days(category, priority, DEFAULT_TARGET_DAYS)
    steps: list[Step] = []
    t = reported_at
    for round_ in range(3):  # a task is reopened at most twice
        if round_ == 0 and not own and rng.random() < profile.reject * (4 if home else 1):
            if rng.random() < 0.3:
                t += hours(rng.uniform(1, 20))
                steps.append(Step("assign", t))
            t += hours(rng.uniform(2, 40))
            steps.append(Step("reject", t, texts.REJECT_HOME if home else rng.choice(texts.REJECT)))
            if rng.random() >= 0.2:
                return steps
            t += hours(rng.uniform(10, 140))
            steps.append(Step("reopen", t, rng.choice(texts.REOPEN)))
            continue
        answered = own or rng.random() < profile.answer
        if rng.random() < profile.in_target:
            span = target_h * rng.uniform(0.15, 0.8)
        else:
            span = target_h * rng.uniform(1.15, 2.6)
        if rng.random() < profile.stuck:
            span = target_h * rng.uniform(3, 6) + rng.uniform(240, 1200)
        span = max(span, 3.0)
        if answered:
            finish = t + hours(span)
            done = finish - hours(rng.uniform(0.5, min(36, span * 0.35)))
        else:
            done = t + hours(span * rng.uniform(0.3, 0.8))
            finish = done + timedelta(days=7) + hours(rng.uniform(2, 60))
        start = t + (done - t) * rng.uniform(0.25, 0.7)
        assign = t + (start - t) * rng.uniform(0.1, 0.7)
        steps += [Step("assign", assign), Step("start", start)]
        if answered and not own and rng.random() < profile.send_back:
            steps.append(Step("done", done, rng.choice(texts.DONE[category])))
            back = done + hours(rng.uniform(2, 24))
            steps.append(Step("send_back", back, rng.choice(texts.SEND_BACK)))
            done = back + hours(rng.uniform(4, 48))
            finish = max(finish, done + hours(rng.uniform(1, 24)))
        steps.append(Step("done", done, rng.choice(texts.DONE[category])))
        if own:
            steps.append(Step("close", finish, rng.choice(texts.CLOSE_OWN)))
        elif answered:
            steps.append(Step("confirm", finish))
        else:
            steps.append(Step("close", finish, rng.choice(texts.CLOSE_UNANSWERED)))
        if not own and answered and rng.random() < profile.reopen:
            t = finish + hours(rng.uniform(12, 150))
            steps.append(Step("reopen", t, rng.choice(texts.REOPEN)))
            continue
        if not own and answered and rng.random() < profile.rate:
            late = finish - reported_at > hours(target_h)
            rating = rng.choice((3, 4, 4, 2) if late else (5, 5, 5, 4, 4, 3))
            steps.append(
                Step(
                    "rate",
                    finish + hours(rng.uniform(0.1, 40)),
                    rng.choice(texts.RATING[rating]),
                    rating,
                )
            )
        return steps
    return steps


def moment(rng: random.Random, day: date) -> datetime:
    """A moment of a day in Shanghai between 7:00 and 21:00, in UTC."""
    local = datetime.combine(day, time(7), tzinfo=clock.LOCAL_TZ) + hours(rng.uniform(0, 14))
    return local.astimezone(UTC)


def noon(day: date) -> datetime:
    """Noon of a day in Shanghai, in UTC."""
    return datetime.combine(day, time(12), tzinfo=clock.LOCAL_TZ).astimezone(UTC)


def describe(rng: random.Random, template: str, building: str, unit: str) -> str:
    """A report's text from one of ``repair_texts``' templates: its building, unit, a number."""
    return template.format(b=building, u=unit, n=rng.randrange(1, 12))


# How often each category is reported, by how the compound is managed.
CATEGORY_WEIGHTS: dict[str, dict[str, int]] = {
    ManagementModel.PARTY_BRANCH: {
        Category.CLEANING: 4,
        Category.SEPTIC: 2,
        Category.STREET_LIGHT: 3,
        Category.SEWER: 3,
        Category.PLUMBING: 2,
        Category.ELECTRICAL: 2,
        Category.BUILDING_DOOR: 1,
        Category.CAMERA: 1,
        Category.OTHER: 1,
    },
    ManagementModel.CONTIGUOUS: {
        Category.CLEANING: 3,
        Category.SEPTIC: 1,
        Category.STREET_LIGHT: 2,
        Category.SEWER: 2,
        Category.PLUMBING: 2,
        Category.ELECTRICAL: 2,
        Category.BUILDING_DOOR: 1,
        Category.CAMERA: 1,
        Category.PARKING: 1,
        Category.OTHER: 1,
    },
    ManagementModel.TRUSTEESHIP: {
        Category.ROAD: 2,
        Category.BUILDING_DOOR: 2,
        Category.PARKING: 2,
        Category.SEWER: 2,
        Category.STREET_LIGHT: 2,
        Category.CLEANING: 2,
        Category.PLUMBING: 1,
        Category.ELECTRICAL: 1,
        Category.CAMERA: 1,
        Category.OTHER: 1,
    },
}
# The categories a reporter may mark urgent.
URGENT_CAN = (Category.SEWER, Category.SEPTIC, Category.ELECTRICAL, Category.PLUMBING)

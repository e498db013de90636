"""The dashboard's figures: headline, per community, per model, and the table of pilots."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from statistics import mean

from sqlalchemy import select

from .. import access
from ..committees.service import areas_off_rules
from ..extensions import db
from ..registry.models import Community, Compound, Pilot
from .checklist import fee_exception, settings_for, verdicts
from .facts import Facts, gather, window
from .models import OversightSettings

SORTS = ("name", "community", "model", "stage", "rate", "open", "checks", "households")


@dataclass
class Row:
    facts: Facts
    checks: dict[str, bool]  # rule → passed

    @property
    def passed(self) -> int:
        return sum(self.checks.values())

    @property
    def passes(self) -> bool:
        return all(self.checks.values())


@dataclass
class Summary:
    """Figures over a group of pilots; areas shared by several pilots count once."""

    pilots: int = 0
    self_governing: int = 0
    passing: int = 0
    households: int = 0
    billed_fen: int = 0
    collected_fen: int = 0
    open_repairs: int = 0
    overdue_repairs: int = 0
    facilities: dict[str, int] = field(default_factory=dict)
    rates: list[float] = field(default_factory=list)
    in_target: list[float] = field(default_factory=list)
    coverage: list[float] = field(default_factory=list)

    @property
    def rate(self) -> float | None:
        return None if not self.billed_fen else 100 * self.collected_fen / self.billed_fen

    @property
    def mean_rate(self) -> float | None:
        return mean(self.rates) if self.rates else None

    @property
    def mean_in_target(self) -> float | None:
        return mean(self.in_target) if self.in_target else None

    @property
    def mean_coverage(self) -> float | None:
        return mean(self.coverage) if self.coverage else None

    @property
    def open_per_100(self) -> float | None:
        return None if not self.households else 100 * self.open_repairs / self.households


def summarise(rows: Iterable[Row]) -> Summary:
    s = Summary()
    areas: set[int] = set()
    for row in rows:
        f = row.facts
        s.pilots += 1
        s.self_governing += f.pilot.stage == "self_governing"
        s.passing += row.passes
        s.households += f.households
        s.open_repairs += f.open_repairs
        s.overdue_repairs += f.overdue_repairs
        for kind, n in f.facilities.items():
            s.facilities[kind] = s.facilities.get(kind, 0) + n
        last = f.last_complete()
        if last is not None and f.compound.area_id not in areas:
            areas.add(f.compound.area_id)
            s.billed_fen += last.billed_fen
            s.collected_fen += last.collected_fen
        if f.latest_rate is not None:
            s.rates.append(f.latest_rate)
        if f.in_target_share is not None:
            s.in_target.append(f.in_target_share)
        if f.pilot.model == "party_branch" and f.rep_coverage is not None:
            s.coverage.append(f.rep_coverage)
    return s


@dataclass
class Filters:
    community: int | None = None
    model: str = ""
    stage: str = ""
    sort: str = "name"
    descending: bool = False


def visible_pilots(p: access.Principal | None = None) -> list[Pilot]:
    p = p or access.principal()
    return list(
        db.session.scalars(
            select(Pilot)
            .join(Compound, Compound.id == Pilot.compound_id)
            .where(access.compound_filter(p))
        )
    )


def subdistrict_of(p: access.Principal) -> int | None:
    """The subdistrict whose thresholds apply to what this staff member oversees."""
    if p.admin_subdistricts:
        return min(p.admin_subdistricts)
    if p.staff_communities:
        return db.session.scalar(
            select(Community.subdistrict_id).where(Community.id.in_(p.staff_communities))
        )
    return None


def lists_scope(p: access.Principal) -> tuple[list[int], list[int]]:
    """The communities whose three lists the dashboard totals (all of an admin's
    subdistrict, a staff member's own), and those the staff member serves."""
    scope = set(p.staff_communities)
    if p.admin_subdistricts:
        scope |= set(
            db.session.scalars(
                select(Community.id).where(Community.subdistrict_id.in_(p.admin_subdistricts))
            )
        )
    return sorted(scope), sorted(p.staff_communities)


@dataclass
class Dashboard:
    settings: OversightSettings
    months: list[date]
    rows: list[Row]
    shown: list[Row]
    total: Summary
    by_community: list[tuple[Community, Summary]]
    by_model: list[tuple[str, Summary]]
    # Pilots whose fee standard in force is the community's decision, not the owners'.
    exceptions: list[Row] = field(default_factory=list)
    # Pilots whose committee departs from its subdistrict's committee rules (advisory).
    committees_off_rules: int = 0


def build(f: Filters, p: access.Principal | None = None) -> Dashboard:
    p = p or access.principal()
    subdistrict_id = subdistrict_of(p)
    settings = settings_for(subdistrict_id or 0)
    months = window(settings.window_months)
    facts = gather(visible_pilots(p), months)
    rows = [Row(fact, verdicts(fact, settings)) for fact in facts]

    communities: dict[int, list[Row]] = defaultdict(list)
    names: dict[int, Community] = {}
    models: dict[str, list[Row]] = defaultdict(list)
    for row in rows:
        communities[row.facts.community.id].append(row)
        names[row.facts.community.id] = row.facts.community
        models[row.facts.pilot.model].append(row)

    shown = [
        row
        for row in rows
        if (f.community is None or row.facts.community.id == f.community)
        and (not f.model or row.facts.pilot.model == f.model)
        and (not f.stage or row.facts.pilot.stage == f.stage)
    ]
    shown.sort(key=_sort_key(f.sort), reverse=f.descending)
    off_rules = areas_off_rules({row.facts.compound.area_id for row in rows})
    return Dashboard(
        settings=settings,
        months=months,
        rows=rows,
        shown=shown,
        total=summarise(rows),
        by_community=[
            (names[cid], summarise(group))
            for cid, group in sorted(communities.items(), key=lambda kv: names[kv[0]].name)
        ],
        by_model=[
            (model, summarise(models[model]))
            for model in ("contiguous", "party_branch", "trusteeship")
        ],
        exceptions=[row for row in rows if fee_exception(row.facts)],
        committees_off_rules=sum(row.facts.compound.area_id in off_rules for row in rows),
    )


_STAGE_ORDER = ["selected", "consulting", "organised", "fees_started", "self_governing", "paused"]


def _sort_key(sort: str):  # type: ignore[no-untyped-def]
    def missing_last(value: float | None) -> float:
        return -1.0 if value is None else value

    return {
        "name": lambda r: r.facts.compound.name,
        "community": lambda r: (r.facts.community.name, r.facts.compound.name),
        "model": lambda r: (r.facts.pilot.model, r.facts.compound.name),
        "stage": lambda r: (_STAGE_ORDER.index(r.facts.pilot.stage), r.facts.compound.name),
        "rate": lambda r: missing_last(r.facts.latest_rate),
        "open": lambda r: r.facts.open_repairs,
        "checks": lambda r: r.passed,
        "households": lambda r: r.facts.households,
    }.get(sort, lambda r: r.facts.compound.name)


# --- one pilot's trend lines -----------------------------------------------------------------


@dataclass
class Series:
    """A line for an SVG chart: points in a 0..100 × 0..40 box, and the labels."""

    points: str
    values: list[float | None]
    months: list[date]
    top: float


def series(values: list[float | None], months: list[date], top: float | None = None) -> Series:
    known = [v for v in values if v is not None]
    top = top or max([*known, 1.0])
    step = 100 / max(1, len(values) - 1)
    points = " ".join(
        f"{i * step:.1f},{40 - 40 * v / top:.1f}" for i, v in enumerate(values) if v is not None
    )
    return Series(points=points, values=values, months=months, top=top)


def trends(pilot: Pilot, months: int = 12) -> tuple[Series, Series, Facts]:
    span = window(months)
    facts = gather([pilot], span)[0]
    rate = series([facts.months[m].rate for m in span], span, top=100.0)
    open_ = series([float(facts.months[m].open_at_end) for m in span], span)
    return rate, open_, facts

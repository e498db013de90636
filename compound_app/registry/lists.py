"""The searchable lists of compounds and communities: filters, paging, counts."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import joinedload

from .. import access
from ..extensions import db
from .models import (
    Building,
    Community,
    Compound,
    Household,
    ManagementModel,
    Pilot,
    PilotStage,
    Unit,
)


@dataclass
class CompoundFilter:
    """What a person typed or picked above a compound list; unknown values are ignored."""

    q: str = ""
    model: str = ""
    pilot: str = ""
    community_id: int | None = None


def compound_query(f: CompoundFilter, p: access.Principal) -> Select[Any]:
    stmt = (
        select(Compound)
        .where(access.compound_filter(p))
        .options(joinedload(Compound.community), joinedload(Compound.pilot))
    )
    if f.community_id is not None:
        stmt = stmt.where(Compound.community_id == f.community_id)
    if f.q:
        stmt = stmt.where(
            or_(
                Compound.name.contains(f.q, autoescape=True),
                Compound.address.contains(f.q, autoescape=True),
            )
        )
    if f.model in set(ManagementModel):
        stmt = stmt.where(Compound.model == f.model)
    if f.pilot == "pilot":
        stmt = stmt.where(Compound.pilot.has())
    elif f.pilot == "self_governing":
        stmt = stmt.where(Compound.pilot.has(Pilot.stage == PilotStage.SELF_GOVERNING))
    elif f.pilot == "not_pilot":
        stmt = stmt.where(~Compound.pilot.has())
    return stmt


@dataclass
class Page:
    compounds: list[Compound]
    total: int
    page: int
    pages: int
    household_counts: dict[int, int]


def compound_page(stmt: Select[Any], page: int, size: int) -> Page:
    total = db.session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
    pages = max(1, -(-total // size))
    page = min(max(page, 1), pages)
    rows = list(
        db.session.scalars(
            stmt.order_by(Compound.name, Compound.id).limit(size).offset((page - 1) * size)
        )
    )
    return Page(rows, total, page, pages, household_counts([c.id for c in rows]))


def household_counts(compound_ids: list[int]) -> dict[int, int]:
    if not compound_ids:
        return {}
    rows = db.session.execute(
        select(Building.compound_id, func.count(Household.id))
        .join(Unit, Unit.building_id == Building.id)
        .join(Household, Household.unit_id == Unit.id)
        .where(Building.compound_id.in_(compound_ids))
        .group_by(Building.compound_id)
    )
    return dict(rows.all())


def communities(q: str, p: access.Principal) -> list[Community]:
    stmt = select(Community).where(access.community_filter(p))
    if q:
        stmt = stmt.where(Community.name.contains(q, autoescape=True))
    return list(db.session.scalars(stmt.order_by(Community.name)))


def community_stats(community_ids: list[int]) -> dict[int, tuple[int, int, int]]:
    """Per community: compounds, pilots, households — one grouped query."""
    if not community_ids:
        return {}
    rows = db.session.execute(
        select(
            Compound.community_id,
            func.count(func.distinct(Compound.id)),
            func.count(func.distinct(Pilot.id)),
            func.count(Household.id),
        )
        .outerjoin(Pilot, Pilot.compound_id == Compound.id)
        .outerjoin(Building, Building.compound_id == Compound.id)
        .outerjoin(Unit, Unit.building_id == Building.id)
        .outerjoin(Household, Household.unit_id == Unit.id)
        .where(Compound.community_id.in_(community_ids))
        .group_by(Compound.community_id)
    )
    return {cid: (n, pilots, households) for cid, n, pilots, households in rows}

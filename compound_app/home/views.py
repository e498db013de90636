"""The home page: for each of the user's roles, the places it covers and what to do there."""

from __future__ import annotations

from flask import g, redirect, url_for
from flask_login import current_user
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload
from werkzeug.wrappers import Response

from .. import access
from ..access import Action
from ..extensions import db
from ..htmx import render
from ..registry.models import (
    Building,
    Community,
    Compound,
    Household,
    ManagementArea,
    ManagementModel,
    Pilot,
    PilotStage,
    Unit,
)
from . import bp


@bp.get("/")
def index() -> Response:
    p = access.principal()
    if p.is_anonymous:
        return redirect(url_for("auth.login"))
    overview = None
    if access.can(Action.OVERSEE, p=p):
        rows = db.session.execute(
            select(Compound.model, func.count(Compound.id), func.count(Pilot.id))
            .outerjoin(Pilot, Pilot.compound_id == Compound.id)
            .where(access.compound_filter(p))
            .group_by(Compound.model)
        ).all()
        self_governing = db.session.scalar(
            select(func.count(Pilot.id))
            .join(Compound, Compound.id == Pilot.compound_id)
            .where(access.compound_filter(p), Pilot.stage == PilotStage.SELF_GOVERNING)
        )
        overview = {
            "compounds": sum(n for _m, n, _p in rows),
            "pilots": sum(pilots for _m, _n, pilots in rows),
            "self_governing": self_governing,
            "by_model": {m: n for m, n, _p in rows},
        }
    communities = (
        db.session.scalars(
            select(Community).where(access.community_filter(p)).order_by(Community.name)
        ).all()
        if access.can(Action.OVERSEE, p=p)
        else []
    )
    areas = (
        db.session.scalars(
            select(ManagementArea)
            .where(ManagementArea.id.in_(p.committee_areas))
            .options(joinedload(ManagementArea.compounds))
            .order_by(ManagementArea.name)
        )
        .unique()
        .all()
        if p.committee_areas
        else []
    )
    units = (
        db.session.execute(
            select(Unit, Building, Compound, func.count(Household.id))
            .join(Building, Building.id == Unit.building_id)
            .join(Compound, Compound.id == Building.compound_id)
            .outerjoin(Household, Household.unit_id == Unit.id)
            .where(Unit.id.in_(p.rep_units))
            .group_by(Unit.id, Building.id, Compound.id)
            .order_by(Compound.name, Building.sort_key, Unit.sort_key)
        ).all()
        if p.rep_units
        else []
    )
    homes = (
        db.session.execute(
            select(Household, Unit, Building, Compound)
            .join(Unit, Unit.id == Household.unit_id)
            .join(Building, Building.id == Unit.building_id)
            .join(Compound, Compound.id == Building.compound_id)
            .where(Household.id.in_(p.resident_households))
            .order_by(Compound.name)
        ).all()
        if p.resident_households
        else []
    )
    from ..fees.cash import pending_for
    from ..messages.service import unread_count
    from ..votes.service import non_owner_homes
    from .todo import checks_waiting, todos

    assert p.user_id is not None
    unread = unread_count(p.user_id)
    g._unread = unread  # the top navigation's badge asks no second time
    return render(
        "home/index.html",
        todo=todos(current_user, p),
        check=checks_waiting(p),
        unread=unread,
        waiting=pending_for(current_user, p.committee_areas),
        overview=overview,
        communities=communities,
        areas=areas,
        units=units,
        homes=homes,
        # Homes where the user is a tenant or family member: no owners' vote asks them.
        non_owner=non_owner_homes(current_user, p) if homes else set(),
        models=list(ManagementModel),
        administered=access.administered(p),
        grid_compounds=(
            db.session.scalars(
                select(Compound).where(Compound.id.in_(p.grid_touched)).order_by(Compound.name)
            ).all()
            if p.grid_touched
            else []
        ),
    )

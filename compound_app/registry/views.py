"""Communities, compounds, management areas: lists, the compound page and the model rules."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, abort, current_app, flash, request, url_for
from flask_babel import gettext as _
from sqlalchemy import func, or_, select
from sqlalchemy.orm import joinedload, selectinload
from werkzeug.wrappers import Response

from .. import access
from ..access import Action
from ..committees.service import committee_for_area
from ..dbtypes import local_today
from ..errors import RuleError
from ..extensions import db
from ..forms import form_status, refuse, search_text, whole_number
from ..htmx import redirect_after_post, render
from . import service
from .forms import (
    AddToAreaForm,
    AreaForm,
    CommunityForm,
    CompoundForm,
    DatedForm,
    ModelForm,
    PartyOrgForm,
)
from .models import (
    Building,
    Community,
    Compound,
    Household,
    ManagementArea,
    ManagementModel,
    PartyOrgKind,
    Pilot,
    PilotStage,
    Subdistrict,
    Unit,
)

bp = Blueprint("registry", __name__, url_prefix="/registry")

PILOT_FILTERS = ("pilot", "self_governing", "not_pilot")


# --- lists ----------------------------------------------------------------------------------


def _compound_query(community_id: int | None = None):  # type: ignore[no-untyped-def]
    args = request.args
    q = search_text(args.get("q"))
    model = args.get("model", "")
    pilot = args.get("pilot", "")
    stmt = (
        select(Compound)
        .where(access.compound_filter())
        .options(joinedload(Compound.community), joinedload(Compound.pilot))
    )
    if community_id is not None:
        stmt = stmt.where(Compound.community_id == community_id)
    elif (chosen := whole_number(args.get("community"))) is not None:
        stmt = stmt.where(Compound.community_id == chosen)
    if q:
        like = f"%{q.replace('%', '').replace('_', '')}%"
        stmt = stmt.where(or_(Compound.name.like(like), Compound.address.like(like)))
    if model in set(ManagementModel):
        stmt = stmt.where(Compound.model == model)
    if pilot == "pilot":
        stmt = stmt.where(Compound.pilot.has())
    elif pilot == "self_governing":
        stmt = stmt.where(Compound.pilot.has(Pilot.stage == PilotStage.SELF_GOVERNING))
    elif pilot == "not_pilot":
        stmt = stmt.where(~Compound.pilot.has())
    return stmt


def _page_of(stmt):  # type: ignore[no-untyped-def]
    size = current_app.config["PAGE_SIZE"]
    page_no = whole_number(request.args.get("page"), maximum=99999) or 1
    total = db.session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
    rows = db.session.scalars(
        stmt.order_by(Compound.name, Compound.id).limit(size).offset((page_no - 1) * size)
    ).all()
    pages = max(1, -(-total // size))
    return rows, total, page_no, pages


def _household_counts(compound_ids: list[int]) -> dict[int, int]:
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


def _filter_context(community_id: int | None = None) -> dict[str, object]:
    rows, total, page_no, pages = _page_of(_compound_query(community_id))
    communities = []
    if community_id is None and access.principal().is_staff:
        communities = db.session.scalars(
            select(Community).where(access.community_filter()).order_by(Community.name)
        ).all()
        if len(communities) < 2:
            communities = []  # nothing to choose between
    return {
        "compounds": rows,
        "total": total,
        "page": page_no,
        "pages": pages,
        "household_counts": _household_counts([c.id for c in rows]),
        "communities": communities,
        "filters": request.args,
        "models": list(ManagementModel),
    }


@bp.get("/compounds")
def compounds() -> Response:
    p = access.principal()
    if p.is_anonymous:
        abort(404)
    return render(
        "registry/compounds.html",
        "registry/_compound_table.html",
        target="compound-table",
        **_filter_context(),
    )


@bp.get("/communities")
def communities() -> Response:
    p = access.principal()
    if not p.is_staff:
        abort(404)
    q = search_text(request.args.get("q"))
    stmt = select(Community).where(access.community_filter())
    if q:
        stmt = stmt.where(Community.name.like(f"%{q.replace('%', '')}%"))
    rows = db.session.scalars(stmt.order_by(Community.name)).all()
    ids = [c.id for c in rows]
    stats = {
        cid: (n, pilots, households)
        for cid, n, pilots, households in db.session.execute(
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
            .where(Compound.community_id.in_(ids))
            .group_by(Compound.community_id)
        )
    }
    return render(
        "registry/communities.html",
        "registry/_community_table.html",
        target="community-table",
        communities=rows,
        stats=stats,
        q=q,
    )


@bp.route("/communities/new", methods=["GET", "POST"])
def new_community() -> Response:
    p = access.principal()
    subdistrict = (
        db.session.get(Subdistrict, min(p.admin_subdistricts)) if p.admin_subdistricts else None
    )
    access.require(Action.MANAGE, subdistrict)
    form = CommunityForm()
    if form.validate_on_submit():
        try:
            created = service.create_community(subdistrict, form.name.data, form.code.data)
            db.session.commit()
        except RuleError as err:
            refuse(form, err)
        else:
            flash(_("Community %(name)s created.", name=created.name), "success")
            return redirect_after_post(url_for(".community", community_id=created.id))
    return render(
        "registry/new_community.html",
        form=form,
        status=form_status(form),
    )


@bp.get("/communities/<int:community_id>")
def community(community_id: int) -> Response:
    community = access.get_or_404(Community, community_id)
    areas = db.session.scalars(
        select(ManagementArea)
        .where(ManagementArea.community_id == community.id)
        .options(selectinload(ManagementArea.compounds))
        .order_by(ManagementArea.code)
    ).all()
    return render(
        "registry/community.html",
        "registry/_compound_table.html",
        target="compound-table",
        community=community,
        contiguous_areas=[a for a in areas if len(a.compounds) > 1],
        staff=service.community_staff(community.id),
        **_filter_context(community.id),
    )


@bp.route("/communities/<int:community_id>/compounds/new", methods=["GET", "POST"])
def new_compound(community_id: int) -> Response:
    community = access.get_or_404(Community, community_id, Action.MANAGE)
    form = CompoundForm()
    if form.validate_on_submit():
        try:
            compound = service.create_compound(community, form.name.data, form.address.data)
            db.session.commit()
        except RuleError as err:
            refuse(form, err)
        else:
            flash(_("Compound %(name)s created.", name=compound.name), "success")
            return redirect_after_post(url_for(".compound", compound_id=compound.id))
    return render(
        "registry/new_compound.html",
        form=form,
        community=community,
        status=form_status(form),
    )


# --- the compound page ----------------------------------------------------------------------


def load_compound(compound_id: int) -> Compound | None:
    """The compound with its structure, in a fixed number of queries; households apart."""
    return db.session.scalars(
        select(Compound)
        .where(Compound.id == compound_id)
        .options(
            joinedload(Compound.community),
            joinedload(Compound.pilot),
            joinedload(Compound.party_organisation),
            joinedload(Compound.area).selectinload(ManagementArea.compounds),
            selectinload(Compound.buildings).selectinload(Building.units),
            selectinload(Compound.model_changes),
        )
    ).one_or_none()


# A roster up to this many rows is shown whole; a larger one opens building by building.
ROSTER_INLINE_ROWS = 60


def roster_context(compound: Compound, buildings: list[Building], *, expand_all: bool) -> dict:
    """What the roster templates need for ``buildings``, loading rows only where shown.

    Each user sees the households they may: all of them for the committee and staff, the
    stairwell for its representative, the home for a resident. Rows of a large roster are
    loaded per building when it is opened (htmx), so the page stays light on a phone.
    """
    p = access.principal()
    units = [u for b in buildings for u in b.units]
    roster_units = {u.id for u in units if access.can(Action.VIEW_ROSTER, u)}
    counts = service.counts(compound, [u.id for u in units])
    own_units = {u.id for u in units if u.id in p.rep_units}
    own_households = set(p.resident_households)
    visible_rows = sum(counts.per_unit[u] for u in roster_units)
    homes = service.units_of_households(own_households, [u.id for u in units])
    mine = {b.id for b in buildings if any(u.id in own_units or u.id in homes for u in b.units)}
    if expand_all or visible_rows <= ROSTER_INLINE_ROWS:
        expanded = {b.id for b in buildings}
    else:
        expanded = mine
    shown_units = {u.id for b in buildings if b.id in expanded for u in b.units}
    return {
        "counts": counts,
        "reps": service.representatives_by_unit(compound),
        "households": service.roster(roster_units & shown_units, own_households),
        "building_households": {
            b.id: sum(counts.per_unit[u.id] for u in b.units) for b in buildings
        },
        "expanded": expanded,
        # A few buildings are shown open; of many, only the user's own.
        "open_buildings": expanded if len(buildings) <= 4 else expanded & mine,
        "roster_units": roster_units,
        "editable_units": {
            u.id for u in units if u.id in roster_units and access.can(Action.EDIT_ROSTER, u)
        },
        "contact_units": {
            u.id for u in units if u.id in roster_units and access.can(Action.VIEW_CONTACTS, u)
        },
        "own_households": own_households,
    }


@bp.get("/compounds/<int:compound_id>")
def compound(compound_id: int) -> Response:
    compound = access.require(Action.VIEW, load_compound(compound_id))
    roster = roster_context(compound, compound.buildings, expand_all=False)
    counts = roster["counts"]
    coverage = service.Coverage(
        covered=sum(1 for unit_id in counts.per_unit if unit_id in roster["reps"]),
        total=counts.units,
    )
    staff = (
        service.community_staff(compound.community_id)
        if compound.model == ManagementModel.TRUSTEESHIP
        else []
    )
    return render(
        "registry/compound.html",
        compound=compound,
        today=local_today(),
        coverage=coverage,
        staff=staff,
        committee=committee_for_area(compound.area_id),
        problems=service.model_checks(compound, coverage, staff)
        if access.can(Action.VIEW_ROSTER, compound)
        else [],
        **roster,
    )


@bp.get("/buildings/<int:building_id>")
def building(building_id: int) -> Response:
    """One building's units and households: opened inline on the compound page, or alone."""
    building = access.get_or_404(Building, building_id)
    compound = building.compound
    return render(
        "registry/building.html",
        "registry/_building_body.html",
        target=f"building-{building.id}-body",
        compound=compound,
        building=building,
        **roster_context(compound, [building], expand_all=True),
    )


@bp.route("/compounds/<int:compound_id>/model", methods=["GET", "POST"])
def change_model(compound_id: int) -> Response:
    compound = access.get_or_404(Compound, compound_id, Action.MANAGE)
    form = ModelForm()
    if request.method == "GET":
        form.effective_on.data = date.today()
    if form.validate_on_submit():
        try:
            service.change_model(
                compound, ManagementModel(form.model.data), form.effective_on.data, form.reason.data
            )
            db.session.commit()
        except RuleError as err:
            refuse(form, err)
        else:
            flash(_("Management model changed."), "success")
            return redirect_after_post(url_for(".compound", compound_id=compound.id))
    return render(
        "registry/change_model.html",
        form=form,
        compound=compound,
        status=form_status(form),
    )


@bp.route("/compounds/<int:compound_id>/party", methods=["GET", "POST"])
def party(compound_id: int) -> Response:
    compound = access.get_or_404(Compound, compound_id, Action.MANAGE)
    org = compound.party_organisation
    form = PartyOrgForm(obj=org)
    if request.method == "GET" and org is None:
        form.kind.data = (
            PartyOrgKind.GROUP
            if compound.model == ManagementModel.TRUSTEESHIP
            else PartyOrgKind.BRANCH
        )
        form.member_count.data = 0
    if form.validate_on_submit():
        service.set_party_organisation(
            compound,
            PartyOrgKind(form.kind.data),
            form.name.data,
            form.secretary_name.data,
            form.member_count.data,
            form.founded_on.data,
        )
        db.session.commit()
        flash(_("Party organisation saved."), "success")
        return redirect_after_post(url_for(".compound", compound_id=compound.id))
    return render(
        "registry/party.html",
        form=form,
        compound=compound,
        status=form_status(form),
    )


# --- management areas -----------------------------------------------------------------------


@bp.get("/areas/<int:area_id>")
def area(area_id: int) -> Response:
    area = access.get_or_404(ManagementArea, area_id)
    form = AddToAreaForm()
    if len(area.compounds) > 1 and access.can(Action.MANAGE, area):
        _area_choices(area, form)
    return render(
        "registry/area.html",
        area=area,
        form=form,
        remove_form=DatedForm(formdata=None, effective_on=date.today()),
        warning=service.area_size_warning(area),
        committee=committee_for_area(area.id),
    )


def _area_choices(area: ManagementArea, form: AddToAreaForm) -> None:
    form.compound.choices = [
        (c.id, c.name) for c in service.eligible_for_area(area.community) if c.area_id != area.id
    ]
    if form.effective_on.data is None and not form.effective_on.raw:
        form.effective_on.data = date.today()


@bp.post("/areas/<int:area_id>/compounds")
def add_to_area(area_id: int) -> Response:
    area = access.get_or_404(ManagementArea, area_id, Action.MANAGE)
    form = AddToAreaForm()
    _area_choices(area, form)
    if form.validate_on_submit():
        compound = db.session.get(Compound, form.compound.data)
        try:
            if compound is None:
                raise RuleError(_("Choose a compound."), "compound")
            service.add_to_area(area, compound, form.effective_on.data)
            db.session.commit()
        except RuleError as err:
            refuse(form, err)
        else:
            flash(_("%(name)s joined the area.", name=compound.name), "success")
            return redirect_after_post(url_for(".area", area_id=area.id))
    return render(
        "registry/area.html",
        area=area,
        form=form,
        remove_form=DatedForm(formdata=None, effective_on=date.today()),
        warning=service.area_size_warning(area),
        committee=committee_for_area(area.id),
        status=422,
    )


@bp.post("/areas/<int:area_id>/compounds/<int:compound_id>/remove")
def remove_from_area(area_id: int, compound_id: int) -> Response:
    area = access.get_or_404(ManagementArea, area_id, Action.MANAGE)
    compound = access.get_or_404(Compound, compound_id, Action.MANAGE)
    if compound.area_id != area.id:
        abort(404)
    form = DatedForm()
    if form.validate_on_submit():
        try:
            service.remove_from_area(compound, form.effective_on.data)
            db.session.commit()
        except RuleError as err:
            db.session.rollback()
            flash(err.message, "error")
        else:
            flash(_("%(name)s left the area.", name=compound.name), "success")
    else:
        flash(_("Please enter a valid date."), "error")
    return redirect_after_post(url_for(".area", area_id=area.id))


@bp.route("/communities/<int:community_id>/areas/new", methods=["GET", "POST"])
def new_area(community_id: int) -> Response:
    community = access.get_or_404(Community, community_id, Action.MANAGE)
    form = AreaForm()
    eligible = service.eligible_for_area(community)
    form.compounds.choices = [(c.id, c.name) for c in eligible]
    if request.method == "GET":
        form.effective_on.data = date.today()
    if form.validate_on_submit():
        chosen = [c for c in eligible if c.id in set(form.compounds.data)]
        try:
            area = service.form_contiguous_area(
                community, chosen, form.name.data, form.effective_on.data
            )
            db.session.commit()
        except RuleError as err:
            refuse(form, err)
        else:
            flash(_("Contiguous area %(name)s formed.", name=area.name), "success")
            return redirect_after_post(url_for(".area", area_id=area.id))
    return render(
        "registry/new_area.html",
        form=form,
        community=community,
        status=form_status(form),
    )


from . import import_views, roster_views  # noqa: E402,F401  (routes on the same blueprint)

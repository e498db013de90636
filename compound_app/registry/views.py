"""Communities, compounds, management areas: lists, the compound page and the model rules."""

from __future__ import annotations

from typing import Any

from flask import abort, current_app, flash, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload
from werkzeug.wrappers import Response

from .. import access, clock
from ..access import Action
from ..committees.service import committee_for_area
from ..extensions import db
from ..fields import search_text, whole_number
from ..forms import form_status, submit
from ..htmx import redirect_after_post, render
from . import bp, lists, roster, service
from .forms import (
    CommunityForm,
    CompoundForm,
    ModelForm,
    PartyOrgForm,
)
from .models import (
    Building,
    Community,
    Compound,
    ManagementArea,
    ManagementModel,
    PartyOrgKind,
)

# --- lists ----------------------------------------------------------------------------------


def _list_context(community_id: int | None = None) -> dict[str, Any]:
    args = request.args
    p = access.principal()
    chosen = community_id if community_id is not None else whole_number(args.get("community"))
    f = lists.CompoundFilter(
        q=search_text(args.get("q")),
        model=args.get("model", ""),
        pilot=args.get("pilot", ""),
        community_id=chosen,
    )
    page = lists.compound_page(
        lists.compound_query(f, p),
        whole_number(args.get("page"), maximum=99999) or 1,
        current_app.config["PAGE_SIZE"],
    )
    # A community to choose only for staff who look after more than one.
    communities = (
        lists.communities("", p) if community_id is None and access.can(Action.OVERSEE, p=p) else []
    )
    return {
        "compounds": page.compounds,
        "total": page.total,
        "page": page.page,
        "pages": page.pages,
        "household_counts": page.household_counts,
        "communities": communities if len(communities) > 1 else [],
        "filters": args,
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
        **_list_context(),
    )


@bp.get("/communities")
def communities() -> Response:
    p = access.require_staff()
    q = search_text(request.args.get("q"))
    rows = lists.communities(q, p)
    stats = lists.community_stats([c.id for c in rows])
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
    # The subdistrict the admin keeps; anyone else does not see this page at all.
    subdistrict = access.require(Action.MANAGE, next(iter(access.administered()), None))
    form = CommunityForm()
    done = submit(
        form, lambda: service.create_community(subdistrict, form.name.data, form.code.data or "")
    )
    if done.ok:
        created = done.result
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
        **_list_context(community.id),
    )


@bp.route("/communities/<int:community_id>/compounds/new", methods=["GET", "POST"])
def new_compound(community_id: int) -> Response:
    community = access.get_or_404(Community, community_id, Action.MANAGE)
    form = CompoundForm()
    done = submit(
        form, lambda: service.create_compound(community, form.name.data, form.address.data)
    )
    if done.ok:
        compound = done.result
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


@bp.get("/compounds/<int:compound_id>")
def compound(compound_id: int) -> Response:
    compound = access.require(Action.VIEW, load_compound(compound_id))
    shown = roster.page_context(compound, compound.buildings, expand_all=False)
    totals = shown["counts"]
    coverage = roster.coverage(totals, shown["reps"])
    staff = (
        service.community_staff(compound.community_id)
        if compound.model == ManagementModel.TRUSTEESHIP
        else []
    )
    return render(
        "registry/compound.html",
        compound=compound,
        coverage=coverage,
        staff=staff,
        committee=committee_for_area(compound.area_id),
        problems=service.model_checks(compound, coverage, staff)
        if access.can(Action.VIEW_ROSTER, compound)
        else [],
        **shown,
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
        **roster.page_context(compound, [building], expand_all=True),
    )


@bp.route("/compounds/<int:compound_id>/model", methods=["GET", "POST"])
def change_model(compound_id: int) -> Response:
    compound = access.get_or_404(Compound, compound_id, Action.MANAGE)
    form = ModelForm()
    if request.method == "GET":
        form.effective_on.data = clock.today()
    done = submit(
        form,
        lambda: service.change_model(
            compound, ManagementModel(form.model.data), form.effective_on.data, form.reason.data
        ),
    )
    if done.ok:
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

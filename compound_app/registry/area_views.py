"""Management areas: the compounds one committee runs, and grouping them contiguously."""

from __future__ import annotations

from flask import abort, flash, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from .. import access, clock
from ..access import Action
from ..committees.service import committee_for_area
from ..errors import RuleError
from ..extensions import db
from ..forms import form_status, refuse
from ..htmx import redirect_after_post, render
from . import bp, service
from .forms import AddToAreaForm, AreaForm, DatedForm
from .models import Community, Compound, ManagementArea


def _area_page(area: ManagementArea, form: AddToAreaForm, status: int = 200) -> Response:
    if len(area.compounds) > 1 and access.can(Action.MANAGE, area):
        form.compound.choices = [
            (c.id, c.name)
            for c in service.eligible_for_area(area.community)
            if c.area_id != area.id
        ]
    if form.effective_on.data is None and not form.effective_on.raw:
        form.effective_on.data = clock.today()
    return render(
        "registry/area.html",
        area=area,
        form=form,
        remove_form=DatedForm(formdata=None, effective_on=clock.today()),
        warning=service.area_size_warning(area),
        committee=committee_for_area(area.id),
        status=status,
    )


@bp.get("/areas/<int:area_id>")
def area(area_id: int) -> Response:
    return _area_page(access.get_or_404(ManagementArea, area_id), AddToAreaForm())


@bp.post("/areas/<int:area_id>/compounds")
def add_to_area(area_id: int) -> Response:
    area = access.get_or_404(ManagementArea, area_id, Action.MANAGE)
    form = AddToAreaForm()
    form.compound.choices = [
        (c.id, c.name) for c in service.eligible_for_area(area.community) if c.area_id != area.id
    ]
    if form.validate_on_submit():
        compound = access.find(Compound, form.compound.data, Action.MANAGE)
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
    return _area_page(area, form, 422)


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
        form.effective_on.data = clock.today()
    if form.validate_on_submit():
        chosen = [c for c in eligible if c.id in set(form.compounds.data or [])]
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
        "registry/new_area.html", form=form, community=community, status=form_status(form)
    )

"""The roster on the compound page: buildings, units, households, occupants, representatives.

Each form works inline (htmx fragment swapped into the compound page) and as a plain
page of its own when JavaScript is off.
"""

from __future__ import annotations

from typing import Any

from flask import abort, current_app, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from .. import access, viewkit
from ..access import Action
from ..auth import service as auth_service
from ..errors import RuleError
from ..extensions import db
from ..fields import whole_number
from ..forms import form_status, submit
from ..htmx import is_htmx, redirect_after_post, render, targets
from . import bp, roster
from .forms import (
    BuildingForm,
    HouseholdForm,
    OccupantForm,
    RepresentativeForm,
    RoomForm,
    UnitForm,
)
from .models import Building, Compound, Household, Occupancy, Occupant, Relation, Unit


def _stats(compound: Compound) -> dict[str, Any]:
    """What the compound's counters need, for an out-of-band refresh after a change."""
    totals = roster.counts(compound)
    reps = roster.representatives_by_unit(compound)
    return {"counts": totals, "coverage": roster.coverage(totals, reps), "roster_units": True}


def _open() -> bool:
    """Inline forms open on request and close again with ?close=1 (their Close link)."""
    return "close" not in request.args


def _compound_url(compound_id: int, anchor: str | None = None) -> str:
    return url_for("registry.compound", compound_id=compound_id, _anchor=anchor)


@bp.route("/compounds/<int:compound_id>/buildings/new", methods=["GET", "POST"])
def new_building(compound_id: int) -> Response:
    from .models import Compound

    compound = access.get_or_404(Compound, compound_id, Action.EDIT_ROSTER)
    form = BuildingForm()
    done = submit(form, lambda: roster.add_building(compound, form.name.data, form.unit_count.data))
    if done.ok:
        building = done.result
        flash(_("%(name)s added.", name=building.name), "success")
        return redirect_after_post(_compound_url(compound.id, f"building-{building.id}"))
    return render(
        "registry/new_building.html",
        "registry/_building_form.html",
        target="add-building",
        form=form,
        compound=compound,
        open_form=_open(),
        status=form_status(form),
    )


@bp.route("/buildings/<int:building_id>/units/new", methods=["GET", "POST"])
def new_unit(building_id: int) -> Response:
    building = access.get_or_404(Building, building_id, Action.EDIT_ROSTER)
    form = UnitForm()
    done = submit(form, lambda: roster.add_unit(building, form.name.data))
    if done.ok:
        unit = done.result
        flash(_("%(name)s added.", name=unit.name), "success")
        return redirect_after_post(_compound_url(building.compound_id, f"unit-{unit.id}"))
    return render(
        "registry/new_unit.html",
        "registry/_unit_form.html",
        target=f"add-unit-{building.id}",
        form=form,
        building=building,
        open_form=_open(),
        status=form_status(form),
    )


# --- households -----------------------------------------------------------------------------


@bp.route("/units/<int:unit_id>/households/new", methods=["GET", "POST"])
def new_household(unit_id: int) -> Response:
    unit = access.get_or_404(Unit, unit_id, Action.EDIT_ROSTER)
    form = HouseholdForm()
    if request.method == "GET":
        form.occupancy.data = Occupancy.OWNER_OCCUPIED
    done = submit(
        form,
        lambda: roster.add_household(
            unit, form.room.data, form.area.data, Occupancy(form.occupancy.data)
        ),
    )
    if done.ok:
        household = done.result
        message = _("Room %(room)s added.", room=household.room)
        if targets(f"add-household-{unit.id}"):
            # A fresh form for the next room, the new row and the counters, in one reply.
            fresh = HouseholdForm(formdata=None, occupancy=household.occupancy)
            return render(
                "registry/_household_added.html",
                **_stats(unit.building.compound),
                unit=unit,
                household=household,
                form=fresh,
                message=message,
                open_form=True,
            )
        flash(message, "success")
        return redirect_after_post(_compound_url(unit.building.compound_id, f"unit-{unit.id}"))
    return render(
        "registry/new_household.html",
        "registry/_household_form.html",
        target=f"add-household-{unit.id}",
        form=form,
        unit=unit,
        open_form=_open(),
        status=form_status(form),
    )


@bp.get("/households/<int:household_id>")
def household(household_id: int) -> Response:
    household = access.get_or_404(Household, household_id, Action.VIEW_ROSTER)
    return render(
        "registry/household.html",
        household=household,
        form=OccupantForm(formdata=None),
    )


@bp.get("/households/<int:household_id>/row")
def household_row(household_id: int) -> Response:
    # The inline editor's "Cancel": for those who may edit; without JavaScript, the household.
    household = access.get_or_404(Household, household_id, Action.EDIT_ROSTER)
    if not is_htmx():
        return redirect(url_for(".household", household_id=household.id))
    return render("registry/_household_row.html", household=household, unit=household.unit)


@bp.route("/households/<int:household_id>/edit", methods=["GET", "POST"])
def edit_household(household_id: int) -> Response:
    household = access.get_or_404(Household, household_id, Action.EDIT_ROSTER)
    # Floor area and occupancy make the bills: only those with fee rights see them here.
    fees = access.can(Action.MANAGE_FEES, household)
    form = HouseholdForm(obj=household) if fees else RoomForm(obj=household)
    if request.method == "GET" and fees:
        form.area.data = household.area_dm2
    inline = is_htmx()
    done = submit(
        form,
        lambda: roster.update_household(
            household,
            form.room.data,
            form.area.data if fees else household.area_dm2,
            Occupancy(form.occupancy.data if fees else household.occupancy),
        ),
    )
    if done.ok:
        changed = done.result
        if inline:
            # The row, and the compound's counters out of band (occupancy may have changed).
            return render(
                "registry/_household_saved.html",
                household=household,
                unit=household.unit,
                **_stats(household.unit.building.compound),
            )
        if changed:
            flash(_("Room %(room)s saved.", room=household.room), "success")
        return redirect_after_post(
            _compound_url(household.unit.building.compound_id, f"unit-{household.unit_id}")
        )
    template = "registry/_household_edit_row.html" if inline else "registry/edit_household.html"
    return render(template, household=household, form=form, status=form_status(form))


# --- occupants ------------------------------------------------------------------------------


@bp.route("/households/<int:household_id>/occupants", methods=["POST"])
def add_occupant(household_id: int) -> Response:
    household = access.get_or_404(Household, household_id, Action.EDIT_ROSTER)
    form = OccupantForm()
    done = submit(
        form,
        lambda: roster.add_occupant(
            household,
            form.name.data,
            form.mobile.data,
            Relation(form.relation.data),
            consent=form.consent(),
        ),
    )
    if done.ok:
        flash(_("%(name)s added.", name=form.name.data), "success")
        return redirect_after_post(url_for(".household", household_id=household.id))
    return render(
        "registry/household.html",
        household=household,
        form=form,
        status=form_status(form),
    )


@bp.route("/occupants/<int:occupant_id>/edit", methods=["GET", "POST"])
def edit_occupant(occupant_id: int) -> Response:
    occupant = access.get_or_404(Occupant, occupant_id, Action.EDIT_ROSTER)
    form = OccupantForm(obj=occupant)
    if request.method == "GET":
        form.consent_on.data = roster.shown_consent(occupant)[1]
    done = submit(
        form,
        lambda: roster.update_occupant(
            occupant,
            form.name.data,
            form.mobile.data,
            Relation(form.relation.data),
            consent=form.consent(),
        ),
    )
    if done.ok:
        flash(_("%(name)s saved.", name=occupant.name), "success")
        return redirect_after_post(url_for(".household", household_id=occupant.household_id))
    return render(
        "registry/edit_occupant.html", occupant=occupant, form=form, status=form_status(form)
    )


@bp.post("/occupants/<int:occupant_id>/delete")
def delete_occupant(occupant_id: int) -> Response:
    occupant = access.get_or_404(Occupant, occupant_id, Action.EDIT_ROSTER)
    household_id, name = occupant.household_id, occupant.name
    try:
        roster.remove_occupant(occupant)
        db.session.commit()
    except RuleError as err:
        db.session.rollback()
        flash(err.message, "error")
    else:
        flash(_("%(name)s removed from the household.", name=name), "success")
    return redirect_after_post(url_for(".household", household_id=household_id))


# --- whose consent to keep their mobile is missing ------------------------------------------


@bp.get("/compounds/<int:compound_id>/consent")
def consent_missing(compound_id: int) -> Response:
    """The mobiles kept without consent, in the units the user keeps the roster of (the
    whole compound for the committee and staff, the stairwell for its representative);
    ``?unit=`` narrows it to one unit."""
    compound = access.get_or_404(Compound, compound_id, Action.VIEW)
    units = [u for b in compound.buildings for u in b.units if access.can(Action.EDIT_ROSTER, u)]
    if not units:
        abort(403)
    chosen = whole_number(request.args.get("unit"))
    shown = [u for u in units if u.id == chosen] or units
    unit_ids = [u.id for u in shown]
    size = current_app.config["PAGE_SIZE"]
    total = roster.consent_missing_count(unit_ids)
    pages = max(1, -(-total // size))
    page = min(whole_number(request.args.get("page"), maximum=99999) or 1, pages)
    return render(
        "registry/consent_missing.html",
        compound=compound,
        units=units,
        unit_names={u.id: f"{u.building.name} {u.name}" for u in units},
        chosen=chosen if len(shown) == 1 and len(units) > 1 else None,
        people=roster.consent_missing(unit_ids, size, (page - 1) * size),
        total=total,
        page=page,
        pages=pages,
        args={k: v for k, v in request.args.items() if k == "unit"},
    )


# --- invitation codes -----------------------------------------------------------------------


@bp.post("/households/<int:household_id>/invite")
def invite(household_id: int) -> Response:
    """A new code, answered with its printable slip. Only the code's hash is stored and the
    page is never cached, so the slip is the one and only place the code appears."""
    household = access.get_or_404(Household, household_id, Action.MANAGE_PEOPLE)
    code = auth_service.issue_invite(created_by=current_user, household_id=household.id)
    db.session.commit()
    return render(
        "registry/invite_slip.html",
        household=household,
        code=code,
        activate_url=url_for("auth.activate", _external=True),
    )


# --- unit representatives -------------------------------------------------------------------


@bp.route("/units/<int:unit_id>/representative", methods=["GET", "POST"])
def representative(unit_id: int) -> Response:
    unit = access.get_or_404(Unit, unit_id, Action.ASSIGN_REP)
    current = roster.representative(unit)
    form = RepresentativeForm()
    if request.method == "GET" and current is not None:
        form.name.data, form.mobile.data = current.user.name, current.user.mobile
    done = submit(
        form,
        lambda: roster.assign_representative(
            unit, form.mobile.data, form.name.data, viewkit.user()
        ),
    )
    if done.ok:
        user = done.result
        flash(_("%(name)s now represents %(unit)s.", name=user.name, unit=unit.name), "success")
        return redirect_after_post(_compound_url(unit.building.compound_id, f"unit-{unit.id}"))
    return render(
        "registry/representative.html",
        unit=unit,
        form=form,
        current=current,
        candidates=roster.residents_with_mobiles(unit),
        status=form_status(form),
    )


@bp.post("/units/<int:unit_id>/representative/remove")
def remove_representative(unit_id: int) -> Response:
    unit = access.get_or_404(Unit, unit_id, Action.ASSIGN_REP)
    try:
        roster.remove_representative(unit)
        db.session.commit()
    except RuleError as err:
        db.session.rollback()
        flash(err.message, "error")
    else:
        flash(_("The representative of %(unit)s was removed.", unit=unit.name), "success")
    return redirect_after_post(_compound_url(unit.building.compound_id, f"unit-{unit.id}"))

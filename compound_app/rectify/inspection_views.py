"""Inspection pages: the subdistrict's checklist, the visits in the user's reach with a
form for a new one, a visit on a phone (each item passed or failed, with a note and a
photo), and its printable record that both sides sign."""

from __future__ import annotations

from typing import Any

from flask import request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from .. import access, clock, viewkit
from ..access import Action
from ..fields import new_key, whole_number
from ..forms import form_status, submit
from ..htmx import render
from ..registry.models import Pilot, Subdistrict
from ..security import accepts_uploads
from ..uploads import send_upload
from . import bp, inspections
from .forms import FinishForm, InspectionForm, ItemEditForm, ItemForm, ItemPickForm, ResultForm
from .models import Inspection, InspectionResult

# --- the checklist ----------------------------------------------------------------------------


def _checklist_page(
    subdistrict: Subdistrict, form: Any = None, edit_form: Any = None, status: int = 200
) -> Response:
    return render(
        "rectify/checklist.html",
        status=status,
        subdistrict=subdistrict,
        items=inspections.items(subdistrict.id),
        defaults=[str(text) for _code, text, _days in inspections.DEFAULT_ITEMS],
        default_days=[days for _code, _text, days in inspections.DEFAULT_ITEMS],
        retired=[i for i in inspections.items(subdistrict.id, with_retired=True) if i.retired],
        form=form or ItemForm(formdata=None, fix_days=15),
        edit_form=edit_form,
    )


def _subdistrict(subdistrict_id: int) -> Subdistrict:
    return access.get_or_404(Subdistrict, subdistrict_id, Action.ADMINISTER)


@bp.get("/subdistricts/<int:subdistrict_id>/checklist")
def checklist(subdistrict_id: int) -> Response:
    return _checklist_page(_subdistrict(subdistrict_id))


def _back(found: Subdistrict) -> str:
    return url_for(".checklist", subdistrict_id=found.id)


@bp.post("/subdistricts/<int:subdistrict_id>/checklist")
def add_item(subdistrict_id: int) -> Response:
    found = _subdistrict(subdistrict_id)
    form = ItemForm()
    done = submit(
        form, lambda: inspections.add_item(found, form.text.data or "", form.fix_days.data)
    )
    if done.ok:
        return viewkit.done(_("The item is on the checklist."), _back(found))
    return _checklist_page(found, form=form, status=form_status(form))


@bp.post("/subdistricts/<int:subdistrict_id>/checklist/edit")
def edit_item(subdistrict_id: int) -> Response:
    found = _subdistrict(subdistrict_id)
    form = ItemEditForm()
    done = submit(
        form,
        lambda: inspections.edit_item(
            found, form.item_id.data, form.text.data or "", form.fix_days.data
        ),
    )
    if done.ok:
        return viewkit.done(_("Saved."), _back(found))
    return _checklist_page(found, edit_form=form, status=form_status(form))


@bp.post("/subdistricts/<int:subdistrict_id>/checklist/retire")
def retire_item(subdistrict_id: int) -> Response:
    found = _subdistrict(subdistrict_id)
    form = ItemPickForm()
    done = submit(form, lambda: inspections.retire_item(found, form.item_id.data))
    if done.ok:
        return viewkit.done(
            _("The item is retired; earlier visits keep it on their record."), _back(found)
        )
    return _checklist_page(found, edit_form=form, status=form_status(form))


@bp.post("/subdistricts/<int:subdistrict_id>/checklist/move")
def move_item(subdistrict_id: int) -> Response:
    found = _subdistrict(subdistrict_id)
    form = ItemPickForm()
    done = submit(
        form,
        lambda: inspections.move_item(found, form.item_id.data, form.direction.data == "up"),
    )
    if done.ok:
        return viewkit.done(_("Saved."), _back(found))
    return _checklist_page(found, edit_form=form, status=form_status(form))


# --- visits ------------------------------------------------------------------------------------


def _visits_page(form: InspectionForm | None = None, status: int = 200) -> Response:
    p = access.principal()
    pilots = inspections.pilots_to_visit(p)
    if not pilots and not access.can(Action.OVERSEE, p=p):
        access.deny()
    chosen = whole_number(request.args.get("compound"))
    if form is None:
        form = InspectionForm(
            formdata=None,
            key=new_key(),
            visited_on=clock.today(),
            compound_id=chosen,
        )
    return render(
        "rectify/inspections.html",
        status=status,
        pilots=pilots,
        visits=inspections.visible(p),
        form=form,
    )


@bp.get("/inspections")
def inspections_page() -> Response:
    return _visits_page()


@bp.post("/inspections")
def start_inspection() -> Response:
    p = access.principal()
    if not inspections.pilots_to_visit(p) and not access.can(Action.OVERSEE, p=p):
        access.deny()
    form = InspectionForm()
    done = submit(
        form,
        lambda: inspections.start(
            inspections.pick_compound(form.compound_id.data, p),
            viewkit.user(),
            form.visited_on.data,
            form.counterpart.data or "",
            form.key.data,
            p,
        ),
    )
    if done.ok:
        return viewkit.done(
            _("The visit is started. Record each item."),
            url_for(".inspection", inspection_id=done.result.id),
        )
    return _visits_page(form, form_status(form))


@bp.get("/pilots/<int:pilot_id>/inspections")
def pilot_inspections(pilot_id: int) -> Response:
    pilot = access.get_or_404(Pilot, pilot_id)
    return render(
        "rectify/pilot_inspections.html",
        pilot=pilot,
        compound=pilot.compound,
        visits=inspections.of_pilot(pilot),
        may_inspect=access.can(Action.INSPECT, pilot.compound),
    )


def _inspection(inspection_id: int, action: Action = Action.VIEW) -> Inspection:
    return access.get_or_404(Inspection, inspection_id, action)


def _inspection_page(
    inspection: Inspection,
    result_form: ResultForm | None = None,
    finish_form: FinishForm | None = None,
    status: int = 200,
) -> Response:
    records = access.can(Action.INSPECT, inspection) and inspection.finished_at is None
    lines = inspections.lines(inspection)
    return render(
        "rectify/inspection.html",
        status=status,
        inspection=inspection,
        compound=inspection.compound,
        lines=lines,
        records=records,
        result_form=result_form,
        finish_form=finish_form or FinishForm(formdata=None),
        failed=sum(1 for line in lines if line.result is not None and not line.result.passed),
        left=sum(1 for line in lines if line.result is None),
    )


@bp.get("/inspections/<int:inspection_id>")
def inspection(inspection_id: int) -> Response:
    return _inspection_page(_inspection(inspection_id))


@bp.post("/inspections/<int:inspection_id>/results")
@accepts_uploads
def record(inspection_id: int) -> Response:
    found = _inspection(inspection_id, Action.INSPECT)
    form = ResultForm()
    done = submit(
        form,
        lambda: inspections.record_result(
            found,
            viewkit.user(),
            form.item_id.data,
            {"passed": True, "failed": False}.get(form.passed.data or ""),
            form.note.data or "",
            form.photo.data,
        ),
    )
    if done.ok:
        return viewkit.done(
            _("Recorded."),
            url_for(".inspection", inspection_id=found.id) + f"#item-{done.result.item_id}",
        )
    return _inspection_page(found, result_form=form, status=form_status(form))


@bp.post("/inspections/<int:inspection_id>/finish")
def finish(inspection_id: int) -> Response:
    found = _inspection(inspection_id, Action.INSPECT)
    form = FinishForm()
    done = submit(form, lambda: inspections.finish(found, viewkit.user(), form.note.data or ""))
    if done.ok:
        raised = len(done.result)
        message = (
            _("The visit is finished; %(n)d problems were filed.", n=raised)
            if raised
            else _("The visit is finished; every item passed.")
        )
        return viewkit.done(message, url_for(".inspection", inspection_id=found.id))
    return _inspection_page(found, finish_form=form, status=form_status(form))


@bp.get("/inspections/<int:inspection_id>/print")
def print_inspection(inspection_id: int) -> Response:
    found = _inspection(inspection_id)
    return render(
        "rectify/inspection_print.html",
        inspection=found,
        compound=found.compound,
        lines=inspections.lines(found),
    )


@bp.get("/results/<int:result_id>/photo")
def result_photo(result_id: int) -> Response:
    found = access.get_or_404(InspectionResult, result_id)
    return send_upload(found.photo, f"inspection-{found.id}.jpg")

"""Works, the facility register and meetings of a compound."""

from __future__ import annotations

from typing import Any

from flask import flash, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from .. import access, clock, viewkit
from ..access import Action
from ..errors import RuleError
from ..extensions import db
from ..fields import new_key
from ..forms import form_status, ids_prefixed, refuse, submit
from ..fund import service as fund
from ..fund.forms import PaymentForm
from ..htmx import redirect_after_post, render
from ..labels import label
from ..registry.models import Compound
from ..security import accepts_uploads
from ..treasury import service as treasury
from . import bp, works
from .forms import (
    FacilityForm,
    LinkExpenseForm,
    MeetingForm,
    RemoveFacilityForm,
    WorkForm,
    WorkPhotoForm,
    WorkStepForm,
)
from .models import (
    Facility,
    FacilityKind,
    Funding,
    Meeting,
    MeetingKind,
    PhotoStage,
    Work,
    WorkKind,
    WorkStatus,
)

# --- works ------------------------------------------------------------------------------------


def _works_page(compound: Compound, form: WorkForm | None = None, status: int = 200) -> Response:
    triage = access.can(Action.TRIAGE, compound)
    if triage and form is None:
        form = WorkForm(formdata=None, planned_on=clock.today())
        form.decision_id.data = None
    found = works.works_of(compound.id)
    return render(
        "repairs/works.html",
        status=status,
        compound=compound,
        works=found,
        costs=fund.costs_of([w.id for w in found]),
        form=form if triage else None,
    )


@bp.get("/compounds/<int:compound_id>/works")
def works_page(compound_id: int) -> Response:
    compound = access.get_or_404(Compound, compound_id)
    form = None
    if access.can(Action.TRIAGE, compound):
        form = WorkForm(formdata=None, planned_on=clock.today())
        form.decision_id.data = _decision_arg()
        if request.args.get("kind"):
            form.kind.data = request.args["kind"]
    return _works_page(compound, form)


def _decision_arg() -> int | None:
    from ..fields import whole_number

    return whole_number(request.args.get("decision"))


@bp.post("/compounds/<int:compound_id>/works")
def new_work(compound_id: int) -> Response:
    compound = access.get_or_404(Compound, compound_id, Action.TRIAGE)
    form = WorkForm()
    done = submit(
        form,
        lambda: works.plan_work(
            compound,
            works.WorkPlan(
                kind=form.kind.data,
                title=form.title.data,
                description=form.description.data or "",
                budget_fen=form.budget.data,
                funding=form.funding.data,
                planned_on=form.planned_on.data,
                decision_id=form.decision_id.data,
            ),
            viewkit.user(),
        ),
    )
    if done.ok:
        flash(_("Work recorded."), "success")
        return redirect_after_post(url_for(".work", work_id=done.result.id))
    return _works_page(compound, form, form_status(form))


def _work_page(work: Work, status: int = 200, **forms: Any) -> Response:
    triage = access.can(Action.TRIAGE, work)
    context: dict[str, Any] = {"work": work, "compound": work.compound, "triage": triage}
    if triage:
        # Three forms on one page: each field's id carries its form's name.
        context["step_form"] = ids_prefixed(
            forms.get("step_form")
            or WorkStepForm(formdata=None, on=clock.today(), installed=0, version=work.version),
            "step",
        )
        context["photo_form"] = ids_prefixed(
            forms.get("photo_form")
            or WorkPhotoForm(
                formdata=None,
                stage=PhotoStage.BEFORE if work.status == WorkStatus.PLANNED else PhotoStage.AFTER,
            ),
            "photo",
        )
        if work.expense_id is None and work.funding == Funding.FEES:
            context["link_form"] = ids_prefixed(
                forms.get("link_form") or LinkExpenseForm(formdata=None, version=work.version),
                "link",
            )
            context["expenses"] = works.linkable_expenses(work)
        context["installs"] = works.WORK_FACILITY.get(WorkKind(work.kind))
    context["costs"] = fund.costs_of([work.id])[work.id]
    payers = [(str(p), label("payer", p)) for p in fund.PAYERS.get(Funding(work.funding), ())]
    if payers and work.expense_id is None and access.can(Action.MANAGE_FEES, work):
        context["payment_form"] = ids_prefixed(
            PaymentForm(
                formdata=None,
                payers=payers,
                accounts=treasury.paying_accounts(work.compound.area_id),
                paid_on=clock.today(),
                key=new_key(),
            ),
            "pay",
        )
    context["before"] = [p for p in work.photos if p.stage == PhotoStage.BEFORE]
    context["after"] = [p for p in work.photos if p.stage == PhotoStage.AFTER]
    # A refusal must be read even when its form is no longer offered (somebody completed
    # the work, or linked its cost, meanwhile).
    unshown = [] if work.status != WorkStatus.COMPLETED else [forms.get("step_form")]
    unshown += [] if context.get("expenses") else [forms.get("link_form")]
    context["refusals"] = [
        message
        for form in unshown
        if form
        for messages in form.errors.values()
        for message in messages
    ]
    return render("repairs/work.html", status=status, **context)


@bp.get("/works/<int:work_id>")
def work(work_id: int) -> Response:
    return _work_page(access.get_or_404(Work, work_id))


def _work_refused(work: Work, **forms: Any) -> Response:
    db.session.rollback()
    db.session.refresh(work)
    form = next(iter(forms.values()))
    return _work_page(work, form_status(form) if form.errors or form.form_errors else 422, **forms)


@bp.post("/works/<int:work_id>/step")
def work_step(work_id: int) -> Response:
    work = access.get_or_404(Work, work_id, Action.TRIAGE)
    form = WorkStepForm()
    if not form.validate_on_submit():
        return _work_refused(work, step_form=form)
    try:
        if work.status == WorkStatus.PLANNED:
            works.start_work(work, form.on.data, form.version.data)
        else:
            works.complete_work(
                work,
                form.on.data,
                form.installed.data or 0,
                form.location.data or "",
                viewkit.user(),
                form.version.data,
            )
        db.session.commit()
    except RuleError as err:
        refuse(form, err)
        return _work_refused(work, step_form=form)
    flash(_("Saved."), "success")
    return redirect_after_post(url_for(".work", work_id=work.id))


@bp.post("/works/<int:work_id>/expense")
def work_expense(work_id: int) -> Response:
    work = access.get_or_404(Work, work_id, Action.TRIAGE)
    form = LinkExpenseForm()
    if submit(form, lambda: works.link_expense(work, form.expense_id.data, form.version.data)).ok:
        flash(_("The cost is linked to the fee ledger."), "success")
        return redirect_after_post(url_for(".work", work_id=work.id))
    return _work_refused(work, link_form=form)


@bp.post("/works/<int:work_id>/photos")
@accepts_uploads
def work_photos(work_id: int) -> Response:
    work = access.get_or_404(Work, work_id, Action.TRIAGE)
    form = WorkPhotoForm()
    done = submit(
        form,
        lambda: works.add_work_photos(
            work, request.files.getlist("photos"), form.stage.data, viewkit.user()
        ),
    )
    if done.ok:
        flash(_("%(n)d photos added.", n=done.result), "success")
        return redirect_after_post(url_for(".work", work_id=work.id))
    return _work_refused(work, photo_form=form)


# --- facility register ------------------------------------------------------------------------


def _facilities_page(
    compound: Compound, form: FacilityForm | None = None, status: int = 200
) -> Response:
    triage = access.can(Action.TRIAGE, compound)
    if triage and form is None:
        form = FacilityForm(formdata=None, installed_on=clock.today(), count=1)
    return render(
        "repairs/facilities.html",
        status=status,
        compound=compound,
        facilities=works.facilities_of(compound.id),
        totals=works.facility_totals([compound.id]),
        kinds=list(FacilityKind),
        form=form if triage else None,
        remove_form=RemoveFacilityForm(formdata=None, on=clock.today()) if triage else None,
    )


@bp.get("/compounds/<int:compound_id>/facilities")
def facilities(compound_id: int) -> Response:
    return _facilities_page(access.get_or_404(Compound, compound_id))


@bp.post("/compounds/<int:compound_id>/facilities")
def add_facility(compound_id: int) -> Response:
    compound = access.get_or_404(Compound, compound_id, Action.TRIAGE)
    form = FacilityForm()
    entry = works.FacilityEntry(
        kind=form.kind.data,
        count=form.count.data,
        location=form.location.data or "",
        installed_on=form.installed_on.data,
    )
    if submit(form, lambda: works.add_facility(compound, entry, viewkit.user())).ok:
        flash(_("Added to the register."), "success")
        return redirect_after_post(url_for(".facilities", compound_id=compound.id))
    return _facilities_page(compound, form, form_status(form))


@bp.post("/facilities/<int:facility_id>/remove")
def remove_facility(facility_id: int) -> Response:
    facility = access.get_or_404(Facility, facility_id, Action.TRIAGE)
    compound = access.get_or_404(Compound, facility.compound_id, Action.TRIAGE)
    form = RemoveFacilityForm()
    here = url_for(".facilities", compound_id=compound.id)
    if submit(form, lambda: works.remove_facility(facility, form.on.data)).ok:
        flash(_("Marked out of service."), "success")
    else:
        errors = form.on.errors or form.form_errors or [_("Please try again.")]
        flash(errors[0], "error")
    return redirect_after_post(here)


# --- meetings ---------------------------------------------------------------------------------


def _meetings_page(
    compound: Compound, form: MeetingForm | None = None, status: int = 200
) -> Response:
    triage = access.can(Action.TRIAGE, compound)
    kinds = works.meeting_kinds(compound)
    if triage and form is None:
        form = MeetingForm(formdata=None, held_on=clock.today(), kind=kinds[0])
    if form is not None:
        form.kind.choices = [(k.value, label("meeting", k)) for k in kinds]
    return render(
        "repairs/meetings.html",
        status=status,
        compound=compound,
        meetings=works.meetings_of(compound.id),
        form=form if triage else None,
        MeetingKind=MeetingKind,
    )


@bp.get("/compounds/<int:compound_id>/meetings")
def meetings(compound_id: int) -> Response:
    return _meetings_page(access.get_or_404(Compound, compound_id))


@bp.post("/compounds/<int:compound_id>/meetings")
def new_meeting(compound_id: int) -> Response:
    compound = access.get_or_404(Compound, compound_id, Action.TRIAGE)
    form = MeetingForm()
    form.kind.choices = [(k.value, label("meeting", k)) for k in works.meeting_kinds(compound)]
    done = submit(
        form,
        lambda: works.record_meeting(
            compound,
            works.MeetingRecord(
                kind=form.kind.data,
                held_on=form.held_on.data,
                attendees=form.attendees.data,
                attendee_count=form.attendee_count.data,
                problems=form.problems.data,
                decisions=form.decisions.lines,
            ),
            viewkit.user(),
        ),
    )
    if done.ok:
        flash(_("Meeting recorded. Turn its decisions into tasks below."), "success")
        return redirect_after_post(url_for(".meeting", meeting_id=done.result.id))
    return _meetings_page(compound, form, form_status(form))


@bp.get("/meetings/<int:meeting_id>")
def meeting(meeting_id: int) -> Response:
    meeting = access.get_or_404(Meeting, meeting_id)
    return render(
        "repairs/meeting.html",
        meeting=meeting,
        compound=meeting.compound,
        triage=access.can(Action.TRIAGE, meeting),
    )

"""The transition pages: an area's path from its property management committee to an
elected owners' committee or a property company (every step, the forms for the steps that
are the reader's), and the staff's list of where each pilot stands on it."""

from __future__ import annotations

from typing import Any

from flask import make_response, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from .. import access, clock, viewkit
from ..access import Action
from ..errors import RuleError
from ..fields import whole_number
from ..forms import AppForm, form_status, submit
from ..htmx import render
from ..labels import label
from ..registry.models import ManagementArea
from ..votes.models import Vote
from . import bp, service
from .bundle import open_money
from .forms import (
    AssemblyForm,
    CompanyForm,
    ElectedForm,
    FilingForm,
    HandoverForm,
    PreparationForm,
    StartForm,
)
from .models import Stage, Target, Transition

# --- staff: where each pilot stands -----------------------------------------------------------


@bp.get("/")
def index() -> Response:
    p = access.require_staff()
    stage = request.args.get("stage", "")
    wanted = service.Filters(
        stage=stage if stage == "none" or stage in set(Stage) else "",
        page=whole_number(request.args.get("page"), 10_000) or 1,
    )
    lines, total = service.pilot_lines(access.staff_compound_filter(p), wanted)
    return render(
        "transition/index.html",
        "transition/_pilot_table.html",
        target="pilot-table",
        lines=lines,
        total=total,
        wanted=wanted,
        page=wanted.page,
        pages=max(1, -(-total // service.PAGE)),
        args={"stage": wanted.stage} if wanted.stage else {},
        stages=list(Stage),
        rights_ended=service.rights_ended,
    )


# --- an area's path ---------------------------------------------------------------------------


def _vote_label(vote: Vote) -> str:
    return f"{vote.title} · {label('vote_status', vote.status)}"


def _forms(area: ManagementArea, transition: Transition | None) -> dict[str, AppForm | None]:
    """Blank forms for the step the path waits for, where the reader may take it."""
    today = clock.today()
    if transition is None:
        if not access.can(Action.TRANSITION, area):
            return {}
        form = StartForm(formdata=None)
        form.started_on.data = today
        return {"start_form": form}
    owners_side = access.can(Action.TRANSITION, area)
    staff_side = access.can(Action.FILE_TRANSITION, area)
    found: dict[str, AppForm | None] = {}
    waiting = service.next_stage(transition)
    if owners_side and waiting is Stage.PREPARED:
        found["preparation_form"] = PreparationForm(formdata=None, happened_on=today)
    if owners_side and waiting in (Stage.ASSEMBLY, Stage.ELECTED):
        # Another assembly may follow one whose vote did not pass.
        votes = [(v.id, _vote_label(v)) for v in service.assembly_votes(area, transition.target)]
        found["assembly_form"] = AssemblyForm(formdata=None, votes=votes, happened_on=today)
    if owners_side and waiting is Stage.ELECTED:
        if transition.target == Target.OWNERS_COMMITTEE:
            found["elected_form"] = ElectedForm(formdata=None, happened_on=today)
        else:
            found["company_form"] = CompanyForm(formdata=None, happened_on=today)
    if staff_side and waiting is Stage.FILED:
        found["filing_form"] = FilingForm(formdata=None, happened_on=today)
    if staff_side and waiting is Stage.HANDED_OVER:
        found["handover_form"] = HandoverForm(
            formdata=None,
            happened_on=today,
            rights_end_on=today,
            handed_to=service.new_body(transition),
        )
    return found


def _page(area: ManagementArea, status: int = 200, **forms: Any) -> Response:
    transition = service.transition_of(area)
    runs = access.can(Action.TRANSITION, area)
    shown = {**_forms(area, transition), **forms}
    if shown.get("handover_form") is not None:
        shown["open_money"] = open_money(area)
    return render(
        "transition/area.html",
        area=area,
        transition=transition,
        runs=runs,
        staff=access.can(Action.FILE_TRANSITION, area),
        steps={kind: service.latest(transition, kind) for kind in Stage} if transition else {},
        assemblies=[s for s in transition.steps if s.kind == Stage.ASSEMBLY] if transition else [],
        people=service.people,
        waiting=service.next_stage(transition) if transition else None,
        rights_ended=service.rights_ended(transition) if transition else False,
        stages=list(Stage),
        status=status,
        **shown,
    )


@bp.get("/areas/<int:area_id>")
def area(area_id: int) -> Response:
    return _page(access.get_or_404(ManagementArea, area_id))


def _here(area: ManagementArea) -> str:
    return url_for(".area", area_id=area.id)


def _transition(area: ManagementArea) -> Transition:
    """The area's transition, for a step; a flash and back to the page when there is none."""
    transition = service.transition_of(area)
    if transition is None:
        raise RuleError(_("Start the transition first."))
    return transition


def _step(
    area: ManagementArea,
    form: AppForm,
    name: str,
    change: Any,
    message: str,
) -> Response:
    """Submit a step's form: done, or the page again with the form and its errors."""
    try:
        transition = _transition(area)
    except RuleError as err:
        return viewkit.refused(err, _here(area))
    done = submit(form, lambda: change(transition))
    if done.ok:
        return viewkit.done(message, _here(area))
    return _page(area, status=form_status(form), **{name: form})


@bp.post("/areas/<int:area_id>/start")
def start(area_id: int) -> Response:
    area = access.get_or_404(ManagementArea, area_id, Action.TRANSITION)
    form = StartForm()
    done = submit(
        form,
        lambda: service.start(area, form.target.data, form.started_on.data, viewkit.user()),
    )
    if done.ok:
        return viewkit.done(_("The transition has started."), _here(area))
    return _page(area, status=form_status(form), start_form=form)


@bp.post("/areas/<int:area_id>/preparation")
def preparation(area_id: int) -> Response:
    area = access.get_or_404(ManagementArea, area_id, Action.TRANSITION)
    form = PreparationForm()
    return _step(
        area,
        form,
        "preparation_form",
        lambda t: service.form_preparation(
            t, form.happened_on.data, form.people(), viewkit.user(), form.note.data
        ),
        _("The preparation group is recorded."),
    )


@bp.post("/areas/<int:area_id>/assembly")
def assembly(area_id: int) -> Response:
    area = access.get_or_404(ManagementArea, area_id, Action.TRANSITION)
    transition = service.transition_of(area)
    votes = (
        [(v.id, _vote_label(v)) for v in service.assembly_votes(area, transition.target)]
        if transition
        else []
    )
    form = AssemblyForm(votes=votes)
    return _step(
        area,
        form,
        "assembly_form",
        lambda t: service.hold_assembly(
            t,
            access.find(Vote, form.vote.data, Action.CONSULT),
            form.happened_on.data,
            viewkit.user(),
            form.note.data,
        ),
        _("The first owners' assembly is recorded."),
    )


@bp.post("/areas/<int:area_id>/elected")
def elected(area_id: int) -> Response:
    area = access.get_or_404(ManagementArea, area_id, Action.TRANSITION)
    form = ElectedForm()
    return _step(
        area,
        form,
        "elected_form",
        lambda t: service.record_elected(
            t, form.happened_on.data, form.people(), viewkit.user(), form.note.data
        ),
        _("The elected owners' committee is recorded."),
    )


@bp.post("/areas/<int:area_id>/company")
def company(area_id: int) -> Response:
    area = access.get_or_404(ManagementArea, area_id, Action.TRANSITION)
    form = CompanyForm()
    return _step(
        area,
        form,
        "company_form",
        lambda t: service.record_company(
            t,
            form.happened_on.data,
            form.company_name.data,
            form.credit_code.data,
            form.contract_from.data,
            form.contract_to.data,
            viewkit.user(),
            form.note.data,
        ),
        _("The chosen property company is recorded."),
    )


@bp.post("/areas/<int:area_id>/filing")
def filing(area_id: int) -> Response:
    area = access.get_or_404(ManagementArea, area_id, Action.FILE_TRANSITION)
    form = FilingForm()
    return _step(
        area,
        form,
        "filing_form",
        lambda t: service.record_filing(
            t, form.happened_on.data, form.filing_no.data, viewkit.user(), form.note.data
        ),
        _("The filing is recorded."),
    )


@bp.post("/areas/<int:area_id>/handover")
def handover(area_id: int) -> Response:
    area = access.get_or_404(ManagementArea, area_id, Action.FILE_TRANSITION)
    form = HandoverForm()
    return _step(
        area,
        form,
        "handover_form",
        lambda t: service.hand_over(
            t,
            form.happened_on.data,
            form.handed_to.data,
            form.rights_end_on.data,
            form.signed_old.data,
            form.signed_new.data,
            viewkit.user(),
            form.note.data,
        ),
        _("The hand-over is recorded and its bundle frozen."),
    )


# The frozen bundle's downloads: what to send for each kind.
DOWNLOADS = {
    "pdf": ("application/pdf", service.frozen_pdf),
    "xlsx": (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        service.frozen_xlsx,
    ),
}


@bp.get("/areas/<int:area_id>/handover.<ext>")
def handover_file(area_id: int, ext: str) -> Response:
    """The bundle as the hand-over froze it: for the committee and staff only (it lists every
    home's arrears); anyone else is told nothing exists."""
    area = access.get_or_404(ManagementArea, area_id)
    if not access.can(Action.TRANSITION, area) or ext not in DOWNLOADS:
        access.deny()
    transition = service.transition_of(area)
    step = service.latest(transition, Stage.HANDED_OVER) if transition else None
    if step is None:
        access.deny()
    mimetype, write = DOWNLOADS[ext]
    response = make_response(write(step))
    response.mimetype = mimetype
    name = f"handover-{area.code}-{step.happened_on:%Y%m%d}.{ext}"
    response.headers["Content-Disposition"] = f"attachment; filename={name}"
    return response

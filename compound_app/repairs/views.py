"""Repair pages: report, follow and work a task; the works board; my reports."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from werkzeug.wrappers import Response

from .. import access, clock, viewkit
from ..access import Action, TaskView
from ..errors import RuleError
from ..extensions import db
from ..fields import new_key, whole_number
from ..forms import form_status, ids_prefixed, refuse
from ..htmx import redirect_after_post, render
from ..public import posters
from ..public.models import LinkKind
from ..registry.models import Building, Compound, Household, Subdistrict, Unit
from ..security import accepts_uploads
from ..uploads import send_upload
from . import bp, levels, queries, workflow
from .forms import AssignForm, MoveForm, RateForm, ReportForm, TargetsForm
from .models import (
    FINISHED,
    AssigneeKind,
    Category,
    MeetingDecision,
    Place,
    RepairPhoto,
    RepairTask,
    Status,
)


def _compound(compound_id: int, action: Action = Action.VIEW) -> Compound:
    return access.get_or_404(Compound, compound_id, action)


# --- the works board and the committee's list -------------------------------------------------


@bp.get("/compounds/<int:compound_id>/board")
def board(compound_id: int) -> Response:
    compound = _compound(compound_id)
    return render(
        "repairs/board.html",
        compound=compound,
        tasks=queries.board(compound.id),
        counts=queries.counts(compound.id),
        levels=queries.service_levels(compound.id, months=3),
        today=clock.today(),
        is_overdue=levels.is_overdue,
        triage=access.can(Action.TRIAGE, compound),
        may_report=access.can(Action.REPORT, compound),
        public=posters.poster(LinkKind.WORKS_BOARD, compound.id),
    )


@bp.get("/compounds/<int:compound_id>")
def tasks(compound_id: int) -> Response:
    compound = _compound(compound_id, Action.TRIAGE)
    status = request.args.get("status", "open")
    wanted = queries.TaskFilter(
        status=status if status in {"open", "overdue", "finished", *Status} else "open",
        category=request.args.get("category", "")
        if request.args.get("category") in set(Category)
        else "",
        page=whole_number(request.args.get("page"), 10_000) or 1,
    )
    found, pages = queries.compound_tasks(compound.id, wanted)
    return render(
        "repairs/tasks.html",
        "repairs/_task_table.html",
        target="task-table",
        compound=compound,
        found=found,
        pages=pages,
        wanted=wanted,
        counts=queries.counts(compound.id),
        levels=queries.service_levels(compound.id),
        is_overdue=levels.is_overdue,
        statuses=list(Status),
        categories=list(Category),
    )


@bp.get("/mine")
def mine() -> Response:
    p = access.principal()
    if p.is_anonymous:
        abort(404)
    return render(
        "repairs/mine.html",
        tasks=queries.my_reports(viewkit.user(), p),
        is_overdue=levels.is_overdue,
        compounds=_reporting_compounds(p),
    )


def _reporting_compounds(p: access.Principal) -> list[Compound]:
    ids = p.rep_compounds | p.resident_compounds
    if not ids:
        return []
    return list(
        db.session.scalars(select(Compound).where(Compound.id.in_(ids)).order_by(Compound.name))
    )


# --- reporting --------------------------------------------------------------------------------


def _homes_for(compound: Compound, p: access.Principal) -> list[tuple[Household, str]]:
    """The homes the user may report for: their own, their units', or (committee) all."""
    query = (
        select(Household, Unit, Building)
        .join(Unit, Unit.id == Household.unit_id)
        .join(Building, Building.id == Unit.building_id)
        .where(Building.compound_id == compound.id)
        .order_by(Building.sort_key, Unit.sort_key, Household.sort_key)
    )
    if not access.can(Action.TRIAGE, compound, p):
        query = query.where(Household.id.in_(p.resident_households) | Unit.id.in_(p.rep_units))
    return [
        (home, f"{building.name}-{unit.name}-{home.room}")
        for home, unit, building in db.session.execute(query.limit(2000))
    ]


def _units_of(compound: Compound) -> list[tuple[int, str]]:
    rows = db.session.execute(
        select(Unit.id, Unit.name, Building.name)
        .join(Building, Building.id == Unit.building_id)
        .where(Building.compound_id == compound.id)
        .order_by(Building.sort_key, Unit.sort_key)
    )
    return [(unit_id, f"{building}-{unit}") for unit_id, unit, building in rows]


def _report_page(
    compound: Compound, form: ReportForm, status: int = 200, picking: bool = False
) -> Response:
    """The report form; ``picking``: first the choice of the neighbour's home."""
    p = access.principal()
    homes = _homes_for(compound, p)
    # A representative reporting for a neighbour: the homes of their units, not their own.
    neighbours = [(h, text) for h, text in homes if h.id not in p.resident_households]
    if picking:
        # The homes of the unit the page was opened for, else of all their units.
        unit = whole_number(request.args.get("unit"))
        neighbours = [(h, text) for h, text in neighbours if h.unit_id == unit] or neighbours
    neighbour_home = None
    if form.neighbour.data == "1":
        neighbour_home = next(
            ((h, text) for h, text in neighbours if h.id == form.household_id.data), None
        )
    decision = None
    if form.decision_id.data and access.can(Action.TRIAGE, compound, p):
        decision = access.find(MeetingDecision, form.decision_id.data, Action.TRIAGE)
        if decision is None or decision.meeting.compound_id != compound.id:
            decision = None
    return render(
        "repairs/new.html",
        status=status,
        compound=compound,
        form=form,
        homes=homes,
        own_homes={h.id for h, _label in homes if h.id in p.resident_households},
        picking=picking,
        neighbours=neighbours,
        neighbour_home=neighbour_home,
        units=_units_of(compound),
        decision=decision,
        max_photos=workflow.MAX_PHOTOS,
        back=_report_back(compound, p),
    )


def _report_back(compound: Compound, p: access.Principal) -> tuple[str, str]:
    """The report form's breadcrumb: the committee's task list, else the user's reports."""
    if access.can(Action.TRIAGE, compound, p):
        return url_for(".tasks", compound_id=compound.id), _(
            "Repair tasks of %(compound)s", compound=compound.name
        )
    return url_for(".mine"), _("My reports")


@bp.get("/compounds/<int:compound_id>/new")
def new(compound_id: int) -> Response:
    """The report form. With ``?neighbour=1`` (a representative reporting for a resident
    of their units) no home of their own is chosen: they first pick the neighbour's home,
    and the report is placed in that home's unit unless they choose another place."""
    compound = _compound(compound_id, Action.REPORT)
    form = ReportForm(formdata=None, key=new_key(), place=Place.PUBLIC)
    p = access.principal()
    chosen = whole_number(request.args.get("household"))
    homes = [h for h, _label in _homes_for(compound, p)]
    form.decision_id.data = whole_number(request.args.get("decision"))
    if request.args.get("category") in set(Category):
        form.category.data = request.args["category"]
    neighbours = [h for h in homes if h.id not in p.resident_households]
    if request.args.get("neighbour") == "1" and neighbours:
        form.neighbour.data = "1"
        home = next((h for h in neighbours if h.id == chosen), None)
        if home is None:
            return _report_page(compound, form, picking=True)
        form.household_id.data, form.unit_id.data = home.id, home.unit_id
        return _report_page(compound, form)
    own = [h for h in homes if h.id in p.resident_households]
    form.household_id.data = chosen or (own[0].id if own else None)
    return _report_page(compound, form)


@bp.post("/compounds/<int:compound_id>/new")
@accepts_uploads
def create(compound_id: int) -> Response:
    compound = _compound(compound_id, Action.REPORT)
    form = ReportForm()
    if not form.validate_on_submit():
        return _report_page(compound, form, form_status(form))
    report = workflow.Report(
        category=form.category.data,
        description=form.description.data,
        priority=form.priority.data,
        place=form.place.data,
        building_id=form.building_id.data,
        unit_id=form.unit_id.data,
        household_id=form.household_id.data,
        resident_name=form.resident_name.data or "",
        for_neighbour=form.neighbour.data == "1",
        decision_id=form.decision_id.data,
        request_key=form.key.data,
    )
    try:
        task = workflow.report_task(
            compound, report, viewkit.user(), request.files.getlist("photos")
        )
        db.session.commit()
    except RuleError as err:
        refuse(form, err)
        return _report_page(compound, form, form_status(form))
    except IntegrityError:
        # The same form sent twice at once: the first one made the task.
        db.session.rollback()
        first = db.session.scalar(select(RepairTask).where(RepairTask.request_key == form.key.data))
        if first is None:
            raise
        task = first
    flash(_("Reported. You can follow it here."), "success")
    return redirect_after_post(url_for(".task", task_id=task.id))


# --- one task ---------------------------------------------------------------------------------


def _task(task_id: int) -> tuple[RepairTask, TaskView]:
    task = access.get_or_404(RepairTask, task_id)
    view = access.task_view(task)
    assert view is not None  # get_or_404 let the task through
    return task, view


def _task_context(task: RepairTask, view: TaskView, **forms: Any) -> dict[str, Any]:
    user = viewkit.user()
    triage = access.can(Action.TRIAGE, task.compound)
    moves = workflow.moves_for(task, user)
    # The usual next step is the page's big button; refusing, reopening, sending back and
    # closing unchecked are offered apart, below it, each with its reason.
    main_moves = [m for m in moves if not m.secondary]
    other_moves = [m for m in moves if m.secondary]
    sent = forms.get("move_form")
    sent_other = sent is not None and (
        getattr(workflow.MOVES.get(sent.move.data or ""), "secondary", False)
    )
    move_form = (None if sent_other else sent) or MoveForm(formdata=None, version=task.version)
    other_form = (sent if sent_other else None) or MoveForm(formdata=None, version=task.version)
    other_form.note.label.text = _("Reason")
    context: dict[str, Any] = {
        "task": task,
        "view": view,
        "moves": moves,
        "main_moves": main_moves,
        "other_moves": other_moves,
        "move_form": ids_prefixed(move_form, "move"),
        "other_form": ids_prefixed(other_form, "other"),
        "is_overdue": levels.is_overdue(task),
        "reporters": _reporter_ids(task),
        "may_rate": task.status == Status.CLOSED
        and task.rating is None
        and access.is_reporter(task),
        "rate_form": ids_prefixed(forms.get("rate_form") or RateForm(formdata=None), "rate"),
        "contacts": triage and access.can(Action.VIEW_CONTACTS, task.compound),
        "live": task.status not in FINISHED,
        "back": _way_back(task, triage),
        "problem": _problem_of(task),
    }
    if workflow.can_assign(task):
        people = workflow.assignable_people(task)
        form = forms.get("assign_form") or AssignForm(
            formdata=None,
            version=task.version,
            kind=task.assignee_kind or AssigneeKind.MEMBER,
            member_id=task.assignee_id,
            contractor=task.assignee_name if task.assignee_kind == AssigneeKind.CONTRACTOR else "",
            category=task.category,
            priority=task.priority,
        )
        context.update(assign_form=ids_prefixed(form, "assign"), people=people)
    # A refusal must be read even when its form is no longer offered (the step was taken
    # by somebody else meanwhile, or was never this user's to take).
    unshown = [] if main_moves else [context["move_form"]]
    unshown += [] if other_moves else [context["other_form"]]
    unshown += [] if context["may_rate"] else [context["rate_form"]]
    unshown += [] if "assign_form" in context else [forms.get("assign_form")]
    context["refusals"] = [
        message
        for form in unshown
        if form
        for messages in form.errors.values()
        for message in messages
    ]
    return context


def _problem_of(task: RepairTask) -> Any:
    """The problem on the register this task was made from, if the user may open it."""
    from ..problems.service import problem_of_task

    found = problem_of_task(task.id)
    return found if found is not None and access.problem_view(found) is not None else None


def _way_back(task: RepairTask, triage: bool) -> tuple[str, str]:
    """Where the task page's breadcrumb leads: the list the user came from."""
    if triage:
        return url_for(".tasks", compound_id=task.compound_id), _(
            "Repair tasks of %(compound)s", compound=task.compound.name
        )
    if access.is_reporter(task):
        return url_for(".mine"), _("My reports")
    return url_for(".board", compound_id=task.compound_id), _(
        "Works board of %(compound)s", compound=task.compound.name
    )


def _reporter_ids(task: RepairTask) -> set[int]:
    """Accounts whose steps a neighbour sees as "the reporter", not by name."""
    ids = {task.reported_by_id}
    if task.household is not None:
        ids |= {o.user_id for o in task.household.occupants if o.user_id}
    return ids


@bp.get("/<int:task_id>")
def task(task_id: int) -> Response:
    task, view = _task(task_id)
    return render("repairs/task.html", **_task_context(task, view))


@bp.get("/<int:task_id>/live")
def live(task_id: int) -> Response:
    """The task's status, steps and timeline, for the open page to refresh itself.

    Answers 204 (htmx swaps nothing) while the version the page shows is current, so a
    note being typed is not wiped by a refresh that changes nothing.
    """
    task, view = _task(task_id)
    if whole_number(request.args.get("v")) == task.version:
        return Response(status=204)
    return render("repairs/_live.html", **_task_context(task, view))


def _back(task: RepairTask) -> str:
    return url_for(".task", task_id=task.id)


def _task_refused(task: RepairTask, view: TaskView, **forms: Any) -> Response:
    db.session.rollback()
    db.session.refresh(task)
    return render("repairs/task.html", status=422, **_task_context(task, view, **forms))


@bp.post("/<int:task_id>/move")
@accepts_uploads
def move(task_id: int) -> Response:
    task, view = _task(task_id)
    form = MoveForm()
    if not form.validate_on_submit():
        return _task_refused(task, view, move_form=form)
    try:
        workflow.move(
            task,
            form.move.data or "",
            viewkit.user(),
            version=form.version.data,
            note=form.note.data or "",
            photos=request.files.getlist("photos"),
        )
        db.session.commit()
    except RuleError as err:
        refuse(form, err)
        return _task_refused(task, view, move_form=form)
    flash(
        _("Done: the task is now “%(status)s”.", status=workflow.status_label(task.status)),
        "success",
    )
    return redirect_after_post(_back(task))


@bp.post("/<int:task_id>/assign")
def assign(task_id: int) -> Response:
    task, view = _task(task_id)
    if not access.can(Action.TRIAGE, task.compound):
        abort(403)
    form = AssignForm()
    if not form.validate_on_submit():
        return _task_refused(task, view, assign_form=form)
    assignment = workflow.Assignment(
        kind=form.kind.data,
        member_id=form.member_id.data,
        contractor=form.contractor.data or "",
        category=form.category.data,
        priority=form.priority.data,
        note=form.note.data or "",
    )
    try:
        workflow.assign(task, assignment, viewkit.user(), version=form.version.data)
        db.session.commit()
    except RuleError as err:
        refuse(form, err)
        return _task_refused(task, view, assign_form=form)
    flash(_("Assigned to %(name)s.", name=task.assignee_name), "success")
    return redirect_after_post(_back(task))


@bp.post("/<int:task_id>/rate")
def rate(task_id: int) -> Response:
    task, view = _task(task_id)
    form = RateForm()
    if not form.validate_on_submit():
        return _task_refused(task, view, rate_form=form)
    try:
        workflow.rate(task, viewkit.user(), form.rating.data, form.comment.data or "")
        db.session.commit()
    except RuleError as err:
        refuse(form, err)
        return _task_refused(task, view, rate_form=form)
    flash(_("Thank you for your rating."), "success")
    return redirect_after_post(_back(task))


@bp.get("/photos/<int:photo_id>")
def photo(photo_id: int) -> Response:
    photo = access.get_or_404(RepairPhoto, photo_id)
    return send_upload(photo.file, f"photo-{photo.id}.jpg")


# --- service levels ---------------------------------------------------------------------------


@bp.route("/subdistricts/<int:subdistrict_id>/targets", methods=["GET", "POST"])
def targets(subdistrict_id: int) -> Response:
    subdistrict = access.get_or_404(Subdistrict, subdistrict_id, Action.MANAGE)
    current = levels.target_days(subdistrict.id)
    form = TargetsForm(data={f"days_{k}": v for k, v in current.items()})
    if request.method == "POST":
        if form.validate_on_submit():
            levels.set_target_days(subdistrict.id, form.days())
            db.session.commit()
            flash(_("Saved. New tasks are due by these targets."), "success")
            return redirect_after_post(url_for(".targets", subdistrict_id=subdistrict.id))
        return render(
            "repairs/targets.html", status=form_status(form), subdistrict=subdistrict, form=form
        )
    return render("repairs/targets.html", subdistrict=subdistrict, form=form)

"""Rectification pages: the project lists, a project on a phone (its problems, plan,
budget, progress, evidence and verification; a dispute's parties and agreement; a volunteer
project's hours), and making a project of one or more problems."""

from __future__ import annotations

from typing import Any

from flask import request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from .. import access, clock, viewkit
from ..access import Action, ProjectView
from ..fields import new_key, whole_number
from ..forms import form_status, submit
from ..htmx import render
from ..registry.models import Community, Compound, Subdistrict
from ..security import accepts_uploads
from ..uploads import send_upload
from . import bp, service
from .forms import (
    AgreementForm,
    CompleteForm,
    HoursForm,
    NoteForm,
    PartyForm,
    ProjectForm,
    VerifyForm,
    VolunteerForm,
)
from .models import ProjectKind, RectifyPhoto, RectifyProject, Stage


@bp.app_context_processor
def _problem_links() -> dict[str, Any]:
    """For a problem's page: the projects that take it on (``rectify/_problem_projects.html``)."""
    return {"rectify_projects_of": service.projects_of_problem}


# --- lists --------------------------------------------------------------------------------------


def _filters() -> service.Filters:
    args = request.args
    return service.Filters(
        kind=args.get("kind", "") if args.get("kind") in set(ProjectKind) else "",
        stage=args.get("stage", "") if args.get("stage") in set(Stage) else "",
        page=whole_number(args.get("page"), 10_000) or 1,
    )


def _list_page(title: str, where: Any, **context: Any) -> Response:
    wanted = _filters()
    rows, total, stages = service.project_list(
        access.project_filter() & where if where is not None else access.project_filter(), wanted
    )
    return render(
        "rectify/list.html",
        "rectify/_project_table.html",
        target="project-table",
        title=title,
        rows=rows,
        total=total,
        stages=stages,
        wanted=wanted,
        page=wanted.page,
        pages=max(1, -(-total // service.PAGE)),
        args={k: v for k, v in (("kind", wanted.kind), ("stage", wanted.stage)) if v},
        kinds=list(ProjectKind),
        stage_codes=list(Stage),
        **context,
    )


@bp.get("/compounds/<int:compound_id>")
def compound(compound_id: int) -> Response:
    found = access.get_or_404(Compound, compound_id)
    return _list_page(
        _("Rectification projects of %(name)s", name=found.name),
        service.where_compound(found),
        compound=found,
        community=found.community if access.can(Action.RECTIFY, found.community) else None,
    )


@bp.get("/communities/<int:community_id>")
def community(community_id: int) -> Response:
    found = access.get_or_404(Community, community_id, Action.RECTIFY)
    return _list_page(
        _("Rectification projects of %(name)s", name=found.name),
        service.where_community(found),
        community=found,
    )


@bp.get("/subdistricts/<int:subdistrict_id>")
def subdistrict(subdistrict_id: int) -> Response:
    found = access.get_or_404(Subdistrict, subdistrict_id, Action.ADMINISTER)
    return _list_page(
        _("Rectification projects of %(name)s", name=found.name),
        service.where_subdistrict(found),
        subdistrict=found,
    )


# --- a new project ----------------------------------------------------------------------------


def _problem_label(problem: Any) -> str:
    where = problem.compound.name if problem.compound is not None else _("community-wide")
    return f"#{problem.id} {problem.title} · {where}"


def _project_form(community: Community, chosen: list[int], formdata: Any = None) -> ProjectForm:
    compound_id = whole_number(request.args.get("compound"))
    offered = service.open_problems(community, compound_id)
    picked = [p for p in service.pick_problems(chosen) if p not in offered]
    problems = [(p.id, _problem_label(p)) for p in [*picked, *offered]]
    works = [(w.id, f"{w.compound.name} · {w.title}") for w in service.work_choices(community)]
    owners = [(u.id, u.name) for u in service.owner_choices(community)]
    kwargs: dict[str, Any] = {"problems": problems, "works": works, "owners": owners}
    if formdata is None:
        return ProjectForm(
            formdata=None,
            key=new_key(),
            due_on=None,
            budget=0,
            level="compound"
            if compound_id or len({p.compound_id for p in picked}) == 1
            else "community",
            **kwargs,
            data={"problems": chosen},
        )
    return ProjectForm(**kwargs)


def _new_page(community: Community, form: ProjectForm, status: int = 200) -> Response:
    return render("rectify/new.html", community=community, form=form, status=status)


@bp.get("/communities/<int:community_id>/new")
def new(community_id: int) -> Response:
    found = access.get_or_404(Community, community_id, Action.RECTIFY)
    chosen = [n for n in (whole_number(v) for v in request.args.getlist("problem")) if n]
    return _new_page(found, _project_form(found, chosen))


@bp.post("/communities/<int:community_id>/projects")
def create(community_id: int) -> Response:
    found = access.get_or_404(Community, community_id, Action.RECTIFY)
    # The problems sent are offered too: the service says why one cannot be taken on.
    sent = [n for n in (whole_number(v) for v in request.form.getlist("problems")) if n]
    form = _project_form(found, sent, formdata=True)

    def change() -> RectifyProject:
        draft = service.Draft(
            kind=form.kind.data,
            level=form.level.data,
            title=form.title.data or "",
            due_on=form.due_on.data,
            plan=form.plan.data or "",
            budget_fen=form.budget.data or 0,
            work=service.pick_work(found, form.work.data),
            owner=service.pick_owner(found, form.owner.data),
            owner_name=form.owner_name.data or "",
        )
        return service.create_project(
            service.pick_problems(form.problems.data or []),
            draft,
            viewkit.user(),
            form.key.data,
            within=found,
        )

    done = submit(form, change)
    if done.ok:
        return viewkit.done(
            _("The project is approved. Record its progress as the work goes on."),
            url_for(".project", project_id=done.result.id),
        )
    return _new_page(found, form, form_status(form))


# --- one project --------------------------------------------------------------------------------


def _project(project_id: int, action: Action = Action.VIEW) -> RectifyProject:
    return access.get_or_404(RectifyProject, project_id, action)


def _project_page(project: RectifyProject, status: int = 200, **forms: Any) -> Response:
    p = access.principal()
    view = access.project_view(project, p)
    runs = view is ProjectView.FULL
    verifies = project.stage == Stage.COMPLETED and service.may_verify(project, p)
    reporter = service.is_reporter(project, p)
    volunteers = service.volunteer_lines(project) if project.kind == ProjectKind.VOLUNTEER else []
    defaults: dict[str, Any] = {
        "note_form": NoteForm(formdata=None, key=new_key()) if runs else None,
        "complete_form": CompleteForm(formdata=None, key=new_key()) if runs else None,
        "verify_form": VerifyForm(formdata=None, verdict="accept") if verifies else None,
        "party_form": PartyForm(formdata=None) if runs else None,
        "agreement_form": AgreementForm(formdata=None, key=new_key()) if runs else None,
        "volunteer_form": VolunteerForm(formdata=None) if runs else None,
        "hours_form": HoursForm(
            formdata=None,
            key=new_key(),
            on=clock.today(),
            volunteers=[(line.volunteer.id, line.volunteer.name) for line in volunteers],
        )
        if runs
        else None,
    }
    defaults.update({k: v for k, v in forms.items() if v is not None})
    problems = service.problems_of(project)
    return render(
        "rectify/project.html",
        status=status,
        project=project,
        view=str(view),
        runs=runs,
        reporter=reporter,
        problems=problems,
        community=service.community_of(project),
        photos=service.photos_of(project),
        parties=service.parties_of(project) if project.kind == ProjectKind.DISPUTE else [],
        agreement=service.agreement_of(project),
        volunteers=volunteers,
        total_minutes=sum(line.minutes for line in volunteers),
        sessions=service.volunteer_sessions(project) if runs and volunteers else [],
        hours_text=service.hours_text,
        work_visible=project.work is not None and access.can(Action.VIEW, project.work),
        overdue=project.stage in service.OPEN_STAGES and project.due_on < clock.today(),
        **defaults,
    )


@bp.get("/projects/<int:project_id>")
def project(project_id: int) -> Response:
    return _project_page(_project(project_id))


def _here(project: RectifyProject) -> str:
    return url_for(".project", project_id=project.id)


@bp.post("/projects/<int:project_id>/notes")
@accepts_uploads
def note(project_id: int) -> Response:
    found = _project(project_id, Action.RECTIFY)
    form = NoteForm()
    done = submit(
        form,
        lambda: service.add_note(
            found,
            viewkit.user(),
            form.note.data or "",
            request.files.getlist("photos"),
            form.key.data,
        ),
    )
    if done.ok:
        return viewkit.done(_("The progress is recorded."), _here(found))
    return _project_page(found, form_status(form), note_form=form)


@bp.post("/projects/<int:project_id>/complete")
@accepts_uploads
def complete(project_id: int) -> Response:
    found = _project(project_id, Action.RECTIFY)
    form = CompleteForm()
    done = submit(
        form,
        lambda: service.complete(
            found,
            viewkit.user(),
            form.evidence.data or "",
            request.files.getlist("photos"),
            form.key.data,
        ),
    )
    if done.ok:
        return viewkit.done(
            _("Completed. A reporter or an inspector now verifies it."), _here(found)
        )
    return _project_page(found, form_status(form), complete_form=form)


@bp.post("/projects/<int:project_id>/verify")
def verify(project_id: int) -> Response:
    found = _project(project_id)
    form = VerifyForm()

    def change() -> Any:
        rating = whole_number(form.rating.data) if form.rating.data else None
        return service.verify(
            found, viewkit.user(), form.verdict.data == "accept", form.note.data or "", rating
        )

    done = submit(form, change)
    if done.ok:
        message = (
            _("Verified. Thank you.")
            if found.stage == Stage.VERIFIED
            else _("Sent back: the project is being fixed again.")
        )
        return viewkit.done(message, _here(found))
    return _project_page(found, form_status(form), verify_form=form)


@bp.post("/projects/<int:project_id>/parties")
def party(project_id: int) -> Response:
    found = _project(project_id, Action.RECTIFY)
    form = PartyForm()
    done = submit(
        form,
        lambda: service.add_party(
            found, viewkit.user(), form.role.data or "", form.name.data or ""
        ),
    )
    if done.ok:
        return viewkit.done(_("The party is recorded."), _here(found) + "#dispute")
    return _project_page(found, form_status(form), party_form=form)


@bp.post("/projects/<int:project_id>/agreement")
@accepts_uploads
def agreement(project_id: int) -> Response:
    found = _project(project_id, Action.RECTIFY)
    form = AgreementForm()
    done = submit(
        form,
        lambda: service.record_agreement(
            found, viewkit.user(), form.text.data or "", form.photo.data, form.key.data
        ),
    )
    if done.ok:
        return viewkit.done(_("The agreement is recorded."), _here(found) + "#dispute")
    return _project_page(found, form_status(form), agreement_form=form)


@bp.post("/projects/<int:project_id>/volunteers")
def volunteer(project_id: int) -> Response:
    found = _project(project_id, Action.RECTIFY)
    form = VolunteerForm()
    done = submit(form, lambda: service.add_volunteer(found, viewkit.user(), form.name.data or ""))
    if done.ok:
        return viewkit.done(_("The volunteer is on the list."), _here(found) + "#volunteers")
    return _project_page(found, form_status(form), volunteer_form=form)


@bp.post("/projects/<int:project_id>/hours")
def hours(project_id: int) -> Response:
    found = _project(project_id, Action.RECTIFY)
    lines = service.volunteer_lines(found)
    form = HoursForm(volunteers=[(line.volunteer.id, line.volunteer.name) for line in lines])
    done = submit(
        form,
        lambda: service.log_hours(
            found,
            viewkit.user(),
            service.pick_volunteer(found, form.volunteer.data),
            form.on.data,
            (form.hours.data or 0) * 60 + (form.minutes.data or 0),
            form.key.data,
        ),
    )
    if done.ok:
        return viewkit.done(_("The hours are recorded."), _here(found) + "#volunteers")
    return _project_page(found, form_status(form), hours_form=form)


@bp.get("/photos/<int:rectify_photo_id>")
def photo(rectify_photo_id: int) -> Response:
    found = access.get_or_404(RectifyPhoto, rectify_photo_id)
    return send_upload(found.file, f"rectify-{found.id}.jpg")

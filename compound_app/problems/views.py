"""Problem pages: 投诉建议 for residents, the registers of a compound, a community and the
subdistrict, one problem with its timeline and steps, the 12345 import, the kinds and
deadlines, and grids."""

from __future__ import annotations

from typing import Any

from flask import abort, current_app, flash, request, url_for
from flask_babel import gettext as _
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from werkzeug.wrappers import Response

from .. import access, viewkit
from ..access import Action, ProblemView
from ..auth.models import User
from ..errors import RuleError
from ..extensions import db
from ..fields import new_key, whole_number
from ..forms import form_status, ids_prefixed, refuse, submit
from ..htmx import redirect_after_post, render
from ..labels import label
from ..registry.models import Building, Community, Compound, Household, Subdistrict, Unit
from ..security import accepts_uploads
from ..uploads import send_upload
from ..votes.models import Answer
from . import bp, hotline, queries, service
from .forms import (
    CoverForm,
    DeadlinesForm,
    FromAnswerForm,
    GridForm,
    GridWorkerForm,
    HotlineConfirmForm,
    HotlineUploadForm,
    KindChangeForm,
    KindForm,
    LevelForm,
    MoveForm,
    ProblemForm,
    RateForm,
    RepairForm,
)
from .models import LEVELS, Grid, Level, Problem, ProblemKind, ProblemPhoto, Source, Status

PREVIEW_VALID_SECONDS = 3600
TOKEN_BYTES = 4 * 1024 * 1024


def _wanted() -> queries.Wanted:
    status = request.args.get("status", "open")
    level = request.args.get("level", "")
    return queries.Wanted(
        status=status if status in {"open", "overdue", "closed", "all", *Status} else "open",
        kind=whole_number(request.args.get("kind")),
        level=level if level in set(Level) else "",
        page=whole_number(request.args.get("page"), 10_000) or 1,
    )


def _kinds_of(subdistrict_id: int) -> list[tuple[int, str]]:
    return [
        (k.id, service.kind_name(k))
        for k in db.session.scalars(
            select(ProblemKind)
            .where(ProblemKind.subdistrict_id == subdistrict_id)
            .order_by(ProblemKind.position, ProblemKind.id)
        )
    ]


def _list_page(title: str, where: Any, back: tuple[str, str] | None, **context: Any) -> Response:
    wanted = _wanted()
    found, pages = queries.listed(where, wanted)
    return render(
        "problems/list.html",
        "problems/_table.html",
        target="problem-table",
        title=title,
        back=back,
        found=found,
        pages=pages,
        wanted=wanted,
        counts=queries.counts(where),
        is_overdue=service.is_overdue,
        kind_name=service.kind_name,
        statuses=list(Status),
        levels=list(LEVELS),
        **context,
    )


# --- the registers ---------------------------------------------------------------------------


@bp.get("/mine")
def mine() -> Response:
    p = access.require_signed_in()
    homes = _home_compounds(p)
    return render(
        "problems/mine.html",
        problems=queries.mine(p),
        assigned=queries.assigned_to(p.user_id) if p.user_id else [],
        compounds=homes,
        is_overdue=service.is_overdue,
        kind_name=service.kind_name,
    )


def _home_compounds(p: access.Principal) -> list[Compound]:
    ids = p.resident_compounds | p.rep_compounds | p.grid_touched
    if not ids:
        return []
    return list(
        db.session.scalars(select(Compound).where(Compound.id.in_(ids)).order_by(Compound.name))
    )


@bp.get("/compounds/<int:compound_id>")
def compound(compound_id: int) -> Response:
    found = access.get_or_404(Compound, compound_id)
    p = access.principal()
    if not (access.can(Action.TRIAGE, found, p) or found.id in p.grid_touched):
        abort(403)
    where = (Problem.compound_id == found.id) & access.problem_filter(p)
    return _list_page(
        _("Problems of %(compound)s", compound=found.name),
        where,
        (url_for("registry.compound", compound_id=found.id), found.name),
        compound=found,
        kinds=_kinds_of(found.community.subdistrict_id),
        new_url=url_for(".new", compound_id=found.id),
    )


@bp.get("/communities/<int:community_id>")
def community(community_id: int) -> Response:
    found = access.get_or_404(Community, community_id, Action.OVERSEE)
    return _list_page(
        _("Problems of %(community)s", community=found.name),
        Problem.community_id == found.id,
        (url_for("registry.community", community_id=found.id), found.name),
        community=found,
        kinds=_kinds_of(found.subdistrict_id),
        new_url=url_for(".community_new", community_id=found.id),
    )


@bp.get("/subdistricts/<int:subdistrict_id>")
def subdistrict(subdistrict_id: int) -> Response:
    found = access.get_or_404(Subdistrict, subdistrict_id, Action.ADMINISTER)
    return _list_page(
        _("Problems of %(subdistrict)s", subdistrict=found.name),
        Problem.subdistrict_id == found.id,
        None,
        subdistrict=found,
        kinds=_kinds_of(found.id),
    )


# --- filing ----------------------------------------------------------------------------------


def _homes_for(compound: Compound, p: access.Principal) -> list[tuple[Household, str]]:
    """The homes the user may file for: their own, their units', their grid's, or all."""
    query = (
        select(Household, Unit, Building)
        .join(Unit, Unit.id == Household.unit_id)
        .join(Building, Building.id == Unit.building_id)
        .where(Building.compound_id == compound.id)
        .order_by(Building.sort_key, Unit.sort_key, Household.sort_key)
    )
    if not access.can(Action.TRIAGE, compound, p) and compound.id not in p.grid_compounds:
        query = query.where(
            Household.id.in_(p.resident_households)
            | Unit.id.in_(p.rep_units)
            | Building.id.in_(p.grid_buildings)
        )
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


def _sources_for(p: access.Principal, community: Community, resident_only: bool) -> list[Source]:
    """The sources the form offers this user."""
    if resident_only:
        return [Source.COMPLAINT, Source.SUGGESTION]
    staff = access.can(Action.OVERSEE, community, p)
    found = [Source.COMPLAINT, Source.SUGGESTION, Source.ASSISTED]
    if p.committee_areas or staff:
        found += [Source.MEETING, Source.SURVEY]
    if p.grids or staff:
        found.append(Source.GRID)
    if staff:
        found += [Source.HOTLINE, Source.INSPECTION]
    return found


def _new_page(
    compound: Compound | None,
    community: Community,
    form: ProblemForm,
    status: int = 200,
) -> Response:
    p = access.principal()
    homes = _homes_for(compound, p) if compound is not None else []
    own = {h.id for h, _label in homes if h.id in p.resident_households}
    resident_only = (
        compound is not None
        and len(own) == len(homes)
        and not (access.can(Action.TRIAGE, compound, p) or p.grids)
    )
    sources = _sources_for(p, community, resident_only)
    form.source.choices = [(str(c), label("problem_source", c)) for c in sources]
    compounds = []
    if compound is None:
        compounds = list(
            db.session.scalars(
                select(Compound)
                .where(Compound.community_id == community.id)
                .order_by(Compound.name)
            )
        )
    return render(
        "problems/new.html",
        status=status,
        compound=compound,
        community=community,
        compounds=compounds,
        form=form,
        homes=homes,
        own=own,
        units=_units_of(compound) if compound is not None else [],
        resident_only=resident_only,
        max_photos=service.MAX_PHOTOS,
    )


def _filing(form: ProblemForm) -> service.Filing:
    return service.Filing(
        kind=str(form.kind.data or ""),
        title=form.title.data or "",
        detail=form.detail.data or "",
        source=str(form.source.data or ""),
        severity=str(form.severity.data or ""),
        unit_id=form.unit_id.data,
        household_id=form.household_id.data,
        anonymous=bool(form.anonymous.data),
        contact_name=form.contact_name.data or "",
        contact_mobile=form.contact_mobile.data or "",
        hotline_no=form.hotline_no.data or "",
        request_key=form.key.data,
        photos=request.files.getlist("photos"),
    )


def _filed(compound: Compound | None, community: Community, form: ProblemForm) -> Response:
    """File the problem the form describes; the form again with its errors if refused."""
    if not form.validate_on_submit():
        return _new_page(compound, community, form, form_status(form))
    try:
        problem = service.file_problem(community, compound, _filing(form), viewkit.user())
        db.session.commit()
    except RuleError as err:
        refuse(form, err)
        return _new_page(compound, community, form, form_status(form))
    except IntegrityError:
        # The same form sent twice at once: the first one filed it.
        db.session.rollback()
        first = db.session.scalar(select(Problem).where(Problem.request_key == form.key.data))
        if first is None:
            raise
        problem = first
    flash(_("Sent. You can follow it here."), "success")
    return redirect_after_post(url_for(".show", problem_id=problem.id))


@bp.get("/compounds/<int:compound_id>/new")
def new(compound_id: int) -> Response:
    found = access.get_or_404(Compound, compound_id, Action.FILE_PROBLEM)
    p = access.principal()
    form = ProblemForm(
        formdata=None, key=new_key(), kinds=service.kind_choices(found.community.subdistrict_id)
    )
    homes = _homes_for(found, p)
    chosen = whole_number(request.args.get("household"))
    own = [h for h, _label in homes if h.id in p.resident_households]
    form.household_id.data = chosen or (own[0].id if own else None)
    if form.household_id.data is not None:
        home = next((h for h, _label in homes if h.id == form.household_id.data), None)
        form.unit_id.data = home.unit_id if home is not None else None
    if request.args.get("source") in set(Source):
        form.source.data = request.args["source"]
    return _new_page(found, found.community, form)


@bp.post("/compounds/<int:compound_id>/new")
@accepts_uploads
def create(compound_id: int) -> Response:
    found = access.get_or_404(Compound, compound_id, Action.FILE_PROBLEM)
    form = ProblemForm(kinds=service.kind_choices(found.community.subdistrict_id))
    return _filed(found, found.community, form)


@bp.route("/communities/<int:community_id>/new", methods=["GET", "POST"])
@accepts_uploads
def community_new(community_id: int) -> Response:
    """Staff: a problem in one of the community's compounds, or community-wide (a hotline
    ticket by hand, an inspection's finding)."""
    found = access.get_or_404(Community, community_id, Action.OVERSEE)
    kinds = service.kind_choices(found.subdistrict_id)
    if request.method == "GET":
        form = ProblemForm(formdata=None, key=new_key(), kinds=kinds, source="hotline")
        return _new_page(None, found, form)
    form = ProblemForm(kinds=kinds)
    chosen = None
    if form.compound.data is not None:
        chosen = access.find(Compound, form.compound.data, Action.FILE_PROBLEM)
        if chosen is None or chosen.community_id != found.id:
            form.validate_on_submit()
            form.compound.errors = [
                *form.compound.errors,
                _("Choose a compound of this community."),
            ]
            return _new_page(None, found, form, 422)
    return _filed(chosen, found, form)


# --- one problem -----------------------------------------------------------------------------


def _problem(problem_id: int) -> tuple[Problem, ProblemView]:
    problem = access.get_or_404(Problem, problem_id)
    view = access.problem_view(problem)
    assert view is not None  # get_or_404 let it through
    return problem, view


def _context(problem: Problem, view: ProblemView, **forms: Any) -> dict[str, Any]:
    user = viewkit.user()
    p = access.principal()
    moves = service.moves_for(problem, user, p)
    main_moves = [m for m in moves if not m.secondary]
    other_moves = [m for m in moves if m.secondary]
    sent = forms.get("move_form")
    sent_other = sent is not None and any(
        m.name == (sent.move.data or "") and m.secondary for m in moves
    )
    move_form = (None if sent_other else sent) or MoveForm(formdata=None, version=problem.version)
    other_form = (sent if sent_other else None) or MoveForm(formdata=None, version=problem.version)
    other_form.note.label.text = _("Reason")
    handles = access.can(Action.HANDLE_PROBLEM, problem, p)
    levels = [lv for lv in LEVELS if service.may_set_level(problem, lv, p)]
    if problem.compound_id is None:
        levels = [lv for lv in levels if lv != Level.COMMITTEE]
    may_level = handles and problem.status in (Status.OPEN, Status.REPLIED) and bool(levels)
    owners = {lv: service.owners_for(problem, lv) for lv in levels} if may_level else {}
    level_form = forms.get("level_form") or LevelForm(
        formdata=None,
        version=problem.version,
        level=problem.level,
        owner_id=problem.owner_id,
        owner_name="" if problem.owner_id else problem.owner_name,
    )
    level_form.level.choices = [(str(lv), label("problem_level", lv)) for lv in levels]
    task = None
    if problem.repair_task is not None and access.task_view(problem.repair_task, p) is not None:
        task = problem.repair_task
    may_repair = (
        handles
        and problem.repair_task_id is None
        and problem.compound is not None
        and problem.status in (Status.OPEN, Status.REPLIED)
        and access.can(Action.TRIAGE, problem.compound, p)
    )
    may_rate = (
        problem.status == Status.CLOSED
        and problem.rating is None
        and access.is_problem_reporter(problem, p)
    )
    context: dict[str, Any] = {
        "problem": problem,
        "view": view,
        "shows_reporter": access.shows_reporter(problem, p),
        "contacts": access.can(Action.VIEW_CONTACTS, problem, p),
        "hidden": set() if access.shows_reporter(problem, p) else service.hidden_people(problem),
        "kind_name": service.kind_name(problem.kind),
        "overdue": service.is_overdue(problem),
        "main_moves": main_moves,
        "other_moves": other_moves,
        "move_form": ids_prefixed(move_form, "move"),
        "other_form": ids_prefixed(other_form, "other"),
        "may_level": may_level,
        "level_form": ids_prefixed(level_form, "level"),
        "owners": owners,
        "task": task,
        "may_repair": may_repair,
        "repair_form": ids_prefixed(
            forms.get("repair_form") or RepairForm(formdata=None), "repair"
        ),
        "may_rate": may_rate,
        "rate_form": ids_prefixed(forms.get("rate_form") or RateForm(formdata=None), "rate"),
        "back": _way_back(problem, view),
    }
    unshown = [] if main_moves else [context["move_form"]]
    unshown += [] if other_moves else [context["other_form"]]
    unshown += [] if may_rate else [context["rate_form"]]
    unshown += [] if may_level else [forms.get("level_form")]
    unshown += [] if may_repair else [forms.get("repair_form")]
    context["refusals"] = [
        message
        for form in unshown
        if form
        for messages in [*form.errors.values(), form.form_errors]
        for message in messages
    ]
    return context


def _way_back(problem: Problem, view: ProblemView) -> tuple[str, str]:
    p = access.principal()
    if view is ProblemView.STAFF and problem.compound is None:
        return url_for(".community", community_id=problem.community_id), problem.community.name
    if (
        view is not ProblemView.REPORTER
        and problem.compound is not None
        and (
            access.can(Action.TRIAGE, problem.compound, p) or problem.compound_id in p.grid_touched
        )
    ):
        return url_for(".compound", compound_id=problem.compound_id), _(
            "Problems of %(compound)s", compound=problem.compound.name
        )
    return url_for(".mine"), _("My complaints and suggestions")


@bp.get("/<int:problem_id>")
def show(problem_id: int) -> Response:
    problem, view = _problem(problem_id)
    return render("problems/show.html", **_context(problem, view))


def _refused(problem: Problem, view: ProblemView, **forms: Any) -> Response:
    db.session.rollback()
    db.session.refresh(problem)
    return render("problems/show.html", status=422, **_context(problem, view, **forms))


def _back(problem: Problem) -> str:
    return url_for(".show", problem_id=problem.id)


@bp.post("/<int:problem_id>/level")
def set_level(problem_id: int) -> Response:
    problem, view = _problem(problem_id)
    if not access.can(Action.HANDLE_PROBLEM, problem):
        abort(403)
    form = LevelForm()
    if not form.validate_on_submit():
        return _refused(problem, view, level_form=form)
    try:
        service.set_level(
            problem,
            service.Assignment(
                level=str(form.level.data or ""),
                owner_id=form.owner_id.data,
                owner_name=form.owner_name.data or "",
                reply_due_at=service.due_from_date(form.reply_due.data),
                fix_due_at=service.due_from_date(form.fix_due.data),
                note=form.note.data or "",
            ),
            viewkit.user(),
            version=form.version.data,
        )
        db.session.commit()
    except RuleError as err:
        refuse(form, err)
        return _refused(problem, view, level_form=form)
    flash(
        _(
            "Done: %(level)s answers for it now.",
            level=_level_words(problem.level),
        ),
        "success",
    )
    return redirect_after_post(_back(problem))


def _level_words(level: str) -> str:
    return label("problem_level", level)


@bp.post("/<int:problem_id>/move")
@accepts_uploads
def move(problem_id: int) -> Response:
    problem, view = _problem(problem_id)
    form = MoveForm()
    if not form.validate_on_submit():
        return _refused(problem, view, move_form=form)
    try:
        service.move(
            problem,
            form.move.data or "",
            viewkit.user(),
            version=form.version.data,
            note=form.note.data or "",
            photos=request.files.getlist("photos"),
        )
        db.session.commit()
    except RuleError as err:
        refuse(form, err)
        return _refused(problem, view, move_form=form)
    flash(
        _("Done: the problem is now “%(status)s”.", status=label("problem_status", problem.status)),
        "success",
    )
    return redirect_after_post(_back(problem))


@bp.post("/<int:problem_id>/rate")
def rate(problem_id: int) -> Response:
    problem, view = _problem(problem_id)
    form = RateForm()
    if not form.validate_on_submit():
        return _refused(problem, view, rate_form=form)
    try:
        service.rate(problem, form.rating.data, form.comment.data or "", viewkit.user())
        db.session.commit()
    except RuleError as err:
        refuse(form, err)
        return _refused(problem, view, rate_form=form)
    flash(_("Thank you for your rating."), "success")
    return redirect_after_post(_back(problem))


@bp.post("/<int:problem_id>/repair")
def to_repair(problem_id: int) -> Response:
    problem, view = _problem(problem_id)
    if not access.can(Action.HANDLE_PROBLEM, problem):
        abort(403)
    form = RepairForm()
    if not form.validate_on_submit():
        return _refused(problem, view, repair_form=form)
    try:
        task = service.to_repair(problem, str(form.category.data or ""), viewkit.user())
        db.session.commit()
    except RuleError as err:
        refuse(form, err)
        return _refused(problem, view, repair_form=form)
    flash(_("A repair task was made from this problem; both stay linked."), "success")
    return redirect_after_post(url_for("repairs.task", task_id=task.id))


@bp.get("/photos/<int:problem_photo_id>")
def photo(problem_photo_id: int) -> Response:
    found = access.get_or_404(ProblemPhoto, problem_photo_id)
    return send_upload(found.file, f"problem-{found.id}.jpg")


# --- a consultation answer becomes a problem ------------------------------------------------


@bp.route("/answers/<int:answer_id>", methods=["GET", "POST"])
def from_answer(answer_id: int) -> Response:
    answer = access.get_or_404(Answer, answer_id, Action.CONSULT)
    compound = answer.household.unit.building.compound
    kinds = service.kind_choices(compound.community.subdistrict_id)
    form = (
        FromAnswerForm(kinds=kinds)
        if request.method == "POST"
        else FromAnswerForm(formdata=None, kinds=kinds)
    )
    if request.method == "POST":
        done = submit(
            form, lambda: service.from_answer(answer, str(form.kind.data or ""), viewkit.user())
        )
        if done.ok:
            return viewkit.done(
                _("The answer is on the problem register."),
                url_for(".show", problem_id=done.result.id),
            )
    taken = db.session.scalar(select(Problem.id).where(Problem.answer_id == answer.id))
    return render(
        "problems/from_answer.html",
        status=form_status(form),
        answer=answer,
        form=form,
        taken=taken,
    )


# --- the 12345 hotline ------------------------------------------------------------------------


def _signer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="hotline-import")


def _hotline_page(
    community: Community, form: Any = None, status: int = 200, **ctx: Any
) -> Response:
    return render(
        "problems/hotline.html",
        community=community,
        form=form or HotlineUploadForm(formdata=None),
        columns=hotline.COLUMNS,
        status=status,
        **ctx,
    )


@bp.route("/communities/<int:community_id>/hotline", methods=["GET", "POST"])
@accepts_uploads
def hotline_import(community_id: int) -> Response:
    found = access.get_or_404(Community, community_id, Action.OVERSEE)
    if request.method == "GET":
        return _hotline_page(found)
    form = HotlineUploadForm()
    if not form.validate_on_submit():
        return _hotline_page(found, form, 422)
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        form.file.errors = [_("Choose a file to upload.")]
        return _hotline_page(found, form, 422)
    try:
        preview = hotline.read(upload.filename, upload.read(4 * 1024 * 1024 + 1), found)
    except hotline.HotlineFileError as err:
        form.file.errors = [str(err)]
        db.session.rollback()
        return _hotline_page(found, form, 422)
    token = None
    if preview.new:
        token = _signer().dumps(
            {"c": found.id, "u": viewkit.user().id, "t": hotline.to_payload(preview.new)}
        )
    db.session.rollback()  # the preview reads only
    return _hotline_page(
        found,
        form,
        preview=preview,
        compounds_named=True,
        confirm_form=HotlineConfirmForm(formdata=None, token=token),
        token=token,
    )


@bp.post("/communities/<int:community_id>/hotline/confirm")
@accepts_uploads(field_bytes=TOKEN_BYTES)
def hotline_confirm(community_id: int) -> Response:
    found = access.get_or_404(Community, community_id, Action.OVERSEE)
    form = HotlineConfirmForm()
    again = url_for(".hotline_import", community_id=found.id)
    if not form.validate_on_submit():
        flash(_("This form has expired. Please upload the file again."), "error")
        return redirect_after_post(again)
    try:
        data = _signer().loads(form.token.data or "", max_age=PREVIEW_VALID_SECONDS)
        if data.get("c") != found.id or data.get("u") != viewkit.user().id:
            raise BadSignature("not for this community or user")
        tickets = hotline.from_payload(data["t"])
    except (BadSignature, KeyError, TypeError, ValueError, IndexError):
        flash(_("The preview could not be confirmed. Please upload the file again."), "error")
        return redirect_after_post(again)
    counted: list[tuple[int, int]] = []
    return viewkit.act(
        lambda: counted.append(hotline.import_tickets(found, tickets, viewkit.user())),
        url_for(".community", community_id=found.id),
        _("The tickets are on the register; tickets imported before were not added again."),
    )


# --- the subdistrict's kinds and deadlines -----------------------------------------------------


def _settings_page(
    subdistrict: Subdistrict, form: DeadlinesForm | None = None, status: int = 200, **forms: Any
) -> Response:
    current = service.deadlines(subdistrict.id)
    if form is None:
        form = DeadlinesForm(
            formdata=None,
            data={
                **{f"reply_{lv}": v[0] for lv, v in current.items()},
                **{f"fix_{lv}": v[1] for lv, v in current.items()},
            },
        )
    kinds = db.session.scalars(
        select(ProblemKind)
        .where(ProblemKind.subdistrict_id == subdistrict.id)
        .order_by(ProblemKind.position, ProblemKind.id)
    ).all()
    return render(
        "problems/settings.html",
        status=status,
        subdistrict=subdistrict,
        form=form,
        kinds=kinds,
        defaults=service.kind_choices(subdistrict.id) if not kinds else [],
        kind_name=service.kind_name,
        kind_form=forms.get("kind_form") or KindForm(formdata=None),
        change_form=KindChangeForm(formdata=None),
        refused_change=forms.get("change_form"),
    )


@bp.route("/subdistricts/<int:subdistrict_id>/settings", methods=["GET", "POST"])
def settings(subdistrict_id: int) -> Response:
    found = access.get_or_404(Subdistrict, subdistrict_id, Action.ADMINISTER)
    if request.method == "GET":
        return _settings_page(found)
    form = DeadlinesForm()
    done = submit(form, lambda: service.set_deadlines(found.id, form.values(), viewkit.user()))
    if done.ok:
        return viewkit.done(
            _("Saved. New deadlines count from the next level set."),
            url_for(".settings", subdistrict_id=found.id),
        )
    return _settings_page(found, form, form_status(form))


@bp.post("/subdistricts/<int:subdistrict_id>/kinds")
def add_kind(subdistrict_id: int) -> Response:
    found = access.get_or_404(Subdistrict, subdistrict_id, Action.ADMINISTER)
    form = KindForm()
    done = submit(form, lambda: service.add_kind(found.id, form.name.data or "", viewkit.user()))
    if done.ok:
        return viewkit.done(_("Kind added."), url_for(".settings", subdistrict_id=found.id))
    return _settings_page(found, status=form_status(form), kind_form=form)


@bp.post("/subdistricts/<int:subdistrict_id>/kinds/<int:kind_id>")
def change_kind(subdistrict_id: int, kind_id: int) -> Response:
    found = access.get_or_404(Subdistrict, subdistrict_id, Action.ADMINISTER)
    kind = service.kind_of(found.id, kind_id)
    if kind is None:
        access.deny()
    form = KindChangeForm()

    def change() -> None:
        match form.change.data:
            case "rename":
                service.change_kind(kind, viewkit.user(), name=form.name.data or "")
            case "retire":
                service.change_kind(kind, viewkit.user(), retired=True)
            case "restore":
                service.change_kind(kind, viewkit.user(), retired=False)
            case "up" | "down":
                service.move_kind(kind, form.change.data == "up", viewkit.user())

    done = submit(form, change)
    if done.ok:
        return viewkit.done(_("Saved."), url_for(".settings", subdistrict_id=found.id))
    return _settings_page(found, status=form_status(form), change_form=form)


# --- grids ------------------------------------------------------------------------------------


def _coverage_choices(community: Community) -> tuple[list[tuple[int, str]], list[tuple[int, str]]]:
    compounds = [
        (c.id, c.name)
        for c in db.session.scalars(
            select(Compound).where(Compound.community_id == community.id).order_by(Compound.name)
        )
    ]
    buildings = [
        (b_id, f"{c_name} {b_name}")
        for b_id, b_name, c_name in db.session.execute(
            select(Building.id, Building.name, Compound.name)
            .join(Compound, Compound.id == Building.compound_id)
            .where(Compound.community_id == community.id)
            .order_by(Compound.name, Building.sort_key, Building.name)
            .limit(2000)
        )
    ]
    return compounds, buildings


@bp.route("/communities/<int:community_id>/grids", methods=["GET", "POST"])
def grids(community_id: int) -> Response:
    found = access.get_or_404(Community, community_id, Action.OVERSEE)
    compounds, buildings = _coverage_choices(found)
    if request.method == "POST":
        form = GridForm(compounds=compounds, buildings=buildings)
        done = submit(
            form,
            lambda: service.create_grid(
                found,
                form.name.data or "",
                form.compounds.data or [],
                form.buildings.data or [],
                viewkit.user(),
            ),
        )
        if done.ok:
            return viewkit.done(
                _("Grid created. Now add its grid workers."),
                url_for(".grid", grid_id=done.result.id),
            )
    else:
        form = GridForm(formdata=None, compounds=compounds, buildings=buildings)
    rows = db.session.scalars(
        select(Grid).where(Grid.community_id == found.id).order_by(Grid.name)
    ).all()
    return render(
        "problems/grids.html",
        status=form_status(form),
        community=found,
        grids=rows,
        form=form,
    )


def _grid_page(grid: Grid, status: int = 200, **forms: Any) -> Response:
    compounds, buildings = _coverage_choices(grid.community)
    cover = forms.get("cover_form") or CoverForm(
        formdata=None,
        compounds=compounds,
        buildings=buildings,
        data={
            "compounds": [c.id for c in grid.compounds],
            "buildings": [b.id for b in grid.buildings],
        },
    )
    return render(
        "problems/grid.html",
        status=status,
        grid=grid,
        cover_form=cover,
        worker_form=forms.get("worker_form") or GridWorkerForm(formdata=None),
        workers=service.grid_workers(grid),
    )


@bp.route("/grids/<int:grid_id>", methods=["GET", "POST"])
def grid(grid_id: int) -> Response:
    found = access.get_or_404(Grid, grid_id, Action.MANAGE)
    if request.method == "GET":
        return _grid_page(found)
    compounds, buildings = _coverage_choices(found.community)
    form = CoverForm(compounds=compounds, buildings=buildings)
    done = submit(
        form,
        lambda: service.set_coverage(
            found, form.compounds.data or [], form.buildings.data or [], viewkit.user()
        ),
    )
    if done.ok:
        return viewkit.done(_("Saved."), url_for(".grid", grid_id=found.id))
    return _grid_page(found, form_status(form), cover_form=form)


@bp.post("/grids/<int:grid_id>/workers")
def grid_worker(grid_id: int) -> Response:
    found = access.get_or_404(Grid, grid_id, Action.MANAGE)
    form = GridWorkerForm()

    def grant() -> Any:
        person = db.session.scalar(select(User).where(User.mobile == form.mobile.data))
        if person is None or not person.is_enabled:
            raise RuleError(
                _("No account has that mobile. Create the person's account first."), "mobile"
            )
        return service.grant_grid_worker(found, person, viewkit.user())

    done = submit(form, grant)
    if done.ok:
        return viewkit.done(_("Grid worker added."), url_for(".grid", grid_id=found.id))
    return _grid_page(found, form_status(form), worker_form=form)

"""Rectification projects: made from problems of the register, run by staff (and their
owner), completed with evidence, verified by a reporter or an inspector.

Plain functions: they refuse with ``RuleError``, write their audit rows and never commit.
The problems a project fixes move through the problems service (``problems.service``):
completing marks them fixed, verifying marks them verified, sending back reopens them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import Select, func, select

from .. import access, audit, clock, uploads
from ..access import Action, Principal
from ..auth.models import User
from ..errors import RuleError
from ..extensions import db
from ..problems import service as problems
from ..problems.models import OPEN as OPEN_PROBLEMS
from ..problems.models import Problem, Status
from ..registry.models import Community, Compound, Subdistrict
from ..repairs.models import Work
from .models import (
    DisputeParty,
    PhotoKind,
    ProjectKind,
    ProjectLevel,
    RectifyPhoto,
    RectifyProblem,
    RectifyProject,
    RectifyStep,
    Stage,
    StepKind,
    Volunteer,
    VolunteerSession,
)

MAX_PHOTOS = 6
OPEN_STAGES = (Stage.APPROVED, Stage.IN_PROGRESS)
PAGE = 50


# --- photos: stored with the transaction, dropped again when it rolls back ------------------


def store_photos(files: Sequence[Any], field: str = "photos") -> list[str]:
    """Check and store up to ``MAX_PHOTOS`` photos; all or none are kept."""
    too_many = _("At most %(n)d photos at a time.", n=MAX_PHOTOS)
    return uploads.store_photos(files, limit=MAX_PHOTOS, too_many=too_many, field=field)


# --- reading -----------------------------------------------------------------------------------


def problems_of(project: RectifyProject) -> list[Problem]:
    return list(
        db.session.scalars(
            select(Problem)
            .join(RectifyProblem, RectifyProblem.problem_id == Problem.id)
            .where(RectifyProblem.project_id == project.id)
            .order_by(Problem.id)
        )
    )


def projects_of_problem(problem: Problem) -> list[RectifyProject]:
    """The projects that take on a problem (its page links them)."""
    return list(
        db.session.scalars(
            select(RectifyProject)
            .join(RectifyProblem, RectifyProblem.project_id == RectifyProject.id)
            .where(RectifyProblem.problem_id == problem.id)
            .order_by(RectifyProject.id)
        )
    )


def photos_of(project: RectifyProject) -> dict[int, list[RectifyPhoto]]:
    """Each step's photos, by step id (one query)."""
    found: dict[int, list[RectifyPhoto]] = {}
    for photo in db.session.scalars(
        select(RectifyPhoto).where(RectifyPhoto.project_id == project.id).order_by(RectifyPhoto.id)
    ):
        found.setdefault(photo.step_id, []).append(photo)
    return found


def parties_of(project: RectifyProject) -> list[DisputeParty]:
    return list(
        db.session.scalars(
            select(DisputeParty)
            .where(DisputeParty.project_id == project.id)
            .order_by(DisputeParty.id)
        )
    )


def agreement_of(project: RectifyProject) -> RectifyStep | None:
    """The latest agreement reached in a dispute, if any."""
    found = [s for s in project.steps if s.kind == StepKind.AGREEMENT]
    return found[-1] if found else None


@dataclass
class VolunteerLine:
    volunteer: Volunteer
    sessions: int
    minutes: int


def volunteer_lines(project: RectifyProject) -> list[VolunteerLine]:
    """Each volunteer with their sessions and minutes (one grouped query)."""
    rows = db.session.execute(
        select(
            VolunteerSession.volunteer_id,
            func.count(VolunteerSession.id),
            func.coalesce(func.sum(VolunteerSession.minutes), 0),
        )
        .where(VolunteerSession.project_id == project.id)
        .group_by(VolunteerSession.volunteer_id)
    )
    totals = {vid: (int(n), int(m)) for vid, n, m in rows}
    volunteers = db.session.scalars(
        select(Volunteer).where(Volunteer.project_id == project.id).order_by(Volunteer.id)
    )
    return [VolunteerLine(v, *totals.get(v.id, (0, 0))) for v in volunteers]


def volunteer_sessions(project: RectifyProject) -> list[VolunteerSession]:
    return list(
        db.session.scalars(
            select(VolunteerSession)
            .where(VolunteerSession.project_id == project.id)
            .order_by(VolunteerSession.on.desc(), VolunteerSession.id.desc())
            .limit(PAGE)
        )
    )


def hours_text(minutes: int) -> str:
    """Minutes as hours with one decimal, as the ledger writes them (2.5 小时)."""
    return f"{minutes // 60}.{(minutes % 60) * 10 // 60}" if minutes % 60 else str(minutes // 60)


@dataclass
class Filters:
    kind: str = ""
    stage: str = ""
    page: int = 1


def _listed(stmt: Select[Any], wanted: Filters) -> Select[Any]:
    if wanted.kind in set(ProjectKind):
        stmt = stmt.where(RectifyProject.kind == wanted.kind)
    if wanted.stage in set(Stage):
        stmt = stmt.where(RectifyProject.stage == wanted.stage)
    return stmt


def project_list(where: Any, wanted: Filters) -> tuple[list[RectifyProject], int, dict[str, int]]:
    """A page of projects matching ``where`` and the filters, the count, and the count per
    stage (for the list's head)."""
    base = _listed(select(RectifyProject).where(where), wanted)
    total = db.session.scalar(select(func.count()).select_from(base.subquery())) or 0
    rows = list(
        db.session.scalars(
            base.order_by(RectifyProject.id.desc())
            .limit(PAGE)
            .offset((max(wanted.page, 1) - 1) * PAGE)
        )
    )
    stages = dict(
        db.session.execute(
            select(RectifyProject.stage, func.count()).where(where).group_by(RectifyProject.stage)
        ).all()
    )
    return rows, total, {str(k): int(v) for k, v in stages.items()}


def where_compound(compound: Compound) -> Any:
    return RectifyProject.compound_id == compound.id


def where_community(community: Community) -> Any:
    return RectifyProject.community_id == community.id


def where_subdistrict(subdistrict: Subdistrict) -> Any:
    return RectifyProject.subdistrict_id == subdistrict.id


def open_problems(community: Community, compound_id: int | None = None) -> list[Problem]:
    """Problems of the community that a project may take on (newest first, at most 200):
    not closed, and not already in a project that is not yet verified."""
    taken = (
        select(RectifyProblem.problem_id)
        .join(RectifyProject, RectifyProject.id == RectifyProblem.project_id)
        .where(RectifyProject.stage != Stage.VERIFIED)
    )
    stmt = select(Problem).where(
        Problem.community_id == community.id,
        Problem.status.in_(OPEN_PROBLEMS),
        Problem.id.not_in(taken),
    )
    if compound_id is not None:
        stmt = stmt.where(Problem.compound_id == compound_id)
    return list(db.session.scalars(stmt.order_by(Problem.id.desc()).limit(200)))


# --- making a project ----------------------------------------------------------------------------


@dataclass
class Draft:
    kind: str
    level: str
    title: str
    due_on: date | None
    plan: str = ""
    budget_fen: int = 0
    work: Work | None = None
    owner: User | None = None
    owner_name: str = ""


def may_own(user: User, community: Community, compound: Compound | None) -> bool:
    """Who may answer for a project: staff over its community (the subdistrict's admin
    included) and, for a compound's project, its committee during their term."""
    p = access.load_principal(user)
    if community.subdistrict_id in p.admin_subdistricts or community.id in p.staff_communities:
        return True
    return compound is not None and compound.area_id in p.committee_areas


def _check_deadline(due_on: date | None) -> date:
    if due_on is None:
        raise RuleError(_("Please enter a date."), "due_on")
    if due_on < clock.today():
        raise RuleError(_("The deadline cannot be in the past."), "due_on")
    return due_on


def _check_problems(chosen: Sequence[Problem], p: Principal) -> Community:
    if not chosen:
        raise RuleError(_("Choose at least one problem."), "problems")
    for problem in chosen:
        if not access.may_rectify_in(problem.community_id, problem.subdistrict_id, p):
            raise RuleError(_("Choose problems from the list."), "problems")
    communities = {problem.community_id for problem in chosen}
    if len(communities) > 1:
        raise RuleError(
            _(
                "A project takes on the problems of one community: these lie in %(n)d.",
                n=len(communities),
            ),
            "problems",
        )
    for problem in chosen:
        if problem.status not in OPEN_PROBLEMS:
            raise RuleError(_("“%(title)s” is closed already.", title=problem.title), "problems")
    taken = db.session.scalar(
        select(RectifyProblem.problem_id)
        .join(RectifyProject, RectifyProject.id == RectifyProblem.project_id)
        .where(
            RectifyProblem.problem_id.in_([problem.id for problem in chosen]),
            RectifyProject.stage != Stage.VERIFIED,
        )
        .limit(1)
    )
    if taken is not None:
        title = next(problem.title for problem in chosen if problem.id == taken)
        raise RuleError(_("“%(title)s” is in another project already.", title=title), "problems")
    community = db.session.get(Community, communities.pop())
    assert community is not None
    return community


def create_project(
    chosen: Sequence[Problem],
    draft: Draft,
    actor: User,
    request_key: str,
    p: Principal | None = None,
    within: Community | None = None,
) -> RectifyProject:
    """Make a project of one or more problems of one community (the staff over them)."""
    p = p or access.principal()
    sent = db.session.scalar(
        select(RectifyProject).where(RectifyProject.request_key == request_key)
    )
    if sent is not None:
        if sent.created_by_id == actor.id:
            return sent  # the same form sent twice
        raise RuleError(_("This form has expired. Please open it again."))
    if draft.kind not in set(ProjectKind):
        raise RuleError(_("Choose the kind of project."), "kind")
    if draft.level not in set(ProjectLevel):
        raise RuleError(_("Choose the level."), "level")
    if not draft.title:
        raise RuleError(_("This field is required."), "title")
    community = _check_problems(chosen, p)
    if within is not None and community.id != within.id:
        raise RuleError(_("Choose problems from the list."), "problems")
    compounds = {problem.compound_id for problem in chosen}
    compound = (
        db.session.get(Compound, next(iter(compounds)))
        if len(compounds) == 1 and None not in compounds
        else None
    )
    if draft.level == ProjectLevel.COMPOUND and compound is None:
        raise RuleError(_("A compound's project takes on problems of that one compound."), "level")
    due_on = _check_deadline(draft.due_on)
    if draft.budget_fen < 0:
        raise RuleError(_("The amount must be greater than 0."), "budget")
    if draft.work is not None and (compound is None or draft.work.compound_id != compound.id):
        raise RuleError(_("Choose a work of the project's compound."), "work")
    owner = draft.owner
    if owner is not None and not may_own(owner, community, compound):
        raise RuleError(
            _("%(name)s does not serve this community; choose someone who does.", name=owner.name),
            "owner",
        )
    if owner is None and not draft.owner_name:
        owner = actor
    project = RectifyProject(
        subdistrict_id=community.subdistrict_id,
        community_id=community.id,
        compound_id=compound.id if compound else None,
        level=draft.level,
        kind=draft.kind,
        title=draft.title,
        plan=draft.plan,
        budget_fen=draft.budget_fen,
        work_id=draft.work.id if draft.work else None,
        owner_id=owner.id if owner else None,
        owner_name=draft.owner_name,
        due_on=due_on,
        stage=Stage.APPROVED,
        created_by_id=actor.id,
        request_key=request_key,
    )
    db.session.add(project)
    db.session.flush()
    for problem in chosen:
        db.session.add(RectifyProblem(project_id=project.id, problem_id=problem.id))
    _step(project, actor, StepKind.CREATED, Stage.APPROVED, draft.plan)
    audit.record("rectify_project", project)
    for problem in chosen:
        # Taking it on is the reply to a problem still waiting for one.
        if problem.status == Status.OPEN:
            problems.reply(
                problem,
                _("Rectification project: %(title)s", title=project.title),
                actor,
                p=p,
                by_project=True,
            )
    return project


def _step(
    project: RectifyProject,
    actor: User,
    kind: StepKind,
    to: Stage,
    note: str = "",
    *,
    rating: int | None = None,
    request_key: str | None = None,
) -> RectifyStep:
    step = RectifyStep(
        project_id=project.id,
        kind=kind,
        from_stage=project.stage if kind != StepKind.CREATED else "",
        to_stage=to,
        note=note,
        rating=rating,
        by_id=actor.id,
        at=clock.now(),
        request_key=request_key,
    )
    project.stage = to
    db.session.add(step)
    db.session.flush()
    return step


def _attach(
    project: RectifyProject, step: RectifyStep, names: list[str], kind: PhotoKind, actor: User
) -> None:
    for name in names:
        db.session.add(
            RectifyPhoto(
                project_id=project.id,
                step_id=step.id,
                kind=kind,
                file=name,
                uploaded_by_id=actor.id,
            )
        )


def _seen(request_key: str | None, actor: User) -> RectifyStep | None:
    if not request_key:
        return None
    sent = db.session.scalar(select(RectifyStep).where(RectifyStep.request_key == request_key))
    if sent is not None and sent.by_id != actor.id:
        raise RuleError(_("This form has expired. Please open it again."))
    return sent


# --- running it --------------------------------------------------------------------------------


def add_note(
    project: RectifyProject, actor: User, note: str, photos: Sequence[Any], request_key: str
) -> RectifyStep:
    """A progress note with photos; the first one starts the work (整改中)."""
    sent = _seen(request_key, actor)
    if sent is not None:
        return sent
    if project.stage not in OPEN_STAGES:
        raise RuleError(_("The project is completed: no more progress notes."))
    if not note:
        raise RuleError(_("Write what was done."), "note")
    names = store_photos(photos)
    before = project.stage
    step = _step(project, actor, StepKind.NOTE, Stage.IN_PROGRESS, note, request_key=request_key)
    _attach(project, step, names, PhotoKind.PROGRESS, actor)
    if before != Stage.IN_PROGRESS:
        audit.record("rectify_started", project, before={"stage": before})
    else:
        audit.record("rectify_note", step)
    return step


def complete(
    project: RectifyProject,
    actor: User,
    evidence: str,
    photos: Sequence[Any],
    request_key: str,
    p: Principal | None = None,
) -> RectifyStep:
    """The work is done: the evidence (text and photos), its problems marked fixed, and
    their reporters asked to check it and rate it."""
    p = p or access.principal()
    sent = _seen(request_key, actor)
    if sent is not None:
        return sent
    if project.stage not in OPEN_STAGES:
        raise RuleError(_("The project is completed already."))
    if not evidence:
        raise RuleError(_("Describe what was done, as evidence."), "evidence")
    if project.kind == ProjectKind.DISPUTE and agreement_of(project) is None:
        raise RuleError(_("Record the agreement the parties reached first."), "evidence")
    names = store_photos(photos)
    before = project.stage
    step = _step(
        project, actor, StepKind.COMPLETED, Stage.COMPLETED, evidence, request_key=request_key
    )
    _attach(project, step, names, PhotoKind.EVIDENCE, actor)
    project.completed_by_id, project.completed_at = actor.id, step.at
    audit.record("rectify_completed", project, before={"stage": before})
    chosen = problems_of(project)
    for problem in chosen:
        if problem.status in (Status.OPEN, Status.REPLIED):
            problems.mark_fixed(problem, evidence, actor, p=p, by_project=True)
    from ..messages import triggers

    triggers.project_completed(project, chosen, actor)
    return step


def is_reporter(project: RectifyProject, p: Principal) -> bool:
    """Whether the user reported one of the project's problems (or lives in its home)."""
    return any(access.is_problem_reporter(problem, p) for problem in problems_of(project))


def may_verify(project: RectifyProject, p: Principal) -> bool:
    """A reporter of one of its problems, or an inspector (staff over it, or the grid
    worker whose inspection raised one of its problems); never who completed it."""
    if p.user_id is None or p.user_id == project.completed_by_id:
        return False
    return access.can(Action.RECTIFY, project, p) or is_reporter(project, p)


def verify(
    project: RectifyProject,
    actor: User,
    accept: bool,
    note: str,
    rating: int | None = None,
    p: Principal | None = None,
) -> RectifyStep:
    """Accept the work (its problems verified) or send it back (they open again)."""
    p = p or access.principal()
    if project.stage != Stage.COMPLETED:
        raise RuleError(_("Only a completed project is verified."))
    if actor.id == project.completed_by_id:
        raise RuleError(
            _("You completed this project: a reporter or an inspector verifies it."), "verdict"
        )
    reporter = is_reporter(project, p)
    if not (reporter or access.can(Action.RECTIFY, project, p)):
        raise RuleError(_("Only a reporter or an inspector verifies a project."), "verdict")
    if rating is not None and not 1 <= rating <= 5:
        raise RuleError(_("Choose from 1 to 5 stars."), "rating")
    if rating is not None and not reporter:
        raise RuleError(_("Only a reporter rates the handling."), "rating")
    before = project.stage
    chosen = problems_of(project)
    if accept:
        step = _step(project, actor, StepKind.VERIFIED, Stage.VERIFIED, note, rating=rating)
        project.verified_at = step.at
        audit.record("rectify_verified", project, before={"stage": before})
        for problem in chosen:
            if problem.status == Status.FIXED:
                problems.verify(problem, actor, note=note, p=p, by_project=True)
            # The reporter's stars go to the problems they reported (rated once, closed).
            if (
                rating is not None
                and problem.status == Status.CLOSED
                and problem.rating is None
                and access.is_problem_reporter(problem, p)
            ):
                problems.rate(problem, rating, note, actor, p=p)
        return step
    if not note:
        raise RuleError(_("Say what is still wrong."), "note")
    step = _step(project, actor, StepKind.SENT_BACK, Stage.IN_PROGRESS, note, rating=rating)
    project.completed_by_id, project.completed_at = None, None
    audit.record("rectify_sent_back", project, before={"stage": before})
    for problem in chosen:
        if problem.status == Status.FIXED:
            # Still in hand: the project goes on with them.
            problems.reopen(problem, note, actor, p=p, by_project=True)
    return step


# --- disputes and volunteers ------------------------------------------------------------------


def add_party(project: RectifyProject, actor: User, role: str, name: str = "") -> DisputeParty:
    if project.kind != ProjectKind.DISPUTE:
        raise RuleError(_("Only a dispute project has parties."))
    if project.stage == Stage.VERIFIED:
        raise RuleError(_("The project is verified: it is closed."))
    if not role:
        raise RuleError(_("Write the party's role, e.g. 3-2-301 住户 or 楼上住户."), "role")
    party = DisputeParty(project_id=project.id, role=role, name=name, recorded_by_id=actor.id)
    db.session.add(party)
    db.session.flush()
    audit.record("dispute_party", party)
    return party


def record_agreement(
    project: RectifyProject, actor: User, text: str, photo: Any, request_key: str
) -> RectifyStep:
    """The agreement the parties reached (its words, and a photo of the signed paper)."""
    sent = _seen(request_key, actor)
    if sent is not None:
        return sent
    if project.kind != ProjectKind.DISPUTE:
        raise RuleError(_("Only a dispute project records an agreement."))
    if project.stage not in OPEN_STAGES:
        raise RuleError(_("The project is completed already."))
    if not parties_of(project):
        raise RuleError(_("Record the parties first."), "text")
    if not text:
        raise RuleError(_("Write what the parties agreed."), "text")
    names = store_photos([photo] if photo else [], "photo")
    step = _step(
        project, actor, StepKind.AGREEMENT, Stage.IN_PROGRESS, text, request_key=request_key
    )
    _attach(project, step, names, PhotoKind.AGREEMENT, actor)
    audit.record("dispute_agreement", step)
    return step


def add_volunteer(
    project: RectifyProject, actor: User, name: str, user: User | None = None
) -> Volunteer:
    if project.kind != ProjectKind.VOLUNTEER:
        raise RuleError(_("Only a volunteer project has volunteers."))
    if not name:
        raise RuleError(_("This field is required."), "name")
    if db.session.scalar(
        select(Volunteer.id).where(Volunteer.project_id == project.id, Volunteer.name == name)
    ):
        raise RuleError(_("%(name)s is on the list already.", name=name), "name")
    volunteer = Volunteer(
        project_id=project.id,
        name=name,
        user_id=user.id if user else None,
        added_by_id=actor.id,
    )
    db.session.add(volunteer)
    db.session.flush()
    audit.record("add_volunteer", volunteer)
    return volunteer


def log_hours(
    project: RectifyProject,
    actor: User,
    volunteer: Volunteer | None,
    on: date | None,
    minutes: int,
    request_key: str,
) -> VolunteerSession:
    sent = db.session.scalar(
        select(VolunteerSession).where(VolunteerSession.request_key == request_key)
    )
    if sent is not None:
        if sent.recorded_by_id == actor.id:
            return sent
        raise RuleError(_("This form has expired. Please open it again."))
    if project.kind != ProjectKind.VOLUNTEER:
        raise RuleError(_("Only a volunteer project has volunteers."))
    if volunteer is None or volunteer.project_id != project.id:
        raise RuleError(_("Choose from the list."), "volunteer")
    if on is None:
        raise RuleError(_("Please enter a date."), "on")
    if on > clock.today():
        raise RuleError(_("The date cannot be in the future."), "on")
    if on < clock.local_date(project.created_at) - timedelta(days=366):
        raise RuleError(_("That day is long before the project."), "on")
    if not 1 <= minutes <= 24 * 60:
        raise RuleError(_("Enter the time given, at most 24 hours."), "hours")
    row = VolunteerSession(
        project_id=project.id,
        volunteer_id=volunteer.id,
        on=on,
        minutes=minutes,
        recorded_by_id=actor.id,
        request_key=request_key,
    )
    db.session.add(row)
    db.session.flush()
    audit.record("volunteer_hours", row)
    return row


# --- what the forms pick -------------------------------------------------------------------------


def pick_problems(ids: Sequence[int]) -> list[Problem]:
    """The problems a form chose, by id (the service checks each is the user's to take on)."""
    wanted = [i for i in ids if isinstance(i, int) and 0 < i < 2**31][:200]
    if not wanted:
        return []
    return list(
        db.session.scalars(select(Problem).where(Problem.id.in_(wanted)).order_by(Problem.id))
    )


def owner_choices(community: Community) -> list[User]:
    """Who may answer for a project of the community: its staff, the subdistrict's admins,
    the committee members of its areas."""
    from ..auth.models import Role, RoleGrant
    from ..registry.models import ManagementArea

    areas = select(ManagementArea.id).where(ManagementArea.community_id == community.id)
    grants = select(RoleGrant.user_id).where(
        ((RoleGrant.role == Role.COMMUNITY_STAFF) & (RoleGrant.community_id == community.id))
        | (
            (RoleGrant.role == Role.SUBDISTRICT_ADMIN)
            & (RoleGrant.subdistrict_id == community.subdistrict_id)
        )
        | ((RoleGrant.role == Role.COMMITTEE_MEMBER) & RoleGrant.area_id.in_(areas))
    )
    return list(
        db.session.scalars(select(User).where(User.id.in_(grants)).order_by(User.name).limit(200))
    )


def pick_owner(community: Community, user_id: int | None) -> User | None:
    if user_id is None:
        return None
    found = next((u for u in owner_choices(community) if u.id == user_id), None)
    if found is None:
        raise RuleError(_("Choose from the list."), "owner")
    return found


def work_choices(community: Community) -> list[Work]:
    return list(
        db.session.scalars(
            select(Work)
            .join(Compound, Compound.id == Work.compound_id)
            .where(Compound.community_id == community.id)
            .order_by(Work.id.desc())
            .limit(200)
        )
    )


def pick_work(community: Community, work_id: int | None) -> Work | None:
    if work_id is None:
        return None
    found = next((w for w in work_choices(community) if w.id == work_id), None)
    if found is None:
        raise RuleError(_("Choose from the list."), "work")
    return found


def pick_volunteer(project: RectifyProject, volunteer_id: int | None) -> Volunteer | None:
    if volunteer_id is None:
        return None
    return db.session.scalar(
        select(Volunteer).where(Volunteer.id == volunteer_id, Volunteer.project_id == project.id)
    )


def community_of(project: RectifyProject) -> Community:
    found = db.session.get(Community, project.community_id)
    assert found is not None
    return found

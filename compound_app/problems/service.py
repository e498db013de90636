"""The problem register and who answers for each problem: filing, levels, owners,
deadlines, replies, fixes, checks, ratings, escalation and the link to repairs.

Plain functions: each checks who may make the move (through ``access``), refuses with a
``RuleError`` and a message, writes the problem's ``ProblemStep`` and an audit row in the
same transaction, and never commits. Other areas (inspections, rectification projects,
the oversight figures) call ``file_problem`` and read the problems through here.

Levels, lowest first: the committee, the community, a named department or cadre
(包联干部), the subdistrict's 党工委. An overdue problem goes up one level
(``ESCALATES_TO``: committee → community → 党工委; a cadre's → 党工委), with fresh
deadlines of the new level; both levels see it, since each sees its place. A problem
sent back (``decline``) returns to the level and owner it came from.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import and_, delete, func, or_, select
from sqlalchemy.orm.exc import StaleDataError

from .. import access, audit, clock, uploads
from ..access import Action, Principal
from ..auth.models import Role, RoleGrant, User
from ..errors import RuleError
from ..extensions import db
from ..fields import is_mobile
from ..labels import label
from ..registry.models import Building, Community, Compound, Household, Unit
from .models import (
    LEVELS,
    OPEN,
    DefaultKind,
    Grid,
    GridBuilding,
    GridCompound,
    Level,
    PhotoStage,
    Problem,
    ProblemDeadline,
    ProblemKind,
    ProblemPhoto,
    ProblemStep,
    Severity,
    Source,
    Status,
    StepKind,
)

MAX_PHOTOS = 4
# Complaints and suggestions a resident's account may file in a day, and anonymous ones a
# compound takes in an hour: beyond them the form says so and files nothing.
PER_ACCOUNT_PER_DAY = 5
ANONYMOUS_PER_COMPOUND_PER_HOUR = 10
# A closed problem may be reopened by its reporter within this many days.
REOPEN_DAYS = 30

# Reply hours and fix days per level, where the subdistrict set none.
DEFAULT_DEADLINES: dict[str, tuple[int, int]] = {
    Level.COMMITTEE: (24, 3),
    Level.COMMUNITY: (48, 7),
    Level.CADRE: (72, 15),
    Level.SUBDISTRICT: (72, 15),
}
ESCALATES_TO: dict[str, str | None] = {
    Level.COMMITTEE: Level.COMMUNITY,
    Level.COMMUNITY: Level.SUBDISTRICT,
    Level.CADRE: Level.SUBDISTRICT,
    Level.SUBDISTRICT: None,
}
# Where a problem goes back to when nobody handed it to its level (it was filed there).
BACK_TO: dict[str, str | None] = {
    Level.COMMITTEE: None,
    Level.COMMUNITY: Level.COMMITTEE,
    Level.CADRE: Level.SUBDISTRICT,
    Level.SUBDISTRICT: Level.COMMUNITY,
}
# Sources a resident files themself; every other source is somebody's work.
RESIDENT_SOURCES = (Source.COMPLAINT, Source.SUGGESTION)


# --- kinds ---------------------------------------------------------------------------------


def kind_name(kind: ProblemKind) -> str:
    """A kind's name: as the subdistrict renamed it, else the default's translated label."""
    return kind.name or label("problem_kind", kind.code)


def ensure_kinds(subdistrict_id: int) -> list[ProblemKind]:
    """The subdistrict's kinds; the six defaults are created the first time one is needed."""
    found = list(
        db.session.scalars(
            select(ProblemKind)
            .where(ProblemKind.subdistrict_id == subdistrict_id)
            .order_by(ProblemKind.position, ProblemKind.id)
        )
    )
    if found:
        return found
    for position, code in enumerate(DefaultKind):
        db.session.add(ProblemKind(subdistrict_id=subdistrict_id, code=code, position=position))
    db.session.flush()
    return ensure_kinds(subdistrict_id)


def kind_choices(subdistrict_id: int) -> list[tuple[str, str]]:
    """The kinds a form offers (retired ones not): ids, or before any kind exists the six
    defaults by code (``default:<code>``), so showing a form never writes."""
    rows = db.session.scalars(
        select(ProblemKind)
        .where(ProblemKind.subdistrict_id == subdistrict_id)
        .order_by(ProblemKind.position, ProblemKind.id)
    ).all()
    if not rows:
        return [(f"default:{code}", label("problem_kind", code)) for code in DefaultKind]
    return [(str(k.id), kind_name(k)) for k in rows if not k.retired]


def pick_kind(subdistrict_id: int, value: str | None) -> ProblemKind:
    """The kind chosen on a form (an id or ``default:<code>``), in use in the subdistrict."""
    value = value or ""
    kinds = ensure_kinds(subdistrict_id) if value.startswith("default:") else None
    if kinds is not None:
        code = value.removeprefix("default:")
        chosen = next((k for k in kinds if k.code == code and not k.retired), None)
    else:
        chosen = None
        if value.isascii() and value.isdigit() and len(value) < 10:
            found = db.session.get(ProblemKind, int(value))
            if found is not None and found.subdistrict_id == subdistrict_id and not found.retired:
                chosen = found
    if chosen is None:
        raise RuleError(_("Choose a kind from the list."), "kind")
    return chosen


def kind_of(subdistrict_id: int, kind_id: int) -> ProblemKind | None:
    """A kind of this subdistrict's list by its id (None for any other)."""
    if not 0 < kind_id < 2**31:
        return None
    return db.session.scalar(
        select(ProblemKind).where(
            ProblemKind.id == kind_id, ProblemKind.subdistrict_id == subdistrict_id
        )
    )


def add_kind(subdistrict_id: int, name: str, actor: User) -> ProblemKind:
    kinds = ensure_kinds(subdistrict_id)
    name = name.strip()
    if not name:
        raise RuleError(_("Enter the kind's name."), "name")
    if any(kind_name(k) == name for k in kinds):
        raise RuleError(_("There is a kind of that name already."), "name")
    kind = ProblemKind(
        subdistrict_id=subdistrict_id,
        name=name,
        position=max((k.position for k in kinds), default=0) + 1,
    )
    db.session.add(kind)
    db.session.flush()
    audit.record("problem_kind_add", kind)
    return kind


def change_kind(
    kind: ProblemKind, actor: User, *, name: str | None = None, retired: bool | None = None
) -> ProblemKind:
    """Rename a kind, retire it (it stays on the problems that have it) or bring it back."""
    before = audit.snapshot(kind)
    if name is not None:
        name = name.strip()
        if not name:
            raise RuleError(_("Enter the kind's name."), "name")
        others = ensure_kinds(kind.subdistrict_id)
        if any(kind_name(k) == name and k.id != kind.id for k in others):
            raise RuleError(_("There is a kind of that name already."), "name")
        kind.name = name
    if retired is not None:
        if retired and not kind.retired:
            left = [
                k for k in ensure_kinds(kind.subdistrict_id) if not k.retired and k.id != kind.id
            ]
            if not left:
                raise RuleError(_("At least one kind stays in use."))
        kind.retired = retired
    audit.record("problem_kind_change", kind, before=before)
    return kind


def move_kind(kind: ProblemKind, up: bool, actor: User) -> None:
    """Swap a kind with its neighbour in the list."""
    kinds = ensure_kinds(kind.subdistrict_id)
    for position, k in enumerate(kinds):
        k.position = position
    index = next(i for i, k in enumerate(kinds) if k.id == kind.id)
    other = index - 1 if up else index + 1
    if 0 <= other < len(kinds):
        kinds[index].position, kinds[other].position = other, index
    audit.record("problem_kind_move", kind)


# --- deadlines -----------------------------------------------------------------------------


def deadlines(subdistrict_id: int) -> dict[str, tuple[int, int]]:
    """Reply hours and fix days per level."""
    found = dict(DEFAULT_DEADLINES)
    for row in db.session.scalars(
        select(ProblemDeadline).where(ProblemDeadline.subdistrict_id == subdistrict_id)
    ):
        found[row.level] = (row.reply_hours, row.fix_days)
    return found


def set_deadlines(subdistrict_id: int, values: dict[str, tuple[int, int]], actor: User) -> None:
    before = deadlines(subdistrict_id)
    for level in LEVELS:
        reply_hours, fix_days = values[level]
        if not 1 <= reply_hours <= 720:
            raise RuleError(_("From 1 to 720 hours."), f"reply_{level}")
        if not 1 <= fix_days <= 365:
            raise RuleError(_("From 1 to 365 days."), f"fix_{level}")
        row = db.session.get(ProblemDeadline, (subdistrict_id, str(level)))
        if row is None:
            row = ProblemDeadline(subdistrict_id=subdistrict_id, level=str(level))
            db.session.add(row)
        row.reply_hours, row.fix_days = reply_hours, fix_days
        db.session.flush()
    from ..registry.models import Subdistrict

    audit.record(
        "problem_deadlines",
        db.session.get(Subdistrict, subdistrict_id),
        before={k: list(v) for k, v in before.items()},
        after={"subdistrict_id": subdistrict_id, **{k: list(v) for k, v in values.items()}},
    )


def _due(problem: Problem, start: datetime) -> tuple[datetime, datetime]:
    reply_hours, fix_days = deadlines(problem.subdistrict_id)[problem.level]
    return start + timedelta(hours=reply_hours), start + timedelta(days=fix_days)


def is_overdue(problem: Problem, now: datetime | None = None) -> bool:
    now = now or clock.now()
    if problem.status == Status.OPEN and problem.reply_due_at and problem.reply_due_at < now:
        return True
    return (
        problem.status in (Status.OPEN, Status.REPLIED)
        and problem.fix_due_at is not None
        and problem.fix_due_at < now
    )


def overdue_clause(now: datetime) -> Any:
    """Problem rows past a deadline, as SQL (the lists and the escalation share it)."""
    return or_(
        and_(Problem.status == Status.OPEN, Problem.reply_due_at < now),
        and_(Problem.status.in_((Status.OPEN, Status.REPLIED)), Problem.fix_due_at < now),
    )


# --- photos --------------------------------------------------------------------------------


def store_photos(files: Sequence[Any], already: int = 0) -> list[str]:
    """Check and store the photos sent; all or none are kept."""
    too_many = _("At most %(n)d photos.", n=MAX_PHOTOS)
    return uploads.store_photos(files, limit=MAX_PHOTOS, too_many=too_many, already=already)


# --- filing --------------------------------------------------------------------------------


@dataclass
class Filing:
    """What a form (or another area's service) says about a new problem."""

    kind: str  # a kind's id, or ``default:<code>`` (see ``kind_choices``)
    title: str
    detail: str = ""
    source: str = Source.COMPLAINT
    severity: str = Severity.NORMAL
    building_id: int | None = None
    unit_id: int | None = None
    household_id: int | None = None  # the home that asks (a resident's own, or assisted)
    anonymous: bool = False
    contact_name: str = ""  # assisted entry, hotline caller: who asked
    contact_mobile: str = ""
    hotline_no: str = ""
    level: str | None = None  # None: the committee in a compound, else the community
    answer_id: int | None = None
    meeting_id: int | None = None
    request_key: str | None = None
    created_at: datetime | None = None  # a hotline ticket's own time (import)
    fix_due_at: datetime | None = None  # set by hand (an inspection's deadline): not past
    photos: Sequence[Any] = field(default_factory=tuple)


def _place(
    community: Community, compound: Compound | None, filing: Filing
) -> tuple[Building | None, Unit | None, Household | None]:
    """The building, unit and home named, each checked to be in the compound."""
    building = unit = household = None
    if compound is None:
        if filing.building_id or filing.unit_id or filing.household_id:
            raise RuleError(_("A community-wide problem names no building or home."))
        return None, None, None
    if filing.household_id is not None:
        household = db.session.get(Household, filing.household_id)
        if household is None or household.unit.building.compound_id != compound.id:
            raise RuleError(_("Choose a home in this compound."), "household_id")
    if filing.unit_id is not None:
        unit = db.session.get(Unit, filing.unit_id)
        if unit is None or unit.building.compound_id != compound.id:
            raise RuleError(_("Choose a unit in this compound."), "unit_id")
    if filing.building_id is not None:
        building = db.session.get(Building, filing.building_id)
        if building is None or building.compound_id != compound.id:
            raise RuleError(_("Choose a building in this compound."), "building_id")
        if unit is not None and unit.building_id != building.id:
            raise RuleError(_("That unit is not in the chosen building."), "unit_id")
    if unit is not None:
        building = unit.building
    return building, unit, household


def _rate_limit(compound: Compound | None, filing: Filing, actor: User, now: datetime) -> None:
    count = db.session.scalar(
        select(func.count())
        .select_from(Problem)
        .where(
            Problem.reporter_id == actor.id,
            Problem.source.in_(RESIDENT_SOURCES),
            Problem.created_at > now - timedelta(days=1),
        )
    )
    if (count or 0) >= PER_ACCOUNT_PER_DAY:
        raise RuleError(
            _(
                "You have sent %(n)d complaints and suggestions today. Please try again "
                "tomorrow, or ask your unit representative or the community.",
                n=PER_ACCOUNT_PER_DAY,
            )
        )
    if filing.anonymous and compound is not None:
        count = db.session.scalar(
            select(func.count())
            .select_from(Problem)
            .where(
                Problem.compound_id == compound.id,
                Problem.anonymous.is_(True),
                Problem.created_at > now - timedelta(hours=1),
            )
        )
        if (count or 0) >= ANONYMOUS_PER_COMPOUND_PER_HOUR:
            raise RuleError(
                _(
                    "Many anonymous complaints reached this compound in the last hour. "
                    "Please try again later, or send it with your name.",
                ),
                "anonymous",
            )


def _where(community: Community, compound: Compound | None, building: Any, unit: Any) -> Any:
    return unit or building or compound or community


def file_problem(
    community: Community,
    compound: Compound | None,
    filing: Filing,
    actor: User,
    p: Principal | None = None,
) -> Problem:
    """Put a problem on the register: in a compound (``compound``), or community-wide.

    A resident files complaints and suggestions for their own home (anonymous to the
    committee if they wish); a representative, the committee, a grid worker or staff
    enter one for a resident (``assisted``, with who asked) or of their own finding.
    """
    p = p or access.principal()
    if filing.request_key:
        sent = db.session.scalar(select(Problem).where(Problem.request_key == filing.request_key))
        if sent is not None and sent.entered_by_id == actor.id:
            return sent  # the same form sent twice: the problem is on the register already
        if sent is not None:
            raise RuleError(_("This form has expired. Please open it again."))
    if compound is not None and compound.community_id != community.id:
        raise RuleError(_("Choose a compound of this community."))
    if filing.source not in set(Source):
        raise RuleError(_("Choose where the problem came from."), "source")
    if filing.severity not in set(Severity):
        raise RuleError(_("Choose how serious it is."), "severity")
    title = (filing.title or "").strip()
    if not title:
        raise RuleError(_("Say in a few words what the problem is."), "title")
    building, unit, household = _place(community, compound, filing)
    where = _where(community, compound, building, unit)
    if not access.can(Action.FILE_PROBLEM, where, p):
        raise RuleError(_("You cannot put problems on the register here."))
    staff = access.can(Action.OVERSEE, community, p)
    own_home = household is not None and household.id in p.resident_households
    if filing.source in RESIDENT_SOURCES:
        if household is None and not staff:
            raise RuleError(_("Choose the home the complaint is from."), "household_id")
        if household is not None and not own_home:
            raise RuleError(
                _("For a neighbour, choose “entered for a resident” and give their name."),
                "source",
            )
    if filing.source == Source.ASSISTED:
        if household is None:
            raise RuleError(_("Choose the home of the resident you enter it for."), "household_id")
        if not access.can(Action.FILE_PROBLEM, household, p):
            raise RuleError(_("You cannot enter problems for that home."), "household_id")
        if not filing.contact_name:
            raise RuleError(
                _("Whom are you entering it for? Enter the resident's name."), "contact_name"
            )
    elif household is not None and not own_home and filing.source in RESIDENT_SOURCES:
        raise RuleError(_("You cannot file for that home."), "household_id")
    if filing.source == Source.HOTLINE and not staff:
        raise RuleError(_("Only community and subdistrict staff enter these."), "source")
    if filing.source == Source.INSPECTION and not (
        staff or (compound is not None and access.can(Action.INSPECT, compound, p))
    ):
        raise RuleError(_("Only community and subdistrict staff enter these."), "source")
    if filing.source == Source.GRID and not p.grids and not staff:
        raise RuleError(_("Only grid workers report as a grid worker."), "source")
    if filing.contact_mobile and not is_mobile(filing.contact_mobile):
        raise RuleError(_("Enter an 11-digit mobile number."), "contact_mobile")
    hotline_no = (filing.hotline_no or "").strip() or None
    if filing.source == Source.HOTLINE and not hotline_no:
        raise RuleError(_("Enter the 12345 ticket number."), "hotline_no")
    if hotline_no and filing.source != Source.HOTLINE:
        hotline_no = None
    if hotline_no is not None:
        known = db.session.scalar(
            select(Problem.id).where(
                Problem.subdistrict_id == community.subdistrict_id,
                Problem.hotline_no == hotline_no,
            )
        )
        if known is not None:
            raise RuleError(
                _("Ticket %(no)s is on the register already.", no=hotline_no), "hotline_no"
            )
    anonymous = bool(filing.anonymous) and filing.source in RESIDENT_SOURCES
    kind = pick_kind(community.subdistrict_id, filing.kind)
    level = filing.level or (Level.COMMITTEE if compound is not None else Level.COMMUNITY)
    if level not in set(Level):
        raise RuleError(_("Choose a level."), "level")
    if level == Level.COMMITTEE and compound is None:
        raise RuleError(_("A community-wide problem is the community's at least."), "level")
    now = clock.now()
    if filing.source in RESIDENT_SOURCES and not staff:
        _rate_limit(compound, filing, actor, now)
    problem = Problem(
        subdistrict_id=community.subdistrict_id,
        community_id=community.id,
        compound_id=compound.id if compound else None,
        building_id=building.id if building else None,
        unit_id=unit.id if unit else None,
        household_id=household.id if household else None,
        kind_id=kind.id,
        severity=filing.severity,
        title=title[:60],
        detail=filing.detail or "",
        source=filing.source,
        hotline_no=hotline_no,
        reporter_id=actor.id if filing.source in RESIDENT_SOURCES else None,
        entered_by_id=actor.id,
        contact_name=filing.contact_name or "",
        contact_mobile=filing.contact_mobile or "",
        anonymous=anonymous,
        level=level,
        status=Status.OPEN,
        answer_id=filing.answer_id,
        meeting_id=filing.meeting_id,
        request_key=filing.request_key or None,
        created_at=filing.created_at or now,
    )
    problem.reply_due_at, problem.fix_due_at = _due(problem, now)
    if filing.fix_due_at is not None:
        if filing.fix_due_at < now:
            raise RuleError(_("A deadline cannot be in the past."), "fix_due")
        problem.fix_due_at = filing.fix_due_at
    names = store_photos(filing.photos)
    db.session.add(problem)
    for name in names:
        db.session.add(
            ProblemPhoto(
                problem=problem, stage=PhotoStage.REPORT, file=name, uploaded_by_id=actor.id
            )
        )
    _step(problem, StepKind.FILED, actor, to_status=Status.OPEN, to_level=level, at=now)
    db.session.flush()
    audit.record("file_problem", problem)
    _tell_handlers(problem, actor)
    return problem


# --- the timeline --------------------------------------------------------------------------


def _step(
    problem: Problem,
    kind: StepKind,
    actor: User | None,
    *,
    from_status: str = "",
    to_status: str = "",
    from_level: str = "",
    to_level: str = "",
    note: str = "",
    at: datetime | None = None,
) -> ProblemStep:
    step = ProblemStep(
        problem=problem,
        kind=kind,
        from_status=from_status,
        to_status=to_status or problem.status,
        from_level=from_level,
        to_level=to_level,
        owner_id=problem.owner_id,
        owner_name=problem.owner_name,
        by_id=actor.id if actor is not None else None,
        note=note[:500],
        at=at or clock.now(),
    )
    db.session.add(step)
    return step


def _flush(problem: Problem) -> None:
    try:
        db.session.flush()
    except StaleDataError:
        db.session.rollback()
        raise RuleError(
            _("Someone changed this problem meanwhile. Look at the latest state and try again.")
        ) from None


def _check_version(problem: Problem, version: int | None) -> None:
    if version is not None and version != problem.version:
        raise RuleError(
            _(
                "Someone changed this problem meanwhile (it is now “%(status)s”). "
                "Look at the latest state below and try again if still needed.",
                status=label("problem_status", problem.status),
            )
        )


def _must_handle(problem: Problem, p: Principal | None) -> None:
    if not access.can(Action.HANDLE_PROBLEM, problem, p):
        raise RuleError(_("This problem is not yours to handle."))


def _must_be_open(problem: Problem) -> None:
    if problem.status not in OPEN:
        raise RuleError(
            _(
                "A problem that is “%(status)s” cannot take this step.",
                status=label("problem_status", problem.status),
            )
        )


# --- levels, owners, deadlines -------------------------------------------------------------


def owners_for(problem: Problem, level: str) -> list[User]:
    """The accounts a problem at ``level`` may be given to: the area's committee members
    during their term, the community's staff, and for a cadre or the 党工委 the
    subdistrict's admins and the staff of its communities."""
    if level == Level.COMMITTEE:
        if problem.compound_id is None:
            return []
        from ..messages.triggers import committee_of

        compound = db.session.get(Compound, problem.compound_id)
        assert compound is not None
        return sorted(committee_of(compound.area_id), key=lambda u: (u.name, u.id))
    if level == Level.COMMUNITY:
        where = and_(
            RoleGrant.role == Role.COMMUNITY_STAFF, RoleGrant.community_id == problem.community_id
        )
    else:
        communities = select(Community.id).where(Community.subdistrict_id == problem.subdistrict_id)
        where = or_(
            and_(
                RoleGrant.role == Role.SUBDISTRICT_ADMIN,
                RoleGrant.subdistrict_id == problem.subdistrict_id,
            ),
            and_(RoleGrant.role == Role.COMMUNITY_STAFF, RoleGrant.community_id.in_(communities)),
        )
    return list(
        db.session.scalars(
            select(User)
            .join(RoleGrant, RoleGrant.user_id == User.id)
            .where(where, User.is_enabled.is_(True))
            .distinct()
            .order_by(User.name, User.id)
        )
    )


def may_set_level(problem: Problem, level: str, p: Principal | None = None) -> bool:
    """Staff set any level; the committee hands its own problems up to the community."""
    p = p or access.principal()
    if access.can(Action.OVERSEE, problem.community, p):
        return True
    return (
        problem.level == Level.COMMITTEE
        and level == Level.COMMUNITY
        and access.handles_problem(problem, p)
    )


@dataclass
class Assignment:
    level: str
    owner_id: int | None = None
    owner_name: str = ""  # a department or cadre named in text
    reply_due_at: datetime | None = None  # None: from the level's settings
    fix_due_at: datetime | None = None
    note: str = ""


def set_level(
    problem: Problem,
    assignment: Assignment,
    actor: User,
    *,
    version: int | None = None,
    p: Principal | None = None,
) -> Problem:
    """Give the problem a level (and owner and deadlines): 责任清单."""
    p = p or access.principal()
    _check_version(problem, version)
    _must_handle(problem, p)
    _must_be_open(problem)
    level = assignment.level
    if level not in set(Level):
        raise RuleError(_("Choose a level."), "level")
    if level == Level.COMMITTEE and problem.compound_id is None:
        raise RuleError(_("A community-wide problem has no committee."), "level")
    if not may_set_level(problem, level, p):
        raise RuleError(_("You may hand this problem to the community only."), "level")
    owner = None
    if assignment.owner_id is not None:
        owner = next((u for u in owners_for(problem, level) if u.id == assignment.owner_id), None)
        if owner is None:
            raise RuleError(
                _("That person does not serve at this level where the problem is."), "owner_id"
            )
    owner_name = (assignment.owner_name or "").strip()
    if level == Level.CADRE and owner is None and not owner_name:
        raise RuleError(_("Name the department or cadre who answers for it."), "owner_name")
    now = clock.now()
    for due, name in ((assignment.reply_due_at, "reply_due"), (assignment.fix_due_at, "fix_due")):
        if due is not None and due < now:
            raise RuleError(_("A deadline cannot be in the past."), name)
    if (
        assignment.reply_due_at
        and assignment.fix_due_at
        and assignment.fix_due_at < assignment.reply_due_at
    ):
        raise RuleError(_("The fix is due after the reply."), "fix_due")
    before = {
        "level": problem.level,
        "owner_id": problem.owner_id,
        "owner_name": problem.owner_name,
    }
    from_level = problem.level
    with db.session.no_autoflush:
        problem.level = level
        reply_due, fix_due = _due(problem, now)
    problem.owner_id = owner.id if owner else None
    problem.owner_name = owner.name if owner else owner_name[:50]
    if level != from_level or assignment.reply_due_at or assignment.fix_due_at:
        problem.reply_due_at = assignment.reply_due_at or reply_due
        problem.fix_due_at = assignment.fix_due_at or fix_due
    kind = StepKind.LEVEL if level != from_level else StepKind.OWNER
    _step(
        problem,
        kind,
        actor,
        from_status=problem.status,
        from_level=from_level,
        to_level=level,
        note=assignment.note,
        at=now,
    )
    _flush(problem)
    audit.record("problem_level", problem, before=before)
    if problem.owner_id is not None and problem.owner_id != actor.id:
        from ..messages import triggers

        triggers.problem_assigned(problem)
    return problem


def assign(
    problem: Problem,
    actor: User,
    *,
    owner_id: int | None = None,
    owner_name: str = "",
    note: str = "",
    version: int | None = None,
    p: Principal | None = None,
) -> Problem:
    """Give the problem an owner within its level (its deadlines stay)."""
    return set_level(
        problem,
        Assignment(problem.level, owner_id=owner_id, owner_name=owner_name, note=note),
        actor,
        version=version,
        p=p,
    )


def escalate(
    problem: Problem,
    actor: User | None,
    *,
    now: datetime | None = None,
    note: str = "",
    p: Principal | None = None,
) -> Problem:
    """Up one level (by hand: staff; by the clock: ``actor`` None). Beyond the top is
    refused with a message."""
    if actor is not None and not access.can(Action.OVERSEE, problem.community, p):
        raise RuleError(_("Only community and subdistrict staff escalate by hand."))
    _must_be_open(problem)
    up = ESCALATES_TO[problem.level]
    if up is None:
        raise RuleError(
            _("This problem is with the subdistrict's Party working committee: the top level.")
        )
    now = now or clock.now()
    before = {
        "level": problem.level,
        "owner_id": problem.owner_id,
        "owner_name": problem.owner_name,
    }
    from_level = problem.level
    with db.session.no_autoflush:
        problem.level = up
        problem.reply_due_at, problem.fix_due_at = _due(problem, now)
    problem.owner_id, problem.owner_name = None, ""
    problem.escalated_at = now
    problem.escalations += 1
    _step(
        problem,
        StepKind.ESCALATED,
        actor,
        from_status=problem.status,
        from_level=from_level,
        to_level=up,
        note=note or (_("Overdue") if actor is None else ""),
        at=now,
    )
    _flush(problem)
    audit.record("problem_escalate", problem, before=before, actor_id=actor.id if actor else None)
    return problem


def escalate_overdue(now: datetime | None = None, limit: int = 500) -> int:
    """Every overdue open problem below the top goes up one level: ``flask problems
    escalate`` and the worker's periodic step. Returns how many went up."""
    now = now or clock.now()
    rows = db.session.scalars(
        select(Problem)
        .where(overdue_clause(now), Problem.level != Level.SUBDISTRICT)
        .order_by(Problem.id)
        .limit(limit)
    ).all()
    for problem in rows:
        escalate(problem, None, now=now)
    return len(rows)


def _went_back_to(problem: Problem) -> tuple[str, int | None, str] | None:
    """The level and owner a problem goes back to: where the step that brought it to its
    level came from (and that step's owner before it), else one level down."""
    steps = problem.steps
    for i in range(len(steps) - 1, -1, -1):
        step = steps[i]
        if step.to_level == problem.level and step.from_level and step.from_level != step.to_level:
            if step.kind == StepKind.DECLINED:
                break
            earlier = next(
                (
                    s
                    for s in reversed(steps[:i])
                    if s.to_level == step.from_level or s.to_level == ""
                ),
                None,
            )
            owner_id = earlier.owner_id if earlier is not None else None
            owner_name = earlier.owner_name if earlier is not None else ""
            return step.from_level, owner_id, owner_name
        if step.kind == StepKind.FILED:
            break
    down = BACK_TO[problem.level]
    if down is None or (down == Level.COMMITTEE and problem.compound_id is None):
        return None
    return down, None, ""


def decline(
    problem: Problem,
    reason: str,
    actor: User,
    *,
    version: int | None = None,
    p: Principal | None = None,
) -> Problem:
    """The one who answers for it sends it back, with the reason, to where it came from."""
    p = p or access.principal()
    _check_version(problem, version)
    _must_handle(problem, p)
    _must_be_open(problem)
    if not (reason or "").strip():
        raise RuleError(_("Please give the reason."), "note")
    back = _went_back_to(problem)
    if back is None:
        raise RuleError(
            _("There is no level below to send it back to: reply to the reporter instead.")
        )
    level, owner_id, owner_name = back
    before = {
        "level": problem.level,
        "owner_id": problem.owner_id,
        "owner_name": problem.owner_name,
    }
    from_level = problem.level
    now = clock.now()
    with db.session.no_autoflush:
        problem.level = level
        problem.reply_due_at, problem.fix_due_at = _due(problem, now)
    problem.owner_id, problem.owner_name = owner_id, owner_name
    _step(
        problem,
        StepKind.DECLINED,
        actor,
        from_status=problem.status,
        from_level=from_level,
        to_level=level,
        note=reason,
        at=now,
    )
    _flush(problem)
    audit.record("problem_decline", problem, before=before)
    return problem


# --- reply, fix, check, reopen, rate -------------------------------------------------------


def reply(
    problem: Problem,
    text: str,
    actor: User,
    *,
    version: int | None = None,
    p: Principal | None = None,
    by_project: bool = False,
) -> Problem:
    """Answer the reporter. ``by_project``: a rectification project took the problem on
    (whoever runs the project answers for its problems; the project checked who may)."""
    p = p or access.principal()
    _check_version(problem, version)
    if not by_project:
        _must_handle(problem, p)
    if problem.status not in (Status.OPEN, Status.REPLIED):
        _must_be_open(problem)
        raise RuleError(_("A fixed problem is not replied to again; reopen it first."))
    if not (text or "").strip():
        raise RuleError(_("Write the reply."), "note")
    before = problem.status
    problem.reply = text[:500]
    if problem.replied_at is None:
        problem.replied_at = clock.now()
    problem.status = Status.REPLIED
    _step(problem, StepKind.REPLIED, actor, from_status=before, note=text)
    _flush(problem)
    audit.record("problem_reply", problem, before={"status": before})
    from ..messages import triggers

    triggers.problem_moved(problem, actor)
    return problem


def mark_fixed(
    problem: Problem,
    note: str,
    actor: User,
    *,
    version: int | None = None,
    photos: Sequence[Any] = (),
    p: Principal | None = None,
    by_project: bool = False,
) -> Problem:
    """Fixed: the reporter is asked to check it. ``by_project``: a rectification project
    was completed (it checked who may, and tells the reporters itself)."""
    p = p or access.principal()
    _check_version(problem, version)
    if not by_project:
        _must_handle(problem, p)
    if problem.status not in (Status.OPEN, Status.REPLIED):
        _must_be_open(problem)
        raise RuleError(_("This problem is marked fixed already."))
    names = store_photos(photos, already=len(problem.photos))
    before = problem.status
    now = clock.now()
    problem.status = Status.FIXED
    problem.fixed_at = now
    problem.fixed_by_id = actor.id
    if problem.replied_at is None:
        problem.replied_at = now  # a fix answers the reporter too
    for name in names:
        db.session.add(
            ProblemPhoto(
                problem=problem, stage=PhotoStage.FIXED, file=name, uploaded_by_id=actor.id
            )
        )
    _step(problem, StepKind.FIXED, actor, from_status=before, note=note or "", at=now)
    _flush(problem)
    audit.record("problem_fixed", problem, before={"status": before})
    if not by_project:
        from ..messages import triggers

        triggers.problem_moved(problem, actor)
    return problem


def may_verify(problem: Problem, actor: User, p: Principal | None = None) -> bool:
    """The reporter, or staff over the problem (an inspector): never who fixed it."""
    p = p or access.principal()
    if problem.status != Status.FIXED or problem.fixed_by_id == actor.id:
        return False
    return access.is_problem_reporter(problem, p) or access.can(
        Action.OVERSEE, problem.community, p
    )


def verify(
    problem: Problem,
    actor: User,
    *,
    note: str = "",
    version: int | None = None,
    p: Principal | None = None,
    by_project: bool = False,
) -> Problem:
    """The fix checked: the problem is closed. ``by_project``: its rectification project
    was verified (by a reporter or an inspector, as the project checked)."""
    p = p or access.principal()
    _check_version(problem, version)
    if problem.status != Status.FIXED:
        raise RuleError(_("Only a problem marked fixed is checked."))
    if problem.fixed_by_id == actor.id:
        raise RuleError(_("You fixed it: someone else checks your fix (the reporter or staff)."))
    if not by_project and not may_verify(problem, actor, p):
        raise RuleError(_("The reporter or community staff check the fix."))
    now = clock.now()
    problem.status = Status.CLOSED
    problem.verified_at = problem.closed_at = now
    _step(problem, StepKind.VERIFIED, actor, from_status=Status.FIXED, note=note, at=now)
    _flush(problem)
    audit.record("problem_verify", problem, before={"status": Status.FIXED.value})
    return problem


def may_reopen(problem: Problem, p: Principal | None = None) -> bool:
    p = p or access.principal()
    if problem.status not in (Status.FIXED, Status.CLOSED):
        return False
    if access.can(Action.OVERSEE, problem.community, p):
        return True
    if not access.is_problem_reporter(problem, p):
        return False
    return problem.closed_at is None or clock.now() - problem.closed_at <= timedelta(
        days=REOPEN_DAYS
    )


def reopen(
    problem: Problem,
    reason: str,
    actor: User,
    *,
    version: int | None = None,
    p: Principal | None = None,
    by_project: bool = False,
) -> Problem:
    """Not fixed after all: open again, with fresh deadlines at its level.

    ``by_project``: its rectification project was sent back. The project goes on, so the
    problem stays in hand (replied, its reply kept) with a fresh fix deadline: the reporter
    sees it is still being worked on, not waiting for an answer."""
    p = p or access.principal()
    _check_version(problem, version)
    if problem.status not in (Status.FIXED, Status.CLOSED):
        raise RuleError(_("Only a fixed or closed problem is reopened."))
    if not by_project and not may_reopen(problem, p):
        raise RuleError(
            _("The reporter reopens a problem within %(n)d days of its closing.", n=REOPEN_DAYS)
        )
    if not (reason or "").strip():
        raise RuleError(_("Please give the reason."), "note")
    before = problem.status
    now = clock.now()
    problem.status = Status.REPLIED if by_project else Status.OPEN
    problem.fixed_at = problem.fixed_by_id = problem.verified_at = problem.closed_at = None
    with db.session.no_autoflush:
        reply_due, fix_due = _due(problem, now)
    problem.fix_due_at = fix_due
    if not by_project or problem.replied_at is None:
        problem.status = Status.OPEN
        problem.replied_at = None
        problem.reply_due_at = reply_due
    _step(problem, StepKind.REOPENED, actor, from_status=before, note=reason, at=now)
    _flush(problem)
    audit.record("problem_reopen", problem, before={"status": before})
    return problem


def rate(
    problem: Problem,
    rating: int,
    comment: str,
    actor: User,
    p: Principal | None = None,
) -> Problem:
    """The reporter rates the handling, once, after it is closed."""
    p = p or access.principal()
    if not access.is_problem_reporter(problem, p):
        raise RuleError(_("Only the reporter rates the handling."))
    if problem.status != Status.CLOSED:
        raise RuleError(_("A problem is rated once it is closed."))
    if problem.rating is not None:
        raise RuleError(_("This problem has been rated already."))
    if not 1 <= rating <= 5:
        raise RuleError(_("Choose from 1 to 5 stars."), "rating")
    problem.rating, problem.rating_comment, problem.rated_at = rating, comment or "", clock.now()
    _step(problem, StepKind.RATED, actor, from_status=problem.status, note=comment or "")
    _flush(problem)
    audit.record("problem_rate", problem)
    return problem


# --- links: repairs, works, votes ----------------------------------------------------------


def to_repair(
    problem: Problem,
    category: str,
    actor: User,
    p: Principal | None = None,
) -> Any:
    """The problem is a repair: a repair task made from it through the repairs service
    (its words, place and home come from the problem, nothing typed again), linked both
    ways."""
    from ..repairs import workflow
    from ..repairs.models import Place

    p = p or access.principal()
    _must_handle(problem, p)
    _must_be_open(problem)
    if problem.repair_task_id is not None:
        raise RuleError(_("This problem is a repair task already."))
    compound = problem.compound
    if compound is None:
        raise RuleError(_("A community-wide problem is not one repair; choose a compound."))
    if not access.can(Action.TRIAGE, compound, p):
        raise RuleError(_("The committee or community staff make repair tasks."))
    # An anonymous reporter's home is not handed to the repair (the committee sees it).
    household = None if problem.anonymous else problem.household
    resident = ""
    if household is not None:
        resident = problem.contact_name or (problem.reporter.name if problem.reporter else "")
    description = problem.title if not problem.detail else f"{problem.title}：{problem.detail}"
    task = workflow.report_task(
        compound,
        workflow.Report(
            category=category,
            description=description[:500],
            priority="urgent" if problem.severity == Severity.URGENT else "normal",
            place=Place.PUBLIC,
            building_id=problem.building_id,
            unit_id=problem.unit_id,
            household_id=household.id if household else None,
            resident_name=(resident or _("the reporter"))[:50],
            for_neighbour=household is not None and household.id not in p.resident_households,
        ),
        actor,
        p=p,
    )
    return link_repair(problem, task, actor, p=p)


def link_repair(problem: Problem, task: Any, actor: User, p: Principal | None = None) -> Any:
    """Link an existing repair task of the problem's compound."""
    p = p or access.principal()
    _must_handle(problem, p)
    if task is None or task.compound_id != problem.compound_id:
        raise RuleError(_("Choose a repair task of this compound."), "task_id")
    taken = db.session.scalar(select(Problem.id).where(Problem.repair_task_id == task.id))
    if taken is not None and taken != problem.id:
        raise RuleError(_("That repair task belongs to another problem."), "task_id")
    problem.repair_task_id = task.id
    _step(problem, StepKind.LINKED, actor, from_status=problem.status, note=f"repair:{task.id}")
    _flush(problem)
    audit.record("problem_link", problem)
    return task


def link(problem: Problem, *, work: Any = None, vote: Any = None, actor: User) -> Problem:
    """Link the work or vote the problem became (for the rectification projects)."""
    if work is not None:
        if work.compound_id != problem.compound_id:
            raise RuleError(_("Choose a work of this compound."), "work_id")
        problem.work_id = work.id
    if vote is not None:
        problem.vote_id = vote.id
    _step(
        problem,
        StepKind.LINKED,
        actor,
        from_status=problem.status,
        note=f"work:{work.id}" if work is not None else f"vote:{vote.id}" if vote else "",
    )
    _flush(problem)
    audit.record("problem_link", problem)
    return problem


def problem_of_task(task_id: int) -> Problem | None:
    return db.session.scalar(select(Problem).where(Problem.repair_task_id == task_id))


def from_answer(answer: Any, kind: str, actor: User, p: Principal | None = None) -> Problem:
    """A consultation answer becomes a problem (once): its comment is the problem's words."""
    from ..votes.models import Consultation

    p = p or access.principal()
    consultation = db.session.get(Consultation, answer.consultation_id)
    if consultation is None or not access.can(Action.CONSULT, consultation, p):
        raise RuleError(_("Only those who run the consultation do this."))
    taken = db.session.scalar(select(Problem.id).where(Problem.answer_id == answer.id))
    if taken is not None:
        raise RuleError(_("This answer is on the register already."))
    home = answer.household
    compound = home.unit.building.compound
    words = answer.comment or answer.option
    return file_problem(
        compound.community,
        compound,
        Filing(
            kind=kind,
            title=f"{consultation.title}：{words}"[:60],
            detail=words,
            source=Source.CONSULTATION,
            unit_id=home.unit_id,
            answer_id=answer.id,
        ),
        actor,
        p=p,
    )


# --- messages ------------------------------------------------------------------------------


def _tell_handlers(problem: Problem, actor: User) -> None:
    from ..messages import triggers

    triggers.problem_filed(problem, actor)


# --- grids ---------------------------------------------------------------------------------


def create_grid(
    community: Community,
    name: str,
    compound_ids: Sequence[int],
    building_ids: Sequence[int],
    actor: User,
) -> Grid:
    name = (name or "").strip()
    if not name:
        raise RuleError(_("Name the grid."), "name")
    known = db.session.scalar(
        select(Grid.id).where(Grid.community_id == community.id, Grid.name == name)
    )
    if known is not None:
        raise RuleError(_("There is a grid of that name already."), "name")
    grid = Grid(community_id=community.id, name=name[:30])
    db.session.add(grid)
    db.session.flush()
    _cover(grid, compound_ids, building_ids)
    audit.record(
        "grid_create",
        grid,
        after={
            **audit.snapshot(grid),
            "compounds": list(compound_ids),
            "buildings": list(building_ids),
        },
    )
    return grid


def _cover(grid: Grid, compound_ids: Sequence[int], building_ids: Sequence[int]) -> None:
    compounds = set(compound_ids)
    buildings = set(building_ids)
    if not compounds and not buildings:
        raise RuleError(_("Choose the compounds or buildings the grid covers."), "compounds")
    found = set(
        db.session.scalars(
            select(Compound.id).where(
                Compound.id.in_(compounds), Compound.community_id == grid.community_id
            )
        )
    )
    if found != compounds:
        raise RuleError(_("Choose compounds of this community."), "compounds")
    inside = set(
        db.session.scalars(
            select(Building.id)
            .join(Compound, Compound.id == Building.compound_id)
            .where(Building.id.in_(buildings), Compound.community_id == grid.community_id)
        )
    )
    if inside != buildings:
        raise RuleError(_("Choose buildings of this community."), "buildings")
    for compound_id in sorted(compounds):
        db.session.add(GridCompound(grid_id=grid.id, compound_id=compound_id))
    for building_id in sorted(buildings):
        db.session.add(GridBuilding(grid_id=grid.id, building_id=building_id))
    db.session.flush()


def set_coverage(
    grid: Grid, compound_ids: Sequence[int], building_ids: Sequence[int], actor: User
) -> Grid:
    before = {
        "compounds": [c.id for c in grid.compounds],
        "buildings": [b.id for b in grid.buildings],
    }
    db.session.execute(delete(GridCompound).where(GridCompound.grid_id == grid.id))
    db.session.execute(delete(GridBuilding).where(GridBuilding.grid_id == grid.id))
    _cover(grid, compound_ids, building_ids)
    db.session.expire(grid, ["compounds", "buildings"])
    audit.record(
        "grid_cover",
        grid,
        before=before,
        after={
            **audit.snapshot(grid),
            "compounds": sorted(compound_ids),
            "buildings": sorted(building_ids),
        },
    )
    return grid


def grant_grid_worker(grid: Grid, person: User, actor: User) -> RoleGrant:
    """Make ``person`` a grid worker of ``grid`` (they must be someone the staff manage)."""
    from ..auth.service import grant

    held = db.session.scalar(
        select(RoleGrant.id).where(
            RoleGrant.user_id == person.id,
            RoleGrant.role == Role.GRID_WORKER,
            RoleGrant.grid_id == grid.id,
        )
    )
    if held is not None:
        raise RuleError(_("%(name)s works this grid already.", name=person.name), "mobile")
    row = grant(person, Role.GRID_WORKER, grid.id, granted_by=actor)
    db.session.flush()
    return row


def grid_workers(grid: Grid) -> list[tuple[RoleGrant, User]]:
    return [
        (g, u)
        for g, u in db.session.execute(
            select(RoleGrant, User)
            .join(User, User.id == RoleGrant.user_id)
            .where(RoleGrant.role == Role.GRID_WORKER, RoleGrant.grid_id == grid.id)
            .order_by(User.name)
        ).all()
    ]


# --- the moves a page offers ---------------------------------------------------------------


@dataclass(frozen=True)
class Move:
    name: str
    label: str
    needs_note: bool = False
    takes_photos: bool = False
    secondary: bool = False  # off the usual way: offered below the main action


def moves_for(problem: Problem, actor: User, p: Principal | None = None) -> list[Move]:
    """The steps this user may take on the problem now (the page's buttons)."""
    p = p or access.principal()
    found: list[Move] = []
    handles = access.can(Action.HANDLE_PROBLEM, problem, p)
    staff = access.can(Action.OVERSEE, problem.community, p)
    if handles and problem.status in (Status.OPEN, Status.REPLIED):
        found.append(Move("reply", _("Reply to the reporter"), needs_note=True))
        found.append(Move("fix", _("Fixed: ask for the check"), takes_photos=True))
        if _went_back_to(problem) is not None:
            found.append(Move("decline", _("Not ours: send it back"), True, secondary=True))
    if staff and problem.status in OPEN and ESCALATES_TO[problem.level] is not None:
        found.append(Move("escalate", _("Escalate one level"), secondary=True))
    if may_verify(problem, actor, p):
        found.append(Move("verify", _("Checked: it is fixed")))
    if may_reopen(problem, p):
        found.append(Move("reopen", _("Not fixed: reopen"), True, secondary=True))
    return found


def move(
    problem: Problem,
    name: str,
    actor: User,
    *,
    version: int | None,
    note: str = "",
    photos: Sequence[Any] = (),
    p: Principal | None = None,
) -> Problem:
    """One of the page's steps by its name (the moves' own functions check who may)."""
    p = p or access.principal()
    _check_version(problem, version)
    match name:
        case "reply":
            return reply(problem, note, actor, p=p)
        case "fix":
            return mark_fixed(problem, note, actor, photos=photos, p=p)
        case "decline":
            return decline(problem, note, actor, p=p)
        case "escalate":
            return escalate(problem, actor, note=note, p=p)
        case "verify":
            return verify(problem, actor, note=note, p=p)
        case "reopen":
            return reopen(problem, note, actor, p=p)
    raise RuleError(_("That is not a step a problem can take."))


def hidden_people(problem: Problem) -> set[int]:
    """Accounts named on the page only as "the reporter" to those who may not see who
    reported it: the reporter and the accounts of their home."""
    from ..messages.triggers import household_accounts

    ids = {problem.reporter_id} if problem.reporter_id else set()
    if problem.household_id is not None:
        ids |= {u.id for u in household_accounts([problem.household_id])}
    if problem.source in RESIDENT_SOURCES:
        ids.add(problem.entered_by_id)
    return ids


def due_from_date(day: Any) -> datetime | None:
    """A deadline given as a day: the end of that day in China (None for none)."""
    if day is None:
        return None
    return clock.start_of_day(day + timedelta(days=1)) - timedelta(seconds=1)

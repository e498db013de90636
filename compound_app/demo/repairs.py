"""Demo and benchmark repairs: tasks with their timelines, meetings, works and facilities.

Each task's life is planned once (``plan_life``: when it is assigned, started, done,
checked, rated, perhaps rejected, sent back or reopened) and then either played through
the services on a simulated clock (the story: every rule of ``repairs.workflow`` applies,
and the monthly figures are kept by the services themselves), or written in bulk with the
figures the services would have kept (the benchmark datasets). Steps planned for after
"now" do not happen, so the tasks of the last days are still open, as they would be.
``queries.check_months`` proves the figures equal the timelines either way.
"""

from __future__ import annotations

import base64
import random
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from types import SimpleNamespace
from typing import Any

from sqlalchemy import select

from .. import access, audit, clock
from ..auth.models import Role, RoleGrant, User
from ..committees.models import CommitteeMember, Position
from ..extensions import db
from ..fees import expenses as fee_expenses
from ..fees.models import ExpenseKind, FeeSchedule
from ..registry.models import (
    Building,
    Compound,
    Household,
    ManagementModel,
    Occupancy,
    Occupant,
    Pilot,
    PilotStage,
    Relation,
    Unit,
)
from ..repairs import workflow, works
from ..repairs.levels import allowed_days
from ..repairs.models import (
    DEFAULT_TARGET_DAYS,
    AssigneeKind,
    Category,
    Channel,
    Facility,
    FacilityKind,
    Funding,
    MeetingKind,
    PhotoStage,
    Place,
    Priority,
    RepairEvent,
    RepairMonth,
    RepairPhoto,
    RepairTask,
    Status,
    Work,
    WorkKind,
    WorkStatus,
)
from ..repairs.queries import MONTH_FIELDS
from ..repairs.workflow import EventKind
from . import repair_texts as texts

# Tables the benchmark datasets fill in bulk, in insert order.
ORDER = [RepairTask, RepairEvent, RepairMonth, Work, Facility]

STORY_CAMERAS = 131  # installed in the pilots in the first half year (the seed)
BENCH_TASKS_PER_COMPOUND = 100  # 20,000 over the city's 200 compounds


# --- the life of a task -----------------------------------------------------------------------


@dataclass(frozen=True)
class Profile:
    """How a compound's repairs tend to go."""

    in_target: float  # share of the work finished within the target days
    answer: float  # share of reporters who check the work themselves
    rate: float  # share of checked work the reporter rates
    reject: float
    stuck: float  # share that waits far beyond its target (funds, a contractor, the weather)
    reopen: float = 0.03
    send_back: float = 0.04


PROFILES = {
    # The self-governing ones finish on time and hear back from every reporter.
    PilotStage.SELF_GOVERNING: Profile(1.0, 1.0, 0.7, 0.04, 0.0, 0.01, 0.0),
    PilotStage.FEES_STARTED: Profile(0.8, 0.85, 0.55, 0.06, 0.06),
    PilotStage.ORGANISED: Profile(0.65, 0.8, 0.45, 0.07, 0.12),
}
BENCH_PROFILE = Profile(0.85, 0.85, 0.6, 0.05, 0.04)


@dataclass(frozen=True)
class Step:
    move: str  # "assign", "rate", or the name of one of ``workflow.MOVES``
    at: datetime
    note: str = ""
    rating: int = 0


def _hours(n: float) -> timedelta:
    return timedelta(hours=n)


def plan_life(
    rng: random.Random,
    category: str,
    priority: str,
    reported_at: datetime,
    profile: Profile,
    *,
    own: bool,
    home: bool = False,
) -> list[Step]:
    """The steps of one task after its report, each at its moment.

    ``own``: the committee reported it itself, so it closes the work without anybody's
    check; otherwise the reporter confirms (or, silent for a week, the committee closes).
    """
    target_h = 24 * allowed_days(category, priority, DEFAULT_TARGET_DAYS)
    steps: list[Step] = []
    t = reported_at
    for round_ in range(3):  # a task is reopened at most twice
        if round_ == 0 and not own and rng.random() < profile.reject * (4 if home else 1):
            if rng.random() < 0.3:
                t += _hours(rng.uniform(1, 20))
                steps.append(Step("assign", t))
            t += _hours(rng.uniform(2, 40))
            steps.append(Step("reject", t, texts.REJECT_HOME if home else rng.choice(texts.REJECT)))
            if rng.random() >= 0.2:
                return steps
            t += _hours(rng.uniform(10, 140))
            steps.append(Step("reopen", t, rng.choice(texts.REOPEN)))
            continue
        answered = own or rng.random() < profile.answer
        if rng.random() < profile.in_target:
            span = target_h * rng.uniform(0.15, 0.8)
        else:
            span = target_h * rng.uniform(1.15, 2.6)
        if rng.random() < profile.stuck:
            span = target_h * rng.uniform(3, 6) + rng.uniform(240, 1200)
        span = max(span, 3.0)
        if answered:
            finish = t + _hours(span)
            done = finish - _hours(rng.uniform(0.5, min(36, span * 0.35)))
        else:
            done = t + _hours(span * rng.uniform(0.3, 0.8))
            finish = done + timedelta(days=7) + _hours(rng.uniform(2, 60))
        start = t + (done - t) * rng.uniform(0.25, 0.7)
        assign = t + (start - t) * rng.uniform(0.1, 0.7)
        steps += [Step("assign", assign), Step("start", start)]
        if answered and not own and rng.random() < profile.send_back:
            steps.append(Step("done", done, rng.choice(texts.DONE[category])))
            back = done + _hours(rng.uniform(2, 24))
            steps.append(Step("send_back", back, rng.choice(texts.SEND_BACK)))
            done = back + _hours(rng.uniform(4, 48))
            finish = max(finish, done + _hours(rng.uniform(1, 24)))
        steps.append(Step("done", done, rng.choice(texts.DONE[category])))
        if own:
            steps.append(Step("close", finish, rng.choice(texts.CLOSE_OWN)))
        elif answered:
            steps.append(Step("confirm", finish))
        else:
            steps.append(Step("close", finish, rng.choice(texts.CLOSE_UNANSWERED)))
        if not own and answered and rng.random() < profile.reopen:
            t = finish + _hours(rng.uniform(12, 150))
            steps.append(Step("reopen", t, rng.choice(texts.REOPEN)))
            continue
        if not own and answered and rng.random() < profile.rate:
            late = finish - reported_at > _hours(target_h)
            rating = rng.choice((3, 4, 4, 2) if late else (5, 5, 5, 4, 4, 3))
            steps.append(
                Step(
                    "rate",
                    finish + _hours(rng.uniform(0.1, 40)),
                    rng.choice(texts.RATING[rating]),
                    rating,
                )
            )
        return steps
    return steps


def _moment(rng: random.Random, day: date) -> datetime:
    """A moment of a day in Shanghai between 7:00 and 21:00, in UTC."""
    local = datetime.combine(day, time(7), tzinfo=clock.LOCAL_TZ) + _hours(rng.uniform(0, 14))
    return local.astimezone(UTC)


def _noon(day: date) -> datetime:
    return datetime.combine(day, time(12), tzinfo=clock.LOCAL_TZ).astimezone(UTC)


def _describe(rng: random.Random, template: str, building: str, unit: str) -> str:
    return template.format(b=building, u=unit, n=rng.randrange(1, 12))


# --- photos -------------------------------------------------------------------------------------


class Photos:
    """Small JPEG photos in the uploads folder, named as uploads are (24 URL-safe characters),
    drawn from the seed: building the demo again rewrites the same files, not more of them."""

    def __init__(self, rng: random.Random) -> None:
        from ..uploads import upload_dir

        self.rng = rng
        self.folder = upload_dir()
        self.made = 0

    def make(self, subject: str, fixed: bool, at: datetime) -> str:
        name = base64.urlsafe_b64encode(self.rng.randbytes(18)).decode() + ".jpg"
        _draw(self.rng, subject, fixed, clock.local(at)).save(
            self.folder / name, "JPEG", quality=70
        )
        self.made += 1
        return name


def _draw(rng: random.Random, subject: str, fixed: bool, local: datetime) -> Any:
    """A rough snapshot of a yard: the building, the ground and the thing in question,
    broken (before) or fixed (after), with a phone camera's date stamp."""
    from PIL import Image, ImageDraw

    w, h = 320, 240
    dusk = subject == "street_light"
    sky = (40, 50, 80) if dusk else (rng.randrange(150, 200), rng.randrange(185, 215), 235)
    image = Image.new("RGB", (w, h), sky)
    d = ImageDraw.Draw(image)
    bx = rng.randrange(-40, 120)
    wall = (rng.randrange(190, 215), rng.randrange(175, 195), rng.randrange(150, 175))
    d.rectangle((bx, 25, bx + 200, 165), fill=wall)
    for row in range(4):
        for col in range(5):
            x, y = bx + 12 + col * 38, 35 + row * 30
            lit = dusk and rng.random() < 0.4
            d.rectangle((x, y, x + 22, y + 18), fill=(250, 220, 120) if lit else (90, 110, 130))
    ground = (95, 95, 100) if fixed or subject not in ("road", "parking") else (130, 122, 110)
    d.rectangle((0, 165, w, h), fill=ground)
    broken = (40, 35, 30)
    match subject:
        case "road" | "parking":
            if fixed:
                d.rectangle((0, 165, w, h), fill=(55, 55, 60))
                if subject == "parking":
                    for x in range(10, w, 60):
                        d.line((x, 175, x + 25, h), fill=(240, 240, 240), width=3)
            else:
                for _ in range(6):
                    x, y = rng.randrange(w), rng.randrange(170, h)
                    d.line(
                        (x, y, x + rng.randrange(-60, 60), y + rng.randrange(-20, 20)), broken, 2
                    )
                d.ellipse((90, 190, 190, 225), fill=(80, 100, 120))
        case "camera":
            d.rectangle((250, 60, 258, 200), fill=(70, 70, 70))
            if fixed:
                d.rectangle((225, 55, 262, 72), fill=(235, 235, 235))
                d.ellipse((227, 59, 235, 67), fill=(200, 30, 30))
            else:
                d.line((254, 62, 240, 58), fill=(70, 70, 70), width=3)
        case "street_light":
            d.rectangle((60, 50, 66, 200), fill=(60, 60, 60))
            d.rectangle((50, 44, 90, 54), fill=(80, 80, 80))
            if fixed:
                d.ellipse((40, 50, 110, 110), fill=(250, 235, 150))
        case "building_door":
            door = (40, 90, 60) if fixed else (120, 70, 40)
            d.rectangle((bx + 80, 105, bx + 120, 165), fill=door)
            if not fixed:
                d.line((bx + 85, 110, bx + 115, 160), fill=broken, width=2)
            d.rectangle((bx + 112, 132, bx + 116, 140), fill=(200, 200, 200))
        case "charging":
            if fixed:
                for i in range(rng.randrange(3, 6)):
                    x = 30 + i * 45
                    d.rectangle((x, 140, x + 28, 185), fill=(40, 150, 90))
                    d.line((x + 14, 185, x + 20, 215), fill=(20, 20, 20), width=2)
        case "sewer" | "septic":
            d.ellipse((120, 185, 200, 215), fill=(60, 60, 60))
            if not fixed:
                d.ellipse((80, 180, 250, 232), outline=broken, fill=(85, 80, 55))
        case "cleaning":
            if not fixed:
                for _ in range(7):
                    x, y = rng.randrange(20, 280), rng.randrange(150, 210)
                    d.rectangle((x, y, x + 30, y + 22), fill=(170, 130, 80))
        case _:
            d.rectangle((140, 110, 180, 160), fill=(150, 150, 150))
            if not fixed:
                d.line((145, 115, 175, 155), fill=(200, 40, 40), width=3)
    d.text((w - 120, h - 16), f"{local:%Y-%m-%d %H:%M}", fill=(255, 190, 0))
    return image


PHOTO_SUBJECT = {
    Category.ROAD: "road",
    Category.PARKING: "parking",
    Category.CAMERA: "camera",
    Category.STREET_LIGHT: "street_light",
    Category.BUILDING_DOOR: "building_door",
    Category.SEWER: "sewer",
    Category.SEPTIC: "septic",
    Category.CLEANING: "cleaning",
    WorkKind.CHARGING: "charging",
}


# --- the story: the pilots' half year, through the services -----------------------------------


class _Clock:
    """The moment the services take for "now", moved along the story step by step."""

    def __init__(self) -> None:
        self.now = clock.now()

    @contextmanager
    def running(self) -> Iterator[_Clock]:
        with clock.following(lambda: self.now):
            yield self


@dataclass
class _Site:
    compound: Compound
    stage: str
    households: list[Household]
    units: list[Unit]
    reps: dict[int, User]  # unit id → its representative
    members: list[User]  # the committee in office (chair first), if any
    staff: User | None  # the community's staff member
    treasurer: User | None
    start: date  # repairs began with the new management
    fee_start: date | None
    profile: Profile
    residents: list[tuple[User, Household]] = field(default_factory=list)
    occupants: dict[int, list[Occupant]] = field(default_factory=dict)

    @property
    def model(self) -> str:
        return self.compound.model

    @property
    def chair(self) -> User:
        """Who triages: the committee's chair, or community staff where they run it."""
        if self.members:
            return self.members[0]
        assert self.staff is not None
        return self.staff

    def triagers(self) -> list[User]:
        return self.members or ([self.staff] if self.staff else [])


@dataclass
class _Seed:
    """A task as reported: what, where, by whom and when."""

    reporter: User
    at: datetime
    category: str
    description: str
    priority: str = Priority.NORMAL
    place: str = Place.PUBLIC
    building_id: int | None = None
    unit_id: int | None = None
    household_id: int | None = None
    resident_name: str = ""
    decision_id: int | None = None
    own: bool = False  # the committee's (or staff's) own report
    photo: bool = False
    steps: list[Step] | None = None  # given, instead of planned


CATEGORY_WEIGHTS = {
    ManagementModel.PARTY_BRANCH: {
        Category.CLEANING: 4,
        Category.SEPTIC: 2,
        Category.STREET_LIGHT: 3,
        Category.SEWER: 3,
        Category.PLUMBING: 2,
        Category.ELECTRICAL: 2,
        Category.BUILDING_DOOR: 1,
        Category.CAMERA: 1,
        Category.OTHER: 1,
    },
    ManagementModel.CONTIGUOUS: {
        Category.CLEANING: 3,
        Category.SEPTIC: 1,
        Category.STREET_LIGHT: 2,
        Category.SEWER: 2,
        Category.PLUMBING: 2,
        Category.ELECTRICAL: 2,
        Category.BUILDING_DOOR: 1,
        Category.CAMERA: 1,
        Category.PARKING: 1,
        Category.OTHER: 1,
    },
    ManagementModel.TRUSTEESHIP: {
        Category.ROAD: 2,
        Category.BUILDING_DOOR: 2,
        Category.PARKING: 2,
        Category.SEWER: 2,
        Category.STREET_LIGHT: 2,
        Category.CLEANING: 2,
        Category.PLUMBING: 1,
        Category.ELECTRICAL: 1,
        Category.CAMERA: 1,
        Category.OTHER: 1,
    },
}
URGENT_CAN = (Category.SEWER, Category.SEPTIC, Category.ELECTRICAL, Category.PLUMBING)


def build_story(seed: int) -> dict[str, int]:
    """Six months of the pilots' repairs, meetings and works, through the services."""
    story = _Story(seed)
    with story.clock.running():
        story.run()
    db.session.commit()
    return story.counts


class _Story:
    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed * 7 + 1)
        self.photos = Photos(random.Random(seed * 7 + 2))
        self.clock = _Clock()
        # Nothing happens in the last minutes: a step due "now" waits for a real person.
        self.now = self.clock.now - timedelta(minutes=10)
        self.today = clock.local_date(self.now)
        self.principals: dict[int, access.Principal] = {}
        self.counts: dict[str, int] = defaultdict(int)

    # --- people -----------------------------------------------------------------------------

    def principal(self, user: User) -> access.Principal:
        """The user's rights, as if signed in (demo people have not all set a password)."""
        if user.id not in self.principals:
            self.principals[user.id] = access.load_principal(
                SimpleNamespace(id=user.id, is_authenticated=True)
            )
        return self.principals[user.id]

    def sites(self) -> list[_Site]:
        from ..committees.service import committee_for_area, is_current

        rows = db.session.execute(
            select(Pilot, Compound)
            .join(Compound, Compound.id == Pilot.compound_id)
            .where(Compound.model != ManagementModel.UNMANAGED)
            .order_by(Compound.id)
        ).all()
        ids = [compound.id for _pilot, compound in rows]
        homes: dict[int, list[Household]] = defaultdict(list)
        units: dict[int, list[Unit]] = defaultdict(list)
        for household, unit, building in db.session.execute(
            select(Household, Unit, Building)
            .join(Unit, Unit.id == Household.unit_id)
            .join(Building, Building.id == Unit.building_id)
            .where(Building.compound_id.in_(ids))
            .order_by(Building.sort_key, Unit.sort_key, Household.sort_key)
        ):
            homes[building.compound_id].append(household)
            if unit not in units[building.compound_id]:
                units[building.compound_id].append(unit)
        occupants: dict[int, list[Occupant]] = defaultdict(list)
        all_homes = [h.id for hs in homes.values() for h in hs]
        for occupant in db.session.scalars(
            select(Occupant).where(Occupant.household_id.in_(all_homes)).order_by(Occupant.id)
        ):
            occupants[occupant.household_id].append(occupant)
        grants = db.session.scalars(
            select(RoleGrant).where(
                RoleGrant.role.in_((Role.UNIT_REP, Role.COMMUNITY_STAFF, Role.RESIDENT))
            )
        ).all()
        users = {
            u.id: u
            for u in db.session.scalars(
                select(User).where(User.id.in_({g.user_id for g in grants}))
            )
        }
        reps = {g.unit_id: users[g.user_id] for g in reversed(grants) if g.role == Role.UNIT_REP}
        staff: dict[int, User] = {}
        for g in grants:
            if g.role == Role.COMMUNITY_STAFF:
                staff.setdefault(g.community_id, users[g.user_id])
        residents = {g.household_id: users[g.user_id] for g in grants if g.role == Role.RESIDENT}
        fee_starts = dict(
            db.session.execute(select(FeeSchedule.area_id, FeeSchedule.start_month)).all()
        )
        found = []
        for pilot, compound in rows:
            committee = committee_for_area(compound.area_id)
            seats = [m for m in (committee.members if committee else []) if is_current(m)]
            seats.sort(key=lambda m: (m.position != Position.CHAIR, m.id))
            treasurer = next((m.user for m in seats if m.position == Position.TREASURER), None)
            start = max(
                compound.model_since or self.today, self.today - timedelta(days=178)
            ) + timedelta(days=2)
            site = _Site(
                compound=compound,
                stage=pilot.stage,
                households=homes[compound.id],
                units=units[compound.id],
                reps={u.id: reps[u.id] for u in units[compound.id] if u.id in reps},
                members=[m.user for m in seats],
                staff=staff.get(compound.community_id),
                treasurer=treasurer,
                start=start,
                fee_start=fee_starts.get(compound.area_id),
                profile=PROFILES.get(PilotStage(pilot.stage), PROFILES[PilotStage.ORGANISED]),
                occupants=occupants,
            )
            site.residents = [(residents[h.id], h) for h in site.households if h.id in residents]
            found.append(site)
        return found

    def add_residents(self, site: _Site) -> None:
        """Some residents of each compound have accounts (the app is how they report)."""
        wanted = max(3, len(site.households) // 14)
        homes = [h for h in site.households if h.occupancy != Occupancy.VACANT]
        self.rng.shuffle(homes)
        taken = {h.id for _u, h in site.residents}
        for home in homes:
            if len(site.residents) >= wanted:
                break
            if home.id in taken:
                continue
            relation = Relation.TENANT if home.occupancy == Occupancy.RENTED else Relation.OWNER
            person = next(
                (
                    o
                    for o in site.occupants[home.id]
                    if o.relation == relation and o.mobile and o.user_id is None
                ),
                None,
            )
            if person is None:
                continue
            user = User(mobile=person.mobile, name=person.name, password_hash=None)
            db.session.add(user)
            db.session.flush()
            person.user_id = user.id
            db.session.add(RoleGrant(user_id=user.id, role=Role.RESIDENT, household_id=home.id))
            site.residents.append((user, home))
            self.counts["resident_accounts"] += 1
        db.session.flush()

    # --- playing a task through the services ---------------------------------------------------

    def play(
        self, site: _Site, seed: _Seed, assignment: workflow.Assignment | None = None
    ) -> RepairTask:
        rng = self.rng
        steps = seed.steps
        if steps is None:
            steps = plan_life(
                rng,
                seed.category,
                seed.priority,
                seed.at,
                site.profile,
                own=seed.own,
                home=seed.place == Place.HOME,
            )
        triager = seed.reporter if seed.own else rng.choice(site.triagers())
        assignment = assignment or self.assignment(site, seed.category)
        # A committee member or staff member does the work themself; for a contractor,
        # whoever triages records the steps.
        worker = next((u for u in site.triagers() if u.id == assignment.member_id), triager)
        self.clock.now = seed.at
        report = workflow.Report(
            category=seed.category,
            description=seed.description,
            priority=seed.priority,
            place=seed.place,
            building_id=seed.building_id,
            unit_id=seed.unit_id,
            household_id=seed.household_id,
            resident_name=seed.resident_name,
            decision_id=seed.decision_id,
        )
        with audit.acting_as(seed.reporter.id):
            task = workflow.report_task(
                site.compound, report, seed.reporter, p=self.principal(seed.reporter)
            )
        if seed.photo:
            self.task_photo(task, PhotoStage.REPORT, seed.reporter, seed.at)
        for step in steps:
            if step.at >= self.now:
                break
            self.clock.now = step.at
            if step.move in ("confirm", "send_back", "reopen", "rate"):
                actor = seed.reporter
            elif step.move in ("start", "done"):
                actor = worker
            else:
                actor = triager
            p = self.principal(actor)
            with audit.acting_as(actor.id):
                if step.move == "assign":
                    workflow.assign(task, assignment, actor, version=task.version, p=p)
                elif step.move == "rate":
                    workflow.rate(task, actor, step.rating, step.note, p=p)
                else:
                    workflow.move(task, step.move, actor, version=task.version, note=step.note, p=p)
            if step.move == "done" and rng.random() < 0.35:
                self.task_photo(task, PhotoStage.AFTER, actor, step.at)
        self.counts["tasks"] += 1
        return task

    def assignment(self, site: _Site, category: str) -> workflow.Assignment:
        rng = self.rng
        if rng.random() < 0.5:
            return workflow.Assignment(
                kind=AssigneeKind.CONTRACTOR, contractor=rng.choice(texts.CONTRACTORS[category])
            )
        if site.members:
            helper = rng.choice(site.members[1:] or site.members)
            return workflow.Assignment(kind=AssigneeKind.MEMBER, member_id=helper.id)
        assert site.staff is not None
        return workflow.Assignment(kind=AssigneeKind.STAFF, member_id=site.staff.id)

    def task_photo(self, task: RepairTask, stage: PhotoStage, actor: User, at: datetime) -> None:
        subject = PHOTO_SUBJECT.get(task.category, "other")
        name = self.photos.make(subject, stage == PhotoStage.AFTER, at)
        db.session.add(
            RepairPhoto(task=task, stage=stage, file=name, uploaded_by_id=actor.id, uploaded_at=at)
        )

    # --- what the residents report ------------------------------------------------------------

    def where(self, site: _Site, category: str, home: Household | None) -> tuple[str, Any, Any]:
        """A description and the unit or building it names."""
        rng = self.rng
        template = rng.choice(texts.PUBLIC[category])
        unit = home.unit if home is not None and rng.random() < 0.7 else rng.choice(site.units)
        building = unit.building
        text = _describe(rng, template, building.name, unit.name)
        if "{u}" in template:
            return text, unit, None
        if "{b}" in template:
            return text, None, building
        return text, None, None

    def random_seed(self, site: _Site) -> _Seed:
        rng = self.rng
        weights = CATEGORY_WEIGHTS[site.model]
        category = rng.choices(list(weights), list(weights.values()))[0]
        day = site.start + timedelta(days=rng.randrange((self.today - site.start).days + 1))
        at = _moment(rng, day)
        priority = (
            Priority.URGENT if category in URGENT_CAN and rng.random() < 0.15 else Priority.NORMAL
        )
        roll = rng.random()
        has_reps = bool(site.reps)
        if roll < (0.45 if has_reps else 0.6) and site.residents:
            reporter, home = rng.choice(site.residents)
            if category in texts.HOME and rng.random() < 0.5:
                return _Seed(
                    reporter,
                    at,
                    category,
                    rng.choice(texts.HOME[category]),
                    priority,
                    Place.HOME,
                    household_id=home.id,
                    photo=rng.random() < 0.3,
                )
            text, unit, building = self.where(site, category, home)
            return _Seed(
                reporter,
                at,
                category,
                text,
                priority,
                unit_id=unit.id if unit else None,
                building_id=building.id if building else None,
                household_id=home.id,
                photo=rng.random() < 0.3,
            )
        if roll < 0.65 and has_reps:
            unit_id = rng.choice(list(site.reps))
            rep = site.reps[unit_id]
            homes = [h for h in site.households if h.unit_id == unit_id]
            home, elder = self.elder(site, homes, rep)
            text, unit, building = self.where(site, category, home)
            return _Seed(
                rep,
                at,
                category,
                text + rng.choice(texts.ASSISTED_SUFFIX),
                priority,
                unit_id=unit.id if unit else None,
                building_id=building.id if building else None,
                household_id=home.id,
                resident_name=elder,
            )
        reporter = rng.choice(site.triagers())
        text, unit, building = self.where(site, category, None)
        return _Seed(
            reporter,
            at,
            category,
            text,
            priority,
            unit_id=unit.id if unit else None,
            building_id=building.id if building else None,
            own=True,
        )

    def elder(self, site: _Site, homes: list[Household], rep: User) -> tuple[Household, str]:
        """A home of the unit whose resident has no smartphone, and that resident's name."""
        rep_homes = {h.id for u, h in site.residents if u.id == rep.id}
        candidates = [
            (h, o.name)
            for h in homes
            if h.id not in rep_homes
            for o in site.occupants[h.id]
            if o.user_id is None and o.relation != Relation.TENANT
        ]
        without_phone = [(h, name) for h, name in candidates if not _has_mobile(site, h, name)]
        return self.rng.choice(without_phone or candidates)

    # --- meetings -------------------------------------------------------------------------------

    def meetings(self, site: _Site) -> dict[str, int]:
        """A residents' meeting when the new management began; monthly review meetings of a
        branch-managed compound, whose decisions become tasks. Returns decisions kept for
        works, by what they are about."""
        rng = self.rng
        chair = site.chair
        keep: dict[str, int] = {}
        held = site.start + timedelta(days=rng.randrange(4, 12))
        decisions = [
            "物业服务方案和收费标准经到会居民表决通过",
            "每日清扫楼道一次，垃圾日产日清",
            "安装监控摄像头，覆盖大门、车棚和主要路口",
        ]
        if site.model == ManagementModel.TRUSTEESHIP:
            decisions.append("院内道路硬化，申请老旧小区改造资金")
        names = "、".join(u.name for u in site.triagers()[:3])
        meeting = self.meeting(
            site,
            MeetingKind.RESIDENTS,
            held,
            f"{names}等物管会成员，各楼栋居民代表"
            if site.members
            else f"社区工作人员{names}，党小组成员，居民代表",
            rng.randrange(18, 45),
            "；".join(rng.sample(texts.RESIDENTS_PROBLEMS, 3)),
            decisions,
        )
        for decision in meeting.decisions:
            if "监控" in decision.text:
                keep["camera"] = decision.id
            if "道路硬化" in decision.text:
                keep["road"] = decision.id
        if site.model != ManagementModel.PARTY_BRANCH:
            return keep
        day = site.start + timedelta(days=30)
        n = 0
        while day <= self.today - timedelta(days=2):
            n += 1
            building = rng.choice(site.units).building.name
            chosen = rng.sample(texts.REVIEW_DECISIONS, 3)
            lines = [text.format(b=building) for text, _category in chosen]
            if n == 2:
                lines.append("申请专项维修资金，改造院内下水管网")
            reps = "、".join(sorted({u.name for u in site.reps.values()})[:3])
            meeting = self.meeting(
                site,
                MeetingKind.REVIEW,
                day,
                f"党支部书记、支部委员{chair.name}，单元代表{reps}等，居民代表",
                rng.randrange(8, 16),
                "；".join(
                    p.format(b=building, n=rng.randrange(2, 5))
                    for p in rng.sample(texts.REVIEW_PROBLEMS, 3)
                ),
                lines,
            )
            for decision, (_text, category) in zip(meeting.decisions, chosen, strict=False):
                if category is None:
                    continue
                self.play(
                    site,
                    _Seed(
                        chair,
                        _moment(rng, day + timedelta(days=1)),
                        category,
                        decision.text,
                        building_id=next(
                            (u.building_id for u in site.units if u.building.name == building),
                            None,
                        ),
                        decision_id=decision.id,
                        own=True,
                    ),
                )
            for decision in meeting.decisions:
                if "下水管网" in decision.text:
                    keep["sewer"] = decision.id
            day += timedelta(days=rng.randrange(26, 35))
        return keep

    def meeting(
        self,
        site: _Site,
        kind: MeetingKind,
        held: date,
        attendees: str,
        count: int,
        problems: str,
        decisions: list[str],
    ) -> Any:
        recorded = _moment(self.rng, held) + _hours(6)
        with audit.acting_as(site.chair.id), clock.held_at(recorded):
            meeting = works.record_meeting(
                site.compound,
                works.MeetingRecord(kind, held, attendees, count, problems, decisions),
                site.chair,
            )
        meeting.recorded_at = recorded
        self.counts["meetings"] += 1
        return meeting

    # --- works and the facility register --------------------------------------------------------

    def work(
        self,
        site: _Site,
        kind: WorkKind,
        title: str,
        description: str,
        budget_yuan: int,
        funding: Funding,
        completed: date | None,
        *,
        installed: int = 0,
        location: str = "",
        decision_id: int | None = None,
        started: date | None = None,
        planned: date | None = None,
        replaces: Facility | None = None,
    ) -> Work:
        """Plan a work, and start and complete it on the days given; what it installs goes
        into the register, in place of the line it ``replaces``."""
        rng = self.rng
        actor = site.chair
        if completed is not None:
            started = started or completed - timedelta(days=rng.randrange(3, 14))
        if started is not None:
            planned = planned or started - timedelta(days=rng.randrange(10, 30))
        assert planned is not None
        planned = max(planned, site.start)
        self.clock.now = min(_moment(rng, planned - timedelta(days=rng.randrange(1, 5))), self.now)
        with audit.acting_as(actor.id):
            work = works.plan_work(
                site.compound,
                works.WorkPlan(
                    kind=kind,
                    title=title,
                    description=description,
                    budget_fen=budget_yuan * 100,
                    funding=funding,
                    planned_on=planned,
                    decision_id=decision_id,
                ),
                actor,
            )
            work.created_at = self.clock.now
            subject = PHOTO_SUBJECT.get(kind, "other")
            if started is not None:
                with self.on(started):
                    works.start_work(work, started, work.version)
                for _ in range(rng.randrange(1, 3)):
                    self.work_photo(work, PhotoStage.BEFORE, subject, actor, started)
            if completed is not None:
                with self.on(completed):
                    works.complete_work(work, completed, installed, location, actor, work.version)
                    if replaces is not None:
                        works.remove_facility(replaces, completed)
                for _ in range(rng.randrange(1, 3)):
                    self.work_photo(work, PhotoStage.AFTER, subject, actor, completed)
        if completed is not None and funding == Funding.FEES:
            self.pay_for(site, work, completed)
        self.counts["works"] += 1
        return work

    def work_photo(
        self, work: Work, stage: PhotoStage, subject: str, actor: User, day: date
    ) -> None:
        at = _moment(self.rng, day)
        name = self.photos.make(subject, stage == PhotoStage.AFTER, at)
        db.session.add(
            RepairPhoto(work=work, stage=stage, file=name, uploaded_by_id=actor.id, uploaded_at=at)
        )

    def pay_for(self, site: _Site, work: Work, spent_on: date) -> None:
        """The work's bill, entered in the area's fee ledger, approved, linked to the work."""
        rng = self.rng
        recorder = site.treasurer or site.chair
        amount = max(100, int(work.budget_fen * rng.uniform(0.88, 1.0)) // 100 * 100)
        self.clock.now = _moment(rng, spent_on)
        with audit.acting_as(recorder.id):
            expense = fee_expenses.record_expense(
                site.compound.area,
                recorder,
                kind=ExpenseKind.REPAIR,
                category="",  # the board shows it under "Repairs", as the form enters it
                amount_fen=amount,
                payee=rng.choice(WORK_PAYEES.get(work.kind, ["小区维修队"])),
                spent_on=spent_on,
                note=f"{site.compound.name}：{work.title}",
                voucher=None,
                request_key=f"demo-work-{work.id}",
            )
        if expense.needs_approval:
            approver = site.chair if site.chair.id != recorder.id else None
            if approver is not None:
                self.clock.now = _moment(rng, min(spent_on + timedelta(days=1), self.today))
                with audit.acting_as(approver.id):
                    fee_expenses.approve_expense(expense, approver, staff=False)
        with audit.acting_as(site.chair.id):
            works.link_expense(work, expense.id, work.version)
        self.counts["expenses"] += 1

    def facility(
        self, site: _Site, kind: FacilityKind, count: int, location: str, installed: date
    ) -> Facility:
        with audit.acting_as(site.chair.id), self.on(installed):
            return works.add_facility(
                site.compound, works.FacilityEntry(kind, count, location, installed), site.chair
            )

    def on(self, day: date) -> Any:
        """Hold the clock at noon of ``day`` (never past the story's present) for one step."""
        return clock.held_at(min(_noon(day), self.now))

    def window(self, site: _Site, after: date, fees: bool) -> date:
        """A completion day after ``after`` (and the fee start, for fee-funded work)."""
        lo = after
        if fees and site.fee_start:
            lo = max(lo, site.fee_start + timedelta(days=8))
        hi = self.today - timedelta(days=3)
        lo = min(lo, hi)
        return lo + timedelta(days=self.rng.randrange((hi - lo).days + 1))

    # --- the whole story ------------------------------------------------------------------------

    def run(self) -> None:
        sites = self.sites()
        for site in sites:
            self.add_residents(site)
        cameras = _share_out(
            STORY_CAMERAS,
            [
                (s.compound.id, len(s.households))
                for s in sites
                if s.stage in (PilotStage.SELF_GOVERNING, PilotStage.FEES_STARTED)
            ],
        )
        for site in sites:
            decided = self.meetings(site)
            self.camera_work(site, cameras.get(site.compound.id, 0), decided.get("camera"))
            self.more_works(site, decided)
            months = (self.today - site.start).days / 30
            for _ in range(round(len(site.households) / 42 * months)):
                self.play(site, self.random_seed(site))
        by_name = {s.compound.name: s for s in sites}
        self.demo_accounts(by_name)

    def camera_work(self, site: _Site, cameras: int, decision_id: int | None) -> None:
        rng = self.rng
        name = site.compound.name
        if cameras:
            funding = {
                ManagementModel.CONTIGUOUS: Funding.FEES,
                ManagementModel.PARTY_BRANCH: Funding.FEES
                if site.stage == PilotStage.SELF_GOVERNING
                else Funding.GOVERNMENT,
                ManagementModel.TRUSTEESHIP: Funding.GOVERNMENT
                if site.stage == PilotStage.SELF_GOVERNING
                else Funding.COMMUNITY,
            }[site.model]
            planned = site.start + timedelta(days=rng.randrange(14, 30))
            completed = self.window(site, planned + timedelta(days=20), funding == Funding.FEES)
            self.work(
                site,
                WorkKind.CAMERA,
                "安装监控摄像头",
                f"在{name}大门、车棚、主要路口安装高清摄像头{cameras}个，"
                "配硬盘录像机一台，画面接入门岗和社区网格中心。",
                cameras * 1000 + 2600,
                funding,
                completed,
                installed=cameras,
                location="大门、车棚、主要路口",
                decision_id=decision_id,
                planned=planned,
            )
        elif site.stage == PilotStage.ORGANISED:
            self.work(
                site,
                WorkKind.CAMERA,
                "安装监控摄像头",
                "居民座谈会提出安装监控，正在申请老旧小区改造资金。",
                9600,
                Funding.GOVERNMENT,
                None,
                decision_id=decision_id,
                planned=self.today - timedelta(days=rng.randrange(10, 40)),
            )

    def more_works(self, site: _Site, decided: dict[str, int]) -> None:
        """The seed's other works: roads, doors, parking, lights, charging piles, pipes."""
        rng = self.rng
        name = site.compound.name
        doors = len(site.units)
        old_lights = None
        if rng.random() < 0.6 or name == "新国土小区":
            lights = rng.randrange(4, 11)
            old_lights = self.facility(
                site,
                FacilityKind.STREET_LIGHT,
                lights,
                "院内主路",
                date(rng.randrange(2006, 2016), rng.randrange(1, 13), 1),
            )
        old_doors = None
        with_doors = ("城建小区", "农机公司宿舍西院", "铸造厂生活区东院")
        if rng.random() < 0.3 or name in with_doors:
            old_doors = self.facility(
                site,
                FacilityKind.BUILDING_DOOR,
                doors,
                "各单元（原有铁门）",
                date(rng.randrange(2008, 2015), rng.randrange(1, 13), 1),
            )
        if name == "城建小区":
            road = self.work(
                site,
                WorkKind.ROAD,
                "院内道路硬化",
                "院内主路及楼前道路破损严重，铺设沥青路面约1800平方米，同步修整排水沟。",
                186000,
                Funding.GOVERNMENT,
                self.window(site, site.start + timedelta(days=50), False),
                decision_id=decided.get("road"),
                planned=site.start + timedelta(days=14),
            )
            self.work(
                site,
                WorkKind.BUILDING_DOOR,
                "更换楼宇门",
                f"{doors}个单元更换可视对讲楼宇门。",
                doors * 4800,
                Funding.GOVERNMENT,
                self.window(site, road.completed_on + timedelta(days=10), False),
                installed=doors,
                location="各单元",
                replaces=old_doors,
            )
            self.work(
                site,
                WorkKind.PARKING,
                "施划停车位",
                "道路硬化后施划停车位36个，设电动车集中停放区。",
                450,
                Funding.FEES,
                self.window(site, road.completed_on + timedelta(days=5), True),
                installed=36,
                location="院内主路两侧",
            )
            self.work(
                site,
                WorkKind.CHARGING,
                "电动车充电桩",
                "车棚内安装智能充电桩6个，扫码充电。",
                21000,
                Funding.COMMUNITY,
                self.window(site, site.start + timedelta(days=90), False),
                installed=6,
                location="车棚",
            )
        elif name == "新国土小区":
            self.work(
                site,
                WorkKind.STREET_LIGHT,
                "院内路灯更换为LED",
                "会诊决定：更换院内老旧路灯，改为太阳能LED路灯12盏。",
                14400,
                Funding.FEES,
                self.window(site, site.start + timedelta(days=60), True),
                installed=12,
                location="院内主路、楼前",
                replaces=old_lights,
            )
            self.work(
                site,
                WorkKind.CHARGING,
                "电动车充电桩",
                "单元代表入户征求意见后，在车棚安装充电桩8个。",
                16800,
                Funding.FEES,
                self.window(site, site.start + timedelta(days=100), True),
                installed=8,
                location="车棚",
            )
            self.work(
                site,
                WorkKind.SEWER,
                "院内下水管网改造",
                "主管道老化堵塞，会诊决定申请专项维修资金整体改造，已报社区审核。",
                68000,
                Funding.MAINTENANCE_FUND,
                None,
                decision_id=decided.get("sewer"),
                planned=self.today - timedelta(days=12),
            )
        elif name in ("人民医院小区西院", "物资局家属院一区"):
            piles = 10 if name == "人民医院小区西院" else 12
            self.work(
                site,
                WorkKind.CHARGING,
                "电动车充电桩",
                f"车棚安装智能充电桩{piles}个，解决飞线充电问题。",
                piles * 2100,
                Funding.FEES if piles == 10 else Funding.COMMUNITY,
                self.window(site, site.start + timedelta(days=70), piles == 10),
                installed=piles,
                location="车棚",
            )
        elif name in ("百货公司宿舍", "公安局家属楼南区"):
            lamps = 6 if name == "百货公司宿舍" else 8
            self.work(
                site,
                WorkKind.STREET_LIGHT,
                "增设路灯",
                f"楼间道路增设LED路灯{lamps}盏。",
                lamps * 1200,
                Funding.FEES if lamps == 6 else Funding.GOVERNMENT,
                self.window(site, site.start + timedelta(days=40), lamps == 6),
                installed=lamps,
                location="楼间道路",
            )
        elif name == "农机公司宿舍西院":
            self.work(
                site,
                WorkKind.BUILDING_DOOR,
                "更换楼宇门",
                f"{doors}个单元的旧铁门更换为带门禁的楼宇门。",
                doors * 4200,
                Funding.FEES,
                self.window(site, site.start + timedelta(days=60), True),
                installed=doors,
                location="各单元",
                replaces=old_doors,
            )
        elif name == "交通局家属院南区":
            self.work(
                site,
                WorkKind.PARKING,
                "施划停车位",
                "院内施划停车位24个，标明消防通道。",
                380,
                Funding.FEES,
                self.window(site, site.start + timedelta(days=50), True),
                installed=24,
                location="院内",
            )
        elif name == "铸造厂生活区东院":
            self.work(
                site,
                WorkKind.BUILDING_DOOR,
                "更换楼宇门",
                f"{doors}个单元更换楼宇门，分两批施工，第一批已进场。",
                doors * 4500,
                Funding.GOVERNMENT,
                None,
                started=self.today - timedelta(days=rng.randrange(5, 15)),
            )
        elif name == "焦化厂小区":
            self.work(
                site,
                WorkKind.SEWER,
                "下水主管道更换",
                "会诊决定更换院内下水主管道，专项维修资金已批复，施工中。",
                52000,
                Funding.MAINTENANCE_FUND,
                None,
                decision_id=decided.get("sewer"),
                started=self.today - timedelta(days=rng.randrange(5, 20)),
            )
        elif name == "机械厂生活区东院":
            self.work(
                site,
                WorkKind.ROAD,
                "院内道路硬化",
                "居民座谈会提出，拟申请老旧小区改造资金铺设院内道路。",
                120000,
                Funding.GOVERNMENT,
                None,
                decision_id=decided.get("road"),
                planned=self.today + timedelta(days=30),
            )

    # --- the demo accounts' own tasks (the story one signs in to see) --------------------------

    def demo_accounts(self, sites: dict[str, _Site]) -> None:
        from .generate import DEMO_ACCOUNTS

        users = {
            u.mobile: u
            for u in db.session.scalars(
                select(User).where(User.mobile.in_([a.mobile for a in DEMO_ACCOUNTS]))
            )
        }
        xgt, cj = sites.get("新国土小区"), sites.get("城建小区")
        if xgt is None or cj is None:
            return
        now = self.now
        rng = self.rng

        def ago(days: float, hours: float = 0) -> datetime:
            return now - timedelta(days=days, hours=hours)

        wu, zhou, zheng = users["13900000009"], users["13900000008"], users["13900000010"]
        wu_home = next(h for u, h in xgt.residents if u.id == wu.id)
        unit_1, unit_2 = xgt.units[0], xgt.units[1]
        chair = xgt.chair
        helper = xgt.members[1] if len(xgt.members) > 1 else chair
        member = workflow.Assignment(kind=AssigneeKind.MEMBER, member_id=helper.id)
        # 吴振华: a light fixed and rated, a blocked pipe awaiting his check, a refused home job.
        self.scripted(
            xgt,
            _Seed(
                wu,
                ago(62),
                Category.ELECTRICAL,
                "1号楼1单元三楼楼道声控灯不亮，晚上上下楼要摸黑",
                unit_id=unit_1.id,
                household_id=wu_home.id,
                steps=[
                    Step("assign", ago(62) + _hours(2)),
                    Step("start", ago(62) + _hours(20)),
                    Step("done", ago(62) + _hours(26), "已更换声控灯头"),
                    Step("confirm", ago(62) + _hours(30)),
                    Step("rate", ago(62) + _hours(31), "修得很快，感谢物管会", 5),
                ],
            ),
            member,
        )
        self.scripted(
            xgt,
            _Seed(
                wu,
                ago(2, 2),
                Category.SEWER,
                "1号楼1单元一楼下水管道堵塞，厨房返水，味道很大",
                Priority.URGENT,
                unit_id=unit_1.id,
                household_id=wu_home.id,
                photo=True,
                steps=[
                    Step("assign", ago(2, 1)),
                    Step("start", ago(1, 20)),
                    Step("done", ago(0, 20), "已疏通主管，试水正常"),
                ],
            ),
            workflow.Assignment(kind=AssigneeKind.CONTRACTOR, contractor="孝义市宏达管道疏通"),
        )
        self.scripted(
            xgt,
            _Seed(
                wu,
                ago(40),
                Category.PLUMBING,
                "家里暖气入户阀门关不严，一直滴水",
                place=Place.HOME,
                household_id=wu_home.id,
                steps=[Step("reject", ago(40) + _hours(6), texts.REJECT_HOME)],
            ),
            member,
        )
        # 周玉梅 reports for the elderly of her stairwells.
        for unit, days, steps in (
            (
                unit_2,
                20,
                [
                    Step("assign", ago(20) + _hours(3)),
                    Step("start", ago(19)),
                    Step("done", ago(18), "已更换LED灯泡"),
                    Step("confirm", ago(17, 20)),
                    Step("rate", ago(17, 19), "老人说晚上敢出门了，谢谢", 4),
                ],
            ),
            (unit_2, 1, [Step("assign", ago(1) + _hours(3))]),
        ):
            homes = [h for h in xgt.households if h.unit_id == unit.id]
            home, elder = self.elder(xgt, homes, zhou)
            category = Category.STREET_LIGHT if days == 20 else Category.OTHER
            text = (
                f"{unit.building.name}门前路灯不亮，{elder[0]}大爷晚上出门遛弯看不见路"
                if days == 20
                else f"{unit.building.name}{unit.name}三楼到四楼的楼道扶手松动，"
                f"{elder[0]}奶奶上下楼不安全"
            )
            self.scripted(
                xgt,
                _Seed(
                    zhou,
                    ago(days),
                    category,
                    text + "（老人不会用手机，由单元代表代报）",
                    unit_id=unit.id,
                    household_id=home.id,
                    resident_name=elder,
                    steps=steps,
                ),
                member,
            )
        # Waiting for 孙德明's committee: fresh reports, and one overdue job.
        others = [(u, h) for u, h in xgt.residents if u.id not in (wu.id, zhou.id)]
        for hours, category, text in (
            (5, Category.SEWER, "2号楼1单元一楼地漏返水，楼道里都是污水"),
            (26, Category.CLEANING, "3号楼门口的垃圾桶满了，周末没人清运"),
        ):
            reporter, home = rng.choice(others)
            self.scripted(
                xgt,
                _Seed(reporter, ago(0, hours), category, text, household_id=home.id, steps=[]),
                member,
            )
        self.scripted(
            xgt,
            _Seed(
                chair,
                ago(16),
                Category.SEPTIC,
                f"{xgt.units[-1].building.name}后面的化粪池满溢，需要吸污车清掏",
                building_id=xgt.units[-1].building_id,
                own=True,
                steps=[Step("assign", ago(15))],
            ),
            workflow.Assignment(
                kind=AssigneeKind.CONTRACTOR, contractor="孝义市环卫吸污清运队", note="吸污车排期中"
            ),
        )
        reporter, home = rng.choice(others)
        self.scripted(
            xgt,
            _Seed(
                reporter,
                ago(30),
                Category.CLEANING,
                f"{home.unit.building.name}{home.unit.name}楼道堆满了纸箱和旧家具",
                unit_id=home.unit_id,
                household_id=home.id,
                steps=[
                    Step("assign", ago(30) + _hours(2)),
                    Step("start", ago(29)),
                    Step("done", ago(28, 20), "已清理完毕"),
                    Step("confirm", ago(28)),
                    Step("reopen", ago(25), "楼道又堆满了，没清理干净"),
                    Step("assign", ago(25) + _hours(3)),
                    Step("start", ago(24)),
                    Step("done", ago(23), "已全部清运，并张贴禁止堆物提示"),
                    Step("confirm", ago(22)),
                    Step("rate", ago(22) + _hours(1), "这次彻底干净了", 4),
                ],
            ),
            member,
        )
        # 郑晓燕 in 城建小区, run by 赵志刚 of the community.
        staff = workflow.Assignment(kind=AssigneeKind.STAFF, member_id=cj.chair.id)
        zheng_home = next(h for u, h in cj.residents if u.id == zheng.id)
        self.scripted(
            cj,
            _Seed(
                zheng,
                ago(4),
                Category.BUILDING_DOOR,
                "2号楼1单元楼宇门闭门器坏了，门关不上，楼道里很冷",
                unit_id=zheng_home.unit_id,
                household_id=zheng_home.id,
                photo=True,
                steps=[Step("assign", ago(4) + _hours(2)), Step("start", ago(1))],
            ),
            staff,
        )
        self.scripted(
            cj,
            _Seed(
                zheng,
                ago(6),
                Category.CLEANING,
                "2号楼1单元门口堆放了装修垃圾，影响通行",
                unit_id=zheng_home.unit_id,
                household_id=zheng_home.id,
                steps=[
                    Step("assign", ago(6) + _hours(1)),
                    Step("start", ago(5)),
                    Step("done", ago(4, 6), "已清运"),
                    Step("confirm", ago(4)),
                ],
            ),
            staff,
        )
        reporter, home = rng.choice([(u, h) for u, h in cj.residents if u.id != zheng.id])
        self.scripted(
            cj,
            _Seed(
                reporter,
                ago(12),
                Category.OTHER,
                "希望在小区门口增设快递柜",
                household_id=home.id,
                steps=[Step("reject", ago(11), "不属于维修范围，已转社区统一协调")],
            ),
            staff,
        )

    def scripted(self, site: _Site, seed: _Seed, assignment: workflow.Assignment) -> None:
        """A task whose every step is given, played through the services like the others."""
        self.play(site, seed, assignment)
        self.counts["scripted"] += 1


def _has_mobile(site: _Site, home: Household, name: str) -> bool:
    return any(o.name == name and o.mobile for o in site.occupants[home.id])


WORK_PAYEES = {
    WorkKind.CAMERA: ["孝义市万家安防", "孝义市天网监控工程部"],
    WorkKind.STREET_LIGHT: ["孝义市光明电器维修部"],
    WorkKind.CHARGING: ["孝义市绿能充电设备有限公司"],
    WorkKind.BUILDING_DOOR: ["孝义市万家安防"],
    WorkKind.PARKING: ["孝义市路通市政工程队"],
    WorkKind.ROAD: ["孝义市路通市政工程队"],
}


def _share_out(total: int, weights: list[tuple[int, int]]) -> dict[int, int]:
    """``total`` shared out by weight (largest remainders), at least two each."""
    if not weights:
        return {}
    base = 2 * len(weights)
    assert total >= base
    whole = sum(w for _k, w in weights)
    exact = [(k, (total - base) * w / whole) for k, w in weights]
    shares = {k: 2 + int(x) for k, x in exact}
    left = total - sum(shares.values())
    for k, _x in sorted(exact, key=lambda item: (-(item[1] % 1), item[0]))[:left]:
        shares[k] += 1
    return shares


# --- the benchmark datasets: the same lives, written in bulk -----------------------------------


class BulkTimeline:
    """Tasks and their events as rows, with the monthly figures the services would keep."""

    def __init__(self, rows: Any) -> None:
        self.rows = rows
        self.months: dict[tuple[int, date], dict[str, int]] = {}

    def count(self, compound_id: int, on: date, **deltas: int) -> None:
        key = (compound_id, on.replace(day=1))
        row = self.months.setdefault(key, dict.fromkeys(MONTH_FIELDS, 0))
        for k, v in deltas.items():
            row[k] += v

    def event(
        self, task: dict[str, Any], actor: int, kind: str, before: str, note: str, at: datetime
    ) -> None:
        closing = kind in (EventKind.CONFIRMED, EventKind.CLOSED)
        self.rows.add(
            RepairEvent,
            task_id=task["id"],
            at=at,
            actor_id=actor,
            from_status=before,
            to_status=task["status"],
            kind=kind,
            note=note[:200],
            due_on=task["due_on"] if closing else None,
        )

    def task(
        self,
        values: dict[str, Any],
        steps: list[Step],
        now: datetime,
        actors: dict[str, int],
        assignee: tuple[str, int | None, str],
    ) -> dict[str, Any]:
        """Report a task and play its steps until ``now``; ``actors`` by who acts: reporter,
        triage, worker."""
        reported_at = values["reported_at"]
        days = allowed_days(values["category"], values["priority"], DEFAULT_TARGET_DAYS)
        task = dict(
            values,
            status=Status.REPORTED.value,
            assignee_kind=None,
            assignee_id=None,
            assignee_name="",
            due_on=clock.local_date(reported_at) + timedelta(days=days),
            done_at=None,
            finished_at=None,
            reject_reason="",
            rating=None,
            rating_comment="",
            version=1,
            decision_id=None,
            request_key=None,
        )
        self.rows.add(RepairTask, **task)
        task = self.rows.tables[RepairTask][-1]
        compound_id = task["compound_id"]
        self.event(task, actors["reporter"], EventKind.REPORTED, "", "", reported_at)
        self.count(compound_id, clock.local_date(reported_at), reported=1)
        for step in steps:
            if step.at >= now:
                break
            before = task["status"]
            day = clock.local_date(step.at)
            note = step.note
            match step.move:
                case "assign":
                    kind, person, name = assignee
                    task.update(assignee_kind=kind, assignee_id=person, assignee_name=name)
                    task["status"] = Status.ASSIGNED.value
                    actor, event, note = actors["triage"], EventKind.ASSIGNED, name
                case "start":
                    task["status"] = Status.IN_PROGRESS.value
                    actor, event = actors["worker"], EventKind.STARTED
                case "done":
                    task.update(status=Status.DONE.value, done_at=step.at)
                    actor, event = actors["worker"], EventKind.DONE
                case "confirm" | "close":
                    task.update(status=Status.CLOSED.value, finished_at=step.at)
                    actor = actors["reporter" if step.move == "confirm" else "triage"]
                    event = EventKind.CONFIRMED if step.move == "confirm" else EventKind.CLOSED
                    self.count(
                        compound_id,
                        day,
                        closed=1,
                        closed_in_target=1 if day <= task["due_on"] else 0,
                        close_days=(day - clock.local_date(reported_at)).days,
                    )
                case "send_back":
                    task.update(status=Status.IN_PROGRESS.value, done_at=None)
                    actor, event = actors["reporter"], EventKind.SENT_BACK
                case "reject":
                    task.update(status=Status.REJECTED.value, finished_at=step.at)
                    task["reject_reason"] = note
                    actor, event = actors["triage"], EventKind.REJECTED
                    self.count(compound_id, day, rejected=1)
                case "reopen":
                    task.update(
                        status=Status.REPORTED.value,
                        finished_at=None,
                        done_at=None,
                        reject_reason="",
                        rating=None,
                        rating_comment="",
                    )
                    actor, event = actors["reporter"], EventKind.REOPENED
                    self.count(compound_id, day, reopened=1)
                case "rate":
                    task.update(rating=step.rating, rating_comment=note)
                    actor, event, before = actors["reporter"], EventKind.RATED, ""
                case _:
                    raise ValueError(step.move)
            task["version"] += 1
            self.event(task, actor, event, before, note, step.at)
        return task

    def finish(self) -> None:
        for (compound_id, month), counts in sorted(self.months.items()):
            self.rows.add(RepairMonth, compound_id=compound_id, month=month, **counts)


def bench_rows(builder: Any, seed: int) -> None:
    """Per compound of a benchmark dataset: a year of tasks, a few works and facilities.

    Each compound draws from its own random stream, named by its community and its place
    there, so the compound the benchmark measures is the same in the small and the city
    dataset, and only the number of other compounds differs.
    """
    from ..committees.models import Committee

    rows = builder.rows
    tables = rows.tables
    # Everything happened before today began: both datasets built on one day are the same.
    today = clock.local_date(clock.now())
    now = clock.start_of_day(today)
    area_of = {c["id"]: c["area_id"] for c in tables[Committee]}
    members: dict[int, list[tuple[int, str]]] = defaultdict(list)
    for m in tables[CommitteeMember]:
        members[area_of[m["committee_id"]]].append((m["user_id"], m["position"]))
    reps, residents = {}, {}
    for g in tables[RoleGrant]:
        if g["role"] == Role.UNIT_REP.value:
            reps[g["unit_id"]] = g["user_id"]
        elif g["role"] == Role.RESIDENT.value:
            residents[g["household_id"]] = g["user_id"]
    names = {u["id"]: u["name"] for u in tables[User]}
    units, buildings, households = tables[Unit], tables[Building], tables[Household]
    timeline = BulkTimeline(rows)
    place_in_community: dict[int, int] = defaultdict(int)
    categories = list(CATEGORY_WEIGHTS[ManagementModel.PARTY_BRANCH])
    weights = list(CATEGORY_WEIGHTS[ManagementModel.PARTY_BRANCH].values())
    for info in builder.compounds.values():
        index = place_in_community[info["community_id"]]
        place_in_community[info["community_id"]] += 1
        rng = random.Random(f"{seed}-{info['community_code']}-{index}")
        compound_id = info["id"]
        committee = [u for u, _position in members[info["area_id"]]]
        chair = next(u for u, pos in members[info["area_id"]] if pos == Position.CHAIR.value)
        own_homes = [h for h in info["households"] if h in residents]
        for _ in range(BENCH_TASKS_PER_COMPOUND):
            category = rng.choices(categories, weights)[0]
            priority = (
                Priority.URGENT.value
                if category in URGENT_CAN and rng.random() < 0.15
                else Priority.NORMAL.value
            )
            at = _moment(rng, today - timedelta(days=rng.randrange(1, 366)))
            unit_id = rng.choice(info["units"])
            building_id = units[unit_id - 1]["building_id"]
            building, unit = buildings[building_id - 1]["name"], units[unit_id - 1]["name"]
            text = _describe(rng, rng.choice(texts.PUBLIC[category]), building, unit)
            roll = rng.random()
            triage = rng.choice(committee)
            if roll < 0.12 and own_homes:
                home = own_homes[0]
                reporter, channel, resident_name, own = residents[home], Channel.RESIDENT, "", False
            elif roll < 0.5:
                homes = [h for h in info["households"] if households[h - 1]["unit_id"] == unit_id]
                home = rng.choice(homes)
                reporter, channel, own = reps[unit_id], Channel.ASSISTED, False
                resident_name = builder.household_occupants[home][0]["name"]
            else:
                home, reporter, channel, resident_name, own = (
                    None,
                    triage,
                    Channel.COMMITTEE,
                    "",
                    True,
                )
            if rng.random() < 0.5:
                assignee = (AssigneeKind.CONTRACTOR.value, None, texts.CONTRACTORS[category][0])
                worker = triage
            else:
                helper = rng.choice(committee)
                assignee = (AssigneeKind.MEMBER.value, helper, names[helper])
                worker = helper
            steps = plan_life(rng, category, priority, at, BENCH_PROFILE, own=own)
            timeline.task(
                {
                    "compound_id": compound_id,
                    "building_id": building_id,
                    "unit_id": unit_id,
                    "place": Place.PUBLIC.value,
                    "category": category,
                    "description": text,
                    "priority": priority,
                    "channel": channel.value,
                    "reported_by_id": reporter,
                    "household_id": home,
                    "resident_name": resident_name,
                    "reported_at": at,
                },
                steps,
                now,
                {"reporter": reporter, "triage": triage, "worker": worker},
                assignee,
            )
        for kind, facility, count, budget in (
            (WorkKind.CAMERA, FacilityKind.CAMERA, rng.randrange(4, 12), 12000),
            (WorkKind.CHARGING, FacilityKind.CHARGING_PILE, rng.randrange(4, 10), 16000),
            (WorkKind.STREET_LIGHT, FacilityKind.STREET_LIGHT, rng.randrange(4, 10), 9000),
        ):
            completed = today - timedelta(days=rng.randrange(20, 300))
            work_id = rows.add(
                Work,
                compound_id=compound_id,
                kind=kind.value,
                title={"camera": "安装监控摄像头", "charging": "电动车充电桩"}.get(
                    kind.value, "路灯更换"
                ),
                description="",
                budget_fen=budget * 100,
                funding=Funding.FEES.value,
                status=WorkStatus.COMPLETED.value,
                planned_on=completed - timedelta(days=40),
                started_on=completed - timedelta(days=10),
                completed_on=completed,
                expense_id=None,
                decision_id=None,
                created_by_id=chair,
                created_at=_noon(completed - timedelta(days=40)),
                version=3,
            )
            rows.add(
                Facility,
                compound_id=compound_id,
                kind=facility.value,
                count=count,
                location="院内",
                installed_on=completed,
                removed_on=None,
                work_id=work_id,
                recorded_by_id=chair,
            )
        rows.add(
            Facility,
            compound_id=compound_id,
            kind=FacilityKind.BUILDING_DOOR.value,
            count=len(info["units"]),
            location="各单元",
            installed_on=date(2012, 5, 1),
            removed_on=None,
            work_id=None,
            recorded_by_id=chair,
        )
    timeline.finish()


__all__ = ["ORDER", "BulkTimeline", "Photos", "bench_rows", "build_story", "plan_life"]

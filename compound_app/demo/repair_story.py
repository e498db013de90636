"""The demo's story of repairs: the pilots' half year, played through the services.

Each pilot compound gets its residents' accounts, its meetings (whose decisions become
tasks and works), its works with their photos and costs in the fee ledger, its facility
register, and a stream of reported tasks whose lives ``plan_life`` plans; every step is
played through the repair services on a simulated clock, so every rule of
``repairs.workflow`` applies and the services keep the monthly figures themselves.
Steps planned for after "now" do not happen, so the tasks of the last days are still
open, as they would be. The scripted parts (the demo accounts' own tasks, the seed's
works) are tables in ``repair_script``, played here. Every date is counted back from
today, so the story reads the same in any year.
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select

from .. import access, audit, clock
from ..auth.models import Role, RoleGrant, User
from ..committees.models import Position
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
from ..repairs.models import (
    AssigneeKind,
    Facility,
    FacilityKind,
    Funding,
    MeetingKind,
    PhotoStage,
    Place,
    Priority,
    RepairPhoto,
    RepairTask,
    Work,
    WorkKind,
)
from . import repair_texts as texts
from . import rights_of
from .photos import PHOTO_SUBJECT, Photos
from .repair_life import (
    CATEGORY_WEIGHTS,
    PROFILES,
    URGENT_CAN,
    Profile,
    Step,
    describe,
    hours,
    moment,
    noon,
    plan_life,
)
from .repair_script import (
    A_RESIDENT,
    CAMERA_FUNDING,
    CAMERAS,
    CAMERAS_ASKED,
    CHAIR,
    EACH_UNIT,
    OLD_FACILITIES,
    PLANNED,
    ROAD_DONE,
    SCRIPTED,
    START,
    STORY_CAMERAS,
    TODAY,
    WORK_PAYEES,
    WORKS,
    Day,
    Scripted,
    Where,
    Works,
)


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
    old_lines: dict[str, Facility] = field(default_factory=dict)  # from before, by kind
    completed: dict[str, date] = field(default_factory=dict)  # when its works were, by kind

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
            self.principals[user.id] = rights_of(user)
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
            if g.role == Role.COMMUNITY_STAFF and g.community_id is not None:
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
        text = describe(rng, template, building.name, unit.name)
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
        at = moment(rng, day)
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
                        moment(rng, day + timedelta(days=1)),
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
        recorded = moment(self.rng, held) + hours(6)
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

    def work(self, site: _Site, row: Works, decided: dict[str, int]) -> Work:
        """Plan a work of the script, and start and complete it on its days; what it
        installs goes into the register, in place of the old line it ``replaces``."""
        rng = self.rng
        actor = site.chair
        count = len(site.units) if row.installs == EACH_UNIT else row.installs
        budget_fen = (row.budget_yuan + row.yuan_each * count) * 100
        if row.funding == Funding.FEES and budget_fen > self.fees_can_bear(site):
            # More than the owners' fees hold: the renovation programme pays, as it did
            # for the pilots that asked in time (the fees' accounts never go below zero).
            row = replace(row, funding=Funding.GOVERNMENT)
        planned = self.day(site, row.planned)
        started = self.day(site, row.started)
        completed = None
        if row.done_after is not None:
            after = self.day(site, row.done_after, planned)
            assert after is not None
            completed = self.window(site, after, row.funding == Funding.FEES)
        if completed is not None:
            started = started or completed - timedelta(days=rng.randrange(3, 14))
        if started is not None:
            planned = planned or started - timedelta(days=rng.randrange(10, 30))
        assert planned is not None
        planned = max(planned, site.start)
        self.clock.now = min(moment(rng, planned - timedelta(days=rng.randrange(1, 5))), self.now)
        with audit.acting_as(actor.id):
            work = works.plan_work(
                site.compound,
                works.WorkPlan(
                    kind=row.kind,
                    title=row.title,
                    description=row.description.format(compound=site.compound.name, n=count),
                    budget_fen=budget_fen,
                    funding=row.funding,
                    planned_on=planned,
                    decision_id=decided.get(row.decision),
                ),
                actor,
            )
            work.created_at = self.clock.now
            subject = PHOTO_SUBJECT.get(row.kind, "other")
            if started is not None:
                with self.on(started):
                    works.start_work(work, started, work.version)
                for _ in range(rng.randrange(1, 3)):
                    self.work_photo(work, PhotoStage.BEFORE, subject, actor, started)
            if completed is not None:
                replaces = (
                    site.old_lines.get(works.WORK_FACILITY[row.kind]) if row.replaces else None
                )
                with self.on(completed):
                    works.complete_work(work, completed, count, row.location, actor, work.version)
                    if replaces is not None:
                        works.remove_facility(replaces, completed)
                for _ in range(rng.randrange(1, 3)):
                    self.work_photo(work, PhotoStage.AFTER, subject, actor, completed)
                site.completed[row.kind] = completed
        if completed is not None and row.funding == Funding.FEES:
            self.pay_for(site, work, completed)
        elif completed is not None and row.funding in (Funding.GOVERNMENT, Funding.COMMUNITY):
            self.paid_by(site, work, completed)
        self.counts["works"] += 1
        return work

    def day(self, site: _Site, day: Day | None, planned: date | None = None) -> date | None:
        """The date of a ``Day`` of the script in this compound's story."""
        if day is None:
            return None
        marks = {
            START: site.start,
            TODAY: self.today,
            PLANNED: planned,
            ROAD_DONE: site.completed.get(WorkKind.ROAD),
        }
        base = marks[day.mark]
        assert base is not None, day
        offset = day.days
        if day.upto is not None:
            drawn = self.rng.randrange(abs(day.days), abs(day.upto))
            offset = -drawn if day.days < 0 else drawn
        return base + timedelta(days=offset)

    def work_photo(
        self, work: Work, stage: PhotoStage, subject: str, actor: User, day: date
    ) -> None:
        at = moment(self.rng, day)
        name = self.photos.make(subject, stage == PhotoStage.AFTER, at)
        db.session.add(
            RepairPhoto(work=work, stage=stage, file=name, uploaded_by_id=actor.id, uploaded_at=at)
        )

    def pay_for(self, site: _Site, work: Work, spent_on: date) -> None:
        """The work's bill, entered in the area's fee ledger, approved, linked to the work."""
        rng = self.rng
        recorder = site.treasurer or site.chair
        amount = max(100, int(work.budget_fen * rng.uniform(0.88, 1.0)) // 100 * 100)
        self.clock.now = moment(rng, spent_on)
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
                self.clock.now = moment(rng, min(spent_on + timedelta(days=1), self.today))
                with audit.acting_as(approver.id):
                    fee_expenses.approve_expense(expense, approver, staff=False)
        with audit.acting_as(site.chair.id):
            works.link_expense(work, expense.id, work.version)
        self.counts["expenses"] += 1

    def fees_can_bear(self, site: _Site) -> int:
        """What the area's fees have brought in, less what they paid for so far, less a
        reserve of a fifth."""
        from sqlalchemy import func

        from ..fees.models import Expense, ExpenseVoid, Payment

        area_id = site.compound.area_id
        received = db.session.scalar(
            select(func.coalesce(func.sum(Payment.amount_fen), 0)).where(Payment.area_id == area_id)
        )
        spent = db.session.scalar(
            select(func.coalesce(func.sum(Expense.amount_fen), 0)).where(
                Expense.area_id == area_id,
                ~select(ExpenseVoid.id).where(ExpenseVoid.expense_id == Expense.id).exists(),
            )
        )
        return int(received or 0) * 4 // 5 - int(spent or 0)

    def paid_by(self, site: _Site, work: Work, paid_on: date) -> None:
        """A work the government or the community paid for: its cost is their payment,
        recorded with their document, never an expense of the owners' fees."""
        from ..fund import service as fund
        from ..fund.models import Payer

        rng = self.rng
        amount = max(100, int(work.budget_fen * rng.uniform(0.9, 1.0)) // 100 * 100)
        government = work.funding == Funding.GOVERNMENT
        reference = (
            f"孝改办〔{paid_on.year}〕{rng.randrange(10, 90)}号"
            if government
            else f"社区经费拨付单 {paid_on:%Y%m}-{rng.randrange(1, 30):02d}"
        )
        self.clock.now = moment(rng, paid_on)
        with audit.acting_as(site.chair.id):
            fund.record_work_payment(
                work,
                site.chair,
                payer=Payer.GOVERNMENT if government else Payer.COMMUNITY,
                amount_fen=amount,
                paid_on=paid_on,
                reference=reference,
                photo="",
                request_key=f"demo-work-paid-{work.id}",
            )
        self.counts["work_payments"] += 1

    def facility(
        self, site: _Site, kind: FacilityKind, count: int, location: str, installed: date
    ) -> Facility:
        with audit.acting_as(site.chair.id), self.on(installed):
            return works.add_facility(
                site.compound, works.FacilityEntry(kind, count, location, installed), site.chair
            )

    def on(self, day: date) -> Any:
        """Hold the clock at noon of ``day`` (never past the story's present) for one step."""
        return clock.held_at(min(noon(day), self.now))

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
            self.camera_work(site, cameras.get(site.compound.id, 0), decided)
            self.more_works(site, decided)
            months = (self.today - site.start).days / 30
            for _ in range(round(len(site.households) / 42 * months)):
                self.play(site, self.random_seed(site))
        by_name = {s.compound.name: s for s in sites}
        self.demo_accounts(by_name)

    def camera_work(self, site: _Site, cameras: int, decided: dict[str, int]) -> None:
        """The seed's cameras where the pilot has its share; a request where it has none."""
        if cameras:
            governs = site.stage == PilotStage.SELF_GOVERNING
            funding = CAMERA_FUNDING[(site.model, governs)]
            self.work(site, replace(CAMERAS, installs=cameras, funding=funding), decided)
        elif site.stage == PilotStage.ORGANISED:
            self.work(site, CAMERAS_ASKED, decided)

    def more_works(self, site: _Site, decided: dict[str, int]) -> None:
        """The register's lines from before the pilot, and the seed's other works."""
        rng = self.rng
        for old in OLD_FACILITIES:
            if rng.random() < old.share or site.compound.name in old.always:
                count = (
                    rng.randrange(*old.count) if isinstance(old.count, tuple) else len(site.units)
                )
                year = self.today.year + rng.randrange(*old.years)
                installed = date(year, rng.randrange(1, 13), 1)
                line = self.facility(site, old.kind, count, old.location, installed)
                site.old_lines[old.kind] = line
        for row in WORKS:
            if row.compound == site.compound.name:
                self.work(site, row, decided)

    # --- the demo accounts' own tasks (the story one signs in to see) --------------------------

    def demo_accounts(self, sites: dict[str, _Site]) -> None:
        from .generate import DEMO_ACCOUNTS

        mobiles = {a.mobile: a.name for a in DEMO_ACCOUNTS}
        accounts = {
            mobiles[u.mobile]: u
            for u in db.session.scalars(select(User).where(User.mobile.in_(list(mobiles))))
        }
        for row in SCRIPTED:
            site = sites.get(row.compound)
            if site is not None:
                self.scripted(site, row, accounts)

    def scripted(self, site: _Site, row: Scripted, accounts: dict[str, User]) -> None:
        """A task of the script, whose every step is given, played through the services
        like the others."""
        home: Household | None = None
        if row.reporter == CHAIR:
            reporter = site.chair
        elif row.reporter == A_RESIDENT:
            named = {u.id for u in accounts.values()}
            others = [(u, h) for u, h in site.residents if u.id not in named]
            reporter, home = self.rng.choice(others)
        else:
            reporter = accounts[row.reporter]
            home = next((h for u, h in site.residents if u.id == reporter.id), None)
        unit = None
        if row.where in (Where.ELDER, Where.BUILDING):
            unit = site.units[row.unit]
        elif row.where == Where.STAIRWELL:
            assert home is not None
            unit = home.unit
        elder = ""
        if row.where == Where.ELDER:
            assert unit is not None
            homes = [h for h in site.households if h.unit_id == unit.id]
            home, elder = self.elder(site, homes, reporter)
        text = row.text.format(
            building=unit.building.name if unit else "",
            unit=unit.name if unit else "",
            surname=elder[:1],
        )
        reported = self.now - timedelta(days=row.days_ago, hours=row.hours_ago)
        seed = _Seed(
            reporter,
            reported,
            row.category,
            text,
            row.priority,
            Place.HOME if row.where == Where.HOME else Place.PUBLIC,
            building_id=unit.building_id if unit and row.where == Where.BUILDING else None,
            unit_id=unit.id if unit and row.where != Where.BUILDING else None,
            household_id=home.id if home else None,
            resident_name=elder,
            own=row.reporter == CHAIR,
            photo=row.photo,
            steps=[Step(m.move, reported + hours(m.after), m.note, m.rating) for m in row.steps],
        )
        if row.contractor:
            assignment = workflow.Assignment(
                kind=AssigneeKind.CONTRACTOR, contractor=row.contractor, note=row.assign_note
            )
        elif site.members:
            helper = site.members[1] if len(site.members) > 1 else site.chair
            assignment = workflow.Assignment(kind=AssigneeKind.MEMBER, member_id=helper.id)
        else:
            assignment = workflow.Assignment(kind=AssigneeKind.STAFF, member_id=site.chair.id)
        self.play(site, seed, assignment)
        self.counts["scripted"] += 1


def _has_mobile(site: _Site, home: Household, name: str) -> bool:
    return any(o.name == name and o.mobile for o in site.occupants[home.id])


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

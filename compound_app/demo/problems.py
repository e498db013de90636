"""The story's three lists (问题清单, 责任清单, 整改清单), told through the services.

The door-to-door survey found 99 problems in six kinds across the pilots (排查问题6类99个).
The subdistrict's 党工委 took the general ones; a named 包联干部 took each individual one.
Each became a rectification project of the seed's five kinds (惠民便民16, 民生14,
化解矛盾纠纷26, 联系群众9, 志愿服务34), now at varied stages; a few of the cadres' went
overdue and were escalated to the 党工委, a few of the 党工委's are overdue. A grid worker
(马晓东, 绿城社区第一网格) works the first pilot; every branch-managed pilot had an
inspection; the community imported a few 12345 tickets; and the demo resident's compound
(新国土小区) has residents' complaints, one anonymous, one fixed, verified and rated.

Everything is dated relative to today through the clock, one transaction at the end.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from sqlalchemy import select

from .. import audit, clock
from ..access import Principal
from ..auth.models import User
from ..extensions import db
from ..messages.triggers import community_staff
from ..oversight import lists
from ..problems import hotline
from ..problems import service as problems
from ..problems.models import Level, Problem, ProblemKind, Source
from ..rectify import inspections
from ..rectify import service as rectify
from ..rectify.models import ProjectKind, ProjectLevel
from ..registry.models import (
    Building,
    Community,
    Compound,
    Household,
    ManagementModel,
    Pilot,
    Subdistrict,
    Unit,
)
from . import rights_of

# The seed's projects per kind (整改清单), 99 in all: one per problem found.
PROJECT_COUNTS = (
    (ProjectKind.CONVENIENCE, 16),
    (ProjectKind.LIVELIHOOD, 14),
    (ProjectKind.DISPUTE, 26),
    (ProjectKind.CONTACT, 9),
    (ProjectKind.VOLUNTEER, 34),
)
# What the survey wrote down, per kind of problem; and the project that answered it.
SURVEY = {
    "sanitation": ["楼道堆放杂物", "垃圾清运不及时", "绿化带杂草丛生", "化粪池外溢"],
    "facilities": ["楼道灯损坏", "单元门禁失灵", "下水管道堵塞", "屋顶防水层老化"],
    "safety": ["电动车楼道充电", "消防通道被占用", "灭火器过期", "私拉电线"],
    "property_service": ["无人保洁", "物业费收支未公示", "门岗无人值守", "维修响应慢"],
    "neighbours": ["楼上漏水纠纷", "占用公共车位", "饲养宠物扰民", "装修噪音"],
    "convenience": ["缺少晾晒场地", "老人就医不便", "快递无处存放", "缺少休闲座椅"],
}
PROJECT_WORDS = {
    ProjectKind.CONVENIENCE: "便民服务：",
    ProjectKind.LIVELIHOOD: "民生整改：",
    ProjectKind.DISPUTE: "矛盾调解：",
    ProjectKind.CONTACT: "入户联系：",
    ProjectKind.VOLUNTEER: "志愿服务：",
}
CADRES = ["包联干部 韩立军", "包联干部 冯淑琴", "包联干部 曹建平", "城建办 任志宏"]
GRID_WORKER = "13900000011"
HOTLINE_ROWS = [
    ("12345-2026-0311", "楼道灯不亮，晚上老人上下楼不安全"),
    ("12345-2026-0417", "小区门口垃圾堆放多日无人清运"),
    ("12345-2026-0502", "楼上住户装修噪音，影响休息"),
]


def _user(mobile: str) -> User | None:
    return db.session.scalar(select(User).where(User.mobile == mobile))


class _Story:
    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.now = clock.now()
        self.rights: dict[int, Principal] = {}
        self.keys = 0
        self.kind = ""  # the facilities kind's id, for the complaints

    def p(self, user: User) -> Principal:
        if user.id not in self.rights:
            self.rights[user.id] = rights_of(user)
        return self.rights[user.id]

    def key(self) -> str:
        self.keys += 1
        return f"demo-problems-{self.keys:06d}-story"

    def at(self, days_ago: float) -> datetime:
        return self.now - timedelta(days=days_ago, minutes=self.rng.randrange(0, 600))


def problems_story(seed: int = 2026) -> None:
    admin = _user("13900000001")
    subdistrict = db.session.scalar(select(Subdistrict).order_by(Subdistrict.id))
    if admin is None or subdistrict is None:
        return
    story = _Story(seed)
    pilots: list[tuple[Pilot, Compound]] = [
        (pilot, compound)
        for pilot, compound in db.session.execute(
            select(Pilot, Compound)
            .join(Compound, Compound.id == Pilot.compound_id)
            .where(Compound.model != ManagementModel.UNMANAGED)
            .order_by(Compound.id)
        )
    ]
    if not pilots:
        return
    kinds = {k.code: k for k in problems.ensure_kinds(subdistrict.id)}
    story.kind = str(kinds["facilities"].id)
    with audit.acting_as(admin.id):
        found = _survey(story, admin, [c for _p, c in pilots], kinds)
        _projects(story, admin, found)
        _grid(story, pilots[0][1])
        for pilot, compound in pilots:
            if compound.model == ManagementModel.PARTY_BRANCH:
                _inspection(story, admin, pilot, compound)
        _hotline(story, admin, pilots[0][1].community)
    _complaints(story)
    # What the escalation job does after each run: the subdistrict's overdue counts.
    lists.refresh_overdue()
    db.session.commit()


def _survey(
    story: _Story, admin: User, compounds: list[Compound], kinds: dict[str | None, ProblemKind]
) -> list[Problem]:
    """99 problems found by the survey, three to four months ago; general ones to the
    党工委, individual ones to a named cadre."""
    rng = story.rng
    p = story.p(admin)
    codes = list(SURVEY)
    found = []
    for n in range(99):
        compound = compounds[n % len(compounds)]
        code = codes[n % len(codes)]
        title = SURVEY[code][(n // len(codes)) % len(SURVEY[code])]
        kind = kinds[code]
        filed_at = story.at(110 - n * 0.3)
        with clock.held_at(filed_at):
            problem = problems.file_problem(
                compound.community,
                compound,
                problems.Filing(
                    kind=str(kind.id),
                    title=title,
                    detail=f"入户排查：{compound.name}{title}",
                    source=Source.SURVEY,
                    level=Level.COMMUNITY,
                ),
                admin,
                p=p,
            )
        general = n % 3 == 0
        with clock.held_at(filed_at + timedelta(hours=2)):
            problems.set_level(
                problem,
                problems.Assignment(
                    Level.SUBDISTRICT if general else Level.CADRE,
                    owner_name="" if general else rng.choice(CADRES),
                    note="共性问题由街道党工委统筹" if general else "个性问题由包联干部负责",
                ),
                admin,
                p=p,
            )
        found.append(problem)
    return found


def _projects(story: _Story, admin: User, found: list[Problem]) -> None:
    """One project per problem, in the seed's counts, at varied stages: the oldest
    verified, then completed, in progress, and the newest just approved."""
    rng = story.rng
    kinds = [kind for kind, count in PROJECT_COUNTS for _ in range(count)]
    rng.shuffle(kinds)
    admin_p = story.p(admin)
    staff_of: dict[int, User] = {}
    for n, (problem, kind) in enumerate(zip(found, kinds, strict=True)):
        community = problem.community
        if community.id not in staff_of:
            staff_of[community.id] = (community_staff(community.id) or [admin])[0]
        staff = staff_of[community.id]
        staff_p = story.p(staff)
        made_at = problem.created_at + timedelta(days=3)
        stage = n % 5  # 0, 1: verified; 2: completed; 3: in progress; 4: approved
        # A few of the cadres' went overdue first and were escalated to the 党工委.
        if n % 11 == 1 and problem.level == Level.CADRE and problem.fix_due_at is not None:
            late = problem.fix_due_at + timedelta(hours=1)
            problems.escalate(problem, None, now=late)
            made_at = late + timedelta(days=1)
        with clock.held_at(made_at):
            project = rectify.create_project(
                [problem],
                rectify.Draft(
                    kind,
                    ProjectLevel.COMPOUND,
                    PROJECT_WORDS[kind] + problem.title,
                    clock.today() + timedelta(days=rng.choice((20, 30, 45))),
                    plan="制定方案，明确责任人和完成时限，逐个整改，动态管理。",
                    budget_fen=rng.choice((0, 0, 50_000, 120_000, 300_000)),
                    owner_name=problem.owner_name,
                ),
                staff,
                story.key(),
                admin_p,
            )
        if stage == 4:
            # Just approved; the oldest of these are overdue with the 党工委.
            continue
        with clock.held_at(made_at + timedelta(days=5)):
            if kind == ProjectKind.VOLUNTEER:
                volunteer = rectify.add_volunteer(project, staff, rng.choice(("张桂兰", "李志强")))
                rectify.log_hours(
                    project, staff, volunteer, clock.today(), rng.choice((90, 120)), story.key()
                )
            rectify.add_note(project, staff, "已入户核实，正在组织整改。", [], story.key())
        if stage == 3:
            continue
        with clock.held_at(made_at + timedelta(days=12)):
            if kind == ProjectKind.DISPUTE:
                rectify.add_party(project, staff, "楼上住户")
                rectify.add_party(project, staff, "楼下住户")
                rectify.record_agreement(
                    project, staff, "双方同意共同承担维修费用，限期修复。", None, story.key()
                )
            rectify.complete(project, staff, "整改完成，现场照片已留存。", [], story.key(), staff_p)
        if stage == 2:
            continue
        with clock.held_at(made_at + timedelta(days=15)):
            rectify.verify(project, admin, True, "现场核查，整改到位。", p=admin_p)


def _grid(story: _Story, compound: Compound) -> None:
    worker = _user(GRID_WORKER)
    people = community_staff(compound.community_id)
    if worker is None or not people:
        return
    staff = people[0]
    with clock.held_at(story.at(60)):
        grid = problems.create_grid(compound.community, "第一网格", [compound.id], [], staff)
        problems.grant_grid_worker(grid, worker, staff)
    story.rights.pop(worker.id, None)
    home = db.session.scalar(
        select(Household)
        .join(Unit, Unit.id == Household.unit_id)
        .join(Building, Building.id == Unit.building_id)
        .where(Building.compound_id == compound.id)
        .order_by(Household.id)
    )
    with clock.held_at(story.at(6)):
        problems.file_problem(
            compound.community,
            compound,
            problems.Filing(
                kind=story.kind,
                title="独居老人家中水管漏水",
                detail="网格员走访发现，老人行动不便，代为反映。",
                source=Source.ASSISTED,
                household_id=home.id if home else None,
                contact_name="独居老人",
            )
            if home is not None
            else problems.Filing(kind=story.kind, title="路灯不亮", source=Source.GRID),
            worker,
            p=story.p(worker),
        )


def _inspection(story: _Story, admin: User, pilot: Pilot, compound: Compound) -> None:
    p = story.p(admin)
    when = story.at(20)
    visited = clock.local_date(when)
    if visited < pilot.selected_on:
        return
    with clock.held_at(when):
        visit = inspections.start(compound, admin, visited, "党支部书记", story.key(), p=p)
        for n, item in enumerate(inspections.items(compound.community.subdistrict_id)):
            failed = n == len(inspections.items(compound.community.subdistrict_id)) - 1
            inspections.record_result(
                visit, admin, item.id, not failed, "灭火器过期未更换" if failed else ""
            )
        inspections.finish(visit, admin, "总体良好，消防器材需更换。", p=p)


def _hotline(story: _Story, admin: User, community: Community) -> None:
    compound = db.session.scalar(
        select(Compound).where(Compound.community_id == community.id).order_by(Compound.id)
    )
    if compound is None:
        return
    kind = problems.kind_choices(community.subdistrict_id)[1][1]
    lines = [",".join(hotline.COLUMNS)]
    for n, (number, text) in enumerate(HOTLINE_ROWS):
        day = clock.local_date(story.at(25 - n * 7))
        caller = ("王女士", "刘先生", "赵女士")[n]
        lines.append(
            f"{number},{day.isoformat()} 09:3{n},{caller},1380000{n:04d},{community.name},"
            f"{compound.name},{kind},{text}"
        )
    data = ("\n".join(lines) + "\n").encode("utf-8")
    preview = hotline.read("12345.csv", data, community)
    hotline.import_tickets(community, preview.new, admin, p=story.p(admin))


def _complaints(story: _Story) -> None:
    """The demo resident's compound: a few complaints, one anonymous, one verified."""
    resident, chair = _user("13900000009"), _user("13900000007")
    compound = db.session.scalar(select(Compound).where(Compound.name == "新国土小区"))
    if resident is None or chair is None or compound is None:
        return
    p = story.p(resident)
    home = next(iter(sorted(p.resident_households)), None)
    if home is None:
        return
    sent = [
        ("楼道声控灯坏了", "1号楼1单元三楼声控灯不亮，晚上看不清台阶。", False, 12),
        ("垃圾桶满了没人清", "东门垃圾桶连续两天没有清运。", False, 3),
        ("有人在楼道给电动车充电", "1单元有人从窗户拉线给电动车充电，很危险。", True, 1),
    ]
    filed = []
    for title, detail, anonymous, days in sent:
        with audit.acting_as(resident.id), clock.held_at(story.at(days)):
            filed.append(
                problems.file_problem(
                    compound.community,
                    compound,
                    problems.Filing(
                        kind=story.kind,
                        title=title,
                        detail=detail,
                        household_id=home,
                        anonymous=anonymous,
                        photos=(),
                    ),
                    resident,
                    p=p,
                )
            )
    fixed = filed[0]
    chair_p = story.p(chair)
    with audit.acting_as(chair.id):
        with clock.held_at(fixed.created_at + timedelta(hours=5)):
            problems.reply(fixed, "已联系电工，明天更换。", chair, p=chair_p)
        with clock.held_at(fixed.created_at + timedelta(days=1)):
            problems.mark_fixed(fixed, "已更换声控灯。", chair, p=chair_p)
    with audit.acting_as(resident.id), clock.held_at(fixed.created_at + timedelta(days=2)):
        problems.verify(fixed, resident, note="灯亮了", p=p)
        problems.rate(fixed, 5, "修得很快，谢谢！", resident, p=p)

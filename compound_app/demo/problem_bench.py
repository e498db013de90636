"""The benchmark datasets' problems and rectification projects, written in bulk.

Each compound gets ``BENCH_PROBLEMS_PER_COMPOUND`` problems of the last year, found by the
door survey, grid workers and the hotline, at varied stages (open, replied, fixed,
verified and rated, some past their deadlines and escalated), and two rectification
projects that take some of them on. The three lists' kept figures (``ProblemMonth``) are
then written from a recount of the rows (``oversight.lists.rebuild``), the same recount
``flask oversight check-lists`` proves them by. Each compound draws from its own random
stream, so the measured compound is the same in the small and the city dataset.
"""

from __future__ import annotations

import random
from datetime import timedelta
from typing import Any

from sqlalchemy import func, insert, select, text

from .. import clock
from ..auth.models import Role, RoleGrant
from ..extensions import db
from ..problems.models import Level, Problem, ProblemStep, Severity, Source, Status, StepKind
from ..problems.service import ensure_kinds
from ..rectify.models import (
    ProjectKind,
    ProjectLevel,
    RectifyProblem,
    RectifyProject,
    RectifyStep,
    Stage,
)
from ..rectify.models import StepKind as ProjectStep
from ..registry.models import Community, Compound

BENCH_PROBLEMS_PER_COMPOUND = 20  # 4,000 over the city's 200 compounds
TITLES = [
    "楼道堆放杂物",
    "单元门禁损坏",
    "路灯不亮",
    "化粪池外溢",
    "垃圾清运不及时",
    "车辆乱停乱放",
    "楼顶漏水",
    "邻里噪音纠纷",
    "消防通道堵塞",
    "绿地无人养护",
]
SOURCES = [Source.SURVEY, Source.SURVEY, Source.GRID, Source.HOTLINE, Source.MEETING]
TABLES = [Problem, ProblemStep, RectifyProject, RectifyProblem, RectifyStep]


def bench_problems(seed: int = 0) -> int:
    """Problems, their steps and projects for every compound; returns the problems
    written. Does not commit."""
    from ..oversight import lists

    now = clock.start_of_day(clock.today())
    communities = list(db.session.scalars(select(Community).order_by(Community.id)))
    if not communities:
        return 0
    kinds = [k.id for k in ensure_kinds(communities[0].subdistrict_id)]
    staff = dict(
        db.session.execute(
            select(RoleGrant.community_id, func.min(RoleGrant.user_id))
            .where(RoleGrant.role == Role.COMMUNITY_STAFF)
            .group_by(RoleGrant.community_id)
        ).all()
    )
    admin = db.session.scalar(
        select(func.min(RoleGrant.user_id)).where(RoleGrant.role == Role.SUBDISTRICT_ADMIN)
    )
    rows: dict[Any, list[dict[str, Any]]] = {table: [] for table in TABLES}
    next_id = dict.fromkeys(TABLES, 1)

    def add(table: Any, values: dict[str, Any] | None = None, **more: Any) -> int:
        values = values if values is not None else more
        values.setdefault("id", next_id[table])
        next_id[table] = values["id"] + 1
        rows[table].append(values)
        return int(values["id"])

    for community in communities:
        actor = staff.get(community.id) or admin
        compounds = db.session.scalars(
            select(Compound).where(Compound.community_id == community.id).order_by(Compound.id)
        ).all()
        for index, compound in enumerate(compounds):
            rng = random.Random(f"{seed}-problems-{community.code}-{index}")
            taken: list[int] = []
            for n in range(BENCH_PROBLEMS_PER_COMPOUND):
                created = now - timedelta(days=rng.randint(1, 360), hours=rng.randint(0, 12))
                level = Level.COMMITTEE if rng.random() < 0.6 else Level.COMMUNITY
                hours, days = (24, 3) if level == Level.COMMITTEE else (48, 7)
                problem: dict[str, Any] = {
                    "subdistrict_id": community.subdistrict_id,
                    "community_id": community.id,
                    "compound_id": compound.id,
                    "kind_id": rng.choice(kinds),
                    "severity": rng.choice([Severity.NORMAL, Severity.NORMAL, Severity.SERIOUS]),
                    "title": rng.choice(TITLES),
                    "detail": "",
                    "source": rng.choice(SOURCES),
                    "entered_by_id": actor,
                    "level": level,
                    "status": Status.OPEN,
                    "reply_due_at": created + timedelta(hours=hours),
                    "fix_due_at": created + timedelta(days=days),
                    "created_at": created,
                    "escalations": 0,
                    "anonymous": False,
                    "contact_name": "",
                    "contact_mobile": "",
                    "owner_name": "",
                    "reply": "",
                    "rating_comment": "",
                    "version": 1,
                    **dict.fromkeys(
                        (
                            "replied_at",
                            "fixed_at",
                            "fixed_by_id",
                            "verified_at",
                            "closed_at",
                            "escalated_at",
                            "rating",
                            "rated_at",
                        )
                    ),
                }
                problem["hotline_no"] = (
                    f"B{community.code}{index:03d}{n:03d}"
                    if problem["source"] == Source.HOTLINE
                    else None
                )
                pid = add(Problem, problem)
                steps = [(StepKind.FILED, Status.OPEN, created, "")]
                fate = rng.random()
                if fate > 0.15:  # replied
                    at = created + timedelta(hours=rng.randint(2, 60))
                    if at < now:
                        problem.update(status=Status.REPLIED, replied_at=at, reply="已安排处理")
                        steps.append((StepKind.REPLIED, Status.REPLIED, at, "已安排处理"))
                if fate > 0.4 and problem["status"] == Status.REPLIED:  # fixed
                    at = problem["replied_at"] + timedelta(days=rng.randint(1, 12))
                    if at < now:
                        problem.update(status=Status.FIXED, fixed_at=at, fixed_by_id=actor)
                        steps.append((StepKind.FIXED, Status.FIXED, at, "已整改"))
                if fate > 0.6 and problem["status"] == Status.FIXED:  # verified and rated
                    at = problem["fixed_at"] + timedelta(days=rng.randint(1, 5))
                    if at < now:
                        problem.update(
                            status=Status.CLOSED, verified_at=at, closed_at=at, rated_at=at
                        )
                        problem["rating"] = rng.choice([3, 4, 5, 5])
                        steps.append((StepKind.VERIFIED, Status.CLOSED, at, ""))
                        steps.append((StepKind.RATED, Status.CLOSED, at, ""))
                overdue = problem["status"] == Status.OPEN and problem["fix_due_at"] < now
                if overdue and level == Level.COMMITTEE:
                    # Overdue: the community took it over from the committee.
                    at = problem["reply_due_at"]
                    problem.update(
                        level=Level.COMMUNITY,
                        escalations=1,
                        escalated_at=at,
                        reply_due_at=at + timedelta(hours=48),
                        fix_due_at=at + timedelta(days=7),
                    )
                    steps.append((StepKind.ESCALATED, Status.OPEN, at, "超期"))
                for kind, status, at, note in steps:
                    add(
                        ProblemStep,
                        problem_id=pid,
                        kind=kind,
                        from_status="",
                        to_status=status,
                        from_level="",
                        to_level="",
                        owner_name="",
                        by_id=None if kind == StepKind.ESCALATED else actor,
                        note=note,
                        at=at,
                    )
                if problem["status"] in (Status.REPLIED, Status.FIXED) and len(taken) < 4:
                    taken.append(pid)
            for number, chunk in enumerate((taken[:2], taken[2:4])):
                if not chunk:
                    continue
                created = now - timedelta(days=20 + 10 * number)
                stage = Stage.IN_PROGRESS if number else Stage.APPROVED
                project = add(
                    RectifyProject,
                    subdistrict_id=community.subdistrict_id,
                    community_id=community.id,
                    compound_id=compound.id,
                    level=ProjectLevel.COMPOUND,
                    kind=rng.choice(list(ProjectKind)),
                    title=f"{compound.name}整改项目{number + 1}",
                    plan="逐个整改，动态管理",
                    budget_fen=rng.randint(0, 50) * 100_00,
                    owner_id=actor,
                    owner_name="",
                    due_on=clock.today() + timedelta(days=30),
                    stage=stage,
                    created_by_id=actor,
                    created_at=created,
                    request_key=f"bench-project-{compound.id}-{number}",
                    version=1,
                )
                for problem_id in chunk:
                    add(RectifyProblem, project_id=project, problem_id=problem_id)
                add(
                    RectifyStep,
                    project_id=project,
                    kind=ProjectStep.CREATED,
                    from_stage="",
                    to_stage=Stage.APPROVED,
                    note="立项",
                    by_id=actor,
                    at=created,
                )
                if stage == Stage.IN_PROGRESS:
                    add(
                        RectifyStep,
                        project_id=project,
                        kind=ProjectStep.NOTE,
                        from_stage=Stage.APPROVED,
                        to_stage=Stage.IN_PROGRESS,
                        note="已开工",
                        by_id=actor,
                        at=created + timedelta(days=3),
                    )
    for table in TABLES:
        for start in range(0, len(rows[table]), 5000):
            db.session.execute(insert(table), rows[table][start : start + 5000])
    if db.engine.dialect.name == "postgresql":
        for table in TABLES:
            name = table.__tablename__  # our own table names, never user input
            db.session.execute(
                text(
                    f"SELECT setval(pg_get_serial_sequence('\"{name}\"', 'id'), "  # noqa: S608
                    f'COALESCE((SELECT MAX(id) FROM "{name}"), 0) + 1, false)'
                )
            )
    lists.rebuild()
    return len(rows[Problem])

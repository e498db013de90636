"""The ledger of the three lists (台账) as an Excel workbook, in the seed's shape.

Sheets 问题清单, 责任清单, 整改清单 and 汇总, for a community or the whole subdistrict. It
names the people who answer for problems and projects (staff, committee members, cadres),
never the people who reported them: no reporter, contact name or mobile is read at all,
so an anonymous complaint stays anonymous here too.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask_babel import force_locale
from sqlalchemy import func, select
from sqlalchemy.orm import aliased

from .. import clock
from ..auth.models import User
from ..extensions import db
from ..problems.models import Problem, ProblemKind, Status
from ..problems.service import kind_name
from ..rectify.models import ProjectKind, RectifyProblem, RectifyProject, RectifyStep, Stage
from ..registry.models import Community, Compound
from ..xlsx import Sheet, workbook, yuan, zh


@dataclass
class Scope:
    subdistrict_id: int | None = None
    community_id: int | None = None

    def problems(self) -> Any:
        if self.community_id is not None:
            return Problem.community_id == self.community_id
        return Problem.subdistrict_id == self.subdistrict_id

    def projects(self) -> Any:
        if self.community_id is not None:
            return RectifyProject.community_id == self.community_id
        return RectifyProject.subdistrict_id == self.subdistrict_id


def _day(moment: datetime | None) -> Any:
    return clock.local_date(moment) if moment is not None else ""


def _late(status: str, reply_due: datetime | None, fix_due: datetime | None, now: datetime) -> bool:
    """The register's rule (``problems.service.is_overdue``) on a row's columns."""
    if status == Status.OPEN and reply_due is not None and reply_due < now:
        return True
    return status in (Status.OPEN, Status.REPLIED) and fix_due is not None and fix_due < now


def ledger_xlsx(scope: Scope) -> bytes:
    owner = aliased(User)
    rows = db.session.execute(
        select(
            Problem.id,
            Problem.title,
            Problem.source,
            Problem.severity,
            Problem.status,
            Problem.level,
            Problem.owner_name,
            Problem.created_at,
            Problem.reply_due_at,
            Problem.fix_due_at,
            Problem.escalations,
            Problem.escalated_at,
            Community.name,
            Compound.name,
            ProblemKind,
            owner.name,
        )
        .join(Community, Community.id == Problem.community_id)
        .outerjoin(Compound, Compound.id == Problem.compound_id)
        .join(ProblemKind, ProblemKind.id == Problem.kind_id)
        .outerjoin(owner, owner.id == Problem.owner_id)
        .where(scope.problems())
        .order_by(Community.name, Problem.created_at, Problem.id)
    ).all()
    now = clock.now()
    register: list[list[Any]] = []
    responsibility: list[list[Any]] = []
    by_kind: dict[str, Counter[str]] = defaultdict(Counter)
    with force_locale("zh_CN"):
        for n, r in enumerate(rows, start=1):
            kind = kind_name(r.ProblemKind)
            register.append(
                [
                    n,
                    r[12],
                    r[13] or "社区范围",
                    zh("problem_source", r.source),
                    kind,
                    r.title,
                    _day(r.created_at),
                    zh("problem_severity", r.severity),
                    zh("problem_status", r.status),
                ]
            )
            late = _late(r.status, r.reply_due_at, r.fix_due_at, now)
            escalated = (
                f"{r.escalations}次，最近{_day(r.escalated_at):%Y-%m-%d}"
                if r.escalations and r.escalated_at
                else ""
            )
            responsibility.append(
                [
                    r.title,
                    zh("problem_level", r.level),
                    r[15] or r.owner_name or "",
                    _day(r.reply_due_at),
                    _day(r.fix_due_at),
                    "是" if late else "否",
                    escalated,
                ]
            )
            counts = by_kind[kind]
            counts["filed"] += 1
            counts["closed" if r.status == Status.CLOSED else "open"] += 1
            if r.status in (Status.FIXED, Status.CLOSED):
                counts["resolved"] += 1

    linked = dict(
        db.session.execute(
            select(RectifyProblem.project_id, func.count(RectifyProblem.id))
            .join(RectifyProject, RectifyProject.id == RectifyProblem.project_id)
            .where(scope.projects())
            .group_by(RectifyProblem.project_id)
        ).all()
    )
    ratings = {
        project_id: (total, n)
        for project_id, total, n in db.session.execute(
            select(RectifyStep.project_id, func.sum(RectifyStep.rating), func.count())
            .join(RectifyProject, RectifyProject.id == RectifyStep.project_id)
            .where(scope.projects(), RectifyStep.rating.is_not(None))
            .group_by(RectifyStep.project_id)
        )
    }
    projects = db.session.scalars(
        select(RectifyProject).where(scope.projects()).order_by(RectifyProject.id)
    ).all()
    rectification: list[list[Any]] = []
    project_kinds: dict[str, Counter[str]] = defaultdict(Counter)
    for project in projects:
        total, rated = ratings.get(project.id, (0, 0))
        rectification.append(
            [
                project.title,
                zh("rectify_kind", project.kind),
                linked.get(project.id, 0),
                project.plan,
                yuan(project.budget_fen),
                zh("rectify_stage", project.stage),
                _day(project.completed_at),
                f"已验收 {_day(project.verified_at):%Y-%m-%d}" if project.verified_at else "未验收",
                round((total or 0) / rated, 1) if rated else "",
            ]
        )
        counts = project_kinds[project.kind]
        counts["all"] += 1
        counts[project.stage] += 1

    summary: list[list[Any]] = [["问题类别", "问题数", "未办结", "已整改或已验证", "整改率"]]
    for kind, c in by_kind.items():
        rate = f"{100 * c['resolved'] / c['filed']:.1f}%" if c["filed"] else ""
        summary.append([kind, c["filed"], c["open"], c["resolved"], rate])
    summary.append([])
    summary.append(["项目类别", "项目数", *[zh("rectify_stage", s) for s in Stage]])
    for kind in ProjectKind:
        c = project_kinds.get(kind, Counter())
        summary.append([zh("rectify_kind", kind), c["all"], *[c[s] for s in Stage]])

    sheets: list[Sheet] = [
        (
            "问题清单",
            ["序号", "社区", "小区", "来源", "类别", "问题", "发现日期", "严重程度", "状态"],
            register,
        ),
        (
            "责任清单",
            ["问题", "责任层级", "责任人/部门", "答复期限", "整改期限", "是否超期", "升级记录"],
            responsibility,
        ),
        (
            "整改清单",
            ["项目", "类别", "涉及问题数", "计划", "预算", "进度", "完成日期", "验收", "满意度"],
            rectification,
        ),
        ("汇总", summary[0], summary[1:]),
    ]
    return workbook(sheets)

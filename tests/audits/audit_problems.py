"""The problem register's routes' cases for ``test_audit``: every change writes its audit row."""

from __future__ import annotations

import io
import re
from typing import Any

from openpyxl import Workbook
from sqlalchemy import select

from compound_app import access
from compound_app.extensions import db
from compound_app.problems import hotline
from compound_app.problems import service as problems
from compound_app.problems.models import Grid, Problem, ProblemKind
from compound_app.repairs.models import RepairTask
from compound_app.votes.models import Answer
from tests.audits.test_audit import NOT_AUDITED, Post, case, changed, one
from tests.factories import World, first_household, problem_objects

NOT_AUDITED["problems.hotline_import"] = (
    "reads the hotline's export and previews it; writes nothing (problems.hotline_confirm "
    "files the tickets, audited)"
)
KEY = "audit-case-problem-key-0001"


def _complaint(w: World, **changes: Any) -> Problem:
    resident = w.users["resident"]
    home = first_household(w.branch)
    filing = problems.Filing(
        kind="default:safety", title="楼道灯坏了", household_id=home.id, unit_id=home.unit_id
    )
    for key, value in changes.items():
        setattr(filing, key, value)
    problem = problems.file_problem(
        w.community, w.branch, filing, resident, p=access.load_principal(resident)
    )
    db.session.commit()
    return problem


@case("problems.create", "resident")
def _create(w: World, client: Any) -> Post:
    home = first_household(w.branch)
    return Post(
        f"/problems/compounds/{w.branch.id}/new",
        {
            "source": "complaint",
            "kind": "default:sanitation",
            "title": "垃圾桶满了",
            "household_id": str(home.id),
            "key": KEY,
        },
        lambda: [changed(one(select(Problem)), "file_problem", title="垃圾桶满了")],
    )


@case("problems.community_new", "staff")
def _community_new(w: World, client: Any) -> Post:
    return Post(
        f"/problems/communities/{w.community.id}/new",
        {
            "source": "hotline",
            "kind": "default:safety",
            "title": "夜间施工扰民",
            "hotline_no": "GD20260001",
            "compound": "",
            "key": KEY,
        },
        lambda: [changed(one(select(Problem)), "file_problem", hotline_no="GD20260001")],
    )


@case("problems.set_level", "committee")
def _set_level(w: World, client: Any) -> Post:
    problem = _complaint(w)
    return Post(
        f"/problems/{problem.id}/level",
        {"level": "community", "version": str(problem.version)},
        lambda: [changed(problem, "problem_level", level="community")],
    )


@case("problems.move", "committee")
def _move(w: World, client: Any) -> Post:
    problem = _complaint(w)
    return Post(
        f"/problems/{problem.id}/move",
        {"move": "reply", "note": "已联系电工", "version": str(problem.version)},
        lambda: [changed(problem, "problem_reply", status="replied")],
    )


@case("problems.rate", "resident")
def _rate(w: World, client: Any) -> Post:
    problem = _complaint(w)
    chair, resident = w.users["committee"], w.users["resident"]
    problems.mark_fixed(problem, "", chair, p=access.load_principal(chair))
    problems.verify(problem, resident, p=access.load_principal(resident))
    db.session.commit()
    return Post(
        f"/problems/{problem.id}/rate",
        {"rating": "5", "comment": "满意"},
        lambda: [changed(problem, "problem_rate", rating=5)],
    )


@case("problems.to_repair", "committee")
def _to_repair(w: World, client: Any) -> Post:
    problem = _complaint(w)
    return Post(
        f"/problems/{problem.id}/repair",
        {"category": "electrical"},
        lambda: [
            changed(one(select(RepairTask)), "report_repair", category="electrical"),
            changed(problem, "problem_link", repair_task_id=lambda v: v is not None),
        ],
    )


@case("problems.from_answer", "committee")
def _from_answer(w: World, client: Any) -> Post:
    ids = problem_objects(w.branch, w.users["committee"])
    answer = db.session.get(Answer, ids["answer_id"])
    return Post(
        f"/problems/answers/{answer.id}",
        {"kind": "default:sanitation"},
        lambda: [
            changed(
                one(select(Problem).where(Problem.answer_id == answer.id)),
                "file_problem",
                source="consultation",
            )
        ],
    )


def _export(w: World) -> bytes:
    wb = Workbook()
    wb.active.append(list(hotline.COLUMNS))
    wb.active.append(
        ["GD2026777", "2026-06-10 09:30", "张三", "", w.community.name, "", "安全隐患", "噪音扰民"]
    )
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


@case("problems.hotline_confirm", "staff")
def _hotline(w: World, client: Any) -> Post:
    page = client.post(
        f"/problems/communities/{w.community.id}/hotline",
        data={"file": (io.BytesIO(_export(w)), "12345.xlsx")},
        content_type="multipart/form-data",
    ).get_data(as_text=True)
    token = re.search(r'name="token"[^>]*value="([^"]+)"', page)
    assert token, "the preview offers no confirmation"
    return Post(
        f"/problems/communities/{w.community.id}/hotline/confirm",
        {"token": token[1]},
        lambda: [
            changed(one(select(Problem)), "file_problem", hotline_no="GD2026777"),
            changed(w.community, "hotline_import", added=1),
        ],
    )


@case("problems.settings", "admin")
def _settings(w: World, client: Any) -> Post:
    levels = ("committee", "community", "cadre", "subdistrict")
    return Post(
        f"/problems/subdistricts/{w.subdistrict.id}/settings",
        {f"reply_{lv}": "12" for lv in levels} | {f"fix_{lv}": "5" for lv in levels},
        lambda: [changed(w.subdistrict, "problem_deadlines", committee=[12, 5])],
    )


@case("problems.add_kind", "admin")
def _add_kind(w: World, client: Any) -> Post:
    return Post(
        f"/problems/subdistricts/{w.subdistrict.id}/kinds",
        {"name": "停车管理"},
        lambda: [
            changed(
                one(select(ProblemKind).where(ProblemKind.name == "停车管理")),
                "problem_kind_add",
                name="停车管理",
            )
        ],
    )


@case("problems.change_kind", "admin")
def _change_kind(w: World, client: Any) -> Post:
    kind = problems.ensure_kinds(w.subdistrict.id)[0]
    db.session.commit()
    return Post(
        f"/problems/subdistricts/{w.subdistrict.id}/kinds/{kind.id}",
        {"change": "rename", "name": "环境整治"},
        lambda: [changed(kind, "problem_kind_change", name="环境整治")],
    )


@case("problems.grids", "staff")
def _grids(w: World, client: Any) -> Post:
    return Post(
        f"/problems/communities/{w.community.id}/grids",
        {"name": "第一网格", "compounds": [str(w.branch.id)]},
        lambda: [changed(one(select(Grid)), "grid_create", name="第一网格")],
    )


def _grid(w: World) -> Grid:
    grid = problems.create_grid(w.community, "第二网格", [w.branch.id], [], w.users["staff"])
    db.session.commit()
    return grid


@case("problems.grid", "staff")
def _cover(w: World, client: Any) -> Post:
    grid = _grid(w)
    return Post(
        f"/problems/grids/{grid.id}",
        {"compounds": [str(w.trust.id)], "buildings": []},
        lambda: [changed(grid, "grid_cover", compounds=[w.trust.id])],
    )


@case("problems.grid_worker", "staff")
def _grid_worker(w: World, client: Any) -> Post:
    from compound_app.auth.models import RoleGrant

    grid = _grid(w)
    worker = w.users["outsider"]
    return Post(
        f"/problems/grids/{grid.id}/workers",
        {"mobile": worker.mobile},
        lambda: [
            changed(
                one(select(RoleGrant).where(RoleGrant.grid_id == grid.id)),
                "grant",
                role="grid_worker",
                user_id=worker.id,
            )
        ],
    )

"""The problem pages as each person uses them: a resident's 投诉建议 on a phone, the
committee's and staff's registers, the moves by every role (allowed and refused), the
anonymity the committee never sees through, the repair link, the 12345 import, the kinds
and deadlines, grids, and a consultation answer put on the register."""

from __future__ import annotations

import io

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select

from compound_app import access
from compound_app.extensions import db
from compound_app.problems import hotline, service
from compound_app.problems.models import Grid, Level, Problem, ProblemDeadline, ProblemKind, Status
from compound_app.repairs.models import RepairTask
from compound_app.votes.models import Answer
from tests.factories import World, first_household, problem_objects, user


def count(model) -> int:  # type: ignore[no-untyped-def]
    return db.session.scalar(select(func.count()).select_from(model)) or 0


def file_as_resident(world: World, login_as, anonymous: bool = False):  # type: ignore[no-untyped-def]
    client = login_as(world.users["resident"])
    page = client.get(f"/problems/compounds/{world.branch.id}/new")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "投诉" in text and 'name="anonymous"' in text
    home = first_household(world.branch)
    data = {
        "source": "complaint",
        "kind": "default:safety",
        "title": "楼道灯坏了",
        "detail": "二单元三楼楼道灯不亮",
        "household_id": str(home.id),
        "unit_id": str(home.unit_id),
        "key": "resident-form-key-000000000001",
    }
    if anonymous:
        data["anonymous"] = "y"
    response = client.post(f"/problems/compounds/{world.branch.id}/new", data=data)
    assert response.status_code == 303, response.get_data(as_text=True)[:2000]
    problem = db.session.scalars(select(Problem)).one()
    assert response.headers["Location"].endswith(f"/problems/{problem.id}")
    return client, problem


def test_a_resident_files_a_complaint_and_follows_it(world, login_as):
    client, problem = file_as_resident(world, login_as)
    assert (
        problem.source == "complaint" and problem.household_id == first_household(world.branch).id
    )
    mine = client.get("/problems/mine").get_data(as_text=True)
    assert "楼道灯坏了" in mine
    home = client.get("/").get_data(as_text=True)
    assert "我的投诉建议" in home or "complaints" in home
    # The committee hears of it, and finds it in its register and on its home page.
    chair = login_as(world.users["committee"])
    listed = chair.get(f"/problems/compounds/{world.branch.id}").get_data(as_text=True)
    assert "楼道灯坏了" in listed
    assert f"/problems/{problem.id}" in chair.get("/").get_data(as_text=True)


def test_a_bad_complaint_is_answered_next_to_its_field_and_files_nothing(world, login_as):
    client = login_as(world.users["resident"])
    response = client.post(
        f"/problems/compounds/{world.branch.id}/new",
        data={"source": "complaint", "kind": "nonsense", "title": "", "key": "k" * 20},
    )
    assert response.status_code == 422
    assert count(Problem) == 0
    # A compound where the resident does not live: out of sight.
    assert client.get(f"/problems/compounds/{world.elsewhere.id}/new").status_code == 404


@pytest.mark.parametrize("anonymous", [True, False])
def test_the_committee_never_sees_an_anonymous_reporter(world, login_as, anonymous):
    _client, problem = file_as_resident(world, login_as, anonymous=anonymous)
    resident = world.users["resident"]
    room = first_household(world.branch).room
    chair = login_as(world.users["committee"])
    pages = [
        chair.get(f"/problems/{problem.id}").get_data(as_text=True),
        chair.get(f"/problems/compounds/{world.branch.id}?status=all").get_data(as_text=True),
    ]
    for page in pages:
        assert "楼道灯坏了" in page
        if anonymous:
            assert resident.name not in page and resident.mobile not in page
    # The list never names anyone; a named complaint shows its reporter to the committee,
    # who keeps the roster with its mobiles anyway.
    assert resident.mobile not in pages[1]
    if anonymous:
        assert f"-{room}" not in pages[0]
    else:
        assert resident.name in pages[0]
    # Staff always see who sent it.
    staff = login_as(world.users["staff"]).get(f"/problems/{problem.id}").get_data(as_text=True)
    assert resident.name in staff and resident.mobile in staff
    # Even after the committee handles it, the timeline names the reporter only as such.
    chair.post(
        f"/problems/{problem.id}/move",
        data={"move": "reply", "note": "已安排", "version": str(problem.version)},
    )
    db.session.refresh(problem)
    chair.post(
        f"/problems/{problem.id}/move", data={"move": "fix", "version": str(problem.version)}
    )
    db.session.refresh(problem)
    login_as(resident).post(
        f"/problems/{problem.id}/move", data={"move": "verify", "version": str(problem.version)}
    )
    db.session.refresh(problem)
    assert problem.status == Status.CLOSED
    page = chair.get(f"/problems/{problem.id}").get_data(as_text=True)
    assert (resident.name not in page) == anonymous


def test_the_committee_marks_it_community_level_and_staff_take_it(world, login_as):
    _client, problem = file_as_resident(world, login_as)
    chair = login_as(world.users["committee"])
    refused = chair.post(
        f"/problems/{problem.id}/level",
        data={"level": "subdistrict", "version": str(problem.version)},
    )
    assert refused.status_code == 422
    response = chair.post(
        f"/problems/{problem.id}/level",
        data={"level": "community", "version": str(problem.version)},
    )
    assert response.status_code == 303
    db.session.refresh(problem)
    assert problem.level == Level.COMMUNITY
    # Someone outside the scope as owner: refused with a message, nothing written.
    staff = login_as(world.users["staff"])
    other = world.users["other_staff"]
    before = problem.version
    response = staff.post(
        f"/problems/{problem.id}/level",
        data={"level": "community", "owner_id": str(other.id), "version": str(before)},
    )
    assert response.status_code == 422
    db.session.refresh(problem)
    assert problem.version == before and problem.owner_id is None
    # A deadline in the past: refused next to the field.
    response = staff.post(
        f"/problems/{problem.id}/level",
        data={"level": "community", "fix_due": "2020-01-01", "version": str(before)},
    )
    assert response.status_code == 422 and "2020" not in str(problem.fix_due_at)
    # Staff of another community do not even see it; a resident may not set a level.
    assert login_as(other).post(f"/problems/{problem.id}/level", data={}).status_code == 404
    resident = login_as(world.users["resident"])
    assert resident.post(f"/problems/{problem.id}/level", data={}).status_code == 403


# Each role's answer to each move on a fresh complaint at the committee's level:
# 303 done, 422 refused with a message, 404 out of sight.
MOVES = {
    "reply": {
        "committee": 303,
        "staff": 303,
        "admin": 303,
        "resident": 422,
        "rep": 404,
        "area_committee": 404,
        "other_staff": 404,
        "outsider": 404,
    },
    "fix": {"committee": 303, "staff": 303, "resident": 422, "area_committee": 404},
    "escalate": {"staff": 303, "admin": 303, "committee": 422, "resident": 422},
    "decline": {"committee": 422, "staff": 422},  # nothing below the committee
    "verify": {"resident": 422, "staff": 422, "committee": 422},  # not fixed yet
    "reopen": {"resident": 422, "staff": 422},  # not fixed yet
}


@pytest.mark.parametrize(
    ("move", "role", "status"),
    [(m, r, s) for m, roles in MOVES.items() for r, s in roles.items()],
)
def test_every_move_by_every_role(world, login_as, move, role, status):
    _client, problem = file_as_resident(world, login_as)
    client = login_as(world.users[role])
    response = client.post(
        f"/problems/{problem.id}/move",
        data={"move": move, "note": "原因写在这里", "version": str(problem.version)},
    )
    assert response.status_code == status, response.get_data(as_text=True)[:3000]
    db.session.refresh(problem)
    if status != 303:
        assert len(problem.steps) == 1  # nothing written


def test_verify_your_own_fix_is_refused_and_the_reporter_verifies_and_rates(world, login_as):
    _client, problem = file_as_resident(world, login_as)
    chair = login_as(world.users["committee"])
    chair.post(
        f"/problems/{problem.id}/move", data={"move": "fix", "version": str(problem.version)}
    )
    db.session.refresh(problem)
    response = chair.post(
        f"/problems/{problem.id}/move", data={"move": "verify", "version": str(problem.version)}
    )
    assert response.status_code == 422
    db.session.refresh(problem)
    assert problem.status == Status.FIXED
    resident = login_as(world.users["resident"])
    page = resident.get(f"/problems/{problem.id}").get_data(as_text=True)
    assert 'value="verify"' in page
    resident.post(
        f"/problems/{problem.id}/move", data={"move": "verify", "version": str(problem.version)}
    )
    assert resident.post(f"/problems/{problem.id}/rate", data={"rating": "6"}).status_code == 422
    response = resident.post(
        f"/problems/{problem.id}/rate", data={"rating": "5", "comment": "满意"}
    )
    assert response.status_code == 303
    db.session.refresh(problem)
    assert problem.rating == 5 and problem.status == Status.CLOSED
    assert chair.post(f"/problems/{problem.id}/rate", data={"rating": "1"}).status_code == 422


def test_a_problem_becomes_a_linked_repair_task(world, login_as):
    _client, problem = file_as_resident(world, login_as)
    chair = login_as(world.users["committee"])
    response = chair.post(f"/problems/{problem.id}/repair", data={"category": "electrical"})
    assert response.status_code == 303
    task = db.session.scalars(select(RepairTask)).one()
    assert response.headers["Location"].endswith(f"/repairs/{task.id}")
    assert task.description.startswith("楼道灯坏了")
    task_page = chair.get(f"/repairs/{task.id}").get_data(as_text=True)
    assert f"/problems/{problem.id}" in task_page
    assert f"/repairs/{task.id}" in chair.get(f"/problems/{problem.id}").get_data(as_text=True)
    # Twice: refused, still one task.
    assert (
        chair.post(f"/problems/{problem.id}/repair", data={"category": "other"}).status_code == 422
    )
    assert count(RepairTask) == 1
    resident = login_as(world.users["resident"])
    assert (
        resident.post(f"/problems/{problem.id}/repair", data={"category": "other"}).status_code
        == 403
    )


# --- the 12345 hotline -------------------------------------------------------------------------


def export(rows: list[list[str]], columns: tuple[str, ...] = hotline.COLUMNS) -> bytes:
    wb = Workbook()
    wb.active.append(list(columns))
    for row in rows:
        wb.active.append(row)
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def ticket(world: World, number: str, compound: str = "", kind: str = "安全隐患") -> list[str]:
    return [
        number,
        "2026-06-10 09:30",
        "张三",
        "13912345678",
        world.community.name,
        compound,
        kind,
        "夜间施工噪音扰民",
    ]


def upload(client, world: World, data: bytes):  # type: ignore[no-untyped-def]
    return client.post(
        f"/problems/communities/{world.community.id}/hotline",
        data={"file": (io.BytesIO(data), "12345.xlsx")},
    )


def confirm(client, world: World, page: str):  # type: ignore[no-untyped-def]
    import re

    token = re.search(r'name="token"[^>]*value="([^"]+)"', page)
    assert token is not None, page[:3000]
    return client.post(
        f"/problems/communities/{world.community.id}/hotline/confirm", data={"token": token[1]}
    )


def test_the_hotline_export_is_previewed_imported_and_imported_again_without_change(
    world, login_as
):
    staff = login_as(world.users["staff"])
    data = export(
        [
            ticket(world, "GD2026001", world.branch.name),
            ticket(world, "GD2026002"),
            ticket(world, "GD2026003", "不存在的小区"),
            ticket(world, "GD2026001", world.branch.name),
            ["GD2026004", "明天", "", "", world.community.name, "", "安全隐患", "x"],
        ]
    )
    response = upload(staff, world, data)
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and count(Problem) == 0  # the preview writes nothing
    assert "GD2026003" not in page or "不存在的小区" in page
    assert "2 " in page or "2，" in page or "2 new" in page or "新" in page
    assert confirm(staff, world, page).status_code == 303
    assert count(Problem) == 2
    tickets = {p.hotline_no: p for p in db.session.scalars(select(Problem))}
    assert tickets["GD2026001"].compound_id == world.branch.id
    assert (
        tickets["GD2026002"].compound_id is None and tickets["GD2026002"].level == Level.COMMUNITY
    )
    assert tickets["GD2026001"].contact_name == "张三"
    # The same file again: every ticket is known, nothing to confirm, nothing added.
    again = upload(staff, world, data).get_data(as_text=True)
    assert 'name="token"' not in again
    assert count(Problem) == 2
    # A stale preview confirmed twice adds nothing either.
    assert confirm(staff, world, page).status_code == 303
    assert count(Problem) == 2


@pytest.mark.parametrize(
    ("columns", "named"),
    [
        (hotline.COLUMNS[:-1], "诉求内容"),  # a column missing
        ((*hotline.COLUMNS, "承办单位"), "承办单位"),  # an extra column
    ],
)
def test_a_hotline_export_with_missing_or_extra_columns_is_refused(world, login_as, columns, named):
    staff = login_as(world.users["staff"])
    response = upload(staff, world, export([ticket(world, "GD1")[: len(columns)]], columns))
    assert response.status_code == 422
    assert named in response.get_data(as_text=True)
    assert count(Problem) == 0


def test_only_staff_import_hotline_tickets(world, login_as):
    for role, status in (("committee", 404), ("resident", 404), ("other_staff", 404)):
        client = login_as(world.users[role])
        assert (
            client.get(f"/problems/communities/{world.community.id}/hotline").status_code == status
        )


# --- kinds and deadlines -------------------------------------------------------------------------


def test_the_admin_edits_the_kinds_and_the_deadlines(world, login_as):
    admin = login_as(world.users["admin"])
    url = f"/problems/subdistricts/{world.subdistrict.id}"
    page = admin.get(f"{url}/settings").get_data(as_text=True)
    assert "环境卫生" in page or "sanitation" in page.lower()
    data = {f"reply_{lv}": "12" for lv in Level} | {f"fix_{lv}": "5" for lv in Level}
    assert admin.post(f"{url}/settings", data=data).status_code == 303
    assert count(ProblemDeadline) == 4
    assert service.deadlines(world.subdistrict.id)[Level.COMMITTEE] == (12, 5)
    assert admin.post(f"{url}/settings", data={**data, "fix_committee": "0"}).status_code == 422
    assert admin.post(f"{url}/kinds", data={"name": "停车管理"}).status_code == 303
    assert count(ProblemKind) == 7
    kind = db.session.scalars(select(ProblemKind).order_by(ProblemKind.id)).first()
    assert admin.post(f"{url}/kinds/{kind.id}", data={"change": "retire"}).status_code == 303
    db.session.refresh(kind)
    assert kind.retired
    assert (
        admin.post(
            f"{url}/kinds/{kind.id}", data={"change": "rename", "name": "停车管理"}
        ).status_code
        == 422
    )
    assert login_as(world.users["staff"]).get(f"{url}/settings").status_code == 404


# --- grids ---------------------------------------------------------------------------------------


def test_staff_make_a_grid_and_its_worker_files_there_only(world, login_as):
    staff = login_as(world.users["staff"])
    url = f"/problems/communities/{world.community.id}/grids"
    assert staff.get(url).status_code == 200
    response = staff.post(url, data={"name": "第一网格", "compounds": [str(world.branch.id)]})
    assert response.status_code == 303
    grid = db.session.scalars(select(Grid)).one()
    worker = user("网格员小王")
    response = staff.post(f"/problems/grids/{grid.id}/workers", data={"mobile": worker.mobile})
    assert response.status_code == 303
    assert (
        staff.post(f"/problems/grids/{grid.id}/workers", data={"mobile": "13999999999"}).status_code
        == 422
    )
    client = login_as(worker)
    home = client.get("/").get_data(as_text=True)
    assert world.branch.name in home
    assert client.get(f"/problems/compounds/{world.branch.id}/new").status_code == 200
    assert client.get(f"/problems/compounds/{world.trust.id}/new").status_code == 404
    # Contact details: in the grid only.
    household = first_household(world.branch)
    assert access.can(access.Action.VIEW_CONTACTS, household, access.load_principal(worker))
    assert client.get(f"/registry/compounds/{world.trust.id}").status_code == 404
    # Another community's staff never see the grid.
    assert login_as(world.users["other_staff"]).get(f"/problems/grids/{grid.id}").status_code == 404


# --- a consultation answer ----------------------------------------------------------------------


def test_a_consultation_answer_goes_on_the_register_once(world, login_as):
    ids = problem_objects(world.branch, world.users["committee"])
    answer = db.session.get(Answer, ids["answer_id"])
    chair = login_as(world.users["committee"])
    page = chair.get(f"/votes/consultations/{answer.consultation_id}").get_data(as_text=True)
    assert f"/problems/answers/{answer.id}" in page
    response = chair.post(f"/problems/answers/{answer.id}", data={"kind": "default:sanitation"})
    assert response.status_code == 303
    problem = db.session.scalar(select(Problem).where(Problem.answer_id == answer.id))
    assert problem is not None and problem.source == "consultation"
    assert (
        chair.post(
            f"/problems/answers/{answer.id}", data={"kind": "default:sanitation"}
        ).status_code
        == 422
    )
    assert login_as(world.users["resident"]).get(f"/problems/answers/{answer.id}").status_code in (
        403,
        404,
    )

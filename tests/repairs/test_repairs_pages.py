"""The repair pages through the browser's eyes: every move by every role, reports with
photos, what neighbours may and may not see, assisted reports, works and meetings, targets."""

from __future__ import annotations

import io
import re
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from compound_app import clock
from compound_app.extensions import db
from compound_app.repairs import levels, queries, workflow, works
from compound_app.repairs.models import (
    Channel,
    Facility,
    Meeting,
    MeetingKind,
    RepairMonth,
    RepairPhoto,
    RepairTarget,
    RepairTask,
    Status,
    Work,
    WorkStatus,
)
from compound_app.uploads import upload_dir
from tests.factories import World, first_household, first_unit
from tests.fees.test_fees_concurrency import _together
from tests.repairs.test_repairs_service import (
    Cast,
    Photo,
    _expense,
    bring,
    footprint,
    jpeg,
    make_cast,
    report,
    resident_report,
    set_clock,
    stored_files,
)

MOBILE = re.compile(r"1[3-9]\d{9}")
NOT_YOURS = "这一步不由您操作"
CHANGED = "这期间已有人修改了此任务"


@pytest.fixture
def cast(world: World) -> Cast:
    return make_cast(world)


def _key(n: int = 0) -> str:
    return f"repair-form-key-{n:08d}-abcdef"


def _report_form(**fields: Any) -> dict[str, Any]:
    return {
        "category": "plumbing",
        "place": "public",
        "building_id": "",
        "unit_id": "",
        "household_id": "",
        "resident_name": "",
        "description": "三单元楼道水管漏水",
        "priority": "normal",
        "key": _key(),
        **fields,
    }


def _fresh(task: RepairTask) -> RepairTask:
    db.session.expire_all()
    return db.session.get(RepairTask, task.id)


def _move(client: Any, task: RepairTask, name: str, note: str = "", **extra: Any) -> Any:
    version = extra.pop("version", None)
    data = {"move": name, "note": note, "version": str(version or _fresh(task).version), **extra}
    return client.post(f"/repairs/{task.id}/move", data=data)


def _text(response: Any) -> str:
    return response.get_data(as_text=True)


# --- every move, every role ------------------------------------------------------------------

# Who sees a resident's report on the common parts of the branch's first unit.
ROLES = [
    "admin",
    "committee",
    "staff",
    "fixer",  # a committee member assigned to it, whose seat has ended since
    "resident",  # the reporter
    "rep",  # the representative of the unit: sees it all, but takes no steps
    "neighbour",  # a resident of another building: sees the common parts
    "other_rep",  # the representative of another unit
    "tenant",  # a renter in another compound
    "area_committee",
    "other_staff",
    "outsider",
]
HIDDEN = {"tenant", "area_committee", "other_staff", "outsider"}
TRIAGE = {"admin", "committee", "staff"}

# move → the status it starts from, who may make it
MOVES = {
    "start": (Status.ASSIGNED, TRIAGE | {"fixer"}),
    "done": (Status.IN_PROGRESS, TRIAGE | {"fixer"}),
    "confirm": (Status.DONE, {"resident"}),
    "send_back": (Status.DONE, {"resident"}),
    "reject": (Status.REPORTED, TRIAGE),
    "reopen": (Status.CLOSED, {"resident"}),
}


def _tasks_per_role(world: World, cast: Cast, status: Status) -> dict[str, RepairTask]:
    """One task in ``status`` for each role, all assigned (if at all) to the fixer, whose seat
    then ends: from then on the fixer is the assignee and nothing more."""
    tasks = {role: bring(resident_report(world), status, cast) for role in ROLES}
    cast.retire_fixer()
    return tasks


def _hidden(role: str, task: RepairTask, cast: Cast) -> bool:
    return role in HIDDEN or (role == "fixer" and task.assignee_id != cast["fixer"].id)


@pytest.mark.parametrize("name", sorted(MOVES))
def test_each_move_by_every_role(world: World, cast: Cast, login_as: Any, name: str) -> None:
    status, allowed = MOVES[name]
    tasks = _tasks_per_role(world, cast, status)
    after = workflow.MOVES[name].after
    for role in ROLES:
        task = tasks[role]
        before = footprint(task.id)
        response = _move(login_as(cast[role]), task, name, "理由")
        where = (name, role, response.status_code)
        if role in allowed:
            assert response.status_code == 303, where
            assert _fresh(task).status == after, where
            assert _fresh(task).events[-1].actor_id == cast[role].id
            continue
        if _hidden(role, task, cast):
            assert response.status_code == 404, where
        else:
            assert response.status_code == 422, where
            assert NOT_YOURS in _text(response), where
        assert footprint(task.id) == before, where
    assert queries.check_months() == []


def test_assigning_by_every_role(world: World, cast: Cast, login_as: Any) -> None:
    tasks = _tasks_per_role(world, cast, Status.REPORTED)
    for role in ROLES:
        task = tasks[role]
        before = footprint(task.id)
        data = {
            "kind": "contractor",
            "member_id": "",
            "contractor": "张师傅水暖",
            "category": "plumbing",
            "priority": "urgent",
            "note": "",
            "version": str(task.version),
        }
        response = login_as(cast[role]).post(f"/repairs/{task.id}/assign", data=data)
        where = (role, response.status_code)
        if role in TRIAGE:
            assert response.status_code == 303, where
            task = _fresh(task)
            assert (task.status, task.assignee_name, task.priority) == (
                "assigned",
                "张师傅水暖",
                "urgent",
            )
            continue
        assert response.status_code == (404 if _hidden(role, task, cast) else 403), where
        assert footprint(task.id) == before, where


def test_the_committee_closes_only_after_a_week_without_the_reporters_check(
    world: World, cast: Cast, login_as: Any
) -> None:
    tasks = _tasks_per_role(world, cast, Status.DONE)
    for role in ROLES:
        task = tasks[role]
        before = footprint(task.id)
        response = _move(login_as(cast[role]), task, "close", "电话确认已修好")
        if role in TRIAGE:
            assert response.status_code == 422
            assert "应先由报修人验收；7天后无回应方可结单" in _text(response), role
        elif _hidden(role, task, cast):
            assert response.status_code == 404, role
        else:
            assert response.status_code == 422 and NOT_YOURS in _text(response), role
        assert footprint(task.id) == before, role
    for task in tasks.values():
        set_clock(task, done_at=_fresh(task).done_at - timedelta(days=7, minutes=1))
    for role in ROLES:
        task = tasks[role]
        client = login_as(cast[role])
        # The button is there for the committee now, and the reason is asked for.
        page = client.get(f"/repairs/{task.id}")
        assert ('value="close"' in _text(page)) == (role in TRIAGE), role
        if role in TRIAGE:
            assert _move(client, task, "close", "").status_code == 422
            assert _move(client, task, "close", "电话确认已修好").status_code == 303
            assert _fresh(task).status == Status.CLOSED
        else:
            assert _move(client, task, "close", "x").status_code in (404, 422), role
            assert _fresh(task).status == Status.DONE, role
    assert queries.check_months() == []


def test_reasons_are_asked_for_and_shown_next_to_the_note(
    world: World, cast: Cast, login_as: Any
) -> None:
    resident = login_as(cast["resident"])
    chair = login_as(cast["committee"])
    done = bring(resident_report(world), Status.DONE, cast)
    fresh = resident_report(world)
    for client, task, name in ((resident, done, "send_back"), (chair, fresh, "reject")):
        before = footprint(task.id)
        response = _move(client, task, name, "")
        assert response.status_code == 422 and "请填写原因" in _text(response), name
        assert footprint(task.id) == before
    assert _move(resident, done, "send_back", "水管还在滴水").status_code == 303
    assert _fresh(done).status == Status.IN_PROGRESS
    page = _text(resident.get(f"/repairs/{done.id}"))
    assert "水管还在滴水" in page


def test_reopening_after_a_week_is_refused_with_a_message(
    world: World, cast: Cast, login_as: Any
) -> None:
    task = bring(resident_report(world), Status.CLOSED, cast)
    set_clock(task, finished_at=_fresh(task).finished_at - timedelta(days=8))
    resident = login_as(cast["resident"])
    assert 'value="reopen"' not in _text(resident.get(f"/repairs/{task.id}"))
    before = footprint(task.id)
    response = _move(resident, task, "reopen", "又漏了")
    assert response.status_code == 422
    assert "只能在7天内重新报修" in _text(response)
    assert footprint(task.id) == before


def test_a_step_that_does_not_exist_is_refused(world: World, cast: Cast, login_as: Any) -> None:
    task = resident_report(world)
    chair = login_as(cast["committee"])
    before = footprint(task.id)
    for name in ("fly", "", "<b>x</b>", "confirm"):
        response = _move(chair, task, name, "x")
        assert response.status_code == 422, name
        text = _text(response)
        assert "任务没有这一步操作" in text or "“待受理”的任务不能进行这一步" in text, name
    assert footprint(task.id) == before


def test_rating_once_only_when_closed_only_by_the_reporter(
    world: World, cast: Cast, login_as: Any
) -> None:
    task = bring(resident_report(world), Status.DONE, cast)
    resident, chair = login_as(cast["resident"]), login_as(cast["committee"])
    url = f"/repairs/{task.id}/rate"
    response = resident.post(url, data={"rating": "5", "comment": ""})
    assert response.status_code == 422 and "任务完成后才能评价" in _text(response)
    assert _move(resident, task, "confirm").status_code == 303
    assert "rating" in _text(resident.get(f"/repairs/{task.id}"))
    for bad in ("0", "6", "五", ""):
        response = resident.post(url, data={"rating": bad, "comment": ""})
        assert response.status_code == 422 and "请填写1到5之间的整数" in _text(response), bad
    response = chair.post(url, data={"rating": "5", "comment": ""})
    assert response.status_code == 422 and "只有报修人可以评价" in _text(response)
    neighbour = login_as(cast["neighbour"])
    assert neighbour.post(url, data={"rating": "1", "comment": ""}).status_code == 422
    assert login_as(cast["outsider"]).post(url, data={"rating": "1"}).status_code == 404
    assert _fresh(task).rating is None
    assert resident.post(url, data={"rating": "4", "comment": "很及时"}).status_code == 303
    response = resident.post(url, data={"rating": "1", "comment": "改主意了"})
    assert response.status_code == 422 and "此任务已评价过" in _text(response)
    task = _fresh(task)
    assert (task.rating, task.rating_comment) == (4, "很及时")
    assert "★★★★☆" in _text(neighbour.get(f"/repairs/{task.id}"))


# --- optimistic locking -------------------------------------------------------------------------


def test_a_stale_form_is_refused_as_changed_meanwhile(
    world: World, cast: Cast, login_as: Any
) -> None:
    task = bring(resident_report(world), Status.ASSIGNED, cast)
    chair, staff = login_as(cast["committee"]), login_as(cast["staff"])
    seen = _fresh(task).version
    assert _move(staff, task, "start").status_code == 303
    before = footprint(task.id)
    response = _move(chair, task, "reject", "重复报修", version=seen)
    assert response.status_code == 422
    assert CHANGED in _text(response) and "处理中" in _text(response)
    assign = {"kind": "contractor", "contractor": "别人", "category": "plumbing"}
    response = chair.post(
        f"/repairs/{task.id}/assign",
        data={**assign, "priority": "normal", "version": str(seen)},
    )
    assert response.status_code == 422 and CHANGED in _text(response)
    assert footprint(task.id) == before
    # The reporter's page was drawn before the work was done; the check still goes through
    # once they look again, but not from the old page.
    resident = login_as(cast["resident"])
    old = _fresh(task).version
    assert _move(staff, task, "done").status_code == 303
    response = _move(resident, task, "confirm", version=old)
    assert response.status_code == 422 and CHANGED in _text(response)
    assert _move(resident, task, "confirm").status_code == 303


def test_two_people_moving_one_task_at_once_one_wins(
    app: Flask, world: World, cast: Cast, login_as: Any
) -> None:
    chair, staff = login_as(cast["committee"]), login_as(cast["staff"])
    for round_ in range(4):
        task = bring(resident_report(world), Status.ASSIGNED, cast)
        version = str(task.version)
        url = f"/repairs/{task.id}/move"
        answers = _together(
            app,
            lambda u=url, v=version: chair.post(u, data={"move": "start", "version": v}),
            lambda u=url, v=version: staff.post(
                u, data={"move": "reject", "note": "重复", "version": v}
            ),
        )
        statuses = sorted(a.status_code for a in answers)
        assert statuses == [303, 422], (round_, statuses)
        loser = next(a for a in answers if a.status_code == 422)
        assert CHANGED in _text(loser)
        db.session.commit()  # end this session's snapshot: read what the requests wrote
        task = _fresh(task)
        assert [e.kind for e in task.events][:2] == ["reported", "assigned"]
        assert len(task.events) == 3 and task.status in ("in_progress", "rejected")
    assert queries.check_months() == []


def test_two_people_changing_one_work_at_once_one_wins(
    app: Flask, world: World, cast: Cast, login_as: Any
) -> None:
    chair, staff = login_as(cast["committee"]), login_as(cast["staff"])
    for round_ in range(3):
        work = works.plan_work(
            world.branch,
            works.WorkPlan("camera", f"监控{round_}", "", 0, "fees", clock.today()),
            cast["committee"],
        )
        works.start_work(work, clock.today(), work.version)
        db.session.commit()
        step = {"on": clock.today().isoformat(), "location": "", "version": str(work.version)}
        url = f"/repairs/works/{work.id}/step"
        answers = _together(
            app,
            lambda u=url, s=step: chair.post(u, data={**s, "installed": "4"}),
            lambda u=url, s=step: staff.post(u, data={**s, "installed": "6"}),
        )
        statuses = sorted(a.status_code for a in answers)
        assert statuses == [303, 422], (round_, statuses)
        loser = next(a for a in answers if a.status_code == 422)
        assert "这期间已有人修改了此工程" in _text(loser)
        db.session.commit()
        lines = db.session.scalars(select(Facility).where(Facility.work_id == work.id)).all()
        assert len(lines) == 1 and lines[0].count in (4, 6)


def test_the_same_report_sent_twice_at_once_makes_one_task(
    app: Flask, world: World, login_as: Any
) -> None:
    resident = login_as(world.users["resident"])
    again = login_as(world.users["resident"])
    url = f"/repairs/compounds/{world.branch.id}/new"
    for round_ in range(3):
        form = _report_form(key=_key(round_), household_id=str(first_household(world.branch).id))
        answers = _together(
            app,
            lambda f=form: resident.post(url, data=f),
            lambda f=form: again.post(url, data=f),
        )
        assert [a.status_code for a in answers] == [303, 303]
        assert answers[0].headers["Location"] == answers[1].headers["Location"]
    db.session.commit()
    assert db.session.scalar(select(func.count(RepairTask.id))) == 3
    assert db.session.scalar(select(RepairMonth.reported)) == 3
    assert queries.check_months() == []


# --- reporting through the form -------------------------------------------------------------


def _post_report(client: Any, world: World, files: list[Any] | None = None, **fields: Any) -> Any:
    data: dict[str, Any] = _report_form(**fields)
    if files is not None:
        data["photos"] = files
    return client.post(
        f"/repairs/compounds/{world.branch.id}/new", data=data, content_type="multipart/form-data"
    )


def test_a_resident_reports_with_a_photo_whose_location_is_removed(
    world: World, login_as: Any
) -> None:
    from PIL import Image

    resident = login_as(world.users["resident"])
    form = resident.get(f"/repairs/compounds/{world.branch.id}/new")
    assert form.status_code == 200 and "（我家）" in _text(form)
    before = stored_files()
    home = first_household(world.branch)
    response = _post_report(
        resident,
        world,
        [(io.BytesIO(jpeg(gps=True)), "IMG_0042.jpg", "image/jpeg")],
        household_id=str(home.id),
        unit_id=str(home.unit_id),
    )
    assert response.status_code == 303
    task = db.session.scalars(select(RepairTask)).one()
    assert response.headers["Location"] == f"/repairs/{task.id}"
    (name,) = stored_files() - before
    assert db.session.scalar(select(RepairPhoto.file)) == name
    stored = upload_dir() / name
    with Image.open(stored) as image:
        assert not image.getexif() and "exif" not in image.info
    assert b"Exif" not in stored.read_bytes() and b"TestCam" not in stored.read_bytes()
    page = _text(resident.get(response.headers["Location"]))
    assert "已报修，可在此查看进度" in page and "三单元楼道水管漏水" in page
    # The photo comes back as a download under a neutral name.
    photo_id = db.session.scalar(select(RepairPhoto.id))
    got = resident.get(f"/repairs/photos/{photo_id}")
    assert got.status_code == 200 and got.mimetype == "image/jpeg"
    assert got.headers["Content-Disposition"].startswith("attachment")
    assert "IMG_0042" not in got.headers["Content-Disposition"]


BIG = 20 * 1024 * 1024
HUGE = 41 * 1024 * 1024


@pytest.mark.parametrize(
    ("files", "status", "message"),
    [
        (
            [(b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>', "leak.jpg")],
            422,
            "无法读取这个文件",
        ),
        ([(b"<html><script>alert(1)</script></html>", "leak.jpg")], 422, "无法读取这个文件"),
        ([(b"%PDF-1.4 not a photo", "leak.jpg")], 422, "无法读取这个文件"),
        ([("jpeg", f"p{n}.jpg") for n in range(7)], 422, "每次报修最多6张照片"),
        ([("jpeg", "ok.jpg"), (b"<svg/>", "bad.jpg")], 422, "无法读取这个文件"),
        ([(b"\xff\xd8\xff" + b"\0" * (7 * 1024 * 1024), "big.jpg")], 422, "照片不能超过6 MB"),
        ([(b"\xff\xd8\xff" + b"\0" * BIG, "huge.jpg")], 422, "照片不能超过6 MB"),
        # Beyond what six photos can weigh, the request itself is refused.
        ([(b"\xff\xd8\xff" + b"\0" * HUGE, "huger.jpg")], 413, "上传的文件太大"),
    ],
)
def test_bad_uploads_write_no_task_and_leave_no_file(
    world: World, login_as: Any, files: list[tuple[Any, str]], status: int, message: str
) -> None:
    resident = login_as(world.users["resident"])
    before = stored_files()
    uploads = [
        (io.BytesIO(jpeg() if data == "jpeg" else data), name, "image/jpeg") for data, name in files
    ]
    response = _post_report(resident, world, uploads)
    assert response.status_code == status
    assert message in _text(response)
    assert "<svg" not in _text(response) and "<script>alert" not in _text(response)
    assert db.session.scalar(select(func.count(RepairTask.id))) == 0
    assert db.session.scalar(select(func.count(RepairPhoto.id))) == 0
    assert stored_files() == before


def test_photos_are_shown_only_to_those_who_see_the_task(
    world: World, cast: Cast, login_as: Any
) -> None:
    home = first_household(world.branch)
    inside = report(
        world,
        cast["resident"],
        place="home",
        household_id=home.id,
        description="卫生间暖气片漏水",
        photos=[Photo(jpeg())],
    )
    outside = resident_report(world, photos=[Photo(jpeg())])
    inside_photo, outside_photo = inside.photos[0].id, outside.photos[0].id
    expected = {
        "resident": (200, 200),
        "committee": (200, 200),
        "staff": (200, 200),
        "rep": (200, 200),  # the home is in the representative's unit
        "neighbour": (404, 200),
        "other_rep": (404, 200),
        "tenant": (404, 404),
        "area_committee": (404, 404),
        "other_staff": (404, 404),
        "outsider": (404, 404),
    }
    for role, (home_status, common_status) in expected.items():
        client = login_as(cast[role])
        assert client.get(f"/repairs/photos/{inside_photo}").status_code == home_status, role
        assert client.get(f"/repairs/photos/{outside_photo}").status_code == common_status, role
        assert client.get(f"/repairs/{inside.id}").status_code == home_status, role
    # Ids past what the database holds (32 bits on PostgreSQL) are simply not found.
    for bad in ("0", "99999", "2147483648", "4294967296", "99999999999999999999"):
        chair = login_as(cast["committee"])
        for url in (f"/repairs/photos/{bad}", f"/repairs/{bad}", f"/repairs/works/{bad}"):
            assert chair.get(url).status_code == 404, url
        assert chair.post(f"/repairs/{bad}/move", data={"move": "reject"}).status_code == 404


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"household_id": "elsewhere_household"}, "请选择本小区的住户"),
        ({"unit_id": "elsewhere_unit"}, "请选择本小区的单元"),
        ({"building_id": "elsewhere_building"}, "请选择本小区的楼栋"),
        ({"description": ""}, "此项必须填写"),
        ({"description": "   \u200b  "}, "请删除其中看不见的控制字符"),
        ({"category": "roof"}, "category"),
        ({"place": "garden"}, "place"),
        ({"priority": "asap"}, "priority"),
        ({"place": "home"}, "请选择需要维修的住户"),
        ({"household_id": "neighbour_household"}, "您不能为该住户报修"),
        ({"key": "short"}, "页面已过期"),
        ({"unit_id": "abc"}, "请从列表中选择"),
        ({"household_id": "4294967296"}, "请从列表中选择"),
        ({"decision_id": "2147483648"}, "请从列表中选择"),
    ],
)
def test_bad_reports_are_refused_next_to_the_field(
    world: World, login_as: Any, fields: dict[str, str], message: str
) -> None:
    elsewhere = world.objects_of(world.elsewhere)
    ids = {
        "elsewhere_household": str(elsewhere["household"].id),
        "elsewhere_unit": str(elsewhere["unit"].id),
        "elsewhere_building": str(elsewhere["building"].id),
        "neighbour_household": str(world.branch.buildings[1].units[0].households[0].id),
    }
    data = {k: ids.get(v, v) for k, v in fields.items()}
    response = _post_report(login_as(world.users["resident"]), world, **data)
    assert response.status_code == 422
    text = _text(response)
    if message in ("category", "place", "priority"):
        # A choice not on the list: the field is marked, with a message.
        assert re.search(rf'<select(?=[^>]*id="{message}")(?=[^>]*aria-invalid="true")', text)
    else:
        assert message in text
    assert world.elsewhere.name not in text
    assert db.session.scalar(select(func.count(RepairTask.id))) == 0
    assert db.session.scalar(select(func.count(RepairMonth.month))) == 0


def test_the_report_form_sent_twice_makes_one_task(world: World, login_as: Any) -> None:
    resident = login_as(world.users["resident"])
    first = _post_report(resident, world, key=_key(7))
    second = _post_report(resident, world, key=_key(7))
    assert first.status_code == second.status_code == 303
    assert first.headers["Location"] == second.headers["Location"]
    assert db.session.scalar(select(func.count(RepairTask.id))) == 1
    # A fresh form (a new key) is a new report.
    assert _post_report(resident, world, key=_key(8)).status_code == 303
    assert db.session.scalar(select(func.count(RepairTask.id))) == 2


def test_outsiders_cannot_open_the_report_form(world: World, cast: Cast, login_as: Any) -> None:
    url = f"/repairs/compounds/{world.branch.id}/new"
    for role in ("outsider", "tenant", "area_committee", "other_staff"):
        client = login_as(cast[role])
        assert client.get(url).status_code == 404, role
        assert _post_report(client, world).status_code == 404, role
    assert db.session.scalar(select(func.count(RepairTask.id))) == 0


# --- privacy ------------------------------------------------------------------------------------


def test_neighbours_see_common_repairs_without_names_and_never_inside_homes(
    world: World, cast: Cast, login_as: Any
) -> None:
    rep = cast["rep"]
    granny_home = first_unit(world.branch).households[1]
    assisted = report(
        world,
        rep,
        household_id=granny_home.id,
        unit_id=granny_home.unit_id,
        resident_name="王奶奶",
        category="street_light",
        description="楼道灯不亮，老人上下楼看不见",
    )
    home = first_household(world.branch)
    inside = report(
        world,
        cast["resident"],
        place="home",
        household_id=home.id,
        description="卫生间暖气片漏水",
    )
    bring(assisted, Status.ASSIGNED, cast)
    secrets = ["王奶奶", rep.name, rep.mobile, cast["resident"].name, cast["resident"].mobile]

    neighbour = login_as(cast["neighbour"])
    board = _text(neighbour.get(f"/repairs/compounds/{world.branch.id}/board"))
    assert "楼道灯不亮" in board and "卫生间暖气片漏水" not in board
    page = neighbour.get(f"/repairs/{assisted.id}")
    assert page.status_code == 200
    text = _text(page)
    assert "楼道灯不亮" in text and "报修人" in text
    for secret in secrets:
        assert secret not in text, secret
    assert granny_home.room not in text
    live = _text(neighbour.get(f"/repairs/{assisted.id}/live?v=0"))
    assert "报修人" in live and not any(secret in live for secret in secrets)
    assert neighbour.get(f"/repairs/{inside.id}").status_code == 404
    assert neighbour.get(f"/repairs/{inside.id}/live").status_code == 404
    assert neighbour.post(f"/repairs/{inside.id}/move", data={"move": "reject"}).status_code == 404

    # The board is the same for everybody: rooms and places, never names or numbers.
    for role in ("committee", "rep", "staff"):
        board = _text(login_as(cast[role]).get(f"/repairs/compounds/{world.branch.id}/board"))
        assert "楼道灯不亮" in board and "卫生间暖气片漏水" not in board, role
        others = board.replace(cast[role].name, "").replace(cast[role].mobile, "")
        for secret in secrets:
            assert secret not in others, (role, secret)
        assert not MOBILE.search(others), role

    # The committee sees who reported, for whom, and how to call them back.
    chair = _text(login_as(cast["committee"]).get(f"/repairs/{assisted.id}"))
    assert rep.name in chair and rep.mobile in chair and "代王奶奶" in chair
    assert granny_home.room in chair
    # The resident of the home sees their own report, the committee's list shows it too.
    own = _text(login_as(cast["resident"]).get(f"/repairs/{inside.id}"))
    assert "卫生间暖气片漏水" in own and home.room in own
    tasks = _text(login_as(cast["committee"]).get(f"/repairs/compounds/{world.branch.id}"))
    assert "卫生间暖气片漏水" in tasks and "楼道灯不亮" in tasks


def test_the_task_list_is_the_committees(world: World, cast: Cast, login_as: Any) -> None:
    resident_report(world)
    url = f"/repairs/compounds/{world.branch.id}"
    for role, status in (
        ("committee", 200),
        ("staff", 200),
        ("resident", 403),
        ("rep", 403),
        ("neighbour", 403),
        ("outsider", 404),
        ("area_committee", 404),
    ):
        assert login_as(cast[role]).get(url).status_code == status, role
    chair = login_as(cast["committee"])
    for query in ("status=overdue", "status=finished", "status=closed&category=road", "page=2"):
        assert chair.get(f"{url}?{query}").status_code == 200, query
    table = chair.get(
        f"{url}?status=open", headers={"HX-Request": "true", "HX-Target": "task-table"}
    )
    assert table.status_code == 200 and "<html" not in _text(table)
    assert "楼道水管漏水" in _text(table)


def test_the_open_page_refreshes_only_when_the_task_changed(
    world: World, cast: Cast, login_as: Any
) -> None:
    task = resident_report(world)
    resident = login_as(cast["resident"])
    assert resident.get(f"/repairs/{task.id}/live?v={task.version}").status_code == 204
    bring(task, Status.ASSIGNED, cast)
    fragment = resident.get(f"/repairs/{task.id}/live?v=1")
    assert fragment.status_code == 200 and "已派单" in _text(fragment)
    assert "<html" not in _text(fragment)


# --- assisted reports -------------------------------------------------------------------------


def test_a_representative_reports_for_an_elderly_resident_who_then_checks_the_work(
    world: World, cast: Cast, login_as: Any
) -> None:
    rep = login_as(cast["rep"])
    form = _text(rep.get(f"/repairs/compounds/{world.branch.id}/new"))
    assert "1号楼-1单元-101" in form and "1号楼-1单元-201" in form
    assert "1号楼-2单元-102" not in form  # another unit's homes are not offered
    home = first_household(world.branch)
    response = _post_report(
        rep,
        world,
        place="home",
        household_id=str(home.id),
        resident_name="吴振华",
        description="厨房下水堵了",
    )
    assert response.status_code == 303
    task = db.session.scalars(select(RepairTask)).one()
    assert task.channel == Channel.ASSISTED
    assert task.reported_by_id == cast["rep"].id
    assert (task.household_id, task.resident_name) == (home.id, "吴振华")

    resident = login_as(cast["resident"])
    mine = _text(resident.get("/repairs/mine"))
    assert "厨房下水堵了" in mine and "代吴振华报修" in mine
    assert "厨房下水堵了" in _text(rep.get("/repairs/mine"))
    bring(task, Status.DONE, cast)
    page = _text(resident.get(f"/repairs/{task.id}"))
    assert "已处理完毕。请您查看后确认修好，或退回。" in page and 'value="confirm"' in page
    assert _move(resident, task, "confirm").status_code == 303
    assert _fresh(task).status == Status.CLOSED
    assert _fresh(task).events[-1].actor_id == cast["resident"].id
    # The audit names the representative as the one who typed the report.
    from compound_app.audit import AuditLog

    row = db.session.scalars(select(AuditLog).where(AuditLog.action == "report_repair")).one()
    assert row.user_id == cast["rep"].id and row.after["resident_name"] == "吴振华"


def test_a_representative_cannot_report_for_another_units_home(
    world: World, cast: Cast, login_as: Any
) -> None:
    rep = login_as(cast["rep"])
    other = world.branch.buildings[0].units[1].households[0]
    response = _post_report(
        rep, world, place="home", household_id=str(other.id), resident_name="李大爷"
    )
    assert response.status_code == 422 and "您不能为该住户报修" in _text(response)
    response = _post_report(rep, world, household_id=str(first_household(world.branch).id))
    assert response.status_code == 422 and "您在为谁报修？请填写居民姓名。" in _text(response)
    assert db.session.scalar(select(func.count(RepairTask.id))) == 0
    assert db.session.scalar(select(func.count(RepairMonth.month))) == 0


# --- works, facilities, meetings ------------------------------------------------------------------


def test_the_committee_plans_starts_and_completes_a_camera_work(
    world: World, cast: Cast, login_as: Any
) -> None:
    chair = login_as(cast["committee"])
    base = f"/repairs/compounds/{world.branch.id}"
    assert "安装监控" not in _text(chair.get(f"{base}/works"))
    plan = {
        "kind": "camera",
        "title": "安装监控",
        "description": "大门和各楼栋口",
        "budget": "12,000",
        "funding": "government",
        "planned_on": clock.today().isoformat(),
    }
    assert chair.post(f"{base}/works", data={**plan, "budget": "-1"}).status_code == 422
    assert chair.post(f"{base}/works", data={**plan, "kind": "pyramid"}).status_code == 422
    assert db.session.scalar(select(func.count(Work.id))) == 0
    response = chair.post(f"{base}/works", data=plan)
    assert response.status_code == 303
    work = db.session.scalars(select(Work)).one()
    assert (
        work.budget_fen == 1_200_000 and response.headers["Location"] == f"/repairs/works/{work.id}"
    )
    url = f"/repairs/works/{work.id}"

    def step(**data: Any) -> Any:
        db.session.expire_all()
        version = str(db.session.get(Work, work.id).version)
        return chair.post(f"{url}/step", data={"version": version, "installed": "0", **data})

    future = (clock.today() + timedelta(days=1)).isoformat()
    response = step(on=future)
    assert response.status_code == 422 and "开工日期不能晚于今天" in _text(response)
    assert step(on=(clock.today() - timedelta(days=5)).isoformat()).status_code == 303
    stale = {"on": clock.today().isoformat(), "installed": "0", "version": "1"}
    response = chair.post(f"{url}/step", data=stale)
    assert response.status_code == 422 and "这期间已有人修改了此工程" in _text(response)
    response = step(on=(clock.today() - timedelta(days=6)).isoformat(), installed="12")
    assert response.status_code == 422 and "竣工日期不能早于开工日期" in _text(response)
    assert db.session.scalar(select(func.count(Facility.id))) == 0
    assert step(on=clock.today().isoformat(), installed="12", location="大门").status_code == 303
    db.session.expire_all()
    work = db.session.get(Work, work.id)
    assert work.status == WorkStatus.COMPLETED
    (line,) = db.session.scalars(select(Facility)).all()
    assert (line.kind, line.count, line.work_id, line.location) == ("camera", 12, work.id, "大门")
    facilities = _text(login_as(cast["resident"]).get(f"{base}/facilities"))
    assert "安装监控" in facilities and ">12<" in facilities
    assert step(on=clock.today().isoformat()).status_code == 422  # completed already


def test_works_are_the_committees_to_change(world: World, cast: Cast, login_as: Any) -> None:
    work = works.plan_work(
        world.branch,
        works.WorkPlan("road", "路面硬化", "", 0, "fees", clock.today()),
        cast["committee"],
    )
    facility = works.add_facility(
        world.branch, works.FacilityEntry("street_light", 4, "", clock.today()), cast["committee"]
    )
    meeting = works.record_meeting(
        world.branch,
        works.MeetingRecord(MeetingKind.REVIEW, clock.today(), "支部", 5, "路面破损", ["硬化路面"]),
        cast["committee"],
    )
    db.session.commit()
    base = f"/repairs/compounds/{world.branch.id}"
    posts = [
        (f"{base}/works", {"kind": "road", "title": "x", "funding": "fees", "budget": "0"}),
        (f"{base}/facilities", {"kind": "camera", "count": "1", "installed_on": "2026-06-01"}),
        (f"{base}/meetings", {"kind": "residents", "held_on": "2026-06-01"}),
        (f"/repairs/works/{work.id}/step", {"on": clock.today().isoformat(), "version": "1"}),
        (f"/repairs/works/{work.id}/expense", {"expense_id": "1", "version": "1"}),
        (f"/repairs/works/{work.id}/photos", {"stage": "before"}),
        (f"/repairs/facilities/{facility.id}/remove", {"on": clock.today().isoformat()}),
    ]
    pages = [
        f"{base}/works",
        f"{base}/facilities",
        f"{base}/meetings",
        f"/repairs/works/{work.id}",
        f"/repairs/meetings/{meeting.id}",
    ]
    for role, post_status, get_status in (
        ("resident", 403, 200),
        ("rep", 403, 200),
        ("neighbour", 403, 200),
        ("outsider", 404, 404),
        ("tenant", 404, 404),
        ("area_committee", 404, 404),
        ("other_staff", 404, 404),
    ):
        client = login_as(cast[role])
        for url, data in posts:
            assert client.post(url, data=data).status_code == post_status, (role, url)
        for url in pages:
            response = client.get(url)
            assert response.status_code == get_status, (role, url)
            if get_status == 200:
                # Residents read the works, the register and the meetings; no forms to change.
                assert 'action="/repairs' not in _text(response), (role, url)
    db.session.expire_all()
    assert db.session.get(Work, work.id).status == WorkStatus.PLANNED
    assert db.session.get(Facility, facility.id).removed_on is None
    assert db.session.scalar(select(func.count(Meeting.id))) == 1


def test_a_work_links_its_cost_and_gets_photos(world: World, cast: Cast, login_as: Any) -> None:
    chair = login_as(cast["committee"])
    work = works.plan_work(
        world.branch,
        works.WorkPlan("building_door", "更换楼宇门", "", 800_000, "fees", clock.today()),
        cast["committee"],
    )
    db.session.commit()
    mine = _expense(world, world.branch.area)
    foreign = _expense(world, world.elsewhere.area)
    url = f"/repairs/works/{work.id}"
    page = _text(chair.get(url))
    assert "安防公司" in page and f'value="{foreign.id}"' not in page
    response = chair.post(f"{url}/expense", data={"expense_id": str(foreign.id), "version": "1"})
    assert response.status_code == 422 and "请选择本区域的一笔维修支出" in _text(response)
    assert world.elsewhere.name not in _text(response)
    response = chair.post(f"{url}/expense", data={"expense_id": str(mine.id), "version": "1"})
    assert response.status_code == 303
    db.session.expire_all()
    assert db.session.get(Work, work.id).expense_id == mine.id
    assert "¥3,500.00" in _text(chair.get(url))

    before = stored_files()
    photos = {"stage": "before", "photos": [(io.BytesIO(jpeg()), "door.jpg", "image/jpeg")]}
    assert chair.post(f"{url}/photos", data=photos).status_code == 303
    after = {
        "stage": "after",
        "photos": [(io.BytesIO(jpeg()), f"a{n}.jpg", "image/jpeg") for n in range(7)],
    }
    response = chair.post(f"{url}/photos", data=after)
    assert response.status_code == 422 and "每次报修最多6张照片" in _text(response)
    bad = {"stage": "after", "photos": [(io.BytesIO(b"<svg/>"), "x.jpg", "image/jpeg")]}
    assert chair.post(f"{url}/photos", data=bad).status_code == 422
    assert chair.post(f"{url}/photos", data={"stage": "after"}).status_code == 422
    assert len(stored_files() - before) == 1
    photo = db.session.scalars(select(RepairPhoto)).one()
    assert photo.stage == "before" and photo.work_id == work.id
    assert login_as(cast["neighbour"]).get(f"/repairs/photos/{photo.id}").status_code == 200
    assert login_as(cast["outsider"]).get(f"/repairs/photos/{photo.id}").status_code == 404


def test_facilities_are_registered_and_taken_out_of_service(
    world: World, cast: Cast, login_as: Any
) -> None:
    chair = login_as(cast["committee"])
    url = f"/repairs/compounds/{world.branch.id}/facilities"
    entry = {
        "kind": "charging_pile",
        "count": "4",
        "location": "北门车棚",
        "installed_on": "2026-06-01",
    }
    assert chair.post(url, data={**entry, "count": "0"}).status_code == 422
    assert chair.post(url, data={**entry, "installed_on": "2099-01-01"}).status_code == 422
    assert chair.post(url, data=entry).status_code == 303
    line = db.session.scalars(select(Facility)).one()
    remove = f"/repairs/facilities/{line.id}/remove"
    response = chair.post(remove, data={"on": "2026-05-01"})  # before it was installed
    assert response.status_code == 303
    assert "请填写安装日期到今天之间的日期" in _text(chair.get(response.headers["Location"]))
    db.session.expire_all()
    assert db.session.get(Facility, line.id).removed_on is None
    assert chair.post(remove, data={"on": clock.today().isoformat()}).status_code == 303
    db.session.expire_all()
    assert db.session.get(Facility, line.id).removed_on == clock.today()
    assert works.facility_totals([world.branch.id]) == {}
    assert login_as(cast["committee"]).post("/repairs/facilities/0/remove").status_code == 404


def test_review_meetings_only_in_branch_managed_compounds(
    world: World, cast: Cast, login_as: Any
) -> None:
    staff = login_as(cast["staff"])
    meeting = {
        "kind": "review",
        "held_on": clock.today().isoformat(),
        "attendees": "支部书记、6名单元代表、居民",
        "attendee_count": "15",
        "problems": "下水道堵塞；路灯不亮",
        "decisions": "疏通下水道\n\n修路灯\n",
    }
    response = staff.post(f"/repairs/compounds/{world.trust.id}/meetings", data=meeting)
    assert response.status_code == 422
    assert db.session.scalar(select(func.count(Meeting.id))) == 0
    form = _text(staff.get(f"/repairs/compounds/{world.trust.id}/meetings"))
    assert 'value="review"' not in form and 'value="residents"' in form
    response = staff.post(
        f"/repairs/compounds/{world.trust.id}/meetings", data={**meeting, "kind": "residents"}
    )
    assert response.status_code == 303
    response = staff.post(f"/repairs/compounds/{world.branch.id}/meetings", data=meeting)
    assert response.status_code == 303
    review = db.session.scalars(select(Meeting).where(Meeting.kind == "review")).one()
    assert [d.text for d in review.decisions] == ["疏通下水道", "修路灯"]
    future = {**meeting, "held_on": (clock.today() + timedelta(days=1)).isoformat()}
    response = staff.post(f"/repairs/compounds/{world.branch.id}/meetings", data=future)
    assert response.status_code == 422 and "会议召开后才能登记" in _text(response)


def test_decisions_become_tasks_by_the_committee(world: World, cast: Cast, login_as: Any) -> None:
    meeting = works.record_meeting(
        world.branch,
        works.MeetingRecord(
            MeetingKind.REVIEW, clock.today(), "支部", 8, "路灯不亮", ["修3号楼路灯"]
        ),
        cast["committee"],
    )
    db.session.commit()
    decision = meeting.decisions[0]
    chair = login_as(cast["committee"])
    page = _text(chair.get(f"/repairs/meetings/{meeting.id}"))
    new = f"/repairs/compounds/{world.branch.id}/new?decision={decision.id}"
    assert new in page.replace("&amp;", "&")
    assert "修3号楼路灯" in _text(chair.get(new))
    form = _report_form(category="street_light", description="修3号楼路灯", decision_id=decision.id)
    for role in ("resident", "rep"):
        response = login_as(cast[role]).post(f"/repairs/compounds/{world.branch.id}/new", data=form)
        assert response.status_code == 422, role
        assert "只有物管会可以把会议决定转为任务" in _text(response), role
    assert db.session.scalar(select(func.count(RepairTask.id))) == 0
    assert chair.post(f"/repairs/compounds/{world.branch.id}/new", data=form).status_code == 303
    task = db.session.scalars(select(RepairTask)).one()
    assert task.channel == Channel.MEETING and task.decision_id == decision.id
    assert f"/repairs/{task.id}" in _text(chair.get(f"/repairs/meetings/{meeting.id}"))
    assert f"/repairs/meetings/{meeting.id}" in _text(chair.get(f"/repairs/{task.id}"))
    # A decision of another compound's meeting is not this compound's task.
    other = works.record_meeting(
        world.trust,
        works.MeetingRecord(MeetingKind.RESIDENTS, clock.today(), "居民", 9, "x", ["y"]),
        cast["staff"],
    )
    db.session.commit()
    form = _report_form(key=_key(2), decision_id=other.decisions[0].id)
    response = chair.post(f"/repairs/compounds/{world.branch.id}/new", data=form)
    assert response.status_code == 422 and "该决定不属于本小区的会议" in _text(response)


# --- targets ------------------------------------------------------------------------------------


def _targets(**changes: str) -> dict[str, str]:
    from compound_app.repairs.models import DEFAULT_TARGET_DAYS

    return {f"days_{k}": str(v) for k, v in DEFAULT_TARGET_DAYS.items()} | changes


def test_only_subdistrict_admins_set_the_targets(world: World, cast: Cast, login_as: Any) -> None:
    url = f"/repairs/subdistricts/{world.subdistrict.id}/targets"
    for role in ("staff", "committee", "rep", "resident", "outsider", "other_staff"):
        client = login_as(cast[role])
        assert client.get(url).status_code == 404, role
        assert client.post(url, data=_targets(days_road="10")).status_code == 404, role
    admin = login_as(cast["admin"])
    assert admin.get(url).status_code == 200
    for bad in ("0", "400", "-3", "7.5", "", "三"):
        response = admin.post(url, data=_targets(days_sewer=bad))
        assert response.status_code == 422, bad
        assert "请填写1到365之间的整数" in _text(response), bad
    assert db.session.scalar(select(func.count()).select_from(RepairTarget)) == 0
    assert admin.post(url, data=_targets(days_sewer="5", days_road="365")).status_code == 303
    days = levels.target_days(world.subdistrict.id)
    assert (days["sewer"], days["road"]) == (5, 365)
    # New tasks are due by the new targets; urgent ones in half.
    task = report(world, cast["committee"], category="sewer", priority="urgent")
    assert task.due_on == clock.local_date(task.reported_at) + timedelta(days=3)


def test_photos_of_a_change_that_fails_to_save_are_not_kept(
    world: World, cast: Cast, login_as: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A photo stays only with the record that names it: when the save fails after the file
    was stored (the audit row refused, the database failing at commit), it goes too."""
    from sqlalchemy import event

    from compound_app import audit
    from compound_app.audit import AuditLog

    chair = login_as(cast["committee"])
    task = bring(resident_report(world), Status.IN_PROGRESS, cast)
    work = works.plan_work(
        world.branch,
        works.WorkPlan("camera", "安装监控", "", 0, "fees", clock.today()),
        cast["committee"],
    )
    db.session.commit()

    def sends() -> list[Any]:
        def photo() -> Any:
            return (io.BytesIO(jpeg()), "p.jpg", "image/jpeg")

        return [
            _post_report(login_as(cast["resident"]), world, [photo()], key=_key(5)),
            chair.post(
                f"/repairs/{task.id}/move",
                data={"move": "done", "version": str(_fresh(task).version), "photos": [photo()]},
            ),
            chair.post(
                f"/repairs/works/{work.id}/photos", data={"stage": "after", "photos": photo()}
            ),
        ]

    def audit_fails(*_args: Any, **_kwargs: Any) -> Any:
        raise RuntimeError("the audit log is full")

    def insert_fails(*_args: Any) -> None:
        raise RuntimeError("INSERT INTO audit_log failed")

    before = stored_files()
    with monkeypatch.context() as m:
        m.setattr(audit, "record", audit_fails)
        assert [r.status_code for r in sends()] == [500, 500, 500]
    assert stored_files() == before
    event.listen(AuditLog, "before_insert", insert_fails)
    try:
        assert [r.status_code for r in sends()] == [500, 500, 500]
    finally:
        event.remove(AuditLog, "before_insert", insert_fails)
    assert stored_files() == before
    assert db.session.scalar(select(func.count(RepairPhoto.id))) == 0
    # Saved, they are kept.
    assert [r.status_code for r in sends()] == [303, 303, 303]
    assert len(stored_files() - before) == 3

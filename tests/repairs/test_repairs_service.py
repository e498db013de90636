"""Repair tasks through the services: reporting, the moves and who may make them, ratings,
due dates, service levels and the monthly figures against a recount, works, facilities,
meetings, and the timeline that is never rewritten."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, func, select, text, update
from sqlalchemy.exc import DatabaseError

from compound_app import access, clock
from compound_app.auth.models import User
from compound_app.committees import service as committees
from compound_app.committees.models import Background, CommitteeMember, Position
from compound_app.errors import RuleError
from compound_app.extensions import db
from compound_app.fees import expenses
from compound_app.fees.models import ExpenseKind
from compound_app.months import add_months, this_month
from compound_app.repairs import levels, queries, workflow, works
from compound_app.repairs.models import (
    AssigneeKind,
    Category,
    Channel,
    Facility,
    MeetingKind,
    Place,
    Priority,
    RepairEvent,
    RepairMonth,
    RepairTarget,
    RepairTask,
    Status,
    TimelineChangeRefused,
    WorkStatus,
)
from compound_app.uploads import upload_dir
from tests.factories import World, compound, days_ago, first_household, first_unit, user


@pytest.fixture(autouse=True)
def _request(app):  # type: ignore[no-untyped-def]
    """Messages are translated for a request; the services run as if inside one."""
    with app.test_request_context():
        yield


# --- the people around a task ------------------------------------------------------------------


@dataclass
class Cast:
    """The world's users, and those a repair needs besides: a neighbour in another home, the
    representative of another unit, and a fixer (a committee member assigned to tasks)."""

    world: World
    users: dict[str, User]
    fixer_seat: CommitteeMember

    def __getitem__(self, role: str) -> User:
        return self.users[role]

    def retire_fixer(self) -> None:
        """The fixer's seat ended yesterday: no more committee rights, still the assignee."""
        committees.end_membership(self.fixer_seat, clock.today() - timedelta(days=1))
        db.session.commit()


def make_cast(world: World) -> Cast:
    branch = world.branch
    neighbour_home = branch.buildings[1].units[0].households[0]
    neighbour = user("钱邻居", resident=neighbour_home.id)
    occupant = neighbour_home.occupants[0]
    occupant.name, occupant.mobile, occupant.user_id = (
        neighbour.name,
        neighbour.mobile,
        neighbour.id,
    )
    other_rep = user("孙代表", unit_rep=branch.buildings[0].units[1].id)
    fixer = user("李师傅")
    seat = committees.add_member(
        committees.committee_for_area(branch.area_id),
        name=fixer.name,
        mobile=fixer.mobile,
        position=Position.MEMBER,
        background=Background.KEEN_RESIDENT,
        term_start=days_ago(165),
        term_end=days_ago(-930),
        actor=None,
    )
    db.session.commit()
    users = {**world.users, "neighbour": neighbour, "other_rep": other_rep, "fixer": fixer}
    return Cast(world, users, seat)


@pytest.fixture
def cast(world: World) -> Cast:
    return make_cast(world)


def P(who: User) -> access.Principal:
    return access.load_principal(who)


# --- building tasks through the services --------------------------------------------------------


def report(
    world: World, who: User, *, compound_=None, photos: Any = (), **fields: Any
) -> RepairTask:
    data = {
        "category": Category.PLUMBING,
        "description": "楼道水管漏水",
        "place": Place.PUBLIC,
        **fields,
    }
    task = workflow.report_task(
        compound_ or world.branch, workflow.Report(**data), who, photos, p=P(who)
    )
    db.session.commit()
    return task


def resident_report(world: World, **fields: Any) -> RepairTask:
    """The resident of the branch's first home reports a leak in their stairwell."""
    home = first_household(world.branch)
    fields = {"household_id": home.id, "unit_id": home.unit_id, **fields}
    return report(world, world.users["resident"], **fields)


def move(task: RepairTask, name: str, who: User, note: str = "", **kw: Any) -> RepairTask:
    workflow.move(task, name, who, version=task.version, note=note, p=P(who), **kw)
    db.session.commit()
    return task


def assign(task: RepairTask, who: User, to: User, kind: str = AssigneeKind.MEMBER) -> RepairTask:
    workflow.assign(
        task, workflow.Assignment(kind=kind, member_id=to.id), who, version=task.version, p=P(who)
    )
    db.session.commit()
    return task


def bring(task: RepairTask, status: Status, cast: Cast) -> RepairTask:
    """Take a task (as reported) to ``status`` the usual way: assigned to the fixer, started
    and done by the committee, confirmed by the reporter, or returned by the committee."""
    chair = cast["committee"]
    if status == Status.REJECTED:
        return move(task, "reject", chair, "不属于公共维修范围")
    steps = [Status.ASSIGNED, Status.IN_PROGRESS, Status.DONE, Status.CLOSED]
    if status == Status.REPORTED:
        return task
    assign(task, chair, cast["fixer"])
    for step, name in zip(steps[1:], ("start", "done", "confirm"), strict=True):
        if task.status == status:
            break
        reporter = cast["resident"] if task.household_id else task.reported_by
        move(task, name, reporter if name == "confirm" else chair)
        assert task.status == step
    assert task.status == status
    return task


def footprint(task_id: int) -> tuple[Any, ...]:
    """What a refused change must leave as it was: the task, its timeline and photos, and
    every monthly figure."""
    db.session.expire_all()
    task = db.session.get(RepairTask, task_id)
    months = db.session.execute(
        select(RepairMonth.__table__).order_by(RepairMonth.compound_id, RepairMonth.month)
    ).all()
    return (
        task.status,
        task.version,
        task.assignee_id,
        task.assignee_name,
        task.rating,
        task.done_at,
        task.finished_at,
        len(task.events),
        len(task.photos),
        tuple(months),
    )


def set_clock(task: RepairTask, **columns: datetime) -> None:
    """Move a task's recorded moments (``done_at``, ``finished_at``) back, as if time passed."""
    db.session.execute(update(RepairTask).where(RepairTask.id == task.id).values(**columns))
    db.session.commit()
    db.session.expire_all()


def jpeg(colour: tuple[int, int, int] = (200, 30, 30), gps: bool = False) -> bytes:
    from PIL import Image

    image = Image.new("RGB", (64, 48), colour)
    buffer = io.BytesIO()
    exif = Image.Exif()
    if gps:
        exif[0x010F] = "TestCam"
        ifd = exif.get_ifd(0x8825)
        ifd.update({1: "N", 2: (37.0, 8.0, 42.0), 3: "E", 4: (111.0, 46.0, 30.0)})
    image.save(buffer, "JPEG", exif=exif)
    return buffer.getvalue()


def stored_files() -> set[str]:
    return {p.name for p in upload_dir().iterdir()}


class Photo:
    """An uploaded file as a view hands it to the service."""

    def __init__(self, data: bytes, filename: str = "photo.jpg") -> None:
        self.filename = filename
        self.stream = io.BytesIO(data)

    def read(self, n: int = -1) -> bytes:
        return self.stream.read(n)


# --- reporting --------------------------------------------------------------------------------


def test_a_resident_reports_and_the_task_starts_its_timeline(world: World) -> None:
    task = resident_report(world, photos=[Photo(jpeg())])
    home = first_household(world.branch)
    assert task.status == Status.REPORTED and task.channel == Channel.RESIDENT
    assert task.reported_by_id == world.users["resident"].id and task.household_id == home.id
    assert task.unit_id == home.unit_id and task.building_id == home.unit.building_id
    assert [e.kind for e in task.events] == ["reported"]
    assert [p.stage for p in task.photos] == ["report"]
    assert task.due_on == clock.local_date(task.reported_at) + timedelta(days=3)
    assert queries.check_months() == []


def test_channels_say_who_reported(world: World, cast: Cast) -> None:
    chair, rep = cast["committee"], cast["rep"]
    assert report(world, chair).channel == Channel.COMMITTEE
    assert report(world, cast["staff"]).channel == Channel.COMMITTEE
    assert report(world, cast["neighbour"]).channel == Channel.RESIDENT
    assert report(world, rep).channel == Channel.RESIDENT  # the common parts, for nobody
    home = first_unit(world.branch).households[1]
    assisted = report(world, rep, household_id=home.id, resident_name="王奶奶")
    assert assisted.channel == Channel.ASSISTED and assisted.resident_name == "王奶奶"
    # The committee reporting for a home is assisted too: the home's residents check it.
    for_home = report(world, chair, household_id=home.id, resident_name="王奶奶")
    assert for_home.channel == Channel.ASSISTED
    # A resident's own report keeps no "on behalf of" name, whatever the form sent.
    own = resident_report(world, resident_name="别人")
    assert own.channel == Channel.RESIDENT and own.resident_name == ""


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"category": "roof"}, "请选择类别"),
        ({"description": ""}, "请描述问题"),
        ({"place": Place.HOME}, "请选择需要维修的住户"),
        ({"household_id": "elsewhere"}, "请选择本小区的住户"),
        ({"unit_id": "elsewhere"}, "请选择本小区的单元"),
        ({"building_id": "elsewhere"}, "请选择本小区的楼栋"),
        ({"household_id": 2**31 - 1}, "请选择本小区的住户"),
        ({"building_id": "second", "unit_id": "first"}, "该单元不在所选楼栋内"),
        ({"household_id": "neighbour"}, "您不能为该住户报修"),
        ({"household_id": "neighbour", "place": Place.HOME}, "您不能为该住户报修"),
    ],
)
def test_bad_reports_are_refused_and_write_nothing(
    world: World, cast: Cast, fields: dict[str, Any], message: str
) -> None:
    elsewhere = world.objects_of(world.elsewhere)
    named = {
        "elsewhere": {
            "household_id": elsewhere["household"].id,
            "unit_id": elsewhere["unit"].id,
            "building_id": elsewhere["building"].id,
        },
        "neighbour": {"household_id": world.branch.buildings[1].units[0].households[0].id},
        "second": {"building_id": world.branch.buildings[1].id},
        "first": {"unit_id": first_unit(world.branch).id},
    }
    data = {
        key: named[value][key] if isinstance(value, str) and value in named else value
        for key, value in fields.items()
    }
    before = db.session.scalar(select(func.count(RepairTask.id)))
    with pytest.raises(RuleError, match=message):
        report(world, world.users["resident"], **data)
    db.session.rollback()
    assert db.session.scalar(select(func.count(RepairTask.id))) == before
    assert db.session.scalar(select(func.count(RepairMonth.month))) == 0


def test_a_representative_reports_only_for_homes_of_their_unit(world: World, cast: Cast) -> None:
    rep = cast["rep"]
    other_unit_home = world.branch.buildings[0].units[1].households[0]
    with pytest.raises(RuleError, match="您不能为该住户报修"):
        report(world, rep, household_id=other_unit_home.id, resident_name="王奶奶")
    db.session.rollback()
    with pytest.raises(RuleError, match="请填写居民姓名"):
        report(world, rep, household_id=first_unit(world.branch).households[1].id)
    db.session.rollback()
    assert db.session.scalar(select(func.count(RepairTask.id))) == 0


def test_people_outside_the_compound_cannot_report_there(world: World, cast: Cast) -> None:
    for role in ("outsider", "tenant", "area_committee", "other_staff"):
        with pytest.raises(RuleError, match="您不能在本小区报修"):
            report(world, cast[role])
        db.session.rollback()
    assert db.session.scalar(select(func.count(RepairTask.id))) == 0


def test_the_same_report_form_sent_twice_makes_one_task(world: World, cast: Cast) -> None:
    key = "report-form-key-0000000001"
    first = resident_report(world, request_key=key)
    again = resident_report(world, request_key=key)
    assert again.id == first.id
    assert db.session.scalar(select(func.count(RepairTask.id))) == 1
    assert db.session.scalar(select(RepairMonth.reported)) == 1
    # Somebody else's form with that key (a copied page): refused, not merged.
    with pytest.raises(RuleError, match="页面已过期"):
        report(world, cast["neighbour"], request_key=key)


# --- moves: the rules behind each one ----------------------------------------------------------


def test_the_usual_life_of_a_task(world: World, cast: Cast) -> None:
    task = resident_report(world)
    bring(task, Status.CLOSED, cast)
    kinds = [e.kind for e in task.events]
    assert kinds == ["reported", "assigned", "started", "done", "confirmed"]
    assert [e.to_status for e in task.events] == [
        "reported",
        "assigned",
        "in_progress",
        "done",
        "closed",
    ]
    assert task.assignee_id == cast["fixer"].id and task.finished_at is not None
    assert task.events[-1].due_on == task.due_on
    row = db.session.get(RepairMonth, (world.branch.id, this_month()))
    assert (row.reported, row.closed, row.closed_in_target, row.close_days) == (1, 1, 1, 0)
    assert queries.check_months() == []


def test_roles_on_a_task(world: World, cast: Cast) -> None:
    task = bring(resident_report(world), Status.ASSIGNED, cast)
    expected = {
        "committee": {"triage"},
        "staff": {"triage"},
        "admin": {"triage"},
        "fixer": {"triage", "assignee"},  # still on the committee
        "resident": {"reporter"},
        "neighbour": set(),
        "rep": set(),
        "other_rep": set(),
        "outsider": set(),
        "other_staff": set(),
        "area_committee": set(),
    }
    for role, roles in expected.items():
        assert workflow.roles_on(task, cast[role], P(cast[role])) == roles, role
    cast.retire_fixer()
    assert workflow.roles_on(task, cast["fixer"], P(cast["fixer"])) == {"assignee"}


def test_the_reporter_confirms_or_sends_back_with_a_reason(world: World, cast: Cast) -> None:
    task = bring(resident_report(world), Status.DONE, cast)
    resident = cast["resident"]
    before = footprint(task.id)
    with pytest.raises(RuleError, match="请填写原因"):
        move(task, "send_back", resident)
    db.session.rollback()
    assert footprint(task.id) == before
    move(task, "send_back", resident, "还在漏")
    assert task.status == Status.IN_PROGRESS and task.done_at is None
    assert task.events[-1].note == "还在漏"
    move(task, "done", cast["committee"])
    move(task, "confirm", resident)
    assert task.status == Status.CLOSED
    assert queries.check_months() == []


def test_another_resident_of_the_home_checks_the_work_too(world: World, cast: Cast) -> None:
    from compound_app.registry import roster
    from compound_app.registry.models import Relation

    home = first_household(world.branch)
    spouse = user("吴太太", resident=home.id)
    roster.add_occupant(home, spouse.name, spouse.mobile, Relation.FAMILY).user_id = spouse.id
    db.session.commit()
    task = bring(resident_report(world), Status.DONE, cast)
    move(task, "confirm", spouse)
    assert task.status == Status.CLOSED


def test_the_committee_closes_for_a_silent_reporter_only_after_a_week(
    world: World, cast: Cast
) -> None:
    chair = cast["committee"]
    task = bring(resident_report(world), Status.DONE, cast)
    before = footprint(task.id)
    with pytest.raises(RuleError, match="应先由报修人验收；7天后"):
        move(task, "close", chair, "已电话联系")
    db.session.rollback()
    assert footprint(task.id) == before
    set_clock(task, done_at=task.done_at - timedelta(days=6, hours=23))
    assert "close" not in [m.name for m in workflow.moves_for(task, chair, P(chair))]
    set_clock(task, done_at=task.done_at - timedelta(hours=2))
    assert "close" in [m.name for m in workflow.moves_for(task, chair, P(chair))]
    with pytest.raises(RuleError, match="请填写原因"):
        move(task, "close", chair)
    db.session.rollback()
    move(task, "close", chair, "七天无回应，电话确认已修好")
    assert task.status == Status.CLOSED and task.events[-1].kind == "closed"
    assert queries.check_months() == []


@pytest.mark.parametrize("channel", ["committee", "meeting"])
def test_the_committee_closes_its_own_tasks_at_once(world: World, cast: Cast, channel: str) -> None:
    chair = cast["committee"]
    fields: dict[str, Any] = {}
    if channel == "meeting":
        meeting = works.record_meeting(
            world.branch,
            works.MeetingRecord(
                MeetingKind.REVIEW, clock.today(), "支部委员", 5, "路灯不亮", ["修路灯"]
            ),
            chair,
        )
        fields["decision_id"] = meeting.decisions[0].id
    task = bring(report(world, chair, **fields), Status.DONE, cast)
    assert task.channel == channel
    move(task, "close", chair, "已验收")
    assert task.status == Status.CLOSED


def test_the_reporter_may_not_close_and_the_committee_may_not_confirm(
    world: World, cast: Cast
) -> None:
    task = bring(resident_report(world), Status.DONE, cast)
    set_clock(task, done_at=task.done_at - timedelta(days=8))
    before = footprint(task.id)
    for name, role in (("close", "resident"), ("confirm", "committee"), ("confirm", "rep")):
        with pytest.raises(RuleError, match="这一步不由您操作"):
            move(task, name, cast[role], "理由")
        db.session.rollback()
    assert footprint(task.id) == before


def test_reopening_is_for_the_reporter_within_a_week(world: World, cast: Cast) -> None:
    task = bring(resident_report(world), Status.CLOSED, cast)
    resident, chair = cast["resident"], cast["committee"]
    with pytest.raises(RuleError, match="这一步不由您操作"):
        move(task, "reopen", chair, "再看看")
    db.session.rollback()
    with pytest.raises(RuleError, match="请填写原因"):
        move(task, "reopen", resident)
    db.session.rollback()
    set_clock(task, finished_at=task.finished_at - timedelta(days=6, hours=23))
    move(task, "reopen", resident, "又漏了")
    assert task.status == Status.REPORTED
    assert task.finished_at is None and task.done_at is None and task.rating is None
    # Reopened, it has its full time again rather than being overdue at once.
    assert task.due_on == clock.today() + timedelta(days=3)  # plumbing
    assert not levels.is_overdue(task)
    row = db.session.get(RepairMonth, (world.branch.id, this_month()))
    assert (row.reported, row.reopened, row.closed) == (1, 1, 1)

    bring(task, Status.CLOSED, cast)
    set_clock(task, finished_at=task.finished_at - timedelta(days=8))
    before = footprint(task.id)
    with pytest.raises(RuleError, match="只能在7天内重新报修"):
        move(task, "reopen", resident, "又漏了")
    db.session.rollback()
    assert footprint(task.id) == before
    assert queries.check_months() == []


def test_rejecting_needs_a_reason_and_a_rejected_task_may_be_reopened(
    world: World, cast: Cast
) -> None:
    task = resident_report(world)
    chair = cast["committee"]
    with pytest.raises(RuleError, match="请填写原因"):
        move(task, "reject", chair)
    db.session.rollback()
    move(task, "reject", chair, "属于户内维修，请联系物业公司")
    assert task.status == Status.REJECTED and task.reject_reason.startswith("属于户内")
    row = db.session.get(RepairMonth, (world.branch.id, this_month()))
    assert (row.rejected, row.closed) == (1, 0)
    move(task, "reopen", cast["resident"], "这是楼道里的管子")
    assert task.status == Status.REPORTED and task.reject_reason == ""
    # Work under way is not rejected any more.
    bring(task, Status.IN_PROGRESS, cast)
    with pytest.raises(RuleError, match="不能进行这一步"):
        move(task, "reject", chair, "算了")
    db.session.rollback()
    assert queries.check_months() == []


def test_a_step_that_does_not_exist_or_does_not_fit_the_status(world: World, cast: Cast) -> None:
    task = resident_report(world)
    before = footprint(task.id)
    for name in ("fly", "", "REJECT", "__init__"):
        with pytest.raises(RuleError, match="任务没有这一步操作"):
            move(task, name, cast["committee"], "x")
        db.session.rollback()
    for name in ("start", "done", "confirm", "close", "send_back", "reopen"):
        with pytest.raises(RuleError, match="“待受理”的任务不能进行这一步"):
            move(task, name, cast["committee"], "x")
        db.session.rollback()
    assert footprint(task.id) == before


def test_a_stale_version_is_refused_as_changed_meanwhile(world: World, cast: Cast) -> None:
    task = bring(resident_report(world), Status.ASSIGNED, cast)
    chair = cast["committee"]
    seen = task.version
    move(task, "start", cast["staff"])
    before = footprint(task.id)
    with pytest.raises(RuleError, match="这期间已有人修改了此任务（现为“处理中”）"):
        workflow.move(task, "reject", chair, version=seen, note="重复", p=P(chair))
    db.session.rollback()
    with pytest.raises(RuleError, match="这期间已有人修改了此任务"):
        workflow.assign(
            task,
            workflow.Assignment(kind=AssigneeKind.CONTRACTOR, contractor="张师傅"),
            chair,
            version=seen,
            p=P(chair),
        )
    db.session.rollback()
    for version in (None, 0, task.version + 1):
        with pytest.raises(RuleError, match="这期间已有人修改了此任务"):
            workflow.move(task, "done", chair, version=version, p=P(chair))
        db.session.rollback()
    assert footprint(task.id) == before


def test_the_version_column_catches_a_write_that_raced_the_check(world: World, cast: Cast) -> None:
    task = bring(resident_report(world), Status.ASSIGNED, cast)
    # Another request saved a change between this one's check and its write.
    db.session.execute(
        text("UPDATE repair_task SET version = version + 1 WHERE id = :id"), {"id": task.id}
    )
    chair = cast["committee"]
    with pytest.raises(RuleError, match="这期间已有人修改了此任务"):
        workflow.move(task, "start", chair, version=task.version, p=P(chair))
    db.session.rollback()
    assert db.session.get(RepairTask, task.id).status == Status.ASSIGNED
    assert len(db.session.get(RepairTask, task.id).events) == 2


# --- assigning ---------------------------------------------------------------------------------


def test_assigning_to_a_member_staff_or_contractor(world: World, cast: Cast) -> None:
    chair = cast["committee"]
    task = resident_report(world)
    people = workflow.assignable_people(task)
    assert {u.id for u in people[AssigneeKind.MEMBER]} == {chair.id, cast["fixer"].id}
    assert {u.id for u in people[AssigneeKind.STAFF]} == {cast["staff"].id}
    assign(task, chair, cast["staff"], AssigneeKind.STAFF)
    assert task.status == Status.ASSIGNED and task.assignee_name == cast["staff"].name
    move(task, "start", cast["staff"])
    # Handing work under way to somebody else starts it again with them.
    workflow.assign(
        task,
        workflow.Assignment(kind=AssigneeKind.CONTRACTOR, contractor="张师傅水暖", note="外包"),
        chair,
        version=task.version,
        p=P(chair),
    )
    db.session.commit()
    assert task.status == Status.ASSIGNED and task.assignee_id is None
    assert task.assignee_name == "张师傅水暖" and task.events[-1].note == "外包"
    assert queries.check_months() == []


@pytest.mark.parametrize(
    ("assignment", "message"),
    [
        ({"kind": "member", "member_id": None}, "请从列表中选择人员"),
        ({"kind": "member", "member_id": "outsider"}, "请从列表中选择人员"),
        ({"kind": "staff", "member_id": "other_staff"}, "请从列表中选择人员"),
        ({"kind": "staff", "member_id": "committee"}, "请从列表中选择人员"),
        ({"kind": "contractor", "contractor": ""}, "请填写施工单位名称或师傅姓名"),
        ({"kind": "boss"}, "请选择由谁处理"),
    ],
)
def test_bad_assignments_are_refused(
    world: World, cast: Cast, assignment: dict[str, Any], message: str
) -> None:
    task = resident_report(world)
    if isinstance(assignment.get("member_id"), str):
        assignment["member_id"] = cast[assignment["member_id"]].id
    chair = cast["committee"]
    before = footprint(task.id)
    with pytest.raises(RuleError, match=message):
        workflow.assign(
            task, workflow.Assignment(**assignment), chair, version=task.version, p=P(chair)
        )
    db.session.rollback()
    assert footprint(task.id) == before


def test_only_triage_assigns_and_only_open_work(world: World, cast: Cast) -> None:
    task = resident_report(world)
    for role in ("resident", "rep", "neighbour", "fixer_retired"):
        if role == "fixer_retired":
            cast.retire_fixer()
            role = "fixer"
        who = cast[role]
        with pytest.raises(RuleError, match="这一步不由您操作"):
            workflow.assign(
                task,
                workflow.Assignment(kind=AssigneeKind.CONTRACTOR, contractor="张师傅"),
                who,
                version=task.version,
                p=P(who),
            )
        db.session.rollback()
    done = bring(resident_report(world), Status.REJECTED, cast)
    chair = cast["committee"]
    with pytest.raises(RuleError, match="“已退回”的任务不能派单"):
        workflow.assign(
            done,
            workflow.Assignment(kind=AssigneeKind.CONTRACTOR, contractor="张师傅"),
            chair,
            version=done.version,
            p=P(chair),
        )


def test_a_new_category_or_urgency_moves_the_due_date(world: World, cast: Cast) -> None:
    task = resident_report(world)  # plumbing: 3 days
    reported_on = clock.local_date(task.reported_at)
    chair = cast["committee"]
    workflow.assign(
        task,
        workflow.Assignment(
            kind=AssigneeKind.CONTRACTOR,
            contractor="市政",
            category=Category.ROAD,
            priority=Priority.URGENT,
        ),
        chair,
        version=task.version,
        p=P(chair),
    )
    assert task.category == Category.ROAD and task.due_on == reported_on + timedelta(days=30)


# --- ratings ----------------------------------------------------------------------------------


def test_the_reporter_rates_a_closed_task_once(world: World, cast: Cast) -> None:
    task = bring(resident_report(world), Status.DONE, cast)
    resident = cast["resident"]
    with pytest.raises(RuleError, match="任务完成后才能评价"):
        workflow.rate(task, resident, 5, "", p=P(resident))
    move(task, "confirm", resident)
    for role in ("committee", "fixer", "neighbour", "rep"):
        with pytest.raises(RuleError, match="只有报修人可以评价"):
            workflow.rate(task, cast[role], 5, "", p=P(cast[role]))
    for stars in (0, 6, -1):
        with pytest.raises(RuleError, match="请选择1至5星"):
            workflow.rate(task, resident, stars, "", p=P(resident))
    db.session.rollback()
    before = footprint(task.id)
    assert before[4] is None
    workflow.rate(task, resident, 4, "修得快", p=P(resident))
    db.session.commit()
    assert (task.rating, task.rating_comment, task.events[-1].kind) == (4, "修得快", "rated")
    with pytest.raises(RuleError, match="此任务已评价过"):
        workflow.rate(task, resident, 1, "改主意了", p=P(resident))
    db.session.rollback()
    assert db.session.get(RepairTask, task.id).rating == 4
    assert queries.check_months() == []


# --- due dates and service levels -----------------------------------------------------------------


def test_due_dates_follow_the_targets_and_urgent_halves_them(world: World) -> None:
    days = dict(levels.target_days(world.subdistrict.id))
    assert days[Category.ROAD] == 60 and days[Category.ELECTRICAL] == 2
    assert levels.allowed_days(Category.ROAD, Priority.URGENT, days) == 30
    assert levels.allowed_days(Category.CLEANING, Priority.URGENT, days) == 2  # 1.5 → 2
    assert levels.allowed_days(Category.ELECTRICAL, Priority.URGENT, days) == 1
    levels.set_target_days(world.subdistrict.id, {Category.ELECTRICAL: 1, Category.SEWER: 5})
    db.session.commit()
    days = levels.target_days(world.subdistrict.id)
    assert levels.allowed_days(Category.ELECTRICAL, Priority.URGENT, days) == 1  # never 0
    assert levels.allowed_days(Category.SEWER, Priority.NORMAL, days) == 5
    task = resident_report(world, category=Category.SEWER, priority=Priority.URGENT)
    assert task.due_on == clock.local_date(task.reported_at) + timedelta(days=3)


def test_overdue_is_late_work_not_a_task_waiting_for_its_check(world: World, cast: Cast) -> None:
    task = resident_report(world)
    assert not levels.is_overdue(task)
    assert levels.is_overdue(task, task.due_on + timedelta(days=1))
    assert not levels.is_overdue(task, task.due_on)
    bring(task, Status.DONE, cast)
    assert not levels.is_overdue(task, task.due_on + timedelta(days=1))
    late = resident_report(world)
    db.session.execute(
        update(RepairTask)
        .where(RepairTask.id == late.id)
        .values(due_on=clock.today() - timedelta(days=1))
    )
    db.session.commit()
    assert queries.counts(world.branch.id) == {"open": 2, "overdue": 1}
    found, pages = queries.compound_tasks(world.branch.id, queries.TaskFilter(status="overdue"))
    assert [t.id for t in found] == [late.id] and pages == 1


def at_local(day: date, hour: int = 10) -> datetime:
    """A moment in Xiaoyi (UTC+8) as an aware UTC datetime."""
    return datetime.combine(day, time(hour), tzinfo=clock.LOCAL_TZ).astimezone(UTC)


def test_service_levels_per_month(world: World, cast: Cast, held_clock: Any) -> None:
    current = this_month()  # read once: the test moves the clock
    m2, m1 = add_months(current, -2), add_months(current, -1)
    chair, resident = cast["committee"], cast["resident"]

    def step(day: date, hour: int, name: str, task: RepairTask, note: str = "x") -> None:
        held_clock.now = at_local(day, hour)
        if name == "assign":
            assign(task, chair, cast["fixer"])
        else:
            move(task, name, resident if name in ("confirm", "reopen") else chair, note)

    held_clock.now = at_local(m2, 9)
    a, b, c = (resident_report(world) for _ in range(3))  # plumbing: 3 days
    # A: fixed within two days. B: fixed a month later. C: returned.
    for name in ("assign", "start", "done"):
        step(m2 + timedelta(days=1), 10, name, a)
    step(m2 + timedelta(days=2), 20, "confirm", a)
    for name in ("assign", "start", "done"):
        step(current - timedelta(days=3), 10, name, b)
    # 23:00 in Xiaoyi is 15:00 UTC: still the last month's day there.
    step(current - timedelta(days=2), 23, "confirm", b)
    step(m1, 7, "reject", c)  # 23:00 UTC the day before
    held_clock.now = at_local(current, 1)
    d = resident_report(world)
    step(current, 2, "reopen", b, "又漏了")  # within the week
    held_clock.now = None

    months = queries.service_levels(world.branch.id, months=3)
    assert [lv.month for lv in months] == [m2, m1, this_month()]
    b_days = (this_month() - timedelta(days=2) - m2).days
    got = [(lv.reported, lv.closed, lv.in_target, lv.open_at_end, lv.median_days) for lv in months]
    assert got == [(3, 1, 1, 2, 2), (0, 1, 0, 0, b_days), (1, 0, 0, 2, None)]
    # Fewer months: what was open before them is carried in.
    assert [lv.open_at_end for lv in queries.service_levels(world.branch.id, months=1)] == [2]
    assert d.status == Status.REPORTED and b.status == Status.REPORTED
    assert queries.check_months() == []


def test_median_days_of_an_even_number_of_closes(world: World, cast: Cast, held_clock: Any) -> None:
    chair = cast["committee"]
    last_month = add_months(this_month(), -1)  # a whole month, whatever today's date
    for days in (1, 4):
        held_clock.now = at_local(last_month, 1)
        task = report(world, chair)
        assign(task, chair, cast["fixer"])
        move(task, "start", chair)
        move(task, "done", chair)
        held_clock.now = at_local(last_month + timedelta(days=days), 1)
        move(task, "close", chair, "已验收")
    (level,) = queries.service_levels(world.branch.id, months=1)
    assert level.closed == 2 and level.median_days == 2.5 and level.in_target == 1


# --- the monthly figures always equal a recount from the timelines -----------------------------

OPS = st.lists(
    st.tuples(
        st.sampled_from(
            # "next" takes a task one step along its usual way; the rest are the detours.
            [
                *("report", "report_committee", "next", "next", "next", "next"),
                *("close", "send_back", "reject", "reopen", "rate", "reassign"),
            ]
        ),
        st.integers(0, 2),  # which task (of the last three)
        st.integers(0, 9),  # days since the previous step
        st.integers(0, 23),  # hour of the day
    ),
    min_size=10,
    max_size=40,
)
NEXT = {
    Status.ASSIGNED: "start",
    Status.IN_PROGRESS: "done",
    Status.DONE: "confirm",
    Status.CLOSED: "reopen",
    Status.REJECTED: "reopen",
}
_examples = iter(range(1, 10**6))


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(ops=OPS)
def test_monthly_figures_equal_a_recount_after_random_operations(
    world: World, held_clock: Any, ops: list[tuple[str, int, int, int]]
) -> None:
    # Every example gets a compound of its own, with a resident, in the same database.
    c = compound(world.community, f"随机{next(_examples)}号院", units=1, households=2)
    home = first_household(c)
    resident = user("随机住户", resident=home.id)
    staff = world.users["staff"]
    tasks: list[RepairTask] = []
    day = clock.today() - timedelta(days=200)
    for name, which, gap, hour in ops:
        day = min(day + timedelta(days=gap), clock.today())  # nothing happens in months to come
        held_clock.now = at_local(day, hour)
        try:
            if name.startswith("report"):
                who = staff if name == "report_committee" else resident
                extra = {} if who is staff else {"household_id": home.id}
                tasks.append(report(world, who, compound_=c, **extra))
                continue
            if not tasks:
                continue
            task = tasks[-1 - which % min(3, len(tasks))]
            reporter = resident if task.household_id else staff
            if name == "next":
                name = NEXT.get(task.status, "reassign")
            if name == "reassign":
                assign(task, staff, staff, AssigneeKind.STAFF)
            elif name == "rate":
                workflow.rate(task, reporter, 1 + which % 5, "", p=P(reporter))
            elif name in ("confirm", "send_back", "reopen"):
                move(task, name, reporter, "原因")
            else:
                move(task, name, staff, "原因")
            db.session.commit()
        except RuleError:
            db.session.rollback()
    held_clock.now = None
    assert queries.check_months([c.id]) == []
    # The open count of the last month equals the tasks open now.
    months = queries.service_levels(c.id, months=1)
    open_now = sum(1 for t in tasks if t.status not in ("closed", "rejected"))
    assert months[-1].open_at_end == open_now


def test_the_recount_finds_a_figure_that_drifted(world: World, cast: Cast) -> None:
    task = bring(resident_report(world), Status.CLOSED, cast)
    assert queries.check_months() == []
    for change in (
        {"closed": RepairMonth.closed + 1},
        {"reported": RepairMonth.reported - 1},
        {"closed_in_target": 0},
        {"close_days": RepairMonth.close_days + 3},
    ):
        db.session.execute(update(RepairMonth).values(**change))
        problems = queries.check_months()
        assert problems and str(world.branch.id) in problems[0], change
        db.session.rollback()
    # A month with counts but no events at all.
    db.session.add(RepairMonth(compound_id=world.trust.id, month=this_month(), reported=1))
    assert any("counts without events" in p for p in queries.check_months())
    db.session.rollback()
    assert queries.check_months([task.compound_id]) == []


# --- photos ------------------------------------------------------------------------------------


def test_photos_are_checked_and_stored_without_their_metadata(world: World) -> None:
    from PIL import Image

    task = resident_report(world, photos=[Photo(jpeg(gps=True), "IMG_0001.JPG")])
    (photo,) = task.photos
    path = upload_dir() / photo.file
    assert photo.file.endswith(".jpg") and "IMG_0001" not in photo.file
    with Image.open(path) as stored:
        assert stored.format == "JPEG"
        assert not stored.getexif() and "exif" not in stored.info
    assert b"Exif" not in path.read_bytes() and b"TestCam" not in path.read_bytes()


@pytest.mark.parametrize(
    ("files", "message"),
    [
        ([Photo(b'<svg xmlns="http://www.w3.org/2000/svg"><script>1</script></svg>')], "无法读取"),
        ([Photo(b"<!doctype html><html><body>hi</body></html>")], "无法读取"),
        ([Photo(jpeg()[:200])], "无法读取"),  # cut short
        ([Photo(jpeg()) for _ in range(7)], "最多6张"),
        ([Photo(jpeg()), Photo(b"GIF89a not really")], "无法读取"),
        ([Photo(b"\xff\xd8" + b"\x00" * (6 * 1024 * 1024 + 1))], "照片不能超过6 MB"),
    ],
)
def test_bad_photos_refuse_the_report_and_leave_no_file(
    world: World, files: list[Photo], message: str
) -> None:
    before = stored_files()
    with pytest.raises(RuleError, match=message):
        resident_report(world, photos=files)
    db.session.rollback()
    assert stored_files() == before
    assert db.session.scalar(select(func.count(RepairTask.id))) == 0


def test_photos_of_the_work_done_come_with_the_done_step(world: World, cast: Cast) -> None:
    task = bring(resident_report(world), Status.IN_PROGRESS, cast)
    before = stored_files()
    chair = cast["committee"]
    with pytest.raises(RuleError, match="最多6张"):
        move(task, "done", chair, photos=[Photo(jpeg()) for _ in range(7)])
    db.session.rollback()
    assert stored_files() == before and footprint(task.id)[0] == Status.IN_PROGRESS
    move(task, "done", chair, photos=[Photo(jpeg()), Photo(jpeg((0, 0, 255)))])
    assert [p.stage for p in task.photos] == ["after", "after"]
    assert len(stored_files() - before) == 2


# --- works, facilities, meetings ---------------------------------------------------------------


def _work(world: World, kind: str = "camera", funding: str = "government", **kw: Any) -> Any:
    plan = works.WorkPlan(
        kind=kind,
        title="安装监控",
        description="",
        budget_fen=1_200_000,
        funding=funding,
        planned_on=clock.today(),
        **kw,
    )
    work = works.plan_work(world.branch, plan, world.users["committee"])
    db.session.commit()
    return work


def test_a_work_from_plan_to_the_facility_register(world: World) -> None:
    chair = world.users["committee"]
    work = _work(world)
    with pytest.raises(RuleError, match="只有施工中的工程才能竣工"):
        works.complete_work(work, clock.today(), 12, "", chair, work.version)
    with pytest.raises(RuleError, match="开工日期不能晚于今天"):
        works.start_work(work, clock.today() + timedelta(days=1), work.version)
    with pytest.raises(RuleError, match="这期间已有人修改"):
        works.start_work(work, clock.today(), work.version + 1)
    db.session.rollback()
    works.start_work(work, clock.today() - timedelta(days=10), work.version)
    db.session.commit()
    with pytest.raises(RuleError, match="此工程已经开工"):
        works.start_work(work, clock.today(), work.version)
    with pytest.raises(RuleError, match="竣工日期不能早于开工日期"):
        works.complete_work(work, clock.today() - timedelta(days=11), 12, "", chair, work.version)
    with pytest.raises(RuleError, match="竣工日期不能晚于今天"):
        works.complete_work(work, clock.today() + timedelta(days=1), 12, "", chair, work.version)
    db.session.rollback()
    assert db.session.scalar(select(func.count(Facility.id))) == 0
    works.complete_work(work, clock.today(), 12, "大门和各楼栋口", chair, work.version)
    db.session.commit()
    assert work.status == WorkStatus.COMPLETED and work.completed_on == clock.today()
    (line,) = works.facilities_of(world.branch.id)
    assert (line.kind, line.count, line.work_id, line.installed_on) == (
        "camera",
        12,
        work.id,
        clock.today(),
    )
    assert works.facility_totals([world.branch.id]) == {"camera": 12}


def test_a_work_that_installs_nothing_registers_nothing(world: World) -> None:
    chair = world.users["committee"]
    work = _work(world, kind="road")
    works.start_work(work, clock.today(), work.version)
    db.session.commit()
    with pytest.raises(RuleError, match="没有需要登记的设施"):
        works.complete_work(work, clock.today(), 3, "", chair, work.version)
    db.session.rollback()
    works.complete_work(work, clock.today(), 0, "", chair, work.version)
    db.session.commit()
    assert work.status == WorkStatus.COMPLETED and works.facilities_of(world.branch.id) == []


def _expense(world: World, area: Any, kind: str = "repair", n: int = 1) -> Any:
    recorder = world.users["staff"] if area is not world.elsewhere.area else None
    recorder = recorder or world.users["other_staff"]
    expense = expenses.record_expense(
        area,
        recorder,
        kind=ExpenseKind(kind),
        category="监控安装" if kind == "repair" else "保洁",
        amount_fen=350_000,
        payee="安防公司",
        spent_on=clock.today(),
        note="",
        voucher=None,
        request_key=f"work-expense-key-{area.id:04d}-{kind}-{n:04d}",
    )
    db.session.commit()
    return expense


def test_a_work_links_one_of_its_areas_unlinked_repair_expenses(world: World) -> None:
    work, other = _work(world, funding="fees"), _work(world, funding="fees")
    mine = _expense(world, world.branch.area)
    service_cost = _expense(world, world.branch.area, kind="service")
    foreign = _expense(world, world.elsewhere.area)
    voided = _expense(world, world.branch.area, n=2)
    expenses.void_expense(voided, "录错了", world.users["committee"])
    db.session.commit()
    assert [e.id for e in works.linkable_expenses(work)] == [mine.id]
    for wrong in (service_cost.id, foreign.id, voided.id, None, 2**62):
        with pytest.raises(RuleError, match="请选择本区域的一笔维修支出"):
            works.link_expense(work, wrong, work.version)
        db.session.rollback()
    works.link_expense(work, mine.id, work.version)
    db.session.commit()
    assert work.expense_id == mine.id
    with pytest.raises(RuleError, match="请选择本区域的一笔维修支出"):
        works.link_expense(other, mine.id, other.version)  # taken by the first work
    assert works.linkable_expenses(other) == []
    # A work the government pays for takes no fee-ledger expense: its payment is its cost.
    government = _work(world)
    spare = _expense(world, world.branch.area, n=3)
    with pytest.raises(RuleError, match="物业费"):
        works.link_expense(government, spare.id, government.version)


def test_work_photos_before_and_after(world: World) -> None:
    chair = world.users["committee"]
    work = _work(world)
    before = stored_files()
    assert works.add_work_photos(work, [Photo(jpeg())] * 1, "before", chair) == 1
    assert works.add_work_photos(work, [Photo(jpeg()) for _ in range(6)], "after", chair) == 6
    db.session.commit()
    for files, stage, message in (
        ([Photo(jpeg())], "after", "最多6张"),
        ([Photo(jpeg())], "report", "请选择施工前或施工后"),
        ([], "before", "请选择要上传的照片"),
        ([Photo(b"<svg/>")], "before", "无法读取"),
    ):
        with pytest.raises(RuleError, match=message):
            works.add_work_photos(work, files, stage, chair)
        db.session.rollback()
    assert len(stored_files() - before) == 7
    assert sorted(p.stage for p in work.photos) == ["after"] * 6 + ["before"]


def test_facilities_are_added_and_taken_out_of_service(world: World) -> None:
    chair = world.users["committee"]
    entry = works.FacilityEntry("charging_pile", 4, "北门车棚", clock.today() - timedelta(days=30))
    line = works.add_facility(world.branch, entry, chair)
    works.add_facility(
        world.branch, works.FacilityEntry("street_light", 6, "", clock.today()), chair
    )
    db.session.commit()
    for bad in (
        works.FacilityEntry("fountain", 1, "", clock.today()),
        works.FacilityEntry("camera", 1, "", clock.today() + timedelta(days=1)),
    ):
        with pytest.raises(RuleError):
            works.add_facility(world.branch, bad, chair)
        db.session.rollback()
    for on in (clock.today() - timedelta(days=31), clock.today() + timedelta(days=1)):
        with pytest.raises(RuleError, match="安装日期到今天之间"):
            works.remove_facility(line, on)
        db.session.rollback()
    works.remove_facility(line, clock.today())
    db.session.commit()
    with pytest.raises(RuleError, match="这一项已经停用"):
        works.remove_facility(line, clock.today())
    db.session.rollback()
    assert works.facility_totals([world.branch.id]) == {"street_light": 6}
    assert len(works.facilities_of(world.branch.id)) == 2  # the history stays


def test_review_meetings_belong_to_branch_managed_compounds(world: World) -> None:
    staff = world.users["staff"]
    record = works.MeetingRecord(
        MeetingKind.REVIEW,
        clock.today(),
        "支部书记、单元代表",
        8,
        "下水道堵塞",
        ["疏通下水道", "修路灯"],
    )
    meeting = works.record_meeting(world.branch, record, world.users["committee"])
    db.session.commit()
    assert [d.text for d in meeting.decisions] == ["疏通下水道", "修路灯"]
    for c in (world.trust, world.contiguous[0], world.unmanaged):
        assert works.meeting_kinds(c) == [MeetingKind.RESIDENTS]
        with pytest.raises(RuleError, match="会诊会在党支部管理的小区召开"):
            works.record_meeting(c, record, staff)
        db.session.rollback()
    record.kind = MeetingKind.RESIDENTS
    assert works.record_meeting(world.trust, record, staff).kind == "residents"
    record.held_on = clock.today() + timedelta(days=1)
    with pytest.raises(RuleError, match="会议召开后才能登记"):
        works.record_meeting(world.trust, record, staff)


def test_decisions_become_tasks_only_by_the_committee(world: World, cast: Cast) -> None:
    chair = cast["committee"]
    record = works.MeetingRecord(
        MeetingKind.REVIEW, clock.today(), "支部", 6, "路灯坏了", ["修路灯"]
    )
    decision = works.record_meeting(world.branch, record, chair).decisions[0]
    record_elsewhere = works.MeetingRecord(
        MeetingKind.RESIDENTS, clock.today(), "居民", 20, "路灯坏了", ["修路灯"]
    )
    other = works.record_meeting(world.trust, record_elsewhere, cast["staff"]).decisions[0]
    db.session.commit()
    task = report(world, chair, category=Category.STREET_LIGHT, decision_id=decision.id)
    assert task.channel == Channel.MEETING and task.decision_id == decision.id
    assert decision.tasks == [task]
    for role in ("resident", "rep"):
        with pytest.raises(RuleError, match="只有物管会可以把会议决定转为任务"):
            report(world, cast[role], decision_id=decision.id)
        db.session.rollback()
    with pytest.raises(RuleError, match="该决定不属于本小区的会议"):
        report(world, chair, decision_id=other.id)
    db.session.rollback()
    # A work planned from a decision is linked to it; another compound's decision is not.
    assert _work(world, decision_id=decision.id).decision_id == decision.id
    with pytest.raises(RuleError, match="该决定不属于本小区的会议"):
        _work(world, decision_id=other.id)


# --- the timeline is never rewritten ------------------------------------------------------------


def test_timeline_events_cannot_be_changed_through_the_orm(world: World) -> None:
    task = resident_report(world)
    event = task.events[0]
    event.note = "改写"
    with pytest.raises(TimelineChangeRefused):
        db.session.flush()
    db.session.rollback()
    db.session.delete(db.session.get(RepairEvent, event.id))
    with pytest.raises(TimelineChangeRefused):
        db.session.flush()
    db.session.rollback()
    with pytest.raises(TimelineChangeRefused):
        db.session.execute(update(RepairEvent).values(note="改写"))
    with pytest.raises(TimelineChangeRefused):
        db.session.execute(delete(RepairEvent))
    db.session.rollback()
    assert db.session.get(RepairEvent, event.id).note == ""


@pytest.mark.parametrize(
    "statement", ["UPDATE repair_event SET note = 'x'", "DELETE FROM repair_event"]
)
def test_timeline_events_cannot_be_changed_in_the_database(world: World, statement: str) -> None:
    resident_report(world)
    with pytest.raises(DatabaseError, match="append-only"):
        db.session.execute(text(statement))
    db.session.rollback()
    assert db.session.scalar(select(func.count(RepairEvent.id))) == 1


def test_targets_are_kept_per_subdistrict(world: World) -> None:
    levels.set_target_days(world.subdistrict.id, {Category.ROAD: 45})
    db.session.commit()
    assert levels.target_days(world.subdistrict.id)[Category.ROAD] == 45
    assert db.session.scalar(select(func.count()).select_from(RepairTarget)) == 1

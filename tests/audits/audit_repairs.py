"""The repair routes' cases for ``test_audit``: every change of a task's status, a work, the
facility register, a meeting and the targets writes its audit row."""

from __future__ import annotations

import io
from typing import Any

from sqlalchemy import select

from compound_app import access, clock
from compound_app.extensions import db
from compound_app.fees import expenses
from compound_app.fees.models import ExpenseKind
from compound_app.repairs import workflow, works
from compound_app.repairs.models import (
    AssigneeKind,
    Facility,
    Meeting,
    MeetingKind,
    RepairTask,
    Work,
)
from tests.audits.test_audit import Changed, Post, case, changed, one
from tests.factories import World, first_household


class Photo(io.BytesIO):
    """A photo the test client may send again: closing it after a request only rewinds it
    (each case is sent three times)."""

    def __init__(self, name: str = "photo.jpg") -> None:
        from PIL import Image

        buffer = io.BytesIO()
        Image.new("RGB", (16, 12), (120, 60, 30)).save(buffer, "JPEG")
        super().__init__(buffer.getvalue())
        self.name = name

    def close(self) -> None:
        self.seek(0)


def _task(w: World, *, assigned: bool = False, done: bool = False) -> RepairTask:
    resident, chair = w.users["resident"], w.users["committee"]
    home = first_household(w.branch)
    task = workflow.report_task(
        w.branch,
        workflow.Report(category="plumbing", description="楼道水管漏水", household_id=home.id),
        resident,
        p=access.load_principal(resident),
    )
    p = access.load_principal(chair)
    if assigned or done:
        workflow.assign(
            task,
            workflow.Assignment(kind=AssigneeKind.MEMBER, member_id=chair.id),
            chair,
            version=task.version,
            p=p,
        )
    if done:
        for name in ("start", "done"):
            workflow.move(task, name, chair, version=task.version, p=p)
    db.session.commit()
    return task


def _work(w: World, *, started: bool = False, funding: str = "government") -> Work:
    work = works.plan_work(
        w.branch,
        works.WorkPlan("camera", "安装监控", "", 1_200_000, funding, clock.today()),
        w.users["committee"],
    )
    if started:
        works.start_work(work, clock.today(), work.version)
    db.session.commit()
    return work


@case("repairs.create", "resident")
def _create(w: World, client: Any) -> Post:
    home = first_household(w.branch)
    return Post(
        f"/repairs/compounds/{w.branch.id}/new",
        {
            "category": "plumbing",
            "place": "home",
            "household_id": str(home.id),
            "description": "厨房下水堵了",
            "priority": "urgent",
            "key": "audit-case-repair-key-000001",
        },
        lambda: [
            changed(
                one(select(RepairTask)),
                "report_repair",
                status="reported",
                channel="resident",
                household_id=home.id,
                priority="urgent",
            )
        ],
    )


@case("repairs.move", "committee")
def _start(w: World, client: Any) -> Post:
    task = _task(w, assigned=True)
    return Post(
        f"/repairs/{task.id}/move",
        {"move": "start", "note": "", "version": str(task.version)},
        lambda: [changed(task, "repair_start", status="in_progress")],
    )


@case("repairs.move", "resident", "confirm")
def _confirm(w: World, client: Any) -> Post:
    task = _task(w, done=True)
    return Post(
        f"/repairs/{task.id}/move",
        {"move": "confirm", "note": "", "version": str(task.version)},
        lambda: [changed(task, "repair_confirm", status="closed", finished_at=bool)],
    )


@case("repairs.move", "committee", "done with photos")
def _done(w: World, client: Any) -> Post:
    task = _task(w, assigned=True)
    chair = w.users["committee"]
    workflow.move(task, "start", chair, version=task.version, p=access.load_principal(chair))
    db.session.commit()
    return Post(
        f"/repairs/{task.id}/move",
        {"move": "done", "note": "已更换阀门", "version": str(task.version), "photos": Photo()},
        lambda: [changed(task, "repair_done", status="done", done_at=bool)],
    )


@case("repairs.assign", "committee")
def _assign(w: World, client: Any) -> Post:
    task = _task(w)
    return Post(
        f"/repairs/{task.id}/assign",
        {
            "kind": "contractor",
            "member_id": "",
            "contractor": "张师傅水暖",
            "category": "plumbing",
            "priority": "normal",
            "note": "",
            "version": str(task.version),
        },
        lambda: [
            changed(
                task,
                "repair_assign",
                status="assigned",
                assignee_kind="contractor",
                assignee_name="张师傅水暖",
            )
        ],
    )


@case("repairs.rate", "resident")
def _rate(w: World, client: Any) -> Post:
    task = _task(w, done=True)
    resident = w.users["resident"]
    workflow.move(
        task, "confirm", resident, version=task.version, p=access.load_principal(resident)
    )
    db.session.commit()
    return Post(
        f"/repairs/{task.id}/rate",
        {"rating": "4", "comment": "修得快"},
        lambda: [changed(task, "repair_rate", rating=4, rating_comment="修得快")],
    )


@case("repairs.targets", "admin")
def _targets(w: World, client: Any) -> Post:
    from compound_app.repairs.models import DEFAULT_TARGET_DAYS

    days = {f"days_{k}": str(v) for k, v in DEFAULT_TARGET_DAYS.items()}
    return Post(
        f"/repairs/subdistricts/{w.subdistrict.id}/targets",
        {**days, "days_road": "45"},
        lambda: [Changed("subdistrict", w.subdistrict.id, {"road": 45}, "repair_targets")],
    )


@case("repairs.new_work", "committee")
def _new_work(w: World, client: Any) -> Post:
    return Post(
        f"/repairs/compounds/{w.branch.id}/works",
        {
            "kind": "road",
            "title": "主路硬化",
            "description": "",
            "budget": "80,000",
            "funding": "government",
            "planned_on": clock.today().isoformat(),
        },
        lambda: [changed(one(select(Work)), "plan_work", title="主路硬化", budget_fen=8_000_000)],
    )


@case("repairs.work_step", "committee")
def _start_work(w: World, client: Any) -> Post:
    work = _work(w)
    return Post(
        f"/repairs/works/{work.id}/step",
        {"on": clock.today().isoformat(), "installed": "0", "location": "", "version": "1"},
        lambda: [
            changed(work, "start_work", status="underway", started_on=clock.today().isoformat())
        ],
    )


@case("repairs.work_step", "committee", "complete")
def _complete_work(w: World, client: Any) -> Post:
    work = _work(w, started=True)
    return Post(
        f"/repairs/works/{work.id}/step",
        {"on": clock.today().isoformat(), "installed": "12", "location": "大门", "version": "2"},
        lambda: [
            changed(work, "complete_work", status="completed"),
            changed(one(select(Facility)), "add_facility", kind="camera", count=12),
        ],
    )


@case("repairs.work_expense", "committee")
def _work_expense(w: World, client: Any) -> Post:
    work = _work(w, funding="fees")  # only a fee-funded work takes a fee-ledger expense
    expense = expenses.record_expense(
        w.branch.area,
        w.users["committee"],
        kind=ExpenseKind.REPAIR,
        category="监控安装",
        amount_fen=350_000,
        payee="安防公司",
        spent_on=clock.today(),
        note="",
        voucher=None,
        request_key="audit-case-repair-expense-01",
    )
    db.session.commit()
    return Post(
        f"/repairs/works/{work.id}/expense",
        {"expense_id": str(expense.id), "version": "1"},
        lambda: [changed(work, "link_work_expense", expense_id=expense.id)],
    )


@case("repairs.work_photos", "committee")
def _work_photos(w: World, client: Any) -> Post:
    work = _work(w)
    return Post(
        f"/repairs/works/{work.id}/photos",
        {"stage": "before", "photos": Photo()},
        lambda: [changed(work, "work_photos", stage="before", added=1)],
    )


@case("repairs.add_facility", "committee")
def _add_facility(w: World, client: Any) -> Post:
    return Post(
        f"/repairs/compounds/{w.branch.id}/facilities",
        {"kind": "charging_pile", "count": "4", "location": "北门", "installed_on": "2026-06-01"},
        lambda: [changed(one(select(Facility)), "add_facility", kind="charging_pile", count=4)],
    )


@case("repairs.remove_facility", "committee")
def _remove_facility(w: World, client: Any) -> Post:
    line = works.add_facility(
        w.branch,
        works.FacilityEntry("street_light", 6, "", clock.today()),
        w.users["committee"],
    )
    db.session.commit()
    return Post(
        f"/repairs/facilities/{line.id}/remove",
        {"on": clock.today().isoformat()},
        lambda: [changed(line, "remove_facility", removed_on=clock.today().isoformat())],
    )


@case("repairs.new_meeting", "staff")
def _new_meeting(w: World, client: Any) -> Post:
    return Post(
        f"/repairs/compounds/{w.branch.id}/meetings",
        {
            "kind": MeetingKind.REVIEW,
            "held_on": clock.today().isoformat(),
            "attendees": "支部书记、单元代表",
            "attendee_count": "9",
            "problems": "下水道堵塞",
            "decisions": "疏通下水道",
        },
        lambda: [changed(one(select(Meeting)), "record_meeting", kind="review", attendee_count=9)],
    )

"""The rectification and inspection routes' cases for ``test_audit``: every change writes its
audit row."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from compound_app import access, clock
from compound_app.extensions import db
from compound_app.rectify import inspections
from compound_app.rectify import service as rectify
from compound_app.rectify.models import (
    DisputeParty,
    Inspection,
    InspectionResult,
    RectifyProject,
    RectifyStep,
    Volunteer,
    VolunteerSession,
)
from compound_app.registry.models import Pilot
from tests.audits.audit_repairs import Photo
from tests.audits.test_audit import Post, case, changed, one
from tests.factories import World, days_ago, first_household, problem

KEY = "audit-case-rectify-key-0000001"


def _project(w: World, kind: str = "livelihood", reporter: bool = False) -> RectifyProject:
    staff = w.users["staff"]
    found = problem(
        w.branch,
        "楼道灯不亮",
        reporter=w.users["resident"] if reporter else None,
        household=first_household(w.branch) if reporter else None,
        entered_by=staff,
    )
    project = rectify.create_project(
        [found],
        rectify.Draft(kind, "compound", "楼道照明整改", days_ago(-10)),
        staff,
        f"audit-rectify-{kind}-{found.id:06d}",
        access.load_principal(staff),
    )
    db.session.commit()
    return project


def _pilot(w: World) -> Pilot:
    pilot = Pilot(
        compound_id=w.branch.id,
        selected_on=days_ago(100),
        stage="organised",
        stage_since=days_ago(40),
        model="party_branch",
    )
    db.session.add(pilot)
    db.session.commit()
    return pilot


def _visit(w: World) -> Inspection:
    _pilot(w)
    staff = w.users["staff"]
    visit = inspections.start(
        w.branch, staff, clock.today(), "", "audit-visit-0000000001", access.load_principal(staff)
    )
    db.session.commit()
    return visit


@case("rectify.create", "staff")
def _create(w: World, client: Any) -> Post:
    found = problem(w.branch, "垃圾清运不及时", entered_by=w.users["staff"])
    return Post(
        f"/rectify/communities/{w.community.id}/projects",
        {
            "problems": [str(found.id)],
            "kind": "livelihood",
            "level": "compound",
            "title": "垃圾清运整改",
            "plan": "每日清运",
            "budget": "300",
            "work": "",
            "owner": "",
            "owner_name": "",
            "due_on": days_ago(-20).isoformat(),
            "key": KEY,
        },
        lambda: [
            changed(one(select(RectifyProject)), "rectify_project", budget_fen=30_000),
            changed(found, "problem_reply", status="replied"),
        ],
    )


@case("rectify.note", "staff")
def _note(w: World, client: Any) -> Post:
    project = _project(w)
    return Post(
        f"/rectify/projects/{project.id}/notes",
        {"note": "已采购灯具", "photos": Photo(), "key": KEY},
        lambda: [changed(project, "rectify_started", stage="in_progress")],
    )


@case("rectify.complete", "staff")
def _complete(w: World, client: Any) -> Post:
    project = _project(w)
    found = rectify.problems_of(project)[0]
    return Post(
        f"/rectify/projects/{project.id}/complete",
        {"evidence": "灯已更换", "photos": Photo(), "key": KEY},
        lambda: [
            changed(project, "rectify_completed", stage="completed"),
            changed(found, "problem_fixed", status="fixed"),
        ],
    )


@case("rectify.verify", "resident")
def _verify(w: World, client: Any) -> Post:
    project = _project(w, reporter=True)
    rectify.complete(project, w.users["staff"], "灯已更换", [], "audit-rectify-done-0000001")
    db.session.commit()
    found = rectify.problems_of(project)[0]
    return Post(
        f"/rectify/projects/{project.id}/verify",
        {"verdict": "accept", "rating": "5", "note": "满意"},
        lambda: [
            changed(project, "rectify_verified", stage="verified"),
            changed(found, "problem_verify", status="closed"),
            changed(found, "problem_rate", rating=5),
        ],
    )


@case("rectify.party", "staff")
def _party(w: World, client: Any) -> Post:
    project = _project(w, "dispute")
    return Post(
        f"/rectify/projects/{project.id}/parties",
        {"role": "3-2-301 住户", "name": "钱多多"},
        lambda: [changed(one(select(DisputeParty)), "dispute_party", role="3-2-301 住户")],
    )


@case("rectify.agreement", "staff")
def _agreement(w: World, client: Any) -> Post:
    project = _project(w, "dispute")
    rectify.add_party(project, w.users["staff"], "楼上住户")
    db.session.commit()
    return Post(
        f"/rectify/projects/{project.id}/agreement",
        {"text": "楼上住户负责修复防水", "photo": Photo(), "key": KEY},
        lambda: [
            changed(
                one(select(RectifyStep).where(RectifyStep.kind == "agreement")),
                "dispute_agreement",
                note="楼上住户负责修复防水",
            )
        ],
    )


@case("rectify.volunteer", "staff")
def _volunteer(w: World, client: Any) -> Post:
    project = _project(w, "volunteer")
    return Post(
        f"/rectify/projects/{project.id}/volunteers",
        {"name": "张桂兰"},
        lambda: [changed(one(select(Volunteer)), "add_volunteer", name="张桂兰")],
    )


@case("rectify.hours", "staff")
def _hours(w: World, client: Any) -> Post:
    project = _project(w, "volunteer")
    volunteer = rectify.add_volunteer(project, w.users["staff"], "张桂兰")
    db.session.commit()
    return Post(
        f"/rectify/projects/{project.id}/hours",
        {
            "volunteer": str(volunteer.id),
            "on": clock.today().isoformat(),
            "hours": "2",
            "minutes": "30",
            "key": KEY,
        },
        lambda: [changed(one(select(VolunteerSession)), "volunteer_hours", minutes=150)],
    )


@case("rectify.add_item", "admin")
def _add_item(w: World, client: Any) -> Post:
    return Post(
        f"/rectify/subdistricts/{w.subdistrict.id}/checklist",
        {"text": "电动车不进楼道", "fix_days": "3"},
        lambda: [
            changed(
                one(
                    select(inspections.InspectionItem).where(
                        inspections.InspectionItem.text == "电动车不进楼道"
                    )
                ),
                "inspection_item",
                fix_days=3,
            )
        ],
    )


def _first_item(w: World) -> Any:
    inspections.ensure_defaults(w.subdistrict)
    db.session.commit()
    return inspections.items(w.subdistrict.id)[0]


@case("rectify.edit_item", "admin")
def _edit_item(w: World, client: Any) -> Post:
    item = _first_item(w)
    return Post(
        f"/rectify/subdistricts/{w.subdistrict.id}/checklist/edit",
        {"item_id": str(item.id), "text": "物管会每月开会", "fix_days": "20"},
        lambda: [changed(item, "inspection_item", text="物管会每月开会", fix_days=20)],
    )


@case("rectify.retire_item", "admin")
def _retire_item(w: World, client: Any) -> Post:
    item = _first_item(w)
    return Post(
        f"/rectify/subdistricts/{w.subdistrict.id}/checklist/retire",
        {"item_id": str(item.id)},
        lambda: [changed(item, "retire_inspection_item", retired=True)],
    )


@case("rectify.move_item", "admin")
def _move_item(w: World, client: Any) -> Post:
    item = _first_item(w)
    return Post(
        f"/rectify/subdistricts/{w.subdistrict.id}/checklist/move",
        {"item_id": str(item.id), "direction": "down"},
        lambda: [changed(item, "move_inspection_item", position=1)],
    )


@case("rectify.start_inspection", "staff")
def _start(w: World, client: Any) -> Post:
    _pilot(w)
    return Post(
        "/rectify/inspections",
        {
            "compound_id": str(w.branch.id),
            "visited_on": clock.today().isoformat(),
            "counterpart": "物管会主任",
            "key": KEY,
        },
        lambda: [changed(one(select(Inspection)), "start_inspection", compound_id=w.branch.id)],
    )


@case("rectify.record", "staff")
def _record(w: World, client: Any) -> Post:
    visit = _visit(w)
    item = inspections.items(w.subdistrict.id)[0]
    return Post(
        f"/rectify/inspections/{visit.id}/results",
        {"item_id": str(item.id), "passed": "failed", "note": "无会议记录", "photo": Photo()},
        lambda: [changed(one(select(InspectionResult)), "inspection_result", passed=False)],
    )


@case("rectify.finish", "staff")
def _finish(w: World, client: Any) -> Post:
    visit = _visit(w)
    staff = w.users["staff"]
    for index, item in enumerate(inspections.items(w.subdistrict.id)):
        inspections.record_result(visit, staff, item.id, index > 0, "" if index else "无会议记录")
    db.session.commit()
    return Post(
        f"/rectify/inspections/{visit.id}/finish",
        {"note": "总体良好"},
        lambda: [
            changed(visit, "finish_inspection", note="总体良好"),
            changed(one(select(inspections.Problem)), "file_problem", source="inspection"),
        ],
    )

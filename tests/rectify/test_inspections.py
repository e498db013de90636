"""Inspections (督导检查): the subdistrict's checklist kept by its admin, a visit to a
pilot by staff or a grid worker, item by item; finishing files each failed item as a
problem with the item's deadline; the printed record both sides sign."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from compound_app import access, clock
from compound_app.auth.models import Role
from compound_app.auth.service import grant
from compound_app.errors import RuleError
from compound_app.extensions import db
from compound_app.problems.models import Grid, GridCompound, Problem
from compound_app.rectify import inspections
from compound_app.rectify.models import Inspection, InspectionItem, InspectionResult
from compound_app.registry.models import Pilot
from tests.factories import World, _jpeg, days_ago, problem, user


def _pilot(w: World, compound: Any = None) -> Pilot:
    c = compound or w.branch
    pilot = Pilot(
        compound_id=c.id,
        selected_on=days_ago(100),
        stage="organised",
        stage_since=days_ago(40),
        model="party_branch",
    )
    db.session.add(pilot)
    db.session.commit()
    return pilot


def _count(model: Any) -> int:
    return db.session.scalar(select(func.count()).select_from(model)) or 0


def _visit(client: Any, compound_id: int, **changes: Any) -> Any:
    data = {
        "compound_id": str(compound_id),
        "visited_on": clock.today().isoformat(),
        "counterpart": "物管会主任 孙德明",
        "key": "inspection-test-key-000001",
        **changes,
    }
    return client.post("/rectify/inspections", data=data)


def test_a_visit_files_its_failed_items_as_problems_and_prints_for_both_sides(world, login_as):
    w = world
    _pilot(w)
    staff = login_as(w.users["staff"])
    assert _visit(staff, w.branch.id).status_code == 303
    assert _visit(staff, w.branch.id).status_code == 303  # a double tap: one visit
    (visit,) = db.session.scalars(select(Inspection)).all()
    here = f"/rectify/inspections/{visit.id}"
    items = inspections.items(w.subdistrict.id)
    assert len(items) == 6  # the default checklist, made for the first visit
    # Finishing before every item is recorded is refused.
    early = staff.post(f"{here}/finish", data={"note": ""})
    assert early.status_code == 422 and "请先逐项记录" in early.get_data(as_text=True)
    # A failed item needs its words.
    silent = staff.post(f"{here}/results", data={"item_id": str(items[0].id), "passed": "failed"})
    assert silent.status_code == 422 and _count(InspectionResult) == 0
    fire = {
        "item_id": str(items[-1].id),
        "passed": "failed",
        "note": "消防通道堆放杂物",
        "photo": _jpeg(),
    }
    assert (
        staff.post(f"{here}/results", data=fire, content_type="multipart/form-data").status_code
        == 303
    )
    for item in items[:-1]:
        assert (
            staff.post(
                f"{here}/results", data={"item_id": str(item.id), "passed": "passed"}
            ).status_code
            == 303
        )
    # Recorded again: the latest counts.
    again = {"item_id": str(items[0].id), "passed": "failed", "note": "会议记录缺失"}
    assert staff.post(f"{here}/results", data=again).status_code == 303
    assert staff.post(f"{here}/finish", data={"note": "总体良好"}).status_code == 303
    problems = db.session.scalars(select(Problem).order_by(Problem.id)).all()
    assert [p.title for p in problems] == [items[0].text, items[-1].text]
    for found, days in zip(problems, (items[0].fix_days, items[-1].fix_days), strict=True):
        assert (found.source, found.compound_id, found.status) == (
            "inspection",
            w.branch.id,
            "open",
        )
        assert clock.local_date(found.fix_due_at) == clock.today() + timedelta(days=days)
    # Finished: the record is closed.
    late = staff.post(f"{here}/results", data={"item_id": str(items[1].id), "passed": "passed"})
    assert late.status_code == 422
    assert staff.post(f"{here}/finish", data={"note": ""}).status_code == 422
    page = staff.get(f"{here}/print").get_data(as_text=True)
    assert "检查人" in page and "小区方（物管会或党支部）" in page and "签字" in page
    assert f"#{problems[0].id}" in page and "物管会主任 孙德明" in page
    # The compound's committee sees (and signs) it; residents and other staff do not.
    assert login_as(w.users["committee"]).get(f"{here}/print").status_code == 200
    assert login_as(w.users["committee"]).post(f"{here}/finish", data={}).status_code == 403
    for role in ("resident", "other_staff", "rep"):
        assert login_as(w.users[role]).get(here).status_code == 404, role


def test_an_inspection_out_of_scope_or_of_no_pilot_or_in_the_future_is_refused(world, login_as):
    w = world
    _pilot(w)
    _pilot(w, w.elsewhere)
    staff = login_as(w.users["staff"])
    for compound_id, changes, message in (
        (w.elsewhere.id, {}, "请选择您负责的试点小区"),  # the other community's pilot
        (w.trust.id, {}, "不是试点"),  # no pilot
        (w.branch.id, {"visited_on": days_ago(-2).isoformat()}, "不能晚于今天"),
        (w.branch.id, {"visited_on": days_ago(400).isoformat()}, "不能早于试点开始日期"),
    ):
        response = _visit(staff, compound_id, **changes)
        assert response.status_code == 422, compound_id
        assert message in response.get_data(as_text=True), message
    assert _count(Inspection) == 0
    for role in ("resident", "committee", "outsider"):
        assert _visit(login_as(w.users[role]), w.branch.id).status_code == 404, role


def test_a_grid_worker_inspects_the_pilots_of_their_grid_only(world, login_as):
    w = world
    _pilot(w)
    _pilot(w, w.trust)
    grid = Grid(community_id=w.community.id, name="第一网格")
    db.session.add(grid)
    db.session.flush()
    db.session.add(GridCompound(grid_id=grid.id, compound_id=w.branch.id))
    worker = user("网格员小王")
    grant(worker, Role.GRID_WORKER, grid.id)
    db.session.commit()
    client = login_as(worker)
    assert _visit(client, w.trust.id).status_code == 422  # not in the grid
    assert _visit(client, w.branch.id, key="inspection-test-key-000002").status_code == 303
    visit = db.session.scalars(select(Inspection)).one()
    here = f"/rectify/inspections/{visit.id}"
    assert client.get(here).status_code == 200
    p = access.load_principal(worker)
    assert [c.id for c in inspections.pilots_to_visit(p)] == [w.branch.id]
    # The visit's failed item goes on the register through the grid worker's hand.
    items = inspections.items(w.subdistrict.id)
    for item in items:
        verdict = {"passed": "failed", "note": "灭火器过期"} if item is items[-1] else {}
        data = {"item_id": str(item.id), "passed": "passed", **verdict}
        assert client.post(f"{here}/results", data=data).status_code == 303
    assert client.post(f"{here}/finish", data={"note": ""}).status_code == 303
    raised = db.session.scalars(select(Problem)).one()
    assert (raised.source, raised.entered_by_id, raised.level) == (
        "inspection",
        worker.id,
        "community",
    )
    assert client.get(f"/problems/{raised.id}").status_code == 200
    assert client.get(f"/problems/compounds/{w.branch.id}/new").status_code == 200
    # Nothing outside the grid: another pilot's problem entry, its visits, other problems.
    other = problem(w.trust, "围墙破损", entered_by=w.users["staff"])
    assert client.get(f"/problems/compounds/{w.trust.id}/new").status_code == 404
    assert client.get(f"/problems/{other.id}").status_code == 404
    staff_visit = _visit(login_as(w.users["staff"]), w.trust.id, key="inspection-test-key-03")
    assert staff_visit.status_code == 303
    theirs = db.session.scalars(select(Inspection).where(Inspection.compound_id == w.trust.id))
    assert login_as(worker).get(f"/rectify/inspections/{theirs.one().id}").status_code == 404


def test_the_admin_keeps_the_checklist(world, login_as):
    w = world
    admin = login_as(w.users["admin"])
    url = f"/rectify/subdistricts/{w.subdistrict.id}/checklist"
    assert "消防" in admin.get(url).get_data(as_text=True)  # the defaults, shown before saving
    assert _count(InspectionItem) == 0  # reading writes nothing
    assert admin.post(url, data={"text": "电动车不进楼道", "fix_days": "3"}).status_code == 303
    items = inspections.items(w.subdistrict.id)
    assert len(items) == 7 and items[-1].text == "电动车不进楼道"
    assert admin.post(url, data={"text": "电动车不进楼道", "fix_days": "3"}).status_code == 422
    assert admin.post(url, data={"text": "x", "fix_days": "0"}).status_code == 422
    last = items[-1]
    assert (
        admin.post(f"{url}/move", data={"item_id": str(last.id), "direction": "up"}).status_code
        == 303
    )
    assert inspections.items(w.subdistrict.id)[-2].id == last.id
    edit = {"item_id": str(last.id), "text": "电动车不进楼道充电", "fix_days": "5"}
    assert admin.post(f"{url}/edit", data=edit).status_code == 303
    assert admin.post(f"{url}/retire", data={"item_id": str(last.id)}).status_code == 303
    db.session.refresh(last)
    assert (last.retired, last.text, last.fix_days) == (True, "电动车不进楼道充电", 5)
    assert last not in inspections.items(w.subdistrict.id)
    # Retired stays retired: it is no longer on the list to change.
    assert admin.post(f"{url}/edit", data=edit).status_code == 422
    assert login_as(w.users["staff"]).get(url).status_code == 404
    assert (
        login_as(w.users["staff"]).post(url, data={"text": "y", "fix_days": "3"}).status_code == 404
    )
    assert login_as(w.users["committee"]).get(url).status_code == 404


def test_the_last_item_is_never_retired(world):
    w = world
    inspections.ensure_defaults(w.subdistrict)
    items = inspections.items(w.subdistrict.id)
    for item in items[:-1]:
        inspections.retire_item(w.subdistrict, item.id)
    with pytest.raises(RuleError):
        inspections.retire_item(w.subdistrict, items[-1].id)


def test_the_pilot_page_links_its_inspections(world, login_as):
    w = world
    pilot = _pilot(w)
    staff = login_as(w.users["staff"])
    assert f"/rectify/pilots/{pilot.id}/inspections" in staff.get(
        f"/oversight/pilots/{pilot.id}"
    ).get_data(as_text=True)
    assert staff.get(f"/rectify/pilots/{pilot.id}/inspections").status_code == 200
    assert (
        login_as(w.users["committee"]).get(f"/rectify/pilots/{pilot.id}/inspections").status_code
        == 404
    )

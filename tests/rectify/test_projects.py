"""Rectification projects: made from problems by staff, run by them and their owner,
completed with evidence, verified by a reporter or an inspector (never by who completed
it); disputes' parties by role only beyond staff; volunteers' hours; every bad input
refused with a message and nothing written."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from compound_app import access, clock
from compound_app.audit import AuditLog
from compound_app.errors import RuleError
from compound_app.extensions import db
from compound_app.messages.models import Message
from compound_app.problems.models import Problem, ProblemStep
from compound_app.rectify import service
from compound_app.rectify.models import (
    RectifyChangeRefused,
    RectifyProject,
    RectifyStep,
    VolunteerSession,
)
from tests.factories import World, _jpeg, days_ago, first_household, problem

KEY = "rectify-test-key-0000000001"
TITLES = {
    "livelihood": "楼道照明整改",
    "contact": "入户走访",
    "dispute": "漏水纠纷调解",
    "volunteer": "关爱独居老人",
}


def _count(model: Any) -> int:
    return db.session.scalar(select(func.count()).select_from(model)) or 0


def _complaint(w: World, title: str = "楼道灯不亮") -> Problem:
    """The resident's own complaint about their compound (the branch)."""
    return problem(
        w.branch, title, reporter=w.users["resident"], household=first_household(w.branch)
    )


def _form(chosen: list[Problem], **changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "problems": [str(p.id) for p in chosen],
        "kind": "livelihood",
        "level": "compound",
        "title": "楼道照明整改",
        "plan": "更换灯具，加装声控开关",
        "budget": "1,200",
        "work": "",
        "owner": "",
        "owner_name": "",
        "due_on": days_ago(-14).isoformat(),
        "key": KEY,
    }
    data.update(changes)
    return data


def _project(w: World, *problems: Problem, kind: str = "livelihood") -> RectifyProject:
    staff = w.users["staff"]
    found = service.create_project(
        list(problems),
        service.Draft(kind, "compound", TITLES[kind], days_ago(-14)),
        staff,
        f"rectify-{kind}-{problems[0].id:06d}-abcdefgh",
        access.load_principal(staff),
    )
    db.session.commit()
    return found


def test_staff_make_a_project_from_problems_once_and_it_answers_them(world, login_as):
    w = world
    one, two = _complaint(w), _complaint(w, "单元门坏了")
    staff = login_as(w.users["staff"])
    page = staff.get(f"/rectify/communities/{w.community.id}/new?problem={one.id}")
    assert page.status_code == 200 and "楼道灯不亮" in page.get_data(as_text=True)
    url = f"/rectify/communities/{w.community.id}/projects"
    assert staff.post(url, data=_form([one, two])).status_code == 303
    assert staff.post(url, data=_form([one, two])).status_code == 303  # a double tap
    (project,) = db.session.scalars(select(RectifyProject)).all()
    assert (project.stage, project.budget_fen, project.compound_id) == (
        "approved",
        120_000,
        w.branch.id,
    )
    assert project.owner_id == w.users["staff"].id  # nobody named: the maker answers for it
    assert [p.id for p in service.problems_of(project)] == [one.id, two.id]
    db.session.refresh(one)
    assert one.status == "replied" and one.replied_at is not None  # the project is its reply
    # Taken on already: a second project of the same problem is refused.
    again = staff.post(url, data=_form([one], key="rectify-test-key-0000000002"))
    assert again.status_code == 422 and "另一个整改项目" in again.get_data(as_text=True)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"due_on": "2020-01-01"}, "整改期限不能早于今天"),
        ({"problems": []}, "请至少选择一个问题"),
        ({"kind": "party"}, None),
        ({"budget": "-5"}, None),
    ],
)
def test_bad_input_is_refused_with_a_message_and_nothing_written(world, login_as, changes, message):
    w = world
    one = _complaint(w)
    before = _count(AuditLog), _count(RectifyProject)
    response = login_as(w.users["staff"]).post(
        f"/rectify/communities/{w.community.id}/projects", data=_form([one], **changes)
    )
    assert response.status_code == 422
    if message:
        assert message in response.get_data(as_text=True)
    assert (_count(AuditLog), _count(RectifyProject)) == before


def test_a_project_mixing_communities_or_compounds_or_out_of_scope_owners_is_refused(world):
    w = world
    admin, staff = w.users["admin"], w.users["staff"]
    here, there = _complaint(w), problem(w.elsewhere, "路灯坏", entered_by=w.users["other_staff"])
    draft = service.Draft("livelihood", "community", "照明", days_ago(-3))
    with pytest.raises(RuleError, match="一个社区"):
        service.create_project([here, there], draft, admin, KEY, access.load_principal(admin))
    db.session.rollback()
    # Community staff do not reach the other community's problem at all.
    with pytest.raises(RuleError, match="请从列表中选择问题"):
        service.create_project([here, there], draft, staff, KEY, access.load_principal(staff))
    db.session.rollback()
    trust = problem(w.trust, "化粪池满", entered_by=staff)
    compound_level = service.Draft("livelihood", "compound", "照明", days_ago(-3))
    with pytest.raises(RuleError, match="同一个小区"):
        service.create_project(
            [here, trust], compound_level, staff, KEY, access.load_principal(staff)
        )
    db.session.rollback()
    outsider = service.Draft(
        "livelihood", "compound", "照明", days_ago(-3), owner=w.users["other_staff"]
    )
    with pytest.raises(RuleError, match="不服务于这个社区"):
        service.create_project([here], outsider, staff, KEY, access.load_principal(staff))
    db.session.rollback()
    assert _count(RectifyProject) == 0


@pytest.mark.parametrize("role", ["committee", "rep", "resident", "other_staff", "outsider"])
def test_only_staff_make_projects(world, login_as, role):
    w = world
    one = _complaint(w)
    client = login_as(w.users[role])
    assert client.get(f"/rectify/communities/{w.community.id}/new").status_code == 404
    url = f"/rectify/communities/{w.community.id}/projects"
    assert client.post(url, data=_form([one])).status_code == 404
    assert _count(RectifyProject) == 0


def test_progress_completion_and_the_reporters_verdict(world, login_as):
    w = world
    one = _complaint(w)
    project = _project(w, one)
    here = f"/rectify/projects/{project.id}"
    staff = login_as(w.users["staff"])
    note = {"note": "已采购灯具", "key": "rectify-note-key-000000001", "photos": [_jpeg()]}
    assert (
        staff.post(f"{here}/notes", data=note, content_type="multipart/form-data").status_code
        == 303
    )
    db.session.refresh(project)
    assert project.stage == "in_progress"
    done = {"evidence": "灯已更换，声控正常", "key": "rectify-done-key-000000001"}
    assert staff.post(f"{here}/complete", data=done).status_code == 303
    db.session.refresh(project), db.session.refresh(one)
    assert (project.stage, one.status, one.fixed_by_id) == (
        "completed",
        "fixed",
        w.users["staff"].id,
    )
    # The reporter is asked, once, to check the work and rate it on the project's page.
    told = db.session.scalars(select(Message).where(Message.user_id == w.users["resident"].id))
    asked = [m for m in told if "请查看并评价" in m.title]
    assert [m.url for m in asked] == [here]
    # Whoever completed it does not verify it.
    own = staff.post(f"{here}/verify", data={"verdict": "accept", "rating": "", "note": ""})
    assert own.status_code == 422 and "不能由您验收" in own.get_data(as_text=True)
    # A neighbour who reported nothing does not see it; the reporter verifies and rates.
    assert login_as(w.users["rep"]).get(here).status_code == 404
    resident = login_as(w.users["resident"])
    page = resident.get(here).get_data(as_text=True)
    assert "楼道照明整改" in page and w.users["staff"].name not in page  # no names for residents
    verdict = {"verdict": "accept", "rating": "5", "note": "很满意"}
    assert resident.post(f"{here}/verify", data=verdict).status_code == 303
    db.session.refresh(project), db.session.refresh(one)
    assert (project.stage, one.status, one.rating) == ("verified", "closed", 5)
    assert project.steps[-1].rating == 5
    # Verified: closed to further moves.
    assert resident.post(f"{here}/verify", data=verdict).status_code == 422
    again = staff.post(f"{here}/notes", data={"note": "补充", "key": "rectify-note-key-000000002"})
    assert again.status_code == 422


def test_an_inspector_sends_it_back_and_its_problems_open_again(world):
    w = world
    one = _complaint(w)
    project = _project(w, one)
    committee, admin = w.users["committee"], w.users["admin"]
    service.complete(project, w.users["staff"], "已修", [], "rectify-done-key-000000009")
    db.session.commit()
    # The compound's committee sees the project but is no inspector of it.
    assert access.project_view(project, access.load_principal(committee)) == "seen"
    with pytest.raises(RuleError, match="反映人或检查人"):
        service.verify(project, committee, True, "", p=access.load_principal(committee))
    db.session.rollback()
    with pytest.raises(RuleError, match="还有什么问题"):
        service.verify(project, admin, False, "", p=access.load_principal(admin))
    db.session.rollback()
    with pytest.raises(RuleError, match="反映人"):
        service.verify(project, admin, True, "", rating=4, p=access.load_principal(admin))
    db.session.rollback()
    service.verify(project, admin, False, "灯仍不亮", p=access.load_principal(admin))
    db.session.commit()
    db.session.refresh(one)
    assert (project.stage, one.status, one.fixed_at) == ("in_progress", "replied", None)
    kinds = [
        s.kind
        for s in db.session.scalars(select(ProblemStep).where(ProblemStep.problem_id == one.id))
    ]
    assert kinds[-2:] == ["fixed", "reopened"]
    step = db.session.scalars(select(RectifyStep).order_by(RectifyStep.id.desc())).first()
    step.note = "改写"
    with pytest.raises(RectifyChangeRefused):
        db.session.flush()
    db.session.rollback()


def test_dispute_parties_are_roles_beyond_staff_and_the_agreement_comes_first(world, login_as):
    w = world
    one = _complaint(w, "楼上漏水纠纷")
    project = _project(w, one, kind="dispute")
    here = f"/rectify/projects/{project.id}"
    staff = login_as(w.users["staff"])
    early = staff.post(
        f"{here}/complete", data={"evidence": "调解", "key": "rectify-done-key-000000003"}
    )
    assert early.status_code == 422 and "先记录双方达成的协议" in early.get_data(as_text=True)
    for role, name in (("3-2-301 住户", "钱多多"), ("楼上住户", "")):
        assert staff.post(f"{here}/parties", data={"role": role, "name": name}).status_code == 303
    agreement = {
        "text": "楼上住户负责修复防水，钱多多同意",
        "key": "rectify-agree-key-0000001",
        "photo": _jpeg(),
    }
    assert (
        staff.post(
            f"{here}/agreement", data=agreement, content_type="multipart/form-data"
        ).status_code
        == 303
    )
    assert "钱多多" in staff.get(here).get_data(as_text=True)
    for role in ("resident", "committee"):
        page = login_as(w.users[role]).get(here).get_data(as_text=True)
        assert "3-2-301 住户" in page and "楼上住户" in page
        assert "钱多多" not in page  # neither the party's name nor the agreement's words
    photo = service.photos_of(project)[service.agreement_of(project).id][0]
    assert login_as(w.users["resident"]).get(f"/rectify/photos/{photo.id}").status_code == 404
    assert staff.get(f"/rectify/photos/{photo.id}").status_code == 200


def test_volunteer_hours_add_up(world, login_as):
    w = world
    project = _project(w, _complaint(w, "独居老人探访"), kind="volunteer")
    here = f"/rectify/projects/{project.id}"
    staff = login_as(w.users["staff"])
    for name in ("张桂兰", "李志强"):
        assert staff.post(f"{here}/volunteers", data={"name": name}).status_code == 303
    assert staff.post(f"{here}/volunteers", data={"name": "张桂兰"}).status_code == 422
    lines = {line.volunteer.name: line.volunteer.id for line in service.volunteer_lines(project)}
    sent = [("张桂兰", 2, 30), ("张桂兰", 1, 0), ("李志强", 0, 45)]
    for n, (name, hours, minutes) in enumerate(sent):
        data = {
            "volunteer": str(lines[name]),
            "on": days_ago(n).isoformat(),
            "hours": str(hours),
            "minutes": str(minutes),
            "key": f"rectify-hours-key-00000{n:04d}",
        }
        assert staff.post(f"{here}/hours", data=data).status_code == 303
    assert staff.post(f"{here}/hours", data=data).status_code == 303  # sent twice: once
    bad = {**data, "hours": "0", "minutes": "0", "key": "rectify-hours-key-000009999"}
    assert staff.post(f"{here}/hours", data=bad).status_code == 422
    future = {**data, "on": days_ago(-1).isoformat(), "key": "rectify-hours-key-000009998"}
    assert staff.post(f"{here}/hours", data=future).status_code == 422
    totals = {line.volunteer.name: line.minutes for line in service.volunteer_lines(project)}
    assert totals == {"张桂兰": 210, "李志强": 45} and _count(VolunteerSession) == 3
    page = staff.get(here).get_data(as_text=True)
    assert "4.2" in page  # 255 minutes
    resident_page = login_as(w.users["resident"]).get(here).get_data(as_text=True)
    assert "2 位志愿者" in resident_page and "张桂兰" not in resident_page


def test_lists_by_compound_community_and_subdistrict(world, login_as):
    w = world
    project = _project(w, _complaint(w))
    other = _project(w, problem(w.trust, "化粪池满", entered_by=w.users["staff"]), kind="contact")
    cases = [
        ("staff", f"/rectify/communities/{w.community.id}", 200, True),
        ("committee", f"/rectify/compounds/{w.branch.id}", 200, True),
        ("resident", f"/rectify/compounds/{w.branch.id}", 200, True),  # their own complaint's
        ("rep", f"/rectify/compounds/{w.branch.id}", 200, False),
        ("other_staff", f"/rectify/communities/{w.community.id}", 404, False),
        ("committee", f"/rectify/communities/{w.community.id}", 404, False),
        ("staff", f"/rectify/subdistricts/{w.subdistrict.id}", 404, False),
        ("admin", f"/rectify/subdistricts/{w.subdistrict.id}?kind=contact", 200, False),
    ]
    for role, url, status, listed in cases:
        response = login_as(w.users[role]).get(url)
        assert response.status_code == status, (role, url)
        assert (project.title in response.get_data(as_text=True)) is listed, (role, url)
    assert other.title in login_as(w.users["admin"]).get(
        f"/rectify/subdistricts/{w.subdistrict.id}?kind=contact"
    ).get_data(as_text=True)


@pytest.mark.parametrize("role", ["other_staff", "outsider", "tenant", "rep", "area_committee"])
def test_a_project_is_out_of_sight_beyond_its_people(world, login_as, role):
    w = world
    project = _project(w, _complaint(w))
    client = login_as(w.users[role])
    assert client.get(f"/rectify/projects/{project.id}").status_code == 404
    assert (
        client.post(f"/rectify/projects/{project.id}/notes", data={"note": "x"}).status_code == 404
    )


def test_the_owner_runs_their_project_the_committee_only_reads(world, login_as):
    w = world
    one = _complaint(w)
    chair = w.users["committee"]
    staff = w.users["staff"]
    project = service.create_project(
        [one],
        service.Draft("convenience", "compound", "便民", days_ago(-3), owner=chair),
        staff,
        "rectify-owner-key-0000000001",
        access.load_principal(staff),
    )
    db.session.commit()
    assert (
        login_as(chair)
        .post(
            f"/rectify/projects/{project.id}/notes",
            data={"note": "已办", "key": "rectify-owner-note-00001"},
        )
        .status_code
        == 303
    )
    assert project.owner_id == chair.id
    assert clock.today() <= project.due_on


def test_staff_tick_problems_on_the_register_and_the_pages_link_each_other(world, login_as):
    w = world
    one, two = _complaint(w), _complaint(w, "垃圾桶破损")
    staff = login_as(w.users["staff"])
    listed = staff.get(f"/problems/communities/{w.community.id}").get_data(as_text=True)
    assert f'name="problem" value="{one.id}"' in listed and "勾选的问题" in listed
    # The ticked problems arrive chosen on the new project's form.
    url = f"/rectify/communities/{w.community.id}/new?problem={one.id}&problem={two.id}"
    form = staff.get(url).get_data(as_text=True)
    for chosen in (one, two):
        assert f'name="problems" type="checkbox" value="{chosen.id}"' in form
    assert form.count("<input checked") == 2
    assert staff.post(f"/rectify/communities/{w.community.id}/projects", data=_form([one, two]))
    project = db.session.scalars(select(RectifyProject)).one()
    # The problem's page shows its project; the project's page links its problems.
    page = staff.get(f"/problems/{one.id}").get_data(as_text=True)
    assert f"/rectify/projects/{project.id}" in page
    assert f"/problems/{one.id}" in staff.get(f"/rectify/projects/{project.id}").get_data(
        as_text=True
    )
    # The committee and the reporter see the project named, without the staff's buttons.
    for role in ("committee", "resident"):
        client = login_as(w.users[role])
        page = client.get(f"/problems/{one.id}").get_data(as_text=True)
        assert "楼道照明整改" in page and "/rectify/communities/" not in page, role
        listed = client.get(f"/problems/compounds/{w.branch.id}").get_data(as_text=True)
        assert 'name="problem"' not in listed, role

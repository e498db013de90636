"""The transition path, step by step: from the property committee (物管会) through the
preparation group and the first owners' assembly to an elected owners' committee or a chosen
property company, its filing with the subdistrict; each step in order and out of order,
each role allowed or refused, and the staff's list of where the pilots stand."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from compound_app import clock
from compound_app.audit import AuditLog
from compound_app.errors import RuleError
from compound_app.extensions import db
from compound_app.registry.models import Pilot
from compound_app.transition import service
from compound_app.transition.models import Transition, TransitionPerson, TransitionStep
from compound_app.votes import procedure
from compound_app.votes import service as votes
from tests.factories import (
    CREDIT_CODE,
    ELECTED,
    PREPARATION,
    World,
    close_counted,
    days_ago,
    open_announced,
    passed_vote,
    transition_objects,
)


def _count(model: Any) -> int:
    return db.session.scalar(select(func.count()).select_from(model)) or 0


def _rows(people: list[tuple[str, str]]) -> dict[str, str]:
    data: dict[str, str] = {}
    for n, (name, role) in enumerate(people, start=1):
        data[f"person_{n}"], data[f"role_{n}"] = name, role
    return data


def _here(w: World) -> str:
    return f"/transition/areas/{w.branch.area_id}"


def _start(client: Any, w: World, target: str = "owners_committee") -> Any:
    return client.post(
        f"{_here(w)}/start", data={"target": target, "started_on": days_ago(30).isoformat()}
    )


def _prepare(client: Any, w: World, people: list[tuple[str, str]] = PREPARATION) -> Any:
    data = {**_rows(people), "happened_on": days_ago(20).isoformat()}
    return client.post(f"{_here(w)}/preparation", data=data)


def _assembly(client: Any, w: World, vote_id: int, day: Any = None) -> Any:
    data = {"vote": str(vote_id), "happened_on": (day or days_ago(10)).isoformat()}
    return client.post(f"{_here(w)}/assembly", data=data)


def _elect(client: Any, w: World, people: list[tuple[str, str]] = ELECTED) -> Any:
    data = {**_rows(people), "happened_on": clock.today().isoformat()}
    return client.post(f"{_here(w)}/elected", data=data)


def _file(client: Any, w: World) -> Any:
    data = {"filing_no": "朝备字〔2026〕第12号", "happened_on": clock.today().isoformat()}
    return client.post(f"{_here(w)}/filing", data=data)


def _written() -> tuple[int, int, int, int]:
    return _count(Transition), _count(TransitionStep), _count(TransitionPerson), _count(AuditLog)


def test_the_committee_path_step_by_step(world, login_as):
    w = world
    chair, staff = login_as(w.users["committee"]), login_as(w.users["staff"])
    assert "尚未启动" in chair.get(_here(w)).get_data(as_text=True)
    assert _start(chair, w).status_code == 303
    transition = db.session.scalars(select(Transition)).one()
    assert (transition.stage, transition.started_on) == ("started", days_ago(30))
    # Started once.
    again = _start(chair, w)
    assert again.status_code == 422 and "已经启动" in again.get_data(as_text=True)

    # The preparation group: its chair from the subdistrict, owners at least half.
    before = _written()
    no_chair = _prepare(chair, w, [PREPARATION[2], PREPARATION[0], *PREPARATION[3:]])
    assert no_chair.status_code == 422 and "街道" in no_chair.get_data(as_text=True)
    few_owners = _prepare(chair, w, [*PREPARATION[:2], ("刘民警", "police"), PREPARATION[2]])
    assert few_owners.status_code == 422 and "一半" in few_owners.get_data(as_text=True)
    twice = _prepare(chair, w, [*PREPARATION, PREPARATION[2]])
    assert twice.status_code == 422 and "张业主" in twice.get_data(as_text=True)
    assert _written() == before
    assert _prepare(chair, w).status_code == 303
    db.session.expire_all()
    assert transition.stage == "prepared"
    assert [p.name for p in service.people(service.latest(transition, "prepared"))] == [
        name for name, _role in PREPARATION
    ]

    # The first assembly: a vote of the area on electing the committee (a draft will do).
    manager = votes.create_vote(
        votes.resolve_scope("area", w.branch.area_id),
        "manager",
        "选聘物业",
        "是否",
        days_ago(-9),
        w.users["committee"],
    )
    vote = votes.create_vote(
        votes.resolve_scope("area", w.branch.area_id),
        "committee",
        "选举业委会",
        "首次业主大会",
        days_ago(-9),
        w.users["committee"],
    )
    db.session.commit()
    wrong = _assembly(chair, w, manager.id)
    assert wrong.status_code == 422  # not on the list of the target's matter
    assert _assembly(chair, w, vote.id, days_ago(25)).status_code == 422  # before the group
    assert _assembly(chair, w, vote.id).status_code == 303

    # Not elected until the vote is closed and passed.
    early = _elect(chair, w)
    assert early.status_code == 422 and "选举业委会" in early.get_data(as_text=True)
    open_announced(vote, w.users["committee"])
    close_counted(vote, w.users["committee"])  # nobody voted: it did not pass
    db.session.commit()
    failed = _elect(chair, w)
    assert failed.status_code == 422 and "未通过" in failed.get_data(as_text=True)
    # Another assembly after the failed one; the failed vote is not chosen again.
    assert _assembly(chair, w, vote.id).status_code == 422
    second = passed_vote(w.branch.area, "committee", w.users["committee"], "再次选举业委会")
    db.session.commit()
    assert _assembly(chair, w, second.id, clock.today()).status_code == 303
    # The committee: odd, 5 to 11, one chair.
    before = _written()
    assert _elect(chair, w, ELECTED[:4]).status_code == 422
    assert _elect(chair, w, [*ELECTED[:4], ("陈大海", "chair")]).status_code == 422
    assert _written() == before
    assert _elect(chair, w).status_code == 303

    # The filing is the staff's.
    assert _file(chair, w).status_code == 403
    assert _file(staff, w).status_code == 303
    db.session.expire_all()
    assert transition.stage == "filed"
    assert [s.kind for s in transition.steps] == [
        "prepared",
        "assembly",
        "assembly",
        "elected",
        "filed",
    ]
    page = chair.get(_here(w)).get_data(as_text=True)
    assert "周建国" in page and "朝备字〔2026〕第12号" in page and "再次选举业委会" in page
    actions = set(db.session.scalars(select(AuditLog.action)))
    assert {"start_transition", "transition_prepared", "transition_elected"} <= actions


@pytest.mark.parametrize(
    ("step", "stage_needed"),
    [
        ("preparation", "started"),
        ("assembly", "prepared"),
        ("elected", "assembly"),
        ("filing", "elected"),
    ],
)
def test_each_step_out_of_order_is_refused_and_writes_nothing(world, login_as, step, stage_needed):
    w = world
    staff = login_as(w.users["staff"])
    # Before the start: nothing to record a step on.
    posted = {
        "preparation": lambda: _prepare(staff, w),
        "assembly": lambda: _assembly(staff, w, vote.id),
        "elected": lambda: _elect(staff, w),
        "filing": lambda: _file(staff, w),
    }
    vote = passed_vote(w.branch.area, "committee", w.users["staff"])
    db.session.commit()
    before = _written()
    response = posted[step]()
    assert response.status_code == 303 and _written() == before
    assert "请先启动" in staff.get(_here(w)).get_data(as_text=True)
    # Started, but a step further on than the next one.
    _start(staff, w)
    if step != "preparation":
        before = _written()
        response = posted[step]()
        assert response.status_code == 422 and _written() == before
        assert "顺序不对" in response.get_data(as_text=True)
    # Once the path is where the step comes next, it is recorded once; again is refused.
    transition = db.session.scalars(select(Transition)).one()
    sequence = [
        lambda: _prepare(staff, w),
        lambda: _assembly(staff, w, vote.id),
        lambda: _elect(staff, w),
    ]
    for send in sequence:
        db.session.expire_all()
        if transition.stage == stage_needed:
            break
        assert send().status_code == 303
    response = posted[step]()
    assert response.status_code == 303
    before = _written()
    again = posted[step]()
    assert again.status_code == 422 and _written() == before
    assert "已经记录" in again.get_data(as_text=True)


def test_days_are_neither_in_the_future_nor_before_the_step_they_follow(world, login_as):
    w = world
    chair = login_as(w.users["committee"])
    future = chair.post(
        f"{_here(w)}/start",
        data={"target": "owners_committee", "started_on": days_ago(-1).isoformat()},
    )
    assert future.status_code == 422 and _count(Transition) == 0
    _start(chair, w)
    data = {**_rows(PREPARATION), "happened_on": days_ago(31).isoformat()}
    early = chair.post(f"{_here(w)}/preparation", data=data)
    assert early.status_code == 422 and _count(TransitionStep) == 0
    data["happened_on"] = days_ago(-2).isoformat()
    assert chair.post(f"{_here(w)}/preparation", data=data).status_code == 422


def test_who_sees_and_who_acts(world, login_as):
    w = world
    transition_objects(w.branch, w.users["staff"], "elected")
    here = _here(w)
    # Residents of the area see the path read-only: the elected names, not the group's.
    for role in ("resident", "rep"):
        client = login_as(w.users[role])
        page = client.get(here)
        text = page.get_data(as_text=True)
        assert page.status_code == 200, role
        assert (
            "周建国" in text
            and "王主任" not in text
            and '<form method="post" action="/transition' not in text
        )
        assert _file(client, w).status_code == 403
        assert _prepare(client, w).status_code == 403
    # Out of the area: 404, whatever the step.
    for role in ("tenant", "outsider", "other_staff", "area_committee"):
        client = login_as(w.users[role])
        assert client.get(here).status_code == 404, role
        assert _file(client, w).status_code == 404, role
        assert _start(client, w).status_code == 404, role
    # The committee runs the owners' side and sees the group; staff file.
    chair = login_as(w.users["committee"])
    text = chair.get(here).get_data(as_text=True)
    assert "王主任" in text and "/filing" not in text
    assert _file(chair, w).status_code == 403
    staff = login_as(w.users["staff"])
    assert "/filing" in staff.get(here).get_data(as_text=True)
    assert _file(staff, w).status_code == 303
    admin = login_as(w.users["admin"])
    assert admin.get(here).status_code == 200


def test_the_property_company_path_and_its_credit_code(world, login_as):
    w = world
    chair = login_as(w.users["committee"])
    _start(chair, w, "property_company")
    _prepare(chair, w)
    committee_vote = passed_vote(w.branch.area, "committee", w.users["committee"])
    vote = passed_vote(w.branch.area, "manager", w.users["committee"], "选聘物业服务企业")
    db.session.commit()
    assert _assembly(chair, w, committee_vote.id).status_code == 422  # the wrong matter
    assert _assembly(chair, w, vote.id).status_code == 303
    # Members are not what this path records.
    assert _elect(chair, w).status_code == 422
    good = {
        "company_name": "北京安居物业服务有限公司",
        "credit_code": CREDIT_CODE,
        "contract_from": days_ago(-1).isoformat(),
        "contract_to": days_ago(-366).isoformat(),
        "happened_on": clock.today().isoformat(),
    }
    here = f"{_here(w)}/company"
    before = _written()
    for code, words in (
        ("91350100M000100Y4", "18"),  # 17 characters
        ("91350100M000100Y433", "18"),  # 19 characters: beyond the field
        ("91350100M000100I43", "I"),  # a letter the code never has
        ("91350100M000100Y44", "核对"),  # the check character does not fit
    ):
        bad = chair.post(here, data={**good, "credit_code": code})
        assert bad.status_code == 422, code
        assert words in bad.get_data(as_text=True), code
    backwards = chair.post(here, data={**good, "contract_to": days_ago(30).isoformat()})
    assert backwards.status_code == 422
    assert _written() == before
    # Lower case and full-width characters read as the code.
    typed = "９１３５０１００ｍ０００１００ｙ４３"
    assert chair.post(here, data={**good, "credit_code": typed}).status_code == 303
    transition = db.session.scalars(select(Transition)).one()
    step = service.latest(transition, "elected")
    assert step is not None and step.credit_code == CREDIT_CODE
    assert service.new_body(transition) == "北京安居物业服务有限公司"
    resident = login_as(w.users["resident"]).get(_here(w)).get_data(as_text=True)
    assert "北京安居物业服务有限公司" in resident


def test_the_credit_code_check() -> None:
    assert service.credit_code_problem(CREDIT_CODE) is None
    assert service.credit_code_problem("91110000100000000R") is None
    assert service.credit_code_problem("91110000100000000S")  # S is never used
    assert service.credit_code_problem("9111000010000000R")  # 17


def test_the_company_is_recorded_only_on_its_path(world):
    w = world
    ids = transition_objects(w.branch, w.users["staff"], "assembly")
    transition = db.session.get(Transition, ids["transition_id"])
    with pytest.raises(RuleError):
        service.record_company(
            transition,
            clock.today(),
            "公司",
            CREDIT_CODE,
            days_ago(0),
            days_ago(-30),
            w.users["staff"],
        )


def test_staff_see_where_each_pilot_stands(world, login_as):
    w = world
    for c in (w.branch, w.trust, w.elsewhere):
        db.session.add(
            Pilot(
                compound_id=c.id,
                selected_on=days_ago(100),
                stage="organised",
                stage_since=days_ago(40),
                model="contiguous",
            )
        )
    db.session.commit()
    transition_objects(w.branch, w.users["staff"], "filed")
    staff = login_as(w.users["staff"])
    page = staff.get("/transition/").get_data(as_text=True)
    assert "新国土小区" in page and "城建小区" in page and "供电家属院" not in page
    assert "已备案" in page and "未启动" in page
    filed = staff.get("/transition/?stage=filed").get_data(as_text=True)
    assert "新国土小区" in filed and "城建小区" not in filed
    none = staff.get(
        "/transition/?stage=none", headers={"HX-Request": "true", "HX-Target": "pilot-table"}
    )
    assert "城建小区" in none.get_data(as_text=True) and "新国土小区" not in none.get_data(
        as_text=True
    )
    assert staff.get("/transition/?stage=<b>&page=x").status_code == 200
    admin = login_as(w.users["admin"]).get("/transition/").get_data(as_text=True)
    assert "供电家属院" in admin
    for role in ("committee", "resident", "outsider"):
        assert login_as(w.users[role]).get("/transition/").status_code == 404


def test_the_first_assembly_is_a_vote_of_every_owner_announced_after_the_group(world):
    w = world
    staff = w.users["staff"]
    ids = transition_objects(w.branch, staff, "prepared")
    transition = db.session.get(Transition, ids["transition_id"])
    unit = w.branch.buildings[0].units[0]
    part = votes.create_vote(
        votes.resolve_scope("unit", unit.id),
        "committee",
        "一个单元",
        "首次业主大会",
        days_ago(-20),
        staff,
    )
    with pytest.raises(RuleError, match="全体业主"):
        service.hold_assembly(transition, part, clock.today(), staff)
    db.session.rollback()
    early = votes.create_vote(
        votes.resolve_scope("area", w.branch.area_id),
        "committee",
        "早了",
        "首次业主大会",
        days_ago(-20),
        staff,
    )
    with clock.held_at(clock.now() - timedelta(days=400)):  # long before the group
        procedure.announce(
            early, clock.today() + timedelta(days=15), clock.today() + timedelta(20), staff
        )
    with pytest.raises(RuleError, match="筹备组成立之前"):
        service.hold_assembly(transition, early, clock.today(), staff)

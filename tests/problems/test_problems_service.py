"""The problem register through its services: filing by every source, levels and owners,
deadlines, replies, fixes, checks, ratings, escalation against the clock, sending back,
the link to repairs, rate limits, grids, and the timeline that is never rewritten."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask_babel import force_locale
from sqlalchemy import func, select, text
from sqlalchemy.exc import DatabaseError

from compound_app import access, clock
from compound_app.errors import RuleError
from compound_app.extensions import db
from compound_app.problems import service
from compound_app.problems.models import (
    Grid,
    GridBuilding,
    Level,
    Problem,
    ProblemChangeRefused,
    ProblemKind,
    ProblemStep,
    Status,
    StepKind,
)
from compound_app.repairs.models import RepairTask
from tests.factories import World, first_household, first_unit, user


@pytest.fixture(autouse=True)
def _request(app):  # type: ignore[no-untyped-def]
    """The services run as if inside a request; their refusals are read in English here."""
    with app.test_request_context(), force_locale("en"):
        yield


def p_of(u):  # type: ignore[no-untyped-def]
    return access.load_principal(u)


def complaint(world: World, **changes):  # type: ignore[no-untyped-def]
    resident = world.users["resident"]
    home = first_household(world.branch)
    filing = service.Filing(
        kind="default:safety",
        title="楼道灯坏了",
        detail="二单元三楼楼道灯不亮",
        source="complaint",
        household_id=home.id,
        unit_id=home.unit_id,
    )
    for key, value in changes.items():
        setattr(filing, key, value)
    problem = service.file_problem(
        world.community, world.branch, filing, resident, p=p_of(resident)
    )
    db.session.commit()
    return problem


def count(model) -> int:  # type: ignore[no-untyped-def]
    return db.session.scalar(select(func.count()).select_from(model)) or 0


def refused(match: str, action) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(RuleError, match=match):
        action()
    db.session.rollback()


# --- filing -----------------------------------------------------------------------------------


def test_a_residents_complaint_is_the_committees_with_the_levels_deadlines(world):
    problem = complaint(world)
    assert problem.level == Level.COMMITTEE and problem.status == Status.OPEN
    assert problem.reply_due_at - problem.created_at == timedelta(hours=24)
    assert problem.fix_due_at - problem.created_at == timedelta(days=3)
    assert problem.reporter_id == world.users["resident"].id
    # The six default kinds were made for the subdistrict by the first problem.
    assert count(ProblemKind) == 6
    assert [s.kind for s in problem.steps] == [StepKind.FILED]


def test_the_same_form_sent_twice_files_one_problem(world):
    first = complaint(world, request_key="problem-key-000000000001")
    again = complaint(world, request_key="problem-key-000000000001")
    assert first.id == again.id and count(Problem) == 1


def test_a_resident_cannot_file_for_a_neighbours_home_or_another_compound(world):
    resident = world.users["resident"]
    neighbour = first_unit(world.branch).households[1]
    refused(
        "For a neighbour",
        lambda: service.file_problem(
            world.community,
            world.branch,
            service.Filing(kind="default:safety", title="x", household_id=neighbour.id),
            resident,
            p=p_of(resident),
        ),
    )
    refused(
        "cannot put problems",
        lambda: service.file_problem(
            world.community,
            world.trust,
            service.Filing(kind="default:safety", title="x"),
            resident,
            p=p_of(resident),
        ),
    )
    assert count(Problem) == 0


def test_a_representative_enters_one_for_a_neighbour_with_their_name(world):
    rep = world.users["rep"]
    neighbour = first_unit(world.branch).households[1]
    filing = service.Filing(
        kind="default:neighbours", title="楼上漏水", source="assisted", household_id=neighbour.id
    )
    refused(
        "resident's name",
        lambda: service.file_problem(world.community, world.branch, filing, rep, p=p_of(rep)),
    )
    filing.contact_name = "张秀英"
    problem = service.file_problem(world.community, world.branch, filing, rep, p=p_of(rep))
    assert problem.entered_by_id == rep.id and problem.reporter_id is None
    assert problem.household_id == neighbour.id and problem.contact_name == "张秀英"


def test_only_staff_enter_hotline_tickets_and_a_ticket_once(world):
    chair, staff = world.users["committee"], world.users["staff"]
    filing = service.Filing(kind="default:safety", title="噪音", source="hotline", hotline_no="T1")
    refused(
        "Only community and subdistrict staff",
        lambda: service.file_problem(world.community, world.branch, filing, chair, p=p_of(chair)),
    )
    service.file_problem(world.community, None, filing, staff, p=p_of(staff))
    db.session.commit()
    refused(
        "on the register already",
        lambda: service.file_problem(world.community, None, filing, staff, p=p_of(staff)),
    )


def test_a_residents_complaints_are_limited_per_day_and_anonymous_ones_per_compound(
    world, held_clock
):
    held_clock.now = clock.now()
    for n in range(service.PER_ACCOUNT_PER_DAY):
        complaint(world, title=f"第{n}条")
    refused("today", lambda: complaint(world, title="再来一条"))
    assert count(Problem) == service.PER_ACCOUNT_PER_DAY
    held_clock.now += timedelta(days=1, minutes=1)
    complaint(world, title="第二天")
    # Anonymous ones: a cap per compound per hour, whoever sends them.
    people = [
        user(f"居民{n}", resident=h.id) for n, h in enumerate(first_unit(world.branch).households)
    ]
    people += [user(f"居民{n}b", resident=first_household(world.branch).id) for n in range(8)]
    sent = 0
    for person in people:
        home = next(iter(p_of(person).resident_households))
        try:
            service.file_problem(
                world.community,
                world.branch,
                service.Filing(
                    kind="default:safety", title="匿名", household_id=home, anonymous=True
                ),
                person,
                p=p_of(person),
            )
            db.session.commit()
            sent += 1
        except RuleError as err:
            db.session.rollback()
            assert err.field == "anonymous"
            break
    assert sent == service.ANONYMOUS_PER_COMPOUND_PER_HOUR


# --- levels, owners, deadlines -----------------------------------------------------------------


def test_the_committee_hands_it_to_the_community_and_no_further(world):
    problem = complaint(world)
    chair = world.users["committee"]
    refused(
        "to the community only",
        lambda: service.set_level(problem, service.Assignment("subdistrict"), chair, p=p_of(chair)),
    )
    service.set_level(problem, service.Assignment("community"), chair, p=p_of(chair))
    db.session.commit()
    assert problem.level == Level.COMMUNITY
    assert problem.reply_due_at - clock.now() > timedelta(hours=47)
    # Now the community's: the committee no longer handles it, but still sees it.
    assert not access.handles_problem(problem, p_of(chair))
    assert access.problem_view(problem, p_of(chair)) is not None


def test_an_owner_outside_the_problems_scope_is_refused(world):
    problem = complaint(world)
    staff, other = world.users["staff"], world.users["other_staff"]
    before = problem.version
    refused(
        "does not serve",
        lambda: service.set_level(
            problem, service.Assignment("community", owner_id=other.id), staff, p=p_of(staff)
        ),
    )
    refused(
        "does not serve",
        lambda: service.set_level(
            problem,
            service.Assignment("committee", owner_id=world.users["area_committee"].id),
            staff,
            p=p_of(staff),
        ),
    )
    db.session.refresh(problem)
    assert problem.version == before and problem.owner_id is None
    service.set_level(
        problem, service.Assignment("community", owner_id=staff.id), staff, p=p_of(staff)
    )
    assert problem.owner_id == staff.id


def test_a_deadline_in_the_past_is_refused(world):
    problem = complaint(world)
    staff = world.users["staff"]
    yesterday = clock.now() - timedelta(days=1)
    refused(
        "in the past",
        lambda: service.set_level(
            problem, service.Assignment("community", fix_due_at=yesterday), staff, p=p_of(staff)
        ),
    )
    later = clock.now() + timedelta(days=30)
    service.set_level(
        problem, service.Assignment("community", fix_due_at=later), staff, p=p_of(staff)
    )
    assert problem.fix_due_at == later


def test_a_cadre_level_names_the_cadre(world):
    problem = complaint(world)
    admin = world.users["admin"]
    refused(
        "Name the department",
        lambda: service.set_level(problem, service.Assignment("cadre"), admin, p=p_of(admin)),
    )
    service.set_level(
        problem, service.Assignment("cadre", owner_name="城管科 张科长"), admin, p=p_of(admin)
    )
    assert problem.level == Level.CADRE and problem.owner_name == "城管科 张科长"


# --- declining ---------------------------------------------------------------------------------


def test_declined_it_goes_back_to_where_it_came_from(world):
    problem = complaint(world)
    chair, staff = world.users["committee"], world.users["staff"]
    refused("no level below", lambda: service.decline(problem, "不归我们管", chair, p=p_of(chair)))
    service.set_level(problem, service.Assignment("community"), chair, p=p_of(chair))
    service.set_level(
        problem, service.Assignment("community", owner_id=staff.id), staff, p=p_of(staff)
    )
    db.session.commit()
    refused("reason", lambda: service.decline(problem, "", staff, p=p_of(staff)))
    service.decline(problem, "属于小区内部事务", staff, p=p_of(staff))
    db.session.commit()
    assert problem.level == Level.COMMITTEE and problem.owner_id is None
    assert problem.steps[-1].kind == StepKind.DECLINED
    assert problem.steps[-1].note == "属于小区内部事务"


# --- reply, fix, check, rate -------------------------------------------------------------------


def test_reply_fix_and_the_reporters_check_and_rating(world):
    problem = complaint(world)
    chair, resident = world.users["committee"], world.users["resident"]
    refused("not yours", lambda: service.reply(problem, "好的", resident, p=p_of(resident)))
    service.reply(problem, "已联系电工", chair, p=p_of(chair))
    assert problem.status == Status.REPLIED and problem.replied_at is not None
    service.mark_fixed(problem, "换了灯泡", chair, p=p_of(chair))
    db.session.commit()
    # Verifying your own fix is refused; the reporter checks it.
    refused("someone else checks", lambda: service.verify(problem, chair, p=p_of(chair)))
    refused(
        "rated once it is closed", lambda: service.rate(problem, 5, "", resident, p=p_of(resident))
    )
    service.verify(problem, resident, p=p_of(resident))
    db.session.commit()
    assert problem.status == Status.CLOSED and problem.closed_at is not None
    refused("Only the reporter", lambda: service.rate(problem, 5, "", chair, p=p_of(chair)))
    service.rate(problem, 4, "很快", resident, p=p_of(resident))
    db.session.commit()
    refused("rated already", lambda: service.rate(problem, 5, "", resident, p=p_of(resident)))
    assert [s.kind for s in problem.steps] == [
        StepKind.FILED,
        StepKind.REPLIED,
        StepKind.FIXED,
        StepKind.VERIFIED,
        StepKind.RATED,
    ]


def test_staff_check_a_fix_as_inspectors_and_the_reporter_reopens(world):
    problem = complaint(world)
    chair, staff, resident = world.users["committee"], world.users["staff"], world.users["resident"]
    service.mark_fixed(problem, "", chair, p=p_of(chair))
    db.session.commit()
    rep = world.users["rep"]
    refused("The reporter or community staff", lambda: service.verify(problem, rep, p=p_of(rep)))
    service.verify(problem, staff, p=p_of(staff))
    db.session.commit()
    refused("reason", lambda: service.reopen(problem, "", resident, p=p_of(resident)))
    service.reopen(problem, "灯又坏了", resident, p=p_of(resident))
    assert problem.status == Status.OPEN and problem.fixed_by_id is None
    assert problem.reply_due_at > clock.now()


# --- escalation against the clock ---------------------------------------------------------------


def test_an_overdue_problem_goes_up_one_level_at_a_time_to_the_top(world, held_clock):
    held_clock.now = clock.now()
    problem = complaint(world)
    chair, staff = world.users["committee"], world.users["staff"]
    assert service.escalate_overdue() == 0
    held_clock.now += timedelta(hours=25)  # the committee's 24 hours to reply have passed
    assert service.escalate_overdue() == 1
    db.session.commit()
    assert problem.level == Level.COMMUNITY and problem.escalations == 1
    step = problem.steps[-1]
    assert step.kind == StepKind.ESCALATED and step.by_id is None
    assert (step.from_level, step.to_level) == (Level.COMMITTEE, Level.COMMUNITY)
    # Both levels see it: the committee still has it in its list.
    assert access.problem_view(problem, p_of(chair)) is not None
    assert access.handles_problem(problem, p_of(staff))
    assert service.escalate_overdue() == 0  # fresh deadlines at the new level
    held_clock.now += timedelta(hours=49)
    assert service.escalate_overdue() == 1
    assert problem.level == Level.SUBDISTRICT
    held_clock.now += timedelta(days=30)
    assert service.escalate_overdue() == 0  # the top: it stays, overdue
    assert service.is_overdue(problem)
    refused("the top level", lambda: service.escalate(problem, staff, p=p_of(staff)))
    refused(
        "escalate by hand",
        lambda: service.escalate(complaint(world), chair, p=p_of(chair)),
    )


def test_a_replied_problem_escalates_once_its_fix_is_overdue(world, held_clock):
    held_clock.now = clock.now()
    problem = complaint(world)
    service.reply(problem, "安排中", world.users["committee"], p=p_of(world.users["committee"]))
    db.session.commit()
    held_clock.now += timedelta(days=2)
    assert service.escalate_overdue() == 0  # replied in time; the fix has 3 days
    held_clock.now += timedelta(days=1, hours=1)
    assert service.escalate_overdue() == 1


# --- the repair link ----------------------------------------------------------------------------


def test_a_problem_becomes_a_repair_task_and_nothing_is_typed_twice(world):
    problem = complaint(world)
    chair = world.users["committee"]
    task = service.to_repair(problem, "electrical", chair, p=p_of(chair))
    db.session.commit()
    assert problem.repair_task_id == task.id
    assert task.description == "楼道灯坏了：二单元三楼楼道灯不亮"
    assert (task.unit_id, task.household_id) == (problem.unit_id, problem.household_id)
    assert task.resident_name == world.users["resident"].name
    assert service.problem_of_task(task.id) == problem
    refused(
        "a repair task already", lambda: service.to_repair(problem, "other", chair, p=p_of(chair))
    )
    assert count(RepairTask) == 1


def test_an_anonymous_problem_hands_no_home_to_its_repair(world):
    problem = complaint(world, anonymous=True)
    chair = world.users["committee"]
    task = service.to_repair(problem, "electrical", chair, p=p_of(chair))
    assert task.household_id is None and task.resident_name == ""


# --- grids ----------------------------------------------------------------------------------------


def test_a_grid_worker_files_in_their_grid_only_and_sees_its_contacts(world):
    staff = world.users["staff"]
    grid = service.create_grid(world.community, "第一网格", [world.branch.id], [], staff)
    worker = user("网格员小王")
    service.grant_grid_worker(grid, worker, staff)
    db.session.commit()
    p = p_of(worker)
    assert access.can(access.Action.VIEW_CONTACTS, first_household(world.branch), p)
    assert not access.can(access.Action.VIEW_CONTACTS, first_household(world.trust), p)
    filing = service.Filing(kind="default:sanitation", title="垃圾未清运", source="grid")
    problem = service.file_problem(world.community, world.branch, filing, worker, p=p)
    assert access.problem_view(problem, p) is not None
    assert not access.handles_problem(problem, p)
    refused(
        "cannot put problems",
        lambda: service.file_problem(world.community, world.trust, filing, worker, p=p),
    )


def test_a_grid_of_single_buildings(world):
    staff = world.users["staff"]
    building = world.branch.buildings[1]
    grid = service.create_grid(world.community, "楼栋网格", [], [building.id], staff)
    worker = user("网格员小李", grid_worker=grid.id)
    db.session.commit()
    p = p_of(worker)
    assert access.can(access.Action.VIEW_CONTACTS, building.units[0].households[0], p)
    assert not access.can(access.Action.VIEW_CONTACTS, first_household(world.branch), p)
    filing = service.Filing(
        kind="default:sanitation", title="x", source="grid", unit_id=first_unit(world.branch).id
    )
    refused(
        "cannot put problems",
        lambda: service.file_problem(world.community, world.branch, filing, worker, p=p),
    )
    filing.unit_id = building.units[0].id
    service.file_problem(world.community, world.branch, filing, worker, p=p)
    assert count(GridBuilding) == 1


def test_a_grid_covers_its_own_communitys_places_only(world):
    staff = world.users["staff"]
    refused(
        "compounds of this community",
        lambda: service.create_grid(world.community, "越界", [world.elsewhere.id], [], staff),
    )
    refused(
        "Choose the compounds", lambda: service.create_grid(world.community, "空", [], [], staff)
    )
    assert count(Grid) == 0


# --- the timeline is never rewritten -----------------------------------------------------------


def test_the_timeline_is_append_only(world):
    complaint(world)
    step = db.session.scalars(select(ProblemStep)).first()
    step.note = "改写"
    with pytest.raises(ProblemChangeRefused):
        db.session.flush()
    db.session.rollback()
    with pytest.raises(DatabaseError, match="append-only"):
        db.session.execute(text("DELETE FROM problem_step"))
    db.session.rollback()


# --- escalation without anyone opening a page --------------------------------------------------


def test_flask_problems_escalate_and_the_workers_periodic_step(world, app, held_clock):
    held_clock.now = clock.now()
    first = complaint(world, title="第一条")
    second = complaint(world, title="第二条")
    runner = app.test_cli_runner()
    result = runner.invoke(args=["problems", "escalate"])
    assert result.exit_code == 0 and "0 overdue problems escalated" in result.output
    held_clock.now += timedelta(hours=25)
    result = runner.invoke(args=["problems", "escalate"])
    assert "2 overdue problems escalated" in result.output
    db.session.expire_all()
    assert {first.level, second.level} == {Level.COMMUNITY}
    # The SMS worker runs the same step now and then; nothing is overdue any more.
    from compound_app.messages.cli import _escalate

    _escalate()
    db.session.expire_all()
    assert first.escalations == 1
    assert app.config["PROBLEM_ESCALATE_SECONDS"] > 0


def test_an_inspections_finding_carries_its_deadline_and_gets_an_owner(world):
    staff = world.users["staff"]
    later = clock.now() + timedelta(days=10)
    filing = service.Filing(
        kind="default:safety", title="消防通道堵塞", source="inspection", fix_due_at=later
    )
    problem = service.file_problem(world.community, world.branch, filing, staff, p=p_of(staff))
    db.session.commit()
    assert problem.fix_due_at == later
    filing.fix_due_at = clock.now() - timedelta(hours=1)
    refused(
        "in the past",
        lambda: service.file_problem(world.community, world.branch, filing, staff, p=p_of(staff)),
    )
    problem = db.session.get(Problem, problem.id)
    member = world.users["committee"]
    service.assign(problem, staff, owner_id=member.id, p=p_of(staff))
    assert problem.owner_id == member.id and problem.level == Level.COMMITTEE
    assert problem.fix_due_at == later  # an owner within the level keeps the deadlines

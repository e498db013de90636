"""Pilot oversight: each checklist rule on built-up histories, certification and its
override, who sees which pilots, the dashboard's figures against the records, bad input."""

from __future__ import annotations

import io
from datetime import date, datetime, time, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from compound_app import access, clock
from compound_app.auth.models import Role, RoleGrant
from compound_app.errors import RuleError
from compound_app.extensions import db
from compound_app.fees import ledger, proofs, reports, schedules
from compound_app.fees.models import Bill, Method
from compound_app.months import month_of, this_month
from compound_app.oversight import dashboard, pilots
from compound_app.oversight.checklist import checklist, settings_for
from compound_app.oversight.facts import gather, window
from compound_app.oversight.models import Certification, OversightSettings, StageChange
from compound_app.registry.models import Pilot, PilotStage, Unit
from compound_app.repairs import levels, queries, workflow
from compound_app.repairs.models import OPEN, RepairTask
from tests.factories import World, compound, fee_schedule, user


def _pilot(compound, model: str, selected_on: date) -> Pilot:  # type: ignore[no-untyped-def]
    """A pilot chosen before its compound took its model (as the demo's were)."""
    pilot = Pilot(
        compound_id=compound.id,
        selected_on=selected_on,
        stage=PilotStage.FEES_STARTED,
        stage_since=selected_on,
        model=model,
    )
    db.session.add(pilot)
    db.session.flush()
    db.session.add(StageChange(pilot_id=pilot.id, to_stage="fees_started", on=selected_on))
    db.session.commit()
    return pilot


def _checks(pilot: Pilot) -> dict[str, bool]:
    settings = settings_for(pilot.compound.community.subdistrict_id)
    facts = gather([pilot], window(settings.window_months))[0]
    return {c.code: c.passed for c in checklist(facts, settings)}


def _households(compound):  # type: ignore[no-untyped-def]
    return [h for b in compound.buildings for u in b.units for h in u.households]


def _fees(world: World, paid_months: dict[int, int] | None = None, boards: int = 3) -> None:
    """Bills from the first window month; each home pays that many months (default 3)."""
    area = world.branch.area
    fee_schedule(area, start=window(3)[0], approver=world.users["committee"])
    schedules.catch_up(area.id)
    for i, home in enumerate(_households(world.branch)):
        months = (paid_months or {}).get(i, 3)
        if months:
            ledger.record_payment(
                home,
                amount_fen=1000 * months,
                method=Method.CASH,
                paid_on=clock.today(),
                collector=world.users["committee"],
                request_key=f"oversight-test-key-{i:04d}",
            )
    for month in window(3)[:boards]:
        reports.publish_board(area, month, world.users["committee"])
    db.session.commit()


def _reps_everywhere(world: World) -> None:
    for building in world.branch.buildings:
        for unit in building.units:
            if unit.id != world.branch.buildings[0].units[0].id:
                user(f"代表{unit.id}", unit_rep=unit.id)
    db.session.commit()


@pytest.fixture(autouse=True)
def request_context(app):  # type: ignore[no-untyped-def]
    """The checklist speaks (gettext) and links (url_for) as it would on a page."""
    with app.test_request_context():
        yield


@pytest.fixture
def noon_on(held_clock):  # type: ignore[no-untyped-def]
    """``noon_on(day)`` makes the next steps happen at noon that day in Shanghai;
    ``noon_on(None)`` lets the clock run on again."""

    def set_(day: date | None) -> None:
        held_clock.now = datetime.combine(day, time(12), tzinfo=clock.LOCAL_TZ) if day else None

    return set_


def _repair(world: World, noon_on, reported: date, closed: date) -> RepairTask:  # type: ignore[no-untyped-def]
    chair = world.users["committee"]
    p = access.load_principal(chair)
    noon_on(reported)
    task = workflow.report_task(
        world.branch,
        workflow.Report(category="street_light", description="路灯不亮"),
        chair,
        p=p,
    )
    workflow.assign(
        task,
        workflow.Assignment(kind="contractor", contractor="电工李师傅"),
        chair,
        version=task.version,
        p=p,
    )
    noon_on(closed)
    for step in ("start", "done", "confirm"):
        workflow.move(task, step, chair, version=task.version, p=p)
    db.session.commit()
    noon_on(None)
    return task


def _passing(world: World, noon_on) -> Pilot:  # type: ignore[no-untyped-def]
    pilot = _pilot(world.branch, "party_branch", window(3)[0] - timedelta(days=60))
    _reps_everywhere(world)
    _fees(world)
    _repair(world, noon_on, window(3)[1] + timedelta(days=3), window(3)[1] + timedelta(days=5))
    return pilot


# --- the rules, each passing and failing ------------------------------------------------------


def test_a_pilot_with_every_record_in_place_passes_every_rule(world: World, noon_on) -> None:
    pilot = _passing(world, noon_on)
    assert _checks(pilot) == {
        "organisation": True,
        "representatives": True,
        "schedule": True,
        "owners_decided": True,
        "collection": True,
        "boards": True,
        "repairs": True,
    }
    assert queries.check_months() == []
    assert proofs.check_totals() == []


def test_organisation_fails_without_members_and_passes_with_a_committee(world: World) -> None:
    pilot = _pilot(world.unmanaged, "contiguous", window(3)[0])
    assert _checks(pilot)["organisation"] is False
    from tests.factories import committee

    committee(world.unmanaged.area, (user("新主任"), "chair"))
    assert _checks(pilot)["organisation"] is True
    # Trusteeship: the community's staff are the organisation.
    trust = _pilot(world.trust, "trusteeship", window(3)[0])
    assert _checks(trust)["organisation"] is True
    db.session.execute(RoleGrant.__table__.delete().where(RoleGrant.role == Role.COMMUNITY_STAFF))
    db.session.commit()
    assert _checks(trust)["organisation"] is False


def test_representatives_must_cover_the_threshold_of_units(world: World) -> None:
    pilot = _pilot(world.branch, "party_branch", window(3)[0])
    assert _checks(pilot)["representatives"] is False  # 1 of 4 units
    _reps_everywhere(world)
    assert _checks(pilot)["representatives"] is True
    # A contiguous pilot is not asked for representatives at all.
    other = _pilot(world.unmanaged, "contiguous", window(3)[0])
    assert "representatives" not in _checks(other)


def test_schedule_rule_follows_the_schedule_in_force(world: World) -> None:
    pilot = _pilot(world.branch, "party_branch", window(3)[0])
    assert _checks(pilot)["schedule"] is False
    fee_schedule(world.branch.area, start=this_month())
    assert _checks(pilot)["schedule"] is True


def test_collection_must_reach_the_threshold_in_every_month(world: World) -> None:
    pilot = _pilot(world.branch, "party_branch", window(3)[0])
    # Two of eight homes leave the last month unpaid: 75 % < 80 %.
    _fees(world, paid_months={0: 2, 1: 2})
    facts = gather([pilot], window(3))[0]
    assert [round(m.rate) for m in facts.months.values()] == [100, 100, 75]
    assert _checks(pilot)["collection"] is False


def test_collection_at_exactly_the_threshold_passes(world: World) -> None:
    pilot = _pilot(world.branch, "party_branch", window(3)[0])
    _fees(world, paid_months={0: 2})  # 7 of 8 homes: 87.5 %
    db.session.merge(OversightSettings(subdistrict_id=world.subdistrict.id, collection_pct=87))
    db.session.commit()
    assert _checks(pilot)["collection"] is True
    db.session.merge(OversightSettings(subdistrict_id=world.subdistrict.id, collection_pct=88))
    db.session.commit()
    assert _checks(pilot)["collection"] is False


def test_boards_must_be_published_for_every_month(world: World) -> None:
    pilot = _pilot(world.branch, "party_branch", window(3)[0])
    _fees(world, boards=2)
    assert _checks(pilot)["boards"] is False
    reports.publish_board(world.branch.area, window(3)[2], world.users["committee"])
    db.session.commit()
    assert _checks(pilot)["boards"] is True


def test_repairs_rule_counts_completions_within_target(world: World, noon_on) -> None:
    pilot = _pilot(world.branch, "party_branch", window(3)[0])
    assert _checks(pilot)["repairs"] is False  # nothing completed: nothing to show
    # A street light has 7 days; this one took 20.
    _repair(world, noon_on, window(3)[0] + timedelta(days=1), window(3)[0] + timedelta(days=21))
    assert _checks(pilot)["repairs"] is False
    for day in (2, 4, 6, 8):
        _repair(
            world,
            noon_on,
            window(3)[1] + timedelta(days=day),
            window(3)[1] + timedelta(days=day + 2),
        )
    facts = gather([pilot], window(3))[0]
    assert facts.in_target_share == 80.0
    assert _checks(pilot)["repairs"] is True


# --- certification ----------------------------------------------------------------------------


def test_certifying_on_a_passing_checklist_keeps_the_evidence(world: World, noon_on) -> None:
    pilot = _passing(world, noon_on)
    record = pilots.certify(pilot, world.users["staff"], clock.today())
    db.session.commit()
    assert pilot.stage == PilotStage.SELF_GOVERNING
    assert record.passed and record.override_reason == ""
    assert {c["code"] for c in record.checklist} >= {"collection", "boards", "repairs"}
    assert all(c["evidence"] for c in record.checklist)
    assert [c.to_stage for c in pilots.history(pilot)][-1] == "self_governing"


def test_certifying_a_failing_pilot_needs_a_written_reason(world: World, login_as) -> None:
    pilot = _pilot(world.branch, "party_branch", window(3)[0])
    client = login_as(world.users["staff"])
    url = f"/oversight/compounds/{world.branch.id}/certify"
    response = client.post(url, data={"on": clock.today().isoformat(), "override_reason": ""})
    assert response.status_code == 422
    assert "理由" in response.get_data(as_text=True) or "reason" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.scalar(select(func.count(Certification.id))) == 0
    assert db.session.get(Pilot, pilot.id).stage == PilotStage.FEES_STARTED

    response = client.post(
        url, data={"on": clock.today().isoformat(), "override_reason": "街道党工委研究同意"}
    )
    assert response.status_code == 303
    db.session.expire_all()
    record = db.session.scalars(select(Certification)).one()
    assert not record.passed and record.override_reason == "街道党工委研究同意"
    assert record.certified_by_id == world.users["staff"].id
    assert db.session.get(Pilot, pilot.id).stage == PilotStage.SELF_GOVERNING
    # Once is enough.
    response = client.post(url, data={"on": clock.today().isoformat(), "override_reason": "再次"})
    assert response.status_code == 422
    assert db.session.scalar(select(func.count(Certification.id))) == 1


def test_certifying_a_compound_that_is_not_a_pilot_is_refused(world: World, login_as) -> None:
    client = login_as(world.users["staff"])
    response = client.post(
        f"/oversight/compounds/{world.trust.id}/certify",
        data={"on": clock.today().isoformat(), "override_reason": "理由"},
    )
    assert response.status_code == 303
    assert db.session.scalar(select(func.count(Certification.id))) == 0
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "试点" in page or "pilot" in page


# --- stages, selection, thresholds ------------------------------------------------------------


def test_selection_is_among_unmanaged_compounds_by_the_subdistrict(world: World, login_as) -> None:
    admin = login_as(world.users["admin"])
    day = clock.today().isoformat()
    refused = admin.post(
        "/oversight/pilots",
        data={"compound_id": world.branch.id, "model": "party_branch", "selected_on": day},
    )
    assert refused.status_code == 422
    assert db.session.scalar(select(func.count(Pilot.id))) == 0
    staff = login_as(world.users["staff"])
    assert (
        staff.post(
            "/oversight/pilots",
            data={"compound_id": world.unmanaged.id, "model": "contiguous", "selected_on": day},
        ).status_code
        == 403
    )
    done = admin.post(
        "/oversight/pilots",
        data={"compound_id": world.unmanaged.id, "model": "contiguous", "selected_on": day},
    )
    assert done.status_code == 303
    pilot = db.session.scalars(select(Pilot)).one()
    assert [c.to_stage for c in pilots.history(pilot)] == ["selected"]


def test_stages_move_forward_pause_with_a_reason_and_resume(world: World, login_as) -> None:
    pilot = pilots.select_pilot(world.unmanaged, "contiguous", clock.today() - timedelta(days=30))
    db.session.commit()
    client = login_as(world.users["staff"])
    url = f"/oversight/pilots/{pilot.id}/stage"
    today = clock.today().isoformat()
    assert client.post(url, data={"to": "organised", "on": today}).status_code == 422  # a skip
    assert client.post(url, data={"to": "self_governing", "on": today}).status_code == 422
    assert client.post(url, data={"to": "consulting", "on": today}).status_code == 303
    assert client.post(url, data={"to": "paused", "on": today, "note": ""}).status_code == 422
    assert client.post(url, data={"to": "paused", "on": today, "note": "换届"}).status_code == 303
    assert client.post(url, data={"to": "consulting", "on": today}).status_code == 303
    db.session.expire_all()
    stages = [c.to_stage for c in pilots.history(db.session.get(Pilot, pilot.id))]
    assert stages == ["selected", "consulting", "paused", "consulting"]


@pytest.mark.parametrize("value", ["150", "-1", "abc", ""])
def test_a_threshold_outside_0_to_100_is_refused(world: World, login_as, value: str) -> None:
    client = login_as(world.users["admin"])
    response = client.post(
        f"/oversight/subdistricts/{world.subdistrict.id}/settings",
        data={
            "rep_coverage_pct": "90",
            "collection_pct": value,
            "repairs_in_target_pct": "80",
            "window_months": "3",
        },
    )
    assert response.status_code == 422
    assert db.session.get(OversightSettings, world.subdistrict.id) is None


def test_only_subdistrict_admins_set_thresholds(world: World, login_as) -> None:
    url = f"/oversight/subdistricts/{world.subdistrict.id}/settings"
    assert login_as(world.users["staff"]).get(url).status_code == 404
    assert login_as(world.users["admin"]).get(url).status_code == 200


# --- scope ------------------------------------------------------------------------------------


def test_community_staff_see_their_own_pilots_only(world: World, login_as) -> None:
    mine = _pilot(world.unmanaged, "contiguous", window(3)[0])
    theirs = _pilot(world.elsewhere, "trusteeship", window(3)[0])
    staff = login_as(world.users["staff"])
    page = staff.get("/oversight/").get_data(as_text=True)
    assert world.unmanaged.name in page and world.elsewhere.name not in page
    assert staff.get(f"/oversight/pilots/{theirs.id}").status_code == 404
    assert (
        staff.post(
            f"/oversight/pilots/{theirs.id}/stage", data={"to": "paused", "note": "x"}
        ).status_code
        == 404
    )
    assert staff.get(f"/oversight/pilots/{mine.id}").status_code == 200
    admin_page = login_as(world.users["admin"]).get("/oversight/").get_data(as_text=True)
    assert world.unmanaged.name in admin_page and world.elsewhere.name in admin_page
    for who in ("committee", "rep", "resident", "outsider"):
        assert login_as(world.users[who]).get("/oversight/").status_code == 404


# --- the dashboard against the records --------------------------------------------------------


def test_dashboard_filters_sorts_and_exports(world: World, login_as, noon_on) -> None:
    _passing(world, noon_on)
    _pilot(world.unmanaged, "contiguous", window(3)[0])
    client = login_as(world.users["admin"])
    html = client.get("/oversight/?model=party_branch").get_data(as_text=True)
    assert world.branch.name in html and world.unmanaged.name not in html.split("pilot-table")[1]
    fragment = client.get(
        "/oversight/?sort=rate&dir=desc", headers={"HX-Request": "true", "HX-Target": "pilot-table"}
    ).get_data(as_text=True)
    assert "<html" not in fragment
    assert fragment.index(world.branch.name) < fragment.index(world.unmanaged.name)
    response = client.get("/oversight/ledger.xlsx?model=party_branch")
    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(response.data))
    rows = list(book["试点台账"].values)
    assert rows[0][1] == "小区" and len(rows) == 2 and rows[1][1] == world.branch.name
    assert rows[1][-1] == "是"
    assert len(list(book["月度指标"].values)) == 1 + 3


def test_dashboard_figures_equal_a_recount_from_the_records(world: World, noon_on) -> None:
    _passing(world, noon_on)
    _repair(world, noon_on, window(3)[2] + timedelta(days=1), window(3)[2] + timedelta(days=2))
    admin = access.load_principal(world.users["admin"])
    board = dashboard.build(dashboard.Filters(), admin)
    f = board.rows[0].facts
    # Households, open repairs and the collection rate, counted from the raw rows.
    homes = len(_households(world.branch))
    assert f.households == homes == board.total.households
    open_tasks = db.session.scalar(
        select(func.count(RepairTask.id)).where(
            RepairTask.compound_id == world.branch.id,
            RepairTask.status.in_(("reported", "assigned", "in_progress", "done")),
        )
    )
    assert f.open_repairs == open_tasks
    billed = db.session.scalar(
        select(func.sum(Bill.amount_fen)).where(
            Bill.area_id == world.branch.area_id, Bill.period == window(3)[-1]
        )
    )
    assert f.last_complete().billed_fen == billed
    assert board.total.pilots == 1 and board.total.passing == 1


def test_statements_do_not_grow_with_the_number_of_pilots(world: World, login_as, app) -> None:
    from sqlalchemy import event

    client = login_as(world.users["admin"])
    counted: list[str] = []

    def count(*_args, **_kwargs) -> None:  # type: ignore[no-untyped-def]
        counted.append("x")

    def statements() -> int:
        counted.clear()
        event.listen(db.engine, "before_cursor_execute", count)
        try:
            assert client.get("/oversight/").status_code == 200
        finally:
            event.remove(db.engine, "before_cursor_execute", count)
        return len(counted)

    _pilot(world.unmanaged, "contiguous", window(3)[0])
    one = statements()
    for other in (world.trust, *world.contiguous, world.branch):
        _pilot(other, "contiguous", window(3)[0])
    assert statements() == one


def test_units_are_counted_per_compound(world: World) -> None:
    pilot = _pilot(world.branch, "party_branch", window(3)[0])
    facts = gather([pilot], window(3))[0]
    units = db.session.scalar(
        select(func.count(Unit.id)).where(
            Unit.building_id.in_([b.id for b in world.branch.buildings])
        )
    )
    assert facts.units == units == 4 and facts.units_with_rep == 1


# --- the aggregates the dashboard reads equal the records, whatever happened ------------------

# What a task may do next, by status; the operation picks one of them.
NEXT = {
    "reported": ("assign", "assign", "reject"),
    "assigned": ("start", "start", "reject"),
    "in_progress": ("done",),
    "done": ("confirm", "confirm", "send_back", "close"),
    "closed": ("reopen",),
    "rejected": ("reopen",),
}
OPERATIONS = st.lists(
    st.one_of(
        st.tuples(st.just("report"), st.integers(0, 4), st.sampled_from(["sewer", "road"])),
        st.tuples(st.just("step"), st.integers(0, 4), st.integers(0, 20), st.integers(0, 3)),
        st.tuples(st.just("pay"), st.integers(0, 4), st.integers(0, 3), st.integers(1, 4000)),
        st.tuples(st.just("finish"), st.integers(0, 10), st.integers(0, 20)),
    ),
    min_size=1,
    max_size=30,
)
_example = iter(range(1, 10**6))


@settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(operations=OPERATIONS)
def test_figures_equal_a_recount_after_random_operations(
    world: World, noon_on, operations: list[tuple]
) -> None:
    c = compound(world.community, f"抽查{next(_example)}号院", buildings=1, units=2, households=2)
    fee_schedule(c.area, start=window(3)[0], approver=world.users["staff"])
    schedules.catch_up(c.area.id)
    db.session.commit()
    pilot = _pilot(c, "contiguous", window(3)[0])
    staff = world.users["staff"]
    p = access.load_principal(staff)
    homes = [h for u in c.buildings[0].units for h in u.households]
    day = window(3)[0]
    for n, operation in enumerate(operations):
        day = min(day + timedelta(days=operation[1]), clock.today())
        noon_on(day)
        try:
            match operation:
                case ("report", _days, category):
                    workflow.report_task(
                        c, workflow.Report(category=category, description="抽查"), staff, p=p
                    )
                case ("step", _days, which, choice):
                    tasks = db.session.scalars(
                        select(RepairTask)
                        .where(RepairTask.compound_id == c.id)
                        .order_by(RepairTask.id)
                    ).all()
                    if not tasks:
                        continue
                    task = tasks[which % len(tasks)]
                    options = NEXT[task.status]
                    step = options[choice % len(options)]
                    if step == "assign":
                        workflow.assign(
                            task,
                            workflow.Assignment(kind="contractor", contractor="施工队"),
                            staff,
                            version=task.version,
                            p=p,
                        )
                    else:
                        workflow.move(task, step, staff, version=task.version, note="抽查", p=p)
                case ("finish", _days, which):
                    # One task taken all the way through (the days passed make it late or not).
                    tasks = db.session.scalars(
                        select(RepairTask)
                        .where(RepairTask.compound_id == c.id, RepairTask.status.in_(OPEN))
                        .order_by(RepairTask.id)
                    ).all()
                    if not tasks:
                        continue
                    task = tasks[which % len(tasks)]
                    if task.status == "reported":
                        workflow.assign(
                            task,
                            workflow.Assignment(kind="contractor", contractor="施工队"),
                            staff,
                            version=task.version,
                            p=p,
                        )
                    for step in ("start", "done", "confirm"):
                        if step in [m.name for m in workflow.moves_for(task, staff, p)]:
                            workflow.move(task, step, staff, version=task.version, p=p)
                case ("pay", _days, who, amount):
                    ledger.record_payment(
                        homes[who],
                        amount_fen=amount,
                        method=Method.CASH,
                        paid_on=day,
                        collector=staff,
                        request_key=f"random-{c.id}-{n:04d}-key",
                    )
            db.session.commit()
        except RuleError:
            db.session.rollback()
    assert queries.check_months([c.id]) == []
    assert proofs.check_totals(c.area_id) == []

    facts = gather([pilot], window(3))[0]
    tasks = db.session.scalars(select(RepairTask).where(RepairTask.compound_id == c.id)).all()
    assert facts.open_repairs == sum(t.status in OPEN for t in tasks)
    assert facts.overdue_repairs == sum(levels.is_overdue(t) for t in tasks)
    for month in window(3):
        closes = [
            e
            for t in tasks
            for e in t.events
            if e.kind in ("confirmed", "closed") and month_of(clock.local_date(e.at)) == month
        ]
        assert facts.months[month].closed == len(closes)
        assert facts.months[month].in_target == sum(
            clock.local_date(e.at) <= e.due_on for e in closes
        )
        billed = db.session.scalar(
            select(func.coalesce(func.sum(Bill.amount_fen), 0)).where(
                Bill.area_id == c.area_id, Bill.period == month
            )
        )
        assert facts.months[month].billed_fen == billed

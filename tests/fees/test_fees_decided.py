"""The owners decide the fee standard (Civil Code art. 278): a version comes into force on
a passed owners' vote of the whole area, or on the community's recorded exception; the 公示
lasts at least the subdistrict's minimum; residents and the checklist see the exception."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from compound_app import clock
from compound_app.errors import RuleError
from compound_app.extensions import db
from compound_app.fees import schedules
from compound_app.fees.models import ApprovalHow, Basis, Bill, Cycle, FeeSchedule, ScheduleStatus
from compound_app.oversight.checklist import checklist, settings_for
from compound_app.oversight.facts import gather, window
from compound_app.oversight.models import OversightSettings
from compound_app.registry.models import ManagementArea, Pilot, PilotStage
from compound_app.votes import service as votes
from compound_app.votes.models import Vote
from tests.factories import (
    World,
    close_counted,
    fee_schedule,
    first_household,
    open_announced,
    passed_area_vote,
    user,
)

REASON = "托管期间由社区决定，待业主表决"
LINE = "本收费标准由社区决定（例外），未经业主表决"


@pytest.fixture(autouse=True)
def _request(app):  # type: ignore[no-untyped-def]
    """Refusals speak the user's language, as on a page."""
    with app.test_request_context():
        yield


def _published(area: ManagementArea, days: int = 7) -> FeeSchedule:
    """A version whose days for comments ended today."""
    today = clock.today()
    draft = schedules.new_draft(area, None, today=today - timedelta(days=days))
    schedules.update_terms(
        draft,
        cycle=Cycle.MONTH,
        start_month=today.replace(day=1),
        vacant_percent=50,
        publicity_days=days,
        today=today - timedelta(days=days),
    )
    schedules.add_item(draft, name="保洁", scope="", basis=Basis.PER_HOUSEHOLD, rate_fen=1000)
    schedules.publish(draft, today=today - timedelta(days=days))
    db.session.commit()
    return draft


def _approve(draft: FeeSchedule, **kw: Any) -> int:
    values: dict[str, Any] = {
        "how": ApprovalHow.OWNERS_VOTE,
        "approved_on": clock.today(),
        "note": "业主表决通过",
        "actor": user("记录人"),
        "staff": False,
    }
    return schedules.approve(draft, **{**values, **kw})


def _refused(draft: FeeSchedule, match: str, **kw: Any) -> None:
    with pytest.raises(RuleError, match=match):
        _approve(draft, **kw)
    db.session.rollback()
    db.session.refresh(draft)
    assert draft.status == ScheduleStatus.PUBLISHED and draft.approved_how is None
    assert db.session.scalar(select(func.count(Bill.id))) == 0


def _vote(area: ManagementArea, *, close: bool) -> Vote:
    """An area vote nobody voted in: open, or closed (and failed: nobody took part)."""
    runner = user("计票人", community_staff=area.community_id)
    vote = votes.create_vote(
        votes.resolve_scope("area", area.id), "other", "收费标准", "是否同意", clock.today(), runner
    )
    open_announced(vote, runner)
    if close:
        close_counted(vote, runner)
    db.session.commit()
    return vote


# --- the ways into force, each at its edge ------------------------------------------------------


def test_a_passed_owners_vote_of_the_area_puts_it_into_force(world: World) -> None:
    area = world.branch.area
    draft = _published(area)
    vote = passed_area_vote(area)
    assert _approve(draft, vote_id=vote.id) > 0
    db.session.commit()
    assert draft.status == ScheduleStatus.ACTIVE and draft.approval_vote_id == vote.id
    assert schedules.community_exception(draft) is None


def test_only_the_owners_vote_on_this_version_decides_it(world: World) -> None:
    area = world.branch.area
    draft = _published(area, days=10)
    # Another matter, or a vote opened before the version went up for comment: refused.
    committee_vote = passed_area_vote(area, matter="committee")
    _refused(draft, "其他事项", vote_id=committee_vote.id)
    early = passed_area_vote(area, on=clock.today() - timedelta(days=11))
    _refused(draft, "公示之前", vote_id=early.id)
    vote = passed_area_vote(area)
    assert _approve(draft, vote_id=vote.id) > 0
    db.session.commit()
    # One vote decides one version: the next version needs its own.
    following = schedules.new_draft(area, None)
    assert "另一版收费标准" in (schedules.may_decide(following, vote) or "")


def test_the_approval_date_is_not_before_the_vote_closed(world: World) -> None:
    area = world.branch.area
    draft = _published(area, days=10)
    vote = passed_area_vote(area, on=clock.today() - timedelta(days=2))
    closed_on = clock.local_date(vote.closed_at)
    _refused(draft, "不能早于表决结束之日", vote_id=vote.id, approved_on=closed_on - timedelta(1))
    assert _approve(draft, vote_id=vote.id, approved_on=closed_on) > 0


def test_a_failed_open_other_area_or_missing_vote_is_refused(world: World) -> None:
    area = world.branch.area
    draft = _published(area)
    failed = _vote(area, close=True)
    assert failed.passed is False
    _refused(draft, "passed|通过", vote_id=failed.id)
    _refused(draft, "passed|通过", vote_id=_vote(area, close=False).id)
    _refused(draft, "this area|本区域", vote_id=passed_area_vote(world.trust.area).id)
    _refused(draft, "vote|表决", vote_id=None)


def test_a_stairwells_vote_does_not_decide_the_areas_fees(world: World) -> None:
    area = world.branch.area
    draft = _published(area)
    unit = first_household(world.branch).unit
    runner = world.users["committee"]
    vote = votes.create_vote(
        votes.resolve_scope("unit", unit.id), "other", "收费标准", "是否同意", clock.today(), runner
    )
    open_announced(vote, runner)
    from compound_app import access

    p = access.load_principal(runner)
    for elector in vote.electors:
        votes.enter_paper(vote, elector.homes[0].household_id, "yes", _jpeg(), runner, p)
    close_counted(vote, runner)
    db.session.commit()
    assert vote.passed
    _refused(draft, "whole area|整个", vote_id=vote.id)


def _jpeg() -> Any:
    from tests.factories import _jpeg as jpeg

    return jpeg()


def test_a_meeting_without_a_vote_is_refused(world: World) -> None:
    draft = _published(world.branch.area)
    for how in (ApprovalHow.COMMITTEE_MEETING, ApprovalHow.RESIDENTS_MEETING):
        _refused(draft, "owners|业主", how=how, staff=True)


def test_the_community_exception_needs_staff_a_reason_and_no_vote(world: World) -> None:
    area = world.trust.area
    draft = _published(area)
    exception = {"how": ApprovalHow.COMMUNITY, "note": REASON}
    _refused(draft, "staff|工作人员", **exception)  # the committee or anyone else
    _refused(draft, "reason|理由", **{**exception, "note": "  ", "staff": True})
    vote = passed_area_vote(area)
    _refused(draft, "vote|表决", **exception, staff=True, vote_id=vote.id)
    _approve(draft, **exception, staff=True)
    db.session.commit()
    assert draft.status == ScheduleStatus.ACTIVE and draft.approved_how == "community"
    assert schedules.community_exception(draft) == REASON


# --- the 公示's minimum ------------------------------------------------------------------------


def _minimum(world: World, days: int) -> None:
    db.session.merge(
        OversightSettings(subdistrict_id=world.subdistrict.id, min_publicity_days=days)
    )
    db.session.commit()


def test_publishing_needs_the_subdistricts_minimum_days(world: World) -> None:
    _minimum(world, 10)
    area = world.branch.area
    draft = schedules.new_draft(area, None)
    assert draft.publicity_days == 10  # a new draft starts at the minimum
    schedules.add_item(draft, name="保洁", scope="", basis=Basis.PER_HOUSEHOLD, rate_fen=1000)
    terms = {"cycle": Cycle.MONTH, "start_month": draft.start_month, "vacant_percent": 50}
    with pytest.raises(RuleError, match="10"):
        schedules.update_terms(draft, **terms, publicity_days=9)
    schedules.update_terms(draft, **terms, publicity_days=10)
    db.session.commit()
    _minimum(world, 11)  # raised meanwhile: the draft's 10 days are one short
    with pytest.raises(RuleError, match="11"):
        schedules.publish(draft)
    db.session.rollback()
    assert db.session.get(FeeSchedule, draft.id).status == ScheduleStatus.DRAFT  # type: ignore[union-attr]
    _minimum(world, 10)
    schedules.publish(draft)
    db.session.commit()
    assert draft.status == ScheduleStatus.PUBLISHED


def test_the_draft_form_says_the_minimum_and_refuses_fewer_days(world: World, login_as) -> None:
    _minimum(world, 12)
    chair = login_as(world.users["committee"])
    chair.post(f"/fees/areas/{world.branch.area_id}/schedules")
    draft = db.session.scalars(select(FeeSchedule)).one()
    url = f"/fees/schedules/{draft.id}"
    assert "12" in chair.get(url).get_data(as_text=True)
    terms = {
        "cycle": "month",
        "start_month": f"{draft.start_month:%Y-%m}",
        "vacant_percent": "50",
        "publicity_days": "11",
    }
    assert chair.post(f"{url}/terms", data=terms).status_code == 422
    assert chair.post(f"{url}/terms", data={**terms, "publicity_days": "12"}).status_code == 303


@pytest.mark.parametrize(("value", "status"), [("0", 422), ("91", 422), ("1", 303), ("90", 303)])
def test_the_admin_sets_the_minimum_from_1_to_90(
    world: World, login_as, value: str, status: int
) -> None:
    url = f"/oversight/subdistricts/{world.subdistrict.id}/settings"
    form = {
        "rep_coverage_pct": "90",
        "collection_pct": "80",
        "repairs_in_target_pct": "80",
        "window_months": "3",
        "overdue_days": "30",
        "min_publicity_days": value,
    }
    assert login_as(world.users["admin"]).post(url, data=form).status_code == status
    expected = int(value) if status == 303 else 7
    assert settings_for(world.subdistrict.id).min_publicity_days == expected


# --- through the page: who may record which way ---------------------------------------------------


def test_staff_record_the_exception_on_the_page_and_the_committee_cannot(
    world: World, login_as
) -> None:
    area = world.branch.area
    draft = _published(area)
    url = f"/fees/schedules/{draft.id}"
    form = {"how": "community", "approved_on": clock.today().isoformat(), "note": REASON}
    chair = login_as(world.users["committee"])
    assert "community" not in chair.get(url).get_data(as_text=True).split('name="how"')[1][:400]
    assert chair.post(f"{url}/approve", data=form).status_code == 422
    db.session.expire_all()
    assert draft.status == ScheduleStatus.PUBLISHED
    staff = login_as(world.users["staff"])
    assert staff.post(f"{url}/approve", data={**form, "note": ""}).status_code == 422
    assert staff.post(f"{url}/approve", data=form).status_code == 303
    db.session.expire_all()
    assert draft.status == ScheduleStatus.ACTIVE and draft.approved_how == "community"


# --- residents are told, the checklist fails --------------------------------------------------


def test_residents_see_the_exception_wherever_they_see_the_standard(world: World, login_as) -> None:
    area = world.branch.area
    start = clock.today().replace(day=1) - timedelta(days=40)
    schedule = fee_schedule(area, start=start.replace(day=1), exception=REASON)
    resident = login_as(world.users["resident"])
    home = first_household(world.branch)
    pages = [
        f"/fees/households/{home.id}",
        f"/fees/schedules/{schedule.id}",
        f"/fees/areas/{area.id}",
        f"/fees/areas/{area.id}/board?month={start:%Y-%m}",
    ]
    for page in pages:
        response = resident.get(page)
        assert response.status_code == 200, page
        assert f"{LINE}：{REASON}" in response.get_data(as_text=True), page


def test_no_exception_line_where_the_owners_voted(world: World, login_as) -> None:
    fee_schedule(world.branch.area)
    home = first_household(world.branch)
    page = login_as(world.users["resident"]).get(f"/fees/households/{home.id}")
    assert LINE not in page.get_data(as_text=True)


def _pilot(world: World) -> Pilot:
    pilot = Pilot(
        compound_id=world.trust.id,
        selected_on=date(2026, 1, 5),
        stage=PilotStage.FEES_STARTED,
        stage_since=date(2026, 1, 5),
        model="trusteeship",
    )
    db.session.add(pilot)
    db.session.commit()
    return pilot


def _owners_check(pilot: Pilot) -> Any:
    settings = settings_for(pilot.compound.community.subdistrict_id)
    facts = gather([pilot], window(settings.window_months))[0]
    return next(c for c in checklist(facts, settings) if c.code == "owners_decided")


def test_the_checklist_fails_on_the_exception_and_passes_on_the_owners_vote(
    world: World, login_as
) -> None:
    pilot = _pilot(world)
    area = world.trust.area
    assert _owners_check(pilot).passed is False  # no standard in force
    first = fee_schedule(area, start=clock.today().replace(day=1), exception=REASON)
    check = _owners_check(pilot)
    assert check.passed is False and REASON in check.detail
    # Staff see which pilots run on an exception.
    board = login_as(world.users["staff"]).get("/oversight/").get_data(as_text=True)
    assert 'id="fee-exceptions"' in board and REASON in board
    # The owners vote on the next version: the item passes, the dashboard drops the pilot.
    next_month = schedules.add_months(first.start_month, 1)
    draft = schedules.new_draft(area, None)
    schedules.update_terms(
        draft, cycle=Cycle.MONTH, start_month=next_month, vacant_percent=50, publicity_days=7
    )
    today = clock.today()
    schedules.publish(draft, today=today - timedelta(days=7))
    _approve(draft, vote_id=passed_area_vote(area).id)
    db.session.commit()
    assert _owners_check(pilot).passed is True
    board = login_as(world.users["staff"]).get("/oversight/").get_data(as_text=True)
    assert 'id="fee-exceptions"' not in board

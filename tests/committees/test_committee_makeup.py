"""The committee's make-up (物管会组成): whom each member represents, how the chair was
appointed, the subdistrict's rules, and the advisory findings against them."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import event, func, select

from compound_app import clock
from compound_app.audit import AuditLog
from compound_app.auth.models import User
from compound_app.committees import service
from compound_app.committees.models import (
    ChairAppointment,
    Committee,
    CommitteeMember,
    CommitteeRules,
    MemberKind,
)
from compound_app.extensions import db
from compound_app.oversight.models import StageChange
from compound_app.registry.models import Pilot
from tests.factories import days_ago, seat

OWNER, POLICE = MemberKind.OWNER, MemberKind.POLICE
RC = MemberKind.RESIDENTS_COMMITTEE


def rules(**changes: object) -> CommitteeRules:
    return CommitteeRules(subdistrict_id=1, **{**service.DEFAULT_RULES, **changes})


def board(
    *kinds: str,
    appointed: str = ChairAppointment.NAMED,
    start: date | None = None,
    end: date | None = None,
    chair: bool = True,
) -> Committee:
    """A committee (not saved) whose first member chairs it; terms of three years from half
    a year ago unless told."""
    start = start or days_ago(165)
    c = Committee(name="测试物管会", formed_on=start, chair_appointed=appointed)
    for n, kind in enumerate(kinds):
        c.members.append(
            CommitteeMember(
                user=User(name=f"成员{n + 1}", mobile=f"1370000{n:04d}"),
                position="chair" if chair and n == 0 else "member",
                background="keen_resident",
                kind=kind,
                term_start=start,
                term_end=end or date(start.year + 3, start.month, 1),
            )
        )
    return c


def found(c: Committee, r: CommitteeRules | None = None, on: date | None = None) -> list[str]:
    return [f.rule for f in service.makeup_findings(c, r or rules(), on or clock.today())]


# --- the findings, at each rule's edges ---------------------------------------------------------


def test_a_committee_made_up_by_the_rules_has_no_findings(app):
    assert found(board(RC, OWNER, OWNER, OWNER, POLICE)) == []


@pytest.mark.parametrize(
    ("size", "rule_broken"), [(4, True), (5, False), (11, False), (12, True), (13, True)]
)
def test_the_number_of_members_between_the_fewest_and_the_most(app, size, rule_broken):
    c = board(*([OWNER] * size))
    findings = service.makeup_findings(c, rules(odd_members=False), clock.today())
    assert ("members" in [f.rule for f in findings]) is rule_broken
    if rule_broken:
        (text,) = [f.text for f in findings if f.rule == "members"]
        assert str(size) in text and "5" in text and "11" in text


def test_an_even_number_of_members_when_the_rules_ask_for_an_odd_one(app):
    assert found(board(*[OWNER] * 6)) == ["odd"]
    assert found(board(*[OWNER] * 7)) == []
    assert found(board(*[OWNER] * 6), rules(odd_members=False)) == []


def test_exactly_half_owners_is_enough(app):
    even = rules(odd_members=False)
    assert found(board(RC, POLICE, RC, OWNER, OWNER, OWNER), even) == []  # 3 of 6
    assert found(board(RC, POLICE, RC, RC, OWNER, OWNER), even) == ["owners"]  # 2 of 6
    assert found(board(RC, POLICE, OWNER, OWNER, OWNER)) == []  # 3 of 5
    assert found(board(RC, POLICE, RC, OWNER, OWNER)) == ["owners"]  # 2 of 5


def test_the_owners_share_follows_the_percentage(app):
    sixty = rules(owners_pct=60)
    assert found(board(RC, POLICE, OWNER, OWNER, OWNER), sixty) == []  # 60 %
    (finding,) = service.makeup_findings(board(RC, POLICE, RC, OWNER, OWNER, OWNER, POLICE), sixty)
    assert finding.rule == "owners" and "60%" in finding.text  # 3 of 7 = 43 %
    assert found(board(RC, RC, RC, OWNER, OWNER), rules(owners_rule=False)) == []


def test_a_committee_of_4_with_1_owner_gets_both_findings(app):
    assert found(board(RC, POLICE, RC, OWNER), rules(odd_members=False)) == ["members", "owners"]
    assert found(board(RC, POLICE, RC, OWNER)) == ["members", "odd", "owners"]


def test_a_term_of_exactly_the_years_passes_and_a_day_more_does_not(app):
    start = days_ago(165)
    exact = date(start.year + 3, start.month, start.day)
    assert found(board(RC, OWNER, OWNER, OWNER, POLICE, start=start, end=exact)) == []
    longer = board(RC, OWNER, OWNER, OWNER, POLICE, start=start, end=exact + timedelta(days=1))
    findings = service.makeup_findings(longer, rules())
    assert [f.rule for f in findings] == ["term"] * 5
    assert "成员1" in findings[0].text and "3" in findings[0].text
    assert found(longer, rules(max_term_years=4)) == []


def test_a_term_from_29_february(app):
    assert service.add_years(date(2028, 2, 29), 3) == date(2031, 2, 28)
    assert service.add_years(date(2028, 2, 29), 4) == date(2032, 2, 29)


def test_the_chair_appointed_as_the_rules_say(app):
    members = (RC, OWNER, OWNER, OWNER, POLICE)
    assert found(board(*members, appointed=ChairAppointment.ELECTED)) == ["chair"]
    elected = rules(chair_appointment=ChairAppointment.ELECTED)
    assert found(board(*members, appointed=ChairAppointment.ELECTED), elected) == []
    assert found(board(*members, appointed="")) == ["chair"]  # not recorded
    assert found(board(*members, chair=False)) == ["chair"]  # no chair at all
    text = service.makeup_findings(board(*members, appointed=ChairAppointment.ELECTED), rules())
    assert "街道指定" in text[0].text and "成员推选" in text[0].text


def test_only_the_members_seated_on_the_day_count(app):
    c = board(RC, OWNER, OWNER, OWNER, POLICE)
    today = clock.today()
    c.members[-1].term_end = today - timedelta(days=1)  # left yesterday
    assert found(c, on=today) == ["members", "odd"]
    assert found(c, on=today - timedelta(days=1)) == []
    c.members[-1].term_start = c.members[-1].term_end = today + timedelta(days=10)  # not yet
    assert found(c, on=today) == ["members", "odd"]
    assert found(c, on=today + timedelta(days=10)) == []


def test_an_empty_committee_is_only_too_small(app):
    assert found(board()) == ["members"]


# --- the committee page: the findings for its members and staff, not its residents ------------


def _four_with_one_owner(world) -> Committee:  # type: ignore[no-untyped-def]
    """The branch's committee of 4 (its chair, named as the rules say) with 1 owner."""
    c = service.committee_for_area(world.branch.area_id)
    c.chair_appointed = ChairAppointment.NAMED
    chair = c.members[0]
    chair.kind = MemberKind.RESIDENTS_COMMITTEE
    seat(c, MemberKind.SUBDISTRICT)
    seat(c, MemberKind.POLICE)
    seat(c, MemberKind.OWNER, name="钱业主")
    db.session.commit()
    return c


def test_a_committee_of_4_with_1_owner_shows_both_findings_and_keeps_working(world, login_as):
    _four_with_one_owner(world)
    staff = login_as(world.users["staff"])
    response = staff.get(f"/committees/areas/{world.branch.area_id}")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert 'id="makeup-findings"' in page
    assert "现有成员4人：规则要求5至11人。" in page
    assert "4名成员中业主代表1名：规则要求不少于半数。" in page
    assert "成员人数为双数（4人）" in page
    # Nothing is refused because of it: the committee still takes a member.
    response = staff.post(
        f"/committees/areas/{world.branch.area_id}/members/new",
        data={
            "name": "钱学军",
            "mobile": "13655556666",
            "position": "member",
            "kind": "owner",
            "background": "retired_cadre",
            "term_start": days_ago(1).isoformat(),
            "term_end": days_ago(-900).isoformat(),
        },
    )
    assert response.status_code == 303


@pytest.mark.parametrize(
    ("role", "sees"),
    [
        ("committee", True),
        ("staff", True),
        ("admin", True),
        ("resident", False),
        ("rep", False),
    ],
)
def test_the_findings_show_to_the_committee_and_staff_only(world, login_as, role, sees):
    _four_with_one_owner(world)
    response = login_as(world.users[role]).get(f"/committees/areas/{world.branch.area_id}")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert ('id="makeup-findings"' in page) is sees
    assert ("业主代表1名" in page) is sees
    assert "钱业主" in page  # the members themselves, as before


def test_the_members_page_shows_whom_each_represents(world, login_as):
    _four_with_one_owner(world)
    page = login_as(world.users["resident"]).get(f"/committees/areas/{world.branch.area_id}")
    text = page.get_data(as_text=True)
    assert "派出所" in text and "居委会" in text and "业主代表" in text
    assert "主任产生方式：街道指定" in text


# --- the member form: whom the member represents ---------------------------------------------


def _member_form(**changes: str) -> dict[str, str]:
    return {
        "name": "钱学军",
        "mobile": "13655556666",
        "position": "member",
        "kind": "police",
        "background": "retired_cadre",
        "term_start": days_ago(10).isoformat(),
        "term_end": days_ago(-900).isoformat(),
        **changes,
    }


def test_a_new_member_is_recorded_with_whom_they_represent(world, login_as):
    staff = login_as(world.users["staff"])
    form = staff.get(f"/committees/areas/{world.branch.area_id}/members/new")
    assert 'name="kind"' in form.get_data(as_text=True) and "派出所" in form.get_data(as_text=True)
    response = staff.post(
        f"/committees/areas/{world.branch.area_id}/members/new", data=_member_form()
    )
    assert response.status_code == 303
    member = db.session.scalar(
        select(CommitteeMember).join(User).where(User.mobile == "13655556666")
    )
    assert member.kind == MemberKind.POLICE
    edit = staff.post(
        f"/committees/members/{member.id}/edit",
        data={
            "position": "member",
            "kind": "housing",
            "background": "retired_cadre",
            "term_start": days_ago(10).isoformat(),
            "term_end": days_ago(-900).isoformat(),
        },
    )
    assert edit.status_code == 303
    db.session.expire_all()
    assert member.kind == MemberKind.HOUSING


@pytest.mark.parametrize("kind", ["spy", "", "业主代表", "<b>owner</b>"])
def test_a_bad_kind_is_refused_and_nothing_is_written(world, login_as, kind):
    staff = login_as(world.users["staff"])
    before = db.session.scalar(select(func.count()).select_from(CommitteeMember))
    response = staff.post(
        f"/committees/areas/{world.branch.area_id}/members/new", data=_member_form(kind=kind)
    )
    assert response.status_code == 422
    assert 'id="kind-error"' in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(CommitteeMember)) == before


def test_members_recorded_before_kinds_represent_the_owners(world):
    # The column's server default (migration 0028) for the rows that were already there.
    member = service.committee_for_area(world.branch.area_id).members[0]
    assert member.kind == MemberKind.OWNER


# --- how the chair was appointed -------------------------------------------------------------


def test_staff_record_how_the_chair_was_appointed(world, login_as):
    staff = login_as(world.users["staff"])
    url = f"/committees/areas/{world.branch.area_id}/chair"
    assert staff.get(url).status_code == 200
    response = staff.post(
        url,
        data={
            "chair_appointed": "elected",
            "chair_appointed_by": "物管会第一次会议",
            "chair_appointed_on": days_ago(100).isoformat(),
        },
    )
    assert response.status_code == 303
    db.session.expire_all()
    c = service.committee_for_area(world.branch.area_id)
    assert (c.chair_appointed, c.chair_appointed_by) == ("elected", "物管会第一次会议")
    assert c.chair_appointed_on == days_ago(100)
    row = db.session.scalar(select(AuditLog).where(AuditLog.action == "chair_appointed"))
    assert row.entity_id == c.id and row.after["chair_appointed"] == "elected"


@pytest.mark.parametrize(
    "data",
    [
        {"chair_appointed": "by_lot"},
        {"chair_appointed": "named", "chair_appointed_on": days_ago(-1).isoformat()},
        {"chair_appointed": "named", "chair_appointed_on": "2026-02-30"},
        {"chair_appointed": "named", "chair_appointed_on": days_ago(400).isoformat()},
        {"chair_appointed": "named", "chair_appointed_by": "x" * 51},
    ],
)
def test_a_bad_appointment_is_refused_and_nothing_is_written(world, login_as, data):
    response = login_as(world.users["staff"]).post(
        f"/committees/areas/{world.branch.area_id}/chair", data=data
    )
    assert response.status_code == 422
    db.session.expire_all()
    assert service.committee_for_area(world.branch.area_id).chair_appointed == ""


def test_the_committee_does_not_record_its_own_chair(world, login_as):
    url = f"/committees/areas/{world.branch.area_id}/chair"
    assert (
        login_as(world.users["committee"])
        .post(url, data={"chair_appointed": "elected"})
        .status_code
        == 403
    )
    assert login_as(world.users["resident"]).get(url).status_code == 403
    assert login_as(world.users["other_staff"]).get(url).status_code == 404


# --- the subdistrict's rules page -------------------------------------------------------------


def _rules_form(**changes: str) -> dict[str, str]:
    return {
        "min_members": "7",
        "max_members": "15",
        "odd_members": "y",
        "owners_rule": "y",
        "owners_pct": "60",
        "chair_appointment": "elected",
        "max_term_years": "5",
        **changes,
    }


def test_the_admin_keeps_the_rules_and_the_pages_check_them(world, login_as):
    admin = login_as(world.users["admin"])
    url = f"/committees/rules/{world.subdistrict.id}"
    page = admin.get(url).get_data(as_text=True)
    assert 'value="5"' in page and 'value="11"' in page  # the defaults until saved
    assert db.session.get(CommitteeRules, world.subdistrict.id) is None
    response = admin.post(url, data=_rules_form(odd_members=""))
    assert response.status_code == 303
    db.session.expire_all()
    saved = db.session.get(CommitteeRules, world.subdistrict.id)
    assert (saved.min_members, saved.max_members, saved.odd_members) == (7, 15, False)
    assert (saved.owners_pct, saved.chair_appointment, saved.max_term_years) == (60, "elected", 5)
    row = db.session.scalar(select(AuditLog).where(AuditLog.action == "committee_rules"))
    assert row.entity_id == world.subdistrict.id and row.after["min_members"] == 7
    committee_page = admin.get(f"/committees/areas/{world.branch.area_id}").get_data(as_text=True)
    assert "现有成员1人：规则要求7至15人。" in committee_page
    # Saved again: the row is changed, not doubled.
    assert admin.post(url, data=_rules_form(min_members="5")).status_code == 303
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(CommitteeRules)) == 1
    assert db.session.get(CommitteeRules, world.subdistrict.id).min_members == 5


def test_the_oversight_settings_page_links_the_rules(world, login_as):
    page = login_as(world.users["admin"]).get(
        f"/oversight/subdistricts/{world.subdistrict.id}/settings"
    )
    assert f"/committees/rules/{world.subdistrict.id}" in page.get_data(as_text=True)


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"min_members": "9", "max_members": "7"}, "max_members", "最多人数不能少于最少人数"),
        ({"min_members": "6", "max_members": "6"}, "max_members", "没有单数"),
        ({"min_members": "0"}, "min_members", "1到99之间"),
        ({"max_members": "100"}, "max_members", "1到99之间"),
        ({"owners_pct": "0"}, "owners_pct", "1到100之间"),
        ({"owners_pct": "101"}, "owners_pct", "1到100之间"),
        ({"max_term_years": "11"}, "max_term_years", "1到10之间"),
        ({"max_term_years": "0"}, "max_term_years", "1到10之间"),
        ({"max_term_years": "三"}, "max_term_years", "1到10之间"),
        ({"chair_appointment": "by_lot"}, "chair_appointment", ""),
    ],
)
def test_bad_rules_are_refused_with_a_clear_message(world, login_as, changes, field, message):
    response = login_as(world.users["admin"]).post(
        f"/committees/rules/{world.subdistrict.id}", data=_rules_form(**changes)
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert f'id="{field}-error"' in page
    assert message in page
    db.session.expire_all()
    assert db.session.get(CommitteeRules, world.subdistrict.id) is None


def test_even_bounds_with_an_odd_number_between_are_fine(world, login_as):
    response = login_as(world.users["admin"]).post(
        f"/committees/rules/{world.subdistrict.id}",
        data=_rules_form(min_members="6", max_members="8"),
    )
    assert response.status_code == 303


@pytest.mark.parametrize(
    ("role", "status"),
    [
        ("staff", 404),
        ("other_staff", 404),
        ("committee", 404),
        ("area_committee", 404),
        ("rep", 404),
        ("resident", 404),
        ("outsider", 404),
    ],
)
def test_the_rules_are_the_admins_alone(world, login_as, role, status):
    client = login_as(world.users[role])
    url = f"/committees/rules/{world.subdistrict.id}"
    assert client.get(url).status_code == status
    assert client.post(url, data=_rules_form()).status_code == status
    db.session.expire_all()
    assert db.session.get(CommitteeRules, world.subdistrict.id) is None


def test_another_subdistricts_rules_are_out_of_sight(world, login_as):
    from compound_app.registry.models import Subdistrict

    other = Subdistrict(name="东城街道", city="孝义市")
    db.session.add(other)
    db.session.commit()
    admin = login_as(world.users["admin"])
    assert admin.get(f"/committees/rules/{other.id}").status_code == 404
    assert admin.post(f"/committees/rules/{other.id}", data=_rules_form()).status_code == 404


# --- staff see how many pilots' committees depart from the rules ------------------------------


def _pilot(compound) -> Pilot:  # type: ignore[no-untyped-def]
    pilot = Pilot(
        compound_id=compound.id,
        selected_on=days_ago(106),
        stage="organised",
        stage_since=days_ago(45),
        model=compound.model,
    )
    db.session.add(pilot)
    db.session.flush()
    db.session.add(StageChange(pilot_id=pilot.id, to_stage="organised", on=days_ago(45)))
    db.session.commit()
    return pilot


def _well_made(world) -> Committee:  # type: ignore[no-untyped-def]
    """The contiguous area's committee, made up as the default rules ask."""
    c = service.committee_for_area(world.contiguous_area.id)
    c.chair_appointed = ChairAppointment.NAMED
    c.members[0].kind = MemberKind.RESIDENTS_COMMITTEE
    for kind in (MemberKind.OWNER, MemberKind.OWNER, MemberKind.OWNER, MemberKind.POLICE):
        seat(c, kind)
    db.session.commit()
    return c


def test_the_dashboard_counts_the_pilots_whose_committee_departs(world, login_as):
    _well_made(world)
    for compound in (world.branch, *world.contiguous):
        _pilot(compound)
    page = login_as(world.users["staff"]).get("/oversight/").get_data(as_text=True)
    # The branch's committee of one departs; the contiguous area's committee (three pilots)
    # is made up as the rules ask.
    assert 'id="committees-off-rules"><b>1</b>' in page
    pilot = db.session.scalar(select(Pilot).where(Pilot.compound_id == world.branch.id))
    pilot_page = login_as(world.users["staff"]).get(f"/oversight/pilots/{pilot.id}")
    assert 'id="committee-findings"' in pilot_page.get_data(as_text=True)
    fine = db.session.scalar(select(Pilot).where(Pilot.compound_id == world.contiguous[0].id))
    fine_page = login_as(world.users["staff"]).get(f"/oversight/pilots/{fine.id}")
    assert 'id="committee-findings"' not in fine_page.get_data(as_text=True)


def test_the_count_is_one_query_whatever_the_number_of_committees(world):
    _well_made(world)
    areas = [world.branch.area_id, world.contiguous_area.id, world.trust.area_id]
    statements: list[str] = []

    def count(*args: object) -> None:
        statements.append(str(args[2]))

    db.session.expire_all()
    event.listen(db.engine, "before_cursor_execute", count)
    try:
        off = service.areas_off_rules(areas)
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    assert off == {world.branch.area_id}
    assert len(statements) == 1, statements


def test_the_count_reads_the_subdistricts_saved_rules(world):
    _well_made(world)
    db.session.add(
        CommitteeRules(
            subdistrict_id=world.subdistrict.id, **{**service.DEFAULT_RULES, "min_members": 7}
        )
    )
    db.session.commit()
    assert service.areas_off_rules([world.branch.area_id, world.contiguous_area.id]) == {
        world.branch.area_id,
        world.contiguous_area.id,
    }
    assert service.areas_off_rules([]) == set()

"""The three lists (问题清单、责任清单、整改清单): the figures kept on write against a recount
from random histories, the pages and their access, the ledger's sheets without reporters,
and the checklist rule "no problem overdue longer than N days"."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

import pytest
from flask_babel import force_locale
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook

from compound_app import access, clock
from compound_app.errors import RuleError
from compound_app.extensions import db
from compound_app.oversight import lists, pilots
from compound_app.oversight.checklist import checklist, settings_for, verdicts
from compound_app.oversight.facts import gather, window
from compound_app.problems import service
from compound_app.problems.models import Problem, Status
from tests.factories import World, first_household
from tests.oversight.test_oversight import _pilot

START = datetime(2026, 3, 1, 2, 0, tzinfo=UTC)


def p_of(u):  # type: ignore[no-untyped-def]
    return access.load_principal(u)


def _complaint(world: World, anonymous: bool = False, title: str = "楼道灯坏了") -> Problem:
    resident = world.users["resident"]
    home = first_household(world.branch)
    filing = service.Filing(
        kind="default:safety",
        title=title,
        source="complaint",
        household_id=home.id,
        unit_id=home.unit_id,
        anonymous=anonymous,
    )
    problem = service.file_problem(
        world.community, world.branch, filing, resident, p=p_of(resident)
    )
    db.session.commit()
    return problem


def _staff_problem(world: World, compound=None, title: str = "垃圾清运不及时") -> Problem:  # type: ignore[no-untyped-def]
    staff = world.users["staff"]
    filing = service.Filing(kind="default:sanitation", title=title, source="survey")
    problem = service.file_problem(world.community, compound, filing, staff, p=p_of(staff))
    db.session.commit()
    return problem


# --- the figures against a recount ------------------------------------------------------------

MOVES = st.lists(
    st.tuples(
        st.sampled_from(
            ["file", "file_wide", "reply", "fix", "verify", "reopen", "rate", "escalate", "time"]
        ),
        st.integers(0, 5),
        st.integers(1, 200),  # hours the clock moves
    ),
    min_size=1,
    max_size=14,
)


@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(moves=MOVES)
def test_the_kept_figures_equal_a_recount_from_random_histories(
    app, world, held_clock, moves
) -> None:  # type: ignore[no-untyped-def]
    staff, resident = world.users["staff"], world.users["resident"]
    held_clock.now = START
    with app.test_request_context(), force_locale("en"):
        made: list[Problem] = list(db.session.scalars(db.select(Problem).order_by(Problem.id)))
        for move, pick, hours in moves:
            held_clock.now += timedelta(hours=hours)
            problem = made[pick % len(made)] if made else None
            try:
                if move == "file":
                    made.append(_complaint(world))
                elif move == "file_wide":
                    made.append(_staff_problem(world))
                elif problem is None:
                    continue
                elif move == "reply":
                    service.reply(problem, "收到，安排处理", staff, p=p_of(staff))
                elif move == "fix":
                    service.mark_fixed(problem, "已修好", staff, p=p_of(staff))
                elif move == "verify":
                    service.verify(problem, resident, p=p_of(resident))
                elif move == "reopen":
                    service.reopen(problem, "又坏了", staff, p=p_of(staff))
                elif move == "rate":
                    service.rate(problem, 1 + hours % 5, "", resident, p=p_of(resident))
                elif move == "escalate":
                    service.escalate_overdue()
                db.session.commit()
            except RuleError:
                db.session.rollback()
        assert lists.check() == []
        rows = list(db.session.scalars(db.select(Problem)))
        overdue = sum(1 for r in rows if service.is_overdue(r))
        # The community's page counts overdue problems live; the subdistrict's reads the
        # count the escalation job took, and says when.
        assert lists.total(lists.by_compound(world.community.id).values()).overdue == overdue
        lists.refresh_overdue()
        figures = lists.by_community([world.community.id])[world.community.id]
        assert figures.filed == len(rows)
        assert figures.open == sum(1 for r in rows if r.status != Status.CLOSED)
        assert figures.resolved == sum(1 for r in rows if r.status in lists.RESOLVED)
        assert figures.rated == sum(1 for r in rows if r.rating is not None)
        assert figures.overdue == overdue
        assert figures.overdue_at == held_clock.now


def test_check_finds_a_kept_figure_that_drifted_and_rebuild_mends_it(app, world) -> None:  # type: ignore[no-untyped-def]
    with app.test_request_context(), force_locale("en"):
        _complaint(world)
        row = db.session.scalars(db.select(lists.ProblemMonth)).one()
        row.filed = 5
        db.session.commit()
        total = db.session.scalars(db.select(lists.ProblemTotal)).one()
        total.replied = 3
        db.session.add(
            lists.ProjectTotal(
                community_id=world.community.id, stage="approved", kind="livelihood", projects=2
            )
        )
        db.session.commit()
        found = lists.check()
        assert any("filed: 5 ≠ 1" in line for line in found)
        assert any("total replied: 3 ≠ 0" in line for line in found)
        assert any("projects approved livelihood: 2 ≠ 0" in line for line in found)
        lists.rebuild()
        db.session.commit()
        assert lists.check() == []
    result = app.test_cli_runner().invoke(args=["oversight", "check-lists"])
    assert result.exit_code == 0, result.output


# --- the pages ----------------------------------------------------------------------------------


def test_the_subdistrict_page_shows_each_community_on_three_tabs(app, world, login_as) -> None:  # type: ignore[no-untyped-def]
    with app.test_request_context(), force_locale("en"):
        _complaint(world)
        _staff_problem(world)
    client = login_as(world.users["admin"])
    url = f"/oversight/lists/subdistricts/{world.subdistrict.id}"
    html = client.get(url).get_data(as_text=True)
    assert world.community.name in html and world.other_community.name in html
    assert html.count('id="lists-table"') == 1
    for tab in ("responsibility", "rectification"):
        answer = client.get(
            f"{url}?tab={tab}&sort=overdue&dir=desc",
            headers={"HX-Request": "true", "HX-Target": "lists-table"},
        )
        fragment = answer.get_data(as_text=True)
        assert answer.status_code == 200 and "<html" not in fragment
        assert fragment.lstrip().startswith('<section id="lists-table"')
    community = client.get(f"/oversight/lists/communities/{world.community.id}")
    assert community.status_code == 200
    assert world.branch.name in community.get_data(as_text=True)
    dashboard = client.get("/oversight/").get_data(as_text=True)
    assert url in dashboard


def test_the_subdistrict_counts_overdue_problems_as_the_job_last_did(
    app, world, held_clock, login_as
) -> None:  # type: ignore[no-untyped-def]
    held_clock.now = START
    with app.test_request_context(), force_locale("en"):
        _staff_problem(world)
    client = login_as(world.users["admin"])
    url = f"/oversight/lists/subdistricts/{world.subdistrict.id}"
    assert "超期问题数为" not in client.get(url).get_data(as_text=True)  # not counted yet
    for _level in range(3):  # overdue at each level: up to the 党工委, then overdue there
        held_clock.now += timedelta(days=60)
        result = app.test_cli_runner().invoke(args=["problems", "escalate"])
        assert result.exit_code == 0, result.output
    with app.app_context():
        kept = lists.by_community([world.community.id])[world.community.id]
        assert kept.overdue == 1 and kept.overdue_at == held_clock.now
    client = login_as(world.users["admin"])  # signed in again, months later
    html = client.get(url).get_data(as_text=True)
    assert "超期问题数为" in html and "每隔几分钟重新统计一次" in html
    assert "超期（" in client.get("/oversight/").get_data(as_text=True)


@pytest.mark.parametrize(
    "query",
    [
        "?tab=<script>&sort=%00&dir=up&page=-1",
        "?page=99999999999999999999&sort=__class__",
        "?tab=problems&page=abc&sort=rate&dir=desc",
    ],
)
def test_hostile_paging_and_sorting_never_fail(world, login_as, query) -> None:  # type: ignore[no-untyped-def]
    client = login_as(world.users["admin"])
    answer = client.get(f"/oversight/lists/subdistricts/{world.subdistrict.id}{query}")
    assert answer.status_code == 200
    assert "<script>" not in answer.get_data(as_text=True)


def test_who_may_read_the_lists_and_the_ledger(world, login_as) -> None:  # type: ignore[no-untyped-def]
    sub = f"/oversight/lists/subdistricts/{world.subdistrict.id}"
    com = f"/oversight/lists/communities/{world.community.id}"
    for role in ("committee", "resident", "rep", "outsider"):
        client = login_as(world.users[role])
        for url in (sub, sub + "/ledger.xlsx", com, com + "/ledger.xlsx"):
            assert client.get(url).status_code == 404, (role, url)
    other = login_as(world.users["other_staff"])
    for url in (com, com + "/ledger.xlsx"):
        assert other.get(url).status_code == 404, url
    for url in (sub, sub + "/ledger.xlsx"):
        assert other.get(url).status_code in (403, 404), url
    staff = login_as(world.users["staff"])
    assert staff.get(com).status_code == 200
    assert staff.get(com + "/ledger.xlsx").status_code == 200


def test_the_pilot_page_shows_the_figures_and_the_trend_lines(app, world, login_as) -> None:  # type: ignore[no-untyped-def]
    pilot = _pilot(world.branch, "party_branch", window(3)[0])
    with app.test_request_context(), force_locale("en"):
        _complaint(world)
    html = (
        login_as(world.users["staff"]).get(f"/oversight/pilots/{pilot.id}").get_data(as_text=True)
    )
    assert "三个清单" in html
    assert html.count("<svg") >= 5  # the two repair lines and the three problem lines


# --- the ledger -----------------------------------------------------------------------------------


def test_the_ledger_has_the_seeds_sheets_and_never_the_anonymous_reporter(
    app, world, login_as
) -> None:  # type: ignore[no-untyped-def]
    resident = world.users["resident"]
    with app.test_request_context(), force_locale("en"):
        _complaint(world, anonymous=True, title="匿名投诉噪音")
        _staff_problem(world, world.trust)
    content = login_as(world.users["admin"]).get(
        f"/oversight/lists/subdistricts/{world.subdistrict.id}/ledger.xlsx"
    )
    assert content.status_code == 200
    book = load_workbook(io.BytesIO(content.data))
    assert book.sheetnames == ["问题清单", "责任清单", "整改清单", "汇总"]
    register = list(book["问题清单"].values)
    assert register[0] == (
        "序号",
        "社区",
        "小区",
        "来源",
        "类别",
        "问题",
        "发现日期",
        "严重程度",
        "状态",
    )
    assert len(register) == 3
    assert next(iter(book["责任清单"].values))[:3] == ("问题", "责任层级", "责任人/部门")
    assert next(iter(book["整改清单"].values))[1] == "类别"
    cells = " ".join(str(v) for ws in book for row in ws.values for v in row if v is not None)
    assert "匿名投诉噪音" in cells
    assert resident.name not in cells and resident.mobile not in cells
    # The summary counts the problems by kind and the projects by the five kinds.
    assert "民生" in cells and "安全隐患" in cells


# --- the checklist rule ---------------------------------------------------------------------------


def test_the_overdue_rule_is_off_by_default_and_judges_at_its_edge(app, world, held_clock) -> None:  # type: ignore[no-untyped-def]
    pilot = _pilot(world.branch, "party_branch", window(3)[0])
    held_clock.now = START
    with app.test_request_context(), force_locale("en"):
        problem = _complaint(world)
        due = problem.reply_due_at  # the first deadline it lets pass
        pilots.save_settings(world.subdistrict.id, overdue_rule=False, overdue_days=10)
        db.session.commit()
        settings_ = settings_for(world.subdistrict.id)

        def verdict_at(moment: datetime) -> bool | None:
            held_clock.now = moment
            facts = gather([pilot], window(3))[0]
            return verdicts(facts, settings_).get("problems")

        assert verdict_at(due + timedelta(days=20)) is None  # switched off: no rule
        settings_.overdue_rule = True
        db.session.commit()
        assert verdict_at(due + timedelta(days=10)) is True  # overdue exactly N days: passes
        assert verdict_at(due + timedelta(days=10, minutes=1)) is False
        facts = gather([pilot], window(3))[0]
        check = next(c for c in checklist(facts, settings_) if c.code == "problems")
        assert "10" in check.label and not check.passed


def test_the_admin_switches_the_rule_on_the_thresholds_page(world, login_as) -> None:  # type: ignore[no-untyped-def]
    client = login_as(world.users["admin"])
    url = f"/oversight/subdistricts/{world.subdistrict.id}/settings"
    form = {
        "rep_coverage_pct": "90",
        "collection_pct": "80",
        "repairs_in_target_pct": "80",
        "window_months": "3",
        "overdue_rule": "y",
        "overdue_days": "14",
        "min_publicity_days": "7",
    }
    assert client.post(url, data=form).status_code == 303
    saved = settings_for(world.subdistrict.id)
    assert saved.overdue_rule and saved.overdue_days == 14
    bad = client.post(url, data={**form, "overdue_days": "0"})
    assert bad.status_code == 422
    assert settings_for(world.subdistrict.id).overdue_days == 14
    assert clock.now()  # the page never read the real date


def test_a_projects_moves_on_its_problems_are_kept_too(app, world) -> None:  # type: ignore[no-untyped-def]
    from compound_app.rectify import service as rectify
    from tests.rectify.test_projects import _complaint as resident_complaint
    from tests.rectify.test_projects import _project

    staff, resident = world.users["staff"], world.users["resident"]
    with app.test_request_context(), force_locale("en"):
        project = _project(world, resident_complaint(world))
        rectify.complete(project, staff, "已更换灯具", [], "rectify-done-key-lists-0001")
        db.session.commit()
        rectify.verify(project, resident, True, "好了", rating=5, p=p_of(resident))
        db.session.commit()
        assert lists.check() == []
        f = lists.of_compound(world.branch.id)
        assert (f.filed, f.resolved, f.closed, f.rated, f.rate) == (1, 1, 1, 1, 100.0)
        assert f.projects == {"verified": 1} and f.satisfaction == 5
        kept = lists.by_community([world.community.id])[world.community.id]
        assert kept.projects == {"verified": 1} and kept.project_count == 1
        assert (kept.filed, kept.closed, kept.rated) == (1, 1, 1)

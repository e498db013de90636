"""Command-line tasks: the demo data, the first administrator, new communities."""

from __future__ import annotations

import fcntl
import re
import shutil
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import func, select

from compound_app.auth.models import Role, RoleGrant, User
from compound_app.extensions import db
from compound_app.registry.models import Community, Compound, ManagementModel, Pilot
from tests.conftest import PG_URL, Template, _config, make_app


def scalar(stmt):  # type: ignore[no-untyped-def]
    db.session.expire_all()
    return db.session.scalar(stmt)


@pytest.fixture(scope="session")
def loaded_demo(
    database_template: Template, tmp_path_factory: pytest.TempPathFactory, worker_id: str
) -> Path:
    """SQLite: the demo loaded once per run into a folder (its database, its photos and what
    the command printed), shared by every worker of the run: the first to need it builds
    it while the others wait on a lock."""
    base = tmp_path_factory.getbasetemp()
    shared = base.parent if worker_id != "master" else base  # one folder per run
    folder = shared / "demo"
    with open(shared / "demo.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (folder / "output.txt").exists():
            folder.mkdir(exist_ok=True)
            shutil.copyfile(database_template.uri, folder / "demo.db")
            app = make_app(_config(f"sqlite:///{folder / 'demo.db'}", folder))
            app.instance_path = str(folder / "instance")
            with app.app_context():
                result = app.test_cli_runner().invoke(args=["demo"])
                assert result.exit_code == 0, result.output
                db.session.remove()
                db.engine.dispose()
            (folder / "output.txt").write_text(result.output, encoding="utf-8")
    return folder


@pytest.fixture
def demo(request: pytest.FixtureRequest, app: Flask) -> Flask:
    """The test's app with the demo in it: a copy of the one loaded for the run (SQLite), or
    loaded now (PostgreSQL, where every test has the one database of its worker)."""
    if PG_URL:
        result = app.test_cli_runner().invoke(args=["demo"])
        assert result.exit_code == 0, result.output
        return app
    folder: Path = request.getfixturevalue("loaded_demo")
    db.session.remove()
    db.engine.dispose()
    target = app.config["SQLALCHEMY_DATABASE_URI"].removeprefix("sqlite:///")
    shutil.copyfile(folder / "demo.db", target)
    shutil.copytree(folder / "instance", app.instance_path, dirs_exist_ok=True)
    return app


def test_demo_tells_the_story_of_xinyi(request: pytest.FixtureRequest, app: Flask) -> None:
    runner = app.test_cli_runner()
    if PG_URL:
        result = runner.invoke(args=["demo"])
        assert result.exit_code == 0, result.output
        output = result.output
    else:  # the run's demo, loaded once: the same command, the same database
        request.getfixturevalue("demo")
        output = (request.getfixturevalue("loaded_demo") / "output.txt").read_text("utf-8")
    assert "13900000001" in output and "xinyi2026" in output
    assert scalar(select(func.count()).select_from(Community)) == 10
    assert scalar(select(func.count()).select_from(Compound)) == 189
    assert scalar(select(func.count()).select_from(Pilot)) == 30
    assert (
        scalar(select(func.count()).select_from(Pilot).where(Pilot.stage == "self_governing")) == 18
    )
    models = {
        m
        for (m,) in db.session.execute(
            select(Compound.model).join(Pilot, Pilot.compound_id == Compound.id)
        )
    }
    assert {
        ManagementModel.CONTIGUOUS,
        ManagementModel.PARTY_BRANCH,
        ManagementModel.TRUSTEESHIP,
    } <= models
    # Contiguous areas group 3–5 compounds.
    sizes = (
        db.session.execute(
            select(func.count(Compound.id))
            .where(Compound.model == ManagementModel.CONTIGUOUS)
            .group_by(Compound.area_id)
        )
        .scalars()
        .all()
    )
    assert sizes and all(3 <= n <= 5 for n in sizes)
    # A living ledger: every charging pilot has a schedule, bills, payments by several
    # collectors (a few reversed), hand-overs, expenses and published boards — and the
    # running totals equal the entries.
    from compound_app.fees import proofs
    from compound_app.fees.models import (
        CashHandover,
        Expense,
        FeeSchedule,
        FinanceBoard,
        Payment,
        Reversal,
    )

    assert scalar(select(func.count()).select_from(FeeSchedule)) >= 10
    for model in (CashHandover, Expense, FinanceBoard, Reversal):
        assert scalar(select(func.count()).select_from(model)) > 0, model.__name__
    assert scalar(select(func.count(Payment.collector_id.distinct()))) > 10
    assert proofs.check_totals() == []
    assert runner.invoke(args=["fees", "check"]).exit_code == 0
    assert "0 bills issued" in runner.invoke(args=["fees", "bills"]).output
    # Every demo account can sign in and has its role.
    for n in range(1, 11):
        user = scalar(select(User).where(User.mobile == f"139000000{n:02d}"))
        assert user.password_hash and user.grants, n
    # Loading again: refused, or skipped politely with --if-empty.
    again = runner.invoke(args=["demo"])
    assert again.exit_code != 0
    polite = runner.invoke(args=["demo", "--if-empty"])
    assert polite.exit_code == 0 and "13900000001" in polite.output
    assert scalar(select(func.count()).select_from(Compound)) == 189


@pytest.mark.xdist_group("demo")
def test_demo_accounts_work_in_the_browser_flow(demo, client):
    response = client.post("/auth/login", data={"mobile": "13900000008", "password": "xinyi2026"})
    assert response.status_code == 303
    html = client.get("/").get_data(as_text=True)
    assert "新国土小区-1号楼-1单元" in html


def test_demo_refuses_a_production_configuration(app):
    app.config["ENV_NAME"] = "production"
    result = app.test_cli_runner().invoke(args=["demo"])
    assert result.exit_code != 0 and "production" in result.output
    assert scalar(select(func.count()).select_from(Compound)) == 0


def test_create_admin_prints_a_working_activation_code(app, client):
    result = app.test_cli_runner().invoke(
        args=["create-admin", "--mobile", "13811112222", "--name", "王建华"]
    )
    assert result.exit_code == 0, result.output
    code = re.search(r"Activation code: (\S+)", result.output).group(1)
    admin = scalar(select(User).where(User.mobile == "13811112222"))
    assert (
        scalar(select(RoleGrant.role).where(RoleGrant.user_id == admin.id))
        == Role.SUBDISTRICT_ADMIN
    )
    response = client.post(
        "/auth/activate",
        data={
            "code": code,
            "mobile": "13811112222",
            "new_password": "a-good-passphrase",
            "confirm": "a-good-passphrase",
        },
    )
    assert response.status_code == 303
    assert client.get("/registry/communities").status_code == 200


def test_create_admin_rejects_bad_input(app):
    runner = app.test_cli_runner()
    assert runner.invoke(args=["create-admin", "--mobile", "12345", "--name", "王"]).exit_code != 0
    assert (
        runner.invoke(args=["create-admin", "--mobile", "13811112222", "--name", "x1"]).exit_code
        != 0
    )
    assert scalar(select(func.count()).select_from(User)) == 0


def test_admin_adds_a_community(world, login_as):
    admin = login_as(world.users["admin"])
    ok = admin.post("/registry/communities/new", data={"name": "新建社区", "code": "xj"})
    assert ok.status_code == 303
    assert scalar(select(Community.code).where(Community.name == "新建社区")) == "XJ"
    for data in (
        {"name": "新建社区", "code": "XK"},
        {"name": "另一个", "code": "XJ"},
        {"name": "", "code": "AB"},
        {"name": "好", "code": "A1B"},
    ):
        assert admin.post("/registry/communities/new", data=data).status_code == 422, data
    assert login_as(world.users["staff"]).get("/registry/communities/new").status_code == 404


def test_demo_builds_the_benchmark_datasets_with_sample_sign_ins(app, client):
    result = app.test_cli_runner().invoke(args=["demo", "--scale", "small"])
    assert result.exit_code == 0, result.output
    assert scalar(select(func.count()).select_from(Compound)) == 20
    from compound_app.registry.models import Household

    assert scalar(select(func.count()).select_from(Household)) == 3000
    mobiles = re.findall(r"^  (1[3-9]\d{9})  ", result.output, flags=re.M)
    assert len(mobiles) == 5  # one per role
    response = client.post("/auth/login", data={"mobile": mobiles[0], "password": "xinyi2026"})
    assert response.status_code == 303


@pytest.mark.xdist_group("demo")
def test_demo_committees_are_made_up_as_the_rules_ask(demo):
    from compound_app.committees import service as committees
    from compound_app.committees.models import Committee

    found = db.session.scalars(select(Committee)).all()
    assert len(found) >= 4
    for committee in found:
        rules = committees.rules_for(committee.area.community.subdistrict_id)
        assert committees.makeup_findings(committee, rules) == [], committee.name
        assert committee.chair_appointed == "named" and committee.chair_appointed_by
    assert not committees.areas_off_rules(c.area_id for c in found)


@pytest.mark.xdist_group("demo")
def test_demo_repairs_follow_the_pilots_story(demo, client):
    """Half a year of repairs in the pilots: every status, consistent monthly figures, the
    seed's 131 cameras in the registers, meetings, works with photos and their costs."""
    app = demo
    from compound_app.fees import proofs
    from compound_app.repairs import levels, queries
    from compound_app.repairs.models import (
        Channel,
        Facility,
        Meeting,
        RepairEvent,
        RepairPhoto,
        RepairTask,
        Status,
        Work,
    )

    assert queries.check_months() == []
    assert app.test_cli_runner().invoke(args=["repairs", "check"]).exit_code == 0
    assert proofs.check_totals() == []
    cameras = select(func.sum(Facility.count)).where(Facility.kind == "camera")
    assert scalar(cameras) == 131
    statuses = set(db.session.scalars(select(RepairTask.status).distinct()))
    assert statuses == set(Status)
    assert scalar(select(func.count()).where(RepairEvent.kind == "reopened")) > 0
    assert scalar(select(func.count()).where(RepairTask.channel == Channel.ASSISTED)) > 0
    assert (
        scalar(
            select(func.count()).where(
                RepairTask.channel == Channel.ASSISTED, RepairTask.resident_name == ""
            )
        )
        == 0
    )
    overdue = [t for t in db.session.scalars(select(RepairTask)) if levels.is_overdue(t)]
    assert overdue
    # Review meetings (会诊) only where a party branch runs the compound; tasks come of them.
    models = set(
        db.session.scalars(
            select(Compound.model)
            .join(Meeting, Meeting.compound_id == Compound.id)
            .where(Meeting.kind == "review")
        )
    )
    assert models == {ManagementModel.PARTY_BRANCH}
    assert scalar(select(func.count()).where(RepairTask.decision_id.is_not(None))) > 0
    assert scalar(select(func.count()).select_from(Meeting).where(Meeting.kind == "residents"))
    # Works: before and after photos that download, costs linked to the fee ledger.
    assert scalar(select(func.count()).where(Work.expense_id.is_not(None))) > 0
    photo = scalar(
        select(RepairPhoto)
        .join(Work, Work.id == RepairPhoto.work_id)
        .join(Compound, Compound.id == Work.compound_id)
        .where(Compound.name == "新国土小区", RepairPhoto.stage == "after")
    )
    response = client.post("/auth/login", data={"mobile": "13900000009", "password": "xinyi2026"})
    assert response.status_code == 303
    download = client.get(f"/repairs/photos/{photo.id}")
    assert download.status_code == 200 and download.data[:2] == b"\xff\xd8"
    # The demo resident finds his reports, one of them waiting for his check.
    mine = client.get("/repairs/mine").get_data(as_text=True)
    assert "待验收" in mine or "Done, awaiting check" in mine


@pytest.mark.xdist_group("demo")
def test_demo_pilots_tell_the_story_from_their_records(demo, client):
    """30 pilots with their plans and dated histories; the 18 self-governing ones pass the
    checklist computed from their fees, boards and repairs, and no other pilot does; the
    dashboard says so. 新国土小区 has asked its residents, and is voting."""
    app = demo
    from compound_app.oversight import dashboard
    from compound_app.oversight.models import Certification, Milestone, StageChange
    from compound_app.votes.models import Ballot, Consultation, Vote

    pilots = db.session.scalars(select(Pilot)).all()
    assert len(pilots) == 30
    assert {p.model for p in pilots} == {"contiguous", "party_branch", "trusteeship"}
    for pilot in pilots:
        history = db.session.scalars(
            select(StageChange).where(StageChange.pilot_id == pilot.id).order_by(StageChange.id)
        ).all()
        assert history[0].to_stage == "selected" and history[-1].to_stage == pilot.stage
        assert pilot.service_scope and pilot.fee_note
    assert db.session.scalar(select(func.count(Milestone.id))) == 5 * 30

    admin = db.session.scalar(select(User).where(User.mobile == "13900000001"))
    from compound_app import access

    with app.test_request_context():
        board = dashboard.build(dashboard.Filters(), access.load_principal(admin))
    passing = {r.facts.compound.name for r in board.rows if r.passes}
    governing = {
        r.facts.compound.name for r in board.rows if r.facts.pilot.stage == "self_governing"
    }
    assert len(governing) == 18 and passing == governing
    assert board.total.pilots == 30 and board.total.facilities["camera"] == 131
    certifications = db.session.scalars(select(Certification)).all()
    assert len(certifications) == 18 and all(c.passed for c in certifications)
    assert {m for m, s in board.by_model if s.pilots} == {
        "contiguous",
        "party_branch",
        "trusteeship",
    }

    consultation = db.session.scalars(select(Consultation)).one()
    assert consultation.closed
    vote = db.session.scalars(select(Vote).where(Vote.status == "open")).one()
    assert vote.title == "使用维修资金更换楼道照明" and vote.total_heads > 0
    # Each area that charges fees used its maintenance fund once, through a vote that
    # passed, a 公示 and the fund centre's money; no money account is below zero.
    from compound_app.fund.models import FundApplication
    from compound_app.treasury.models import MoneyAccount

    applications = db.session.scalars(select(FundApplication)).all()
    assert sum(a.state == "closed" for a in applications) >= 10
    assert all(a.disbursed_fen > 0 for a in applications if a.state == "closed")
    assert db.session.scalar(select(func.min(MoneyAccount.balance_fen))) >= 0
    assert db.session.scalar(select(func.count(Ballot.id))) > 0
    page = client.get("/")  # the demo's sign-in page answers
    assert page.status_code in (200, 302)


@pytest.mark.xdist_group("demo")
def test_demo_takes_a_pilot_to_the_eve_of_its_hand_over(demo, client):
    """百货公司宿舍 (迎宾南社区): its preparation group, a passed first assembly, five elected
    owners and the filing; no money open, so staff may confirm the hand-over."""
    from compound_app.transition import bundle, service
    from compound_app.transition.models import Transition

    (found,) = db.session.scalars(select(Transition)).all()
    assert found.area.compounds[0].name == "百货公司宿舍"
    assert [s.kind for s in found.steps] == ["prepared", "assembly", "elected", "filed"]
    vote = service.latest(found, "assembly").vote
    assert vote.status == "closed" and vote.passed
    assert len(service.people(service.latest(found, "elected"))) == 5
    assert bundle.open_money(found.area) == []
    response = client.post("/auth/login", data={"mobile": "13900000004", "password": "xinyi2026"})
    assert response.status_code == 303
    listed = client.get("/transition/?stage=filed").get_data(as_text=True)
    assert "百货公司宿舍" in listed
    page = client.get(f"/transition/areas/{found.area_id}").get_data(as_text=True)
    assert 'id="handover"' in page and "还有资金未结清" not in page

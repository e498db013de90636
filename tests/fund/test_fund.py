"""The maintenance fund: statements of the balance, an application's steps and every
refusal on the way to the money, the electorate of its vote, where a work's cost came
from, the pages by role, and a property test of balances and disbursements."""

from __future__ import annotations

import io
from datetime import timedelta
from typing import Any

import pytest
from flask_babel import force_locale
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from compound_app import access, clock
from compound_app.access import Action
from compound_app.errors import RuleError
from compound_app.extensions import db
from compound_app.fees import expenses, proofs
from compound_app.fees.models import ExpenseKind
from compound_app.fund import service as fund
from compound_app.fund.models import (
    AppState,
    FundApplication,
    FundBalance,
    FundChangeRefused,
    FundDisbursement,
    FundStep,
)
from compound_app.fund.proofs import check_fund
from compound_app.repairs import works
from compound_app.votes import service as votes
from compound_app.votes.models import ElectorHome
from tests.factories import (
    World,
    _jpeg,
    close_counted,
    days_ago,
    fund_objects,
    open_announced_fund_vote,
    passed_fund_application,
)

_n = iter(range(10**6))


def _key() -> str:
    return f"fund-test-key-{next(_n):08d}-abcdef"


def _balance(world: World, fen: int, on: Any = None, building: Any = None) -> FundBalance:
    return fund.record_balance(
        world.branch,
        world.users["committee"],
        building=building,
        balance_fen=fen,
        stated_on=on or days_ago(20),
        photo="",
        request_key=_key(),
    )


def _disburse(app: FundApplication, world: World, fen: int, on: Any = None) -> FundDisbursement:
    return fund.disburse(
        app,
        world.users["committee"],
        amount_fen=fen,
        disbursed_on=on or clock.today(),
        reference="维资拨字第9号",
        photo="",
        request_key=_key(),
    )


def _refused(match: str, change: Any) -> None:
    """Refused, saying ``match`` (read in English)."""
    with force_locale("en"), pytest.raises(RuleError, match=match):
        change()
    db.session.rollback()


# --- balances ---------------------------------------------------------------------------------


def test_a_newer_statement_supersedes_and_the_history_stays(world: World) -> None:
    b1 = world.branch.buildings[0]
    _balance(world, 1_000_000, days_ago(60))
    _balance(world, 900_000, days_ago(10))
    _balance(world, 400_000, days_ago(10), b1)
    db.session.commit()
    latest = fund.latest_balances(world.branch.id)
    assert latest[None].balance_fen == 900_000 and latest[b1.id].balance_fen == 400_000
    assert len(fund.balance_history(world.branch.id)) == 3
    # One building with its own statement, the other without: the compound's counts.
    both = fund.available(world.branch.id, [b.id for b in world.branch.buildings])
    assert both is not None and both.whole and both.fen == 900_000
    own = fund.available(world.branch.id, [b1.id])
    assert own is not None and not own.whole and own.fen == 400_000
    # Refused: a future statement, another compound's building; a double tap writes once.
    _refused("future", lambda: _balance(world, 1, clock.today() + timedelta(days=1)))
    other = world.trust.buildings[0]
    _refused("buildings", lambda: _balance(world, 1, building=other))
    row = fund.record_balance(
        world.branch,
        world.users["committee"],
        building=None,
        balance_fen=5,
        stated_on=days_ago(1),
        photo="",
        request_key="same-key-0000000001",
    )
    again = fund.record_balance(
        world.branch,
        world.users["committee"],
        building=None,
        balance_fen=5,
        stated_on=days_ago(1),
        photo="",
        request_key="same-key-0000000001",
    )
    assert row.id == again.id


# --- an application's steps -------------------------------------------------------------------


def test_shares_add_up_to_the_budget() -> None:
    assert fund.split_budget(100, [7000, 7000, 7000], "area") == [34, 33, 33]
    assert sum(fund.split_budget(999_999, [6850, 9012, 5500, 1], "area")) == 999_999
    assert fund.split_budget(10, [1, 99], "equal") == [5, 5]
    with pytest.raises(RuleError):
        fund.split_budget(10, [0, 0], "area")


def test_the_vote_is_put_to_exactly_the_homes_that_bear_the_cost(world: World) -> None:
    chair = world.users["committee"]
    unit = world.branch.buildings[1].units[0]
    app = fund.draft_application(
        world.branch, chair, fund.Draft("二号楼一单元屋面", 120_000, [unit.id]), _key()
    )
    assert app.state == AppState.DRAFT and app.work.funding == "maintenance_fund"
    vote = open_announced_fund_vote(app, chair)
    db.session.commit()
    homes = set(
        db.session.scalars(select(ElectorHome.household_id).where(ElectorHome.vote_id == vote.id))
    )
    assert homes == {h.id for h in unit.households} == {s.household_id for s in app.shares}
    assert vote.matter == "use_fund" and vote.scope_kind == "building"
    # Settling an open vote is refused; a second vote is refused.
    _refused("not closed", lambda: fund.settle_vote(app, chair))
    _refused("moved on", lambda: fund.put_to_vote(app, chair, clock.today()))
    assert check_fund(world.branch.area_id) == []


def test_from_the_vote_to_the_money_and_every_refusal(world: World) -> None:
    chair = world.users["committee"]
    # Not before the balance is entered: the application waits for its money.
    app = passed_fund_application(world.branch, chair, budget_fen=300_000)
    assert app.state == AppState.PUBLICITY
    publicity = app.step(AppState.PUBLICITY)
    assert publicity is not None and publicity.notice_id is not None
    _refused("balance of these buildings", lambda: _disburse(app, world, 1000))
    _balance(world, 250_000, days_ago(30))
    db.session.commit()
    _refused("more than zero", lambda: _disburse(app, world, 0))
    _refused("more than zero", lambda: _disburse(app, world, -5))
    _refused("beyond the fund", lambda: _disburse(app, world, 260_000))
    _refused("future", lambda: _disburse(app, world, 10, clock.today() + timedelta(days=1)))
    # Not dated within the 公示.
    _refused("comment period", lambda: _disburse(app, world, 10, publicity.ends_on))
    first = _disburse(app, world, 200_000)
    db.session.commit()
    assert app.state == AppState.DISBURSED
    _refused("beyond the fund", lambda: _disburse(app, world, 60_000))  # 50,000 left
    _balance(world, 900_000, clock.today())  # the centre's next statement
    db.session.commit()
    _refused("beyond the budget", lambda: _disburse(app, world, 100_001))
    _disburse(app, world, 100_000)
    fund.close_application(app, chair)
    db.session.commit()
    assert app.state == AppState.CLOSED and app.disbursed_fen == 300_000
    _refused("not waiting", lambda: _disburse(app, world, 1))
    assert fund.costs_of([app.work_id])[app.work_id][0].source == "fund"
    assert check_fund() == [] and proofs.check_totals() == []
    # Ledger rows stay as they were written.
    first.amount_fen = 1
    with pytest.raises(FundChangeRefused):
        db.session.flush()
    db.session.rollback()


def test_a_vote_that_fails_ends_the_application(world: World) -> None:
    chair = world.users["committee"]
    _balance(world, 1_000_000)
    units = [u.id for b in world.branch.buildings for u in b.units]
    app = fund.draft_application(world.branch, chair, fund.Draft("外墙", 50_000, units), _key())
    vote = open_announced_fund_vote(app, chair)
    p = access.load_principal(chair)
    for share in app.shares:
        votes.enter_paper(vote, share.household_id, "no", _jpeg(), chair, p)
    close_counted(vote, chair)
    assert fund.settle_vote(app, chair) == AppState.REJECTED
    db.session.commit()
    _refused("vote passed", lambda: _disburse(app, world, 1000))
    assert [s.state for s in app.steps] == ["draft", "voting", "rejected"]
    assert check_fund() == []


def test_the_proof_finds_a_state_that_is_not_its_steps(world: World) -> None:
    chair = world.users["committee"]
    app = fund.draft_application(
        world.branch,
        chair,
        fund.Draft("路灯", 10_000, [world.branch.buildings[0].units[0].id]),
        _key(),
    )
    app.state = AppState.CLOSED
    db.session.flush()
    assert any("≠ its steps" in p for p in check_fund())
    db.session.rollback()


def test_drafting_refuses_bad_choices(world: World) -> None:
    chair = world.users["committee"]
    trust_unit = world.trust.buildings[0].units[0].id
    unit = world.branch.buildings[0].units[0].id
    _refused(
        "stairwells",
        lambda: fund.draft_application(world.branch, chair, fund.Draft("x", 1, []), _key()),
    )
    _refused(
        "stairwells",
        lambda: fund.draft_application(
            world.branch, chair, fund.Draft("x", 1, [trust_unit]), _key()
        ),
    )
    _refused(
        "more than zero",
        lambda: fund.draft_application(world.branch, chair, fund.Draft("x", 0, [unit]), _key()),
    )
    _refused(
        "one day",
        lambda: fund.draft_application(
            world.branch, chair, fund.Draft("x", 1, [unit], comment_days=0), _key()
        ),
    )
    fees_work = works.plan_work(
        world.branch, works.WorkPlan("road", "修路", "", 1, "fees", days_ago(1)), chair
    )
    _refused(
        "paid by the fund",
        lambda: fund.draft_application(
            world.branch, chair, fund.Draft("x", 1, [unit], work=fees_work), _key()
        ),
    )


# --- where a work's cost came from ------------------------------------------------------------


def test_only_fee_funded_works_take_a_fee_ledger_expense(world: World) -> None:
    chair = world.users["committee"]
    area = world.branch.area
    expense = expenses.record_expense(
        area,
        chair,
        kind=ExpenseKind.REPAIR,
        category="",
        amount_fen=5000,
        payee="维修队",
        spent_on=clock.today(),
        note="",
        voucher=None,
        request_key=_key(),
    )
    gov = works.plan_work(
        world.branch, works.WorkPlan("road", "道路硬化", "", 9000, "government", days_ago(9)), chair
    )
    db.session.commit()
    _refused("not paid from the fees", lambda: works.link_expense(gov, expense.id, gov.version))
    paid = fund.record_work_payment(
        gov,
        chair,
        payer="government",
        amount_fen=9000,
        paid_on=days_ago(1),
        reference="孝改办12号",
        photo="",
        request_key=_key(),
    )
    db.session.commit()
    _refused(
        "that payer",
        lambda: fund.record_work_payment(
            gov,
            chair,
            payer="community",
            amount_fen=1,
            paid_on=days_ago(1),
            reference="x",
            photo="",
            request_key=_key(),
        ),
    )
    fees_work = works.plan_work(
        world.branch, works.WorkPlan("camera", "监控", "", 5000, "fees", days_ago(9)), chair
    )
    works.link_expense(fees_work, expense.id, fees_work.version)
    db.session.commit()
    costs = fund.costs_of([gov.id, fees_work.id])
    assert [(c.source, c.amount_fen) for c in costs[gov.id]] == [("government", 9000)]
    assert [(c.source, c.amount_fen) for c in costs[fees_work.id]] == [("fees", 5000)]
    assert paid.area_id == area.id


def test_a_work_paid_from_common_income_leaves_its_account_never_beyond_it(
    world: World,
) -> None:
    from compound_app.fees.models import Method
    from compound_app.income import service as income
    from compound_app.income.models import IncomeKind
    from compound_app.treasury import hooks
    from compound_app.treasury import proofs as treasury_proofs

    chair = world.users["committee"]
    area = world.branch.area
    income.record_receipt(
        area,
        chair,
        contract=None,
        kind=IncomeKind.SUBSIDY,
        payer="社区",
        amount_fen=6_000,
        method=Method.CASH,
        received_on=days_ago(2),
        note="",
        request_key=_key(),
    )
    camera = works.plan_work(
        world.branch, works.WorkPlan("camera", "监控", "", 8000, "fees", days_ago(9)), chair
    )
    db.session.commit()

    def pay(amount: int) -> Any:
        return fund.record_work_payment(
            camera,
            chair,
            payer="common_income",
            amount_fen=amount,
            paid_on=days_ago(1),
            reference="发票0012",
            photo="",
            request_key=_key(),
        )

    _refused("holds", lambda: pay(8_000))  # the cash box holds 60 yuan
    elsewhere = hooks.cash_box(world.elsewhere.area_id)  # another area's box
    _refused(
        "open account of this area",
        lambda: fund.record_work_payment(
            camera,
            chair,
            payer="common_income",
            amount_fen=100,
            paid_on=days_ago(1),
            reference="发票0013",
            photo="",
            request_key=_key(),
            paid_from=elsewhere,
        ),
    )
    row = pay(5_000)
    db.session.commit()
    assert hooks.cash_box(area.id).balance_fen == 1_000
    assert treasury_proofs.check_accounts(area.id) == []
    assert [(c.source, c.amount_fen) for c in fund.costs_of([camera.id])[camera.id]] == [
        ("common_income", 5_000)
    ]
    assert row.area_id == area.id


# --- pages and forms --------------------------------------------------------------------------


@pytest.fixture
def funded(world: World) -> dict[str, int]:
    return fund_objects(world.branch, world.users["committee"])


def test_pages_answer_by_role(world: World, funded: dict[str, int], login_as: Any) -> None:
    pages = [
        f"/fund/compounds/{world.branch.id}",
        f"/fund/applications/{funded['application_id']}",
        f"/fund/balances/{funded['balance_id']}/photo",
        f"/fund/disbursements/{funded['disbursement_id']}/photo",
        f"/fund/payments/{funded['payment_id']}/photo",
    ]
    for key in ("resident", "rep", "committee", "staff"):
        client = login_as(world.users[key])
        for page in pages:
            assert client.get(page).status_code == 200, (key, page)
    for key in ("other_staff", "outsider", "area_committee", "tenant"):
        client = login_as(world.users[key])
        for page in pages:
            assert client.get(page).status_code == 404, (key, page)
    resident = login_as(world.users["resident"])
    html = resident.get(pages[0]).get_data(as_text=True)
    assert "¥50,000.00" in html and "屋面防水" in html
    html = resident.get(pages[1]).get_data(as_text=True)
    assert "¥1,000.00" in html and "/votes/" in html
    assert "Record the money paid out" not in html and "拨付" not in html.split("<main")[-1][:0]
    works_page = login_as(world.users["committee"]).get(
        f"/repairs/compounds/{world.branch.id}/works"
    )
    assert "¥7,800.00" in works_page.get_data(as_text=True)
    # The finance board shows the month's works and who paid each, apart from the fees.
    month = f"{clock.today():%Y-%m}"
    board = login_as(world.users["committee"]).get(
        f"/fees/areas/{world.branch.area_id}/board?month={month}"
    )
    html = board.get_data(as_text=True)
    assert board.status_code == 200 and "道路硬化" in html and "屋面防水" in html


def test_forms_refuse_wrong_people_and_bad_input(
    world: World, funded: dict[str, int], login_as: Any
) -> None:
    url = f"/fund/compounds/{world.branch.id}/balances"
    data = {"building": "", "balance": "12,345.60", "stated_on": days_ago(1).isoformat()}
    assert (
        login_as(world.users["resident"]).post(url, data={**data, "key": _key()}).status_code == 403
    )
    assert (
        login_as(world.users["other_staff"]).post(url, data={**data, "key": _key()}).status_code
        == 404
    )
    chair = login_as(world.users["committee"])
    before = db.session.scalar(select(func.count(FundBalance.id)))
    bad = chair.post(url, data={**data, "balance": "-1", "key": _key()})
    assert bad.status_code == 422
    bad = chair.post(url, data={**data, "building": "99999", "key": _key()})
    assert bad.status_code == 422
    photo = chair.post(
        url,
        data={**data, "key": _key(), "photo": (io.BytesIO(b"not a photo"), "x.jpg")},
        content_type="multipart/form-data",
    )
    assert photo.status_code == 422
    assert db.session.scalar(select(func.count(FundBalance.id))) == before
    key = _key()
    assert chair.post(url, data={**data, "key": key}).status_code == 303
    assert chair.post(url, data={**data, "key": key}).status_code == 303  # a double tap
    assert db.session.scalar(select(func.count(FundBalance.id))) == before + 1
    # An application: drafted once for a double tap; bad choices re-render the form.
    new = f"/fund/compounds/{world.branch.id}/applications"
    unit = world.branch.buildings[0].units[0].id
    form = {
        "title": "单元门",
        "work": "",
        "kind": "building_door",
        "budget": "3000",
        "units": [str(unit)],
        "split": "area",
        "comment_days": "7",
    }
    assert chair.post(new, data={**form, "units": [], "key": _key()}).status_code == 422
    assert chair.post(new, data={**form, "comment_days": "0", "key": _key()}).status_code == 422
    assert (
        chair.post(
            new, data={**form, "units": [str(world.trust.buildings[0].units[0].id)], "key": _key()}
        ).status_code
        == 422
    )
    key = _key()
    first = chair.post(new, data={**form, "key": key})
    assert first.status_code == 303
    assert (
        chair.post(new, data={**form, "key": key}).headers["Location"] == first.headers["Location"]
    )
    app = db.session.scalars(select(FundApplication).where(FundApplication.title == "单元门")).one()
    # Its vote, then a disbursement refused with nothing written.
    assert (
        chair.post(
            f"/fund/applications/{app.id}/vote", data={"closes_on": "2000-01-01"}
        ).status_code
        == 303
    )
    db.session.expire_all()
    assert db.session.get(FundApplication, app.id).state == "draft"
    steps = db.session.scalar(select(func.count(FundStep.id)))
    pay = chair.post(
        f"/fund/applications/{funded['application_id']}/disbursements",
        data={
            "amount": "999999",
            "disbursed_on": clock.today().isoformat(),
            "reference": "x",
            "key": _key(),
        },
    )
    assert pay.status_code == 422 and db.session.scalar(select(func.count(FundStep.id))) == steps
    ok = chair.post(
        f"/fund/applications/{funded['application_id']}/disbursements",
        data={
            "amount": "500",
            "disbursed_on": clock.today().isoformat(),
            "reference": "维资拨字第2号",
            "key": _key(),
        },
    )
    assert ok.status_code == 303
    # A resident may not close it; the committee may.
    assert (
        login_as(world.users["resident"])
        .post(f"/fund/applications/{funded['application_id']}/close")
        .status_code
        == 403
    )
    assert chair.post(f"/fund/applications/{funded['application_id']}/close").status_code == 303
    db.session.expire_all()
    assert db.session.get(FundApplication, funded["application_id"]).state == "closed"
    assert check_fund() == []


def test_access_rules(world: World) -> None:
    p = access.load_principal
    assert access.can(Action.VIEW_ACCOUNTS, world.branch, p(world.users["resident"]))
    assert not access.can(Action.MANAGE_FEES, world.branch, p(world.users["resident"]))
    assert access.can(Action.MANAGE_FEES, world.trust, p(world.users["staff"]))
    assert not access.can(Action.VIEW_ACCOUNTS, world.trust, p(world.users["tenant"]))


# --- a property: the balance figures equal the entries ----------------------------------------

_examples = iter(range(1, 10**6))


@settings(max_examples=10, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    statements=st.lists(st.integers(0, 2_000_000), min_size=1, max_size=3),
    amounts=st.lists(st.integers(-10, 400_000), min_size=1, max_size=5),
)
def test_balances_and_disbursements_agree(
    world: World, statements: list[int], amounts: list[int]
) -> None:
    """Each example lives on a later day (the rows of earlier ones stay: append-only), its
    statements dated the day before, so only its own disbursements come after them."""
    chair = world.users["committee"]
    with clock.held_at(clock.now() + timedelta(days=3 * next(_examples))):
        app = passed_fund_application(world.branch, chair, budget_fen=1_000_000, key=_key())
        for fen in statements:
            _balance(world, fen, clock.today() - timedelta(days=1))
        db.session.commit()
        paid = 0
        for fen in amounts:
            before = fund.available(world.branch.id, fund.bearing_buildings(app))
            assert before is not None and before.fen == statements[-1] - paid
            try:
                _disburse(app, world, fen)
                db.session.commit()
            except RuleError:
                db.session.rollback()
                assert fen <= 0 or fen > before.fen or paid + fen > 1_000_000
            else:
                assert 0 < fen <= before.fen and paid + fen <= 1_000_000
                paid += fen
        after = fund.available(world.branch.id, fund.bearing_buildings(app))
        assert after is not None and after.fen == statements[-1] - paid >= 0
        total = db.session.scalar(
            select(func.sum(FundDisbursement.amount_fen)).where(
                FundDisbursement.application_id == app.id
            )
        )
        assert int(total or 0) == paid == app.disbursed_fen
        assert check_fund() == []

"""Common-part income (公共收益): contracts and instalments, receipts numbered with the fee
receipts, reversals, kept totals and their proof, the pages and who may use them."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select, text, update
from sqlalchemy.exc import DatabaseError

from compound_app import clock
from compound_app.errors import RuleError
from compound_app.extensions import db
from compound_app.fees import ledger, proofs, reports
from compound_app.fees.models import FinanceBoard, LedgerChangeRefused, Method
from compound_app.income import service
from compound_app.income.models import (
    CommonIncomeMonth,
    IncomeContract,
    IncomeInstalment,
    IncomeKind,
    IncomeReceipt,
    IncomeReversal,
)
from compound_app.months import add_months, month_of
from tests.factories import World, fee_schedule, first_household, income_objects


def _contract(
    world: World, key: str = "contract-key-000000000001", **changes: Any
) -> IncomeContract:
    today = clock.today()
    values: dict[str, Any] = {
        "kind": IncomeKind.CHARGING,
        "counterparty": "绿能充电公司",
        "starts_on": today - timedelta(days=100),
        "ends_on": today + timedelta(days=200),
        "total_fen": 300_000,
        "instalments": [
            (today - timedelta(days=90), 100_000),
            (today - timedelta(days=10), 100_000),
            (today + timedelta(days=80), 100_000),
        ],
        "note": "",
        "request_key": key,
    }
    values.update(changes)
    return service.create_contract(world.branch.area, world.users["committee"], **values)


def _receive(
    world: World, amount: int, key: str, contract: IncomeContract | None = None, **kw: Any
) -> service.Recorded:
    values: dict[str, Any] = {
        "contract": contract,
        "kind": None if contract else IncomeKind.SUBSIDY,
        "payer": "" if contract else "街道办事处",
        "amount_fen": amount,
        "method": Method.BANK,
        "received_on": clock.today(),
        "note": "",
        "request_key": key,
    }
    values.update(kw)
    return service.record_receipt(world.branch.area, world.users["committee"], **values)


# --- contracts and instalments ---------------------------------------------------------------


def test_instalments_must_add_up_to_the_total(world: World) -> None:
    with pytest.raises(RuleError) as err:
        _contract(world, total_fen=250_000)
    assert err.value.field == "instalments"
    assert "¥3,000.00" in err.value.message and "¥2,500.00" in err.value.message
    with pytest.raises(RuleError):
        _contract(world, instalments=[(clock.today(), 300_000), (clock.today(), 0)])
    with pytest.raises(RuleError):
        _contract(world, instalments=[])
    with pytest.raises(RuleError):  # a due date outside the term
        _contract(world, instalments=[(clock.today() + timedelta(days=400), 300_000)])
    assert db.session.scalar(select(func.count()).select_from(IncomeContract)) == 0


def test_overdue_at_a_clock_date_and_receipts_settle_the_oldest_first(world: World) -> None:
    contract = _contract(world)
    _receive(world, 150_000, "receipt-key-0000000000001", contract)
    db.session.commit()
    state = service.state_of(contract)
    assert [line.status for line in state.lines] == ["paid", "overdue", "due"]
    assert state.overdue == 50_000 and state.left == 150_000
    assert service.overdue_by_area([world.branch.area_id]) == {world.branch.area_id: 1}
    # Ninety days earlier, the second instalment was not yet due.
    earlier = service.state_of(contract, clock.today() - timedelta(days=90))
    assert [line.status for line in earlier.lines] == ["paid", "part", "due"]
    # Ended early: the third instalment no longer falls due.
    service.end_contract(contract, clock.today(), "停车场改建", world.users["committee"])
    db.session.commit()
    db.session.refresh(contract)
    state = service.state_of(contract)
    assert state.lines[2].status == "cancelled" and state.left == 50_000
    with pytest.raises(RuleError):
        service.end_contract(contract, clock.today(), "再次", world.users["committee"])


def test_a_contract_never_receives_more_than_is_left(world: World) -> None:
    contract = _contract(world)
    with pytest.raises(RuleError) as err:
        _receive(world, 300_001, "receipt-key-0000000000002", contract)
    assert err.value.field == "amount"


# --- receipts ---------------------------------------------------------------------------------


def test_receipt_numbers_are_shared_with_fee_payments_without_gaps(world: World) -> None:
    fee_schedule(world.branch.area, start=add_months(month_of(clock.today()), -1))
    db.session.commit()
    year = clock.today().year
    code = world.branch.area.code
    paid = ledger.record_payment(
        first_household(world.branch),
        amount_fen=1000,
        method=Method.CASH,
        paid_on=clock.today(),
        collector=world.users["committee"],
        request_key="payment-key-000000000001",
    ).payment
    first = _receive(world, 5000, "receipt-key-0000000000003").receipt
    again = _receive(world, 5000, "receipt-key-0000000000003")
    assert again.repeated and again.receipt.id == first.id
    second = ledger.record_payment(
        first_household(world.branch),
        amount_fen=1000,
        method=Method.CASH,
        paid_on=clock.today(),
        collector=world.users["committee"],
        request_key="payment-key-000000000002",
    ).payment
    db.session.commit()
    assert [paid.receipt_no, first.receipt_no, second.receipt_no] == [
        f"{code}-{year}-{n:06d}" for n in (1, 2, 3)
    ]
    assert proofs.check_totals() == []


def test_reversal_and_kept_totals_equal_a_recount(world: World) -> None:
    contract = _contract(world)
    one = _receive(world, 100_000, "receipt-key-0000000000004", contract).receipt
    _receive(world, 20_000, "receipt-key-0000000000005")
    db.session.commit()
    month = month_of(clock.today())
    kept = dict(
        db.session.execute(
            select(CommonIncomeMonth.kind, CommonIncomeMonth.amount_fen).where(
                CommonIncomeMonth.month == month
            )
        ).all()
    )
    assert kept == {"charging": 100_000, "subsidy": 20_000}
    service.reverse_receipt(one, "录错金额", world.users["committee"])
    db.session.commit()
    with pytest.raises(RuleError):
        service.reverse_receipt(one, "again", world.users["committee"])
    assert service.state_of(contract).paid == 0
    assert proofs.check_totals() == []
    section = reports.figures(world.branch.area, month)["common_income"]
    assert section["total"] == 20_000 and section["year_total"] == 20_000
    # A kept total out of step is found.
    db.session.execute(
        update(CommonIncomeMonth)
        .where(CommonIncomeMonth.kind == "subsidy")
        .values(amount_fen=CommonIncomeMonth.amount_fen + 1)
    )
    assert any("income subsidy" in p for p in proofs.check_totals())


def test_income_goes_into_the_account_it_was_paid_into_and_a_reversal_takes_it_out(
    world: World,
) -> None:
    from compound_app.treasury import hooks
    from compound_app.treasury import proofs as treasury_proofs
    from compound_app.treasury import service as treasury
    from compound_app.treasury.models import AccountKind

    area = world.branch.area
    treasurer = world.users["committee"]
    wechat = treasury.open_account(area, treasurer, kind=AccountKind.WECHAT, name="收款码")
    cash = _receive(world, 30_000, "receipt-key-0000000000011", method=Method.CASH).receipt
    paid = _receive(world, 45_000, "receipt-key-0000000000012", method=Method.WECHAT).receipt
    # A bank transfer with no bank account (and no community account) is kept outside.
    _receive(world, 5_000, "receipt-key-0000000000013", method=Method.BANK)
    db.session.commit()
    assert hooks.cash_box(area.id).balance_fen == 30_000
    assert wechat.balance_fen == 45_000
    service.reverse_receipt(paid, "重复登记", treasurer)
    service.reverse_receipt(cash, "录错", treasurer)
    db.session.commit()
    db.session.refresh(wechat)
    assert wechat.balance_fen == 0 and hooks.cash_box(area.id).balance_fen == 0
    assert treasury_proofs.check_accounts(area.id) == []


def test_income_ledger_rows_refuse_update_and_delete(world: World) -> None:
    ids = income_objects(world.branch, world.users["committee"])
    receipt = db.session.get(IncomeReceipt, ids["receipt_id"])
    receipt.amount_fen = 1
    with pytest.raises(LedgerChangeRefused):
        db.session.flush()
    db.session.rollback()
    for table in ("income_receipt", "income_contract", "income_instalment"):
        with pytest.raises(DatabaseError):
            db.session.execute(text(f"UPDATE {table} SET id = id"))  # noqa: S608
        db.session.rollback()
        with pytest.raises(DatabaseError):
            db.session.execute(text(f"DELETE FROM {table}"))  # noqa: S608
        db.session.rollback()


# --- through the pages ---------------------------------------------------------------------


def _form(key: str, **changes: str) -> dict[str, str]:
    today = clock.today()
    data = {
        "kind": "parking",
        "counterparty": "顺安停车公司",
        "starts_on": (today - timedelta(days=30)).isoformat(),
        "ends_on": (today + timedelta(days=330)).isoformat(),
        "total": "2400",
        "instalments": f"{today - timedelta(days=20)} 1200\n{today + timedelta(days=150)} 1,200.00",
        "note": "",
        "key": key,
    }
    data.update(changes)
    return data


def _count(model: Any) -> int:
    return db.session.scalar(select(func.count()).select_from(model)) or 0


def test_the_treasurer_enters_a_contract_records_income_and_prints_the_receipt(
    world: World, login_as: Any
) -> None:
    area_id = world.branch.area_id
    client = login_as(world.users["committee"])
    assert client.get(f"/income/areas/{area_id}/contracts/new").status_code == 200
    answer = client.post(
        f"/income/areas/{area_id}/contracts/new", data=_form("form-key-00000000000001")
    )
    assert answer.status_code == 303
    again = client.post(
        f"/income/areas/{area_id}/contracts/new", data=_form("form-key-00000000000001")
    )
    assert again.status_code == 303 and _count(IncomeContract) == 1
    contract = db.session.scalars(select(IncomeContract)).one()
    assert _count(IncomeInstalment) == 2
    page = client.get(f"/income/contracts/{contract.id}").get_data(as_text=True)
    assert "顺安停车公司" in page and "逾期" in page
    data = {
        "source": f"contract:{contract.id}",
        "amount": "1200",
        "method": "wechat",
        "received_on": clock.today().isoformat(),
        "payer": "",
        "note": "",
        "key": "form-key-00000000000002",
    }
    assert client.get(f"/income/areas/{area_id}/receive?contract={contract.id}").status_code == 200
    answer = client.post(f"/income/areas/{area_id}/receive", data=data)
    assert answer.status_code == 303
    assert client.post(f"/income/areas/{area_id}/receive", data=data).status_code == 303
    assert _count(IncomeReceipt) == 1
    receipt = db.session.scalars(select(IncomeReceipt)).one()
    assert receipt.payer == "顺安停车公司" and receipt.recorded_by_id == world.users["committee"].id
    printed = client.get(answer.headers["Location"]).get_data(as_text=True)
    assert receipt.receipt_no in printed and "壹仟贰佰元整" in printed
    # Signed like a fee receipt: two copies, the issuer, the handler, not a tax invoice.
    assert "存根" in printed and "交付" in printed and "不作为税务发票" in printed
    assert printed.count(receipt.receipt_no) >= 2
    area_page = client.get(f"/income/areas/{area_id}").get_data(as_text=True)
    assert receipt.receipt_no in area_page
    # Reversed with a reason, then shown void.
    assert (
        client.post(f"/income/receipts/{receipt.id}/reverse", data={"reason": ""}).status_code
        == 422
    )
    assert (
        client.post(f"/income/receipts/{receipt.id}/reverse", data={"reason": "收错"}).status_code
        == 303
    )
    assert _count(IncomeReversal) == 1
    assert "作废" in client.get(f"/income/receipts/{receipt.id}").get_data(as_text=True)
    # The treasurer's home lists the overdue instalment.
    home = client.get("/").get_data(as_text=True)
    assert "逾期" in home
    assert proofs.check_totals() == []


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"total": "-5"}, "大于0"),
        ({"total": "2000"}, "¥2,400.00"),
        ({"instalments": "2026-13-01 1200"}, "第1行"),
        ({"ends_on": "2020-01-01"}, None),
    ],
)
def test_bad_contracts_are_refused_with_a_message_and_write_nothing(
    world: World, login_as: Any, changes: dict[str, str], message: str | None
) -> None:
    client = login_as(world.users["committee"])
    answer = client.post(
        f"/income/areas/{world.branch.area_id}/contracts/new",
        data=_form("form-key-00000000000003", **changes),
    )
    assert answer.status_code == 422
    if message:
        assert message in answer.get_data(as_text=True)
    assert _count(IncomeContract) == 0


def test_a_contract_of_another_area_or_a_negative_amount_is_refused(
    world: World, login_as: Any
) -> None:
    theirs = income_objects(world.contiguous[0], world.users["area_committee"])
    before = _count(IncomeReceipt)
    client = login_as(world.users["committee"])
    data = {
        "source": f"contract:{theirs['contract_id']}",
        "amount": "100",
        "method": "cash",
        "received_on": clock.today().isoformat(),
        "payer": "",
        "note": "",
        "key": "form-key-00000000000004",
    }
    answer = client.post(f"/income/areas/{world.branch.area_id}/receive", data=data)
    assert answer.status_code == 422 and "请选择本区域的合同" in answer.get_data(as_text=True)
    data.update(source="kind:donation", amount="-100", payer="热心居民")
    answer = client.post(f"/income/areas/{world.branch.area_id}/receive", data=data)
    assert answer.status_code == 422 and "大于0" in answer.get_data(as_text=True)
    assert _count(IncomeReceipt) == before


@pytest.mark.parametrize("role", ["resident", "rep", "area_committee", "tenant", "outsider"])
def test_others_may_not_record_income(world: World, login_as: Any, role: str) -> None:
    ids = income_objects(world.branch, world.users["committee"])
    before = _count(IncomeReceipt)
    client = login_as(world.users[role])
    area_id = world.branch.area_id
    data = {
        "source": "kind:donation",
        "amount": "100",
        "method": "cash",
        "received_on": clock.today().isoformat(),
        "payer": "某人",
        "note": "",
        "key": "form-key-00000000000005",
    }
    assert client.post(f"/income/areas/{area_id}/receive", data=data).status_code in (403, 404)
    assert client.get(f"/income/areas/{area_id}").status_code in (403, 404)
    assert client.get(f"/income/contracts/{ids['contract_id']}").status_code in (403, 404)
    assert client.get(f"/income/receipts/{ids['receipt_id']}").status_code in (403, 404)
    assert _count(IncomeReceipt) == before


def test_staff_record_income_for_a_trusteeship_area(world: World, login_as: Any) -> None:
    client = login_as(world.users["staff"])
    data = {
        "source": "kind:community",
        "amount": "300",
        "method": "cash",
        "received_on": clock.today().isoformat(),
        "payer": "社区居委会",
        "note": "",
        "key": "form-key-00000000000006",
    }
    assert client.post(f"/income/areas/{world.trust.area_id}/receive", data=data).status_code == 303
    assert _count(IncomeReceipt) == 1


def test_the_board_shows_common_income_apart_and_old_boards_still_render(
    world: World, login_as: Any
) -> None:
    area = world.branch.area
    last = add_months(month_of(clock.today()), -1)
    _receive(world, 80_000, "receipt-key-0000000000006", received_on=last + timedelta(days=3))
    db.session.commit()
    client = login_as(world.users["committee"])
    month = f"{last:%Y-%m}"
    page = client.get(f"/fees/areas/{area.id}/board?month={month}").get_data(as_text=True)
    assert "公共收益归全体业主共有（《民法典》第二百八十二条）" in page
    assert "政府补助" in page and "¥800.00" in page
    poster = client.get(f"/fees/areas/{area.id}/board/poster?month={month}").get_data(as_text=True)
    assert "第二百八十二条" in poster
    # The fee figures do not count it.
    figures = reports.figures(area, last)
    assert figures["received"] == 0 and figures["common_income"]["total"] == 80_000
    # A board published before common-part income existed has no such section.
    old = {k: v for k, v in figures.items() if k != "common_income"}
    db.session.add(
        FinanceBoard(
            area_id=area.id, month=last, figures=old, published_by_id=world.users["committee"].id
        )
    )
    db.session.commit()
    page = client.get(f"/fees/areas/{area.id}/board?month={month}")
    assert page.status_code == 200 and "第二百八十二条" not in page.get_data(as_text=True)
    poster = client.get(f"/fees/areas/{area.id}/board/poster?month={month}")
    assert poster.status_code == 200 and "第二百八十二条" not in poster.get_data(as_text=True)

"""Reconciliation (对账): each statement layout, idempotent re-import, the matcher, the
keepers' decisions, residents' transfer claims (我已转账) through the pages, the proofs,
and a property: what is matched plus what is not adds up to the statement."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import pytest
from flask import Flask
from flask_babel import force_locale
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from compound_app import clock
from compound_app.errors import RuleError
from compound_app.extensions import db
from compound_app.fees import ledger, proofs
from compound_app.fees.models import Method, Payment
from compound_app.messages.models import Message
from compound_app.reconcile import service, statements
from compound_app.reconcile.models import (
    Explanation,
    ReconDecision,
    StatementImport,
    StatementLine,
    TransferClaim,
)
from compound_app.registry.importer import ImportFileError
from compound_app.treasury.models import MoneyAccount
from tests.factories import World, days_ago, fee_schedule, first_household
from tests.reconcile import samples

_n = iter(range(10**6))


@pytest.fixture(autouse=True)
def english(app: Flask) -> Iterator[None]:
    """Services' refusals read in English here (the pages are Chinese)."""
    with app.app_context(), force_locale("en"):
        yield


def _key() -> str:
    return f"recon-test-key-{next(_n):08d}"


# --- reading each layout ----------------------------------------------------------------------


def test_wechat_bill_export(app: Flask) -> None:
    on = date(2026, 6, 1)
    data = samples.wechat_csv(
        [
            samples.wechat_row(on, 12_000, note="收款方备注:3-1-201物业费", ref="4200001"),
            samples.wechat_row(on, -2_000, ref="4200002"),
            [
                "2026-06-03 09:00:00",
                "零钱提现",
                "财付通",
                "/",
                "/",
                "¥100.00",
                "零钱",
                "提现已到账",
                "4200003",
                "/",
                "/",
            ],
        ]
    )
    with app.test_request_context():
        parsed = statements.read_file("微信支付账单.csv", data)
    assert parsed.layout == statements.Layout.WECHAT
    assert [(line.amount_fen, line.reference) for line in parsed.lines] == [
        (12_000, "4200001"),
        (-2_000, "4200002"),
    ]
    assert parsed.lines[0].booked_time == "10:00:00"
    assert "3-1-201" in parsed.lines[0].note
    assert parsed.ignored == 1  # neither in nor out
    assert (parsed.total_in, parsed.total_out) == (12_000, 2_000)


def test_alipay_export_in_gbk_leaves_out_closed_trades(app: Flask) -> None:
    on = date(2026, 6, 4)
    data = samples.alipay_csv(
        [
            samples.alipay_row(on, 12_000, "赵六", "3号楼1单元201", "2026060422001"),
            samples.alipay_row(on, 5_000, "赵六", "x", "2026060422002", status="交易关闭"),
        ]
    )
    with app.test_request_context():
        parsed = statements.read_file("alipay_record.csv", data)
    assert parsed.layout == statements.Layout.ALIPAY
    assert [(line.amount_fen, line.counterparty, line.note) for line in parsed.lines] == [
        (12_000, "赵六", "3号楼1单元201")
    ]
    assert parsed.ignored == 1


def test_bank_statement_csv_with_money_in_and_out(app: Flask) -> None:
    data = samples.bank_csv(
        [
            [
                "20260605",
                "转账",
                "120.00",
                "",
                "1120.00",
                "张三",
                "3-1-201物业费",
                "B001",
                "人民币",
            ],
            ["2026-06-06", "手续费", "", "2.00", "1118.00", "", "", "B002", "CNY"],
            ["合计", "", "", "", "", "", "", "", ""],
        ]
    )
    with app.test_request_context():
        parsed = statements.read_file("明细.csv", data)
    assert parsed.layout == statements.Layout.BANK
    assert [(line.booked_on, line.amount_fen, line.note) for line in parsed.lines] == [
        (date(2026, 6, 5), 12_000, "3-1-201物业费"),
        (date(2026, 6, 6), -200, ""),
    ]


def test_bank_statement_xlsx_with_one_signed_amount(app: Flask) -> None:
    data = samples.xlsx(
        [
            ["账户明细查询"],
            ["记账日期", "交易金额", "对方户名", "用途", "交易流水号"],
            [date(2026, 6, 5), 120.5, "张三", "2-1-301", "X1"],
            ["2026/6/6", "-3.00", "", "手续费", "X2"],
        ]
    )
    with app.test_request_context():
        parsed = statements.read_file("明细.xlsx", data)
    assert [(line.amount_fen, line.reference) for line in parsed.lines] == [
        (12_050, "X1"),
        (-300, "X2"),
    ]


def test_unknown_columns_are_mapped_once(app: Flask) -> None:
    data = "日子,钱数,付款人,说明\n2026-06-07,45.00,张三,201\n2026-06-07,45.00,张三,201\n".encode()
    with app.test_request_context():
        with pytest.raises(statements.UnknownLayout) as unknown:
            statements.read_file("x.csv", data)
        assert unknown.value.headers == ["日子", "钱数", "付款人", "说明"]
        mapping = {"date": "日子", "amount": "钱数", "counterparty": "付款人", "note": "说明"}
        parsed = statements.read_file("x.csv", data, mapping)
    assert parsed.layout == statements.Layout.MAPPED
    # Two identical lines without a reference are two payments: each keeps its own identity.
    assert [line.amount_fen for line in parsed.lines] == [4_500, 4_500]
    assert len({line.identity for line in parsed.lines}) == 2


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        (
            "b.csv",
            samples.bank_csv([["2026-06-05", "", "1.00", "", "", "", "", "B1", "USD"]]),
            "Row 4",
        ),
        ("b.csv", samples.bank_csv([["6月5日", "", "1.00", "", "", "", "", "B1", ""]]), "Row 4"),
        (
            "b.csv",
            samples.bank_csv([["2026-06-05", "", "1.2.3", "", "", "", "", "B1", ""]]),
            "Row 4",
        ),
        ("b.csv", b"", "empty"),
        ("b.csv", b",,,\n,,\n", "empty"),
        ("b.pdf", b"%PDF-1.4", ".xlsx or .csv"),
    ],
)
def test_bad_files_are_refused_whole(app: Flask, name: str, data: bytes, message: str) -> None:
    with pytest.raises(ImportFileError, match=message):
        statements.read_file(name, data)


def test_a_reference_twice_in_one_file_is_reported_and_skipped(app: Flask) -> None:
    on = date(2026, 6, 1)
    data = samples.wechat_csv(
        [samples.wechat_row(on, 100, ref="R1"), samples.wechat_row(on, 100, ref="R1")]
    )
    with app.test_request_context():
        parsed = statements.read_file("w.csv", data)
    assert len(parsed.lines) == 1 and parsed.doubled == [9]


# --- the area: a treasurer, a bank account, payments ------------------------------------------


@pytest.fixture
def bank(world: World) -> MoneyAccount:
    """新国土小区's bank account (its chair keeps the money), with a schedule in force."""
    area = world.branch.area
    fee_schedule(area, start=clock.today().replace(day=1) - timedelta(days=40))
    account = MoneyAccount(
        area_id=area.id,
        kind="bank",
        name="基本户",
        bank="农商银行",
        holder="新国土小区物管会",
        last4="1234",
        opened_on=days_ago(100),
    )
    db.session.add(account)
    db.session.commit()
    return account


def _pay(household, fen: int, on: date, chair, method: Method = Method.BANK) -> Payment:  # type: ignore[no-untyped-def]
    payment = ledger.record_payment(
        household, amount_fen=fen, method=method, paid_on=on, collector=chair, request_key=_key()
    ).payment
    db.session.commit()
    return payment


def _import(account: MoneyAccount, chair, lines: list[statements.Line]) -> StatementImport:  # type: ignore[no-untyped-def]
    doubled = statements.identify(lines)
    record = service.import_statement(
        account,
        chair,
        file_name="x.csv",
        sha256="0" * 64,
        layout="bank",
        lines=[line for line in lines if line.line_no not in doubled],
        doubled=len(doubled),
        request_key=_key(),
    )
    db.session.commit()
    return record


def _line(no: int, on: date, fen: int, note: str = "", ref: str = "") -> statements.Line:
    return statements.Line(no, on, "", fen, "", note, ref)


def test_reimporting_the_same_or_an_overlapping_statement_adds_nothing_twice(
    world: World, bank: MoneyAccount
) -> None:
    chair = world.users["committee"]
    first = [_line(2, days_ago(9), 100, "a"), _line(3, days_ago(8), 200, "b", "R2")]
    assert _import(bank, chair, first).lines_added == 2
    again = _import(
        bank, chair, [_line(2, days_ago(9), 100, "a"), _line(3, days_ago(8), 200, "b", "R2")]
    )
    assert (again.lines_added, again.lines_known) == (0, 2)
    overlap = _import(
        bank,
        chair,
        [
            _line(2, days_ago(8), 200, "b", "R2"),
            _line(3, days_ago(7), 300, "c"),
            _line(4, days_ago(7), 300, "c"),
        ],
    )
    assert (overlap.lines_added, overlap.lines_known) == (2, 1)
    assert db.session.scalar(select(func.count()).select_from(StatementLine)) == 4
    assert proofs.check_totals() == []


def test_the_same_confirmation_sent_twice_imports_once(world: World, bank: MoneyAccount) -> None:
    chair = world.users["committee"]
    lines = [_line(2, days_ago(3), 500)]
    statements.identify(lines)
    kwargs = {
        "file_name": "x.csv",
        "sha256": "0" * 64,
        "layout": "bank",
        "lines": lines,
        "doubled": 0,
        "request_key": "same-key-00000001",
    }
    first = service.import_statement(bank, chair, **kwargs)  # type: ignore[arg-type]
    second = service.import_statement(bank, chair, **kwargs)  # type: ignore[arg-type]
    assert first.id == second.id
    assert db.session.scalar(select(func.count()).select_from(StatementImport)) == 1


def test_the_matcher_proposes_by_amount_day_and_room(world: World, bank: MoneyAccount) -> None:
    chair = world.users["committee"]
    homes = [h for b in world.branch.buildings for u in b.units for h in u.households]
    near = _pay(homes[0], 12_000, days_ago(5), chair)
    named = _pay(homes[1], 12_000, days_ago(5), chair)
    _pay(homes[2], 12_000, days_ago(20), chair)  # too long before
    _pay(homes[3], 9_900, days_ago(5), chair)  # another amount
    _pay(homes[0], 12_000, days_ago(5), chair, Method.WECHAT)  # paid another way
    h = homes[1]
    note = f"{h.unit.building.name}{h.unit.name}{h.room}物业费"
    _import(bank, chair, [_line(2, days_ago(4), 12_000, note), _line(3, days_ago(4), 12_000)])
    state = service.account_state(bank)
    by_note = {s.line.note: s for s in state.lines}
    named_proposal, near_proposal = by_note[note].proposal, by_note[""].proposal
    assert named_proposal is not None and named_proposal.id == named.id
    assert near_proposal is not None and near_proposal.id == near.id
    assert {c.id for c in by_note[""].candidates} == {near.id, named.id}
    assert service.room_score("3-1-201物业费", ("3", "1", "201")) == 5
    assert service.room_score("3号楼1单元201", ("3", "1", "201")) == 5
    assert service.room_score("201", ("3", "1", "201")) == 2
    assert service.room_score("202", ("3", "1", "201")) == 0


def test_decisions_confirm_reject_explain_undo(world: World, bank: MoneyAccount) -> None:
    chair = world.users["committee"]
    home = first_household(world.branch)
    payment = _pay(home, 8_000, days_ago(3), chair)
    _import(bank, chair, [_line(2, days_ago(3), 8_000), _line(3, days_ago(3), -150, "手续费")])
    line, fee = db.session.scalars(select(StatementLine).order_by(StatementLine.line_no)).all()
    service.reject(line, payment, chair)
    db.session.commit()
    assert service.account_state(bank).lines[0].proposal is None  # 不是这笔: not again
    confirmed = service.confirm(line, payment, chair)
    db.session.commit()
    with pytest.raises(RuleError, match="already matched"):
        service.confirm(line, payment, chair)
    db.session.rollback()
    service.explain(fee, chair, Explanation.BANK_FEE, "")
    db.session.commit()
    state = service.account_state(bank)
    assert (state.matched, state.explained, len(state.unmatched), len(state.done)) == (1, 1, 0, 2)
    with pytest.raises(RuleError, match="reason"):
        service.undo(confirmed, chair, "")
    db.session.rollback()
    service.undo(confirmed, chair, "对错了")
    db.session.commit()
    with pytest.raises(RuleError, match="already been undone"):
        service.undo(confirmed, chair, "再来")
    db.session.rollback()
    assert service.account_state(bank).matched == 0
    assert proofs.check_totals() == []


def test_a_match_across_areas_or_by_a_non_keeper_is_refused(
    world: World, bank: MoneyAccount
) -> None:
    chair = world.users["committee"]
    elsewhere = ledger.record_payment(
        first_household(world.trust),
        amount_fen=8_000,
        method=Method.BANK,
        paid_on=days_ago(3),
        collector=world.users["staff"],
        request_key=_key(),
    ).payment
    db.session.commit()
    _import(bank, chair, [_line(2, days_ago(3), 8_000)])
    line = db.session.scalars(select(StatementLine)).one()
    with pytest.raises(RuleError, match="another area"):
        service.confirm(line, elsewhere, chair)
    db.session.rollback()
    with pytest.raises(RuleError, match="keep the area's money"):
        service.explain(line, world.users["rep"], Explanation.OTHER, "x")
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(ReconDecision)) == 0


# --- transfer claims through the pages --------------------------------------------------------


def _upload(client, account: MoneyAccount, data: bytes, name: str = "账单.csv"):  # type: ignore[no-untyped-def]
    import io

    return client.post(
        f"/reconcile/accounts/{account.id}/import",
        data={"file": (io.BytesIO(data), name)},
        content_type="multipart/form-data",
    )


def test_claim_flow_from_the_resident_to_the_receipt(
    world: World, bank: MoneyAccount, login_as: Any
) -> None:
    resident, chair = world.users["resident"], world.users["committee"]
    home = first_household(world.branch)
    me = login_as(resident)
    page = me.get(f"/fees/households/{home.id}")
    assert f"/reconcile/households/{home.id}/claim" in page.get_data(as_text=True)
    form = {
        "amount": "120",
        "paid_on": days_ago(2).isoformat(),
        "method": "bank",
        "note": "张三转账",
        "key": _key(),
    }
    # Refusals: a negative amount, a future day; nothing written.
    assert (
        me.post(f"/reconcile/households/{home.id}/claim", data={**form, "amount": "-5"}).status_code
        == 422
    )
    assert (
        me.post(
            f"/reconcile/households/{home.id}/claim",
            data={**form, "paid_on": days_ago(-3).isoformat()},
        ).status_code
        == 422
    )
    # Another home: out of sight.
    other = world.branch.buildings[1].units[0].households[0]
    assert me.post(f"/reconcile/households/{other.id}/claim", data=form).status_code == 404
    assert db.session.scalar(select(func.count()).select_from(TransferClaim)) == 0
    # Sent twice: written once.
    assert me.post(f"/reconcile/households/{home.id}/claim", data=form).status_code == 303
    assert me.post(f"/reconcile/households/{home.id}/claim", data=form).status_code == 303
    claim = db.session.scalars(select(TransferClaim)).one()
    assert "已申报，待核对" in me.get(f"/fees/households/{home.id}").get_data(as_text=True)
    assert (
        db.session.scalar(
            select(func.count()).select_from(Message).where(Message.user_id == chair.id)
        )
        or 0 >= 1
    )
    # The resident may not see the reconciliation, nor reject the claim.
    assert me.get(f"/reconcile/areas/{bank.area_id}").status_code == 403
    assert me.post(f"/reconcile/claims/{claim.id}/reject", data={"reason": "x"}).status_code == 403
    # The treasurer imports the bank statement: preview first, nothing written.
    keeper = login_as(chair)
    home_words = f"{home.unit.building.name}{home.unit.name}{home.room}"
    data = samples.bank_csv(
        [[days_ago(1).isoformat(), "转账", "120.00", "", "", "张三", home_words, "B900", "人民币"]]
    )
    preview = _upload(keeper, bank, data)
    assert preview.status_code == 200
    text = preview.get_data(as_text=True)
    assert "¥120.00" in text and "token" in text
    assert db.session.scalar(select(func.count()).select_from(StatementLine)) == 0
    import re

    token = re.search(r'name="token"[^>]*value="([^"]+)"', text) or re.search(
        r'value="([^"]+)"[^>]*name="token"', text
    )
    assert token is not None
    confirm = keeper.post(
        f"/reconcile/accounts/{bank.id}/import/confirm", data={"token": token.group(1)}
    )
    assert confirm.status_code == 303
    assert (
        keeper.post(
            f"/reconcile/accounts/{bank.id}/import/confirm", data={"token": token.group(1)}
        ).status_code
        == 303
    )
    assert db.session.scalar(select(func.count()).select_from(StatementLine)) == 1
    assert db.session.scalar(select(func.count()).select_from(StatementImport)) == 1
    page = keeper.get(f"/reconcile/areas/{bank.area_id}").get_data(as_text=True)
    assert "待确认" in page or "To confirm" in page
    line = db.session.scalars(select(StatementLine)).one()
    done = keeper.post(f"/reconcile/lines/{line.id}/confirm", data={"target": f"claim:{claim.id}"})
    assert done.status_code == 303, done.get_data(as_text=True)[
        done.get_data(as_text=True).find("flash-area") :
    ][:600]
    payment = db.session.scalars(select(Payment).where(Payment.household_id == home.id)).one()
    assert (payment.amount_fen, payment.method, payment.paid_on, payment.collector_id) == (
        12_000,
        "bank",
        days_ago(1),
        chair.id,
    )
    assert "已核对" in me.get(f"/fees/households/{home.id}").get_data(as_text=True)
    # The match issued a receipt: it cannot simply be undone.
    decision = db.session.scalars(
        select(ReconDecision).where(ReconDecision.kind == "confirm")
    ).one()
    assert (
        keeper.post(f"/reconcile/decisions/{decision.id}/undo", data={"reason": "错了"}).status_code
        == 422
    )
    assert proofs.check_totals() == []


def test_a_claim_turned_down_tells_the_resident(world: World, bank: MoneyAccount, login_as) -> None:  # type: ignore[no-untyped-def]
    resident, chair = world.users["resident"], world.users["committee"]
    home = first_household(world.branch)
    claim = service.create_claim(
        home,
        resident,
        amount_fen=100,
        paid_on=days_ago(1),
        method="wechat",
        note="",
        photo=None,
        request_key=_key(),
    )
    db.session.commit()
    keeper = login_as(chair)
    assert (
        keeper.post(f"/reconcile/claims/{claim.id}/reject", data={"reason": ""}).status_code == 422
    )
    assert (
        keeper.post(
            f"/reconcile/claims/{claim.id}/reject", data={"reason": "账上没有这笔"}
        ).status_code
        == 303
    )
    assert service.claim_status(claim) == "rejected"
    told = db.session.scalars(select(Message.title).where(Message.user_id == resident.id)).all()
    assert any("账上没有这笔" in t for t in told)
    assert (
        keeper.post(f"/reconcile/claims/{claim.id}/reject", data={"reason": "再来"}).status_code
        == 422
    )


def test_upload_refusals_write_nothing(world: World, bank: MoneyAccount, login_as) -> None:  # type: ignore[no-untyped-def]
    keeper = login_as(world.users["committee"])
    foreign = samples.bank_csv([["2026-06-05", "", "1.00", "", "", "", "", "B1", "USD"]])
    for data, name in (
        (foreign, "x.csv"),
        (b"", "x.csv"),
        (b"MZ\x90", "x.exe"),
        (b"a,b,c\n1,2,3\n", "x.csv"),
    ):
        response = _upload(keeper, bank, data, name)
        assert response.status_code == 422, name
    unknown = _upload(keeper, bank, "日子,钱数,付款人\n2026-06-07,45.00,张三\n".encode())
    assert "日子" in unknown.get_data(as_text=True)  # the mapping form offers the columns
    assert db.session.scalar(select(func.count()).select_from(StatementLine)) == 0
    # Others may not import into the area's account.
    assert _upload(login_as(world.users["rep"]), bank, foreign).status_code == 403
    assert _upload(login_as(world.users["other_staff"]), bank, foreign).status_code == 404


# --- a property: matched plus unmatched is the statement; a second import adds nothing ----------


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    lines=st.lists(
        st.tuples(st.integers(0, 20), st.sampled_from([100, 200, 12_000, -300])), max_size=25
    ),
    payments=st.lists(
        st.tuples(st.integers(0, 20), st.sampled_from([100, 200, 12_000])), max_size=25
    ),
)
def test_matched_and_unmatched_add_up_to_the_statement(lines, payments) -> None:  # type: ignore[no-untyped-def]
    start = date(2026, 5, 1)
    rows = [
        statements.Line(i + 2, start + timedelta(days=d), "", fen, "", "", "")
        for i, (d, fen) in enumerate(lines)
    ]
    statements.identify(rows)
    again = [statements.Line(r.line_no, r.booked_on, "", r.amount_fen, "", "", "") for r in rows]
    statements.identify(again)
    assert [r.identity for r in rows] == [r.identity for r in again]  # re-import adds nothing
    assert len({r.identity for r in rows}) == len(rows)
    states = []
    for i, r in enumerate(rows):
        line = StatementLine(
            id=i + 1, amount_fen=r.amount_fen, booked_on=r.booked_on, note="", counterparty=""
        )
        states.append(service.LineState(line))
    candidates = [
        service.Candidate("payment", j + 1, fen, start + timedelta(days=d), 1, ("", "", ""), "")
        for j, (d, fen) in enumerate(payments)
    ]
    service.propose([s for s in states if s.line.amount_fen > 0], candidates, set())
    matched = [s for s in states if s.proposal is not None]
    assert len({s.proposal.value for s in matched}) == len(matched)  # type: ignore[union-attr]
    for s in matched:
        assert s.proposal is not None and s.proposal.amount_fen == s.line.amount_fen
        assert abs((s.proposal.on - s.line.booked_on).days) <= service.WINDOW_DAYS
    unmatched = [s for s in states if s.proposal is None]
    assert sum(s.line.amount_fen for s in matched) + sum(
        s.line.amount_fen for s in unmatched
    ) == sum(r.amount_fen for r in rows)
    # Nothing is left unmatched that could have been: no free payment fits a free line.
    free = [c for c in candidates if c.value not in {s.proposal.value for s in matched}]  # type: ignore[union-attr]
    for s in unmatched:
        if s.line.amount_fen > 0:
            assert not any(
                c.amount_fen == s.line.amount_fen
                and abs((c.on - s.line.booked_on).days) <= service.WINDOW_DAYS
                for c in free
            )


def _hidden(page: str, name: str) -> str:
    import re

    found = re.search(rf'name="{name}"[^>]*value="([^"]+)"', page) or re.search(
        rf'value="([^"]+)"[^>]*name="{name}"', page
    )
    assert found, f"no {name} on the page"
    return found[1]


def test_unknown_columns_are_mapped_through_the_pages(
    world: World, bank: MoneyAccount, login_as: Any
) -> None:
    keeper = login_as(world.users["committee"])
    data = f"日子,钱数,付款人\n{days_ago(2).isoformat()},45.00,张三\n".encode()
    first = _upload(keeper, bank, data)
    assert first.status_code == 422
    headers = _hidden(first.get_data(as_text=True), "headers")
    fields = dict.fromkeys(["money_in", "money_out", "note", "reference", "currency"], "")
    # Neither an amount nor money in and out: refused, nothing saved.
    refused = keeper.post(
        f"/reconcile/accounts/{bank.id}/mapping",
        data={"headers": headers, "date": "日子", "amount": "", "counterparty": "", **fields},
    )
    assert refused.status_code == 422
    assert service.mapping_of(bank.id) is None
    saved = keeper.post(
        f"/reconcile/accounts/{bank.id}/mapping",
        data={
            "headers": headers,
            "date": "日子",
            "amount": "钱数",
            "counterparty": "付款人",
            **fields,
        },
    )
    assert saved.status_code == 303
    again = _upload(keeper, bank, data)
    assert again.status_code == 200 and "¥45.00" in again.get_data(as_text=True)
    # A forged list of columns is refused.
    forged = keeper.post(
        f"/reconcile/accounts/{bank.id}/mapping",
        data={
            "headers": "x" + headers,
            "date": "日子",
            "amount": "钱数",
            "counterparty": "",
            **fields,
        },
    )
    assert forged.status_code == 303
    assert service.mapping_of(bank.id).columns["amount"] == "钱数"  # type: ignore[union-attr]


def test_a_tenant_claims_with_a_screenshot_and_the_staff_are_told(
    world: World, login_as: Any
) -> None:
    import io

    from PIL import Image

    tenant, staff = world.users["tenant"], world.users["staff"]
    home = first_household(world.trust)
    buffer = io.BytesIO()
    Image.new("RGB", (20, 10)).save(buffer, "PNG")
    me = login_as(tenant)
    sent = me.post(
        f"/reconcile/households/{home.id}/claim",
        data={
            "amount": "88.50",
            "paid_on": days_ago(1).isoformat(),
            "method": "alipay",
            "note": "",
            "key": _key(),
            "photo": (io.BytesIO(buffer.getvalue()), "截图.png"),
        },
        content_type="multipart/form-data",
    )
    assert sent.status_code == 303
    claim = db.session.scalars(select(TransferClaim)).one()
    assert (claim.amount_fen, claim.method, claim.photo is not None) == (8_850, "alipay", True)
    assert me.get(f"/reconcile/claims/{claim.id}/photo").status_code == 200
    assert (
        login_as(world.users["resident"]).get(f"/reconcile/claims/{claim.id}/photo").status_code
        == 404
    )
    keeper = login_as(staff)
    assert keeper.get(f"/reconcile/claims/{claim.id}/photo").status_code == 200
    assert "¥88.50" in keeper.get(f"/reconcile/areas/{world.trust.area_id}").get_data(as_text=True)
    assert "已转账" in keeper.get("/").get_data(as_text=True)  # the staff's 待办
    # A committee member who does not keep the money, and a representative: not theirs.
    assert (
        login_as(world.users["rep"]).get(f"/reconcile/areas/{world.branch.area_id}").status_code
        == 403
    )


def test_the_proof_finds_a_wrong_match_and_a_claim_without_its_confirmation(
    world: World, bank: MoneyAccount
) -> None:
    from compound_app.reconcile.proofs import check_reconcile

    chair = world.users["committee"]
    home = first_household(world.branch)
    payment = _pay(home, 8_000, days_ago(3), chair)
    _import(bank, chair, [_line(2, days_ago(3), 7_000)])
    line = db.session.scalars(select(StatementLine)).one()
    assert check_reconcile() == []
    # Written past the service: a match of two amounts, twice over.
    for _ in range(2):
        db.session.add(
            ReconDecision(
                area_id=line.area_id,
                kind="confirm",
                line_id=line.id,
                payment_id=payment.id,
                decided_by_id=chair.id,
            )
        )
    # A payment made for a claim that was never confirmed.
    claim = service.create_claim(
        home,
        chair,
        amount_fen=500,
        paid_on=days_ago(1),
        method="bank",
        note="",
        photo=None,
        request_key=_key(),
    )
    ledger.record_payment(
        home,
        amount_fen=500,
        method=Method.BANK,
        paid_on=days_ago(1),
        collector=chair,
        request_key=f"transfer-claim-{claim.id}",
    )
    db.session.commit()
    problems = " ".join(check_reconcile())
    assert "7000 ≠ 8000" in problems
    assert f"line {line.id}: decided 2 times" in problems
    assert f"payment {payment.id}: matched 2 times" in problems
    assert f"claim {claim.id}: has a payment but no confirmed match" in problems

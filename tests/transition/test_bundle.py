"""The hand-over bundle: each figure equals the package's own (or a recount of the ledger),
the day it is cut at, what keeps the hand-over open, freezing it, the workbook, the PDF
with its signatories, and who may open the preview page."""

from __future__ import annotations

import io
import json
import re
from datetime import timedelta

import pytest
from flask_babel import force_locale
from openpyxl import load_workbook
from sqlalchemy import func, select

from compound_app import clock
from compound_app.archive import service as archive
from compound_app.archive.models import DocKind
from compound_app.errors import RuleError
from compound_app.extensions import db
from compound_app.fees import cash, expenses, ledger, reports, schedules
from compound_app.fees.models import (
    Account,
    Bill,
    BillAdjustment,
    Expense,
    ExpenseKind,
    Method,
    Payment,
    Reversal,
)
from compound_app.fund import service as fund
from compound_app.months import add_months, this_month
from compound_app.registry.models import ManagementArea
from compound_app.repairs.models import Work
from compound_app.templating import address
from compound_app.transition import bundle as handover
from compound_app.treasury import service as treasury
from compound_app.treasury.models import AccountKind, MoneyAccount
from compound_app.xlsx import yuan
from tests.factories import (
    World,
    archive_objects,
    fee_objects,
    fee_schedule,
    fund_objects,
    income_objects,
    pdf_file,
    repair_objects,
    user,
)

_n = iter(range(10**6))


def _key() -> str:
    return f"bundle-test-key-{next(_n):08d}"


def _homes(world: World) -> list:  # type: ignore[type-arg]
    return [h for c in world.contiguous for b in c.buildings for u in b.units for h in u.households]


@pytest.fixture
def area(world: World) -> ManagementArea:
    """绿城一片区 with three months billed; a collector's cash partly handed over and
    counted; a bank payment, a reversed one and one paid ahead; a counted expense and
    movement; the fund, an income contract, an open repair and works, archive documents."""
    a = world.contiguous_area
    chair = world.users["area_committee"]
    fee_schedule(a, start=add_months(this_month(), -2))
    schedules.catch_up(a.id)
    today = clock.today()
    homes = _homes(world)
    bank = treasury.open_account(
        a,
        chair,
        kind=AccountKind.BANK,
        name="基本户",
        bank="农商银行",
        holder="绿城一片区物管会",
        last4="6789",
    )
    collector = user("钱收款")
    world.users["collector"] = collector
    ledger.record_payment(
        homes[0],
        amount_fen=3000,
        method=Method.CASH,
        paid_on=today,
        collector=collector,
        request_key=_key(),
    )
    handed = cash.hand_over(a, collector, amount_fen=2000, handed_on=today, request_key=_key())
    cash.confirm(handed, chair, received_fen=None, note="", as_handed=True)
    ledger.record_payment(
        homes[1],
        amount_fen=2000,
        method=Method.BANK,
        paid_on=today,
        collector=chair,
        request_key=_key(),
    )
    wrong = ledger.record_payment(
        homes[2],
        amount_fen=3000,
        method=Method.CASH,
        paid_on=today,
        collector=chair,
        request_key=_key(),
    ).payment
    ledger.reverse_payment(wrong, "记错户", chair)
    ledger.record_payment(
        homes[3],
        amount_fen=5000,
        method=Method.BANK,
        paid_on=today,
        collector=chair,
        request_key=_key(),
    )
    bill = db.session.scalars(select(Bill).where(Bill.household_id == homes[4].id)).first()
    assert bill is not None
    ledger.adjust_bill(bill, 400, "面积有误", chair)
    expenses.record_expense(
        a,
        chair,
        kind=ExpenseKind.SERVICE,
        category="保洁",
        amount_fen=1200,
        payee="保洁员",
        spent_on=today,
        note="",
        voucher=None,
        request_key=_key(),
    )
    box = db.session.scalars(
        select(MoneyAccount).where(
            MoneyAccount.area_id == a.id, MoneyAccount.kind == AccountKind.CASH_BOX
        )
    ).one()
    treasury.record_movement(
        a,
        chair,
        source=box,
        target=bank,
        amount_fen=500,
        moved_on=today,
        note="存入",
        request_key=_key(),
    )
    db.session.commit()
    income_objects(world.contiguous[0], chair)
    repair_objects(world.contiguous[0], chair, chair)
    fund_objects(world.contiguous[1], chair)
    archive_objects(world.contiguous[0], chair)
    archive.create_document(
        a,
        chair,
        kind=DocKind.CONTRACT,
        title="保洁服务合同",
        dated=today,
        counterparty="洁美保洁公司",
        amount_fen=120_000,
        storage=pdf_file("合同.pdf", "合同"),
        request_key=_key(),
    )
    db.session.commit()
    return a


def test_every_figure_equals_the_packages_own(area: ManagementArea, world: World) -> None:
    today = clock.today()
    b = handover.build(area, today)

    # Money accounts: the finance board's balances on the day, and each account's own.
    assert [(a.kind, a.bank, a.last4, a.balance_fen) for a in b.accounts] == [
        (r["kind"], r["bank"], r["last4"], r["amount"])
        for r in treasury.balances_on(area.id, today)
    ]
    own = {a.kind: a.balance_fen for a in treasury.accounts_of(area.id)}
    assert {a.kind: a.balance_fen for a in b.accounts} == own
    assert b.accounts_fen == sum(own.values()) != 0

    # The fund: the fund page's figure for each compound.
    fund_compound = world.contiguous[1]
    available = fund.available(fund_compound.id, [])
    assert available is not None
    assert [(f.compound, f.available_fen) for f in b.fund] == [(fund_compound.name, available.fen)]
    assert b.fund_fen == 5_000_000 - 100_000

    # Arrears: the arrears page's rows, months since; the credit: accounts paid ahead.
    rows = reports.area_arrears(area).rows
    assert [(h.room, h.owed_fen, h.since) for h in b.arrears] == [
        (address(c, bl, u, r), owed, since) for c, bl, u, r, owed, since, _hid in rows
    ]
    assert b.arrears_fen == reports.area_arrears(area).total
    assert all(h.months == 3 for h in b.arrears if h.owed_fen == 3000)
    ahead = db.session.scalars(
        select(Account).where(Account.area_id == area.id, Account.paid_fen > Account.billed_fen)
    ).all()
    assert [h.credit_fen for h in b.credits] == [a.paid_fen - a.billed_fen for a in ahead]
    assert b.credit_fen == 2000

    # Cash: what the cash page says the collector still holds.
    held = cash.held_by(area.id, world.users["collector"].id)
    assert [(c.collector, c.held_fen, c.waiting_fen) for c in b.cash] == [("钱收款", held, 0)]
    assert held == 1000

    # Open repairs and works, each work with its costs from every source.
    assert [(r.category, r.status, r.reported_on) for r in b.repairs] == [
        ("plumbing", "reported", today)
    ]
    works = db.session.scalars(select(Work).where(Work.status != "completed")).all()
    costs = fund.costs_of([w.id for w in works])
    paid = {w.title: sum(c.amount_fen for c in costs[w.id]) for w in works}
    assert {w.title: w.paid_fen for w in b.works} == paid
    assert paid["道路硬化"] == 780_000 and paid["安装监控"] == 0

    # Contracts: the income contract as its page states it, the filed one as filed.
    (income_line,) = [c for c in b.contracts if c.source == "income"]
    assert (income_line.party, income_line.amount_fen, income_line.received_fen) == (
        "顺安停车公司",
        200_000,
        50_000,
    )
    assert (income_line.outstanding_fen, income_line.overdue_fen) == (150_000, 50_000)
    assert income_line.instalments_left == 2
    (filed,) = [c for c in b.contracts if c.source == "archive"]
    assert (filed.party, filed.title, filed.amount_fen) == ("洁美保洁公司", "保洁服务合同", 120_000)

    # The archive's index.
    assert {(c.kind, c.count) for c in b.document_counts} == {("covenant", 1), ("contract", 1)}
    assert sorted(d.title for d in b.documents) == ["保洁服务合同", "管理规约"]

    # Ledger totals: a recount of the entries, and the finance board's closing balance.
    whole = b.all_time
    billed = db.session.scalar(
        select(func.sum(Bill.amount_fen)).where(Bill.area_id == area.id)
    ) - db.session.scalar(
        select(func.sum(BillAdjustment.amount_fen)).where(BillAdjustment.area_id == area.id)
    )
    received = db.session.scalar(
        select(func.sum(Payment.amount_fen)).where(Payment.area_id == area.id)
    ) - db.session.scalar(select(func.sum(Reversal.amount_fen)).where(Reversal.area_id == area.id))
    spent = sum(
        e.amount_fen
        for e in db.session.scalars(select(Expense).where(Expense.area_id == area.id))
        if e.counts
    )
    assert (whole.billed_fen, whole.received_fen, whole.spent_fen) == (billed, received, spent)
    assert whole.income_fen == 50_000
    assert whole.balance_fen == reports.figures(area, this_month())["closing"]
    # The years add up to the whole.
    years = b.totals[1:]
    assert [t.year for t in years] == sorted({t.year for t in years})
    for name in ("billed_fen", "received_fen", "spent_fen", "income_fen"):
        assert sum(getattr(t, name) for t in years) == getattr(whole, name)


def test_the_bundle_is_cut_at_its_day(area: ManagementArea) -> None:
    """Nothing here was recorded before today: yesterday's bundle has none of it."""
    yesterday = clock.today() - timedelta(days=1)
    b = handover.build(area, yesterday)
    assert b.arrears == () and b.credits == () and b.repairs == ()
    assert all(a.balance_fen == 0 for a in b.accounts)
    assert b.documents == ()
    with pytest.raises(RuleError):
        handover.build(area, clock.today() + timedelta(days=1))


def test_a_frozen_bundle_reads_back_the_same(area: ManagementArea) -> None:
    b = handover.build(area, clock.today())
    record = json.loads(json.dumps(handover.as_record(b)))
    assert handover.from_record(record) == b
    assert record["on"] == clock.today().isoformat()


def test_open_money_names_cash_not_handed_over_then_nothing(
    area: ManagementArea, world: World
) -> None:
    chair, collector = world.users["area_committee"], world.users["collector"]
    with force_locale("en"):
        held = handover.open_money(area)
    assert held == ["钱收款 still holds ¥10.00 in cash collected and not handed over."]
    handed = cash.hand_over(
        area, collector, amount_fen=1000, handed_on=clock.today(), request_key=_key()
    )
    with force_locale("en"):
        waiting = handover.open_money(area)
    assert waiting == ["1 cash hand-over (¥10.00) has not been counted by the treasurer."]
    cash.confirm(handed, chair, received_fen=None, note="", as_handed=True)
    db.session.commit()
    assert handover.open_money(area) == []


def test_open_money_names_approvals_waiting(world: World) -> None:
    """The fixture's area: cash held and handed over, an expense and a deposit above the
    threshold, each with its amount."""
    staff = world.users["staff"]
    fee_objects(world.trust, user("收款员"), staff)
    with force_locale("en"):
        reasons = handover.open_money(world.trust.area)
    assert "1 cash hand-over (¥10.00) has not been counted by the treasurer." in reasons
    assert "1 expense (¥800.00) waits for its approval." in reasons
    assert "1 movement between accounts (¥900.00) waits for its approval." in reasons
    assert any("¥5.00" in r for r in reasons)


def test_workbook_has_a_sheet_per_part_and_the_totals(area: ManagementArea) -> None:
    b = handover.build(area, clock.today())
    book = load_workbook(io.BytesIO(handover.to_xlsx(b)))
    assert book.sheetnames == [
        "汇总",
        "资金账户",
        "维修资金",
        "欠费",
        "预收",
        "未交现金",
        "未完成报修",
        "未完工程",
        "合同",
        "档案目录",
        "收支合计",
    ]
    summary = {row[0]: row[1] for row in book["汇总"].iter_rows(min_row=2, values_only=True)}
    assert summary["业主欠费合计"] == yuan(b.arrears_fen)
    assert summary["资金账户余额合计"] == yuan(b.accounts_fen)
    assert summary["专项维修资金（可用）"] == yuan(b.fund_fen)
    assert book["欠费"].max_row == len(b.arrears) + 1
    totals = list(book["收支合计"].iter_rows(min_row=2, values_only=True))
    assert totals[0][:3] == ("合计", yuan(b.all_time.billed_fen), yuan(b.all_time.received_fen))


def _pdf_text(data: bytes) -> str:
    return "\n".join(
        bytes.fromhex(h.decode()).decode("utf-16-be") for h in re.findall(rb"<([0-9A-F]+)>", data)
    )


def test_pdf_prints_the_bundle_and_the_signatories(area: ManagementArea) -> None:
    b = handover.build(area, clock.today())
    data = handover.to_pdf(b, [("移交方 物管会主任", "刘国庆"), ("接收方 业委会主任", "陈立新")])
    assert data.startswith(b"%PDF-")
    text = _pdf_text(data)
    for words in ("移交清单：绿城一片区", "移交方 物管会主任：刘国庆", "接收方 业委会主任：陈立新"):
        assert words in text
    assert text.count("签字：") == 2
    assert "洁美保洁公司" in text and "顺安停车公司" in text
    # Every object the cross-reference table names starts where it says.
    start = int(re.search(rb"startxref\n(\d+)", data).group(1))  # type: ignore[union-attr]
    for number, offset in enumerate(re.findall(rb"(\d{10}) 00000 n", data[start:]), start=1):
        assert data[int(offset) :].startswith(b"%d 0 obj" % number)


def test_a_long_bundle_runs_over_pages(area: ManagementArea) -> None:
    b = handover.build(area, clock.today())
    many = [("见证人", f"见证人{i}") for i in range(40)]
    data = handover.to_pdf(b, many)
    pages = int(re.search(rb"/Count (\d+)", data).group(1))  # type: ignore[union-attr]
    assert pages >= 3
    assert "见证人39" in _pdf_text(data)


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("area_committee", 200),
        ("staff", 200),
        ("admin", 200),
        ("committee", 404),  # another area's committee
        ("other_staff", 404),
        ("rep", 404),
        ("resident", 404),
        ("outsider", 404),
    ],
)
def test_preview_and_downloads_for_the_keepers_only(
    area: ManagementArea, world: World, login_as, who: str, status: int
) -> None:
    client = login_as(world.users[who])
    page = client.get(f"/fees/areas/{area.id}/handover-bundle")
    assert page.status_code == status
    for ext, mimetype in (("xlsx", "spreadsheetml"), ("pdf", "application/pdf")):
        got = client.get(f"/fees/areas/{area.id}/handover-bundle.{ext}")
        assert got.status_code == status
        if status == 200:
            assert mimetype in got.mimetype
    if status == 200:
        html = page.get_data(as_text=True)
        assert "钱收款" in html and "¥10.00" in html
        assert f"/fees/areas/{area.id}/handover-bundle.pdf" in html


def test_a_resident_of_the_area_gets_404(world: World, login_as) -> None:
    """The branch's resident sees their own area, not its bundle."""
    client = login_as(world.users["resident"])
    assert client.get(f"/fees/areas/{world.branch.area_id}/handover-bundle").status_code == 404

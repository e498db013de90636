"""The hand-over bundle (移交清单): everything an area's money and records come to, in one
place, for the day its management passes to an elected 业委会 or a property company.

``build(area, on)`` reads each package's own figures: the money accounts' balances
(``treasury.service.balances_on``), the maintenance fund (``fund.service.available``),
what each home owes or has paid ahead (the fee ledger's entries, settled oldest first by
``fees.ledger.allocate``, as the home's statement does), the collectors' cash
(``fees.cash.positions``), open repairs and works with what each work has cost so far
(``fund.service.costs_of``), contracts (``income.service.contracts_of`` and the contracts
filed in the archive), the archive's index, and the ledger's totals by year from the
running totals the finance board reads (``AreaMonth``, ``CommonIncomeMonth``).

Dated figures are cut at the end of ``on``: balances, the fund, arrears and credit, work
costs, documents; the ledger's totals count every month up to ``on``'s. What has no date
of its own (cash still in collectors' hands, the state of repairs, works and contracts) is
read as it stands when the bundle is built, which is why a bundle is built on the day of
the hand-over and then frozen (``as_record`` / ``from_record``).

``open_money(area)`` says why the hand-over cannot happen yet: money taken that is not in
the books or the accounts. ``to_xlsx`` and ``to_pdf`` write the bundle for filing, in
Chinese whatever the reader's language, as the ledger export does.
"""

from __future__ import annotations

import types
from collections import defaultdict
from dataclasses import dataclass, fields, is_dataclass
from datetime import date, datetime, timedelta
from typing import Any, Union, get_args, get_origin, get_type_hints

from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload, selectinload

from .. import clock
from ..archive.models import DocKind, Document, DocumentVersion
from ..archive.pdf import simple_pdf
from ..errors import RuleError
from ..extensions import db
from ..fees import cash, expenses
from ..fees.ledger import BillLine, allocate, owing_since
from ..fees.models import (
    Account,
    AreaMonth,
    Bill,
    BillAdjustment,
    FeeItem,
    Payment,
    Reversal,
)
from ..fund import service as fund
from ..income import service as income
from ..income.models import CommonIncomeMonth
from ..money import format_fen
from ..months import month_of
from ..reconcile import service as reconcile
from ..registry.models import Building, Compound, Household, ManagementArea, Unit
from ..repairs.models import OPEN, RepairTask, Work, WorkStatus
from ..templating import address
from ..treasury import service as treasury
from ..treasury.labels import account_name
from ..xlsx import workbook, yuan, zh

# --- the bundle -------------------------------------------------------------------------------


@dataclass(frozen=True)
class AccountLine:
    """A money account's balance at the end of the day, named as the finance board names it
    (kind, bank, last four digits), never by the name the treasurer typed."""

    kind: str
    bank: str
    last4: str
    balance_fen: int


@dataclass(frozen=True)
class FundLine:
    """A fund centre statement in force: the compound's (scope "") or one building's."""

    compound: str
    scope: str
    stated_fen: int
    stated_on: date


@dataclass(frozen=True)
class FundHolding:
    """What the fund holds for a compound: its statements less what was paid out since."""

    compound: str
    reported_fen: int
    since_fen: int
    available_fen: int
    stated_on: date


@dataclass(frozen=True)
class HomeOwing:
    room: str
    owed_fen: int
    months: int  # months of the billing periods not fully paid
    since: date | None  # the oldest of them


@dataclass(frozen=True)
class HomeCredit:
    room: str
    credit_fen: int  # paid ahead (预收), to settle the next bills


@dataclass(frozen=True)
class CashLine:
    collector: str
    held_fen: int  # collected in cash, not handed over
    waiting_fen: int  # handed over, not yet counted


@dataclass(frozen=True)
class RepairLine:
    compound: str
    place: str
    category: str
    status: str
    reported_on: date
    due_on: date
    description: str


@dataclass(frozen=True)
class WorkLine:
    compound: str
    title: str
    kind: str
    funding: str
    status: str
    planned_on: date
    budget_fen: int
    paid_fen: int  # its costs from every source, dated on or before the day


@dataclass(frozen=True)
class ContractLine:
    """A common-part income contract (``source`` "income"), with what it has received and
    what is still to come, or a contract filed in the archive ("archive"), as filed."""

    source: str
    kind: str  # the income kind; "" for a filed contract
    party: str
    title: str  # a filed contract's title; "" for an income contract
    starts_on: date  # the term's start, or the filed contract's date
    ends_on: date | None  # the term's end (the day it was ended, if ended early)
    amount_fen: int | None  # an income contract's total less cancelled instalments
    received_fen: int | None
    outstanding_fen: int | None
    overdue_fen: int | None
    instalments_left: int | None


@dataclass(frozen=True)
class DocumentLine:
    kind: str
    title: str
    dated: date
    versions: int
    withdrawn: bool


@dataclass(frozen=True)
class KindCount:
    kind: str
    count: int


@dataclass(frozen=True)
class Totals:
    """The ledger's totals for a year (``year`` None: all the years together)."""

    year: int | None
    billed_fen: int  # bills issued, less corrections
    received_fen: int  # fees received, less reversals
    spent_fen: int  # expenses that counted, less voids
    income_fen: int  # common-part income received, less reversals (公共收益)

    @property
    def balance_fen(self) -> int:
        return self.received_fen - self.spent_fen


@dataclass(frozen=True)
class Bundle:
    area_id: int
    area: str
    code: str
    on: date
    built_at: datetime
    accounts: tuple[AccountLine, ...]
    fund_statements: tuple[FundLine, ...]
    fund: tuple[FundHolding, ...]
    arrears: tuple[HomeOwing, ...]
    credits: tuple[HomeCredit, ...]
    cash: tuple[CashLine, ...]
    repairs: tuple[RepairLine, ...]
    works: tuple[WorkLine, ...]
    contracts: tuple[ContractLine, ...]
    documents: tuple[DocumentLine, ...]
    document_counts: tuple[KindCount, ...]
    totals: tuple[Totals, ...]  # all time first, then each year, oldest first

    @property
    def accounts_fen(self) -> int:
        return sum(a.balance_fen for a in self.accounts)

    @property
    def fund_fen(self) -> int:
        return sum(f.available_fen for f in self.fund)

    @property
    def arrears_fen(self) -> int:
        return sum(h.owed_fen for h in self.arrears)

    @property
    def credit_fen(self) -> int:
        return sum(h.credit_fen for h in self.credits)

    @property
    def cash_held_fen(self) -> int:
        return sum(c.held_fen for c in self.cash)

    @property
    def cash_waiting_fen(self) -> int:
        return sum(c.waiting_fen for c in self.cash)

    @property
    def all_time(self) -> Totals:
        return self.totals[0]

    @property
    def outstanding_fen(self) -> int:
        """What income contracts are still to receive."""
        return sum(c.outstanding_fen or 0 for c in self.contracts)


# --- building it ------------------------------------------------------------------------------


def build(area: ManagementArea, on: date) -> Bundle:
    """The area's bundle as of the end of ``on`` (see the module's note)."""
    if on > clock.today():
        raise RuleError(_("The hand-over day cannot be in the future."), "on")
    cutoff = clock.start_of_day(on + timedelta(days=1))
    compound_ids = [c.id for c in area.compounds]
    arrears, credits = _fee_accounts(area.id, on, cutoff)
    statements, holdings = _fund(area, on)
    documents, counts = _documents(area.id, cutoff)
    return Bundle(
        area_id=area.id,
        area=area.name,
        code=area.code,
        on=on,
        built_at=clock.now(),
        accounts=tuple(
            AccountLine(row["kind"], row["bank"], row["last4"], row["amount"])
            for row in treasury.balances_on(area.id, on)
        ),
        fund_statements=statements,
        fund=holdings,
        arrears=arrears,
        credits=credits,
        cash=tuple(
            CashLine(p.user.name, p.held, p.pending)
            for p in cash.positions(area.id)
            if p.held or p.pending
        ),
        repairs=_repairs(compound_ids, cutoff),
        works=_works(compound_ids, on),
        contracts=_contracts(area.id, on, cutoff),
        documents=documents,
        document_counts=counts,
        totals=_totals(area.id, on),
    )


def _fee_accounts(
    area_id: int, on: date, cutoff: datetime
) -> tuple[tuple[HomeOwing, ...], tuple[HomeCredit, ...]]:
    """Each home's bills (less corrections) and payments (less reversals) up to the day,
    settled oldest first: what it owes, for which months, or what it has paid ahead. On
    the day they are recorded this is what the home's account and the arrears page show."""
    homes_q = select(Account.household_id).where(Account.area_id == area_id)
    homes = db.session.execute(
        select(Household.id, Compound.name, Building.name, Unit.name, Household.room)
        .join(Unit, Unit.id == Household.unit_id)
        .join(Building, Building.id == Unit.building_id)
        .join(Compound, Compound.id == Building.compound_id)
        .where(Household.id.in_(homes_q))
        .order_by(
            Compound.name,
            Building.sort_key,
            Building.name,
            Unit.sort_key,
            Unit.name,
            Household.sort_key,
            Household.room,
        )
    ).all()
    off = (
        select(BillAdjustment.bill_id, func.sum(BillAdjustment.amount_fen).label("off"))
        .where(BillAdjustment.household_id.in_(homes_q), BillAdjustment.created_at < cutoff)
        .group_by(BillAdjustment.bill_id)
        .subquery()
    )
    owed = Bill.amount_fen - func.coalesce(off.c.off, 0)
    bills: dict[int, list[BillLine]] = defaultdict(list)
    for hid, bill_id, period, months, item, amount in db.session.execute(
        select(Bill.household_id, Bill.id, Bill.period, Bill.months, FeeItem.name, owed)
        .join(FeeItem, FeeItem.id == Bill.item_id)
        .outerjoin(off, off.c.bill_id == Bill.id)
        .where(Bill.household_id.in_(homes_q), Bill.created_at < cutoff, owed > 0)
        .order_by(Bill.household_id, Bill.period, FeeItem.sort_key, Bill.id)
    ):
        bills[hid].append(BillLine(bill_id, period, months, item, int(amount)))
    paid: dict[int, int] = defaultdict(int)
    for hid, amount in db.session.execute(
        select(Payment.household_id, func.sum(Payment.amount_fen))
        .where(Payment.household_id.in_(homes_q), Payment.paid_on <= on)
        .group_by(Payment.household_id)
    ):
        paid[hid] += int(amount)
    for hid, amount in db.session.execute(
        select(Reversal.household_id, func.sum(Reversal.amount_fen))
        .join(Payment, Payment.id == Reversal.payment_id)
        .where(
            Reversal.household_id.in_(homes_q),
            Payment.paid_on <= on,
            Reversal.created_at < cutoff,
        )
        .group_by(Reversal.household_id)
    ):
        paid[hid] -= int(amount)
    owing: list[HomeOwing] = []
    credits: list[HomeCredit] = []
    for hid, compound, building, unit, room in homes:
        lines = bills.get(hid, [])
        balance = sum(b.amount for b in lines) - paid.get(hid, 0)
        label = address(compound, building, unit, room)
        if balance > 0:
            settled = allocate(lines, paid.get(hid, 0))
            periods = {b.period: b.months for b in lines if settled.get(b.id, 0) < b.amount}
            owing.append(
                HomeOwing(label, balance, sum(periods.values()), owing_since(lines, settled))
            )
        elif balance < 0:
            credits.append(HomeCredit(label, -balance))
    return tuple(owing), tuple(credits)


def _fund(area: ManagementArea, on: date) -> tuple[tuple[FundLine, ...], tuple[FundHolding, ...]]:
    statements: list[FundLine] = []
    holdings: list[FundHolding] = []
    for compound in area.compounds:
        latest = fund.latest_balances(compound.id, on)
        if not latest:
            continue
        for building_id, row in sorted(
            latest.items(), key=lambda kv: (kv[0] is not None, kv[0] or 0)
        ):
            scope = row.building.name if building_id is not None and row.building else ""
            statements.append(FundLine(compound.name, scope, row.balance_fen, row.stated_on))
        # The fund page's figure: the compound's statement, else its buildings' together.
        buildings = [] if None in latest else [b for b in latest if b is not None]
        held = fund.available(compound.id, buildings, on)
        if held is not None:
            holdings.append(
                FundHolding(
                    compound.name, held.reported_fen, held.since_fen, held.fen, held.stated_on
                )
            )
    return tuple(statements), tuple(holdings)


def _repairs(compound_ids: list[int], cutoff: datetime) -> tuple[RepairLine, ...]:
    tasks = db.session.scalars(
        select(RepairTask)
        .where(
            RepairTask.compound_id.in_(compound_ids),
            RepairTask.status.in_(OPEN),
            RepairTask.reported_at < cutoff,
        )
        .options(
            joinedload(RepairTask.compound),
            joinedload(RepairTask.building),
            joinedload(RepairTask.unit),
            joinedload(RepairTask.household),
        )
        .order_by(RepairTask.reported_at, RepairTask.id)
    ).all()
    return tuple(
        RepairLine(
            t.compound.name,
            address(
                t.building.name if t.building else "",
                t.unit.name if t.unit else "",
                t.household.room if t.household else "",
            ),
            t.category,
            t.status,
            clock.local_date(t.reported_at),
            t.due_on,
            t.description[:60],
        )
        for t in tasks
    )


def _works(compound_ids: list[int], on: date) -> tuple[WorkLine, ...]:
    works = db.session.scalars(
        select(Work)
        .where(
            Work.compound_id.in_(compound_ids),
            Work.status != WorkStatus.COMPLETED,
            # Every work begun on paper by then, however far off its planned day.
            Work.created_at < clock.start_of_day(on + timedelta(days=1)),
        )
        .options(joinedload(Work.compound))
        .order_by(Work.planned_on, Work.id)
    ).all()
    costs = fund.costs_of([w.id for w in works])
    return tuple(
        WorkLine(
            w.compound.name,
            w.title,
            w.kind,
            w.funding,
            w.status,
            w.planned_on,
            w.budget_fen,
            sum(c.amount_fen for c in costs[w.id] if c.on <= on),
        )
        for w in works
    )


def _contracts(area_id: int, on: date, cutoff: datetime) -> tuple[ContractLine, ...]:
    found = [
        ContractLine(
            "income",
            s.contract.kind,
            s.contract.counterparty,
            "",
            s.contract.starts_on,
            s.contract.end.ended_on if s.contract.end else s.contract.ends_on,
            s.expected,
            s.paid,
            s.left,
            s.overdue,
            sum(1 for line in s.lines if line.status in (income.DUE, income.PART, income.OVERDUE)),
        )
        for s in income.contracts_of(area_id, on)
        if s.contract.created_at < cutoff
    ]
    found += [
        ContractLine(
            "archive", "", d.counterparty, d.title, d.dated, None, d.amount_fen, *(None,) * 4
        )
        for d in db.session.scalars(
            select(Document)
            .where(
                Document.area_id == area_id,
                Document.kind == DocKind.CONTRACT,
                Document.created_at < cutoff,
                Document.withdrawn_at.is_(None) | (Document.withdrawn_at >= cutoff),
            )
            .order_by(Document.dated, Document.id)
        )
    ]
    return tuple(found)


def _documents(
    area_id: int, cutoff: datetime
) -> tuple[tuple[DocumentLine, ...], tuple[KindCount, ...]]:
    docs = db.session.scalars(
        select(Document)
        .where(Document.area_id == area_id, Document.created_at < cutoff)
        .options(selectinload(Document.versions))
        .order_by(Document.dated.desc(), Document.id.desc())
    ).all()
    order = list(DocKind)
    lines = sorted(
        (
            DocumentLine(
                d.kind,
                d.title,
                d.dated,
                sum(1 for v in d.versions if _uploaded_before(v, cutoff)),
                d.withdrawn_at is not None and d.withdrawn_at < cutoff,
            )
            for d in docs
        ),
        key=lambda line: order.index(DocKind(line.kind)),  # stable: newest first in a kind
    )
    counts: dict[str, int] = defaultdict(int)
    for line in lines:
        if not line.withdrawn:
            counts[line.kind] += 1
    return tuple(lines), tuple(KindCount(k, counts[k]) for k in order if counts.get(k))


def _uploaded_before(version: DocumentVersion, cutoff: datetime) -> bool:
    return version.uploaded_at < cutoff


def _totals(area_id: int, on: date) -> tuple[Totals, ...]:
    last = month_of(on)
    sums: dict[int, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    for month, billed, received, spent in db.session.execute(
        select(
            AreaMonth.month, AreaMonth.billed_fen, AreaMonth.received_fen, AreaMonth.spent_fen
        ).where(AreaMonth.area_id == area_id, AreaMonth.month <= last)
    ):
        row = sums[month.year]
        row[0] += int(billed)
        row[1] += int(received)
        row[2] += int(spent)
    for month, amount in db.session.execute(
        select(CommonIncomeMonth.month, func.sum(CommonIncomeMonth.amount_fen))
        .where(CommonIncomeMonth.area_id == area_id, CommonIncomeMonth.month <= last)
        .group_by(CommonIncomeMonth.month)
    ):
        sums[month.year][3] += int(amount)
    years = [Totals(year, *sums[year]) for year in sorted(sums)]
    whole = Totals(None, *(sum(t[i] for t in sums.values()) for i in range(4)))
    return (whole, *years)


# --- what keeps the hand-over from happening ---------------------------------------------------


def open_money(area: ManagementArea) -> list[str]:
    """Why the area cannot be handed over yet, each reason with its amount: money taken
    that is not in the books or the accounts. Empty when nothing is open."""
    reasons: list[str] = []
    for p in cash.positions(area.id):
        if p.held > 0:
            reasons.append(
                _(
                    "%(name)s still holds %(amount)s in cash collected and not handed over.",
                    name=p.user.name,
                    amount=format_fen(p.held),
                )
            )
    waiting = cash.waiting(area.id)
    if waiting:
        reasons.append(
            ngettext(
                "%(num)d cash hand-over (%(amount)s) has not been counted by the treasurer.",
                "%(num)d cash hand-overs (%(amount)s) have not been counted by the treasurer.",
                len(waiting),
                amount=format_fen(sum(h.amount_fen for h in waiting)),
            )
        )
    moves = treasury.awaiting_approval(area.id)
    if moves:
        reasons.append(
            ngettext(
                "%(num)d movement between accounts (%(amount)s) waits for its approval.",
                "%(num)d movements between accounts (%(amount)s) wait for their approval.",
                len(moves),
                amount=format_fen(sum(m.amount_fen for m in moves)),
            )
        )
    spending = expenses.awaiting_approval(area.id)
    if spending:
        reasons.append(
            ngettext(
                "%(num)d expense (%(amount)s) waits for its approval.",
                "%(num)d expenses (%(amount)s) wait for their approval.",
                len(spending),
                amount=format_fen(sum(e.amount_fen for e in spending)),
            )
        )
    claims = reconcile.waiting_claims(area.id)
    if claims:
        reasons.append(
            ngettext(
                "%(num)d transfer residents reported (%(amount)s) is not checked against a "
                "statement yet.",
                "%(num)d transfers residents reported (%(amount)s) are not checked against a "
                "statement yet.",
                len(claims),
                amount=format_fen(sum(c.amount_fen for c in claims)),
            )
        )
    for account in reconcile.reconciled_accounts(area.id):
        lines = [s.line for s in reconcile.account_state(account).lines]
        if lines:
            reasons.append(
                ngettext(
                    "%(num)d line on the statements of %(account)s is not matched or explained "
                    "(in %(in)s, out %(out)s).",
                    "%(num)d lines on the statements of %(account)s are not matched or "
                    "explained (in %(in)s, out %(out)s).",
                    len(lines),
                    account=account_name(account),
                    **{
                        "in": format_fen(sum(x.amount_fen for x in lines if x.amount_fen > 0)),
                        "out": format_fen(-sum(x.amount_fen for x in lines if x.amount_fen < 0)),
                    },
                )
            )
    return reasons


# --- freezing ---------------------------------------------------------------------------------


def as_record(bundle: Bundle) -> dict[str, Any]:
    """The bundle as JSON-ready values (dates as ISO text), to freeze with the hand-over."""
    record = _dump(bundle)
    assert isinstance(record, dict)
    return record


def from_record(record: dict[str, Any]) -> Bundle:
    """The bundle ``as_record`` froze."""
    found = _load(Bundle, record)
    assert isinstance(found, Bundle)
    return found


def _dump(value: Any) -> Any:
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: _dump(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, tuple | list):
        return [_dump(v) for v in value]
    if isinstance(value, date):  # a datetime too
        return value.isoformat()
    return value


def _load(kind: Any, value: Any) -> Any:
    origin = get_origin(kind)
    if origin is tuple:
        return tuple(_load(get_args(kind)[0], v) for v in value)
    if origin in (Union, types.UnionType):
        if value is None:
            return None
        inner = next(a for a in get_args(kind) if a is not type(None))
        return _load(inner, value)
    if isinstance(kind, type) and is_dataclass(kind):
        hints = get_type_hints(kind)
        return kind(**{f.name: _load(hints[f.name], value[f.name]) for f in fields(kind)})
    if kind is datetime:
        return datetime.fromisoformat(value)
    if kind is date:
        return date.fromisoformat(value)
    return value


# --- writing it out ---------------------------------------------------------------------------

_SOURCE = {"income": "公共收益合同", "archive": "档案中的合同"}
# The archive's kinds as the archive page names them in Chinese.
_DOC_KIND = {
    DocKind.COVENANT: "管理规约",
    DocKind.RULES: "议事规则",
    DocKind.PLAN: "一小区一方案",
    DocKind.CONTRACT: "合同",
    DocKind.MINUTES: "会议纪要",
    DocKind.VOTE_RESULT: "表决结果",
    DocKind.NOTICE: "公告",
    DocKind.OTHER: "其他",
}


def _day(d: date | None) -> str:
    return f"{d.year}年{d.month}月{d.day}日" if d else ""


def _yes(value: bool) -> str:
    return "是" if value else ""


def _summary(bundle: Bundle) -> list[tuple[str, int | None, str]]:
    """The 汇总 lines: what, an amount in fen (None: a count only), a count or note."""
    whole = bundle.all_time
    return [
        ("资金账户余额合计", bundle.accounts_fen, f"{len(bundle.accounts)}个账户"),
        ("专项维修资金（可用）", bundle.fund_fen, f"{len(bundle.fund)}个小区"),
        ("业主欠费合计", bundle.arrears_fen, f"{len(bundle.arrears)}户"),
        ("预收（业主预交）合计", bundle.credit_fen, f"{len(bundle.credits)}户"),
        ("收款人手中未交现金", bundle.cash_held_fen, f"{len(bundle.cash)}人"),
        ("已交未点收现金", bundle.cash_waiting_fen, ""),
        ("合同待收", bundle.outstanding_fen, f"{len(bundle.contracts)}份合同"),
        ("未完成报修", None, f"{len(bundle.repairs)}件"),
        ("未完工程", None, f"{len(bundle.works)}项"),
        ("档案文件", None, f"{sum(c.count for c in bundle.document_counts)}份"),
        ("累计应收（账单）", whole.billed_fen, ""),
        ("累计实收物业费", whole.received_fen, ""),
        ("累计支出", whole.spent_fen, ""),
        ("物业费结余（实收－支出）", whole.balance_fen, ""),
        ("累计公共收益", whole.income_fen, ""),
    ]


def _account_label(line: AccountLine) -> str:
    words = zh("account_kind", line.kind)
    return " ".join(
        part for part in (words, line.bank, f"尾号{line.last4}" if line.last4 else "") if part
    )


def to_xlsx(bundle: Bundle) -> bytes:
    """The bundle as a workbook: 汇总 first, then one sheet per part, Chinese headers."""
    sheets: list[tuple[str, list[str], list[list[Any]]]] = [
        (
            "汇总",
            ["项目", "金额(元)", "数量/说明"],
            [
                ["物业管理区域", None, f"{bundle.area}（{bundle.code}）"],
                ["截至", None, bundle.on],
                *(
                    [what, None if fen is None else yuan(fen), note]
                    for what, fen, note in _summary(bundle)
                ),
            ],
        ),
        (
            "资金账户",
            ["账户", "开户行", "尾号", f"余额(元，截至{bundle.on:%Y-%m-%d})"],
            [
                [zh("account_kind", a.kind), a.bank, a.last4, yuan(a.balance_fen)]
                for a in bundle.accounts
            ],
        ),
        (
            "维修资金",
            ["小区", "范围", "对账单余额(元)", "对账单日期", "此后拨付(元)", "可用(元)"],
            [
                [f.compound, s.scope or "全小区", yuan(s.stated_fen), s.stated_on, None, None]
                for f in bundle.fund
                for s in bundle.fund_statements
                if s.compound == f.compound
            ]
            + [
                [
                    f.compound,
                    "合计",
                    yuan(f.reported_fen),
                    f.stated_on,
                    yuan(f.since_fen),
                    yuan(f.available_fen),
                ]
                for f in bundle.fund
            ],
        ),
        (
            "欠费",
            ["房屋", "欠费(元)", "欠费月数", "欠费起始月"],
            [
                [h.room, yuan(h.owed_fen), h.months, f"{h.since:%Y-%m}" if h.since else ""]
                for h in bundle.arrears
            ],
        ),
        ("预收", ["房屋", "预交余额(元)"], [[h.room, yuan(h.credit_fen)] for h in bundle.credits]),
        (
            "未交现金",
            ["收款人", "手中现金(元)", "已交未点收(元)"],
            [[c.collector, yuan(c.held_fen), yuan(c.waiting_fen)] for c in bundle.cash],
        ),
        (
            "未完成报修",
            ["小区", "位置", "类别", "状态", "报修日期", "期限", "内容"],
            [
                [
                    r.compound,
                    r.place,
                    zh("repair_category", r.category),
                    zh("repair_status", r.status),
                    r.reported_on,
                    r.due_on,
                    r.description,
                ]
                for r in bundle.repairs
            ],
        ),
        (
            "未完工程",
            ["小区", "工程", "类别", "资金来源", "状态", "计划日期", "预算(元)", "已付(元)"],
            [
                [
                    w.compound,
                    w.title,
                    zh("work_kind", w.kind),
                    zh("funding", w.funding),
                    zh("work_status", w.status),
                    w.planned_on,
                    yuan(w.budget_fen),
                    yuan(w.paid_fen),
                ]
                for w in bundle.works
            ],
        ),
        (
            "合同",
            [
                "来源",
                "类别",
                "对方",
                "名称",
                "起始",
                "截止",
                "金额(元)",
                "已收(元)",
                "待收(元)",
                "逾期(元)",
                "未结期数",
            ],
            [
                [
                    _SOURCE[c.source],
                    zh("income_kind", c.kind) if c.kind else "",
                    c.party,
                    c.title,
                    c.starts_on,
                    c.ends_on,
                    None if c.amount_fen is None else yuan(c.amount_fen),
                    None if c.received_fen is None else yuan(c.received_fen),
                    None if c.outstanding_fen is None else yuan(c.outstanding_fen),
                    None if c.overdue_fen is None else yuan(c.overdue_fen),
                    c.instalments_left,
                ]
                for c in bundle.contracts
            ],
        ),
        (
            "档案目录",
            ["类别", "标题", "日期", "版本数", "已撤回"],
            [
                [_DOC_KIND[DocKind(d.kind)], d.title, d.dated, d.versions, _yes(d.withdrawn)]
                for d in bundle.documents
            ],
        ),
        (
            "收支合计",
            ["年度", "应收(元)", "实收物业费(元)", "支出(元)", "结余(元)", "公共收益(元)"],
            [
                [
                    "合计" if t.year is None else t.year,
                    yuan(t.billed_fen),
                    yuan(t.received_fen),
                    yuan(t.spent_fen),
                    yuan(t.balance_fen),
                    yuan(t.income_fen),
                ]
                for t in bundle.totals
            ],
        ),
    ]
    return workbook(sheets)


def to_pdf(bundle: Bundle, signatures: list[tuple[str, str]]) -> bytes:
    """The bundle on paper, with a line to sign and date for each (role, name) given: the
    party handing over and the party taking over."""
    lines = [f"{bundle.area}（{bundle.code}） 截至{_day(bundle.on)}", ""]

    def section(title: str, rows: list[str], empty: str = "无") -> None:
        lines.extend([f"【{title}】", *(rows or [empty]), ""])

    section(
        "汇总",
        [
            f"{what}：{format_fen(fen) if fen is not None else ''}{' ' + note if note else ''}"
            for what, fen, note in _summary(bundle)
        ],
    )
    section(
        "资金账户",
        [f"{_account_label(a)}：{format_fen(a.balance_fen)}" for a in bundle.accounts],
    )
    section(
        "专项维修资金",
        [
            f"{f.compound}：可用{format_fen(f.available_fen)}（{_day(f.stated_on)}对账单"
            f"{format_fen(f.reported_fen)}，此后拨付{format_fen(f.since_fen)}）"
            for f in bundle.fund
        ],
    )
    section(
        "业主欠费",
        [
            f"{h.room}：{format_fen(h.owed_fen)}，{h.months}个月"
            + (f"，自{h.since.year}年{h.since.month}月" if h.since else "")
            for h in bundle.arrears
        ],
    )
    section("业主预交", [f"{h.room}：{format_fen(h.credit_fen)}" for h in bundle.credits])
    section(
        "未交现金",
        [
            f"{c.collector}：手中{format_fen(c.held_fen)}，已交未点收{format_fen(c.waiting_fen)}"
            for c in bundle.cash
        ],
    )
    section(
        "未完成报修",
        [
            f"{_day(r.reported_on)} {r.compound} {r.place} {zh('repair_category', r.category)}"
            f"（{zh('repair_status', r.status)}）：{r.description}"
            for r in bundle.repairs
        ],
    )
    section(
        "未完工程",
        [
            f"{w.compound} {w.title}（{zh('work_status', w.status)}，{zh('funding', w.funding)}）："
            f"预算{format_fen(w.budget_fen)}，已付{format_fen(w.paid_fen)}"
            for w in bundle.works
        ],
    )
    section("合同", [_contract_text(c) for c in bundle.contracts])
    section(
        "档案目录",
        [f"{_DOC_KIND[DocKind(c.kind)]}：{c.count}份" for c in bundle.document_counts]
        + [
            f"{_day(d.dated)} {d.title}（{_DOC_KIND[DocKind(d.kind)]}，{d.versions}个版本"
            + ("，已撤回" if d.withdrawn else "")
            + "）"
            for d in bundle.documents
        ],
    )
    section(
        "收支合计（按入账月份）",
        [
            f"{'合计' if t.year is None else f'{t.year}年'}：应收{format_fen(t.billed_fen)}，"
            f"实收{format_fen(t.received_fen)}，支出{format_fen(t.spent_fen)}，"
            f"结余{format_fen(t.balance_fen)}，公共收益{format_fen(t.income_fen)}"
            for t in bundle.totals
        ],
    )
    lines.append("【签字】")
    for role, name in signatures:
        lines.extend(
            [f"{role}：{name}", "签字：____________________  日期：______年____月____日", ""]
        )
    return simple_pdf(f"移交清单：{bundle.area}", lines)


def _contract_text(c: ContractLine) -> str:
    if c.source == "archive":
        amount = f"，{format_fen(c.amount_fen)}" if c.amount_fen is not None else ""
        return f"{_day(c.starts_on)} {c.title}（{c.party}{amount}）"
    ends = _day(c.ends_on) if c.ends_on else ""
    return (
        f"{zh('income_kind', c.kind)} {c.party}：{_day(c.starts_on)}至{ends}，"
        f"金额{format_fen(c.amount_fen)}，已收{format_fen(c.received_fen)}，"
        f"待收{format_fen(c.outstanding_fen)}（{c.instalments_left}期），"
        f"逾期{format_fen(c.overdue_fen)}"
    )

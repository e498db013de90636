"""Demo and benchmark money: schedules, bills since the fee start, payments by several
collectors, cash hand-overs and expenses, written in bulk with the running totals the
services would have kept (``flask fees check`` proves they agree).

The owners decide each schedule: the area's owners voted on it after its 公示 (the
committee ran the vote, or community staff where they run the area), and it passed. A
trusteeship area still finding its feet charges on the community's decision instead,
recorded as the exception it is, until its owners vote."""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from .. import clock
from ..committees.models import Position
from ..fees.ledger import bill_amount
from ..fees.models import (
    Account,
    ApprovalHow,
    AreaMonth,
    Basis,
    Bill,
    BillRun,
    CashHandover,
    Cycle,
    Expense,
    ExpenseApproval,
    ExpenseKind,
    FeeItem,
    FeeRelief,
    FeeSchedule,
    FeeSettings,
    HandoverConfirmation,
    IncomeMonth,
    Method,
    Payment,
    ReceiptCounter,
    Reversal,
    ScheduleStatus,
)
from ..months import add_months
from ..registry.models import Building, Compound, Household, Occupancy, Occupant, Unit
from ..votes.models import (
    Ballot,
    BallotChannel,
    Elector,
    ElectorHome,
    Matter,
    Teller,
    TellerRole,
    Vote,
    VoteStatus,
)
from ..votes.tally import NON_VOTERS, Cast, count
from .archive import voucher_photo

# Tables in insert order (after the organisation tree and the people).
ORDER = [
    Vote,
    Teller,
    Elector,
    ElectorHome,
    Ballot,
    FeeSettings,
    FeeSchedule,
    FeeItem,
    FeeRelief,
    Bill,
    BillRun,
    Payment,
    Account,
    AreaMonth,
    IncomeMonth,
    ReceiptCounter,
    CashHandover,
    HandoverConfirmation,
    Expense,
    ExpenseApproval,
]

STORY_ITEMS = [
    (
        "保洁",
        "楼道每日清扫一次，扶手每周擦拭；院内道路每日清扫。",
        Basis.PER_HOUSEHOLD,
        (1000, 1500),
    ),
    ("垃圾清运", "生活垃圾每日清运，建筑垃圾另行收费。", Basis.PER_HOUSEHOLD, (500, 800)),
    ("公共照明电费", "楼道、院内路灯电费，按户建筑面积分摊。", Basis.PER_M2, (3, 5)),
    ("秩序维护", "门岗夜间值守，车辆有序停放。", Basis.PER_HOUSEHOLD, (500, 1000)),
]
BENCH_ITEMS = [
    ("物业服务费", "保洁、垃圾清运、公共照明、秩序维护。", Basis.PER_HOUSEHOLD, (2000, 2000))
]


@dataclass
class FeeArea:
    """What the generator knows of an area: its homes, its collectors, its committee."""

    area_id: int
    code: str
    start: date
    households: list[tuple[int, int, int, str]]  # id, unit id, area dm², occupancy
    reps: dict[int, int]  # unit id → representative's user id
    treasurer: int | None
    chair: int | None
    staff: int | None = None  # community staff who collect in trusteeship areas
    members: list[int] = field(default_factory=list)
    # A self-governing area: its homes pay monthly or quarterly, none falls far behind.
    steady: bool = False
    name: str = ""
    # Each home's owner of record (occupant id, name), through whom the home votes.
    owners: dict[int, tuple[int, str]] = field(default_factory=dict)


# The community's reason, where it decided the fee standard of an area it runs.
EXCEPTION_REASON = "托管期间由社区决定，待业主表决"


def ballot_photo(rng: random.Random) -> str:
    """A drawn paper ballot (ruled lines, a tick in a box) saved as an upload; its name."""
    import base64

    from PIL import Image, ImageDraw

    from ..uploads import upload_dir

    image = Image.new("RGB", (300, 400), (250, 248, 240))
    draw = ImageDraw.Draw(image)
    for y in range(40, 360, 24):
        draw.line((30, y, 270, y), fill=(200, 200, 200))
    draw.rectangle((200, 300, 240, 330 + rng.randrange(0, 40)), outline=(30, 30, 30), width=3)
    name = base64.urlsafe_b64encode(rng.randbytes(18)).decode() + ".jpg"
    image.save(upload_dir() / name, "JPEG", quality=70)
    return name


class FeeBuilder:
    def __init__(self, rows: Any, rng: random.Random, today: date, story: bool) -> None:
        self.rows, self.rng, self.today, self.story = rows, rng, today, story
        self.this_month = today.replace(day=1)

    def build(self, areas: list[FeeArea]) -> None:
        for area in areas:
            self._area(area)

    # --- one area ---------------------------------------------------------------------------

    def _owners_vote(self, fa: FeeArea, runner: int) -> tuple[int, str]:
        """The area's owners' vote on the schedule, after its 公示, closed and passed; its
        id and the record of the decision. Drawn from a generator of its own, so the rest
        of the story reads the same."""
        rng, rows = random.Random(fa.area_id), self.rows
        opened = clock.start_of_day(fa.start - timedelta(days=22)) + timedelta(hours=9)
        closed = clock.start_of_day(fa.start - timedelta(days=11)) + timedelta(hours=18)
        vote_id = rows.add(
            Vote,
            area_id=fa.area_id,
            scope_kind="area",
            scope_id=fa.area_id,
            scope_label=fa.name,
            matter=Matter.OTHER.value,
            title="物业服务收费标准（第1版）",
            text="按公示的服务项目和收费标准收费，空置房减半。是否同意？",
            status=VoteStatus.CLOSED.value,
            closes_on=(fa.start - timedelta(days=12)),
            created_by_id=runner,
            created_at=opened - timedelta(days=1),
            opened_at=opened,
            closed_at=closed,
            closed_by_id=runner,
            # Announced the subdistrict's 15 days before it opened, under the default rules.
            announced_on=clock.local_date(opened) - timedelta(days=15),
            opens_on=clock.local_date(opened),
            rules={NON_VOTERS: False},
        )
        self._tellers(fa, vote_id, runner, opened)
        photo = ballot_photo(rng)  # the signed paper ballots, photographed as collected
        homes = list(fa.households)
        rng.shuffle(homes)
        casts = []
        for n, (hid, _unit_id, dm2, _occupancy) in enumerate(homes):
            owner = fa.owners.get(hid)
            elector_id = rows.add(
                Elector,
                vote_id=vote_id,
                identity=f"occupant:{owner[0]}" if owner else f"home:{hid}",
                name=owner[1] if owner else "",
                user_id=None,
                area_dm2=dm2,
            )
            rows.add(
                ElectorHome, vote_id=vote_id, elector_id=elector_id, household_id=hid, area_dm2=dm2
            )
            choice = None
            if n < len(homes) * 82 // 100:  # four in five homes took part
                choice = "no" if n % 10 == 3 else "abstain" if n % 25 == 7 else "yes"
                rows.add(
                    Ballot,
                    vote_id=vote_id,
                    elector_id=elector_id,
                    choice=choice,
                    channel=BallotChannel.PAPER.value,
                    entered_by_id=runner,
                    photo=photo,
                    cast_at=opened + (closed - opened) * rng.random(),
                )
            casts.append(Cast(dm2, choice))
        tally = count(casts, special=False)
        assert tally.passed, "every demo fee vote passes"
        vote = rows.tables[Vote][-1]
        vote.update(
            total_area_dm2=tally.total_area,
            total_heads=tally.total_heads,
            result=tally.as_record(),
            passed=True,
        )
        yes, heads = tally.heads["yes"], tally.total_heads
        return vote_id, f"业主表决通过：{heads}户中{tally.voted_heads}户参加，{yes}户同意"

    def _tellers(self, fa: FeeArea, vote_id: int, runner: int, at: Any) -> None:
        """A scrutineer and a counter: owners of the area who sit on no committee."""
        tables = self.rows.tables
        seated = {fa.chair, fa.treasurer, *fa.members}
        roles = [TellerRole.SCRUTINEER, TellerRole.COUNTER]
        for hid, _unit_id, _dm2, _occupancy in reversed(fa.households):
            owner = fa.owners.get(hid)
            if not roles:
                break
            if owner is None or tables[Occupant][owner[0] - 1].get("user_id") in seated:
                continue
            home = tables[Household][hid - 1]
            unit = tables[Unit][home["unit_id"] - 1]
            building = tables[Building][unit["building_id"] - 1]
            compound = tables[Compound][building["compound_id"] - 1]
            self.rows.add(
                Teller,
                vote_id=vote_id,
                role=roles.pop(0).value,
                occupant_id=owner[0],
                name=owner[1],
                home=f"{compound['name']}-{building['name']}-{unit['name']}-{home['room']}",
                recorded_by_id=runner,
                recorded_at=at,
            )

    def _area(self, fa: FeeArea) -> None:
        rng, rows = self.rng, self.rows
        rows.add(FeeSettings, area_id=fa.area_id, approval_threshold_fen=50_000)
        approver = fa.chair or fa.staff
        # The committee puts it to the owners; where staff run the area, they do once the
        # area is settled, and until then the community decides, as an exception.
        voted = approver is not None and (fa.chair is not None or fa.steady)
        vote_id, note = (
            self._owners_vote(fa, approver) if voted and approver else (None, EXCEPTION_REASON)
        )
        schedule_id = rows.add(
            FeeSchedule,
            area_id=fa.area_id,
            version=1,
            status=ScheduleStatus.ACTIVE.value,
            cycle=Cycle.MONTH.value,
            start_month=fa.start,
            end_month=None,
            vacant_percent=50,
            publicity_days=7,
            published_on=fa.start - timedelta(days=30),
            approved_on=fa.start - timedelta(days=10),
            approved_how=(ApprovalHow.OWNERS_VOTE if vote_id else ApprovalHow.COMMUNITY).value,
            approval_note=note,
            approval_vote_id=vote_id,
            approved_by_id=approver,
            created_by_id=approver,
        )
        items = []
        for sort_key, (name, scope, basis, (low, high)) in enumerate(
            STORY_ITEMS if self.story else BENCH_ITEMS
        ):
            rate = (
                rng.randrange(low, high + 1, 100)
                if basis != Basis.PER_M2
                else rng.randint(low, high)
            )
            item_id = rows.add(
                FeeItem,
                schedule_id=schedule_id,
                name=name,
                scope=scope,
                basis=basis.value,
                rate_fen=rate,
                sort_key=sort_key,
            )
            items.append(_Item(item_id, name, basis.value, rate))

        relief: dict[int, int] = {}
        if self.story:
            for hid, *_rest in fa.households:
                if rng.random() < 0.03:
                    relief[hid] = rng.choice((50, 100))
                    rows.add(
                        FeeRelief,
                        household_id=hid,
                        percent_off=relief[hid],
                        reason="低保户",
                        since=fa.start,
                        id=None,
                    )

        months: list[date] = []
        month = fa.start
        while month <= self.this_month:
            months.append(month)
            month = add_months(month, 1)

        billed: dict[date, int] = defaultdict(int)
        households_billed: dict[date, int] = defaultdict(int)
        collected: dict[date, int] = defaultdict(int)
        received: dict[date, int] = defaultdict(int)
        income: dict[tuple[date, str], int] = defaultdict(int)
        payments: list[dict[str, Any]] = []
        cash_by_collector: dict[tuple[int, date], int] = defaultdict(int)

        for hid, unit_id, dm2, occupancy in fa.households:
            habit = rng.random() * (0.7 if fa.steady else 1.0)  # how this home pays
            open_bills: list[list[Any]] = []  # [left, period, item name]
            credit = 0
            total_billed = total_paid = 0
            last_period = None
            for n, period in enumerate(months):
                month_total = 0
                for item in items:
                    base, amount = bill_amount(
                        item,
                        area_dm2=dm2,
                        months=1,
                        vacant_percent=50 if occupancy == Occupancy.VACANT.value else None,
                        relief_percent=relief.get(hid, 0),
                    )
                    if amount <= 0:
                        continue
                    rows.add(
                        Bill,
                        area_id=fa.area_id,
                        household_id=hid,
                        item_id=item.id,
                        period=period,
                        months=1,
                        base_fen=base,
                        amount_fen=amount,
                    )
                    take = min(credit, amount)
                    credit -= take
                    collected[period] += take
                    if take < amount:
                        open_bills.append([amount - take, period, item.name])
                    month_total += amount
                if month_total:
                    billed[period] += month_total
                    households_billed[period] += 1
                    total_billed += month_total
                    last_period = period
                # Does the home pay this month, and how much?
                owed = sum(b[0] for b in open_bills)
                pay = 0
                if habit < 0.62:  # pays every month
                    pay = owed
                elif habit < 0.77:  # pays every quarter
                    pay = owed if n % 3 == 2 or period == self.this_month else 0
                elif habit < 0.82:  # pays a year ahead once
                    pay = owed + month_total * 11 if n == 0 else 0
                elif habit < 0.93:  # falls behind, catches up now and then
                    pay = owed if rng.random() < 0.25 else 0
                if period == self.this_month and rng.random() < 0.5:
                    pay = 0  # the month is not over: half have not paid yet
                if pay <= 0:
                    continue
                paid_on = _day_in(rng, period, self.today)
                collector, method = self._collector(fa, unit_id)
                payment = {
                    "area_id": fa.area_id,
                    "household_id": hid,
                    "amount_fen": pay,
                    "method": method,
                    "paid_on": paid_on,
                    "book_month": period,
                    "collector_id": collector,
                    "request_key": f"demo-{fa.area_id}-{hid}-{n}",
                    "note": "",
                }
                left = pay
                covered: list[date] = []
                while left and open_bills:
                    bill = open_bills[0]
                    take = min(bill[0], left)
                    bill[0] -= take
                    left -= take
                    collected[bill[1]] += take
                    income[(period, bill[2])] += take
                    if not covered or covered[-1] != bill[1]:
                        covered.append(bill[1])
                    if bill[0] == 0:
                        open_bills.pop(0)
                if left:
                    credit += left
                    income[(period, "")] += left
                payment["covers"] = _covers(covered)
                payments.append(payment)
                received[period] += pay
                total_paid += pay
                if method == Method.CASH.value:
                    cash_by_collector[(collector, period)] += pay
            owing = open_bills[0][1] if open_bills else None
            rows.add(
                Account,
                household_id=hid,
                area_id=fa.area_id,
                billed_fen=total_billed,
                paid_fen=total_paid,
                last_period=last_period,
                owing_since=owing,
            )

        # Receipt numbers run per year in the order the money came in.
        payments.sort(key=lambda p: (p["paid_on"], p["household_id"]))
        counters: dict[int, int] = defaultdict(int)
        for entry in payments:
            year = entry["paid_on"].year
            counters[year] += 1
            entry["receipt_no"] = f"{fa.code}-{year}-{counters[year]:06d}"
            rows.add(Payment, **entry)
        for year, last in counters.items():
            rows.add(ReceiptCounter, area_id=fa.area_id, year=year, last=last)

        spent = self._expenses(fa, months, billed) if self.story else {}
        if self.story:
            self._handovers(fa, cash_by_collector)
        for month in sorted(set(billed) | set(received) | set(spent)):
            rows.add(
                AreaMonth,
                area_id=fa.area_id,
                month=month,
                billed_fen=billed.get(month, 0),
                collected_fen=collected.get(month, 0),
                households_billed=households_billed.get(month, 0),
                received_fen=received.get(month, 0),
                spent_fen=spent.get(month, 0),
            )
        for month in months:
            self.rows.add(
                BillRun, area_id=fa.area_id, period=month, bills=len(fa.households) * len(items)
            )
        for (month, item_name), amount in income.items():
            rows.add(
                IncomeMonth, area_id=fa.area_id, month=month, item_name=item_name, amount_fen=amount
            )

    def _collector(self, fa: FeeArea, unit_id: int) -> tuple[int, str]:
        rng = self.rng
        rep = fa.reps.get(unit_id)
        if rep is not None and rng.random() < 0.75:
            return rep, (Method.CASH if rng.random() < 0.8 else Method.WECHAT).value
        keeper = fa.treasurer or fa.chair or fa.staff
        assert keeper is not None
        return keeper, rng.choice((Method.WECHAT, Method.ALIPAY, Method.BANK, Method.CASH)).value

    def _handovers(self, fa: FeeArea, cash: dict[tuple[int, date], int]) -> None:
        """Representatives hand each month's cash to the treasurer, who counts it."""
        keeper = fa.treasurer or fa.chair
        if keeper is None:
            return
        rng = self.rng
        for (collector, month), amount in sorted(cash.items()):
            if collector == keeper or month == self.this_month:
                continue
            handed_on = min(add_months(month, 1) + timedelta(days=rng.randrange(0, 4)), self.today)
            handover_id = self.rows.add(
                CashHandover,
                area_id=fa.area_id,
                collector_id=collector,
                amount_fen=amount,
                handed_on=handed_on,
                request_key=f"demo-handover-{fa.area_id}-{collector}-{month:%Y%m}",
            )
            if month == add_months(self.this_month, -1) and rng.random() < 0.4:
                continue  # handed over in the last days: not counted yet
            short = 1000 if rng.random() < 0.03 else 0
            self.rows.add(
                HandoverConfirmation,
                handover_id=handover_id,
                received_fen=amount - short,
                note="点收时少 ¥10.00，已记录，待核实" if short else "",
                confirmed_by_id=keeper,
            )

    def _expenses(
        self, fa: FeeArea, months: list[date], billed: dict[date, int]
    ) -> dict[date, int]:
        """Monthly wages and bills, and now and then a repair that needed a second approval."""
        rng = self.rng
        recorder = fa.treasurer or fa.staff
        approver = fa.chair or fa.staff
        if recorder is None:
            return {}
        spent: dict[date, int] = defaultdict(int)
        finished = [m for m in months if m < self.this_month]
        last = len(finished) - 1
        for n, month in enumerate(months):
            if month == self.this_month:
                break
            day = min(add_months(month, 1) - timedelta(days=3), self.today)
            budget = billed.get(month, 0)
            lines = [
                (ExpenseKind.SERVICE, "保洁", "保洁员工资", int(budget * 0.38)),
                (ExpenseKind.SERVICE, "垃圾清运", "环卫清运队", int(budget * 0.2)),
                (ExpenseKind.SERVICE, "公共照明电费", "国网孝义供电公司", int(budget * 0.06)),
            ]
            if n % 2 == 1:
                # Small repairs, as far as the month's fees allow.
                repair = min(rng.randrange(30_000, 260_000, 100), int(budget * 0.12))
                lines.append((ExpenseKind.REPAIR, "", "小区维修队", repair))
            for kind, category, payee, amount in lines:
                amount = max(amount // 100 * 100, 100)
                needs = amount > 50_000
                expense_id = self.rows.add(
                    Expense,
                    area_id=fa.area_id,
                    kind=kind.value,
                    category=category,
                    amount_fen=amount,
                    payee=payee,
                    spent_on=day,
                    book_month=month,
                    note=f"{month.month}月" + ("维修" if kind == ExpenseKind.REPAIR else "费用"),
                    # The last finished month's vouchers, photographed (owners open them).
                    voucher=voucher_photo(f"voucher-{fa.area_id}-{n}-{payee}", payee, amount, day)
                    if n == last
                    else None,
                    needs_approval=needs,
                    recorded_by_id=recorder,
                    request_key=f"demo-expense-{fa.area_id}-{n}-{payee}",
                )
                if needs and approver and approver != recorder:
                    self.rows.add(
                        ExpenseApproval,
                        expense_id=expense_id,
                        approved_by_id=approver,
                        book_month=month,
                    )
                    spent[month] += amount
                elif not needs:
                    spent[month] += amount
        return spent


@dataclass(frozen=True)
class _Item:
    id: int
    name: str
    basis: str
    rate_fen: int


def _day_in(rng: random.Random, month: date, today: date) -> date:
    last = add_months(month, 1) - timedelta(days=1)
    day = month + timedelta(days=rng.randrange(2, max(3, last.day - 2)))
    return min(day, today)


def _covers(periods: list[date]) -> str:
    if not periods:
        return ""
    if len(periods) == 1:
        return f"{periods[0]:%Y-%m}"
    return f"{periods[0]:%Y-%m}–{periods[-1]:%Y-%m}"


def keepers_of(rows: Any, committee_area: dict[int, int]) -> dict[int, dict[Position, int]]:
    """Per area, the user holding each committee position (from the generated rows)."""
    from ..committees.models import CommitteeMember

    found: dict[int, dict[Position, int]] = defaultdict(dict)
    for member in rows.tables.get(CommitteeMember, []):
        area_id = committee_area[member["committee_id"]]
        found[area_id].setdefault(Position(member["position"]), member["user_id"])
    return found


def finish_story() -> None:
    """Through the services: publish each finished month's finance board, and void a few
    payments entered twice by mistake, as committees do."""
    from sqlalchemy import select

    from .. import clock
    from ..extensions import db
    from ..fees import ledger, reports

    this_month = clock.today().replace(day=1)
    schedules = db.session.scalars(select(FeeSchedule).order_by(FeeSchedule.area_id)).all()
    for n, schedule in enumerate(schedules):
        area = schedule.area
        publisher = schedule.approved_by
        assert publisher is not None, "every demo schedule was approved by someone"
        _money_accounts(area, n)
        _statement(area)
        month = schedule.start_month
        while month < this_month:
            reports.publish_board(area, month, publisher)
            month = add_months(month, 1)
        if n % 5 == 0:
            payment = db.session.scalars(
                select(Payment)
                .where(Payment.area_id == area.id)
                .order_by(Payment.paid_on.desc(), Payment.id.desc())
                .limit(1)
            ).first()
            if payment is not None:
                ledger.reverse_payment(payment, "重复登记，已与住户核对", publisher)
    db.session.commit()


MARGIN = 100_000  # ¥1,000


def _cover_the_bank(area: Any, keeper: Any, bank: Any, today: date) -> None:
    """The wages and bills went out of the bank: the treasurer deposits the cash box (then
    moves the WeChat and Alipay takings) to cover them, a second member approving, so no
    account stays below zero."""
    from sqlalchemy import select

    from ..auth.models import User
    from ..committees.models import Committee, CommitteeMember
    from ..extensions import db
    from ..fees.cash import community_staff
    from ..fees.schedules import settings_of
    from ..treasury import hooks, service
    from ..treasury.models import AccountKind

    accounts = service.accounts_of(area.id, open_only=True)
    sources = [hooks.cash_box(area.id)] + [
        a for a in accounts if a.kind in (AccountKind.WECHAT, AccountKind.ALIPAY)
    ]
    people = list(
        db.session.scalars(
            select(User)
            .join(CommitteeMember, CommitteeMember.user_id == User.id)
            .join(Committee, Committee.id == CommitteeMember.committee_id)
            .where(Committee.area_id == area.id)
        ).unique()
    ) + community_staff(area.id)
    for source in sources:
        db.session.refresh(bank)
        db.session.refresh(source)
        # A margin on both sides: a payment reversed later leaves the account it went to.
        amount = min(MARGIN - bank.balance_fen, source.balance_fen - MARGIN // 5) // 100 * 100
        if bank.balance_fen >= MARGIN:
            return
        if not [u for u in people if u.id != keeper.id]:
            amount = min(amount, settings_of(area.id).approval_threshold_fen)  # nobody to approve
        if amount <= 0:
            continue
        movement = service.record_movement(
            area,
            keeper,
            source=source,
            target=bank,
            amount_fen=amount,
            moved_on=today - timedelta(days=1),
            note="存入基本户，支付保洁工资和电费",
            request_key=f"demo-cover-{area.id}-{source.id}",
        )
        if movement.needs_approval:
            second = next((u for u in people if service.may_approve(movement, u)), None)
            if second is not None:
                service.approve_movement(movement, second)


def _money_accounts(area: Any, n: int) -> None:
    """Through the services: every area opens a bank account (in a trusteeship area, the
    community's account) and its WeChat and Alipay codes; what was counted, paid and spent
    so far is entered in them (the wages and bills were paid from the bank); in a
    trusteeship area the representatives hand their cash to the community staff, who count
    it; and part of the cash box goes to the bank, once or twice."""
    from .. import clock
    from ..extensions import db
    from ..fees import cash
    from ..treasury import hooks, service
    from ..treasury.models import AccountKind

    today = clock.today()
    keepers = service.money_keepers(area.id)
    if not keepers:
        return
    keeper = keepers[0]
    committee = cash.has_committee(area.id)
    bank = service.open_account(
        area,
        keeper,
        kind=AccountKind.BANK if committee else AccountKind.COMMUNITY,
        name="基本户" if committee else "社区代管账户",
        bank="孝义农商银行",
        holder=f"{area.name}物管会" if committee else "社区居民委员会",
        last4=f"{(area.id * 7919) % 10000:04d}",
    )
    service.open_account(area, keeper, kind=AccountKind.WECHAT, name="微信收款码")
    service.open_account(area, keeper, kind=AccountKind.ALIPAY, name="支付宝收款码")
    hooks.book_earlier(area.id, expenses_from=bank)  # the bulk rows, as they were
    if not committee:
        for pos in cash.positions(area.id):
            if pos.is_keeper or pos.held <= 0:
                continue
            handover = cash.hand_over(
                area,
                pos.user,
                amount_fen=pos.held,
                handed_on=today,
                request_key=f"demo-trust-handover-{area.id}-{pos.user.id}",
            )
            cash.confirm(handover, keeper, received_fen=None, note="", as_handed=True)
    box = hooks.cash_box(area.id)
    _cover_the_bank(area, keeper, bank, today)
    for share, days in ((2, 20), (4, 3))[: 1 + n % 2]:
        db.session.refresh(box)
        amount = min(box.balance_fen // share // 100 * 100, 40_000)  # counts at once
        if amount > 0:
            service.record_movement(
                area,
                keeper,
                source=box,
                target=bank,
                amount_fen=amount,
                moved_on=today - timedelta(days=days),
                note="现金存入银行",
                request_key=f"demo-deposit-{area.id}-{days}",
            )


def _statement(area: Any) -> None:
    """Through the services: the area's WeChat Pay bill for the last weeks is imported (else
    its bank statement), most of its lines confirmed against the payments, some left to
    confirm, one line nobody can place yet, the collection code's fee explained, and one
    resident's transfer claim (我已转账) whose line waits for the treasurer's confirmation."""
    from sqlalchemy import select

    from .. import clock
    from ..auth.models import Role, RoleGrant, User
    from ..extensions import db
    from ..fees.models import Reversal
    from ..reconcile import service, statements
    from ..reconcile.models import Explanation, StatementLine
    from ..registry.models import Building, Compound, Household, Unit
    from ..treasury import service as treasury
    from ..treasury.models import AccountKind, MoneyAccount

    keepers = treasury.money_keepers(area.id)
    if not keepers:
        return
    keeper = keepers[0]
    today = clock.today()
    since = today - timedelta(days=40)
    for kind, method in ((AccountKind.WECHAT, Method.WECHAT), (AccountKind.BANK, Method.BANK)):
        account = db.session.scalar(
            select(MoneyAccount).where(
                MoneyAccount.area_id == area.id,
                MoneyAccount.kind == kind,
                MoneyAccount.closed_on.is_(None),
            )
        )
        payments = db.session.scalars(
            select(Payment)
            .outerjoin(Reversal, Reversal.payment_id == Payment.id)
            .where(
                Payment.area_id == area.id,
                Payment.method == method,
                Payment.paid_on >= since,
                Reversal.id.is_(None),
            )
            .order_by(Payment.paid_on, Payment.id)
            .limit(6)
        ).all()
        if account is not None and len(payments) >= 3:
            break
    else:
        return
    lines: list[statements.Line] = []
    for i, p in enumerate(payments):
        home = p.household
        words = f"{home.unit.building.name}{home.unit.name}{home.room}物业费" if i % 2 else ""
        lines.append(
            statements.Line(
                i + 2,
                p.paid_on,
                f"{9 + i:02d}:1{i}:00",
                p.amount_fen,
                "",
                words,
                f"DEMO{area.id}{p.id}",
            )
        )
    fee_on = payments[-1].paid_on
    lines.append(statements.Line(20, fee_on, "18:00:00", 5_000, "李**", "", f"DEMO{area.id}X1"))
    lines.append(statements.Line(21, fee_on, "23:59:00", -60, "", "服务费", f"DEMO{area.id}X2"))
    # A resident of the area who paid by transfer and said so: their line is on the bill.
    resident = db.session.execute(
        select(User, Household)
        .join(RoleGrant, RoleGrant.user_id == User.id)
        .join(Household, Household.id == RoleGrant.household_id)
        .join(Unit, Unit.id == Household.unit_id)
        .join(Building, Building.id == Unit.building_id)
        .join(Compound, Compound.id == Building.compound_id)
        .where(Compound.area_id == area.id, RoleGrant.role == Role.RESIDENT)
        .order_by(RoleGrant.id)
        .limit(1)
    ).first()
    claim_on = min(today - timedelta(days=1), fee_on + timedelta(days=1))
    if resident is not None:
        lines.append(
            statements.Line(22, claim_on, "20:05:00", 36_000, "吴**", "", f"DEMO{area.id}X3")
        )
    statements.identify(lines)
    record = service.import_statement(
        account,
        keeper,
        file_name="微信支付账单.csv" if account.kind == AccountKind.WECHAT else "账户明细.csv",
        sha256="0" * 64,
        layout="wechat" if account.kind == AccountKind.WECHAT else "bank",
        lines=lines,
        doubled=0,
        request_key=f"demo-statement-{area.id}",
    )
    db.session.flush()
    if resident is not None:
        user, home = resident
        service.create_claim(
            home,
            user,
            amount_fen=36_000,
            paid_on=claim_on,
            method=str(Method(account.kind if account.kind != AccountKind.COMMUNITY else "bank")),
            note="微信转给财务了",
            photo=None,
            request_key=f"demo-claim-{area.id}",
        )
    state = service.account_state(account)
    proposed = [s for s in state.to_confirm if s.proposal and s.proposal.kind == "payment"]
    for s in proposed[: max(2, len(proposed) - 2)]:
        payment = db.session.get(Payment, s.proposal.id) if s.proposal else None
        if payment is not None:
            service.confirm(s.line, payment, keeper)
    fee = db.session.scalar(
        select(StatementLine).where(
            StatementLine.import_id == record.id, StatementLine.amount_fen < 0
        )
    )
    if fee is not None:
        service.explain(fee, keeper, Explanation.BANK_FEE, "收款码提现手续费")


BENCH_STATEMENT_LINES = 200


def bench_statements() -> int:
    """The first area of every community of a benchmark dataset opens its WeChat code and
    imports the bill of its WeChat payments of the last 60 days (at most
    ``BENCH_STATEMENT_LINES``), a fifth of them confirmed: the reconciliation page as a busy
    treasurer sees it, with a full list to confirm. Returns the lines imported; does not
    commit."""
    from sqlalchemy import select

    from .. import clock
    from ..extensions import db
    from ..reconcile import service, statements
    from ..registry.models import ManagementArea
    from ..treasury import service as treasury
    from ..treasury.models import AccountKind

    since = clock.today() - timedelta(days=60)
    firsts: dict[int, ManagementArea] = {}
    for area in db.session.scalars(select(ManagementArea).order_by(ManagementArea.id)):
        firsts.setdefault(area.community_id, area)
    imported = 0
    for area in firsts.values():
        keepers = treasury.money_keepers(area.id)
        payments = db.session.scalars(
            select(Payment)
            .outerjoin(Reversal, Reversal.payment_id == Payment.id)
            .where(
                Payment.area_id == area.id,
                Payment.method == Method.WECHAT,
                Payment.paid_on >= since,
                Reversal.id.is_(None),
            )
            .order_by(Payment.paid_on, Payment.id)
            .limit(BENCH_STATEMENT_LINES)
        ).all()
        if not keepers or not payments:
            continue
        keeper = keepers[0]
        account = treasury.open_account(area, keeper, kind=AccountKind.WECHAT, name="微信收款码")
        lines = [
            statements.Line(i + 2, p.paid_on, "10:00:00", p.amount_fen, "", "", f"WX{p.id}")
            for i, p in enumerate(payments)
        ]
        statements.identify(lines)
        service.import_statement(
            account,
            keeper,
            file_name="微信支付账单.csv",
            sha256="0" * 64,
            layout="wechat",
            lines=lines,
            doubled=0,
            request_key=f"bench-statement-{area.id}",
        )
        db.session.flush()
        waiting = service.account_state(account).to_confirm
        for state in waiting[: len(waiting) // 5]:
            proposal = state.proposal
            if proposal is not None and proposal.kind == "payment":
                payment = db.session.get(Payment, proposal.id)
                assert payment is not None
                service.confirm(state.line, payment, keeper)
        imported += len(lines)
    return imported

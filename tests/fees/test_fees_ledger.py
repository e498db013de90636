"""The fee ledger's rules, through the services: amounts, bills, payments, reversals, totals."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select, text
from sqlalchemy.exc import DatabaseError

from compound_app import clock
from compound_app.errors import RuleError
from compound_app.extensions import db
from compound_app.fees import ledger, proofs, schedules
from compound_app.fees.models import (
    Account,
    ApprovalHow,
    Basis,
    Bill,
    BillAdjustment,
    Cycle,
    LedgerChangeRefused,
    Method,
    Payment,
    Reversal,
    ScheduleStatus,
)
from compound_app.months import add_months, month_of, this_month
from compound_app.registry.models import Occupancy
from tests.factories import (
    World,
    compound,
    fee_schedule,
    first_household,
    first_unit,
    passed_area_vote,
)


@pytest.fixture(autouse=True)
def _request(app):  # type: ignore[no-untyped-def]
    """Messages are translated for a request; the services run as if inside one."""
    with app.test_request_context():
        yield


def _pay(world: World, household, amount: int, key: str | None = None, **kw):  # type: ignore[no-untyped-def]
    return ledger.record_payment(
        household,
        amount_fen=amount,
        method=kw.pop("method", Method.CASH),
        paid_on=kw.pop("paid_on", clock.today()),
        collector=kw.pop("collector", world.users["rep"]),
        request_key=key
        or f"k-{household.id}-{amount}-{db.session.scalar(select(func.count(Payment.id)))}",
        **kw,
    )


def _start(months_ago: int = 2) -> date:
    return add_months(this_month(), -months_ago)


# --- amounts ----------------------------------------------------------------------------------


class _Item:
    def __init__(self, basis: str, rate: int) -> None:
        self.basis, self.rate_fen = basis, rate


@pytest.mark.parametrize(
    ("basis", "rate", "dm2", "months", "vacant", "relief", "expected"),
    [
        ("per_household", 1500, 6850, 1, None, 0, (1500, 1500)),
        ("per_household", 1500, 6850, 3, None, 0, (4500, 4500)),
        # 68.50 m² × ¥0.25 = ¥17.125 → ¥17.13 (half up, once per bill)
        ("per_m2", 25, 6850, 1, None, 0, (1713, 1713)),
        # three months at once: 68.50 × 0.25 × 3 = 51.375 → 51.38, not 3 × 17.13 = 51.39
        ("per_m2", 25, 6850, 3, None, 0, (5138, 5138)),
        ("per_m2", 30, 6851, 1, None, 0, (2055, 2055)),  # 20.553 → 20.55
        ("fixed", 3000, 6850, 12, None, 0, (3000, 3000)),
        # vacant homes pay a share: 50 % of 17.13 = 8.565 → 8.57
        ("per_m2", 25, 6850, 1, 50, 0, (1713, 857)),
        ("per_household", 1500, 6850, 1, None, 50, (1500, 750)),
        ("per_household", 1500, 6850, 1, None, 100, (1500, 0)),
        ("per_household", 1001, 6850, 1, 50, 50, (1001, 251)),  # 500.5 → 501; 250.5 → 251
    ],
)
def test_bill_amounts_round_half_up_once_per_bill(
    basis, rate, dm2, months, vacant, relief, expected
) -> None:
    got = ledger.bill_amount(
        _Item(basis, rate),
        area_dm2=dm2,
        months=months,
        vacant_percent=vacant,
        relief_percent=relief,
    )
    assert got == expected


# --- bills ---------------------------------------------------------------------------------------


def test_bills_are_issued_once_per_household_period_and_item(world: World) -> None:
    area = world.branch.area
    fee_schedule(
        area, start=_start(2), items=(("保洁", "per_household", 1000), ("照明", "per_m2", 5))
    )
    households = sum(len(u.households) for b in world.branch.buildings for u in b.units)
    first = db.session.scalar(select(func.count(Bill.id)).where(Bill.area_id == area.id))
    assert first == households * 2  # the start month, issued on approval

    assert schedules.catch_up(area.id) == households * 2 * 2  # the two months since
    assert schedules.catch_up(area.id) == 0  # again: nothing new
    assert ledger.generate_bills(area.id, this_month()) == 0
    db.session.commit()
    # The database refuses a duplicate too.
    bill = db.session.scalars(select(Bill).limit(1)).one()
    with pytest.raises(DatabaseError):
        db.session.execute(
            text(
                "INSERT INTO bill (area_id, household_id, item_id, period, months, base_fen, "
                "amount_fen, created_at) VALUES (:a, :h, :i, :p, 1, 1, 1, CURRENT_TIMESTAMP)"
            ),
            {"a": area.id, "h": bill.household_id, "i": bill.item_id, "p": bill.period},
        )
    db.session.rollback()
    assert proofs.check_totals() == []


def test_quarterly_bills_fall_on_the_cycle_months(world: World) -> None:
    area = world.trust.area
    fee_schedule(area, start=_start(4), cycle="quarter", items=(("保洁", "per_household", 1000),))
    schedules.catch_up(area.id)
    periods = set(db.session.scalars(select(Bill.period).where(Bill.area_id == area.id)))
    assert periods == {_start(4), _start(1)}
    assert set(db.session.scalars(select(Bill.amount_fen))) == {3000}
    assert ledger.generate_bills(area.id, _start(3)) == 0  # not the start of a quarter


def test_vacant_homes_and_relief(world: World) -> None:
    area = world.trust.area
    homes = [h for b in world.trust.buildings for u in b.units for h in u.households]
    homes[0].occupancy = Occupancy.VACANT
    schedules.set_relief(homes[1], 100, "低保户", _start(1))
    schedules.set_relief(homes[2], 50, "低保户", _start(1))
    db.session.commit()
    fee_schedule(
        area, start=this_month(), items=(("保洁", "per_household", 1000),), vacant_percent=50
    )
    amounts = dict(db.session.execute(select(Bill.household_id, Bill.amount_fen)).all())
    assert amounts[homes[0].id] == 500
    assert homes[1].id not in amounts  # fully exempt: no bill at all
    assert amounts[homes[2].id] == 500
    assert amounts[homes[3].id] == 1000


# --- payments ---------------------------------------------------------------------------------


def test_payments_settle_the_oldest_bills_first_and_keep_credit(world: World) -> None:
    area = world.branch.area
    fee_schedule(
        area,
        start=_start(2),
        items=(("保洁", "per_household", 1000), ("照明", "per_household", 200)),
    )
    schedules.catch_up(area.id)
    home = first_household(world.branch)
    db.session.commit()
    account = db.session.get(Account, home.id)
    assert account.balance_fen == 3600 and account.owing_since == _start(2)

    paid = _pay(world, home, 1500).payment
    db.session.commit()
    assert paid.covers == f"{_start(2):%Y-%m}–{_start(1):%Y-%m}"
    assert account.owing_since == _start(1)  # half of the second month is still owed
    _pay(world, home, 2500)  # 2,100 owed: 400 becomes credit
    db.session.commit()
    assert account.balance_fen == -400 and account.owing_since is None

    # Next month's bill is settled at once from the credit.
    ledger.generate_bills(area.id, add_months(this_month(), 1))
    db.session.commit()
    db.session.refresh(account)
    assert account.balance_fen == 800
    assert account.owing_since == add_months(this_month(), 1)
    assert proofs.check_totals() == []


def test_receipt_numbers_run_without_gaps_per_area_and_year(world: World) -> None:
    fee_schedule(world.branch.area, start=this_month())
    fee_schedule(world.trust.area, start=this_month())
    home, other = first_household(world.branch), first_household(world.trust)
    numbers = [_pay(world, home, 100).payment.receipt_no for _ in range(3)]
    numbers.append(_pay(world, other, 100).payment.receipt_no)
    year = clock.today().year
    code = world.branch.area.code
    assert numbers[:3] == [f"{code}-{year}-{n:06d}" for n in (1, 2, 3)]
    assert numbers[3] == f"{world.trust.area.code}-{year}-000001"
    # A payment that is refused leaves no gap.
    db.session.commit()
    with pytest.raises(RuleError):
        _pay(world, home, 100, paid_on=clock.today() + timedelta(days=1))
    db.session.rollback()
    assert _pay(world, home, 100).payment.receipt_no == f"{code}-{year}-000004"


def test_the_same_form_sent_twice_records_one_payment(world: World) -> None:
    fee_schedule(world.branch.area, start=this_month())
    home = first_household(world.branch)
    first = _pay(world, home, 1000, key="form-1")
    db.session.commit()
    again = _pay(world, home, 1000, key="form-1")
    assert again.repeated and again.payment.id == first.payment.id
    assert db.session.scalar(select(func.count(Payment.id))) == 1
    with pytest.raises(RuleError):  # the key with other data: refused, not silently merged
        _pay(world, home, 2000, key="form-1")


def test_reversal_makes_the_amount_owed_again_and_happens_once(world: World) -> None:
    fee_schedule(world.branch.area, start=this_month())
    home = first_household(world.branch)
    payment = _pay(world, home, 1000).payment
    db.session.commit()
    with pytest.raises(RuleError):
        ledger.reverse_payment(payment, "  ", world.users["committee"])
    ledger.reverse_payment(payment, "收错户了", world.users["committee"])
    db.session.commit()
    assert db.session.get(Account, home.id).balance_fen == 1000
    with pytest.raises(RuleError):
        ledger.reverse_payment(payment, "再冲一次", world.users["committee"])
    db.session.rollback()
    assert payment.reversal.reason == "收错户了"
    assert proofs.check_totals() == []


# --- append-only ----------------------------------------------------------------------------------


def test_ledger_rows_cannot_be_changed_through_the_orm(world: World) -> None:
    fee_schedule(world.branch.area, start=this_month())
    payment = _pay(world, first_household(world.branch), 1000).payment
    db.session.commit()
    payment.amount_fen = 1
    with pytest.raises(LedgerChangeRefused):
        db.session.flush()
    db.session.rollback()
    db.session.delete(db.session.get(Payment, payment.id))
    with pytest.raises(LedgerChangeRefused):
        db.session.flush()
    db.session.rollback()
    from sqlalchemy import delete, update

    with pytest.raises(LedgerChangeRefused):
        db.session.execute(update(Bill).values(amount_fen=1))
    with pytest.raises(LedgerChangeRefused):
        db.session.execute(delete(Payment))
    db.session.rollback()


@pytest.mark.parametrize("table", ["bill", "payment"])
@pytest.mark.parametrize("statement", ["UPDATE {t} SET area_id = area_id", "DELETE FROM {t}"])
def test_ledger_rows_cannot_be_changed_in_the_database(
    world: World, table: str, statement: str
) -> None:
    fee_schedule(world.branch.area, start=this_month())
    _pay(world, first_household(world.branch), 1000)
    db.session.commit()
    with pytest.raises(DatabaseError, match="append-only"):
        db.session.execute(text(statement.format(t=table)))
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(text(table))) > 0


# --- schedules ---------------------------------------------------------------------------------


def test_schedule_lifecycle_and_versions(world: World) -> None:
    area = world.branch.area
    admin = world.users["admin"]
    today = clock.today()
    draft = schedules.new_draft(area, admin)
    with pytest.raises(RuleError):
        schedules.publish(draft)  # no items yet
    schedules.add_item(
        draft, name="保洁", scope="每日清扫", basis=Basis.PER_HOUSEHOLD, rate_fen=1000
    )
    with pytest.raises(RuleError):
        schedules.add_item(draft, name="保洁", scope="", basis=Basis.PER_HOUSEHOLD, rate_fen=1)
    schedules.publish(draft, today=today)
    with pytest.raises(RuleError):  # published: no more edits
        schedules.add_item(draft, name="照明", scope="", basis=Basis.PER_M2, rate_fen=5)
    vote = passed_area_vote(area)
    with pytest.raises(RuleError):  # residents still have days to comment
        schedules.approve(
            draft,
            how=ApprovalHow.OWNERS_VOTE,
            approved_on=today,
            note="",
            actor=admin,
            staff=True,
            vote_id=vote.id,
        )
    later = today + timedelta(days=8)
    schedules.approve(
        draft,
        how=ApprovalHow.OWNERS_VOTE,
        approved_on=later,
        note="表决通过",
        actor=admin,
        staff=True,
        today=later,
        vote_id=vote.id,
    )
    assert draft.status == ScheduleStatus.ACTIVE and draft.approved_by_id == admin.id

    # A change is a new version from a future month; the old one ends the month before.
    second = schedules.new_draft(area, admin, today=later)
    assert [i.name for i in second.items] == ["保洁"] and second.version == 2
    with pytest.raises(RuleError):
        schedules.update_terms(
            second,
            cycle=Cycle.MONTH,
            start_month=month_of(later),
            vacant_percent=50,
            publicity_days=7,
            today=later,
        )
    start2 = add_months(month_of(later), 2)
    schedules.update_terms(
        second,
        cycle=Cycle.MONTH,
        start_month=start2,
        vacant_percent=50,
        publicity_days=7,
        today=later,
    )
    schedules.publish(second, today=later)
    schedules.approve(
        second,
        how=ApprovalHow.OWNERS_VOTE,
        approved_on=later + timedelta(days=7),
        note="",
        actor=admin,
        staff=True,
        today=later + timedelta(days=7),
        vote_id=passed_area_vote(area, later).id,
    )
    assert draft.status == ScheduleStatus.SUPERSEDED
    assert draft.end_month == add_months(start2, -1)
    assert ledger.schedule_for_month(area.id, start2).id == second.id
    assert ledger.schedule_for_month(area.id, add_months(start2, -1)).id == draft.id


def test_starting_fees_soon_after_the_pilot_began_is_a_warning(world: World) -> None:
    from compound_app.oversight.pilots import select_pilot

    select_pilot(world.unmanaged, "contiguous", this_month())
    draft = schedules.new_draft(world.unmanaged.area, None)
    draft.start_month = this_month()
    assert schedules.start_warning(draft)
    draft.start_month = add_months(this_month(), 3)
    assert schedules.start_warning(draft) is None


# --- the totals always equal the entries ------------------------------------------------------

ACTIONS = st.lists(
    st.one_of(
        st.tuples(st.just("bill"), st.integers(0, 5)),
        st.tuples(st.just("pay"), st.integers(0, 3), st.integers(1, 5000)),
        st.tuples(st.just("reverse"), st.integers(0, 30)),
        st.tuples(st.just("adjust"), st.integers(0, 200), st.integers(1, 3000)),
    ),
    min_size=1,
    max_size=25,
)


_examples = iter(range(1, 10**6))


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(actions=ACTIONS)
def test_random_bills_payments_and_reversals_keep_totals_equal_to_entries(
    world: World, actions: list[tuple]
) -> None:
    # Every example gets a compound (and so an area) of its own in the same database.
    c = compound(world.community, f"随机{next(_examples)}号院", buildings=1, units=2, households=2)
    area = c.area
    fee_schedule(
        area, start=_start(6), items=(("保洁", "per_household", 1000), ("照明", "per_m2", 5))
    )
    homes = [h for u in c.buildings[0].units for h in u.households]
    for n, action in enumerate(actions):
        match action:
            case ("bill", back):
                ledger.generate_bills(area.id, _start(back))  # in any order, even late
            case ("pay", who, amount):
                _pay(world, homes[who], amount, key=f"{area.id}-{n}")
            case ("adjust", which, amount):
                bills = db.session.scalars(
                    select(Bill).where(Bill.area_id == area.id).order_by(Bill.id)
                ).all()
                if bills:
                    try:
                        ledger.adjust_bill(
                            bills[which % len(bills)], amount, "更正", world.users["committee"]
                        )
                    except RuleError:
                        db.session.rollback()
                        continue
            case ("reverse", which):
                payments = db.session.scalars(
                    select(Payment).where(Payment.area_id == area.id).order_by(Payment.id)
                ).all()
                if payments:
                    target = payments[which % len(payments)]
                    try:
                        ledger.reverse_payment(target, "更正", world.users["committee"])
                    except RuleError:
                        db.session.rollback()
                        continue
        db.session.commit()
    assert proofs.check_totals(area.id) == []
    for home in homes:
        account = db.session.get(Account, home.id)
        entries = (
            db.session.scalar(
                select(func.coalesce(func.sum(Bill.amount_fen), 0)).where(
                    Bill.household_id == home.id
                )
            )
            - db.session.scalar(
                select(func.coalesce(func.sum(BillAdjustment.amount_fen), 0)).where(
                    BillAdjustment.household_id == home.id
                )
            )
            - db.session.scalar(
                select(func.coalesce(func.sum(Payment.amount_fen), 0)).where(
                    Payment.household_id == home.id
                )
            )
            + db.session.scalar(
                select(func.coalesce(func.sum(Reversal.amount_fen), 0)).where(
                    Reversal.household_id == home.id
                )
            )
        )
        assert (account.balance_fen if account else 0) == entries


def test_the_proof_finds_a_total_that_drifted_from_the_entries(world: World) -> None:
    from sqlalchemy import update

    from compound_app.fees.models import AreaMonth, IncomeMonth

    fee_schedule(world.branch.area, start=_start(1))
    schedules.catch_up(world.branch.area_id)
    home = first_household(world.branch)
    _pay(world, home, 1500)
    db.session.commit()
    assert proofs.check_totals() == []
    for model, change in (
        (Account, {"paid_fen": Account.paid_fen + 1}),
        (AreaMonth, {"collected_fen": AreaMonth.collected_fen - 1}),
        (IncomeMonth, {"amount_fen": IncomeMonth.amount_fen + 1}),
    ):
        db.session.execute(update(model).values(**change))
        assert proofs.check_totals(), model.__name__
        db.session.rollback()
    assert proofs.check_totals() == []


def test_each_period_is_issued_once_so_later_homes_are_not_back_billed(world: World) -> None:
    from compound_app.registry import roster

    area = world.branch.area
    fee_schedule(area, start=_start(2))
    schedules.catch_up(area.id)
    db.session.commit()
    newcomer = roster.add_household(first_unit(world.branch), "901", 7000, Occupancy.OWNER_OCCUPIED)
    exempt = first_household(world.branch)
    db.session.commit()
    assert schedules.catch_up(area.id) == 0  # the issued months stay as they were
    assert ledger.generate_bills(area.id, _start(1)) == 0
    billed = db.session.scalar(select(func.count(Bill.id)).where(Bill.household_id == newcomer.id))
    assert billed == 0
    # Next month the newcomer is billed like everyone; a reduction counts from its date.
    schedules.set_relief(exempt, 100, "低保户", add_months(this_month(), 2))
    db.session.commit()
    assert ledger.generate_bills(area.id, add_months(this_month(), 1)) > 0
    next_bills = dict(
        db.session.execute(
            select(Bill.household_id, Bill.amount_fen).where(
                Bill.period == add_months(this_month(), 1)
            )
        ).all()
    )
    assert next_bills[newcomer.id] == 1000 and next_bills[exempt.id] == 1000
    assert proofs.check_totals() == []


def test_a_new_version_starts_when_a_period_of_the_old_one_begins(world: World) -> None:
    area = world.trust.area
    fee_schedule(area, start=_start(2), cycle="quarter")
    draft = schedules.new_draft(area, None)
    for months, ok in ((2, False), (1, True), (4, True)):
        start = add_months(_start(2), 3 * months if ok else months)
        if not ok:
            with pytest.raises(RuleError):
                schedules.update_terms(
                    draft, cycle=Cycle.MONTH, start_month=start, vacant_percent=50, publicity_days=7
                )
        else:
            schedules.update_terms(
                draft, cycle=Cycle.MONTH, start_month=start, vacant_percent=50, publicity_days=7
            )


def test_a_compound_with_fee_records_keeps_its_area(world: World) -> None:
    from compound_app.registry import service as registry

    area = world.contiguous_area
    fee_schedule(area, start=this_month())
    db.session.commit()
    with pytest.raises(RuleError):
        registry.remove_from_area(world.contiguous[2], clock.today())
    db.session.rollback()
    assert world.contiguous[2].area_id == area.id


def test_boards_are_published_month_after_month(world: World) -> None:
    from compound_app.fees import reports

    area = world.branch.area
    chair = world.users["committee"]
    reports.publish_board(area, _start(3), chair)
    with pytest.raises(RuleError):
        reports.publish_board(area, _start(1), chair)  # _start(2) first
    with pytest.raises(RuleError):
        reports.publish_board(area, _start(3), chair)  # again
    reports.publish_board(area, _start(2), chair)
    with pytest.raises(RuleError):
        reports.publish_board(area, this_month(), chair)  # not over yet


def test_a_wrong_bill_is_corrected_by_an_adjustment(world: World) -> None:
    area = world.branch.area
    fee_schedule(area, start=_start(1), items=(("保洁", "per_household", 1000),))
    schedules.catch_up(area.id)
    home = first_household(world.branch)
    _pay(world, home, 1500)  # the first month and half of this one
    db.session.commit()
    first = db.session.scalars(
        select(Bill).where(Bill.household_id == home.id).order_by(Bill.period)
    ).first()
    chair = world.users["committee"]
    with pytest.raises(RuleError):
        ledger.adjust_bill(first, 1001, "空置", chair)  # more than the bill
    db.session.rollback()
    ledger.adjust_bill(first, 1000, "当月空置，误开账单", chair)
    db.session.commit()
    account = db.session.get(Account, home.id)
    assert account.balance_fen == 1000 - 1500  # only this month's bill is owed: credit 500
    assert account.owing_since is None
    with pytest.raises(RuleError):
        ledger.adjust_bill(first, 1, "再减", chair)  # nothing left of it
    db.session.rollback()
    assert proofs.check_totals() == []

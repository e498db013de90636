"""Money accounts: balances equal their entries, overdrawing and cross-area moves are
refused, a second person approves above the threshold, reversals, the trusteeship keeper,
and the money page's refusals."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select, text

from compound_app import clock
from compound_app.auth.models import User
from compound_app.committees.models import Position
from compound_app.errors import RuleError
from compound_app.extensions import db
from compound_app.fees import cash, expenses, ledger, proofs, schedules
from compound_app.fees.models import ExpenseKind, Method
from compound_app.income import service as income
from compound_app.income.models import IncomeKind, IncomeReceipt
from compound_app.months import add_months, this_month
from compound_app.registry.models import ManagementArea
from compound_app.treasury import hooks, service
from compound_app.treasury.models import (
    AccountKind,
    EntrySource,
    MoneyAccount,
    MoneyEntry,
    Movement,
    TreasuryChangeRefused,
)
from tests.factories import World, fee_schedule, first_household, user

_n = iter(range(10**6))


def _key() -> str:
    return f"treasury-test-key-{next(_n):08d}"


def _entries(account: MoneyAccount) -> int:
    return int(
        db.session.scalar(
            select(func.coalesce(func.sum(MoneyEntry.amount_fen), 0)).where(
                MoneyEntry.account_id == account.id
            )
        )
    )


@pytest.fixture
def area(world: World) -> ManagementArea:
    """绿城一片区 with a treasurer beside its chair, a schedule in force and bills."""
    a = world.contiguous_area
    from compound_app.committees import service as committees
    from compound_app.committees.models import Background, Committee, CommitteeMember

    seat = db.session.scalars(
        select(CommitteeMember).join(Committee).where(Committee.area_id == a.id)
    ).first()
    assert seat is not None
    signed_up = user("张桂英")
    member = committees.add_member(
        seat.committee,
        name="张桂英",
        mobile=signed_up.mobile,
        position=Position.TREASURER,
        background=Background.PARTY_MEMBER,
        term_start=seat.term_start,
        term_end=seat.term_end,
        actor=None,
    )
    db.session.flush()
    treasurer = db.session.get(User, member.user_id)
    assert treasurer is not None and treasurer.id == signed_up.id
    world.users["treasurer"] = treasurer
    fee_schedule(a, start=add_months(this_month(), -2))
    schedules.catch_up(a.id)
    db.session.commit()
    return a


def _cash_box_with(area: ManagementArea, world: World, amount: int) -> MoneyAccount:
    """A counted hand-over of ``amount`` from a representative's cash into the cash box."""
    collector = user("收款人")
    ledger.record_payment(
        first_household(world.contiguous[0]),
        amount_fen=amount,
        method=Method.CASH,
        paid_on=clock.today(),
        collector=collector,
        request_key=_key(),
    )
    handover = cash.hand_over(
        area, collector, amount_fen=amount, handed_on=clock.today(), request_key=_key()
    )
    cash.confirm(handover, world.users["treasurer"], received_fen=None, note="", as_handed=True)
    return hooks.cash_box(area.id)


def _bank(area: ManagementArea, actor: User) -> MoneyAccount:
    return service.open_account(
        area,
        actor,
        kind=AccountKind.BANK,
        name="基本户",
        bank="农商银行",
        holder="绿城一片区物管会",
        last4="1234",
    )


def _move(
    area: ManagementArea, actor: User, a: MoneyAccount, b: MoneyAccount, fen: int
) -> Movement:
    return service.record_movement(
        area,
        actor,
        source=a,
        target=b,
        amount_fen=fen,
        moved_on=clock.today(),
        note="",
        request_key=_key(),
    )


def test_a_deposit_moves_counted_cash_into_the_bank_and_balances_equal_entries(
    area: ManagementArea, world: World
) -> None:
    treasurer = world.users["treasurer"]
    box = _cash_box_with(area, world, 30_000)
    bank = _bank(area, treasurer)
    movement = _move(area, treasurer, box, bank, 20_000)
    db.session.commit()
    assert movement.kind == "deposit" and movement.counts
    assert (box.balance_fen, bank.balance_fen) == (10_000, 20_000)
    assert _entries(box) == 10_000 and _entries(bank) == 20_000
    assert proofs.check_totals() == []


def test_overdrawing_and_cross_area_moves_are_refused(area: ManagementArea, world: World) -> None:
    treasurer = world.users["treasurer"]
    box = _cash_box_with(area, world, 5_000)
    bank = _bank(area, treasurer)
    with pytest.raises(RuleError, match="只有"):
        _move(area, treasurer, box, bank, 5_001)
    elsewhere = hooks.cash_box(world.branch.area_id)
    with pytest.raises(RuleError, match="同一区域"):
        _move(area, treasurer, box, elsewhere, 100)
    with pytest.raises(RuleError):
        _move(area, world.users["rep"], box, bank, 100)  # not a keeper
    assert box.balance_fen == 5_000


def test_above_the_threshold_a_second_person_approves_before_it_counts(
    area: ManagementArea, world: World
) -> None:
    treasurer, chair = world.users["treasurer"], world.users["area_committee"]
    box = _cash_box_with(area, world, 80_000)
    bank = _bank(area, treasurer)
    movement = _move(area, treasurer, box, bank, 60_000)  # above ¥500
    assert movement.needs_approval and not movement.counts
    assert bank.balance_fen == 0 and service.awaiting_approval(area.id) == [movement]
    with pytest.raises(RuleError, match="另一个人"):
        service.approve_movement(movement, treasurer)
    service.approve_movement(movement, chair)
    db.session.commit()
    assert (box.balance_fen, bank.balance_fen) == (20_000, 60_000)
    assert service.awaiting_approval(area.id) == []
    assert proofs.check_totals() == []


def test_a_reversal_undoes_a_movement_and_is_not_reversed_twice(
    area: ManagementArea, world: World
) -> None:
    treasurer = world.users["treasurer"]
    box = _cash_box_with(area, world, 10_000)
    bank = _bank(area, treasurer)
    movement = _move(area, treasurer, box, bank, 4_000)
    with pytest.raises(RuleError):
        service.reverse_movement(movement, treasurer, " ")
    service.reverse_movement(movement, treasurer, "存错账户")
    with pytest.raises(RuleError, match="已经"):
        service.reverse_movement(movement, treasurer, "再冲一次")
    db.session.commit()
    assert (box.balance_fen, bank.balance_fen) == (10_000, 0)
    assert proofs.check_totals() == []


def test_a_movement_awaiting_approval_is_cancelled_without_moving_money(
    area: ManagementArea, world: World
) -> None:
    treasurer, chair = world.users["treasurer"], world.users["area_committee"]
    box = _cash_box_with(area, world, 80_000)
    bank = _bank(area, treasurer)
    movement = _move(area, treasurer, box, bank, 60_000)  # above ¥500: waits
    reversal = service.reverse_movement(movement, treasurer, "金额填错")
    db.session.commit()
    assert not movement.counts and not reversal.counts
    assert (box.balance_fen, bank.balance_fen) == (80_000, 0)
    assert service.awaiting_approval(area.id) == []
    with pytest.raises(RuleError):
        service.approve_movement(movement, chair)
    assert proofs.check_totals() == []


def test_closing_needs_a_zero_balance(area: ManagementArea, world: World) -> None:
    treasurer = world.users["treasurer"]
    box = _cash_box_with(area, world, 10_000)
    bank = _bank(area, treasurer)
    _move(area, treasurer, box, bank, 1_000)
    with pytest.raises(RuleError, match="还有"):
        service.close_account(bank, treasurer)
    _move(area, treasurer, bank, box, 1_000)
    service.close_account(bank, treasurer)
    assert not bank.is_open


def test_an_expense_paid_from_the_bank_and_a_wechat_fee_reach_their_accounts(
    area: ManagementArea, world: World
) -> None:
    treasurer = world.users["treasurer"]
    box = _cash_box_with(area, world, 10_000)
    bank = _bank(area, treasurer)
    wechat = service.open_account(area, treasurer, kind=AccountKind.WECHAT, name="收款码")
    _move(area, treasurer, box, bank, 8_000)
    with pytest.raises(RuleError, match="不够支付"):
        expenses.record_expense(
            area,
            treasurer,
            kind=ExpenseKind.OTHER,
            category="",
            amount_fen=9_000,
            payee="电工",
            spent_on=clock.today(),
            note="",
            voucher=None,
            request_key=_key(),
            paid_from=bank,
        )
    expense = expenses.record_expense(
        area,
        treasurer,
        kind=ExpenseKind.OTHER,
        category="",
        amount_fen=3_000,
        payee="电工",
        spent_on=clock.today(),
        note="",
        voucher=None,
        request_key=_key(),
        paid_from=bank,
    )
    payment = ledger.record_payment(
        first_household(world.contiguous[1]),
        amount_fen=2_500,
        method=Method.WECHAT,
        paid_on=clock.today(),
        collector=treasurer,
        request_key=_key(),
    ).payment
    db.session.commit()
    assert (bank.balance_fen, wechat.balance_fen) == (5_000, 2_500)
    expenses.void_expense(expense, "录错了", treasurer)
    ledger.reverse_payment(payment, "重复登记", treasurer)
    db.session.commit()
    assert (bank.balance_fen, wechat.balance_fen) == (8_000, 0)
    assert proofs.check_totals() == []


def test_the_trusteeship_keeper_counts_a_hand_over(world: World) -> None:
    trust_area, staff = world.trust.area, world.users["staff"]
    assert [u.id for u in cash.keepers(trust_area.id)] == [staff.id]
    rep = user("托管收款人")
    fee_schedule(trust_area, start=add_months(this_month(), -1))
    schedules.catch_up(trust_area.id)
    ledger.record_payment(
        first_household(world.trust),
        amount_fen=3_000,
        method=Method.CASH,
        paid_on=clock.today(),
        collector=rep,
        request_key=_key(),
    )
    handover = cash.hand_over(
        trust_area, rep, amount_fen=3_000, handed_on=clock.today(), request_key=_key()
    )
    assert cash.may_confirm(handover, staff)
    cash.confirm(handover, staff, received_fen=3_000, note="")
    account = service.open_account(
        trust_area,
        staff,
        kind=AccountKind.COMMUNITY,
        name="社区代管",
        bank="农商银行",
        holder="绿城社区居委会",
        last4="8888",
    )
    _move(trust_area, staff, hooks.cash_box(trust_area.id), account, 3_000)
    db.session.commit()
    assert account.balance_fen == 3_000 and proofs.check_totals() == []


def test_entries_and_movements_are_never_changed(area: ManagementArea, world: World) -> None:
    treasurer = world.users["treasurer"]
    box = _cash_box_with(area, world, 10_000)
    bank = _bank(area, treasurer)
    movement = _move(area, treasurer, box, bank, 1_000)
    db.session.commit()
    movement.amount_fen = 1
    with pytest.raises(TreasuryChangeRefused):
        db.session.flush()
    db.session.rollback()
    for sql in ("UPDATE movement SET amount_fen = 1", "DELETE FROM money_entry"):
        with pytest.raises(Exception, match="append-only"):
            db.session.execute(text(sql))
        db.session.rollback()


@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    steps=st.lists(
        st.tuples(
            st.sampled_from(
                ["hand", "deposit", "withdraw", "reverse", "expense", "income", "void_income"]
            ),
            st.integers(1, 90_000),
        ),
        max_size=8,
    )
)
def test_every_balance_equals_its_entries_whatever_happens(
    area: ManagementArea, world: World, steps: list[tuple[str, int]]
) -> None:
    treasurer = world.users["treasurer"]
    box = hooks.cash_box(area.id)
    bank = db.session.scalar(
        select(MoneyAccount).where(MoneyAccount.kind == "bank", MoneyAccount.area_id == area.id)
    ) or _bank(area, treasurer)
    done: list[Movement] = []
    received: list[IncomeReceipt] = []
    for what, fen in steps:
        try:
            # Each service refuses before it writes anything, so a refusal leaves no trace.
            if what == "hand":
                _cash_box_with(area, world, fen)
            elif what == "deposit":
                done.append(_move(area, treasurer, box, bank, fen))
            elif what == "withdraw":
                done.append(_move(area, treasurer, bank, box, fen))
            elif what == "reverse" and done:
                service.reverse_movement(done.pop(), treasurer, "冲正")
            elif what == "expense":
                expenses.record_expense(
                    area,
                    treasurer,
                    kind=ExpenseKind.OTHER,
                    category="",
                    amount_fen=fen,
                    payee="维修",
                    spent_on=clock.today(),
                    note="",
                    voucher=None,
                    request_key=_key(),
                    paid_from=box,
                )
            elif what == "income":  # by turns in cash and by bank transfer
                received.append(
                    income.record_receipt(
                        area,
                        treasurer,
                        contract=None,
                        kind=IncomeKind.SUBSIDY,
                        payer="街道办事处",
                        amount_fen=fen,
                        method=Method.CASH if len(received) % 2 else Method.BANK,
                        received_on=clock.today(),
                        note="",
                        request_key=_key(),
                    ).receipt
                )
            elif what == "void_income" and received:
                income.reverse_receipt(received.pop(), "重复登记", treasurer)
        except RuleError:
            pass
    db.session.flush()
    for account in (box, bank):
        db.session.refresh(account)
        assert account.balance_fen == _entries(account)
        # Money that came in and was voided (in this example or an earlier one: the
        # examples share the area) may leave an account short; nothing else may.
        voided = db.session.scalar(
            select(func.count())
            .select_from(MoneyEntry)
            .where(MoneyEntry.area_id == area.id, MoneyEntry.source == EntrySource.INCOME_VOID)
        )
        assert account.balance_fen >= 0 or voided
    assert proofs.check_totals() == []


# --- the money page ---------------------------------------------------------------------------


def _form(box: MoneyAccount, bank: MoneyAccount, amount: str, key: str) -> dict[str, str]:
    return {
        "source": str(box.id),
        "target": str(bank.id),
        "amount": amount,
        "moved_on": clock.today().isoformat(),
        "note": "存入银行",
        "key": key,
    }


def test_the_treasurer_deposits_on_her_phone_once_however_often_she_sends_it(
    area: ManagementArea, world: World, login_as
) -> None:
    treasurer = world.users["treasurer"]
    box = _cash_box_with(area, world, 30_000)
    bank = _bank(area, treasurer)
    db.session.commit()
    phone = login_as(treasurer)
    page = phone.get(f"/treasury/areas/{area.id}")
    assert page.status_code == 200 and "基本户" in page.get_data(as_text=True)
    url = f"/treasury/areas/{area.id}/movements"
    key = "treasury-page-key-00000001"
    assert phone.post(url, data=_form(box, bank, "100", key)).status_code == 303
    assert phone.post(url, data=_form(box, bank, "100", key)).status_code == 303
    assert db.session.scalar(select(func.count()).select_from(Movement)) == 1
    for bad in ("-5", "0", "abc", "1e9"):
        answer = phone.post(url, data=_form(box, bank, bad, f"treasury-page-bad-{bad}"))
        assert answer.status_code == 422, bad
    too_much = phone.post(url, data=_form(box, bank, "1000", "treasury-page-key-00000002"))
    assert too_much.status_code == 422 and "不能转出" in too_much.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Movement)) == 1
    board = phone.get(f"/fees/areas/{area.id}/board?month={clock.today():%Y-%m}")
    text = board.get_data(as_text=True)
    # The board names the account by kind, bank and last digits, not by its typed name.
    assert "资金存放" in text and "银行账户 农商银行 …1234" in text and "基本户" not in text


def test_the_money_page_refuses_the_wrong_role_and_the_wrong_area(
    area: ManagementArea, world: World, login_as
) -> None:
    treasurer = world.users["treasurer"]
    box = _cash_box_with(area, world, 30_000)
    bank = _bank(area, treasurer)
    db.session.commit()
    url = f"/treasury/areas/{area.id}/movements"
    data = _form(box, bank, "10", "treasury-refusal-key-0001")
    # Another area's chair: not in scope at all.
    assert login_as(world.users["committee"]).get(f"/treasury/areas/{area.id}").status_code == 404
    assert login_as(world.users["committee"]).post(url, data=data).status_code == 404
    # Someone with no role there: not found.
    assert login_as(world.users["outsider"]).get(f"/treasury/areas/{area.id}").status_code == 404
    # Staff over the area see the page; in a committee's area they do not move its money.
    staff = login_as(world.users["staff"])
    assert staff.get(f"/treasury/areas/{area.id}").status_code == 200
    assert staff.post(url, data=data).status_code == 403
    # The branch's cash box is another area's: moving into it is refused, nothing written.
    other = hooks.cash_box(world.branch.area_id)
    db.session.commit()
    treasurer_phone = login_as(treasurer)
    cross = dict(data, target=str(other.id))
    assert treasurer_phone.post(url, data=cross).status_code == 422
    assert db.session.scalar(select(func.count()).select_from(Movement)) == 0


def test_the_expense_form_pays_from_the_chosen_account_and_never_beyond_it(
    area: ManagementArea, world: World, login_as
) -> None:
    treasurer = world.users["treasurer"]
    box = _cash_box_with(area, world, 30_000)
    bank = _bank(area, treasurer)
    _move(area, treasurer, box, bank, 20_000)
    db.session.commit()
    phone = login_as(treasurer)
    page = phone.get(f"/fees/areas/{area.id}/expenses").get_data(as_text=True)
    assert "付款账户" in page and "基本户" in page
    url = f"/fees/areas/{area.id}/expenses"

    def expense(amount: str, paid_from: str, key: str) -> int:
        data = {
            "category": "other:",
            "amount": amount,
            "payee": "五金店",
            "spent_on": clock.today().isoformat(),
            "note": "门锁",
            "paid_from": paid_from,
            "key": key,
        }
        return phone.post(url, data=data).status_code

    assert expense("50", str(bank.id), "treasury-expense-key-0001") == 303
    db.session.refresh(bank)
    assert bank.balance_fen == 15_000 == _entries(bank)
    # More than the bank holds: refused next to the field, nothing written.
    assert expense("200", str(bank.id), "treasury-expense-key-0002") == 422
    # Another area's account is not on the list.
    other = hooks.cash_box(world.branch.area_id)
    db.session.commit()
    assert expense("1", str(other.id), "treasury-expense-key-0003") == 422
    db.session.refresh(bank)
    assert bank.balance_fen == 15_000
    assert not proofs.check_totals(area.id)


def test_cash_in_hand_stays_true_when_the_treasurer_changes(
    area: ManagementArea, world: World
) -> None:
    """Cash the treasurer took went into the box; after her term it is not "in her hand"."""
    from compound_app.committees import service as committees
    from compound_app.committees.models import CommitteeMember

    treasurer = world.users["treasurer"]
    ledger.record_payment(
        first_household(world.contiguous[0]),
        amount_fen=12_000,
        method=Method.CASH,
        paid_on=clock.today(),
        collector=treasurer,
        request_key=_key(),
    )
    db.session.commit()
    assert hooks.cash_box(area.id).balance_fen == 12_000
    seat = db.session.scalars(
        select(CommitteeMember).where(CommitteeMember.user_id == treasurer.id)
    ).one()
    committees.end_membership(seat, clock.today() - timedelta(days=1))
    db.session.commit()
    assert treasurer.id not in {u.id for u in cash.keepers(area.id)}
    assert cash.held_by(area.id, treasurer.id) == 0
    assert sum(h.balance_fen for h in service.holdings(area.id)) == 12_000

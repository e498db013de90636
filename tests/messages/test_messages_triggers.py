"""Each event writes its messages in its own transaction, to the people it concerns."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from compound_app import access, clock
from compound_app.committees.models import Position
from compound_app.extensions import db
from compound_app.fees import cash, ledger, schedules
from compound_app.fees.models import Account, Method
from compound_app.messages import triggers
from compound_app.messages.models import Kind, Message
from compound_app.months import add_months, month_of
from compound_app.repairs import workflow
from compound_app.repairs.models import Place, Status
from compound_app.votes import consultations
from compound_app.votes import service as votes
from tests.factories import (
    days_ago,
    fee_schedule,
    first_household,
    first_unit,
    open_announced,
    user,
)


def _messages(u) -> list[Message]:  # type: ignore[no-untyped-def]
    return list(
        db.session.scalars(select(Message).where(Message.user_id == u.id).order_by(Message.id))
    )


def _report(world, reporter):  # type: ignore[no-untyped-def]
    p = access.load_principal(reporter)
    task = workflow.report_task(
        world.branch,
        workflow.Report(
            category="plumbing",
            description="厨房水管漏水",
            place=Place.HOME,
            household_id=first_household(world.branch).id,
        ),
        reporter,
        p=p,
    )
    db.session.commit()
    return task


def test_a_new_report_reaches_the_committee_not_the_reporter(world):
    resident, chair = world.users["resident"], world.users["committee"]
    task = _report(world, resident)
    duty = _messages(chair)
    assert [(m.kind, m.url) for m in duty] == [(Kind.DUTY.value, f"/repairs/{task.id}")]
    assert "新国土小区" in duty[0].title
    assert _messages(resident) == []


def test_a_report_in_a_trusteeship_reaches_the_community_staff(world):
    tenant = world.users["tenant"]
    workflow.report_task(
        world.trust,
        workflow.Report(category="building_door", description="单元门坏了"),
        tenant,
        p=access.load_principal(tenant),
    )
    db.session.commit()
    assert [m.kind for m in _messages(world.users["staff"])] == [Kind.DUTY.value]
    assert _messages(world.users["other_staff"]) == []


def test_status_changes_reach_the_reporter_and_the_done_one_asks_for_the_check(world):
    resident, chair = world.users["resident"], world.users["committee"]
    task = _report(world, resident)
    p = access.load_principal(chair)
    workflow.assign(
        task,
        workflow.Assignment(kind="contractor", contractor="李师傅"),
        chair,
        version=task.version,
        p=p,
    )
    workflow.move(task, "start", chair, version=task.version, p=p)
    workflow.move(task, "done", chair, version=task.version, p=p)
    db.session.commit()
    titles = [m.title for m in _messages(resident)]
    assert len(titles) == 3
    assert "请您验收" in titles[-1] or "check" in titles[-1]
    # The reporter's own step is news to nobody: the reporter made it.
    before = len(_messages(chair))
    workflow.move(
        task, "confirm", resident, version=task.version, p=access.load_principal(resident)
    )
    db.session.commit()
    assert task.status == Status.CLOSED
    assert len(_messages(resident)) == 3 and len(_messages(chair)) == before


def test_a_refused_move_writes_no_message(world):
    resident = world.users["resident"]
    task = _report(world, resident)
    outsider = world.users["outsider"]
    try:
        workflow.move(
            task, "start", outsider, version=task.version, p=access.load_principal(outsider)
        )
    except Exception:
        db.session.rollback()
    assert _messages(resident) == []


def test_a_bill_run_tells_the_homes_accounts_once(world):
    area = world.branch.area
    chair = world.users["committee"]
    fee_schedule(area, start=add_months(month_of(clock.today()), -1), approver=chair)
    schedules.catch_up(area.id)
    db.session.commit()
    bills = [m for m in _messages(world.users["resident"]) if m.kind == Kind.BILL.value]
    assert len(bills) >= 1 and all(m.dedupe_key.startswith(f"bill:{area.id}:") for m in bills)
    assert _messages(world.users["tenant"]) == []  # another area
    assert ledger.generate_bills(area.id, month_of(clock.today())) == 0  # issued already
    assert len([m for m in _messages(world.users["resident"]) if m.kind == "bill"]) == len(bills)


def test_only_the_billed_homes_hear_their_bill_is_out(world):
    area = world.branch.area
    resident = world.users["resident"]
    home = first_household(world.branch)
    neighbour_home = first_unit(world.branch).households[1]
    neighbour = user("邻居甲", resident=neighbour_home.id)
    period = month_of(clock.today())
    triggers.bills_issued(area.id, period, [neighbour_home.id])
    db.session.commit()
    assert [m.kind for m in _messages(neighbour)] == [Kind.BILL.value]
    assert _messages(resident) == []  # their home got no bill in this run
    triggers.bills_issued(area.id, period, [home.id, neighbour_home.id])
    db.session.commit()
    assert [m.kind for m in _messages(resident)] == [Kind.BILL.value]


def test_a_hand_over_reaches_the_treasurer(world):
    area = world.branch.area
    chair, rep = world.users["committee"], world.users["rep"]
    treasurer = user("张桂英")
    from compound_app.committees import service as committees

    committees.add_member(
        committees.committee_for_area(area.id),
        name=treasurer.name,
        mobile=treasurer.mobile,
        position=Position.TREASURER,
        background="keen_resident",
        term_start=days_ago(30),
        term_end=days_ago(-700),
        actor=None,
    )
    fee_schedule(area, start=add_months(month_of(clock.today()), -1), approver=chair)
    schedules.catch_up(area.id)
    ledger.record_payment(
        first_household(world.branch),
        amount_fen=2000,
        method=Method.CASH,
        paid_on=clock.today(),
        collector=rep,
        request_key="trigger-pay-1",
    )
    cash.hand_over(
        area, rep, amount_fen=2000, handed_on=clock.today(), request_key="trigger-hand-1"
    )
    db.session.commit()
    duty = [m for m in _messages(treasurer) if m.kind == Kind.DUTY.value]
    assert len(duty) == 1 and "¥20.00" in duty[0].title
    assert duty[0].url == f"/fees/areas/{area.id}/cash"
    assert not [m for m in _messages(chair) if "¥20.00" in m.title]  # the treasurer counts


def test_a_vote_opening_reaches_its_electors_with_accounts(world):
    chair, resident = world.users["committee"], world.users["resident"]
    vote = votes.create_vote(
        votes.resolve_scope("compound", world.branch.id),
        "manager",
        "选聘物业",
        "是否选聘",
        clock.today() + timedelta(days=10),
        chair,
    )
    open_announced(vote, chair)
    db.session.commit()
    opened = [m for m in _messages(resident) if m.kind == Kind.VOTE.value]
    assert [m.url for m in opened] == [f"/votes/{vote.id}"]
    # A representative is no elector: the vote's announcement (a notice) reaches them, the
    # call to vote does not.
    assert [m for m in _messages(world.users["rep"]) if m.kind == Kind.VOTE.value] == []


def test_a_consultation_reaches_the_homes_it_asks(world):
    chair = world.users["committee"]
    asked = consultations.create_consultation(
        votes.resolve_scope("compound", world.branch.id),
        "楼道灯",
        "换声控灯？",
        ["换", "不换"],
        clock.today() + timedelta(days=5),
        chair,
    )
    db.session.commit()
    got = _messages(world.users["resident"])
    assert [m.url for m in got] == [f"/votes/consultations/{asked.id}"]
    assert _messages(world.users["tenant"]) == []


def test_remind_arrears_once_a_month(world, held_clock):
    area = world.branch.area
    fee_schedule(
        area, start=add_months(month_of(clock.today()), -3), approver=world.users["committee"]
    )
    schedules.catch_up(area.id)
    db.session.commit()
    account = db.session.get(Account, first_household(world.branch).id)
    assert account is not None and account.owing_since is not None
    today = account.owing_since + timedelta(days=45)
    first = triggers.remind(today)
    again = triggers.remind(today + timedelta(days=3))
    db.session.commit()
    assert first["arrears"] == 1 and again["arrears"] == 0
    next_month = triggers.remind(add_months(month_of(today), 1) + timedelta(days=2))
    assert next_month["arrears"] == 1
    reminders = [
        m for m in _messages(world.users["resident"]) if (m.dedupe_key or "").startswith("arrears:")
    ]
    assert len(reminders) == 2 and reminders[0].url.startswith("/fees/households/")


def test_remind_votes_three_days_before_the_close_to_those_who_have_not_voted(world):
    chair, resident = world.users["committee"], world.users["resident"]
    closes = clock.today() + timedelta(days=10)
    vote = votes.create_vote(
        votes.resolve_scope("compound", world.branch.id),
        "manager",
        "选聘物业",
        "是否",
        closes,
        chair,
    )
    open_announced(vote, chair)
    db.session.commit()
    assert triggers.remind(clock.today())["votes"] == 0  # ten days left
    assert triggers.remind(closes - timedelta(days=3))["votes"] == 1
    assert triggers.remind(closes - timedelta(days=1))["votes"] == 0  # once per vote
    db.session.commit()
    # One who voted is not reminded.
    vote2 = votes.create_vote(
        votes.resolve_scope("compound", world.branch.id), "manager", "第二次", "是否", closes, chair
    )
    open_announced(vote2, chair)
    votes.cast_online(vote2, resident, "yes", access.load_principal(resident))
    db.session.commit()
    assert triggers.remind(closes - timedelta(days=2))["votes"] == 0

"""Two people log payments for the same household at the same moment: nothing lost or doubled.

Runs on SQLite (writers queue on the database lock) and on PostgreSQL (the account row is
locked FOR UPDATE; counters and monthly totals are added to in single statements), through
real requests on two threads released together.
"""

from __future__ import annotations

import threading
from typing import Any

from flask import Flask
from sqlalchemy import func, select

from compound_app import clock
from compound_app.extensions import db
from compound_app.fees import proofs, schedules
from compound_app.fees.models import Account, Payment
from compound_app.months import add_months, month_of
from tests.factories import World, fee_schedule, first_household


def _together(app: Flask, *requests: Any) -> list[Any]:
    """Send the requests on threads released at the same instant; their responses."""
    barrier = threading.Barrier(len(requests))
    answers: list[Any] = [None] * len(requests)

    def run(n: int, request: Any) -> None:
        with app.app_context():  # each thread is a server worker of its own
            barrier.wait()
            answers[n] = request()

    threads = [threading.Thread(target=run, args=(n, r)) for n, r in enumerate(requests)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return answers


def _form(amount: str, key: str) -> dict[str, str]:
    return {
        "amount": amount,
        "method": "cash",
        "paid_on": clock.today().isoformat(),
        "note": "",
        "key": key,
    }


def _setup(world: World) -> Any:
    fee_schedule(world.branch.area, start=add_months(month_of(clock.today()), -2))
    schedules.catch_up(world.branch.area_id)
    db.session.commit()
    return first_household(world.branch)


def test_two_collectors_paying_for_one_home_at_once_both_count(
    app: Flask, world: World, login_as
) -> None:
    home = _setup(world)
    before = db.session.get(Account, home.id).balance_fen
    rep, chair = login_as(world.users["rep"]), login_as(world.users["committee"])
    url = f"/fees/households/{home.id}/pay"
    for round_ in range(5):
        answers = _together(
            app,
            lambda r=round_: rep.post(url, data=_form("12.5", f"concurrent-rep-{r:04d}-x")),
            lambda r=round_: chair.post(url, data=_form("7", f"concurrent-chair-{r:04d}-x")),
        )
        assert [a.status_code for a in answers] == [303, 303]
    db.session.commit()  # end this session's snapshot: read what the requests wrote
    payments = db.session.scalars(select(Payment).where(Payment.household_id == home.id)).all()
    assert len(payments) == 10
    assert len({p.receipt_no for p in payments}) == 10  # no number issued twice
    assert db.session.get(Account, home.id).balance_fen == before - 5 * 1950
    assert proofs.check_totals() == []


def test_the_same_form_sent_twice_at_once_records_one_payment(
    app: Flask, world: World, login_as
) -> None:
    home = _setup(world)
    rep = login_as(world.users["rep"])
    other = login_as(world.users["rep"])  # the retry may come on another connection
    url = f"/fees/households/{home.id}/pay"
    for round_ in range(5):
        key = f"double-tap-{round_:04d}-abcdef"
        answers = _together(
            app,
            lambda k=key: rep.post(url, data=_form("30", k)),
            lambda k=key: other.post(url, data=_form("30", k)),
        )
        assert [a.status_code for a in answers] == [303, 303]
        assert answers[0].headers["Location"] == answers[1].headers["Location"]
    db.session.commit()  # end this session's snapshot: read what the requests wrote
    assert db.session.scalar(select(func.count(Payment.id))) == 5
    assert proofs.check_totals() == []

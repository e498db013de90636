"""The maintenance fund routes' cases for ``test_audit``: every change writes its audit row."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select

from compound_app import clock
from compound_app.fund import service as fund
from compound_app.fund.models import FundApplication, FundBalance, FundDisbursement, WorkPayment
from compound_app.repairs import works
from tests.audits.audit_repairs import Photo
from tests.audits.test_audit import Post, case, changed, one
from tests.factories import (
    World,
    close_counted,
    days_ago,
    open_announced_fund_vote,
    passed_fund_application,
)

KEY = "audit-case-fund-key-0000001"


def _draft(w: World) -> FundApplication:
    units = [u.id for u in w.branch.buildings[0].units]
    app = fund.draft_application(
        w.branch, w.users["committee"], fund.Draft("楼道粉刷", 80_000, units), "audit-fund-draft-01"
    )
    from compound_app.extensions import db

    db.session.commit()
    return app


@case("fund.record_balance", "committee")
def _record_balance(w: World, client: Any) -> Post:
    return Post(
        f"/fund/compounds/{w.branch.id}/balances",
        {
            "building": "",
            "balance": "123,456.78",
            "stated_on": days_ago(3).isoformat(),
            "photo": Photo(),
            "key": KEY,
        },
        lambda: [changed(one(select(FundBalance)), "record_fund_balance", balance_fen=12_345_678)],
    )


@case("fund.new_application", "committee")
def _new_application(w: World, client: Any) -> Post:
    unit = w.branch.buildings[0].units[0]
    return Post(
        f"/fund/compounds/{w.branch.id}/applications",
        {
            "title": "单元门更换",
            "work": "",
            "kind": "building_door",
            "budget": "6000",
            "units": [str(unit.id)],
            "split": "area",
            "comment_days": "7",
            "key": KEY,
        },
        lambda: [
            changed(one(select(FundApplication)), "draft_fund_application", budget_fen=600_000)
        ],
    )


@case("fund.put_to_vote", "committee")
def _put_to_vote(w: World, client: Any) -> Post:
    app = _draft(w)
    return Post(
        f"/fund/applications/{app.id}/vote",
        {
            "opens_on": (clock.today() + timedelta(days=15)).isoformat(),
            "closes_on": (clock.today() + timedelta(days=29)).isoformat(),
        },
        lambda: [changed(app, "fund_vote", vote_id=lambda v: v is not None)],
    )


@case("fund.settle", "committee")
def _settle(w: World, client: Any) -> Post:
    from compound_app.extensions import db

    app = _draft(w)
    vote = open_announced_fund_vote(app, w.users["committee"])
    close_counted(vote, w.users["committee"])  # nobody voted: it did not pass
    db.session.commit()
    return Post(
        f"/fund/applications/{app.id}/settle",
        {},
        lambda: [changed(app, "fund_rejected", state="rejected")],
    )


@case("fund.disburse", "committee")
def _disburse(w: World, client: Any) -> Post:
    from compound_app.extensions import db

    fund.record_balance(
        w.branch,
        w.users["committee"],
        building=None,
        balance_fen=1_000_000,
        stated_on=days_ago(20),
        photo="",
        request_key="audit-fund-balance-01",
    )
    app = passed_fund_application(w.branch, w.users["committee"])
    db.session.commit()
    return Post(
        f"/fund/applications/{app.id}/disbursements",
        {
            "amount": "1500",
            "disbursed_on": clock.today().isoformat(),
            "reference": "维资拨字第7号",
            "photo": Photo(),
            "key": KEY,
        },
        lambda: [changed(one(select(FundDisbursement)), "fund_disbursement", amount_fen=150_000)],
    )


@case("fund.close", "committee")
def _close(w: World, client: Any) -> Post:
    from compound_app.extensions import db

    fund.record_balance(
        w.branch,
        w.users["committee"],
        building=None,
        balance_fen=1_000_000,
        stated_on=days_ago(20),
        photo="",
        request_key="audit-fund-balance-02",
    )
    app = passed_fund_application(w.branch, w.users["committee"])
    fund.disburse(
        app,
        w.users["committee"],
        amount_fen=1000,
        disbursed_on=clock.today(),
        reference="维资拨字第8号",
        photo="",
        request_key="audit-fund-paid-02",
    )
    db.session.commit()
    return Post(
        f"/fund/applications/{app.id}/close",
        {},
        lambda: [changed(app, "fund_closed", state="closed")],
    )


@case("fund.work_payment", "committee")
def _work_payment(w: World, client: Any) -> Post:
    from compound_app.extensions import db

    road = works.plan_work(
        w.branch,
        works.WorkPlan("road", "道路硬化", "", 800_000, "government", days_ago(30)),
        w.users["committee"],
    )
    db.session.commit()
    return Post(
        f"/fund/works/{road.id}/payments",
        {
            "payer": "government",
            "amount": "7800",
            "paid_on": days_ago(2).isoformat(),
            "reference": "孝改办〔2026〕12号",
            "photo": Photo(),
            "key": KEY,
        },
        lambda: [changed(one(select(WorkPayment)), "work_payment", amount_fen=780_000)],
    )

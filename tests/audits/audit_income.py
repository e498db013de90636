"""The common-part income routes' cases for ``test_audit``: every change writes its audit row."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select

from compound_app import clock
from compound_app.income.models import (
    IncomeContract,
    IncomeContractEnd,
    IncomeReceipt,
    IncomeReversal,
)
from tests.audits.test_audit import Post, case, changed, one
from tests.factories import World, income_objects

KEY = "audit-case-income-key-000001"


@case("income.new_contract", "committee")
def _new_contract(w: World, client: Any) -> Post:
    today = clock.today()
    return Post(
        f"/income/areas/{w.branch.area_id}/contracts/new",
        {
            "kind": "advertising",
            "counterparty": "城市广告公司",
            "starts_on": today.isoformat(),
            "ends_on": (today + timedelta(days=364)).isoformat(),
            "total": "6000",
            "instalments": f"{today} 3000\n{today + timedelta(days=180)} 3000",
            "note": "",
            "key": KEY,
        },
        lambda: [
            changed(one(select(IncomeContract)), "create", kind="advertising", total_fen=600_000)
        ],
    )


@case("income.end_contract", "committee")
def _end_contract(w: World, client: Any) -> Post:
    ids = income_objects(w.branch, w.users["committee"])
    return Post(
        f"/income/contracts/{ids['contract_id']}/end",
        {"ended_on": clock.today().isoformat(), "reason": "停车场改建"},
        lambda: [changed(one(select(IncomeContractEnd)), "create", reason="停车场改建")],
    )


@case("income.receive", "committee")
def _receive(w: World, client: Any) -> Post:
    return Post(
        f"/income/areas/{w.branch.area_id}/receive",
        {
            "source": "kind:donation",
            "amount": "200",
            "method": "cash",
            "received_on": clock.today().isoformat(),
            "payer": "热心业主",
            "note": "",
            "key": KEY,
        },
        lambda: [changed(one(select(IncomeReceipt)), "create", amount_fen=20_000, kind="donation")],
    )


@case("income.reverse", "committee")
def _reverse(w: World, client: Any) -> Post:
    ids = income_objects(w.branch, w.users["committee"])
    return Post(
        f"/income/receipts/{ids['receipt_id']}/reverse",
        {"reason": "录错金额"},
        lambda: [
            changed(
                one(select(IncomeReversal)),
                "create",
                receipt_id=ids["receipt_id"],
                reason="录错金额",
            )
        ],
    )

"""The money account routes' cases for ``test_audit``: every change writes its audit row."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from compound_app import clock
from compound_app.extensions import db
from compound_app.treasury import hooks
from compound_app.treasury.models import (
    EntrySource,
    MoneyAccount,
    Movement,
    MovementApproval,
)
from tests.audits.test_audit import Post, case, changed, one
from tests.factories import World

KEY = "audit-case-form-key-000000001"


def _accounts(area_id: int, user_id: int, funds: int = 0) -> tuple[MoneyAccount, MoneyAccount]:
    box = hooks.cash_box(area_id)
    if funds:
        hooks.post(box, funds, clock.today(), EntrySource.HANDOVER, 1)
    bank = MoneyAccount(
        area_id=area_id,
        kind="bank",
        name="基本户",
        bank="农商银行",
        holder="物管会",
        last4="4321",
        opened_on=clock.today(),
        opened_by_id=user_id,
    )
    db.session.add(bank)
    db.session.commit()
    return box, bank


@case("treasury.open_account", "committee")
def _open(w: World, client: Any) -> Post:
    return Post(
        f"/treasury/areas/{w.branch.area_id}/accounts",
        {"kind": "wechat", "name": "微信收款码", "bank": "", "holder": "", "last4": ""},
        lambda: [changed(one(select(MoneyAccount).where(MoneyAccount.kind == "wechat")), "create")],
    )


@case("treasury.close_account", "committee")
def _close(w: World, client: Any) -> Post:
    _box, bank = _accounts(w.branch.area_id, w.users["committee"].id)
    return Post(
        f"/treasury/accounts/{bank.id}/close",
        {},
        lambda: [changed(db.session.get(MoneyAccount, bank.id), "close")],
    )


@case("treasury.record_movement", "committee")
def _record(w: World, client: Any) -> Post:
    box, bank = _accounts(w.branch.area_id, w.users["committee"].id, funds=10_000)
    return Post(
        f"/treasury/areas/{w.branch.area_id}/movements",
        {
            "source": str(box.id),
            "target": str(bank.id),
            "amount": "50",
            "moved_on": clock.today().isoformat(),
            "note": "",
            "key": KEY,
        },
        lambda: [changed(one(select(Movement)), "create", amount_fen=5000)],
    )


def _pending(w: World, recorder_id: int) -> Movement:
    area_id = w.trust.area_id
    box, bank = _accounts(area_id, recorder_id, funds=100_000)
    movement = Movement(
        area_id=area_id,
        kind="deposit",
        from_account_id=box.id,
        to_account_id=bank.id,
        amount_fen=60_000,
        moved_on=clock.today(),
        needs_approval=True,
        recorded_by_id=recorder_id,
        request_key="audit-case-movement-0001",
    )
    db.session.add(movement)
    db.session.commit()
    return movement


@case("treasury.approve_movement", "staff")
def _approve(w: World, client: Any) -> Post:
    movement = _pending(w, w.users["admin"].id)
    return Post(
        f"/treasury/movements/{movement.id}/approve",
        {},
        lambda: [changed(one(select(MovementApproval)), "create")],
    )


@case("treasury.reverse_movement", "staff")
def _reverse(w: World, client: Any) -> Post:
    movement = _pending(w, w.users["admin"].id)
    return Post(
        f"/treasury/movements/{movement.id}/reverse",
        {"reason": "录错了"},
        lambda: [changed(one(select(Movement).where(Movement.kind == "reversal")), "create")],
    )

"""Proofs of the common-part income: the kept monthly totals recomputed from the entries.

``fees.proofs.check_totals`` (``flask fees check``) runs ``check_income``; the receipt
numbers, shared with fee payments, are checked there with the payments' numbers.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from typing import Any

from sqlalchemy import func, select, true

from ..extensions import db
from .models import (
    CommonIncomeMonth,
    IncomeContract,
    IncomeInstalment,
    IncomeReceipt,
    IncomeReversal,
)


def receipt_numbers(area_id: int, year: int) -> list[str]:
    return list(
        db.session.scalars(
            select(IncomeReceipt.receipt_no).where(
                IncomeReceipt.area_id == area_id, IncomeReceipt.receipt_no.like(f"%-{year}-%")
            )
        )
    )


def check_income(area_id: int | None = None) -> list[str]:
    """Every difference between the kept income totals and the receipts and reversals,
    and every contract whose instalments do not add up or that received too much."""

    def where(model: Any) -> Any:
        return model.area_id == area_id if area_id is not None else true()

    problems: list[str] = []
    expected: dict[tuple[int, date, str], int] = defaultdict(int)
    for a, m, kind, amount in db.session.execute(
        select(
            IncomeReceipt.area_id,
            IncomeReceipt.book_month,
            IncomeReceipt.kind,
            func.sum(IncomeReceipt.amount_fen),
        )
        .where(where(IncomeReceipt))
        .group_by(IncomeReceipt.area_id, IncomeReceipt.book_month, IncomeReceipt.kind)
    ):
        expected[(a, m, kind)] += int(amount)
    for a, m, kind, amount in db.session.execute(
        select(
            IncomeReversal.area_id,
            IncomeReversal.book_month,
            IncomeReceipt.kind,
            func.sum(IncomeReversal.amount_fen),
        )
        .join(IncomeReceipt, IncomeReceipt.id == IncomeReversal.receipt_id)
        .where(where(IncomeReversal))
        .group_by(IncomeReversal.area_id, IncomeReversal.book_month, IncomeReceipt.kind)
    ):
        expected[(a, m, kind)] -= int(amount)
    kept = {
        (r.area_id, r.month, r.kind): r.amount_fen
        for r in db.session.scalars(select(CommonIncomeMonth).where(where(CommonIncomeMonth)))
    }
    for key in sorted(set(kept) | set(expected)):
        have, want = kept.get(key, 0), expected.get(key, 0)
        if have != want:
            problems.append(f"area {key[0]} {key[1]:%Y-%m} income {key[2]}: {have} ≠ {want}")
    # A contract's instalments add up to its total; a receipt sits in its contract's area
    # and kind; a contract never receives more than its total.
    for cid, total, added in db.session.execute(
        select(
            IncomeContract.id,
            IncomeContract.total_fen,
            func.coalesce(func.sum(IncomeInstalment.amount_fen), 0),
        )
        .outerjoin(IncomeInstalment, IncomeInstalment.contract_id == IncomeContract.id)
        .where(where(IncomeContract))
        .group_by(IncomeContract.id, IncomeContract.total_fen)
        .having(IncomeContract.total_fen != func.coalesce(func.sum(IncomeInstalment.amount_fen), 0))
    ):
        problems.append(f"income contract {cid}: instalments {added} ≠ total {total}")
    wrong = db.session.scalar(
        select(func.count())
        .select_from(IncomeReceipt)
        .join(IncomeContract, IncomeContract.id == IncomeReceipt.contract_id)
        .where(
            where(IncomeReceipt),
            (IncomeContract.area_id != IncomeReceipt.area_id)
            | (IncomeContract.kind != IncomeReceipt.kind),
        )
    )
    if wrong:
        problems.append(f"{wrong} income receipts in another area or kind than their contract")
    return problems

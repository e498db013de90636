"""Proofs of reconciliation, joined into ``flask fees check``: every confirmed match joins
a line and a payment of one area and one amount; no line or payment is matched twice; a
claim is confirmed exactly when it has its payment; each import counts its lines."""

from __future__ import annotations

from collections import Counter
from typing import Any

from sqlalchemy import func, select, true

from ..extensions import db
from ..fees.models import Payment
from .models import DecisionKind, ReconDecision, StatementImport, StatementLine, TransferClaim


def check_reconcile(area_id: int | None = None) -> list[str]:
    problems: list[str] = []

    def where(model: Any) -> Any:
        return model.area_id == area_id if area_id is not None else true()

    decisions = db.session.scalars(select(ReconDecision).where(where(ReconDecision))).all()
    undone = {d.undoes_id for d in decisions if d.undoes_id is not None}
    by_id = {d.id: d for d in decisions}
    for d in decisions:
        if d.kind == DecisionKind.UNDO:
            target = by_id.get(d.undoes_id or 0)
            if target is None or target.kind not in (DecisionKind.CONFIRM, DecisionKind.EXPLAIN):
                problems.append(f"decision {d.id}: undoes what cannot be undone")
    in_force = [d for d in decisions if d.id not in undone]
    lines_decided: Counter[int] = Counter()
    payments_matched: Counter[int] = Counter()
    confirmed_claims: dict[int, ReconDecision] = {}
    rejected_claims: set[int] = set()
    for d in in_force:
        if d.kind in (DecisionKind.CONFIRM, DecisionKind.EXPLAIN) and d.line_id is not None:
            lines_decided[d.line_id] += 1
        if d.kind == DecisionKind.REJECT_CLAIM and d.claim_id is not None:
            rejected_claims.add(d.claim_id)
        if d.kind != DecisionKind.CONFIRM:
            continue
        line = db.session.get(StatementLine, d.line_id) if d.line_id else None
        payment = db.session.get(Payment, d.payment_id) if d.payment_id else None
        if line is None or payment is None:
            problems.append(f"match {d.id}: no line or no payment")
            continue
        payments_matched[payment.id] += 1
        if not (line.area_id == payment.area_id == d.area_id):
            problems.append(f"match {d.id}: line and payment of different areas")
        if line.amount_fen != payment.amount_fen:
            problems.append(f"match {d.id}: {line.amount_fen} ≠ {payment.amount_fen}")
        if d.claim_id is not None:
            confirmed_claims[d.claim_id] = d
            claim = db.session.get(TransferClaim, d.claim_id)
            if claim is None or claim.household_id != payment.household_id:
                problems.append(f"match {d.id}: the payment is not the claim's home's")
            elif claim.amount_fen != payment.amount_fen:
                problems.append(f"match {d.id}: the claim's amount ≠ its payment's")
    problems += [f"line {i}: decided {n} times" for i, n in lines_decided.items() if n > 1]
    problems += [f"payment {i}: matched {n} times" for i, n in payments_matched.items() if n > 1]
    problems += [
        f"claim {i}: confirmed and turned down" for i in rejected_claims & set(confirmed_claims)
    ]
    # A claim's payment is made with its own request key: it exists ⇔ the claim is confirmed.
    for key, payment_id in db.session.execute(
        select(Payment.request_key, Payment.id).where(
            where(Payment), Payment.request_key.like("transfer-claim-%")
        )
    ):
        claim_id = int(key.removeprefix("transfer-claim-"))
        if claim_id not in confirmed_claims or confirmed_claims[claim_id].payment_id != payment_id:
            problems.append(f"claim {claim_id}: has a payment but no confirmed match")
    for claim_id in confirmed_claims:
        if db.session.get(TransferClaim, claim_id) is None:
            problems.append(f"claim {claim_id}: confirmed but missing")
    counted = dict(
        db.session.execute(
            select(StatementLine.import_id, func.count())
            .where(where(StatementLine))
            .group_by(StatementLine.import_id)
        ).all()
    )
    for record in db.session.scalars(select(StatementImport).where(where(StatementImport))):
        if counted.get(record.id, 0) != record.lines_added:
            problems.append(f"statement import {record.id}: {record.lines_added} lines ≠ stored")
    return problems

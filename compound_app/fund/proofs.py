"""Proofs of the maintenance fund, run by ``flask fees check``: each application's state
is its last step's; each disbursement had a passed vote and a finished 公示 and stayed
within the fund's balance at the time and the budget; shares add up to the budget."""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import select, true

from ..extensions import db
from ..votes.models import Vote, VoteStatus
from .models import AppState, FundApplication, FundDisbursement, FundShare, FundStep
from .service import available, bearing_buildings

# The states an application may go to from each state.
NEXT: dict[str | None, set[str]] = {
    None: {AppState.DRAFT},
    AppState.DRAFT: {AppState.VOTING},
    AppState.VOTING: {AppState.PUBLICITY, AppState.REJECTED},
    AppState.PUBLICITY: {AppState.DISBURSED},
    AppState.DISBURSED: {AppState.DISBURSED, AppState.CLOSED},
    AppState.CLOSED: set(),
    AppState.REJECTED: set(),
}


def check_fund(area_id: int | None = None) -> list[str]:
    problems: list[str] = []
    where = FundApplication.area_id == area_id if area_id is not None else true()
    apps = list(db.session.scalars(select(FundApplication).where(where)))
    ids = [a.id for a in apps]
    steps: dict[int, list[FundStep]] = defaultdict(list)
    shares: dict[int, int] = defaultdict(int)
    paid: dict[int, list[FundDisbursement]] = defaultdict(list)
    if ids:
        for step in db.session.scalars(
            select(FundStep).where(FundStep.application_id.in_(ids)).order_by(FundStep.id)
        ):
            steps[step.application_id].append(step)
        for share in db.session.scalars(select(FundShare).where(FundShare.application_id.in_(ids))):
            shares[share.application_id] += share.share_fen
        for d in db.session.scalars(
            select(FundDisbursement)
            .where(FundDisbursement.application_id.in_(ids))
            .order_by(FundDisbursement.id)
        ):
            paid[d.application_id].append(d)
    for app in apps:
        name = f"fund application {app.id}"
        rows = steps[app.id]
        state: str | None = None
        for step in rows:
            if step.state not in NEXT[state]:
                problems.append(f"{name}: step {step.id} {state} → {step.state}")
            state = step.state
        if app.state != state:
            problems.append(f"{name}: state {app.state} ≠ its steps' {state}")
        if shares[app.id] != app.budget_fen:
            problems.append(f"{name}: shares {shares[app.id]} ≠ budget {app.budget_fen}")
        total = sum(d.amount_fen for d in paid[app.id])
        if total > app.budget_fen:
            problems.append(f"{name}: disbursed {total} > budget {app.budget_fen}")
        if sum(1 for s in rows if s.state == AppState.DISBURSED) != len(paid[app.id]):
            problems.append(f"{name}: disbursement steps ≠ disbursements")
        if not paid[app.id]:
            continue
        voting = next((s for s in rows if s.state == AppState.VOTING), None)
        vote = db.session.get(Vote, voting.vote_id) if voting and voting.vote_id else None
        if vote is None or vote.status != VoteStatus.CLOSED or not vote.passed:
            problems.append(f"{name}: disbursed without a passed vote")
        publicity = next((s for s in rows if s.state == AppState.PUBLICITY), None)
        buildings = bearing_buildings(app)
        for d in paid[app.id]:
            if publicity is None or publicity.ends_on is None:
                problems.append(f"fund disbursement {d.id}: no 公示")
            elif d.disbursed_on <= publicity.ends_on:
                problems.append(f"fund disbursement {d.id}: before the 公示 ended")
            fund = available(app.compound_id, buildings, d.disbursed_on, before_disbursement=d.id)
            if fund is None or d.amount_fen > fund.fen:
                problems.append(f"fund disbursement {d.id}: beyond the balance at the time")
    return problems

"""The maintenance fund: balances as the fund centre reports them, use applications from
the draft through the owners' vote and the 公示 to the disbursement, and the payments of a
work's cost by the government, the community or from common-part income.

Who acts: those with fee rights over the compound's area (its committee during their
term, the community staff over it), as ``access`` says; the views ask it. Every write that
moves money locks the area first (``fees.ledger.lock_area``).

The fund's balance for some buildings (``available``): the latest statement of each of
those buildings if every one has its own, else the latest statement of the whole
compound; less what was disbursed from the compound's fund after that statement's date
(all of the compound's disbursements, to be safe: the centre's next statement shows the
truth). A disbursement beyond it is refused.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from .. import audit, clock
from ..auth.models import User
from ..errors import RuleError
from ..extensions import db
from ..fees.expenses import check_paid_from
from ..fees.ledger import lock_area
from ..money import format_fen
from ..notices import service as notices
from ..registry.models import Building, Compound, Household, ManagementArea, Unit
from ..repairs.models import Funding, Work
from ..treasury import hooks as treasury_hooks
from ..treasury.models import MoneyAccount
from ..votes import procedure
from ..votes import service as votes
from ..votes.models import Matter, Vote, VoteStatus
from .models import (
    AppState,
    FundApplication,
    FundBalance,
    FundDisbursement,
    FundShare,
    FundStep,
    Payer,
    Split,
    WorkPayment,
)

DEFAULT_COMMENT_DAYS = 7

# --- balances ---------------------------------------------------------------------------------


def record_balance(
    compound: Compound,
    actor: User,
    *,
    building: Building | None,
    balance_fen: int,
    stated_on: date,
    photo: str,
    request_key: str,
) -> FundBalance:
    earlier = db.session.scalar(select(FundBalance).where(FundBalance.request_key == request_key))
    if earlier is not None:
        return earlier  # the same form sent twice
    if building is not None and building.compound_id != compound.id:
        raise RuleError(_("Choose one of this compound's buildings."), "building")
    if balance_fen < 0:
        raise RuleError(_("The balance cannot be negative."), "balance")
    if stated_on > clock.today():
        raise RuleError(_("The statement date cannot be in the future."), "stated_on")
    lock_area(compound.area_id)
    row = FundBalance(
        compound_id=compound.id,
        building_id=building.id if building else None,
        balance_fen=balance_fen,
        stated_on=stated_on,
        photo=photo,
        recorded_by_id=actor.id,
        request_key=request_key,
    )
    db.session.add(row)
    db.session.flush()
    audit.record("record_fund_balance", row)
    return row


def balance_history(compound_id: int) -> list[FundBalance]:
    """Every statement entered, newest first."""
    return list(
        db.session.scalars(
            select(FundBalance)
            .where(FundBalance.compound_id == compound_id)
            .options(selectinload(FundBalance.building))
            .order_by(FundBalance.stated_on.desc(), FundBalance.id.desc())
            .limit(100)
        )
    )


def latest_balances(
    compound_id: int, on: date | None = None, before_id: int | None = None
) -> dict[int | None, FundBalance]:
    """The statement in force for the compound (key None) and each building: the one with
    the latest date (then the latest entered), among those dated on or before ``on``."""
    query = select(FundBalance).where(FundBalance.compound_id == compound_id)
    if on is not None:
        query = query.where(FundBalance.stated_on <= on)
    if before_id is not None:
        query = query.where(FundBalance.id < before_id)
    latest: dict[int | None, FundBalance] = {}
    for row in db.session.scalars(query.order_by(FundBalance.stated_on, FundBalance.id)):
        latest[row.building_id] = row
    return latest


@dataclass
class Available:
    reported_fen: int  # what the statements say
    stated_on: date  # the oldest statement counted
    since_fen: int  # disbursed after that date
    whole: bool  # the compound's statement (not the buildings')

    @property
    def fen(self) -> int:
        return self.reported_fen - self.since_fen


def available(
    compound_id: int,
    building_ids: Sequence[int],
    on: date | None = None,
    *,
    before_disbursement: int | None = None,
) -> Available | None:
    """What the fund holds for these buildings (see the module's note); None when the
    fund centre's balance was never entered."""
    latest = latest_balances(compound_id, on)
    own = [latest.get(b) for b in building_ids]
    if building_ids and all(row is not None for row in own):
        rows = [row for row in own if row is not None]
        whole = False
    elif None in latest:
        rows, whole = [latest[None]], True
    else:
        return None
    stated_on = min(row.stated_on for row in rows)
    query = select(func.coalesce(func.sum(FundDisbursement.amount_fen), 0)).where(
        FundDisbursement.compound_id == compound_id,
        FundDisbursement.disbursed_on > stated_on,
    )
    if on is not None:
        query = query.where(FundDisbursement.disbursed_on <= on)
    if before_disbursement is not None:
        query = query.where(FundDisbursement.id < before_disbursement)
    since = int(db.session.scalar(query) or 0)
    return Available(sum(row.balance_fen for row in rows), stated_on, since, whole)


# --- applications -----------------------------------------------------------------------------


def fund_works(compound_id: int) -> list[Work]:
    """The compound's works paid by the fund, which an application may be for."""
    return list(
        db.session.scalars(
            select(Work)
            .where(Work.compound_id == compound_id, Work.funding == Funding.MAINTENANCE_FUND)
            .order_by(Work.planned_on.desc(), Work.id.desc())
            .limit(50)
        )
    )


def compound_units(compound_id: int) -> list[tuple[Unit, Building]]:
    rows = db.session.execute(
        select(Unit, Building)
        .join(Building, Building.id == Unit.building_id)
        .where(Building.compound_id == compound_id)
        .order_by(Building.sort_key, Unit.sort_key)
    ).all()
    return [(unit, building) for unit, building in rows]


def split_budget(budget_fen: int, areas: Sequence[int], split: str) -> list[int]:
    """Each home's share, adding up exactly to the budget (largest remainders, ties to the
    earlier home)."""
    weights = list(areas) if split == Split.AREA else [1] * len(areas)
    total = sum(weights)
    if total <= 0:
        raise RuleError(_("The homes chosen have no floor area recorded."), "units")
    shares = [budget_fen * w // total for w in weights]
    rest = budget_fen - sum(shares)
    order = sorted(range(len(weights)), key=lambda i: (-(budget_fen * weights[i] % total), i))
    for i in order[:rest]:
        shares[i] += 1
    return shares


@dataclass
class Draft:
    title: str
    budget_fen: int
    unit_ids: Sequence[int]
    split: str = Split.AREA
    comment_days: int = DEFAULT_COMMENT_DAYS
    work: Work | None = None  # else a new work of the fund is planned
    kind: str = "other"


def _step(app: FundApplication, state: AppState, actor: User, **values: object) -> FundStep:
    step = FundStep(
        application_id=app.id, state=state, on=clock.today(), actor_id=actor.id, **values
    )
    db.session.add(step)
    app.state = state
    db.session.flush()
    db.session.refresh(app, ["steps"])
    return step


def draft_application(
    compound: Compound, actor: User, draft: Draft, request_key: str
) -> FundApplication:
    earlier = db.session.scalar(
        select(FundApplication).where(FundApplication.request_key == request_key)
    )
    if earlier is not None:
        return earlier
    if draft.budget_fen <= 0:
        raise RuleError(_("The budget must be more than zero."), "budget")
    if draft.split not in set(Split):
        raise RuleError(_("Choose how the cost is shared."), "split")
    if draft.comment_days < 1:
        raise RuleError(_("The comment period lasts at least one day."), "comment_days")
    work = draft.work
    if work is not None and (
        work.compound_id != compound.id or work.funding != Funding.MAINTENANCE_FUND
    ):
        raise RuleError(_("Choose one of this compound's works paid by the fund."), "work")
    units = {u.id for u, _b in compound_units(compound.id)}
    chosen = set(draft.unit_ids)
    if not chosen or not chosen <= units:
        raise RuleError(_("Choose the stairwells whose homes bear the cost."), "units")
    homes = list(
        db.session.scalars(
            select(Household)
            .join(Unit, Unit.id == Household.unit_id)
            .join(Building, Building.id == Unit.building_id)
            .where(Household.unit_id.in_(chosen))
            .order_by(Building.sort_key, Unit.sort_key, Household.sort_key)
        )
    )
    if not homes:
        raise RuleError(_("There are no homes in the stairwells chosen."), "units")
    shares = split_budget(draft.budget_fen, [h.area_dm2 for h in homes], draft.split)
    if work is None:
        from ..repairs import works

        work = works.plan_work(
            compound,
            works.WorkPlan(
                kind=draft.kind,
                title=draft.title[:60],
                description="",
                budget_fen=draft.budget_fen,
                funding=Funding.MAINTENANCE_FUND,
                planned_on=clock.today(),
            ),
            actor,
        )
    app = FundApplication(
        area_id=compound.area_id,
        compound_id=compound.id,
        work_id=work.id,
        title=draft.title,
        budget_fen=draft.budget_fen,
        split=draft.split,
        comment_days=draft.comment_days,
        state=AppState.DRAFT,
        created_by_id=actor.id,
        request_key=request_key,
    )
    db.session.add(app)
    db.session.flush()
    for home, share in zip(homes, shares, strict=True):
        db.session.add(
            FundShare(
                application_id=app.id,
                household_id=home.id,
                area_dm2=home.area_dm2,
                share_fen=share,
            )
        )
    _step(app, AppState.DRAFT, actor)
    audit.record("draft_fund_application", app)
    return app


def bearing_buildings(app: FundApplication) -> list[int]:
    return list(
        db.session.scalars(
            select(Unit.building_id)
            .join(Household, Household.unit_id == Unit.id)
            .join(FundShare, FundShare.household_id == Household.id)
            .where(FundShare.application_id == app.id)
            .distinct()
        )
    )


def _refuse_unless(app: FundApplication, *states: AppState) -> None:
    db.session.refresh(app)
    if app.state not in states:
        raise RuleError(_("This application has moved on meanwhile. Look at it again."))


def put_to_vote(
    app: FundApplication,
    actor: User,
    closes_on: date,
    *,
    opens_on: date | None = None,
    title: str | None = None,
    text: str | None = None,
) -> Vote:
    """Announce the owners' vote (使用维修资金, art. 278), opening on ``opens_on`` (the
    earliest day the announcement period allows, unless given): its electorate will be
    exactly the homes that bear the cost. The vote's title and text say what the
    application says, unless given. The committee opens it on its page on that day."""
    lock_area(app.area_id)
    _refuse_unless(app, AppState.DRAFT)
    buildings = bearing_buildings(app)
    if len(buildings) == 1:
        scope = votes.resolve_scope("building", buildings[0])
    else:
        scope = votes.resolve_scope("compound", app.compound_id)
    text = text or "\n".join(
        [
            _(
                "Use the maintenance fund for: %(title)s. Budget %(budget)s, borne by %(n)d "
                "homes (%(split)s).",
                title=app.title,
                budget=format_fen(app.budget_fen),
                n=len(app.shares),
                split=_("by floor area") if app.split == Split.AREA else _("equally per home"),
            )
        ]
    )
    vote = votes.create_vote(
        scope,
        Matter.USE_FUND,
        (title or _("Maintenance fund: %(title)s", title=app.title))[:100],
        text,
        closes_on,
        actor,
    )
    procedure.announce(
        vote,
        opens_on or procedure.earliest_opening(vote),
        closes_on,
        actor,
        only=[s.household_id for s in app.shares],
    )
    _step(app, AppState.VOTING, actor, vote_id=vote.id)
    audit.record("fund_vote", app, after={"vote_id": vote.id})
    return vote


def earliest_vote_day(app: FundApplication) -> date:
    """The first day the application's vote could open if it were announced today."""
    area = db.session.get(ManagementArea, app.area_id)
    assert area is not None
    rules = votes.vote_rules(area.community.subdistrict_id)
    return clock.today() + timedelta(days=rules.announce_days)


def vote_of(app: FundApplication) -> Vote | None:
    step = app.step(AppState.VOTING)
    return db.session.get(Vote, step.vote_id) if step and step.vote_id else None


def settle_vote(app: FundApplication, actor: User) -> AppState:
    """After the vote closed: passed → the 公示 (a notice with a comment period); failed →
    the application ends as 未通过."""
    lock_area(app.area_id)
    _refuse_unless(app, AppState.VOTING)
    vote = vote_of(app)
    if vote is None or vote.status != VoteStatus.CLOSED:
        raise RuleError(_("The owners' vote is not closed yet: close it first."))
    if not vote.passed:
        _step(app, AppState.REJECTED, actor, vote_id=vote.id)
        audit.record("fund_rejected", app)
        return AppState.REJECTED
    ends_on = clock.today() + timedelta(days=app.comment_days)
    notice = notices.post_automatic(app, actor)
    _step(
        app,
        AppState.PUBLICITY,
        actor,
        vote_id=vote.id,
        notice_id=notice.id if notice else None,
        ends_on=ends_on,
    )
    audit.record("fund_publicity", app)
    return AppState.PUBLICITY


def publicity_ends(app: FundApplication) -> date | None:
    step = app.step(AppState.PUBLICITY)
    return step.ends_on if step else None


def disburse(
    app: FundApplication,
    actor: User,
    *,
    amount_fen: int,
    disbursed_on: date,
    reference: str,
    photo: str,
    request_key: str,
) -> FundDisbursement:
    earlier = db.session.scalar(
        select(FundDisbursement).where(FundDisbursement.request_key == request_key)
    )
    if earlier is not None:
        return earlier
    lock_area(app.area_id)
    db.session.refresh(app)
    if amount_fen <= 0:
        raise RuleError(_("The amount must be more than zero."), "amount")
    if disbursed_on > clock.today():
        raise RuleError(_("The date cannot be in the future."), "disbursed_on")
    vote = vote_of(app)
    if vote is None or vote.status != VoteStatus.CLOSED or not vote.passed:
        raise RuleError(_("The fund is paid out only after the owners' vote passed it."))
    if app.state not in (AppState.PUBLICITY, AppState.DISBURSED):
        raise RuleError(_("This application is not waiting for the money."))
    ends = publicity_ends(app)
    if ends is None or clock.today() <= ends or disbursed_on <= ends:
        raise RuleError(
            _(
                "The comment period runs until %(date)s: the fund is paid out after it ends.",
                date=f"{ends:%Y-%m-%d}" if ends else "–",
            ),
            "disbursed_on",
        )
    if app.disbursed_fen + amount_fen > app.budget_fen:
        raise RuleError(
            _(
                "That is beyond the budget: %(left)s of it is left.",
                left=format_fen(app.budget_fen - app.disbursed_fen),
            ),
            "amount",
        )
    fund = available(app.compound_id, bearing_buildings(app), disbursed_on)
    if fund is None:
        raise RuleError(_("Enter the fund centre's balance of these buildings first."), "amount")
    if amount_fen > fund.fen:
        raise RuleError(
            _(
                "That is beyond the fund's balance: %(balance)s (statement of %(date)s, less "
                "what was paid out since).",
                balance=format_fen(fund.fen),
                date=f"{fund.stated_on:%Y-%m-%d}",
            ),
            "amount",
        )
    row = FundDisbursement(
        application_id=app.id,
        compound_id=app.compound_id,
        amount_fen=amount_fen,
        disbursed_on=disbursed_on,
        reference=reference,
        photo=photo,
        recorded_by_id=actor.id,
        request_key=request_key,
    )
    db.session.add(row)
    db.session.flush()
    _step(app, AppState.DISBURSED, actor, disbursement_id=row.id)
    audit.record("fund_disbursement", row)
    return row


def close_application(app: FundApplication, actor: User) -> None:
    lock_area(app.area_id)
    _refuse_unless(app, AppState.DISBURSED)
    _step(app, AppState.CLOSED, actor)
    audit.record("fund_closed", app)


def applications_of(compound_id: int) -> list[FundApplication]:
    return list(
        db.session.scalars(
            select(FundApplication)
            .where(FundApplication.compound_id == compound_id)
            .options(
                selectinload(FundApplication.steps),
                selectinload(FundApplication.disbursements),
                selectinload(FundApplication.work),
            )
            .order_by(FundApplication.id.desc())
            .limit(50)
        )
    )


@dataclass
class ShareLine:
    room: str
    area_dm2: int
    share_fen: int
    household_id: int


def share_lines(app: FundApplication) -> list[ShareLine]:
    rows = db.session.execute(
        select(FundShare, Household, Unit, Building)
        .join(Household, Household.id == FundShare.household_id)
        .join(Unit, Unit.id == Household.unit_id)
        .join(Building, Building.id == Unit.building_id)
        .where(FundShare.application_id == app.id)
        .order_by(Building.sort_key, Unit.sort_key, Household.sort_key)
    ).all()
    return [
        ShareLine(f"{b.name}{u.name}{h.room}", s.area_dm2, s.share_fen, h.id) for s, h, u, b in rows
    ]


# --- a work's cost and where it came from -----------------------------------------------------

# Who may pay a work of each funding, other than the fee ledger and the fund.
PAYERS = {
    Funding.GOVERNMENT: (Payer.GOVERNMENT,),
    Funding.COMMUNITY: (Payer.COMMUNITY,),
    Funding.FEES: (Payer.COMMON_INCOME,),
}


def record_work_payment(
    work: Work,
    actor: User,
    *,
    payer: str,
    amount_fen: int,
    paid_on: date,
    reference: str,
    photo: str,
    request_key: str,
    paid_from: MoneyAccount | None = None,
) -> WorkPayment:
    """Record a work's cost paid by the government or the community, or paid from common-
    part income: that money leaves ``paid_from`` (the cash box when none is given), never
    beyond what the account holds."""
    earlier = db.session.scalar(select(WorkPayment).where(WorkPayment.request_key == request_key))
    if earlier is not None:
        return earlier
    if payer not in PAYERS.get(Funding(work.funding), ()):
        raise RuleError(_("This work's funding does not come from that payer."), "payer")
    if amount_fen <= 0:
        raise RuleError(_("The amount must be more than zero."), "amount")
    if paid_on > clock.today():
        raise RuleError(_("The date cannot be in the future."), "paid_on")
    if payer == Payer.COMMON_INCOME and work.expense_id is not None:
        raise RuleError(_("This work's cost is booked in the fee ledger already."), "payer")
    area_id = db.session.get(Compound, work.compound_id).area_id  # type: ignore[union-attr]
    lock_area(area_id)
    account = None
    if payer == Payer.COMMON_INCOME:
        account = paid_from or treasury_hooks.cash_box(area_id)
        check_paid_from(area_id, account, amount_fen)
    row = WorkPayment(
        work_id=work.id,
        area_id=area_id,
        payer=payer,
        amount_fen=amount_fen,
        paid_on=paid_on,
        reference=reference,
        photo=photo,
        recorded_by_id=actor.id,
        request_key=request_key,
    )
    db.session.add(row)
    db.session.flush()
    if account is not None:
        treasury_hooks.work_paid(account, amount_fen, paid_on, row.id)
    audit.record("work_payment", row)
    return row


@dataclass
class Cost:
    source: str  # "fees", "fund", or a Payer
    amount_fen: int
    on: date
    reference: str


def costs_of(work_ids: Sequence[int]) -> dict[int, list[Cost]]:
    """Each work's cost by its source, in a few grouped queries."""
    from ..fees.models import Expense

    found: dict[int, list[Cost]] = {i: [] for i in work_ids}
    if not work_ids:
        return found
    for work_id, expense in db.session.execute(
        select(Work.id, Expense)
        .join(Expense, Expense.id == Work.expense_id)
        .where(Work.id.in_(work_ids))
    ).all():
        if expense.void is None:
            found[work_id].append(Cost("fees", expense.amount_fen, expense.spent_on, expense.payee))
    for work_id, d in db.session.execute(
        select(FundApplication.work_id, FundDisbursement)
        .join(FundApplication, FundApplication.id == FundDisbursement.application_id)
        .where(FundApplication.work_id.in_(work_ids))
        .order_by(FundDisbursement.id)
    ).all():
        found[work_id].append(Cost("fund", d.amount_fen, d.disbursed_on, d.reference))
    for p in db.session.scalars(
        select(WorkPayment).where(WorkPayment.work_id.in_(work_ids)).order_by(WorkPayment.id)
    ):
        found[p.work_id].append(Cost(p.payer, p.amount_fen, p.paid_on, p.reference))
    return found


def common_income_spent(area_id: int, start: date, end: date) -> int:
    """What works cost from common-part income between two days (the board's 公共收益)."""
    return int(
        db.session.scalar(
            select(func.coalesce(func.sum(WorkPayment.amount_fen), 0)).where(
                WorkPayment.area_id == area_id,
                WorkPayment.payer == Payer.COMMON_INCOME,
                WorkPayment.paid_on >= start,
                WorkPayment.paid_on < end,
            )
        )
        or 0
    )


def fee_funded_refusal(work: Work) -> str | None:
    """Why a fee-ledger expense may not be linked to this work (None: it may)."""
    if work.funding != Funding.FEES:
        return _(
            "This work is not paid from the fees: record its cost from its own source "
            "(the fund's disbursement, or the payment by the government or community)."
        )
    has_other = db.session.scalar(select(WorkPayment.id).where(WorkPayment.work_id == work.id))
    if has_other is not None:
        return _("This work's cost was paid from common-part income.")
    return None


def board_works(area_id: int, month: date) -> list[dict[str, Any]]:
    """The finance board's works of the month: each cost booked in it, with its source
    (the fee ledger, the fund, the government, the community, common-part income). Only
    the fee ledger's are part of the board's spending; the others are shown beside it."""
    from ..fees.models import Expense
    from ..months import add_months, month_of

    start = month_of(month)
    end = add_months(start, 1)
    rows: list[dict[str, Any]] = []
    for title, compound, amount in db.session.execute(
        select(Work.title, Compound.name, Expense.amount_fen)
        .join(Expense, Expense.id == Work.expense_id)
        .join(Compound, Compound.id == Work.compound_id)
        .where(Expense.area_id == area_id, Expense.book_month == start)
    ).all():
        rows.append({"work": f"{compound}：{title}", "source": "fees", "amount": int(amount)})
    for title, compound, amount in db.session.execute(
        select(Work.title, Compound.name, FundDisbursement.amount_fen)
        .join(FundApplication, FundApplication.id == FundDisbursement.application_id)
        .join(Work, Work.id == FundApplication.work_id)
        .join(Compound, Compound.id == Work.compound_id)
        .where(
            FundApplication.area_id == area_id,
            FundDisbursement.disbursed_on >= start,
            FundDisbursement.disbursed_on < end,
        )
    ).all():
        rows.append({"work": f"{compound}：{title}", "source": "fund", "amount": int(amount)})
    for title, compound, payer, amount in db.session.execute(
        select(Work.title, Compound.name, WorkPayment.payer, WorkPayment.amount_fen)
        .join(Work, Work.id == WorkPayment.work_id)
        .join(Compound, Compound.id == Work.compound_id)
        .where(
            WorkPayment.area_id == area_id,
            WorkPayment.paid_on >= start,
            WorkPayment.paid_on < end,
        )
    ).all():
        rows.append({"work": f"{compound}：{title}", "source": payer, "amount": int(amount)})
    return sorted(rows, key=lambda r: (r["source"] != "fees", r["work"]))

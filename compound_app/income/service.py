"""Common-part income: contracts and their instalments, receipts, reversals, ending early.

Plain functions, as the fee ledger's: they refuse with ``RuleError``, write their audit
rows and never commit. Money writes lock the area's row first (``ledger.lock_area``), so
income receipts and fee payments of one area take their receipt numbers from the one
gapless series (``ledger.next_receipt_no``) one writer at a time.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload, selectinload

from .. import audit, clock
from ..auth.models import User
from ..errors import RuleError
from ..extensions import db
from ..fees import ledger
from ..fees.models import Method
from ..money import format_fen
from ..registry.models import ManagementArea
from ..treasury import hooks as treasury
from .models import (
    CONTRACT_KINDS,
    ONE_OFF_KINDS,
    CommonIncomeMonth,
    IncomeContract,
    IncomeContractEnd,
    IncomeInstalment,
    IncomeKind,
    IncomeReceipt,
    IncomeReversal,
)

MAX_INSTALMENTS = 60  # five years of monthly instalments


# --- contracts ------------------------------------------------------------------------------


def check_instalments(total_fen: int, instalments: Sequence[tuple[date, int]]) -> None:
    """The schedule must add up to the total, each instalment more than nothing."""
    if not instalments:
        raise RuleError(_("Enter at least one instalment: its due date and amount."), "instalments")
    if len(instalments) > MAX_INSTALMENTS:
        raise RuleError(_("At most %(n)d instalments.", n=MAX_INSTALMENTS), "instalments")
    if any(amount <= 0 for _due, amount in instalments):
        raise RuleError(_("Each instalment must be more than 0."), "instalments")
    added = sum(amount for _due, amount in instalments)
    if added != total_fen:
        raise RuleError(
            _(
                "The instalments add up to %(sum)s, but the total is %(total)s.",
                sum=format_fen(added),
                total=format_fen(total_fen),
            ),
            "instalments",
        )


def create_contract(
    area: ManagementArea,
    actor: User,
    *,
    kind: IncomeKind,
    counterparty: str,
    starts_on: date,
    ends_on: date,
    total_fen: int,
    instalments: Sequence[tuple[date, int]],
    note: str,
    request_key: str,
) -> IncomeContract:
    """Enter a contract with its instalment schedule; the same form sent twice, once."""
    ledger.lock_area(area.id)
    earlier = db.session.scalar(
        select(IncomeContract).where(IncomeContract.request_key == request_key)
    )
    if earlier is not None:
        if earlier.area_id != area.id or earlier.total_fen != total_fen:
            raise RuleError(_("This form was already used. Please open it again."))
        return earlier
    if kind not in CONTRACT_KINDS:
        raise RuleError(_("Choose the kind of contract."), "kind")
    if total_fen <= 0:
        raise RuleError(_("The amount must be greater than 0."), "total")
    if ends_on < starts_on:
        raise RuleError(_("The contract cannot end before it starts."), "ends_on")
    check_instalments(total_fen, instalments)
    outside = [due for due, _amount in instalments if not starts_on <= due <= ends_on]
    if outside:
        raise RuleError(_("Each due date must lie within the contract's term."), "instalments")
    contract = IncomeContract(
        area_id=area.id,
        kind=kind,
        counterparty=counterparty,
        starts_on=starts_on,
        ends_on=ends_on,
        total_fen=total_fen,
        note=note,
        created_by_id=actor.id,
        request_key=request_key,
    )
    db.session.add(contract)
    db.session.flush()
    for due, amount in sorted(instalments):
        db.session.add(IncomeInstalment(contract_id=contract.id, due_on=due, amount_fen=amount))
    audit.record(
        "create",
        contract,
        after={
            "kind": str(kind),
            "counterparty": counterparty,
            "total_fen": total_fen,
            "instalments": [[due.isoformat(), amount] for due, amount in sorted(instalments)],
        },
    )
    return contract


def end_contract(
    contract: IncomeContract, ended_on: date, reason: str, actor: User
) -> IncomeContractEnd:
    """End a contract early: instalments due after ``ended_on`` no longer fall due."""
    if not reason.strip():
        raise RuleError(_("Please give the reason."), "reason")
    ledger.lock_area(contract.area_id)
    existing = db.session.scalar(
        select(IncomeContractEnd).where(IncomeContractEnd.contract_id == contract.id)
    )
    if existing is not None:
        raise RuleError(_("This contract has already been ended."), "reason")
    if not contract.starts_on <= ended_on <= contract.ends_on:
        raise RuleError(_("The day it ends must lie within the contract's term."), "ended_on")
    end = IncomeContractEnd(
        contract_id=contract.id, ended_on=ended_on, reason=reason, ended_by_id=actor.id
    )
    db.session.add(end)
    audit.record("create", end)
    return end


# --- what a contract has received and still expects -------------------------------------


def paid_of(contract_ids: Sequence[int]) -> dict[int, int]:
    """Each contract's receipts less their reversals."""
    paid: dict[int, int] = defaultdict(int)
    if not contract_ids:
        return paid
    for cid, amount in db.session.execute(
        select(IncomeReceipt.contract_id, func.sum(IncomeReceipt.amount_fen))
        .where(IncomeReceipt.contract_id.in_(contract_ids))
        .group_by(IncomeReceipt.contract_id)
    ):
        if cid is not None:
            paid[cid] += int(amount)
    for cid, amount in db.session.execute(
        select(IncomeReceipt.contract_id, func.sum(IncomeReversal.amount_fen))
        .join(IncomeReversal, IncomeReversal.receipt_id == IncomeReceipt.id)
        .where(IncomeReceipt.contract_id.in_(contract_ids))
        .group_by(IncomeReceipt.contract_id)
    ):
        if cid is not None:
            paid[cid] -= int(amount)
    return paid


PAID, PART, OVERDUE, DUE, CANCELLED = "paid", "part", "overdue", "due", "cancelled"


@dataclass(frozen=True)
class InstalmentLine:
    instalment: IncomeInstalment
    settled: int
    status: str  # paid, part (paid in part, not yet due), overdue, due (to come), cancelled

    @property
    def owed(self) -> int:
        return self.instalment.amount_fen - self.settled


def counts(instalment: IncomeInstalment, end: IncomeContractEnd | None) -> bool:
    """Whether the instalment still falls due (not after the day its contract ended)."""
    return end is None or instalment.due_on <= end.ended_on


def instalment_lines(contract: IncomeContract, paid: int, today: date) -> list[InstalmentLine]:
    """The contract's instalments with what its receipts settle, oldest first."""
    left = max(paid, 0)
    lines = []
    for inst in contract.instalments:
        if not counts(inst, contract.end):
            lines.append(InstalmentLine(inst, 0, CANCELLED))
            continue
        take = min(left, inst.amount_fen)
        left -= take
        if take == inst.amount_fen:
            status = PAID
        elif inst.due_on < today:
            status = OVERDUE
        else:
            status = PART if take else DUE
        lines.append(InstalmentLine(inst, take, status))
    return lines


@dataclass
class ContractState:
    contract: IncomeContract
    paid: int
    lines: list[InstalmentLine]

    @property
    def expected(self) -> int:
        """The total less the instalments an early end cancelled."""
        return sum(line.instalment.amount_fen for line in self.lines if line.status != CANCELLED)

    @property
    def left(self) -> int:
        return max(self.expected - self.paid, 0)

    @property
    def overdue(self) -> int:
        return sum(line.owed for line in self.lines if line.status == OVERDUE)

    @property
    def overdue_lines(self) -> list[InstalmentLine]:
        return [line for line in self.lines if line.status == OVERDUE]

    @property
    def next_due(self) -> InstalmentLine | None:
        return next((line for line in self.lines if line.status in (DUE, PART)), None)


def state_of(contract: IncomeContract, today: date | None = None) -> ContractState:
    paid = paid_of([contract.id]).get(contract.id, 0)
    return ContractState(contract, paid, instalment_lines(contract, paid, today or clock.today()))


def contracts_of(area_id: int, today: date | None = None) -> list[ContractState]:
    """The area's contracts, running ones first (by start), with what each has received."""
    today = today or clock.today()
    contracts = list(
        db.session.scalars(
            select(IncomeContract)
            .where(IncomeContract.area_id == area_id)
            .options(selectinload(IncomeContract.instalments), joinedload(IncomeContract.end))
            .order_by(IncomeContract.starts_on.desc(), IncomeContract.id.desc())
        ).unique()
    )
    paid = paid_of([c.id for c in contracts])
    states = [
        ContractState(c, paid.get(c.id, 0), instalment_lines(c, paid.get(c.id, 0), today))
        for c in contracts
    ]
    return sorted(states, key=lambda s: (s.overdue == 0, s.left == 0))


def open_contracts(area_id: int) -> list[ContractState]:
    """Contracts with money still to receive: the receipt form's choices."""
    return [s for s in contracts_of(area_id) if s.left > 0]


def overdue_by_area(area_ids: Sequence[int], today: date | None = None) -> dict[int, int]:
    """How many contracts of each area have an instalment past its due date and unpaid."""
    if not area_ids:
        return {}
    today = today or clock.today()
    due = dict(
        db.session.execute(
            select(IncomeInstalment.contract_id, func.sum(IncomeInstalment.amount_fen))
            .join(IncomeContract, IncomeContract.id == IncomeInstalment.contract_id)
            .outerjoin(IncomeContractEnd, IncomeContractEnd.contract_id == IncomeContract.id)
            .where(
                IncomeContract.area_id.in_(area_ids),
                IncomeInstalment.due_on < today,
                (IncomeContractEnd.id.is_(None))
                | (IncomeInstalment.due_on <= IncomeContractEnd.ended_on),
            )
            .group_by(IncomeInstalment.contract_id)
        ).all()
    )
    if not due:
        return {}
    paid = paid_of(list(due))
    areas = dict(
        db.session.execute(
            select(IncomeContract.id, IncomeContract.area_id).where(IncomeContract.id.in_(due))
        ).all()
    )
    found: dict[int, int] = defaultdict(int)
    for cid, amount in due.items():
        if int(amount) > paid.get(cid, 0):
            found[areas[cid]] += 1
    return dict(found)


# --- receipts -------------------------------------------------------------------------------


@dataclass
class Recorded:
    receipt: IncomeReceipt
    repeated: bool  # the same form was sent again: nothing new was written


def receipt_for_key(request_key: str) -> IncomeReceipt | None:
    return db.session.scalar(select(IncomeReceipt).where(IncomeReceipt.request_key == request_key))


def record_receipt(
    area: ManagementArea,
    actor: User,
    *,
    contract: IncomeContract | None,
    kind: IncomeKind | None,
    payer: str,
    amount_fen: int,
    method: Method,
    received_on: date,
    note: str,
    request_key: str,
) -> Recorded:
    """Record money received against a contract (its instalments, oldest first) or as
    one-off income of its kind; it takes the area's next receipt number."""
    ledger.lock_area(area.id)
    earlier = receipt_for_key(request_key)
    if earlier is not None:
        if earlier.area_id != area.id or earlier.amount_fen != amount_fen:
            raise RuleError(_("This form was already used. Please open it again."))
        return Recorded(earlier, repeated=True)
    if amount_fen <= 0:
        raise RuleError(_("The amount must be greater than 0."), "amount")
    ledger.check_date(received_on, "received_on")
    if contract is not None:
        if contract.area_id != area.id:
            raise RuleError(_("Choose one of this area's contracts."), "source")
        left = state_of(contract).left
        if amount_fen > left:
            raise RuleError(
                _(
                    "At most %(amount)s is left to receive under this contract.",
                    amount=format_fen(left),
                ),
                "amount",
            )
        kind = IncomeKind(contract.kind)
        payer = payer or contract.counterparty
    elif kind not in ONE_OFF_KINDS:
        raise RuleError(_("Choose a contract or the kind of income."), "source")
    if not payer:
        raise RuleError(_("Who paid it?"), "payer")
    booked = ledger.book_month(area.id, received_on)
    receipt = IncomeReceipt(
        area_id=area.id,
        contract_id=contract.id if contract else None,
        kind=kind,
        payer=payer,
        receipt_no=ledger.next_receipt_no(area, clock.today().year),
        amount_fen=amount_fen,
        method=method,
        received_on=received_on,
        book_month=booked,
        recorded_by_id=actor.id,
        request_key=request_key,
        note=note,
    )
    db.session.add(receipt)
    ledger.add_to(
        CommonIncomeMonth,
        {"area_id": area.id, "month": booked, "kind": str(kind)},
        amount_fen=amount_fen,
    )
    treasury.income_received(receipt)
    audit.record("create", receipt)
    return Recorded(receipt, repeated=False)


def reverse_receipt(receipt: IncomeReceipt, reason: str, actor: User) -> IncomeReversal:
    """Void a receipt with the reason; its number stays used and shows as void."""
    if not reason.strip():
        raise RuleError(_("Please give the reason for the reversal."), "reason")
    ledger.lock_area(receipt.area_id)
    existing = db.session.scalar(
        select(IncomeReversal).where(IncomeReversal.receipt_id == receipt.id)
    )
    if existing is not None:
        raise RuleError(_("This receipt has already been reversed."), "reason")
    booked = ledger.book_month(receipt.area_id, clock.today())
    reversal = IncomeReversal(
        receipt_id=receipt.id,
        area_id=receipt.area_id,
        amount_fen=receipt.amount_fen,
        reason=reason,
        book_month=booked,
        reversed_by_id=actor.id,
    )
    db.session.add(reversal)
    ledger.add_to(
        CommonIncomeMonth,
        {"area_id": receipt.area_id, "month": booked, "kind": receipt.kind},
        amount_fen=-receipt.amount_fen,
    )
    treasury.income_reversed(receipt, reversal)
    audit.record("create", reversal)
    return reversal


def receipts_of(
    area_id: int, month: date | None = None, *, one_off: bool = False, limit: int = 50
) -> list[IncomeReceipt]:
    """The area's receipts, newest first: of a month booked, or one-off ones."""
    stmt = (
        select(IncomeReceipt)
        .where(IncomeReceipt.area_id == area_id)
        .options(
            joinedload(IncomeReceipt.reversal),
            joinedload(IncomeReceipt.recorded_by),
        )
        .order_by(IncomeReceipt.received_on.desc(), IncomeReceipt.id.desc())
        .limit(limit)
    )
    if month is not None:
        stmt = stmt.where(IncomeReceipt.book_month == month)
    if one_off:
        stmt = stmt.where(IncomeReceipt.contract_id.is_(None))
    return list(db.session.scalars(stmt).unique())


def receipts_of_contract(contract: IncomeContract) -> list[IncomeReceipt]:
    return list(
        db.session.scalars(
            select(IncomeReceipt)
            .where(IncomeReceipt.contract_id == contract.id)
            .options(joinedload(IncomeReceipt.reversal), joinedload(IncomeReceipt.recorded_by))
            .order_by(IncomeReceipt.received_on.desc(), IncomeReceipt.id.desc())
        ).unique()
    )

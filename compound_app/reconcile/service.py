"""Reconciliation (对账): importing statements, proposing and deciding matches, and
residents' transfer claims (我已转账).

A statement is imported into one money account (a bank account, a WeChat Pay or Alipay
code, a community account; never the cash box). Each money-in line is then matched to one
fee payment of the area made that way (same amount, within ``WINDOW_DAYS``; a room number
in the line's note raises the score), or to a resident's transfer claim, which becomes a
real payment with its receipt when the keeper confirms it. A line may be explained
instead (a bank fee, interest, cash paid in from the cash box). Every decision is a new
row; a confirmation or an explanation is undone by an ``undo`` row with its reason.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import func, insert, select
from sqlalchemy.orm import joinedload

from .. import access, audit, clock
from ..auth.models import User
from ..errors import RuleError
from ..extensions import db
from ..fees import ledger
from ..fees.models import Method, Payment, Reversal
from ..messages.models import Kind
from ..messages.service import notify
from ..messages.triggers import path_for
from ..money import format_fen
from ..registry.models import Building, Household, ManagementArea, Unit
from ..treasury.models import AccountKind, MoneyAccount
from ..treasury.service import may_keep, money_keepers
from . import statements
from .models import (
    CLAIM_METHODS,
    DecisionKind,
    Explanation,
    ReconDecision,
    StatementImport,
    StatementLine,
    StatementMapping,
    TransferClaim,
)

# Which payments an account's lines are matched with: how they were paid.
KIND_METHOD: dict[str, str] = {
    AccountKind.BANK: Method.BANK,
    AccountKind.COMMUNITY: Method.BANK,
    AccountKind.WECHAT: Method.WECHAT,
    AccountKind.ALIPAY: Method.ALIPAY,
}
RECONCILED_KINDS = tuple(KIND_METHOD)
WINDOW_DAYS = 3  # a transfer shows on the statement within this many days of the payment
LATE_DAYS = 7  # a non-cash payment with no line after this long is listed as unmatched
SHOWN = 50  # lines per list on the page; the rest are counted
CANDIDATES = 20  # payments offered for one line, best first


def _words() -> Any:
    """Messages are stored in the app's language, whoever's request wrote them."""
    return force_locale(current_app.config.get("BABEL_DEFAULT_LOCALE", "zh_CN"))


def _refuse_unless_keeper(area_id: int, actor: User) -> None:
    if may_keep(area_id, actor):
        return
    area = db.session.get(ManagementArea, area_id)
    if not access.may_reconcile(area, access.load_principal(actor)):
        raise RuleError(
            _("Only those who keep the area's money check its statements."),
        )


def reconciled_accounts(area_id: int) -> list[MoneyAccount]:
    """The area's accounts that have statements: open ones first, bank before the codes."""
    rows = db.session.scalars(
        select(MoneyAccount).where(
            MoneyAccount.area_id == area_id, MoneyAccount.kind.in_(RECONCILED_KINDS)
        )
    ).all()
    order = list(RECONCILED_KINDS)
    return sorted(rows, key=lambda a: (a.closed_on is not None, order.index(a.kind), a.id))


# --- importing ----------------------------------------------------------------------------------


@dataclass
class Preview:
    parsed: statements.Parsed
    known: int  # lines the account already has

    @property
    def new(self) -> int:
        return len(self.parsed.lines) - self.known


def _known_identities(account_id: int, identities: Iterable[str]) -> set[str]:
    wanted = list(set(identities))
    found: set[str] = set()
    for i in range(0, len(wanted), 500):
        found.update(
            db.session.scalars(
                select(StatementLine.identity).where(
                    StatementLine.account_id == account_id,
                    StatementLine.identity.in_(wanted[i : i + 500]),
                )
            )
        )
    return found


def preview(account: MoneyAccount, parsed: statements.Parsed) -> Preview:
    """What importing would add; writes nothing."""
    known = _known_identities(account.id, (line.identity for line in parsed.lines))
    return Preview(parsed, sum(1 for line in parsed.lines if line.identity in known))


def check_account(account: MoneyAccount) -> None:
    if account.kind not in RECONCILED_KINDS:
        raise RuleError(_("The cash box has no statement to import."))


def import_statement(
    account: MoneyAccount,
    actor: User,
    *,
    file_name: str,
    sha256: str,
    layout: str,
    lines: Sequence[statements.Line],
    doubled: int,
    request_key: str,
) -> StatementImport:
    """Add the statement's lines the account does not have yet; the same confirmation sent
    twice imports once."""
    check_account(account)
    _refuse_unless_keeper(account.area_id, actor)
    ledger.lock_area(account.area_id)
    earlier = db.session.scalar(
        select(StatementImport).where(StatementImport.request_key == request_key)
    )
    if earlier is not None:
        if earlier.account_id != account.id:
            raise RuleError(_("This preview was already used. Upload the file again."))
        return earlier
    known = _known_identities(account.id, (line.identity for line in lines))
    seen: set[str] = set()
    new: list[statements.Line] = []
    for line in lines:
        if line.identity in known or line.identity in seen:
            continue
        seen.add(line.identity)
        new.append(line)
    record = StatementImport(
        account_id=account.id,
        area_id=account.area_id,
        file_name=file_name[:100],
        sha256=sha256,
        layout=layout,
        lines_read=len(lines),
        lines_added=len(new),
        lines_known=len(lines) - len(new),
        lines_doubled=doubled,
        first_on=min((line.booked_on for line in lines), default=None),
        last_on=max((line.booked_on for line in lines), default=None),
        imported_by_id=actor.id,
        request_key=request_key,
    )
    db.session.add(record)
    db.session.flush()
    rows = [
        {
            "import_id": record.id,
            "account_id": account.id,
            "area_id": account.area_id,
            "line_no": line.line_no,
            "booked_on": line.booked_on,
            "booked_time": line.booked_time,
            "amount_fen": line.amount_fen,
            "counterparty": line.counterparty,
            "note": line.note,
            "reference": line.reference,
            "identity": line.identity,
        }
        for line in new
    ]
    for i in range(0, len(rows), 1000):
        db.session.execute(insert(StatementLine), rows[i : i + 1000])
    audit.record("create", record)
    return record


def mapping_of(account_id: int) -> StatementMapping | None:
    return db.session.get(StatementMapping, account_id)


def save_mapping(account: MoneyAccount, actor: User, columns: dict[str, str]) -> None:
    """Which column holds what in this account's statements, for later imports."""
    check_account(account)
    _refuse_unless_keeper(account.area_id, actor)
    kept = {key: value for key, value in columns.items() if value}
    if not kept.get("date"):
        raise RuleError(_("Choose the column with the date."), "date")
    if not (kept.get("amount") or kept.get("in") or kept.get("out")):
        raise RuleError(
            _("Choose the column with the amount, or those of money in and out."), "amount"
        )
    if kept.get("amount") and (kept.get("in") or kept.get("out")):
        raise RuleError(
            _("Choose either one amount column or money in and out, not both."), "amount"
        )
    mapping = db.session.get(StatementMapping, account.id)
    before = {"statement_columns": dict(mapping.columns)} if mapping else None
    if mapping is None:
        mapping = StatementMapping(account_id=account.id, columns=kept, saved_by_id=actor.id)
        db.session.add(mapping)
    else:
        mapping.columns, mapping.saved_by_id = kept, actor.id
    # Recorded on the account whose statements it reads.
    audit.record("statement_columns", account, before, {"statement_columns": kept})


# --- the state of lines, payments and claims -----------------------------------------------


def _undone() -> Any:
    return select(ReconDecision.undoes_id).where(ReconDecision.undoes_id.is_not(None))


def active_decisions(area_id: int) -> list[ReconDecision]:
    """Confirmations and explanations in force (not undone), and claim rejections."""
    return list(
        db.session.scalars(
            select(ReconDecision).where(
                ReconDecision.area_id == area_id,
                ReconDecision.kind.in_(
                    (DecisionKind.CONFIRM, DecisionKind.EXPLAIN, DecisionKind.REJECT_CLAIM)
                ),
                ReconDecision.id.not_in(_undone()),
            )
        )
    )


def _in_force(line_id: int) -> ReconDecision | None:
    return db.session.scalar(
        select(ReconDecision).where(
            ReconDecision.line_id == line_id,
            ReconDecision.kind.in_((DecisionKind.CONFIRM, DecisionKind.EXPLAIN)),
            ReconDecision.id.not_in(_undone()),
        )
    )


def _payment_matched(payment_id: int) -> bool:
    return (
        db.session.scalar(
            select(ReconDecision.id).where(
                ReconDecision.payment_id == payment_id,
                ReconDecision.kind == DecisionKind.CONFIRM,
                ReconDecision.id.not_in(_undone()),
            )
        )
        is not None
    )


def claim_status(claim: TransferClaim) -> str:
    rows = db.session.scalars(
        select(ReconDecision.kind).where(
            ReconDecision.claim_id == claim.id,
            ReconDecision.kind.in_((DecisionKind.CONFIRM, DecisionKind.REJECT_CLAIM)),
            ReconDecision.id.not_in(_undone()),
        )
    ).all()
    if DecisionKind.CONFIRM in rows:
        return "confirmed"
    if DecisionKind.REJECT_CLAIM in rows:
        return "rejected"
    return "waiting"


def _waiting_claims_query(area_ids: Sequence[int]) -> Any:
    settled = select(ReconDecision.claim_id).where(
        ReconDecision.claim_id.is_not(None),
        ReconDecision.kind.in_((DecisionKind.CONFIRM, DecisionKind.REJECT_CLAIM)),
        ReconDecision.id.not_in(_undone()),
    )
    return select(TransferClaim).where(
        TransferClaim.area_id.in_(area_ids), TransferClaim.id.not_in(settled)
    )


def waiting_claims(area_id: int) -> list[TransferClaim]:
    return list(
        db.session.scalars(
            _waiting_claims_query([area_id])
            .options(
                joinedload(TransferClaim.household)
                .joinedload(Household.unit)
                .joinedload(Unit.building)
            )
            .order_by(TransferClaim.paid_on, TransferClaim.id)
        )
    )


def claims_waiting_by_area(area_ids: Sequence[int]) -> dict[int, int]:
    """How many claims wait in each area (the keepers' 待办): one query."""
    if not area_ids:
        return {}
    sub = _waiting_claims_query(area_ids).subquery()
    return {
        a: int(n)
        for a, n in db.session.execute(select(sub.c.area_id, func.count()).group_by(sub.c.area_id))
    }


@dataclass
class ClaimView:
    claim: TransferClaim
    status: str
    reason: str = ""
    payment: Payment | None = None


def claims_of(household_id: int, limit: int = 10) -> list[ClaimView]:
    """A home's claims, newest first, with what became of each (its own fee page)."""
    claims = db.session.scalars(
        select(TransferClaim)
        .where(TransferClaim.household_id == household_id)
        .order_by(TransferClaim.id.desc())
        .limit(limit)
    ).all()
    if not claims:
        return []
    decisions = db.session.scalars(
        select(ReconDecision).where(
            ReconDecision.claim_id.in_([c.id for c in claims]),
            ReconDecision.id.not_in(_undone()),
        )
    ).all()
    by_claim: dict[int, list[ReconDecision]] = defaultdict(list)
    for d in decisions:
        if d.claim_id is not None:
            by_claim[d.claim_id].append(d)
    found = []
    for claim in claims:
        view = ClaimView(claim, "waiting")
        for d in by_claim[claim.id]:
            if d.kind == DecisionKind.CONFIRM:
                view.status = "confirmed"
                view.payment = db.session.get(Payment, d.payment_id) if d.payment_id else None
            elif d.kind == DecisionKind.REJECT_CLAIM and view.status == "waiting":
                view.status, view.reason = "rejected", d.reason
        found.append(view)
    return found


# --- proposals ---------------------------------------------------------------------------------

_DIGITS = re.compile(r"\d+")


def _address_digits(building: str, unit: str, room: str) -> tuple[str, str, str]:
    def first(text: str) -> str:
        found = _DIGITS.search(text or "")
        return str(int(found.group())) if found else ""

    return first(building), first(unit), (room or "").strip()


def room_score(text: str, address: tuple[str, str, str]) -> int:
    """How well a line's note names the home: its room (201) scores 2, the building and
    unit with it (3-1-201, 3号楼1单元201) 5."""
    building, unit, room = address
    if not room:
        return 0
    numbers = [str(int(n)) if len(n) < 10 else n for n in _DIGITS.findall(text)]
    room_key = str(int(room)) if room.isdigit() else room
    if room_key not in numbers and room not in text:
        return 0
    if building and unit and room_key in numbers:
        i = numbers.index(room_key)
        if i >= 2 and numbers[i - 2] == building and numbers[i - 1] == unit:
            return 5
    return 2


@dataclass
class Candidate:
    kind: str  # "payment" or "claim"
    id: int
    amount_fen: int
    on: date
    household_id: int
    address: tuple[str, str, str]
    label: str  # the room, as shown
    score: int = 0

    @property
    def value(self) -> str:
        return f"{self.kind}:{self.id}"


@dataclass
class LineState:
    line: StatementLine
    decision: ReconDecision | None = None
    proposal: Candidate | None = None
    candidates: list[Candidate] = field(default_factory=list)


def _home_label(building: str, unit: str, room: str) -> str:
    return "-".join(part for part in (building, unit, room) if part)


def _open_payments(area_id: int, methods: Sequence[str], since: date) -> list[Candidate]:
    matched = select(ReconDecision.payment_id).where(
        ReconDecision.area_id == area_id,
        ReconDecision.payment_id.is_not(None),
        ReconDecision.kind == DecisionKind.CONFIRM,
        ReconDecision.id.not_in(_undone()),
    )
    rows = db.session.execute(
        select(
            Payment.id,
            Payment.amount_fen,
            Payment.paid_on,
            Payment.household_id,
            Building.name,
            Unit.name,
            Household.room,
        )
        .join(Household, Household.id == Payment.household_id)
        .join(Unit, Unit.id == Household.unit_id)
        .join(Building, Building.id == Unit.building_id)
        .outerjoin(Reversal, Reversal.payment_id == Payment.id)
        .where(
            Payment.area_id == area_id,
            Payment.method.in_(methods),
            Payment.paid_on >= since,
            Reversal.id.is_(None),
            Payment.id.not_in(matched),
        )
    ).all()
    return [
        Candidate("payment", pid, amount, on, hid, _address_digits(b, u, r), _home_label(b, u, r))
        for pid, amount, on, hid, b, u, r in rows
    ]


def _open_claims(area_id: int, methods: Sequence[str]) -> list[Candidate]:
    claims = [c for c in waiting_claims(area_id) if c.method in methods]
    return [
        Candidate(
            "claim",
            c.id,
            c.amount_fen,
            c.paid_on,
            c.household_id,
            _address_digits(
                c.household.unit.building.name, c.household.unit.name, c.household.room
            ),
            _home_label(c.household.unit.building.name, c.household.unit.name, c.household.room),
        )
        for c in claims
    ]


@dataclass
class AccountState:
    """An account's open lines (nothing in force: proposed or unmatched), how many are done
    (matched or explained) with the latest of them, and the payments still without a line.
    Done lines are counted, not loaded: the page stays as quick after years of statements."""

    account: MoneyAccount
    lines: list[LineState]  # open lines only
    last_import: StatementImport | None
    late_payments: list[Candidate]
    matched: int = 0
    explained: int = 0
    done: list[LineState] = field(default_factory=list)  # the latest SHOWN, newest last

    @property
    def to_confirm(self) -> list[LineState]:
        return [s for s in self.lines if s.proposal is not None]

    @property
    def unmatched(self) -> list[LineState]:
        return [s for s in self.lines if s.proposal is None]


def _in_force_query(account: MoneyAccount) -> Any:
    return select(ReconDecision).where(
        ReconDecision.area_id == account.area_id,
        ReconDecision.line_id.in_(
            select(StatementLine.id).where(StatementLine.account_id == account.id)
        ),
        ReconDecision.kind.in_((DecisionKind.CONFIRM, DecisionKind.EXPLAIN)),
        ReconDecision.id.not_in(_undone()),
    )


def account_state(account: MoneyAccount, today: date | None = None) -> AccountState:
    """The account's open lines with the match proposed for each, its done lines counted
    (the latest SHOWN loaded), and the non-cash payments still without a line after
    ``LATE_DAYS``."""
    today = today or clock.today()
    in_force = _in_force_query(account).subquery()
    lines = db.session.scalars(
        select(StatementLine)
        .where(
            StatementLine.account_id == account.id,
            StatementLine.id.not_in(select(in_force.c.line_id)),
        )
        .order_by(StatementLine.booked_on, StatementLine.id)
    ).all()
    counts: dict[str, int] = {
        str(kind): int(n)
        for kind, n in db.session.execute(
            select(in_force.c.kind, func.count()).group_by(in_force.c.kind)
        )
    }
    latest = db.session.scalars(
        _in_force_query(account)
        .options(joinedload(ReconDecision.decided_by), joinedload(ReconDecision.line))
        .order_by(ReconDecision.id.desc())
        .limit(SHOWN)
    ).all()
    done = [LineState(d.line, d) for d in reversed(latest)]
    last_import = db.session.scalar(
        select(StatementImport)
        .where(StatementImport.account_id == account.id)
        .order_by(StatementImport.id.desc())
        .limit(1)
    )
    refused = {
        (line_id, f"payment:{payment_id}" if payment_id else f"claim:{claim_id}")
        for line_id, payment_id, claim_id in db.session.execute(
            select(ReconDecision.line_id, ReconDecision.payment_id, ReconDecision.claim_id).where(
                ReconDecision.line_id.in_([line.id for line in lines]),
                ReconDecision.kind == DecisionKind.REJECT,
                ReconDecision.id.not_in(_undone()),
            )
        )
        if line_id is not None
    }
    states = [LineState(line) for line in lines]
    found = AccountState(
        account,
        states,
        last_import,
        [],
        matched=int(counts.get(DecisionKind.CONFIRM, 0)),
        explained=int(counts.get(DecisionKind.EXPLAIN, 0)),
        done=done,
    )
    first_on, last_on = db.session.execute(
        select(func.min(StatementImport.first_on), func.max(StatementImport.last_on)).where(
            StatementImport.account_id == account.id
        )
    ).one()
    method = KIND_METHOD.get(account.kind)
    if method is None or first_on is None or last_on is None:
        return found
    payments = _open_payments(account.area_id, [method], first_on - timedelta(days=WINDOW_DAYS))
    claims = _open_claims(account.area_id, [method])
    propose([s for s in states if s.line.amount_fen > 0], payments + claims, refused)
    proposed = {s.proposal.value for s in states if s.proposal is not None}
    # Paid within the statements' days (a transfer shows within the window) and long
    # enough ago, yet on no line: listed until a line is matched to it or it is reversed.
    last = min(last_on - timedelta(days=WINDOW_DAYS), today - timedelta(days=LATE_DAYS))
    found.late_payments = [
        p for p in payments if p.value not in proposed and first_on <= p.on <= last
    ]
    return found


def propose(
    waiting: list[LineState], candidates: list[Candidate], refused: set[tuple[int, str]]
) -> None:
    """Give each waiting line its candidates (same amount, within the window) and the best
    of them as its proposal; no candidate is proposed for two lines (best scores first)."""
    by_amount_day: dict[tuple[int, date], list[Candidate]] = defaultdict(list)
    for c in candidates:
        by_amount_day[(c.amount_fen, c.on)].append(c)
    window = [timedelta(days=d) for d in range(-WINDOW_DAYS, WINDOW_DAYS + 1)]
    pairs: list[tuple[int, int, int, LineState, Candidate]] = []
    for state in waiting:
        line = state.line
        text = f"{line.note} {line.counterparty}"
        near = (
            c
            for step in window
            for c in by_amount_day.get((line.amount_fen, line.booked_on + step), ())
        )
        for c in near:
            days = abs((c.on - line.booked_on).days)
            if (line.id, c.value) in refused:
                continue
            score = (WINDOW_DAYS - days) + room_score(text, c.address) * 2
            if c.kind == "claim":
                score += 1  # the resident said so
            scored = Candidate(**{**c.__dict__, "score": score})
            state.candidates.append(scored)
            pairs.append((-score, line.id, c.id, state, scored))
    pairs.sort(key=lambda p: (p[0], p[1], p[2]))
    taken: set[str] = set()
    for _neg, _lid, _cid, state, c in pairs:
        if state.proposal is None and c.value not in taken:
            state.proposal = c
            taken.add(c.value)
    for state in waiting:
        if state.candidates:
            state.candidates.sort(key=lambda c: (-c.score, c.on, c.id))
            del state.candidates[CANDIDATES:]


def targets_for(line: StatementLine) -> list[tuple[str, str]]:
    """The payments and claims a line may be confirmed as (or told it is not)."""
    account = db.session.get(MoneyAccount, line.account_id)
    if account is None:
        return []
    for state in account_state(account).lines:
        if state.line.id == line.id:
            return [(c.value, c.label) for c in state.candidates]
    return []


@dataclass
class AreaSummary:
    accounts: list[AccountState]
    claims: list[TransferClaim]


def area_state(area_id: int) -> AreaSummary:
    return AreaSummary(
        [account_state(a) for a in reconciled_accounts(area_id)], waiting_claims(area_id)
    )


# --- decisions ----------------------------------------------------------------------------------


def _line_open(line: StatementLine) -> None:
    existing = _in_force(line.id)
    if existing is not None:
        raise RuleError(
            _("This line is already matched or explained. Undo that first, with the reason.")
        )


def find_target(area_id: int, value: str) -> Payment | TransferClaim | None:
    """A payment or claim picked on the form ("payment:12", "claim:3"), via access."""
    kind, _sep, raw = (value or "").partition(":")
    from ..access import Action
    from ..fields import whole_number

    if kind == "payment":
        return access.find(Payment, whole_number(raw), Action.VIEW)
    if kind == "claim":
        return access.find(TransferClaim, whole_number(raw), Action.VIEW)
    return None


def confirm(line: StatementLine, target: Payment | TransferClaim, actor: User) -> ReconDecision:
    """The line is this payment; or this claim, which becomes a payment with its receipt."""
    _refuse_unless_keeper(line.area_id, actor)
    ledger.lock_area(line.area_id)
    _line_open(line)
    if target.area_id != line.area_id:
        raise RuleError(_("This payment belongs to another area; a line matches its own area's."))
    if line.amount_fen <= 0:
        raise RuleError(_("Only money that came in is matched to a payment."))
    if target.amount_fen != line.amount_fen:
        raise RuleError(
            _(
                "The amounts differ (%(a)s on the statement, %(b)s here).",
                a=format_fen(line.amount_fen),
                b=format_fen(target.amount_fen),
            )
        )
    account = db.session.get(MoneyAccount, line.account_id)
    method = KIND_METHOD.get(account.kind if account else "")
    if target.method != method:
        raise RuleError(_("It was paid another way than into this account."))
    claim: TransferClaim | None = None
    if isinstance(target, TransferClaim):
        claim = target
        if claim_status(claim) != "waiting":
            raise RuleError(_("This claim has already been dealt with."))
        payment = ledger.record_payment(
            claim.household,
            amount_fen=claim.amount_fen,
            method=Method(method),
            paid_on=line.booked_on,
            collector=actor,
            request_key=f"transfer-claim-{claim.id}",
            note=(claim.note or _("Transfer, checked against the statement"))[:100],
        ).payment
        db.session.flush()
    else:
        payment = target
        if payment.reversal is not None:
            raise RuleError(_("This payment was reversed."))
        if _payment_matched(payment.id):
            raise RuleError(_("This payment is already matched to another line."))
    decision = ReconDecision(
        area_id=line.area_id,
        kind=DecisionKind.CONFIRM,
        line_id=line.id,
        payment_id=payment.id,
        claim_id=claim.id if claim else None,
        decided_by_id=actor.id,
    )
    db.session.add(decision)
    audit.record("create", decision)
    if claim is not None:
        with _words():
            title = _(
                "Your transfer of %(amount)s is confirmed; the receipt is ready.",
                amount=format_fen(claim.amount_fen),
            )
        notify(
            [claim.claimed_by],
            Kind.BILL,
            title,
            path_for("fees.receipt", payment_id=payment.id),
            dedupe_key=f"claim-confirmed-{claim.id}",
        )
    return decision


def reject(line: StatementLine, target: Payment | TransferClaim, actor: User) -> ReconDecision:
    """不是这笔: the line is not this payment or claim; it is not proposed again."""
    _refuse_unless_keeper(line.area_id, actor)
    if target.area_id != line.area_id:
        raise RuleError(_("This payment belongs to another area; a line matches its own area's."))
    decision = ReconDecision(
        area_id=line.area_id,
        kind=DecisionKind.REJECT,
        line_id=line.id,
        payment_id=target.id if isinstance(target, Payment) else None,
        claim_id=target.id if isinstance(target, TransferClaim) else None,
        decided_by_id=actor.id,
    )
    db.session.add(decision)
    audit.record("create", decision)
    return decision


def explain(
    line: StatementLine, actor: User, explanation: Explanation, reason: str
) -> ReconDecision:
    _refuse_unless_keeper(line.area_id, actor)
    ledger.lock_area(line.area_id)
    _line_open(line)
    if explanation == Explanation.OTHER and not reason:
        raise RuleError(_("Please say what this line is."), "reason")
    decision = ReconDecision(
        area_id=line.area_id,
        kind=DecisionKind.EXPLAIN,
        line_id=line.id,
        explanation=explanation,
        reason=reason,
        decided_by_id=actor.id,
    )
    db.session.add(decision)
    audit.record("create", decision)
    return decision


def undo(decision: ReconDecision, actor: User, reason: str) -> ReconDecision:
    """Take back a confirmation or an explanation, with the reason; the line waits again."""
    _refuse_unless_keeper(decision.area_id, actor)
    if not reason:
        raise RuleError(_("Please give the reason."), "reason")
    ledger.lock_area(decision.area_id)
    if decision.kind not in (DecisionKind.CONFIRM, DecisionKind.EXPLAIN):
        raise RuleError(_("Only a confirmation or an explanation can be undone."))
    if db.session.scalar(select(ReconDecision.id).where(ReconDecision.undoes_id == decision.id)):
        raise RuleError(_("This has already been undone."))
    if decision.claim_id is not None:
        raise RuleError(
            _(
                "This match issued a receipt for the resident's transfer. If it is wrong, "
                "reverse that payment on the home's fee page."
            )
        )
    row = ReconDecision(
        area_id=decision.area_id,
        kind=DecisionKind.UNDO,
        line_id=decision.line_id,
        undoes_id=decision.id,
        reason=reason,
        decided_by_id=actor.id,
    )
    db.session.add(row)
    audit.record("create", row)
    return row


# --- claims -------------------------------------------------------------------------------------


def create_claim(
    household: Household,
    actor: User,
    *,
    amount_fen: int,
    paid_on: date,
    method: str,
    note: str,
    photo: str | None,
    request_key: str,
) -> TransferClaim:
    """我已转账: a resident says they paid; the keepers are told. Sent twice, written once."""
    earlier = db.session.scalar(
        select(TransferClaim).where(TransferClaim.request_key == request_key)
    )
    if earlier is not None:
        if earlier.household_id != household.id or earlier.amount_fen != amount_fen:
            raise RuleError(_("This form was already used. Open it again."))
        return earlier
    if method not in CLAIM_METHODS:
        raise RuleError(_("Choose how you paid."), "method")
    if amount_fen <= 0:
        raise RuleError(_("The amount must be greater than 0."), "amount")
    ledger.check_date(paid_on, "paid_on")
    area_id = household.unit.building.compound.area_id
    if area_id is None:
        raise RuleError(_("This home's fees are not collected in the app."))
    claim = TransferClaim(
        area_id=area_id,
        household_id=household.id,
        amount_fen=amount_fen,
        paid_on=paid_on,
        method=method,
        note=note[:100],
        photo=photo,
        claimed_by_id=actor.id,
        request_key=request_key,
    )
    db.session.add(claim)
    db.session.flush()
    audit.record("create", claim)
    with _words():
        title = _(
            "A resident says they transferred %(amount)s: please check the statement.",
            amount=format_fen(amount_fen),
        )
    notify(
        money_keepers(area_id),
        Kind.DUTY,
        title,
        path_for("reconcile.area", area_id=area_id) + "#claims",
        dedupe_key=f"claim-{claim.id}",
    )
    return claim


def reject_claim(claim: TransferClaim, actor: User, reason: str) -> ReconDecision:
    _refuse_unless_keeper(claim.area_id, actor)
    if not reason:
        raise RuleError(_("Please give the reason."), "reason")
    ledger.lock_area(claim.area_id)
    if claim_status(claim) != "waiting":
        raise RuleError(_("This claim has already been dealt with."))
    decision = ReconDecision(
        area_id=claim.area_id,
        kind=DecisionKind.REJECT_CLAIM,
        claim_id=claim.id,
        reason=reason,
        decided_by_id=actor.id,
    )
    db.session.add(decision)
    audit.record("create", decision)
    with _words():
        title = _(
            "Your transfer of %(amount)s could not be found: %(reason)s",
            amount=format_fen(claim.amount_fen),
            reason=reason,
        )[:200]
    notify(
        [claim.claimed_by],
        Kind.BILL,
        title,
        path_for("fees.household", household_id=claim.household_id),
        dedupe_key=f"claim-rejected-{claim.id}",
    )
    return decision

"""Money accounts and movements: opening and closing accounts, deposits, withdrawals,
transfers, their second approval and their reversal.

Who keeps the money: in an area with a committee, its treasurer and its chair; in an area
without one (社区托管), the community staff who serve it. A movement above the area's
approval threshold counts once a second person approves it (a committee member, or other
community staff where there is no committee), never the one who recorded it. Every write
locks the area first (``fees.ledger.lock_area``), so a balance is read and changed by one
writer at a time and an account is never overdrawn.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import aliased, joinedload

from .. import audit, clock
from ..auth.models import User
from ..committees.models import Committee, CommitteeMember, Position
from ..errors import RuleError
from ..extensions import db
from ..fees.cash import community_staff, positions
from ..fees.expenses import has_committee, is_member
from ..fees.ledger import check_date, lock_area
from ..fees.schedules import settings_of
from ..money import format_fen
from ..registry.models import ManagementArea
from .hooks import cash_box, post
from .labels import account_name
from .models import (
    AccountKind,
    EntrySource,
    MoneyAccount,
    MoneyEntry,
    Movement,
    MovementApproval,
    MovementKind,
)

# Kinds a keeper opens; the cash box exists once per area and is never opened by hand.
OPENED_KINDS = (AccountKind.BANK, AccountKind.WECHAT, AccountKind.ALIPAY, AccountKind.COMMUNITY)
MOVEMENTS_PAGE = 20


def money_keepers(area_id: int, on: date | None = None) -> list[User]:
    """Who opens and closes accounts and records movements."""
    if not has_committee(area_id):
        return community_staff(area_id)
    on = on or clock.today()
    return list(
        db.session.scalars(
            select(User)
            .join(CommitteeMember, CommitteeMember.user_id == User.id)
            .join(Committee, Committee.id == CommitteeMember.committee_id)
            .where(
                Committee.area_id == area_id,
                CommitteeMember.term_start <= on,
                CommitteeMember.term_end >= on,
                CommitteeMember.position.in_((Position.TREASURER, Position.CHAIR)),
            )
        ).unique()
    )


def may_keep(area_id: int, user: User) -> bool:
    return user.id in {u.id for u in money_keepers(area_id)}


def may_approve(movement: Movement, user: User) -> bool:
    """A second person: a committee member, or (without a committee) other community staff."""
    if movement.recorded_by_id == user.id or not movement.needs_approval:
        return False
    if movement.approval is not None or movement.reversed_by is not None:
        return False
    if has_committee(movement.area_id):
        return is_member(movement.area_id, user)
    return user.id in {u.id for u in community_staff(movement.area_id)}


def _refuse_unless_keeper(area_id: int, actor: User) -> None:
    if not may_keep(area_id, actor):
        raise RuleError(
            _(
                "Only the treasurer or the chair (where there is no committee, the community "
                "staff) keeps the area's money."
            )
        )


# --- accounts -------------------------------------------------------------------------------


def paying_accounts(area_id: int) -> list[tuple[str, str]]:
    """The choices of a "paid from" field: the area's open accounts other than the cash box
    (the field's default, its empty choice), by name."""
    return [
        (str(account.id), account_name(account))
        for account in accounts_of(area_id, open_only=True)
        if account.kind != AccountKind.CASH_BOX
    ]


def accounts_of(area_id: int, *, open_only: bool = False) -> list[MoneyAccount]:
    """The area's accounts: the cash box first, then by kind and name; closed ones last."""
    query = select(MoneyAccount).where(MoneyAccount.area_id == area_id)
    if open_only:
        query = query.where(MoneyAccount.closed_on.is_(None))
    rows = db.session.scalars(query).all()
    order = list(AccountKind)
    return sorted(
        rows,
        key=lambda a: (a.closed_on is not None, order.index(AccountKind(a.kind)), a.name, a.id),
    )


def open_account(
    area: ManagementArea,
    actor: User,
    *,
    kind: AccountKind,
    name: str,
    bank: str = "",
    holder: str = "",
    last4: str = "",
) -> MoneyAccount:
    _refuse_unless_keeper(area.id, actor)
    if kind not in OPENED_KINDS:
        raise RuleError(_("Choose the kind of account."), "kind")
    if kind == AccountKind.COMMUNITY and has_committee(area.id):
        raise RuleError(
            _("Only an area without a committee has an account held by the community."), "kind"
        )
    if kind in (AccountKind.BANK, AccountKind.COMMUNITY):
        if not bank:
            raise RuleError(_("Please give the bank."), "bank")
        if not holder:
            raise RuleError(_("Please give the account's name."), "holder")
        if len(last4) != 4 or not last4.isdigit():
            raise RuleError(_("Type the last 4 digits of the account number."), "last4")
    else:
        bank, last4 = "", ""
    lock_area(area.id)
    cash_box(area.id)  # every area with accounts shows its cash box first
    same = db.session.scalar(
        select(MoneyAccount.id).where(
            MoneyAccount.area_id == area.id,
            MoneyAccount.kind == kind,
            MoneyAccount.name == name,
            MoneyAccount.last4 == last4,
            MoneyAccount.closed_on.is_(None),
        )
    )
    if same is not None:
        raise RuleError(_("This account is already open."), "name")
    account = MoneyAccount(
        area_id=area.id,
        kind=kind,
        name=name,
        bank=bank,
        holder=holder,
        last4=last4,
        opened_on=clock.today(),
        opened_by_id=actor.id,
    )
    db.session.add(account)
    db.session.flush()
    audit.record("create", account)
    return account


def close_account(account: MoneyAccount, actor: User) -> MoneyAccount:
    _refuse_unless_keeper(account.area_id, actor)
    if account.kind == AccountKind.CASH_BOX:
        raise RuleError(_("The cash box stays open while the area keeps money."))
    lock_area(account.area_id)
    db.session.refresh(account)
    if account.closed_on is not None:
        raise RuleError(_("This account is already closed."))
    if account.balance_fen != 0:
        raise RuleError(
            _(
                "%(account)s still holds %(balance)s: move it out before closing the account.",
                account=account_name(account),
                balance=format_fen(account.balance_fen),
            )
        )
    if pending_of(account.id):
        raise RuleError(_("A movement of this account is waiting for approval."))
    account.closed_on = clock.today()
    account.closed_by_id = actor.id
    audit.record("close", account)
    return account


# --- movements ------------------------------------------------------------------------------


def kind_of(source: MoneyAccount, target: MoneyAccount) -> MovementKind:
    if source.kind == AccountKind.CASH_BOX:
        return MovementKind.DEPOSIT
    if target.kind == AccountKind.CASH_BOX:
        return MovementKind.WITHDRAW
    return MovementKind.TRANSFER


def pending_of(account_id: int) -> list[Movement]:
    """Movements from or to the account still waiting for their approval."""
    return [
        m
        for m in db.session.scalars(
            _listed().where(
                or_(Movement.from_account_id == account_id, Movement.to_account_id == account_id)
            )
        ).unique()
        if not m.counts and m.reversed_by is None
    ]


def _pending_out(account_id: int) -> int:
    return sum(m.amount_fen for m in pending_of(account_id) if m.from_account_id == account_id)


def _check_funds(account: MoneyAccount, amount_fen: int, reserved: int = 0) -> None:
    """Refuse to take ``amount_fen`` out of the account beyond what it holds (less what
    waiting movements already promise out of it)."""
    db.session.refresh(account)
    if amount_fen + reserved > account.balance_fen:
        held = account.balance_fen - reserved
        raise RuleError(
            _(
                "%(account)s holds %(balance)s; you cannot move %(amount)s out of it.",
                account=account_name(account),
                balance=format_fen(max(held, 0)),
                amount=format_fen(amount_fen),
            ),
            "amount",
        )


def _apply(movement: Movement, on: date) -> None:
    """The movement counts: money leaves one account and reaches the other."""
    post(movement.from_account, -movement.amount_fen, on, EntrySource.MOVEMENT, movement.id)
    post(movement.to_account, movement.amount_fen, on, EntrySource.MOVEMENT, movement.id)


def record_movement(
    area: ManagementArea,
    actor: User,
    *,
    source: MoneyAccount,
    target: MoneyAccount,
    amount_fen: int,
    moved_on: date,
    note: str,
    request_key: str,
) -> Movement:
    """Record a deposit, withdrawal or transfer; the same form sent twice records it once."""
    lock_area(area.id)
    earlier = db.session.scalar(select(Movement).where(Movement.request_key == request_key))
    if earlier is not None:
        if earlier.area_id != area.id or earlier.amount_fen != amount_fen:
            raise RuleError(_("This form was already used. Please open it again."))
        return earlier  # the same form sent twice
    _refuse_unless_keeper(area.id, actor)
    if amount_fen <= 0:
        raise RuleError(_("The amount must be more than zero."), "amount")
    if source.area_id != area.id or target.area_id != area.id:
        raise RuleError(_("Money moves only between accounts of the same area."), "target")
    if source.id == target.id:
        raise RuleError(_("Choose two different accounts."), "target")
    if not source.is_open or not target.is_open:
        raise RuleError(_("This account is closed."), "target")
    check_date(moved_on, "moved_on")
    needs_approval = amount_fen > settings_of(area.id).approval_threshold_fen
    _check_funds(source, amount_fen, _pending_out(source.id))
    movement = Movement(
        area_id=area.id,
        kind=kind_of(source, target),
        from_account_id=source.id,
        to_account_id=target.id,
        amount_fen=amount_fen,
        moved_on=moved_on,
        note=note,
        needs_approval=needs_approval,
        recorded_by_id=actor.id,
        request_key=request_key,
    )
    db.session.add(movement)
    db.session.flush()
    if not needs_approval:
        _apply(movement, moved_on)
    audit.record("create", movement)
    return movement


def approve_movement(movement: Movement, actor: User) -> MovementApproval:
    lock_area(movement.area_id)
    db.session.refresh(movement)
    if not movement.needs_approval:
        raise RuleError(_("This movement needs no approval."))
    if movement.approval is not None:
        raise RuleError(_("This movement has already been approved."))
    if movement.reversed_by is not None:
        raise RuleError(_("This movement was cancelled."))
    if movement.recorded_by_id == actor.id:
        raise RuleError(_("A second person must approve it, not the one who recorded it."))
    if not may_approve(movement, actor):
        raise RuleError(_("Only a member of this area's committee can approve it."))
    _check_funds(movement.from_account, movement.amount_fen)
    approval = MovementApproval(movement_id=movement.id, approved_by_id=actor.id)
    db.session.add(approval)
    db.session.flush()
    _apply(movement, clock.today())
    audit.record("create", approval)
    return approval


def reverse_movement(movement: Movement, actor: User, reason: str) -> Movement:
    """Undo a movement entered by mistake: a reversing movement with the reason. One still
    waiting for approval is cancelled (nothing had moved)."""
    _refuse_unless_keeper(movement.area_id, actor)
    if not reason.strip():
        raise RuleError(_("Please give the reason."), "reason")
    lock_area(movement.area_id)
    db.session.refresh(movement)
    if movement.kind == MovementKind.REVERSAL:
        raise RuleError(_("A reversal is not reversed: record the movement again."), "reason")
    if movement.reversed_by is not None:
        raise RuleError(_("This movement has already been reversed."), "reason")
    counted = movement.counts
    source, target = movement.to_account, movement.from_account
    if counted:
        _check_funds(source, movement.amount_fen)
    reversal = Movement(
        area_id=movement.area_id,
        kind=MovementKind.REVERSAL,
        from_account_id=source.id,
        to_account_id=target.id,
        amount_fen=movement.amount_fen,
        moved_on=clock.today(),
        note=reason,
        needs_approval=False,
        reverses_id=movement.id,
        recorded_by_id=actor.id,
        request_key=f"reverse-{movement.id}",
    )
    db.session.add(reversal)
    db.session.flush()
    if counted:
        _apply(reversal, reversal.moved_on)
    audit.record("create", reversal)
    return reversal


# --- reading --------------------------------------------------------------------------------


def _listed() -> Select[Any]:
    return select(Movement).options(
        joinedload(Movement.from_account),
        joinedload(Movement.to_account),
        joinedload(Movement.recorded_by),
        joinedload(Movement.approval).joinedload(MovementApproval.approved_by),
        joinedload(Movement.reversed_by),
    )


def awaiting_approval(area_id: int) -> list[Movement]:
    """Every movement still waiting for its second approval, oldest first: all of them."""
    later = aliased(Movement)
    return list(
        db.session.scalars(
            _listed()
            .where(
                Movement.area_id == area_id,
                Movement.needs_approval.is_(True),
                ~select(MovementApproval.id)
                .where(MovementApproval.movement_id == Movement.id)
                .exists(),
                ~select(later.id).where(later.reverses_id == Movement.id).exists(),
            )
            .order_by(Movement.moved_on, Movement.id)
        ).unique()
    )


@dataclass
class MovementPage:
    movements: list[Movement]  # newest first
    page: int
    pages: int
    total: int


def history(area_id: int, page: int = 1, size: int = MOVEMENTS_PAGE) -> MovementPage:
    waiting = {m.id for m in awaiting_approval(area_id)}
    where = [Movement.area_id == area_id]
    if waiting:
        where.append(Movement.id.not_in(waiting))
    total = db.session.scalar(select(func.count()).select_from(Movement).where(*where)) or 0
    pages = max(1, -(-total // size))
    page = min(max(page, 1), pages)
    rows = db.session.scalars(
        _listed()
        .where(*where)
        .order_by(Movement.moved_on.desc(), Movement.id.desc())
        .limit(size)
        .offset((page - 1) * size)
    ).unique()
    return MovementPage(list(rows), page, pages, total)


@dataclass
class Holding:
    """One place the area's money is, with its balance."""

    name: str
    kind: str  # an account kind, or "hand" for a collector's cash in hand
    balance_fen: int
    account: MoneyAccount | None = None


def holdings(area_id: int) -> list[Holding]:
    """The open accounts (and closed ones still holding money), then each collector's cash
    in hand as the cash page derives it, and cash handed over but not counted yet."""
    found = [
        Holding(account_name(a), a.kind, a.balance_fen, a)
        for a in accounts_of(area_id)
        if a.is_open or a.balance_fen
    ]
    cash = positions(area_id)
    found += [Holding(p.user.name, "hand", p.held) for p in cash if p.held]
    waiting = sum(p.pending for p in cash)
    if waiting:
        found.append(Holding("", "waiting", waiting))
    return found


def balances_on(area_id: int, day: date) -> list[dict[str, Any]]:
    """Each account's balance at the end of ``day``, for the finance board (资金存放)."""
    sums = dict(
        db.session.execute(
            select(MoneyEntry.account_id, func.sum(MoneyEntry.amount_fen))
            .where(MoneyEntry.area_id == area_id, MoneyEntry.entry_on <= day)
            .group_by(MoneyEntry.account_id)
        ).all()
    )
    return [
        # Named by kind, bank and last digits: the typed name may be a person's.
        {"kind": a.kind, "bank": a.bank, "last4": a.last4, "amount": int(sums.get(a.id) or 0)}
        for a in accounts_of(area_id)
        if a.opened_on <= day or sums.get(a.id)
        if (a.closed_on is None or a.closed_on > day) or sums.get(a.id)
    ]

"""Cash hand-over: collectors hand the cash they took to the treasurer, who counts it.

What each collector still holds is always derived from the entries: cash payments
they logged, less those reversed, less what they have handed over (counted or not).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import Select, func, select
from sqlalchemy.orm import joinedload

from .. import audit, clock
from ..auth.models import Role, RoleGrant, User
from ..committees.models import Committee, CommitteeMember, Position
from ..errors import RuleError
from ..extensions import db
from ..messages import triggers
from ..money import format_fen
from ..registry.models import ManagementArea
from ..treasury import hooks as treasury
from ..treasury.models import EntrySource, MoneyEntry
from .ledger import check_date, lock_area
from .models import CashHandover, HandoverConfirmation, Method, Payment, Reversal


@dataclass
class CashPosition:
    user: User
    collected: int = 0  # cash payments logged, less reversals
    handed: int = 0  # handed over, counted or not
    pending: int = 0  # handed over, not yet counted by the treasurer
    shortfall: int = 0  # handed over minus what the treasurer counted
    is_keeper: bool = False  # the treasurer: the area's cash box, nothing to hand over

    @property
    def held(self) -> int:
        return self.collected - self.handed


def community_staff(area_id: int) -> list[User]:
    """The community staff serving the area's community, by name."""
    return list(
        db.session.scalars(
            select(User)
            .join(RoleGrant, RoleGrant.user_id == User.id)
            .join(ManagementArea, ManagementArea.community_id == RoleGrant.community_id)
            .where(ManagementArea.id == area_id, RoleGrant.role == Role.COMMUNITY_STAFF)
            .order_by(User.name, User.id)
        ).unique()
    )


def has_committee(area_id: int) -> bool:
    return db.session.scalar(select(Committee.id).where(Committee.area_id == area_id)) is not None


def keepers(area_id: int, on: date | None = None) -> list[User]:
    """Who counts hand-overs: the treasurer, or the chair while there is no treasurer; in
    an area without a committee (社区托管), the community staff who serve it."""
    on = on or clock.today()
    if not has_committee(area_id):
        return community_staff(area_id)
    seats = db.session.execute(
        select(CommitteeMember.position, User)
        .join(Committee, Committee.id == CommitteeMember.committee_id)
        .join(User, User.id == CommitteeMember.user_id)
        .where(
            Committee.area_id == area_id,
            CommitteeMember.term_start <= on,
            CommitteeMember.term_end >= on,
            CommitteeMember.position.in_((Position.TREASURER, Position.CHAIR)),
        )
    ).all()
    treasurers = [u for pos, u in seats if pos == Position.TREASURER]
    return treasurers or [u for pos, u in seats if pos == Position.CHAIR]


def positions(area_id: int) -> list[CashPosition]:
    """Every collector of the area with cash taken, handed over and still held."""
    found: dict[int, CashPosition] = {}
    users: dict[int, User] = {}
    keeper_ids = {u.id for u in keepers(area_id)}

    def at(user_id: int) -> CashPosition:
        if user_id not in found:
            found[user_id] = CashPosition(user=users[user_id], is_keeper=user_id in keeper_ids)
        return found[user_id]

    # Cash a keeper took went straight into the cash box (treasury.hooks.destination): it
    # was never in anyone's hand, whoever keeps the box today.
    in_hand = ~Payment.id.in_(
        select(MoneyEntry.source_id).where(
            MoneyEntry.area_id == area_id, MoneyEntry.source == EntrySource.PAYMENT
        )
    )
    collected = db.session.execute(
        select(Payment.collector_id, func.sum(Payment.amount_fen))
        .where(Payment.area_id == area_id, Payment.method == Method.CASH, in_hand)
        .group_by(Payment.collector_id)
    ).all()
    reversed_ = db.session.execute(
        select(Payment.collector_id, func.sum(Reversal.amount_fen))
        .join(Reversal, Reversal.payment_id == Payment.id)
        .where(Payment.area_id == area_id, Payment.method == Method.CASH, in_hand)
        .group_by(Payment.collector_id)
    ).all()
    handed = db.session.execute(
        select(
            CashHandover.collector_id,
            CashHandover.amount_fen,
            HandoverConfirmation.received_fen,
        )
        .outerjoin(HandoverConfirmation, HandoverConfirmation.handover_id == CashHandover.id)
        .where(CashHandover.area_id == area_id)
    ).all()
    ids = {r[0] for r in collected} | {r[0] for r in handed}
    if ids:
        users.update({u.id: u for u in db.session.scalars(select(User).where(User.id.in_(ids)))})
    for user_id, amount in collected:
        at(user_id).collected += int(amount or 0)
    for user_id, amount in reversed_:
        at(user_id).collected -= int(amount or 0)
    for user_id, amount, received in handed:
        pos = at(user_id)
        pos.handed += amount
        if received is None:
            pos.pending += amount
        else:
            pos.shortfall += amount - received
    return sorted(found.values(), key=lambda p: (p.is_keeper, -p.held, p.user.name))


def held_by(area_id: int, user_id: int) -> int:
    for pos in positions(area_id):
        if pos.user.id == user_id:
            return pos.held
    return 0


HISTORY_PAGE = 20  # counted hand-overs per page on the cash page


def _listed(area_id: int, collector_id: int | None) -> Select[Any]:
    query = (
        select(CashHandover)
        .where(CashHandover.area_id == area_id)
        .options(
            joinedload(CashHandover.collector),
            joinedload(CashHandover.confirmation).joinedload(HandoverConfirmation.confirmed_by),
        )
    )
    if collector_id is not None:
        query = query.where(CashHandover.collector_id == collector_id)
    return query


def waiting(area_id: int, collector_id: int | None = None) -> list[CashHandover]:
    """Every hand-over not counted yet, oldest first: all of them, never a first page only.

    The home page's count (``pending_for``) counts the same rows.
    """
    return list(
        db.session.scalars(
            _listed(area_id, collector_id)
            .outerjoin(HandoverConfirmation, HandoverConfirmation.handover_id == CashHandover.id)
            .where(HandoverConfirmation.id.is_(None))
            .order_by(CashHandover.handed_on, CashHandover.id)
        ).unique()
    )


@dataclass
class HistoryPage:
    handovers: list[CashHandover]  # counted, newest hand-over date first
    page: int
    pages: int
    total: int


def history(
    area_id: int, page: int = 1, collector_id: int | None = None, size: int = HISTORY_PAGE
) -> HistoryPage:
    """Hand-overs already counted, by the day they were handed over (newest first), a page at
    a time."""
    counted = (
        select(func.count())
        .select_from(CashHandover)
        .join(HandoverConfirmation, HandoverConfirmation.handover_id == CashHandover.id)
        .where(CashHandover.area_id == area_id)
    )
    if collector_id is not None:
        counted = counted.where(CashHandover.collector_id == collector_id)
    total = db.session.scalar(counted) or 0
    pages = max(1, -(-total // size))
    page = min(max(page, 1), pages)
    rows = db.session.scalars(
        _listed(area_id, collector_id)
        .join(HandoverConfirmation, HandoverConfirmation.handover_id == CashHandover.id)
        .order_by(CashHandover.handed_on.desc(), CashHandover.id.desc())
        .limit(size)
        .offset((page - 1) * size)
    ).unique()
    return HistoryPage(list(rows), page, pages, total)


def check_hand_over(
    area: ManagementArea, collector: User, *, amount_fen: int, handed_on: date
) -> None:
    """Refuse a hand-over that could not be recorded; asked before the collector confirms
    the amount, and again when it is recorded."""
    keeper_ids = {u.id for u in keepers(area.id)}
    if collector.id in keeper_ids:
        raise RuleError(_("The treasurer keeps the area's cash; there is no one to hand it to."))
    if not keeper_ids:
        raise RuleError(_("The area has no treasurer or chair to hand cash to."))
    check_date(handed_on, "handed_on")
    held = held_by(area.id, collector.id)
    if amount_fen > held:
        raise RuleError(
            _("You hold %(held)s in cash; you cannot hand over more.", held=format_fen(held)),
            "amount",
        )


def hand_over(
    area: ManagementArea,
    collector: User,
    *,
    amount_fen: int,
    handed_on: date,
    request_key: str,
) -> CashHandover:
    lock_area(area.id)  # what is held is read and handed over by one writer at a time
    earlier = db.session.scalar(select(CashHandover).where(CashHandover.request_key == request_key))
    if earlier is not None:
        if earlier.area_id != area.id or earlier.collector_id != collector.id:
            raise RuleError(_("This form was already used. Please open it again."))
        return earlier  # the same form sent twice
    check_hand_over(area, collector, amount_fen=amount_fen, handed_on=handed_on)
    handover = CashHandover(
        area_id=area.id,
        collector_id=collector.id,
        amount_fen=amount_fen,
        handed_on=handed_on,
        request_key=request_key,
    )
    db.session.add(handover)
    audit.record("create", handover)
    triggers.handover_waiting(handover)
    return handover


def may_confirm(handover: CashHandover, user: User) -> bool:
    return handover.collector_id != user.id and user.id in {u.id for u in keepers(handover.area_id)}


def confirm(
    handover: CashHandover,
    actor: User,
    *,
    received_fen: int | None,
    note: str,
    as_handed: bool = False,
) -> HandoverConfirmation:
    """The treasurer counts the cash: she types what she counted, or ticks that it is the
    amount handed over (``as_handed``); nothing is taken as counted without one of the two.
    A different sum is kept as a discrepancy; the same count sent twice is kept once."""
    if not may_confirm(handover, actor):
        raise RuleError(_("Only the treasurer (or the chair, while there is none) counts cash."))
    if received_fen is None:
        if not as_handed:
            raise RuleError(
                _(
                    "Type the cash you counted, or tick that it is the %(amount)s handed over.",
                    amount=format_fen(handover.amount_fen),
                ),
                "received",
            )
        received_fen = handover.amount_fen
    elif as_handed and received_fen != handover.amount_fen:
        raise RuleError(
            _(
                "You ticked that the count is %(amount)s but typed %(typed)s. Please count again.",
                amount=format_fen(handover.amount_fen),
                typed=format_fen(received_fen),
            ),
            "received",
        )
    lock_area(handover.area_id)
    existing = db.session.scalar(
        select(HandoverConfirmation).where(HandoverConfirmation.handover_id == handover.id)
    )
    if existing is not None:
        if (existing.confirmed_by_id, existing.received_fen, existing.note) == (
            actor.id,
            received_fen,
            note,
        ):
            return existing  # the same count sent twice
        raise RuleError(_("This hand-over has already been counted."))
    if received_fen != handover.amount_fen and not note:
        raise RuleError(
            _("The count differs from the amount handed over: write down what happened."),
            "note",
        )
    confirmation = HandoverConfirmation(
        handover_id=handover.id,
        received_fen=received_fen,
        note=note,
        confirmed_by_id=actor.id,
    )
    db.session.add(confirmation)
    db.session.flush()
    treasury.handover_counted(confirmation, handover.area_id)
    audit.record("create", confirmation)
    return confirmation


def pending_for(user: User, area_ids: set[int]) -> dict[int, int]:
    """Hand-overs awaiting this keeper's count, per area (for the home page)."""
    if not area_ids:
        return {}
    counts: dict[int, int] = defaultdict(int)
    rows = db.session.execute(
        select(CashHandover.area_id, func.count())
        .outerjoin(HandoverConfirmation, HandoverConfirmation.handover_id == CashHandover.id)
        .where(CashHandover.area_id.in_(area_ids), HandoverConfirmation.id.is_(None))
        .group_by(CashHandover.area_id)
    )
    for area_id, n in rows:
        if user.id in {u.id for u in keepers(area_id)}:
            counts[area_id] = n
    return dict(counts)

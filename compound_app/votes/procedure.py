"""The vote procedure around the ballots: the subdistrict's vote rules, the area's 议事规则
options, the announcement (公告), the tellers (监票人, 计票人) and corrected paper ballots.

Announcing fixes the day the vote may open (no earlier than the subdistrict's
announcement period after the announcement day), its end date and the 议事规则 options
that will count it; it posts the announcement to the vote's homes and tells the
community's staff. The tellers are owners of homes the vote asks, never a current member
of the area's committee. A wrong paper ballot is corrected by a new one, entered by
someone other than whoever entered the wrong one: both stay, the new one counts.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select

from .. import access, audit, clock
from ..access import Principal
from ..auth.models import User
from ..errors import RuleError
from ..extensions import db
from ..messages import triggers
from ..notices import service as notices
from ..registry.models import Household, ManagementArea, Occupant, Relation, Subdistrict
from ..uploads import discard_upload, save_photo
from .models import (
    AssemblyRules,
    Ballot,
    BallotChannel,
    BallotCorrection,
    Choice,
    Teller,
    TellerRole,
    Vote,
    VoteRules,
    VoteStatus,
)
from .service import (
    VOID_REASON_MAX,
    latest_ballots,
    on_the_committee,
    paper_refusal,
    room,
    rules_of,
    tellers_needed,
    tellers_of,
    vote_homes,
    vote_rules,
)
from .tally import NON_VOTERS

# --- the subdistrict's vote rules and the area's 议事规则 ----------------------------------------

LIMITS = {"announce_days": (1, 90), "scrutineers": (1, 5), "counters": (1, 5)}


def save_vote_rules(subdistrict: Subdistrict, **values: int) -> VoteRules:
    for key, value in values.items():
        low, high = LIMITS[key]
        if value is None or not low <= value <= high:
            raise RuleError(_("Enter a number from %(a)d to %(b)d.", a=low, b=high), key)
    row = db.session.get(VoteRules, subdistrict.id)
    before = audit.snapshot(row) if row else None
    if row is None:
        row = vote_rules(subdistrict.id)
        db.session.add(row)
    for key, value in values.items():
        setattr(row, key, value)
    db.session.flush()
    audit.record("vote_rules", row, before=before).entity_id = subdistrict.id
    return row


def assembly_rules(area: ManagementArea) -> AssemblyRules:
    """The area's 议事规则 options, all off where the committee set none (not saved)."""
    found = db.session.get(AssemblyRules, area.id)
    return found or AssemblyRules(area_id=area.id, non_voters_follow_majority=False)


def save_assembly_rules(area: ManagementArea, non_voters_follow_majority: bool) -> AssemblyRules:
    """The committee records the options its 议事规则 adopted; votes announced already
    keep the ones they were announced with."""
    row = db.session.get(AssemblyRules, area.id)
    before = audit.snapshot(row) if row else None
    if row is None:
        row = assembly_rules(area)
        db.session.add(row)
    row.non_voters_follow_majority = non_voters_follow_majority
    db.session.flush()
    audit.record("assembly_rules", row, before=before).entity_id = area.id
    return row


# --- the announcement --------------------------------------------------------------------------


def earliest_opening(vote: Vote, today: date | None = None) -> date:
    return (today or clock.today()) + timedelta(days=rules_of(vote).announce_days)


def announce(
    vote: Vote,
    opens_on: date | None,
    closes_on: date | None,
    actor: User,
    only: list[int] | None = None,
) -> Vote:
    """Announce a drafted vote (公告): the day it opens, its end date, the 议事规则 options
    that will count it; posted to its homes, and the community's staff told.

    ``only``: the homes of the scope that vote, where the matter concerns some of them (a
    maintenance fund application: the homes that bear its cost); else every home."""
    if vote.status != VoteStatus.DRAFT or vote.announced:
        raise RuleError(_("This vote is announced already."))
    if opens_on is None:
        raise RuleError(_("Enter a date."), "opens_on")
    if closes_on is None:
        raise RuleError(_("Enter a date."), "closes_on")
    earliest = earliest_opening(vote)
    if opens_on < earliest:
        raise RuleError(
            _(
                "The announcement runs %(n)d days: the vote opens on %(date)s at the earliest.",
                n=rules_of(vote).announce_days,
                date=f"{earliest:%Y-%m-%d}",
            ),
            "opens_on",
        )
    if closes_on < opens_on:
        raise RuleError(_("The vote ends on or after the day it opens."), "closes_on")
    before = audit.snapshot(vote)
    vote.only_homes = sorted(set(only)) if only is not None else None
    if db.session.execute(vote_homes(vote).limit(1)).first() is None:
        raise RuleError(_("There are no homes to vote in this scope."))
    rules, tellers = assembly_rules(vote.area), rules_of(vote)
    vote.announced_on, vote.opens_on, vote.closes_on = clock.today(), opens_on, closes_on
    # As announced: the 议事规则 option, and how many tellers the vote needs.
    vote.rules = {
        NON_VOTERS: rules.non_voters_follow_majority,
        "scrutineers": tellers.scrutineers,
        "counters": tellers.counters,
    }
    db.session.flush()
    audit.record("announce_vote", vote, before=before, actor_id=actor.id)
    notices.post_automatic(vote, actor)
    triggers.vote_announced(vote)
    return vote


# --- tellers -----------------------------------------------------------------------------------


def teller_choices(vote: Vote) -> list[tuple[int, str]]:
    """The owners (and co-owners) of the vote's homes, as (occupant id, "room name")."""
    rows = db.session.execute(
        vote_homes(vote)
        .add_columns(Occupant)
        .join(Occupant, Occupant.household_id == Household.id)
        .where(Occupant.relation.in_([Relation.OWNER, Relation.CO_OWNER]))
    ).all()
    return [
        (occupant.id, f"{room(unit, building, compound, home)} {occupant.name}")
        for home, unit, building, compound, occupant in rows
    ]


def record_teller(vote: Vote, role: str, occupant_id: int | None, actor: User) -> Teller:
    """Name a scrutineer or counter: an owner of one of the vote's homes, not a member
    of the area's committee, up to the number the subdistrict's rules ask for."""
    if vote.status == VoteStatus.CLOSED:
        raise RuleError(_("The vote is closed: its tellers are on its result."))
    if role not in set(TellerRole):
        raise RuleError(_("Choose scrutineer or counter."), "role")
    rows = dict(teller_choices(vote))
    occupant = db.session.get(Occupant, occupant_id) if occupant_id in rows else None
    if occupant is None:
        raise RuleError(_("Choose an owner of a home this vote asks."), "occupant_id")
    if on_the_committee(vote, occupant):
        raise RuleError(
            _("A committee member cannot be a teller: choose an owner who sits on no committee."),
            "occupant_id",
        )
    tellers = tellers_of(vote)
    if any(t.occupant_id == occupant.id for t in tellers):
        raise RuleError(_("This owner is a teller of this vote already."), "occupant_id")
    needed = tellers_needed(vote).get(role, 0)
    if sum(t.role == role for t in tellers) >= needed:
        raise RuleError(
            _("This vote has all %(n)d of them already: remove one to name another.", n=needed),
            "role",
        )
    label = rows[occupant.id]
    teller = Teller(
        vote_id=vote.id,
        role=role,
        occupant_id=occupant.id,
        name=occupant.name,
        home=label.removesuffix(f" {occupant.name}")[:100],
        recorded_by_id=actor.id,
    )
    db.session.add(teller)
    db.session.flush()
    audit.record("record_teller", teller, actor_id=actor.id)
    return teller


def remove_teller(teller: Teller, actor: User) -> None:
    vote = db.session.get(Vote, teller.vote_id)
    assert vote is not None
    if vote.status == VoteStatus.CLOSED:
        raise RuleError(_("The vote is closed: its tellers are on its result."))
    before = audit.snapshot(teller)
    db.session.delete(teller)
    db.session.flush()
    audit.record("remove_teller", teller, before=before, actor_id=actor.id)


# --- correcting a paper ballot ------------------------------------------------------------------


def correction_refusal(ballot: Ballot, actor: User) -> str | None:
    """Why ``actor`` may not correct this ballot (None: they may)."""
    if ballot.channel != BallotChannel.PAPER:
        return _("Only paper ballots are corrected; an owner changes their online vote themselves.")
    if ballot.entered_by_id == actor.id:
        return _(
            "You entered this ballot: a second person (another committee member or "
            "representative) enters its correction."
        )
    return None


def correct_paper(
    ballot: Ballot,
    choice: str,
    reason: str,
    photo: Any,
    actor: User,
    p: Principal | None = None,
) -> BallotCorrection:
    """Supersede a wrongly entered paper ballot with a new one, photographed, with the
    reason. Whoever entered the wrong ballot cannot: a second person corrects it."""
    vote = db.session.get(Vote, ballot.vote_id)
    assert vote is not None
    if vote.status != VoteStatus.OPEN or clock.today() > vote.closes_on:
        raise RuleError(_("Ballots can be corrected only while the vote is open."))
    refusal = correction_refusal(ballot, actor)
    if refusal:
        raise RuleError(refusal)
    if latest_ballots(vote).get(ballot.elector_id) is not ballot:
        raise RuleError(_("Only the ballot that counts can be corrected."))
    refusal = paper_refusal(vote, ballot.elector, p or access.load_principal(actor))
    if refusal:
        raise RuleError(refusal)
    if choice not in set(Choice):
        raise RuleError(_("Choose yes, no or abstain."), "choice")
    reason = " ".join((reason or "").split())
    if not reason:
        raise RuleError(_("Say what was wrong with the ballot."), "reason")
    if len(reason) > VOID_REASON_MAX:
        raise RuleError(_("At most %(n)d characters.", n=VOID_REASON_MAX), "reason")
    name = save_photo(photo, "photo")
    try:
        new = Ballot(
            vote_id=vote.id,
            elector_id=ballot.elector_id,
            choice=choice,
            channel=BallotChannel.PAPER,
            entered_by_id=actor.id,
            photo=name,
        )
        db.session.add(new)
        db.session.flush()
        correction = BallotCorrection(
            ballot_id=ballot.id, new_ballot_id=new.id, reason=reason, corrected_by_id=actor.id
        )
        db.session.add(correction)
        db.session.flush()
        audit.record("paper_ballot", new, actor_id=actor.id)
        audit.record("correct_ballot", correction, actor_id=actor.id)
    except Exception:
        discard_upload(name)
        raise
    return correction


def corrections_of(vote: Vote) -> list[BallotCorrection]:
    return list(
        db.session.scalars(
            select(BallotCorrection)
            .join(Ballot, Ballot.id == BallotCorrection.ballot_id)
            .where(Ballot.vote_id == vote.id)
            .order_by(BallotCorrection.id)
        )
    )

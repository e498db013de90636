"""Owners' votes: the electorate, ballots online and on paper, the live tally, closing.

Who is an owner comes from the roster: an occupant recorded as owner or co-owner. A
co-owned home votes through its designated co-owner (the one recorded as owner, else the
first co-owner; one who set up their own account comes first). One person is recognised
across homes only by their own account, linked to the home's record when they activated
it with the household's code: such an owner of several homes is one elector with the
areas summed (Supreme People's Court interpretation on building distinct ownership, art.
9), and votes online through that account. A mobile number typed into the roster, which
a representative may edit, neither joins homes nor opens an account's way to vote. An
owner without an account, and a home with no owner recorded, still count in the totals:
their ballot comes on paper.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import and_, or_, select
from sqlalchemy.orm import selectinload

from .. import access, audit, clock
from ..access import Action, Principal
from ..auth.models import User
from ..committees.models import Committee, CommitteeMember
from ..errors import RuleError
from ..extensions import db
from ..messages import triggers
from ..notices import service as notices
from ..registry.models import (
    Building,
    Compound,
    Household,
    ManagementArea,
    Occupant,
    Relation,
    Unit,
)
from ..registry.roster import designated_owner
from ..uploads import discard_upload, save_photo
from .models import (
    Ballot,
    BallotChannel,
    BallotCorrection,
    BallotVoid,
    Choice,
    Elector,
    ElectorHome,
    Matter,
    ScopeKind,
    Teller,
    TellerRole,
    Vote,
    VoteCompound,
    VoteRules,
    VoteStatus,
)
from .tally import NON_VOTERS, Cast, Tally, count, from_record, outcome

# --- scopes -----------------------------------------------------------------------------------


@dataclass
class Scope:
    kind: ScopeKind
    obj: Any
    area: ManagementArea
    label: str
    compounds: tuple[int, ...] = ()  # a chosen-compounds scope's compounds


def chosen_compounds(area: ManagementArea, compound_ids: Collection[int]) -> Scope:
    """A vote put to some of an area's compounds (at least two; one is a compound's vote)."""
    chosen = set(compound_ids)
    compounds = [c for c in area.compounds if c.id in chosen]
    if len(compounds) != len(chosen) or len(compounds) < 2:
        raise RuleError(_("Choose two or more of the area's compounds."), "compounds")
    compounds.sort(key=lambda c: c.name)
    label = "、".join(c.name for c in compounds)
    if len(label) > 100:
        label = _("%(n)d compounds of %(area)s", n=len(compounds), area=area.name)
    return Scope(ScopeKind.COMPOUNDS, area, area, label, tuple(c.id for c in compounds))


def resolve_scope(kind: str, scope_id: int | None) -> Scope:
    """The area, compound, building or unit a vote or consultation is put to."""
    models = {
        ScopeKind.AREA: ManagementArea,
        ScopeKind.COMPOUND: Compound,
        ScopeKind.BUILDING: Building,
        ScopeKind.UNIT: Unit,
    }
    if kind not in models or not scope_id:
        raise RuleError(_("Choose who is asked."), "scope")
    obj = db.session.get(models[ScopeKind(kind)], scope_id)
    if obj is None:
        raise RuleError(_("Choose who is asked."), "scope")
    match obj:
        case ManagementArea():
            return Scope(ScopeKind.AREA, obj, obj, obj.name)
        case Compound():
            return Scope(ScopeKind.COMPOUND, obj, obj.area, obj.name)
        case Building():
            return Scope(
                ScopeKind.BUILDING, obj, obj.compound.area, f"{obj.compound.name}{obj.name}"
            )
        case Unit():
            b = obj.building
            return Scope(
                ScopeKind.UNIT, obj, b.compound.area, f"{b.compound.name}{b.name}{obj.name}"
            )
    raise RuleError(_("Choose who is asked."), "scope")


def households_in(kind: str, scope_id: int, vote_id: int | None = None) -> Any:
    """A select of (Household, Unit, Building, Compound) rows in the scope (a
    chosen-compounds scope is its vote's: ``vote_id``)."""
    query = (
        select(Household, Unit, Building, Compound)
        .join(Unit, Unit.id == Household.unit_id)
        .join(Building, Building.id == Unit.building_id)
        .join(Compound, Compound.id == Building.compound_id)
    )
    match kind:
        case ScopeKind.AREA:
            query = query.where(Compound.area_id == scope_id)
        case ScopeKind.COMPOUND:
            query = query.where(Compound.id == scope_id)
        case ScopeKind.BUILDING:
            query = query.where(Building.id == scope_id)
        case ScopeKind.COMPOUNDS:
            query = query.where(
                Compound.area_id == scope_id,
                Compound.id.in_(
                    select(VoteCompound.compound_id).where(VoteCompound.vote_id == vote_id)
                ),
            )
        case _:
            query = query.where(Unit.id == scope_id)
    return query.order_by(Compound.name, Building.sort_key, Unit.sort_key, Household.sort_key)


def room(unit: Unit, building: Building, compound: Compound, home: Household) -> str:
    return f"{compound.name}-{building.name}-{unit.name}-{home.room}"


def vote_homes(vote: Vote) -> Any:
    """The (Household, Unit, Building, Compound) rows of the homes a vote asks: its scope,
    or those of them the announcement named."""
    query = households_in(vote.scope_kind, vote.scope_id, vote.id)
    if vote.only_homes is not None:
        query = query.where(Household.id.in_(vote.only_homes))
    return query


def compounds_of(vote: Vote) -> list[Compound]:
    """A chosen-compounds vote's compounds, by name."""
    return list(
        db.session.scalars(
            select(Compound)
            .join(VoteCompound, VoteCompound.compound_id == Compound.id)
            .where(VoteCompound.vote_id == vote.id)
            .order_by(Compound.name)
        )
    )


# --- the subdistrict's vote rules ---------------------------------------------------------------


def vote_rules(subdistrict_id: int) -> VoteRules:
    """The subdistrict's rules, or the defaults where it set none (not saved by reading)."""
    found = db.session.get(VoteRules, subdistrict_id)
    return found or VoteRules(
        subdistrict_id=subdistrict_id, announce_days=15, scrutineers=1, counters=1
    )


def rules_of(vote: Vote) -> VoteRules:
    return vote_rules(vote.area.community.subdistrict_id)


def tellers_of(vote: Vote) -> list[Teller]:
    return list(
        db.session.scalars(select(Teller).where(Teller.vote_id == vote.id).order_by(Teller.id))
    )


def on_the_committee(vote: Vote, occupant: Occupant) -> bool:
    """Whether the owner is a current member of the vote's area's committee: by their own
    account, or by the mobile on the roster being a member's."""
    today = clock.today()
    members = (
        select(User.id, User.mobile)
        .join(CommitteeMember, CommitteeMember.user_id == User.id)
        .join(Committee, Committee.id == CommitteeMember.committee_id)
        .where(
            Committee.area_id == vote.area_id,
            CommitteeMember.term_start <= today,
            CommitteeMember.term_end >= today,
        )
    )
    found = db.session.execute(members).all()
    return any(
        (occupant.user_id is not None and user_id == occupant.user_id)
        or (occupant.mobile is not None and mobile == occupant.mobile)
        for user_id, mobile in found
    )


def tellers_needed(vote: Vote) -> dict[str, int]:
    """How many scrutineers and counters the vote needs: as its announcement stated them
    (a change of the subdistrict's rules later does not reach it), else as the rules say."""
    frozen = vote.rules or {}
    rules = rules_of(vote) if not {"scrutineers", "counters"} <= set(frozen) else None
    return {
        TellerRole.SCRUTINEER: int(frozen["scrutineers"]) if rules is None else rules.scrutineers,
        TellerRole.COUNTER: int(frozen["counters"]) if rules is None else rules.counters,
    }


def tellers_missing(vote: Vote) -> dict[str, int]:
    """How many scrutineers and counters the vote still lacks (by role; 0 when complete)."""
    have = [t.role for t in tellers_of(vote)]
    return {role: max(0, n - have.count(role)) for role, n in tellers_needed(vote).items()}


# --- the vote's life --------------------------------------------------------------------------


def create_vote(
    scope: Scope, matter: str, title: str, text: str, closes_on: date, actor: User
) -> Vote:
    if matter not in set(Matter):
        raise RuleError(_("Choose the kind of matter."), "matter")
    if closes_on < clock.today():
        raise RuleError(_("The closing date cannot be in the past."), "closes_on")
    vote = Vote(
        area_id=scope.area.id,
        scope_kind=scope.kind,
        scope_id=scope.obj.id,
        scope_label=scope.label,
        matter=matter,
        title=title,
        text=text,
        closes_on=closes_on,
        created_by_id=actor.id,
    )
    db.session.add(vote)
    db.session.flush()
    for compound_id in scope.compounds:
        db.session.add(VoteCompound(vote_id=vote.id, compound_id=compound_id))
    audit.record(
        "create_vote", vote, after={**audit.snapshot(vote), "compounds": list(scope.compounds)}
    )
    return vote


def _designated(occupants: Sequence[Occupant]) -> Occupant | None:
    return designated_owner(occupants)


def _identity(owner: Occupant | None, home: Household) -> str:
    """One key per person: their own account where they linked it to the home themselves;
    else the owner's record of this home (one elector per home), else the home."""
    if owner is None:
        return f"home:{home.id}"
    if owner.user_id:
        return f"user:{owner.user_id}"
    return f"occupant:{owner.id}"


def _account(owner: Occupant | None) -> int | None:
    """The owner's own account, through which they vote online (if they linked one).

    Never an account found by the mobile number on the roster: a representative can
    type any number there, their own included.
    """
    return owner.user_id if owner is not None else None


def open_vote(vote: Vote, actor: User) -> int:
    """Fix the electorate and open the vote, on or after the day its announcement set;
    returns the number of electors. The homes that vote are those the announcement named
    (every home of the scope, or those a maintenance fund application's cost falls on)."""
    if vote.status != VoteStatus.DRAFT:
        raise RuleError(_("This vote is open or closed already."))
    if vote.opens_on is None:
        raise RuleError(_("Announce the vote first: it opens once its announcement period ends."))
    if clock.today() < vote.opens_on:
        raise RuleError(
            _(
                "A vote opened before its announcement period ends: this one opens on %(date)s.",
                date=f"{vote.opens_on:%Y-%m-%d}",
            )
        )
    if clock.today() > vote.closes_on:
        raise RuleError(_("The vote's end date has passed: it can no longer open."))
    rows = db.session.execute(vote_homes(vote).options(selectinload(Household.occupants))).all()
    if not rows:
        raise RuleError(_("There are no homes to vote in this scope."))
    electors: dict[str, Elector] = {}
    for home, _unit, _building, _compound in rows:
        owner = _designated(home.occupants)
        key = _identity(owner, home)
        elector = electors.get(key)
        if elector is None:
            elector = Elector(
                vote=vote,
                identity=key,
                name=owner.name if owner else "",
                user_id=_account(owner),
                area_dm2=0,
            )
            electors[key] = elector
            db.session.add(elector)
        elector.area_dm2 += home.area_dm2
        elector.homes.append(ElectorHome(vote=vote, household_id=home.id, area_dm2=home.area_dm2))
    vote.status, vote.opened_at = VoteStatus.OPEN, clock.now()
    vote.total_area_dm2 = sum(e.area_dm2 for e in electors.values())
    vote.total_heads = len(electors)
    db.session.flush()
    audit.record("open_vote", vote)
    triggers.vote_opened(vote)
    # Its notice tells the scope, less the electors vote_opened has just messaged.
    notices.post_automatic(vote, actor)
    return len(electors)


def _accepting(vote: Vote) -> None:
    if vote.status != VoteStatus.OPEN:
        raise RuleError(_("This vote is not open for ballots."))
    if clock.today() > vote.closes_on:
        raise RuleError(_("Voting closed on %(date)s.", date=f"{vote.closes_on:%Y-%m-%d}"))


def _counted() -> Any:
    """Ballots that count: every ballot but those the committee voided, and those a
    correction superseded."""
    return select(Ballot).where(
        ~select(BallotVoid.id).where(BallotVoid.ballot_id == Ballot.id).exists(),
        ~select(BallotCorrection.id).where(BallotCorrection.ballot_id == Ballot.id).exists(),
    )


def latest_ballots(vote: Vote) -> dict[int, Ballot]:
    """Each elector's latest ballot that was not voided: the one that counts."""
    latest: dict[int, Ballot] = {}
    for ballot in db.session.scalars(
        _counted().where(Ballot.vote_id == vote.id).order_by(Ballot.id)
    ):
        latest[ballot.elector_id] = ballot
    return latest


def _ballots_of(vote: Vote, elector: Elector) -> list[Ballot]:
    """The elector's ballots that count (a voided one is as if never cast)."""
    return list(
        db.session.scalars(
            _counted()
            .where(Ballot.vote_id == vote.id, Ballot.elector_id == elector.id)
            .order_by(Ballot.id)
        )
    )


def elector_for_user(vote: Vote, user: User) -> Elector | None:
    return db.session.scalar(
        select(Elector).where(Elector.vote_id == vote.id, Elector.user_id == user.id)
    )


def why_not_elector(vote: Vote, user: User, p: Principal) -> str:
    """A plain, true reason an account holder cannot vote online in this vote.

    Who votes was fixed when the vote opened: an owner who linked their account, or was
    recorded as the owner, only after that is told so (and how they can still vote),
    not that owners alone vote.
    """
    homes = db.session.scalars(
        select(ElectorHome).where(
            ElectorHome.vote_id == vote.id,
            ElectorHome.household_id.in_(p.resident_households or {0}),
        )
    ).all()
    if not homes:
        return _("Your home is not among the homes asked in this vote.")
    elector_of = {h.household_id: h.elector for h in homes}
    mine = db.session.scalars(
        select(Occupant)
        .where(
            Occupant.user_id == user.id,
            Occupant.household_id.in_(list(elector_of)),
        )
        .order_by(Occupant.id)
    ).all()
    opened = f"{clock.local(vote.opened_at):%Y-%m-%d}" if vote.opened_at else ""
    # The owner's own record was the elector, but not yet linked to their account then.
    if any(elector_of[o.household_id].identity == f"occupant:{o.id}" for o in mine):
        return _(
            "Who votes was fixed when this vote opened on %(date)s, before you linked your "
            "account to your home. This time your vote is on paper: ask your unit "
            "representative or the committee for a paper ballot.",
            date=opened,
        )
    co_owned = [o for o in mine if o.relation == Relation.CO_OWNER]
    if co_owned:
        designated = elector_of[co_owned[0].household_id].name or _("the designated co-owner")
        return _("A co-owned home votes once, through %(name)s.", name=designated)
    if any(o.relation == Relation.OWNER for o in mine):
        return _(
            "Who votes was fixed when this vote opened on %(date)s, and you were not "
            "recorded as your home's owner then. If that is wrong, tell the committee.",
            date=opened,
        )
    return _("Only owners vote; tenants and family members do not.")


def non_owner_homes(user: User, p: Principal) -> set[int]:
    """The user's homes where they live as a tenant or a family member and not as an
    owner: homes whose owners' votes they take no part in (consultations they may answer).
    """
    if not p.resident_households:
        return set()
    rows = db.session.execute(
        select(Occupant.household_id, Occupant.relation).where(
            Occupant.user_id == user.id, Occupant.household_id.in_(p.resident_households)
        )
    ).all()
    owned = {home for home, relation in rows if relation in (Relation.OWNER, Relation.CO_OWNER)}
    return {
        home for home, relation in rows if relation in (Relation.TENANT, Relation.FAMILY)
    } - owned


def cast_online(vote: Vote, user: User, choice: str, p: Principal | None = None) -> Ballot:
    _accepting(vote)
    if choice not in set(Choice):
        raise RuleError(_("Choose yes, no or abstain."), "choice")
    elector = elector_for_user(vote, user)
    if elector is None:
        raise RuleError(why_not_elector(vote, user, p or access.load_principal(user)))
    earlier = _ballots_of(vote, elector)
    if any(b.channel == BallotChannel.PAPER for b in earlier):
        raise RuleError(_("Your paper ballot is already counted; it cannot be changed online."))
    ballot = Ballot(
        vote_id=vote.id,
        elector_id=elector.id,
        choice=choice,
        channel=BallotChannel.ONLINE,
        entered_by_id=user.id,
    )
    db.session.add(ballot)
    db.session.flush()
    audit.record("ballot", ballot)
    return ballot


def may_enter_paper(household: Household, p: Principal | None = None) -> bool:
    """The home's unit representative, the committee and community staff enter paper ballots."""
    p = p or access.principal()
    return household.unit_id in p.rep_units or access.can(Action.CONSULT, household, p)


def _has_owner(elector: Elector) -> bool:
    """Whether an owner was recorded for the elector's home when the vote opened."""
    return not elector.identity.startswith("home:")


def paper_refusal(vote: Vote, elector: Elector, p: Principal | None = None) -> str | None:
    """Why the user may not enter a paper ballot for ``elector`` (None: they may).

    The committee and community staff may for anyone. A representative may only for an
    owner without an account of their own, all of whose homes lie in units they represent,
    and only for a home whose owner is recorded.
    """
    p = p or access.principal()
    if not all(may_enter_paper(h.household, p) for h in elector.homes):
        return (
            _("You enter paper ballots for the units you represent only.")
            if len(elector.homes) == 1
            else _(
                "This owner votes for homes outside the units you represent too: only the "
                "committee can enter their paper ballot."
            )
        )
    if access.can(Action.CONSULT, vote.area, p):
        return None
    if elector.user_id is not None:
        return _(
            "This owner votes online with their own account. If they want to vote on paper, "
            "the committee enters their ballot."
        )
    if not _has_owner(elector):
        return _("No owner is recorded for this home: only the committee can enter its ballot.")
    return None


def enter_paper(
    vote: Vote,
    household_id: int | None,
    choice: str,
    photo: Any,
    actor: User,
    p: Principal | None = None,
) -> Ballot:
    _accepting(vote)
    if choice not in set(Choice):
        raise RuleError(_("Choose yes, no or abstain."), "choice")
    home = db.session.scalar(
        select(ElectorHome).where(
            ElectorHome.vote_id == vote.id, ElectorHome.household_id == household_id
        )
    )
    if home is None:
        raise RuleError(_("That home is not in this vote's electorate."), "household_id")
    refusal = paper_refusal(vote, home.elector, p)
    if refusal:
        raise RuleError(refusal, "household_id")
    earlier = _ballots_of(vote, home.elector)
    if earlier:
        how = earlier[-1].channel
        raise RuleError(
            _("This owner has voted online already; a paper ballot would count twice.")
            if how == BallotChannel.ONLINE
            else _("This owner's paper ballot is in already."),
            "household_id",
        )
    name = save_photo(photo, "photo")
    try:
        ballot = Ballot(
            vote_id=vote.id,
            elector_id=home.elector_id,
            choice=choice,
            channel=BallotChannel.PAPER,
            entered_by_id=actor.id,
            photo=name,
        )
        db.session.add(ballot)
        db.session.flush()
        audit.record("paper_ballot", ballot)
    except Exception:
        discard_upload(name)
        raise
    return ballot


VOID_REASON_MAX = 200


def void_paper(ballot: Ballot, reason: str, actor: User, p: Principal | None = None) -> BallotVoid:
    """The committee cancels a paper ballot entered by mistake (a representative's ballot
    for the wrong home, or one the owner did not sign). The ballot stays on record, marked
    void with the reason; the elector counts as not having voted and may vote again.

    Online ballots are the owner's own and are never voided: the owner changes them.
    """
    vote = db.session.get(Vote, ballot.vote_id)
    assert vote is not None
    if not access.can(Action.CONSULT, vote.area, p):
        raise RuleError(_("Only the committee can void a paper ballot."))
    if vote.status != VoteStatus.OPEN or clock.today() > vote.closes_on:
        raise RuleError(_("Ballots can be voided only while the vote is open."))
    if ballot.entered_by_id == actor.id:
        raise RuleError(
            _("Whoever entered a paper ballot cannot void it alone: ask another member.")
        )
    if ballot.channel != BallotChannel.PAPER:
        raise RuleError(
            _("Only paper ballots can be voided; an owner changes their online vote themselves.")
        )
    if db.session.scalar(select(BallotVoid.id).where(BallotVoid.ballot_id == ballot.id)):
        raise RuleError(_("This ballot is void already."))
    if db.session.scalar(
        select(BallotCorrection.id).where(BallotCorrection.ballot_id == ballot.id)
    ):
        raise RuleError(_("This ballot was corrected: the correction counts instead."))
    reason = " ".join(reason.split())
    if not reason:
        raise RuleError(_("Say why the ballot is void."), "reason")
    if len(reason) > VOID_REASON_MAX:
        raise RuleError(
            _("At most %(n)d characters.", n=VOID_REASON_MAX),
            "reason",
        )
    void = BallotVoid(ballot_id=ballot.id, reason=reason, voided_by_id=actor.id)
    db.session.add(void)
    db.session.flush()
    audit.record("void_ballot", void, audit.snapshot(ballot), actor_id=actor.id)
    return void


def follows_majority(vote: Vote) -> bool:
    """Whether the area's 议事规则, as announced with the vote, count owners who did not
    vote with the majority."""
    return bool((vote.rules or {}).get(NON_VOTERS))


def told_homes(vote: Vote) -> set[int]:
    """Homes told of the vote: its announcement or opening notice was opened there, read
    to them at the door or by phone, or acknowledged (``NoticeRead``)."""
    from ..notices.models import Notice, NoticeRead

    return set(
        db.session.scalars(
            select(NoticeRead.household_id)
            .join(Notice, Notice.id == NoticeRead.notice_id)
            .where(
                Notice.source.in_([f"vote-announce:{vote.id}", f"vote:{vote.id}"])
                | Notice.source.like(f"vote-announce:{vote.id}:%")
                | Notice.source.like(f"vote:{vote.id}:%")
            )
        )
    )


def casts(vote: Vote) -> list[Cast]:
    """Each elector's counted choice, and whether one of their homes was told of the vote."""
    latest = latest_ballots(vote)
    electors = db.session.scalars(
        select(Elector).where(Elector.vote_id == vote.id).options(selectinload(Elector.homes))
    ).all()
    told = told_homes(vote) if follows_majority(vote) else set()
    return [
        Cast(
            e.area_dm2,
            latest[e.id].choice if e.id in latest else None,
            notified=any(h.household_id in told for h in e.homes),
        )
        for e in electors
    ]


def tally(vote: Vote) -> Tally:
    """The live count; once closed, the count frozen on the vote (whoever is told of it
    afterwards changes nothing)."""
    if vote.status == VoteStatus.CLOSED and vote.result is not None:
        return from_record(vote.result)
    return count(casts(vote), vote.special, follows_majority(vote))


def certain_outcome(vote: Vote) -> bool | None:
    """The result the remaining electors can no longer change, or None while they can."""
    return outcome(casts(vote), vote.special)


@dataclass
class HomeLine:
    room: str
    household_id: int
    unit_id: int
    choice: str | None
    channel: str | None
    # Whether the unit's representative may enter the home's paper ballot: its owner is
    # recorded and has no account of their own (else the owner votes online, or the
    # committee enters the ballot; see ``paper_refusal``).
    by_rep: bool = True
    ballot_id: int | None = None  # the ballot that counts, if any


def homes(vote: Vote) -> list[HomeLine]:
    """Every home of the electorate with its owner's counted choice (no names)."""
    latest = latest_ballots(vote)
    rows = db.session.execute(
        select(ElectorHome, Elector, Household, Unit, Building, Compound)
        .join(Elector, Elector.id == ElectorHome.elector_id)
        .join(Household, Household.id == ElectorHome.household_id)
        .join(Unit, Unit.id == Household.unit_id)
        .join(Building, Building.id == Unit.building_id)
        .join(Compound, Compound.id == Building.compound_id)
        .where(ElectorHome.vote_id == vote.id)
        .order_by(Compound.name, Building.sort_key, Unit.sort_key, Household.sort_key)
    ).all()
    lines = []
    for eh, elector, home, unit, building, compound in rows:
        ballot = latest.get(eh.elector_id)
        lines.append(
            HomeLine(
                room(unit, building, compound, home),
                home.id,
                unit.id,
                ballot.choice if ballot else None,
                ballot.channel if ballot else None,
                by_rep=elector.user_id is None and _has_owner(elector),
                ballot_id=ballot.id if ballot else None,
            )
        )
    return lines


def paper_homes(lines: list[HomeLine], runs: bool, p: Principal) -> list[HomeLine]:
    """The homes still to vote whose paper ballot the user may enter: any, for those who
    run the vote; for a representative, the homes of their units whose owner is recorded
    and has no account of their own."""
    return [
        line
        for line in lines
        if line.choice is None and (runs or (line.unit_id in p.rep_units and line.by_rep))
    ]


CLOSE_REASON_MAX = 500


def close_vote(vote: Vote, actor: User | None, reason: str = "") -> Tally:
    """Count and close. The tellers must be recorded (the result names them). Before the
    end date only when the outcome can no longer change, or with the reason why, which
    the result shows; ``actor`` None: the end date passed (``close_due``)."""
    if vote.status != VoteStatus.OPEN:
        raise RuleError(_("Only an open vote can be closed."))
    missing = tellers_missing(vote)
    if any(missing.values()):
        raise RuleError(
            _(
                "Record the tellers first: %(s)d more scrutineers and %(c)d more counters. "
                "The result names them.",
                s=missing[TellerRole.SCRUTINEER],
                c=missing[TellerRole.COUNTER],
            )
        )
    seated = []  # a teller may have joined the committee since being named
    for teller in tellers_of(vote):
        occupant = db.session.get(Occupant, teller.occupant_id) if teller.occupant_id else None
        if occupant is not None and on_the_committee(vote, occupant):
            seated.append(teller.name)
    if seated:
        raise RuleError(
            _(
                "%(names)s now sits on the committee and cannot count this vote: record "
                "another teller.",
                names="、".join(seated),
            )
        )
    reason = " ".join(reason.split())
    if len(reason) > CLOSE_REASON_MAX:
        raise RuleError(_("At most %(n)d characters.", n=CLOSE_REASON_MAX), "reason")
    early = clock.today() <= vote.closes_on
    if early and certain_outcome(vote) is None and not reason:
        raise RuleError(
            _(
                "Voting runs until %(date)s and the owners still to vote can change the "
                "outcome: say why the vote closes early.",
                date=f"{vote.closes_on:%Y-%m-%d}",
            ),
            "reason",
        )
    result = tally(vote)
    vote.status, vote.closed_at = VoteStatus.CLOSED, clock.now()
    vote.closed_by_id = actor.id if actor else None
    vote.result, vote.passed = result.as_record(), result.passed
    vote.close_reason = reason if early else ""
    db.session.flush()
    audit.record("close_vote", vote, actor_id=actor.id if actor else None)
    return result


def close_due(today: date | None = None) -> tuple[int, int]:
    """Close every open vote whose end date has passed (``flask votes close-due``, and the
    SMS worker's periodic step). A vote whose tellers are not all recorded (or one has
    joined the committee since) waits, its ballots already refused, for the committee to
    record them and close it. Returns how many closed and how many wait."""
    today = today or clock.today()
    due = db.session.scalars(
        select(Vote)
        .where(Vote.status == VoteStatus.OPEN, Vote.closes_on < today)
        .order_by(Vote.id)
        .with_for_update(skip_locked=True)
    ).all()
    closed = waiting = 0
    for vote in due:
        if any(tellers_missing(vote).values()):
            waiting += 1
            continue
        try:
            close_vote(vote, None)  # refuses before writing anything
        except RuleError:  # a teller has joined the committee: the committee names another
            waiting += 1
            continue
        closed += 1
    return closed, waiting


def votes_of(area_ids: Collection[int]) -> list[Vote]:
    return list(
        db.session.scalars(
            select(Vote).where(Vote.area_id.in_(area_ids)).order_by(Vote.id.desc()).limit(100)
        )
    )


def voter_votes(p: Principal) -> list[Vote]:
    """Votes whose electorate holds one of the user's homes, or a unit they represent."""
    homes = access.elector_homes(p)
    if homes is None:
        return []
    followed = (
        select(ElectorHome.vote_id)
        .join(Household, Household.id == ElectorHome.household_id)
        .where(homes)
    )
    return list(
        db.session.scalars(select(Vote).where(Vote.id.in_(followed)).order_by(Vote.id.desc()))
    )


def covers_area(vote: Vote) -> bool:
    """Whether the vote asked every owner of its area: put to the area, or to its only
    compound, and to all their homes (not a fund application's share of them)."""
    if vote.only_homes is not None:
        return False
    if vote.scope_kind == ScopeKind.AREA:
        return vote.scope_id == vote.area_id
    if vote.scope_kind != ScopeKind.COMPOUND:
        return False
    compounds = db.session.scalars(select(Compound.id).where(Compound.area_id == vote.area_id))
    return list(compounds) == [vote.scope_id]


def announced_for(p: Principal) -> list[Vote]:
    """Votes announced to a place holding one of the user's homes, or a unit they
    represent, and not yet open: what their 公告 told them is coming."""
    scopes = access.asked_scopes(p)
    if not scopes:
        return []
    places = or_(*(and_(Vote.scope_kind == kind, Vote.scope_id == ident) for kind, ident in scopes))
    compounds = [ident for kind, ident in scopes if kind == "compound"]
    chosen = Vote.id.in_(
        select(VoteCompound.vote_id).where(VoteCompound.compound_id.in_(compounds))
    )
    query = select(Vote).where(
        Vote.status == VoteStatus.DRAFT,
        Vote.announced_on.is_not(None),
        or_(places, and_(Vote.scope_kind == ScopeKind.COMPOUNDS, chosen)),
    )
    return list(db.session.scalars(query.order_by(Vote.opens_on, Vote.id)))


def not_voted_by_unit(lines: list[HomeLine]) -> dict[str, list[str]]:
    """Rooms still to visit, grouped by their stairwell."""
    found: dict[str, list[str]] = defaultdict(list)
    for line in lines:
        if line.choice is None:
            stairwell, _sep, room_ = line.room.rpartition("-")
            found[stairwell].append(room_)
    return dict(found)


def passed_votes(area_id: int) -> list[Vote]:
    """Closed votes of the area that passed: what a fee schedule or a milestone can cite."""
    return list(
        db.session.scalars(
            select(Vote)
            .where(
                Vote.area_id == area_id,
                Vote.status == VoteStatus.CLOSED,
                Vote.passed.is_(True),
            )
            .order_by(Vote.closed_at.desc())
        )
    )


def decided_by(area_id: int, vote_id: int | None) -> Vote | None:
    """The vote a decision cites, checked to be the area's and to have passed."""
    if vote_id is None:
        return None
    vote = db.session.get(Vote, vote_id)
    if vote is None or vote.area_id != area_id:
        raise RuleError(_("Choose one of this area's votes."), "vote_id")
    if vote.status != VoteStatus.CLOSED or not vote.passed:
        raise RuleError(_("Only a closed vote that passed can be cited."), "vote_id")
    return vote

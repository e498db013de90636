"""The vote procedure's cases for ``test_audit``: the subdistrict's vote rules, the area's
议事规则, announcing a vote, its tellers and a corrected paper ballot each write their
audit row."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select

from compound_app import clock
from compound_app.demo import rights_of
from compound_app.extensions import db
from compound_app.votes import procedure, service
from compound_app.votes.models import Ballot, BallotCorrection, Teller, Vote
from tests.audits.audit_oversight_votes import _jpeg
from tests.audits.test_audit import Changed, Post, case, changed, deleted, one
from tests.factories import World, first_unit, open_announced, record_tellers


def _draft(w: World) -> Vote:
    vote = service.create_vote(
        service.resolve_scope("unit", first_unit(w.branch).id),
        "manager",
        "选聘物业",
        "是否选聘",
        clock.today() + timedelta(days=30),
        w.users["committee"],
    )
    db.session.commit()
    return vote


@case("votes.vote_rules", "admin")
def _vote_rules(w: World, client: Any) -> Post:
    return Post(
        f"/votes/subdistricts/{w.subdistrict.id}/rules",
        {"announce_days": "20", "scrutineers": "2", "counters": "1"},
        lambda: [
            Changed(
                "vote_rules",
                w.subdistrict.id,
                {"announce_days": 20, "scrutineers": 2},
                "vote_rules",
            )
        ],
    )


@case("votes.assembly_rules", "committee")
def _assembly_rules(w: World, client: Any) -> Post:
    return Post(
        f"/votes/areas/{w.branch.area_id}/assembly-rules",
        {"non_voters_follow_majority": "y"},
        lambda: [
            Changed(
                "assembly_rules",
                w.branch.area_id,
                {"non_voters_follow_majority": True},
                "assembly_rules",
            )
        ],
    )


@case("votes.announce", "committee")
def _announce(w: World, client: Any) -> Post:
    vote = _draft(w)
    opens = clock.today() + timedelta(days=15)
    return Post(
        f"/votes/{vote.id}/announce",
        {"opens_on": opens.isoformat(), "closes_on": (opens + timedelta(days=10)).isoformat()},
        lambda: [changed(vote, "announce_vote", opens_on=opens.isoformat())],
    )


@case("votes.record_teller", "committee")
def _record_teller(w: World, client: Any) -> Post:
    vote = _draft(w)
    occupant_id, _label = procedure.teller_choices(vote)[0]
    return Post(
        f"/votes/{vote.id}/tellers",
        {"role": "counter", "occupant_id": str(occupant_id)},
        lambda: [changed(one(select(Teller)), "record_teller", role="counter")],
    )


@case("votes.remove_teller", "committee")
def _remove_teller(w: World, client: Any) -> Post:
    vote = _draft(w)
    (teller, *_rest) = record_tellers(vote, w.users["committee"])
    db.session.commit()
    teller_id, role = teller.id, teller.role
    return Post(
        f"/votes/tellers/{teller_id}/remove",
        {},
        lambda: [deleted("teller", teller_id, "remove_teller", role=role)],
    )


@case("votes.correct", "committee")
def _correct(w: World, client: Any) -> Post:
    from tests.votes.test_votes import Upload

    vote = _draft(w)
    open_announced(vote, w.users["committee"])
    rep = w.users["rep"]
    home = first_unit(w.branch).households[1]
    wrong = service.enter_paper(vote, home.id, "no", Upload(), rep, rights_of(rep))
    db.session.commit()
    return Post(
        f"/votes/{vote.id}/correct",
        {"ballot_id": str(wrong.id), "choice": "yes", "reason": "勾错了", "photo": _jpeg()},
        lambda: [
            changed(one(select(BallotCorrection)), "correct_ballot", reason="勾错了"),
            changed(one(select(Ballot).where(Ballot.id != wrong.id)), "paper_ballot", choice="yes"),
        ],
    )

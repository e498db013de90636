"""The oversight and vote routes' cases for ``test_audit``: stages, certifications,
thresholds, votes, ballots and consultations each write their audit row."""

from __future__ import annotations

import io
from typing import Any

from PIL import Image
from sqlalchemy import select

from compound_app import clock
from compound_app.extensions import db
from compound_app.oversight import pilots
from compound_app.oversight.models import Certification, Milestone
from compound_app.registry.models import Pilot
from compound_app.votes import consultations, service
from compound_app.votes.models import Answer, Ballot, Consultation, Vote
from tests.audits.test_audit import Post, case, changed, one
from tests.factories import World, announced_ago, first_unit, open_announced, record_tellers


def _pilot(w: World) -> Pilot:
    pilot = pilots.select_pilot(w.unmanaged, "contiguous", clock.today(), w.users["admin"])
    db.session.commit()
    return pilot


@case("oversight.select_pilot", "admin")
def _select(w: World, client: Any) -> Post:
    return Post(
        "/oversight/pilots",
        {
            "compound_id": w.unmanaged.id,
            "model": "contiguous",
            "selected_on": clock.today().isoformat(),
        },
        lambda: [
            changed(
                one(select(Pilot)), "select_pilot", compound_id=w.unmanaged.id, model="contiguous"
            )
        ],
    )


@case("oversight.stage", "staff")
def _stage(w: World, client: Any) -> Post:
    pilot = _pilot(w)
    return Post(
        f"/oversight/pilots/{pilot.id}/stage",
        {"to": "consulting", "on": clock.today().isoformat(), "note": "入户征求意见"},
        lambda: [changed(pilot, "pilot_stage", stage="consulting")],
    )


@case("oversight.plan", "staff")
def _plan(w: World, client: Any) -> Post:
    pilot = _pilot(w)
    return Post(
        f"/oversight/pilots/{pilot.id}/plan",
        {
            "model": "party_branch",
            "organisation": "branch",
            "service_scope": "保洁、秩序维护",
            "fee_note": "每户每月10元",
        },
        lambda: [changed(pilot, "pilot_plan", model="party_branch", fee_note="每户每月10元")],
    )


@case("oversight.add_milestone", "staff")
def _milestone(w: World, client: Any) -> Post:
    pilot = _pilot(w)
    return Post(
        f"/oversight/pilots/{pilot.id}/milestones",
        {"title": "成立物管会", "due_on": clock.today().isoformat()},
        lambda: [changed(one(select(Milestone)), "add_milestone", title="成立物管会")],
    )


@case("oversight.milestone_done", "staff")
def _milestone_done(w: World, client: Any) -> Post:
    pilot = _pilot(w)
    milestone = pilots.add_milestone(pilot, "成立物管会", clock.today())
    db.session.commit()
    return Post(
        f"/oversight/milestones/{milestone.id}/done",
        {"done_on": clock.today().isoformat(), "note": "选举产生", "vote_id": ""},
        lambda: [changed(milestone, "complete_milestone", done_on=clock.today().isoformat())],
    )


@case("oversight.certify", "staff")
def _certify(w: World, client: Any) -> Post:
    pilot = _pilot(w)
    return Post(
        f"/oversight/compounds/{w.unmanaged.id}/certify",
        {"on": clock.today().isoformat(), "override_reason": "街道研究同意"},
        lambda: [
            changed(one(select(Certification)), "certify_pilot", passed=False),
            changed(pilot, "pilot_stage", stage="self_governing"),
        ],
    )


@case("oversight.settings", "admin")
def _settings(w: World, client: Any) -> Post:
    from tests.audits.test_audit import Changed

    return Post(
        f"/oversight/subdistricts/{w.subdistrict.id}/settings",
        {
            "rep_coverage_pct": "95",
            "collection_pct": "85",
            "repairs_in_target_pct": "75",
            "window_months": "3",
            "overdue_rule": "y",
            "overdue_days": "20",
            "min_publicity_days": "10",
        },
        lambda: [
            Changed(
                "oversight_settings",
                w.subdistrict.id,
                {
                    "collection_pct": 85,
                    "window_months": 3,
                    "overdue_rule": True,
                    "overdue_days": 20,
                    "min_publicity_days": 10,
                },
                "oversight_settings",
            )
        ],
    )


# --- votes ------------------------------------------------------------------------------------


def _vote(w: World, *, opened: bool = True) -> Vote:
    vote = service.create_vote(
        service.resolve_scope("unit", first_unit(w.branch).id),
        "manager",
        "选聘物业",
        "是否选聘",
        clock.today(),
        w.users["committee"],
    )
    if opened:
        open_announced(vote, w.users["committee"])
    else:
        announced_ago(vote, w.users["committee"])
    db.session.commit()
    return vote


@case("votes.new_vote", "committee")
def _new_vote(w: World, client: Any) -> Post:
    unit = first_unit(w.branch)
    return Post(
        f"/votes/areas/{w.branch.area_id}/new",
        {
            "scope": f"unit:{unit.id}",
            "matter": "use_fund",
            "title": "更换楼道灯",
            "text": "使用维修资金",
            "closes_on": clock.today().isoformat(),
        },
        lambda: [changed(one(select(Vote)), "create_vote", matter="use_fund", status="draft")],
    )


@case("votes.open_vote", "committee")
def _open_vote(w: World, client: Any) -> Post:
    vote = _vote(w, opened=False)
    return Post(
        f"/votes/{vote.id}/open",
        {},
        lambda: [changed(vote, "open_vote", status="open", total_heads=2)],
    )


@case("votes.close_vote", "committee")
def _close_vote(w: World, client: Any) -> Post:
    vote = _vote(w)
    record_tellers(vote, w.users["committee"])
    db.session.commit()
    return Post(
        f"/votes/{vote.id}/close",
        {"reason": "业主大会决定提前计票"},
        lambda: [changed(vote, "close_vote", status="closed", passed=False)],
    )


@case("votes.ballot", "resident")
def _ballot(w: World, client: Any) -> Post:
    vote = _vote(w)
    return Post(
        f"/votes/{vote.id}/ballot",
        {"choice": "yes"},
        lambda: [changed(one(select(Ballot)), "ballot", choice="yes", channel="online")],
    )


class Replayable(io.BytesIO):
    """A file the same case can send again: each request reads it from the start."""

    finished = False

    def read(self, size: int | None = -1) -> bytes:
        if self.finished:
            self.seek(0)
            self.finished = False
        data = super().read(size)
        self.finished = not data
        return data

    def close(self) -> None:  # the test client closes what it sent
        self.seek(0)
        self.finished = False


def _jpeg() -> tuple[io.BytesIO, str]:
    data = Replayable()
    Image.new("RGB", (40, 60), "white").save(data, "JPEG")
    data.seek(0)
    return data, "ballot.jpg"


@case("votes.paper", "rep")
def _paper(w: World, client: Any) -> Post:
    vote = _vote(w)
    home = first_unit(w.branch).households[1]
    return Post(
        f"/votes/{vote.id}/paper",
        {"household_id": home.id, "choice": "no", "photo": _jpeg()},
        lambda: [changed(one(select(Ballot)), "paper_ballot", choice="no", channel="paper")],
    )


@case("votes.void_ballot", "committee")
def _void_ballot(w: World, client: Any) -> Post:
    from compound_app.demo import rights_of
    from compound_app.votes.models import BallotVoid
    from tests.votes.test_votes import Upload

    vote = _vote(w)
    home = first_unit(w.branch).households[1]
    rep = w.users["rep"]  # the representative entered it; the chair voids it
    ballot = service.enter_paper(vote, home.id, "no", Upload(), rep, rights_of(rep))
    db.session.commit()
    return Post(
        f"/votes/ballots/{ballot.id}/void",
        {"reason": "录错了户"},
        lambda: [changed(one(select(BallotVoid)), "void_ballot", reason="录错了户")],
    )


def _consultation(w: World) -> Consultation:
    found = consultations.create_consultation(
        service.resolve_scope("compound", w.branch.id),
        "收费标准",
        "每户每月10元",
        ["同意", "不同意"],
        clock.today(),
        w.users["committee"],
    )
    db.session.commit()
    return found


@case("votes.new_consultation", "committee")
def _new_consultation(w: World, client: Any) -> Post:
    return Post(
        f"/votes/areas/{w.branch.area_id}/consultations/new",
        {
            "scope": f"compound:{w.branch.id}",
            "title": "服务范围",
            "text": "保洁、秩序维护",
            "options": "同意\n不同意",
            "closes_on": clock.today().isoformat(),
        },
        lambda: [changed(one(select(Consultation)), "create_consultation", title="服务范围")],
    )


@case("votes.answer", "resident")
def _answer(w: World, client: Any) -> Post:
    found = _consultation(w)
    home = first_unit(w.branch).households[0]
    return Post(
        f"/votes/consultations/{found.id}/answer",
        {"household_id": home.id, "option": "同意", "comment": "支持", "resident_name": ""},
        lambda: [changed(one(select(Answer)), "answer", option="同意", household_id=home.id)],
    )


@case("votes.close_consultation", "committee")
def _close_consultation(w: World, client: Any) -> Post:
    found = _consultation(w)
    return Post(
        f"/votes/consultations/{found.id}/close",
        {},
        lambda: [changed(found, "close_consultation", closed=True)],
    )

"""The vote procedure: the announcement and its period, opening and the end date on the
clock, closing early, tellers, corrected paper ballots, the 议事规则's non-voters rule,
and votes of chosen compounds."""

from __future__ import annotations

import itertools
from datetime import datetime, time, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from compound_app import access, clock
from compound_app.errors import RuleError
from compound_app.extensions import db
from compound_app.messages.models import Message
from compound_app.notices import service as notices
from compound_app.notices.models import Notice
from compound_app.registry import roster
from compound_app.registry.models import Occupant, Relation
from compound_app.votes import procedure, service
from compound_app.votes.models import Ballot, BallotCorrection, BallotVoid, Vote, VoteStatus
from compound_app.votes.tally import NON_VOTERS, Cast, count, outcome
from tests.factories import (
    World,
    announced_ago,
    close_counted,
    first_unit,
    mobile,
    open_announced,
    record_tellers,
)
from tests.votes.test_votes import Upload


@pytest.fixture(autouse=True)
def request_context(app):  # type: ignore[no-untyped-def]
    """Refusals speak the user's language, as they would on a page."""
    with app.test_request_context():
        yield


def _at(day: Any) -> datetime:
    """Ten in the morning of ``day`` on the compounds' clock."""
    return datetime.combine(day, time(10, 0), tzinfo=clock.LOCAL_TZ)


def _draft(world: World, closes_in: int = 30, scope: Any = None) -> Vote:
    vote = service.create_vote(
        scope or service.resolve_scope("unit", first_unit(world.branch).id),
        "manager",
        "选聘物业",
        "是否选聘某物业公司",
        clock.today() + timedelta(days=closes_in),
        world.users["committee"],
    )
    db.session.commit()
    return vote


def _refused(match: str, change: Any) -> None:
    with pytest.raises(RuleError, match=match):
        change()
    db.session.rollback()


# --- the announcement and its period ----------------------------------------------------------


def test_a_vote_opens_no_earlier_than_fifteen_days_after_its_announcement(
    world: World, held_clock: Any
) -> None:
    chair = world.users["committee"]
    day = clock.today()
    held_clock.now = _at(day)
    vote = _draft(world)
    _refused("先公告", lambda: service.open_vote(vote, chair))
    _refused(
        "最早",
        lambda: procedure.announce(vote, day + timedelta(days=14), day + timedelta(days=20), chair),
    )
    _refused(
        "不能早于",
        lambda: procedure.announce(vote, day + timedelta(days=16), day + timedelta(days=15), chair),
    )
    assert vote.announced_on is None
    procedure.announce(vote, day + timedelta(days=15), day + timedelta(days=29), chair)
    db.session.commit()
    assert (vote.announced_on, vote.opens_on, vote.closes_on) == (
        day,
        day + timedelta(days=15),
        day + timedelta(days=29),
    )
    assert vote.rules == {NON_VOTERS: False, "scrutineers": 1, "counters": 1}
    _refused(
        "已经公告",
        lambda: procedure.announce(vote, day + timedelta(days=20), day + timedelta(days=29), chair),
    )
    # The 公告 is posted to the vote's homes, and the community's staff are told.
    posted = db.session.scalars(
        select(Notice).where(Notice.source == f"vote-announce:{vote.id}")
    ).one()
    text = "\n".join(posted.body)
    assert "过半数" in text and f"{day + timedelta(days=15):%Y-%m-%d}" in text
    assert posted.unit_id == first_unit(world.branch).id
    staff = db.session.scalars(
        select(Message).where(Message.user_id == world.users["staff"].id)
    ).all()
    assert [m.dedupe_key for m in staff] == [f"vote-announce:{vote.id}"]
    # Day 14 after the announcement: not yet. Day 15: it opens.
    held_clock.now = _at(day + timedelta(days=14))
    _refused("公告期未满", lambda: service.open_vote(vote, chair))
    assert vote.status == VoteStatus.DRAFT
    held_clock.now = _at(day + timedelta(days=15))
    assert service.open_vote(vote, chair) == 2
    db.session.commit()
    assert vote.status == VoteStatus.OPEN


def test_the_subdistrict_sets_the_period_and_the_number_of_tellers(
    world: World, login_as: Any
) -> None:
    admin, staff = login_as(world.users["admin"]), login_as(world.users["staff"])
    url = f"/votes/subdistricts/{world.subdistrict.id}/rules"
    assert staff.get(url).status_code == 404
    page = admin.get(url).get_data(as_text=True)
    assert 'value="15"' in page  # the defaults, not saved by reading
    assert db.session.scalar(select(func.count()).select_from(service.VoteRules)) == 0
    bad = {"announce_days": "91", "scrutineers": "1", "counters": "1"}
    assert admin.post(url, data=bad).status_code == 422
    assert (
        admin.post(url, data={**bad, "scrutineers": "0", "announce_days": "7"}).status_code == 422
    )
    good = {"announce_days": "7", "scrutineers": "2", "counters": "1"}
    assert admin.post(url, data=good).status_code == 303
    rules = service.vote_rules(world.subdistrict.id)
    assert (rules.announce_days, rules.scrutineers, rules.counters) == (7, 2, 1)
    vote = _draft(world)
    assert procedure.earliest_opening(vote) == clock.today() + timedelta(days=7)
    assert service.tellers_missing(vote) == {"scrutineer": 2, "counter": 1}
    # Once announced, the vote keeps the numbers its announcement stated.
    announced_ago(vote, world.users["committee"])
    db.session.commit()
    assert admin.post(url, data={**good, "scrutineers": "3", "counters": "3"}).status_code == 303
    assert service.tellers_missing(vote) == {"scrutineer": 2, "counter": 1}
    assert service.tellers_missing(_draft(world)) == {"scrutineer": 3, "counter": 3}
    # The oversight settings page leads there, for the admin.
    settings_page = admin.get(f"/oversight/subdistricts/{world.subdistrict.id}/settings")
    assert url in settings_page.get_data(as_text=True)


def test_an_announced_vote_is_seen_by_the_homes_of_its_scope(world: World, login_as: Any) -> None:
    vote = _draft(world)
    owner = login_as(world.users["resident"])
    assert owner.get(f"/votes/{vote.id}").status_code == 404  # a draft
    announced_ago(vote, world.users["committee"])
    db.session.commit()
    page = owner.get(f"/votes/{vote.id}").get_data(as_text=True)
    assert "公告" in page and "议事规则" in page
    assert f'action="/votes/{vote.id}/open"' not in page  # the button is the committee's
    assert login_as(world.users["tenant"]).get(f"/votes/{vote.id}").status_code == 404
    # The owner's list of votes shows it coming, with its dates; the tenant's does not.
    listed = owner.get("/votes/").get_data(as_text=True)
    assert f'href="/votes/{vote.id}"' in listed and "已公告" in listed
    tenant_list = login_as(world.users["tenant"]).get("/votes/").get_data(as_text=True)
    assert f'href="/votes/{vote.id}"' not in tenant_list


# --- the end date, on the clock ---------------------------------------------------------------


def test_the_job_closes_votes_past_their_end_date(world: World, app: Any, held_clock: Any) -> None:
    chair = world.users["committee"]
    day = clock.today()
    held_clock.now = _at(day)
    waiting = _draft(world, closes_in=3)
    closing = _draft(world, closes_in=3)
    for vote in (waiting, closing):
        open_announced(vote, chair)
    service.cast_online(closing, world.users["resident"], "yes")
    record_tellers(closing, chair)
    db.session.commit()
    # On the end date the vote still runs; the next day the job counts and closes it.
    held_clock.now = _at(day + timedelta(days=3))
    assert service.close_due() == (0, 0)
    held_clock.now = _at(day + timedelta(days=4))
    result = app.test_cli_runner().invoke(args=["votes", "close-due"])
    assert result.exit_code == 0, result.output
    assert "1 votes closed, 1 waiting for their tellers" in result.output
    db.session.expire_all()
    closed = db.session.get(Vote, closing.id)
    assert closed.status == VoteStatus.CLOSED and closed.closed_by_id is None
    assert closed.close_reason == "" and closed.result["heads"]["yes"] == 1
    # Without its tellers the other waits: no ballot goes in, and the committee closes
    # it once they are recorded (past its end date: no reason needed).
    late = db.session.get(Vote, waiting.id)
    assert late.status == VoteStatus.OPEN
    _refused("截止", lambda: service.cast_online(late, world.users["resident"], "yes"))
    _refused("监票人", lambda: service.close_vote(late, chair))
    record_tellers(late, chair)
    service.close_vote(late, chair)
    db.session.commit()
    assert late.status == VoteStatus.CLOSED


def test_the_workers_periodic_step_closes_votes_too(world: World, held_clock: Any) -> None:
    from compound_app.messages.cli import _close_votes

    vote = _draft(world, closes_in=0)
    open_announced(vote, world.users["committee"])
    record_tellers(vote, world.users["committee"])
    db.session.commit()
    held_clock.now = _at(clock.today() + timedelta(days=1))
    _close_votes()
    db.session.expire_all()
    assert db.session.get(Vote, vote.id).status == VoteStatus.CLOSED


def test_reading_an_overdue_vote_writes_nothing(
    world: World, login_as: Any, held_clock: Any
) -> None:
    vote = _draft(world, closes_in=0)
    open_announced(vote, world.users["committee"])
    db.session.commit()
    held_clock.now = _at(clock.today() + timedelta(days=2))
    page = login_as(world.users["committee"]).get(f"/votes/{vote.id}").get_data(as_text=True)
    assert "投票已于" in page and "截止" in page
    db.session.expire_all()
    assert db.session.get(Vote, vote.id).status == VoteStatus.OPEN


def test_closing_early_needs_the_outcome_settled_or_a_reason(world: World, login_as: Any) -> None:
    chair = world.users["committee"]
    unit = first_unit(world.branch)
    vote = _draft(world)
    open_announced(vote, chair)
    db.session.commit()
    _refused("监票人", lambda: service.close_vote(vote, chair, "提前"))
    record_tellers(vote, chair)
    service.cast_online(vote, world.users["resident"], "yes")
    db.session.commit()
    # One of two owners voted: the other can still decide it.
    assert service.certain_outcome(vote) is None
    _refused("说明提前结束的原因", lambda: service.close_vote(vote, chair))
    _refused("500", lambda: service.close_vote(vote, chair, "理" * 501))
    # The second owner votes yes on paper: passed whatever happens now.
    service.enter_paper(
        vote, unit.households[1].id, "yes", Upload(), chair, access.load_principal(chair)
    )
    assert service.certain_outcome(vote) is True
    client = login_as(chair)
    assert "已无法改变结果" in client.get(f"/votes/{vote.id}").get_data(as_text=True)
    assert client.post(f"/votes/{vote.id}/close").status_code == 303
    db.session.expire_all()
    assert db.session.get(Vote, vote.id).passed is True


def test_an_early_close_with_a_reason_shows_it_on_the_result(world: World, login_as: Any) -> None:
    chair = world.users["committee"]
    vote = _draft(world)
    open_announced(vote, chair)
    db.session.commit()
    close_counted(vote, chair, "业主大会决定提前计票")
    db.session.commit()
    assert vote.close_reason == "业主大会决定提前计票"
    notice = login_as(chair).get(f"/votes/{vote.id}/notice").get_data(as_text=True)
    assert "提前结束原因：业主大会决定提前计票" in notice
    tellers = service.tellers_of(vote)
    assert "监票、计票：" + "、".join(t.name for t in tellers) in notice


# --- tellers ----------------------------------------------------------------------------------


def test_tellers_are_owners_of_the_vote_who_sit_on_no_committee(
    world: World, login_as: Any
) -> None:
    chair = world.users["committee"]
    unit = first_unit(world.branch)
    vote = _draft(world)
    owners = dict(procedure.teller_choices(vote))
    assert len(owners) == 2 and all("新国土小区-1号楼-1单元" in v for v in owners.values())
    # The chair owns a home of the stairwell too (recorded by mobile, no linked account).
    third = roster.add_household(unit, "301", 8000, "owner_occupied")
    db.session.flush()
    chair_record = roster.add_occupant(third, chair.name, chair.mobile, Relation.OWNER)
    tenant = roster.add_occupant(third, "钱桂兰", None, Relation.TENANT)
    db.session.commit()
    _refused(
        "物管会成员不能",
        lambda: procedure.record_teller(vote, "scrutineer", chair_record.id, chair),
    )
    _refused("参加本次表决", lambda: procedure.record_teller(vote, "scrutineer", tenant.id, chair))
    other = world.objects_of(world.elsewhere)["occupant"]
    _refused("参加本次表决", lambda: procedure.record_teller(vote, "scrutineer", other.id, chair))
    _refused(
        "监票人或计票人",
        lambda: procedure.record_teller(vote, "chair", unit.households[0].occupants[0].id, chair),
    )
    first, second = unit.households[0].occupants[0], unit.households[1].occupants[0]
    procedure.record_teller(vote, "scrutineer", first.id, chair)
    db.session.commit()
    _refused("已是", lambda: procedure.record_teller(vote, "counter", first.id, chair))
    _refused("已有1人", lambda: procedure.record_teller(vote, "scrutineer", second.id, chair))
    teller = procedure.record_teller(vote, "counter", second.id, chair)
    db.session.commit()
    assert (teller.name, teller.home) == (
        second.name,
        f"新国土小区-1号楼-1单元-{unit.households[1].room}",
    )
    # Only those who run the vote record and remove them.
    rep = login_as(world.users["rep"])
    assert rep.post(f"/votes/tellers/{teller.id}/remove").status_code == 404
    assert (
        rep.post(
            f"/votes/{vote.id}/tellers", data={"role": "counter", "occupant_id": second.id}
        ).status_code
        == 404
    )
    committee = login_as(chair)
    assert committee.post(f"/votes/tellers/{teller.id}/remove").status_code == 303
    assert service.tellers_missing(vote) == {"scrutineer": 0, "counter": 1}
    refused = committee.post(
        f"/votes/{vote.id}/tellers", data={"role": "counter", "occupant_id": chair_record.id}
    )
    assert refused.status_code == 422 and "物管会成员不能" in refused.get_data(as_text=True)
    # Once closed, the tellers stand as the result names them.
    open_announced(vote, chair)
    close_counted(vote, chair)
    db.session.commit()
    _refused("已结束", lambda: procedure.remove_teller(service.tellers_of(vote)[0], chair))


def test_a_teller_who_moves_out_stays_named_on_the_vote(world: World) -> None:
    chair = world.users["committee"]
    vote = _draft(world)
    home = first_unit(world.branch).households[1]
    owner = home.occupants[0]
    teller = procedure.record_teller(vote, "scrutineer", owner.id, chair)
    db.session.commit()
    roster.add_occupant(home, "新业主", None, Relation.OWNER)  # the home keeps an owner
    db.session.commit()
    roster.remove_occupant(owner)
    db.session.commit()
    db.session.expire_all()
    assert teller.occupant_id is None and teller.name == owner.name
    assert [t.name for t in service.tellers_of(vote)] == [owner.name]


# --- correcting a paper ballot ----------------------------------------------------------------


def test_a_second_person_corrects_a_paper_ballot_and_it_counts_once(world: World) -> None:
    chair, rep = world.users["committee"], world.users["rep"]
    rep_p, chair_p = access.load_principal(rep), access.load_principal(chair)
    unit = first_unit(world.branch)
    vote = _draft(world)
    open_announced(vote, chair)
    home = unit.households[1]
    wrong = service.enter_paper(vote, home.id, "no", Upload(), rep, rep_p)
    online = service.cast_online(vote, world.users["resident"], "yes")
    db.session.commit()
    # Whoever entered it cannot correct it alone; an online ballot is the owner's own.
    _refused(
        "另一人", lambda: procedure.correct_paper(wrong, "yes", "勾错了", Upload(), rep, rep_p)
    )
    _refused(
        "网上表决由业主本人",
        lambda: procedure.correct_paper(online, "no", "x", Upload(), chair, chair_p),
    )
    _refused("录错", lambda: procedure.correct_paper(wrong, "yes", "  ", Upload(), chair, chair_p))
    _refused(
        "同意、不同意或弃权",
        lambda: procedure.correct_paper(wrong, "maybe", "勾错了", Upload(), chair, chair_p),
    )
    assert db.session.scalar(select(func.count(BallotCorrection.id))) == 0
    correction = procedure.correct_paper(wrong, "yes", "勾错了", Upload(), chair, chair_p)
    db.session.commit()
    # Both ballots stay; the elector counts once, with the correction.
    assert (
        db.session.scalar(
            select(func.count(Ballot.id)).where(Ballot.elector_id == wrong.elector_id)
        )
        == 2
    )
    assert correction.new_ballot.photo and correction.new_ballot.entered_by_id == chair.id
    tally = service.tally(vote)
    assert tally.heads == {"yes": 2, "no": 0, "abstain": 0}
    # The superseded ballot is neither corrected again nor voided.
    _refused(
        "当前计票",
        lambda: procedure.correct_paper(
            wrong,
            "abstain",
            "再改",
            Upload(),
            world.users["staff"],
            access.load_principal(world.users["staff"]),
        ),
    )
    _refused("已更正", lambda: service.void_paper(wrong, "作废", chair, chair_p))
    # Voiding the correction leaves the home without a counted ballot.
    staff = world.users["staff"]
    service.void_paper(correction.new_ballot, "照片不清", staff, access.load_principal(staff))
    db.session.commit()
    assert service.tally(vote).heads == {"yes": 1, "no": 0, "abstain": 0}
    assert db.session.scalar(select(func.count(BallotVoid.id))) == 1


def test_the_correction_form_on_the_vote_page(world: World, login_as: Any) -> None:
    from tests.votes.test_votes import _jpeg

    chair, rep = world.users["committee"], world.users["rep"]
    vote = _draft(world)
    open_announced(vote, chair)
    home = first_unit(world.branch).households[1]
    wrong = service.enter_paper(vote, home.id, "no", Upload(), rep, access.load_principal(rep))
    db.session.commit()
    client = login_as(chair)
    assert "更正纸质表决票" in client.get(f"/votes/{vote.id}").get_data(as_text=True)
    form = {"ballot_id": wrong.id, "choice": "yes", "reason": "勾错了"}
    no_photo = client.post(f"/votes/{vote.id}/correct", data=form)
    assert no_photo.status_code == 422
    done = client.post(
        f"/votes/{vote.id}/correct",
        data={**form, "photo": (_jpeg(), "b.jpg")},
        content_type="multipart/form-data",
    )
    assert done.status_code == 303
    other = _draft(world)
    open_announced(other, chair)
    db.session.commit()
    stray = client.post(
        f"/votes/{other.id}/correct",
        data={**form, "photo": (_jpeg(), "b.jpg")},
        content_type="multipart/form-data",
    )
    assert stray.status_code == 422  # not that vote's ballot
    assert db.session.scalar(select(func.count(BallotCorrection.id))) == 1


# --- the 议事规则: non-voters counted with the majority ---------------------------------------


def test_the_non_voters_rule_applies_as_announced_and_to_those_told_only(
    world: World, login_as: Any
) -> None:
    chair, staff = world.users["committee"], world.users["staff"]
    area = world.branch.area
    unit = first_unit(world.branch)
    third = roster.add_household(unit, "301", 9000, "owner_occupied")
    db.session.flush()
    roster.add_occupant(third, "钱桂兰", None, Relation.OWNER)
    client = login_as(chair)
    assert (
        client.post(
            f"/votes/areas/{area.id}/assembly-rules", data={"non_voters_follow_majority": "y"}
        ).status_code
        == 303
    )
    ruled = _draft(world)
    open_announced(ruled, chair)
    # A change afterwards does not reach the vote announced already.
    procedure.save_assembly_rules(area, False)
    db.session.commit()
    assert service.follows_majority(ruled)
    unruled = _draft(world)
    open_announced(unruled, chair)
    db.session.commit()
    assert not service.follows_majority(unruled)
    for vote in (ruled, unruled):
        service.cast_online(vote, world.users["resident"], "yes")
    # Home 201 was told of the ruled vote at the door; 301 was not.
    announcement = db.session.scalars(
        select(Notice).where(Notice.source == f"vote-announce:{ruled.id}")
    ).one()
    notices.tell(
        announcement, unit.households[1].id, "in_person", staff, access.load_principal(staff)
    )
    db.session.commit()
    tally = service.tally(ruled)
    assert tally.rules == (NON_VOTERS,)
    assert tally.heads == {"yes": 2, "no": 0, "abstain": 0} and tally.joined_heads == {"yes": 1}
    assert tally.voted_heads == 2 and tally.total_heads == 3
    assert service.tally(unruled).heads == {"yes": 1, "no": 0, "abstain": 0}
    page = client.get(f"/votes/{ruled.id}").get_data(as_text=True)
    assert "计入已表决的多数票" in page and "其中1户未投票" in page
    close_counted(ruled, chair)
    db.session.commit()
    assert ruled.result["rules"] == [NON_VOTERS] and ruled.result["joined_heads"] == {"yes": 1}
    notice = client.get(f"/votes/{ruled.id}/notice").get_data(as_text=True)
    assert "按本区域议事规则计票" in notice
    # Told afterwards: the frozen result stands.
    notices.tell(announcement, third.id, "phone", staff, access.load_principal(staff))
    db.session.commit()
    assert service.tally(ruled).joined_heads == {"yes": 1}


def test_assembly_rules_are_the_committees_to_edit(world: World, login_as: Any) -> None:
    url = f"/votes/areas/{world.branch.area_id}/assembly-rules"
    assert login_as(world.users["rep"]).get(url).status_code in (403, 404)
    assert login_as(world.users["resident"]).post(
        url, data={"non_voters_follow_majority": "y"}
    ).status_code in (403, 404)
    assert login_as(world.users["committee"]).get(url).status_code == 200
    assert not procedure.assembly_rules(world.branch.area).non_voters_follow_majority


# --- the tally: the rule and the certain outcome ----------------------------------------------

CHOICES = ["yes", "no", "abstain", None]


def test_the_rule_counts_the_told_with_the_majority_on_each_measure() -> None:
    casts = [
        Cast(100, "yes"),
        Cast(100, "yes"),
        Cast(500, "no"),
        Cast(300, None, notified=True),
        Cast(300, None, notified=False),
    ]
    plain = count(casts, False)
    ruled = count(casts, False, non_voters_follow_majority=True)
    assert plain.rules == () and plain.joined_heads == {}
    # By area "no" holds the majority, by head "yes": the told owner goes both ways.
    assert ruled.joined_area == {"no": 300} and ruled.joined_heads == {"yes": 1}
    assert ruled.area == {"yes": 200, "no": 800, "abstain": 0}
    assert ruled.heads == {"yes": 3, "no": 1, "abstain": 0}
    # A tie holds no majority: nobody joins.
    tie = count([Cast(100, "yes"), Cast(100, "no"), Cast(100, None, True)], False, True)
    assert tie.joined_area == {} and tie.joined_heads == {}
    assert ruled.as_record()["rules"] == [NON_VOTERS]


CAST = st.builds(
    Cast, st.integers(1, 500), st.sampled_from(["yes", "no", "abstain", None]), st.booleans()
)


@settings(max_examples=300, deadline=None)
@given(casts=st.lists(CAST, min_size=1, max_size=7), special=st.booleans())
def test_a_certain_outcome_is_what_every_way_the_rest_could_vote_gives(
    casts: list[Cast], special: bool
) -> None:
    """Brute force over every choice of every elector still to vote (yes, no, abstain or
    nothing): without the rule "certain" is exact; with it, never wrong."""
    remaining = [i for i, c in enumerate(casts) if c.choice is None]
    results = {False: set(), True: set()}  # type: dict[bool, set[bool]]
    for choices in itertools.product(CHOICES, repeat=len(remaining)):
        done = list(casts)
        for i, choice in zip(remaining, choices, strict=True):
            done[i] = Cast(casts[i].area_dm2, choice, casts[i].notified)
        for rule in (False, True):
            results[rule].add(count(done, special, rule).passed)
    certain = outcome(casts, special)
    assert certain == (next(iter(results[False])) if len(results[False]) == 1 else None)
    if certain is not None:
        assert results[True] == {certain}


@settings(max_examples=200, deadline=None)
@given(casts=st.lists(CAST, min_size=1, max_size=12), special=st.booleans())
def test_the_rule_only_adds_the_told_who_did_not_vote(casts: list[Cast], special: bool) -> None:
    plain = count(casts, special)
    ruled = count(casts, special, non_voters_follow_majority=True)
    told = [c for c in casts if c.choice is None and c.notified]
    assert sum(ruled.joined_heads.values()) in (0, len(told))
    assert sum(ruled.joined_area.values()) in (0, sum(c.area_dm2 for c in told))
    assert ruled.voted_heads == plain.voted_heads + sum(ruled.joined_heads.values())
    assert ruled.voted_area == plain.voted_area + sum(ruled.joined_area.values())
    assert (ruled.total_area, ruled.total_heads) == (plain.total_area, plain.total_heads)
    # Joining the majority never turns it: whichever side held more than half still does.
    for measure, joined in ((ruled.area, ruled.joined_area), (ruled.heads, ruled.joined_heads)):
        for side in joined:
            assert 2 * measure[side] > sum(measure.values())
    if not told:
        assert ruled.passed == plain.passed


# --- chosen compounds -------------------------------------------------------------------------


def test_a_vote_of_chosen_compounds_of_a_contiguous_area(world: World, login_as: Any) -> None:
    area = world.contiguous_area
    one, two, three = world.contiguous
    chair = world.users["area_committee"]
    _refused("两个或以上", lambda: service.chosen_compounds(area, [one.id]))
    _refused("两个或以上", lambda: service.chosen_compounds(area, [one.id, world.branch.id]))
    scope = service.chosen_compounds(area, [two.id, one.id])
    assert scope.label == f"{one.name}、{two.name}"
    vote = service.create_vote(
        scope, "manager", "联合选聘物业", "是否联合选聘", clock.today(), chair
    )
    db.session.commit()
    assert vote.scope_kind == "compounds" and vote.scope_id == area.id
    assert [c.id for c in service.compounds_of(vote)] == [one.id, two.id]
    open_announced(vote, chair)
    db.session.commit()
    homes = {h.id for c in (one, two) for b in c.buildings for u in b.units for h in u.households}
    asked = set(
        db.session.scalars(
            select(service.ElectorHome.household_id).where(service.ElectorHome.vote_id == vote.id)
        )
    )
    assert asked == homes
    # Its notices go to each chosen compound, the third hears nothing.
    posted = db.session.scalars(
        select(Notice).where(Notice.source.like(f"vote%:{vote.id}:%"))
    ).all()
    assert sorted(n.compound_id for n in posted) == sorted([one.id, two.id] * 2)
    assert three.id not in {n.compound_id for n in db.session.scalars(select(Notice))}


def test_the_new_vote_form_puts_a_vote_to_chosen_compounds(world: World, login_as: Any) -> None:
    area = world.contiguous_area
    one, two, _three = world.contiguous
    client = login_as(world.users["area_committee"])
    url = f"/votes/areas/{area.id}/new"
    assert "选定小区" in client.get(url).get_data(as_text=True)
    data = {
        "scope": f"compounds:{area.id}",
        "matter": "manager",
        "title": "联合选聘物业",
        "text": "是否联合选聘",
        "closes_on": (clock.today() + timedelta(days=30)).isoformat(),
    }
    assert client.post(url, data={**data, "compounds": [one.id]}).status_code == 422
    assert (
        client.post(
            url,
            data={
                **data,
                "scope": f"compounds:{world.branch.area_id}",
                "compounds": [one.id, two.id],
            },
        ).status_code
        == 422
    )
    assert client.post(url, data={**data, "compounds": [one.id, two.id]}).status_code == 303
    vote = db.session.scalars(select(Vote)).one()
    assert vote.scope_label == f"{one.name}、{two.name}"


def test_a_teller_who_joins_the_committee_keeps_the_vote_from_closing(world: World) -> None:
    from compound_app.committees import service as committees
    from compound_app.committees.models import Background, Position

    chair = world.users["committee"]
    vote = _draft(world)
    open_announced(vote, chair)
    record_tellers(vote, chair)
    db.session.commit()
    teller = service.tellers_of(vote)[0]
    occupant = db.session.get(Occupant, teller.occupant_id)
    occupant.mobile = occupant.mobile or mobile()
    committees.add_member(
        committees.committee_for_area(vote.area_id),
        name=occupant.name,
        mobile=occupant.mobile,
        position=Position.MEMBER,
        background=Background.KEEN_RESIDENT,
        term_start=clock.today(),
        term_end=clock.today() + timedelta(days=700),
        actor=chair,
    )
    db.session.commit()
    _refused("物管会", lambda: service.close_vote(vote, chair, "开票"))
    later = clock.start_of_day(vote.closes_on + timedelta(days=1)) + timedelta(hours=1)
    with clock.held_at(later):
        assert service.close_due() == (0, 1)  # it waits for another teller
    db.session.rollback()
    assert db.session.get(Vote, vote.id).status == "open"

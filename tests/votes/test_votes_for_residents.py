"""What the walk-through with the demo personas found on the vote pages: a vote's status has
its own words (an open vote is 投票中, not a repair's 未完成), a tenant or family member is
told that owners alone vote wherever they meet a vote, and the page with two ballot forms
names each field once."""

from __future__ import annotations

import io
from typing import Any

import pytest
from PIL import Image
from sqlalchemy import func, select

from compound_app import clock
from compound_app.auth.models import Role
from compound_app.auth.service import grant
from compound_app.extensions import db
from compound_app.registry import roster
from compound_app.registry.models import Relation
from compound_app.votes import consultations, service
from compound_app.votes.models import Answer, Ballot, Vote
from tests.factories import (
    World,
    close_counted,
    first_household,
    first_unit,
    open_announced,
    user,
)
from tests.repairs.test_repairs_on_a_phone import assert_ids_name_their_fields
from tests.votes.test_votes import _rep_with_a_home

OWNERS_ONLY = "业主表决只由业主投票，租户和家属不参加。征求居民意见时，每户都可以参加。"


@pytest.fixture(autouse=True)
def request_context(app):  # type: ignore[no-untyped-def]
    """Refusals speak the user's language, as they would on a page."""
    with app.test_request_context():
        yield


def _text(response: Any) -> str:
    return response.get_data(as_text=True)


def _open(world: World, kind: str, scope: Any, runner: Any) -> Vote:
    vote = service.create_vote(
        service.resolve_scope(kind, scope.id),
        "use_fund",
        "更换楼道灯",
        "使用维修资金，更换为声控LED灯。",
        clock.today(),
        runner,
    )
    open_announced(vote, runner)
    db.session.commit()
    return vote


def _badge(html: str) -> str:
    start = html.index('<div class="pagehead">')
    return html[start : html.index("</div>", start)]


# --- a vote's own words ---------------------------------------------------------------------------


def test_a_vote_reads_draft_voting_now_and_voting_closed_never_a_repairs_unfinished(
    world: World, login_as: Any
) -> None:
    chair = world.users["committee"]
    vote = service.create_vote(
        service.resolve_scope("unit", first_unit(world.branch).id),
        "use_fund",
        "更换楼道灯",
        "使用维修资金，更换为声控LED灯。",
        clock.today(),
        chair,
    )
    db.session.commit()
    runs = login_as(chair)
    assert "草稿，尚未开始投票" in _badge(_text(runs.get(f"/votes/{vote.id}")))

    open_announced(vote, chair)
    db.session.commit()
    owner = login_as(world.users["resident"])
    for client in (runs, owner):
        for url in ("/votes/", f"/votes/{vote.id}"):
            page = _text(client.get(url))
            assert "投票中" in page and "未完成" not in page, url
    # The repairs keep their word for an unfinished task.
    assert "未完成" in _text(runs.get(f"/repairs/compounds/{world.branch.id}"))

    close_counted(vote, chair)
    db.session.commit()
    page = _text(owner.get(f"/votes/{vote.id}"))
    assert "投票已结束" in _badge(page) and "投票中" not in page
    assert "投票已结束" in _text(owner.get("/votes/"))


def test_a_closed_consultation_reads_closed_for_answers(world: World, login_as: Any) -> None:
    asked = consultations.create_consultation(
        service.resolve_scope("unit", first_unit(world.branch).id),
        "服务范围征求意见",
        "保洁每周两次，是否同意？",
        ["同意", "不同意"],
        clock.today(),
        world.users["committee"],
    )
    db.session.commit()
    owner = login_as(world.users["resident"])
    assert "已截止" not in _text(owner.get(f"/votes/consultations/{asked.id}"))
    consultations.close_consultation(asked)
    db.session.commit()
    assert "已截止" in _text(owner.get(f"/votes/consultations/{asked.id}"))
    assert "已截止" in _text(owner.get("/votes/"))


# --- tenants and family members are told why ------------------------------------------------------


def test_a_tenant_is_told_that_owners_alone_vote_on_the_list_and_the_vote(
    world: World, login_as: Any
) -> None:
    tenant = login_as(world.users["tenant"])
    # Before any vote: not just "nothing asked of you", but why no vote will be.
    page = _text(tenant.get("/votes/"))
    assert OWNERS_ONLY in page and "目前没有需要您参与的事项" in page

    vote = _open(world, "compound", world.trust, world.users["staff"])
    page = _text(tenant.get("/votes/"))
    assert OWNERS_ONLY in page and "更换楼道灯" in page
    page = _text(tenant.get(f"/votes/{vote.id}"))
    assert OWNERS_ONLY in page
    assert f'action="/votes/{vote.id}/ballot"' not in page
    # A ballot sent all the same is refused, with the reason.
    refused = tenant.post(f"/votes/{vote.id}/ballot", data={"choice": "yes"})
    assert refused.status_code == 422 and "业主" in _text(refused)
    assert db.session.scalar(select(func.count(Ballot.id))) == 0

    # What the note promises: the tenant's household answers a consultation.
    asked = consultations.create_consultation(
        service.resolve_scope("compound", world.trust.id),
        "保洁时间征求意见",
        "早上还是下午？",
        ["早上", "下午"],
        clock.today(),
        world.users["staff"],
    )
    db.session.commit()
    home = first_household(world.trust)
    answered = tenant.post(
        f"/votes/consultations/{asked.id}/answer",
        data={"household_id": str(home.id), "option": "早上", "comment": "早点好，谢谢！"},
    )
    assert answered.status_code == 303
    assert db.session.scalar(select(Answer.comment)) == "早点好，谢谢！"

    # Still told once the vote is closed.
    close_counted(vote, world.users["staff"])
    db.session.commit()
    assert OWNERS_ONLY in _text(tenant.get(f"/votes/{vote.id}"))


def test_a_family_member_is_told_too_and_owners_are_not(world: World, login_as: Any) -> None:
    home = first_household(world.branch)
    son = user("吴小军", resident=home.id)
    roster.add_occupant(home, son.name, son.mobile, Relation.FAMILY).user_id = son.id
    db.session.commit()
    vote = _open(world, "unit", first_unit(world.branch), world.users["committee"])
    family = login_as(son)
    assert OWNERS_ONLY in _text(family.get("/votes/"))
    assert OWNERS_ONLY in _text(family.get(f"/votes/{vote.id}"))
    assert family.post(f"/votes/{vote.id}/ballot", data={"choice": "no"}).status_code == 422

    owner = login_as(world.users["resident"])
    for url in ("/votes/", f"/votes/{vote.id}"):
        assert OWNERS_ONLY not in _text(owner.get(url)), url
    assert f'action="/votes/{vote.id}/ballot"' in _text(owner.get(f"/votes/{vote.id}"))
    # Somebody who lives in no home (the committee) is not told either.
    assert OWNERS_ONLY not in _text(login_as(world.users["committee"]).get("/votes/"))


def test_an_owner_who_is_also_a_tenant_elsewhere_votes_where_they_own(
    world: World, login_as: Any
) -> None:
    owner = world.users["resident"]
    rented = first_household(world.trust)
    roster.add_occupant(rented, owner.name, owner.mobile, Relation.TENANT).user_id = owner.id
    grant(owner, Role.RESIDENT, rented.id)
    db.session.commit()
    mine = _open(world, "unit", first_unit(world.branch), world.users["committee"])
    theirs = _open(world, "compound", world.trust, world.users["staff"])
    client = login_as(owner)
    assert OWNERS_ONLY not in _text(client.get(f"/votes/{mine.id}"))
    assert OWNERS_ONLY in _text(client.get(f"/votes/{theirs.id}"))


# --- two ballot forms on one page ---------------------------------------------------------------


def _jpeg() -> io.BytesIO:
    data = io.BytesIO()
    Image.new("RGB", (60, 80), "white").save(data, "JPEG")
    data.seek(0)
    return data


def test_the_vote_page_with_both_ballot_forms_names_each_field_once(
    world: World, login_as: Any, app: Any
) -> None:
    unit, _own = _rep_with_a_home(world)
    vote = _open(world, "unit", unit, world.users["committee"])
    rep = login_as(world.users["rep"])
    app.config["WTF_CSRF_ENABLED"] = True  # drawn as in production: each form has its token
    try:
        page = _text(rep.get(f"/votes/{vote.id}"))
    finally:
        app.config["WTF_CSRF_ENABLED"] = False
    # Both forms carry their token; hidden fields have no id to repeat.
    assert page.count('name="csrf_token"') >= 2 and 'id="csrf_token"' not in page
    assert (
        f'action="/votes/{vote.id}/ballot"' in page and f'action="/votes/{vote.id}/paper"' in page
    )
    assert_ids_name_their_fields(page, "vote page")
    assert 'id="ballot-choice-0"' in page and 'id="paper-choice-0"' in page
    assert '<label for="paper-household_id">' in page
    # A refused paper ballot (no photo) comes back with the same, distinct ids.
    paper_home = first_household(world.branch).unit.households[1]
    refused = rep.post(
        f"/votes/{vote.id}/paper",
        data={"household_id": str(paper_home.id), "choice": "yes"},
        content_type="multipart/form-data",
    )
    assert refused.status_code == 422
    assert_ids_name_their_fields(_text(refused), "refused paper ballot")
    entered = rep.post(
        f"/votes/{vote.id}/paper",
        data={
            "household_id": str(paper_home.id),
            "choice": "yes",
            "photo": (_jpeg(), "ballot.jpg", "image/jpeg"),
        },
        content_type="multipart/form-data",
    )
    assert entered.status_code == 303
    assert db.session.scalar(select(func.count(Ballot.id))) == 1

"""A notice's poster and public page: the last day shown as the day chosen, the public page
gone once the notice has expired, and who keeps managing a notice they posted."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from flask import Flask
from sqlalchemy import select

from compound_app import access, clock
from compound_app.access import Action
from compound_app.auth import service as auth
from compound_app.auth.models import Role, RoleGrant
from compound_app.committees.models import CommitteeMember
from compound_app.extensions import db
from compound_app.notices import service
from compound_app.notices.models import Notice
from compound_app.public import service as public
from compound_app.public.models import LinkKind
from tests.factories import World, first_household, first_unit


def _post(world: World, key: str, scope_obj: Any, **draft: Any) -> Notice:
    user = world.users[key]
    notice = service.create_notice(
        service.scope_of(scope_obj),
        service.Draft(kind="notice", title="停水通知", body=["明天停水。"], **draft),
        [],
        user,
        access.load_principal(user),
    )
    db.session.commit()
    return notice


def _zh(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


# --- the last day ----------------------------------------------------------------------------


def test_pages_show_the_last_day_chosen_not_midnight_after_it(
    world: World, login_as: Any, client: Any
) -> None:
    last = clock.today() + timedelta(days=5)
    notice = _post(world, "committee", first_unit(world.branch), expires_on=last)
    assert notice.last_day == last
    chair = login_as(world.users["committee"])
    link = public.live_link(LinkKind.NOTICE, notice.id)
    assert link is not None
    pages = {
        "notice": chair.get(f"/notices/{notice.id}"),
        "poster": chair.get(f"/notices/{notice.id}/poster"),
        "public": client.get(f"/p/{link.token}"),
    }
    for name, response in pages.items():
        assert response.status_code == 200, name
        html = response.get_data(as_text=True)
        assert f"到 {_zh(last)}" in html, name
        assert _zh(last + timedelta(days=1)) not in html and "00:00" not in html, name


def test_a_notice_without_an_end_has_no_last_day(world: World) -> None:
    assert _post(world, "committee", first_unit(world.branch)).last_day is None


def test_the_public_page_of_an_expired_notice_is_not_found(
    app: Flask, world: World, client: Any, held_clock: Any
) -> None:
    notice = _post(world, "committee", first_unit(world.branch), expires_on=clock.today())
    link = public.live_link(LinkKind.NOTICE, notice.id)
    assert link is not None
    assert client.get(f"/p/{link.token}").status_code == 200
    # Its last day is over: the paper should be down, and the code leads nowhere.
    assert notice.expires_at is not None
    held_clock.now = notice.expires_at + timedelta(seconds=1)
    gone = client.get(f"/p/{link.token}")
    assert gone.status_code == 404
    assert notice.title not in gone.get_data(as_text=True)


# --- who keeps managing what they posted -------------------------------------------------------


def _manages(world: World, key: str, notice: Notice) -> tuple[bool, bool]:
    """(the rule, the list filter) for the user's right to run the notice."""
    p = access.load_principal(world.users[key])
    listed = db.session.scalar(
        select(Notice.id).where(Notice.id == notice.id, access.notice_filter(p))
    )
    return access.can(Action.POST_NOTICE, notice, p), listed is not None


def test_a_committee_member_whose_term_ended_no_longer_manages_their_notices(
    world: World, login_as: Any
) -> None:
    notice = _post(world, "committee", first_unit(world.branch))
    assert _manages(world, "committee", notice) == (True, True)
    for seat in db.session.scalars(
        select(CommitteeMember).where(CommitteeMember.user_id == world.users["committee"].id)
    ):
        seat.term_end = clock.today() - timedelta(days=1)
    db.session.commit()
    assert _manages(world, "committee", notice) == (False, False)
    former = login_as(world.users["committee"])
    assert former.get(f"/notices/{notice.id}/poster").status_code == 404
    withdraw = former.post(f"/notices/{notice.id}/withdraw", data={"reason": "不要了"})
    assert withdraw.status_code == 404
    db.session.expire_all()
    assert not notice.withdrawn


def test_a_representative_replaced_no_longer_manages_their_notices(
    world: World, login_as: Any
) -> None:
    rep = world.users["rep"]
    unit = first_unit(world.branch)
    notice = _post(world, "rep", unit)
    assert _manages(world, "rep", notice) == (True, True)
    # They live in the stairwell, so they still read the notice; but the grant is gone.
    auth.grant(rep, Role.RESIDENT, first_household(world.branch).id)
    auth.revoke(
        db.session.scalars(
            select(RoleGrant).where(RoleGrant.user_id == rep.id, RoleGrant.role == Role.UNIT_REP)
        ).one()
    )
    db.session.commit()
    p = access.load_principal(rep)
    assert access.can(Action.VIEW, notice, p)
    assert not access.can(Action.POST_NOTICE, notice, p)
    former = login_as(rep)
    assert former.get(f"/notices/{notice.id}").status_code == 200
    assert former.get(f"/notices/{notice.id}/poster").status_code == 403
    assert former.get(f"/notices/{notice.id}/doors").status_code == 403
    withdraw = former.post(f"/notices/{notice.id}/withdraw", data={"reason": "不要了"})
    assert withdraw.status_code == 403
    link = public.live_link(LinkKind.NOTICE, notice.id)
    assert link is not None
    revoke = former.post(f"/p/links/{link.id}/revoke", data={"reason": "不要了"})
    assert revoke.status_code == 403
    db.session.expire_all()
    assert not notice.withdrawn and link.revoked_at is None


def test_the_list_no_longer_shows_a_former_representatives_scheduled_notice(
    world: World,
) -> None:
    """Not yet published, a notice is seen only by those who run it: its poster, while
    they may post there."""
    rep = world.users["rep"]
    notice = _post(
        world,
        "rep",
        first_unit(world.branch),
        publish_on=clock.today() + timedelta(days=2),
        publish_time="08:00",
    )
    assert _manages(world, "rep", notice) == (True, True)
    auth.revoke(
        db.session.scalars(
            select(RoleGrant).where(RoleGrant.user_id == rep.id, RoleGrant.role == Role.UNIT_REP)
        ).one()
    )
    # Still a representative, of another stairwell.
    auth.grant(rep, Role.UNIT_REP, world.branch.buildings[0].units[1].id)
    db.session.commit()
    assert _manages(world, "rep", notice) == (False, False)
    assert not access.can(Action.VIEW, notice, access.load_principal(rep))

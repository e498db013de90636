"""A notice's poster and public page: the last day shown as the day chosen, the public page
gone once the notice has expired."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from flask import Flask

from compound_app import access, clock
from compound_app.extensions import db
from compound_app.notices import service
from compound_app.notices.models import Notice
from compound_app.public import service as public
from compound_app.public.models import LinkKind
from tests.factories import World, first_unit


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

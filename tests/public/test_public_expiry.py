"""An arrears notice's code works for PUBLIC_ARREARS_DAYS from its first print: then its
page answers 404, and printing the notice again makes a new code. The page and the poster
say when it was printed and until when the code works. Other posters' codes do not expire."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from flask import Flask
from sqlalchemy import select

from compound_app import clock
from compound_app.audit import AuditLog
from compound_app.extensions import db
from compound_app.public.models import LinkKind, PublicLink
from tests.public.conftest import Posted, anonymous_get


def _zh(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def _links(unit_id: int) -> list[PublicLink]:
    return list(
        db.session.scalars(
            select(PublicLink)
            .where(PublicLink.kind == LinkKind.ARREARS.value, PublicLink.target_id == unit_id)
            .order_by(PublicLink.id)
        )
    )


def test_an_arrears_code_expires_and_the_next_print_makes_a_new_one(
    app: Flask, posted: Posted, login_as: Any, held_clock: Any
) -> None:
    days = app.config["PUBLIC_ARREARS_DAYS"]
    assert days == 31
    start = clock.now()
    held_clock.now = start
    printed = start.astimezone(clock.LOCAL_TZ).date()
    poster = f"/fees/units/{posted.unit.id}/notice"
    rep = login_as(posted.world.users["rep"])
    page = rep.get(poster)
    assert page.status_code == 200
    (first,) = _links(posted.unit.id)
    last = clock.local_date(first.created_at + timedelta(days=days) - timedelta(seconds=1))
    # The one printing it is told until when the code works (not printed on the paper).
    assert f"可打开至 {_zh(last)}" in page.get_data(as_text=True)
    shown = anonymous_get(app, f"/p/{first.token}")
    assert shown.status_code == 200
    text = shown.get_data(as_text=True)
    assert "欠费催缴通知" in text
    assert f"首次打印于 {_zh(printed)}" in text and f"可打开本页至 {_zh(last)}" in text

    # The last moment it still opens, and the first it does not.
    held_clock.now = first.created_at + timedelta(days=days) - timedelta(seconds=1)
    assert anonymous_get(app, f"/p/{first.token}").status_code == 200
    held_clock.now = first.created_at + timedelta(days=days)
    gone = anonymous_get(app, f"/p/{first.token}")
    assert gone.status_code == 404
    gone_text = gone.get_data(as_text=True)
    assert "这个网页打不开了" in gone_text and "欠费催缴通知" not in gone_text

    # Printed again: the old code is ended with its reason, the paper gets a new one.
    assert login_as(posted.world.users["rep"]).get(poster).status_code == 200
    old, new = _links(posted.unit.id)
    assert old.id == first.id and old.revoked_at is not None and "过期" in old.revoke_reason
    assert new.revoked_at is None and new.token != first.token
    assert anonymous_get(app, f"/p/{new.token}").status_code == 200
    assert anonymous_get(app, f"/p/{first.token}").status_code == 404
    expired = db.session.scalars(
        select(AuditLog).where(AuditLog.action == "expire", AuditLog.entity_id == first.id)
    ).one()
    assert expired.after["revoked_at"] is not None


def test_other_posters_codes_do_not_expire(app: Flask, posted: Posted, held_clock: Any) -> None:
    links = {kind: posted.link(kind) for kind in LinkKind if kind is not LinkKind.ARREARS}
    held_clock.now = clock.now() + timedelta(days=app.config["PUBLIC_ARREARS_DAYS"] + 60)
    for kind, link in links.items():
        assert anonymous_get(app, f"/p/{link.token}").status_code == 200, kind

"""Withdrawing a poster's public link: who may, with a reason, once; audited; the next print
makes a new code. And the access rule behind it, which follows the poster's object."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from compound_app import access
from compound_app.access import Action
from compound_app.audit import AuditLog
from compound_app.errors import RuleError
from compound_app.extensions import db
from compound_app.public import posters, service
from compound_app.public.models import LinkKind, PublicLink
from tests.public.conftest import KINDS, Posted, anonymous_get


def _revoke(client: Any, link: PublicLink, reason: str = "贴错了楼") -> Any:
    return client.post(f"/p/links/{link.id}/revoke", data={"reason": reason})


def _audit_rows() -> int:
    return db.session.scalar(select(func.count(AuditLog.id))) or 0


def test_the_committee_withdraws_a_link_and_the_next_print_makes_a_new_one(
    app: Flask, posted: Posted, login_as
) -> None:
    chair = login_as(posted.world.users["committee"])
    notice = f"/fees/units/{posted.unit.id}/notice"
    assert chair.get(notice).status_code == 200
    old = db.session.scalars(select(PublicLink).where(PublicLink.kind == "arrears")).one()
    response = _revoke(chair, old)
    assert response.status_code == 303 and response.headers["Location"] == notice
    db.session.expire_all()
    assert old.revoked_at is not None and old.revoke_reason == "贴错了楼"
    assert old.revoked_by_id == posted.world.users["committee"].id
    row = db.session.scalars(select(AuditLog).where(AuditLog.entity == "public_link")).one()
    assert row.action == "revoke" and row.entity_id == old.id
    assert row.after["revoked_at"] and "token" not in row.after and "token" not in row.before
    assert anonymous_get(app, f"/p/{old.token}").status_code == 404
    # Printed again: a new code, which works.
    page = chair.get(notice).get_data(as_text=True)
    new = service.live_link(LinkKind.ARREARS, posted.unit.id)
    assert new is not None and new.token != old.token and new.token in page
    assert old.token not in page
    assert anonymous_get(app, f"/p/{new.token}").status_code == 200


@pytest.mark.parametrize(
    ("kind", "role", "status"),
    [
        (LinkKind.ARREARS, "rep", 403),  # prints the notice, but the committee decides
        (LinkKind.WORKS_BOARD, "resident", 403),
        (LinkKind.BOARD, "resident", 403),
        (LinkKind.VOTE_RESULT, "resident", 403),  # an elector sees the result, not more
        (LinkKind.WORKS_BOARD, "outsider", 404),
        (LinkKind.BOARD, "other_staff", 404),
        (LinkKind.VOTE_RESULT, "area_committee", 404),  # another area's committee
        (LinkKind.ARREARS, "tenant", 404),
    ],
)
def test_those_who_do_not_manage_the_poster_cannot_withdraw_its_link(
    posted: Posted, login_as, kind: LinkKind, role: str, status: int
) -> None:
    link = posted.link(kind)
    before = _audit_rows()
    assert _revoke(login_as(posted.world.users[role]), link).status_code == status
    db.session.expire_all()
    assert link.revoked_at is None and _audit_rows() == before


@pytest.mark.parametrize("kind", KINDS)
def test_staff_over_the_compound_and_its_committee_may_withdraw(
    posted: Posted, login_as, kind: LinkKind
) -> None:
    for role in ("staff", "committee"):
        link = posted.link(kind)
        assert _revoke(login_as(posted.world.users[role]), link).status_code == 303, role


def test_a_reason_is_needed_and_nothing_is_written_without_one(posted: Posted, login_as) -> None:
    chair = login_as(posted.world.users["committee"])
    link = posted.link(LinkKind.WORKS_BOARD)
    before = _audit_rows()
    for reason in ("", "   ", "\x00", "x" * 201):
        response = _revoke(chair, link, reason)
        assert response.status_code == 422, reason
        html = response.get_data(as_text=True)
        assert "停用原因" in html and 'class="error"' in html
        assert "返回海报页" in html
    db.session.expire_all()
    assert link.revoked_at is None and _audit_rows() == before


def test_a_link_is_withdrawn_once(posted: Posted, login_as) -> None:
    chair = login_as(posted.world.users["committee"])
    link = posted.link(LinkKind.VOTE_RESULT)
    assert _revoke(chair, link).status_code == 303
    rows = _audit_rows()
    again = _revoke(chair, link, "再点一次")  # a double tap, or a second committee member
    assert again.status_code == 422
    assert "这个链接已经停用了" in again.get_data(as_text=True)
    db.session.expire_all()
    assert link.revoke_reason == "贴错了楼" and _audit_rows() == rows


def test_signed_out_visitors_cannot_withdraw(app: Flask, posted: Posted) -> None:
    link = posted.link(LinkKind.BOARD)
    response = app.test_client().post(f"/p/links/{link.id}/revoke", data={"reason": "x"})
    assert response.status_code == 302 and "/auth/login" in response.headers["Location"]


# --- the access rule ------------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_a_link_is_seen_and_managed_as_the_object_it_shows(posted: Posted, kind: LinkKind) -> None:
    link = posted.link(kind)
    target = access.link_target(link)
    assert target is not None and target.id == posted.target(kind)
    manage = access.LINK_TARGETS[kind][1]
    for role, u in posted.world.users.items():
        p = access.load_principal(u)
        assert access.can(Action.VIEW, link, p) == access.can(Action.VIEW, target, p), role
        assert access.can(Action.MANAGE, link, p) == access.can(manage, target, p), role
        # Withdrawing is the only thing done to a link.
        assert not access.can(Action.EDIT_ROSTER, link, p), role
    assert access.locate(link) == access.locate(target)


def test_a_link_to_nothing_is_out_of_everyones_sight(posted: Posted) -> None:
    gone = service.link_for(LinkKind.BOARD, 2_000_000)
    notice = service.link_for(LinkKind.NOTICE, 2_000_000)
    db.session.commit()
    admin = access.load_principal(posted.world.users["admin"])
    for link in (gone, notice):
        assert access.link_target(link) is None
        assert not access.can(Action.VIEW, link, admin)
        assert not access.can(Action.MANAGE, link, admin)


def test_anonymous_visitors_may_do_nothing_with_a_link(posted: Posted) -> None:
    link = posted.link(LinkKind.WORKS_BOARD)
    nobody = access.load_principal(None)
    assert not access.can(Action.VIEW, link, nobody)
    assert not access.can(Action.MANAGE, link, nobody)


# --- the service ------------------------------------------------------------------------------


def test_a_poster_has_one_live_link_at_a_time(app: Flask, posted: Posted) -> None:
    first = posted.link(LinkKind.BOARD)
    assert posted.link(LinkKind.BOARD).id == first.id
    assert len(first.token) >= 32
    with app.test_request_context():
        with pytest.raises(RuleError):
            service.revoke(first, posted.world.users["committee"], "  ")
        service.revoke(first, posted.world.users["committee"], "换新")
        with pytest.raises(RuleError):
            service.revoke(first, posted.world.users["committee"], "再来")
    db.session.commit()
    second = posted.link(LinkKind.BOARD)
    assert second.id != first.id and second.token != first.token
    assert service.find_live(first.token) is None and service.find(first.token) == first
    assert service.find_live(second.token) == second
    # The database holds the rule too: two live links for one poster are refused.
    db.session.add(PublicLink(token="t" * 32, kind="board", target_id=posted.board.id))
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()


def test_printing_at_the_same_moment_as_someone_else_gives_their_link(
    app: Flask, posted: Posted, monkeypatch: pytest.MonkeyPatch
) -> None:
    theirs = service.link_for(LinkKind.WORKS_BOARD, posted.world.branch.id)
    db.session.commit()
    real = service.live_link
    calls: list[int] = []

    def not_yet(kind: LinkKind, target_id: int) -> PublicLink | None:
        calls.append(target_id)
        return None if len(calls) == 1 else real(kind, target_id)  # theirs lands in between

    def clash(*_args: Any) -> PublicLink:
        raise IntegrityError("INSERT", {}, Exception("uq_public_link_live"))

    monkeypatch.setattr(service, "live_link", not_yet)
    monkeypatch.setattr(service, "link_for", clash)
    with app.test_request_context():
        assert posters.printed_link(LinkKind.WORKS_BOARD, posted.world.branch.id).id == theirs.id


def test_tokens_of_another_shape_are_not_looked_up(posted: Posted) -> None:
    from tests.helpers import count_statements

    live = posted.link(LinkKind.BOARD)
    tokens = ("", "a\x00b", "x" * 65, "ab cd", "链接", live.token + "=")
    with count_statements() as statements:
        for token in tokens:
            assert service.find(token) is None, token
    assert statements == []
    assert service.find(live.token) == live

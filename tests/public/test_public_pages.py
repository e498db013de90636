"""The pages behind the posters' QR codes: open without signing in, exactly what the paper
shows (rooms where the paper has rooms, never a name or a mobile), not indexed, 404 once
withdrawn or unknown, and guessing limited per address."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import func, select

from compound_app import clock
from compound_app.extensions import db
from compound_app.public import service
from compound_app.public.models import LinkKind, PublicLink, PublicMiss
from compound_app.registry.models import Household
from compound_app.votes import service as votes
from tests.factories import World, first_unit, open_announced
from tests.public.conftest import (
    GRANNY,
    GRANNY_MOBILE,
    KINDS,
    NOTICE_TITLE,
    Posted,
    anonymous_get,
    personal_data,
)

# What each page must show: a word of the poster's own text.
HEADINGS = {
    LinkKind.BOARD: "收支情况",
    LinkKind.ARREARS: "欠费催缴通知",
    LinkKind.VOTE_RESULT: "业主表决结果公告",
    LinkKind.WORKS_BOARD: "维修公示",
    LinkKind.NOTICE: NOTICE_TITLE,
}


def _misses() -> int:
    return db.session.scalar(select(func.count(PublicMiss.id))) or 0


@pytest.mark.parametrize("kind", KINDS)
def test_every_public_page_opens_without_signing_in_and_shows_no_personal_data(
    app: Flask, posted: Posted, kind: LinkKind
) -> None:
    link = posted.link(kind)
    response = anonymous_get(app, f"/p/{link.token}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert HEADINGS[kind] in html
    # Not for search engines, not cached, no cookie, nothing of the signed-in app.
    assert response.headers["X-Robots-Tag"].startswith("noindex")
    assert '<meta name="robots" content="noindex' in html
    assert response.headers["Cache-Control"] == "no-store"
    assert "Set-Cookie" not in response.headers
    assert "<script" not in html and "style=" not in html and "<form" not in html
    assert "/auth/" not in html and 'href="/' not in html.replace('href="/static/', "")
    # Nobody's name or number, whoever is on the roster or has an account.
    people = personal_data()
    assert GRANNY in people and GRANNY_MOBILE in people
    leaked = [p for p in people if p in html]
    assert not leaked, leaked
    assert not re.search(r"1[3-9]\d{9}", html)


def test_rooms_appear_only_where_the_paper_shows_rooms(app: Flask, posted: Posted) -> None:
    unit = posted.unit
    pages = {kind: anonymous_get(app, f"/p/{posted.link(kind).token}") for kind in KINDS}
    text = {kind: r.get_data(as_text=True) for kind, r in pages.items()}
    owing = unit.households[1]
    # The arrears notice, the board's arrears and the vote's result list rooms...
    assert f"<td>{owing.room}</td>" in text[LinkKind.ARREARS]
    assert f"{unit.name}-{owing.room}" in text[LinkKind.BOARD]
    assert f"{unit.name}-{unit.households[0].room}" in text[LinkKind.VOTE_RESULT]
    # ...the works board only places: the stairwell, never a home.
    works = text[LinkKind.WORKS_BOARD]
    assert f"{unit.building.name}-{unit.name}" in works
    for home in db.session.scalars(select(Household)):
        assert f"{unit.name}-{home.room}" not in works and f">{home.room}<" not in works
    # What a resident typed about a repair is never public (nor printed).
    assert "楼道灯不亮" not in works and "路灯" in works


@pytest.mark.parametrize("kind", KINDS)
def test_the_poster_prints_the_public_link_in_its_qr_code(
    app: Flask, posted: Posted, login_as, kind: LinkKind
) -> None:
    from compound_app.templating import qr_data_uri

    pages = {
        LinkKind.BOARD: f"/fees/areas/{posted.board.area_id}/board/poster"
        f"?month={posted.board.month:%Y-%m}",
        LinkKind.ARREARS: f"/fees/units/{posted.unit.id}/notice",
        LinkKind.VOTE_RESULT: f"/votes/{posted.vote.id}/notice",
        LinkKind.WORKS_BOARD: f"/repairs/compounds/{posted.world.branch.id}/board",
        LinkKind.NOTICE: f"/notices/{posted.notice.id}/poster",
    }
    chair = login_as(posted.world.users["committee"])
    page = chair.get(pages[kind])
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    # (The board, the vote and the notice itself post notices: each has a link of its own.)
    this_poster = select(PublicLink).where(
        PublicLink.kind == kind.value, PublicLink.target_id == posted.target(kind)
    )
    link = db.session.scalars(this_poster).one()
    assert link.revoked_at is None
    with app.test_request_context():
        url = service.public_url(link)
        assert qr_data_uri(url) in html
    assert url.endswith(f"/p/{link.token}")
    # The committee sees the address and may withdraw it.
    assert url in html and f"/p/links/{link.id}/revoke" in html
    # Printed again: the same code.
    assert chair.get(pages[kind]).status_code == 200
    assert len(db.session.scalars(this_poster).all()) == 1
    # The code opens the page for anyone.
    assert anonymous_get(app, f"/p/{link.token}").status_code == 200


def test_only_those_who_manage_the_poster_see_how_to_withdraw_it(
    app: Flask, posted: Posted, login_as
) -> None:
    w = posted.world
    notice = f"/fees/units/{posted.unit.id}/notice"
    rep_page = login_as(w.users["rep"]).get(notice).get_data(as_text=True)
    assert "data:image/svg+xml" in rep_page and "/revoke" not in rep_page
    board = f"/repairs/compounds/{w.branch.id}/board"
    resident_page = login_as(w.users["resident"]).get(board).get_data(as_text=True)
    assert "data:image/svg+xml" in resident_page and "/revoke" not in resident_page
    staff_page = login_as(w.users["staff"]).get(board).get_data(as_text=True)
    assert "/revoke" in staff_page


def test_an_unpublished_month_prints_no_code(posted: Posted, login_as) -> None:
    chair = login_as(posted.world.users["committee"])
    month = clock.today().replace(day=1)
    page = chair.get(f"/fees/areas/{posted.board.area_id}/board/poster?month={month:%Y-%m}")
    assert page.status_code == 200
    assert "data:image/svg+xml" not in page.get_data(as_text=True)
    assert (
        db.session.scalar(select(func.count(PublicLink.id)).where(PublicLink.kind == "board")) == 0
    )


# --- withdrawn, gone, unknown -------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_a_withdrawn_link_answers_404(app: Flask, posted: Posted, kind: LinkKind) -> None:
    link = posted.link(kind)
    with app.test_request_context():
        service.revoke(link, posted.world.users["committee"], "贴错了")
    db.session.commit()
    response = anonymous_get(app, f"/p/{link.token}")
    assert response.status_code == 404
    html = response.get_data(as_text=True)
    assert "这个网页打不开了" in html and HEADINGS[kind] not in html
    assert response.headers["X-Robots-Tag"].startswith("noindex")
    # A real poster's old code is not a guess.
    assert _misses() == 0


def test_a_vote_not_closed_has_no_public_page(app: Flask, world: World) -> None:
    chair = world.users["committee"]
    with app.test_request_context():
        vote = votes.create_vote(
            votes.resolve_scope("unit", first_unit(world.branch).id),
            "manager",
            "选聘物业",
            "是否选聘",
            clock.today(),
            chair,
        )
        open_announced(vote, chair)
        link = service.link_for(LinkKind.VOTE_RESULT, vote.id, chair)
        db.session.commit()
    assert anonymous_get(app, f"/p/{link.token}").status_code == 404


def test_a_link_whose_object_is_gone_or_has_no_page_answers_404(app: Flask, world: World) -> None:
    gone = service.link_for(LinkKind.WORKS_BOARD, 2_000_000)
    notice = service.link_for(LinkKind.NOTICE, 2_000_000)  # no such notice
    db.session.commit()
    for link in (gone, notice):
        assert anonymous_get(app, f"/p/{link.token}").status_code == 404
    assert _misses() == 0


def test_unknown_and_malformed_tokens_answer_404_and_count_as_misses(app: Flask, world) -> None:
    for token in ("no-such-link", "x" * 65, "%00", "' OR 1=1 --", "A" * 32):
        response = anonymous_get(app, f"/p/{token}")
        assert response.status_code == 404, token
        assert "这个网页打不开了" in response.get_data(as_text=True)
        assert response.headers["X-Robots-Tag"].startswith("noindex")
    assert _misses() == 5


# --- guessing -----------------------------------------------------------------------------------


def test_misses_beyond_the_limit_answer_429_and_tell_nothing(
    app: Flask, posted: Posted, held_clock
) -> None:
    app.config["PUBLIC_MAX_MISSES_PER_IP"] = 3
    live = posted.link(LinkKind.BOARD)
    held_clock.now = clock.now()
    guesser = "203.0.113.50"
    for n in range(3):
        assert anonymous_get(app, f"/p/guess-{n}", ip=guesser).status_code == 404
    limited = anonymous_get(app, "/p/guess-4", ip=guesser)
    assert limited.status_code == 429
    body = limited.get_data(as_text=True)
    assert "尝试次数太多" in body and "请等 15 分钟" in body
    assert limited.headers["Retry-After"] == "900"
    # While limited, a real code answers the same: a hit cannot be told from a miss.
    hit = anonymous_get(app, f"/p/{live.token}", ip=guesser)
    assert hit.status_code == 429
    assert HEADINGS[LinkKind.BOARD] not in hit.get_data(as_text=True)
    assert _misses() == 3  # answered 429 without counting (or looking)
    # Everybody else scans the poster as usual.
    assert anonymous_get(app, f"/p/{live.token}", ip="203.0.113.51").status_code == 200
    # Once the window has passed, the address may try again.
    held_clock.now = clock.now() + timedelta(minutes=15, seconds=1)
    assert anonymous_get(app, f"/p/{live.token}", ip=guesser).status_code == 200


def test_an_ipv6_client_is_counted_by_its_64_network(app: Flask, world: World) -> None:
    app.config["PUBLIC_MAX_MISSES_PER_IP"] = 2
    assert anonymous_get(app, "/p/guess-a", ip="2001:db8:1:2::1").status_code == 404
    assert anonymous_get(app, "/p/guess-b", ip="2001:db8:1:2::ffff").status_code == 404
    assert anonymous_get(app, "/p/guess-c", ip="2001:db8:1:2:abcd::9").status_code == 429
    assert anonymous_get(app, "/p/guess-c", ip="2001:db8:1:3::1").status_code == 404


def test_hits_never_count_towards_the_limit(app: Flask, posted: Posted) -> None:
    app.config["PUBLIC_MAX_MISSES_PER_IP"] = 2
    live = posted.link(LinkKind.WORKS_BOARD)
    for _ in range(5):  # a whole stairwell on one Wi-Fi
        assert anonymous_get(app, f"/p/{live.token}", ip="192.0.2.10").status_code == 200
    assert _misses() == 0


def test_public_answers_have_no_inline_code(app: Flask, posted: Posted, login_as) -> None:
    """The CSP forbids inline script and style: the public pages, their 404 and 429, and
    the withdrawal form answered with an error."""
    from tests.platform.test_security import inline_code

    app.config["PUBLIC_MAX_MISSES_PER_IP"] = 1
    answers = [anonymous_get(app, f"/p/{posted.link(kind).token}") for kind in KINDS]
    answers.append(anonymous_get(app, "/p/nothing-here", ip="192.0.2.99"))
    answers.append(anonymous_get(app, "/p/nothing-here", ip="192.0.2.99"))
    chair = login_as(posted.world.users["committee"])
    link = posted.link(LinkKind.BOARD)
    answers.append(chair.post(f"/p/links/{link.id}/revoke", data={"reason": ""}))
    assert [r.status_code for r in answers] == [200] * len(KINDS) + [404, 429, 422]
    for response in answers:
        assert inline_code(response.get_data(as_text=True)) == []

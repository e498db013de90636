"""The notice routes' cases for ``test_audit``: posting, withdrawing, comments,
acknowledgements and assisted "told" marks each write their audit row."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from compound_app.notices.models import Notice, NoticeComment, NoticeRead
from tests.audits.test_audit import Post, case, changed, is_set, one
from tests.factories import World, first_unit, notice_objects


def _notice(w: World) -> Notice:
    ids = notice_objects(w.branch, w.users["committee"])
    return one(select(Notice).where(Notice.id == ids["notice_id"]))


@case("notices.new", "committee")
def _new(w: World, client: Any) -> Post:
    unit = first_unit(w.branch)
    return Post(
        f"/notices/compounds/{w.branch.id}/new",
        {
            "scope": f"unit:{unit.id}",
            "kind": "urgent",
            "title": "明日停水",
            "body": "明天8点到12点停水。\n\n- 请提前储水",
            "publish_time": "08:00",
        },
        lambda: [
            changed(
                one(select(Notice).where(Notice.title == "明日停水")),
                "create_notice",
                kind="urgent",
                unit_id=unit.id,
            ),
            changed(
                one(select(Notice).where(Notice.title == "明日停水")),
                "announce_notice",
                announced_at=is_set,
            ),
        ],
    )


@case("notices.withdraw", "committee")
def _withdraw(w: World, client: Any) -> Post:
    notice = _notice(w)
    return Post(
        f"/notices/{notice.id}/withdraw",
        {"reason": "时间改了"},
        lambda: [changed(notice, "withdraw_notice", withdraw_reason="时间改了")],
    )


@case("notices.comment", "resident")
def _comment(w: World, client: Any) -> Post:
    notice = _notice(w)
    return Post(
        f"/notices/{notice.id}/comment",
        {"text": "垃圾桶放远一点"},
        lambda: [changed(one(select(NoticeComment)), "comment", text="垃圾桶放远一点")],
    )


@case("notices.ack", "resident")
def _ack(w: World, client: Any) -> Post:
    notice = _notice(w)
    return Post(
        f"/notices/{notice.id}/ack",
        {},
        lambda: [changed(one(select(NoticeRead)), "acknowledge", acked_at=is_set)],
    )


@case("notices.told", "rep")
def _told(w: World, client: Any) -> Post:
    notice = _notice(w)
    home = first_unit(w.branch).households[1]
    return Post(
        f"/notices/{notice.id}/told",
        {"household_id": home.id, "how": "in_person", "back": "notice"},
        lambda: [
            changed(
                one(select(NoticeRead)),
                "tell",
                household_id=home.id,
                how="in_person",
                by_id=w.users["rep"].id,
            )
        ],
    )

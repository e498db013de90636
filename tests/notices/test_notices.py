"""Notices: who posts where, who sees what, the body as text, attachments, timing,
withdrawal, comments on a 公示, who has been told, messages on publishing, the poster's
public page and the notices posted by fees and votes."""

from __future__ import annotations

import io
import re
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from PIL import Image
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage

from compound_app import access, clock
from compound_app.access import Action
from compound_app.audit import AuditLog
from compound_app.extensions import db
from compound_app.messages import service as messages_service
from compound_app.messages.models import DevSms, Kind, Message, Outbox
from compound_app.notices import service
from compound_app.notices.models import Notice, NoticeComment, NoticeFile, NoticeRead
from compound_app.public import service as public
from compound_app.public.models import LinkKind
from compound_app.registry import roster
from compound_app.registry.models import Consent, Occupant, Relation
from tests.factories import World, announced_ago, first_unit, open_announced, user


def _p(world: World, key: str) -> access.Principal:
    return access.load_principal(world.users[key])


def _post(
    world: World,
    key: str,
    scope_obj: Any,
    *,
    kind: str = "notice",
    title: str = "停水通知",
    body: list[str] | None = None,
    files: list[Any] | None = None,
    **draft: Any,
) -> Notice:
    if kind == "publicity":
        draft.setdefault("comments_until", clock.today() + timedelta(days=7))
    notice = service.create_notice(
        service.scope_of(scope_obj),
        service.Draft(kind=kind, title=title, body=body or ["明天停水。"], **draft),
        files or [],
        world.users[key],
        _p(world, key),
    )
    db.session.commit()
    return notice


def _photo(name: str = "photo.jpg") -> FileStorage:
    buffer = io.BytesIO()
    Image.new("RGB", (20, 10), (200, 10, 10)).save(buffer, "PNG")
    buffer.seek(0)
    return FileStorage(buffer, name)


def _file(data: bytes, name: str) -> FileStorage:
    return FileStorage(io.BytesIO(data), name)


# --- who posts where ---------------------------------------------------------------------------


def test_who_may_post_where(world: World) -> None:
    unit = first_unit(world.branch)
    other_unit = world.branch.buildings[0].units[1]
    building = world.branch.buildings[0]
    rep, resident = _p(world, "rep"), _p(world, "resident")
    committee, staff = _p(world, "committee"), _p(world, "staff")
    assert access.may_post_notice(unit, rep)
    assert not access.may_post_notice(other_unit, rep)  # another unit
    assert not access.may_post_notice(building, rep)  # not even the building of their unit
    assert not access.may_post_notice(world.branch, rep)
    for obj in (world.branch.area, world.branch, building, unit, other_unit):
        assert access.may_post_notice(obj, committee)
        assert access.may_post_notice(obj, staff)
        assert not access.may_post_notice(obj, resident)
    assert not access.may_post_notice(world.trust, committee)  # another area
    assert not access.may_post_notice(world.elsewhere, staff)  # another community
    assert access.may_post_notice(world.contiguous[1], _p(world, "area_committee"))


def test_a_representative_posting_to_another_unit_is_refused(world: World) -> None:
    other_unit = world.branch.buildings[0].units[1]
    with pytest.raises(service.RuleError) as err:
        _post(world, "rep", other_unit)
    assert err.value.field == "scope"
    assert db.session.scalar(select(func.count()).select_from(Notice)) == 0


def test_the_form_offers_only_what_the_user_may_post_to(world: World, login_as: Any) -> None:
    rep = login_as(world.users["rep"])
    page = rep.get(f"/notices/compounds/{world.branch.id}/new").get_data(as_text=True)
    assert f"unit:{first_unit(world.branch).id}" in page
    assert f"compound:{world.branch.id}" not in page
    assert f"unit:{world.branch.buildings[0].units[1].id}" not in page
    # Sent anyway: refused next to the field, nothing written.
    response = rep.post(
        f"/notices/compounds/{world.branch.id}/new",
        data={
            "scope": f"compound:{world.branch.id}",
            "kind": "notice",
            "title": "通知",
            "body": "内容",
            "publish_time": "08:00",
        },
    )
    assert response.status_code == 422
    assert db.session.scalar(select(func.count()).select_from(Notice)) == 0


def test_residents_cannot_post_and_other_staff_do_not_see_the_compound(
    world: World, login_as: Any
) -> None:
    url = f"/notices/compounds/{world.branch.id}/new"
    assert login_as(world.users["resident"]).get(url).status_code == 403
    assert login_as(world.users["resident"]).post(url, data={}).status_code == 403
    assert login_as(world.users["other_staff"]).get(url).status_code == 404
    assert login_as(world.users["other_staff"]).post(url, data={}).status_code == 404


# --- who sees a notice -------------------------------------------------------------------------


def test_residents_see_notices_of_their_homes_only(world: World) -> None:
    unit = first_unit(world.branch)
    mine = _post(world, "committee", unit)
    theirs = _post(world, "committee", world.branch.buildings[1].units[0])
    area_wide = _post(world, "committee", world.branch.area)
    resident, rep, tenant = _p(world, "resident"), _p(world, "rep"), _p(world, "tenant")
    assert access.can(Action.VIEW, mine, resident) and access.can(Action.VIEW, mine, rep)
    assert not access.can(Action.VIEW, theirs, resident)
    assert not access.can(Action.VIEW, theirs, rep)
    assert access.can(Action.VIEW, area_wide, resident)
    assert not access.can(Action.VIEW, mine, tenant)  # lives in another compound
    assert not access.can(Action.POST_NOTICE, mine, resident)
    assert access.can(Action.POST_NOTICE, mine, _p(world, "staff"))
    assert not access.can(Action.VIEW, mine, _p(world, "other_staff"))


def test_scheduled_notices_are_the_committees_until_published(world: World) -> None:
    later = _post(
        world,
        "committee",
        first_unit(world.branch),
        publish_on=clock.today() + timedelta(days=2),
        publish_time="08:00",
    )
    assert later.announced_at is None
    assert not access.can(Action.VIEW, later, _p(world, "resident"))
    assert access.can(Action.VIEW, later, _p(world, "committee"))
    with clock.held_at(later.publish_at + timedelta(minutes=1)):
        assert access.can(Action.VIEW, later, _p(world, "resident"))


def test_a_representative_manages_what_they_posted(world: World) -> None:
    notice = _post(world, "rep", first_unit(world.branch))
    assert access.can(Action.POST_NOTICE, notice, _p(world, "rep"))
    assert access.can(Action.POST_NOTICE, notice, _p(world, "committee"))
    assert not access.can(Action.POST_NOTICE, notice, _p(world, "resident"))


def test_the_compound_list_pinned_first_and_states_for_the_committee(
    world: World, login_as: Any
) -> None:
    unit = first_unit(world.branch)
    plain = _post(world, "committee", unit, title="普通通知")
    pinned = _post(world, "committee", unit, title="置顶通知", pinned=True)
    urgent = _post(world, "committee", unit, kind="urgent", title="紧急停电")
    gone = _post(world, "committee", unit, title="撤回的通知")
    service.withdraw(gone, "发错了", world.users["committee"])
    later = _post(
        world,
        "committee",
        unit,
        title="下周的活动",
        kind="event",
        publish_on=clock.today() + timedelta(days=7),
        publish_time="09:00",
    )
    db.session.commit()
    url = f"/notices/compounds/{world.branch.id}"
    page = login_as(world.users["resident"]).get(url).get_data(as_text=True)
    assert page.index(pinned.title) < page.index(urgent.title) < page.index(plain.title)
    assert gone.title not in page and later.title not in page
    chair = login_as(world.users["committee"])
    assert later.title in chair.get(url, query_string={"status": "scheduled"}).get_data(
        as_text=True
    )
    assert gone.title in chair.get(url, query_string={"status": "withdrawn"}).get_data(as_text=True)
    # A resident's filter is ignored: the current notices only.
    shown = login_as(world.users["resident"]).get(url, query_string={"status": "withdrawn"})
    assert gone.title not in shown.get_data(as_text=True)
    # htmx narrows the swap to the list.
    part = chair.get(
        url,
        query_string={"status": "all"},
        headers={"HX-Request": "true", "HX-Target": "notice-list"},
    ).get_data(as_text=True)
    assert part.lstrip().startswith('<div id="notice-list">') and later.title in part


# --- the body is text ---------------------------------------------------------------------------


def test_body_structure_and_escaping(world: World, login_as: Any) -> None:
    body = [
        "<script>alert(1)</script>",
        "第二行 <b>粗体</b>",
        "",
        "- 第一项",
        "- <img src=x onerror=alert(1)>",
        "",
        "1. 第一步",
        "2. 第二步",
    ]
    notice = _post(world, "committee", first_unit(world.branch), body=body)
    assert [b.kind for b in service.blocks(notice.body)] == ["p", "ul", "ol"]
    page = login_as(world.users["resident"]).get(f"/notices/{notice.id}").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<b>粗体</b>" not in page and "&lt;b&gt;粗体&lt;/b&gt;" in page
    assert "<img src=x" not in page
    assert "<li>第一项</li>" in page and "<li>第二步</li>" in page


def test_the_form_keeps_paragraphs_and_refuses_control_characters(
    world: World, login_as: Any
) -> None:
    chair = login_as(world.users["committee"])
    url = f"/notices/compounds/{world.branch.id}/new"
    data = {
        "scope": f"compound:{world.branch.id}",
        "kind": "notice",
        "title": "楼道清理",
        "body": "周六上午清理楼道。\r\n\r\n\r\n- 请搬走杂物\r\n- 自行车停到车棚",
        "publish_time": "08:00",
    }
    assert chair.post(url, data=data).status_code == 303
    notice = db.session.scalars(select(Notice)).one()
    assert notice.body == ["周六上午清理楼道。", "", "- 请搬走杂物", "- 自行车停到车棚"]
    response = chair.post(url, data={**data, "body": "坏\x00字"})
    assert response.status_code == 422
    assert db.session.scalar(select(func.count()).select_from(Notice)) == 1


# --- attachments -------------------------------------------------------------------------------


def test_photos_and_pdfs_are_kept_and_served_as_downloads(world: World, login_as: Any) -> None:
    pdf = b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n"
    notice = _post(
        world, "committee", first_unit(world.branch), files=[_photo(), _file(pdf, "a.pdf")]
    )
    photo, paper = notice.files
    assert photo.kind == "photo" and photo.name.endswith(".jpg")
    assert paper.kind == "pdf" and paper.name.endswith(".pdf") and len(paper.name) == 28
    resident = login_as(world.users["resident"])
    response = resident.get(f"/notices/files/{paper.id}")
    assert response.status_code == 200 and response.data == pdf
    assert response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"].startswith("attachment")
    assert "no-store" in response.headers["Cache-Control"]
    assert resident.get(f"/notices/files/{photo.id}").mimetype == "image/jpeg"
    assert login_as(world.users["tenant"]).get(f"/notices/files/{paper.id}").status_code == 404


@pytest.mark.parametrize(
    ("data", "name"),
    [
        (b"MZ\x90\x00 a program", "setup.exe"),
        (b"just some text, not a PDF at all", "fake.pdf"),
        (b"<html><script>alert(1)</script></html>", "x.jpg"),
    ],
)
def test_other_files_are_refused_and_nothing_is_written(
    world: World, login_as: Any, app: Flask, data: bytes, name: str
) -> None:
    chair = login_as(world.users["committee"])
    response = chair.post(
        f"/notices/compounds/{world.branch.id}/new",
        data={
            "scope": f"compound:{world.branch.id}",
            "kind": "notice",
            "title": "附件",
            "body": "见附件",
            "publish_time": "08:00",
            "files": [(io.BytesIO(data), name), (_photo().stream, "ok.jpg")],
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    assert "PDF" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Notice)) == 0
    assert db.session.scalar(select(func.count()).select_from(NoticeFile)) == 0
    from pathlib import Path

    uploads = Path(app.instance_path) / "uploads"
    assert not uploads.exists() or not list(uploads.iterdir())


# --- timing and withdrawal ---------------------------------------------------------------------


def test_dates_are_checked(world: World) -> None:
    unit = first_unit(world.branch)
    with pytest.raises(service.RuleError) as err:
        _post(world, "committee", unit, publish_on=clock.today() - timedelta(days=1))
    assert err.value.field == "publish_on"
    with pytest.raises(service.RuleError) as err:
        _post(
            world,
            "committee",
            unit,
            publish_on=clock.today() + timedelta(days=3),
            publish_time="08:00",
            expires_on=clock.today() + timedelta(days=1),
        )
    assert err.value.field == "expires_on"
    with pytest.raises(service.RuleError) as err:
        _post(world, "committee", unit, kind="publicity", comments_until=None)
    assert err.value.field == "comments_until"


def test_expired_notices_leave_the_residents_list(world: World) -> None:
    notice = _post(world, "committee", first_unit(world.branch), expires_on=clock.today())
    resident = _p(world, "resident")
    assert notice in service.compound_notices(world.branch, resident)
    with clock.held_at(service.end_of(clock.today()) + timedelta(seconds=1)):
        assert notice not in service.compound_notices(world.branch, resident)
        assert notice in service.compound_notices(world.branch, _p(world, "committee"), "expired")


def test_withdrawal_keeps_the_notice_on_record_with_its_reason(world: World, login_as: Any) -> None:
    notice = _post(world, "committee", first_unit(world.branch))
    url = f"/notices/{notice.id}/withdraw"
    assert login_as(world.users["resident"]).post(url, data={"reason": "x"}).status_code == 403
    chair = login_as(world.users["committee"])
    assert chair.post(url, data={"reason": ""}).status_code == 422
    assert chair.post(url, data={"reason": "时间改了"}).status_code == 303
    db.session.expire_all()
    notice = db.session.get(Notice, notice.id)
    assert notice.withdrawn and notice.withdraw_reason == "时间改了"
    assert notice.withdrawn_by_id == world.users["committee"].id
    row = db.session.scalars(
        select(AuditLog).where(
            AuditLog.action == "withdraw_notice", AuditLog.entity_id == notice.id
        )
    ).one()
    assert row.after["withdraw_reason"] == "时间改了"
    # Withdrawing twice is refused; the page says so.
    assert chair.post(url, data={"reason": "再撤"}).status_code == 422
    page = login_as(world.users["resident"]).get(f"/notices/{notice.id}").get_data(as_text=True)
    assert "时间改了" in page


# --- comments on a 公示 --------------------------------------------------------------------------


def test_comments_until_the_period_closes(world: World, login_as: Any, held_clock: Any) -> None:
    last_day = clock.today() + timedelta(days=3)
    notice = _post(world, "committee", world.branch, kind="publicity", comments_until=last_day)
    resident = login_as(world.users["resident"])
    url = f"/notices/{notice.id}/comment"
    assert resident.post(url, data={"text": "垃圾桶放远一点"}).status_code == 303
    # Not from someone the notice is not for, nor from the committee itself.
    assert login_as(world.users["tenant"]).post(url, data={"text": "x"}).status_code == 404
    assert login_as(world.users["committee"]).post(url, data={"text": "x"}).status_code == 422
    chair_page = login_as(world.users["committee"]).get(f"/notices/{notice.id}")
    assert "垃圾桶放远一点" in chair_page.get_data(as_text=True)
    # Another resident of the notice's scope does not see it.
    neighbour = user("邻居", resident=world.branch.buildings[1].units[0].households[0].id)
    page = login_as(neighbour).get(f"/notices/{notice.id}").get_data(as_text=True)
    assert "垃圾桶放远一点" not in page
    # The day after the last one: closed, and the page says so.
    held_clock.now = service.end_of(last_day) + timedelta(minutes=1)
    resident = login_as(world.users["resident"])  # signed in afresh, days later
    response = resident.post(url, data={"text": "还有一条"})
    assert response.status_code == 422
    assert "已截止" in response.get_data(as_text=True) or "closed" in response.get_data(
        as_text=True
    )
    assert db.session.scalar(select(func.count()).select_from(NoticeComment)) == 1
    held_clock.now = None


# --- who has been told -------------------------------------------------------------------------


def test_coverage_counts_opened_assisted_and_acknowledged(world: World, login_as: Any) -> None:
    unit = first_unit(world.branch)
    notice = _post(world, "committee", unit, ask_ack=True)
    homes = unit.households
    assert [(line.homes, line.told) for line in service.coverage(notice)] == [(len(homes), 0)]
    # The resident opens it: their home counts as told.
    resident = login_as(world.users["resident"])
    resident.get(f"/notices/{notice.id}")
    resident.get(f"/notices/{notice.id}")  # once only
    reads = db.session.scalars(select(NoticeRead)).all()
    assert [(r.household_id, r.how) for r in reads] == [(homes[0].id, "opened")]
    # The representative tells the neighbour at the door.
    rep = login_as(world.users["rep"])
    response = rep.post(
        f"/notices/{notice.id}/told",
        data={"household_id": homes[1].id, "how": "in_person", "back": "notice"},
    )
    assert response.status_code == 303
    db.session.expire_all()
    read = db.session.scalars(
        select(NoticeRead).where(NoticeRead.household_id == homes[1].id)
    ).one()
    assert read.how == "in_person" and read.by_id == world.users["rep"].id
    assert abs(read.at - clock.now()) < timedelta(minutes=1)
    # Told twice: refused.
    again = rep.post(
        f"/notices/{notice.id}/told",
        data={"household_id": homes[1].id, "how": "phone", "back": "notice"},
    )
    assert again.status_code == 422
    # The resident acknowledges.
    assert resident.post(f"/notices/{notice.id}/ack").status_code == 303
    assert resident.post(f"/notices/{notice.id}/ack").status_code == 303  # refused, flashed
    line = service.coverage(notice)[0]
    assert (line.homes, line.told, line.opened, line.assisted, line.acked) == (2, 2, 1, 1, 1)
    page = login_as(world.users["committee"]).get(f"/notices/{notice.id}").get_data(as_text=True)
    assert "1号楼1单元" in page


def test_a_representative_tells_only_their_units(world: World, login_as: Any) -> None:
    notice = _post(world, "committee", world.branch)
    other_home = world.branch.buildings[0].units[1].households[0]
    response = login_as(world.users["rep"]).post(
        f"/notices/{notice.id}/told",
        data={"household_id": other_home.id, "how": "phone", "back": "notice"},
    )
    assert response.status_code == 422
    assert db.session.scalar(select(func.count()).select_from(NoticeRead)) == 0
    # The committee may tell anyone in scope.
    response = login_as(world.users["committee"]).post(
        f"/notices/{notice.id}/told",
        data={"household_id": other_home.id, "how": "phone", "back": "notice"},
    )
    assert response.status_code == 303
    # A resident tells no one.
    response = login_as(world.users["resident"]).post(
        f"/notices/{notice.id}/told",
        data={"household_id": other_home.id, "how": "phone", "back": "notice"},
    )
    assert response.status_code == 422


def test_the_representatives_round_swaps_one_row(world: World, login_as: Any) -> None:
    notice = _post(world, "committee", world.branch, kind="urgent", title="明日停水")
    rep = login_as(world.users["rep"])
    page = rep.get("/notices/rounds").get_data(as_text=True)
    unit = first_unit(world.branch)
    assert "明日停水" in page
    for home in unit.households:
        assert f"door-{notice.id}-{home.id}" in page
    # Only the rep's own unit: the other unit's doors are not on their page.
    other = world.branch.buildings[0].units[1].households[0]
    assert f"door-{notice.id}-{other.id}" not in page
    # Names of their own units' occupants, as on the roster.
    assert unit.households[1].occupants[0].name in page
    target = f"door-{notice.id}-{unit.households[1].id}"
    response = rep.post(
        f"/notices/{notice.id}/told",
        data={"household_id": unit.households[1].id, "how": "phone", "back": "rounds"},
        headers={"HX-Request": "true", "HX-Target": target},
    )
    assert response.status_code == 200
    row = response.get_data(as_text=True)
    assert row.lstrip().startswith(f'<li id="{target}"') and "周玉梅" in row
    # The count above the doors follows in the same answer, swapped in place.
    coverage = re.search(
        rf'<div id="coverage-{notice.id}" hx-swap-oob="true">(.*?)</div>', row, re.S
    )
    assert coverage is not None and re.search(r"已告知\s*1\s*/", coverage[1]), row
    # On the notice's own page of doors, its table of coverage is what follows.
    target = f"door-{notice.id}-{unit.households[0].id}"
    row = rep.post(
        f"/notices/{notice.id}/told",
        data={"household_id": unit.households[0].id, "how": "in_person", "back": "notice"},
        headers={"HX-Request": "true", "HX-Target": target},
    ).get_data(as_text=True)
    table = re.search(
        rf'<table [^>]*id="coverage-{notice.id}" hx-swap-oob="true">(.*?)</table>', row, re.S
    )
    assert table is not None and re.search(r"已告知\s*2\s*/", table[1]), row
    assert login_as(world.users["resident"]).get("/notices/rounds").status_code == 404


# --- messages when published -------------------------------------------------------------------


def test_publishing_tells_the_scope_once(world: World) -> None:
    unit = first_unit(world.branch)
    notice = _post(world, "committee", unit)
    got = set(
        db.session.scalars(
            select(Message.user_id).where(Message.dedupe_key == f"notice:{notice.id}")
        )
    )
    assert got == {world.users["resident"].id, world.users["rep"].id}
    kinds = set(db.session.scalars(select(Message.kind)))
    assert kinds == {Kind.NOTICE.value}
    assert service.publish_due() == 0  # already announced


def test_scheduled_notices_are_published_by_the_job_once(world: World, app: Flask) -> None:
    notice = _post(
        world,
        "committee",
        first_unit(world.branch),
        publish_on=clock.today() + timedelta(days=1),
        publish_time="07:00",
    )
    assert db.session.scalar(select(func.count()).select_from(Message)) == 0
    runner = app.test_cli_runner()
    with clock.held_at(notice.publish_at + timedelta(minutes=5)):
        result = runner.invoke(args=["notices", "publish"])
        assert "1 notices published" in result.output, result.output
        result = runner.invoke(args=["notices", "publish"])
        assert "0 notices published" in result.output
    db.session.expire_all()
    assert db.session.get(Notice, notice.id).announced_at is not None
    assert db.session.scalar(select(func.count()).select_from(Message)) == 2


def test_withdrawn_before_its_time_is_never_announced(world: World) -> None:
    notice = _post(
        world,
        "committee",
        first_unit(world.branch),
        publish_on=clock.today() + timedelta(days=1),
        publish_time="07:00",
    )
    service.withdraw(notice, "取消", world.users["committee"])
    db.session.commit()
    with clock.held_at(notice.publish_at + timedelta(hours=1)):
        assert service.publish_due() == 0


def test_urgent_notices_go_by_sms_to_consenting_occupants_without_an_account(
    world: World,
) -> None:
    unit = first_unit(world.branch)
    second = unit.households[1]
    agreed = second.occupants[0]  # no account
    agreed.consent_how, agreed.consent_at = Consent.PAPER, clock.now()
    refused = roster.add_occupant(second, "没同意", "13811112222", Relation.FAMILY)
    no_mobile = roster.add_occupant(second, "没手机", None, Relation.FAMILY)
    no_mobile.consent_how, no_mobile.consent_at = Consent.IN_PERSON, clock.now()
    db.session.commit()
    notice = _post(world, "committee", unit, kind="urgent", title="紧急停水")
    sms = db.session.scalars(select(Outbox).where(Outbox.message_id.is_(None))).all()
    assert [(s.mobile, s.urgent) for s in sms] == [(agreed.mobile, True)]
    # The template an urgent notice to an account uses: one approved template covers both.
    assert (sms[0].template, sms[0].params) == ("urgent", {"title": "紧急停水"})
    assert refused.mobile not in {s.mobile for s in sms}
    messages = db.session.scalars(select(Message).where(Message.kind == Kind.URGENT.value)).all()
    assert {m.user_id for m in messages} == {world.users["resident"].id, world.users["rep"].id}
    assert notice.announced_at is not None
    # A plain notice sends no SMS to anyone without an account.
    _post(world, "committee", unit, title="普通通知")
    assert (
        db.session.scalar(
            select(func.count()).select_from(Outbox).where(Outbox.message_id.is_(None))
        )
        == 1
    )


def test_urgent_sms_to_the_roster_skips_accounts_bad_numbers_and_repeats(world: World) -> None:
    unit = first_unit(world.branch)
    own_home, second = unit.households[0], unit.households[1]
    resident = world.users["resident"]
    messages_service.set_sms_kinds(resident, [])  # opted out of urgent SMS too
    agreed = second.occupants[0]
    agreed.consent_how, agreed.consent_at = Consent.PAPER, clock.now()
    # The resident's own mobile on the other home's record, which no account is linked to.
    twin = roster.add_occupant(second, resident.name, resident.mobile, Relation.FAMILY)
    # The same neighbour recorded in both homes: one SMS, not two.
    again = roster.add_occupant(own_home, agreed.name, agreed.mobile, Relation.FAMILY)
    broken = roster.add_occupant(own_home, "号码错", "12345", Relation.FAMILY)
    for occupant in (twin, again, broken):
        occupant.consent_how, occupant.consent_at = Consent.IN_PERSON, clock.now()
    db.session.commit()
    _post(world, "committee", unit, kind="urgent", title="紧急停电")
    sms = db.session.scalars(select(Outbox).order_by(Outbox.id)).all()
    assert [s.mobile for s in sms if s.message_id is None] == [agreed.mobile]
    assert resident.mobile not in {s.mobile for s in sms}  # their opt-out holds
    assert "12345" not in {s.mobile for s in sms}


def test_the_dev_box_tells_a_resident_without_an_account_what_happened(world: World) -> None:
    from compound_app.messages import delivery
    from compound_app.messages.providers import DevBackend

    unit = first_unit(world.branch)
    agreed = unit.households[1].occupants[0]
    agreed.consent_how, agreed.consent_at = Consent.PAPER, clock.now()
    db.session.commit()
    _post(world, "committee", unit, kind="urgent", title="今晚八点停水")
    delivery.run_batch("w", DevBackend())
    text = db.session.scalars(select(DevSms.text).where(DevSms.mobile == agreed.mobile)).one()
    assert "今晚八点停水" in text
    assert text == messages_service.sms_text("urgent", {"title": "今晚八点停水"})
    assert text != messages_service.sms_text("notice", {"title": "今晚八点停水"})


def test_an_overlapping_publish_run_skips_the_notice_another_run_holds(
    world: World, app: Flask
) -> None:
    if db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite's BEGIN IMMEDIATE lets one publishing run write at a time")
    from sqlalchemy import text

    notice = _post(
        world,
        "committee",
        first_unit(world.branch),
        kind="urgent",
        publish_on=clock.today() + timedelta(days=1),
        publish_time="07:00",
    )
    other = db.engine.connect()  # the first run, still announcing it
    try:
        with other.begin():
            other.execute(
                text("SELECT id FROM notice WHERE id = :id FOR UPDATE"), {"id": notice.id}
            )
            db.session.execute(text("SET LOCAL lock_timeout = '2s'"))
            with clock.held_at(notice.publish_at + timedelta(minutes=5)):
                assert service.publish_due() == 0  # not waiting, not announcing it twice
            db.session.rollback()
            # The first run announces and commits; a later run finds nothing to do.
            other.execute(
                text("UPDATE notice SET announced_at = now() WHERE id = :id"), {"id": notice.id}
            )
        with clock.held_at(notice.publish_at + timedelta(minutes=6)):
            assert service.publish_due() == 0
        assert db.session.scalar(select(func.count()).select_from(Message)) == 0
    finally:
        other.close()


# --- the poster and its public page ------------------------------------------------------------


def test_poster_and_public_page_show_the_paper_only(
    world: World, login_as: Any, client: Any
) -> None:
    unit = first_unit(world.branch)
    notice = _post(world, "committee", unit, files=[_photo()], body=["<b>明天</b>停水"])
    response = login_as(world.users["committee"]).get(f"/notices/{notice.id}/poster")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "data:image/svg+xml;base64" in page and notice.title in page
    link = public.live_link(LinkKind.NOTICE, notice.id)
    assert link is not None
    assert login_as(world.users["resident"]).get(f"/notices/{notice.id}/poster").status_code == 403
    # Someone scans the code: no sign-in, the notice as printed (no photo), nothing personal.
    shown = client.get(f"/p/{link.token}")
    assert shown.status_code == 200
    text = shown.get_data(as_text=True)
    assert notice.title in text and "data:image/jpeg" not in text
    assert "&lt;b&gt;明天&lt;/b&gt;停水" in text
    for occupant in db.session.scalars(select(Occupant)):
        assert occupant.name not in text
        assert not occupant.mobile or occupant.mobile not in text
    assert world.users["committee"].name not in text
    assert "noindex" in text
    # Withdrawn: the code leads nowhere.
    service.withdraw(notice, "改期", world.users["committee"])
    db.session.commit()
    assert client.get(f"/p/{link.token}").status_code == 404


def test_public_page_of_a_scheduled_notice_is_not_found(world: World, client: Any) -> None:
    notice = _post(
        world,
        "committee",
        first_unit(world.branch),
        publish_on=clock.today() + timedelta(days=1),
        publish_time="08:00",
    )
    link = public.live_link(LinkKind.NOTICE, notice.id)
    assert link is not None
    assert client.get(f"/p/{link.token}").status_code == 404


# --- notices posted by fees and votes ----------------------------------------------------------


def test_a_fee_schedules_publicity_posts_a_publicity_notice(world: World) -> None:
    from compound_app.fees import schedules

    area = world.branch.area
    draft = schedules.new_draft(area, world.users["committee"])
    schedules.add_item(draft, name="保洁", scope="楼道", basis="per_household", rate_fen=1500)
    schedules.publish(draft)
    db.session.commit()
    notice = db.session.scalars(select(Notice)).one()
    assert notice.kind == "publicity" and notice.area_id == area.id
    assert notice.scope_kind == "area" and notice.comments_until is not None
    assert notice.link == f"/fees/schedules/{draft.id}"
    assert any("保洁" in line and "¥15.00" in line for line in notice.body)
    assert notice.announced_at is not None


def test_opening_a_vote_posts_a_notice_to_its_electorate(world: World) -> None:
    from compound_app.votes import service as votes

    vote = votes.create_vote(
        votes.resolve_scope("compound", world.branch.id),
        "manager",
        "选聘物业",
        "是否选聘物业公司",
        clock.today() + timedelta(days=10),
        world.users["committee"],
    )
    db.session.commit()
    assert db.session.scalar(select(func.count()).select_from(Notice)) == 0  # a draft
    open_announced(vote, world.users["committee"])
    db.session.commit()
    announced, notice = db.session.scalars(select(Notice).order_by(Notice.id)).all()
    assert announced.source == f"vote-announce:{vote.id}" and "公告" in announced.title
    assert notice.compound_id == world.branch.id and notice.source == f"vote:{vote.id}"
    assert "选聘物业" in notice.title and notice.link == f"/votes/{vote.id}"
    assert notice.posted_by_id == world.users["committee"].id


def test_an_elector_hears_of_an_opened_vote_once(world: World) -> None:
    from compound_app.votes import service as votes

    resident, rep = world.users["resident"], world.users["rep"]
    # Someone who wants both votes and notices by SMS.
    messages_service.set_sms_kinds(resident, [Kind.VOTE.value, Kind.NOTICE.value])
    messages_service.set_sms_kinds(rep, [Kind.NOTICE.value])
    vote = votes.create_vote(
        votes.resolve_scope("compound", world.branch.id),
        "manager",
        "选聘物业",
        "是否选聘物业公司",
        clock.today() + timedelta(days=10),
        world.users["committee"],
    )
    db.session.commit()
    announced_ago(vote, world.users["committee"])
    db.session.commit()
    # The announcement (公告) reached the scope as a notice; then the vote opens.
    before = db.session.scalar(select(func.max(Message.id)))
    by_sms = select(func.count()).select_from(Outbox).where(Outbox.mobile == resident.mobile)
    sent = db.session.scalar(by_sms)
    votes.open_vote(vote, world.users["committee"])
    db.session.commit()
    notice = db.session.scalars(select(Notice).where(Notice.source == f"vote:{vote.id}")).one()
    told = db.session.scalars(
        select(Message).where(Message.user_id == resident.id, Message.id > before)
    ).all()
    assert [m.dedupe_key for m in told] == [f"vote-open:{vote.id}"]
    assert db.session.scalar(by_sms) - sent == 1
    # Whoever in scope is no elector still reads the notice (the representative here).
    keys = db.session.scalars(
        select(Message.dedupe_key).where(Message.user_id == rep.id, Message.id > before)
    )
    assert list(keys) == [f"notice:{notice.id}"]


def test_publishing_a_finance_board_posts_a_notice(world: World) -> None:
    from compound_app.fees import reports
    from compound_app.months import add_months, month_of

    area = world.branch.area
    board = reports.publish_board(
        area, add_months(month_of(clock.today()), -1), world.users["committee"]
    )
    db.session.commit()
    notice = db.session.scalars(select(Notice)).one()
    assert notice.source == f"board:{board.id}" and notice.area_id == area.id
    assert notice.kind == "notice" and notice.link.startswith(f"/fees/areas/{area.id}/board")


def test_audit_rows_name_the_notice(world: World) -> None:
    with_request = _post(world, "committee", first_unit(world.branch))
    actions = set(db.session.scalars(select(AuditLog.action).where(AuditLog.entity == "notice")))
    assert {"create_notice", "announce_notice"} <= actions
    assert with_request.id


def test_the_compound_page_links_to_its_notices(world: World, login_as: Any) -> None:
    page = login_as(world.users["resident"]).get(f"/registry/compounds/{world.branch.id}")
    assert f"/notices/compounds/{world.branch.id}" in page.get_data(as_text=True)


def test_pages_answer_for_every_role(world: World, login_as: Any) -> None:
    notice = _post(world, "committee", world.branch, kind="publicity", ask_ack=True)
    for key in ("admin", "staff", "committee", "rep", "resident"):
        c = login_as(world.users[key])
        assert c.get(f"/notices/{notice.id}").status_code == 200, key
        assert c.get(f"/notices/compounds/{world.branch.id}").status_code == 200, key
    for key in ("tenant", "outsider", "other_staff", "area_committee"):
        assert login_as(world.users[key]).get(f"/notices/{notice.id}").status_code == 404, key
    assert login_as(world.users["rep"]).get(f"/notices/{notice.id}/doors").status_code == 200
    assert login_as(world.users["resident"]).get(f"/notices/{notice.id}/doors").status_code == 403
    assert login_as(world.users["committee"]).get(f"/notices/{notice.id}/doors").status_code == 200

"""The owners' right to see: who sees an area's archive and itemised expenses, documents
and their versions, withdrawal, uploads refused, the tenants setting, no resident's name
on the itemised pages, and the fee schedule's link to its 公示."""

from __future__ import annotations

import io
from typing import Any

import pytest
from sqlalchemy import func, select

from compound_app import access, clock
from compound_app.access import Action
from compound_app.archive import service
from compound_app.archive.models import (
    ArchiveChangeRefused,
    ArchiveSettings,
    DocKind,
    Document,
    DocumentVersion,
)
from compound_app.archive.pdf import simple_pdf
from compound_app.audit import AuditLog
from compound_app.extensions import db
from compound_app.fees import expenses, reports, schedules
from compound_app.fees.models import Expense, ExpenseKind
from compound_app.months import month_of
from compound_app.registry import roster
from compound_app.registry.models import Occupant, Relation
from tests.factories import (
    World,
    archive_objects,
    fee_schedule,
    first_household,
    user,
)


def _key(n: int) -> str:
    return f"archive-form-key-{n:08d}-abcdef"


def _p(u: Any) -> access.Principal:
    return access.load_principal(u)


@pytest.fixture
def archived(world: World) -> World:
    """A covenant and an expense with a voucher in the branch's and the trust's areas."""
    world.ids = {  # type: ignore[attr-defined]
        "branch": archive_objects(world.branch, world.users["committee"]),
        "trust": archive_objects(world.trust, world.users["staff"]),
    }
    return world


def _co_owner(world: World) -> Any:
    home = first_household(world.branch)
    co = user("李桂芝", resident=home.id)
    roster.add_occupant(home, co.name, co.mobile, Relation.CO_OWNER).user_id = co.id
    db.session.commit()
    return co


def _family(world: World) -> Any:
    home = first_household(world.branch)
    member = user("吴小明", resident=home.id)
    roster.add_occupant(home, member.name, member.mobile, Relation.FAMILY).user_id = member.id
    db.session.commit()
    return member


# --- who sees ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "branch_sees", "branch_keeps", "trust_sees"),
    [
        ("resident", True, False, False),  # the branch's owner
        ("tenant", False, False, False),  # a tenant in the trust: not opened
        ("rep", True, False, False),
        ("committee", True, True, False),
        ("area_committee", False, False, False),  # another area's committee
        ("staff", True, True, True),
        ("admin", True, True, True),
        ("other_staff", False, False, False),
        ("outsider", False, False, False),
    ],
)
def test_who_sees_the_accounts_and_keeps_the_archive(
    world: World, key: str, branch_sees: bool, branch_keeps: bool, trust_sees: bool
) -> None:
    p = _p(world.users[key])
    assert access.can(Action.VIEW_ACCOUNTS, world.branch.area, p) is branch_sees
    assert access.can(Action.KEEP_ARCHIVE, world.branch.area, p) is branch_keeps
    assert access.can(Action.VIEW_ACCOUNTS, world.trust.area, p) is trust_sees


def test_co_owners_see_family_and_tenants_only_when_the_area_opens_it(world: World) -> None:
    area = world.branch.area
    assert access.can(Action.VIEW_ACCOUNTS, area, _p(_co_owner(world)))
    family = _family(world)
    assert not access.can(Action.VIEW_ACCOUNTS, area, _p(family))
    tenant = world.users["tenant"]
    assert not access.can(Action.VIEW_ACCOUNTS, world.trust.area, _p(tenant))
    service.set_open_to_tenants(world.trust.area, True, world.users["staff"])
    service.set_open_to_tenants(area, True, world.users["committee"])
    db.session.commit()
    assert access.can(Action.VIEW_ACCOUNTS, world.trust.area, _p(tenant))
    assert access.can(Action.VIEW_ACCOUNTS, area, _p(family))
    # Opening it never lets anyone keep it, nor reaches another area.
    assert not access.can(Action.KEEP_ARCHIVE, world.trust.area, _p(tenant))
    assert not access.can(Action.VIEW_ACCOUNTS, area, _p(tenant))


def test_pages_answer_by_role(archived: World, login_as: Any) -> None:
    ids = archived.ids["branch"]  # type: ignore[attr-defined]
    area_id = archived.branch.area_id
    pages = [
        f"/archive/areas/{area_id}",
        f"/archive/areas/{area_id}/expenses",
        f"/archive/documents/{ids['document_id']}",
        f"/archive/versions/{ids['version_id']}",
        f"/archive/expenses/{ids['voucher_expense_id']}/voucher",
    ]
    for key in ("resident", "rep", "committee", "staff"):
        client = login_as(archived.users[key])
        for page in pages:
            assert client.get(page).status_code == 200, (key, page)
    # Residents of other areas, another community's staff: not found.
    for key in ("tenant", "other_staff", "outsider", "area_committee"):
        client = login_as(archived.users[key])
        for page in pages:
            assert client.get(page).status_code == 404, (key, page)
    # A tenant in her own area: the area is seen, its accounts are not (refused); a
    # document not at all.
    trust = archived.ids["trust"]  # type: ignore[attr-defined]
    tenant = login_as(archived.users["tenant"])
    assert tenant.get(f"/archive/areas/{archived.trust.area_id}/expenses").status_code == 403
    assert tenant.get(f"/archive/expenses/{trust['voucher_expense_id']}/voucher").status_code == 403
    assert tenant.get(f"/archive/documents/{trust['document_id']}").status_code == 404
    assert tenant.get(f"/fees/areas/{archived.trust.area_id}/board").status_code == 200


def test_the_tenants_setting_is_the_committees_and_audited(archived: World, login_as: Any) -> None:
    area_id = archived.trust.area_id
    url = f"/archive/areas/{area_id}/tenants"
    tenant = login_as(archived.users["tenant"])
    assert tenant.post(url, data={"open_to_tenants": "yes"}).status_code == 403
    staff = login_as(archived.users["staff"])
    assert staff.post(url, data={"open_to_tenants": "yes"}).status_code == 303
    settings = db.session.get(ArchiveSettings, area_id)
    assert settings is not None and settings.open_to_tenants
    assert settings.changed_by_id == archived.users["staff"].id
    row = db.session.scalars(select(AuditLog).where(AuditLog.action == "archive_tenants")).one()
    assert row.after["open_to_tenants"] is True and row.before["open_to_tenants"] is False
    assert tenant.get(f"/archive/areas/{area_id}/expenses").status_code == 200
    trust = archived.ids["trust"]  # type: ignore[attr-defined]
    assert tenant.get(f"/archive/documents/{trust['document_id']}").status_code == 200
    assert staff.post(url, data={"open_to_tenants": "no"}).status_code == 303
    assert tenant.get(f"/archive/areas/{area_id}/expenses").status_code == 403
    # Anything but yes or no changes nothing.
    assert staff.post(url, data={"open_to_tenants": "maybe"}).status_code == 303
    db.session.expire_all()
    assert not db.session.get(ArchiveSettings, area_id).open_to_tenants


# --- documents, versions, withdrawal ------------------------------------------------------


def _upload(client: Any, area_id: int, key: int, content: bytes, name: str = "合同.pdf", **kw: Any):  # type: ignore[no-untyped-def]
    data = {
        "kind": "contract",
        "title": "保洁服务合同",
        "dated": clock.today().isoformat(),
        "counterparty": "孝义市洁美保洁有限公司",
        "amount": "12,000",
        "key": _key(key),
        "file": (io.BytesIO(content), name),
        **kw,
    }
    return client.post(
        f"/archive/areas/{area_id}/new", data=data, content_type="multipart/form-data"
    )


def test_a_contract_uploaded_twice_is_kept_once_with_its_terms(world: World, login_as: Any) -> None:
    chair = login_as(world.users["committee"])
    area_id = world.branch.area_id
    assert chair.get(f"/archive/areas/{area_id}/new").status_code == 200
    pdf = simple_pdf("保洁服务合同", ["甲方：新国土小区物管会"])
    first = _upload(chair, area_id, 1, pdf)
    assert first.status_code == 303
    again = _upload(chair, area_id, 1, pdf)  # a double tap
    assert again.status_code == 303 and again.headers["Location"] == first.headers["Location"]
    document = db.session.scalars(select(Document)).one()
    assert document.kind == DocKind.CONTRACT and document.amount_fen == 1_200_000
    assert document.counterparty == "孝义市洁美保洁有限公司"
    assert db.session.scalar(select(func.count(DocumentVersion.id))) == 1
    owner = login_as(world.users["resident"])
    page = owner.get(f"/archive/areas/{area_id}").get_data(as_text=True)
    assert "保洁服务合同" in page and "孝义市洁美保洁有限公司" in page and "¥12,000.00" in page
    download = owner.get(f"/archive/versions/{document.versions[0].id}")
    assert download.status_code == 200 and download.mimetype == "application/pdf"
    assert download.data.startswith(b"%PDF-")
    assert "attachment" in download.headers["Content-Disposition"]
    # Residents and representatives do not upload.
    for key in ("resident", "rep"):
        assert _upload(login_as(world.users[key]), area_id, 9, pdf).status_code == 403


def test_new_versions_keep_the_old_and_withdrawal_keeps_the_record(
    archived: World, login_as: Any
) -> None:
    ids = archived.ids["branch"]  # type: ignore[attr-defined]
    document = db.session.get(Document, ids["document_id"])
    chair = login_as(archived.users["committee"])
    url = f"/archive/documents/{document.id}/versions"
    data = {"note": "第二次业主大会修订", "key": _key(2)}
    for _twice in range(2):
        response = chair.post(
            url,
            data={**data, "file": (io.BytesIO(simple_pdf("管理规约", ["修订"])), "v2.pdf")},
            content_type="multipart/form-data",
        )
        assert response.status_code == 303
    db.session.expire_all()
    versions = db.session.get(Document, document.id).versions
    assert [v.number for v in versions] == [2, 1]
    assert versions[1].id == ids["version_id"] and versions[0].note == "第二次业主大会修订"
    assert versions[0].uploaded_by_id == archived.users["committee"].id
    # A version is never rewritten.
    versions[1].note = "改写"
    with pytest.raises(ArchiveChangeRefused):
        db.session.flush()
    db.session.rollback()
    owner = login_as(archived.users["resident"])
    page = owner.get(f"/archive/documents/{document.id}").get_data(as_text=True)
    assert all(f"/archive/versions/{v.id}" in page for v in versions)
    assert owner.get(f"/archive/versions/{ids['version_id']}").status_code == 200
    # Withdrawn: with a reason only; gone for owners, on record for the committee.
    withdraw = f"/archive/documents/{document.id}/withdraw"
    assert chair.post(withdraw, data={"reason": ""}).status_code == 422
    assert login_as(archived.users["rep"]).post(withdraw, data={"reason": "x"}).status_code == 403
    assert chair.post(withdraw, data={"reason": "已由新规约取代"}).status_code == 303
    db.session.expire_all()
    document = db.session.get(Document, document.id)
    assert document.withdrawn and document.withdraw_reason == "已由新规约取代"
    assert len(document.versions) == 2
    assert owner.get(f"/archive/documents/{document.id}").status_code == 404
    assert owner.get(f"/archive/versions/{ids['version_id']}").status_code == 404
    listed = f"/archive/documents/{document.id}"
    assert listed not in owner.get(f"/archive/areas/{document.area_id}").get_data(as_text=True)
    committee_page = chair.get(f"/archive/documents/{document.id}").get_data(as_text=True)
    assert "已由新规约取代" in committee_page
    assert listed in chair.get(f"/archive/areas/{document.area_id}").get_data(as_text=True)
    # No new version of a withdrawn document; a second withdrawal is refused.
    again = chair.post(
        url,
        data={"key": _key(3), "file": (io.BytesIO(simple_pdf("x", [])), "v3.pdf")},
        content_type="multipart/form-data",
    )
    assert again.status_code == 422
    assert chair.post(withdraw, data={"reason": "再撤"}).status_code == 422
    assert db.session.scalar(select(func.count(DocumentVersion.id))) == 3  # 2 + the trust's


@pytest.mark.parametrize(
    ("content", "name"),
    [
        (b"<html><script>alert(1)</script></html>", "合同.pdf"),  # HTML renamed .pdf
        (b"%PDF-" + b"0" * (10 * 1024 * 1024), "大文件.pdf"),  # over 10 MB
        (b"", "空.pdf"),
    ],
)
def test_bad_uploads_are_refused_and_nothing_kept(
    world: World, login_as: Any, content: bytes, name: str
) -> None:
    chair = login_as(world.users["committee"])
    response = _upload(chair, world.branch.area_id, 5, content, name)
    assert response.status_code == 422
    assert db.session.scalar(select(func.count(Document.id))) == 0
    assert db.session.scalar(select(func.count(DocumentVersion.id))) == 0


def test_a_photo_is_re_encoded(world: World, login_as: Any) -> None:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (30, 20), (10, 200, 10)).save(buffer, "PNG")
    chair = login_as(world.users["committee"])
    response = _upload(
        chair, world.branch.area_id, 6, buffer.getvalue(), "纪要.png", kind="minutes"
    )
    assert response.status_code == 303
    version = db.session.scalars(select(DocumentVersion)).one()
    assert version.file_kind == "photo" and version.file_name.endswith(".jpg")
    document = version.document
    assert document.counterparty == "" and document.amount_fen is None  # contracts only


def test_records_that_are_documents_appear_once_from_their_own_pages(
    world: World, login_as: Any
) -> None:
    from tests.factories import notice_objects, pilot_vote_objects

    notice_objects(world.branch, world.users["committee"])
    pilot_vote_objects(world.branch, world.users["committee"])
    owner = login_as(world.users["resident"])
    page = owner.get(f"/archive/areas/{world.branch.area_id}").get_data(as_text=True)
    assert "楼道清理公示" in page  # the notice, from the notices
    assert "/notices/" in page


# --- itemised expenses ---------------------------------------------------------------------


def _expense(world: World, amount: int, payee: str, key: int, **kw: Any) -> Expense:
    expense = expenses.record_expense(
        world.branch.area,
        world.users["committee"],
        kind=kw.pop("kind", ExpenseKind.OTHER),
        category=kw.pop("category", ""),
        amount_fen=amount,
        payee=payee,
        spent_on=clock.today(),
        note=kw.pop("note", ""),
        voucher=kw.pop("voucher", None),
        request_key=_key(100 + key),
    )
    db.session.commit()
    return expense


def test_the_itemised_list_adds_up_to_the_board_and_shows_void(
    archived: World, login_as: Any
) -> None:
    fee_schedule(archived.branch.area)
    schedules.catch_up(archived.branch.area_id)
    db.session.commit()
    kept = _expense(archived, 20_000, "孝义市洁美保洁有限公司", 1, note="十二月保洁")
    wrong = _expense(archived, 5_000, "五金店", 2)
    expenses.void_expense(wrong, "录重了", archived.users["committee"])
    db.session.commit()
    month = month_of(clock.today())
    figures = reports.figures(archived.branch.area, month)
    other = next(r for r in figures["expenses"] if r["kind"] == "other")
    items = service.itemised(archived.branch.area_id, month, "other", "")
    assert items.total == other["amount"] == 20_000 + 3_000
    owner = login_as(archived.users["resident"])
    page = owner.get(
        f"/archive/areas/{archived.branch.area_id}/expenses?month={month:%Y-%m}&kind=other&category="
    ).get_data(as_text=True)
    assert "孝义市洁美保洁有限公司" in page and "十二月保洁" in page
    assert "作废" in page and "录重了" in page
    assert f"/archive/expenses/{kept.id}/voucher" not in page  # no voucher photo
    # The board links each category to its expenses, for those who see them.
    board = owner.get(f"/fees/areas/{archived.branch.area_id}/board?month={month:%Y-%m}")
    assert "/archive/areas/" in board.get_data(as_text=True)
    # Query strings are never an error.
    for query in ("?month=x&kind=<script>", "?month=2099-01", "?kind=service&category=%00"):
        response = owner.get(f"/archive/areas/{archived.branch.area_id}/expenses{query}")
        assert response.status_code == 200, query


def test_no_residents_name_or_mobile_on_the_itemised_pages(archived: World, login_as: Any) -> None:
    roster_people = db.session.scalars(select(Occupant)).all()
    assert len(roster_people) > 5
    viewer = archived.users["resident"]
    ids = archived.ids["branch"]  # type: ignore[attr-defined]
    owner = login_as(viewer)
    area_id = archived.branch.area_id
    for page in (
        f"/archive/areas/{area_id}/expenses",
        f"/archive/areas/{area_id}/expenses?month={month_of(clock.today()):%Y-%m}",
        f"/archive/areas/{area_id}",
        f"/archive/documents/{ids['document_id']}",
    ):
        text = owner.get(page).get_data(as_text=True)
        assert (
            "五金店" in text or "管理规约" in text or ("?month" not in page and "expenses" in page)
        )
        # The committee members who entered them are residents too: no names at all.
        for person in roster_people:
            if person.user_id == viewer.id:
                continue  # the header greets the signed-in owner by name
            assert person.name not in text, (page, person.name)
            assert not person.mobile or person.mobile not in text, (page, person.mobile)
        assert archived.users["committee"].name not in text


def test_a_tenant_sees_no_itemised_link_on_the_board(archived: World, login_as: Any) -> None:
    tenant = login_as(archived.users["tenant"])
    board = tenant.get(f"/fees/areas/{archived.trust.area_id}/board").get_data(as_text=True)
    assert "/archive/" not in board


# --- the fee schedule's 公示 ---------------------------------------------------------------


def test_the_schedule_page_links_to_its_publicity_for_comments(world: World, login_as: Any) -> None:
    draft = schedules.new_draft(world.branch.area, world.users["committee"])
    schedules.add_item(draft, name="保洁", scope="", basis="per_household", rate_fen=1000)
    schedules.publish(draft)
    db.session.commit()
    notice = service.schedule_notice(draft, _p(world.users["resident"]))
    assert notice is not None and notice.kind == "publicity"
    page = login_as(world.users["resident"]).get(f"/fees/schedules/{draft.id}")
    text = page.get_data(as_text=True)
    assert f"/notices/{notice.id}" in text
    # Someone the notice does not reach gets no link.
    assert service.schedule_notice(draft, _p(world.users["outsider"])) is None

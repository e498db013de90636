"""The inbox and SMS choices as services: notify, dedupe, preferences, consent, paging."""

from __future__ import annotations

from sqlalchemy import func, select

from compound_app import clock
from compound_app.extensions import db
from compound_app.messages import service
from compound_app.messages.models import Kind, Message, Outbox, SmsPreference
from compound_app.registry import roster
from compound_app.registry.models import Consent, Relation
from tests.factories import first_household, user
from tests.helpers import count_statements


def _count(model: type, **where: object) -> int:
    stmt = select(func.count()).select_from(model)
    for name, value in where.items():
        stmt = stmt.where(getattr(model, name) == value)
    return db.session.scalar(stmt) or 0


def test_notify_writes_one_message_each_and_sms_only_where_wanted(world):
    resident, tenant = world.users["resident"], world.users["tenant"]
    service.set_sms_kinds(tenant, [Kind.REPAIR.value])
    written = service.notify([resident, tenant], Kind.REPAIR, "维修已完成", "/repairs/1")
    db.session.commit()
    assert {m.user_id for m in written} == {resident.id, tenant.id}
    sms = db.session.scalars(select(Outbox)).all()
    assert [(o.mobile, o.template, o.urgent) for o in sms] == [(tenant.mobile, "repair", False)]
    assert sms[0].message_id == next(m.id for m in written if m.user_id == tenant.id)


def test_urgent_comes_by_sms_by_default_and_can_be_turned_off(world):
    resident, tenant = world.users["resident"], world.users["tenant"]
    assert service.wants_sms(resident, Kind.URGENT)
    assert not service.wants_sms(resident, Kind.BILL)
    service.set_sms_kinds(tenant, [])  # an explicit choice: nothing by SMS
    service.notify([resident, tenant], Kind.URGENT, "明早停水")
    db.session.commit()
    sms = db.session.scalars(select(Outbox)).all()
    assert [(o.mobile, o.urgent) for o in sms] == [(resident.mobile, True)]
    assert db.session.get(SmsPreference, tenant.id).kinds == []


def test_unknown_kinds_are_dropped_from_a_choice(world):
    resident = world.users["resident"]
    pref = service.set_sms_kinds(resident, ["bill", "login", "nonsense", "bill", "vote"])
    assert pref.kinds == ["bill", "vote"]
    assert service.sms_kinds(resident.id) == {"bill", "vote"}


def test_dedupe_key_reaches_each_person_once(world):
    resident = world.users["resident"]
    for _ in range(3):
        service.notify([resident], Kind.BILL, "账单已出", dedupe_key="bill:1:2026-06")
    db.session.commit()
    assert _count(Message, user_id=resident.id) == 1


def test_disabled_accounts_get_nothing(world):
    tenant = world.users["tenant"]
    tenant.is_enabled = False
    assert service.notify([tenant], Kind.URGENT, "停电") == []


def test_notify_costs_the_same_for_many_people(world):
    people = [user(f"居民{i}") for i in range(12)]
    assert all(p.is_enabled for p in people)  # loaded, as a service's callers have them
    with count_statements() as few:
        service.notify(people[:2], Kind.URGENT, "停水", dedupe_key="water-1")
        db.session.flush()
    with count_statements() as many:
        service.notify(people, Kind.URGENT, "停水", dedupe_key="water-2")
        db.session.flush()
    selects = [s for s in many if s.lstrip().upper().startswith("SELECT")]
    assert len(selects) == len([s for s in few if s.lstrip().upper().startswith("SELECT")])


def test_may_sms_occupant_needs_consent_and_no_account(world):
    home = first_household(world.branch)
    neighbour = roster.add_occupant(home, "王大妈", "13812345678", Relation.FAMILY)
    db.session.flush()
    assert not service.may_sms_occupant(neighbour)  # no consent on the roster
    neighbour.consent_how, neighbour.consent_at = Consent.PAPER, clock.now()
    assert service.may_sms_occupant(neighbour)
    neighbour.user_id = world.users["resident"].id  # has an account: reached through it
    assert not service.may_sms_occupant(neighbour)
    nobody = roster.add_occupant(home, "李大爷", None, Relation.FAMILY)
    nobody.consent_how, nobody.consent_at = Consent.IN_PERSON, clock.now()
    assert not service.may_sms_occupant(nobody)


def test_inbox_newest_first_paged_and_marked_read(world):
    resident = world.users["resident"]
    for n in range(35):
        service.notify([resident], Kind.NOTICE, f"通知{n}")
    db.session.commit()
    first = service.inbox(resident.id, 1)
    assert first.pages == 2 and first.unread == 35
    assert first.messages[0].title == "通知34" and len(first.messages) == service.PAGE_SIZE
    last = service.inbox(resident.id, 99)  # beyond the end: the last page
    assert last.page == 2 and last.messages[-1].title == "通知0"
    service.mark_read(first.messages[0])
    assert service.unread_count(resident.id) == 34
    assert service.mark_all_read(resident) == 34
    assert service.unread_count(resident.id) == 0


def test_unread_count_is_one_statement(world):
    with count_statements() as seen:
        service.unread_count(world.users["resident"].id)
    assert len(seen) == 1 and "count" in seen[0].lower()


def test_sms_text_per_template(app):
    assert "123456" in service.sms_text("login_code", {"code": "123456"})
    assert "停水" in service.sms_text("urgent", {"title": "停水"})
    assert "账单" in service.sms_text("bill", {"title": "账单"})

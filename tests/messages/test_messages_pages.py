"""The inbox, SMS choices, the home page's 待办, and the staff's SMS pages, through HTTP."""

from __future__ import annotations

from sqlalchemy import func, select

from compound_app.extensions import db
from compound_app.messages import delivery, service
from compound_app.messages.models import DevSms, Kind, Message, Outbox, OutboxStatus
from compound_app.messages.providers import DevBackend
from compound_app.messages.service import enqueue_sms
from tests.factories import fee_objects, first_household, repair_objects
from tests.helpers import count_statements


def _message(u, title="维修已完成，请验收", url="/repairs/mine"):  # type: ignore[no-untyped-def]
    (m,) = service.notify([u], Kind.REPAIR, title, url)
    db.session.commit()
    return m


def test_inbox_lists_unread_first_marked_and_the_badge_counts(world, login_as):
    resident = world.users["resident"]
    _message(resident, "旧消息")
    _message(resident, "新消息")
    client = login_as(resident)
    page = client.get("/messages/").get_data(as_text=True)
    assert page.index("新消息") < page.index("旧消息")
    assert 'class="badge unread-count"' in page and ">2</span>" in page
    assert client.get("/").get_data(as_text=True).count("/messages/") >= 2


def test_opening_a_message_marks_it_read_and_goes_to_its_page(world, login_as):
    resident = world.users["resident"]
    m = _message(resident)
    client = login_as(resident)
    response = client.post(f"/messages/{m.id}/open")
    assert response.status_code == 303 and response.headers["Location"] == "/repairs/mine"
    db.session.expire_all()
    assert db.session.get(Message, m.id).read_at is not None
    again = client.post(f"/messages/{m.id}/open")  # a second tap: still fine
    assert again.status_code == 303


def test_a_message_with_an_off_site_link_goes_to_the_inbox(world, login_as):
    resident = world.users["resident"]
    m = _message(resident, url="//evil.example/")
    response = login_as(resident).post(f"/messages/{m.id}/open")
    assert response.headers["Location"] == "/messages/"


def test_another_persons_message_is_not_found(world, login_as):
    m = _message(world.users["resident"])
    for role in ("admin", "staff", "committee", "tenant"):
        assert login_as(world.users[role]).post(f"/messages/{m.id}/open").status_code == 404
    db.session.expire_all()
    assert db.session.get(Message, m.id).read_at is None


def test_mark_all_read(world, login_as):
    resident = world.users["resident"]
    for _ in range(3):
        _message(resident)
    _message(world.users["tenant"])
    response = login_as(resident).post("/messages/read")
    assert response.status_code == 303
    assert (
        service.unread_count(resident.id) == 0
        and service.unread_count(world.users["tenant"].id) == 1
    )


def test_sms_choices_saved_and_bad_input_refused(world, login_as):
    resident = world.users["resident"]
    client = login_as(resident)
    page = client.get("/messages/sms").get_data(as_text=True)
    assert 'value="urgent" checked' in page or 'checked value="urgent"' in page or "checked" in page
    response = client.post("/messages/sms", data={"kinds": ["repair", "bill"]})
    assert response.status_code == 303
    assert service.sms_kinds(resident.id) == {"repair", "bill"}
    refused = client.post("/messages/sms", data={"kinds": ["repair", "<script>"]})
    assert refused.status_code == 422
    assert service.sms_kinds(resident.id) == {"repair", "bill"}
    assert client.post("/messages/sms", data={}).status_code == 303  # nothing ticked: allowed
    assert service.sms_kinds(resident.id) == set()


def test_the_inbox_costs_the_same_for_a_long_history(world, login_as):
    resident = world.users["resident"]
    client = login_as(resident)
    _message(resident)
    with count_statements() as few:
        client.get("/messages/")
    for n in range(60):
        service.notify([resident], Kind.NOTICE, f"通知{n}")
    db.session.commit()
    with count_statements() as many:
        client.get("/messages/")
    assert len(many) == len(few)


def test_home_shows_what_waits_for_the_resident(world, login_as):
    from compound_app import access
    from compound_app.repairs import workflow

    resident, chair = world.users["resident"], world.users["committee"]
    fee_objects(world.branch, world.users["rep"], chair)
    ids = repair_objects(world.branch, resident, chair)
    from compound_app.repairs.models import RepairTask

    task = db.session.get(RepairTask, ids["task_id"])
    p = access.load_principal(chair)
    workflow.assign(
        task,
        workflow.Assignment(kind="contractor", contractor="李师傅"),
        chair,
        version=task.version,
        p=p,
    )
    workflow.move(task, "start", chair, version=task.version, p=p)
    workflow.move(task, "done", chair, version=task.version, p=p)
    db.session.commit()
    page = login_as(resident).get("/").get_data(as_text=True)
    assert f"/repairs/{task.id}" in page  # the check waiting for him
    assert f"/fees/households/{first_household(world.branch).id}" in page  # his bills
    assert page.index('class="todo"') < page.index("My home") if "My home" in page else True
    chair_page = login_as(chair).get("/").get_data(as_text=True)
    assert 'class="todo"' in chair_page


def test_home_statement_count_does_not_grow_with_waiting_items(world, login_as):
    resident, chair = world.users["resident"], world.users["committee"]
    client = login_as(chair)
    with count_statements() as before:
        client.get("/")
    repair_objects(world.branch, resident, chair)
    repair_objects(world.branch, resident, chair)
    with count_statements() as after:
        client.get("/")
    assert len(after) == len(before)


def _failed(mobile: str) -> Outbox:
    row = enqueue_sms(mobile, "repair", {"title": "<b>维修</b>"})
    row.status, row.tries, row.last_error = OutboxStatus.FAILED, 5, "HTTP 500"
    db.session.commit()
    return row


def test_failed_sms_are_shown_to_the_staff_who_serve_them_and_sent_again(world, login_as):
    mine = _failed(world.users["resident"].mobile)
    theirs = _failed(world.users["other_staff"].mobile)
    staff = login_as(world.users["staff"])
    page = staff.get("/messages/failed").get_data(as_text=True)
    assert world.users["resident"].mobile in page and world.users["other_staff"].mobile not in page
    assert "<b>维修</b>" not in page
    assert staff.post(f"/messages/outbox/{theirs.id}/retry").status_code == 404
    assert staff.post(f"/messages/outbox/{mine.id}/retry").status_code == 303
    db.session.expire_all()
    assert db.session.get(Outbox, mine.id).status == OutboxStatus.PENDING
    again = staff.post(f"/messages/outbox/{mine.id}/retry")  # twice: refused, not an error
    assert again.status_code == 303
    admin_page = login_as(world.users["admin"]).get("/messages/failed").get_data(as_text=True)
    assert world.users["other_staff"].mobile in admin_page


def test_staff_pages_are_not_for_residents_or_committees(world, login_as):
    row = _failed(world.users["resident"].mobile)
    for role in ("committee", "rep", "resident", "outsider"):
        client = login_as(world.users[role])
        assert client.get("/messages/failed").status_code == 404
        assert client.get("/messages/dev-sms").status_code == 404
        assert client.post(f"/messages/outbox/{row.id}/retry").status_code == 404


def test_the_dev_sms_box_shows_what_was_sent_in_scope(world, login_as, app):
    enqueue_sms(world.users["resident"].mobile, "urgent", {"title": "明早停水"}, urgent=True)
    enqueue_sms(world.users["other_staff"].mobile, "urgent", {"title": "供电检修"}, urgent=True)
    db.session.commit()
    delivery.run_batch("t", DevBackend())
    assert db.session.scalar(select(func.count(DevSms.id))) == 2
    page = login_as(world.users["staff"]).get("/messages/dev-sms").get_data(as_text=True)
    assert "明早停水" in page and "供电检修" not in page
    admin = login_as(world.users["admin"]).get("/messages/dev-sms").get_data(as_text=True)
    assert "明早停水" in admin and "供电检修" in admin


def test_the_dev_sms_box_says_it_is_for_development_only(world, login_as):
    page = login_as(world.users["staff"]).get("/messages/dev-sms").get_data(as_text=True)
    assert "仅供开发使用" in page
    assert "/messages/dev-sms" in login_as(world.users["staff"]).get("/messages/").get_data(
        as_text=True
    )


def test_the_dev_sms_box_is_not_found_with_a_real_sms_backend_or_in_production(
    world, login_as, app
):
    """Sign-in codes are in it: with real SMS nobody, not even the admin, reads them."""
    enqueue_sms(world.users["resident"].mobile, "urgent", {"title": "明早停水"}, urgent=True)
    db.session.commit()
    delivery.run_batch("t", DevBackend())
    for setting in ({"SMS_BACKEND": "aliyun"}, {"ENV_NAME": "production"}):
        app.config.update({"SMS_BACKEND": "dev", "ENV_NAME": "test", **setting})
        for role in ("staff", "admin"):
            client = login_as(world.users[role])
            response = client.get("/messages/dev-sms")
            assert response.status_code == 404, (setting, role)
            assert "明早停水" not in response.get_data(as_text=True)
            assert "/messages/dev-sms" not in client.get("/messages/").get_data(as_text=True)

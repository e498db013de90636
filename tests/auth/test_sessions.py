"""Sign-ins end after 30 idle minutes or 12 hours, whichever comes first."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update

from compound_app import clock
from compound_app.auth.models import UserSession
from compound_app.extensions import db
from tests import factories


def _session_of(user) -> UserSession:  # type: ignore[no-untyped-def]
    db.session.expire_all()
    return db.session.scalar(select(UserSession).where(UserSession.user_id == user.id))


def test_an_idle_session_ends(app, login_as):
    user = factories.user()
    client = login_as(user)
    assert client.get("/").status_code == 200
    db.session.execute(update(UserSession).values(last_seen_at=clock.now() - timedelta(minutes=31)))
    db.session.commit()
    response = client.get("/registry/compounds")
    assert response.status_code == 302 and "/auth/login" in response.headers["Location"]


def test_use_keeps_a_session_alive(app, login_as):
    user = factories.user()
    client = login_as(user)
    db.session.execute(update(UserSession).values(last_seen_at=clock.now() - timedelta(minutes=20)))
    db.session.commit()
    assert client.get("/").status_code == 200
    assert clock.now() - _session_of(user).last_seen_at < timedelta(minutes=1)


def test_reading_pages_does_not_write_on_every_request(app, login_as):
    user = factories.user()
    client = login_as(user)
    first = _session_of(user).last_seen_at
    client.get("/")
    client.get("/")
    assert _session_of(user).last_seen_at == first


def test_a_session_ends_after_twelve_hours_even_when_used(app, login_as):
    user = factories.user()
    client = login_as(user)
    db.session.execute(update(UserSession).values(expires_at=clock.now() - timedelta(seconds=1)))
    db.session.commit()
    assert client.get("/registry/compounds").status_code == 302
    assert app.config["SESSION_ABSOLUTE_LIFETIME"] <= timedelta(hours=12)
    assert app.config["SESSION_IDLE_TIMEOUT"] <= timedelta(minutes=30)


def test_a_form_posted_after_a_pause_is_saved(world, login_as):
    """The session's last use is written in the post's own transaction, not a second one
    that would wait for it (SQLite: database is locked)."""
    from compound_app.registry.models import Household
    from tests.factories import first_unit

    client = login_as(world.users["staff"])
    unit_id = first_unit(world.branch).id
    db.session.execute(update(UserSession).values(last_seen_at=clock.now() - timedelta(minutes=6)))
    db.session.commit()
    response = client.post(
        f"/registry/units/{unit_id}/households/new",
        data={"room": "909", "area": "60", "occupancy": "vacant"},
    )
    assert response.status_code == 303
    db.session.expire_all()
    assert db.session.scalar(select(Household).where(Household.room == "909")) is not None
    last_seen = db.session.scalar(
        select(UserSession.last_seen_at).where(UserSession.user_id == world.users["staff"].id)
    )
    assert clock.now() - last_seen < timedelta(minutes=1)

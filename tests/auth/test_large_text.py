"""Large text (适老化): one tap in the header of every page, kept on the account for a
signed-in person and in a cookie for a visitor, drawn as ``<html class="large">``."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from compound_app.auth.models import User
from compound_app.extensions import db
from tests.conftest import _config, make_app
from tests.factories import PASSWORD, World

SWITCH = 'action="/auth/text-size"'


def html_tag(client: FlaskClient, path: str = "/auth/login") -> str:
    response = client.get(path)
    assert response.status_code == 200, (path, response.status_code)
    found = re.search(r"<html[^>]*>", response.get_data(as_text=True))
    assert found
    return found.group(0)


def is_large(client: FlaskClient, path: str = "/auth/login") -> bool:
    return 'class="large"' in html_tag(client, path)


def choose(client: FlaskClient, size: str, next_: str = "/auth/login"):  # type: ignore[no-untyped-def]
    return client.post("/auth/text-size", data={"size": size, "next": next_})


def stored(user: User) -> bool:
    db.session.expire_all()
    found = db.session.get(User, user.id)
    assert found is not None
    return found.large_text


def sign_in(client: FlaskClient, user: User) -> None:
    response = client.post("/auth/login", data={"mobile": user.mobile, "password": PASSWORD})
    assert response.status_code == 303


# --- a visitor: the sign-in pages, kept in a cookie ------------------------------------------


def test_standard_text_until_a_visitor_chooses_large_text(client: FlaskClient) -> None:
    assert not is_large(client)
    html = client.get("/auth/login").get_data(as_text=True)
    assert SWITCH in html and 'value="large"' in html  # the switch offers large text

    response = choose(client, "large", "/auth/code")
    assert response.status_code == 303
    assert response.headers["Location"] == "/auth/code"  # back to the same page
    cookie = client.get_cookie("text_size")
    assert cookie is not None and cookie.value == "large"
    assert cookie.http_only and cookie.expires is not None  # kept when the browser closes
    for path in ("/auth/login", "/auth/code", "/auth/activate"):
        assert is_large(client, path), path
    html = client.get("/auth/login").get_data(as_text=True)
    assert 'value="standard"' in html  # and now offers the standard size back

    choose(client, "standard")
    assert not is_large(client)


def test_another_browser_keeps_its_own_size(app: Flask, client: FlaskClient) -> None:
    choose(client, "large")
    assert not is_large(app.test_client())


@pytest.mark.parametrize("size", ["", "huge", "LARGE", "large "])
def test_an_unknown_size_is_refused(client: FlaskClient, size: str) -> None:
    assert choose(client, size).status_code == 400
    assert client.get_cookie("text_size") is None
    assert not is_large(client)


def test_the_switch_needs_a_post(client: FlaskClient, world: World, login_as) -> None:  # type: ignore[no-untyped-def]
    assert client.get("/auth/text-size?size=large").status_code in (302, 405)
    assert not is_large(client)
    signed_in = login_as(world.users["resident"])
    assert signed_in.get("/auth/text-size?size=large").status_code == 405
    assert not is_large(signed_in, "/") and stored(world.users["resident"]) is False


@pytest.mark.parametrize(
    "target",
    ["//evil.com", "https://evil.com/x", "/\\evil.com", "javascript:alert(1)", "http:/evil.com"],
)
def test_the_switch_never_leaves_the_site(client: FlaskClient, target: str) -> None:
    response = choose(client, "large", target)
    assert response.status_code == 303
    assert response.headers["Location"] == "/"
    assert is_large(client)  # the choice is kept all the same


def test_a_forged_switch_without_the_csrf_token_is_refused(
    database_uri: str, tmp_path: Path
) -> None:
    app = make_app({**_config(database_uri, tmp_path), "WTF_CSRF_ENABLED": True})
    with app.app_context():
        client = app.test_client()
        assert choose(client, "large").status_code == 400
        assert client.get_cookie("text_size") is None
        page = client.get("/auth/login").get_data(as_text=True)
        token = re.search(r'name="csrf_token" value="([^"]+)"', page)
        assert token, "the switch has no CSRF field"
        response = client.post(
            "/auth/text-size",
            data={"size": "large", "next": "/auth/login", "csrf_token": token.group(1)},
        )
        assert response.status_code == 303
        assert is_large(client)
        db.engine.dispose()


# --- a signed-in person: kept on the account ------------------------------------------------


def test_the_setting_follows_the_account_to_every_sign_in(
    app: Flask, world: World, login_as
) -> None:  # type: ignore[no-untyped-def]
    resident = world.users["resident"]
    client = login_as(resident)
    assert not is_large(client, "/")
    html = client.get("/").get_data(as_text=True)
    assert SWITCH in html  # on every page, signed in too

    response = choose(client, "large", "/auth/account")
    assert response.status_code == 303 and response.headers["Location"] == "/auth/account"
    assert stored(resident) is True
    for path in ("/", "/auth/account", "/messages/"):
        assert is_large(client, path), path

    # Signed out and in again on another phone that never chose: still large.
    client.post("/auth/logout")
    other_phone = app.test_client()
    sign_in(other_phone, resident)
    assert is_large(other_phone, "/")

    # Back to standard on that phone: every session of the account follows.
    choose(other_phone, "standard", "/")
    assert stored(resident) is False
    assert not is_large(other_phone, "/")
    again = login_as(resident)
    assert not is_large(again, "/")


def test_one_persons_setting_is_not_anothers(world: World, login_as) -> None:  # type: ignore[no-untyped-def]
    choose(login_as(world.users["resident"]), "large", "/")
    assert stored(world.users["resident"]) is True
    assert stored(world.users["tenant"]) is False
    assert not is_large(login_as(world.users["tenant"]), "/")


def test_large_text_chosen_on_the_sign_in_page_stays_after_signing_in(
    client: FlaskClient, world: World, login_as
) -> None:  # type: ignore[no-untyped-def]
    resident = world.users["resident"]
    choose(client, "large")
    assert is_large(client)
    sign_in(client, resident)
    assert is_large(client, "/")
    # For this session: the account keeps only what its owner switches, signed in, so a
    # shared phone's choice does not stick to every account signed in on it.
    assert stored(resident) is False
    client.post("/auth/logout")
    elsewhere = login_as(resident)
    assert not is_large(elsewhere, "/")
    # Standard chosen inside: this session follows at once.
    sign_in(client, resident)
    choose(client, "standard", "/")
    assert not is_large(client, "/") and stored(resident) is False


def test_the_account_page_explains_and_switches(world: World, login_as) -> None:  # type: ignore[no-untyped-def]
    client = login_as(world.users["resident"])
    html = client.get("/auth/account").get_data(as_text=True)
    assert "字号" in html and "换成大字" in html
    choose(client, "large", "/auth/account")
    html = client.get("/auth/account").get_data(as_text=True)
    assert "现在用的是大字" in html and "换成标准字" in html


def test_a_signed_out_visitor_sees_the_devices_choice_not_the_accounts(
    client: FlaskClient, world: World
) -> None:
    resident = world.users["resident"]
    sign_in(client, resident)
    choose(client, "large", "/")
    client.post("/auth/logout")
    # This phone chose large: its sign-in page is large too.
    assert is_large(client)

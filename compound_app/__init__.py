"""compound_app: self-management of old residential compounds."""

from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path
from typing import Any

from flask import Flask, session
from werkzeug.routing import IntegerConverter

from .config import load_config
from .extensions import babel, csrf, db, login_manager, migrate

ROOT = Path(__file__).resolve().parent.parent
PUBLIC_ENDPOINTS = frozenset(
    {
        "static",
        "auth.login",
        "auth.activate",
        "auth.code_request",
        "auth.code_enter",
        "auth.language",
        "auth.text_size",
        "auth.logout",
        "home.index",
        "health.healthz",
        "public.show",
    }
)

# The areas, each a package whose __init__ creates its blueprint; the order is the order
# in which their routes are registered.
AREAS = (
    "home",
    "auth",
    "registry",
    "committees",
    "fees",
    "income",
    "treasury",
    "reconcile",
    "fund",
    "people",
    "repairs",
    "oversight",
    "rectify",
    "votes",
    "messages",
    "public",
    "notices",
    "archive",
    "problems",
    "transition",
)


def view_modules() -> list[str]:
    """Every area's view modules (``views`` and ``*_views``), by their dotted names."""
    found = []
    for area in AREAS:
        package = importlib.import_module(f"{__name__}.{area}")
        for info in pkgutil.iter_modules(package.__path__):
            if info.name == "views" or info.name.endswith("_views"):
                found.append(f"{package.__name__}.{info.name}")
    return found


def public_page_modules() -> list[str]:
    """Every area's ``public_pages`` module: the pages its posters' QR codes open."""
    found = []
    for area in AREAS:
        package = importlib.import_module(f"{__name__}.{area}")
        if any(info.name == "public_pages" for info in pkgutil.iter_modules(package.__path__)):
            found.append(f"{package.__name__}.public_pages")
    return found


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    app = Flask(
        __name__,
        instance_path=str(ROOT / "instance"),
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
    )
    load_config(app, test_config)

    from .logging_setup import configure_logging, init_request_logging

    configure_logging(app)
    # First of the request hooks: sign-in may answer before the others run.
    init_request_logging(app)
    # Ids in URLs fit the id columns (32-bit on PostgreSQL); anything bigger is "not found",
    # not a database error.
    app.url_map.converters["int"] = _IdConverter

    from . import models  # noqa: F401  (registers every table with the metadata)

    db.init_app(app)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"), render_as_batch=True)
    csrf.init_app(app)
    babel.init_app(
        app,
        locale_selector=_select_locale,
        default_translation_directories=str(ROOT / "translations"),
    )
    _init_login(app)

    from .database import configure_engine

    configure_engine(app)

    from .security import init_security

    init_security(app)

    from .templating import init_templating

    init_templating(app)

    from .health import bp as health_bp

    app.register_blueprint(health_bp)
    for module in view_modules():
        importlib.import_module(module)  # its routes join its package's blueprint
    for area in AREAS:
        app.register_blueprint(importlib.import_module(f"{__name__}.{area}").bp)
    for module in public_page_modules():
        importlib.import_module(module)  # registers its pages with public.pages

    from .cli import init_cli

    init_cli(app)
    return app


class _IdConverter(IntegerConverter):
    def __init__(self, url_map: Any, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("min", 1)
        kwargs.setdefault("max", 2**31 - 1)
        super().__init__(url_map, *args, **kwargs)


def _select_locale() -> str:
    from flask import current_app, has_request_context

    lang = session.get("lang") if has_request_context() else None
    if lang in current_app.config["LANGUAGES"]:
        return str(lang)
    return str(current_app.config["BABEL_DEFAULT_LOCALE"])


def _init_login(app: Flask) -> None:
    from flask_babel import lazy_gettext as _l

    from .auth.service import user_for_token
    from .htmx import is_htmx, redirect_after_post

    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("Please sign in to see this page.")
    login_manager.login_message_category = "info"
    # Sessions live on the server; a stolen cookie dies with logout or a password change.
    login_manager.session_protection = "basic"
    login_manager.user_loader(user_for_token)

    @app.before_request
    def _require_login() -> Any:
        # Everything but signing in, activating an account and static files needs a user;
        # a signed-out visitor is sent to sign in and brought back afterwards.
        from flask import request
        from flask_login import current_user

        if request.endpoint in PUBLIC_ENDPOINTS or current_user.is_authenticated:
            return None
        if is_htmx():
            # An expired session during an inline edit: send the whole page to sign-in.
            from flask_login import login_url

            return redirect_after_post(login_url("auth.login", next_url=request.full_path))
        return login_manager.unauthorized()

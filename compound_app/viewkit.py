"""What every area's views share: who is acting, and the answer after a change.

A view reads its objects through ``access``, validates and saves a form through
``forms.submit``, and makes a change without a form (a button) through ``act`` here.
Either way a refusal by a service (a ``RuleError``) leaves nothing saved and is told to
the person in plain words.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import flash
from flask_login import current_user
from werkzeug.wrappers import Response

from .auth.models import User
from .errors import RuleError
from .extensions import db
from .htmx import redirect_after_post


def user() -> User:
    """The signed-in account (views reach here only after ``access`` let them in)."""
    found: User = current_user._get_current_object()
    return found


def done(message: str, location: str) -> Response:
    """Say what was saved and go to ``location`` (a full redirect, or htmx's)."""
    flash(message, "success")
    return redirect_after_post(location)


def refused(err: RuleError, location: str) -> Response:
    """Undo whatever the refused change had begun, say why, and go to ``location``."""
    db.session.rollback()
    flash(err.message, "error")
    return redirect_after_post(location)


def act(change: Callable[[], object], location: str, message: str) -> Response:
    """Make a change that needs no form; a refusal is flashed. Either way back to ``location``."""
    try:
        change()
        db.session.commit()
    except RuleError as err:
        return refused(err, location)
    return done(message, location)

"""The demo: the story of Xinyi subdistrict's pilots, told through the services."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from .. import access
from ..auth.models import User


def rights_of(user: User) -> access.Principal:
    """What a demo person may do, as if signed in: most have set no password yet, so
    Flask-Login would not count them as signed in."""
    signed_in: Any = SimpleNamespace(id=user.id, is_authenticated=True)
    return access.load_principal(signed_in)

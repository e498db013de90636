"""The demo: the story of Xinyi subdistrict's pilots, told through the services."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from .. import access
from ..auth.models import User


def record_tellers(vote: Any, runner: User) -> None:
    """The scrutineers and counters the vote's rules ask for: its first owners who sit
    on no committee."""
    from ..errors import RuleError
    from ..votes import procedure
    from ..votes import service as votes

    owners = iter(procedure.teller_choices(vote))
    for role, n in votes.tellers_missing(vote).items():
        while n:
            occupant_id, _label = next(owners)
            try:
                procedure.record_teller(vote, role, occupant_id, runner)
            except RuleError:
                continue
            n -= 1


def rights_of(user: User) -> access.Principal:
    """What a demo person may do, as if signed in: most have set no password yet, so
    Flask-Login would not count them as signed in."""
    signed_in: Any = SimpleNamespace(id=user.id, is_authenticated=True)
    return access.load_principal(signed_in)

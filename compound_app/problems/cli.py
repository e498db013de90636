"""``flask problems escalate``: overdue problems go up one level, with nobody opening a page,
and each community's overdue count is taken for the subdistrict's pages.

Run it from cron (every few minutes is plenty), or leave it to the SMS worker
(``flask messages work``), which runs the same step every ``PROBLEM_ESCALATE_SECONDS``.
"""

from __future__ import annotations

import click

from ..database import writing
from ..extensions import db
from . import bp


def escalate_now() -> int:
    """One escalation run, in its own transaction; how many problems went up."""
    from ..oversight.lists import refresh_overdue
    from .service import escalate_overdue

    with writing():
        moved = escalate_overdue()
        # The subdistrict's pages read each community's overdue count as of this run.
        refresh_overdue()
        db.session.commit()
    return moved


@bp.cli.command("escalate")
def escalate() -> None:
    """Move every overdue problem up one level (the 党工委 is the top)."""
    moved = escalate_now()
    click.echo(f"{moved} overdue problems escalated.")

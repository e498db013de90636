"""``flask votes close-due``: votes whose end date has passed are counted and closed, with
nobody opening a page.

Run it from cron (daily, after midnight, is enough), or leave it to the SMS worker
(``flask messages work``), which runs the same step every ``PROBLEM_ESCALATE_SECONDS``.
"""

from __future__ import annotations

import click

from ..database import writing
from ..extensions import db
from . import bp


def close_due_now() -> tuple[int, int]:
    """One run, in its own transaction: how many votes closed, and how many wait for
    their tellers."""
    from .service import close_due

    with writing():
        counts = close_due()
        db.session.commit()
    return counts


@bp.cli.command("close-due")
def close_due_command() -> None:
    """Close every open vote whose end date has passed (its tellers recorded)."""
    closed, waiting = close_due_now()
    click.echo(f"{closed} votes closed, {waiting} waiting for their tellers.")

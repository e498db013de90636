"""``flask fees …``: issue due bills (run it daily from a timer) and prove the totals."""

from __future__ import annotations

import click
from flask.cli import AppGroup
from sqlalchemy import select

from ..database import writing
from ..extensions import db
from ..registry.models import ManagementArea

fees_cli = AppGroup("fees", help="Fee bills and ledger checks.")


@fees_cli.command("bills")
def bills() -> None:
    """Issue every bill that is due and not yet issued, in every area (idempotent)."""
    from .schedules import catch_up

    total = 0
    with writing():
        for area_id in db.session.scalars(select(ManagementArea.id)).all():
            total += catch_up(area_id)
            db.session.commit()
    click.echo(f"{total} bills issued.")


@fees_cli.command("check")
def check() -> None:
    """Recompute every running total from the ledger entries; fail on any difference."""
    from .proofs import check_totals

    problems = check_totals()
    for problem in problems[:50]:
        click.echo(problem, err=True)
    if problems:
        raise click.ClickException(f"{len(problems)} totals differ from the ledger")
    click.echo("Every balance and monthly total equals the sum of its entries.")

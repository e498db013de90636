"""``flask repairs check``: prove the monthly repair figures equal the tasks' timelines."""

from __future__ import annotations

import click
from flask.cli import AppGroup

repairs_cli = AppGroup("repairs", help="Repair figures checks.")


@repairs_cli.command("check")
def check() -> None:
    """Recount every compound's monthly repair figures from the timelines."""
    from .queries import check_months

    problems = check_months()
    for problem in problems[:50]:
        click.echo(problem, err=True)
    if problems:
        raise click.ClickException(f"{len(problems)} monthly figures differ from the timelines")
    click.echo("Every monthly repair figure equals its recount from the timelines.")

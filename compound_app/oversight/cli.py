"""``flask oversight check-lists``: prove the three lists' kept figures equal a recount from
the problems (``--rebuild`` writes them from the recount, after a bulk load)."""

from __future__ import annotations

import click

from ..database import writing
from ..extensions import db
from . import bp


@bp.cli.command("check-lists")
@click.option("--rebuild", is_flag=True, help="Write the kept figures from the recount.")
def check_lists(rebuild: bool) -> None:
    """Recount every community's and compound's monthly problem figures."""
    from . import lists

    if rebuild:
        with writing():
            rows = lists.rebuild()
            db.session.commit()
        click.echo(f"{rows} monthly rows written from the problems.")
        return
    found = lists.check()
    for line in found[:50]:
        click.echo(line, err=True)
    if found:
        raise click.ClickException(f"{len(found)} kept figures differ from the problems")
    click.echo("Every kept figure of the three lists equals its recount from the problems.")

"""Command-line tasks: demo data, deployment checks."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import click
from flask import Flask, current_app

from .database import writing
from .extensions import db


def init_cli(app: Flask) -> None:
    app.cli.add_command(demo)
    app.cli.add_command(check_deploy)
    app.cli.add_command(create_admin)
    app.cli.add_command(backup_command)
    app.cli.add_command(restore_command)

    from .fees.cli import fees_cli
    from .repairs.cli import repairs_cli

    app.cli.add_command(fees_cli)
    app.cli.add_command(repairs_cli)


@click.command("demo")
@click.option(
    "--scale",
    type=click.Choice(["story", "small", "city"]),
    default="story",
    show_default=True,
    help="story: the subdistrict of the source story; small/city: benchmark datasets.",
)
@click.option("--if-empty", is_flag=True, help="Do nothing (successfully) when data exists.")
@click.option("--seed", type=int, default=None, help="Random seed (the default is fixed).")
def demo(scale: str, if_empty: bool, seed: int | None) -> None:
    """Load demo data into an empty database and print the demo sign-ins."""
    from .demo import generate

    if current_app.config["ENV_NAME"] == "production":
        raise click.ClickException("refusing to load demo data into a production deployment")
    if not generate.database_is_empty():
        if if_empty:
            click.echo("The database already holds data; demo data not loaded.")
            if generate.demo_accounts_present():
                _print_logins()
            return
        raise click.ClickException("the database is not empty; demo data goes into an empty one")
    started = time.perf_counter()
    with writing():
        counts = generate.generate(scale, seed if seed is not None else generate.SEED)
        if scale == "story":
            generate.set_demo_passwords()
        else:
            samples = generate.sample_accounts()
    elapsed = time.perf_counter() - started
    summary = ", ".join(f"{n} {table}" for table, n in counts.items() if n)
    click.echo(f"Loaded the {scale} dataset in {elapsed:.1f} s: {summary}.")
    _print_logins(None if scale == "story" else samples)


def _print_logins(accounts: list | None = None) -> None:
    from .demo.generate import DEMO_ACCOUNTS, DEMO_PASSWORD

    click.echo("")
    click.echo(f"Demo sign-ins (password for all: {DEMO_PASSWORD}):")
    for account in accounts or DEMO_ACCOUNTS:
        click.echo(f"  {account.mobile}  {account.name}  {account.role_text}")
    click.echo("")


@click.command("check-deploy")
def check_deploy() -> None:
    """Fail (exit 1) when the configuration is unsafe for production."""
    from .deploy_checks import problems, warnings

    found = problems(current_app)
    for problem in found:
        click.echo(f"FAIL  {problem}", err=True)
    for warning in warnings(current_app):
        click.echo(f"WARN  {warning}", err=True)
    db.session.remove()
    if found:
        sys.exit(1)
    click.echo("OK    production settings look safe.")


@click.command("create-admin")
@click.option("--mobile", required=True, help="The administrator signs in with this number.")
@click.option("--name", required=True)
@click.option("--subdistrict", default="新义街道", show_default=True)
@click.option("--city", default="孝义市", show_default=True)
def create_admin(mobile: str, name: str, subdistrict: str, city: str) -> None:
    """Create a subdistrict administrator and print a one-time activation code."""
    from sqlalchemy import select

    from .auth.models import Role
    from .auth.service import find_or_create_user, grant, issue_invite
    from .errors import RuleError
    from .fields import is_mobile, name_problem, normalise_mobile, normalise_name
    from .registry.models import Subdistrict

    mobile, name = normalise_mobile(mobile), normalise_name(name)
    if not is_mobile(mobile):
        raise click.BadParameter(
            "a mainland mobile number: 11 digits starting with 13–19", param_hint="--mobile"
        )
    if name_problem(name):
        raise click.BadParameter(name_problem(name) or "", param_hint="--name")
    with writing():
        place = db.session.scalar(select(Subdistrict).where(Subdistrict.name == subdistrict))
        if place is None:
            place = Subdistrict(name=subdistrict, city=city)
            db.session.add(place)
            db.session.flush()
        try:
            user = find_or_create_user(mobile, name)
        except RuleError as err:
            raise click.BadParameter(err.message, param_hint="--mobile") from err
        db.session.flush()
        grant(user, Role.SUBDISTRICT_ADMIN, place.id)
        code = issue_invite(created_by=user, user_id=user.id)
        db.session.commit()
    click.echo(f"{name} ({mobile}) administers {subdistrict}.")
    click.echo(f"Activation code: {code}  — enter it at /auth/activate within 30 days.")


@click.command("backup")
@click.option(
    "--to",
    "target",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="New file to write (default: instance/backups/compound-<time>.tar).",
)
def backup_command(target: Path | None) -> None:
    """Write a consistent copy of the database and the photos while the app keeps running."""
    from . import backup

    instance = Path(current_app.instance_path)
    target = target or backup.default_path(instance / "backups")
    try:
        photos = backup.backup(db.engine, target, uploads=instance / "uploads")
    except backup.BackupError as err:
        raise click.ClickException(str(err)) from err
    rows = sum(backup.summary().values())
    click.echo(
        f"Backed up {rows} rows and {photos} photos to {target} ({target.stat().st_size:,} bytes)."
    )


@click.command("restore")
@click.argument("source", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--yes", is_flag=True, help="Confirm replacing the current data.")
def restore_command(source: Path, yes: bool) -> None:
    """Replace the database with a backup and put its photos back. Stop the app servers first."""
    from . import backup

    if not yes:
        raise click.ClickException("restoring replaces all current data: add --yes to confirm")
    uploads = Path(current_app.instance_path) / "uploads"
    try:
        photos = backup.restore(db.engine, source, uploads=uploads)
    except backup.BackupError as err:
        raise click.ClickException(str(err)) from err
    db.session.remove()
    rows = sum(backup.summary().values())
    click.echo(f"Restored {rows} rows and {photos} photos from {source}.")

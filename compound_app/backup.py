"""Consistent backups while the app runs, and restores: SQLite's online backup, pg_dump."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from datetime import datetime
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.engine import URL, Engine

from .extensions import db


class BackupError(RuntimeError):
    pass


def default_path(engine: Engine, folder: Path) -> Path:
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    suffix = "db" if engine.dialect.name == "sqlite" else "dump"
    return folder / f"compound-{stamp}.{suffix}"


def _sqlite_file(engine: Engine) -> str:
    path = engine.url.database
    if not path or path == ":memory:":
        raise BackupError("no SQLite file to back up")
    return path


def _pg_args(url: URL) -> tuple[str, dict[str, str]]:
    """A libpq connection string without the password, which goes in the environment."""
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    plain = url.set(drivername="postgresql", password=None)
    return plain.render_as_string(hide_password=False), env


def _run(args: list[str], env: dict[str, str]) -> None:
    """Run a PostgreSQL client tool; its error output becomes the error shown."""
    tool = shutil.which(args[0])
    if tool is None:
        raise BackupError(f"{args[0]} is not installed (Debian: apt-get install postgresql-client)")
    result = subprocess.run(  # noqa: S603 — our own tool and configured database URL
        [tool, *args[1:]], env=env, capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise BackupError(result.stderr.strip())


def backup(engine: Engine, target: Path) -> Path:
    target.parent.mkdir(parents=True, exist_ok=True)
    if engine.dialect.name == "sqlite":
        # The backup API copies a consistent snapshot page by page while others keep writing.
        source = sqlite3.connect(_sqlite_file(engine))
        copy = sqlite3.connect(target)
        try:
            source.backup(copy)
            ok = copy.execute("PRAGMA integrity_check").fetchone()[0]
        finally:
            copy.close()
            source.close()
        if ok != "ok":
            raise BackupError(f"the copy failed its integrity check: {ok}")
    elif engine.dialect.name == "postgresql":
        dsn, env = _pg_args(engine.url)
        # Custom format: compressed, restorable table by table; one snapshot for the whole dump.
        _run(["pg_dump", "--format=custom", "--no-owner", f"--file={target}", dsn], env)
    else:
        raise BackupError(f"backups of {engine.dialect.name} are not supported")
    os.chmod(target, 0o600)  # residents' names and mobiles: readable by the owner only
    return target


def restore(engine: Engine, source: Path) -> None:
    """Replace the database's contents with a backup (stop the app servers first)."""
    if not source.is_file():
        raise BackupError(f"{source} does not exist")
    engine.dispose()
    if engine.dialect.name == "sqlite":
        backup_db = sqlite3.connect(source)
        live = sqlite3.connect(_sqlite_file(engine))
        try:
            if backup_db.execute("PRAGMA integrity_check").fetchone()[0] != "ok":
                raise BackupError("the backup file is damaged")
            backup_db.backup(live)
        finally:
            live.close()
            backup_db.close()
    elif engine.dialect.name == "postgresql":
        dsn, env = _pg_args(engine.url)
        _run(
            [
                "pg_restore",
                "--clean",
                "--if-exists",
                "--no-owner",
                "--single-transaction",
                f"--dbname={dsn}",
                str(source),
            ],
            env,
        )
    else:
        raise BackupError(f"restores of {engine.dialect.name} are not supported")


def summary() -> dict[str, int]:
    """Row counts of every table, to compare a restore with what was backed up."""
    counts = {}
    for table in db.metadata.sorted_tables:
        counts[table.name] = db.session.scalar(select(func.count()).select_from(table)) or 0
    return counts

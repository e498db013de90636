"""Backup while the app runs, restore, and get back exactly what was backed up."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select

from compound_app import backup
from compound_app.extensions import db
from compound_app.registry.models import Household, Occupancy
from compound_app.registry.roster import add_household
from tests.factories import first_unit


def area_total() -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.sum(Household.area_dm2)))


def test_backup_then_restore_brings_back_the_same_records(world, app, tmp_path: Path):
    before_counts, before_total = backup.summary(), area_total()
    # A reader in the middle of a transaction does not stop the backup.
    db.session.execute(select(Household).limit(1)).all()
    runner = app.test_cli_runner()
    target = tmp_path / "copy.bak"
    result = runner.invoke(args=["backup", "--to", str(target)])
    assert result.exit_code == 0, result.output
    assert target.stat().st_size > 0 and (target.stat().st_mode & 0o077) == 0
    db.session.rollback()

    add_household(first_unit(world.branch), "999", 12345, Occupancy.VACANT)
    db.session.commit()
    assert area_total() == before_total + 12345

    refused = runner.invoke(args=["restore", str(target)])
    assert refused.exit_code != 0  # needs --yes
    db.session.remove()
    result = runner.invoke(args=["restore", str(target), "--yes"])
    assert result.exit_code == 0, result.output
    db.session.remove()
    assert backup.summary() == before_counts
    assert area_total() == before_total


def test_restoring_a_missing_or_damaged_file_fails_cleanly(world, app, tmp_path: Path):
    runner = app.test_cli_runner()
    assert runner.invoke(args=["restore", str(tmp_path / "nope.db"), "--yes"]).exit_code != 0
    damaged = tmp_path / "damaged.db"
    damaged.write_bytes(b"SQLite format 3\x00" + b"\x00" * 200)
    before = backup.summary()
    result = runner.invoke(args=["restore", str(damaged), "--yes"])
    assert result.exit_code != 0
    db.session.remove()
    assert backup.summary() == before

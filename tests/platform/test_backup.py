"""Backup while the app runs, restore, and get back exactly what was backed up."""

from __future__ import annotations

import io
import os
import stat
import tarfile
from datetime import UTC, datetime
from pathlib import Path

import pytest
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


# --- the photos, and private files from their first moment --------------------------------------


def put_photos(app, names: list[str]) -> Path:
    uploads = Path(app.instance_path) / "uploads"
    uploads.mkdir(parents=True, exist_ok=True)
    for name in names:
        (uploads / name).write_bytes(b"\xff\xd8" + name.encode() + b"\xff\xd9")
    return uploads


class CreationWatch:
    """Every file and folder created through ``os.open``/``os.mkdir``, with the mode asked
    for and the umask in force at that moment (so their first permissions are known)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.created: list[tuple[str, int, int]] = []
        real_open, real_mkdir = os.open, os.mkdir

        def umask() -> int:
            current = os.umask(0o077)
            os.umask(current)
            return current

        def watched_open(path, flags, mode=0o777, *args, **kwargs):  # type: ignore[no-untyped-def]
            if flags & os.O_CREAT:
                self.created.append((str(path), mode, umask()))
            return real_open(path, flags, mode, *args, **kwargs)

        def watched_mkdir(path, mode=0o777, *args, **kwargs):  # type: ignore[no-untyped-def]
            self.created.append((str(path), mode, umask()))
            return real_mkdir(path, mode, *args, **kwargs)

        monkeypatch.setattr(os, "open", watched_open)
        monkeypatch.setattr(os, "mkdir", watched_mkdir)

    def assert_private(self) -> None:
        assert self.created
        for path, mode, umask in self.created:
            assert mode & ~umask & 0o077 == 0, f"{path} was created open to others ({mode:o})"
            assert umask & 0o077 == 0o077, f"{path} was created under umask {umask:o}"


def test_a_backup_holds_the_photos_and_every_file_is_private_from_the_start(
    world, app, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    put_photos(app, ["a.jpg", "b.jpg"])
    folder = tmp_path / "new" / "backups"
    target = folder / "nightly.tar"
    umask_before = os.umask(0o022)
    os.umask(umask_before)
    watch = CreationWatch(monkeypatch)
    result = app.test_cli_runner().invoke(args=["backup", "--to", str(target)])
    assert result.exit_code == 0, result.output
    assert "2 photos" in result.output
    watch.assert_private()
    assert os.umask(umask_before) == umask_before  # given back
    assert f"{target}.partial" in {path for path, _mode, _umask in watch.created}
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert stat.S_IMODE(folder.stat().st_mode) == stat.S_IMODE(folder.parent.stat().st_mode)
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert sorted(p.name for p in folder.iterdir()) == ["nightly.tar"]  # no work files left
    with tarfile.open(target) as tar:
        members = {m.name: m for m in tar.getmembers()}
        database = "compound.dump" if db.engine.dialect.name == "postgresql" else "compound.db"
        assert set(members) == {database, "uploads/a.jpg", "uploads/b.jpg"}
        assert {m.mode for m in members.values()} == {0o600}
        assert tar.extractfile("uploads/a.jpg").read() == b"\xff\xd8a.jpg\xff\xd9"


def test_a_backup_never_overwrites_a_file(world, app, tmp_path: Path):
    target = tmp_path / "taken.tar"
    target.write_bytes(b"someone else's")
    result = app.test_cli_runner().invoke(args=["backup", "--to", str(target)])
    assert result.exit_code != 0 and "already exists" in result.output
    assert target.read_bytes() == b"someone else's"


def test_a_backup_is_written_aside_synced_then_named_at_once(
    world, app, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    """A backup cut short (a full disk, a crash) used to leave a file with the backup's
    name holding half a tar, and one not yet on the disk."""
    target = tmp_path / "nightly.tar"
    partial = tmp_path / "nightly.tar.partial"
    synced: list[tuple[str, bool]] = []
    real_fsync = os.fsync

    def watched_fsync(fd: int) -> None:
        synced.append((os.readlink(f"/proc/self/fd/{fd}"), target.exists()))
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", watched_fsync)
    result = app.test_cli_runner().invoke(args=["backup", "--to", str(target)])
    assert result.exit_code == 0, result.output
    assert (str(partial), False) in synced  # the data on the disk before it has its name
    assert synced[-1] == (str(tmp_path), True)  # then the new name itself
    assert target.is_file() and not partial.exists()
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    with tarfile.open(target) as tar:
        assert tar.getmembers()


def test_a_failed_backup_leaves_no_file_behind(
    world, app, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    target = tmp_path / "backups" / "nightly.tar"

    def full_disk(*_args: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(backup, "_photos", full_disk)
    result = app.test_cli_runner().invoke(args=["backup", "--to", str(target)])
    assert result.exit_code != 0
    assert list(target.parent.iterdir()) == []  # no half a backup, no work files


def test_a_backup_leaves_an_interrupted_ones_file_alone(world, app, tmp_path: Path):
    target = tmp_path / "nightly.tar"
    partial = tmp_path / "nightly.tar.partial"
    partial.write_bytes(b"half a tar")
    result = app.test_cli_runner().invoke(args=["backup", "--to", str(target)])
    assert result.exit_code != 0 and "interrupted" in result.output
    assert partial.read_bytes() == b"half a tar" and not target.exists()


def test_the_default_backup_is_named_by_the_local_time(world, app, held_clock):
    held_clock.now = datetime(2026, 6, 30, 17, 30, tzinfo=UTC)  # 01:30 on 1 July in China
    result = app.test_cli_runner().invoke(args=["backup"])
    assert result.exit_code == 0, result.output
    made = Path(app.instance_path) / "backups" / "compound-20260701-013000.tar"
    assert made.is_file() and stat.S_IMODE(made.stat().st_mode) == 0o600


def test_restore_puts_the_photos_back(world, app, tmp_path: Path, monkeypatch):
    uploads = put_photos(app, ["kept.jpg", "lost.jpg"])
    target = tmp_path / "copy.tar"
    runner = app.test_cli_runner()
    assert runner.invoke(args=["backup", "--to", str(target)]).exit_code == 0
    db.session.rollback()
    (uploads / "lost.jpg").unlink()
    watch = CreationWatch(monkeypatch)
    db.session.remove()
    result = runner.invoke(args=["restore", str(target), "--yes"])
    assert result.exit_code == 0, result.output
    assert "2 photos" in result.output
    watch.assert_private()
    assert (uploads / "lost.jpg").read_bytes() == b"\xff\xd8lost.jpg\xff\xd9"
    assert stat.S_IMODE((uploads / "lost.jpg").stat().st_mode) == 0o600
    assert sorted(p.name for p in uploads.iterdir()) == ["kept.jpg", "lost.jpg"]


@pytest.mark.parametrize("name", ["../escape.jpg", "uploads/../../escape.jpg", "/etc/x"])
def test_restore_refuses_an_archive_with_foreign_entries(world, app, tmp_path: Path, name: str):
    bad = tmp_path / "bad.tar"
    with tarfile.open(bad, "w") as tar:
        for entry in ("compound.db", name):
            info = tarfile.TarInfo(entry)
            info.size = 1
            tar.addfile(info, io.BytesIO(b"x"))
    before = backup.summary()
    result = app.test_cli_runner().invoke(args=["restore", str(bad), "--yes"])
    assert result.exit_code != 0 and "unexpected entry" in result.output
    db.session.remove()
    assert backup.summary() == before
    assert not (tmp_path / "escape.jpg").exists()

"""Consistent backups while the app runs, and restores: the database and the photos.

A backup is one tar file holding ``compound.db`` (SQLite's online backup) or
``compound.dump`` (``pg_dump --format=custom``) and ``uploads/`` (the photos of repairs,
works and expense vouchers). It holds residents' names and mobile numbers, so everything
it writes is private from the moment it exists: files are created with mode 0600 and
folders with 0700 (``os.open``/``os.mkdir`` with those modes, under a 077 umask for what
SQLite and the PostgreSQL tools create), never opened up and narrowed afterwards. The
tar is written as ``<name>.partial`` and takes its name only once it is whole and on
the disk.

``restore`` takes such a file, or a bare database file from before photos were included.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path, PurePosixPath
from typing import IO, BinaryIO

from sqlalchemy import func, select
from sqlalchemy.engine import URL, Engine

from . import clock
from .extensions import db

FILE_MODE = 0o600
DIR_MODE = 0o700
SQLITE_NAME = "compound.db"
PG_NAME = "compound.dump"
UPLOADS = "uploads"


class BackupError(RuntimeError):
    pass


def default_path(folder: Path) -> Path:
    """``compound-<time on the compounds' clocks>.tar`` in ``folder``."""
    stamp = clock.local_now().strftime("%Y%m%d-%H%M%S")
    return folder / f"compound-{stamp}.tar"


@contextmanager
def private_files() -> Iterator[None]:
    """Whatever is created inside, by us or by a tool we run, is its owner's alone."""
    previous = os.umask(0o077)
    try:
        yield
    finally:
        os.umask(previous)


def _create(path: Path) -> BinaryIO:
    """A new file, mode 0600 from its first moment; never an existing one."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    except FileExistsError:
        raise BackupError(f"{path} already exists; a backup never overwrites a file") from None
    return os.fdopen(fd, "wb")


def _make_dirs(folder: Path) -> None:
    """``folder`` and any missing parents, each created with mode 0700."""
    missing = []
    while not folder.exists():
        missing.append(folder)
        folder = folder.parent
    for path in reversed(missing):
        os.mkdir(path, DIR_MODE)


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


def _run(args: list[str], env: dict[str, str], stdout: IO[bytes] | None = None) -> None:
    """Run a PostgreSQL client tool; its error output becomes the error shown."""
    tool = shutil.which(args[0])
    if tool is None:
        raise BackupError(f"{args[0]} is not installed (Debian: apt-get install postgresql-client)")
    result = subprocess.run(  # noqa: S603 — our own tool and configured database URL
        [tool, *args[1:]],
        env=env,
        stdout=stdout if stdout is not None else subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        check=False,
    )
    if result.returncode != 0:
        raise BackupError(result.stderr.decode(errors="replace").strip())


def _dump_database(engine: Engine, folder: Path) -> Path:
    """A consistent copy of the database into ``folder`` (a private temporary one)."""
    if engine.dialect.name == "sqlite":
        target = folder / SQLITE_NAME
        _create(target).close()  # SQLite fills the private empty file (and its journal)
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
        return target
    if engine.dialect.name == "postgresql":
        target = folder / PG_NAME
        dsn, env = _pg_args(engine.url)
        # Custom format: compressed, restorable table by table; one snapshot for the whole
        # dump. It is written into a file we opened, not one pg_dump creates.
        with _create(target) as out:
            _run(["pg_dump", "--format=custom", "--no-owner", dsn], env, stdout=out)
        return target
    raise BackupError(f"backups of {engine.dialect.name} are not supported")


def _photos(uploads: Path | None) -> list[Path]:
    if uploads is None or not uploads.is_dir():
        return []
    return sorted(p for p in uploads.iterdir() if p.is_file() and not p.is_symlink())


def _private_member(info: tarfile.TarInfo) -> tarfile.TarInfo:
    info.mode = FILE_MODE
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    return info


PARTIAL = ".partial"


def backup(engine: Engine, target: Path, uploads: Path | None = None) -> int:
    """Write the database and the photos in ``uploads`` to the tar file ``target``.

    Returns the number of photos included. ``target`` must not exist yet. The tar is
    written to ``<target>.partial``, flushed to the disk, and only then given its name
    (in one step, never over an existing file): a file with the backup's name is always
    a whole backup, even after a crash or a full disk.
    """
    with private_files():
        _make_dirs(target.parent)
        if target.exists():
            raise BackupError(f"{target} already exists; a backup never overwrites a file")
        partial = target.with_name(target.name + PARTIAL)
        if partial.exists():
            raise BackupError(
                f"{partial} exists: another backup to {target.name} is running, or one was "
                "interrupted (then delete it)"
            )
        out = _create(partial)
        try:
            with out, tempfile.TemporaryDirectory(dir=target.parent) as work:  # mode 0700
                database = _dump_database(engine, Path(work))
                photos = _photos(uploads)
                with tarfile.open(fileobj=out, mode="w", format=tarfile.PAX_FORMAT) as tar:
                    tar.add(database, arcname=database.name, filter=_private_member)
                    for photo in photos:
                        tar.add(photo, arcname=f"{UPLOADS}/{photo.name}", filter=_private_member)
                out.flush()
                os.fsync(out.fileno())
            _publish(partial, target)
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
    return len(photos)


def _publish(partial: Path, target: Path) -> None:
    """Give the finished ``partial`` the name ``target`` at once, never over a file."""
    try:
        os.link(partial, target)  # atomic, and refused if the name is taken meanwhile
    except FileExistsError:
        raise BackupError(f"{target} already exists; a backup never overwrites a file") from None
    except OSError:
        # A file system without hard links: rename, as atomic, the name checked just before.
        if target.exists():
            raise BackupError(
                f"{target} already exists; a backup never overwrites a file"
            ) from None
        os.rename(partial, target)
    else:
        partial.unlink()
    _sync_folder(target.parent)


def _sync_folder(folder: Path) -> None:
    """Flush a folder's entries (a new name) to the disk, where the system allows it."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass  # some file systems refuse fsync on a folder; the file itself is synced
    finally:
        os.close(fd)


def _members(archive: tarfile.TarFile) -> tuple[tarfile.TarInfo, list[tarfile.TarInfo]]:
    """The database member and the photos, after checking every name is one we write."""
    database = None
    photos = []
    for member in archive.getmembers():
        name = PurePosixPath(member.name)
        if not member.isfile():
            raise BackupError(f"unexpected entry in the backup: {member.name}")
        if name.as_posix() in (SQLITE_NAME, PG_NAME) and database is None:
            database = member
        elif (
            len(name.parts) == 2
            and name.parts[0] == UPLOADS
            and not name.name.startswith(".")
            and name.name not in ("", "..")
        ):
            photos.append(member)
        else:
            raise BackupError(f"unexpected entry in the backup: {member.name}")
    if database is None:
        raise BackupError("the backup holds no database")
    return database, photos


def _extract(archive: tarfile.TarFile, member: tarfile.TarInfo, target: Path) -> None:
    """Copy one member into a new private file (written beside, then moved into place)."""
    source = archive.extractfile(member)
    if source is None:
        raise BackupError(f"cannot read {member.name} from the backup")
    partial = target.with_name(f".{target.name}.partial")
    partial.unlink(missing_ok=True)
    with source, _create(partial) as out:
        shutil.copyfileobj(source, out)
    os.replace(partial, target)


def restore(engine: Engine, source: Path, uploads: Path | None = None) -> int:
    """Replace the database's contents with a backup (stop the app servers first), and put
    its photos back into ``uploads``. Returns the number of photos restored."""
    if not source.is_file():
        raise BackupError(f"{source} does not exist")
    if not tarfile.is_tarfile(source):
        _restore_database(engine, source)  # a bare database file: the older backups
        return 0
    with private_files(), tarfile.open(source) as archive:
        database, photos = _members(archive)
        with tempfile.TemporaryDirectory() as work:  # mode 0700
            copy = Path(work) / PurePosixPath(database.name).name
            _extract(archive, database, copy)
            if (copy.name == SQLITE_NAME) != (engine.dialect.name == "sqlite"):
                raise BackupError(f"{source} was made from another kind of database")
            # Photos first: a photo nobody refers to is harmless, a row without its photo not.
            if photos:
                if uploads is None:
                    raise BackupError("no folder to put the photos back into")
                _make_dirs(uploads)
                for member in photos:
                    _extract(archive, member, uploads / PurePosixPath(member.name).name)
            _restore_database(engine, copy)
    return len(photos)


def _restore_database(engine: Engine, source: Path) -> None:
    engine.dispose()
    if engine.dialect.name == "sqlite":
        backup_db = sqlite3.connect(source)
        live = sqlite3.connect(_sqlite_file(engine))
        try:
            if backup_db.execute("PRAGMA integrity_check").fetchone()[0] != "ok":
                raise BackupError("the backup file is damaged")
            backup_db.backup(live)
        except sqlite3.DatabaseError as err:
            raise BackupError(f"the backup file is damaged: {err}") from None
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

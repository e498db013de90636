"""The database: migrations build exactly the models' schema; SQLite runs durably."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import event, inspect

from compound_app import create_app
from compound_app.database import sqlite_pragmas
from compound_app.extensions import db
from tests.conftest import _config
from tests.factories import first_unit


def test_migrations_build_the_schema_of_the_models(app):
    with db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        differences = compare_metadata(context, db.metadata)
    assert differences == []


def test_every_table_of_the_models_exists(app):
    tables = set(inspect(db.engine).get_table_names())
    assert set(db.metadata.tables) <= tables
    assert "alembic_version" in tables


def test_sqlite_runs_in_wal_with_full_sync_and_foreign_keys(tmp_path):
    """As configured outside the tests (which set SQLITE_SYNCHRONOUS OFF, as nothing else
    may: any other value than FULL or OFF stops the app)."""
    config = {**_config(f"sqlite:///{tmp_path / 'prod.db'}", tmp_path)}
    del config["SQLITE_SYNCHRONOUS"]
    app = create_app(config)
    with app.app_context():
        pragmas = sqlite_pragmas(db.engine)
        db.engine.dispose()
    assert pragmas["journal_mode"] == "wal"
    assert pragmas["synchronous"] == 2  # FULL
    assert pragmas["foreign_keys"] == 1
    assert pragmas["busy_timeout"] >= 5000
    with pytest.raises(ValueError, match="SQLITE_SYNCHRONOUS"):
        create_app({**config, "SQLITE_SYNCHRONOUS": "NORMAL; DROP TABLE x"})


def test_writes_begin_immediate_and_reads_do_not(world, login_as):
    if db.engine.dialect.name != "sqlite":
        pytest.skip("SQLite transaction modes")
    begins: list[str] = []

    def seen(_conn, _cursor, statement, *_args) -> None:  # type: ignore[no-untyped-def]
        if statement.startswith("BEGIN"):
            begins.append(statement)

    client = login_as(world.users["staff"])
    unit_id = first_unit(world.branch).id
    compound_id = world.branch.id
    db.session.commit()  # the test's own reads end here; only the app's requests are watched
    event.listen(db.engine, "before_cursor_execute", seen)
    try:
        client.get(f"/registry/compounds/{compound_id}")
        reads = list(begins)
        begins.clear()
        client.post(
            f"/registry/units/{unit_id}/households/new",
            data={"room": "901", "area": "60", "occupancy": "vacant"},
        )
    finally:
        event.remove(db.engine, "before_cursor_execute", seen)
    assert reads and all(b == "BEGIN" for b in reads)
    assert begins and all(b == "BEGIN IMMEDIATE" for b in begins)


def test_foreign_keys_are_enforced(app):
    from sqlalchemy.exc import IntegrityError

    from compound_app.registry.models import Household

    db.session.add(Household(unit_id=999999, room="1", area_dm2=100, occupancy="vacant"))
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()


def test_check_constraints_guard_the_codes(world):
    from sqlalchemy import text
    from sqlalchemy.exc import IntegrityError

    with pytest.raises(IntegrityError):
        db.session.execute(
            text("UPDATE compound SET model = 'anarchy' WHERE id = :id"), {"id": world.branch.id}
        )
        db.session.flush()
    db.session.rollback()
    with pytest.raises(IntegrityError):
        db.session.execute(text("UPDATE household SET area_dm2 = -1"))
        db.session.flush()
    db.session.rollback()

"""the vote procedure: each subdistrict's vote rules (announcement period, how many
scrutineers and counters), each area's 议事规则 options, a vote's announcement and end,
its tellers, paper ballots corrected by a second person (append-only), and votes put to a
chosen set of an area's compounds

Revision ID: 0029
Revises: 0028
Create Date: 2026-12-08 09:00:00.000000

"""

import sqlalchemy as sa
from alembic import op

from compound_app.appendonly import create_triggers, drop_triggers

# revision identifiers, used by Alembic.
revision = "0029"
down_revision = "0028"
branch_labels = None
depends_on = None

OLD_SCOPES = "scope_kind IN ('area', 'compound', 'building', 'unit')"
NEW_SCOPES = "scope_kind IN ('area', 'compound', 'building', 'unit', 'compounds')"


def _vote_scopes(old: str, new: str) -> None:
    """Let ``vote.scope_kind`` take one more value.

    On SQLite ``batch_alter_table`` would rebuild the table, dropping the old one, which
    the foreign keys of every elector, ballot and citing record refuse while foreign keys
    are on (and a migration cannot turn them off inside its transaction). Widening a
    CHECK changes nothing stored, so the table's definition is rewritten in place, the
    way SQLite documents for such changes (lang_altertable.html, "otheralter").
    """
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        with op.batch_alter_table("vote", schema=None) as batch_op:
            batch_op.drop_constraint(op.f("ck_vote_scope_kind"), type_="check")
            batch_op.create_check_constraint(op.f("ck_vote_scope_kind"), sa.text(new))
        return
    sql = bind.exec_driver_sql(
        "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'vote'"
    ).scalar()
    if old not in sql:
        raise RuntimeError("vote.scope_kind's check is not the one this migration knows")
    version = bind.exec_driver_sql("PRAGMA schema_version").scalar()
    bind.exec_driver_sql("PRAGMA writable_schema=ON")
    bind.exec_driver_sql(
        "UPDATE sqlite_master SET sql = ? WHERE type = 'table' AND name = 'vote'",
        (sql.replace(old, new),),
    )
    bind.exec_driver_sql(f"PRAGMA schema_version={int(version) + 1}")
    bind.exec_driver_sql("PRAGMA writable_schema=OFF")


def upgrade():
    op.create_table(
        "vote_rules",
        sa.Column("subdistrict_id", sa.Integer(), nullable=False),
        sa.Column("announce_days", sa.Integer(), server_default="15", nullable=False),
        sa.Column("scrutineers", sa.Integer(), server_default="1", nullable=False),
        sa.Column("counters", sa.Integer(), server_default="1", nullable=False),
        sa.CheckConstraint(
            "announce_days BETWEEN 1 AND 90", name=op.f("ck_vote_rules_announce_days")
        ),
        sa.CheckConstraint("counters BETWEEN 1 AND 5", name=op.f("ck_vote_rules_counters")),
        sa.CheckConstraint("scrutineers BETWEEN 1 AND 5", name=op.f("ck_vote_rules_scrutineers")),
        sa.ForeignKeyConstraint(
            ["subdistrict_id"],
            ["subdistrict.id"],
            name=op.f("fk_vote_rules_subdistrict_id_subdistrict"),
        ),
        sa.PrimaryKeyConstraint("subdistrict_id", name=op.f("pk_vote_rules")),
    )
    op.create_table(
        "assembly_rules",
        sa.Column("area_id", sa.Integer(), nullable=False),
        sa.Column("non_voters_follow_majority", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["area_id"],
            ["management_area.id"],
            name=op.f("fk_assembly_rules_area_id_management_area"),
        ),
        sa.PrimaryKeyConstraint("area_id", name=op.f("pk_assembly_rules")),
    )
    op.create_table(
        "vote_compound",
        sa.Column("vote_id", sa.Integer(), nullable=False),
        sa.Column("compound_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["compound_id"], ["compound.id"], name=op.f("fk_vote_compound_compound_id_compound")
        ),
        sa.ForeignKeyConstraint(
            ["vote_id"], ["vote.id"], name=op.f("fk_vote_compound_vote_id_vote")
        ),
        sa.PrimaryKeyConstraint("vote_id", "compound_id", name=op.f("pk_vote_compound")),
    )
    op.create_table(
        "teller",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("vote_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=10), nullable=False),
        sa.Column("occupant_id", sa.Integer(), nullable=True),
        sa.Column("name", sa.String(length=50), nullable=False),
        sa.Column("home", sa.String(length=100), nullable=False),
        sa.Column("recorded_by_id", sa.Integer(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("role IN ('scrutineer', 'counter')", name=op.f("ck_teller_role")),
        sa.ForeignKeyConstraint(
            ["occupant_id"],
            ["occupant.id"],
            name=op.f("fk_teller_occupant_id_occupant"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"], ["user.id"], name=op.f("fk_teller_recorded_by_id_user")
        ),
        sa.ForeignKeyConstraint(["vote_id"], ["vote.id"], name=op.f("fk_teller_vote_id_vote")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_teller")),
        sa.UniqueConstraint("vote_id", "occupant_id", name=op.f("uq_teller_vote_id_occupant_id")),
    )
    with op.batch_alter_table("teller", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_teller_vote_id"), ["vote_id"], unique=False)

    op.create_table(
        "ballot_correction",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ballot_id", sa.Integer(), nullable=False),
        sa.Column("new_ballot_id", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=False),
        sa.Column("corrected_by_id", sa.Integer(), nullable=False),
        sa.Column("corrected_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["ballot_id"], ["ballot.id"], name=op.f("fk_ballot_correction_ballot_id_ballot")
        ),
        sa.ForeignKeyConstraint(
            ["corrected_by_id"], ["user.id"], name=op.f("fk_ballot_correction_corrected_by_id_user")
        ),
        sa.ForeignKeyConstraint(
            ["new_ballot_id"], ["ballot.id"], name=op.f("fk_ballot_correction_new_ballot_id_ballot")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ballot_correction")),
        sa.UniqueConstraint("ballot_id", name=op.f("uq_ballot_correction_ballot_id")),
        sa.UniqueConstraint("new_ballot_id", name=op.f("uq_ballot_correction_new_ballot_id")),
    )
    # A correction is evidence like the ballots it joins: no program may rewrite it.
    create_triggers("ballot_correction", ["ballot_correction"], "ballot corrections")

    # New columns only (no rebuild of the table): SQLite adds them in place.
    with op.batch_alter_table("vote", schema=None) as batch_op:
        batch_op.add_column(sa.Column("announced_on", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("opens_on", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("rules", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("only_homes", sa.JSON(), nullable=True))
        batch_op.add_column(
            sa.Column("close_reason", sa.String(length=500), server_default="", nullable=False)
        )
    _vote_scopes(OLD_SCOPES, NEW_SCOPES)
    # Votes opened before announcements existed: announced and opening the day they opened
    # (on the compounds' calendar).
    if op.get_bind().dialect.name == "sqlite":
        day = "date(opened_at, '+8 hours')"
    else:
        day = "CAST(opened_at AT TIME ZONE 'Asia/Shanghai' AS DATE)"
    op.execute(
        f"UPDATE vote SET announced_on = {day}, opens_on = {day} WHERE opened_at IS NOT NULL"
    )


def downgrade():
    bind = op.get_bind()
    if bind.exec_driver_sql("SELECT COUNT(*) FROM vote WHERE scope_kind = 'compounds'").scalar():
        raise RuntimeError("votes put to chosen compounds exist: they have no place before 0029")
    _vote_scopes(NEW_SCOPES, OLD_SCOPES)
    for column in ("close_reason", "only_homes", "rules", "opens_on", "announced_on"):
        # SQLite drops a column in place (3.35+), without rebuilding the referenced table.
        bind.exec_driver_sql(f"ALTER TABLE vote DROP COLUMN {column}")
    drop_triggers("ballot_correction", ["ballot_correction"])
    op.drop_table("ballot_correction")
    with op.batch_alter_table("teller", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_teller_vote_id"))
    op.drop_table("teller")
    op.drop_table("vote_compound")
    op.drop_table("assembly_rules")
    op.drop_table("vote_rules")

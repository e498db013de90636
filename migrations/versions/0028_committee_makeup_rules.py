"""the committee's make-up: whom each member sits for (committee_member.kind), how the chair
was appointed (committee.chair_appointed, _by, _on), and each subdistrict's rules for its
committees (committee_rules).

Revision ID: 0028
Revises: 0027
Create Date: 2026-12-09 10:00:00.000000

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0028"
down_revision = "0027"
branch_labels = None
depends_on = None

KINDS = "kind IN ('subdistrict', 'residents_committee', 'police', 'housing', 'owner')"
CHAIR = "chair_appointed = '' OR chair_appointed IN ('named', 'elected')"


def upgrade():
    op.create_table(
        "committee_rules",
        sa.Column("subdistrict_id", sa.Integer(), nullable=False),
        sa.Column("min_members", sa.Integer(), nullable=False),
        sa.Column("max_members", sa.Integer(), nullable=False),
        sa.Column("odd_members", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column("owners_rule", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column("owners_pct", sa.Integer(), nullable=False),
        sa.Column("chair_appointment", sa.String(length=20), nullable=False),
        sa.Column("max_term_years", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "min_members BETWEEN 1 AND 99", name=op.f("ck_committee_rules_min_members")
        ),
        sa.CheckConstraint(
            "max_members BETWEEN 1 AND 99", name=op.f("ck_committee_rules_max_members")
        ),
        sa.CheckConstraint(
            "min_members <= max_members", name=op.f("ck_committee_rules_members_range")
        ),
        sa.CheckConstraint(
            "owners_pct BETWEEN 1 AND 100", name=op.f("ck_committee_rules_owners_pct")
        ),
        sa.CheckConstraint(
            "max_term_years BETWEEN 1 AND 10", name=op.f("ck_committee_rules_max_term_years")
        ),
        sa.CheckConstraint(
            "chair_appointment IN ('named', 'elected')",
            name=op.f("ck_committee_rules_chair_appointment"),
        ),
        sa.ForeignKeyConstraint(
            ["subdistrict_id"],
            ["subdistrict.id"],
            name=op.f("fk_committee_rules_subdistrict_id_subdistrict"),
        ),
        sa.PrimaryKeyConstraint("subdistrict_id", name=op.f("pk_committee_rules")),
    )

    # Members recorded before this migration sat for the owners.
    with op.batch_alter_table("committee_member", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("kind", sa.String(length=20), server_default="owner", nullable=False)
        )
        batch_op.create_check_constraint(op.f("ck_committee_member_kind"), KINDS)

    # committee_member points at committee: SQLite adds the columns in place rather than
    # rebuilding the table (dropping it would break its members' foreign keys).
    if op.get_bind().dialect.name == "sqlite":
        op.execute(
            "ALTER TABLE committee ADD COLUMN chair_appointed VARCHAR(20) DEFAULT '' NOT NULL "
            f"CONSTRAINT ck_committee_chair_appointed CHECK ({CHAIR})"
        )
        op.add_column(
            "committee",
            sa.Column(
                "chair_appointed_by", sa.String(length=50), server_default="", nullable=False
            ),
        )
        op.add_column("committee", sa.Column("chair_appointed_on", sa.Date(), nullable=True))
        return
    with op.batch_alter_table("committee", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("chair_appointed", sa.String(length=20), server_default="", nullable=False)
        )
        batch_op.add_column(
            sa.Column("chair_appointed_by", sa.String(length=50), server_default="", nullable=False)
        )
        batch_op.add_column(sa.Column("chair_appointed_on", sa.Date(), nullable=True))
        batch_op.create_check_constraint(op.f("ck_committee_chair_appointed"), CHAIR)


def downgrade():
    if op.get_bind().dialect.name == "sqlite":
        # In place, as they were added (each column takes its own CHECK with it).
        for column in ("chair_appointed_on", "chair_appointed_by", "chair_appointed"):
            op.execute(f"ALTER TABLE committee DROP COLUMN {column}")
    else:
        _drop_chair_columns()
    with op.batch_alter_table("committee_member", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_committee_member_kind"), type_="check")
        batch_op.drop_column("kind")
    op.drop_table("committee_rules")


def _drop_chair_columns():
    with op.batch_alter_table("committee", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_committee_chair_appointed"), type_="check")
        batch_op.drop_column("chair_appointed_on")
        batch_op.drop_column("chair_appointed_by")
        batch_op.drop_column("chair_appointed")

"""the three lists' figures kept per community over every month (problem_total), with the
overdue count of the clock's last check, and the projects per community, stage and kind
(project_total), so the subdistrict's pages read one row per community.

Revision ID: 0032
Revises: 0031
Create Date: 2026-12-08 01:00:00.000000

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0032"
down_revision = "0031"
branch_labels = None
depends_on = None

FIELDS = (
    "filed",
    "replied",
    "reply_seconds",
    "resolved",
    "fix_seconds",
    "closed",
    "missed",
    "escalated",
    "rated",
    "rating_sum",
)


def upgrade():
    op.create_table(
        "problem_total",
        sa.Column("community_id", sa.Integer(), nullable=False),
        *[
            sa.Column(
                f, sa.BigInteger() if f.endswith("_seconds") else sa.Integer(), nullable=False
            )
            for f in FIELDS
        ],
        sa.Column("overdue", sa.Integer(), nullable=False),
        sa.Column("overdue_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["community_id"], ["community.id"], name=op.f("fk_problem_total_community_id_community")
        ),
        sa.PrimaryKeyConstraint("community_id", name=op.f("pk_problem_total")),
    )
    op.create_table(
        "project_total",
        sa.Column("community_id", sa.Integer(), nullable=False),
        sa.Column("stage", sa.String(length=12), nullable=False),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("projects", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["community_id"], ["community.id"], name=op.f("fk_project_total_community_id_community")
        ),
        sa.PrimaryKeyConstraint("community_id", "stage", "kind", name=op.f("pk_project_total")),
    )
    # Filled from the kept months and the projects; the overdue count by the next check.
    sums = ", ".join(f"SUM({f})" for f in FIELDS)
    op.execute(
        f"INSERT INTO problem_total (community_id, {', '.join(FIELDS)}, overdue) "
        f"SELECT community_id, {sums}, 0 FROM problem_month GROUP BY community_id"
    )
    op.execute(
        "INSERT INTO project_total (community_id, stage, kind, projects) "
        "SELECT community_id, stage, kind, COUNT(*) FROM rectify_project "
        "GROUP BY community_id, stage, kind"
    )


def downgrade():
    op.drop_table("project_total")
    op.drop_table("problem_total")

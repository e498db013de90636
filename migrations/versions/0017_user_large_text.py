"""user.large_text: the large-text setting (适老化) kept with the account

Large text, stronger contrast and bigger buttons, chosen with one tap in the header of
every page; an account keeps it for every phone and computer it signs in on.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-09 09:00:00.000000

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade():
    # A plain ADD COLUMN: a batch copy of "user" would have to drop a table that every
    # other table refers to.
    op.add_column(
        "user", sa.Column("large_text", sa.Boolean(), server_default=sa.false(), nullable=False)
    )


def downgrade():
    # Plain DROP COLUMN (SQLite 3.35+, PostgreSQL), as in 0015: no copy of "user".
    op.execute('ALTER TABLE "user" DROP COLUMN large_text')

"""occupant.consent_withdrawn_at: when consent to keep a mobile was withdrawn

Withdrawing consent empties the consent columns; this remembers that it was withdrawn
(and when), so a roster file dated before it cannot record the old consent again
(registry/importer.py) and a form must give a later date (registry/roster.py).

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-08 09:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('occupant', schema=None) as batch_op:
        batch_op.add_column(sa.Column('consent_withdrawn_at', sa.DateTime(timezone=True), nullable=True))


def downgrade():
    # Plain DROP COLUMN (SQLite 3.35+, PostgreSQL), as in 0015: no copy of the table.
    op.execute('ALTER TABLE occupant DROP COLUMN consent_withdrawn_at')

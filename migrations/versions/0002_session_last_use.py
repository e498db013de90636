"""session last use, for the idle timeout

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27 14:00:37.097596

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade():
    # Existing sessions count as used now, so nobody is signed out by the upgrade.
    with op.batch_alter_table('user_session', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                'last_seen_at',
                sa.DateTime(timezone=True),
                nullable=False,
                server_default=sa.text('CURRENT_TIMESTAMP'),
            )
        )


def downgrade():
    with op.batch_alter_table('user_session', schema=None) as batch_op:
        batch_op.drop_column('last_seen_at')

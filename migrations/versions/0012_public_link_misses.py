"""public link misses: tokens matching no link, counted per address (rate limit)

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07 02:42:06.319789

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('public_miss',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ip', sa.String(length=45), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_public_miss'))
    )
    with op.batch_alter_table('public_miss', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_public_miss_at'), ['at'], unique=False)
        batch_op.create_index('ix_public_miss_ip_at', ['ip', 'at'], unique=False)



def downgrade():
    with op.batch_alter_table('public_miss', schema=None) as batch_op:
        batch_op.drop_index('ix_public_miss_ip_at')
        batch_op.drop_index(batch_op.f('ix_public_miss_at'))

    op.drop_table('public_miss')

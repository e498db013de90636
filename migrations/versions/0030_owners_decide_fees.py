"""the owners decide fees: the subdistrict's minimum days a fee schedule stays on the
notice board (公示) before it can be decided, on its oversight settings.

Revision ID: 0030
Revises: 0029
Create Date: 2026-06-15 10:00:00

"""
import sqlalchemy as sa
from alembic import op


revision = '0030'
down_revision = '0029'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('oversight_settings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('min_publicity_days', sa.Integer(), server_default='7', nullable=False))
        batch_op.create_check_constraint(op.f('ck_oversight_settings_min_publicity_days'), 'min_publicity_days BETWEEN 1 AND 90')


def downgrade():
    with op.batch_alter_table('oversight_settings', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_oversight_settings_min_publicity_days'), type_='check')
        batch_op.drop_column('min_publicity_days')

"""threshold changes: a new expense-approval threshold takes effect when a second
committee member confirms it

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04 20:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('threshold_change',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('area_id', sa.Integer(), nullable=False),
    sa.Column('threshold_fen', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('proposed_by_id', sa.Integer(), nullable=False),
    sa.Column('proposed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('confirmed_by_id', sa.Integer(), nullable=True),
    sa.Column('confirmed_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint('threshold_fen >= 0', name=op.f('ck_threshold_change_threshold')),
    sa.CheckConstraint("status IN ('pending', 'confirmed', 'replaced')", name=op.f('ck_threshold_change_status')),
    sa.ForeignKeyConstraint(['area_id'], ['management_area.id'], name=op.f('fk_threshold_change_area_id_management_area')),
    sa.ForeignKeyConstraint(['confirmed_by_id'], ['user.id'], name=op.f('fk_threshold_change_confirmed_by_id_user')),
    sa.ForeignKeyConstraint(['proposed_by_id'], ['user.id'], name=op.f('fk_threshold_change_proposed_by_id_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_threshold_change'))
    )
    with op.batch_alter_table('threshold_change', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_threshold_change_area_id'), ['area_id'], unique=False)


def downgrade():
    with op.batch_alter_table('threshold_change', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_threshold_change_area_id'))

    op.drop_table('threshold_change')

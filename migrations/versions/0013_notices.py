"""notices: posted to an area, compound, building or unit; attachments; who has been
told (opened, told in person or by phone, acknowledged); comments on a 公示

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07 02:42:45.870303

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('notice',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('area_id', sa.Integer(), nullable=False),
    sa.Column('compound_id', sa.Integer(), nullable=True),
    sa.Column('building_id', sa.Integer(), nullable=True),
    sa.Column('unit_id', sa.Integer(), nullable=True),
    sa.Column('scope_kind', sa.String(length=10), nullable=False),
    sa.Column('scope_label', sa.String(length=100), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('title', sa.String(length=100), nullable=False),
    sa.Column('body', sa.JSON(), nullable=False),
    sa.Column('link', sa.String(length=200), nullable=False),
    sa.Column('publish_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('comments_until', sa.Date(), nullable=True),
    sa.Column('pinned', sa.Boolean(), nullable=False),
    sa.Column('ask_ack', sa.Boolean(), nullable=False),
    sa.Column('posted_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('announced_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('withdrawn_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('withdrawn_by_id', sa.Integer(), nullable=True),
    sa.Column('withdraw_reason', sa.String(length=200), nullable=False),
    sa.Column('source', sa.String(length=60), nullable=True),
    sa.CheckConstraint("(kind = 'publicity') = (comments_until IS NOT NULL)", name=op.f('ck_notice_comment_period')),
    sa.CheckConstraint("kind IN ('notice', 'publicity', 'urgent', 'event')", name=op.f('ck_notice_kind')),
    sa.CheckConstraint("scope_kind IN ('area', 'compound', 'building', 'unit')", name=op.f('ck_notice_scope_kind')),
    sa.CheckConstraint("withdrawn_at IS NULL OR (withdrawn_by_id IS NOT NULL AND withdraw_reason <> '')", name=op.f('ck_notice_withdrawal')),
    sa.CheckConstraint('building_id IS NULL OR compound_id IS NOT NULL', name=op.f('ck_notice_building_in_compound')),
    sa.CheckConstraint('expires_at IS NULL OR expires_at > publish_at', name=op.f('ck_notice_expiry')),
    sa.CheckConstraint('unit_id IS NULL OR building_id IS NOT NULL', name=op.f('ck_notice_unit_in_building')),
    sa.ForeignKeyConstraint(['area_id'], ['management_area.id'], name=op.f('fk_notice_area_id_management_area')),
    sa.ForeignKeyConstraint(['building_id'], ['building.id'], name=op.f('fk_notice_building_id_building')),
    sa.ForeignKeyConstraint(['compound_id'], ['compound.id'], name=op.f('fk_notice_compound_id_compound')),
    sa.ForeignKeyConstraint(['posted_by_id'], ['user.id'], name=op.f('fk_notice_posted_by_id_user')),
    sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], name=op.f('fk_notice_unit_id_unit')),
    sa.ForeignKeyConstraint(['withdrawn_by_id'], ['user.id'], name=op.f('fk_notice_withdrawn_by_id_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notice')),
    sa.UniqueConstraint('source', name=op.f('uq_notice_source'))
    )
    with op.batch_alter_table('notice', schema=None) as batch_op:
        batch_op.create_index('ix_notice_area_publish', ['area_id', 'publish_at'], unique=False)
        batch_op.create_index('ix_notice_compound', ['compound_id'], unique=False)
        batch_op.create_index('ix_notice_due', ['announced_at', 'publish_at'], unique=False)

    op.create_table('notice_comment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('notice_id', sa.Integer(), nullable=False),
    sa.Column('household_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('text', sa.String(length=500), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['household_id'], ['household.id'], name=op.f('fk_notice_comment_household_id_household')),
    sa.ForeignKeyConstraint(['notice_id'], ['notice.id'], name=op.f('fk_notice_comment_notice_id_notice')),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_notice_comment_user_id_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notice_comment'))
    )
    with op.batch_alter_table('notice_comment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_notice_comment_notice_id'), ['notice_id'], unique=False)

    op.create_table('notice_file',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('notice_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('name', sa.String(length=60), nullable=False),
    sa.CheckConstraint("kind IN ('photo', 'pdf')", name=op.f('ck_notice_file_kind')),
    sa.ForeignKeyConstraint(['notice_id'], ['notice.id'], name=op.f('fk_notice_file_notice_id_notice')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notice_file'))
    )
    with op.batch_alter_table('notice_file', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_notice_file_notice_id'), ['notice_id'], unique=False)

    op.create_table('notice_read',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('notice_id', sa.Integer(), nullable=False),
    sa.Column('household_id', sa.Integer(), nullable=False),
    sa.Column('how', sa.String(length=10), nullable=False),
    sa.Column('by_id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('acked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('acked_by_id', sa.Integer(), nullable=True),
    sa.CheckConstraint("how IN ('opened', 'in_person', 'phone')", name=op.f('ck_notice_read_how')),
    sa.CheckConstraint('(acked_at IS NULL) = (acked_by_id IS NULL)', name=op.f('ck_notice_read_ack')),
    sa.ForeignKeyConstraint(['acked_by_id'], ['user.id'], name=op.f('fk_notice_read_acked_by_id_user')),
    sa.ForeignKeyConstraint(['by_id'], ['user.id'], name=op.f('fk_notice_read_by_id_user')),
    sa.ForeignKeyConstraint(['household_id'], ['household.id'], name=op.f('fk_notice_read_household_id_household')),
    sa.ForeignKeyConstraint(['notice_id'], ['notice.id'], name=op.f('fk_notice_read_notice_id_notice')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notice_read')),
    sa.UniqueConstraint('notice_id', 'household_id', name=op.f('uq_notice_read_notice_id_household_id'))
    )
    with op.batch_alter_table('notice_read', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_notice_read_household_id'), ['household_id'], unique=False)



def downgrade():
    with op.batch_alter_table('notice_read', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_notice_read_household_id'))

    op.drop_table('notice_read')
    with op.batch_alter_table('notice_file', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_notice_file_notice_id'))

    op.drop_table('notice_file')
    with op.batch_alter_table('notice_comment', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_notice_comment_notice_id'))

    op.drop_table('notice_comment')
    with op.batch_alter_table('notice', schema=None) as batch_op:
        batch_op.drop_index('ix_notice_due')
        batch_op.drop_index('ix_notice_compound')
        batch_op.drop_index('ix_notice_area_publish')

    op.drop_table('notice')

"""sms preferences, dev sms box, outbox hand-off

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07 02:40:28.726172

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('sms_preference',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('kinds', sa.JSON(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_sms_preference_user_id_user')),
    sa.PrimaryKeyConstraint('user_id', name=op.f('pk_sms_preference'))
    )
    op.create_table('dev_sms',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('outbox_id', sa.Integer(), nullable=False),
    sa.Column('mobile', sa.String(length=11), nullable=False),
    sa.Column('template', sa.String(length=40), nullable=False),
    sa.Column('text', sa.String(length=500), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['outbox_id'], ['outbox.id'], name=op.f('fk_dev_sms_outbox_id_outbox')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_dev_sms')),
    sa.UniqueConstraint('outbox_id', name=op.f('uq_dev_sms_outbox_id'))
    )
    with op.batch_alter_table('dev_sms', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_dev_sms_mobile'), ['mobile'], unique=False)

    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.add_column(sa.Column('handed_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_check_constraint(op.f('ck_outbox_claimed'), "status != 'sending' OR claimed_until IS NOT NULL")
        batch_op.create_check_constraint(op.f('ck_outbox_sent'), "status != 'sent' OR sent_at IS NOT NULL")
        batch_op.create_check_constraint(op.f('ck_outbox_tries'), "tries >= 0")



def downgrade():
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_outbox_tries'), type_='check')
        batch_op.drop_constraint(op.f('ck_outbox_sent'), type_='check')
        batch_op.drop_constraint(op.f('ck_outbox_claimed'), type_='check')
        batch_op.drop_column('handed_at')

    with op.batch_alter_table('dev_sms', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_dev_sms_mobile'))

    op.drop_table('dev_sms')
    op.drop_table('sms_preference')

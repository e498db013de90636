"""messages, outbox, public links, roster consent

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07 02:37:55.356836

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('message',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('url', sa.String(length=300), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('read_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('dedupe_key', sa.String(length=100), nullable=True),
    sa.CheckConstraint("kind IN ('repair', 'bill', 'vote', 'notice', 'urgent', 'duty', 'login')", name=op.f('ck_message_kind')),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_message_user_id_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_message')),
    sa.UniqueConstraint('user_id', 'dedupe_key', name=op.f('uq_message_user_id_dedupe_key'))
    )
    with op.batch_alter_table('message', schema=None) as batch_op:
        batch_op.create_index('ix_message_user_unread', ['user_id', 'read_at', 'id'], unique=False)

    op.create_table('public_link',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('target_id', sa.Integer(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('revoked_by_id', sa.Integer(), nullable=True),
    sa.Column('revoke_reason', sa.String(length=200), nullable=False),
    sa.CheckConstraint("kind IN ('notice', 'board', 'arrears', 'vote_result', 'works_board')", name=op.f('ck_public_link_kind')),
    sa.ForeignKeyConstraint(['created_by_id'], ['user.id'], name=op.f('fk_public_link_created_by_id_user')),
    sa.ForeignKeyConstraint(['revoked_by_id'], ['user.id'], name=op.f('fk_public_link_revoked_by_id_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_public_link')),
    sa.UniqueConstraint('token', name=op.f('uq_public_link_token'))
    )
    with op.batch_alter_table('public_link', schema=None) as batch_op:
        batch_op.create_index('uq_public_link_live', ['kind', 'target_id'], unique=True, sqlite_where=sa.text('revoked_at IS NULL'), postgresql_where=sa.text('revoked_at IS NULL'))

    op.create_table('outbox',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('channel', sa.String(length=10), nullable=False),
    sa.Column('mobile', sa.String(length=11), nullable=False),
    sa.Column('template', sa.String(length=40), nullable=False),
    sa.Column('params', sa.JSON(), nullable=False),
    sa.Column('urgent', sa.Boolean(), nullable=False),
    sa.Column('message_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('tries', sa.Integer(), nullable=False),
    sa.Column('next_try_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('claimed_by', sa.String(length=64), nullable=True),
    sa.Column('claimed_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('provider_ref', sa.String(length=100), nullable=True),
    sa.Column('last_error', sa.String(length=300), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("status IN ('pending', 'sending', 'sent', 'failed')", name=op.f('ck_outbox_status')),
    sa.ForeignKeyConstraint(['message_id'], ['message.id'], name=op.f('fk_outbox_message_id_message')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox'))
    )
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.create_index('ix_outbox_due', ['status', 'next_try_at'], unique=False)
        batch_op.create_index('ix_outbox_mobile_created', ['mobile', 'created_at'], unique=False)

    with op.batch_alter_table('occupant', schema=None) as batch_op:
        batch_op.add_column(sa.Column('consent_how', sa.String(length=10), nullable=True))
        batch_op.add_column(sa.Column('consent_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('consent_by_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_occupant_consent_by_id_user'), 'user', ['consent_by_id'], ['id'])
        batch_op.create_check_constraint(
            'consent',
            "consent_how IS NULL OR (consent_how IN ('paper', 'in_person', 'online') AND consent_at IS NOT NULL)",
        )



def downgrade():
    with op.batch_alter_table('occupant', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_occupant_consent'), type_='check')
        batch_op.drop_constraint(batch_op.f('fk_occupant_consent_by_id_user'), type_='foreignkey')
        batch_op.drop_column('consent_by_id')
        batch_op.drop_column('consent_at')
        batch_op.drop_column('consent_how')

    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_mobile_created')
        batch_op.drop_index('ix_outbox_due')

    op.drop_table('outbox')
    with op.batch_alter_table('public_link', schema=None) as batch_op:
        batch_op.drop_index('uq_public_link_live', sqlite_where=sa.text('revoked_at IS NULL'), postgresql_where=sa.text('revoked_at IS NULL'))

    op.drop_table('public_link')
    with op.batch_alter_table('message', schema=None) as batch_op:
        batch_op.drop_index('ix_message_user_unread')

    op.drop_table('message')

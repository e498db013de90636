"""sign-in codes, remembered sessions, code-activated accounts

login_code: one row per request for an SMS sign-in code (auth/codes.py), the code kept
only as an HMAC; user.activated_at: an account that first signed in with a code works
without a password; user_session.remembered: "remember this phone" (residents only).

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07 02:43:10.755876

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('login_code',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('mobile', sa.String(length=11), nullable=False),
    sa.Column('ip', sa.String(length=45), nullable=False),
    sa.Column('code_hash', sa.String(length=64), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('tries', sa.Integer(), nullable=False),
    sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint('tries >= 0', name=op.f('ck_login_code_tries')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_login_code'))
    )
    with op.batch_alter_table('login_code', schema=None) as batch_op:
        batch_op.create_index('ix_login_code_ip_created', ['ip', 'created_at'], unique=False)
        batch_op.create_index('ix_login_code_mobile_created', ['mobile', 'created_at'], unique=False)

    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.add_column(sa.Column('activated_at', sa.DateTime(timezone=True), nullable=True))

    with op.batch_alter_table('user_session', schema=None) as batch_op:
        batch_op.add_column(sa.Column('remembered', sa.Boolean(), server_default=sa.false(), nullable=False))



def downgrade():
    # Plain DROP COLUMN (SQLite 3.35+, PostgreSQL): a batch copy of "user" would have to drop
    # a table that every other table refers to.
    op.execute('ALTER TABLE user_session DROP COLUMN remembered')
    op.execute('ALTER TABLE "user" DROP COLUMN activated_at')

    with op.batch_alter_table('login_code', schema=None) as batch_op:
        batch_op.drop_index('ix_login_code_mobile_created')
        batch_op.drop_index('ix_login_code_ip_created')

    op.drop_table('login_code')

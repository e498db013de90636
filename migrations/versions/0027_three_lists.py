"""the three lists' figures kept per community, compound and month (problem_month); the
checklist rule "no problem overdue longer than N days" on the subdistrict's settings.

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-07 22:10:00.000000

"""
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = '0027'
down_revision = '0026'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('problem_month',
    sa.Column('community_id', sa.Integer(), nullable=False),
    sa.Column('compound_id', sa.Integer(), nullable=False),
    sa.Column('month', sa.Date(), nullable=False),
    sa.Column('filed', sa.Integer(), nullable=False),
    sa.Column('replied', sa.Integer(), nullable=False),
    sa.Column('reply_seconds', sa.BigInteger(), nullable=False),
    sa.Column('resolved', sa.Integer(), nullable=False),
    sa.Column('fix_seconds', sa.BigInteger(), nullable=False),
    sa.Column('closed', sa.Integer(), nullable=False),
    sa.Column('missed', sa.Integer(), nullable=False),
    sa.Column('escalated', sa.Integer(), nullable=False),
    sa.Column('rated', sa.Integer(), nullable=False),
    sa.Column('rating_sum', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['community_id'], ['community.id'], name=op.f('fk_problem_month_community_id_community')),
    sa.PrimaryKeyConstraint('community_id', 'compound_id', 'month', name=op.f('pk_problem_month'))
    )
    with op.batch_alter_table('problem_month', schema=None) as batch_op:
        batch_op.create_index('ix_problem_month_compound_month', ['compound_id', 'month'], unique=False)

    with op.batch_alter_table('oversight_settings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('overdue_rule', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('overdue_days', sa.Integer(), server_default='30', nullable=False))
        batch_op.create_check_constraint(op.f('ck_oversight_settings_overdue_days'), 'overdue_days BETWEEN 1 AND 365')


def downgrade():
    with op.batch_alter_table('oversight_settings', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_oversight_settings_overdue_days'), type_='check')
        batch_op.drop_column('overdue_days')
        batch_op.drop_column('overdue_rule')

    with op.batch_alter_table('problem_month', schema=None) as batch_op:
        batch_op.drop_index('ix_problem_month_compound_month')

    op.drop_table('problem_month')

"""committee seats: re-election after a break, one-day seats

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27 15:40:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('committee_member', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('uq_committee_member_committee_id_user_id'), type_='unique')
        batch_op.drop_constraint(op.f('ck_committee_member_term'), type_='check')
        batch_op.create_check_constraint('term', 'term_end >= term_start')


def downgrade():
    with op.batch_alter_table('committee_member', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_committee_member_term'), type_='check')
        batch_op.create_check_constraint('term', 'term_end > term_start')
        batch_op.create_unique_constraint(
            op.f('uq_committee_member_committee_id_user_id'), ['committee_id', 'user_id']
        )

"""ballot voids: the committee cancels a paper ballot entered by mistake, with the reason;
append-only by trigger

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-05 10:00:00.000000

"""
from alembic import op
import sqlalchemy as sa

from compound_app.appendonly import create_triggers, drop_triggers


# revision identifiers, used by Alembic.
revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('ballot_void',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('ballot_id', sa.Integer(), nullable=False),
    sa.Column('reason', sa.String(length=200), nullable=False),
    sa.Column('voided_by_id', sa.Integer(), nullable=False),
    sa.Column('voided_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['ballot_id'], ['ballot.id'], name=op.f('fk_ballot_void_ballot_id_ballot')),
    sa.ForeignKeyConstraint(['voided_by_id'], ['user.id'], name=op.f('fk_ballot_void_voided_by_id_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ballot_void')),
    sa.UniqueConstraint('ballot_id', name=op.f('uq_ballot_void_ballot_id'))
    )
    # A void is evidence like the ballot it cancels: no program may rewrite it.
    create_triggers('ballot_void', ['ballot_void'], 'ballot voids')


def downgrade():
    drop_triggers('ballot_void', ['ballot_void'])
    op.drop_table('ballot_void')

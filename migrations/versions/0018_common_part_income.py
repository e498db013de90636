"""common-part income (公共收益): contracts with their instalments, ending a contract early,
income receipts (numbered in the area's receipt series) and their reversals, all
append-only by trigger; and the monthly income totals by kind

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-07 14:00:14.860551

"""
from alembic import op
import sqlalchemy as sa

from compound_app.appendonly import create_triggers, drop_triggers

LEDGER = [
    'income_contract',
    'income_instalment',
    'income_contract_end',
    'income_receipt',
    'income_reversal',
]


# revision identifiers, used by Alembic.
revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('common_income_month',
    sa.Column('area_id', sa.Integer(), nullable=False),
    sa.Column('month', sa.Date(), nullable=False),
    sa.Column('kind', sa.String(length=12), nullable=False),
    sa.Column('amount_fen', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['area_id'], ['management_area.id'], name=op.f('fk_common_income_month_area_id_management_area')),
    sa.PrimaryKeyConstraint('area_id', 'month', 'kind', name=op.f('pk_common_income_month'))
    )
    op.create_table('income_contract',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('area_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=12), nullable=False),
    sa.Column('counterparty', sa.String(length=50), nullable=False),
    sa.Column('starts_on', sa.Date(), nullable=False),
    sa.Column('ends_on', sa.Date(), nullable=False),
    sa.Column('total_fen', sa.BigInteger(), nullable=False),
    sa.Column('note', sa.String(length=200), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    sa.Column('request_key', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("kind IN ('parking', 'advertising', 'charging', 'venue', 'recycling', 'other', 'donation', 'subsidy', 'community')", name=op.f('ck_income_contract_kind')),
    sa.CheckConstraint('ends_on >= starts_on', name=op.f('ck_income_contract_term')),
    sa.CheckConstraint('total_fen > 0', name=op.f('ck_income_contract_total_positive')),
    sa.ForeignKeyConstraint(['area_id'], ['management_area.id'], name=op.f('fk_income_contract_area_id_management_area')),
    sa.ForeignKeyConstraint(['created_by_id'], ['user.id'], name=op.f('fk_income_contract_created_by_id_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_income_contract')),
    sa.UniqueConstraint('request_key', name=op.f('uq_income_contract_request_key'))
    )
    with op.batch_alter_table('income_contract', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_income_contract_area_id'), ['area_id'], unique=False)

    op.create_table('income_contract_end',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('contract_id', sa.Integer(), nullable=False),
    sa.Column('ended_on', sa.Date(), nullable=False),
    sa.Column('reason', sa.String(length=200), nullable=False),
    sa.Column('ended_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['contract_id'], ['income_contract.id'], name=op.f('fk_income_contract_end_contract_id_income_contract')),
    sa.ForeignKeyConstraint(['ended_by_id'], ['user.id'], name=op.f('fk_income_contract_end_ended_by_id_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_income_contract_end')),
    sa.UniqueConstraint('contract_id', name=op.f('uq_income_contract_end_contract_id'))
    )
    op.create_table('income_instalment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('contract_id', sa.Integer(), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.Column('amount_fen', sa.BigInteger(), nullable=False),
    sa.CheckConstraint('amount_fen > 0', name=op.f('ck_income_instalment_amount_positive')),
    sa.ForeignKeyConstraint(['contract_id'], ['income_contract.id'], name=op.f('fk_income_instalment_contract_id_income_contract')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_income_instalment'))
    )
    with op.batch_alter_table('income_instalment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_income_instalment_contract_id'), ['contract_id'], unique=False)

    op.create_table('income_receipt',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('area_id', sa.Integer(), nullable=False),
    sa.Column('contract_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.String(length=12), nullable=False),
    sa.Column('payer', sa.String(length=50), nullable=False),
    sa.Column('receipt_no', sa.String(length=30), nullable=False),
    sa.Column('amount_fen', sa.BigInteger(), nullable=False),
    sa.Column('method', sa.String(length=10), nullable=False),
    sa.Column('received_on', sa.Date(), nullable=False),
    sa.Column('book_month', sa.Date(), nullable=False),
    sa.Column('recorded_by_id', sa.Integer(), nullable=False),
    sa.Column('request_key', sa.String(length=64), nullable=False),
    sa.Column('note', sa.String(length=100), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("kind IN ('parking', 'advertising', 'charging', 'venue', 'recycling', 'other', 'donation', 'subsidy', 'community')", name=op.f('ck_income_receipt_kind')),
    sa.CheckConstraint("method IN ('cash', 'wechat', 'alipay', 'bank')", name=op.f('ck_income_receipt_method')),
    sa.CheckConstraint('amount_fen > 0', name=op.f('ck_income_receipt_amount_positive')),
    sa.ForeignKeyConstraint(['area_id'], ['management_area.id'], name=op.f('fk_income_receipt_area_id_management_area')),
    sa.ForeignKeyConstraint(['contract_id'], ['income_contract.id'], name=op.f('fk_income_receipt_contract_id_income_contract')),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['user.id'], name=op.f('fk_income_receipt_recorded_by_id_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_income_receipt')),
    sa.UniqueConstraint('receipt_no', name=op.f('uq_income_receipt_receipt_no')),
    sa.UniqueConstraint('request_key', name=op.f('uq_income_receipt_request_key'))
    )
    with op.batch_alter_table('income_receipt', schema=None) as batch_op:
        batch_op.create_index('ix_income_receipt_area_book_month', ['area_id', 'book_month'], unique=False)
        batch_op.create_index(batch_op.f('ix_income_receipt_contract_id'), ['contract_id'], unique=False)

    op.create_table('income_reversal',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('receipt_id', sa.Integer(), nullable=False),
    sa.Column('area_id', sa.Integer(), nullable=False),
    sa.Column('amount_fen', sa.BigInteger(), nullable=False),
    sa.Column('reason', sa.String(length=200), nullable=False),
    sa.Column('book_month', sa.Date(), nullable=False),
    sa.Column('reversed_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('amount_fen > 0', name=op.f('ck_income_reversal_amount_positive')),
    sa.ForeignKeyConstraint(['area_id'], ['management_area.id'], name=op.f('fk_income_reversal_area_id_management_area')),
    sa.ForeignKeyConstraint(['receipt_id'], ['income_receipt.id'], name=op.f('fk_income_reversal_receipt_id_income_receipt')),
    sa.ForeignKeyConstraint(['reversed_by_id'], ['user.id'], name=op.f('fk_income_reversal_reversed_by_id_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_income_reversal')),
    sa.UniqueConstraint('receipt_id', name=op.f('uq_income_reversal_receipt_id'))
    )
    with op.batch_alter_table('income_reversal', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_income_reversal_area_id'), ['area_id'], unique=False)
    # Contracts, instalments, ends, receipts and reversals are the owners' evidence.
    create_triggers('income_ledger', LEDGER, 'income ledger rows')


def downgrade():
    drop_triggers('income_ledger', LEDGER)
    with op.batch_alter_table('income_reversal', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_income_reversal_area_id'))

    op.drop_table('income_reversal')
    with op.batch_alter_table('income_receipt', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_income_receipt_contract_id'))
        batch_op.drop_index('ix_income_receipt_area_book_month')

    op.drop_table('income_receipt')
    with op.batch_alter_table('income_instalment', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_income_instalment_contract_id'))

    op.drop_table('income_instalment')
    op.drop_table('income_contract_end')
    with op.batch_alter_table('income_contract', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_income_contract_area_id'))

    op.drop_table('income_contract')
    op.drop_table('common_income_month')

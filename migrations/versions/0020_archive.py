"""archive: an area's documents and their versions (append-only by trigger), and the
area's setting that opens its accounts and archive to tenants

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-07 13:58:36.034735

"""
from alembic import op
import sqlalchemy as sa

from compound_app.appendonly import create_triggers, drop_triggers


# revision identifiers, used by Alembic.
revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('archive_settings',
    sa.Column('area_id', sa.Integer(), nullable=False),
    sa.Column('open_to_tenants', sa.Boolean(), nullable=False),
    sa.Column('changed_by_id', sa.Integer(), nullable=True),
    sa.Column('changed_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['area_id'], ['management_area.id'], name=op.f('fk_archive_settings_area_id_management_area')),
    sa.ForeignKeyConstraint(['changed_by_id'], ['user.id'], name=op.f('fk_archive_settings_changed_by_id_user')),
    sa.PrimaryKeyConstraint('area_id', name=op.f('pk_archive_settings'))
    )
    op.create_table('document',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('area_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=12), nullable=False),
    sa.Column('title', sa.String(length=100), nullable=False),
    sa.Column('dated', sa.Date(), nullable=False),
    sa.Column('counterparty', sa.String(length=100), nullable=False),
    sa.Column('amount_fen', sa.BigInteger(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('request_key', sa.String(length=64), nullable=False),
    sa.Column('withdrawn_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('withdrawn_by_id', sa.Integer(), nullable=True),
    sa.Column('withdraw_reason', sa.String(length=200), nullable=False),
    sa.CheckConstraint("kind IN ('covenant', 'rules', 'plan', 'contract', 'minutes', 'vote_result', 'notice', 'other')", name=op.f('ck_document_kind')),
    sa.CheckConstraint("withdrawn_at IS NULL OR (withdrawn_by_id IS NOT NULL AND withdraw_reason <> '')", name=op.f('ck_document_withdrawal')),
    sa.CheckConstraint('amount_fen IS NULL OR amount_fen >= 0', name=op.f('ck_document_amount')),
    sa.ForeignKeyConstraint(['area_id'], ['management_area.id'], name=op.f('fk_document_area_id_management_area')),
    sa.ForeignKeyConstraint(['created_by_id'], ['user.id'], name=op.f('fk_document_created_by_id_user')),
    sa.ForeignKeyConstraint(['withdrawn_by_id'], ['user.id'], name=op.f('fk_document_withdrawn_by_id_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_document')),
    sa.UniqueConstraint('request_key', name=op.f('uq_document_request_key'))
    )
    with op.batch_alter_table('document', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_document_area_id'), ['area_id'], unique=False)

    op.create_table('document_version',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('document_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('file_kind', sa.String(length=8), nullable=False),
    sa.Column('file_name', sa.String(length=60), nullable=False),
    sa.Column('size_bytes', sa.Integer(), nullable=False),
    sa.Column('note', sa.String(length=200), nullable=False),
    sa.Column('uploaded_by_id', sa.Integer(), nullable=False),
    sa.Column('uploaded_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('request_key', sa.String(length=64), nullable=False),
    sa.CheckConstraint("file_kind IN ('photo', 'pdf')", name=op.f('ck_document_version_file_kind')),
    sa.CheckConstraint('number >= 1', name=op.f('ck_document_version_number')),
    sa.ForeignKeyConstraint(['document_id'], ['document.id'], name=op.f('fk_document_version_document_id_document')),
    sa.ForeignKeyConstraint(['uploaded_by_id'], ['user.id'], name=op.f('fk_document_version_uploaded_by_id_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_document_version')),
    sa.UniqueConstraint('document_id', 'number', name=op.f('uq_document_version_document_id_number')),
    sa.UniqueConstraint('request_key', name=op.f('uq_document_version_request_key'))
    )
    with op.batch_alter_table('document_version', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_document_version_document_id'), ['document_id'], unique=False)

    # A version is what owners were shown: a correction is a new version, never a rewrite.
    create_triggers('document_version', ['document_version'], 'document versions')


def downgrade():
    drop_triggers('document_version', ['document_version'])
    with op.batch_alter_table('document_version', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_document_version_document_id'))

    op.drop_table('document_version')
    with op.batch_alter_table('document', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_document_area_id'))

    op.drop_table('document')
    op.drop_table('archive_settings')

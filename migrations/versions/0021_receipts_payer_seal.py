"""receipts: the payer's name as given on a payment, and the seal printed on an area's
receipts (append-only: a new seal is a new row, the old ones stay on record)

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-07 14:00:00.000000

"""

from alembic import op
import sqlalchemy as sa

from compound_app.appendonly import create_triggers, drop_triggers


# revision identifiers, used by Alembic.
revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade():
    # A plain ADD COLUMN, never a batch copy: payment keeps its append-only triggers
    # (a copied table on SQLite would lose them, docs/ARCHITECTURE.md §4).
    op.add_column("payment", sa.Column("payer_name", sa.String(length=50), nullable=True))
    op.create_table(
        "receipt_seal",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("area_id", sa.Integer(), nullable=False),
        sa.Column("file", sa.String(length=60), nullable=False),
        sa.Column("uploaded_by_id", sa.Integer(), nullable=False),
        sa.Column("request_key", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["area_id"], ["management_area.id"], name=op.f("fk_receipt_seal_area_id_management_area")
        ),
        sa.ForeignKeyConstraint(
            ["uploaded_by_id"], ["user.id"], name=op.f("fk_receipt_seal_uploaded_by_id_user")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_receipt_seal")),
        sa.UniqueConstraint("request_key", name=op.f("uq_receipt_seal_request_key")),
    )
    op.create_index(op.f("ix_receipt_seal_area_id"), "receipt_seal", ["area_id"], unique=False)
    # Which seal a receipt carried is evidence: a replaced seal stays as it was uploaded.
    create_triggers("receipt_seal", ["receipt_seal"], "receipt seals")


def downgrade():
    drop_triggers("receipt_seal", ["receipt_seal"])
    op.drop_index(op.f("ix_receipt_seal_area_id"), table_name="receipt_seal")
    op.drop_table("receipt_seal")
    # Plain DROP COLUMN (SQLite 3.35+, PostgreSQL): payment keeps its triggers.
    op.execute("ALTER TABLE payment DROP COLUMN payer_name")

"""audit trail append-only by trigger

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04 10:00:00.000000

"""
from compound_app.appendonly import create_triggers, drop_triggers


# revision identifiers, used by Alembic.
revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None

# An audit row says who changed what and when: no program may rewrite or remove it.
# (audit_log.user_id refers to "user" without ON DELETE: removing an account that acted
# is refused, never cascaded into the trail.)
TABLES = ('audit_log',)


def upgrade():
    create_triggers('audit_log', TABLES, 'audit rows')


def downgrade():
    drop_triggers('audit_log', TABLES)

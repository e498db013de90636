"""common-part income goes into the money accounts, and a work paid from it comes out of
one: three more kinds of money entry

Income received before this revision is entered by the same rule as new income: cash into
the area's cash box (opened if the area had none), a bank transfer, WeChat Pay or Alipay
into the area's one open account of that kind (a bank transfer into the community's
account where the area has no bank account); a reversed receipt takes its amount out again
in the month the reversal was booked.

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-07 18:05:00

"""

from alembic import op

from compound_app.appendonly import create_triggers, drop_triggers

OLD = "'handover', 'payment', 'reversal', 'expense', 'expense_void', 'movement'"
NEW = OLD + ", 'income', 'income_void', 'work_payment'"

# revision identifiers, used by Alembic.
revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None


def _sources(allowed: str, *, drop_income: bool = False) -> None:
    # SQLite rebuilds the table to change a CHECK constraint, and its triggers go with it.
    sqlite = op.get_bind().dialect.name == "sqlite"
    if sqlite:
        drop_triggers("treasury", ["money_entry"])
    elif drop_income:
        op.execute("ALTER TABLE money_entry DISABLE TRIGGER money_entry_append_only")
    if drop_income:
        op.execute(
            "DELETE FROM money_entry WHERE source IN ('income', 'income_void', 'work_payment')"
        )
        if not sqlite:
            op.execute("ALTER TABLE money_entry ENABLE TRIGGER money_entry_append_only")
    with op.batch_alter_table("money_entry", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_money_entry_source"), type_="check")
        batch_op.create_check_constraint(op.f("ck_money_entry_source"), f"source IN ({allowed})")
    if sqlite:
        create_triggers("treasury", ["money_entry"], "money entries and movements")


def _rebalance() -> None:
    op.execute(
        "UPDATE money_account SET balance_fen = (SELECT COALESCE(SUM(n.amount_fen), 0) "
        "FROM money_entry n WHERE n.account_id = money_account.id)"
    )


# The one open account of a kind in an area, if there is exactly one.
ONLY_ONE = (
    "(SELECT COUNT(*) FROM money_account o WHERE o.area_id = m.area_id "
    "AND o.kind = m.kind AND o.closed_on IS NULL) = 1"
)
ENTRY = (
    "INSERT INTO money_entry "
    "(account_id, area_id, amount_fen, entry_on, source, source_id, created_at) "
)


def upgrade():
    _sources(NEW)
    op.execute(
        "INSERT INTO money_account "
        "(area_id, kind, name, bank, holder, last4, balance_fen, opened_on) "
        "SELECT DISTINCT r.area_id, 'cash_box', '', '', '', '', 0, CURRENT_DATE "
        "FROM income_receipt r WHERE r.method = 'cash' AND NOT EXISTS "
        "(SELECT 1 FROM money_account m WHERE m.area_id = r.area_id AND m.kind = 'cash_box')"
    )
    op.execute(
        ENTRY + "SELECT m.id, r.area_id, r.amount_fen, r.received_on, 'income', r.id, r.created_at "
        "FROM income_receipt r JOIN money_account m ON m.area_id = r.area_id "
        "AND m.kind = 'cash_box' WHERE r.method = 'cash'"
    )
    op.execute(
        ENTRY + "SELECT m.id, r.area_id, r.amount_fen, r.received_on, 'income', r.id, r.created_at "
        "FROM income_receipt r JOIN money_account m ON m.area_id = r.area_id "
        "AND m.kind = r.method AND m.closed_on IS NULL "
        f"WHERE r.method IN ('bank', 'wechat', 'alipay') AND {ONLY_ONE}"
    )
    op.execute(
        ENTRY + "SELECT m.id, r.area_id, r.amount_fen, r.received_on, 'income', r.id, r.created_at "
        "FROM income_receipt r JOIN money_account m ON m.area_id = r.area_id "
        "AND m.kind = 'community' AND m.closed_on IS NULL "
        f"WHERE r.method = 'bank' AND {ONLY_ONE} AND NOT EXISTS "
        "(SELECT 1 FROM money_account b WHERE b.area_id = r.area_id AND b.kind = 'bank' "
        "AND b.closed_on IS NULL)"
    )
    op.execute(
        ENTRY + "SELECT n.account_id, v.area_id, -v.amount_fen, v.book_month, 'income_void', "
        "v.id, v.created_at FROM income_reversal v "
        "JOIN money_entry n ON n.source = 'income' AND n.source_id = v.receipt_id"
    )
    _rebalance()


def downgrade():
    # Going back takes these entries out of the accounts (the one change to a ledger a
    # downgrade makes: the income receipts and the work payments themselves stay).
    _sources(OLD, drop_income=True)
    _rebalance()

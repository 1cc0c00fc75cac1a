"""paid orders carry paid_at; Yutang's own points keys move under the reserved 'yutang:' prefix

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04 17:10:00
"""

from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

PAID = "('paid', 'shipped', 'completed', 'partially_refunded', 'refunded')"
# Entries Yutang wrote itself, told apart from client entries by what only Yutang writes with such a key.
SYSTEM_ENTRIES = """(
    (kind = 'merge' AND idempotency_key LIKE 'merge:%')
    OR (kind = 'expire' AND idempotency_key LIKE 'expire:%')
    OR (rule_id IS NOT NULL AND (idempotency_key LIKE 'order:%' OR idempotency_key LIKE 'event:%'))
    OR (kind = 'reverse' AND source_type = 'order' AND idempotency_key LIKE 'order:%:refund:%')
    OR (source_type = 'task' AND idempotency_key = 'task:' || source_ref)
)"""


def upgrade() -> None:
    # A paid order's payment time is paid_at, or placed_at when the source gave none (docs/imports.md).
    op.execute(f"UPDATE orders SET paid_at = placed_at WHERE paid_at IS NULL AND status IN {PAID}")
    op.execute(f"UPDATE points_entries SET idempotency_key = 'yutang:' || idempotency_key WHERE {SYSTEM_ENTRIES}")


def downgrade() -> None:
    op.execute("UPDATE points_entries SET idempotency_key = substr(idempotency_key, 8) "
               "WHERE idempotency_key LIKE 'yutang:%'")

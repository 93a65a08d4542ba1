"""index orders by store and ready_by: a store's daily capacity counts the orders promised on one day

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03 08:30:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = '0012'
down_revision: str | None = '0011'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index('ix_order_store_ready_by', 'order', ['store_id', 'ready_by'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_order_store_ready_by', table_name='order')

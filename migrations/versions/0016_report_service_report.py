"""the service report's columns of an order: when it was reserved (with the first promise), ready and
collected, whether it was picked short; and the indexes that bound the report by its date range (orders
by store and created, by created; returns by when)

Orders already there are filled in from their history (`order_event`): each instant is the first entry of
that status, the promise is the `ready_by` they hold, and an order was picked short when the store picked
fewer units than ordered on one of its lines (a short pick rejected for want of everything picked 0).

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-03 11:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0016'
down_revision: str | None = '0015'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _first(status: str) -> str:
    return (
        "(SELECT MIN(e.at) FROM order_event e "
        f"WHERE e.order_pk = \"order\".id AND e.status = '{status}')"
    )


def upgrade() -> None:
    # Plain ADD COLUMNs (a constant default may be NOT NULL on both engines), so SQLite rebuilds nothing.
    op.add_column('order', sa.Column('reserved_at', sa.DateTime(timezone=True), nullable=True))
    op.add_column('order', sa.Column('promised_ready_by', sa.DateTime(timezone=True), nullable=True))
    op.add_column('order', sa.Column('ready_at', sa.DateTime(timezone=True), nullable=True))
    op.add_column('order', sa.Column('collected_at', sa.DateTime(timezone=True), nullable=True))
    op.add_column(
        'order', sa.Column('short_picked', sa.Boolean(), server_default=sa.text('false'), nullable=False)
    )
    op.execute(
        f"""UPDATE "order" SET reserved_at = {_first('reserved')},
                               ready_at = {_first('ready_for_pickup')},
                               collected_at = {_first('collected')},
                               promised_ready_by = ready_by
            WHERE status <> 'pending'"""
    )
    op.execute(
        """UPDATE "order" SET short_picked = true
           WHERE EXISTS (SELECT 1 FROM order_line l
                         WHERE l.order_pk = "order".id AND l.picked IS NOT NULL AND l.picked < l.quantity)"""
    )
    op.create_index('ix_order_store_created', 'order', ['store_id', 'created_at'], unique=False)
    op.create_index('ix_order_created', 'order', ['created_at'], unique=False)
    op.create_index('ix_order_return_at', 'order_return', ['at'], unique=False)


def downgrade() -> None:
    # Native DROP COLUMN (SQLite 3.35 and later), as 0008's downgrade: no batch rebuild of the order table.
    op.drop_index('ix_order_return_at', table_name='order_return')
    op.drop_index('ix_order_created', table_name='order')
    op.drop_index('ix_order_store_created', table_name='order')
    op.drop_column('order', 'short_picked')
    op.drop_column('order', 'collected_at')
    op.drop_column('order', 'ready_at')
    op.drop_column('order', 'promised_ready_by')
    op.drop_column('order', 'reserved_at')

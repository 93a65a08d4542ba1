"""stock change log for the availability feed, instead of an index on stock.feed_xid

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28 00:10:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0004'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Must match inventory.feed_log.FEED_BUCKET (then inventory.stock) at the time of this migration.
FEED_BUCKET = 1024


def upgrade() -> None:
    op.create_table('stock_change',
    sa.Column('xid', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('store_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('bucket', sa.Integer(), autoincrement=False, nullable=False),
    sa.PrimaryKeyConstraint('xid', 'store_id', 'bucket', name=op.f('pk_stock_change'))
    )
    # Every existing row's last change, logged so the feed keeps showing it.
    op.execute(
        'INSERT INTO stock_change (xid, store_id, bucket) '
        f'SELECT DISTINCT feed_xid, store_id, product_id / {FEED_BUCKET} FROM stock'
    )
    with op.batch_alter_table('stock', schema=None) as batch_op:
        batch_op.drop_index('ix_stock_feed')
    if op.get_bind().dialect.name == 'postgresql':
        # Room on every page for a snapshot's new row versions (HOT updates); applies to pages written
        # from now on.
        op.execute('ALTER TABLE stock SET (fillfactor = 50)')


def downgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        op.execute('ALTER TABLE stock RESET (fillfactor)')
    with op.batch_alter_table('stock', schema=None) as batch_op:
        batch_op.create_index('ix_stock_feed', ['feed_xid', 'store_id', 'product_id'], unique=False)
    op.drop_table('stock_change')

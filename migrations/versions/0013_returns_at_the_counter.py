"""returns at the counter: the store setting `return_days`, and the returns of collected orders with their
lines

Stores already there take the default of 30 days. The tables are new and start empty.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-04 09:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = '0013'
down_revision: str | None = '0012'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A plain ADD COLUMN with a constant default: NOT NULL on both engines, no table rebuilt on SQLite.
    op.add_column('store', sa.Column('return_days', sa.Integer(), server_default=sa.text('30'), nullable=False))
    op.create_table('order_return',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('return_id', sa.String(length=40), nullable=False),
    sa.Column('order_pk', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('restock', sa.Boolean(), nullable=False),
    sa.Column('reason', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
    sa.Column('actor_key_id', sa.Integer(), nullable=True),
    sa.Column('actor_label', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
    sa.Column('idempotency_key', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('request_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.ForeignKeyConstraint(['order_pk'], ['order.id'], name=op.f('fk_order_return_order_pk_order'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_order_return')),
    sa.UniqueConstraint('return_id', name=op.f('uq_order_return_return_id'))
    )
    op.create_index('uq_order_return_order_key', 'order_return', ['order_pk', 'idempotency_key'], unique=True)
    op.create_table('order_return_line',
    sa.Column('return_pk', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('product_id', sa.Integer(), nullable=False),
    sa.Column('sku', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['product_id'], ['product.id'], name=op.f('fk_order_return_line_product_id_product')),
    sa.ForeignKeyConstraint(['return_pk'], ['order_return.id'], name=op.f('fk_order_return_line_return_pk_order_return'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('return_pk', 'product_id', name=op.f('pk_order_return_line'))
    )


def downgrade() -> None:
    op.drop_table('order_return_line')
    op.drop_index('uq_order_return_order_key', table_name='order_return')
    op.drop_table('order_return')
    # Native DROP COLUMN (SQLite 3.35 and later), as 0008 does.
    op.drop_column('store', 'return_days')

"""transfers to the pickup store: the order's `allow_transfer`, each line's source store, the transfers
themselves, and the units in transit to a stock row

Existing orders allow no transfer and every existing line is the pickup store's own (null source); no
units are in transit.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-03 12:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = '0020'
down_revision: str | None = '0019'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Plain ADD COLUMNs with constant defaults: instant on PostgreSQL, no table rebuild on SQLite.
    op.add_column(
        'order', sa.Column('allow_transfer', sa.Boolean(), server_default=sa.text('false'), nullable=False)
    )
    op.add_column('order_line', sa.Column('source_store_id', sa.Integer(), nullable=True))
    op.add_column('stock', sa.Column('in_transit', sa.Integer(), server_default='0', nullable=False))
    op.create_table(
        'transfer',
        sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
        sa.Column('transfer_id', sa.String(length=40), nullable=False),
        sa.Column('order_pk', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
        sa.Column('from_store_id', sa.Integer(), nullable=False),
        sa.Column('to_store_id', sa.Integer(), nullable=False),
        sa.Column('from_store_code', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column('status', sa.String(length=10), nullable=False),
        sa.Column('eta', sa.DateTime(timezone=True), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('shipped_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('received_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ['from_store_id'], ['store.id'], name=op.f('fk_transfer_from_store_id_store')
        ),
        sa.ForeignKeyConstraint(
            ['order_pk'], ['order.id'], name=op.f('fk_transfer_order_pk_order'), ondelete='CASCADE'
        ),
        sa.ForeignKeyConstraint(['to_store_id'], ['store.id'], name=op.f('fk_transfer_to_store_id_store')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_transfer')),
        sa.UniqueConstraint('transfer_id', name=op.f('uq_transfer_transfer_id')),
    )
    op.create_index('ix_transfer_from_status', 'transfer', ['from_store_id', 'status'], unique=False)
    op.create_index('ix_transfer_to_status', 'transfer', ['to_store_id', 'status'], unique=False)
    op.create_index('ix_transfer_order', 'transfer', ['order_pk'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_transfer_order', table_name='transfer')
    op.drop_index('ix_transfer_to_status', table_name='transfer')
    op.drop_index('ix_transfer_from_status', table_name='transfer')
    op.drop_table('transfer')
    op.drop_column('stock', 'in_transit')
    op.drop_column('order_line', 'source_store_id')
    op.drop_column('order', 'allow_transfer')

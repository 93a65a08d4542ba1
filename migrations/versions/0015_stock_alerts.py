"""back in stock at my store: the shoppers' stock alerts

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-03 12:00:00.000000
"""

from collections.abc import Sequence


import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = '0015'
down_revision: str | None = '0014'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'stock_alert',
        sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
        sa.Column('alert_id', sa.String(length=40), nullable=False),
        sa.Column('store_id', sa.Integer(), nullable=False),
        sa.Column('product_id', sa.Integer(), nullable=False),
        sa.Column('email', sqlmodel.sql.sqltypes.AutoString(length=254), nullable=False),
        sa.Column('locale', sa.String(length=2), nullable=False),
        sa.Column('status', sa.String(length=10), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('messaged_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ['product_id'], ['product.id'], name=op.f('fk_stock_alert_product_id_product'), ondelete='CASCADE'
        ),
        sa.ForeignKeyConstraint(
            ['store_id'], ['store.id'], name=op.f('fk_stock_alert_store_id_store'), ondelete='CASCADE'
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_stock_alert')),
        sa.UniqueConstraint('alert_id', name=op.f('uq_stock_alert_alert_id')),
    )
    op.create_index('ix_stock_alert_email', 'stock_alert', ['email'], unique=False)
    op.create_index(
        'ix_stock_alert_unmessaged',
        'stock_alert',
        ['sent_at'],
        unique=False,
        postgresql_where=sa.text("status = 'sent' AND messaged_at IS NULL"),
        sqlite_where=sa.text("status = 'sent' AND messaged_at IS NULL"),
    )
    op.create_index(
        'uq_stock_alert_waiting',
        'stock_alert',
        ['store_id', 'product_id', 'email'],
        unique=True,
        postgresql_where=sa.text("status = 'waiting'"),
        sqlite_where=sa.text("status = 'waiting'"),
    )


def downgrade() -> None:
    op.drop_index('uq_stock_alert_waiting', table_name='stock_alert')
    op.drop_index('ix_stock_alert_unmessaged', table_name='stock_alert')
    op.drop_index('ix_stock_alert_email', table_name='stock_alert')
    op.drop_table('stock_alert')

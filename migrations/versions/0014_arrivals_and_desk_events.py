"""arrival check-in and the desk's event stream: the store's `handover_minutes`, the order's last arrival
check-in, and the desk events with their per-store counter

Existing stores get the default of 5 minutes; existing orders have no check-in (all null) and no events.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-03 12:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = '0014'
down_revision: str | None = '0013'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Plain ADD COLUMNs (a constant default may be NOT NULL on both engines), so SQLite rebuilds nothing.
    op.add_column(
        'store', sa.Column('handover_minutes', sa.Integer(), server_default=sa.text('5'), nullable=False)
    )
    op.add_column('order', sa.Column('arrival_status', sqlmodel.sql.sqltypes.AutoString(length=12), nullable=True))
    op.add_column('order', sa.Column('arrival_at', sa.DateTime(timezone=True), nullable=True))
    op.add_column('order', sa.Column('arrival_eta', sa.DateTime(timezone=True), nullable=True))
    op.add_column('order', sa.Column('arrival_where', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=True))
    op.add_column('order', sa.Column('arrival_bay', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True))
    op.create_table(
        'desk_event',
        sa.Column('store_id', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('seq', sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column('type', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column('order_id', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
        sa.Column('at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('store_id', 'seq', name=op.f('pk_desk_event')),
    )
    op.create_index('ix_desk_event_at', 'desk_event', ['at'], unique=False)
    op.create_table(
        'desk_event_counter',
        sa.Column('store_id', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('last_seq', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('store_id', name=op.f('pk_desk_event_counter')),
    )


def downgrade() -> None:
    # Native DROP COLUMN (SQLite 3.35 and later), as 0008's downgrade: no batch rebuild of the order table.
    op.drop_table('desk_event_counter')
    op.drop_index('ix_desk_event_at', table_name='desk_event')
    op.drop_table('desk_event')
    op.drop_column('order', 'arrival_bay')
    op.drop_column('order', 'arrival_where')
    op.drop_column('order', 'arrival_eta')
    op.drop_column('order', 'arrival_at')
    op.drop_column('order', 'arrival_status')
    op.drop_column('store', 'handover_minutes')

"""short picks and the hand-over's check: the shortages an order was picked with, and how the collector
was checked at the counter

Orders already there were all picked in full and handed over without a recorded check, so both columns
start empty (null) for them.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-04 09:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = '0011'
down_revision: str | None = '0010'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Plain ADD COLUMNs of nullable columns, so SQLite does not rebuild the tables.
    op.add_column('order', sa.Column('shortages', sa.JSON(), nullable=True))
    op.add_column(
        'order_event', sa.Column('verification', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True)
    )


def downgrade() -> None:
    # Native DROP COLUMN (SQLite 3.35 and later), as 0008 does.
    op.drop_column('order_event', 'verification')
    op.drop_column('order', 'shortages')

"""index stock_movement by time, for the movements that follow a snapshot's counts

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-28 01:00:00.000000
"""

from collections.abc import Sequence

from alembic import op


revision: str = '0005'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('stock_movement', schema=None) as batch_op:
        batch_op.create_index('ix_stock_movement_at', ['at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('stock_movement', schema=None) as batch_op:
        batch_op.drop_index('ix_stock_movement_at')

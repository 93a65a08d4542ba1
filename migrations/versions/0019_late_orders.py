"""late orders: the order's `late` flag and the promise first made (`first_ready_by`), with a partial
index over the reserved orders not yet late, by `ready_by`, which the late sweep walks

Existing orders are not late (false) and keep their promise (first_ready_by null).

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-03 12:45:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0019'
down_revision: str | None = '0018'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column('order', sa.Column('late', sa.Boolean(), server_default=sa.false(), nullable=False))
    op.add_column('order', sa.Column('first_ready_by', sa.DateTime(timezone=True), nullable=True))
    op.create_index(
        'ix_order_late_due',
        'order',
        ['ready_by'],
        unique=False,
        postgresql_where=sa.text("status = 'reserved' AND NOT late"),
        sqlite_where=sa.text("status = 'reserved' AND NOT late"),
    )


def downgrade() -> None:
    op.drop_index('ix_order_late_due', table_name='order')
    op.drop_column('order', 'first_ready_by')
    op.drop_column('order', 'late')

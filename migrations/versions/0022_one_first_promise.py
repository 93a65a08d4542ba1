"""one first promise: `order.first_ready_by` (the promise before a late order's new one, 0019) goes, since
`order.promised_ready_by` (the promise made at reservation, 0016) holds the same instant; the API's
`pickup.first_ready_by` is now `promised_ready_by` of a late order.

A late order's first promise is copied over before the column goes (the late sweep's own record wins, for an
order reserved before 0016 had none).

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-07 03:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0022'
down_revision: str | None = '0021'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute('UPDATE "order" SET promised_ready_by = first_ready_by WHERE first_ready_by IS NOT NULL')
    # Not a batch (a copy of the table): on SQLite that drops and re-creates `order`, and its lines and
    # events with it (ON DELETE CASCADE). SQLite drops a plain column in place.
    op.drop_column('order', 'first_ready_by')


def downgrade() -> None:
    op.add_column('order', sa.Column('first_ready_by', sa.DateTime(timezone=True), nullable=True))
    op.execute('UPDATE "order" SET first_ready_by = promised_ready_by WHERE late')

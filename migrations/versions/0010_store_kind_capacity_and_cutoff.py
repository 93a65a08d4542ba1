"""stores gain what shapes the promise: kind (store or warehouse), daily order capacity, the same-day
cutoff, a pause of click and collect, and holds counted in opening hours

Plain ADD COLUMNs with constant defaults (no table rebuild on SQLite): every store there so far is a
store, unlimited, without cutoff, not paused, held by the clock.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03 07:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0010'
down_revision: str | None = '0009'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column('store', sa.Column('kind', sa.String(length=16), server_default=sa.text("'store'"), nullable=False))
    op.add_column('store', sa.Column('daily_order_capacity', sa.Integer(), nullable=True))
    op.add_column('store', sa.Column('same_day_cutoff', sqlmodel.sql.sqltypes.AutoString(length=5), nullable=True))
    op.add_column(
        'store',
        sa.Column('click_and_collect_paused', sa.Boolean(), server_default=sa.text('false'), nullable=False),
    )
    op.add_column('store', sa.Column('hold_opening_hours', sa.Integer(), nullable=True))


def downgrade() -> None:
    for column in ('hold_opening_hours', 'click_and_collect_paused', 'same_day_cutoff', 'daily_order_capacity', 'kind'):
        op.drop_column('store', column)

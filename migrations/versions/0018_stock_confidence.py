"""stock confidence: each store's measured share of short-picked orders (orders/store_figures.py)

Existing stores start unmeasured (null) until the beat task's first run.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-03 12:30:00.000000
"""

from collections.abc import Sequence


import sqlalchemy as sa
from alembic import op


revision: str = '0018'
down_revision: str | None = '0017'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column('store', sa.Column('short_pick_share', sa.Float(), nullable=True))


def downgrade() -> None:
    op.drop_column('store', 'short_pick_share')

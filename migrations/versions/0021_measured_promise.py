"""the measured promise: each store's measured pick time (orders/measured.py) and what each order's
promise was made of

Existing stores start unmeasured (their configured pick time counts until beat measures them); existing
orders have no basis (null).

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-03 13:20:00.000000
"""

from collections.abc import Sequence


import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = '0021'
down_revision: str | None = '0020'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column('store', sa.Column('measured_pick_minutes', sa.Integer(), nullable=True))
    op.add_column('order', sa.Column('promise_basis', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=True))


def downgrade() -> None:
    op.drop_column('order', 'promise_basis')
    op.drop_column('store', 'measured_pick_minutes')

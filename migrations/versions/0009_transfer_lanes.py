"""transfer lanes: the timetables goods travel by from one store or warehouse to another

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03 07:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0009'
down_revision: str | None = '0008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'transfer_lane',
        sa.Column('from_store_id', sa.Integer(), nullable=False),
        sa.Column('to_store_id', sa.Integer(), nullable=False),
        sa.Column('departures', sa.JSON(), nullable=False),
        sa.Column('transit_hours', sa.Float(), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ['from_store_id'], ['store.id'], name=op.f('fk_transfer_lane_from_store_id_store'), ondelete='CASCADE'
        ),
        sa.ForeignKeyConstraint(
            ['to_store_id'], ['store.id'], name=op.f('fk_transfer_lane_to_store_id_store'), ondelete='CASCADE'
        ),
        sa.PrimaryKeyConstraint('from_store_id', 'to_store_id', name=op.f('pk_transfer_lane')),
    )
    op.create_index('ix_transfer_lane_to_store', 'transfer_lane', ['to_store_id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_transfer_lane_to_store', table_name='transfer_lane')
    op.drop_table('transfer_lane')

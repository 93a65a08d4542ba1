"""the counter's fields of an order: who collects, its locale, each line's picked and collected units, and
the label of the staff key in each history entry

Rows already there are filled in as the service would have written them: the locale by the store's
country, `picked` for the lines of orders that were marked ready, `collected` for those collected (every
hand-over so far took everything), and each staff entry's label from its key.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03 09:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = '0008'
down_revision: str | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Plain ADD COLUMNs (a column with a constant default may be NOT NULL on both engines), so SQLite
    # does not rebuild the tables.
    op.add_column(
        'order', sa.Column('pickup_person_name', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True)
    )
    op.add_column(
        'order', sa.Column('locale', sa.String(length=2), server_default=sa.text("'en'"), nullable=False)
    )
    op.add_column('order_line', sa.Column('picked', sa.Integer(), nullable=True))
    op.add_column('order_line', sa.Column('collected', sa.Integer(), nullable=True))
    op.add_column(
        'order_event', sa.Column('actor_label', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True)
    )
    op.execute(
        """UPDATE "order" SET locale = 'nl'
           WHERE store_id IN (SELECT id FROM store WHERE upper(country) IN ('NL', 'BE'))"""
    )
    op.execute(
        """UPDATE order_line SET picked = quantity
           WHERE order_pk IN (SELECT order_pk FROM order_event WHERE status = 'ready_for_pickup')"""
    )
    op.execute(
        """UPDATE order_line SET collected = picked
           WHERE order_pk IN (SELECT id FROM "order" WHERE status = 'collected')"""
    )
    op.execute(
        """UPDATE order_event
           SET actor_label = COALESCE(
               (SELECT NULLIF(label, '') FROM api_key WHERE api_key.id = order_event.actor_key_id),
               'key ' || CAST(actor_key_id AS VARCHAR))
           WHERE actor_key_id IS NOT NULL"""
    )


def downgrade() -> None:
    # Native DROP COLUMN (SQLite 3.35 and later) rather than a batch rebuild of the tables, which would
    # have to carry the order table's partial unique index over by reflection.
    op.drop_column('order_event', 'actor_label')
    op.drop_column('order_line', 'collected')
    op.drop_column('order_line', 'picked')
    op.drop_column('order', 'locale')
    op.drop_column('order', 'pickup_person_name')

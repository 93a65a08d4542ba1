"""messages to the shopper: the `shopper_message` table, and the outbox's `messaged_at`

Events already in the outbox are marked as messaged: an upgrade must not mail shoppers about orders of
the past.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-03 12:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = '0017'
down_revision: str | None = '0016'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column('notification', sa.Column('messaged_at', sa.DateTime(timezone=True), nullable=True))
    op.execute('UPDATE notification SET messaged_at = created_at')
    op.create_index(
        'ix_notification_unmessaged',
        'notification',
        ['id'],
        unique=False,
        postgresql_where=sa.text('messaged_at IS NULL'),
        sqlite_where=sa.text('messaged_at IS NULL'),
    )
    op.create_table(
        'shopper_message',
        sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
        sa.Column('event_id', sa.String(length=36), nullable=False),
        sa.Column('type', sa.String(length=20), nullable=False),
        sa.Column('order_id', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
        sa.Column('recipient', sqlmodel.sql.sqltypes.AutoString(length=254), nullable=False),
        sa.Column('locale', sqlmodel.sql.sqltypes.AutoString(length=2), nullable=False),
        sa.Column('payload', sa.JSON(), nullable=False),
        sa.Column('status', sa.String(length=10), nullable=False),
        sa.Column('scheduled_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('last_error', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
        sa.Column('message_id', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_shopper_message')),
        sa.UniqueConstraint('event_id', 'type', name='uq_shopper_message_event_type'),
    )
    op.create_index(
        'ix_shopper_message_due',
        'shopper_message',
        ['next_attempt_at'],
        unique=False,
        postgresql_where=sa.text("status = 'queued'"),
        sqlite_where=sa.text("status = 'queued'"),
    )
    op.create_index('ix_shopper_message_order', 'shopper_message', ['order_id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_shopper_message_order', table_name='shopper_message')
    op.drop_index('ix_shopper_message_due', table_name='shopper_message')
    op.drop_table('shopper_message')
    op.drop_index('ix_notification_unmessaged', table_name='notification')
    op.drop_column('notification', 'messaged_at')

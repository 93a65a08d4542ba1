"""The table of messages to the shopper: one row per (outbox event, message type)."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, Index, Integer, String, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from retail.clock import utcnow
from retail.dialect import UtcTimestamp


class MessageType(enum.StrEnum):
    reserved = "reserved"
    ready = "ready"
    reminder = "reminder"
    delayed = "delayed"
    partially_ready = "partially_ready"
    rejected = "rejected"
    expired = "expired"
    collected = "collected"
    returned = "returned"
    back_in_stock = "back_in_stock"


class MessageStatus(enum.StrEnum):
    queued = "queued"  # to be sent (again) at `next_attempt_at`
    sent = "sent"  # the mail server accepted it
    failed = "failed"  # refused for good, or still failing after `outbox.MAX_ATTEMPTS`
    logged = "logged"  # no mail server is set: written to the log instead
    dropped = "dropped"  # a reminder whose order was no longer waiting when it was due; never shown


class ShopperMessage(SQLModel, table=True):
    __tablename__ = "shopper_message"
    __table_args__ = (
        # Each event is sent once per message type, however often it is derived.
        UniqueConstraint("event_id", "type", name="uq_shopper_message_event_type"),
        # What the sender finds due: the queued rows only (a partial index stays small).
        Index(
            "ix_shopper_message_due",
            "next_attempt_at",
            postgresql_where=text("status = 'queued'"),
            sqlite_where=text("status = 'queued'"),
        ),
        # An order's messages, for its answers.
        Index("ix_shopper_message_order", "order_id"),
    )

    id: int | None = Field(
        default=None, sa_column=Column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    )
    event_id: str = Field(sa_column=Column(String(36), nullable=False))
    type: MessageType = Field(sa_column=Column(String(20), nullable=False))
    # The public id of the order it tells of; None for a stock alert's.
    order_id: str | None = Field(default=None, max_length=40)
    recipient: str = Field(max_length=254)
    locale: str = Field(max_length=2)
    # The event's data, as the outbox carried it.
    payload: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    status: MessageStatus = Field(sa_column=Column(String(10), nullable=False))
    # When the message is meant to go: the event's time, or a reminder's own.
    scheduled_at: datetime = Field(sa_column=Column(UtcTimestamp(), nullable=False))
    next_attempt_at: datetime = Field(sa_column=Column(UtcTimestamp(), nullable=False))
    attempts: int = Field(default=0)
    last_error: str | None = Field(default=None, max_length=500)
    # The `Message-ID` header, derived from the event id and the type: the same on every resend.
    message_id: str = Field(max_length=200)
    sent_at: datetime | None = Field(default=None, sa_column=Column(UtcTimestamp(), nullable=True))
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UtcTimestamp(), nullable=False))

"""Tables of click-and-collect orders."""

from __future__ import annotations

import enum
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    false,
    text,
)
from sqlmodel import Field, SQLModel

from inventory.schemas import CURRENCY
from retail.clock import utcnow
from retail.dialect import UtcTimestamp


class OrderStatus(enum.StrEnum):
    pending = "pending"
    reserved = "reserved"
    ready_for_pickup = "ready_for_pickup"
    collected = "collected"
    rejected = "rejected"
    cancelled = "cancelled"
    expired = "expired"


class ProblemCode(enum.StrEnum):
    """Why an order was rejected (`problem.code`)."""

    out_of_stock = "out_of_stock"  # the store could not reserve the basket
    short_pick = "short_pick"  # the shelf held none of it when the store picked


# Orders in these states hold stock.
HOLDING = (OrderStatus.reserved, OrderStatus.ready_for_pickup)
FINAL = (OrderStatus.collected, OrderStatus.rejected, OrderStatus.cancelled, OrderStatus.expired)


class Order(SQLModel, table=True):
    __tablename__ = "order"
    __table_args__ = (
        Index("ix_order_store_status_created", "store_id", "status", "created_at"),
        # Staff type short codes per store: unique among the store's open orders; a closed order keeps
        # its code, so a late scan can still be told "already collected".
        Index(
            "uq_order_store_short_code",
            "store_id",
            "short_code_hash",
            unique=True,
            postgresql_where=text("status IN ('reserved', 'ready_for_pickup')"),
            sqlite_where=text("status IN ('reserved', 'ready_for_pickup')"),
        ),
        Index("ix_order_store_short_code", "store_id", "short_code_hash"),
        # A store's orders promised on one day, which its daily capacity counts (orders/promises.py).
        Index("ix_order_store_ready_by", "store_id", "ready_by"),
        # The service report (orders/report.py) reads a date range of orders, of one store or of the
        # whole chain: each index bounds one of the two by the range.
        Index("ix_order_store_created", "store_id", "created_at"),
        Index("ix_order_created", "created_at"),
        # The late sweep (orders/sweeps.py `mark_late`): reserved orders not yet late, by promise.
        Index(
            "ix_order_late_due",
            "ready_by",
            postgresql_where=text("status = 'reserved' AND NOT late"),
            sqlite_where=text("status = 'reserved' AND NOT late"),
        ),
    )

    id: int | None = Field(
        default=None, sa_column=Column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    )
    # The public id: unguessable, so that an order's existence cannot be probed by counting.
    order_id: str = Field(sa_column=Column(String(40), nullable=False, unique=True))
    # The shopper's order token is not stored: it is an HMAC of `order_id` under the service's secret key,
    # so a replayed POST can answer the same token again and nothing in the database would let anyone
    # act as the shopper.
    store_id: int = Field(sa_column=Column(Integer, ForeignKey("store.id"), nullable=False))
    # What the shopper was promised, as it was when the order was placed.
    store_snapshot: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    status: OrderStatus = Field(sa_column=Column(String(20), nullable=False))
    customer_name: str = Field(max_length=100)
    customer_email: str = Field(max_length=254)
    customer_phone: str | None = Field(default=None, max_length=32)
    # Someone other than the customer who collects; None when the customer does.
    pickup_person_name: str | None = Field(default=None, max_length=100)
    # `nl` or `en` (orders.counter_schemas.Locale), decided at placement. The server default is for the
    # rows placed before orders had a locale (migration 0008 sets them by their store's country); every
    # placement writes its own.
    locale: str = Field(
        default="en", sa_column=Column(String(2), nullable=False, server_default=text("'en'"))
    )
    total: Decimal = Field(sa_column=Column(Numeric(12, 2), nullable=False))
    currency: str = Field(default=CURRENCY, max_length=3)
    problem: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    # The lines the store picked short, as the ready answer showed them (alternatives included), so every
    # later answer shows the same; None when nothing was short.
    shortages: list[dict[str, Any]] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    # The pickup token and short code are derived from the secret key, the order, the store and this
    # random nonce (orders/pickup.py), so they can be shown again without being stored.
    pickup_nonce: str | None = Field(default=None, max_length=16)
    # Keyed hash of the pickup short code, for staff lookups by store.
    short_code_hash: str | None = Field(default=None, max_length=64)
    ready_by: datetime | None = Field(default=None, sa_column=Column(UtcTimestamp(), nullable=True))
    # Set by the late sweep: still reserved close to `ready_by`, which it then moved on; the promise first
    # made stays in `promised_ready_by` (the API's `pickup.first_ready_by` of a late order).
    late: bool = Field(default=False, sa_column=Column(Boolean, nullable=False, server_default=false()))
    # The shopper's last arrival check-in (orders/arrivals.py), all None until the first: `on_the_way` or
    # `arrived`, when it was said, the expected arrival (on the way only), `counter` or `curbside`, a bay.
    arrival_status: str | None = Field(default=None, max_length=12)
    arrival_at: datetime | None = Field(default=None, sa_column=Column(UtcTimestamp(), nullable=True))
    arrival_eta: datetime | None = Field(default=None, sa_column=Column(UtcTimestamp(), nullable=True))
    arrival_where: str | None = Field(default=None, max_length=10)
    arrival_bay: str | None = Field(default=None, max_length=20)
    expires_at: datetime | None = Field(default=None, sa_column=Column(UtcTimestamp(), nullable=True))
    # What the service report measures, stamped by `orders.lifecycle.transition` (the one place an order
    # changes status), so the report reads one row per order and never its history: when the order was
    # reserved, the first `ready_by` it was promised then (a later promise does not excuse a late pick),
    # when it was ready and collected, and whether the store found fewer units than ordered.
    reserved_at: datetime | None = Field(default=None, sa_column=Column(UtcTimestamp(), nullable=True))
    promised_ready_by: datetime | None = Field(default=None, sa_column=Column(UtcTimestamp(), nullable=True))
    ready_at: datetime | None = Field(default=None, sa_column=Column(UtcTimestamp(), nullable=True))
    collected_at: datetime | None = Field(default=None, sa_column=Column(UtcTimestamp(), nullable=True))
    short_picked: bool = Field(
        default=False, sa_column=Column(Boolean, nullable=False, server_default=text("false"))
    )
    # The shopper lets lines the store lacks come from another store by transfer (orders/transfers.py).
    allow_transfer: bool = Field(
        default=False, sa_column=Column(Boolean, nullable=False, server_default=text("false"))
    )
    # What the promise was made of (orders/promises.py `basis`): `measured` or `configured`; None before
    # the order was promised, and for the orders promised before the measured promise existed.
    promise_basis: str | None = Field(default=None, max_length=10)
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UtcTimestamp(), nullable=False))
    updated_at: datetime = Field(default_factory=utcnow, sa_column=Column(UtcTimestamp(), nullable=False))


class OrderLine(SQLModel, table=True):
    __tablename__ = "order_line"

    order_pk: int = Field(
        sa_column=Column(
            BigInteger().with_variant(Integer, "sqlite"),
            ForeignKey("order.id", ondelete="CASCADE"),
            primary_key=True,
        )
    )
    product_id: int = Field(sa_column=Column(Integer, ForeignKey("product.id"), primary_key=True))
    sku: str = Field(max_length=64)
    name: str = Field(max_length=200)
    quantity: int
    unit_price: Decimal = Field(sa_column=Column(Numeric(12, 2), nullable=False))
    # Units the store picked, set when it marks the order ready; None until then. From then on they are
    # what the order holds of the store's stock (`held`).
    picked: int | None = Field(default=None)
    # Units the collector took at the hand-over; None until then.
    collected: int | None = Field(default=None)
    # The store the line's units were reserved at when it is not the pickup store (a transfer brings
    # them); None for the pickup store's own lines.
    source_store_id: int | None = Field(default=None)

    @property
    def held(self) -> int:
        """The units this line holds of the store's stock while the order does: all it asks for until
        the store picks, then what it picked (`orders.sweeps.held_units` is the same rule in SQL)."""
        return self.quantity if self.picked is None else self.picked


class OrderEvent(SQLModel, table=True):
    """Every transition of an order, written in the transaction that made it: the order's history."""

    __tablename__ = "order_event"
    __table_args__ = (Index("ix_order_event_order", "order_pk", "id"),)

    id: int | None = Field(
        default=None, sa_column=Column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    )
    order_pk: int = Field(
        sa_column=Column(
            BigInteger().with_variant(Integer, "sqlite"),
            ForeignKey("order.id", ondelete="CASCADE"),
            nullable=False,
        )
    )
    status: OrderStatus = Field(sa_column=Column(String(20), nullable=False))
    at: datetime = Field(default_factory=utcnow, sa_column=Column(UtcTimestamp(), nullable=False))
    # The API key of the staff member who made the change; None for the shopper and the system.
    actor_key_id: int | None = Field(default=None)
    # That key's label as it was then, so the history says who did it even after the key is relabelled
    # or revoked.
    actor_label: str | None = Field(default=None, max_length=200)
    # How the collector was checked at the hand-over (`orders.counter_schemas.Verification`), on the
    # `collected` entry only.
    verification: str | None = Field(default=None, max_length=20)


class IdempotencyKey(SQLModel, table=True):
    """The order a shopper's `Idempotency-Key` created, and a hash of the request that created it."""

    __tablename__ = "idempotency_key"
    # For the sweep that forgets keys older than a day (orders/sweeps.py).
    __table_args__ = (Index("ix_idempotency_key_created_at", "created_at"),)

    key: str = Field(sa_column=Column(String(64), primary_key=True))  # SHA-256 of the client's key
    request_hash: str = Field(max_length=64)
    order_pk: int = Field(
        sa_column=Column(
            BigInteger().with_variant(Integer, "sqlite"),
            ForeignKey("order.id", ondelete="CASCADE"),
            nullable=False,
        )
    )
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UtcTimestamp(), nullable=False))


class Notification(SQLModel, table=True):
    """The outbox: one row per order transition, written in the transaction that made the transition, and
    delivered afterwards by a task (to the webhook, or to the log), at least once, with a unique event id
    the receiver can de-duplicate on."""

    __tablename__ = "notification"
    __table_args__ = (
        Index("ix_notification_due", "delivered_at", "next_attempt_at"),
        # The events not yet turned into messages to the shopper (orders/messages/outbox.py): a partial
        # index, so it holds the few rows of the last seconds, never the whole history.
        Index(
            "ix_notification_unmessaged",
            "id",
            postgresql_where=text("messaged_at IS NULL"),
            sqlite_where=text("messaged_at IS NULL"),
        ),
    )

    id: int | None = Field(
        default=None, sa_column=Column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    )
    event_id: str = Field(sa_column=Column(String(36), nullable=False, unique=True))
    kind: str = Field(max_length=40)
    payload: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UtcTimestamp(), nullable=False))
    next_attempt_at: datetime = Field(
        default_factory=utcnow, sa_column=Column(UtcTimestamp(), nullable=False)
    )
    attempts: int = Field(default=0)
    last_error: str | None = Field(default=None, max_length=500)
    delivered_at: datetime | None = Field(default=None, sa_column=Column(UtcTimestamp(), nullable=True))
    # When the event's messages to the shopper were written (`orders.messages.outbox.derive`); None until
    # then. Apart from `delivered_at`: the webhook and the shopper's mail are two receivers of one event.
    messaged_at: datetime | None = Field(default=None, sa_column=Column(UtcTimestamp(), nullable=True))


class Return(SQLModel, table=True):
    """Units of a collected order brought back to the counter (`orders.returns`), with the staff key that
    took them and the `Idempotency-Key` that made the return: a retried request finds it again."""

    __tablename__ = "order_return"
    __table_args__ = (
        # A key belongs to the order it was sent for: the order's row lock serialises every return of it,
        # so a retry arriving while the first is still being written waits and then finds it. The index
        # also lists an order's returns.
        Index("uq_order_return_order_key", "order_pk", "idempotency_key", unique=True),
        # The service report counts the returns of a date range's orders from here (orders/report.py).
        Index("ix_order_return_at", "at"),
    )

    id: int | None = Field(
        default=None, sa_column=Column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    )
    # The public id, in answers and in the return's stock movements (`return:{return_id}:{product_id}`).
    return_id: str = Field(sa_column=Column(String(40), nullable=False, unique=True))
    order_pk: int = Field(
        sa_column=Column(
            BigInteger().with_variant(Integer, "sqlite"),
            ForeignKey("order.id", ondelete="CASCADE"),
            nullable=False,
        )
    )
    at: datetime = Field(sa_column=Column(UtcTimestamp(), nullable=False))
    # Whether the units went back into the store's `on_hand`; if not, they were written off.
    restock: bool
    reason: str | None = Field(default=None, max_length=200)
    actor_key_id: int | None = Field(default=None)
    actor_label: str | None = Field(default=None, max_length=200)
    idempotency_key: str = Field(max_length=64)  # SHA-256 of the client's key
    request_hash: str = Field(max_length=64)


class ReturnLine(SQLModel, table=True):
    __tablename__ = "order_return_line"

    return_pk: int = Field(
        sa_column=Column(
            BigInteger().with_variant(Integer, "sqlite"),
            ForeignKey("order_return.id", ondelete="CASCADE"),
            primary_key=True,
        )
    )
    product_id: int = Field(sa_column=Column(Integer, ForeignKey("product.id"), primary_key=True))
    sku: str = Field(max_length=64)
    quantity: int


class DeskEvent(SQLModel, table=True):
    """What a store's desk hears about (orders/desk_events.py): written in the transaction of the change it
    tells of, numbered per store in commit order (`seq`, from `DeskEventCounter`), pruned after a day."""

    __tablename__ = "desk_event"
    # Pruned by age, oldest first.
    __table_args__ = (Index("ix_desk_event_at", "at"),)

    # No foreign keys: a log the desk streams read and a sweep prunes, never joined; a store's id is
    # stable and an event names its order by the public id the desk asks the API about.
    store_id: int = Field(sa_column=Column(Integer, primary_key=True, autoincrement=False))
    seq: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    type: str = Field(max_length=40)
    order_id: str | None = Field(default=None, max_length=40)
    at: datetime = Field(sa_column=Column(UtcTimestamp(), nullable=False))


class DeskEventCounter(SQLModel, table=True):
    """The last `DeskEvent.seq` of each store: the row a writer of the store's events updates, and so
    locks until it commits, which numbers the store's events in commit order."""

    __tablename__ = "desk_event_counter"

    store_id: int = Field(sa_column=Column(Integer, primary_key=True, autoincrement=False))
    last_seq: int = Field(sa_column=Column(BigInteger, nullable=False))


class TransferStatus(enum.StrEnum):
    planned = "planned"  # reserved at the source
    shipped = "shipped"  # left the source, travelling (the pickup store's `in_transit`)
    received = "received"  # in the pickup store's stock


class Transfer(SQLModel, table=True):
    """The lines of one order that travel from their source store to the pickup store (orders/transfers.py):
    the order's lines whose `source_store_id` is `from_store_id`."""

    __tablename__ = "transfer"
    __table_args__ = (
        # A store's outgoing and incoming lists, by status.
        Index("ix_transfer_from_status", "from_store_id", "status"),
        Index("ix_transfer_to_status", "to_store_id", "status"),
        Index("ix_transfer_order", "order_pk"),
    )

    id: int | None = Field(
        default=None, sa_column=Column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    )
    transfer_id: str = Field(sa_column=Column(String(40), nullable=False, unique=True))
    order_pk: int = Field(
        sa_column=Column(
            BigInteger().with_variant(Integer, "sqlite"),
            ForeignKey("order.id", ondelete="CASCADE"),
            nullable=False,
        )
    )
    from_store_id: int = Field(sa_column=Column(Integer, ForeignKey("store.id"), nullable=False))
    to_store_id: int = Field(sa_column=Column(Integer, ForeignKey("store.id"), nullable=False))
    # The source's code, which no upsert changes: answers name it without a join.
    from_store_code: str = Field(max_length=32)
    status: TransferStatus = Field(sa_column=Column(String(10), nullable=False))
    eta: datetime | None = Field(default=None, sa_column=Column(UtcTimestamp(), nullable=True))
    created_at: datetime = Field(sa_column=Column(UtcTimestamp(), nullable=False))
    shipped_at: datetime | None = Field(default=None, sa_column=Column(UtcTimestamp(), nullable=True))
    received_at: datetime | None = Field(default=None, sa_column=Column(UtcTimestamp(), nullable=True))

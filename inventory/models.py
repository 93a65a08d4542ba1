"""Tables of the catalogue, prices and stock.

Stock rows are keyed by integer ids (store, product): at 5,000 stores x 100,000 SKUs the table holds tens of
millions of rows, and two integers keep its primary key and the availability-feed index small.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import BigInteger, Column, ForeignKey, Index, Integer, Numeric, String, Text, text
from sqlmodel import Field, SQLModel

from retail.clock import utcnow
from retail.dialect import UtcTimestamp

MONEY = Numeric(12, 2)
STOCK_FILLFACTOR = 50


class Product(SQLModel, table=True):
    __tablename__ = "product"

    id: int | None = Field(default=None, primary_key=True)
    sku: str = Field(max_length=64, unique=True)
    ean: str | None = Field(default=None, max_length=14, unique=True)
    name: str = Field(max_length=200)
    # Lower-cased, accent-folded name: the order of search results of equal relevance.
    search_name: str = Field(max_length=200, index=True)
    # The distinct words of name, brand and EAN, folded (`inventory.search.search_words`): what the
    # shopper's text search finds a product by, through an index per database (migration 0006).
    search_words: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    brand: str = Field(default="", max_length=100)
    description: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    image_url: str | None = Field(default=None, max_length=500)
    category: str = Field(default="", max_length=200)
    currency: str = Field(default="EUR", max_length=3)
    online_price: Decimal = Field(sa_column=Column(MONEY, nullable=False))
    store_price: Decimal = Field(sa_column=Column(MONEY, nullable=False))
    online_stock: int = Field(default=0)
    updated_at: datetime = Field(default_factory=utcnow, sa_column=Column(UtcTimestamp(), nullable=False))


class StorePrice(SQLModel, table=True):
    """A store's own price for a product, overriding the product's `store_price`."""

    __tablename__ = "store_price"

    store_id: int = Field(
        sa_column=Column(Integer, ForeignKey("store.id", ondelete="CASCADE"), primary_key=True)
    )
    product_id: int = Field(
        sa_column=Column(Integer, ForeignKey("product.id", ondelete="CASCADE"), primary_key=True)
    )
    price: Decimal = Field(sa_column=Column(MONEY, nullable=False))
    updated_at: datetime = Field(default_factory=utcnow, sa_column=Column(UtcTimestamp(), nullable=False))


class Stock(SQLModel, table=True):
    """Stock of one product in one store.

    `on_hand` is what is on the shelf; `reserved` is held for click-and-collect orders; `as_of` is the time
    of the last absolute count (snapshot) applied, which decides whether a later snapshot or movement
    already contains a change. `feed_xid` places the row's last change in the availability feed: the id of
    the transaction that made it (PostgreSQL's xid8; a per-transaction counter on SQLite), which also logs
    the row's bucket in `stock_change`.
    """

    __tablename__ = "stock"
    # The primary key is the only index. No index leads with product_id: lookups always name their stores
    # too (the nearest ones), which the primary key serves. Nor is `feed_xid` indexed: an index on it took
    # an index entry per written row (about half of a million-row sync's merge) and made every stock
    # update non-HOT; the feed finds changed rows through `stock_change` instead. Pages are left half
    # empty (PostgreSQL) so that a snapshot rewriting every row of a page finds room for the new versions
    # there: a HOT update, with no new index entry, at the price of a heap twice the size.
    __table_args__ = {"postgresql_with": {"fillfactor": STOCK_FILLFACTOR}}

    # No foreign keys here: each would run a trigger per written row, which more than doubled a
    # million-row sync merge (README, Benchmarks: measured choices). Every writer takes its ids from a
    # join with the stores and products in the same statement, and stores and products are never
    # deleted, only changed.
    store_id: int = Field(sa_column=Column(Integer, primary_key=True))
    product_id: int = Field(sa_column=Column(Integer, primary_key=True))
    on_hand: int = Field(default=0)
    reserved: int = Field(default=0)
    safety_stock: int = Field(default=0)
    as_of: datetime | None = Field(default=None, sa_column=Column(UtcTimestamp(), nullable=True))
    changed_at: datetime = Field(default_factory=utcnow, sa_column=Column(UtcTimestamp(), nullable=False))
    feed_xid: int = Field(default=0, sa_column=Column(BigInteger, nullable=False, server_default="0"))
    # Units shipped to this store by a transfer and not yet received (`inventory.transfer_ledger`): in
    # neither store's `on_hand` while they travel, so the books count them here.
    in_transit: int = Field(default=0, sa_column=Column(Integer, nullable=False, server_default="0"))


class StockMovement(SQLModel, table=True):
    """A relative change of stock (a sale at the till, a delivery, a collection), kept so that a snapshot
    arriving later knows which movements it already contains and a replayed movement counts once."""

    __tablename__ = "stock_movement"
    __table_args__ = (
        Index("ix_stock_movement_store_product_at", "store_id", "product_id", "at"),
        # A snapshot adds the movements since its oldest count (`at > since`): recent, so few, but without
        # this index finding them scanned every movement ever recorded.
        Index("ix_stock_movement_at", "at"),
    )

    id: int | None = Field(
        default=None, sa_column=Column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    )
    movement_id: str = Field(sa_column=Column(String(100), nullable=False, unique=True))
    store_id: int = Field(
        sa_column=Column(Integer, ForeignKey("store.id", ondelete="CASCADE"), nullable=False)
    )
    product_id: int = Field(
        sa_column=Column(Integer, ForeignKey("product.id", ondelete="CASCADE"), nullable=False)
    )
    delta: int
    at: datetime = Field(sa_column=Column(UtcTimestamp(), nullable=False))
    recorded_at: datetime = Field(default_factory=utcnow, sa_column=Column(UtcTimestamp(), nullable=False))
    source: str = Field(default="sync", max_length=16)


class FeedClock(SQLModel, table=True):
    """SQLite only: the per-transaction counter that stands in for PostgreSQL's transaction ids in the
    availability feed (SQLite runs one writer at a time, so counter order is commit order)."""

    __tablename__ = "feed_clock"

    id: int = Field(default=1, primary_key=True)
    value: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))


class StockChange(SQLModel, table=True):
    """The availability feed's log: transaction `xid` changed stock rows of `store_id` whose product ids
    fall in `bucket` (`product_id // FEED_BUCKET`). One row per bucket rather than per stock row keeps a
    million-row sync to about a thousand log rows; the feed reads a bucket's stock rows by primary key
    and keeps those whose `feed_xid` is still `xid` (a later writer logged them again under its own)."""

    __tablename__ = "stock_change"

    xid: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    store_id: int = Field(sa_column=Column(Integer, primary_key=True, autoincrement=False))
    bucket: int = Field(sa_column=Column(Integer, primary_key=True, autoincrement=False))


class StockAlert(SQLModel, table=True):
    """A shopper waiting for a product to be back in stock at a store (`inventory.alerts`).

    `status` is `waiting` until a stock write raises the units available there above zero, which makes it
    `sent` in that same transaction (so an alert fires once, whatever writes stock at once); the shopper
    messages (orders/messages) then take it over (`messaged_at`) and send it with every other message to
    the shopper. The email address is kept only while the alert lives: cancelling deletes the row.
    """

    __tablename__ = "stock_alert"
    __table_args__ = (
        # Each (store, product, email) waits once (a second request answers the same alert), and the
        # firing walks the written rows' keys to the alerts still waiting for them through the same index.
        Index(
            "uq_stock_alert_waiting",
            "store_id",
            "product_id",
            "email",
            unique=True,
            postgresql_where=text("status = 'waiting'"),
            sqlite_where=text("status = 'waiting'"),
        ),
        Index("ix_stock_alert_email", "email"),
        # The fired alerts the messages have not taken over yet: few, however many were ever sent.
        Index(
            "ix_stock_alert_unmessaged",
            "sent_at",
            postgresql_where=text("status = 'sent' AND messaged_at IS NULL"),
            sqlite_where=text("status = 'sent' AND messaged_at IS NULL"),
        ),
    )

    id: int | None = Field(
        default=None, sa_column=Column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    )
    alert_id: str = Field(sa_column=Column(String(40), nullable=False, unique=True))
    store_id: int = Field(
        sa_column=Column(Integer, ForeignKey("store.id", ondelete="CASCADE"), nullable=False)
    )
    product_id: int = Field(
        sa_column=Column(Integer, ForeignKey("product.id", ondelete="CASCADE"), nullable=False)
    )
    email: str = Field(max_length=254)  # lower-cased: the per-address limit counts one address once
    locale: str = Field(sa_column=Column(String(2), nullable=False))
    status: str = Field(sa_column=Column(String(10), nullable=False))
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UtcTimestamp(), nullable=False))
    sent_at: datetime | None = Field(default=None, sa_column=Column(UtcTimestamp(), nullable=True))
    messaged_at: datetime | None = Field(default=None, sa_column=Column(UtcTimestamp(), nullable=True))

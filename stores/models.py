"""Tables of the store network."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Column, Float, ForeignKey, Index, Integer, String, text
from sqlmodel import Field, SQLModel

from retail.clock import utcnow
from retail.dialect import UtcTimestamp


class Store(SQLModel, table=True):
    __tablename__ = "store"
    # Latitude first: the bounding-box prefilter of ad-hoc SQL queries (and the in-memory index rebuild,
    # which reads code/lat/lon only) are served by it without touching the wide rows.
    __table_args__ = (Index("ix_store_lat_lon_code", "lat", "lon", "code"),)

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=32, unique=True)
    name: str = Field(max_length=200)
    street: str = Field(default="", max_length=200)
    postcode: str = Field(default="", max_length=16)
    city: str = Field(max_length=100)
    country: str = Field(max_length=2)
    subdivision: str | None = Field(default=None, max_length=8)
    lat: float
    lon: float
    timezone: str = Field(max_length=64)
    phone: str | None = Field(default=None, max_length=32)
    click_and_collect: bool = Field(default=True)
    low_stock_threshold: int = Field(default=2)
    hold_hours: int = Field(default=72)
    pick_minutes: int = Field(default=60)
    # The pick time measured from the store's own orders (orders/measured.py, refreshed by beat): the 80th
    # percentile of reserved -> ready in opening minutes over 28 days; None under 20 orders, when the
    # promise uses `pick_minutes`.
    measured_pick_minutes: int | None = Field(default=None, sa_column=Column(Integer, nullable=True))
    # Days after collection the counter takes units of an order back (orders.returns); 0 takes none. The
    # server default is for the stores there before the setting (migration 0013).
    return_days: int = Field(default=30, sa_column=Column(Integer, nullable=False, server_default=text("30")))
    # How long a shopper who has arrived may wait at the counter before the arrivals list calls the
    # hand-over overdue (orders/arrivals.py). The server default is for the rows from before it existed.
    handover_minutes: int = Field(
        default=5, sa_column=Column(Integer, nullable=False, server_default=text("5"))
    )
    closed_on_public_holidays: bool = Field(default=True)
    # `store` or `warehouse` (stores.schemas.StoreKind): a warehouse ships to stores and is never shown to
    # shoppers nor a pickup store. Server defaults for the rows there before migration 0010.
    kind: str = Field(
        default="store", sa_column=Column(String(16), nullable=False, server_default=text("'store'"))
    )
    # Orders that may be promised (`ready_by`) on one local day; None: unlimited.
    daily_order_capacity: int | None = Field(default=None)
    # "HH:MM" in the store's zone after which an order is not picked the same day; None: no cutoff.
    same_day_cutoff: str | None = Field(default=None, max_length=5)
    click_and_collect_paused: bool = Field(
        default=False, sa_column=Column(Boolean, nullable=False, server_default=text("false"))
    )
    # Opening hours a ready order is held, counted in the store's own hours; None: `hold_hours` of the clock.
    hold_opening_hours: int | None = Field(default=None)
    # The share of the store's picked orders of the last 28 days that were picked short, as the orders'
    # beat task last measured it (orders/store_figures.py); None: no picked orders to tell. What the
    # shoppers' stock confidence reads (inventory/confidence.py); never part of the admin upsert.
    short_pick_share: float | None = Field(default=None, sa_column=Column(Float, nullable=True))
    # Weekly periods and special days as the contract's JSON: always read and written whole with the store,
    # and a few hundred bytes, so a child table would only add joins.
    hours: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UtcTimestamp(), nullable=False))
    updated_at: datetime = Field(default_factory=utcnow, sa_column=Column(UtcTimestamp(), nullable=False))


class StoreNetworkRevision(SQLModel, table=True):
    """One row whose token changes with every change to the store network.

    API processes keep the nearest-store index in memory and compare this token (one primary-key read) to
    decide whether to rebuild it, so replicas see a new store without polling the whole table. A random
    token rather than a counter: a rolled-back change must never produce a value that a later, different
    change could produce again.
    """

    __tablename__ = "store_network_revision"

    id: int = Field(default=1, primary_key=True)
    token: str = Field(default="", max_length=32)


class TransferLane(SQLModel, table=True):
    """A lane goods travel by between two stores (or a warehouse and a store): when trucks leave the
    source and how long they take. One per (from, to); an upsert replaces its timetable."""

    __tablename__ = "transfer_lane"
    # The reservation asks for the lanes into one pickup store.
    __table_args__ = (Index("ix_transfer_lane_to_store", "to_store_id"),)

    from_store_id: int = Field(
        sa_column=Column(Integer, ForeignKey("store.id", ondelete="CASCADE"), primary_key=True)
    )
    to_store_id: int = Field(
        sa_column=Column(Integer, ForeignKey("store.id", ondelete="CASCADE"), primary_key=True)
    )
    # Weekday name to departure times ("HH:MM", the source's zone), as the contract gives them: read whole
    # with the lane, and a handful of entries.
    departures: dict[str, list[str]] = Field(sa_column=Column(JSON, nullable=False))
    transit_hours: float = Field(sa_column=Column(Float, nullable=False))
    updated_at: datetime = Field(default_factory=utcnow, sa_column=Column(UtcTimestamp(), nullable=False))

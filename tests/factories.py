"""Test data: the rows and bodies the services and the API take, and builders that write them through the
real services (`stores.service`, `inventory.service`, `orders.service`), the way the webshop and the
shopper would.

Plain functions, no fixtures: a test says what it builds. Row and body builders (`store_row`,
`product_row`, `count_row`, `order_body`) answer dicts, valid as they come; override a field to make one
that is not. Session builders (`make_store`, `make_product`, `count_stock`, `place_order`,
`reserved_order`) flush and never commit, like the services; given an engine, `place_order` and
`reserved_order` commit for real. `committed_store` and `committed_catalogue` commit a whole setup for
tests across transactions and processes, and empty every table afterwards.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import Engine
from sqlmodel import Session, select

from app.registry import metadata
from inventory import service as inventory_service
from inventory.models import Product, Stock
from inventory.schemas import SnapshotResult
from orders import service as orders_service
from orders.models import Order, OrderStatus
from orders.schemas import OrderIn
from stores import service as stores_service
from stores.models import Store

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")

ALWAYS_OPEN: dict[str, Any] = {
    "weekly": {day: [{"opens": "00:00", "closes": "24:00"}] for day in WEEKDAYS},
    "special": [],
}
"""The hours of a store open around the clock, every day: an order is ready an hour after it is placed."""

COUNTED_AT = "2026-11-23T06:00:00+01:00"
"""When the counts of `count_row` and `count_stock` were taken unless told otherwise: in the past."""

CUSTOMER: dict[str, str] = {"name": "Sanne de Vries", "email": "sanne@example.nl", "phone": "+31 6 1234 5678"}


# ----------------------------------------------------------------------------------------- rows, bodies


def store_row(code: str = "NL-TST-001", *, always_open: bool = False, **overrides: Any) -> dict[str, Any]:
    """A valid admin-upsert store object (open Monday to Saturday, 9 to 6); override any top-level field.
    `always_open`: open around the clock, public holidays too (`ALWAYS_OPEN`)."""
    row: dict[str, Any] = {
        "code": code,
        "name": f"Winkelpunt {code}",
        "address": {"street": "Hoogstraat 1", "postcode": "3511 AA", "city": "Utrecht", "country": "NL"},
        "location": {"lat": 52.0907, "lon": 5.1214},
        "timezone": "Europe/Amsterdam",
        "phone": "+31 30 555 0100",
        "click_and_collect": True,
        "hours": {
            "weekly": {day: [{"opens": "09:00", "closes": "18:00"}] for day in WEEKDAYS[:6]},
            "special": [],
        },
    }
    if always_open:
        row.update(hours=ALWAYS_OPEN, closed_on_public_holidays=False)
    row.update(overrides)
    return row


def product_row(sku: str, *, price: str = "1.00", **overrides: Any) -> dict[str, Any]:
    """A valid webshop product row named after its sku, sold online at `price` euros; override any field."""
    row: dict[str, Any] = {"sku": sku, "name": sku, "online_price": {"amount": price, "currency": "EUR"}}
    row.update(overrides)
    return row


def count_row(store_code: str, sku: str, on_hand: object, *, as_of: str = COUNTED_AT) -> dict[str, Any]:
    """A stock snapshot row: `on_hand` of `sku` counted at `store_code` at `as_of`."""
    return {"store_code": store_code, "sku": sku, "on_hand": on_hand, "as_of": as_of}


EVERY_DAY_DEPARTURES: dict[str, list[str]] = {day: ["06:00", "12:00", "18:00"] for day in WEEKDAYS}
"""A lane's timetable that departs three times every day."""


def lane_row(from_store: str, to_store: str, *, transit_hours: int = 2) -> dict[str, Any]:
    """A valid transfer lane (`PUT /admin/v1/transfer-lanes`) departing `EVERY_DAY_DEPARTURES`."""
    return {
        "from_store": from_store,
        "to_store": to_store,
        "departures": EVERY_DAY_DEPARTURES,
        "transit_hours": transit_hours,
    }


def order_body(store_code: str, lines: Mapping[str, int], **overrides: Any) -> dict[str, Any]:
    """A shopper's order body (`POST /mobile/v1/orders`): `lines` as {sku: quantity}, in that order, for
    `CUSTOMER`; override any other top-level field (`customer`). For lines no dict can hold (one sku
    twice), replace `lines` in the answer."""
    body: dict[str, Any] = {
        "store_code": store_code,
        "lines": [{"sku": sku, "quantity": quantity} for sku, quantity in lines.items()],
        "customer": dict(CUSTOMER),
    }
    body.update(overrides)
    return body


def post_order(client: TestClient, body: dict[str, Any], key: str = "key-1") -> Response:
    """Place an order over HTTP with this idempotency key."""
    response: Response = client.post("/mobile/v1/orders", json=body, headers={"Idempotency-Key": key})
    return response


# -------------------------------------------------------------------------------- through the services


def make_store(session: Session, code: str, *, always_open: bool = False, **overrides: Any) -> None:
    """Upsert the store of `store_row(code, ...)`."""
    make_stores(session, [store_row(code, always_open=always_open, **overrides)])


def make_stores(session: Session, rows: Iterable[dict[str, Any]]) -> None:
    """Upsert these store rows; every one must apply."""
    result = stores_service.upsert_stores(session, rows=list(rows))
    assert result.errors == [], result.errors


def make_product(session: Session, sku: str, *, price: str = "1.00", **overrides: Any) -> None:
    """Upsert the product of `product_row(sku, ...)`."""
    make_products(session, [product_row(sku, price=price, **overrides)])


def make_products(session: Session, rows: Iterable[dict[str, Any]]) -> None:
    """Upsert these product rows; every one must apply."""
    result = inventory_service.upsert_products(session, rows=list(rows))
    assert result.errors == [], result.errors


def apply_counts(session: Session, rows: Iterable[dict[str, Any]]) -> SnapshotResult:
    """Apply these snapshot rows (`count_row`) as one snapshot, indexed in order; every one must be valid.
    Answers the service's result (how many applied, how many were stale)."""
    result = inventory_service.apply_snapshots(session, rows=list(enumerate(rows)))
    assert result.errors == [], result.errors
    return result


def count_stock(
    session: Session, store_code: str, stock: Mapping[str, int], *, as_of: str = COUNTED_AT
) -> SnapshotResult:
    """Count {sku: on_hand} at `store_code` as one snapshot taken at `as_of`."""
    return apply_counts(session, [count_row(store_code, sku, n, as_of=as_of) for sku, n in stock.items()])


def make_stocked_store(session: Session, code: str, stock: Mapping[str, int], **overrides: Any) -> None:
    """A store open around the clock with a product per sku of `stock` (1.00 each), counted as `stock`."""
    make_store(session, code, always_open=True, **overrides)
    make_products(session, [product_row(sku) for sku in stock])
    count_stock(session, code, stock)


def make_coffee_shop(session: Session) -> None:
    """The shop most API tests order from: S1 and S2 open around the clock and NO-CNC without click and
    collect; KOFFIE (12.99 online, 13.49 in store) and THEE (3.49), counted 3 and 10 at S1, 8 and 8 at
    S2. `BASKET` is an order that fits at both."""
    make_stores(
        session,
        [
            store_row("S1", always_open=True),
            store_row("S2", always_open=True, location={"lat": 52.1, "lon": 5.13}),
            store_row("NO-CNC", click_and_collect=False),
        ],
    )
    make_products(
        session,
        [
            product_row("KOFFIE", price="12.99", name="Koffiebonen 1 kg", store_price={"amount": "13.49"}),
            product_row("THEE", price="3.49", name="Groene thee"),
        ],
    )
    counts = [("S1", "KOFFIE", 3), ("S1", "THEE", 10), ("S2", "KOFFIE", 8), ("S2", "THEE", 8)]
    apply_counts(session, [count_row(store, sku, n) for store, sku, n in counts])


BASKET: dict[str, int] = {"KOFFIE": 2, "THEE": 1}
"""Two bags of coffee and a tea: the order tests' usual order at the `make_coffee_shop` stores."""


def order_in(store_code: str, lines: Mapping[str, int], **overrides: Any) -> OrderIn:
    """`order_body` as the service takes it."""
    return OrderIn.model_validate(order_body(store_code, lines, **overrides))


def no_send(order_pk: int) -> None:
    """A reservation sent nowhere (the broker was down, or the test reserves by itself)."""


def place_order(
    db: Session | Engine,
    store_code: str,
    lines: Mapping[str, int],
    *,
    key: str,
    send: Callable[[int], object] = no_send,
    **overrides: Any,
) -> Order:
    """Place an order through the service (its reservation handed to `send` with the order's primary key)
    and answer it, pending. In a session: flushed, not committed; on an engine: committed."""
    if isinstance(db, Engine):
        with Session(db, expire_on_commit=False) as session:
            order = place_order(session, store_code, lines, key=key, send=send, **overrides)
            session.commit()
            return order
    accepted = orders_service.place_order(
        db, order_in=order_in(store_code, lines, **overrides), idempotency_key=key, send_reservation=send
    )
    placed = db.get(Order, accepted.pk)
    assert placed is not None
    return placed


def reserved_order(
    db: Session | Engine, store_code: str, lines: Mapping[str, int], *, key: str, **overrides: Any
) -> Order:
    """`place_order`, then its reservation run here; the order must be reserved. On an engine the
    reservation commits in a transaction of its own after the order's, as the worker's would."""
    if isinstance(db, Engine):
        with Session(db, expire_on_commit=False) as session:
            order = place_order(session, store_code, lines, key=key, **overrides)
            session.commit()
            _reserve(session, order)
            session.commit()
            return order
    order = place_order(db, store_code, lines, key=key, **overrides)
    _reserve(db, order)
    return order


def _reserve(session: Session, order: Order) -> None:
    assert order.id is not None
    assert orders_service.reserve_order(session, order_pk=order.id) == OrderStatus.reserved


# -------------------------------------------------------------------------------------- reading, cleaning


def stock_of(session: Session, store_code: str, sku: str) -> Any:
    """The stock row of (store, sku) as the database has it now, or None."""
    session.expire_all()
    return session.exec(
        select(Stock)
        .join(Store, Store.id == Stock.store_id)  # type: ignore[arg-type]
        .join(Product, Product.id == Stock.product_id)  # type: ignore[arg-type]
        .where(Store.code == store_code, Product.sku == sku)
    ).first()


def empty_tables(engine: Engine) -> None:
    """Delete every row a test committed (the schema and its migrations stay)."""
    with engine.begin() as connection:
        for table in reversed(metadata.sorted_tables):
            if table.name != "alembic_version":
                connection.execute(table.delete())


# -------------------------------------------------------------------------------------------- committed


@contextmanager
def committed_store(engine: Engine, store_code: str, stock: Mapping[str, int]) -> Iterator[None]:
    """`make_stocked_store`, committed for real; every table emptied afterwards. For tests of behaviour
    across transactions, processes and workers."""
    with Session(engine) as session:
        make_stocked_store(session, store_code, stock)
        session.commit()
    try:
        yield
    finally:
        empty_tables(engine)


@contextmanager
def committed_lanes(
    engine: Engine, stock: Mapping[str, Mapping[str, int]], lanes: Iterable[tuple[str, str]]
) -> Iterator[None]:
    """Stores open around the clock (one per key of `stock`, each counted as its {sku: on_hand}; a sku
    counted nowhere still gets its product when it appears with 0), a kilometre or so apart, and transfer
    lanes (from, to) between them (`lane_row`), committed for real; every table emptied afterwards. For
    transfer orders across transactions, processes and workers."""
    skus = sorted({sku for counts in stock.values() for sku in counts})
    with Session(engine) as session:
        make_stores(
            session,
            [
                store_row(code, always_open=True, location={"lat": 52.09 + 0.01 * i, "lon": 5.12})
                for i, code in enumerate(stock)
            ],
        )
        make_products(session, [product_row(sku) for sku in skus])
        rows = [count_row(code, sku, n) for code, counts in stock.items() for sku, n in counts.items() if n]
        apply_counts(session, rows)
        result = stores_service.upsert_lanes(session, rows=[lane_row(a, b) for a, b in lanes])
        assert result.errors == [], result.errors
        session.commit()
    try:
        yield
    finally:
        empty_tables(engine)


@contextmanager
def committed_catalogue(engine: Engine, skus: Iterable[str]) -> Iterator[Engine]:
    """Stores S1 and S2 (open the usual hours) and a product per sku, committed for real, without stock;
    every table emptied afterwards."""
    with Session(engine) as session:
        make_stores(session, [store_row("S1"), store_row("S2")])
        make_products(session, [product_row(sku) for sku in skus])
        session.commit()
    try:
        yield engine
    finally:
        empty_tables(engine)

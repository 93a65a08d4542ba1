"""Reservations on a real Celery worker over Redis and PostgreSQL, under concurrency."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Iterator

import pytest
from celery.contrib.testing.worker import start_worker
from sqlalchemy import Engine, text
from sqlmodel import Session, select

from inventory import service as inventory_service
from orders import service as orders_service
from orders import tasks as orders_tasks
from orders.models import Order, OrderStatus
from orders.schemas import OrderIn
from retail.celery_app import celery_app
from retail.registry import metadata
from stores import service as stores_service
from tests.conftest import store_row

ALWAYS_OPEN = {
    "weekly": {
        day: [{"opens": "00:00", "closes": "24:00"}]
        for day in ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
    },
    "special": [],
}


@pytest.fixture
def shop(pg_engine: Engine) -> Iterator[Engine]:
    with Session(pg_engine) as session:
        stores_service.upsert_stores(
            session, rows=[store_row("W1", hours=ALWAYS_OPEN, closed_on_public_holidays=False)]
        )
        inventory_service.upsert_products(
            session,
            rows=[{"sku": sku, "name": sku, "online_price": {"amount": "1.00"}} for sku in ("A", "B", "C")],
        )
        counts = [("W1", "A", 10), ("W1", "B", 100), ("W1", "C", 100)]
        inventory_service.apply_snapshots(
            session,
            rows=list(
                enumerate(
                    {"store_code": s, "sku": k, "on_hand": n, "as_of": "2026-11-23T06:00:00+01:00"}
                    for s, k, n in counts
                )
            ),
        )
        session.commit()
    celery_app.control.purge()
    yield pg_engine
    with pg_engine.begin() as connection:
        for table in reversed(metadata.sorted_tables):
            if table.name != "alembic_version":
                connection.execute(table.delete())


def _place_concurrently(engine: Engine, baskets: list[list[tuple[str, int]]]) -> list[str]:
    order_ids: list[str] = []
    lock = threading.Lock()
    barrier = threading.Barrier(min(len(baskets), 20))

    def place(index: int, basket: list[tuple[str, int]]) -> None:
        order_in = OrderIn.model_validate(
            {
                "store_code": "W1",
                "lines": [{"sku": sku, "quantity": quantity} for sku, quantity in basket],
                "customer": {"name": f"Klant {index}", "email": f"klant{index}@example.nl"},
            }
        )
        if index < 20:
            barrier.wait()  # the first twenty start at the same moment
        with Session(engine) as session:
            order, _ = orders_service.place_order(
                session,
                order_in=order_in,
                idempotency_key=f"worker-test-{index}",
                send_reservation=orders_tasks.send_reservation,
            )
            session.commit()
            with lock:
                order_ids.append(order.order_id)

    threads = [threading.Thread(target=place, args=(i, b)) for i, b in enumerate(baskets)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return order_ids


def _wait_until_decided(
    engine: Engine, order_ids: list[str], timeout_s: float = 90
) -> dict[str, OrderStatus]:
    deadline = time.monotonic() + timeout_s
    while True:
        with Session(engine) as session:
            statuses = {
                o.order_id: o.status
                for o in session.exec(select(Order).where(Order.order_id.in_(order_ids)))  # type: ignore[attr-defined]
            }
        if all(status != OrderStatus.pending for status in statuses.values()) or time.monotonic() > deadline:
            return statuses
        time.sleep(0.2)


def _reserved(engine: Engine, sku: str) -> tuple[int, int]:
    with engine.connect() as connection:
        row = connection.execute(
            text(
                "SELECT s.on_hand, s.reserved FROM stock s JOIN product p ON p.id = s.product_id "
                "WHERE p.sku = :sku"
            ),
            {"sku": sku},
        ).one()
    return row.on_hand, row.reserved


def test_a_hundred_concurrent_orders_for_ten_units_reserve_exactly_ten(shop: Engine) -> None:
    with start_worker(
        celery_app, pool="threads", concurrency=4, perform_ping_check=False, shutdown_timeout=30
    ):
        order_ids = _place_concurrently(shop, [[("A", 1)] for _ in range(100)])
        statuses = _wait_until_decided(shop, order_ids)
    assert Counter(statuses.values()) == {OrderStatus.reserved: 10, OrderStatus.rejected: 90}
    assert _reserved(shop, "A") == (10, 10)


def test_overlapping_baskets_in_opposite_orders_finish_without_deadlock(shop: Engine) -> None:
    baskets = [[("B", 1), ("C", 1)] if i % 2 else [("C", 1), ("B", 1)] for i in range(60)]
    with start_worker(
        celery_app, pool="threads", concurrency=4, perform_ping_check=False, shutdown_timeout=30
    ):
        order_ids = _place_concurrently(shop, baskets)
        statuses = _wait_until_decided(shop, order_ids)
    assert Counter(statuses.values()) == {OrderStatus.reserved: 60}
    assert _reserved(shop, "B") == (100, 60)
    assert _reserved(shop, "C") == (100, 60)

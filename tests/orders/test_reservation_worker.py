"""Reservations on a real Celery worker over Redis and PostgreSQL, under concurrency."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator

import pytest
from celery.contrib.testing.worker import start_worker
from redis import Redis
from sqlalchemy import Engine, text
from sqlmodel import Session, select

from orders import queueing
from orders import tasks as orders_tasks
from orders.models import Order, OrderStatus
from retail.celery_app import celery_app
from tests.conftest import REDIS_URL
from tests.factories import committed_store, place_order


@pytest.fixture
def worker_store(pg_engine: Engine) -> Iterator[Engine]:
    """The test database with store W1 (10 of A, 100 each of B and C) committed, the broker's queue and
    the store's queued mark cleared."""
    with committed_store(pg_engine, "W1", {"A": 10, "B": 100, "C": 100}):
        celery_app.control.purge()
        # A purged run leaves its store's mark behind; it would hold back the next runs until it expires.
        Redis.from_url(REDIS_URL).delete(queueing.QUEUED_MARK.format(store_code="W1"))
        yield pg_engine


# One task per order (the sweep's way), or at most one queued run per store (the API's way).
SENDS: dict[str, Callable[[int], object]] = {
    "per-order": orders_tasks.send_reservation,
    "per-store": lambda order_pk: queueing.queue_reservation(order_pk, store_code="W1"),
}


def _place_concurrently(
    engine: Engine, baskets: list[list[tuple[str, int]]], send: Callable[[int], object]
) -> list[str]:
    order_ids: list[str] = []
    lock = threading.Lock()
    barrier = threading.Barrier(min(len(baskets), 20))

    def place(index: int, basket: list[tuple[str, int]]) -> None:
        customer = {"name": f"Klant {index}", "email": f"klant{index}@example.nl"}
        if index < 20:
            barrier.wait()  # the first twenty start at the same moment
        order = place_order(
            engine, "W1", dict(basket), key=f"worker-test-{index}", send=send, customer=customer
        )
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


@pytest.mark.parametrize("send", SENDS)
def test_a_hundred_concurrent_orders_for_ten_units_reserve_exactly_ten(
    worker_store: Engine, send: str
) -> None:
    with start_worker(
        celery_app, pool="threads", concurrency=4, perform_ping_check=False, shutdown_timeout=30
    ):
        order_ids = _place_concurrently(worker_store, [[("A", 1)] for _ in range(100)], SENDS[send])
        statuses = _wait_until_decided(worker_store, order_ids)
    assert Counter(statuses.values()) == {OrderStatus.reserved: 10, OrderStatus.rejected: 90}
    assert _reserved(worker_store, "A") == (10, 10)


@pytest.mark.parametrize("send", SENDS)
def test_overlapping_baskets_in_opposite_orders_finish_without_deadlock(
    worker_store: Engine, send: str
) -> None:
    baskets = [[("B", 1), ("C", 1)] if i % 2 else [("C", 1), ("B", 1)] for i in range(60)]
    with start_worker(
        celery_app, pool="threads", concurrency=4, perform_ping_check=False, shutdown_timeout=30
    ):
        order_ids = _place_concurrently(worker_store, baskets, SENDS[send])
        statuses = _wait_until_decided(worker_store, order_ids)
    assert Counter(statuses.values()) == {OrderStatus.reserved: 60}
    assert _reserved(worker_store, "B") == (100, 60)
    assert _reserved(worker_store, "C") == (100, 60)

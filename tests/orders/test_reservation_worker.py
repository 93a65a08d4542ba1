"""Reservations on a real Celery worker over Redis and PostgreSQL, under concurrency."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import pytest
from celery.contrib.testing.worker import start_worker
from celery.signals import task_failure
from redis import Redis
from sqlalchemy import Engine, text
from sqlmodel import Session, select

from orders import queueing
from orders import tasks as orders_tasks
from orders.models import Order, OrderStatus
from retail.celery_app import celery_app
from tests.conftest import REDIS_URL
from tests.factories import committed_lanes, committed_store, place_order


@pytest.fixture
def worker_store(pg_engine: Engine) -> Iterator[Engine]:
    """The test database with store W1 (10 of A, 100 each of B and C) committed, the broker's queue and
    the store's queued mark cleared."""
    with committed_store(pg_engine, "W1", {"A": 10, "B": 100, "C": 100}):
        _clear_queue("W1")
        yield pg_engine


def _clear_queue(*stores: str) -> None:
    celery_app.control.purge()
    # A purged run leaves its store's mark behind; it would hold back the next runs until it expires.
    Redis.from_url(REDIS_URL).delete(*(queueing.QUEUED_MARK.format(store_code=s) for s in stores))


# One task per order (the sweep's way), or at most one queued run per store (the API's way).
SENDS = ("per-order", "per-store")


def _sender(send: str, store: str) -> Callable[[int], object]:
    if send == "per-order":
        return orders_tasks.send_reservation
    return lambda order_pk: queueing.queue_reservation(order_pk, store_code=store)


def _place_concurrently(
    engine: Engine,
    baskets: list[list[tuple[str, int]]],
    send: str,
    *,
    stores: Sequence[str] = ("W1",),
    **overrides: Any,
) -> list[str]:
    """Place the baskets at once, basket i at `stores[i % len(stores)]` (`overrides`: more of the body)."""
    order_ids: list[str] = []
    lock = threading.Lock()
    barrier = threading.Barrier(min(len(baskets), 20))

    def place(index: int, basket: list[tuple[str, int]]) -> None:
        customer = {"name": f"Klant {index}", "email": f"klant{index}@example.nl"}
        store = stores[index % len(stores)]
        if index < 20:
            barrier.wait()  # the first twenty start at the same moment
        order = place_order(
            engine,
            store,
            dict(basket),
            key=f"worker-test-{index}",
            send=_sender(send, store),
            customer=customer,
            **overrides,
        )
        with lock:
            order_ids.append(order.order_id)

    threads = [threading.Thread(target=place, args=(i, b)) for i, b in enumerate(baskets)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return order_ids


class _TaskFailures:
    """The tasks that raised in the in-process worker meanwhile (celery's `task_failure` signal), as
    (task name, exception). A reservation run that failed (a deadlock) can leave no other trace: the
    store's next run decides the order it left pending, in its batch."""

    def __init__(self) -> None:
        self.failures: list[tuple[str, str]] = []

    def _record(self, sender: Any = None, exception: BaseException | None = None, **_kw: Any) -> None:
        self.failures.append((getattr(sender, "name", str(sender)), repr(exception)))

    def __enter__(self) -> list[tuple[str, str]]:
        task_failure.connect(self._record, weak=False)
        return self.failures

    def __exit__(self, *_exc: object) -> None:
        task_failure.disconnect(self._record)


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
        order_ids = _place_concurrently(worker_store, [[("A", 1)] for _ in range(100)], send)
        statuses = _wait_until_decided(worker_store, order_ids)
    assert Counter(statuses.values()) == {OrderStatus.reserved: 10, OrderStatus.rejected: 90}
    assert _reserved(worker_store, "A") == (10, 10)


@pytest.mark.parametrize("send", SENDS)
def test_overlapping_baskets_in_opposite_orders_finish_without_deadlock(
    worker_store: Engine, send: str
) -> None:
    baskets = [[("B", 1), ("C", 1)] if i % 2 else [("C", 1), ("B", 1)] for i in range(60)]
    with (
        _TaskFailures() as failures,
        start_worker(
            celery_app, pool="threads", concurrency=4, perform_ping_check=False, shutdown_timeout=30
        ),
    ):
        order_ids = _place_concurrently(worker_store, baskets, send)
        statuses = _wait_until_decided(worker_store, order_ids)
    assert failures == []
    assert Counter(statuses.values()) == {OrderStatus.reserved: 60}
    assert _reserved(worker_store, "B") == (100, 60)
    assert _reserved(worker_store, "C") == (100, 60)


# ----------------------------------------------------------------------------------------- transfers


@pytest.fixture
def transfer_stores(pg_engine: Engine) -> Iterator[Engine]:
    """T1 lacks A (no stock row at all) and holds 100 of P; T2 holds 10 of A and 100 of Q; lanes T2 -> T1
    and T1 -> T2; committed, the broker's queue and the stores' marks cleared."""
    stock = {"T1": {"A": 0, "P": 100}, "T2": {"A": 10, "Q": 100}}
    with committed_lanes(pg_engine, stock, lanes=[("T2", "T1"), ("T1", "T2")]):
        _clear_queue("T1", "T2")
        yield pg_engine


def _stock(engine: Engine) -> dict[tuple[str, str], tuple[int, int, int]]:
    """(store, sku) -> (on_hand, reserved, in_transit), every stock row."""
    with engine.connect() as connection:
        rows = connection.execute(
            text(
                "SELECT st.code, p.sku, s.on_hand, s.reserved, s.in_transit FROM stock s "
                "JOIN store st ON st.id = s.store_id JOIN product p ON p.id = s.product_id"
            )
        ).all()
    return {(r[0], r[1]): (r[2], r[3], r[4]) for r in rows}


class _LowestAvailable(threading.Thread):
    """Watches every stock row while the orders run: the lowest `on_hand - reserved` it ever saw."""

    def __init__(self, engine: Engine) -> None:
        super().__init__(daemon=True)
        self.engine, self.lowest, self.stopping = engine, 0, threading.Event()

    def run(self) -> None:
        query = text("SELECT COALESCE(min(on_hand - reserved - safety_stock), 0) FROM stock")
        while not self.stopping.is_set():
            with self.engine.connect() as connection:
                self.lowest = min(self.lowest, int(connection.execute(query).scalar_one()))
            time.sleep(0.02)

    def __enter__(self) -> _LowestAvailable:
        self.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stopping.set()
        self.join()


def _transfers(engine: Engine) -> Counter[tuple[str, str]]:
    """(from store, status) of every transfer, counted."""
    with engine.connect() as connection:
        return Counter(
            (r[0], r[1]) for r in connection.execute(text("SELECT from_store_code, status FROM transfer"))
        )


def _order_statuses(engine: Engine, order_ids: list[str]) -> dict[str, tuple[OrderStatus, int]]:
    """order_id -> (status, how many transfers it has)."""
    with engine.connect() as connection:
        rows = connection.execute(
            text(
                "SELECT o.order_id, o.status, (SELECT count(*) FROM transfer t WHERE t.order_pk = o.id) "
                'FROM "order" o WHERE o.order_id = ANY(:ids)'
            ),
            {"ids": order_ids},
        ).all()
    return {r[0]: (OrderStatus(r[1]), int(r[2])) for r in rows}


@pytest.mark.parametrize("send", SENDS)
def test_a_hundred_concurrent_transfer_orders_for_ten_units_at_the_source_reserve_exactly_ten(
    transfer_stores: Engine, send: str
) -> None:
    with (
        _TaskFailures() as failures,
        start_worker(
            celery_app, pool="threads", concurrency=4, perform_ping_check=False, shutdown_timeout=30
        ),
        _LowestAvailable(transfer_stores) as watch,
    ):
        order_ids = _place_concurrently(
            transfer_stores, [[("A", 1)] for _ in range(100)], send, stores=("T1",), allow_transfer=True
        )
        _wait_until_decided(transfer_stores, order_ids)
    assert failures == []
    decided = _order_statuses(transfer_stores, order_ids)
    assert Counter(decided.values()) == {(OrderStatus.reserved, 1): 10, (OrderStatus.rejected, 0): 90}
    assert _transfers(transfer_stores) == {("T2", "planned"): 10}
    stock = _stock(transfer_stores)
    assert stock[("T2", "A")] == (10, 10, 0)  # held at the source, for T1's orders
    assert ("T1", "A") not in stock  # nothing of it at the pickup store, nothing oversold there
    assert all(reserved <= on_hand for on_hand, reserved, _ in stock.values()), stock
    assert watch.lowest >= 0


@pytest.mark.parametrize("send", SENDS)
def test_transfer_orders_in_opposite_directions_finish_without_deadlock(
    transfer_stores: Engine, send: str
) -> None:
    # At T1: its own P and T2's Q; at T2: its own Q and T1's P. Every run locks rows at both stores.
    baskets = [[("P", 1), ("Q", 1)] if i % 2 else [("Q", 1), ("P", 1)] for i in range(60)]
    with (
        _TaskFailures() as failures,
        start_worker(
            celery_app, pool="threads", concurrency=4, perform_ping_check=False, shutdown_timeout=30
        ),
        _LowestAvailable(transfer_stores) as watch,
    ):
        order_ids = _place_concurrently(
            transfer_stores, baskets, send, stores=("T1", "T2"), allow_transfer=True
        )
        _wait_until_decided(transfer_stores, order_ids)
    assert failures == []  # no run failed on a deadlock (the next run of its store would hide it)
    decided = _order_statuses(transfer_stores, order_ids)
    assert Counter(decided.values()) == {(OrderStatus.reserved, 1): 60}
    assert _transfers(transfer_stores) == {("T1", "planned"): 30, ("T2", "planned"): 30}
    stock = _stock(transfer_stores)
    # Each store holds its own sku for its 30 orders and the 30 of the other store.
    assert stock[("T1", "P")] == (100, 60, 0)
    assert stock[("T2", "Q")] == (100, 60, 0)
    assert watch.lowest >= 0

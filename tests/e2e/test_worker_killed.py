"""A worker killed (SIGKILL) in the middle of a reservation: after a new worker starts, the order is
reserved exactly once; a transfer order too (one transfer, its units held once at the source).

The test holds a lock on the stock row, so the worker's reservation is provably inside its transaction
(waiting for that lock, the order row already locked) when the whole worker process group is killed.
PostgreSQL rolls that transaction back; the message was not acknowledged, and the pending sweep of beat
sends the reservation again to the new worker.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from retail.settings import Settings
from tests.e2e.books import check_books, wait_settled
from tests.e2e.conftest import StreamShop
from tests.e2e.processes import reservation_waiting_for_a_lock, running_service, wait_until
from tests.factories import committed_lanes, committed_store, place_order


@dataclass(frozen=True)
class KilledWorkerShop:
    settings: Settings
    order_at: str  # the pickup store
    source: str  # where the order's 2 of A are reserved
    allow_transfer: bool


@pytest.fixture(params=["ordinary", "transfer"])
def killed_worker_store(
    request: pytest.FixtureRequest, pg_engine: Engine, pg_settings: Settings
) -> Iterator[KilledWorkerShop]:
    """An ordinary order: store K1 with 5 of A. A transfer order: K1 lacks A, K2 holds 5 and ships to K1.
    Committed; answers the settings of its database and where the order goes."""
    if request.param == "ordinary":
        with committed_store(pg_engine, "K1", {"A": 5}):
            yield KilledWorkerShop(pg_settings, "K1", "K1", allow_transfer=False)
    else:
        with committed_lanes(pg_engine, {"K1": {"A": 0}, "K2": {"A": 5}}, lanes=[("K2", "K1")]):
            yield KilledWorkerShop(pg_settings, "K1", "K2", allow_transfer=True)


def test_a_killed_worker_leaves_the_order_reserved_exactly_once(
    killed_worker_store: KilledWorkerShop, pg_engine: Engine, tmp_path: Path
) -> None:
    shop = killed_worker_store
    with (
        running_service(shop.settings, tmp_path, serve=False, worker_concurrency=1, beat=True) as service,
        pg_engine.connect() as blocker,
    ):
        hold = blocker.begin()
        blocker.execute(text("SELECT 1 FROM stock FOR UPDATE"))  # the worker will wait here, mid-reservation

        # Place the order through the service with the real task path, pointed at this test's Redis.
        from celery import Celery

        from orders import tasks as orders_tasks

        broker = Celery(broker=service.redis_url)
        order_pk = place_order(
            pg_engine,
            shop.order_at,
            {"A": 2},
            key="killed-worker",
            send=lambda pk: broker.send_task(orders_tasks.reserve_order.name, args=[pk]),
            allow_transfer=shop.allow_transfer,
        ).id

        deadline = time.monotonic() + 60
        while not reservation_waiting_for_a_lock(pg_engine):
            assert time.monotonic() < deadline, "the worker never reached the reservation"
            time.sleep(0.2)
        service.kill_workers()
        hold.rollback()

        service.start_workers()
        status = "pending"
        deadline = time.monotonic() + 120
        while status == "pending" and time.monotonic() < deadline:
            time.sleep(1)
            with pg_engine.connect() as connection:
                status = connection.execute(
                    text('SELECT status FROM "order" WHERE id = :id'), {"id": order_pk}
                ).scalar_one()
        assert status == "reserved"
        time.sleep(20)  # past another pending sweep: nothing may reserve it a second time
        with pg_engine.connect() as connection:
            reserved: dict[str, int] = dict(
                connection.execute(
                    text("SELECT st.code, s.reserved FROM stock s JOIN store st ON st.id = s.store_id")
                ).all()
            )
            events = connection.execute(
                text("SELECT count(*) FROM order_event WHERE order_pk = :id AND status = 'reserved'"),
                {"id": order_pk},
            ).scalar_one()
            transfers = connection.execute(
                text("SELECT from_store_code FROM transfer WHERE order_pk = :id"), {"id": order_pk}
            ).all()
        # The units held once, at the source (a transfer order's pickup store has no row of A at all).
        assert (reserved, events) == ({shop.source: 2}, 1)
        assert [t[0] for t in transfers] == ([shop.source] if shop.allow_transfer else [])
        check_books(pg_engine, counts={(shop.source, "A"): 5})


def test_workers_killed_mid_reservation_under_a_stream_of_orders_leave_the_books_balanced(
    stream_shop: StreamShop, pg_engine: Engine, tmp_path: Path
) -> None:
    with running_service(stream_shop.settings, tmp_path, worker_concurrency=2, beat=True) as service:
        stream = stream_shop.order_stream(service.base).start()
        for _ in range(3):
            stream.wait_for(8)
            # Hold every stock row for a moment: the next reservation then provably waits inside its
            # transaction when the worker, pool and all, is killed.
            with pg_engine.connect() as blocker:
                hold = blocker.begin()
                blocker.execute(text("SELECT 1 FROM stock ORDER BY store_id, product_id FOR UPDATE"))
                wait_until(
                    lambda: reservation_waiting_for_a_lock(pg_engine), timeout=60, what="a reservation"
                )
                service.kill_workers()
                hold.rollback()
            service.start_workers()
        stream.wait_for(8)
        outcome = stream.stop()
        wait_settled(pg_engine)
        books = check_books(pg_engine, counts=stream_shop.counts, accepted=outcome.accepted)
    assert (outcome.unclean, outcome.hung, outcome.refused) == ([], [], 0)
    assert books.orders == len(outcome.accepted)
    assert books.by_status.get("reserved", 0) > 0

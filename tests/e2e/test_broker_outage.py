"""Redis stopped and started again: orders are still accepted (202) meanwhile, the `retail worker`
processes ride the outage out, and every order is decided once Redis is back.

Everything runs as it does in production, each in its own process: `retail serve`, `retail worker` and
`retail beat`, against the test PostgreSQL database and a Redis server of this test's own (so stopping it
disturbs nothing else).

A worker under load has a task running (unacknowledged) and a read from the broker in flight when Redis
goes; celery 5.7.0 then failed to close the lost connection and the worker exited ("Unrecoverable error:
AttributeError: 'NoneType' object has no attribute 'hostname'"), leaving every later order pending. The
tests hold a reservation inside its transaction, by a lock on its store's stock rows, at the moment Redis
stops, so that state is certain rather than likely.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, text

from retail.settings import Settings
from tests.e2e.books import check_books, wait_settled
from tests.e2e.conftest import StreamShop
from tests.e2e.processes import (
    ServiceProcesses,
    reservation_waiting_for_a_lock,
    running_service,
    wait_serving,
    wait_until,
)
from tests.factories import committed_store, order_body

OUTAGE_S = 20


@pytest.fixture
def outage_store(pg_engine: Engine, pg_settings: Settings) -> Iterator[Settings]:
    """Store R1 with 20 of A, committed; answers the settings of its database."""
    with committed_store(pg_engine, "R1", {"A": 20}):
        yield pg_settings


def _place(base: str, store_code: str, sku: str, quantity: int, *, key: str) -> dict[str, Any]:
    accepted = httpx.post(
        f"{base}/mobile/v1/orders",
        json=order_body(store_code, {sku: quantity}),
        headers={"Idempotency-Key": key},
        timeout=60,
    )
    assert accepted.status_code == 202, accepted.text
    return dict(accepted.json())


def _status(base: str, order: dict[str, Any]) -> str:
    answer = httpx.get(
        f"{base}{order['status_url']}", headers={"Authorization": f"Bearer {order['order_token']}"}
    )
    return str(answer.json()["status"])


@contextmanager
def _reservation_held(
    engine: Engine, service: ServiceProcesses, store_code: str, sku: str, *, key: str
) -> Iterator[dict[str, Any]]:
    """An order of `store_code` whose reservation is running, held inside its transaction by a lock on the
    store's stock rows until the block ends; yields the order as `POST /orders` answered it."""
    with engine.connect() as blocker:
        hold = blocker.begin()
        blocker.execute(
            text(
                "SELECT 1 FROM stock WHERE store_id = (SELECT id FROM store WHERE code = :code) "
                "ORDER BY product_id FOR UPDATE"
            ),
            {"code": store_code},
        )
        blocker_pid = int(blocker.execute(text("SELECT pg_backend_pid()")).scalar_one())
        order = _place(service.base, store_code, sku, 1, key=key)
        wait_until(
            lambda: reservation_waiting_for_a_lock(engine, held_by=blocker_pid),
            timeout=60,
            what=f"the reservation of {key} to wait for the lock",
        )
        try:
            yield order
        finally:
            hold.rollback()  # the reservation goes on and commits


def _assert_workers_alive(service: ServiceProcesses, workdir: Path) -> None:
    logs = {p.name: p.read_text(errors="replace") for p in workdir.glob("worker-*.log")}
    dead = service.dead_workers()
    assert dead == {}, f"workers exited: {dead}\n" + "\n".join(f"{n}:\n{t[-3000:]}" for n, t in logs.items())
    assert [name for name, log in logs.items() if "Unrecoverable error" in log] == []


def _wait_decided(service: ServiceProcesses, workdir: Path, order: dict[str, Any]) -> str:
    """The order's status once it is no longer pending; fails at once if a worker has exited."""
    deadline = time.monotonic() + 90
    while (status := _status(service.base, order)) == "pending":
        _assert_workers_alive(service, workdir)
        assert time.monotonic() < deadline, f"{order['order_id']} still pending"
        time.sleep(0.5)
    return status


RESTARTS = 2


def test_a_worker_mid_task_rides_out_redis_restarts_and_orders_accepted_meanwhile_are_reserved(
    outage_store: Settings, pg_engine: Engine, tmp_path: Path
) -> None:
    """Each time Redis stops, the worker has a reservation running; after each restart it reserves a new
    order, and the orders accepted while Redis was down are reserved too (by the pending sweep)."""
    with running_service(outage_store, tmp_path, worker_concurrency=2, beat=True) as service:
        base = service.base
        # Ready, not only serving: the 503 below must come from the broker going away and nothing else.
        wait_serving(base, probe="/readyz")
        orders: dict[str, dict[str, Any]] = {}
        for restart in range(RESTARTS):
            with _reservation_held(pg_engine, service, "R1", "A", key=f"held-{restart}") as held:
                service.stop_redis()  # the broker goes away while the worker is mid-task
            orders[f"held-{restart}"] = held
            assert httpx.get(f"{base}/readyz").status_code == 503
            orders[f"outage-{restart}"] = accepted = _place(base, "R1", "A", 2, key=f"outage-{restart}")
            assert _status(base, accepted) == "pending"

            service.start_redis()  # and comes back
            wait_serving(base, probe="/readyz")
            after = orders[f"after-{restart}"] = _place(base, "R1", "A", 1, key=f"after-{restart}")
            assert _wait_decided(service, tmp_path, after) == "reserved"

        statuses = {key: _wait_decided(service, tmp_path, order) for key, order in orders.items()}
        _assert_workers_alive(service, tmp_path)
        assert statuses == dict.fromkeys(orders, "reserved")
        books = check_books(
            pg_engine,
            counts={("R1", "A"): 20},
            accepted={key: order["order_id"] for key, order in orders.items()},
        )
    assert books.by_status == {"reserved": 3 * RESTARTS}


def test_two_workers_ride_out_a_redis_outage_under_a_stream_of_orders(
    stream_shop: StreamShop, pg_engine: Engine, tmp_path: Path
) -> None:
    """Redis stopped for 20 s while orders stream in, then started again: both `retail worker` processes
    are still running afterwards, every order (those placed after the restart too) is decided, and the
    books balance. The held reservation is of a second store, so the stream's own go on meanwhile."""
    with (
        committed_store(pg_engine, "H1", {"H": 5}),
        running_service(
            stream_shop.settings, tmp_path, worker_concurrency=3, workers=2, beat=True
        ) as service,
    ):
        wait_serving(service.base, probe="/readyz")
        stream = stream_shop.order_stream(service.base).start()
        stream.wait_for(10)
        with _reservation_held(pg_engine, service, "H1", "H", key="held-1") as held:
            service.stop_redis()
            before_outage = stream.accepted
        time.sleep(OUTAGE_S)
        during_outage = stream.accepted - before_outage
        service.start_redis()
        after_restart = stream.accepted
        stream.wait_for(20)  # placed after Redis came back: these need a living worker
        outcome = stream.stop()
        _assert_workers_alive(service, tmp_path)
        wait_settled(pg_engine)
        _assert_workers_alive(service, tmp_path)
        held_status = _status(service.base, held)
        books = check_books(
            pg_engine,
            counts={**stream_shop.counts, ("H1", "H"): 5},
            accepted={**outcome.accepted, "held-1": held["order_id"]},
        )
    assert held_status == "reserved"
    assert during_outage >= 10
    assert len(outcome.accepted) >= after_restart + 20
    assert (outcome.unclean, outcome.hung, outcome.refused) == ([], [], 0)
    assert set(outcome.statuses) <= {200, 202, 409}, outcome.statuses
    assert books.orders == len(outcome.accepted) + 1
    assert books.by_status.get("reserved", 0) > 0

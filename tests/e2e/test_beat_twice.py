"""Beat running twice: every periodic sweep delivered twice at the same moment (two schedulers, or a
tick redelivered). Nothing may be expired twice, released twice, reserved twice or notified twice.

Each round places orders, lets some expire and leaves some pending past the grace period, then runs the
expiry sweep, the pending sweep and the notification delivery twice each, all six at once, as the tasks
do (each in its own transaction); the books are checked after every round.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar

import pytest
from sqlalchemy import Engine, text
from sqlmodel import Session

from orders import lifecycle, notifications, service, sweeps
from orders.models import OrderStatus
from retail.clock import utcnow
from retail.db import session_scope
from retail.settings import get_settings
from tests.e2e.books import check_books
from tests.factories import committed_store, place_order, reserved_order

STOCK = {"A": 200, "B": 200}
ROUNDS = 4
READY, PENDING = 8, 4


class Receiver(BaseHTTPRequestHandler):
    events: ClassVar[list[str]] = []
    lock: ClassVar[threading.Lock] = threading.Lock()

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers["content-length"]))
        with Receiver.lock:
            Receiver.events.append(self.headers["X-Winkelpunt-Event"])
        self.send_response(204)
        self.end_headers()

    def log_message(self, *_args: Any) -> None:
        pass


@pytest.fixture
def webhook_events(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """A receiver on this machine, the settings' webhook while the test runs; answers the event ids it
    received, as it receives them."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    Receiver.events = []
    monkeypatch.setattr(get_settings(), "webhook_url", f"http://127.0.0.1:{server.server_port}/hook")
    yield Receiver.events
    server.shutdown()


@pytest.fixture
def beat_store(pg_engine: Engine) -> Iterator[Engine]:
    """The test database with store E1 and `STOCK`, committed."""
    with committed_store(pg_engine, "E1", STOCK):
        yield pg_engine


def _ready_and_overdue(engine: Engine, key: str) -> int:
    """An order reserved, marked ready, and past its pickup deadline."""
    order = reserved_order(engine, "E1", {"A": 2, "B": 1}, key=key)
    assert order.id is not None
    with session_scope(engine) as session:
        locked = lifecycle.lock_order(session, order.id)
        assert locked is not None
        assert locked.status == OrderStatus.reserved
        locked.expires_at = utcnow() - timedelta(minutes=5)
        lifecycle.transition(session, locked, OrderStatus.ready_for_pickup, utcnow() - timedelta(hours=1))
    return int(order.id)


def _pending_too_long(engine: Engine, key: str) -> int:
    """An order whose reservation task was lost: still pending past the grace period."""
    order = place_order(engine, "E1", {"B": 3}, key=key)
    assert order.id is not None
    with engine.begin() as connection:
        connection.execute(
            text('UPDATE "order" SET created_at = created_at - :age WHERE id = :id'),
            {"age": sweeps.PENDING_GRACE * 2, "id": order.id},
        )
    return int(order.id)


def _reserve(engine: Engine) -> Callable[[int], None]:
    # What the worker does with a reservation the sweep sends.
    def send(order_pk: int) -> None:
        with session_scope(engine) as session:
            service.reserve_order(session, order_pk=order_pk)

    return send


def _twice_at_once(jobs: list[Callable[[], object]]) -> list[object]:
    barrier = threading.Barrier(len(jobs))
    results: list[object] = [None] * len(jobs)
    errors: list[BaseException] = []

    def run(index: int) -> None:
        barrier.wait()
        try:
            results[index] = jobs[index]()
        except BaseException as exc:  # reported below, in the test's thread
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(jobs))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors
    return results


def _events(engine: Engine, status: OrderStatus) -> Counter[int]:
    with engine.connect() as connection:
        rows = connection.execute(
            text("SELECT order_pk FROM order_event WHERE status = :s"), {"s": status.value}
        ).scalars()
        return Counter(int(pk) for pk in rows)


def test_sweeps_and_deliveries_run_twice_at_once_act_once(
    beat_store: Engine, webhook_events: list[str]
) -> None:
    for round_ in range(ROUNDS):
        ready = {_ready_and_overdue(beat_store, f"ready-{round_}-{n}") for n in range(READY)}
        pending = {_pending_too_long(beat_store, f"pending-{round_}-{n}") for n in range(PENDING)}

        def expire() -> list[int]:
            with session_scope(beat_store) as session:
                return sweeps.expire_ready(session)

        def sweep() -> list[int]:
            with session_scope(beat_store) as session:
                return sweeps.sweep_pending(session, send=_reserve(beat_store))

        def deliver() -> int:
            return notifications.deliver_due(beat_store)

        expired_a, expired_b, _, _, _, _ = _twice_at_once([expire, expire, sweep, sweep, deliver, deliver])
        assert isinstance(expired_a, list)
        assert isinstance(expired_b, list)
        # Each order expired by exactly one of the two sweeps, and every due one by some sweep.
        assert sorted(expired_a + expired_b) == sorted(ready)
        assert all(n == 1 for pk, n in _events(beat_store, OrderStatus.expired).items() if pk in ready)
        assert {
            pk for pk, n in _events(beat_store, OrderStatus.reserved).items() if pk in pending and n == 1
        } == pending
        while notifications.deliver_due(beat_store):
            pass
        check_books(beat_store, counts={("E1", sku): n for sku, n in STOCK.items()})

    with Session(beat_store) as session:
        outbox = [str(e) for e in session.execute(text("SELECT event_id FROM notification")).scalars()]
    repeated = [event for event, n in Counter(webhook_events).items() if n > 1]
    assert repeated == [], "notifications delivered twice"
    assert sorted(webhook_events) == sorted(outbox)

"""The periodic sweeps: pending orders sent again, expiry, reminders and the reconciliation of `reserved`.

The logic runs in rolled-back transactions on both databases; the task and concurrency paths use committed
PostgreSQL data and a real Celery worker over Redis, as tests/orders/test_reservation_worker.py does.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from celery.contrib.testing.worker import start_worker
from sqlalchemy import Engine, text
from sqlmodel import Session, select

from inventory import feed_log as inventory_feed_log
from inventory import reconciliation as inventory_reconciliation
from inventory.models import Product
from orders import service as orders_service
from orders import sweeps
from orders import tasks as orders_tasks
from orders.models import Order, OrderStatus
from retail.celery_app import BEAT_SCHEDULE, celery_app
from retail.clock import utcnow
from retail.db import make_engine
from stores.models import Store
from tests.factories import (
    apply_counts,
    count_row,
    count_stock,
    empty_tables,
    make_product,
    make_products,
    make_stores,
    place_order,
    product_row,
    reserved_order,
    store_row,
)

BOTH_DATABASES = pytest.mark.parametrize("engine", ["postgresql", "sqlite"], indirect=True)

COUNTS = {("S1", "A"): 10, ("S1", "B"): 20, ("S1", "C"): 5, ("S2", "A"): 8}


def _build_stores(session: Session) -> None:
    """Stores S1 (Utrecht) and S2 (Amsterdam), open around the clock, with A, B and C (2.50 each) counted
    as `COUNTS`. Orders placed here are sent nowhere (as if the broker was down): the tests reserve them."""
    make_stores(
        session,
        [
            store_row(code, always_open=True, location=location)
            for code, location in (("S1", {"lat": 52.09, "lon": 5.12}), ("S2", {"lat": 52.37, "lon": 4.89}))
        ],
    )
    make_products(session, [product_row(sku, price="2.50") for sku in ("A", "B", "C")])
    result = apply_counts(session, [count_row(store, sku, n) for (store, sku), n in COUNTS.items()])
    assert result.applied == len(COUNTS)


@pytest.fixture
def sweep_stores(session: Session) -> Session:
    """The test's session with `_build_stores`."""
    _build_stores(session)
    return session


def _make_ready(session: Session, order: Order, *, expires_at: datetime | None) -> None:
    # The staff "ready" step sets exactly these two fields.
    order.status = OrderStatus.ready_for_pickup
    order.expires_at = expires_at
    session.add(order)
    session.flush()


def _stock(session: Session, store: str, sku: str) -> tuple[int, int]:
    row = session.execute(
        text(
            "SELECT s.on_hand, s.reserved FROM stock s JOIN store st ON st.id = s.store_id "
            "JOIN product p ON p.id = s.product_id WHERE st.code = :store AND p.sku = :sku"
        ),
        {"store": store, "sku": sku},
    ).one()
    return int(row.on_hand), int(row.reserved)


def _history(session: Session, order: Order) -> list[str]:
    return [OrderStatus(e.status).value for e in orders_service.history(session, order=order)]


def _ids(session: Session, store: str, sku: str) -> tuple[int, int]:
    store_id = session.exec(select(Store.id).where(Store.code == store)).one()
    product_id = session.exec(select(Product.id).where(Product.sku == sku)).one()
    assert store_id is not None
    assert product_id is not None
    return store_id, product_id


# ------------------------------------------------------------------------------------------------ pending


@BOTH_DATABASES
def test_a_stale_pending_order_is_sent_again_once_per_sweep_and_a_fresh_one_is_not(
    sweep_stores: Session,
) -> None:
    now = utcnow()
    stale = place_order(sweep_stores, "S1", {"A": 1}, key="stale")
    fresh = place_order(sweep_stores, "S1", {"A": 1}, key="fresh")
    reserved = reserved_order(sweep_stores, "S1", {"B": 1}, key="reserved")
    stale.created_at = now - timedelta(seconds=31)
    fresh.created_at = now - timedelta(seconds=29)
    reserved.created_at = now - timedelta(minutes=5)  # old, but no longer pending
    sweep_stores.add_all([stale, fresh, reserved])
    sweep_stores.flush()

    sent: list[int] = []
    assert sweeps.sweep_pending(sweep_stores, send=sent.append, now=now) == [stale.id]
    assert sent == [stale.id]
    sweeps.sweep_pending(sweep_stores, send=sent.append, now=now)
    assert sent == [stale.id, stale.id]
    # The sweep only sends: the order's state is the task's business.
    sweep_stores.refresh(stale)
    assert stale.status == OrderStatus.pending
    assert _stock(sweep_stores, "S1", "A") == (10, 0)


@BOTH_DATABASES
def test_the_pending_sweep_is_bounded_and_takes_the_oldest_first(sweep_stores: Session) -> None:
    now = utcnow()
    orders = [place_order(sweep_stores, "S1", {"A": 1}, key=f"k{i}") for i in range(3)]
    for age, order in zip((40, 90, 60), orders, strict=True):
        order.created_at = now - timedelta(seconds=age)
        sweep_stores.add(order)
    sweep_stores.flush()

    sent: list[int] = []
    assert sweeps.sweep_pending(sweep_stores, send=sent.append, now=now, limit=2) == [
        orders[1].id,
        orders[2].id,
    ]
    assert sent == [orders[1].id, orders[2].id]


# ------------------------------------------------------------------------------------------------- expiry


@BOTH_DATABASES
def test_an_expired_ready_order_expires_and_releases_its_stock(sweep_stores: Session) -> None:
    now = utcnow()
    due = reserved_order(sweep_stores, "S1", {"A": 2, "B": 3}, key="due")
    later = reserved_order(sweep_stores, "S1", {"A": 1}, key="later")
    undated = reserved_order(sweep_stores, "S1", {"B": 1}, key="undated")
    collected = reserved_order(sweep_stores, "S1", {"C": 1}, key="collected")
    cancelled = reserved_order(sweep_stores, "S1", {"C": 2}, key="cancelled")
    token = orders_service.order_token(cancelled.order_id)
    _make_ready(sweep_stores, due, expires_at=now - timedelta(seconds=1))
    _make_ready(sweep_stores, later, expires_at=now + timedelta(hours=1))
    _make_ready(sweep_stores, undated, expires_at=None)
    _make_ready(sweep_stores, collected, expires_at=now - timedelta(hours=1))
    _make_ready(sweep_stores, cancelled, expires_at=now - timedelta(hours=1))
    orders_service.cancel_order(sweep_stores, order_id=cancelled.order_id, token=token)
    collected.status = OrderStatus.collected  # as if handed over before the sweep
    sweep_stores.add(collected)
    sweep_stores.flush()
    assert _stock(sweep_stores, "S1", "A") == (10, 3)
    assert _stock(sweep_stores, "S1", "B") == (20, 4)
    assert _stock(sweep_stores, "S1", "C") == (5, 1)

    assert sweeps.expire_ready(sweep_stores, now=now) == [due.id]

    sweep_stores.refresh(due)
    assert due.status == OrderStatus.expired
    assert _history(sweep_stores, due) == ["pending", "reserved", "expired"]
    assert _stock(sweep_stores, "S1", "A") == (10, 1)  # the later order's unit is still held
    assert _stock(sweep_stores, "S1", "B") == (20, 1)
    assert _stock(sweep_stores, "S1", "C") == (5, 1)  # the collected order's line is not released again
    for order, status in (
        (later, OrderStatus.ready_for_pickup),
        (undated, OrderStatus.ready_for_pickup),
        (collected, OrderStatus.collected),
        (cancelled, OrderStatus.cancelled),
    ):
        sweep_stores.refresh(order)
        assert order.status == status
        assert "expired" not in _history(sweep_stores, order)

    # A second sweep finds nothing left to do.
    assert sweeps.expire_ready(sweep_stores, now=now) == []
    assert _stock(sweep_stores, "S1", "A") == (10, 1)
    assert _history(sweep_stores, due) == ["pending", "reserved", "expired"]


@BOTH_DATABASES
def test_expiry_releases_orders_of_several_stores_sharing_products(sweep_stores: Session) -> None:
    now = utcnow()
    first = reserved_order(sweep_stores, "S1", {"A": 1, "B": 1}, key="first")
    second = reserved_order(sweep_stores, "S1", {"A": 2}, key="second")
    other_store = reserved_order(sweep_stores, "S2", {"A": 3}, key="other")
    for order in (first, second, other_store):
        _make_ready(sweep_stores, order, expires_at=now - timedelta(minutes=1))

    assert sweeps.expire_ready(sweep_stores, now=now) == [first.id, second.id, other_store.id]
    assert _stock(sweep_stores, "S1", "A") == (10, 0)
    assert _stock(sweep_stores, "S1", "B") == (20, 0)
    assert _stock(sweep_stores, "S2", "A") == (8, 0)


@BOTH_DATABASES
def test_reconciliation_repairs_drifted_rows_reports_them_and_leaves_correct_rows_alone(
    sweep_stores: Session, caplog: pytest.LogCaptureFixture
) -> None:
    now = utcnow()
    reserved_order(sweep_stores, "S1", {"A": 2, "B": 1}, key="held")
    ready = reserved_order(sweep_stores, "S1", {"B": 4}, key="ready")
    _make_ready(sweep_stores, ready, expires_at=now + timedelta(hours=72))
    place_order(sweep_stores, "S1", {"A": 5}, key="pending")  # pending orders hold nothing
    s1, a = _ids(sweep_stores, "S1", "A")
    _, c = _ids(sweep_stores, "S1", "C")
    # Corrupt two rows; mark every row so that a write by the reconciliation shows.
    sweep_stores.execute(text("UPDATE stock SET feed_xid = 0"))
    sweep_stores.execute(
        text("UPDATE stock SET reserved = 7 WHERE store_id = :s AND product_id = :p"), {"s": s1, "p": a}
    )
    sweep_stores.execute(
        text("UPDATE stock SET reserved = 3 WHERE store_id = :s AND product_id = :p"), {"s": s1, "p": c}
    )
    before = {
        (r.store_id, r.product_id): r.changed_at
        for r in sweep_stores.execute(text("SELECT store_id, product_id, changed_at FROM stock"))
    }
    expected = [
        inventory_reconciliation.ReservedDrift(s1, a, was=7, now=2),
        inventory_reconciliation.ReservedDrift(s1, c, was=3, now=0),
    ]

    assert sweeps.reconcile_reserved(sweep_stores, dry_run=True) == expected
    assert _stock(sweep_stores, "S1", "A") == (10, 7)
    assert _stock(sweep_stores, "S1", "C") == (5, 3)
    assert sweep_stores.execute(text("SELECT count(*) FROM stock WHERE feed_xid <> 0")).scalar_one() == 0

    with caplog.at_level(logging.WARNING, logger="orders.sweeps"):
        assert sweeps.reconcile_reserved(sweep_stores) == expected

    assert _stock(sweep_stores, "S1", "A") == (10, 2)
    assert _stock(sweep_stores, "S1", "B") == (20, 5)
    assert _stock(sweep_stores, "S1", "C") == (5, 0)
    xid = (
        inventory_feed_log.feed_xid(sweep_stores)
        if sweep_stores.get_bind().dialect.name == "postgresql"
        else None
    )
    rows = {
        (r.store_id, r.product_id): r
        for r in sweep_stores.execute(text("SELECT store_id, product_id, feed_xid, changed_at FROM stock"))
    }
    written = {key for key, row in rows.items() if row.feed_xid != 0}
    assert written == {(s1, a), (s1, c)}
    if xid is not None:  # PostgreSQL: stamped with this transaction's id, as every stock write is
        assert {rows[key].feed_xid for key in written} == {xid}
    assert all(rows[key].changed_at != before[key] for key in written)
    assert all(rows[key].changed_at == before[key] for key in rows.keys() - written)
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert [r.getMessage() for r in warnings] == [
        f"stock of store {s1} product {a}: reserved was 7, the live reservations hold 2; repaired",
        f"stock of store {s1} product {c}: reserved was 3, the live reservations hold 0; repaired",
    ]

    assert sweeps.reconcile_reserved(sweep_stores) == []


@BOTH_DATABASES
def test_reconciliation_of_consistent_stock_writes_nothing(sweep_stores: Session) -> None:
    reserved_order(sweep_stores, "S1", {"A": 2}, key="held")
    sweep_stores.execute(text("UPDATE stock SET feed_xid = 0"))

    assert sweeps.reconcile_reserved(sweep_stores) == []
    assert sweep_stores.execute(text("SELECT count(*) FROM stock WHERE feed_xid <> 0")).scalar_one() == 0


# ------------------------------------------------------------------------- tasks, beat and concurrency


def test_the_beat_schedule_runs_each_sweep_task() -> None:
    schedule = {name: (entry["task"], entry["schedule"]) for name, entry in BEAT_SCHEDULE.items()}
    assert schedule == {
        "orders.sweep_pending": ("orders.sweep_pending", 15.0),
        "orders.expire_ready": ("orders.expire_ready", 60.0),
        "orders.mark_late": ("orders.mark_late", 60.0),
        "orders.reconcile_reserved": ("orders.reconcile_reserved", 600.0),
        "orders.deliver_notifications": ("orders.deliver_notifications", 5.0),
        "inventory.prune_change_log": ("inventory.prune_change_log", 300.0),
        "orders.prune_idempotency_keys": ("orders.prune_idempotency_keys", 3600.0),
        "orders.prune_desk_events": ("orders.prune_desk_events", 600.0),
        "orders.derive_messages": ("orders.derive_messages", 5.0),
        "orders.sweep_messages": ("orders.sweep_messages", 30.0),
        "orders.refresh_store_figures": ("orders.refresh_store_figures", 600.0),
    }
    # Each entry is put there by its task's own module, which the composition root imports for `retail
    # serve`'s schedule, a worker and beat alike.
    assert {task for task, _ in schedule.values()} <= set(celery_app.tasks)
    assert {entry["options"]["expires"] for entry in BEAT_SCHEDULE.values()} == {
        seconds for _, seconds in schedule.values()
    }


@pytest.fixture
def committed_sweep_stores(pg_engine: Engine) -> Iterator[Engine]:
    """The test database with `_build_stores`, committed, and the broker's queue empty; emptied afterwards."""
    with Session(pg_engine) as session:
        _build_stores(session)
        session.commit()
    celery_app.control.purge()
    yield pg_engine
    empty_tables(pg_engine)


def _committed(engine: Engine, work: Callable[[Session], Any]) -> Any:
    with Session(engine, expire_on_commit=False) as session:
        result = work(session)
        session.commit()
    return result


def _wait_for(engine: Engine, order_pk: int, status: OrderStatus, timeout_s: float = 60) -> OrderStatus:
    deadline = time.monotonic() + timeout_s
    while True:
        with Session(engine) as session:
            order = session.get(Order, order_pk)
            assert order is not None
            if order.status == status or time.monotonic() > deadline:
                return OrderStatus(order.status)
        time.sleep(0.1)


def _worker() -> Any:
    # One thread: a task sent by a sweep runs only after the sweep finished.
    return start_worker(
        celery_app, pool="threads", concurrency=1, perform_ping_check=False, shutdown_timeout=30
    )


def test_the_pending_sweep_task_sends_a_lost_order_again_and_a_real_worker_reserves_it(
    committed_sweep_stores: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    stale = place_order(committed_sweep_stores, "S1", {"A": 3}, key="lost")
    fresh = place_order(committed_sweep_stores, "S1", {"A": 1}, key="fresh")
    assert stale.id is not None
    assert fresh.id is not None
    with committed_sweep_stores.begin() as connection:
        connection.execute(
            text("UPDATE \"order\" SET created_at = created_at - interval '1 minute' WHERE id = :id"),
            {"id": stale.id},
        )
    sent: list[int] = []
    real_send = orders_tasks.send_reservation

    def spy(order_pk: int) -> None:
        sent.append(order_pk)
        real_send(order_pk)

    monkeypatch.setattr(orders_tasks, "send_reservation", spy)

    with _worker():
        orders_tasks.sweep_pending.delay()
        assert _wait_for(committed_sweep_stores, stale.id, OrderStatus.reserved) == OrderStatus.reserved

    assert sent == [stale.id]
    # The fresh order was not sent again, but the run that reserved the stale one drains the store's other
    # pending orders in the same transaction (a batch), so it is decided as well, and counted once.
    assert (
        _wait_for(committed_sweep_stores, fresh.id, OrderStatus.reserved, timeout_s=0) == OrderStatus.reserved
    )
    with Session(committed_sweep_stores) as session:
        assert _stock(session, "S1", "A") == (10, 4)


def test_the_expiry_task_on_a_real_worker_expires_and_releases(committed_sweep_stores: Engine) -> None:
    def prepare(session: Session) -> Order:
        order = reserved_order(session, "S1", {"A": 2, "B": 1}, key="due")
        _make_ready(session, order, expires_at=utcnow() - timedelta(minutes=1))
        return order

    order = _committed(committed_sweep_stores, prepare)

    with _worker():
        orders_tasks.expire_ready.delay()
        assert _wait_for(committed_sweep_stores, order.id, OrderStatus.expired) == OrderStatus.expired

    with Session(committed_sweep_stores) as session:
        assert _stock(session, "S1", "A") == (10, 0)
        assert _stock(session, "S1", "B") == (20, 0)
        assert _history(session, order) == ["pending", "reserved", "expired"]


def test_two_expiry_sweeps_at_once_expire_each_order_once(committed_sweep_stores: Engine) -> None:
    now = utcnow()

    def prepare(session: Session) -> list[int]:
        pks = []
        for i in range(20):
            order = reserved_order(session, "S1", {"B": 1} if i % 2 else {"A": 1, "B": 1}, key=f"o{i}")
            _make_ready(session, order, expires_at=now - timedelta(minutes=1))
            assert order.id is not None
            pks.append(order.id)
        return pks

    pks = _committed(committed_sweep_stores, prepare)
    with Session(committed_sweep_stores) as session:
        assert _stock(session, "S1", "A") == (10, 10)
        assert _stock(session, "S1", "B") == (20, 20)
    barrier = threading.Barrier(2)
    results: list[list[int]] = []
    errors: list[BaseException] = []

    def sweep() -> None:
        try:
            with Session(committed_sweep_stores) as session:
                barrier.wait()
                results.append(sweeps.expire_ready(session, now=now))
                session.commit()
        except BaseException as exc:  # reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=sweep) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    assert sorted(results[0] + results[1]) == sorted(pks)  # every order once, by one sweep or the other
    with Session(committed_sweep_stores) as session:
        assert _stock(session, "S1", "A") == (10, 0)
        assert _stock(session, "S1", "B") == (20, 0)
        events = session.execute(
            text("SELECT order_pk, count(*) FROM order_event WHERE status = 'expired' GROUP BY order_pk")
        ).all()
        assert sorted(events) == [(pk, 1) for pk in sorted(pks)]


def test_reconciliation_waits_for_a_reservation_in_flight_and_keeps_its_units(
    committed_sweep_stores: Engine,
) -> None:
    reserved_order(committed_sweep_stores, "S1", {"A": 2}, key="held")
    pending = place_order(committed_sweep_stores, "S1", {"A": 1}, key="in-flight")
    assert pending.id is not None
    with committed_sweep_stores.begin() as connection:
        connection.execute(
            text(
                "UPDATE stock SET reserved = 7 WHERE product_id = (SELECT id FROM product WHERE sku = 'A') "
                "AND store_id = (SELECT id FROM store WHERE code = 'S1')"
            )
        )

    # A reservation holds the row (reserved 7 -> 8) and has not committed when the reconciliation starts.
    reserving = Session(committed_sweep_stores)
    assert orders_service.reserve_order(reserving, order_pk=pending.id) == OrderStatus.reserved
    outcome: list[list[inventory_reconciliation.ReservedDrift]] = []

    def reconcile() -> None:
        with Session(committed_sweep_stores) as session:
            outcome.append(sweeps.reconcile_reserved(session))
            session.commit()

    thread = threading.Thread(target=reconcile)
    thread.start()
    time.sleep(1.0)  # the reconciliation found the drift and now waits for the row
    assert thread.is_alive()
    reserving.commit()
    reserving.close()
    thread.join(timeout=30)

    with Session(committed_sweep_stores) as session:
        s1, a = _ids(session, "S1", "A")
        # Both live reservations count (2 + 1); the old count (2) would have dropped the new unit.
        assert outcome == [[inventory_reconciliation.ReservedDrift(s1, a, was=8, now=3)]]
        assert _stock(session, "S1", "A") == (10, 3)


# -------------------------------------------------------------------------------------------------- CLI


def test_retail_stock_check_reports_and_repairs_drift_on_sqlite(tmp_path: Path) -> None:
    db = tmp_path / "w.db"
    env = {k: v for k, v in os.environ.items() if not k.startswith("RETAIL_")}
    env["RETAIL_DATABASE_URL"] = f"sqlite:///{db}"

    def retail(*args: str) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [sys.executable, "-m", "app", *args], env=env, capture_output=True, text=True, timeout=120
        )
        assert result.returncode == 0, result.stderr
        return result

    retail("db", "upgrade")
    stores_file = tmp_path / "stores.json"
    stores_file.write_text(json.dumps([store_row("S1", always_open=True)]))
    retail("stores", "import", str(stores_file))
    engine = make_engine(f"sqlite:///{db}")
    try:
        with Session(engine) as session:
            make_product(session, "A", price="2.50")
            count_stock(session, "S1", {"A": 10})
            reserved_order(session, "S1", {"A": 2}, key="held")
            session.execute(text("UPDATE stock SET reserved = 9"))
            session.commit()

        checked = retail("stock", "check", "--dry-run")
        assert checked.stdout == "S1 A: reserved 9 -> 2\n"
        assert "1 stock rows drifted (dry run: nothing written)" in checked.stderr
        with Session(engine) as session:
            assert _stock(session, "S1", "A") == (10, 9)

        repaired = retail("stock", "check")
        assert repaired.stdout == "S1 A: reserved 9 -> 2\n"
        assert "1 stock rows repaired" in repaired.stderr
        with Session(engine) as session:
            assert _stock(session, "S1", "A") == (10, 2)

        clean = retail("stock", "check")
        assert clean.stdout == ""
        assert "no drift" in clean.stderr
    finally:
        engine.dispose()

"""The availability feed loses no change while writers commit in any order (real PostgreSQL transactions)."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Iterator

import pytest
from sqlalchemy import Connection, Engine, text
from sqlmodel import Session

from inventory import service as inventory_service
from inventory import stock as inventory_stock
from tests.conftest import committed_catalogue

SKUS = [f"C{i}" for i in range(300)]


@pytest.fixture
def catalogue(pg_engine: Engine) -> Iterator[Engine]:
    with committed_catalogue(pg_engine, SKUS) as engine:
        yield engine


def test_a_poller_sees_the_final_state_of_every_row_while_writers_commit_out_of_order(
    catalogue: Engine,
) -> None:
    engine = catalogue
    failures: list[BaseException] = []

    # Every (store, sku) is written exactly once, so a change the feed skips is never repaired by a later
    # write of the same row: it would simply be missing.
    keys = iter([(store, sku) for sku in SKUS for store in ("S1", "S2")])
    keys_lock = threading.Lock()

    def writer(seed: int) -> None:
        rng = random.Random(seed)
        try:
            while True:
                with keys_lock:
                    batch = [key for key in (next(keys, None) for _ in range(3)) if key is not None]
                if not batch:
                    return
                with Session(engine) as session:
                    rows = [
                        {
                            "movement_id": f"{store}-{sku}",
                            "store_code": store,
                            "sku": sku,
                            "delta": rng.randint(1, 9),
                            "at": "2026-11-23T10:00:00+01:00",
                        }
                        for store, sku in batch
                    ]
                    inventory_service.record_movements(session, rows=rows)
                    # Hold the transaction open for a while so commits interleave out of xid order.
                    time.sleep(rng.random() * 0.03)
                    session.commit()
        except BaseException as exc:  # pragma: no cover - reported below
            failures.append(exc)

    writers = [threading.Thread(target=writer, args=(seed,)) for seed in range(4)]
    for thread in writers:
        thread.start()

    seen: dict[tuple[str, str], int] = {}
    cursor: str | None = None

    def poll() -> bool:
        nonlocal cursor
        with Session(engine) as session:
            page = inventory_service.availability_feed(session, cursor=cursor, limit=7)
        for item in page.items:
            seen[(item.store_code, item.sku)] = item.on_hand
        cursor = page.next_cursor
        return bool(page.items)

    while any(thread.is_alive() for thread in writers):
        poll()
    for thread in writers:
        thread.join()
    while poll():
        pass
    assert not failures

    with engine.connect() as connection:
        final = {
            (row.code, row.sku): row.on_hand
            for row in connection.execute(
                text(
                    "SELECT st.code, p.sku, s.on_hand FROM stock s JOIN store st ON st.id = s.store_id "
                    "JOIN product p ON p.id = s.product_id"
                )
            )
        }
    assert final  # the writers did write
    assert seen == final


def _take_xid(engine: Engine) -> tuple[Connection, int]:
    """A connection whose open transaction holds a transaction id, as a writer does."""
    connection = engine.connect()
    return connection, int(connection.execute(text("SELECT pg_current_xact_id()::text::bigint")).scalar_one())


def test_two_transactions_running_at_once_do_not_empty_the_feed(catalogue: Engine) -> None:
    """The newer of two running transactions took its id after the newest finished one: it lies past the
    end of every snapshot. The feed must still serve what committed before both."""
    engine = catalogue
    with Session(engine) as session:
        rows = [
            {"store_code": "S1", "sku": sku, "on_hand": 5, "as_of": "2026-11-23T08:00:00+01:00"}
            for sku in SKUS[:3]
        ]
        assert inventory_service.apply_snapshots(session, rows=list(enumerate(rows))).applied == 3
        session.commit()
    first, first_xid = _take_xid(engine)
    second, second_xid = _take_xid(engine)
    try:
        assert second_xid > first_xid
        with Session(engine) as session:
            horizon = inventory_stock.feed_horizon(session)
            page = inventory_service.availability_feed(session, cursor=None, limit=10)
        assert horizon == first_xid
        assert sorted((item.sku, item.on_hand) for item in page.items) == [
            (sku, 5) for sku in sorted(SKUS[:3])
        ]
    finally:
        first.close()
        second.close()


def test_the_horizon_sees_a_writer_that_began_after_the_transaction_reading_it(catalogue: Engine) -> None:
    """PostgreSQL serves pg_stat_activity from a copy taken at its first read in a transaction; a writer
    that took its id since must still hold the horizon back, even once a newer transaction has finished."""
    engine = catalogue
    with Session(engine) as reader:
        before = inventory_stock.feed_horizon(reader)
        writer, writer_xid = _take_xid(engine)
        try:
            with (
                engine.begin() as later
            ):  # a newer transaction that finishes: the snapshot's end passes the writer
                later.execute(text("SELECT pg_current_xact_id()"))
            assert before <= writer_xid
            assert inventory_stock.feed_horizon(reader) == writer_xid
        finally:
            writer.close()
        assert inventory_stock.feed_horizon(reader) > writer_xid

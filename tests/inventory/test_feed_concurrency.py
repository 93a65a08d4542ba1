"""The availability feed loses no change while writers commit in any order (real PostgreSQL transactions)."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Iterator

import pytest
from sqlalchemy import Connection, Engine, text
from sqlmodel import Session

from inventory import feed as inventory_feed
from inventory import feed_log as inventory_feed_log
from inventory import service as inventory_service
from tests.factories import apply_counts, committed_catalogue, count_row

SKUS = [f"C{i}" for i in range(300)]


@pytest.fixture
def feed_catalogue(pg_engine: Engine) -> Iterator[Engine]:
    """The test database with stores S1 and S2 and the products of `SKUS`, committed, without stock."""
    with committed_catalogue(pg_engine, SKUS) as engine:
        yield engine


def test_a_poller_sees_the_final_state_of_every_row_while_writers_commit_out_of_order(
    feed_catalogue: Engine,
) -> None:
    engine = feed_catalogue
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


def test_two_transactions_running_at_once_do_not_empty_the_feed(feed_catalogue: Engine) -> None:
    """The newer of two running transactions took its id after the newest finished one: it lies past the
    end of every snapshot. The feed must still serve what committed before both."""
    engine = feed_catalogue
    with Session(engine) as session:
        rows = [count_row("S1", sku, 5, as_of="2026-11-23T08:00:00+01:00") for sku in SKUS[:3]]
        assert apply_counts(session, rows).applied == 3
        session.commit()
    first, first_xid = _take_xid(engine)
    second, second_xid = _take_xid(engine)
    try:
        assert second_xid > first_xid
        with Session(engine) as session:
            horizon = inventory_feed_log.feed_horizon(session)
            page = inventory_service.availability_feed(session, cursor=None, limit=10)
        assert horizon == first_xid
        assert sorted((item.sku, item.on_hand) for item in page.items) == [
            (sku, 5) for sku in sorted(SKUS[:3])
        ]
    finally:
        first.close()
        second.close()


def test_the_horizon_sees_a_writer_that_began_after_the_transaction_reading_it(
    feed_catalogue: Engine,
) -> None:
    """PostgreSQL serves pg_stat_activity from a copy taken at its first read in a transaction; a writer
    that took its id since must still hold the horizon back, even once a newer transaction has finished."""
    engine = feed_catalogue
    with Session(engine) as reader:
        before = inventory_feed_log.feed_horizon(reader)
        writer, writer_xid = _take_xid(engine)
        try:
            with (
                engine.begin() as later
            ):  # a newer transaction that finishes: the snapshot's end passes the writer
                later.execute(text("SELECT pg_current_xact_id()"))
            assert before <= writer_xid
            assert inventory_feed_log.feed_horizon(reader) == writer_xid
        finally:
            writer.close()
        assert inventory_feed_log.feed_horizon(reader) > writer_xid


def _drain(engine: Engine, cursor: str | None, *, limit: int) -> tuple[dict[str, tuple[int, int]], str, int]:
    """Follow the feed from `cursor` until a page is empty: each sku's last state, the last cursor and
    how many items came (repeats included)."""
    seen: dict[str, tuple[int, int]] = {}
    served = 0
    for _ in range(100):
        with Session(engine) as session:
            page = inventory_service.availability_feed(session, cursor=cursor, limit=limit)
        cursor = page.next_cursor
        if not page.items:
            return seen, cursor, served
        served += len(page.items)
        seen.update((item.sku, (item.on_hand, item.reserved)) for item in page.items)
    raise AssertionError("the feed did not end")


def _move(session: Session, moves: dict[str, int]) -> None:
    rows: list[dict[str, object]] = [
        {"movement_id": f"{sku}-{delta}", "store_code": "S1", "sku": sku, "delta": delta, "at": LATER}
        for sku, delta in moves.items()
    ]
    assert inventory_service.record_movements(session, rows=rows).applied == len(rows)


COUNTED = "2026-11-23T08:00:00+01:00"
LATER = "2026-11-23T09:00:00+01:00"


def _count(engine: Engine, skus: list[str], on_hand: int) -> None:
    with Session(engine) as session:
        rows = [count_row("S1", sku, on_hand, as_of=COUNTED) for sku in skus]
        assert apply_counts(session, rows).applied == len(skus)
        session.commit()


def test_a_change_committed_behind_a_running_writer_is_served_and_that_writer_comes_later(
    feed_catalogue: Engine,
) -> None:
    """A writer that began first and is still running must neither hide a newer writer's committed change
    from a walk (the walk would end without a row it never saw) nor, once it commits, land behind the
    walk's cursor."""
    engine = feed_catalogue
    _count(engine, ["C0", "C1", "C2"], 5)
    slow = Session(engine)
    try:
        slow.execute(text("SELECT pg_current_xact_id()"))  # began to write: its id is older than the next
        with Session(engine) as session:
            _move(session, {"C0": 2})  # re-stamps C0 past the slow writer, and commits
            session.commit()

        seen, cursor, _ = _drain(engine, None, limit=2)
        assert seen == {"C0": (7, 0), "C1": (5, 0), "C2": (5, 0)}

        _move(slow, {"C2": 3, "C1": 1})
        slow.commit()
    finally:
        slow.close()
    later, _, _ = _drain(engine, cursor, limit=1)  # a page of one: the late writer's rows over two pages
    assert later == {"C1": (6, 0), "C2": (8, 0)}
    assert _drain(engine, None, limit=5)[0] == {"C0": (7, 0), "C1": (6, 0), "C2": (8, 0)}


def test_a_walk_goes_past_no_more_running_writers_than_its_cursor_can_list(
    feed_catalogue: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With room for one waiting writer, a walk goes past the first running writer and stops before the
    second (their changes are served once they commit): held back, never lost."""
    monkeypatch.setattr(inventory_feed, "_room", lambda end, *, oldest, kept: 1 - kept)
    engine = feed_catalogue
    _count(engine, ["C0", "C1", "C2"], 5)
    first, second = Session(engine), Session(engine)
    try:
        first.execute(text("SELECT pg_current_xact_id()"))
        with Session(engine) as session:
            _move(session, {"C0": 1})
            session.commit()
        second.execute(text("SELECT pg_current_xact_id()"))
        with Session(engine) as session:
            _move(session, {"C1": 1})
            session.commit()

        seen, cursor, _ = _drain(engine, None, limit=10)
        assert seen == {"C0": (6, 0), "C2": (5, 0)}  # C1's change lies past the second running writer
        _move(second, {"C2": 2})
        second.commit()
        later, cursor, _ = _drain(engine, cursor, limit=10)
        assert later == {"C1": (6, 0), "C2": (7, 0)}
        _move(first, {"C0": 3})
        first.commit()
    finally:
        first.close()
        second.close()
    assert _drain(engine, cursor, limit=10)[0] == {"C0": (9, 0)}

"""The availability feed through its change log: every stock writer logs what it stamps, the feed pages
across log buckets, and a snapshot racing a concurrent insert still applies every count once."""

from __future__ import annotations

import io
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine, false, literal, select, text
from sqlmodel import Session, col

from inventory import feed_log as inventory_feed_log
from inventory import ledger as inventory_ledger
from inventory import reconciliation as inventory_reconciliation
from inventory import service as inventory_service
from inventory import tasks as inventory_tasks
from inventory.models import Stock
from tests.factories import apply_counts, committed_catalogue, count_row, count_stock

SKUS = [f"P{i}" for i in range(6)]
COUNTED = "2026-11-23T08:00:00+01:00"


@pytest.fixture
def feed_catalogue(engine: Engine) -> Iterator[Engine]:
    """The database under test with stores S1 and S2 and the products of `SKUS`, committed, without stock."""
    with committed_catalogue(engine, SKUS) as engine:
        yield engine


def _ids(session: Session) -> tuple[dict[str, int], dict[str, int]]:
    stores = {r.code: r.id for r in session.execute(text("SELECT id, code FROM store"))}
    products = {r.sku: r.id for r in session.execute(text("SELECT id, sku FROM product"))}
    return stores, products


def _drain(engine: Engine, cursor: str | None) -> tuple[dict[tuple[str, str], tuple[int, int]], str | None]:
    """Follow the feed from `cursor` until it is exhausted, two rows a page."""
    seen: dict[tuple[str, str], tuple[int, int]] = {}
    for _ in range(200):
        with Session(engine) as session:
            page = inventory_service.availability_feed(session, cursor=cursor, limit=2)
        cursor = page.next_cursor
        if not page.items:
            return seen, cursor
        for item in page.items:
            seen[(item.store_code, item.sku)] = (item.on_hand, item.reserved)
    raise AssertionError("the feed did not end")


def _table(engine: Engine) -> dict[tuple[str, str], tuple[int, int]]:
    with engine.connect() as connection:
        return {
            (r.code, r.sku): (r.on_hand, r.reserved)
            for r in connection.execute(
                text(
                    "SELECT st.code, p.sku, s.on_hand, s.reserved FROM stock s "
                    "JOIN store st ON st.id = s.store_id JOIN product p ON p.id = s.product_id"
                )
            )
        }


@pytest.mark.parametrize("engine", ["postgresql", "sqlite"], indirect=True)
@pytest.mark.parametrize("bucket", [inventory_feed_log.FEED_BUCKET, 2])
def test_every_stock_writer_shows_in_the_feed(
    feed_catalogue: Engine, bucket: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A bucket of two product ids spreads a store's rows over several log rows, so pages cross them.
    monkeypatch.setattr(inventory_feed_log, "FEED_BUCKET", bucket)
    engine = feed_catalogue
    with Session(engine) as session:
        rows: list[dict[str, object]] = [
            count_row(st, s, 10, as_of=COUNTED) for st in ("S1", "S2") for s in SKUS
        ]
        assert apply_counts(session, rows).applied == 12
        session.commit()
        stores, products = _ids(session)
    seen, cursor = _drain(engine, None)
    assert len(seen) == 12
    assert seen == _table(engine)

    s1 = stores["S1"]
    Quantity = inventory_ledger.Quantity
    # Reservations as a run makes them: a basket that fits is stamped and logged, one that does not
    # takes nothing and shows nothing.
    with Session(engine) as session:
        baskets = [[Quantity(products["P1"], 2), Quantity(products["P2"], 3)], [Quantity(products["P3"], 99)]]
        outcomes = inventory_ledger.reserve_baskets(session, store_id=s1, baskets=baskets)
        assert [outcome.reserved for outcome in outcomes] == [True, False]
        session.commit()
    later, cursor = _drain(engine, cursor)
    assert later == {("S1", "P1"): (10, 2), ("S1", "P2"): (10, 3)}

    with Session(engine) as session:
        inventory_ledger.release(session, store_id=s1, lines=[Quantity(products["P1"], 1)])
        inventory_ledger.collect(
            session,
            store_id=s1,
            lines=[Quantity(products["P1"], 1)],
            order_id="o-1",
            at=datetime(2026, 11, 23, 10, tzinfo=UTC),
        )
        session.commit()
    later, cursor = _drain(engine, cursor)
    assert later == {("S1", "P1"): (9, 0)}

    with Session(engine) as session:
        session.execute(
            text("UPDATE stock SET reserved = 4 WHERE store_id = :s AND product_id = :p"),
            {"s": stores["S2"], "p": products["P4"]},
        )
        session.commit()
    with Session(engine) as session:
        live = select(col(Stock.store_id), col(Stock.product_id), literal(0).label("quantity")).where(false())
        # Nothing is live: S2/P4 drifted by hand and S1/P2's batch reservation has no order behind it.
        assert len(inventory_reconciliation.repair_reserved(session, held=live)) == 2
        moved = inventory_service.record_movements(
            session,
            rows=[
                {
                    "movement_id": "m-1",
                    "store_code": "S2",
                    "sku": "P5",
                    "delta": -3,
                    "at": COUNTED[:11] + "09:00:00+01:00",
                }
            ],
        )
        assert moved.applied == 1
        session.commit()
    later, cursor = _drain(engine, cursor)
    assert later == {("S1", "P2"): (10, 0), ("S2", "P4"): (10, 0), ("S2", "P5"): (7, 0)}

    # From no cursor, every row's latest state, the refused basket's row included.
    everything, _ = _drain(engine, None)
    assert everything == _table(engine)
    assert everything[("S1", "P3")] == (10, 0)


@pytest.mark.parametrize("engine", ["postgresql"], indirect=True)
def test_a_snapshot_racing_an_insert_of_the_same_pair_applies_each_count_once(feed_catalogue: Engine) -> None:
    """The snapshot's plain INSERT of new pairs meets a pair another transaction inserted meanwhile: it
    waits for that transaction, fails on the key and writes the rest through the upsert, where the
    other transaction's newer count wins."""
    engine = feed_catalogue
    with Session(engine) as session:
        count_stock(session, "S1", {"P0": 1}, as_of="2026-11-23T07:00:00+01:00")
        session.commit()
        stores, products = _ids(session)

    other = engine.connect()
    other.execute(
        text(
            "INSERT INTO stock (store_id, product_id, on_hand, reserved, safety_stock, as_of, changed_at, "
            "feed_xid) VALUES (:s, :p, 42, 0, 0, '2026-11-23T09:00:00+01:00', now(), 0)"
        ),
        {"s": stores["S1"], "p": products["P1"]},
    )  # left uncommitted: the snapshot's INSERT of P1 has to wait for it

    csv = "store_code,sku,on_hand,as_of\n" + "".join(f"S1,{sku},5,{COUNTED}\n" for sku in ("P0", "P1", "P2"))
    outcome: list[object] = []

    def sync() -> None:
        try:
            with Session(engine) as session:
                outcome.append(inventory_service.apply_snapshot_csv(session, body=io.BytesIO(csv.encode())))
                session.commit()
        except BaseException as exc:  # pragma: no cover - reported below
            outcome.append(exc)

    thread = threading.Thread(target=sync)
    thread.start()
    try:
        with engine.connect() as watcher:
            for _ in range(500):
                waiting = watcher.execute(
                    text(
                        "SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
                        "WHERE a.datname = current_database() AND l.locktype = 'transactionid' "
                        "AND NOT l.granted"
                    )
                ).scalar_one()
                watcher.rollback()  # a new transaction sees backends that started since (stats are cached)
                if waiting:
                    break
                time.sleep(0.02)
            assert waiting, "the snapshot never waited for the other insert"
    finally:
        other.commit()
        other.close()
        thread.join(timeout=60)

    result = outcome[0]
    assert not isinstance(result, BaseException), result
    assert (result.applied, result.stale) == (2, 1)  # type: ignore[attr-defined]
    table = _table(engine)
    assert table[("S1", "P0")] == (5, 0)
    assert table[("S1", "P1")] == (42, 0)  # counted at 09:00, after the snapshot's 08:00
    assert table[("S1", "P2")] == (5, 0)


def _log(engine: Engine) -> set[tuple[int, int, int]]:
    with engine.connect() as connection:
        return {
            (int(r.xid), int(r.store_id), int(r.bucket))
            for r in connection.execute(text("SELECT xid, store_id, bucket FROM stock_change"))
        }


def _counts(store: str, on_hand: int, as_of: str, skus: list[str] = SKUS) -> list[dict[str, object]]:
    return [count_row(store, sku, on_hand, as_of=as_of) for sku in skus]


@pytest.mark.parametrize("engine", ["postgresql", "sqlite"], indirect=True)
def test_pruning_the_log_drops_only_spent_rows_and_the_feed_reads_the_same(
    feed_catalogue: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Buckets of two product ids: each store's six rows spread over three or four log rows per writer.
    monkeypatch.setattr(inventory_feed_log, "FEED_BUCKET", 2)
    engine = feed_catalogue
    with Session(engine) as session:
        apply_counts(session, _counts("S1", 10, COUNTED))
        apply_counts(session, _counts("S2", 10, COUNTED))
        session.commit()
        stores, products = _ids(session)
    first_log = _log(engine)
    _, cursor = _drain(engine, None)
    # Two products that fill one bucket of S1 alone; a newer count of both re-stamps all of that bucket, so
    # the first snapshot's log row for it is spent.
    sku_of = {product_id: sku for sku, product_id in products.items()}
    pair = next([sku_of[i], sku_of[i + 1]] for i in sorted(sku_of) if i % 2 == 0 and i + 1 in sku_of)
    with Session(engine) as session:
        later = COUNTED[:11] + "09:00:00+01:00"
        apply_counts(session, _counts("S1", 8, later, pair))
        session.commit()
    bucket = products[pair[0]] // 2
    spent = {(xid, store, b) for xid, store, b in first_log if store == stores["S1"] and b == bucket}
    assert len(spent) == 1
    before, _ = _drain(engine, None)
    log_before = _log(engine)

    with Session(engine) as session:
        assert inventory_feed_log.prune_change_log(session, batch=100) == 1
        session.commit()
    assert _log(engine) == log_before - spent
    with Session(engine) as session:
        assert inventory_feed_log.prune_change_log(session, batch=100) == 0  # nothing else is spent

    # The feed reads the same from no cursor, and a poller that had read the first counts gets the news.
    after, _ = _drain(engine, None)
    assert after == before == _table(engine)
    news, _ = _drain(engine, cursor)
    assert news == {("S1", pair[0]): (8, 0), ("S1", pair[1]): (8, 0)}


@pytest.mark.parametrize("engine", ["postgresql"], indirect=True)
def test_pruning_leaves_the_log_of_a_writer_still_running(feed_catalogue: Engine) -> None:
    engine = feed_catalogue
    with Session(engine) as session:
        apply_counts(session, _counts("S1", 10, COUNTED))
        session.commit()
    # A writer holds a transaction open that re-stamps every row: the first snapshot's log rows look spent
    # to it, but it has not committed, so to everyone else they are not.
    writer = Session(engine)
    later = COUNTED[:11] + "09:00:00+01:00"
    apply_counts(writer, _counts("S1", 7, later))
    try:
        with Session(engine) as session:
            assert inventory_feed_log.prune_change_log(session, batch=100) == 0
            session.commit()
        writer.commit()
    finally:
        writer.close()
    seen, _ = _drain(engine, None)
    assert seen == {("S1", sku): (7, 0) for sku in SKUS}
    with Session(engine) as session:
        # Now the first snapshot's rows are all spent (one log row: the bucket of 1,024 holds them all).
        assert inventory_feed_log.prune_change_log(session, batch=100) == 1
        session.commit()
    assert _drain(engine, None)[0] == seen


@pytest.mark.parametrize("engine", ["postgresql"], indirect=True)
def test_the_beat_task_prunes_in_batches_until_nothing_is_spent(
    feed_catalogue: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(inventory_feed_log, "FEED_BUCKET", 2)
    monkeypatch.setattr(inventory_tasks, "PRUNE_BATCH", 1)
    engine = feed_catalogue
    with Session(engine) as session:
        apply_counts(session, _counts("S1", 10, COUNTED))
        session.commit()
    first = _log(engine)
    with Session(engine) as session:
        apply_counts(session, _counts("S1", 9, COUNTED[:11] + "09:00:00+01:00"))
        session.commit()
    second = _log(engine) - first
    assert len(first) >= 3  # so the task needs several batches of one

    assert inventory_tasks.prune_change_log() == len(first)
    assert _log(engine) == second
    assert _drain(engine, None)[0] == {("S1", sku): (9, 0) for sku in SKUS}

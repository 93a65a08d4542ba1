"""A full walk of the availability feed while writers commit and the change log is pruned.

The contract: following `next_cursor` from no cursor until `items` is empty sees every row changed before
the walk began, in that state or a later one, and a poller carrying on from the last cursor afterwards
misses nothing. Everything here is real committed transactions on the database under test: writer threads
send snapshots, movements and reservations, holding their transactions open a little so that commits
interleave out of transaction-id order, while a pruner deletes spent log rows in small batches.

Every write makes a row's (on_hand, reserved) grow (snapshot counts grow with each batch, movements are
positive and come after every count, reservations only take), so "that state or a later one" is a plain
comparison: a row seen with less than it held when the walk began was seen in an older state.
"""

from __future__ import annotations

import itertools
import random
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, text
from sqlmodel import Session

from inventory import feed_log as inventory_feed_log
from inventory import ledger as inventory_ledger
from inventory import service as inventory_service
from tests.factories import apply_counts, committed_catalogue, count_row

SKUS = [f"W{i}" for i in range(60)]
STORES = ("S1", "S2")
COUNTED = datetime(2026, 11, 23, 6, tzinfo=UTC)
# After every count's `as_of`, so every movement counts on top of whatever count the row holds.
MOVED = (COUNTED + timedelta(days=30)).isoformat()
COUNT_STEP = 1_000_000  # batch k counts k * COUNT_STEP: more than any movements ever add in between
PAGE = 25
# (writer threads, walks, longest time a writer holds its transaction open in seconds). SQLite runs one
# transaction at a time, in the order they commit, so more writers or longer holds there only make the
# walker wait longer for its turn.
LOAD = {"postgresql": (6, 20, 0.02), "sqlite": (2, 4, 0.002)}

Row = tuple[str, str]
State = tuple[int, int]  # (on_hand, reserved)


@pytest.fixture
def feed_catalogue(engine: Engine) -> Iterator[Engine]:
    """The database under test with stores S1 and S2 and the products of `SKUS`, committed, without stock."""
    with committed_catalogue(engine, SKUS) as engine:
        yield engine


def _table(engine: Engine) -> dict[Row, State]:
    """Every stock row's committed state, read in one statement (one snapshot)."""
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


def _follow(engine: Engine, cursor: str | None, seen: dict[Row, State]) -> tuple[str, int]:
    """Follow the feed from `cursor` until a page comes back empty; answers the last cursor and how many
    pages had items. `seen` keeps each row's last state shown."""
    pages = 0
    while True:
        with Session(engine) as session:
            page = inventory_service.availability_feed(session, cursor=cursor, limit=PAGE)
        cursor = page.next_cursor
        if not page.items:
            return cursor, pages
        pages += 1
        for item in page.items:
            seen[(item.store_code, item.sku)] = (item.on_hand, item.reserved)


class Writers:
    """Threads that write stock until stopped, each operation in its own committed transaction."""

    def __init__(self, engine: Engine, ids: tuple[dict[str, int], dict[str, int]]) -> None:
        self.engine = engine
        self.store_ids, self.product_ids = ids
        self.stop = threading.Event()
        self.failures: list[BaseException] = []
        self.counts = itertools.count(1)
        self.movement_ids = itertools.count(1)
        self.committed = 0  # transactions committed by the writers and the pruner
        self.pruned = 0  # log rows the pruner deleted
        self._committed_lock = threading.Lock()
        self.threads: list[threading.Thread] = []
        self.hold = 0.0

    def start(self, writers: int, *, hold: float, prune_batch: int) -> None:
        self.hold = hold
        self.threads = [
            threading.Thread(target=self._loop, args=(self._write, seed)) for seed in range(writers)
        ]
        self.threads.append(threading.Thread(target=self._loop, args=(self._prune(prune_batch), 99)))
        for thread in self.threads:
            thread.start()

    def wait_for(self, transactions: int) -> None:
        """Wait until the threads have committed `transactions`, so the walk starts among them."""
        while self.committed < transactions and not self.stop.is_set():
            time.sleep(0.005)

    def join(self) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=60)
        assert not self.failures, self.failures

    def _loop(self, step: Callable[[Session, random.Random], None], seed: int) -> None:
        rng = random.Random(seed)
        try:
            while not self.stop.is_set():
                with Session(self.engine) as session:
                    step(session, rng)
                    session.commit()
                with self._committed_lock:
                    self.committed += 1
        except BaseException as exc:  # pragma: no cover - reported by join()
            self.failures.append(exc)
            self.stop.set()

    def _write(self, session: Session, rng: random.Random) -> None:
        kind = rng.random()
        if kind < 0.4:
            k = next(self.counts)
            as_of = (COUNTED + timedelta(seconds=k)).isoformat()
            rows: list[dict[str, object]] = [
                count_row(store, sku, k * COUNT_STEP, as_of=as_of) for store, sku in _some_rows(rng, 30)
            ]
            inventory_service.apply_snapshots(session, rows=list(enumerate(rows)))
        elif kind < 0.8:
            movements: list[dict[str, object]] = [
                {
                    "movement_id": f"m-{next(self.movement_ids)}",
                    "store_code": store,
                    "sku": sku,
                    "delta": rng.randint(1, 9),
                    "at": MOVED,
                }
                for store, sku in _some_rows(rng, 6)
            ]
            inventory_service.record_movements(session, rows=movements)
        else:
            store = rng.choice(STORES)
            basket = [
                inventory_ledger.Quantity(self.product_ids[sku], 1)
                for sku in rng.sample(SKUS, rng.randint(1, 3))
            ]
            inventory_ledger.reserve_baskets(session, store_id=self.store_ids[store], baskets=[basket])
        # Held open so that transactions that took their ids in one order commit in another.
        time.sleep(rng.random() * self.hold)

    def _prune(self, batch: int) -> Callable[[Session, random.Random], None]:
        def prune(session: Session, _rng: random.Random) -> None:
            self.pruned += inventory_feed_log.prune_change_log(session, batch=batch)

        return prune


def _some_rows(rng: random.Random, n: int) -> list[Row]:
    return sorted({(rng.choice(STORES), rng.choice(SKUS)) for _ in range(n)})


def _ids(engine: Engine) -> tuple[dict[str, int], dict[str, int]]:
    with engine.connect() as connection:
        stores = {r.code: r.id for r in connection.execute(text("SELECT id, code FROM store"))}
        products = {r.sku: r.id for r in connection.execute(text("SELECT id, sku FROM product"))}
    return stores, products


def _behind(before: dict[Row, State], seen: dict[Row, State]) -> list[tuple[Row, State, State | None]]:
    """Rows the walk did not show in their state from before it began or a later one."""
    return [
        (row, state, seen.get(row))
        for row, state in sorted(before.items())
        if row not in seen or seen[row][0] < state[0] or seen[row][1] < state[1]
    ]


MAX_WALKS = 200


@pytest.mark.parametrize("engine", ["postgresql", "sqlite"], indirect=True)
def test_a_full_walk_while_writers_commit_and_the_log_is_pruned_misses_nothing(
    feed_catalogue: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Buckets of four product ids: a few hundred log rows, many of them spent soon, so the pruner works
    # throughout the walks.
    monkeypatch.setattr(inventory_feed_log, "FEED_BUCKET", 4)
    engine = feed_catalogue
    first = [count_row(st, sku, 0, as_of=COUNTED.isoformat()) for st in STORES for sku in SKUS]
    with Session(engine) as session:
        assert apply_counts(session, first).applied == 120
        session.commit()

    threads, walks_to_do, hold = LOAD[engine.dialect.name]
    writers = Writers(engine, _ids(engine))
    writers.start(threads, hold=hold, prune_batch=5)
    try:
        writers.wait_for(40)
        started = writers.committed
        walks: list[tuple[int, int, list[tuple[Row, State, State | None]]]] = []  # pages, rows, behind
        # At least `walks_to_do` walks, and on until a writer committed during them: readers no longer
        # wait for the writers' lock (SQLite's read transactions are deferred), so a few quick walks can
        # all fall between two of the writers' commits.
        # And on until the pruner deleted log rows: on a loaded machine SQLite's pruner may not get the
        # write lock before a few quick walks are over.
        while len(walks) < walks_to_do or (
            (writers.committed == started or writers.pruned == 0) and len(walks) < MAX_WALKS
        ):
            before = _table(engine)
            seen: dict[Row, State] = {}
            cursor, pages = _follow(engine, None, seen)
            walks.append((pages, len(seen), _behind(before, seen)))
        written_during_walks = writers.committed - started
    finally:
        writers.join()
    assert written_during_walks > 0
    assert writers.pruned > 0

    # Each walk, stopped at its first empty page, showed every row as it was when the walk began or later.
    summary = [(pages, rows, len(behind), behind[:3]) for pages, rows, behind in walks]
    assert [len(behind) for _, _, behind in walks] == [0] * len(walks), summary

    # The writers have stopped: carrying on from the last walk's cursor brings every row's final state,
    # so no change committed during the walk fell behind its cursor.
    _follow(engine, cursor, seen)
    assert seen == _table(engine)

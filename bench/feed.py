"""Benchmark: a full walk of the availability feed against one plain read of the same rows.

    .venv/bin/python bench/feed.py [--rows 100000 1000000] [--products 2000] [--writers 1] [--limit 5000]
                                   [--repeat 3] [--database postgresql://...]

Creates a throwaway PostgreSQL database (see `bench/benchdb.py`; or a new SQLite file, the embedded
default, with `--database sqlite:///PATH`), a chain of stores and `--products` products. For each size
of `--rows` (stores = rows / products) it empties the stock and writes it the way a webshop's first
sync does, through the sync service, so the change log is what writers leave (a log row per store and
bucket): a count of every row, in `--writers` snapshots of as many stores each (one snapshot by
default, as `bench/sync.py` uploads it; then every row has the same writer, a tie in the feed's first
key). Then, in the same run, each `--repeat` times (the median counts), alternating:

- baseline: one plain SELECT of the columns a feed item is made of (store code, sku, on hand,
  reserved, safety stock, changed at, low stock threshold) of every stock row, joined to the stores and
  products, read to the end through the driver (psycopg, or sqlite3);
- the walk: `inventory.service.availability_feed`, the function `GET /sync/v1/availability` calls,
  from no cursor until a page comes back empty, `--limit` rows a page, each page in a read-only
  transaction of its own as the route has. In-process rather than over HTTP (the other benches time
  HTTP where the request path is the question): here it is what the feed's reads cost as the table
  grows, and JSON would add a cost per row that the baseline does not pay either. The walk is checked
  to serve every row exactly once, each in its latest state.

It prints both in seconds, the walk's time as a multiple of the baseline's, and the CPU seconds this
process spent on the walk (the service's share, less disturbed by other work on the machine than the
wall clock) and how much of that went to Python's garbage collector. The process is left as the
service's are: the collector on at its default thresholds, nothing frozen; what the feed does about the
collector (it holds it off while it builds a page) it does inside `availability_feed`, so the walk pays
for it here as the route does, and every collection the walk sets off, during or after a page, counts.
"""

from __future__ import annotations

import argparse
import gc
import io
import os
import sqlite3
import statistics
import sys
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Any

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.benchdb import fresh_database

DEFAULT_DATABASE = "postgresql://postgres@127.0.0.1:5432/winkelpunt_bench_feed"
COUNTED_AT = "2026-11-23T06:00:00+01:00"

PLAIN_READ = """
    SELECT st.code, p.sku, s.on_hand, s.reserved, s.safety_stock, s.changed_at, st.low_stock_threshold
    FROM stock s JOIN store st ON st.id = s.store_id JOIN product p ON p.id = s.product_id
"""


def store_code(index: int) -> str:
    return f"BS{index:05d}"


def sku(index: int) -> str:
    return f"BP{index:07d}"


def load_catalogue(stores: int, products: int) -> None:
    from inventory import service as inventory_service
    from retail.db import session_scope
    from stores import service as stores_service

    hours = {"weekly": {"monday": [{"opens": "09:00", "closes": "18:00"}]}, "special": []}
    with session_scope() as session:
        stores_service.upsert_stores(
            session,
            rows=[
                {
                    "code": store_code(s),
                    "name": f"Bench {s}",
                    "address": {"city": "Utrecht", "country": "NL"},
                    "location": {"lat": 52.0 + s * 1e-4, "lon": 5.0},
                    "timezone": "Europe/Amsterdam",
                    "hours": hours,
                }
                for s in range(stores)
            ],
        )
        for start in range(0, products, 5000):
            inventory_service.upsert_products(
                session,
                rows=[
                    {"sku": sku(p), "name": f"Bench product {p}", "online_price": {"amount": "1.00"}}
                    for p in range(start, min(start + 5000, products))
                ],
            )


def snapshot(stores: range, products: range) -> None:
    """One webshop snapshot (one writer) of these stores' and products' counts."""
    from inventory import service as inventory_service
    from retail.db import session_scope

    lines = ["store_code,sku,on_hand,as_of\n"]
    lines += [f"{store_code(s)},{sku(p)},{(s + p) % 60},{COUNTED_AT}\n" for s in stores for p in products]
    body = io.BytesIO("".join(lines).encode())
    with session_scope() as session:
        result = inventory_service.apply_snapshot_csv(session, body=body)
    if result.applied != len(stores) * len(products):
        raise RuntimeError(f"a snapshot applied {result.applied} of {len(stores) * len(products)} rows")


def fresh_sqlite(database_url: str) -> str:
    """The embedded default's form of `fresh_database`: a new file, migrated; answers its path."""
    path = Path(database_url.removeprefix("sqlite:///"))
    path.unlink(missing_ok=True)
    os.environ["RETAIL_DATABASE_URL"] = database_url
    os.environ.setdefault("RETAIL_SECRET_KEY", "bench-secret-key-not-for-production")
    os.environ.pop("RETAIL_REDIS_URL", None)
    from app.migrations import upgrade_database

    upgrade_database()
    return str(path)


@contextmanager
def connect(database: str) -> Iterator[Any]:
    """The benchmark's own connection outside the app, in autocommit: psycopg, or sqlite3 for a path."""
    if database.startswith("postgresql://"):
        with psycopg.connect(database, autocommit=True) as connection:
            yield connection
    else:
        with closing(sqlite3.connect(database, isolation_level=None)) as connection:
            yield connection


def load_stock(database: str, stores: int, products: int, writers: int) -> None:
    postgresql = database.startswith("postgresql://")
    with connect(database) as connection:
        if postgresql:
            connection.execute("TRUNCATE stock, stock_change, stock_movement")
        else:
            for table in ("stock", "stock_change", "stock_movement"):
                connection.execute(f"DELETE FROM {table}")
    per_writer = -(-stores // writers)
    for first in range(0, stores, per_writer):
        chunk = range(first, min(first + per_writer, stores))
        snapshot(chunk, range(products))
    with connect(database) as connection:
        # What autovacuum does soon after a load: the planner sees the tables as a webshop's walk would.
        connection.execute("VACUUM ANALYZE" if postgresql else "ANALYZE")


def plain_read(database: str) -> tuple[float, int]:
    with connect(database) as connection:
        started = time.perf_counter()
        rows = sum(1 for _ in connection.execute(PLAIN_READ))
        return time.perf_counter() - started, rows


def expected(database: str) -> Digest:
    """What a walk must serve (read once, untimed)."""
    digest = Digest()
    with connect(database) as connection:
        for code, product, on_hand, reserved, *_ in connection.execute(PLAIN_READ):
            digest.add(code, product, on_hand, reserved)
    return digest


class Digest:
    """How many rows, and a sum of their hashes: equal for two reads of distinct rows only if they hold
    the same rows (each once), whatever their order. Two numbers rather than a set of a million keys: a
    set that large would make the walk's garbage collections slower, which is the benchmark's cost, not
    the feed's."""

    def __init__(self) -> None:
        self.rows = 0
        self.sum = 0

    def add(self, store_code: str, sku: str, on_hand: int, reserved: int) -> None:
        self.rows += 1
        self.sum = (self.sum + hash((store_code, sku, on_hand, reserved))) & 0xFFFF_FFFF_FFFF_FFFF

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Digest) and (self.rows, self.sum) == (other.rows, other.sum)


class CollectorTime:
    """CPU seconds the garbage collector spends while it is installed (`gc.callbacks`)."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self._started = 0.0

    def __call__(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._started = time.process_time()
        else:
            self.seconds += time.process_time() - self._started


def walk(limit: int) -> tuple[float, float, float, Digest]:
    """The whole feed from no cursor: seconds, this process's CPU seconds and the garbage collector's
    share of them, and what it served."""
    from inventory import service as inventory_service
    from retail.db import read_session_scope

    digest = Digest()
    cursor = None
    collector = CollectorTime()
    gc.callbacks.append(collector)
    try:
        started, cpu = time.perf_counter(), time.process_time()
        while True:
            with read_session_scope() as session:  # the route's session (`ReadSessionDep`)
                page = inventory_service.availability_feed(session, cursor=cursor, limit=limit)
            if not page.items:
                return time.perf_counter() - started, time.process_time() - cpu, collector.seconds, digest
            for item in page.items:
                digest.add(item.store_code, item.sku, item.on_hand, item.reserved)
            cursor = page.next_cursor
    finally:
        gc.callbacks.remove(collector)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--products", type=int, default=2000)
    parser.add_argument("--writers", type=int, default=1, help="snapshots the stock is written in")
    parser.add_argument("--limit", type=int, default=5000, help="rows a page (the route allows 5,000)")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each path; the median counts")
    parser.add_argument("--database", default=DEFAULT_DATABASE)
    args = parser.parse_args(argv)

    sqlite = args.database.startswith("sqlite:///")
    conninfo = fresh_sqlite(args.database) if sqlite else fresh_database(args.database)
    most_stores = max(max(1, rows // args.products) for rows in args.rows)
    load_catalogue(most_stores, args.products)

    print(
        f"availability feed, {'SQLite' if sqlite else 'PostgreSQL'}, {args.products} products a store, "
        f"{args.writers} writer(s), pages of {args.limit} rows"
    )
    print(f"median of {args.repeat} runs each (all runs in seconds in brackets); load average at start")
    print(
        f"{'rows':>10} {'plain read s':>13} {'full walk s':>12} {'walk/read':>10} {'walk CPU':>8}"
        f" {'of GC':>6}  runs"
    )
    for size in args.rows:
        stores = max(1, size // args.products)
        started = time.perf_counter()
        load_stock(conninfo, stores, args.products, args.writers)
        loaded_s = time.perf_counter() - started
        want = expected(conninfo)  # also warms the cache for both paths alike
        load = os.getloadavg()[0]
        reads: list[float] = []
        walks: list[float] = []
        cpus: list[float] = []
        collections: list[float] = []
        for _ in range(args.repeat):
            seconds, rows = plain_read(conninfo)
            if rows != want.rows:
                raise RuntimeError(f"the plain read answered {rows} rows, not {want.rows}")
            reads.append(seconds)
            seconds, cpu, collecting, served = walk(args.limit)
            if served != want:
                raise RuntimeError(
                    f"the walk served {served.rows} items, not the {want.rows} rows, each once"
                )
            walks.append(seconds)
            cpus.append(cpu)
            collections.append(collecting)
        read_s, walk_s = statistics.median(reads), statistics.median(walks)
        every = ", ".join(f"{r:.2f}/{w:.2f}" for r, w in zip(reads, walks, strict=True))
        print(
            f"{want.rows:>10,} {read_s:>13.2f} {walk_s:>12.2f} {walk_s / read_s:>9.1f}x "
            f"{statistics.median(cpus):>8.2f} {statistics.median(collections):>6.2f}  [{every}]"
            f"  load {load:.1f}, stock written in {loaded_s:.0f} s",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())

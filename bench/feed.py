"""Benchmark: a full walk of the availability feed against one plain read of the same rows.

    .venv/bin/python bench/feed.py [--rows 100000 1000000] [--products 2000] [--limit 5000]
                                   [--repeat 3] [--database postgresql://...]

Creates a throwaway PostgreSQL database (see `bench/benchdb.py`), a chain of stores and `--products`
products. For each size of `--rows` (stores = rows / products) it empties the stock and writes it the
way webshops do, through the sync service, so the change log is what writers leave: a count of every
row in snapshots of 10 stores each (one writer per 10 stores, a log row per store and bucket), then a
newer count of every 7th product of every store in one more snapshot, which re-stamps rows in every
bucket the first writers logged. Then, in the same run, each `--repeat` times (the median counts),
alternating:

- baseline: one plain SELECT of the columns a feed item is made of (store code, sku, on hand,
  reserved, safety stock, changed at, low stock threshold) of every stock row, joined to the stores and
  products, read to the end through psycopg;
- the walk: `inventory.service.availability_feed`, the function `GET /sync/v1/availability` calls, from
  no cursor until a page comes back empty, `--limit` rows a page, each page in a transaction of its own
  as a request has. In-process rather than over HTTP: the question is what the feed's reads cost as the
  table grows, and the HTTP layer and JSON would add a cost per row that the baseline does not pay
  either. The walk is checked to serve every row exactly once, each in its latest state.

It prints both in seconds and the walk's time as a multiple of the baseline's.
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import sys
import time
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.benchdb import fresh_database

DEFAULT_DATABASE = "postgresql://postgres@127.0.0.1:5432/winkelpunt_bench_feed"
STORES_PER_WRITER = 10
RESTAMPED_EVERY = 7  # every 7th product of every store is counted again by a later writer

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


def snapshot(stores: range, products: range, *, on_hand: int, as_of: str) -> None:
    """One webshop snapshot (one writer) of these stores' and products' counts."""
    from inventory import service as inventory_service
    from retail.db import session_scope

    lines = ["store_code,sku,on_hand,as_of\n"]
    lines += [
        f"{store_code(s)},{sku(p)},{(s + p + on_hand) % 60},{as_of}\n" for s in stores for p in products
    ]
    body = io.BytesIO("".join(lines).encode())
    with session_scope() as session:
        result = inventory_service.apply_snapshot_csv(session, body=body)
    if result.applied != len(stores) * len(products):
        raise RuntimeError(f"a snapshot applied {result.applied} of {len(stores) * len(products)} rows")


def load_stock(conninfo: str, stores: int, products: int) -> None:
    with psycopg.connect(conninfo, autocommit=True) as connection:
        connection.execute("TRUNCATE stock, stock_change, stock_movement")
    for first in range(0, stores, STORES_PER_WRITER):
        chunk = range(first, min(first + STORES_PER_WRITER, stores))
        snapshot(chunk, range(products), on_hand=0, as_of="2026-11-23T06:00:00+01:00")
    snapshot(range(stores), range(0, products, RESTAMPED_EVERY), on_hand=1, as_of="2026-11-24T06:00:00+01:00")
    with psycopg.connect(conninfo, autocommit=True) as connection:
        # What autovacuum does soon after a load: the planner sees the tables as a webshop's walk would.
        connection.execute("VACUUM ANALYZE")


def plain_read(conninfo: str) -> tuple[float, int]:
    with psycopg.connect(conninfo) as connection:
        started = time.perf_counter()
        rows = sum(1 for _ in connection.execute(PLAIN_READ))
        return time.perf_counter() - started, rows


def walk(limit: int) -> tuple[float, dict[tuple[str, str], int], int]:
    """The whole feed from no cursor: seconds, each row's on hand, and how many items came in all."""
    from inventory import service as inventory_service
    from retail.db import session_scope

    seen: dict[tuple[str, str], int] = {}
    served = 0
    cursor = None
    started = time.perf_counter()
    while True:
        with session_scope() as session:
            page = inventory_service.availability_feed(session, cursor=cursor, limit=limit)
        if not page.items:
            return time.perf_counter() - started, seen, served
        served += len(page.items)
        for item in page.items:
            seen[(item.store_code, item.sku)] = item.on_hand
        cursor = page.next_cursor


def expected(conninfo: str) -> dict[tuple[str, str], int]:
    with psycopg.connect(conninfo) as connection:
        return {(code, product): on_hand for code, product, on_hand, *_ in connection.execute(PLAIN_READ)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--products", type=int, default=2000)
    parser.add_argument("--limit", type=int, default=5000, help="rows a page (the route allows 5,000)")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each path; the median counts")
    parser.add_argument("--database", default=DEFAULT_DATABASE)
    args = parser.parse_args(argv)

    conninfo = fresh_database(args.database)
    most_stores = max(max(1, rows // args.products) for rows in args.rows)
    load_catalogue(most_stores, args.products)

    print(f"availability feed, PostgreSQL, {args.products} products a store, pages of {args.limit} rows")
    print(f"median of {args.repeat} runs each (all runs in seconds in brackets); load average at start")
    print(f"{'rows':>10} {'plain read s':>13} {'full walk s':>12} {'walk/read':>10}  runs")
    for size in args.rows:
        stores = max(1, size // args.products)
        started = time.perf_counter()
        load_stock(conninfo, stores, args.products)
        loaded_s = time.perf_counter() - started
        want = expected(conninfo)
        load = os.getloadavg()[0]
        plain_read(conninfo)  # warms the cache for both paths alike
        reads: list[float] = []
        walks: list[float] = []
        for _ in range(args.repeat):
            seconds, rows = plain_read(conninfo)
            if rows != len(want):
                raise RuntimeError(f"the plain read answered {rows} rows of {len(want)}")
            reads.append(seconds)
            seconds, seen, served = walk(args.limit)
            if served != len(want) or seen != want:
                raise RuntimeError(f"the walk served {served} items, {len(seen)} rows, of {len(want)}")
            walks.append(seconds)
        read_s, walk_s = statistics.median(reads), statistics.median(walks)
        every = ", ".join(f"{r:.2f}/{w:.2f}" for r, w in zip(reads, walks, strict=True))
        print(
            f"{len(want):>10,} {read_s:>13.2f} {walk_s:>12.2f} {walk_s / read_s:>9.1f}x  [{every}]"
            f"  load {load:.1f}, stock written in {loaded_s:.0f} s",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())

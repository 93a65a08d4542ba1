"""Benchmark: the shopper's product search (`GET /mobile/v1/products?q=`) over 100,000 products, beside
the same search without its index in the same run. Run by bench/lookup.py on its PostgreSQL catalogue,
or on its own, on PostgreSQL or on the embedded SQLite default:

    .venv/bin/python bench/product_search.py [--database URL] [--products 100000] [--queries 200]

The catalogue is the demo chain's 2,431 products (real brands and Dutch product names) in variants
(edition and colour words, a unique EAN each) up to `--products`, loaded through the real services. The
house brand "Winkelpunt" is in about a third of the names, as a chain's own brand would be.

Queries are what a shopper types: one to three words of a random product's name or brand, in a random
order and case, the last often cut short as while typing; plus two broad ones timed on their own: the
house brand (a third of the catalogue matches) and a single letter.

Timed, per query, `limit=20`: (a) the request through the app (in-process TestClient); (b) the index
query alone, hand-written SQL (PostgreSQL: GIN on the words' tsvector; SQLite: the FTS5 table) with the
same ranking; (c) the plain baseline: the same rule and ranking as a LIKE scan of every product's words,
no index. "identical" counts queries whose app answer equals the scan's, item for item.
"""

from __future__ import annotations

import argparse
import random
import sqlite3
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

LIMIT = 20
SEED = 20_261_128
EDITIONS = (
    "classic", "premium", "eco", "mini", "maxi", "duo", "family", "pro", "light", "extra", "xl",
    "voordeelpak", "navulling", "limited", "original",
)  # fmt: skip
COLOURS = ("wit", "zwart", "grijs", "blauw", "rood", "groen", "naturel", "navy", "oker", "mint", "roze")


def gtin13(first_twelve: str) -> str:
    from inventory.codes import gtin_check_digit

    return first_twelve + str(gtin_check_digit(first_twelve))


def catalogue(n: int) -> list[dict[str, Any]]:
    """`n` products: the demo catalogue first as it is, then its products again in variants."""
    from demo.catalogue import demo_products

    base = demo_products()
    products = []
    for i in range(n):
        product = dict(base[i % len(base)])
        round_ = i // len(base)
        if round_:
            edition = EDITIONS[round_ % len(EDITIONS)]
            colour = COLOURS[round_ // len(EDITIONS) % len(COLOURS)]
            product["name"] = f"{product['name']} {edition} {colour}"
            product["sku"] = f"{product['sku']}-V{round_}"
            product["ean"] = gtin13(f"20{i:010d}")
        products.append(product)
    return products


def load(products: list[dict[str, Any]]) -> float:
    from inventory import service as inventory_service
    from retail.db import session_scope

    started = time.perf_counter()
    for start in range(0, len(products), 5000):
        with session_scope() as session:
            result = inventory_service.upsert_products(session, rows=products[start : start + 5000])
            assert result.errors == [], result.errors[:3]
    return time.perf_counter() - started


def shopper_queries(products: list[dict[str, Any]], n: int, rng: random.Random) -> list[str]:
    from inventory.search import words

    queries: list[str] = []
    while len(queries) < n:
        product = rng.choice(products)
        vocabulary = words(f"{product['name']} {product['brand']}")
        picked = rng.sample(vocabulary, min(len(vocabulary), rng.randint(1, 3)))
        if rng.random() < 0.5 and len(picked[-1]) > 3:
            picked[-1] = picked[-1][: rng.randint(2, len(picked[-1]) - 1)]
        text = " ".join(picked)
        queries.append(text.upper() if rng.random() < 0.2 else text)
    return queries


# ----------------------------------------------------------------------------------------- the baselines


def _rank_sql(terms: Sequence[str], mark: Callable[[str], str]) -> str:
    return " + ".join(f"CASE WHEN (' ' || search_words || ' ') LIKE {mark(f'w{i}')} THEN 2 ELSE 1 END"
                      for i in range(len(terms)))  # fmt: skip


def _sql(terms: Sequence[str], where: str, mark: Callable[[str], str]) -> str:
    return (
        f"SELECT sku FROM (SELECT sku, search_name, id, {_rank_sql(terms, mark)} AS rank FROM product "
        f"WHERE {where}) AS found ORDER BY rank DESC, search_name, id LIMIT {LIMIT}"
    )


def baselines(database_url: str) -> tuple[Callable[[list[str]], list[str]], Callable[[list[str]], list[str]]]:
    """(index query, LIKE scan), each answering the skus of the first page for the query's words."""
    if database_url.startswith("sqlite"):
        connection = sqlite3.connect(database_url.removeprefix("sqlite:///"))
        connection.execute("ANALYZE")

        def sqlite_mark(name: str) -> str:
            return f":{name}"

        def sqlite_run(terms: list[str], where: str, extra: dict[str, str]) -> list[str]:
            params = {f"w{i}": f"% {t} %" for i, t in enumerate(terms)} | extra
            return [r[0] for r in connection.execute(_sql(terms, where, sqlite_mark), params).fetchall()]

        def sqlite_index(terms: list[str]) -> list[str]:
            where = "id IN (SELECT rowid FROM product_search WHERE product_search MATCH :fts)"
            return sqlite_run(terms, where, {"fts": " ".join(f'"{t}"*' for t in terms)})

        def sqlite_scan(terms: list[str]) -> list[str]:
            where = " AND ".join(f"(' ' || search_words) LIKE :p{i}" for i in range(len(terms)))
            return sqlite_run(terms, where, {f"p{i}": f"% {t}%" for i, t in enumerate(terms)})

        return sqlite_index, sqlite_scan

    import psycopg
    from sqlalchemy.engine import make_url

    conninfo = make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)
    pg = psycopg.connect(conninfo, autocommit=True)
    pg.execute("ANALYZE product")

    def pg_mark(name: str) -> str:
        return f"%({name})s"

    def pg_run(terms: list[str], where: str, extra: dict[str, str]) -> list[str]:
        params = {f"w{i}": f"% {t} %" for i, t in enumerate(terms)} | extra
        return [r[0] for r in pg.execute(_sql(terms, where, pg_mark), params).fetchall()]

    def pg_index(terms: list[str]) -> list[str]:
        where = "search_vector @@ %(lexemes)s::tsquery"
        return pg_run(terms, where, {"lexemes": " & ".join(f"'{t}':*" for t in terms)})

    def pg_scan(terms: list[str]) -> list[str]:
        where = " AND ".join(f"(' ' || search_words) LIKE %(p{i})s" for i in range(len(terms)))
        return pg_run(terms, where, {f"p{i}": f"% {t}%" for i, t in enumerate(terms)})

    return pg_index, pg_scan


# ------------------------------------------------------------------------------------------------ timing


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _timed(call: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    result = call()
    return (time.perf_counter() - started) * 1e3, result


def measure(client: Any, database_url: str, queries: list[str], products: int) -> None:
    """Time every query three ways and print one row per query set."""
    from inventory.search import words

    index, scan = baselines(database_url)

    def app(q: str) -> list[str]:
        response = client.get("/mobile/v1/products", params={"q": q, "limit": LIMIT})
        assert response.status_code == 200, response.text
        return [item["sku"] for item in response.json()["items"]]

    app("warm up")
    index(["warm"])
    scan(["warm"])
    sets = {
        f"{len(queries)} shopper queries": queries,
        '"winkelpunt" (the house brand)': ["winkelpunt"] * 20,
        '"a" (one letter)': ["a"] * 20,
    }
    engine = "SQLite FTS5" if database_url.startswith("sqlite") else "PostgreSQL GIN"
    print(
        f"\nproduct search over {products:,} products ({engine}), limit={LIMIT}; times in ms; app through "
        "the in-process TestClient, index and scan one hand-written SQL query each"
    )
    header = (
        f"{'queries':<32} {'app med':>8} {'app p99':>8} {'index med':>9} {'index p99':>9} "
        f"{'scan med':>9} {'scan p99':>9} {'scan/app':>8}  identical"
    )
    print(header)
    print("-" * len(header))
    for name, texts in sets.items():
        app_ms, index_ms, scan_ms, same = [], [], [], 0
        for q in texts:
            terms = words(q)
            elapsed, answer = _timed(lambda q=q: app(q))  # type: ignore[misc]
            app_ms.append(elapsed)
            elapsed, indexed = _timed(lambda terms=terms: index(terms))  # type: ignore[misc]
            index_ms.append(elapsed)
            elapsed, scanned = _timed(lambda terms=terms: scan(terms))  # type: ignore[misc]
            scan_ms.append(elapsed)
            same += answer == scanned == indexed
        app_med, scan_med = statistics.median(app_ms), statistics.median(scan_ms)
        print(
            f"{name:<32} {app_med:>8.2f} {_percentile(app_ms, 0.99):>8.2f} "
            f"{statistics.median(index_ms):>9.2f} {_percentile(index_ms, 0.99):>9.2f} {scan_med:>9.2f} "
            f"{_percentile(scan_ms, 0.99):>9.2f} {scan_med / app_med:>7.1f}x  {same}/{len(texts)}",
            flush=True,
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--database",
        default="postgresql://postgres@127.0.0.1:5432/winkelpunt_bench_search",
        help="PostgreSQL database to drop, re-create and load, or sqlite:///PATH (the file is replaced)",
    )
    parser.add_argument("--products", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=200)
    args = parser.parse_args(argv)

    if args.database.startswith("sqlite:///"):
        import os

        path = Path(args.database.removeprefix("sqlite:///"))
        for stale in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
            stale.unlink(missing_ok=True)
        os.environ["RETAIL_DATABASE_URL"] = args.database
        os.environ["RETAIL_SHOPPER_REQUESTS_PER_MINUTE"] = "1000000000"
        os.environ.pop("RETAIL_REDIS_URL", None)
        from app.migrations import upgrade_database

        upgrade_database()
    else:
        from bench.benchdb import fresh_database

        fresh_database(args.database)
    products = catalogue(args.products)
    print(f"loaded {len(products):,} products through the services in {load(products):.1f} s", flush=True)
    queries = shopper_queries(products, args.queries, random.Random(SEED))

    from fastapi.testclient import TestClient

    from app.main import create_app

    with TestClient(create_app()) as client:
        measure(client, args.database, queries, len(products))
    return 0


if __name__ == "__main__":
    sys.exit(main())

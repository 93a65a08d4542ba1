"""Benchmark: a stock snapshot CSV through `PUT /sync/v1/stock` against a plain COPY of the same rows.

    .venv/bin/python bench/sync.py [--rows 1000000] [--stores 500] [--repeat 3] [--database postgresql://...]

Creates a throwaway PostgreSQL database (dropped and re-created), a chain of `--stores` stores and
`rows / stores` products, and a CSV of `--rows` counts. Then, in the same run:

- baseline: psycopg `COPY ... FROM STDIN (FORMAT csv, HEADER)` of the file into a bare table without
  indexes or constraints;
- the service: `retail serve` in its own process, the file streamed to it over HTTP, twice: first into an
  empty stock table (every row inserted), then a newer count of every row (every row updated).

Each of the three is timed `--repeat` times and the median counts, so one disturbed run on a shared machine
does not decide the ratio either way. The baseline's runs come first, back to back before the server starts,
so none of them meets the after-work (dirty pages, vacuum) of a million-row merge; the stock table is
emptied between the service's runs. It prints rows per second of each and the ratio to the baseline,
and the server's peak memory before and after the uploads, to show the upload is streamed (flat memory)
rather than held.
"""

from __future__ import annotations

import argparse
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from functools import partial
from pathlib import Path

import httpx
import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.benchdb import fresh_database

DEFAULT_DATABASE = "postgresql://postgres@127.0.0.1:5432/winkelpunt_bench_sync"


def write_csv(path: Path, stores: int, products: int, as_of: str, seed: int) -> int:
    rng = random.Random(seed)
    rows = 0
    with path.open("w", encoding="utf-8") as handle:
        handle.write("store_code,sku,on_hand,as_of\n")
        for s in range(stores):
            store = f"BS{s:05d}"
            handle.writelines(f"{store},BP{p:07d},{rng.randrange(60)},{as_of}\n" for p in range(products))
            rows += products
    return rows


def raw_copy(conninfo: str, path: Path) -> float:
    with psycopg.connect(conninfo) as connection:
        connection.execute("DROP TABLE IF EXISTS bench_raw_stock")
        connection.execute(
            "CREATE TABLE bench_raw_stock (store_code text, sku text, on_hand integer, as_of timestamptz)"
        )
        connection.commit()
        started = time.perf_counter()
        with (
            connection.cursor() as cursor,
            cursor.copy("COPY bench_raw_stock FROM STDIN (FORMAT csv, HEADER true)") as copy,
            path.open("rb") as handle,
        ):
            while chunk := handle.read(1 << 20):
                copy.write(chunk)
        connection.commit()
        return time.perf_counter() - started


def peak_rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--stores", type=int, default=500)
    parser.add_argument("--database", default=DEFAULT_DATABASE)
    parser.add_argument("--repeat", type=int, default=3, help="runs of each path; the median counts")
    args = parser.parse_args(argv)
    products = max(1, args.rows // args.stores)

    conninfo = fresh_database(args.database)
    from inventory import service as inventory_service
    from retail.auth import Role, create_api_key
    from retail.db import session_scope
    from stores import service as stores_service

    hours = {"weekly": {"monday": [{"opens": "09:00", "closes": "18:00"}]}, "special": []}
    with session_scope() as session:
        stores_service.upsert_stores(
            session,
            rows=[
                {
                    "code": f"BS{s:05d}",
                    "name": f"Bench {s}",
                    "address": {"city": "Utrecht", "country": "NL"},
                    "location": {"lat": 52.0 + s * 1e-4, "lon": 5.0},
                    "timezone": "Europe/Amsterdam",
                    "hours": hours,
                }
                for s in range(args.stores)
            ],
        )
        for start in range(0, products, 5000):
            inventory_service.upsert_products(
                session,
                rows=[
                    {"sku": f"BP{p:07d}", "name": f"Bench product {p}", "online_price": {"amount": "1.00"}}
                    for p in range(start, min(start + 5000, products))
                ],
            )
        secret = create_api_key(session, role=Role.webshop, label="bench")

    workdir = Path(tempfile.mkdtemp(prefix="winkelpunt-bench-"))
    first, second = workdir / "first.csv", workdir / "second.csv"
    rows = write_csv(first, args.stores, products, "2026-11-23T06:00:00+01:00", seed=1)
    write_csv(second, args.stores, products, "2026-11-24T06:00:00+01:00", seed=2)
    size_mib = first.stat().st_size / 2**20

    raw_runs = [raw_copy(conninfo, first) for _ in range(args.repeat)]

    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "app", "serve", "--port", str(port)],
        env={**os.environ, "RETAIL_LOG_LEVEL": "WARNING"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(300):
            try:
                httpx.get(f"{base}/healthz")
                break
            except httpx.TransportError:
                time.sleep(0.2)
        idle_mib = peak_rss_mib(server.pid)
        headers = {"Authorization": f"Bearer {secret}", "content-type": "text/csv"}
        new_runs: list[float] = []
        updated_runs: list[float] = []
        for repetition in range(args.repeat):
            if repetition:
                with psycopg.connect(conninfo) as connection:
                    connection.execute("TRUNCATE stock, stock_change")
            for path, runs in ((first, new_runs), (second, updated_runs)):
                started = time.perf_counter()
                with path.open("rb") as handle:
                    response = httpx.put(
                        f"{base}/sync/v1/stock",
                        content=iter(partial(handle.read, 1 << 20), b""),
                        headers=headers,
                        timeout=600,
                    )
                runs.append(time.perf_counter() - started)
                body = response.json()
                if response.status_code != 200 or body["applied"] != rows:
                    print(f"unexpected answer {response.status_code}: {str(body)[:300]}")
                    return 1
        peak_mib = peak_rss_mib(server.pid)
    finally:
        server.terminate()
        server.wait(timeout=60)

    print(
        f"{rows:,} rows ({size_mib:.0f} MiB of CSV), {args.stores} stores x {products} products, PostgreSQL"
    )
    print(f"median of {args.repeat} runs each (all runs in seconds in brackets)")
    print(f"{'path':<46} {'seconds':>8} {'rows/s':>10} {'vs COPY':>8}")
    raw_rate = rows / statistics.median(raw_runs)
    for name, runs in (
        ("plain COPY into a bare table (baseline)", raw_runs),
        ("PUT /sync/v1/stock, every row new", new_runs),
        ("PUT /sync/v1/stock, every row updated", updated_runs),
    ):
        seconds = statistics.median(runs)
        every = " ".join(f"{run:.2f}" for run in runs)
        print(
            f"{name:<46} {seconds:>8.2f} {rows / seconds:>10,.0f} {rows / seconds / raw_rate:>7.0%}"
            f"  [{every}]"
        )
    print(f"server peak memory: {idle_mib:.0f} MiB before the uploads, {peak_mib:.0f} MiB after")
    return 0


if __name__ == "__main__":
    sys.exit(main())

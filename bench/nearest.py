"""Benchmark: nearest-10 stores with `stores.geo.GeoIndex` against a linear geopy scan.

    .venv/bin/python bench/nearest.py [--sizes 1000,10000,100000] [--queries 200] [--linear-budget 100000]

Synthetic chains (fixed seed): 85 % of the stores spread over the Netherlands and Belgium, 15 % over Europe;
query points drawn the same way. The index is timed per query (build time reported separately); the linear
scan computes `geopy.distance.geodesic` to every store, so it runs on fewer query points (as many as fit in
``--linear-budget`` distance computations, at least 3). Results of both must be identical for every query
point the scan ran on; the script exits with status 1 otherwise.
"""

from __future__ import annotations

import argparse
import heapq
import statistics
import sys
import time
from itertools import islice
from pathlib import Path

import numpy as np
from geopy.distance import geodesic

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.benchdb import fresh_database
from stores.geo import GeoIndex

K = 10
# The request-path stores open on Mondays 09:00-18:00 only.
MONDAY_NOON = "2026-11-23T12:00:00+01:00"
MONDAY_NIGHT = "2026-11-23T03:00:00+01:00"
SEED = 20_241_123


def synthetic_points(rng: np.random.Generator, n: int) -> tuple[list[float], list[float]]:
    region = rng.random(n)
    lats = np.empty(n)
    lons = np.empty(n)
    nl = region < 0.55
    be = (region >= 0.55) & (region < 0.85)
    eu = region >= 0.85
    lats[nl], lons[nl] = rng.uniform(51.3, 53.45, nl.sum()), rng.uniform(3.5, 7.1, nl.sum())
    lats[be], lons[be] = rng.uniform(49.55, 51.45, be.sum()), rng.uniform(2.6, 6.35, be.sum())
    lats[eu], lons[eu] = rng.uniform(36.0, 70.0, eu.sum()), rng.uniform(-10.0, 30.0, eu.sum())
    return lats.round(6).tolist(), lons.round(6).tolist()


def linear_nearest(
    codes: list[str], lats: list[float], lons: list[float], lat: float, lon: float
) -> list[tuple[str, float]]:
    ranked = heapq.nsmallest(
        K,
        (
            (geodesic((lat, lon), (s_lat, s_lon)).km, code)
            for code, s_lat, s_lon in zip(codes, lats, lons, strict=True)
        ),
    )
    return [(code, d) for d, code in ranked]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def run(size: int, queries: int, linear_budget: int) -> tuple[float, float, float, float, int, bool]:
    rng = np.random.default_rng(SEED + size)
    lats, lons = synthetic_points(rng, size)
    codes = [f"ST{i:06d}" for i in range(size)]
    q_lats, q_lons = synthetic_points(rng, queries)

    started = time.perf_counter()
    index = GeoIndex(codes, lats, lons)
    build_ms = (time.perf_counter() - started) * 1e3

    index_ms: list[float] = []
    index_results: list[list[tuple[str, float]]] = []
    for lat, lon in zip(q_lats, q_lons, strict=True):
        started = time.perf_counter()
        result = list(islice(index.nearest(lat, lon), K))
        index_ms.append((time.perf_counter() - started) * 1e3)
        index_results.append(result)

    n_linear = min(queries, max(3, linear_budget // size))
    linear_ms: list[float] = []
    identical = True
    for i in range(n_linear):
        started = time.perf_counter()
        expected = linear_nearest(codes, lats, lons, q_lats[i], q_lons[i])
        linear_ms.append((time.perf_counter() - started) * 1e3)
        identical = identical and expected == index_results[i]
    return (
        build_ms,
        statistics.median(index_ms),
        percentile(index_ms, 0.99),
        statistics.median(linear_ms),
        n_linear,
        identical,
    )


def run_api(
    size: int, queries: int, database_url: str
) -> tuple[float, list[float], list[float], list[float], bool]:
    """nearest-10 through the whole request path (HTTP handler, PostgreSQL, opening hours) on `size` stores.

    Answers the load time in seconds; the request times in ms without filters, with `open_now=true` while
    the stores are open, and with `open_now=true` at night, when every store is closed and the request
    stops after examining its bound of stores; and whether the API's ranking matched the index's.
    """
    fresh_database(database_url)
    from fastapi.testclient import TestClient

    from app.main import create_app
    from retail.db import session_scope
    from stores import service as stores_service

    rng = np.random.default_rng(SEED + size)
    lats, lons = synthetic_points(rng, size)
    codes = [f"ST{i:06d}" for i in range(size)]
    q_lats, q_lons = synthetic_points(rng, queries)
    hours = {"weekly": {"monday": [{"opens": "09:00", "closes": "18:00"}]}, "special": []}
    started = time.perf_counter()
    for chunk in range(0, size, 5000):
        rows = [
            {
                "code": codes[i],
                "name": f"Bench {i}",
                "address": {"city": "Utrecht", "country": "NL"},
                "location": {"lat": lats[i], "lon": lons[i]},
                "timezone": "Europe/Amsterdam",
                "hours": hours,
            }
            for i in range(chunk, min(chunk + 5000, size))
        ]
        with session_scope() as session:
            assert stores_service.upsert_stores(session, rows=rows).errors == []
    load_s = time.perf_counter() - started

    index = GeoIndex(codes, lats, lons)
    plain_ms: list[float] = []
    open_ms: list[float] = []
    night_ms: list[float] = []
    identical = True
    with TestClient(create_app()) as client:
        client.get("/mobile/v1/stores/nearest", params={"lat": 52.0, "lon": 5.0})  # builds the index once
        for lat, lon in zip(q_lats, q_lons, strict=True):
            started = time.perf_counter()
            body = client.get("/mobile/v1/stores/nearest", params={"lat": lat, "lon": lon, "limit": K}).json()
            plain_ms.append((time.perf_counter() - started) * 1e3)
            expected = [code for code, _ in islice(index.nearest(lat, lon), K)]
            identical = identical and [item["code"] for item in body["items"]] == expected
            for at, times in ((MONDAY_NOON, open_ms), (MONDAY_NIGHT, night_ms)):
                params = {"lat": lat, "lon": lon, "limit": K, "open_now": "true", "at": at}
                started = time.perf_counter()
                client.get("/mobile/v1/stores/nearest", params=params)
                times.append((time.perf_counter() - started) * 1e3)
    return load_s, plain_ms, open_ms, night_ms, identical


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="1000,10000,100000", help="comma-separated chain sizes")
    parser.add_argument("--queries", type=int, default=200, help="query points timed on the index")
    parser.add_argument(
        "--linear-budget", type=int, default=100_000, help="geopy distance computations per size for the scan"
    )
    parser.add_argument(
        "--api-database",
        default="postgresql://postgres@127.0.0.1:5432/winkelpunt_bench",
        help="PostgreSQL database (dropped and re-created) for the request-path figure; '' skips it",
    )
    parser.add_argument("--api-size", type=int, default=100_000, help="stores in the request-path figure")
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    if not sizes or min(sizes) < K or args.queries < 1:
        parser.error(f"sizes must be >= {K} and --queries >= 1")

    print(f"nearest-{K}, {args.queries} query points per size; times in ms")
    header = (
        f"{'stores':>8} {'build':>8} {'index med':>10} {'index p99':>10} "
        f"{'linear med':>11} {'(n)':>5} {'ratio':>9}  identical"
    )
    print(header)
    print("-" * len(header))
    all_identical = True
    for size in sizes:
        build_ms, med, p99, linear_med, n_linear, identical = run(size, args.queries, args.linear_budget)
        all_identical = all_identical and identical
        print(
            f"{size:>8,} {build_ms:>8.1f} {med:>10.3f} {p99:>10.3f} {linear_med:>11.1f} {n_linear:>5} "
            f"{linear_med / med:>8,.0f}x  {'yes' if identical else 'NO'}",
            flush=True,
        )
    if args.api_database:
        load_s, plain, open_day, open_night, identical = run_api(
            args.api_size, args.queries, args.api_database
        )
        all_identical = all_identical and identical
        print(
            f"\nGET /mobile/v1/stores/nearest?limit={K} on PostgreSQL, {args.api_size:,} stores "
            f"(loaded in {load_s:.0f} s), in-process client; same ranking as the index: "
            f"{'yes' if identical else 'NO'}"
        )
        print(f"{'request':<34} {'median':>8} {'p99':>8}")
        for name, times in (
            ("no filter", plain),
            ("open_now=true, stores open", open_day),
            ("open_now=true, all closed (bound)", open_night),
        ):
            print(f"{name:<34} {statistics.median(times):>8.2f} {percentile(times, 0.99):>8.2f}")
    return 0 if all_identical else 1


if __name__ == "__main__":
    sys.exit(main())

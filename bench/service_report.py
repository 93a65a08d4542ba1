"""Benchmark: the service report (orders/report.py) over a chain of 5,000 stores and a year of orders.

Builds the chain in bulk into a throwaway PostgreSQL database (`INSERT ... SELECT` over generate_series,
not through the services: the report only reads): 5,000 stores in three zones, `--per-day` orders per
store per day for the 365 days before `--until`, each with the columns `orders.lifecycle.stamp` writes (a
twentieth rejected, one in twenty ready orders expired, one in 25 short-picked, a third of the collected
ones checked in as arrived, one in 50 collected ones returned). Then it times, each `--rounds` times:

- the whole chain by day over the last month (`group=day`, 31 days: the widest the API answers);
- the whole chain by store over the year (`group=store`);
- one store by day over the year;

each against a plain baseline over the same rows in the same run: a bare `COUNT(*)` grouped by store (and
UTC day, by day) over the same `created_at` range, the cheapest scan that still touches every row the
report reads. It prints the medians and report / baseline.

    .venv/bin/python bench/service_report.py [--database URL] [--per-day 2] [--rounds 3]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

DEFAULT_DATABASE = "postgresql://postgres@127.0.0.1:5432/winkelpunt_bench_report"
STORES = 5000
DAYS = 365
ZONES = ("Europe/Amsterdam", "Europe/London", "Europe/Helsinki")

_STORES = """
INSERT INTO store (code, name, street, postcode, city, country, lat, lon, timezone, click_and_collect,
                   low_stock_threshold, hold_hours, pick_minutes, closed_on_public_holidays, hours,
                   created_at, updated_at)
SELECT 'B' || lpad(n::text, 4, '0'), 'Winkelpunt ' || n, 'Hoogstraat 1', '3511 AA', 'Utrecht', 'NL',
       50 + n % 500 / 100.0, 4 + n / 500 / 10.0, (ARRAY[{zones}])[1 + n % 3], true, 2, 72, 60, false,
       '{{"weekly": {{}}, "special": []}}', now(), now()
FROM generate_series(1, {stores}) AS n
"""

# One row per (store, day, k); `i` numbers them, and every figure is a function of `i`, so two runs
# build the same chain.
_ORDERS = """
INSERT INTO "order" (order_id, store_id, store_snapshot, status, customer_name, customer_email, locale, total,
                     currency, ready_by, promised_ready_by, reserved_at, ready_at, collected_at, short_picked,
                     arrival_status, arrival_at, created_at, updated_at)
SELECT 'ord_' || i, store_id, '{{}}', status, 'Bench', 'bench@example.nl', 'nl', 10.00, 'EUR',
       CASE WHEN status <> 'rejected' THEN created + interval '60 minutes' END,
       CASE WHEN status <> 'rejected' THEN created + interval '60 minutes' END,
       CASE WHEN status <> 'rejected' THEN created END,
       ready,
       CASE WHEN status = 'collected' THEN ready + (i * 13 % 240) * interval '1 minute' END,
       i % 25 = 3,
       CASE WHEN status = 'collected' AND i % 3 = 0 THEN 'arrived' END,
       CASE WHEN status = 'collected' AND i % 3 = 0
            THEN ready + (i * 13 % 240 - i % 9) * interval '1 minute' END,
       created, created
FROM (
    SELECT i, store_id, created,
           CASE WHEN i % 20 = 0 THEN 'rejected' WHEN i % 20 = 1 THEN 'expired' ELSE 'collected' END AS status,
           CASE WHEN i % 20 <> 0 THEN created + (15 + i * 7 % 70) * interval '1 minute' END AS ready
    FROM (
        SELECT row_number() OVER () AS i, s AS store_id,
               timestamptz '{start}' + d * interval '1 day' + interval '7 hours'
                 + ((s * 37 + d * 11 + k * 300) % 660) * interval '1 minute' AS created
        FROM generate_series(1, {stores}) AS s, generate_series(0, {days} - 1) AS d,
             generate_series(1, {per_day}) AS k
    ) AS numbered
) AS orders
"""

_RETURNS = """
INSERT INTO order_return (return_id, order_pk, at, restock, idempotency_key, request_hash)
SELECT 'ret_' || id, id, collected_at + interval '1 day', true, 'bench-' || id, 'h'
FROM "order" WHERE status = 'collected' AND id % 50 = 0
"""

_BASELINE_BY_DAY = """
SELECT store_id, date_trunc('day', created_at), count(*) FROM "order"
WHERE created_at >= %(start)s AND created_at < %(end)s {store} GROUP BY 1, 2
"""
_BASELINE_BY_STORE = """
SELECT store_id, count(*) FROM "order" WHERE created_at >= %(start)s AND created_at < %(end)s GROUP BY 1
"""


def build(conninfo: str, *, stores: int, per_day: int, until: date) -> int:
    import psycopg

    start = datetime.combine(until - timedelta(days=DAYS - 1), datetime.min.time(), UTC)
    zones = ", ".join(f"'{z}'" for z in ZONES)
    with psycopg.connect(conninfo, autocommit=True) as connection:
        connection.execute(_STORES.format(zones=zones, stores=stores))
        connection.execute(_ORDERS.format(start=start.isoformat(), stores=stores, days=DAYS, per_day=per_day))
        connection.execute(_RETURNS)
        connection.execute('VACUUM ANALYZE "order"')
        connection.execute("VACUUM ANALYZE order_return")
        connection.execute("VACUUM ANALYZE store")
        return int(connection.execute('SELECT count(*) FROM "order"').fetchone()[0])  # type: ignore[index]


def timed(run: Callable[[], object], rounds: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(rounds):
        began = time.perf_counter()
        result = run()
        times.append(time.perf_counter() - began)
    return statistics.median(times), result


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--stores", type=int, default=STORES)
    parser.add_argument("--database", default=DEFAULT_DATABASE)
    parser.add_argument("--per-day", type=int, default=2, help="orders per store per day")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--until", type=date.fromisoformat, default=date(2026, 11, 30))
    args = parser.parse_args()

    from bench.benchdb import fresh_database

    conninfo = fresh_database(args.database)
    began = time.perf_counter()
    orders = build(conninfo, stores=args.stores, per_day=args.per_day, until=args.until)
    print(
        f"built {args.stores} stores, {orders:,} orders ({args.per_day} per store per day, {DAYS} days) "
        f"in {time.perf_counter() - began:.0f} s"
    )

    import psycopg

    from orders import report
    from orders.report_schemas import ReportGroup
    from retail.auth import Principal, Role
    from retail.db import read_session_scope

    admin = Principal(key_id=0, role=Role.admin, store_code=None, key_ref="bench")
    month_from = args.until - timedelta(days=report.MAX_CHAIN_DAYS - 1)
    year_from = args.until - timedelta(days=DAYS - 1)
    cases = [
        ("chain by day, a month", month_from, None, ReportGroup.day),
        ("chain by store, a year", year_from, None, ReportGroup.store),
        ("one store by day, a year", year_from, "B0042", ReportGroup.day),
    ]
    with psycopg.connect(conninfo) as baseline:
        store_id = baseline.execute("SELECT id FROM store WHERE code = 'B0042'").fetchone()[0]  # type: ignore[index]
        print(f"{'case':28} {'items':>8} {'report s':>9} {'baseline s':>11} {'ratio':>6}")
        for name, first, store, group in cases:

            def run_report(first: date = first, store: str | None = store, group: ReportGroup = group) -> int:
                with read_session_scope() as session:
                    return len(
                        report.service_report(
                            session,
                            principal=admin,
                            date_from=first,
                            date_to=args.until,
                            store_code=store,
                            group=group,
                        )
                    )

            # The instants the report reads: of the one store's zone, or from the earliest start to the
            # latest end over the chain's zones.
            spans = [report.utc_bounds(first, args.until, z) for z in ([ZONES[42 % 3]] if store else ZONES)]
            start, end = min(lo for lo, _ in spans), max(hi for _, hi in spans)
            sql = (
                _BASELINE_BY_STORE
                if group is ReportGroup.store
                else _BASELINE_BY_DAY.format(store="" if store is None else f"AND store_id = {store_id}")
            )

            def run_baseline(sql: str = sql, start: datetime = start, end: datetime = end) -> int:
                return len(baseline.execute(sql, {"start": start, "end": end}).fetchall())

            report_s, items = timed(run_report, args.rounds)
            baseline_s, _ = timed(run_baseline, args.rounds)
            print(f"{name:28} {items:>8,} {report_s:>9.2f} {baseline_s:>11.2f} {report_s / baseline_s:>6.1f}")


if __name__ == "__main__":
    main()

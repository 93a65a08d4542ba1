"""Benchmark: click-and-collect orders end to end beside no-op Celery tasks, and the reservation function
beside a raw SQL conditional UPDATE.

    .venv/bin/python bench/orders.py [--orders 2000] [--concurrency 8] [--database postgresql://...]
                                     [--redis redis://127.0.0.1:6379/12] [--pool solo|prefork]
                                     [--api-workers 2] [--reserve-rounds 3] [--reservation-only]

Creates a throwaway PostgreSQL database (dropped and re-created, see `bench/benchdb.py`), flushes the bench
Redis database, and loads one store open around the clock (no public holidays) with 200 products of
1,000,000 units each, so every order is reserved. Then, in the same run:

1. Reservation function against raw SQL, `--concurrency` threads, the same `--orders` random baskets (1-3
   distinct products, 1-3 units each) both ways: `inventory.ledger.reserve_baskets` (the function a
   reservation run calls) with one basket and a commit at a time on one SQLModel session per thread, against
   a psycopg connection per thread doing a plain
   `UPDATE stock SET reserved = reserved + q WHERE ... AND on_hand - reserved - safety_stock >= q` per line
   (lines in product order, as the service locks them, so overlapping baskets cannot deadlock) and one
   commit per basket. The baskets run in halves, raw-service-service-raw, so drift in the machine's load
   falls on both alike; both sides are warmed up first. This is repeated for `--reserve-rounds` rounds of
   fresh baskets: the seconds add up, and each round's ratio is printed to show the spread. A third row,
   for information only, runs the same baskets through `reserve_baskets` 50 to a transaction, as a run
   draining a store's queue does.
   Transfers, in the same rounds after those rows, on the same baskets: a pickup store whose rows of every
   product hold nothing (BENCH-PICKUP) and a source store (BENCH-SOURCE, 200 products x 1,000,000 units)
   with a lane into it, so every line comes from the source. The service side is
   `inventory.transfer_ledger.reserve_sourced_baskets` (what a reservation run calls when a basket allows a
   transfer) with the sources `stores.lanes.transfer_sources` names for the pickup store, one
   `allow_transfer` basket and a commit at a time per thread: it locks the basket's rows at both stores in
   one statement, decides, and writes the source's sums with the ledger's statement (which logs their
   buckets for the availability feed). The baseline writes what that function writes, the source's
   `reserved`, as the plain row's does: a conditional `UPDATE` of the source's row per line, in product
   order, one commit per basket; it is told where the units are, so it reads and locks nothing at the
   pickup store, and it logs no feed buckets (neither does the plain row's baseline). The transfer row, the
   lines' source and the order's status are written by the rest of the run (`orders.transfers.plan`,
   `orders.reservation`), not by this function, so neither side writes them: the row compares the stock
   reservation across two stores, like for like. The halves run raw-service-service-raw again and each
   round's ratio is printed. `--reservation-only` runs this part alone (no Redis, no workers).
2. Celery over Redis with one and then two worker processes, each
   `python -m celery -A bench.noop_worker worker --pool <pool> --concurrency 1`: the service's own Celery app
   and tasks plus a no-op task (`bench/noop_worker.py`), so both workloads run on the very same workers,
   beside `retail serve --workers <--api-workers>` (uvicorn processes) of its own.
   - no-op baseline: the workers are paused (`cancel_consumer`), `--orders` no-op tasks are queued with
     `.delay()`, the workers resume (`add_consumer`); the rate is the tasks over the time from the resume
     until a Redis counter (one INCR per task) shows all ran: the workers' rate, not the sender's.
   - reservations, the same way: `--orders` orders POSTed while the workers are paused, reserved from
     the queue after the resume; timed from the resume to the last `order_event` decision. The API
     queues at most one reservation run per store at a time (`orders.queueing.queue_reservation`) and a
     run drains the store's pending orders in batches, so this counts orders, not tasks.
   - end to end: `--concurrency` client threads POST `--orders` orders to `/mobile/v1/orders` (1-3 random
     lines, a unique `Idempotency-Key` each; one keep-alive `http.client` connection per thread, as
     light as a client gets, since it shares the cores) as fast as the API answers, while the workers
     reserve them.
     The rate is the orders over the time from the first POST being sent until the last order's decision
     event (its `at` in `order_event`). Latency, POST sent to `reserved`, is the `reserved` event's `at`
     minus the client's wall clock when it sent the POST: no polling in it. Under this closed-loop load a
     backlog builds whenever the workers fall behind the API, so that latency is mostly time queued; a
     light-load latency is measured as well: one shopper at a time, each POST followed by polling
     `GET /mobile/v1/orders/{id}` until it is reserved (latency again from the event, not from the polls).

Every process the script starts is stopped at the end, also when it fails. Exit status 1 when an order is
not reserved or a basket is refused (the stock is meant to cover everything); the targets are reported,
not enforced.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import psycopg
from redis import Redis

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.benchdb import fresh_database

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATABASE = "postgresql://postgres@127.0.0.1:5432/winkelpunt_bench_orders"
DEFAULT_REDIS = "redis://127.0.0.1:6379/12"
STORE = "BENCH-247"
TRANSFER_PICKUP = "BENCH-PICKUP"  # holds none of the products
TRANSFER_SOURCE = "BENCH-SOURCE"  # holds them all, with a lane into TRANSFER_PICKUP
EVERY_HOUR = {
    day: [f"{hour:02d}:00" for hour in range(24)]
    for day in ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
}
PRODUCTS = 200
ON_HAND = 1_000_000
SEED = 20_261_123
WARM_UP = 50
LIGHT_LOAD_ORDERS = 40
ALWAYS_OPEN = {
    "weekly": {
        day: [{"opens": "00:00", "closes": "24:00"}]
        for day in ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
    },
    "special": [],
}
RAW_RESERVE = (
    "UPDATE stock SET reserved = reserved + %(quantity)s WHERE store_id = %(store)s "
    "AND product_id = %(product)s AND on_hand - reserved - safety_stock >= %(quantity)s"
)

Basket = list[tuple[int, int]]  # (product index 0..PRODUCTS-1, quantity)


class BenchFailure(Exception):
    """Something the benchmark relies on did not happen (an order not reserved, a process that died)."""


def percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def random_baskets(rng: random.Random, n: int) -> list[Basket]:
    return [
        [(p, rng.randint(1, 3)) for p in rng.sample(range(PRODUCTS), rng.randint(1, 3))] for _ in range(n)
    ]


def sku(index: int) -> str:
    return f"BP{index:05d}"


def in_threads(concurrency: int, work: Callable[[int, Callable[[], None]], None]) -> tuple[float, float]:
    """Run `work(i, go)` in `concurrency` threads; each sets up, then calls `go()` to wait for the others,
    so the timed part starts together. Answers the `perf_counter` at that start and when the last thread
    finished; the first exception of any thread is raised here."""
    barrier = threading.Barrier(concurrency + 1)
    errors: list[BaseException] = []

    def go() -> None:
        barrier.wait()

    def body(index: int) -> None:
        try:
            work(index, go)
        except threading.BrokenBarrierError:
            pass
        except BaseException as exc:  # handed to the main thread
            errors.append(exc)
            barrier.abort()

    threads = [threading.Thread(target=body, args=(i,), daemon=True) for i in range(concurrency)]
    for thread in threads:
        thread.start()
    with suppress(threading.BrokenBarrierError):
        barrier.wait()
    started = time.perf_counter()
    for thread in threads:
        thread.join()
    finished = time.perf_counter()
    if errors:
        raise errors[0]
    return started, finished


# ------------------------------------------------------------------------------------------------ processes


class Processes:
    """The subprocesses of the run, each logging to its own file; all stopped by `stop_all`."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.running: dict[str, subprocess.Popen[bytes]] = {}

    def start(self, name: str, args: list[str]) -> subprocess.Popen[bytes]:
        with (self.workdir / f"{name}.log").open("wb") as log:
            process = subprocess.Popen(
                [sys.executable, *args],
                cwd=ROOT,
                env={**os.environ, "RETAIL_LOG_LEVEL": "WARNING"},
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        self.running[name] = process
        return process

    def stop(self, name: str) -> None:
        process = self.running.pop(name)
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def stop_all(self) -> None:
        for name in list(self.running):
            self.stop(name)

    def check_alive(self) -> None:
        for name, process in self.running.items():
            if process.poll() is not None:
                log = (self.workdir / f"{name}.log").read_text(errors="replace")[-2000:]
                raise BenchFailure(f"{name} exited with {process.returncode}:\n{log}")


@contextmanager
def processes() -> Iterator[Processes]:
    workdir = Path(tempfile.mkdtemp(prefix="winkelpunt-bench-orders-"))
    running = Processes(workdir)
    try:
        yield running
    except BaseException:
        print(f"(process logs kept in {workdir})", file=sys.stderr)
        raise
    else:
        shutil.rmtree(workdir, ignore_errors=True)
    finally:
        running.stop_all()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) of a process and of its children (uvicorn's and Celery's), from /proc."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with suppress(OSError, IndexError, ValueError):
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(stat.parent.name) == pid or int(fields[1]) == pid:  # fields[1]: the parent's pid
                total += (int(fields[11]) + int(fields[12])) / tick
    return total


def backends_cpu(conninfo: str) -> dict[int, float]:
    """CPU time of each PostgreSQL backend serving the bench database (the API's and workers' pooled
    connections), by pid; the server's shared processes (WAL writer, checkpointer) are not in it."""
    with psycopg.connect(conninfo, autocommit=True) as connection:
        rows = connection.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
        ).fetchall()
    return {int(pid): cpu_seconds(int(pid)) for (pid,) in rows}


def wait_for(condition: Callable[[], bool], running: Processes, timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        running.check_alive()
        if time.monotonic() > deadline:
            raise BenchFailure(f"timed out waiting for {what}")
        time.sleep(0.05)


def start_server(running: Processes, workers: int) -> str:
    port = free_port()
    running.start("serve", ["-m", "app", "serve", "--port", str(port), "--workers", str(workers)])
    base = f"http://127.0.0.1:{port}"

    def ready() -> bool:
        try:
            return httpx.get(f"{base}/readyz", timeout=5).status_code == 200
        except httpx.TransportError:
            return False

    wait_for(ready, running, 60, "retail serve")
    return base


def start_workers(running: Processes, count: int, pool: str) -> list[str]:
    from retail.celery_app import celery_app

    names = [f"worker{i}" for i in range(count)]
    for name in names:
        running.start(
            name,
            [
                "-m",
                "celery",
                "-A",
                "bench.noop_worker",
                "worker",
                f"--pool={pool}",
                "--concurrency=1",
                "--loglevel=WARNING",
                f"--hostname=bench-{name}@%h",
            ],
        )
    wait_for(
        lambda: len(celery_app.control.ping(timeout=0.5)) >= count,
        running,
        60,
        f"{count} Celery worker(s) to answer a ping",
    )
    return names


# -------------------------------------------------------------------------------------------------- setup


@dataclass(frozen=True)
class Shop:
    store_id: int
    product_ids: list[int]  # by product index
    pickup_id: int  # the transfer rows' pickup store, which holds nothing
    source_id: int  # the one store with a lane into it, which holds everything
    sources: list[int]  # `stores.lanes.transfer_sources` of the pickup store, as a run asks them


def bench_store(code: str, name: str, street: str, lat: float, lon: float) -> dict[str, Any]:
    return {
        "code": code,
        "name": name,
        "address": {"street": street, "postcode": "3511 AA", "city": "Utrecht", "country": "NL"},
        "location": {"lat": lat, "lon": lon},
        "timezone": "Europe/Amsterdam",
        "click_and_collect": True,
        "closed_on_public_holidays": False,
        "hours": ALWAYS_OPEN,
    }


def load_shop(conninfo: str) -> Shop:
    from inventory import service as inventory_service
    from retail.clock import utcnow
    from retail.db import session_scope
    from stores import service as stores_service

    stock_of = {STORE: ON_HAND, TRANSFER_PICKUP: 0, TRANSFER_SOURCE: ON_HAND}
    with session_scope() as session:
        stores = stores_service.upsert_stores(
            session,
            rows=[
                bench_store(STORE, "Bench 24/7", "Hoogstraat 1", 52.0907, 5.1214),
                bench_store(TRANSFER_PICKUP, "Bench pickup", "Oudegracht 2", 52.0890, 5.1190),
                bench_store(TRANSFER_SOURCE, "Bench source", "Neude 3", 52.0930, 5.1200),
            ],
        )
        products = inventory_service.upsert_products(
            session,
            rows=[
                {"sku": sku(p), "name": f"Bench product {p}", "online_price": {"amount": "2.50"}}
                for p in range(PRODUCTS)
            ],
        )
        stock = inventory_service.apply_snapshots(
            session,
            rows=list(
                enumerate(
                    {"store_code": code, "sku": sku(p), "on_hand": on_hand, "as_of": "2026-01-05T06:00:00Z"}
                    for code, on_hand in stock_of.items()
                    for p in range(PRODUCTS)
                )
            ),
        )
        lanes = stores_service.upsert_lanes(
            session,
            rows=[
                {
                    "from_store": TRANSFER_SOURCE,
                    "to_store": TRANSFER_PICKUP,
                    "departures": EVERY_HOUR,
                    "transit_hours": 1,
                }
            ],
        )
        problems = stores.errors + products.errors + stock.errors + lanes.errors
        if problems:
            raise BenchFailure(f"the bench shop did not load: {problems[:3]}")
    with psycopg.connect(conninfo) as connection:
        store_ids: dict[str, int] = dict(connection.execute("SELECT code, id FROM store").fetchall())
        ids: dict[str, int] = dict(connection.execute("SELECT sku, id FROM product").fetchall())
    with session_scope() as session:
        pickup = stores_service.get_store(session, code=TRANSFER_PICKUP)
        sources = [
            s.store.id or 0 for s in stores_service.transfer_sources(session, store=pickup, at=utcnow())
        ]
    if sources != [store_ids[TRANSFER_SOURCE]]:
        raise BenchFailure(f"the pickup store's transfer sources are {sources}, not {TRANSFER_SOURCE}")
    return Shop(
        store_id=store_ids[STORE],
        product_ids=[int(ids[sku(p)]) for p in range(PRODUCTS)],
        pickup_id=store_ids[TRANSFER_PICKUP],
        source_id=store_ids[TRANSFER_SOURCE],
        sources=sources,
    )


# ------------------------------------------------------------------------------- reservation against raw SQL


def reserve_with_service(
    shop: Shop, baskets: Sequence[Basket], concurrency: int, *, per_transaction: int = 1
) -> float:
    """`inventory.ledger.reserve_baskets`, the service's reservation function, and a commit per
    `per_transaction` baskets, one session per thread; answers seconds."""
    from sqlmodel import Session

    from inventory.ledger import Quantity, reserve_baskets
    from retail.db import get_engine

    engine = get_engine()
    refused: list[int] = []

    def work(index: int, go: Callable[[], None]) -> None:
        mine = [
            [Quantity(shop.product_ids[p], q) for p, q in basket] for basket in baskets[index::concurrency]
        ]
        with Session(engine) as session:
            go()
            for start in range(0, len(mine), per_transaction):
                chunk = mine[start : start + per_transaction]
                outcomes = reserve_baskets(session, store_id=shop.store_id, baskets=chunk)
                refused.extend(i for i, outcome in enumerate(outcomes) if not outcome.reserved)
                session.commit()

    started, finished = in_threads(concurrency, work)
    if refused:
        raise BenchFailure(f"reserve_baskets() refused {len(refused)} baskets")
    return finished - started


def reserve_with_raw_sql(
    conninfo: str, shop: Shop, baskets: Sequence[Basket], concurrency: int, *, store_id: int | None = None
) -> float:
    """The same baskets as conditional UPDATEs over raw psycopg at `store_id` (the shop's store by
    default), one transaction per basket; seconds."""
    store = shop.store_id if store_id is None else store_id
    refused: list[Basket] = []

    def work(index: int, go: Callable[[], None]) -> None:
        mine = [sorted((shop.product_ids[p], q) for p, q in basket) for basket in baskets[index::concurrency]]
        with psycopg.connect(conninfo) as connection:
            go()
            for lines in mine:
                for product, quantity in lines:
                    params = {"quantity": quantity, "store": store, "product": product}
                    if connection.execute(RAW_RESERVE, params).rowcount != 1:
                        connection.rollback()
                        refused.append(lines)
                        break
                else:
                    connection.commit()

    started, finished = in_threads(concurrency, work)
    if refused:
        raise BenchFailure(f"the raw UPDATE refused {len(refused)} baskets, e.g. {refused[0]}")
    return finished - started


def reserve_transfers_with_service(shop: Shop, baskets: Sequence[Basket], concurrency: int) -> float:
    """`inventory.transfer_ledger.reserve_sourced_baskets`, what a reservation run calls for baskets that
    allow a transfer, at the pickup store that holds nothing, with its sources; one `allow_transfer`
    basket and a commit at a time, one session per thread; answers seconds."""
    from sqlmodel import Session

    from inventory.ledger import Quantity
    from inventory.transfer_ledger import SourcedBasket, reserve_sourced_baskets
    from retail.db import get_engine

    engine = get_engine()
    failed: list[str] = []

    def work(index: int, go: Callable[[], None]) -> None:
        mine = [
            SourcedBasket([Quantity(shop.product_ids[p], q) for p, q in basket], allow_transfer=True)
            for basket in baskets[index::concurrency]
        ]
        with Session(engine) as session:
            go()
            for basket in mine:
                (outcome,) = reserve_sourced_baskets(
                    session, store_id=shop.pickup_id, sources=shop.sources, baskets=[basket]
                )
                if not outcome.reserved or outcome.source != shop.source_id:
                    failed.append(f"{outcome}")
                session.commit()

    started, finished = in_threads(concurrency, work)
    if failed:
        raise BenchFailure(f"reserve_sourced_baskets() did not transfer {len(failed)} baskets: {failed[0]}")
    return finished - started


def reserve_transfers_with_raw_sql(
    conninfo: str, shop: Shop, baskets: Sequence[Basket], concurrency: int
) -> float:
    """The transfer baskets as conditional UPDATEs of the source's rows, one transaction per basket."""
    return reserve_with_raw_sql(conninfo, shop, baskets, concurrency, store_id=shop.source_id)


@dataclass(frozen=True)
class ReserveResult:
    baskets: int
    lines: int
    service_s: float
    raw_s: float
    batched_s: float
    batch: int
    round_ratios: list[float]
    transfer_service_s: float
    transfer_raw_s: float
    transfer_round_ratios: list[float]


def compare_reservation(conninfo: str, shop: Shop, n: int, concurrency: int, rounds: int) -> ReserveResult:
    """`rounds` rounds of `n` baskets each way; the seconds add up over the rounds, and each round's own
    ratio is kept to show the spread (one round of 2,000 baskets is under half a second of raw SQL)."""
    from orders.tasks import RESERVE_BATCH

    rng = random.Random(SEED)
    warm_up = random_baskets(rng, 4 * concurrency)
    reserve_with_raw_sql(conninfo, shop, warm_up, concurrency)
    reserve_with_service(shop, warm_up, concurrency)
    reserve_transfers_with_raw_sql(conninfo, shop, warm_up, concurrency)
    reserve_transfers_with_service(shop, warm_up, concurrency)
    service_s = raw_s = batched_s = transfer_service_s = transfer_raw_s = 0.0
    lines = 0
    round_ratios: list[float] = []
    transfer_round_ratios: list[float] = []
    for _ in range(rounds):
        baskets = random_baskets(rng, n)
        lines += sum(len(b) for b in baskets)
        first, second = baskets[: n // 2], baskets[n // 2 :]
        raw = reserve_with_raw_sql(conninfo, shop, first, concurrency)
        service = reserve_with_service(shop, first, concurrency)
        service += reserve_with_service(shop, second, concurrency)
        raw += reserve_with_raw_sql(conninfo, shop, second, concurrency)
        # For information, after the measured pair: the same baskets in transactions of a reservation run.
        batched_s += reserve_with_service(shop, baskets, concurrency, per_transaction=RESERVE_BATCH)
        service_s, raw_s = service_s + service, raw_s + raw
        round_ratios.append(raw / service)
        # Transfers: the same baskets from the source into the pickup store, halves in the same order.
        raw = reserve_transfers_with_raw_sql(conninfo, shop, first, concurrency)
        service = reserve_transfers_with_service(shop, first, concurrency)
        service += reserve_transfers_with_service(shop, second, concurrency)
        raw += reserve_transfers_with_raw_sql(conninfo, shop, second, concurrency)
        transfer_service_s, transfer_raw_s = transfer_service_s + service, transfer_raw_s + raw
        transfer_round_ratios.append(raw / service)
        print(
            f"   round {len(round_ratios)}: one basket + commit {round_ratios[-1]:.0%} of raw, "
            f"transfer {transfer_round_ratios[-1]:.0%} of raw",
            flush=True,
        )
    return ReserveResult(
        n * rounds,
        lines,
        service_s,
        raw_s,
        batched_s,
        RESERVE_BATCH,
        round_ratios,
        transfer_service_s,
        transfer_raw_s,
        transfer_round_ratios,
    )


# ------------------------------------------------------------------------------------- Celery and the API


class PausedConsumers:
    """While the block runs the workers take no tasks (the queue fills); they resume at its end. The drain
    after it measures the workers alone, not whoever filled the queue. `resumed` and `resumed_wall` are
    the `perf_counter` and wall clock just before the resume was broadcast."""

    def __init__(self, workers: int) -> None:
        from retail.celery_app import celery_app

        self.control = celery_app.control
        self.queue = celery_app.conf.task_default_queue
        self.workers = workers
        self.resumed = self.resumed_wall = 0.0

    def __enter__(self) -> PausedConsumers:
        self._confirm("pause", self.control.cancel_consumer(self.queue, reply=True, limit=self.workers))
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.resumed, self.resumed_wall = time.perf_counter(), time.time()
        self._confirm("resume", self.control.add_consumer(self.queue, reply=True, limit=self.workers))

    def _confirm(self, what: str, replies: list[dict[str, Any]]) -> None:
        if len(replies) != self.workers:
            raise BenchFailure(f"{len(replies)} of {self.workers} workers confirmed the {what}: {replies}")


def run_noops(redis: Redis, n: int, concurrency: int, workers: int, running: Processes) -> float:
    """No-op tasks per second: `n` queued while the workers are paused, timed from the resume until a
    Redis counter shows all ran."""
    from bench.noop_worker import COUNTER_KEY, noop

    redis.set(COUNTER_KEY, 0)

    def work(index: int, go: Callable[[], None]) -> None:
        go()
        for _ in range(index, n, concurrency):
            noop.delay()

    with PausedConsumers(workers) as paused:
        in_threads(concurrency, work)
        if int(redis.get(COUNTER_KEY) or 0) > workers:  # at most one prefetched message each
            raise BenchFailure("the workers ran no-op tasks while paused")
    wait_for(lambda: int(redis.get(COUNTER_KEY) or 0) >= n, running, 120 + n / 10, f"{n} no-op tasks")
    return n / (time.perf_counter() - paused.resumed)


def order_body(basket: Basket, index: int) -> dict[str, Any]:
    return {
        "store_code": STORE,
        "lines": [{"sku": sku(p), "quantity": q} for p, q in basket],
        "customer": {"name": f"Klant {index}", "email": f"klant{index}@example.nl"},
    }


@dataclass(frozen=True)
class Decided:
    status: str
    at: datetime | None  # the decision event's time


def wait_until_decided(
    conninfo: str, order_ids: list[str], running: Processes, timeout_s: float
) -> dict[str, Decided]:
    with psycopg.connect(conninfo, autocommit=True) as connection:

        def none_pending() -> bool:
            row = connection.execute(
                """SELECT count(*) FROM "order" WHERE order_id = ANY(%s) AND status = 'pending'""",
                (order_ids,),
            ).fetchone()
            return row is not None and row[0] == 0

        wait_for(none_pending, running, timeout_s, f"{len(order_ids)} orders to be decided")
        rows = connection.execute(
            """SELECT o.order_id, o.status, max(e.at) FILTER (WHERE e.status <> 'pending')
               FROM "order" o JOIN order_event e ON e.order_pk = o.id
               WHERE o.order_id = ANY(%s) GROUP BY o.order_id, o.status""",
            (order_ids,),
        ).fetchall()
    return {order_id: Decided(status, at) for order_id, status, at in rows}


@dataclass(frozen=True)
class Orders:
    orders: int
    seconds: float  # first POST sent (or the workers' resume) to the last decision
    post_ms: list[float]
    latency_ms: list[float]  # POST sent to `reserved`
    statuses: Counter[str]

    @property
    def rate(self) -> float:
        return self.orders / self.seconds


def post_orders(
    base: str, baskets: Sequence[Basket], concurrency: int, tag: str
) -> tuple[list[tuple[str, float]], list[float]]:
    """POST the baskets from `concurrency` client threads; answers (order_id, wall clock when its POST
    was sent) and the POST times in ms."""
    sent: list[tuple[str, float]] = []
    post_ms: list[float] = []

    def work(index: int, go: Callable[[], None]) -> None:
        # The shoppers' side shares the two cores with the server, so it is kept light: one keep-alive
        # `http.client` connection per thread (httpx costs about 1 ms of CPU a request here).
        url = urlsplit(base)
        connection = http.client.HTTPConnection(url.hostname or "127.0.0.1", url.port, timeout=60)
        try:
            go()
            for i in range(index, len(baskets), concurrency):
                at, started = time.time(), time.perf_counter()
                connection.request(
                    "POST",
                    "/mobile/v1/orders",
                    body=json.dumps(order_body(baskets[i], i)),
                    headers={"Content-Type": "application/json", "Idempotency-Key": f"{tag}-{i}"},
                )
                response = connection.getresponse()
                body = response.read()
                post_ms.append((time.perf_counter() - started) * 1e3)
                if response.status != 202:
                    raise BenchFailure(f"POST /mobile/v1/orders: {response.status} {body[:300]!r}")
                sent.append((json.loads(body)["order_id"], at))
        finally:
            connection.close()

    in_threads(concurrency, work)
    return sent, post_ms


def run_orders(
    base: str, conninfo: str, baskets: Sequence[Basket], concurrency: int, tag: str, running: Processes
) -> Orders:
    """End to end: the clients POST while the workers reserve."""
    sent, post_ms = post_orders(base, baskets, concurrency, tag)
    decided = wait_until_decided(conninfo, [o for o, _ in sent], running, 120 + len(baskets) / 5)
    return summarise(sent, decided, post_ms, since=min(at for _, at in sent))


def drain_orders(
    base: str,
    conninfo: str,
    baskets: Sequence[Basket],
    concurrency: int,
    tag: str,
    workers: int,
    running: Processes,
) -> Orders:
    """The workers alone: the orders are accepted while the workers are paused, then reserved from the
    queue; timed from the resume to the last decision."""
    with PausedConsumers(workers) as paused:
        sent, post_ms = post_orders(base, baskets, concurrency, tag)
    decided = wait_until_decided(conninfo, [o for o, _ in sent], running, 120 + len(baskets) / 5)
    return summarise(sent, decided, post_ms, since=paused.resumed_wall)


def summarise(
    sent: list[tuple[str, float]], decided: dict[str, Decided], post_ms: list[float], *, since: float
) -> Orders:
    statuses = Counter(decided[order_id].status for order_id, _ in sent)
    latency_ms = [
        (d.at.timestamp() - at) * 1e3
        for order_id, at in sent
        if (d := decided[order_id]).status == "reserved" and d.at is not None
    ]
    last = max(d.at.timestamp() for d in decided.values() if d.at is not None)
    return Orders(len(sent), last - since, post_ms, latency_ms, statuses)


def run_light_load(
    base: str, conninfo: str, baskets: Sequence[Basket], tag: str, running: Processes
) -> Orders:
    """One shopper at a time: POST, then poll the order's GET with its token until it is decided."""
    sent: list[tuple[str, float]] = []
    post_ms: list[float] = []
    with httpx.Client(base_url=base, timeout=60) as client:
        for i, basket in enumerate(baskets):
            at, started = time.time(), time.perf_counter()
            response = client.post(
                "/mobile/v1/orders", json=order_body(basket, i), headers={"Idempotency-Key": f"{tag}-{i}"}
            )
            post_ms.append((time.perf_counter() - started) * 1e3)
            if response.status_code != 202:
                raise BenchFailure(f"POST /mobile/v1/orders: {response.status_code} {response.text[:300]}")
            accepted = response.json()
            sent.append((accepted["order_id"], at))
            headers = {"Authorization": f"Bearer {accepted['order_token']}"}
            deadline = time.monotonic() + 60
            while client.get(accepted["status_url"], headers=headers).json()["status"] == "pending":
                running.check_alive()
                if time.monotonic() > deadline:
                    raise BenchFailure(f"order {accepted['order_id']} still pending after 60 s")
                time.sleep(0.01)
    decided = wait_until_decided(conninfo, [o for o, _ in sent], running, 10)
    return summarise(sent, decided, post_ms, since=min(at for _, at in sent))


@dataclass(frozen=True)
class WorkerRun:
    workers: int
    noop_rate: float
    drained: Orders
    loaded: Orders
    light: Orders
    # CPU per order end to end: the API's processes, the workers, the clients, the database's backends
    cpu_ms: dict[str, float]


def run_with_workers(
    count: int, args: argparse.Namespace, base: str, conninfo: str, redis: Redis, running: Processes
) -> WorkerRun:
    rng = random.Random(SEED + count)
    names = start_workers(running, count, args.pool)
    try:
        run_noops(redis, WARM_UP, args.concurrency, count, running)
        run_orders(base, conninfo, random_baskets(rng, WARM_UP), args.concurrency, f"warm{count}", running)
        noop_rate = run_noops(redis, args.orders, args.concurrency, count, running)
        drained = drain_orders(
            base,
            conninfo,
            random_baskets(rng, args.orders),
            args.concurrency,
            f"drain{count}",
            count,
            running,
        )
        processes_cpu = {
            "API": lambda: cpu_seconds(running.running["serve"].pid),
            "workers": lambda: sum(cpu_seconds(running.running[name].pid) for name in names),
            "clients": time.process_time,
        }
        cpu_before = {what: measure() for what, measure in processes_cpu.items()}
        backends_before = backends_cpu(conninfo)
        loaded = run_orders(
            base, conninfo, random_baskets(rng, args.orders), args.concurrency, f"load{count}", running
        )
        cpu_ms = {
            what: (measure() - cpu_before[what]) * 1e3 / args.orders
            for what, measure in processes_cpu.items()
        }
        backends_after = backends_cpu(conninfo)
        backends_s = sum(cpu - backends_before.get(pid, 0.0) for pid, cpu in backends_after.items())
        cpu_ms["PostgreSQL"] = backends_s * 1e3 / args.orders
        light = run_light_load(
            base, conninfo, random_baskets(rng, LIGHT_LOAD_ORDERS), f"light{count}", running
        )
    finally:
        for name in names:
            running.stop(name)
    return WorkerRun(count, noop_rate, drained, loaded, light, cpu_ms)


# ------------------------------------------------------------------------------------------------- report


def verdict(ratio: float) -> str:
    return "holds" if ratio >= 0.5 else "does NOT hold"


def report_reservation(args: argparse.Namespace, reservation: ReserveResult) -> list[tuple[str, float]]:
    """Part 1's table; answers its targets (what, ratio)."""
    print(
        f"\n1. Reservation function against raw SQL: {reservation.baskets:,} baskets "
        f"({reservation.lines:,} lines) at {args.concurrency} threads, PostgreSQL, in "
        f"{len(reservation.round_ratios)} rounds"
    )
    print(f"{'path':<66} {'seconds':>8} {'baskets/s':>10} {'vs raw':>7}")

    def row(name: str, seconds: float, baseline_s: float) -> None:
        rate = reservation.baskets / seconds
        print(f"{name:<66} {seconds:>8.2f} {rate:>10,.0f} {baseline_s / seconds:>7.0%}")

    row("raw psycopg conditional UPDATE per line (baseline)", reservation.raw_s, reservation.raw_s)
    row("inventory.ledger.reserve_baskets, one basket + commit", reservation.service_s, reservation.raw_s)
    row(
        f"  the same, {reservation.batch} baskets a transaction (a reservation run)",
        reservation.batched_s,
        reservation.raw_s,
    )
    each = " ".join(f"{ratio:.0%}" for ratio in reservation.round_ratios)
    print(f"   one basket + commit against the baseline, round by round: {each}")
    print(f"   transfers: {TRANSFER_PICKUP} holds none of the lines, {TRANSFER_SOURCE} (a lane) all of them")
    row(
        "raw psycopg conditional UPDATE per line at the source (baseline)",
        reservation.transfer_raw_s,
        reservation.transfer_raw_s,
    )
    row(
        "inventory.transfer_ledger.reserve_sourced_baskets, one + commit",
        reservation.transfer_service_s,
        reservation.transfer_raw_s,
    )
    each = " ".join(f"{ratio:.0%}" for ratio in reservation.transfer_round_ratios)
    print(f"   transfer, one basket + commit against its baseline, round by round: {each}")
    return [
        ("reservation path >= 50% of raw SQL baskets/s", reservation.raw_s / reservation.service_s),
        (
            "transfer reservation >= 50% of its raw SQL baskets/s",
            reservation.transfer_raw_s / reservation.transfer_service_s,
        ),
    ]


def print_targets(targets: list[tuple[str, float]]) -> None:
    print("\nTargets")
    for what, ratio in targets:
        print(f"  {what}: {ratio:.0%} -> {verdict(ratio)}")


def report(args: argparse.Namespace, reservation: ReserveResult, runs: list[WorkerRun]) -> bool:
    targets = report_reservation(args, reservation)
    print(
        f"\n2. Celery over Redis ({args.redis}), {args.orders:,} tasks / orders per figure, "
        f"{args.concurrency} client threads;\n   workers: --pool={args.pool} --concurrency=1 "
        f"({'tasks run in the worker process' if args.pool == 'solo' else 'one pool child runs the tasks'}), "
        f"retail serve --workers {args.api_workers}; all on this machine"
    )
    print(
        f"{'workers':>7} {'no-op tasks/s':>14} {'orders/s e2e':>13} {'vs no-op':>9} "
        f"{'reserved/s drain':>16} {'vs no-op':>9} {'POST p50 ms':>12} {'reserved p50 ms':>16} {'p99 ms':>8}"
    )
    for run in runs:
        e2e, drained = run.loaded, run.drained
        print(
            f"{run.workers:>7} {run.noop_rate:>14,.0f} {e2e.rate:>13,.1f} {e2e.rate / run.noop_rate:>9.0%} "
            f"{drained.rate:>16,.1f} {drained.rate / run.noop_rate:>9.0%} "
            f"{statistics.median(e2e.post_ms):>12.1f} {statistics.median(e2e.latency_ms):>16,.0f} "
            f"{percentile(e2e.latency_ms, 0.99):>8,.0f}"
        )
    print(
        "   no-op tasks/s and reserved/s drain: queued while the workers were paused, timed from the resume "
        "(workers only);\n   orders/s e2e: clients POST while the workers reserve, first POST to last "
        "decision; latency: POST sent to `reserved`."
    )
    print(
        "\n   CPU per order end to end (user + system), by process; PostgreSQL: the bench database's "
        "backends only; Redis (shared) not counted"
    )
    print(f"{'workers':>7} " + " ".join(f"{what + ' ms':>12}" for what in runs[0].cpu_ms))
    for run in runs:
        print(f"{run.workers:>7} " + " ".join(f"{ms:>12.2f}" for ms in run.cpu_ms.values()))
    print(
        f"\n   POST to `reserved` at light load ({LIGHT_LOAD_ORDERS} orders, one shopper at a time, "
        "polling GET /mobile/v1/orders/{id})"
    )
    print(f"{'workers':>7} {'POST p50 ms':>12} {'reserved p50 ms':>16} {'p99 ms':>8}")
    for run in runs:
        light = run.light
        print(
            f"{run.workers:>7} {statistics.median(light.post_ms):>12.1f} "
            f"{statistics.median(light.latency_ms):>16.1f} {percentile(light.latency_ms, 0.99):>8.1f}"
        )
    ok = True
    for run in runs:
        for orders in (run.drained, run.loaded, run.light):
            if orders.statuses != Counter({"reserved": orders.orders}):
                print(f"!! {run.workers} worker(s): not every order was reserved: {dict(orders.statuses)}")
                ok = False

    for run in runs:
        what = f"orders end to end >= 50% of no-op tasks/s, {run.workers} worker(s)"
        targets.append((what, run.loaded.rate / run.noop_rate))
    print_targets(targets)
    return ok


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--orders", type=int, default=2000, help="orders, no-op tasks and baskets per run")
    parser.add_argument("--concurrency", type=int, default=8, help="client threads")
    parser.add_argument("--database", default=DEFAULT_DATABASE)
    parser.add_argument("--redis", default=DEFAULT_REDIS, help="the bench's Redis database (flushed)")
    parser.add_argument("--pool", choices=["solo", "prefork"], default="solo", help="Celery worker pool")
    parser.add_argument(
        "--api-workers", type=int, default=2, help="uvicorn processes of `retail serve` (its --workers)"
    )
    parser.add_argument(
        "--reserve-rounds",
        type=int,
        default=3,
        help="rounds of --orders baskets, reservation part",
    )
    parser.add_argument(
        "--reservation-only",
        action="store_true",
        help="part 1 alone (the reservation functions against raw SQL): no Redis, no workers, no API",
    )
    args = parser.parse_args(argv)
    # Stopped from outside, the script still stops what it started (the `finally` of `processes`).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(128 + signal.SIGTERM))

    if args.reservation_only:
        conninfo = fresh_database(args.database)
        shop = load_shop(conninfo)
        print(f"stores {STORE}, {TRANSFER_PICKUP}, {TRANSFER_SOURCE}, {PRODUCTS} products", flush=True)
        reservation = compare_reservation(conninfo, shop, args.orders, args.concurrency, args.reserve_rounds)
        print_targets(report_reservation(args, reservation))
        return 0
    conninfo = fresh_database(args.database, redis_url=args.redis)
    redis = Redis.from_url(args.redis)
    redis.flushdb()
    from retail.celery_app import celery_app

    if celery_app.conf.task_always_eager:
        raise BenchFailure("the Celery app runs tasks in-process; RETAIL_REDIS_URL was not picked up")

    shop = load_shop(conninfo)
    print(f"store {STORE} open 24/7, {PRODUCTS} products x {ON_HAND:,} units; Redis {args.redis}", flush=True)
    reservation = compare_reservation(conninfo, shop, args.orders, args.concurrency, args.reserve_rounds)
    print("reservation function against raw SQL: done", flush=True)
    runs: list[WorkerRun] = []
    with processes() as running:
        base = start_server(running, args.api_workers)
        for count in (1, 2):
            runs.append(run_with_workers(count, args, base, conninfo, redis, running))
            print(f"{count} worker(s): done", flush=True)
    return 0 if report(args, reservation, runs) else 1


if __name__ == "__main__":
    sys.exit(main())

"""Benchmark: the shopper endpoints over HTTP with `wrk`, beside a bare FastAPI app under the same uvicorn.

    .venv/bin/python bench/http_endpoints.py [--duration 10] [--warm-up 2] [--connections 8]
                                             [--threads 2] [--workers 1,2] [--database postgresql://...]
                                             [--redis auto|URL|none] [--log-level INFO] [--embedded]

Creates a throwaway PostgreSQL database (dropped and re-created, see `bench/benchdb.py`), loads the demo
chain into it (`retail demo`: about 180 stores in the Netherlands and Belgium, 2,400 products, 440,000
stock rows) and then, for each `--workers` count in turn, runs `retail serve --workers N` and measures each
endpoint below with `wrk`, then stops it and runs `bench/bare_app.py` (`/ping`, and `POST /orders`, which
validates the order body and answers 202) with the same worker count and the same uvicorn settings as
`retail serve` (its HTTP protocol class from `app/serving.py`, no uvicorn log config, no access log, no
proxy headers, the same log level), and measures its GET and POST. The service's GETs are compared with
the bare GET, its POST with the bare POST. `--embedded` does it all again on the embedded default: no
`RETAIL_DATABASE_URL` (a SQLite file under a temporary directory) and no Redis.

Endpoints, each rotating through 200 requests built from the demo data (wrk's Lua `request` hook), each
thread starting at its own place in the list:

- `GET /mobile/v1/stores/nearest?lat=&lon=&limit=10`, points within about 5 km of demo stores
- `GET /mobile/v1/stores/{code}` and `/stores/{code}/hours`, demo store codes
- `GET /mobile/v1/products/{sku}`, and its `/availability` and `/prices` near a point (`lat`, `lon`,
  `limit=10`), demo skus
- `GET /mobile/v1/products?q=`, what a shopper types (`bench/product_search.py`'s queries)
- `POST /mobile/v1/orders`, 1-3 lines at a click-and-collect store that holds them, a unique
  `Idempotency-Key` per request (the run's tag, wrk's thread number and a counter)
- `GET /mobile/v1/products/{sku}/availability` again with `allow_transfer=true` (over the demo's lanes:
  the stores that lack the sku but can get it by transfer, with that promise)

Which POST is measured: with no broker (`RETAIL_REDIS_URL` unset) Celery runs tasks eagerly, so the
reservation runs inside `POST /orders`, after its commit and before the answer. With Redis the API only
queues it. The bench wants the API's own cost of accepting an order, so by default it runs the service
with Redis, on a database number claimed as the test runs claim theirs (`tests/run_services.py`), and
starts no worker: the reservations stay queued and the orders pending, and the stock never runs out.
With Redis the shopper rate limit is shared through Redis too, as in any deployment with a broker (each
process reporting its count there once per twentieth of the limit, `retail/ratelimit.py`). `--redis none`
runs tasks in-process instead (the POST then includes the reservation), and the embedded run always does,
being the embedded default.

Each endpoint is warmed up for `--warm-up` seconds, then measured for `--duration`. Printed per endpoint:
requests/s, p50 and p99 latency, the count of non-2xx answers (counted by a Lua `response` hook; the first
one is printed) and of socket errors and timeouts, requests/s as a share of the bare baseline's, and CPU
per request of the serving processes: utime + stime from /proc of the uvicorn process and all its
descendants (with `--workers` the workers are the supervisor's children), before and after the run,
divided by the requests served; on PostgreSQL, the same of the backends serving the bench database
(`pg_stat_activity`). Also the cores that process tree and wrk kept busy, to show which was the bound, and
the machine's load average at the start, before each run and at the end. Exit status 1 on any non-2xx
answer, socket error or timeout.

Not `bench/http.py`: the scripts here run as `python bench/<name>.py`, which puts bench/ first on the
path, and a module there named `http` would stand in for the standard library's package in every one of
them (httpx and uvicorn import `http.client`).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import httpx
import psycopg
from redis import Redis

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import wrk
from bench.orders import backends_cpu

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATABASE = "postgresql://postgres@127.0.0.1:5432/winkelpunt_bench_http"
SEED = 20_261_213
REQUESTS_PER_ENDPOINT = 200
POINT_JITTER = 0.05  # degrees around a demo store, about 5 km
ORDERABLE_STORES = 20
ORDERABLE_AVAILABLE = 20  # units a stock row must have free to be ordered from (in-process runs reserve)
QUIET_CPU_S = 0.03  # CPU seconds a second the serving processes may still use once idle
BASELINE = {"GET": "bare GET /ping", "POST": "bare POST /orders"}


class BenchFailure(Exception):
    """Something the benchmark relies on did not happen (a process that died, an endpoint that fails)."""


# ------------------------------------------------------------------------------------------------ the demo


@dataclass(frozen=True)
class Demo:
    """What the requests are built from: the loaded demo chain."""

    stores: list[tuple[str, float, float]]  # code, lat, lon
    products: list[dict[str, Any]]  # sku, name, brand
    orderable: dict[str, list[str]]  # click-and-collect store code -> skus with plenty free there


def read_demo(query: Callable[[str], list[tuple[Any, ...]]]) -> Demo:
    stores = [
        (str(c), float(la), float(lo))
        # Warehouses are not the shopper's: their codes answer 404 to the app.
        for c, la, lo in query("SELECT code, lat, lon FROM store WHERE kind = 'store' ORDER BY code")
    ]
    products = [
        {"sku": str(s), "name": str(n), "brand": str(b)}
        for s, n, b in query("SELECT sku, name, brand FROM product ORDER BY sku")
    ]
    rows = query(
        f"""SELECT st.code, p.sku FROM stock s
            JOIN store st ON st.id = s.store_id JOIN product p ON p.id = s.product_id
            WHERE st.click_and_collect AND s.on_hand - s.reserved - s.safety_stock >= {ORDERABLE_AVAILABLE}
            ORDER BY st.code, p.sku"""
    )
    by_store: dict[str, list[str]] = {}
    for code, sku in rows:
        by_store.setdefault(str(code), []).append(str(sku))
    # The stores holding the most, so that in-process runs (which reserve) do not empty them.
    richest = sorted(by_store, key=lambda code: (-len(by_store[code]), code))[:ORDERABLE_STORES]
    if not richest or not products:
        raise BenchFailure("the demo chain has no click-and-collect store with stock")
    return Demo(stores=stores, products=products, orderable={code: by_store[code] for code in richest})


def postgres_query(conninfo: str) -> Callable[[str], list[tuple[Any, ...]]]:
    def query(sql: str) -> list[tuple[Any, ...]]:
        with psycopg.connect(conninfo) as connection:
            return connection.execute(sql).fetchall()

    return query


def sqlite_query(path: Path) -> Callable[[str], list[tuple[Any, ...]]]:
    def query(sql: str) -> list[tuple[Any, ...]]:
        with sqlite3.connect(path) as connection:
            return connection.execute(sql).fetchall()

    return query


# -------------------------------------------------------------------------------------------- the requests


@dataclass(frozen=True)
class Endpoint:
    name: str
    requests: wrk.Requests  # its method also names the bare baseline it is compared with


def near(rng: random.Random, demo: Demo) -> dict[str, float]:
    _code, lat, lon = rng.choice(demo.stores)
    return {
        "lat": round(lat + rng.uniform(-POINT_JITTER, POINT_JITTER), 5),
        "lon": round(lon + rng.uniform(-POINT_JITTER, POINT_JITTER), 5),
    }


def endpoints(demo: Demo) -> list[Endpoint]:
    from bench.product_search import shopper_queries

    rng = random.Random(SEED)
    n = REQUESTS_PER_ENDPOINT
    base = "/mobile/v1"

    def get(name: str, paths: list[str]) -> Endpoint:
        return Endpoint(name, wrk.Requests("GET", paths))

    def codes() -> list[str]:
        return [quote(rng.choice(demo.stores)[0], safe="") for _ in range(n)]

    def skus() -> list[str]:
        return [quote(rng.choice(demo.products)["sku"], safe="") for _ in range(n)]

    def near_query() -> str:
        return urlencode({**near(rng, demo), "limit": 10})

    return [
        get("GET /stores/nearest", [f"{base}/stores/nearest?{near_query()}" for _ in range(n)]),
        get("GET /stores/{code}", [f"{base}/stores/{code}" for code in codes()]),
        get("GET /stores/{code}/hours", [f"{base}/stores/{code}/hours" for code in codes()]),
        get("GET /products/{sku}", [f"{base}/products/{sku}" for sku in skus()]),
        get(
            "GET /products/{sku}/availability",
            [f"{base}/products/{sku}/availability?{near_query()}" for sku in skus()],
        ),
        get("GET /products/{sku}/prices", [f"{base}/products/{sku}/prices?{near_query()}" for sku in skus()]),
        get(
            "GET /products?q=",
            [f"{base}/products?{urlencode({'q': q})}" for q in shopper_queries(demo.products, n, rng)],
        ),
        Endpoint("POST /orders", wrk.Requests("POST", [f"{base}/orders"] * n, order_bodies(demo, rng, n))),
        # Last, so that the requests above stay those of earlier runs (one seeded generator draws them all).
        get(
            "GET /products/{sku}/availability?allow_transfer=true",
            [f"{base}/products/{sku}/availability?{near_query()}&allow_transfer=true" for sku in skus()],
        ),
    ]


def order_bodies(demo: Demo, rng: random.Random, n: int) -> list[str]:
    """`n` valid order bodies: 1-3 lines of one unit at a click-and-collect store that holds them."""
    bodies = []
    for _ in range(n):
        store = rng.choice(list(demo.orderable))
        held = demo.orderable[store]
        lines = [{"sku": sku, "quantity": 1} for sku in rng.sample(held, min(len(held), rng.randint(1, 3)))]
        customer = {"name": "Bench Shopper", "email": "bench@example.nl"}
        bodies.append(json.dumps({"store_code": store, "lines": lines, "customer": customer}))
    return bodies


def bare_endpoints(orders: Endpoint) -> list[Endpoint]:
    """The baselines: the bare GET, and the bare POST with the very bodies of the service's POST."""
    bodies = orders.requests.bodies
    return [
        Endpoint(BASELINE["GET"], wrk.Requests("GET", ["/ping"])),
        Endpoint(BASELINE["POST"], wrk.Requests("POST", ["/orders"] * len(bodies), bodies)),
    ]


# ----------------------------------------------------------------------------------------------- processes


def tree_cpu(root: int) -> tuple[float, frozenset[int]]:
    """CPU seconds (user + system) of `root` and every process descended from it, with what their reaped
    children used, and the pids counted: a worker replaced mid-run would show as a changed set."""
    tick = os.sysconf("SC_CLK_TCK")
    parent: dict[int, int] = {}
    spent: dict[int, float] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with suppress(OSError, IndexError, ValueError):
            fields = stat.read_text().rsplit(")", 1)[1].split()
            pid = int(stat.parent.name)
            parent[pid] = int(fields[1])  # fields[1]: ppid; [11], [12]: utime, stime; [13], [14]: of children
            spent[pid] = sum(int(f) for f in fields[11:15]) / tick
    members = {root}
    while grown := {pid for pid, ppid in parent.items() if ppid in members} - members:
        members |= grown
    return sum(spent.get(pid, 0.0) for pid in members), frozenset(members & spent.keys())


class Server:
    """One serving process (and its uvicorn workers), in a process group of its own, logging to a file."""

    def __init__(self, args: list[str], *, log: Path, cwd: Path, env: dict[str, str]) -> None:
        self.log = log
        with log.open("wb") as out:
            self.process = subprocess.Popen(
                [sys.executable, *args],
                cwd=cwd,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def check_alive(self) -> None:
        if self.process.poll() is not None:
            tail = self.log.read_text(errors="replace")[-3000:]
            raise BenchFailure(f"{self.log.stem} exited with {self.process.returncode}:\n{tail}")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()  # uvicorn's supervisor stops its workers on SIGTERM
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        # A worker its supervisor left behind is still in the group the server was started in (its own).
        for pid in _in_group(self.process.pid):
            with suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


def _in_group(pgid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with suppress(OSError, IndexError, ValueError):
            if int(stat.read_text().rsplit(")", 1)[1].split()[2]) == pgid:  # fields[2]: the process group
                found.append(int(stat.parent.name))
    return found


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_ready(server: Server, url: str, timeout_s: float = 120) -> None:
    deadline = time.monotonic() + timeout_s
    while True:
        server.check_alive()
        with suppress(httpx.TransportError):
            if httpx.get(url, timeout=5).status_code == 200:
                return
        if time.monotonic() > deadline:
            raise BenchFailure(f"{url} did not answer 200 within {timeout_s:.0f} s")
        time.sleep(0.1)


def wait_quiet(server: Server, timeout_s: float = 60) -> None:
    """Wait until the serving processes are idle: each worker loads the gazetteer in a thread at start,
    a second or two of CPU that must not be counted against the first endpoint."""
    deadline = time.monotonic() + timeout_s
    before, _ = tree_cpu(server.process.pid)
    while time.monotonic() < deadline:
        time.sleep(1.0)
        server.check_alive()
        now, _ = tree_cpu(server.process.pid)
        if now - before < QUIET_CPU_S:
            return
        before = now
    print(f"  (still busy after {timeout_s:.0f} s; measuring anyway)", file=sys.stderr)


# ----------------------------------------------------------------------------------------------- measuring


@dataclass(frozen=True)
class Result:
    target: str
    workers: int
    endpoint: Endpoint
    run: wrk.Run
    server_cpu_s: float
    database_cpu_s: float | None  # PostgreSQL's backends; SQLite works inside the server's processes
    load_before: float

    @property
    def cpu_ms_per_request(self) -> float:
        return self.server_cpu_s / self.run.requests * 1000 if self.run.requests else 0.0

    @property
    def database_ms_per_request(self) -> float | None:
        if self.database_cpu_s is None or not self.run.requests:
            return None
        return self.database_cpu_s / self.run.requests * 1000


@dataclass
class Runner:
    workdir: Path
    threads: int
    connections: int
    warm_up: float
    seconds: float
    runs: int = 0

    def wrk(self, endpoint: Endpoint, base: str, seconds: float) -> wrk.Run:
        self.runs += 1
        return wrk.run(
            endpoint.requests,
            base,
            seconds=seconds,
            threads=self.threads,
            connections=self.connections,
            script=self.workdir / f"run-{self.runs}.lua",
            # Unique across runs and processes: the database keeps every key the runs before used.
            tag=f"http-{os.getpid()}-{self.runs}",
        )

    def measure(
        self,
        server: Server,
        base: str,
        endpoint: Endpoint,
        *,
        target: str,
        workers: int,
        backends: Callable[[], dict[int, float]] | None,
    ) -> Result:
        check(base, endpoint)
        if self.warm_up > 0:
            self.wrk(endpoint, base, self.warm_up)
        load_before = os.getloadavg()[0]
        backends_before = backends() if backends else {}
        cpu_before, pids_before = tree_cpu(server.process.pid)
        run = self.wrk(endpoint, base, self.seconds)
        cpu_after, pids_after = tree_cpu(server.process.pid)
        database_cpu = None
        if backends:
            # By backend: the pool may have opened connections during the run (a backend that closed
            # during it is lost, which the pool does not do while it is busy).
            database_cpu = sum(t - backends_before.get(pid, 0.0) for pid, t in backends().items())
        server.check_alive()
        if pids_after != pids_before:
            print(
                f"  note: the serving processes changed during the run: {sorted(pids_before)} -> "
                f"{sorted(pids_after)}",
                file=sys.stderr,
            )
        server_cpu = cpu_after - cpu_before
        return Result(target, workers, endpoint, run, server_cpu, database_cpu, load_before)


def check(base: str, endpoint: Endpoint) -> None:
    """One request of the endpoint before wrk sends thousands: a wrong path fails loudly, with its answer."""
    requests = endpoint.requests
    if requests.method == "POST":
        key = f"http-check-{os.getpid()}-{time.time_ns()}"
        headers = {"Content-Type": "application/json", "Idempotency-Key": key}
        answer = httpx.post(base + requests.paths[0], content=requests.bodies[0], headers=headers, timeout=30)
    else:
        answer = httpx.get(base + requests.paths[0], timeout=30)
    if not 200 <= answer.status_code < 300:
        raise BenchFailure(f"{endpoint.name}: {answer.status_code} {answer.text[:500]}")


# ------------------------------------------------------------------------------------------------- targets


@dataclass(frozen=True)
class Target:
    """A database the service runs on, with the environment and directory its processes run with."""

    name: str
    label: str  # in the names of its log files
    env: dict[str, str]
    cwd: Path
    query: Callable[[str], list[tuple[Any, ...]]]
    backends: Callable[[], dict[int, float]] | None  # CPU seconds of the database's server processes, by pid


def postgres_target(database: str, redis_url: str | None) -> Target:
    from bench.benchdb import fresh_database

    print(f"creating {database} and loading the demo chain ...", file=sys.stderr)
    conninfo = fresh_database(database, redis_url=redis_url)
    env = dict(os.environ)
    load_demo(env, ROOT)
    return Target(
        "PostgreSQL", "postgresql", env, ROOT, postgres_query(conninfo), partial(backends_cpu, conninfo)
    )


def embedded_target(workdir: Path) -> Target:
    """The embedded default, as a fresh checkout runs it: no database URL (the SQLite file `var/` holds,
    relative to the working directory, here a temporary one), no broker, no secret (generated beside it)."""
    print("loading the demo chain into the embedded SQLite default ...", file=sys.stderr)
    home = workdir / "embedded"
    home.mkdir()
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("RETAIL_DATABASE_URL", "RETAIL_REDIS_URL", "RETAIL_SECRET_KEY")
    }
    load_demo(env, home)
    database = sqlite_query(home / "var" / "winkelpunt.db")
    return Target("SQLite (embedded)", "sqlite", env, home, database, None)


def load_demo(env: dict[str, str], cwd: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "app", "demo"], cwd=cwd, env=env, check=True, stdout=subprocess.DEVNULL
    )


def run_target(
    target: Target, runner: Runner, *, workers_list: Sequence[int], log_level: str
) -> list[Result]:
    """For each worker count: the service's endpoints on `retail serve`, then the bare app's baselines."""
    demo = read_demo(target.query)
    service = endpoints(demo)
    baselines = bare_endpoints(next(e for e in service if e.requests.method == "POST"))
    env = {**target.env, "RETAIL_LOG_LEVEL": log_level}
    results: list[Result] = []
    for workers in workers_list:
        for name, args, ready, measured, backends in (
            ("serve", ["-m", "app", "serve", "--workers", str(workers)], "/readyz", service, target.backends),
            (
                "bare",
                [str(ROOT / "bench" / "bare_app.py"), "--workers", str(workers)],
                "/ping",
                baselines,
                None,
            ),
        ):
            port = free_port()
            print(f"{target.name}: {name} --workers {workers} on port {port}", file=sys.stderr)
            log = runner.workdir / f"{target.label}-{name}-{workers}.log"
            server = Server([*args, "--port", str(port)], log=log, cwd=target.cwd, env=env)
            try:
                base = f"http://127.0.0.1:{port}"
                wait_ready(server, base + ready)
                wait_quiet(server)
                for endpoint in measured:
                    result = runner.measure(
                        server, base, endpoint, target=target.name, workers=workers, backends=backends
                    )
                    run = result.run
                    print(
                        f"  {endpoint.name}: {run.per_second:,.0f} req/s, p50 {run.p50_ms:.1f} ms, "
                        f"p99 {run.p99_ms:.1f} ms, {result.cpu_ms_per_request:.2f} ms CPU/req, "
                        f"non-2xx {run.non2xx}, load {result.load_before:.1f}",
                        file=sys.stderr,
                    )
                    results.append(result)
            finally:
                server.stop()
    return results


# -------------------------------------------------------------------------------------------------- report


def print_report(results: list[Result]) -> None:
    print(
        "| database | workers | endpoint | req/s | vs bare | p50 | p99 | non-2xx | server CPU per request "
        "| PostgreSQL CPU per request | cores used: server / wrk |"
    )
    print("|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in results:
        wanted = (r.target, r.workers, BASELINE[r.endpoint.requests.method])
        bare = next(b for b in results if (b.target, b.workers, b.endpoint.name) == wanted)
        run = r.run
        failed = str(run.non2xx)
        if run.socket_errors or run.timeouts:
            failed += f" (+{run.socket_errors} socket errors, {run.timeouts} timeouts)"
        database = r.database_ms_per_request
        print(
            f"| {r.target} | {r.workers} | `{r.endpoint.name}` | {run.per_second:,.0f} | "
            f"{run.per_second / bare.run.per_second:.0%} | {run.p50_ms:.1f} ms | {run.p99_ms:.1f} ms | "
            f"{failed} | {r.cpu_ms_per_request:.2f} ms | "
            f"{'-' if database is None else f'{database:.2f} ms'} | "
            f"{r.server_cpu_s / run.seconds:.2f} / {run.cpu_s / run.seconds:.2f} |"
        )


@contextmanager
def bench_redis(choice: str) -> Iterator[str | None]:
    """The Redis database the service queues on: none, the URL given (emptied before and after: queued
    reservations of this bench's orders must not reach a worker of another database), or by default a
    number claimed as the test runs claim theirs, so that neither flushes the other's."""
    if choice.lower() == "none":
        yield None
        return
    if choice == "auto":
        from tests.run_services import claim_redis_url, release_redis_url

        url = claim_redis_url()
        try:
            yield url
        finally:
            release_redis_url(url)
        return
    Redis.from_url(choice).flushdb()
    try:
        yield choice
    finally:
        Redis.from_url(choice).flushdb()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=10.0, help="seconds measured per endpoint")
    parser.add_argument("--warm-up", type=float, default=2.0, help="seconds of wrk per endpoint before that")
    parser.add_argument("--connections", type=int, default=8, help="wrk's open connections")
    parser.add_argument("--threads", type=int, default=2, help="wrk's threads")
    parser.add_argument("--workers", default="1,2", help="`retail serve --workers` counts, comma-separated")
    parser.add_argument(
        "--database", default=DEFAULT_DATABASE, help="PostgreSQL URL (dropped and re-created)"
    )
    parser.add_argument(
        "--redis",
        default="auto",
        help="Redis URL (emptied), `auto` (a free number claimed) or `none` (tasks in-process)",
    )
    parser.add_argument(
        "--log-level", default="INFO", help="RETAIL_LOG_LEVEL of both servers (INFO: the default)"
    )
    parser.add_argument("--embedded", action="store_true", help="also run on the embedded SQLite default")
    args = parser.parse_args(argv)
    workers_list = [int(n) for n in args.workers.split(",")]
    if args.connections < args.threads:
        parser.error("wrk needs at least one connection per thread")
    wrk.ensure_installed()

    start = machine("start")
    print(start, file=sys.stderr)
    workdir = Path(tempfile.mkdtemp(prefix="winkelpunt-bench-http-"))
    runner = Runner(workdir, args.threads, args.connections, args.warm_up, args.duration)
    measure = partial(run_target, runner=runner, workers_list=workers_list, log_level=args.log_level)
    results: list[Result] = []
    notes = [f"log level {args.log_level} (an access line per request of the service)"]
    try:
        with bench_redis(args.redis) as redis_url:
            results += measure(postgres_target(args.database, redis_url))
        notes.append(
            "PostgreSQL: tasks in-process, so `POST /orders` includes the reservation"
            if redis_url is None
            else "PostgreSQL: Redis and no worker, so `POST /orders` is the placement, its reservation queued"
        )
        if args.embedded:
            results += measure(embedded_target(workdir))
            notes.append("SQLite (embedded): tasks in-process, so `POST /orders` includes the reservation")
    except BaseException:
        print(f"(logs and wrk scripts kept in {workdir})", file=sys.stderr)
        raise
    shutil.rmtree(workdir, ignore_errors=True)
    end = machine("end")

    print_report(results)
    print()
    print(
        f"wrk: {args.threads} threads, {args.connections} connections, {args.duration:g} s per endpoint "
        f"after {args.warm_up:g} s of warm-up; {os.cpu_count()} CPUs"
    )
    for note in notes:
        print(note)
    print(start)
    print(end)
    failed = [r for r in results if r.run.non2xx or r.run.socket_errors or r.run.timeouts]
    for r in failed:
        print(
            f"- {r.target}, {r.workers} workers, {r.endpoint.name}: {r.run.non2xx} non-2xx, "
            f"{r.run.socket_errors} socket errors, {r.run.timeouts} timeouts"
        )
        for sample in r.run.samples:
            print(f"  first non-2xx of a thread: {sample}")
    return 1 if failed else 0


def machine(when: str) -> str:
    one, five, fifteen = os.getloadavg()
    return f"{when}: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, load average {one:.2f} {five:.2f} {fifteen:.2f}"


if __name__ == "__main__":
    sys.exit(main())

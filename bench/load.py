"""Load test: the service under a realistic mix at rising concurrency, beside a bare FastAPI endpoint.

    .venv/bin/python bench/load.py [--levels 8,32,64] [--seconds 20] [--bare-seconds 10]
                                   [--database postgresql://...] [--redis redis://127.0.0.1:6379/6]

Creates a throwaway PostgreSQL database (dropped and re-created, see `bench/benchdb.py`), loads the demo
chain into it (`retail demo`: about 180 stores in the Netherlands and Belgium, 2,400 products, 440,000
stock rows and store prices), flushes the bench Redis database, and starts the service as production runs
it, each in its own process: `retail serve` (one uvicorn process), `retail worker --concurrency 2` and
`retail beat`. The ceiling is `bench/bare_app.py` (one trivial endpoint) on its own uvicorn process.

Each virtual client loops over the mix below, as fast as the answers come (a closed loop, no think time),
for `--seconds` at each concurrency level; the bare endpoint gets the same number of clients for
`--bare-seconds`. Weights are per iteration:

- 55 shopper browsing: `GET /mobile/v1/stores/nearest` (10 stores near a point close to a demo store)
- 15 availability: `GET /mobile/v1/products/{sku}/availability` near a point
- 10 prices: `GET /mobile/v1/products/{sku}/prices` near a point
-  5 product page: `GET /mobile/v1/products/{sku}`
-  8 ordering: `POST /mobile/v1/orders` (1-2 lines, at one of the stores with staff below), then polling
     `GET /mobile/v1/orders/{id}` until the worker has reserved or rejected it
-  5 staff hand-over of a reserved order: `POST /staff/v1/orders/{id}/ready`, the shopper shows the pickup
     code (`GET` of the order), `POST /staff/v1/pickups/verify` and `/confirm`
-  2 webshop sync: `PUT /sync/v1/stock` (50 counts) or `POST /sync/v1/stock/movements` (50 movements)

Staff work at 8 stores, with 20 devices (keys) each: the pickup endpoints allow 30 attempts a minute per
key against code guessing, as a real store's handful of devices would never reach. An error is a transport
failure, a timeout (30 s) or any status the contract does not give for that request (a 5xx, a 429, a 409
on a hand-over of a reserved order); a rejected order (out of stock) is an answer, not an error.

Prints, per level, requests/s, p50 and p99 latency per endpoint and the error count, the bare endpoint's
figures, the machine's load average and the CPU use of the service process and of this script. Exit
status 1 on any error.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

import httpx
from redis import Redis

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.benchdb import fresh_database
from bench.orders import free_port, percentile, processes, wait_for

DEFAULT_DATABASE = "postgresql://postgres@127.0.0.1:5432/winkelpunt_bench_load"
DEFAULT_REDIS = "redis://127.0.0.1:6379/6"
STAFF_STORES = 8
DEVICES_PER_STORE = 20
SYNC_ROWS = 50
TIMEOUT_S = 30.0
POINT_JITTER = 0.05  # degrees around a demo store, about 5 km
WEIGHTS = {
    "browse": 55,
    "availability": 15,
    "prices": 10,
    "product": 5,
    "order": 8,
    "handover": 5,
    "sync": 2,
}


@dataclass(frozen=True)
class Chain:
    """What the clients need to know of the demo data."""

    points: list[tuple[float, float]]  # demo store locations
    skus: list[str]
    staff: dict[str, list[str]]  # store code -> staff key secrets
    orderable: dict[str, list[str]]  # store code -> skus with plenty of stock there
    webshop: str


@dataclass
class Tally:
    """Latencies (seconds) and errors per endpoint, for one level."""

    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    samples: list[str] = field(default_factory=list)


class Client:
    """One virtual client: an HTTP client and the tally it reports to."""

    def __init__(self, http: httpx.AsyncClient, tally: Tally, rng: random.Random) -> None:
        self.http = http
        self.tally = tally
        self.rng = rng

    async def call(
        self, name: str, method: str, url: str, *, ok: tuple[int, ...] = (200,), **kwargs: Any
    ) -> httpx.Response | None:
        started = time.perf_counter()
        try:
            response = await self.http.request(method, url, **kwargs)
        except httpx.HTTPError as exc:
            self.error(name, f"{name}: {type(exc).__name__}")
            return None
        self.tally.latencies[name].append(time.perf_counter() - started)
        if response.status_code not in ok:
            self.error(name, f"{name}: {response.status_code} {response.text[:200]}")
            return None
        return response

    def error(self, name: str, sample: str) -> None:
        self.tally.errors[name] += 1
        if len(self.tally.samples) < 5:
            self.tally.samples.append(sample)


# ------------------------------------------------------------------------------------------- the mix


def point(client: Client, chain: Chain) -> dict[str, float]:
    lat, lon = client.rng.choice(chain.points)
    jitter = client.rng.uniform
    return {
        "lat": round(lat + jitter(-POINT_JITTER, POINT_JITTER), 5),
        "lon": round(lon + jitter(-0.05, 0.05), 5),
    }


async def browse(client: Client, chain: Chain, _handovers: asyncio.Queue[tuple[str, str, str]]) -> None:
    await client.call(
        "GET /stores/nearest",
        "GET",
        "/mobile/v1/stores/nearest",
        params={**point(client, chain), "limit": 10},
    )


async def availability(client: Client, chain: Chain, _handovers: asyncio.Queue[tuple[str, str, str]]) -> None:
    await _product_near(client, chain, "availability")


async def prices(client: Client, chain: Chain, _handovers: asyncio.Queue[tuple[str, str, str]]) -> None:
    await _product_near(client, chain, "prices")


async def _product_near(client: Client, chain: Chain, view: str) -> None:
    """A random product's `view` (availability, prices) at the stores near a random point."""
    sku = client.rng.choice(chain.skus)
    await client.call(
        f"GET /products/{{sku}}/{view}",
        "GET",
        f"/mobile/v1/products/{sku}/{view}",
        params={**point(client, chain), "limit": 10},
    )


async def product(client: Client, chain: Chain, _handovers: asyncio.Queue[tuple[str, str, str]]) -> None:
    await client.call("GET /products/{sku}", "GET", f"/mobile/v1/products/{client.rng.choice(chain.skus)}")


async def order(client: Client, chain: Chain, handovers: asyncio.Queue[tuple[str, str, str]]) -> None:
    store = client.rng.choice(list(chain.orderable))
    lines = [
        {"sku": sku, "quantity": client.rng.randint(1, 2)}
        for sku in client.rng.sample(chain.orderable[store], client.rng.randint(1, 2))
    ]
    placed = await client.call(
        "POST /orders",
        "POST",
        "/mobile/v1/orders",
        ok=(202,),
        json={"store_code": store, "lines": lines, "customer": {"name": "Load", "email": "load@example.nl"}},
        headers={"Idempotency-Key": f"load-{client.rng.getrandbits(64):016x}"},
    )
    if placed is None:
        return
    order_id, token = placed.json()["order_id"], placed.json()["order_token"]
    auth = {"Authorization": f"Bearer {token}"}
    for _ in range(50):  # a shopper's app polls until the order is reserved (or rejected)
        await asyncio.sleep(0.2)
        seen = await client.call("GET /orders/{id}", "GET", f"/mobile/v1/orders/{order_id}", headers=auth)
        if seen is None:
            return
        status = seen.json()["status"]
        if status == "reserved":
            handovers.put_nowait((store, order_id, token))
            return
        if status != "pending":
            return
    client.error("GET /orders/{id}", f"order {order_id} still pending after 10 s")


async def handover(client: Client, chain: Chain, handovers: asyncio.Queue[tuple[str, str, str]]) -> None:
    try:
        store, order_id, token = handovers.get_nowait()
    except asyncio.QueueEmpty:
        await browse(client, chain, handovers)  # nothing to hand over yet: another shopper instead
        return
    staff = {"Authorization": f"Bearer {client.rng.choice(chain.staff[store])}"}
    if (
        await client.call(
            "POST /staff/orders/{id}/ready", "POST", f"/staff/v1/orders/{order_id}/ready", headers=staff
        )
        is None
    ):
        return
    shown = await client.call(
        "GET /orders/{id}",
        "GET",
        f"/mobile/v1/orders/{order_id}",
        headers={"Authorization": f"Bearer {token}"},
    )
    if shown is None:
        return
    code = {"code": shown.json()["pickup"]["code"]}
    if await client.call(
        "POST /staff/pickups/verify", "POST", "/staff/v1/pickups/verify", json=code, headers=staff
    ):
        await client.call(
            "POST /staff/pickups/confirm", "POST", "/staff/v1/pickups/confirm", json=code, headers=staff
        )


async def sync(client: Client, chain: Chain, _handovers: asyncio.Queue[tuple[str, str, str]]) -> None:
    auth = {"Authorization": f"Bearer {chain.webshop}"}
    now = datetime.now(UTC).isoformat()
    stores = list(chain.orderable)
    if client.rng.random() < 0.5:
        items = [
            {
                "store_code": client.rng.choice(stores),
                "sku": sku,
                "on_hand": client.rng.randint(50, 500),
                "as_of": now,
            }
            for sku in client.rng.sample(chain.skus, SYNC_ROWS)
        ]
        await client.call("PUT /sync/stock", "PUT", "/sync/v1/stock", json={"items": items}, headers=auth)
        return
    movements = [
        {
            "movement_id": f"load-{client.rng.getrandbits(64):016x}",
            "store_code": client.rng.choice(stores),
            "sku": sku,
            "delta": client.rng.randint(-2, 5),
            "at": now,
        }
        for sku in client.rng.sample(chain.skus, SYNC_ROWS)
    ]
    await client.call(
        "POST /sync/stock/movements",
        "POST",
        "/sync/v1/stock/movements",
        json={"movements": movements},
        headers=auth,
    )


SCENARIOS: dict[str, Callable[[Client, Chain, asyncio.Queue[tuple[str, str, str]]], Awaitable[None]]] = {
    "browse": browse,
    "availability": availability,
    "prices": prices,
    "product": product,
    "order": order,
    "handover": handover,
    "sync": sync,
}


async def play_mix(base: str, chain: Chain, clients: int, seconds: float, seed: int) -> tuple[Tally, float]:
    tally = Tally()
    handovers: asyncio.Queue[tuple[str, str, str]] = asyncio.Queue()
    names, weights = list(WEIGHTS), list(WEIGHTS.values())
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=base, timeout=TIMEOUT_S, limits=limits) as http:
        deadline = time.perf_counter() + seconds

        async def run(number: int) -> None:
            client = Client(http, tally, random.Random(seed * 1000 + number))
            while time.perf_counter() < deadline:
                scenario = client.rng.choices(names, weights)[0]
                await SCENARIOS[scenario](client, chain, handovers)

        started = time.perf_counter()
        await asyncio.gather(*(run(n) for n in range(clients)))
        return tally, time.perf_counter() - started


async def play_bare(base: str, clients: int, seconds: float) -> tuple[Tally, float]:
    tally = Tally()
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=base, timeout=TIMEOUT_S, limits=limits) as http:
        deadline = time.perf_counter() + seconds

        async def run(number: int) -> None:
            client = Client(http, tally, random.Random(number))
            while time.perf_counter() < deadline:
                await client.call("GET /ping (bare FastAPI)", "GET", "/ping")

        started = time.perf_counter()
        await asyncio.gather(*(run(n) for n in range(clients)))
        return tally, time.perf_counter() - started


# ------------------------------------------------------------------------------------------- set-up


def seed_chain() -> Chain:
    """Load the demo chain (`retail demo`) into the configured database, whichever engine it is, and
    create the staff and webshop keys of the run."""
    from sqlalchemy import text

    from retail.auth import Role, create_api_key
    from retail.db import get_engine, session_scope

    print("loading the demo chain (retail demo) ...", file=sys.stderr)
    subprocess.run(
        [sys.executable, "-m", "app", "demo"],
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    with get_engine().connect() as connection:
        points = [
            (float(lat), float(lon)) for lat, lon in connection.execute(text("SELECT lat, lon FROM store"))
        ]
        skus = [str(sku) for (sku,) in connection.execute(text("SELECT sku FROM product ORDER BY sku"))]
        held = connection.execute(
            text(
                """SELECT st.code, p.sku
                   FROM stock s JOIN store st ON st.id = s.store_id JOIN product p ON p.id = s.product_id
                   WHERE st.click_and_collect AND s.on_hand - s.reserved - s.safety_stock >= 20
                   ORDER BY st.code, p.sku"""
            )
        ).all()
    by_store: dict[str, list[str]] = defaultdict(list)
    for code, sku in held:
        by_store[str(code)].append(str(sku))
    # The stores with the most click-and-collect stock get the staff; shoppers order what they hold.
    staffed = sorted(by_store, key=lambda code: (-len(by_store[code]), code))[:STAFF_STORES]
    orderable = {code: by_store[code] for code in staffed}
    with session_scope() as session:
        staff = {
            code: [
                create_api_key(session, role=Role.staff, store_code=code) for _ in range(DEVICES_PER_STORE)
            ]
            for code in orderable
        }
        webshop = create_api_key(session, role=Role.webshop)
    return Chain(points=points, skus=skus, staff=staff, orderable=orderable, webshop=webshop)


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# ------------------------------------------------------------------------------------------- report


@dataclass(frozen=True)
class Row:
    level: int
    endpoint: str
    requests: int
    per_second: float
    p50_ms: float
    p99_ms: float
    errors: int


def rows_of(level: int, tally: Tally, elapsed: float) -> list[Row]:
    rows = []
    everything: list[float] = []
    for endpoint in sorted(set(tally.latencies) | set(tally.errors)):
        latencies = tally.latencies.get(endpoint, [])
        everything.extend(latencies)
        rows.append(
            Row(
                level,
                endpoint,
                len(latencies),
                len(latencies) / elapsed,
                percentile(latencies, 0.5) * 1000 if latencies else 0.0,
                percentile(latencies, 0.99) * 1000 if latencies else 0.0,
                tally.errors.get(endpoint, 0),
            )
        )
    if len(rows) > 1:
        rows.append(
            Row(
                level,
                "all",
                len(everything),
                len(everything) / elapsed,
                percentile(everything, 0.5) * 1000 if everything else 0.0,
                percentile(everything, 0.99) * 1000 if everything else 0.0,
                sum(tally.errors.values()),
            )
        )
    return rows


def print_table(rows: list[Row]) -> None:
    print("| clients | endpoint | requests | req/s | p50 ms | p99 ms | errors |")
    print("|---:|---|---:|---:|---:|---:|---:|")
    for r in rows:
        print(
            f"| {r.level} | {r.endpoint} | {r.requests:,} | {r.per_second:,.1f} | {r.p50_ms:,.1f} | "
            f"{r.p99_ms:,.1f} | {r.errors} |"
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--levels", default="8,32,64", help="concurrent clients, comma-separated")
    parser.add_argument("--seconds", type=float, default=20.0, help="duration of each level")
    parser.add_argument("--bare-seconds", type=float, default=10.0, help="duration of each bare level")
    parser.add_argument("--database", default=DEFAULT_DATABASE)
    parser.add_argument("--redis", default=DEFAULT_REDIS)
    args = parser.parse_args()
    levels = [int(n) for n in args.levels.split(",")]

    fresh_database(args.database)
    chain = seed_chain()
    Redis.from_url(args.redis).flushdb()
    os.environ["RETAIL_REDIS_URL"] = args.redis
    api_port, bare_port = free_port(), free_port()
    rows: list[Row] = []
    machine: list[str] = []
    samples: list[str] = []
    with processes() as running:
        api = running.start("serve", ["-m", "app", "serve", "--port", str(api_port)])
        running.start("worker", ["-m", "app", "worker", "--concurrency", "2"])
        running.start("beat", ["-m", "app", "beat"])
        running.start(
            "bare",
            ["-m", "uvicorn", "bench.bare_app:app", "--port", str(bare_port), "--log-level", "warning"],
        )
        for port in (api_port, bare_port):
            wait_for(partial(serving, port), running, 90, f"port {port} to serve")
        base = f"http://127.0.0.1:{api_port}"
        # Warm-up: the gazetteer, connection pools and code paths, not counted.
        asyncio.run(play_mix(base, chain, 8, 3, seed=0))
        for level in levels:
            cpu_before, load_before = cpu_seconds(api.pid), os.getloadavg()[0]
            own_before = time.process_time()
            tally, elapsed = asyncio.run(play_mix(base, chain, level, args.seconds, seed=level))
            cpu = (cpu_seconds(api.pid) - cpu_before) / elapsed
            own = (time.process_time() - own_before) / elapsed
            machine.append(
                f"{level} clients: load average {load_before:.1f} -> {os.getloadavg()[0]:.1f}, "
                f"`retail serve` CPU {cpu:.0%} of one core, the load generator {own:.0%}"
            )
            rows.extend(rows_of(level, tally, elapsed))
            samples.extend(tally.samples)
            running.check_alive()
            bare, bare_elapsed = asyncio.run(
                play_bare(f"http://127.0.0.1:{bare_port}", level, args.bare_seconds)
            )
            rows.extend(rows_of(level, bare, bare_elapsed))
            samples.extend(bare.samples)
    print_table(rows)
    print()
    print(f"machine: {os.cpu_count()} CPUs")
    for line in machine:
        print(f"- {line}")
    held = [level for level in levels if all(r.errors == 0 for r in rows if r.level == level)]
    print(f"levels without errors: {held or 'none'}")
    for sample in samples:
        print(f"error sample: {sample}", file=sys.stderr)
    return 0 if sum(r.errors for r in rows) == 0 else 1


def serving(port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/docs", timeout=2).status_code == 200
    except httpx.TransportError:
        return False


if __name__ == "__main__":
    sys.exit(main())

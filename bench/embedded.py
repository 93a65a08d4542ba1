"""The load test's mix on the embedded default: one `retail serve` on a SQLite file, tasks in-process.

    .venv/bin/python bench/embedded.py [--levels 8] [--seconds 20] [--database sqlite:///PATH]

The same clients and weights as `bench/load.py` (nearest stores, availability, prices, a product, an
order polled until reserved, a staff hand-over, a webshop batch), against the demo chain loaded into a
fresh SQLite file (`retail demo`), served as `make serve` runs it: one process, no broker, the
reservations run in the request that placed the order. SQLite has one write lock, so what this shows is
how the shoppers' reads fare beside the writes: p50 and p99 of every endpoint, of the GETs alone and of
the writes alone, and the errors (a 503 "database is locked" is one).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from functools import partial
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.load import (
    Row,
    Tally,
    cpu_seconds,
    play_mix,
    print_table,
    rows_of,
    seed_chain,
    serving,
)
from bench.orders import free_port, percentile, processes, wait_for


def summary(level: int, tally: Tally, elapsed: float) -> list[Row]:
    """The GETs together and the writes together, beside each endpoint's own row."""
    rows = []
    for name, method in (("all GETs", "GET "), ("all writes", "")):
        latencies = [
            seconds
            for endpoint, values in tally.latencies.items()
            if endpoint.startswith("GET ") == (method == "GET ")
            for seconds in values
        ]
        errors = sum(n for e, n in tally.errors.items() if e.startswith("GET ") == (method == "GET "))
        rows.append(
            Row(
                level,
                name,
                len(latencies),
                len(latencies) / elapsed,
                percentile(latencies, 0.5) * 1000 if latencies else 0.0,
                percentile(latencies, 0.99) * 1000 if latencies else 0.0,
                errors,
            )
        )
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--levels", default="8", help="concurrent clients, comma-separated")
    parser.add_argument("--seconds", type=float, default=20.0, help="duration of each level")
    parser.add_argument("--database", default=None, help="sqlite:///PATH (default: a fresh temporary file)")
    args = parser.parse_args()
    levels = [int(n) for n in args.levels.split(",")]

    url = args.database or f"sqlite:///{Path(tempfile.mkdtemp(prefix='winkelpunt-bench-embedded-')) / 'w.db'}"
    path = Path(url.removeprefix("sqlite:///"))
    path.unlink(missing_ok=True)
    os.environ["RETAIL_DATABASE_URL"] = url
    os.environ.pop("RETAIL_REDIS_URL", None)
    os.environ.pop("RETAIL_SECRET_KEY", None)  # the embedded default keeps its own beside the file
    os.environ.setdefault("RETAIL_SHOPPER_REQUESTS_PER_MINUTE", "1000000000")
    chain = seed_chain()
    port = free_port()
    rows: list[Row] = []
    machine: list[str] = []
    samples: list[str] = []
    with processes() as running:
        api = running.start("serve", ["-m", "app", "serve", "--port", str(port)])
        wait_for(partial(serving, port), running, 90, f"port {port} to serve")
        base = f"http://127.0.0.1:{port}"
        asyncio.run(play_mix(base, chain, 8, 3, seed=0))  # warm-up, not counted
        for level in levels:
            cpu_before, load_before = cpu_seconds(api.pid), os.getloadavg()[0]
            tally, elapsed = asyncio.run(play_mix(base, chain, level, args.seconds, seed=level))
            cpu = (cpu_seconds(api.pid) - cpu_before) / elapsed
            machine.append(
                f"{level} clients: load average {load_before:.1f} -> {os.getloadavg()[0]:.1f}, "
                f"`retail serve` CPU {cpu:.0%} of one core"
            )
            rows.extend(rows_of(level, tally, elapsed))
            rows.extend(summary(level, tally, elapsed))
            samples.extend(tally.samples)
            running.check_alive()
    print_table(rows)
    print()
    print(f"machine: {os.cpu_count()} CPUs, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")
    for line in machine:
        print(f"- {line}")
    for sample in samples:
        print(f"error sample: {sample}", file=sys.stderr)
    return 0 if sum(r.errors for r in rows if r.endpoint == "all") == 0 else 1


if __name__ == "__main__":
    sys.exit(main())

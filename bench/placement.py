"""Benchmark: CPU per accepted order of the placement's two writers on PostgreSQL, the one statement
(`orders.placement`'s PostgreSQL form) beside the same rows written through the ORM (its SQLite form, run
on PostgreSQL), interleaved A/B/B/A in blocks so that drift in the machine's load falls on both alike.

    .venv/bin/python bench/placement.py [--database postgresql://...] [--rounds 8] [--block 250]

Creates a throwaway PostgreSQL database (see `bench/benchdb.py`) with `bench/orders.py`'s shop (one
store, 200 products) and baskets (1-3 random products, 1-3 units each). Each order is
`orders.service.place_order` and a commit on a session of its own, with a fresh Idempotency-Key: what
`POST /mobile/v1/orders` spends in the service, without HTTP. Client CPU is this process's
`time.process_time()` (the API process's share); backend CPU is the `utime + stime` of the PostgreSQL
backend serving the pool's one connection, from /proc (so the database must run on this machine; clock
ticks, 10 ms, summed over all blocks).
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.benchdb import fresh_database
from bench.orders import STORE, load_shop, random_baskets, sku

_TICK = os.sysconf("SC_CLK_TCK")


def backend_cpu_s(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _TICK


@contextmanager
def writer(name: str) -> Iterator[None]:
    """Place through the named writer: PostgreSQL's own `statement`, or `orm` (SQLite's form)."""
    from orders import placement

    statement = placement._write_in_one_statement
    if name == "orm":
        placement._write_in_one_statement = placement._write_through_orm
    try:
        yield
    finally:
        placement._write_in_one_statement = statement


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--database", default="postgresql://postgres@127.0.0.1:5432/winkelpunt_bench_placement"
    )
    parser.add_argument("--rounds", type=int, default=8, help="blocks per writer")
    parser.add_argument("--block", type=int, default=250, help="orders per block")
    parser.add_argument("--warmup", type=int, default=200, help="orders per writer before timing")
    args = parser.parse_args(argv)
    load_shop(fresh_database(args.database))

    from sqlalchemy import text
    from sqlmodel import Session

    from orders import service as orders_service
    from orders.schemas import OrderIn
    from retail.db import get_engine

    engine = get_engine()
    rng = random.Random(20_261_205)
    keys = iter(range(10**9))

    def place(count: int) -> None:
        for basket in random_baskets(rng, count):
            order_in = OrderIn.model_validate(
                {
                    "store_code": STORE,
                    "lines": [{"sku": sku(p), "quantity": quantity} for p, quantity in basket],
                    "customer": {"name": "Bench Klant", "email": "klant@example.nl"},
                }
            )
            with Session(engine, expire_on_commit=False) as session:
                orders_service.place_order(
                    session,
                    order_in=order_in,
                    idempotency_key=f"bench-{next(keys)}",
                    send_reservation=lambda _pk: None,
                )
                session.commit()

    def backend_pid() -> int:
        with engine.connect() as connection:
            return int(connection.execute(text("SELECT pg_backend_pid()")).scalar_one())

    writers = ["statement", "orm"]
    for name in writers:
        with writer(name):
            place(args.warmup)
    totals: dict[str, list[float]] = {name: [0.0, 0.0, 0.0] for name in writers}  # client, backend, wall
    for round_ in range(args.rounds):
        for name in writers if round_ % 2 == 0 else writers[::-1]:
            with writer(name):
                pid = backend_pid()
                backend, client, wall = backend_cpu_s(pid), time.process_time(), time.perf_counter()
                place(args.block)
                client, wall = time.process_time() - client, time.perf_counter() - wall
                backend = backend_cpu_s(pid) - backend
                if backend_pid() != pid:
                    raise SystemExit("the pool changed its connection mid-block; run again")
            for index, value in enumerate((client, backend, wall)):
                totals[name][index] += value
            print(
                f"round {round_} {name:9s} client {1000 * client / args.block:.3f} ms/order, "
                f"backend {1000 * backend / args.block:.3f} ms/order",
                flush=True,
            )
    orders = args.rounds * args.block
    print(f"\n{orders} orders per writer; load average {os.getloadavg()[0]:.1f}")
    print("| writer | client CPU per order | backend CPU per order | wall per order |")
    for name, (client, backend, wall) in totals.items():
        print(
            f"| {name} | {1000 * client / orders:.2f} ms | {1000 * backend / orders:.2f} ms "
            f"| {1000 * wall / orders:.2f} ms |"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Benchmark: what numbering a store's desk events in commit order costs (orders/desk_events.py).

Each emitting transaction increments its store's counter row and holds that row's lock until it commits,
so the emitting transactions of one store run their last step one at a time. This measures whether that
serialises anything badly: shoppers' arrival check-ins (`orders.arrivals.check_in`: lock the order, write
the check-in, emit `order.arrival`, commit), from `--threads` threads at once, each check-in a transaction
of its own on PostgreSQL:

- at one store (every transaction queues for the same counter row);
- spread over as many stores as threads (no two transactions share a counter row);
- at one store, and spread, with the event left out (the baselines: the same transactions without it).

    .venv/bin/python bench/desk_events.py [--database URL] [--threads 8] [--check-ins 150] [--rounds 5]

Each thread checks in on orders of its own (no two threads lock the same order). It prints check-ins
per second, the median of the runs and all runs beside it.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

DEFAULT_DATABASE = "postgresql://postgres@127.0.0.1:5432/winkelpunt_bench_desk"
WEEK = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def _store(code: str) -> dict[str, object]:
    return {
        "code": code,
        "name": f"Winkelpunt {code}",
        "address": {"street": "Hoogstraat 1", "postcode": "3511 AA", "city": "Utrecht", "country": "NL"},
        "location": {"lat": 52.09, "lon": 5.12},
        "timezone": "Europe/Amsterdam",
        "hours": {"weekly": {day: [{"opens": "00:00", "closes": "24:00"}] for day in WEEK}, "special": []},
        "closed_on_public_holidays": False,
    }


def setup(stores: int, orders_per_store: int, *, first_store_orders: int) -> dict[str, list[tuple[str, str]]]:
    """`stores` stores with `orders_per_store` reserved orders each (the first `first_store_orders`);
    answers (order id, token) per store code."""
    from sqlmodel import Session

    from inventory import service as inventory_service
    from orders import service as orders_service
    from orders.schemas import OrderIn
    from retail.db import get_engine, session_scope
    from stores import service as stores_service

    codes = [f"B{n}" for n in range(stores)]
    with session_scope() as session:
        assert not stores_service.upsert_stores(session, rows=[_store(c) for c in codes]).errors
        assert not inventory_service.upsert_products(
            session, rows=[{"sku": "A", "name": "A", "online_price": {"amount": "1.00", "currency": "EUR"}}]
        ).errors
        counts = [
            {"store_code": c, "sku": "A", "on_hand": 10**6, "as_of": "2026-11-23T06:00:00+01:00"}
            for c in codes
        ]
        assert not inventory_service.apply_snapshots(session, rows=list(enumerate(counts))).errors
    orders: dict[str, list[tuple[str, str]]] = {c: [] for c in codes}
    pks: list[int] = []
    with Session(get_engine()) as session:
        for code in codes:
            for n in range(first_store_orders if code == codes[0] else orders_per_store):
                body = {
                    "store_code": code,
                    "lines": [{"sku": "A", "quantity": 1}],
                    "customer": {"name": "Bench", "email": "bench@example.nl"},
                }
                accepted = orders_service.place_order(
                    session,
                    order_in=OrderIn.model_validate(body),
                    idempotency_key=f"{code}-{n}",
                    send_reservation=pks.append,
                )
                orders[code].append((accepted.order_id, accepted.token))
        session.commit()
    for pk in pks:
        with session_scope() as session:
            orders_service.reserve_order(session, order_pk=pk)
    return orders


@dataclass
class Figures:
    rates: list[float] = field(default_factory=list)  # check-ins per second, one per round
    emit_share: list[float] = field(default_factory=list)  # time inside `emit` / time in transactions


def run(plan: list[list[tuple[str, str]]], check_ins: int, figures: Figures) -> None:
    """Each thread checks in `check_ins` times, round robin over its orders, each in a transaction."""
    from orders import service as orders_service
    from orders.counter_schemas import ArrivalStatus
    from orders.desk_schemas import ArrivalIn
    from retail.db import session_scope

    body = ArrivalIn(status=ArrivalStatus.on_the_way, eta_minutes=5)
    barrier = threading.Barrier(len(plan) + 1)
    errors: list[BaseException] = []
    in_transactions = [0.0] * len(plan)

    def shopper(index: int, orders: list[tuple[str, str]]) -> None:
        barrier.wait()
        try:
            for n in range(check_ins):
                order_id, token = orders[n % len(orders)]
                began = time.perf_counter()
                with session_scope() as session:
                    orders_service.check_in(session, order_id=order_id, token=token, arrival=body)
                in_transactions[index] += time.perf_counter() - began
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=shopper, args=(i, orders)) for i, orders in enumerate(plan)]
    _EMIT_TIME.clear()
    for thread in threads:
        thread.start()
    barrier.wait()
    started = time.perf_counter()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    assert not errors, errors
    figures.rates.append(len(plan) * check_ins / elapsed)
    figures.emit_share.append(sum(_EMIT_TIME) / sum(in_transactions))


_EMIT_TIME: list[float] = []


def _timed(emit: Callable[..., None]) -> Callable[..., None]:
    """`emit`, timed from its first statement to its last: the counter's lock waited for included."""

    def timed(session: object, **kwargs: object) -> None:
        began = time.perf_counter()
        emit(session, **kwargs)
        _EMIT_TIME.append(time.perf_counter() - began)

    return timed


def _no_event(session: object, **kwargs: object) -> None:
    _EMIT_TIME.append(0.0)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database", default=DEFAULT_DATABASE)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--check-ins", type=int, default=150)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()

    from bench.benchdb import fresh_database

    fresh_database(args.database)
    from orders import arrivals, desk_events

    arrivals.CHECK_INS_PER_WINDOW = 10**9  # the shopper's limit is not what is measured
    orders = setup(args.threads, 20, first_store_orders=20 * args.threads)
    codes = sorted(orders)
    one_store = [orders[codes[0]][n * 20 : (n + 1) * 20] for n in range(args.threads)]
    spread = [orders[code] for code in codes]
    emit = desk_events.emit
    modes = {
        "one store, with its events": (one_store, _timed(emit)),
        f"{args.threads} stores, with their events": (spread, _timed(emit)),
        "one store, without events (baseline)": (one_store, _no_event),
        f"{args.threads} stores, without events (baseline)": (spread, _no_event),
    }
    figures = {name: Figures() for name in modes}
    # Round after round, each mode once a round: a machine whose load drifts affects all modes alike.
    for _ in range(args.rounds):
        for name, (plan, emitter) in modes.items():
            desk_events.emit = emitter
            try:
                run(plan, args.check_ins, figures[name])
            finally:
                desk_events.emit = emit
    print(
        f"{args.threads} threads x {args.check_ins} check-ins a round, each a transaction, "
        f"{args.rounds} rounds"
    )
    print(f"{'':<46} {'check-ins/s':>11}  {'in emit':>7}  (each round)")
    for name, got in figures.items():
        print(
            f"{name:<46} {statistics.median(got.rates):>11.0f}  {statistics.median(got.emit_share):>7.1%}  "
            f"({', '.join(f'{r:.0f}' for r in got.rates)})"
        )


if __name__ == "__main__":
    main()

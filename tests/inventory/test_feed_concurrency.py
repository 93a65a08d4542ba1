"""The availability feed loses no change while writers commit in any order (real PostgreSQL transactions)."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, text
from sqlmodel import Session

from inventory import service as inventory_service
from tests.conftest import committed_catalogue

SKUS = [f"C{i}" for i in range(300)]


@pytest.fixture
def catalogue(pg_engine: Engine) -> Iterator[Engine]:
    with committed_catalogue(pg_engine, SKUS) as engine:
        yield engine


def test_a_poller_sees_the_final_state_of_every_row_while_writers_commit_out_of_order(
    catalogue: Engine,
) -> None:
    engine = catalogue
    failures: list[BaseException] = []

    # Every (store, sku) is written exactly once, so a change the feed skips is never repaired by a later
    # write of the same row: it would simply be missing.
    keys = iter([(store, sku) for sku in SKUS for store in ("S1", "S2")])
    keys_lock = threading.Lock()

    def writer(seed: int) -> None:
        rng = random.Random(seed)
        try:
            while True:
                with keys_lock:
                    batch = [key for key in (next(keys, None) for _ in range(3)) if key is not None]
                if not batch:
                    return
                with Session(engine) as session:
                    rows = [
                        {
                            "movement_id": f"{store}-{sku}",
                            "store_code": store,
                            "sku": sku,
                            "delta": rng.randint(1, 9),
                            "at": "2026-11-23T10:00:00+01:00",
                        }
                        for store, sku in batch
                    ]
                    inventory_service.record_movements(session, rows=rows)
                    # Hold the transaction open for a while so commits interleave out of xid order.
                    time.sleep(rng.random() * 0.03)
                    session.commit()
        except BaseException as exc:  # pragma: no cover - reported below
            failures.append(exc)

    writers = [threading.Thread(target=writer, args=(seed,)) for seed in range(4)]
    for thread in writers:
        thread.start()

    seen: dict[tuple[str, str], int] = {}
    cursor: str | None = None

    def poll() -> bool:
        nonlocal cursor
        with Session(engine) as session:
            page = inventory_service.availability_feed(session, cursor=cursor, limit=7)
        for item in page.items:
            seen[(item.store_code, item.sku)] = item.on_hand
        cursor = page.next_cursor
        return bool(page.items)

    while any(thread.is_alive() for thread in writers):
        poll()
    for thread in writers:
        thread.join()
    while poll():
        pass
    assert not failures

    with engine.connect() as connection:
        final = {
            (row.code, row.sku): row.on_hand
            for row in connection.execute(
                text(
                    "SELECT st.code, p.sku, s.on_hand FROM stock s JOIN store st ON st.id = s.store_id "
                    "JOIN product p ON p.id = s.product_id"
                )
            )
        }
    assert final  # the writers did write
    assert seen == final

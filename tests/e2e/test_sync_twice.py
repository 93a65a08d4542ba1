"""The webshop sends the same batch twice at once (a retry racing the original): it counts once.

Each round sends a stock snapshot twice and a batch of movements twice, all four requests at the same
moment, to a running `retail serve`. Some movements happened before the round's count and some after, so
the rules meet: a count not newer than the stored one is stale, a movement counts once, and only the
movements after the count add to it. The books are checked after every round.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine
from sqlmodel import Session

from retail.auth import Role, create_api_key
from retail.settings import Settings
from tests.e2e.books import check_books
from tests.e2e.processes import running_service
from tests.factories import committed_store, count_row

SKUS = ["A", "B", "C", "D"]
ROUNDS = 30
MOVEMENTS = 6


@pytest.fixture
def webshop_key(pg_engine: Engine, pg_settings: Settings) -> Iterator[str]:
    with committed_store(pg_engine, "W1", dict.fromkeys(SKUS, 10)), Session(pg_engine) as session:
        secret = create_api_key(session, role=Role.webshop)
        session.commit()
        yield secret


def _at_once(requests: list[tuple[str, str, dict[str, Any]]], base: str, key: str) -> list[httpx.Response]:
    barrier = threading.Barrier(len(requests))
    answers: list[httpx.Response | None] = [None] * len(requests)

    def send(index: int, method: str, path: str, body: dict[str, Any]) -> None:
        with httpx.Client(base_url=base, timeout=30, headers={"Authorization": f"Bearer {key}"}) as client:
            barrier.wait()
            answers[index] = client.request(method, path, json=body)

    threads = [threading.Thread(target=send, args=(i, *r)) for i, r in enumerate(requests)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(a is not None for a in answers)
    return [a for a in answers if a is not None]


def test_the_same_batch_sent_twice_at_once_counts_once(
    webshop_key: str, pg_engine: Engine, pg_settings: Settings, tmp_path: Path
) -> None:
    rng = random.Random(6)
    with running_service(pg_settings, tmp_path) as service:
        for round_ in range(ROUNDS):
            as_of = datetime(2026, 11, 24, tzinfo=UTC) + timedelta(hours=round_)
            counts = {sku: rng.randint(5, 50) for sku in SKUS}
            snapshot = {
                "items": [count_row("W1", sku, n, as_of=as_of.isoformat()) for sku, n in counts.items()]
            }
            movements = {
                "movements": [
                    {
                        "movement_id": f"m-{round_}-{i}",
                        "store_code": "W1",
                        "sku": rng.choice(SKUS),
                        "delta": rng.randint(-3, 5),
                        # Before and after the round's count.
                        "at": (as_of + timedelta(minutes=rng.randint(-30, 30))).isoformat(),
                    }
                    for i in range(MOVEMENTS)
                ]
            }
            answers = _at_once(
                [
                    ("PUT", "/sync/v1/stock", snapshot),
                    ("PUT", "/sync/v1/stock", snapshot),
                    ("POST", "/sync/v1/stock/movements", movements),
                    ("POST", "/sync/v1/stock/movements", movements),
                ],
                service.base,
                webshop_key,
            )
            assert [a.status_code for a in answers] == [200] * 4, [a.text for a in answers]
            counted, moved = [a.json() for a in answers[:2]], [a.json() for a in answers[2:]]
            assert sorted((c["applied"], c["stale"]) for c in counted) == [(0, len(SKUS)), (len(SKUS), 0)]
            assert sum(m["applied"] for m in moved) == MOVEMENTS
            assert sum(m["duplicates"] for m in moved) == MOVEMENTS
            check_books(pg_engine, counts={("W1", sku): n for sku, n in counts.items()})

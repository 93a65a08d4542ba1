"""With Redis stopped an order is still accepted (202), and it is reserved once Redis is back.

Everything runs as it does in production, each in its own process: `retail serve`, `retail worker` and
`retail beat`, against the test PostgreSQL database and a Redis server of this test's own (so stopping it
disturbs nothing else).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine

from retail.settings import Settings
from tests.conftest import committed_shop
from tests.e2e.books import check_books, wait_settled
from tests.e2e.conftest import StreamShop
from tests.e2e.processes import running_service, wait_serving


@pytest.fixture
def shop(pg_engine: Engine, pg_settings: Settings) -> Iterator[Settings]:
    with committed_shop(pg_engine, "R1", {"A": 5}):
        yield pg_settings


def test_an_order_accepted_while_redis_is_down_is_reserved_when_it_returns(
    shop: Settings, pg_engine: Engine, tmp_path: Path
) -> None:
    with running_service(shop, tmp_path, worker_concurrency=1, beat=True) as service:
        base = service.base
        # Ready, not only serving: the 503 below must come from the broker going away and nothing else.
        wait_serving(base, probe="/readyz")

        service.stop_redis()  # the broker goes away
        assert httpx.get(f"{base}/readyz").status_code == 503
        accepted = httpx.post(
            f"{base}/mobile/v1/orders",
            json={
                "store_code": "R1",
                "lines": [{"sku": "A", "quantity": 2}],
                "customer": {"name": "Kees", "email": "kees@example.nl"},
            },
            headers={"Idempotency-Key": "outage-1"},
            timeout=60,
        )
        assert accepted.status_code == 202
        order_url = f"{base}{accepted.json()['status_url']}"
        token = {"Authorization": f"Bearer {accepted.json()['order_token']}"}
        assert httpx.get(order_url, headers=token).json()["status"] == "pending"

        service.start_redis()  # and comes back
        status = "pending"
        deadline = time.monotonic() + 90
        while status == "pending" and time.monotonic() < deadline:
            time.sleep(1)
            status = httpx.get(order_url, headers=token).json()["status"]
        assert status == "reserved"
        check_books(pg_engine, counts={("R1", "A"): 5}, accepted={"outage-1": accepted.json()["order_id"]})


def test_orders_streaming_through_a_redis_outage_are_all_reserved_or_rejected_once(
    stream_shop: StreamShop, pg_engine: Engine, tmp_path: Path
) -> None:
    with running_service(stream_shop.settings, tmp_path, worker_concurrency=2, beat=True) as service:
        stream = stream_shop.order_stream(service.base).start()
        stream.wait_for(10)
        service.stop_redis()
        before_outage = stream.accepted
        stream.wait_for(10)  # accepted while the broker is away
        during_outage = stream.accepted - before_outage
        service.start_redis()
        stream.wait_for(10)
        outcome = stream.stop()
        wait_settled(pg_engine)
        books = check_books(pg_engine, counts=stream_shop.counts, accepted=outcome.accepted)
    assert during_outage >= 10
    assert (outcome.unclean, outcome.hung, outcome.refused) == ([], [], 0)
    assert set(outcome.statuses) <= {200, 202, 409}, outcome.statuses
    assert books.orders == len(outcome.accepted)
    assert books.by_status.get("reserved", 0) > 0

"""With Redis stopped an order is still accepted (202), and it is reserved once Redis is back.

Everything runs as it does in production, each in its own process: `retail serve`, `retail worker` and
`retail beat`, against the test PostgreSQL database and a Redis server of this test's own (so stopping it
disturbs nothing else).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine

from retail.settings import Settings
from tests.conftest import committed_shop
from tests.e2e.books import check_books, wait_settled
from tests.e2e.processes import end, free_port, service_env, spawn, start_redis, stop, wait_serving
from tests.e2e.stream import OrderStream


@pytest.fixture
def shop(pg_engine: Engine, pg_settings: Settings) -> Iterator[Settings]:
    with committed_shop(pg_engine, "R1", {"A": 5}):
        yield pg_settings


def test_an_order_accepted_while_redis_is_down_is_reserved_when_it_returns(
    shop: Settings, pg_engine: Engine, tmp_path: Path
) -> None:
    redis_port, api_port = free_port(), free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("RETAIL_")},
        "RETAIL_DATABASE_URL": shop.database_url,
        "RETAIL_REDIS_URL": f"redis://127.0.0.1:{redis_port}/0",
        "RETAIL_SECRET_KEY": shop.secret,
        "RETAIL_LOG_LEVEL": "WARNING",
    }
    redis = start_redis(redis_port, tmp_path)
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "retail", *args],
            env=env,
            cwd=tmp_path,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for args in (["serve", "--port", str(api_port)], ["worker", "--concurrency", "1"], ["beat"])
    ]
    try:
        base = f"http://127.0.0.1:{api_port}"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{base}/readyz").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.3)

        stop(redis)  # the broker goes away
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

        redis = start_redis(redis_port, tmp_path)  # and comes back
        status = "pending"
        deadline = time.monotonic() + 90
        while status == "pending" and time.monotonic() < deadline:
            time.sleep(1)
            status = httpx.get(order_url, headers=token).json()["status"]
        assert status == "reserved"
        check_books(pg_engine, counts={("R1", "A"): 5}, accepted={"outage-1": accepted.json()["order_id"]})
    finally:
        for process in processes:
            stop(process)
        stop(redis)


STREAM_STOCK = {"A": 40, "B": 40, "C": 40, "D": 20}


@pytest.fixture
def stream_shop(pg_engine: Engine, pg_settings: Settings) -> Iterator[Settings]:
    with committed_shop(pg_engine, "R2", STREAM_STOCK):
        yield pg_settings


def test_orders_streaming_through_a_redis_outage_are_all_reserved_or_rejected_once(
    stream_shop: Settings, pg_engine: Engine, tmp_path: Path
) -> None:
    redis_port, api_port = free_port(), free_port()
    env = service_env(
        database_url=stream_shop.database_url,
        redis_url=f"redis://127.0.0.1:{redis_port}/0",
        secret=stream_shop.secret,
    )
    redis = start_redis(redis_port, tmp_path)
    processes = [
        spawn(args, env, tmp_path)
        for args in (["serve", "--port", str(api_port)], ["worker", "--concurrency", "2"], ["beat"])
    ]
    base = f"http://127.0.0.1:{api_port}"
    try:
        wait_serving(base)
        stream = OrderStream(base, store_code="R2", skus=list(STREAM_STOCK)).start()
        stream.wait_for(10)
        stop(redis)
        before_outage = stream.accepted
        stream.wait_for(10)  # accepted while the broker is away
        during_outage = stream.accepted - before_outage
        redis = start_redis(redis_port, tmp_path)
        stream.wait_for(10)
        outcome = stream.stop()
        wait_settled(pg_engine)
        books = check_books(
            pg_engine, counts={("R2", sku): n for sku, n in STREAM_STOCK.items()}, accepted=outcome.accepted
        )
    finally:
        for process in processes:
            end(process)
        stop(redis)
    assert during_outage >= 10
    assert (outcome.unclean, outcome.hung, outcome.refused) == ([], [], 0)
    assert set(outcome.statuses) <= {200, 202, 409}, outcome.statuses
    assert books.orders == len(outcome.accepted)
    assert books.by_status.get("reserved", 0) > 0

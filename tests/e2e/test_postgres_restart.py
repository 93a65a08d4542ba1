"""PostgreSQL restarted, and stopped for a few seconds, while orders stream in.

The database is a private cluster of this test's own (tests/e2e/processes.py: PrivatePostgres), never the
shared server. What must hold: every order a client was answered 202 for is still there afterwards;
every other answer is a problem+json 5xx, never a hang; a client that sends a failed order again with the
same key gets one order; and the books balance once the pending sweep has caught up.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import Engine

from app.migrations import upgrade_database
from retail.db import make_engine
from retail.settings import Settings
from tests.e2e.books import check_books, wait_settled
from tests.e2e.processes import PrivatePostgres, running_service
from tests.e2e.stream import OrderStream
from tests.factories import committed_store

STOCK = {"A": 40, "B": 40, "C": 40, "D": 20}


@dataclass(frozen=True)
class Database:
    cluster: PrivatePostgres
    settings: Settings
    engine: Engine


@pytest.fixture
def database(pg_settings: Settings) -> Iterator[Database]:
    cluster = PrivatePostgres()
    try:
        cluster.start()
        settings = Settings(database_url=cluster.url, redis_url=None, secret_key=pg_settings.secret)
        upgrade_database(settings)
        engine = make_engine(settings.sqlalchemy_url)
        with committed_store(engine, "P1", STOCK):
            yield Database(cluster, settings, engine)
        engine.dispose()
    finally:
        cluster.remove()


def test_orders_survive_postgres_restarting_under_load(database: Database, tmp_path: Path) -> None:
    # database.settings points at the private cluster (database.cluster.url).
    with running_service(database.settings, tmp_path, worker_concurrency=2, beat=True) as service:
        stream = OrderStream(service.base, store_code="P1", skus=list(STOCK), clients=4, timeout=20).start()
        stream.wait_for(10)
        database.cluster.restart()  # fast shutdown: every open connection is cut
        stream.wait_for(10)
        database.cluster.stop()
        time.sleep(3)  # a few seconds without a database at all
        database.cluster.start()
        stream.wait_for(10)
        outcome = stream.stop()
        wait_settled(database.engine)
        books = check_books(
            database.engine, counts={("P1", sku): n for sku, n in STOCK.items()}, accepted=outcome.accepted
        )
    assert outcome.hung == [], "a request hung instead of failing"
    assert outcome.unclean == []
    # A database out of reach is a 503 the client may retry, never a 500 "unexpected error".
    assert {s for s in outcome.statuses if s >= 500} <= {503}, outcome.statuses
    assert any(s >= 500 for s in outcome.statuses), "the outage was never seen: the test proved nothing"
    assert books.orders == len(outcome.accepted)

"""Idempotency keys are kept for a day, then pruned by a periodic sweep: on PostgreSQL and SQLite."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, text
from sqlmodel import Session

from inventory import service as inventory_service
from orders import service as orders_service
from orders import sweeps
from orders import tasks as orders_tasks
from orders.models import Order
from orders.schemas import OrderIn
from retail import dialect
from stores import service as stores_service
from tests.conftest import ALWAYS_OPEN, committed_shop, store_row

BOTH_DATABASES = pytest.mark.parametrize("engine", ["postgresql", "sqlite"], indirect=True)
NOW = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)
BODY = {
    "store_code": "K1",
    "lines": [{"sku": "A", "quantity": 1}],
    "customer": {"name": "Sanne de Vries", "email": "sanne@example.nl"},
}


@pytest.fixture
def shop(session: Session) -> Session:
    stores_service.upsert_stores(
        session, rows=[store_row("K1", hours=ALWAYS_OPEN, closed_on_public_holidays=False)]
    )
    inventory_service.upsert_products(
        session, rows=[{"sku": "A", "name": "A", "online_price": {"amount": "2.50"}}]
    )
    return session


def _place(session: Session, key: str) -> Order:
    order, _ = orders_service.place_order(
        session, order_in=OrderIn.model_validate(BODY), idempotency_key=key, send_reservation=lambda _pk: None
    )
    return order


def _created(session: Session, key: str, at: datetime) -> None:
    session.execute(
        text("UPDATE idempotency_key SET created_at = :at WHERE key = :key"),
        {"at": dialect.timestamp(session, at), "key": hashlib.sha256(key.encode()).hexdigest()},
    )


def _keys(session: Session) -> set[str]:
    digests = {
        hashlib.sha256(k.encode()).hexdigest(): k for k in ("old", "day", "fresh", *map(str, range(9)))
    }
    return {digests[d] for d in session.execute(text("SELECT key FROM idempotency_key")).scalars()}


@BOTH_DATABASES
def test_keys_older_than_a_day_are_pruned_and_younger_ones_still_answer_their_order(shop: Session) -> None:
    orders = {key: _place(shop, key) for key in ("old", "day", "fresh")}
    _created(shop, "old", NOW - timedelta(hours=24, seconds=1))
    _created(shop, "day", NOW - timedelta(hours=23, minutes=59))
    _created(shop, "fresh", NOW)

    assert sweeps.prune_idempotency_keys(shop, batch=100, now=NOW) == 1
    assert _keys(shop) == {"day", "fresh"}
    # The orders themselves stay.
    assert shop.execute(text('SELECT count(*) FROM "order"')).scalar_one() == 3
    # Run again (or twice at once): nothing more to delete.
    assert sweeps.prune_idempotency_keys(shop, batch=100, now=NOW) == 0

    assert _place(shop, "day").order_id == orders["day"].order_id
    # Forgotten: the same key now places a new order.
    again = _place(shop, "old")
    assert again.order_id != orders["old"].order_id
    assert shop.execute(text('SELECT count(*) FROM "order"')).scalar_one() == 4


@BOTH_DATABASES
def test_pruning_goes_oldest_first_in_batches(shop: Session) -> None:
    for n in range(5):
        _place(shop, str(n))
        _created(shop, str(n), NOW - timedelta(days=2, hours=n))  # "4" is the oldest
    _place(shop, "fresh")

    assert sweeps.prune_idempotency_keys(shop, batch=2, now=NOW) == 2
    assert _keys(shop) == {"0", "1", "2", "fresh"}
    assert sweeps.prune_idempotency_keys(shop, batch=2, now=NOW) == 2
    assert sweeps.prune_idempotency_keys(shop, batch=2, now=NOW) == 1
    assert sweeps.prune_idempotency_keys(shop, batch=2, now=NOW) == 0
    assert _keys(shop) == {"fresh"}


def test_the_prune_finds_old_keys_through_the_created_at_index(session: Session) -> None:
    session.execute(text("SET LOCAL enable_seqscan = off"))
    plan = "\n".join(
        session.execute(
            text(
                "EXPLAIN DELETE FROM idempotency_key WHERE key IN (SELECT key FROM idempotency_key "
                "WHERE created_at < now() ORDER BY created_at LIMIT 10)"
            )
        ).scalars()
    )
    assert "ix_idempotency_key_created_at" in plan


@pytest.fixture
def committed_orders(pg_engine: Engine) -> Iterator[Engine]:
    with committed_shop(pg_engine, "K1", {"A": 10}):
        yield pg_engine


def test_the_periodic_task_prunes_every_old_key_in_batches(
    committed_orders: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    with Session(committed_orders) as session:
        for n in range(5):
            _place(session, str(n))
            _created(session, str(n), datetime.now(UTC) - timedelta(days=1, minutes=n + 1))
        _place(session, "fresh")
        session.commit()
    monkeypatch.setattr(orders_tasks, "PRUNE_KEYS_BATCH", 2)

    assert orders_tasks.prune_idempotency_keys() == 5
    with Session(committed_orders) as session:
        assert _keys(session) == {"fresh"}
        assert session.execute(text('SELECT count(*) FROM "order"')).scalar_one() == 6

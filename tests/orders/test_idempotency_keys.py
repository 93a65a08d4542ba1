"""Idempotency keys are kept for a day, then pruned by a periodic sweep: on PostgreSQL and SQLite."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, text
from sqlmodel import Session

from orders import sweeps
from orders import tasks as orders_tasks
from orders.models import Order
from orders.placement import _request_hash
from retail import dialect
from tests.factories import BASKET, committed_store, make_product, make_store, order_in, place_order

BOTH_DATABASES = pytest.mark.parametrize("engine", ["postgresql", "sqlite"], indirect=True)
NOW = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)


@pytest.fixture
def keyed_store(session: Session) -> Session:
    """The test's session with store K1, open around the clock, and product A, not in stock: orders for
    it are placed, and stay pending."""
    make_store(session, "K1", always_open=True)
    make_product(session, "A", price="2.50")
    return session


def _place(session: Session, key: str) -> Order:
    """The same order every time (one A at K1), under this idempotency key."""
    return place_order(session, "K1", {"A": 1}, key=key)


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
def test_keys_older_than_a_day_are_pruned_and_younger_ones_still_answer_their_order(
    keyed_store: Session,
) -> None:
    orders = {key: _place(keyed_store, key) for key in ("old", "day", "fresh")}
    _created(keyed_store, "old", NOW - timedelta(hours=24, seconds=1))
    _created(keyed_store, "day", NOW - timedelta(hours=23, minutes=59))
    _created(keyed_store, "fresh", NOW)

    assert sweeps.prune_idempotency_keys(keyed_store, batch=100, now=NOW) == 1
    assert _keys(keyed_store) == {"day", "fresh"}
    # The orders themselves stay.
    assert keyed_store.execute(text('SELECT count(*) FROM "order"')).scalar_one() == 3
    # Run again (or twice at once): nothing more to delete.
    assert sweeps.prune_idempotency_keys(keyed_store, batch=100, now=NOW) == 0

    assert _place(keyed_store, "day").order_id == orders["day"].order_id
    # Forgotten: the same key now places a new order.
    again = _place(keyed_store, "old")
    assert again.order_id != orders["old"].order_id
    assert keyed_store.execute(text('SELECT count(*) FROM "order"')).scalar_one() == 4


@BOTH_DATABASES
def test_pruning_goes_oldest_first_in_batches(keyed_store: Session) -> None:
    for n in range(5):
        _place(keyed_store, str(n))
        _created(keyed_store, str(n), NOW - timedelta(days=2, hours=n))  # "4" is the oldest
    _place(keyed_store, "fresh")

    assert sweeps.prune_idempotency_keys(keyed_store, batch=2, now=NOW) == 2
    assert _keys(keyed_store) == {"0", "1", "2", "fresh"}
    assert sweeps.prune_idempotency_keys(keyed_store, batch=2, now=NOW) == 2
    assert sweeps.prune_idempotency_keys(keyed_store, batch=2, now=NOW) == 1
    assert sweeps.prune_idempotency_keys(keyed_store, batch=2, now=NOW) == 0
    assert _keys(keyed_store) == {"fresh"}


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
def committed_keyed_store(pg_engine: Engine) -> Iterator[Engine]:
    """The test database with store K1 and 10 of A in stock, committed."""
    with committed_store(pg_engine, "K1", {"A": 10}):
        yield pg_engine


def test_the_periodic_task_prunes_every_old_key_in_batches(
    committed_keyed_store: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    with Session(committed_keyed_store) as session:
        for n in range(5):
            _place(session, str(n))
            _created(session, str(n), datetime.now(UTC) - timedelta(days=1, minutes=n + 1))
        _place(session, "fresh")
        session.commit()
    monkeypatch.setattr(orders_tasks, "PRUNE_KEYS_BATCH", 2)

    assert orders_tasks.prune_idempotency_keys() == 5
    with Session(committed_keyed_store) as session:
        assert _keys(session) == {"fresh"}
        assert session.execute(text('SELECT count(*) FROM "order"')).scalar_one() == 6


def test_a_body_without_the_new_fields_hashes_as_before_they_existed() -> None:
    # A key taken before the upgrade still answers its order when the same body comes again after it.
    old_fields = order_in("S1", BASKET).model_dump(
        mode="json", exclude={"pickup_person", "locale", "allow_transfer"}
    )
    before = hashlib.sha256(json.dumps(old_fields, sort_keys=True).encode()).hexdigest()
    assert _request_hash(order_in("S1", BASKET)) == before
    assert _request_hash(order_in("S1", BASKET, locale="nl")) != before

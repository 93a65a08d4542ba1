"""The books check itself: it passes on balanced books and names each kind of imbalance."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, text

from tests.e2e.books import check_books
from tests.factories import committed_store, place_order, reserved_order

COUNTS = {("B1", "A"): 5, ("B1", "B"): 3}


@pytest.fixture
def books(pg_engine: Engine) -> Iterator[Engine]:
    with committed_store(pg_engine, "B1", {"A": 5, "B": 3}):
        reserved_order(pg_engine, "B1", {"A": 2, "B": 1}, key="held")
        place_order(pg_engine, "B1", {"A": 1}, key="waiting")
        yield pg_engine


def _execute(engine: Engine, sql: str) -> None:
    with engine.begin() as connection:
        connection.execute(text(sql))


def test_balanced_books_pass_and_say_what_they_hold(books: Engine) -> None:
    seen = check_books(books, counts=COUNTS, allow_pending=True)
    assert (seen.orders, seen.by_status) == (2, {"reserved": 1, "pending": 1})


@pytest.mark.parametrize(
    ("damage", "complaint"),
    [
        ("UPDATE stock SET reserved = reserved + 1 WHERE reserved > 0", "live reservations"),
        ("UPDATE stock SET on_hand = on_hand - 1 WHERE reserved > 0", "count plus later movements"),
        (
            "INSERT INTO order_event (order_pk, status, at) SELECT order_pk, status, at FROM order_event "
            "WHERE status = 'reserved'",
            "more than once",
        ),
        ("DELETE FROM notification WHERE payload->>'status' = 'reserved'", "notifications for"),
        ("DELETE FROM idempotency_key", "idempotency key"),
    ],
)
def test_each_imbalance_is_caught(books: Engine, damage: str, complaint: str) -> None:
    _execute(books, damage)
    with pytest.raises(AssertionError, match=complaint):
        check_books(books, counts=COUNTS, allow_pending=True)


def test_a_pending_order_fails_unless_allowed(books: Engine) -> None:
    with pytest.raises(AssertionError, match="unexpected state"):
        check_books(books, counts=COUNTS)


def test_an_accepted_order_that_is_gone_is_caught(books: Engine) -> None:
    with pytest.raises(AssertionError, match="lost"):
        check_books(books, counts=COUNTS, accepted={"never-placed": "ord_x"}, allow_pending=True)

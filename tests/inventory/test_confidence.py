"""Stock confidence's pure rule (inventory/confidence.py) at its edges: exactly 7 days, 30 days, a fifth."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from inventory.confidence import Confidence, confidence, shown_status
from inventory.schemas import StockStatus

NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
TICK = timedelta(microseconds=1)


def _level(age: timedelta, short_picked: int = 0, orders: int = 0) -> Confidence:
    return confidence(as_of=NOW - age, now=NOW, short_picked=short_picked, orders=orders)


def test_the_age_of_the_count_at_its_edges() -> None:
    assert _level(timedelta(0)) == Confidence.high
    assert _level(timedelta(days=7)) == Confidence.high
    assert _level(timedelta(days=7) + TICK) == Confidence.medium
    assert _level(timedelta(days=30)) == Confidence.medium
    assert _level(timedelta(days=30) + TICK) == Confidence.low


def test_short_picks_over_a_fifth_of_the_orders_make_any_count_low() -> None:
    assert _level(timedelta(0), short_picked=20, orders=100) == Confidence.high
    assert _level(timedelta(0), short_picked=21, orders=100) == Confidence.low
    assert _level(timedelta(days=8), short_picked=1, orders=5) == Confidence.medium
    assert _level(timedelta(days=8), short_picked=2, orders=9) == Confidence.low
    assert _level(timedelta(0), short_picked=0, orders=0) == Confidence.high


def test_only_in_stock_with_low_confidence_answers_limited_availability() -> None:
    assert shown_status(StockStatus.in_stock, Confidence.low) == StockStatus.limited_availability
    assert shown_status(StockStatus.in_stock, Confidence.medium) == StockStatus.in_stock
    for status in StockStatus:
        if status != StockStatus.in_stock:
            assert shown_status(status, Confidence.low) == status

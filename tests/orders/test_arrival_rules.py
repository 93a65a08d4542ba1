"""How long an arrived shopper has waited and whether the hand-over is overdue: plain functions of the
check-in and the time, without a database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from orders.arrivals import handover_overdue, waiting_minutes
from orders.counter_schemas import Arrival, ArrivalStatus

AT = datetime(2026, 12, 3, 15, 0, tzinfo=UTC)
ARRIVED = Arrival(status=ArrivalStatus.arrived, at=AT, eta=None, where=None, bay=None)
ON_THE_WAY = Arrival(
    status=ArrivalStatus.on_the_way, at=AT, eta=AT + timedelta(minutes=10), where=None, bay=None
)


@pytest.mark.parametrize(
    ("after", "minutes"),
    [
        (timedelta(0), 0),
        (timedelta(seconds=59), 0),
        (timedelta(minutes=1), 1),
        (timedelta(minutes=5, seconds=59), 5),
        (timedelta(hours=3, minutes=2), 182),
        (-timedelta(seconds=30), 0),  # a clock a little behind the check-in's: never negative
    ],
)
def test_waiting_counts_whole_minutes_since_arrival(after: timedelta, minutes: int) -> None:
    assert waiting_minutes(ARRIVED, AT + after) == minutes


def test_a_shopper_on_the_way_is_not_waiting_nor_late() -> None:
    later = AT + timedelta(hours=2)
    assert waiting_minutes(ON_THE_WAY, later) is None
    assert handover_overdue(ON_THE_WAY, later, handover_minutes=0) is False


@pytest.mark.parametrize(
    ("after", "handover_minutes", "overdue"),
    [
        (timedelta(minutes=5), 5, False),
        (timedelta(minutes=5, microseconds=1), 5, True),
        (timedelta(minutes=4), 5, False),
        (timedelta(0), 0, False),
        (timedelta(seconds=1), 0, True),
        (timedelta(hours=4), 240, False),
        (timedelta(hours=4, seconds=1), 240, True),
    ],
)
def test_overdue_is_longer_ago_than_the_stores_handover_minutes(
    after: timedelta, handover_minutes: int, overdue: bool
) -> None:
    assert handover_overdue(ARRIVED, AT + after, handover_minutes=handover_minutes) is overdue

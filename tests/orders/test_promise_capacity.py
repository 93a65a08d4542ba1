"""Capacity and cutoff shape the promise, never refuse (API.md, "Every store a distribution point"): an
order at a store whose day is full, or placed after its cutoff, is promised the next opening day with
room; through the reservation run, one order at a time and a batch at once, on both databases."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import Session

from orders import lifecycle, promises
from orders import reservation as reservation_module
from orders import service as orders_service
from orders.models import Order, OrderStatus
from retail.clock import as_aware_utc
from stores import service as stores_service
from tests.factories import make_coffee_shop, make_stores, place_order, store_row

pytestmark = pytest.mark.parametrize("engine", ["postgresql", "sqlite"], indirect=True)

AMS = ZoneInfo("Europe/Amsterdam")
MONDAY_10 = datetime(2026, 4, 20, 10, tzinfo=AMS)  # S1 opens 09:00-18:00, Monday to Saturday


@pytest.fixture
def s1(session: Session, monkeypatch: pytest.MonkeyPatch) -> Any:
    """S1 with weekday hours and the given settings; orders reserved at a fixed instant."""
    make_coffee_shop(session)

    def settle(*, at: datetime = MONDAY_10, **settings: Any) -> None:
        make_stores(session, [store_row("S1", pick_minutes=60, **settings)])
        monkeypatch.setattr(reservation_module, "utcnow", lambda: at.astimezone(UTC))

    return settle


def _reserve(session: Session, key: str, *, batch: int = 1) -> Order:
    order = place_order(session, "S1", {"THEE": 1}, key=key)
    assert order.id is not None
    orders_service.reserve_order(session, order_pk=order.id, batch=batch)
    session.refresh(order)
    return order


def _ready_by(order: Order) -> datetime:
    assert order.status == OrderStatus.reserved
    assert order.ready_by is not None
    return as_aware_utc(order.ready_by).astimezone(AMS)


def test_a_full_day_moves_the_promise_to_the_next_opening_day(session: Session, s1: Any) -> None:
    s1(daily_order_capacity=2)
    promises = [_ready_by(_reserve(session, f"key-{n}")) for n in range(3)]
    assert promises == [
        datetime(2026, 4, 20, 11, tzinfo=AMS),
        datetime(2026, 4, 20, 11, tzinfo=AMS),
        datetime(2026, 4, 21, 10, tzinfo=AMS),  # Tuesday, an hour after opening
    ]


def test_a_cancelled_order_gives_its_room_back(session: Session, s1: Any) -> None:
    s1(daily_order_capacity=1)
    first = _reserve(session, "key-1")
    assert _ready_by(_reserve(session, "key-2")).day == 21
    lifecycle.cancel(session, order=first)
    assert _ready_by(_reserve(session, "key-3")).day == 20


def test_one_run_promising_a_batch_fills_the_day_in_turn(session: Session, s1: Any) -> None:
    s1(daily_order_capacity=2)
    pending = [place_order(session, "S1", {"THEE": 1}, key=f"key-{n}") for n in range(4)]
    assert pending[0].id is not None
    orders_service.reserve_order(session, order_pk=pending[0].id, batch=10)
    for order in pending:
        session.refresh(order)
    days = sorted(_ready_by(order).day for order in pending)
    assert days == [20, 20, 21, 21]


def test_an_order_after_the_cutoff_is_promised_the_next_opening_day(session: Session, s1: Any) -> None:
    s1(same_day_cutoff="16:00", at=datetime(2026, 4, 20, 15, 59, tzinfo=AMS))
    assert _ready_by(_reserve(session, "key-1")) == datetime(2026, 4, 20, 16, 59, tzinfo=AMS)
    s1(same_day_cutoff="16:00", at=datetime(2026, 4, 20, 16, 0, tzinfo=AMS))
    assert _ready_by(_reserve(session, "key-2")) == datetime(2026, 4, 21, 10, tzinfo=AMS)
    # Saturday after the cutoff: Sunday closed, Monday the 27th King's Day: Tuesday.
    s1(same_day_cutoff="16:00", at=datetime(2026, 4, 25, 16, 30, tzinfo=AMS))
    assert _ready_by(_reserve(session, "key-3")) == datetime(2026, 4, 28, 10, tzinfo=AMS)


def test_without_capacity_or_cutoff_every_order_gets_the_pick_time(session: Session, s1: Any) -> None:
    s1()
    assert {_ready_by(_reserve(session, f"key-{n}")) for n in range(5)} == {
        datetime(2026, 4, 20, 11, tzinfo=AMS)
    }


def test_a_store_full_for_days_shows_the_first_day_with_room_counted_a_week_at_a_time(
    session: Session, s1: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    s1(daily_order_capacity=1)
    full = [_ready_by(_reserve(session, f"key-{n}")) for n in range(9)]
    # One a day on nine opening days in turn (Sunday and King's Day, the 27th, closed).
    assert len({promise.date() for promise in full}) == 9
    assert full == sorted(full)
    view = stores_service.shopper_store(session, code="S1")
    # Each call is one statement (on PostgreSQL on the driver's own connection, which SQLAlchemy's events
    # do not see): the days it counted.
    counted: list[list[date]] = []
    count_days = promises._count_days

    def count(session: Session, wanted: Any) -> list[int]:
        counted.append([day for _store, _zone, day in wanted])
        return count_days(session, wanted)

    with monkeypatch.context() as patched:
        patched.setattr(promises, "_count_days", count)
        shown = orders_service.shown_ready_by_all(session, stores=[view], at=MONDAY_10.astimezone(UTC))[0]
    # The day of the first promise, then the days after it a week per statement: three, not one per
    # full day walked (ten).
    assert [len(days) for days in counted] == [1, 7, 7]
    assert counted[1][0] == full[0].date() + timedelta(days=1)
    assert shown is not None
    assert shown.date() > full[-1].date()
    assert shown == _ready_by(_reserve(session, "key-next"))

"""The measured promise (orders/measured.py): the pure rule, the opening-minutes count, and the refresh
on both databases with 19, 20 and more orders, as reservations and the shoppers' views then promise."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import Session, select

from orders import measured, promises, store_figures
from orders.models import OrderStatus
from retail.clock import as_aware_utc, utcnow
from stores import service as stores_service
from stores.models import Store
from stores.network import schedule_for
from tests.factories import (
    apply_counts,
    count_row,
    make_products,
    make_stores,
    product_row,
    reserved_order,
    store_row,
)

BOTH_DATABASES = pytest.mark.parametrize("engine", ["postgresql", "sqlite"], indirect=True)


def test_the_figure_is_the_80th_percentile_from_20_orders_on() -> None:
    assert measured.measured_minutes([10.0] * 19) is None
    # 20 orders of 1..20 minutes: the 16th is the 80th percentile (nearest rank).
    assert measured.measured_minutes([float(m) for m in range(20, 0, -1)]) == 16
    # 25 orders: the 20th; a fraction of a minute counts as a whole one.
    assert measured.measured_minutes([m + 0.25 for m in range(1, 26)]) == 21
    assert measured.measured_minutes([0.0] * 20) == 1


def test_only_the_opening_minutes_between_reserved_and_ready_count() -> None:
    hours = {"weekly": {d: [{"opens": "09:00", "closes": "18:00"}] for d in _WEEKDAYS}, "special": []}
    schedule = schedule_for(json.dumps(hours, sort_keys=True), "Europe/Amsterdam", "NL", None, False)
    # Reserved Monday 7 December 17:50 CET, ready Tuesday 09:15 CET: 10 + 15 open minutes.
    reserved = datetime(2026, 12, 7, 16, 50, tzinfo=UTC)
    ready = datetime(2026, 12, 8, 8, 15, tzinfo=UTC)
    assert measured.opening_minutes(schedule, reserved, ready) == 25
    # Reserved Saturday 17:50, ready Monday 09:05 (closed on Sunday): 15 minutes.
    assert (
        measured.opening_minutes(
            schedule, datetime(2026, 12, 12, 16, 50, tzinfo=UTC), datetime(2026, 12, 14, 8, 5, tzinfo=UTC)
        )
        == 15
    )


_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday")


@pytest.fixture
def measured_store(session: Session) -> Session:
    make_stores(session, [store_row("S1", always_open=True, pick_minutes=60)])
    make_products(session, [product_row("A", price="2.50")])
    assert apply_counts(session, [count_row("S1", "A", 100)]).applied == 1
    return session


def _history(session: Session, n: int, *, minutes: int, now: datetime, key: str) -> None:
    for i in range(n):
        order = reserved_order(session, "S1", {"A": 1}, key=f"{key}{i}")
        order.status = OrderStatus.ready_for_pickup
        order.created_at = order.reserved_at = now - timedelta(days=2, minutes=i)
        order.ready_at = order.reserved_at + timedelta(minutes=minutes)
        session.add(order)
    session.flush()


def _measured_refresh(session: Session, *, now: datetime) -> dict[str, int | None]:
    """The stores whose measured pick time the refresh changed (their short-pick share may change too)."""
    before = dict(session.exec(select(Store.code, Store.measured_pick_minutes)).all())
    changed = store_figures.refresh(session, now=now)
    return {
        code: f.measured_pick_minutes
        for code, f in changed.items()
        if f.measured_pick_minutes != before[code]
    }


def _store(session: Session) -> Store:
    store = session.exec(select(Store).where(Store.code == "S1")).one()
    session.refresh(store)
    return store


@BOTH_DATABASES
def test_19_orders_keep_the_configured_promise_and_the_20th_makes_it_measured(
    measured_store: Session,
) -> None:
    session = measured_store
    now = utcnow()
    _history(session, 19, minutes=30, now=now, key="h")
    # An order older than 28 days does not count.
    _history(session, 1, minutes=30, now=now - timedelta(days=27), key="old")
    assert _measured_refresh(session, now=now) == {}
    assert _store(session).measured_pick_minutes is None
    fresh = reserved_order(session, "S1", {"A": 1}, key="before")
    assert fresh.promise_basis == "configured"
    assert as_aware_utc(fresh.ready_by) - as_aware_utc(fresh.reserved_at) == timedelta(minutes=60)  # type: ignore[arg-type]

    _history(session, 1, minutes=30, now=now, key="twentieth")
    assert _measured_refresh(session, now=now) == {"S1": 30}
    assert _store(session).measured_pick_minutes == 30
    # A second refresh with the same orders writes nothing.
    assert _measured_refresh(session, now=now) == {}
    order = reserved_order(session, "S1", {"A": 1}, key="after")
    assert order.promise_basis == "measured"
    assert as_aware_utc(order.ready_by) - as_aware_utc(order.reserved_at) == timedelta(minutes=30)  # type: ignore[arg-type]
    # The shoppers' view (nearest, availability) promises the same.
    view = stores_service.shopper_store(session, code="S1")
    at = datetime(2026, 12, 9, 10, 0, tzinfo=UTC)
    assert view.measured_pick_minutes == 30
    assert promises.shown_ready_by(session, store=view, at=at) == at + timedelta(minutes=30)

    # More orders, slower ones among them: 80% of 30 are at 30 minutes, the slowest fifth at 90.
    _history(session, 10, minutes=90, now=now, key="slow")
    assert _measured_refresh(session, now=now) == {"S1": 90}
    _history(session, 30, minutes=30, now=now, key="quick")
    assert _measured_refresh(session, now=now) == {"S1": 30}

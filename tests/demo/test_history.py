"""The demo's past orders (demo/history.py, orders/history.py): finished orders only, with their history
and the report's columns stamped, nothing notified, no stock held, and the same day's history written
once however often the demo loads."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlmodel import Session, col, func, select

from demo.history import demo_history
from orders.models import Notification, Order, OrderEvent, OrderStatus
from retail.clock import as_aware_utc
from stores import service as stores_service
from stores.hours import engine as hours_engine
from tests.factories import WEEKDAYS, make_products, make_store, product_row, stock_of

BOTH_DATABASES = pytest.mark.parametrize("engine", ["postgresql", "sqlite"], indirect=True)
TODAY = date(2026, 12, 3)
# Open from six in the evening to two at night, Monday to Saturday: closed all day by a day shop's clock.
NIGHT_SHOP = {day: [{"opens": "18:00", "closes": "02:00"}] for day in WEEKDAYS[:6]}


@BOTH_DATABASES
def test_three_weeks_of_finished_orders_written_once(session: Session) -> None:
    for code in ("H1", "H2"):
        make_store(session, code)
    make_store(session, "H3", hours={"weekly": NIGHT_SHOP, "special": []})
    codes = ["H1", "H2", "H3"]
    skus = [f"P{i}" for i in range(5)]
    make_products(session, [product_row(sku, price="2.50", store_price={"amount": "2.75"}) for sku in skus])
    written = demo_history(session, store_codes=codes, skus=skus, today=TODAY)
    assert written > 0
    assert demo_history(session, store_codes=codes, skus=skus, today=TODAY) == 0
    orders = session.exec(select(Order)).all()
    assert len(orders) == written
    assert {order.status for order in orders} <= {
        OrderStatus.collected,
        OrderStatus.expired,
        OrderStatus.rejected,
    }
    assert all(order.order_id.startswith("ord_demo_H") for order in orders)
    assert all(order.reserved_at is not None for order in orders)
    picked = [order for order in orders if order.status != OrderStatus.rejected]
    assert all(order.ready_at is not None for order in picked)
    assert all(order.short_picked for order in orders if order.status == OrderStatus.rejected)
    collected = [order for order in orders if order.status == OrderStatus.collected]
    assert all(order.collected_at is not None for order in collected)
    # Every day of the three weeks but Sundays, and nothing from today.
    days = {order.order_id.split("_")[3] for order in orders}
    assert max(days) < TODAY.strftime("%Y%m%d")
    assert len(days) == 18
    events = session.exec(select(func.count()).select_from(OrderEvent)).one()
    assert events == sum(4 if order.status != OrderStatus.rejected else 3 for order in orders)
    assert session.exec(select(func.count()).select_from(Notification)).one() == 0
    assert stock_of(session, "H1", "P0") is None  # no stock was touched
    assert session.exec(select(func.count()).where(col(Order.status) == OrderStatus.rejected)).one() < written


@BOTH_DATABASES
def test_past_orders_were_placed_and_picked_while_their_store_was_open(session: Session) -> None:
    """The measured pick time counts opening minutes: a night shop's history placed by the day shops'
    clock would be picked while it was closed, and promise a pick of a minute or so."""
    make_store(session, "H1")
    make_store(session, "N1", hours={"weekly": NIGHT_SHOP, "special": []})
    skus = ["P0", "P1", "P2"]  # a basket holds up to three
    make_products(session, [product_row(sku, store_price={"amount": "2.75"}) for sku in skus])
    assert demo_history(session, store_codes=["H1", "N1"], skus=skus, today=TODAY) > 0
    for code in ("H1", "N1"):
        store = stores_service.get_store(session, code=code)
        schedule = stores_service.schedule_of(store)
        orders = session.exec(select(Order).where(col(Order.store_id) == store.id)).all()
        assert orders
        for order in orders:
            assert order.reserved_at is not None
            reserved = as_aware_utc(order.reserved_at)
            assert hours_engine.is_open(schedule, reserved - timedelta(minutes=1))  # placed
            if order.ready_at is not None:
                five_open_minutes = stores_service.open_time_after(
                    schedule, start=reserved, duration=timedelta(minutes=5)
                )
                assert five_open_minutes is not None
                assert as_aware_utc(order.ready_at) >= five_open_minutes

"""The demo's past orders (demo/history.py, orders/history.py): finished orders only, with their history
and the report's columns stamped, nothing notified, no stock held, and the same day's history written
once however often the demo loads."""

from __future__ import annotations

from datetime import date

import pytest
from sqlmodel import Session, col, func, select

from demo.history import demo_history
from orders.models import Notification, Order, OrderEvent, OrderStatus
from tests.factories import make_products, make_store, product_row, stock_of

BOTH_DATABASES = pytest.mark.parametrize("engine", ["postgresql", "sqlite"], indirect=True)
TODAY = date(2026, 12, 3)


@BOTH_DATABASES
def test_three_weeks_of_finished_orders_written_once(session: Session) -> None:
    for code in ("H1", "H2"):
        make_store(session, code)
    skus = [f"P{i}" for i in range(5)]
    make_products(session, [product_row(sku, price="2.50", store_price={"amount": "2.75"}) for sku in skus])
    written = demo_history(session, store_codes=["H1", "H2"], skus=skus, today=TODAY)
    assert written > 0
    assert demo_history(session, store_codes=["H1", "H2"], skus=skus, today=TODAY) == 0
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

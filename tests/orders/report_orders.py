"""Orders written as they stand once their day is over, with exact instants, for the service report's tests
(tests/orders/test_service_report.py, tests/e2e/test_manager_page.py): the columns the report reads, set
directly rather than lived through at the clock's pace."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from sqlmodel import Session

from orders.models import Order, OrderStatus, Return
from stores import service as stores_service

MIN = timedelta(minutes=1)


def report_order(
    session: Session,
    store_code: str,
    name: str,
    created: datetime,
    status: OrderStatus,
    *,
    ready_after: int | None = None,
    collected_after: int | None = None,
    arrived_before_collection: int | None = None,
    short_picked: bool = False,
    returns: int = 0,
) -> None:
    """An order placed at `created` and reserved at once with a promise an hour on; ready `ready_after`
    minutes after that, collected `collected_after` minutes after being ready, its shopper checked in
    as arrived `arrived_before_collection` minutes before the hand-over; with `returns` returns."""
    store = stores_service.get_store(session, code=store_code)
    assert store.id is not None
    reserved = None if status is OrderStatus.rejected else created
    ready = None if ready_after is None else created + ready_after * MIN
    collected = None if ready is None or collected_after is None else ready + collected_after * MIN
    arrived = (
        None
        if collected is None or arrived_before_collection is None
        else collected - arrived_before_collection * MIN
    )
    order = Order(
        order_id=f"ord_{name}",
        store_id=store.id,
        store_snapshot={"code": store_code},
        status=status,
        customer_name="Sanne",
        customer_email="sanne@example.nl",
        total=Decimal("1.00"),
        ready_by=None if reserved is None else created + 60 * MIN,
        promised_ready_by=None if reserved is None else created + 60 * MIN,
        reserved_at=reserved,
        ready_at=ready,
        collected_at=collected,
        arrival_status=None if arrived is None else "arrived",
        arrival_at=arrived,
        short_picked=short_picked,
        created_at=created,
        updated_at=created,
    )
    session.add(order)
    session.flush()
    assert order.id is not None
    for n in range(returns):
        session.add(
            Return(
                return_id=f"ret_{name}_{n}",
                order_pk=order.id,
                at=(collected or created) + timedelta(days=1),
                restock=True,
                idempotency_key=f"{name}-{n}",
                request_hash="h",
            )
        )
    session.flush()

"""The shopper's arrival check-in ("on my way, 10 minutes", "I'm here, curbside bay 4") and the store's
arrivals list: who is coming, who is waiting, and whose hand-over is overdue against the store's
`handover_minutes`.

An order keeps its shopper's last check-in (a later one replaces it) while it is `reserved` or
`ready_for_pickup`; each check-in tells the store's desk (`order.arrival`, `orders.desk_events`) in the
same transaction. How long a shopper has waited and whether that is overdue are plain functions of the
check-in and the time, tested without a database.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import case
from sqlmodel import Session, col, select

from orders import desk_events, lifecycle, responses, shopper, staff
from orders.counter_schemas import Arrival, ArrivalStatus
from orders.desk_schemas import ArrivalIn, ArrivalItem, ArrivalPage, DeskEventType
from orders.exceptions import InvalidTransition
from orders.models import HOLDING, Order, OrderStatus
from retail import clock, ratelimit
from retail.auth import Principal

ARRIVALS_MAX = 200
"""The most orders the arrivals list shows: more shoppers than that on their way to one store at once
would be a queue no desk works through."""
CHECK_INS_PER_WINDOW = 30
CHECK_IN_WINDOW_S = 600
"""A shopper's app may check in 30 times in 10 minutes per order (an eta kept up to date every 20 s);
each check-in rings the store's desk, so no more."""


# ---------------------------------------------------------------------------------------------- rules


def waiting_minutes(arrival: Arrival, now: datetime) -> int | None:
    """Whole minutes the shopper has waited since arriving; None while on the way."""
    if arrival.status is not ArrivalStatus.arrived:
        return None
    return max(0, int((now - arrival.at) // timedelta(minutes=1)))


def handover_overdue(arrival: Arrival, now: datetime, *, handover_minutes: int) -> bool:
    """Whether the shopper arrived longer ago than the store's `handover_minutes`."""
    return arrival.status is ArrivalStatus.arrived and now - arrival.at > timedelta(minutes=handover_minutes)


# -------------------------------------------------------------------------------------------- check-in


def check_in(
    session: Session, *, order_id: str, token: str | None, arrival: ArrivalIn, now: datetime | None = None
) -> Order:
    """Record the shopper's check-in on the order (the token's holder only: 404 otherwise), replacing any
    earlier one, and tell the store's desk. Only while the order is reserved or ready: 409 otherwise."""
    order = shopper.get_order(session, order_id=order_id, token=token)
    ratelimit.hit(f"arrival:{order.order_id}", limit=CHECK_INS_PER_WINDOW, window_s=CHECK_IN_WINDOW_S)
    assert order.id is not None
    order = lifecycle.lock_order(session, order.id) or order
    status = OrderStatus(order.status)
    if status not in HOLDING:
        raise InvalidTransition(status, "checked in for")
    now = now or clock.utcnow()
    order.arrival_status = arrival.status.value
    order.arrival_at = now
    order.arrival_eta = None if arrival.eta_minutes is None else now + timedelta(minutes=arrival.eta_minutes)
    order.arrival_where = None if arrival.where is None else arrival.where.value
    order.arrival_bay = arrival.bay
    order.updated_at = now
    session.add(order)
    session.flush()
    desk_events.emit(
        session,
        store_id=order.store_id,
        events=[desk_events.NewDeskEvent(DeskEventType.order_arrival, order.order_id, now)],
    )
    return order


# --------------------------------------------------------------------------------------- arrivals list


def arrivals_page(
    session: Session, *, principal: Principal, store_code: str, now: datetime | None = None
) -> ArrivalPage:
    """The store's open orders whose shopper checked in: those arrived first, earliest arrival first,
    then those on the way, earliest eta first; each with its waiting time and whether it is overdue."""
    store = staff.counter_store(session, principal=principal, store_code=store_code)
    arrived = col(Order.arrival_status) == ArrivalStatus.arrived.value
    orders = session.exec(
        select(Order)
        .where(
            Order.store_id == store.id,
            col(Order.status).in_([s.value for s in HOLDING]),
            col(Order.arrival_status).is_not(None),
        )
        .order_by(
            case((arrived, 0), else_=1),
            case((arrived, col(Order.arrival_at)), else_=col(Order.arrival_eta)),
            col(Order.id),
        )
        .limit(ARRIVALS_MAX)
    ).all()
    now = now or clock.utcnow()
    items = []
    for record in lifecycle.order_records(session, orders=orders):
        arrival = responses.arrival_of(record.order)
        assert arrival is not None
        items.append(
            ArrivalItem(
                **dict(responses.staff_order(record)),
                waiting_minutes=waiting_minutes(arrival, now),
                handover_overdue=handover_overdue(arrival, now, handover_minutes=store.handover_minutes),
            )
        )
    return ArrivalPage(items=items, next_cursor=None)

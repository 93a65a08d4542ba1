"""What the shopper surface and other callers use of click-and-collect orders: placing one (its reservation
queued after the commit), following and cancelling it with its token, checking in on the way to collect
it, reserving it, and its record.

Each of these lives in the module named for its concern (`orders.placement`, `orders.shopper`,
`orders.reservation`, `orders.lifecycle`); the store's side is `orders.staff`. Services take the session
first and keyword-only arguments, may flush, and never commit.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from sqlmodel import Session

from orders import (
    arrivals,
    lifecycle,
    placement,
    promises,
    queueing,
    reservation,
    shopper,
    store_figures,
)
from orders import history as past_orders
from orders.schemas import OrderIn

OrderRecord = lifecycle.OrderRecord
order_record = lifecycle.order_record
history = lifecycle.history
pickup_of = lifecycle.pickup_of

Accepted = placement.Accepted
order_token = shopper.order_token
get_order = shopper.get_order
cancel_order = shopper.cancel_order
pickup_token = shopper.pickup_token
check_in = arrivals.check_in

reserve_order = reservation.reserve_order
PastOrder = past_orders.PastOrder
PastLine = past_orders.PastLine
import_history = past_orders.import_history
refresh_store_figures = store_figures.refresh
shown_ready_by_all = promises.shown_ready_by_all
shown_transfer_ready_by = promises.shown_transfer_ready_by


def place_order(
    session: Session,
    *,
    order_in: OrderIn,
    idempotency_key: str,
    send_reservation: Callable[[int], object] | None = None,
) -> placement.Accepted:
    """Accept an order as pending (or find the one this idempotency key already made). After the commit
    its reservation is queued, one run per store at a time (`orders.queueing`), or handed to
    `send_reservation` with the order's primary key."""
    return placement.place_order(
        session,
        order_in=order_in,
        idempotency_key=idempotency_key,
        send_reservation=send_reservation
        or partial(queueing.queue_reservation, store_code=order_in.store_code),
    )

"""Late orders (contract "Late orders"): an order still `reserved` `LATE_LEAD` before its `ready_by` is
marked `late`, told to the desk (`order.late` on its event stream) and to the shopper (an `order.late`
outbox event carrying the new promise), and promised again by the same rule as a new order
(`promises.shown_ready_by` at the moment of the sweep); the first promise stays in `promised_ready_by`
(`pickup.first_ready_by`).

An order is marked late once: the sweep walks only reserved orders not yet late (the partial index
`ix_order_late_due`), and checks again after locking, so a second sweep, or two at once, does nothing.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from sqlmodel import Session, col, select

from orders import desk_events, lifecycle, promises
from orders.desk_schemas import DeskEventType
from orders.models import Notification, Order, OrderStatus
from retail.clock import as_aware_utc, utcnow
from stores import service as stores_service

logger = logging.getLogger(__name__)

LATE_LEAD = timedelta(minutes=10)
LATE_BATCH = 500
LATE_KIND = "order.late"


def late_due_before(now: datetime) -> datetime:
    """The `ready_by` before which a reserved order is late at `now`, in UTC: Python adds to and compares
    datetimes of one zone by their wall clock, which on the night DST ends is an hour off."""
    return now.astimezone(UTC) + LATE_LEAD


def is_late(*, status: OrderStatus, ready_by: datetime | None, late: bool, now: datetime) -> bool:
    """Whether the sweep marks this order late now: reserved, promised, not yet late, and within
    `LATE_LEAD` of (or past) its promise."""
    if status != OrderStatus.reserved or ready_by is None or late:
        return False
    # SQLite reads instants back naive, in UTC.
    return as_aware_utc(ready_by) < late_due_before(now)


def mark_late(session: Session, *, now: datetime | None = None, limit: int = LATE_BATCH) -> list[str]:
    """Mark the due orders late (the earliest promises first, at most `limit`); answers their order ids."""
    now = now or utcnow()
    orders = session.exec(
        select(Order)
        .where(
            Order.status == OrderStatus.reserved,
            col(Order.late).is_(False),
            col(Order.ready_by) < late_due_before(now),
        )
        .order_by(col(Order.ready_by), col(Order.id))
        .limit(limit)
        .with_for_update(skip_locked=True)
        .execution_options(populate_existing=True)
    ).all()
    marked: list[Order] = []
    for order in orders:
        if not is_late(status=OrderStatus(order.status), ready_by=order.ready_by, late=order.late, now=now):
            continue
        store = stores_service.shopper_store(session, code=order.store_snapshot["code"])
        # Stamped at reservation (orders.lifecycle.stamp); an order reserved before that column had none.
        if order.promised_ready_by is None:
            order.promised_ready_by = as_aware_utc(order.ready_by) if order.ready_by is not None else None
        promise = promises.shown_ready_by(session, store=store, at=now)
        if promise is not None:
            order.ready_by, order.promise_basis = promise.astimezone(UTC), promises.basis(store)
        order.late = True
        order.updated_at = now
        session.add(order)
        record = lifecycle.outbox_record(
            order,
            OrderStatus.reserved,
            now,
            kind=LATE_KIND,
            details={
                "ready_by": _utc(order.ready_by),
                "first_ready_by": _utc(order.promised_ready_by),
            },
        )
        session.add(Notification(**vars(record)))
        marked.append(order)
        logger.info(
            "order %s is late: promised %s, now %s", order.order_id, order.promised_ready_by, order.ready_by
        )
    session.flush()
    # Desk events last, per store in id order (orders.desk_events: the counter lock is taken last).
    by_store: dict[int, list[desk_events.NewDeskEvent]] = {}
    for order in marked:
        event = desk_events.NewDeskEvent(DeskEventType.order_late, order.order_id, now)
        by_store.setdefault(order.store_id, []).append(event)
    for store_id in sorted(by_store):
        desk_events.emit(session, store_id=store_id, events=by_store[store_id])
    return [o.order_id for o in marked]


def _utc(at: datetime | None) -> str | None:
    return None if at is None else as_aware_utc(at).isoformat()

"""An order's life after it is placed: each transition writes its history entry and its outbox record in the
transaction that makes it; one row lock serialises every change to one order; cancelling gives held stock
back. Also what every answer shows of an order: its record (lines, history, pickup codes).

Services take the session first and keyword-only arguments, may flush, and never commit.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from sqlmodel import Session, col, select

from inventory import service as inventory_service
from orders import desk_events, pickup, transfer_records
from orders.desk_schemas import DeskEventType
from orders.exceptions import InvalidTransition
from orders.messages.listing import ListedMessage, messages_by_order
from orders.models import (
    HOLDING,
    Notification,
    Order,
    OrderEvent,
    OrderLine,
    OrderStatus,
    ProblemCode,
    Transfer,
)
from orders.return_records import RecordedReturn, returns_by_order
from retail.auth import Principal
from retail.clock import utcnow
from retail.settings import get_settings

NOTIFICATION_KIND = "order.status_changed"
# The kind of the one notification of a `ready_for_pickup` transition after a short pick, instead of
# `NOTIFICATION_KIND`: the same data (status `ready_for_pickup`) plus the order's `shortages`, so a
# receiver can tell the shopper what is missing and where else it is.
PARTIALLY_READY_KIND = "order.partially_ready"

# ------------------------------------------------------------------------------------------ transitions


def lock_order(session: Session, order_pk: int) -> Order | None:
    # The row lock serialises everything that changes one order (task, cancel, staff), so each sees the
    # state the previous one left: `populate_existing` makes the locked read replace what this session
    # loaded before it waited, or a second confirmation would still see "ready" and collect again.
    return session.exec(
        select(Order).where(Order.id == order_pk).with_for_update().execution_options(populate_existing=True)
    ).first()


def transition(
    session: Session,
    order: Order,
    status: OrderStatus,
    at: datetime,
    *,
    ready_by: datetime | None = None,
    problem: dict[str, Any] | None = None,
    by: Principal | None = None,
    verification: str | None = None,
    kind: str = NOTIFICATION_KIND,
    flush: bool = True,
) -> None:
    order.status = status
    order.updated_at = at
    if ready_by is not None:
        order.ready_by = ready_by
    if problem is not None:
        order.problem = problem
    stamp(order, status, at)
    session.add(order)
    record_event(session, order, status, at, by=by, verification=verification, kind=kind)
    if flush:
        session.flush()


def stamp(order: Order, status: OrderStatus, at: datetime) -> None:
    """What the service report reads of a transition (`orders.report`), written on the order itself: when
    it was reserved with its first promise, ready and collected, and whether the store picked it short
    (fewer units than ordered on some line: `shortages` on a ready order, or a rejection because the
    shelf held none of it)."""
    if status is OrderStatus.reserved:
        order.reserved_at = at
        if order.promised_ready_by is None:
            order.promised_ready_by = order.ready_by
    elif status is OrderStatus.ready_for_pickup:
        order.ready_at = at
        order.short_picked = bool(order.shortages)
    elif status is OrderStatus.collected:
        order.collected_at = at
    elif status is OrderStatus.rejected:
        order.short_picked = (order.problem or {}).get("code") == ProblemCode.short_pick.value


def record_event(
    session: Session,
    order: Order,
    status: OrderStatus,
    at: datetime,
    *,
    by: Principal | None = None,
    verification: str | None = None,
    kind: str = NOTIFICATION_KIND,
) -> None:
    """The history entry of a transition (with the staff key that made it, if one did, and how the
    collector was checked, at a hand-over), and its notification in the outbox, one per transition, in
    the same transaction: the notification commits or rolls back with the transition itself."""
    assert order.id is not None
    session.add(
        OrderEvent(
            order_pk=order.id,
            status=status,
            at=at,
            actor_key_id=None if by is None else by.key_id,
            actor_label=None if by is None else by.by,
            verification=verification,
        )
    )
    details = {"shortages": order.shortages or []} if kind == PARTIALLY_READY_KIND else None
    session.add(Notification(**vars(outbox_record(order, status, at, kind=kind, details=details))))


class Notified(Protocol):
    """What a notification tells of its order: an `Order`, or one about to be written."""

    @property
    def order_id(self) -> str: ...
    @property
    def store_snapshot(self) -> dict[str, Any]: ...
    @property
    def customer_email(self) -> str: ...


@dataclass(frozen=True)
class OutboxRecord:
    """The values of one `Notification` row, as `orders.notifications` delivers it (plain values: the
    placement's statement writes them without building the ORM row)."""

    event_id: str
    kind: str
    payload: dict[str, Any]
    created_at: datetime
    next_attempt_at: datetime
    attempts: int = 0


def outbox_record(
    order: Notified,
    status: OrderStatus,
    at: datetime,
    *,
    kind: str = NOTIFICATION_KIND,
    details: dict[str, Any] | None = None,
) -> OutboxRecord:
    """The notification of one transition: every kind carries the same members (a receiver of
    `order.status_changed` reads any of them alike), `details` adds the kind's own."""
    return OutboxRecord(
        event_id=str(uuid.uuid4()),
        kind=kind,
        payload={
            "order_id": order.order_id,
            "store_code": order.store_snapshot["code"],
            "status": status.value,
            "at": at.isoformat(),
            "customer_email": order.customer_email,
            **(details or {}),
        },
        created_at=at,
        next_attempt_at=at,
    )


def cancel(session: Session, *, order: Order) -> Order:
    """Cancel before collection (409 `invalid_transition` after); stock held for the order goes back."""
    assert order.id is not None
    pk = order.id
    order = lock_order(session, pk) or order
    status = OrderStatus(order.status)
    if status not in (OrderStatus.pending, *HOLDING):
        raise InvalidTransition(status, "cancelled")
    now = utcnow()
    if status in HOLDING:
        # Units still at a transfer's source go back there; units travelling stay on their way, and are
        # received unreserved (orders.transfers). In store order, as every stock writer locks rows.
        transfers = transfer_records.transfers_by_order(session, order_pks=[pk])[pk]
        held = transfer_records.held_by_store(order, order_lines(session, order=order), transfers)
        for store_id in sorted(held):
            inventory_service.release(session, store_id=store_id, lines=held[store_id])
    transition(session, order, OrderStatus.cancelled, now)
    if status in HOLDING:  # an order the desk was shown: it goes from its lists (last: orders.desk_events)
        cancelled = desk_events.NewDeskEvent(DeskEventType.order_cancelled, order.order_id, now)
        desk_events.emit(session, store_id=order.store_id, events=[cancelled])
    return order


# ------------------------------------------------------------------------------------ lines and history


def order_lines(session: Session, *, order: Order) -> list[OrderLine]:
    """The order's lines, in product order (the order stock rows are locked in)."""
    assert order.id is not None
    return lines_by_order(session, order_pks=[order.id])[order.id]


def lines_by_order(session: Session, *, order_pks: Sequence[int]) -> dict[int, list[OrderLine]]:
    """The lines of several orders in one query, each order's in product order."""
    lines: dict[int, list[OrderLine]] = {pk: [] for pk in order_pks}
    for line in session.exec(
        select(OrderLine)
        .where(col(OrderLine.order_pk).in_(list(order_pks)))
        .order_by(col(OrderLine.order_pk), col(OrderLine.product_id))
    ):
        lines[line.order_pk].append(line)
    return lines


def quantities(lines: Sequence[OrderLine]) -> list[inventory_service.Quantity]:
    """What the lines ask of the store's stock."""
    return [inventory_service.Quantity(line.product_id, line.quantity) for line in lines]


def held_quantities(lines: Sequence[OrderLine]) -> list[inventory_service.Quantity]:
    """What the lines of an order holding stock hold of it: after a short pick, only the picked units."""
    return [inventory_service.Quantity(line.product_id, line.held) for line in lines if line.held > 0]


def history(session: Session, *, order: Order) -> list[OrderEvent]:
    assert order.id is not None
    return _history_by_order(session, order_pks=[order.id])[order.id]


def _history_by_order(session: Session, *, order_pks: Sequence[int]) -> dict[int, list[OrderEvent]]:
    events: dict[int, list[OrderEvent]] = {pk: [] for pk in order_pks}
    for event in session.exec(
        select(OrderEvent).where(col(OrderEvent.order_pk).in_(list(order_pks))).order_by(col(OrderEvent.id))
    ):
        events[event.order_pk].append(event)
    return events


def entered_at(session: Session, *, order: Order, status: OrderStatus) -> datetime | None:
    """When the order entered `status` (None if it never did)."""
    event = session.exec(
        select(OrderEvent).where(OrderEvent.order_pk == order.id, OrderEvent.status == status)
    ).first()
    return event.at if event is not None else None


# ------------------------------------------------------------------------------------------ the record


def pickup_of(order: Order) -> pickup.Pickup | None:
    """The order's pickup token and short code, derived again from its nonce; None before reservation."""
    if order.pickup_nonce is None:
        return None
    return pickup.derive_pickup(
        order_id=order.order_id,
        store_code=order.store_snapshot["code"],
        nonce=order.pickup_nonce,
        secret_key=get_settings().secret,
    )


@dataclass(frozen=True)
class OrderRecord:
    """An order as every answer about it shows it: the row, its lines, its history, while it holds
    stock its pickup codes, and its returns at the counter."""

    order: Order
    lines: list[OrderLine]
    history: list[OrderEvent]
    pickup: pickup.Pickup | None
    returns: list[RecordedReturn]
    messages: list[ListedMessage] = field(default_factory=list)
    transfers: list[Transfer] = field(default_factory=list)


def order_record(session: Session, *, order: Order) -> OrderRecord:
    return order_records(session, orders=[order])[0]


def order_records(session: Session, *, orders: Sequence[Order]) -> list[OrderRecord]:
    """The records of several orders (a pick list) in five queries, whatever their number."""
    pks = [order.id for order in orders if order.id is not None]
    lines = lines_by_order(session, order_pks=pks)
    events = _history_by_order(session, order_pks=pks)
    returns = returns_by_order(session, order_pks=pks)
    messages = messages_by_order(session, order_ids=[order.order_id for order in orders])
    transfers = transfer_records.transfers_by_order(session, order_pks=pks)
    return [
        OrderRecord(
            order=order,
            lines=lines[order.id],
            history=events[order.id],
            pickup=pickup_of(order) if order.status in HOLDING else None,
            returns=returns[order.id],
            messages=messages.get(order.order_id, []),
            transfers=transfers[order.id],
        )
        for order in orders
        if order.id is not None
    ]

"""The pure rules of the messages: which messages an outbox event makes, and when a reminder goes out.
Plain values in and out (no database), tested on their own."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from orders.messages.models import MessageType

# The outbox kinds the messages read (orders/lifecycle.py, orders/returns.py; `order.late` of the late-order
# sweep). The stock alerts' messages come from inventory's fired alerts instead (`outbox.derive`).
STATUS_CHANGED = "order.status_changed"
PARTIALLY_READY = "order.partially_ready"
RETURNED = "order.returned"
LATE = "order.late"

_BY_STATUS: Mapping[str, tuple[MessageType, ...]] = {
    "reserved": (MessageType.reserved,),
    # The reminder is written with the ready message, due at its own time (`reminder_at`).
    "ready_for_pickup": (MessageType.ready, MessageType.reminder),
    "rejected": (MessageType.rejected,),
    "expired": (MessageType.expired,),
    "collected": (MessageType.collected,),
}


def message_types(kind: str, payload: Mapping[str, Any]) -> tuple[MessageType, ...]:
    """The messages one outbox event makes; none for the rest (`pending`: the shopper has the answer of
    the POST; `cancelled`: the shopper or the shop cancelled, and knows)."""
    if kind == STATUS_CHANGED:
        return _BY_STATUS.get(str(payload.get("status")), ())
    if kind == PARTIALLY_READY:
        return (MessageType.partially_ready, MessageType.reminder)
    if kind == RETURNED:
        return (MessageType.returned,)
    if kind == LATE:
        return (MessageType.delayed,)
    return ()


def event_order_id(payload: Mapping[str, Any]) -> str | None:
    """The public id of the order an event tells of: `order_id`, or that of the order object it carries
    (`order.late` carries the order whole)."""
    order = payload.get("order")
    found = payload.get("order_id") or (order.get("order_id") if isinstance(order, Mapping) else None)
    return found if isinstance(found, str) else None


def new_ready_by(payload: Mapping[str, Any]) -> datetime | None:
    """The new promise an `order.late` event carries: `ready_by`, or its order's (at the top of the order
    object or in its `pickup`, as the order's answers show it); None when it names none."""
    order = _mapping(payload.get("order"))
    pickup = _mapping(order.get("pickup"))
    for value in (payload.get("ready_by"), order.get("ready_by"), pickup.get("ready_by")):
        if isinstance(value, str):
            return datetime.fromisoformat(value)
    return None


def _mapping(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


# A reminder moved before its store's closing goes out this long before it closes (when the store is open
# that long), so the shopper still has time to come.
BEFORE_CLOSING = timedelta(hours=1)
# A reminder this soon after the ready message would only repeat it: none then.
AFTER_READY = timedelta(hours=1)


def reminder_at(
    *, ready_at: datetime, expires_at: datetime, open_intervals: Sequence[tuple[datetime, datetime]]
) -> datetime | None:
    """When the reminder of a ready order goes out: when a quarter of the hold is left (real time, from
    `ready_at` to `expires_at`), moved to an hour the store is open.

    `open_intervals`: the store's open [from, until) intervals within [ready_at, expires_at), sorted
    (`stores.hours.engine.open_intervals`). The rule:
    1. the store is open at the quarter mark: then;
    2. else it opens again before the hold ends: at that opening;
    3. else the last time it was open before the mark: an hour before that closing (its opening, if it
       was open for less than an hour);
    4. else (never open during the hold) no reminder: None;
    and none either when the time found is within `AFTER_READY` of the ready message.
    Instants are compared in UTC, so a DST change inside the hold counts the real hours.
    """
    start, end = ready_at.astimezone(UTC), expires_at.astimezone(UTC)
    if end <= start:
        return None
    mark = end - (end - start) / 4
    intervals = [(a.astimezone(UTC), b.astimezone(UTC)) for a, b in open_intervals]
    found = _open_moment(mark, end, intervals)
    if found is None or found < start + AFTER_READY:
        return None
    return found


def _open_moment(
    mark: datetime, end: datetime, intervals: list[tuple[datetime, datetime]]
) -> datetime | None:
    for opened, closed in intervals:
        if opened <= mark < closed:
            return mark
    for opened, _closed in intervals:
        if mark < opened < end:
            return opened
    before = [(opened, closed) for opened, closed in intervals if closed <= mark]
    if before:
        opened, closed = before[-1]
        return max(opened, closed - BEFORE_CLOSING)
    return None

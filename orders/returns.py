"""Returns at the counter: units of a collected order brought back to its store within the store's
`return_days`, back on the shelf (`restock`) or written off.

1. The order: it must exist (404) and belong to the key's store (403 `wrong_store`); its row lock
   serialises every return of it, so two at once never give back more than was collected.
2. The `Idempotency-Key` (`orders.idempotency`), scoped to the order: one sent before for this order
   answers its return again with the same body (changing nothing) or 422 `idempotency_key_reused`, whatever
   became of the order since.
3. The rules, plain functions: only a collected order (409 `invalid_transition`), within the window
   (`window_closes_at`; 409 `return_window_closed`), and no line beyond what was collected and not yet
   returned, nor a sku the order does not hold (`refused_lines`; 422 naming each line).
4. The write: the return and its lines, restocked units into `on_hand` through inventory's one stock-write
   path (a `return` movement per line, counted once by its id), and the return's notification in the
   outbox, all in the caller's transaction.

Services take the session first and keyword-only arguments, may flush, and never commit.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import Session, select

from inventory import service as inventory_service
from orders import idempotency, lifecycle
from orders.counter_schemas import ReturnIn
from orders.exceptions import (
    InvalidTransition,
    OrderNotFound,
    ReturnLinesRefused,
    ReturnWindowClosed,
    WrongStore,
)
from orders.models import Notification, Order, OrderStatus, Return, ReturnLine
from orders.return_records import RecordedReturn, returned_units, returns_by_order
from retail.auth import Principal
from retail.clock import as_aware_utc, utcnow
from stores import service as stores_service

NOTIFICATION_KIND = "order.returned"

# The clock returns are judged and stamped by (tests move it to the edges of the window).
_clock = utcnow


# ------------------------------------------------------------------------------------------ the rules


def window_closes_at(collected_at: datetime, *, return_days: int, timezone: str) -> datetime:
    """When a store stops taking an order's units back: at the end of the `return_days`-th day after the
    day of collection, in the store's own zone (a shopper who collected at 17:00 may come back any time
    on the last day). With `return_days` 0 the store takes nothing back: the window closed at collection."""
    if return_days <= 0:
        return collected_at
    zone = ZoneInfo(timezone)
    last_day = collected_at.astimezone(zone).date() + timedelta(days=return_days)
    return datetime.combine(last_day + timedelta(days=1), time(0), tzinfo=zone).astimezone(UTC)


@dataclass(frozen=True)
class Returnable:
    """What one line of a collected order can still give back."""

    product_id: int
    collected: int
    returned: int

    @property
    def left(self) -> int:
        return self.collected - self.returned


def refused_lines(
    lines: Sequence[tuple[str, int]], returnable: Mapping[str, Returnable]
) -> list[tuple[str, str, str]]:
    """Each line of a return (sku, quantity) the order cannot give, as (code, field, message): a sku not
    in the order, or more units than were collected and not yet returned."""
    problems = []
    for index, (sku, quantity) in enumerate(lines):
        line = returnable.get(sku)
        if line is None:
            problems.append(("not_in_order", f"body.lines.{index}.sku", f"{sku!r} is not in this order"))
        elif quantity > line.left:
            problems.append(
                (
                    "more_than_collected",
                    f"body.lines.{index}.quantity",
                    f"{line.left} of {sku!r} can be returned: {line.collected} collected, "
                    f"{line.returned} returned before",
                )
            )
    return problems


# --------------------------------------------------------------------------------------- the service


def take_return(
    session: Session, *, principal: Principal, order_id: str, return_in: ReturnIn, idempotency_key: str
) -> Order:
    """Take units of a collected order back at its store's counter (or find the return this key already
    made); answers the order, whose record shows the return."""
    key = idempotency.key_digest(idempotency_key)
    found = session.exec(select(Order).where(Order.order_id == order_id)).first()
    if found is None or found.id is None:
        raise OrderNotFound()
    store_code = found.store_snapshot["code"]
    if not principal.may_act_for_store(store_code):
        raise WrongStore(store_code)
    order = lifecycle.lock_order(session, found.id) or found
    assert order.id is not None
    request_hash = idempotency.request_digest(return_in.model_dump(mode="json"))
    earlier = returns_by_order(session, order_pks=[order.id])[order.id]
    used = next((r for r in earlier if r.entry.idempotency_key == key), None)
    if used is not None:
        idempotency.check_same_request(used.entry.request_hash, request_hash, what="return")
        return order

    status = OrderStatus(order.status)
    if status is not OrderStatus.collected:
        raise InvalidTransition(status, "returned")
    now = _clock()
    _refuse_unless_open(session, order, store_code, now)
    returnable = _returnable(session, order, earlier)
    problems = refused_lines([(line.sku, line.quantity) for line in return_in.lines], returnable)
    if problems:
        raise ReturnLinesRefused(problems)

    _write(
        session,
        order,
        return_in,
        returnable,
        now=now,
        principal=principal,
        key=key,
        request_hash=request_hash,
    )
    return order


def _write(
    session: Session,
    order: Order,
    return_in: ReturnIn,
    returnable: Mapping[str, Returnable],
    *,
    now: datetime,
    principal: Principal,
    key: str,
    request_hash: str,
) -> None:
    """The return, its lines, the restocked units and the notification, in the caller's transaction."""
    assert order.id is not None
    entry = Return(
        return_id="ret_" + secrets.token_urlsafe(16),
        order_pk=order.id,
        at=now,
        restock=return_in.restock,
        reason=return_in.reason,
        actor_key_id=principal.key_id,
        actor_label=principal.by,
        idempotency_key=key,
        request_hash=request_hash,
    )
    session.add(entry)
    session.flush()
    assert entry.id is not None
    lines = [
        ReturnLine(
            return_pk=entry.id,
            product_id=returnable[line.sku].product_id,
            sku=line.sku,
            quantity=line.quantity,
        )
        for line in return_in.lines
    ]
    session.add_all(lines)
    if return_in.restock:
        inventory_service.restock(
            session,
            store_id=order.store_id,
            lines=[inventory_service.Quantity(line.product_id, line.quantity) for line in lines],
            return_id=entry.return_id,
            at=now,
        )
    order.updated_at = now
    session.add(order)
    session.add(_notification(order, RecordedReturn(entry, lines)))
    session.flush()


def _refuse_unless_open(session: Session, order: Order, store_code: str, now: datetime) -> None:
    collected_at = lifecycle.entered_at(session, order=order, status=OrderStatus.collected)
    if collected_at is None:
        raise RuntimeError(f"collected order {order.order_id} without its collected event")
    store = stores_service.get_store(session, code=store_code)
    collected_at = as_aware_utc(collected_at)
    closes = window_closes_at(collected_at, return_days=store.return_days, timezone=store.timezone)
    if now >= closes:
        raise ReturnWindowClosed(collected_at=collected_at, return_days=store.return_days, closed_at=closes)


def _returnable(session: Session, order: Order, earlier: Sequence[RecordedReturn]) -> dict[str, Returnable]:
    returned = returned_units(earlier)
    return {
        line.sku: Returnable(line.product_id, line.collected or 0, returned.get(line.product_id, 0))
        for line in lifecycle.order_lines(session, order=order)
    }


def _notification(order: Order, recorded: RecordedReturn) -> Notification:
    """The return's outbox record, delivered as every order notification is (`orders.notifications`)."""
    entry = recorded.entry
    at = as_aware_utc(entry.at)
    return Notification(
        event_id=str(uuid.uuid4()),
        kind=NOTIFICATION_KIND,
        payload={
            "order_id": order.order_id,
            "store_code": order.store_snapshot["code"],
            "return_id": entry.return_id,
            "at": at.isoformat(),
            "lines": [{"sku": line.sku, "quantity": line.quantity} for line in recorded.lines],
            "restock": entry.restock,
            "customer_email": order.customer_email,
        },
        created_at=at,
        next_attempt_at=at,
    )

"""The store's side of an order: the pick list, marking orders ready (picked in full or short), and the
hand-over by pickup code (all of it, or what the collector takes).

Every change records the API key that made it in the order's history.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlmodel import Session, col, select

from inventory import service as inventory_service
from orders import counter, lifecycle, pickup, reservation, transfers
from orders.counter_schemas import Verification
from orders.exceptions import (
    AlreadyCollected,
    InvalidCode,
    InvalidTransition,
    NotReady,
    OrderCancelled,
    OrderExpired,
    OrderNotFound,
    WrongStore,
)
from orders.models import HOLDING, Order, OrderLine, OrderStatus, ProblemCode
from retail.auth import Principal, Role
from retail.clock import as_aware_utc, utcnow
from retail.errors import Forbidden, InvalidInput
from retail.settings import get_settings
from stores import service as stores_service
from stores.models import Store


def _store_for(session: Session, principal: Principal, store_code: str) -> Store:
    if not principal.may_act_for_store(store_code):
        raise Forbidden(f"this key is not for store {store_code}", code="wrong_store")
    return stores_service.get_store(session, code=store_code)


def counter_store(session: Session, *, principal: Principal, store_code: str) -> Store:
    """The store whose counter a desk stands at; a staff key reaches its own store only."""
    return _store_for(session, principal, store_code)


def pick_list(
    session: Session,
    *,
    principal: Principal,
    store_code: str,
    statuses: list[OrderStatus],
    limit: int,
    after: tuple[int, datetime, int] | None,
) -> tuple[list[Order], tuple[int, datetime, int] | None]:
    """The store's orders in these states, late orders first, then oldest first; answers a page and where
    the next one starts, as (0 for late or 1, created_at, id)."""
    store = _store_for(session, principal, store_code)
    query = select(Order).where(
        Order.store_id == store.id, col(Order.status).in_([s.value for s in statuses])
    )
    if after is not None:
        rank, created, pk = after
        late = rank == 0
        later = (col(Order.created_at) > created) | (
            (col(Order.created_at) == created) & (col(Order.id) > pk)
        )
        # Late first: after a late position come the later late orders, then every order on time.
        same_rank = (col(Order.late) == late) & later
        query = query.where(same_rank | col(Order.late).is_(False) if late else same_rank)
    ordered = query.order_by(col(Order.late).desc(), col(Order.created_at), col(Order.id))
    rows = list(session.exec(ordered.limit(limit + 1)).all())
    if len(rows) > limit:
        last = rows[limit - 1]
        assert last.id is not None
        return rows[:limit], (0 if last.late else 1, as_aware_utc(last.created_at), last.id)
    return rows, None


def mark_ready(
    session: Session, *, principal: Principal, order_id: str, picked: Sequence[tuple[str, int]] = ()
) -> Order:
    """The order is picked and waits at the counter: `reserved` -> `ready_for_pickup`, held for the store's
    hold (`stores.service.hold_ends_at`).

    `picked`: (sku, units) of the lines the store found fewer of (a line left out was picked in full;
    `counter.units_per_line` refuses what does not fit the order). A short pick's missing units leave
    the store's stock at once (a `short_pick` movement each), the order keeps its `shortages` with the
    nearest stores that hold them, its total counts the picked units, and its transition is notified as
    `order.partially_ready`. Nothing picked at all rejects the order (`short_pick`), with the
    alternatives for its whole basket.
    """
    order = session.exec(select(Order).where(Order.order_id == order_id)).first()
    if order is None or order.id is None:
        raise OrderNotFound()
    store = _store_for(session, principal, order.store_snapshot["code"])
    order = lifecycle.lock_order(session, order.id) or order
    if order.status != OrderStatus.reserved:
        raise InvalidTransition(OrderStatus(order.status), "marked ready")
    if order.allow_transfer and transfers.incomplete(session, order=order):
        # Its transferred units are not in the store yet: the store cannot pick them.
        raise InvalidTransition(OrderStatus(order.status), "marked ready before its transfers are received")
    lines = lifecycle.order_lines(session, order=order)
    units = counter.units_per_line(
        have={line.sku: line.quantity for line in lines}, given=picked, field="picked", of_what="ordered"
    )
    now = utcnow()
    for line in lines:
        line.picked = units[line.sku]
        session.add(line)
    short = [line for line in lines if line.held < line.quantity]
    inventory_service.short_pick(
        session,
        store_id=order.store_id,
        lines=[inventory_service.Quantity(line.product_id, line.quantity - line.held) for line in short],
        order_id=order.order_id,
        at=now,
    )
    order.total = sum((line.unit_price * line.held for line in lines), start=Decimal("0.00"))
    if all(line.held == 0 for line in lines):
        problem = {
            "code": ProblemCode.short_pick.value,
            "lines": [{"sku": line.sku, "requested": line.quantity, "available": 0} for line in lines],
            "alternatives": reservation.find_alternatives(
                session, store=store, wanted=lifecycle.quantities(lines), at=now
            ),
        }
        lifecycle.transition(session, order, OrderStatus.rejected, now, problem=problem, by=principal)
        return order
    order.expires_at = stores_service.hold_ends_at(store, ready_at=now)
    kind = lifecycle.NOTIFICATION_KIND
    if short:
        order.shortages = [_shortage(session, store, line, now) for line in short]
        kind = lifecycle.PARTIALLY_READY_KIND
    lifecycle.transition(session, order, OrderStatus.ready_for_pickup, now, by=principal, kind=kind)
    return order


def _shortage(session: Session, store: Store, line: OrderLine, at: datetime) -> dict[str, Any]:
    """A line picked short as the order keeps it: with the nearest stores that hold its missing units."""
    missing = inventory_service.Quantity(line.product_id, line.quantity - line.held)
    return {
        "sku": line.sku,
        "requested": line.quantity,
        "picked": line.held,
        "alternatives": reservation.find_alternatives(session, store=store, wanted=[missing], at=at),
    }


def find_by_code(session: Session, *, principal: Principal, code: str, store_code: str | None) -> Order:
    """The order a scanned or typed pickup code belongs to, refused with the contract's reasons."""
    parsed = pickup.parse_code(code)
    if parsed is None:
        raise InvalidCode()
    if isinstance(parsed, pickup.ParsedToken):
        order = _by_token(session, parsed)
    else:
        order = _by_short_code(session, principal, parsed, store_code)
    if not principal.may_act_for_store(order.store_snapshot["code"]):
        raise WrongStore(order.store_snapshot["code"])
    _refuse_unless_ready(session, order)
    return order


def _by_token(session: Session, parsed: pickup.ParsedToken) -> Order:
    # The MAC is checked before the database is asked anything: a forged token costs one HMAC.
    secret = get_settings().secret
    if not pickup.token_is_authentic(parsed, secret_key=secret):
        raise InvalidCode()
    order = session.exec(select(Order).where(Order.order_id == parsed.order_id)).first()
    if (
        order is None
        or order.pickup_nonce != parsed.nonce
        or order.store_snapshot["code"] != parsed.store_code
    ):
        raise InvalidCode()  # an authentic token of codes issued again since, or a stale one
    return order


def _by_short_code(
    session: Session, principal: Principal, parsed: pickup.ParsedShortCode, store_code: str | None
) -> Order:
    # A short code only means something within one store (40 bits are not enough chain-wide), so an admin
    # key has to say which store's counter it is at.
    code_store = principal.store_code if principal.role is Role.staff else store_code
    if not code_store:
        raise InvalidInput(
            "an admin key must name the store_code the short code belongs to", field="body.store_code"
        )
    store = stores_service.find_store(session, code=code_store)
    if store is None:
        raise InvalidCode()
    code_hash = pickup.short_code_hash(store.code, parsed.code, secret_key=get_settings().secret)
    candidates = session.exec(
        select(Order)
        .where(Order.store_id == store.id, Order.short_code_hash == code_hash)
        .order_by(col(Order.created_at).desc())
    ).all()
    if not candidates:
        raise InvalidCode()
    # An open order wins over closed ones that once had the same code.
    return next((o for o in candidates if o.status in HOLDING), candidates[0])


def _refuse_unless_ready(session: Session, order: Order) -> None:
    status = OrderStatus(order.status)
    if status is OrderStatus.ready_for_pickup:
        return
    if status is OrderStatus.reserved:
        raise NotReady()
    if status is OrderStatus.collected:
        raise AlreadyCollected(lifecycle.entered_at(session, order=order, status=OrderStatus.collected))
    if status is OrderStatus.cancelled:
        raise OrderCancelled()
    if status is OrderStatus.expired:
        raise OrderExpired()
    raise InvalidCode()  # pending or rejected orders have no pickup code


def confirm(
    session: Session,
    *,
    principal: Principal,
    code: str,
    store_code: str | None,
    taken: Sequence[tuple[str, int]] = (),
    verification: Verification | None = None,
) -> Order:
    """Hand the order over. The row lock makes a second confirmation wait and then see `collected`.

    `taken`: (sku, units) of the lines the collector takes fewer of than were picked (a line left out is
    taken in full; `counter.units_per_line` refuses what does not fit). Taken units leave the store's
    stock (a `collection` movement each); refused ones go back on the shelf (they leave `reserved` and
    stay in `on_hand`). Refusing everything is a hand-over too: the order is `collected` with every line's
    `collected` 0, and nothing leaves the store. The `collected` entry records `verification` (left out:
    `qr` for a scanned token, `short_code` for a typed code) and the staff key."""
    found = find_by_code(session, principal=principal, code=code, store_code=store_code)
    assert found.id is not None
    order = lifecycle.lock_order(session, found.id) or found
    _refuse_unless_ready(session, order)
    lines = lifecycle.order_lines(session, order=order)
    units = counter.units_per_line(
        have={line.sku: line.held for line in lines}, given=taken, field="quantity", of_what="picked"
    )
    now = utcnow()
    inventory_service.collect(
        session,
        store_id=order.store_id,
        lines=[inventory_service.Quantity(line.product_id, units[line.sku]) for line in lines],
        refused=[inventory_service.Quantity(line.product_id, line.held - units[line.sku]) for line in lines],
        order_id=order.order_id,
        at=now,
    )
    for line in lines:
        line.collected = units[line.sku]
        session.add(line)
    if verification is None:
        scanned = isinstance(pickup.parse_code(code), pickup.ParsedToken)
        verification = Verification.qr if scanned else Verification.short_code
    lifecycle.transition(
        session, order, OrderStatus.collected, now, by=principal, verification=verification.value
    )
    return order

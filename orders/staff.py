"""The store's side of an order: the pick list, marking orders ready, and the hand-over by pickup code.

Every change records the API key that made it in the order's history.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from inventory import service as inventory_service
from orders import lifecycle, pickup
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
from orders.models import HOLDING, Order, OrderStatus
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
    after: tuple[datetime, int] | None,
) -> tuple[list[Order], tuple[datetime, int] | None]:
    """The store's orders in these states, oldest first; answers a page and where the next one starts,
    as (created_at, id)."""
    store = _store_for(session, principal, store_code)
    query = select(Order).where(
        Order.store_id == store.id, col(Order.status).in_([s.value for s in statuses])
    )
    if after is not None:
        created, pk = after
        query = query.where(
            (col(Order.created_at) > created) | ((col(Order.created_at) == created) & (col(Order.id) > pk))
        )
    rows = list(session.exec(query.order_by(col(Order.created_at), col(Order.id)).limit(limit + 1)).all())
    if len(rows) > limit:
        last = rows[limit - 1]
        assert last.id is not None
        return rows[:limit], (as_aware_utc(last.created_at), last.id)
    return rows, None


def mark_ready(session: Session, *, principal: Principal, order_id: str) -> Order:
    """The order is picked and waits at the counter: `reserved` -> `ready_for_pickup`, held `hold_hours`."""
    order = session.exec(select(Order).where(Order.order_id == order_id)).first()
    if order is None or order.id is None:
        raise OrderNotFound()
    store = _store_for(session, principal, order.store_snapshot["code"])
    order = lifecycle.lock_order(session, order.id) or order
    if order.status != OrderStatus.reserved:
        raise InvalidTransition(OrderStatus(order.status), "marked ready")
    now = utcnow()
    order.expires_at = now + timedelta(hours=store.hold_hours)
    # Picked in full, for now: the store's count of each line is what a short pick will change.
    for line in lifecycle.order_lines(session, order=order):
        line.picked = line.quantity
        session.add(line)
    lifecycle.transition(session, order, OrderStatus.ready_for_pickup, now, by=principal)
    return order


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


def confirm(session: Session, *, principal: Principal, code: str, store_code: str | None) -> Order:
    """Hand the order over. The row lock makes a second confirmation wait and then see `collected`."""
    found = find_by_code(session, principal=principal, code=code, store_code=store_code)
    assert found.id is not None
    order = lifecycle.lock_order(session, found.id) or found
    _refuse_unless_ready(session, order)
    now = utcnow()
    lines = lifecycle.order_lines(session, order=order)
    inventory_service.collect(
        session, store_id=order.store_id, lines=lifecycle.quantities(lines), order_id=order.order_id, at=now
    )
    # The collector takes everything picked, for now: a partial hand-over will say less.
    for line in lines:
        line.collected = line.picked
        session.add(line)
    lifecycle.transition(session, order, OrderStatus.collected, now, by=principal)
    return order

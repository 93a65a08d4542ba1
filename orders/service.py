"""Click-and-collect orders: placing, reserving (all lines or none), status and cancelling.

Services take the session first and keyword-only arguments, may flush, and never commit. The reservation
runs in a Celery task sent after the order's commit (`retail.db.on_commit`); the task re-reads the order
and does nothing unless it is still pending, so a second delivery is harmless.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import uuid
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from inventory import service as inventory_service
from inventory import stock as inventory_stock
from inventory.models import Product
from orders import pickup
from orders.exceptions import (
    IdempotencyKeyReused,
    InvalidTransition,
    OrderNotFound,
)
from orders.models import HOLDING, IdempotencyKey, Notification, Order, OrderEvent, OrderLine, OrderStatus
from orders.schemas import OrderIn
from retail.clock import utcnow
from retail.db import on_commit
from retail.errors import InvalidInput
from retail.settings import get_settings
from stores import hours as hours_engine
from stores import service as stores_service
from stores.models import Store

ALTERNATIVES = 3
IDEMPOTENCY_KEY_MAX = 200


def _secret() -> bytes:
    return get_settings().secret.encode()


def order_token(order_id: str) -> str:
    """The shopper's token for an order: an HMAC of its id, so it needs no storage and cannot be forged."""
    mac = hmac.new(_secret(), f"order-token|{order_id}".encode(), hashlib.sha256).hexdigest()
    return "otk_" + mac[:40]


def _new_order_id() -> str:
    return "ord_" + secrets.token_urlsafe(16)  # 128 random bits


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


# --------------------------------------------------------------------------------------------- placing


def place_order(
    session: Session, *, order_in: OrderIn, idempotency_key: str, send_reservation: Callable[[int], None]
) -> tuple[Order, str]:
    """Accept an order as pending (or find the one this idempotency key already made); answers it and its
    token. `send_reservation` is called with the order's primary key after the commit."""
    if not idempotency_key or len(idempotency_key) > IDEMPOTENCY_KEY_MAX:
        raise InvalidInput(f"1-{IDEMPOTENCY_KEY_MAX} characters", field="header.Idempotency-Key")
    key = _digest(idempotency_key)
    request_hash = _digest(json.dumps(order_in.model_dump(mode="json"), sort_keys=True))
    existing = _order_for_key(session, key=key, request_hash=request_hash)
    if existing is not None:
        return existing, order_token(existing.order_id)

    store = _orderable_store(session, order_in.store_code)
    products = _products(session, order_in)
    now = utcnow()
    order = Order(
        order_id=_new_order_id(),
        store_id=store.id or 0,
        store_snapshot={
            "code": store.code,
            "name": store.name,
            "address": {
                "street": store.street,
                "postcode": store.postcode,
                "city": store.city,
                "country": store.country,
            },
        },
        status=OrderStatus.pending,
        customer_name=order_in.customer.name,
        customer_email=order_in.customer.email,
        customer_phone=order_in.customer.phone,
        total=Decimal("0.00"),
        created_at=now,
        updated_at=now,
    )
    try:
        # A duplicate arriving while the first is being handled waits on the key's unique index and then
        # fails here; it answers the order the first one made.
        with session.begin_nested():
            session.add(order)
            session.flush()
            assert order.id is not None
            unit_prices = inventory_service.prices_at_store(
                session, store_id=order.store_id, products=[products[line.sku] for line in order_in.lines]
            )
            total = Decimal("0.00")
            for line in order_in.lines:
                product = products[line.sku]
                assert product.id is not None
                price = unit_prices[product.id]
                total += price * line.quantity
                session.add(
                    OrderLine(
                        order_pk=order.id,
                        product_id=product.id,
                        sku=product.sku,
                        name=product.name,
                        quantity=line.quantity,
                        unit_price=price,
                    )
                )
            order.total = total
            session.add(order)
            record_event(session, order, OrderStatus.pending, now)
            session.add(IdempotencyKey(key=key, request_hash=request_hash, order_pk=order.id, created_at=now))
            session.flush()
    except IntegrityError:
        existing = _order_for_key(session, key=key, request_hash=request_hash)
        if existing is None:
            raise
        return existing, order_token(existing.order_id)
    order_pk = order.id
    on_commit(session, lambda: send_reservation(order_pk))
    return order, order_token(order.order_id)


def _order_for_key(session: Session, *, key: str, request_hash: str) -> Order | None:
    found = session.exec(select(IdempotencyKey).where(IdempotencyKey.key == key)).first()
    if found is None:
        return None
    if not hmac.compare_digest(found.request_hash, request_hash):
        raise IdempotencyKeyReused()
    return session.get(Order, found.order_pk)


def _orderable_store(session: Session, code: str) -> Store:
    store = session.exec(select(Store).where(Store.code == code)).first()
    if store is None:
        raise InvalidInput(f"no store {code!r}", field="body.store_code", code="unknown_store")
    if not store.click_and_collect:
        raise InvalidInput(
            f"store {code!r} does not offer click and collect",
            field="body.store_code",
            code="no_click_and_collect",
        )
    return store


def _products(session: Session, order_in: OrderIn) -> dict[str, Product]:
    products = inventory_service.products_by_sku(session, skus=[line.sku for line in order_in.lines])
    for index, line in enumerate(order_in.lines):
        if line.sku not in products:
            raise InvalidInput(
                f"no product {line.sku!r}", field=f"body.lines.{index}.sku", code="unknown_sku"
            )
    return products


# -------------------------------------------------------------------------------------------- reserving


def reserve_order(session: Session, *, order_pk: int, batch: int = 1) -> OrderStatus | None:
    """Reserve every line of a pending order at its store, or reject it with the reason and alternatives;
    answers the order's status.

    With `batch` > 1 the same transaction also decides up to `batch` - 1 other pending orders of the store,
    oldest first, that no other transaction holds (SKIP LOCKED): under load one run drains what queued up,
    and the tasks of those orders then find nothing left to do. Each order is still all lines or none.

    Idempotent: an order that is no longer pending (reserved before, cancelled meanwhile) is left alone.
    """
    # Under load most runs find their order already decided by another run's batch: a plain read answers
    # them without taking a row lock (which would cost a transaction id and a WAL flush). An order that
    # left `pending` never returns to it, so the unlocked read is safe for that answer.
    status = session.exec(select(Order.status).where(Order.id == order_pk)).first()
    if status != OrderStatus.pending:
        return None if status is None else OrderStatus(status)
    order = lock_order(session, order_pk)
    if order is None or order.status != OrderStatus.pending:
        return None if order is None else order.status
    orders = [order]
    if batch > 1:
        orders += session.exec(
            select(Order)
            .where(Order.store_id == order.store_id, Order.status == OrderStatus.pending)
            .where(Order.id != order_pk)
            .order_by(col(Order.id))
            .limit(batch - 1)
            .with_for_update(skip_locked=True)
            .execution_options(populate_existing=True)
        ).all()
    _decide(session, orders)
    return order.status


def _decide(session: Session, orders: Sequence[Order]) -> None:
    """Reserve or reject locked pending orders of one store, in the order given."""
    store = session.get(Store, orders[0].store_id)
    assert store is not None
    lines_by_order: dict[int, list[OrderLine]] = {o.id: [] for o in orders if o.id is not None}
    for line in session.exec(
        select(OrderLine)
        .where(col(OrderLine.order_pk).in_(list(lines_by_order)))
        .order_by(col(OrderLine.order_pk), col(OrderLine.product_id))
    ):
        lines_by_order[line.order_pk].append(line)
    outcomes = inventory_stock.reserve_baskets(
        session,
        store_id=store.id or 0,
        baskets=[
            [inventory_stock.Quantity(line.product_id, line.quantity) for line in lines_by_order[o.id or 0]]
            for o in orders
        ],
    )
    now = utcnow()
    reserved = [o for o, outcome in zip(orders, outcomes, strict=True) if outcome.reserved]
    if reserved:
        ready_by = hours_engine.add_open_time(
            stores_service.schedule_of(store), now, timedelta(minutes=store.pick_minutes)
        )
        for o, issued in zip(reserved, _issue_pickups(session, store, reserved), strict=True):
            o.pickup_nonce, o.short_code_hash = issued.nonce, issued.short_code_hash
            transition(session, o, OrderStatus.reserved, now, ready_by=ready_by, flush=False)
    for o, outcome in zip(orders, outcomes, strict=True):
        if outcome.reserved:
            continue
        lines = lines_by_order[o.id or 0]
        short = [
            {"sku": line.sku, "requested": line.quantity, "available": available}
            for line in lines
            if (available := outcome.available.get(line.product_id, 0)) < line.quantity
        ]
        problem = {
            "code": "out_of_stock",
            "lines": short,
            "alternatives": _alternatives(session, store, lines, now),
        }
        transition(session, o, OrderStatus.rejected, now, problem=problem, flush=False)
    session.flush()


def _issue_pickups(session: Session, store: Store, orders: Sequence[Order]) -> list[pickup.Pickup]:
    """Fresh pickup codes for orders being reserved at `store`, their short codes unique among the store's
    open orders and each other; one query per round, and a second round is already rare (see
    `pickup.issue_unique_pickup`). The partial unique index stays the guarantee against concurrent issues."""
    secret_key = get_settings().secret
    issued: list[pickup.Pickup | None] = [None] * len(orders)
    for _ in range(5):
        todo = [i for i, p in enumerate(issued) if p is None]
        if not todo:
            return [p for p in issued if p is not None]
        for i in todo:
            issued[i] = pickup.issue_pickup(
                order_id=orders[i].order_id, store_code=store.code, secret_key=secret_key
            )
        hashes = [p.short_code_hash for p in issued if p is not None]
        taken = set(
            session.exec(
                select(Order.short_code_hash).where(
                    Order.store_id == store.id,
                    col(Order.short_code_hash).in_(hashes),
                    col(Order.status).in_([s.value for s in HOLDING]),
                )
            ).all()
        )
        mine: set[str] = set()
        for i, p in enumerate(issued):
            assert p is not None
            if p.short_code_hash in taken or p.short_code_hash in mine:
                issued[i] = None
            else:
                mine.add(p.short_code_hash)
    raise RuntimeError("no free short codes in 5 rounds")


def _alternatives(
    session: Session, store: Store, lines: Sequence[OrderLine], now: datetime
) -> list[dict[str, Any]]:
    """The nearest other stores that can supply the whole basket, with distance and their own promise."""
    product_ids = [line.product_id for line in lines]

    def can_supply(stores: Sequence[Store]) -> set[int]:
        ids = [s.id for s in stores if s.id is not None and s.id != store.id and s.click_and_collect]
        levels = inventory_service.stock_levels(session, store_ids=ids, product_ids=product_ids)
        return {
            sid
            for sid in ids
            if all(
                levels.get((sid, line.product_id), inventory_service.NO_STOCK).available >= line.quantity
                for line in lines
            )
        }

    page = stores_service.nearest_stores(
        session, lat=store.lat, lon=store.lon, limit=ALTERNATIVES, at=now, batch_filter=can_supply
    )
    return [
        {
            "code": nearby.store.code,
            "name": nearby.store.name,
            "distance_km": round(nearby.distance_km, 3),
            "ready_by": _iso(
                hours_engine.add_open_time(
                    stores_service.schedule_of(nearby.store),
                    now,
                    timedelta(minutes=nearby.store.pick_minutes),
                )
            ),
        }
        for nearby in page.stores
    ]


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


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


# ------------------------------------------------------------------------------------ reading, cancelling


def get_order(session: Session, *, order_id: str, token: str | None) -> Order:
    """The order, for the holder of its token; anyone else gets the same 404 as for no order at all."""
    if not token or len(order_id) > 64 or not hmac.compare_digest(token, order_token(order_id)):
        raise OrderNotFound()
    order = session.exec(select(Order).where(Order.order_id == order_id)).first()
    if order is None:
        raise OrderNotFound()
    return order


def order_lines(session: Session, *, order: Order) -> list[OrderLine]:
    return lines_of(session, order)


def history(session: Session, *, order: Order) -> list[OrderEvent]:
    return list(
        session.exec(
            select(OrderEvent).where(OrderEvent.order_pk == order.id).order_by(col(OrderEvent.id))
        ).all()
    )


def cancel_order(session: Session, *, order_id: str, token: str | None) -> Order:
    """Cancel before collection; stock held for the order goes back on the shelf."""
    order = get_order(session, order_id=order_id, token=token)
    assert order.id is not None
    order = lock_order(session, order.id) or order
    if order.status not in (OrderStatus.pending, *HOLDING):
        raise InvalidTransition(OrderStatus(order.status).value, "cancelled")
    if order.status in HOLDING:
        inventory_stock.release(
            session,
            store_id=order.store_id,
            lines=[
                inventory_stock.Quantity(line.product_id, line.quantity) for line in lines_of(session, order)
            ],
        )
    transition(session, order, OrderStatus.cancelled, utcnow())
    return order


def lock_order(session: Session, order_pk: int) -> Order | None:
    # The row lock serialises everything that changes one order (task, cancel, staff), so each sees the
    # state the previous one left: `populate_existing` makes the locked read replace what this session
    # loaded before it waited, or a second confirmation would still see "ready" and collect again.
    return session.exec(
        select(Order).where(Order.id == order_pk).with_for_update().execution_options(populate_existing=True)
    ).first()


def lines_of(session: Session, order: Order) -> list[OrderLine]:
    return list(
        session.exec(
            select(OrderLine).where(OrderLine.order_pk == order.id).order_by(col(OrderLine.product_id))
        ).all()
    )


def transition(
    session: Session,
    order: Order,
    status: OrderStatus,
    at: datetime,
    *,
    ready_by: datetime | None = None,
    problem: dict[str, Any] | None = None,
    actor_key_id: int | None = None,
    flush: bool = True,
) -> None:
    order.status = status
    order.updated_at = at
    if ready_by is not None:
        order.ready_by = ready_by
    if problem is not None:
        order.problem = problem
    session.add(order)
    assert order.id is not None
    record_event(session, order, status, at, actor_key_id=actor_key_id)
    if flush:
        session.flush()


def record_event(
    session: Session, order: Order, status: OrderStatus, at: datetime, *, actor_key_id: int | None = None
) -> None:
    """The history entry of a transition, and its notification in the outbox, in the same transaction."""
    assert order.id is not None
    session.add(OrderEvent(order_pk=order.id, status=status, at=at, actor_key_id=actor_key_id))
    # The outbox: the notification commits or rolls back with the transition itself.
    session.add(
        Notification(
            event_id=str(uuid.uuid4()),
            kind="order.status_changed",
            payload={
                "order_id": order.order_id,
                "store_code": order.store_snapshot["code"],
                "status": OrderStatus(status).value,
                "at": at.isoformat(),
                "customer_email": order.customer_email,
            },
            created_at=at,
            next_attempt_at=at,
        )
    )

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
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import make_transient_to_detached
from sqlmodel import Session, col, select

from inventory import service as inventory_service
from orders import pickup
from orders.exceptions import (
    IdempotencyKeyReused,
    InvalidTransition,
    OrderNotFound,
)
from orders.models import HOLDING, IdempotencyKey, Notification, Order, OrderEvent, OrderLine, OrderStatus
from orders.schemas import OrderIn
from retail import dialect
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
    session: Session, *, order_in: OrderIn, idempotency_key: str, send_reservation: Callable[[int], object]
) -> tuple[Order, str]:
    """Accept an order as pending (or find the one this idempotency key already made); answers it and its
    token. `send_reservation` is called with the order's primary key after the commit.

    The hot path of the API. On PostgreSQL one statement checks the store and prices the basket at it, and
    writes the key, the order, its lines, its history entry and its notification; only when it wrote
    nothing (a reused key, an unknown store or sku) do the reads below find out why. SQLite (the embedded
    default) makes those reads first and writes through the ORM.
    """
    if not idempotency_key or len(idempotency_key) > IDEMPOTENCY_KEY_MAX:
        raise InvalidInput(f"1-{IDEMPOTENCY_KEY_MAX} characters", field="header.Idempotency-Key")
    key = _digest(idempotency_key)
    request_hash = _digest(json.dumps(order_in.model_dump(mode="json"), sort_keys=True))
    postgres = dialect.pick(session, postgresql=True, sqlite=False)
    order: Order | None = None
    if postgres:
        order = _place_postgres(session, order_in, key=key, request_hash=request_hash)
    if order is None:
        # A duplicate that arrived while the first was being handled waited on the key's unique index
        # and finds the key taken here: it answers the order the first one made.
        store, used = _store_and_key(session, code=order_in.store_code, key=key)
        if used is not None:
            return _replayed(session, used, request_hash=request_hash)
        if store is None:
            raise InvalidInput(
                f"no store {order_in.store_code!r}", field="body.store_code", code="unknown_store"
            )
        if not store.click_and_collect:
            raise InvalidInput(
                f"store {order_in.store_code!r} does not offer click and collect",
                field="body.store_code",
                code="no_click_and_collect",
            )
        assert store.id is not None  # a row read from the database
        priced = _priced_products(session, order_in, store_id=store.id)
        if postgres:
            raise RuntimeError("the order was not written, yet its store, basket and key are all fine")
        order = _place_orm(session, order_in, store, priced, key=key, request_hash=request_hash)
        if order is None:
            used = session.get(IdempotencyKey, key)
            if used is None:
                raise RuntimeError("the idempotency key conflicted, but no order holds it")
            return _replayed(session, used, request_hash=request_hash)
    order_pk = order.id
    assert order_pk is not None
    on_commit(session, lambda: send_reservation(order_pk))
    return order, order_token(order.order_id)


def _store_and_key(session: Session, *, code: str, key: str) -> tuple[Store | None, IdempotencyKey | None]:
    """The store by code and the earlier use of the idempotency key, if any."""
    store = session.exec(select(Store).where(Store.code == code)).first()
    return store, session.get(IdempotencyKey, key)


def _replayed(session: Session, used: IdempotencyKey, *, request_hash: str) -> tuple[Order, str]:
    if not hmac.compare_digest(used.request_hash, request_hash):
        raise IdempotencyKeyReused()
    order = session.get(Order, used.order_pk)
    if order is None:
        raise RuntimeError(f"idempotency key without its order {used.order_pk}")
    return order, order_token(order.order_id)


def _priced_products(
    session: Session, order_in: OrderIn, *, store_id: int
) -> dict[str, inventory_service.PricedProduct]:
    """The basket's products by sku with their price at the store; an unknown sku is a 422 naming its
    line."""
    skus = [line.sku for line in order_in.lines]
    priced = inventory_service.priced_at_store(session, store_id=store_id, skus=skus)
    for index, sku in enumerate(skus):
        if sku not in priced:
            raise InvalidInput(f"no product {sku!r}", field=f"body.lines.{index}.sku", code="unknown_sku")
    return priced


_PLACE = text(
    """WITH s AS (
           SELECT id, code, name, street, postcode, city, country FROM store
           WHERE code = :store_code AND click_and_collect),
       b AS (
           SELECT p.id AS product_id, p.sku, p.name, b.quantity,
                  coalesce((SELECT sp.price FROM store_price sp WHERE sp.store_id = s.id
                            AND sp.product_id = p.id), p.store_price) AS unit_price
           FROM unnest(CAST(:skus AS text[]), CAST(:quantities AS integer[])) AS b(sku, quantity)
           JOIN product p ON p.sku = b.sku
           CROSS JOIN s),
       k AS (
           INSERT INTO idempotency_key (key, request_hash, order_pk, created_at)
           SELECT :key, :request_hash, nextval(pg_get_serial_sequence('"order"', 'id')), :now
           WHERE (SELECT count(*) FROM b) = :line_count
           ON CONFLICT (key) DO NOTHING
           RETURNING order_pk),
       o AS (
           INSERT INTO "order" (id, order_id, store_id, store_snapshot, status, customer_name,
                                customer_email, customer_phone, total, currency, created_at, updated_at)
           SELECT k.order_pk, :order_id, s.id,
                  json_build_object('code', s.code, 'name', s.name, 'address', json_build_object(
                      'street', s.street, 'postcode', s.postcode, 'city', s.city, 'country', s.country)),
                  'pending', :customer_name, :customer_email, :customer_phone,
                  (SELECT sum(unit_price * quantity) FROM b), :currency, :now, :now
           FROM k CROSS JOIN s
           RETURNING id, store_id, store_snapshot, total),
       l AS (
           INSERT INTO order_line (order_pk, product_id, sku, name, quantity, unit_price)
           SELECT k.order_pk, b.product_id, b.sku, b.name, b.quantity, b.unit_price FROM k CROSS JOIN b),
       e AS (
           INSERT INTO order_event (order_pk, status, at) SELECT order_pk, 'pending', :now FROM k),
       n AS (
           INSERT INTO notification (event_id, kind, payload, created_at, next_attempt_at, attempts)
           SELECT :event_id, :kind, CAST(:payload AS json), :now, :now, 0 FROM k)
       SELECT id, store_id, store_snapshot, total FROM o"""
)


def _place_postgres(session: Session, order_in: OrderIn, *, key: str, request_hash: str) -> Order | None:
    """The whole placement as one statement; answers the order, or None when it wrote nothing: the key is
    taken (also by a concurrent duplicate that committed first: the insert waited for it on the key's
    unique index), or the store or a sku is not what an order needs."""
    now = utcnow()
    order = Order(
        order_id=_new_order_id(),
        store_id=0,
        store_snapshot={},
        status=OrderStatus.pending,
        customer_name=order_in.customer.name,
        customer_email=order_in.customer.email,
        customer_phone=order_in.customer.phone,
        total=Decimal("0.00"),
        created_at=now,
        updated_at=now,
    )
    notification = _notification(order, OrderStatus.pending, now, store_code=order_in.store_code)
    row = session.execute(
        _PLACE,
        {
            "store_code": order_in.store_code,
            "skus": [line.sku for line in order_in.lines],
            "quantities": [line.quantity for line in order_in.lines],
            "line_count": len(order_in.lines),
            "key": key,
            "request_hash": request_hash,
            "now": now,
            "order_id": order.order_id,
            "customer_name": order.customer_name,
            "customer_email": order.customer_email,
            "customer_phone": order.customer_phone,
            "currency": order.currency,
            # The same notification `record_event` writes through the ORM, built by the same function.
            "event_id": notification.event_id,
            "kind": notification.kind,
            "payload": json.dumps(notification.payload),
        },
    ).first()
    if row is None:
        return None
    order.id, order.store_id, order.store_snapshot, order.total = int(row[0]), int(row[1]), row[2], row[3]
    # Written without the ORM: the object joins the session as if loaded, so a later run on this session
    # (a locked re-read with `populate_existing`) updates this very object.
    make_transient_to_detached(order)
    session.add(order)
    return order


def _place_orm(
    session: Session,
    order_in: OrderIn,
    store: Store,
    priced: dict[str, inventory_service.PricedProduct],
    *,
    key: str,
    request_hash: str,
) -> Order | None:
    """The same writes through the ORM, in a savepoint; None when the key turned out to be taken."""
    assert store.id is not None  # a row read from the database
    now = utcnow()
    order = Order(
        order_id=_new_order_id(),
        store_id=store.id,
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
        total=sum((priced[line.sku].price * line.quantity for line in order_in.lines), start=Decimal("0.00")),
        created_at=now,
        updated_at=now,
    )
    try:
        with session.begin_nested():
            session.add(order)
            session.flush()
            assert order.id is not None
            for line in order_in.lines:
                session.add(
                    OrderLine(
                        order_pk=order.id,
                        product_id=priced[line.sku].product_id,
                        sku=line.sku,
                        name=priced[line.sku].name,
                        quantity=line.quantity,
                        unit_price=priced[line.sku].price,
                    )
                )
            record_event(session, order, OrderStatus.pending, now)
            session.add(IdempotencyKey(key=key, request_hash=request_hash, order_pk=order.id, created_at=now))
            session.flush()
    except IntegrityError:
        return None
    return order


# -------------------------------------------------------------------------------------------- reserving


def reserve_order(session: Session, *, order_pk: int, batch: int = 1) -> OrderStatus | None:
    """Reserve every line of a pending order at its store, or reject it with the reason and alternatives;
    answers the order's status.

    With `batch` > 1 the same transaction also decides up to `batch` - 1 other pending orders of the store,
    oldest first, that no other transaction holds (SKIP LOCKED): under load one run drains what queued up,
    and the tasks of those orders then find nothing left to do. Each order is still all lines or none.

    Idempotent: an order that is no longer pending (reserved before, cancelled meanwhile) is left alone.
    """
    seen = order_state(session.connection(), order_pk=order_pk)
    if seen is None:
        return None
    return reserve_batch(session, seen, batch=batch).status


@dataclass(frozen=True)
class OrderState:
    """An order's status and store, as read before its reservation run takes any lock."""

    pk: int
    status: OrderStatus
    store_id: int


_STATE = text('SELECT status, store_id FROM "order" WHERE id = :id')


def order_state(bind: Engine | Connection, *, order_pk: int) -> OrderState | None:
    """The order's status and store (None for no such order), read without a row lock: on `bind` (a
    connection, in its transaction), or on a connection of its own out of any transaction (an engine).

    Under load most reservation runs find their order already decided by another run's batch: this read
    answers them without a lock (which would cost a transaction id and a WAL flush), and, given the engine,
    without even the BEGIN and COMMIT of a transaction. An order that left `pending` never returns to it,
    so that answer cannot go stale; a `pending` one is locked and read again.
    """
    if isinstance(bind, Engine):
        with bind.connect() as connection:
            return order_state(dialect.autocommit(connection), order_pk=order_pk)
    row = bind.execute(_STATE, {"id": order_pk}).first()
    return None if row is None else OrderState(order_pk, OrderStatus(row[0]), int(row[1]))


@dataclass(frozen=True)
class Batch:
    status: OrderStatus  # of the order the run was for
    decided: int  # orders this run reserved or rejected, that one included


def reserve_batch(session: Session, order: OrderState, *, batch: int, drain: bool = False) -> Batch:
    """`reserve_order` for an order whose state was read already, answering how many orders it decided.
    With `drain` the store's other pending orders are decided even when this one is no longer pending: the
    run stands in for tasks that were never sent (see `orders.tasks.queue_reservation`)."""
    status = order.status
    orders: list[Order] = []
    if status == OrderStatus.pending:
        locked = lock_order(session, order.pk)
        if locked is not None:
            status = OrderStatus(locked.status)
            if status == OrderStatus.pending:
                orders.append(locked)
    if not orders and not drain:
        return Batch(status, 0)
    if batch > len(orders):
        orders += session.exec(
            select(Order)
            .where(Order.store_id == order.store_id, Order.status == OrderStatus.pending)
            .where(Order.id != order.pk)
            .order_by(col(Order.id))
            .limit(batch - len(orders))
            .with_for_update(skip_locked=True)
            .execution_options(populate_existing=True)
        ).all()
    if orders:
        _decide(session, orders)
        if orders[0].id == order.pk:
            status = OrderStatus(orders[0].status)
    return Batch(status, len(orders))


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
    outcomes = inventory_service.reserve_baskets(
        session,
        store_id=store.id or 0,
        baskets=[
            [inventory_service.Quantity(line.product_id, line.quantity) for line in lines_by_order[o.id or 0]]
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
    # A sold-out product rejects many orders of a batch with the same basket: the nearest stores that can
    # supply a basket are searched once per distinct basket, not once per order.
    alternatives: dict[tuple[tuple[int, int], ...], list[dict[str, Any]]] = {}
    for o, outcome in zip(orders, outcomes, strict=True):
        if outcome.reserved:
            continue
        lines = lines_by_order[o.id or 0]
        basket = tuple(sorted((line.product_id, line.quantity) for line in lines))
        if basket not in alternatives:
            alternatives[basket] = _alternatives(session, store, lines, now)
        short = [
            {"sku": line.sku, "requested": line.quantity, "available": available}
            for line in lines
            if (available := outcome.available.get(line.product_id, 0)) < line.quantity
        ]
        problem = {
            "code": "out_of_stock",
            "lines": short,
            "alternatives": alternatives[basket],
        }
        transition(session, o, OrderStatus.rejected, now, problem=problem, flush=False)
    session.flush()


def _issue_pickups(session: Session, store: Store, orders: Sequence[Order]) -> list[pickup.Pickup]:
    """Fresh pickup codes for orders being reserved at `store`, their short codes unique among the store's
    open orders; one query per round (see `pickup.issue_unique_pickups`)."""

    def taken(hashes: list[str]) -> set[str]:
        in_use = session.exec(
            select(Order.short_code_hash).where(
                Order.store_id == store.id,
                col(Order.short_code_hash).in_(hashes),
                col(Order.status).in_([s.value for s in HOLDING]),
            )
        )
        return {code_hash for code_hash in in_use if code_hash is not None}

    return pickup.issue_unique_pickups(
        order_ids=[o.order_id for o in orders],
        store_code=store.code,
        secret_key=get_settings().secret,
        taken=taken,
    )


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
    # Bytes: compare_digest refuses str with non-ASCII characters (a 500), and a header may carry any.
    expected = order_token(order_id).encode()
    if not token or len(order_id) > 64 or not hmac.compare_digest(token.encode(), expected):
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
        inventory_service.release(
            session,
            store_id=order.store_id,
            lines=[
                inventory_service.Quantity(line.product_id, line.quantity)
                for line in lines_of(session, order)
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
    session.add(_notification(order, status, at, store_code=order.store_snapshot["code"]))


def _notification(order: Order, status: OrderStatus, at: datetime, *, store_code: str) -> Notification:
    return Notification(
        event_id=str(uuid.uuid4()),
        kind="order.status_changed",
        payload={
            "order_id": order.order_id,
            "store_code": store_code,
            "status": OrderStatus(status).value,
            "at": at.isoformat(),
            "customer_email": order.customer_email,
        },
        created_at=at,
        next_attempt_at=at,
    )

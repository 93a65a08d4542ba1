"""Placing an order: accepting it as pending, once per idempotency key.

On PostgreSQL one statement checks the store and prices the basket at it, and writes the key, the order,
its lines, its history entry and its notification; SQLite (the embedded default) reads first and writes
through the ORM.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from collections.abc import Callable
from decimal import Decimal

from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import make_transient_to_detached
from sqlmodel import Session, select

from inventory import service as inventory_service
from inventory import stock as inventory_stock
from orders import lifecycle
from orders.exceptions import IdempotencyKeyReused
from orders.models import IdempotencyKey, Order, OrderLine, OrderStatus
from orders.schemas import OrderIn
from orders.shopper import order_token
from retail.clock import utcnow
from retail.db import on_commit
from retail.errors import InvalidInput
from stores.models import Store

IDEMPOTENCY_KEY_MAX = 200


def _new_order_id() -> str:
    return "ord_" + secrets.token_urlsafe(16)  # 128 random bits


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


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
    postgres = inventory_stock.is_postgres(session)
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
    f"""WITH s AS (
           SELECT id, code, name, street, postcode, city, country FROM store
           WHERE code = :store_code AND click_and_collect),
       b AS (
           SELECT p.id AS product_id, p.sku, p.name, b.quantity,
                  {inventory_service.price_at_store("p", "s.id")} AS unit_price
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
        store_snapshot={"code": order_in.store_code},  # until the statement answers the whole snapshot
        status=OrderStatus.pending,
        customer_name=order_in.customer.name,
        customer_email=order_in.customer.email,
        customer_phone=order_in.customer.phone,
        total=Decimal("0.00"),
        created_at=now,
        updated_at=now,
    )
    notification = lifecycle.outbox_record(order, OrderStatus.pending, now)
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
            # The notification `lifecycle.record_event` writes through the ORM, built by the same function.
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
            lifecycle.record_event(session, order, OrderStatus.pending, now)
            session.add(IdempotencyKey(key=key, request_hash=request_hash, order_pk=order.id, created_at=now))
            session.flush()
    except IntegrityError:
        return None
    return order

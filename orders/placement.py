"""Placing an order: the idempotency key, the store, the basket, then the pending order written at once.

1. The key: one used before answers its order again (the same body) or 422 `idempotency_key_reused`,
   whatever became of the store and the basket since; the write finds it taken (an accepted order's key is
   not read first: a read less on every order).
2. The store (`stores.service`): it must exist and offer click and collect.
3. The basket (`inventory.service`): every sku a product, priced at that store.
4. The order's shape (`NewOrder`): every value the order writes, decided here, once.
5. The write: the order, its lines, its `pending` history entry and outbox record, and the key. A
   concurrent duplicate waits on the key's unique index until the first commits, then answers its order.

The write has two forms of one shape: PostgreSQL takes it in one statement, SQLite (the embedded default)
through the ORM. The statement is a measured fast path: the ORM's seven statements cost the API process
far more CPU per order (`bench/placement.py`; the README's benchmarks, "Placing an order").
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import text
from sqlalchemy.orm import make_transient_to_detached
from sqlmodel import Session

from inventory import service as inventory_service
from orders import lifecycle
from orders.exceptions import IdempotencyKeyReused, NoClickAndCollect, UnknownSku, UnknownStore
from orders.models import IdempotencyKey, Order, OrderLine, OrderStatus
from orders.schemas import OrderIn
from orders.shopper import order_token
from retail import dialect
from retail.clock import utcnow
from retail.db import on_commit
from retail.errors import InvalidInput
from stores import service as stores_service
from stores.service import StoreCard

IDEMPOTENCY_KEY_MAX = 200


def place_order(
    session: Session, *, order_in: OrderIn, idempotency_key: str, send_reservation: Callable[[int], object]
) -> tuple[Order, str]:
    """Accept an order as pending (or find the one this idempotency key already made); answers it and its
    token. `send_reservation` is called with the order's primary key after the commit."""
    key = _key_digest(idempotency_key)
    request_hash = _digest(json.dumps(order_in.model_dump(mode="json"), sort_keys=True))
    try:
        store = _orderable_store(session, order_in.store_code)
        priced = _priced_basket(session, order_in, store_id=store.id)
    except (UnknownStore, NoClickAndCollect, UnknownSku):
        # The key comes first: a retry answers the order its key made, though its store or a product
        # changed since. Looked up only here, on a refusal; an accepted order finds a used key in the
        # write itself (below), which saves a read on every order.
        used = session.get(IdempotencyKey, key)
        if used is not None:
            return _replayed(session, used, request_hash=request_hash)
        raise
    new = NewOrder.of(order_in, store, priced, key=key, request_hash=request_hash, now=utcnow())
    order = dialect.pick(session, postgresql=_write_in_one_statement, sqlite=_write_through_orm)(session, new)
    if order is None:
        # The key was taken: by an earlier order (a retry), or by a duplicate that arrived while the first
        # was being handled, which waited on the key's unique index. Either way it answers that order.
        used = session.get(IdempotencyKey, key)
        if used is None:
            raise RuntimeError("the idempotency key conflicted, but no order holds it")
        return _replayed(session, used, request_hash=request_hash)
    order_pk = order.id
    assert order_pk is not None
    on_commit(session, lambda: send_reservation(order_pk))
    return order, order_token(order.order_id)


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def _key_digest(idempotency_key: str) -> str:
    """What is stored of the client's key: its SHA-256, so the column's size does not depend on the key."""
    if not idempotency_key or len(idempotency_key) > IDEMPOTENCY_KEY_MAX:
        raise InvalidInput(f"1-{IDEMPOTENCY_KEY_MAX} characters", field="header.Idempotency-Key")
    return _digest(idempotency_key)


def _replayed(session: Session, used: IdempotencyKey, *, request_hash: str) -> tuple[Order, str]:
    if not hmac.compare_digest(used.request_hash, request_hash):
        raise IdempotencyKeyReused()
    order = session.get(Order, used.order_pk)
    if order is None:
        raise RuntimeError(f"idempotency key without its order {used.order_pk}")
    return order, order_token(order.order_id)


def _orderable_store(session: Session, code: str) -> StoreCard:
    store = stores_service.find_store(session, code=code)
    if store is None:
        raise UnknownStore(code)
    if not store.click_and_collect:
        raise NoClickAndCollect(code)
    return store


def _priced_basket(
    session: Session, order_in: OrderIn, *, store_id: int
) -> dict[str, inventory_service.PricedProduct]:
    """The basket's products by sku with their price at the store; an unknown sku is a 422 naming its
    line."""
    skus = [line.sku for line in order_in.lines]
    priced = inventory_service.priced_at_store(session, store_id=store_id, skus=skus)
    for index, sku in enumerate(skus):
        if sku not in priced:
            raise UnknownSku(sku, line=index)
    return priced


# -------------------------------------------------------------------------------------- the order's shape


@dataclass(frozen=True)
class NewLine:
    product_id: int
    sku: str
    name: str
    quantity: int
    unit_price: Decimal


@dataclass(frozen=True)
class NewOrder:
    """Everything an accepted order writes, decided before either writer runs: the order row (without its
    id, which the write assigns), its lines at the store's prices, and the key that made it."""

    order: Order
    lines: list[NewLine]
    key: str
    request_hash: str

    @classmethod
    def of(
        cls,
        order_in: OrderIn,
        store: StoreCard,
        priced: dict[str, inventory_service.PricedProduct],
        *,
        key: str,
        request_hash: str,
        now: datetime,
    ) -> NewOrder:
        lines = [
            NewLine(
                product_id=priced[line.sku].product_id,
                sku=line.sku,
                name=priced[line.sku].name,
                quantity=line.quantity,
                unit_price=priced[line.sku].price,
            )
            for line in order_in.lines
        ]
        order = Order(
            order_id="ord_" + secrets.token_urlsafe(16),  # 128 random bits: unguessable
            store_id=store.id,
            # What the shopper was promised, as it was when the order was placed.
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
            total=sum((line.unit_price * line.quantity for line in lines), start=Decimal("0.00")),
            created_at=now,
            updated_at=now,
        )
        return cls(order=order, lines=lines, key=key, request_hash=request_hash)


# --------------------------------------------------------------------------------------------- the write
# Each answers the order written, or None when the key turned out to be taken by a concurrent duplicate.


def _write_through_orm(session: Session, new: NewOrder) -> Order | None:
    order = new.order
    with session.begin_nested() as savepoint:
        session.add(order)
        session.flush()
        assert order.id is not None
        # The key as the statement writes it, before anything else of the order: a key taken already
        # (a retry, or a duplicate that waited for the first) leaves nothing of this order behind.
        claimed = session.execute(
            dialect.insert(session, IdempotencyKey.__table__)  # type: ignore[attr-defined]
            .values(
                key=new.key, request_hash=new.request_hash, order_pk=order.id, created_at=order.created_at
            )
            .on_conflict_do_nothing(index_elements=["key"])
        )
        if claimed.rowcount == 0:  # type: ignore[attr-defined]
            savepoint.rollback()
            return None
        session.add_all([OrderLine(order_pk=order.id, **vars(line)) for line in new.lines])
        lifecycle.record_event(session, order, OrderStatus.pending, order.created_at)
        session.flush()
    return order


# The same rows in one statement: the key first, so that a concurrent duplicate waits on its unique index
# and then writes nothing; the order's id comes from its sequence through the key's row.
_PLACE = text(
    """WITH k AS (
           INSERT INTO idempotency_key (key, request_hash, order_pk, created_at)
           VALUES (:key, :request_hash, nextval(pg_get_serial_sequence('"order"', 'id')), :now)
           ON CONFLICT (key) DO NOTHING
           RETURNING order_pk),
       o AS (
           INSERT INTO "order" (id, order_id, store_id, store_snapshot, status, customer_name,
                                customer_email, customer_phone, total, currency, created_at, updated_at)
           SELECT order_pk, :order_id, :store_id, CAST(:store_snapshot AS json), :status, :customer_name,
                  :customer_email, :customer_phone, :total, :currency, :now, :now
           FROM k),
       l AS (
           INSERT INTO order_line (order_pk, product_id, sku, name, quantity, unit_price)
           SELECT k.order_pk, l.product_id, l.sku, l.name, l.quantity, l.unit_price
           FROM k CROSS JOIN unnest(CAST(:product_ids AS integer[]), CAST(:skus AS text[]),
                                    CAST(:names AS text[]), CAST(:quantities AS integer[]),
                                    CAST(:unit_prices AS numeric[]))
                AS l(product_id, sku, name, quantity, unit_price)),
       e AS (
           INSERT INTO order_event (order_pk, status, at) SELECT order_pk, :status, :now FROM k),
       n AS (
           INSERT INTO notification (event_id, kind, payload, created_at, next_attempt_at, attempts)
           SELECT :event_id, :kind, CAST(:payload AS json), :now, :now, :attempts FROM k)
       SELECT order_pk FROM k"""
)


def _write_in_one_statement(session: Session, new: NewOrder) -> Order | None:
    order = new.order
    notification = lifecycle.outbox_record(order, OrderStatus.pending, order.created_at)
    row = session.execute(
        _PLACE,
        {
            "key": new.key,
            "request_hash": new.request_hash,
            "now": order.created_at,
            "order_id": order.order_id,
            "store_id": order.store_id,
            "store_snapshot": json.dumps(order.store_snapshot),
            "status": order.status.value,
            "customer_name": order.customer_name,
            "customer_email": order.customer_email,
            "customer_phone": order.customer_phone,
            "total": order.total,
            "currency": order.currency,
            "product_ids": [line.product_id for line in new.lines],
            "skus": [line.sku for line in new.lines],
            "names": [line.name for line in new.lines],
            "quantities": [line.quantity for line in new.lines],
            "unit_prices": [line.unit_price for line in new.lines],
            "event_id": notification.event_id,
            "kind": notification.kind,
            "payload": json.dumps(notification.payload),
            "attempts": notification.attempts,
        },
    ).first()
    if row is None:
        return None
    order.id = int(row[0])
    # Written without the ORM: the object joins the session as if loaded, so a later run on this session
    # (a locked re-read with `populate_existing`) updates this very object.
    make_transient_to_detached(order)
    session.add(order)
    return order

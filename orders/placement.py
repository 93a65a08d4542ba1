"""Placing an order: the idempotency key, the store, the basket, then the pending order written at once.

1. The key: one used before answers its order again (the same body) or 422 `idempotency_key_reused`,
   whatever became of the store and the basket since; the write finds it taken (an accepted order's key is
   not read first: a read less on every order).
2. The store (`stores.service`): it must exist and offer click and collect; and the basket
   (`inventory.service`): every sku a product, priced at that store. One read, of the two domains' queries.
3. The order's shape (`NewOrder`): every value the order writes, decided here, once.
4. The write: the order, its lines, its `pending` history entry and outbox record, and the key. A
   concurrent duplicate waits on the key's unique index until the first commits, then answers its order.

The write has two forms of one shape: PostgreSQL takes it in one statement, SQLite (the embedded default)
through the ORM. The statement is a measured fast path: the ORM's seven statements cost the API process
far more CPU per order (`bench/placement.py`; the README's benchmarks, "Placing an order").
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from functools import lru_cache
from typing import Any

from sqlalchemy import Select, text
from sqlmodel import Session

from inventory import service as inventory_service
from inventory.schemas import CURRENCY
from orders import idempotency, lifecycle
from orders.counter_schemas import Locale
from orders.exceptions import (
    ClickAndCollectPaused,
    NoClickAndCollect,
    UnknownSku,
    UnknownStore,
)
from orders.models import IdempotencyKey, Order, OrderLine, OrderStatus
from orders.schemas import OrderIn
from orders.shopper import order_token
from retail import dialect
from retail.clock import utcnow
from retail.db import on_commit
from stores import service as stores_service
from stores.service import StoreCard


@dataclass(frozen=True)
class Accepted:
    """An accepted order as `POST /orders` answers it (a new one, or the one its key made before), with
    its primary key: the placement builds no ORM object of the order it writes."""

    pk: int
    order_id: str
    status: OrderStatus
    created_at: datetime
    token: str

    @classmethod
    def of(cls, order: Order) -> Accepted:
        assert order.id is not None
        return cls(order.id, order.order_id, order.status, order.created_at, order_token(order.order_id))


def place_order(
    session: Session, *, order_in: OrderIn, idempotency_key: str, send_reservation: Callable[[int], object]
) -> Accepted:
    """Accept an order as pending (or find the one this idempotency key already made).
    `send_reservation` is called with the order's primary key after the commit."""
    key = idempotency.key_digest(idempotency_key)
    request_hash = _request_hash(order_in)
    try:
        store, priced = _store_and_basket(session, order_in)
    except (UnknownStore, NoClickAndCollect, ClickAndCollectPaused, UnknownSku):
        # The key comes first: a retry answers the order its key made, though its store or a product
        # changed since. Looked up only here, on a refusal; an accepted order finds a used key in the
        # write itself (below), which saves a read on every order.
        used = session.get(IdempotencyKey, key)
        if used is not None:
            return _replayed(session, used, request_hash=request_hash)
        raise
    new = NewOrder.of(order_in, store, priced, key=key, request_hash=request_hash, now=utcnow())
    order_pk = dialect.pick(session, postgresql=_write_in_one_statement, sqlite=_write_through_orm)(
        session, new
    )
    if order_pk is None:
        # The key was taken: by an earlier order (a retry), or by a duplicate that arrived while the first
        # was being handled, which waited on the key's unique index. Either way it answers that order.
        used = session.get(IdempotencyKey, key)
        if used is None:
            raise RuntimeError("the idempotency key conflicted, but no order holds it")
        return _replayed(session, used, request_hash=request_hash)
    on_commit(session, lambda: send_reservation(order_pk))
    return Accepted(order_pk, new.order_id, OrderStatus.pending, new.created_at, order_token(new.order_id))


# Fields added to the order body since keys were first hashed: left out of the hash while absent, so a
# body without them hashes as it did before they existed, and a retry that straddles an upgrade still
# answers its order rather than `idempotency_key_reused`.
_LATER_FIELDS = ("pickup_person", "locale")


def _request_hash(order_in: OrderIn) -> str:
    """What the idempotency key compares: the whole body as validated (names stripped, defaults in)."""
    body = order_in.model_dump(mode="json")
    for field in _LATER_FIELDS:
        if body[field] is None:
            del body[field]
    if not body["allow_transfer"]:  # later too, and false when absent
        del body["allow_transfer"]
    return idempotency.request_digest(body)


def _replayed(session: Session, used: IdempotencyKey, *, request_hash: str) -> Accepted:
    idempotency.check_same_request(used.request_hash, request_hash)
    order = session.get(Order, used.order_pk)
    if order is None:
        raise RuntimeError(f"idempotency key without its order {used.order_pk}")
    return Accepted.of(order)


@lru_cache(maxsize=1)
def _store_and_basket_read() -> Select[*tuple[Any, ...]]:
    # The store's card and the basket's products, composed of the two domains' own queries: one round trip
    # where two reads cost the API a fifth more CPU per order (the README's benchmarks, "Placing an order").
    return inventory_service.priced_beside(stores_service.store_card_by_code().subquery("store"))


def _store_and_basket(
    session: Session, order_in: OrderIn
) -> tuple[StoreCard, dict[str, inventory_service.PricedProduct]]:
    """The order's store, which must exist and offer click and collect, and the basket's products by sku
    with their price at that store; an unknown sku is a 422 naming its line."""
    skus = [line.sku for line in order_in.lines]
    # On psycopg itself, as the write (`retail.dialect.rows`): SQLAlchemy's execution cost twice the
    # driver's CPU.
    rows = dialect.rows(session, _store_and_basket_read(), {"code": order_in.store_code, "skus": skus})
    if not rows:
        raise UnknownStore(order_in.store_code)
    store = StoreCard.of_row(rows[0])
    if not store.offers_click_and_collect:
        raise NoClickAndCollect(order_in.store_code)
    if store.click_and_collect_paused:
        raise ClickAndCollectPaused(order_in.store_code)
    priced = inventory_service.priced_in(rows)
    for index, sku in enumerate(skus):
        if sku not in priced:
            raise UnknownSku(sku, line=index)
    return store, priced


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
    """Everything an accepted order writes, decided before either writer runs: the order's values (its
    row without the id, which the write assigns; it is `pending`), its lines at the store's prices, and
    the key that made it."""

    order_id: str
    store_id: int
    # What the shopper was promised, as it was when the order was placed.
    store_snapshot: dict[str, Any]
    customer_name: str
    customer_email: str
    customer_phone: str | None
    pickup_person_name: str | None
    locale: Locale
    allow_transfer: bool
    total: Decimal
    created_at: datetime
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
        return cls(
            order_id="ord_" + secrets.token_urlsafe(16),  # 128 random bits: unguessable
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
            customer_name=order_in.customer.name,
            customer_email=order_in.customer.email,
            customer_phone=order_in.customer.phone,
            pickup_person_name=None if order_in.pickup_person is None else order_in.pickup_person.name,
            locale=order_in.locale or Locale.default_for(store.country),
            allow_transfer=order_in.allow_transfer,
            total=sum((line.unit_price * line.quantity for line in lines), start=Decimal("0.00")),
            created_at=now,
            lines=lines,
            key=key,
            request_hash=request_hash,
        )


# --------------------------------------------------------------------------------------------- the write
# Each answers the order's primary key, or None when the key turned out to be taken by a concurrent
# duplicate.


def _write_through_orm(session: Session, new: NewOrder) -> int | None:
    order = Order(
        order_id=new.order_id,
        store_id=new.store_id,
        store_snapshot=new.store_snapshot,
        status=OrderStatus.pending,
        customer_name=new.customer_name,
        customer_email=new.customer_email,
        customer_phone=new.customer_phone,
        pickup_person_name=new.pickup_person_name,
        locale=new.locale.value,
        allow_transfer=new.allow_transfer,
        total=new.total,
        created_at=new.created_at,
        updated_at=new.created_at,
    )
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
    return order.id


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
                                customer_email, customer_phone, pickup_person_name, locale, allow_transfer,
                                total, currency, created_at, updated_at)
           SELECT order_pk, :order_id, :store_id, CAST(:store_snapshot AS json), :status, :customer_name,
                  :customer_email, :customer_phone, :pickup_person_name, :locale, :allow_transfer,
                  :total, :currency, :now, :now
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


def _write_in_one_statement(session: Session, new: NewOrder) -> int | None:
    notification = lifecycle.outbox_record(new, OrderStatus.pending, new.created_at)
    # On psycopg itself (`retail.dialect.first_row`): SQLAlchemy's execution of this text, with its 24
    # parameters, cost the API more CPU than the driver's.
    row = dialect.first_row(
        session,
        _PLACE,
        {
            "key": new.key,
            "request_hash": new.request_hash,
            "now": new.created_at,
            "order_id": new.order_id,
            "store_id": new.store_id,
            "store_snapshot": json.dumps(new.store_snapshot),
            "status": OrderStatus.pending.value,
            "customer_name": new.customer_name,
            "customer_email": new.customer_email,
            "customer_phone": new.customer_phone,
            "pickup_person_name": new.pickup_person_name,
            "locale": new.locale.value,
            "allow_transfer": new.allow_transfer,
            "total": new.total,
            "currency": CURRENCY,
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
    )
    return None if row is None else int(row[0])

"""Reserving a pending order's stock at its store, all lines or none, as a recipe:

1. stock: inventory reserves each basket whole or not at all, on the store's stock rows locked at once
   (with `allow_transfer`, the lines the store lacks at one source, on both stores' rows: orders.transfers);
2. ready_by: a reserved order is promised the store's `pick_minutes` of opening time from now, on the
   next opening day with room when its day is full or the order came after the cutoff (`orders.promises`);
3. pickup codes: each reserved order gets a QR token and a short code unique among the store's open orders;
4. alternatives: a rejected order names its short lines and the nearest stores that hold the whole basket
   (`alternatives`, which a short pick at the counter asks too, for the units the shelf did not hold);
5. the desk: the store's pickup desk hears of each reserved order (`order.reserved`, orders.desk_events).

A run decides its own order and, in the same transaction, up to a batch of the store's other pending
orders (SKIP LOCKED). It runs in a Celery task sent after the order's commit (`orders.queueing`); the task
re-reads the order and does nothing unless it is still pending, so a second delivery is harmless.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, text
from sqlmodel import Session, col, select

from inventory import service as inventory_service
from orders import desk_events, lifecycle, pickup, promises, transfers
from orders.desk_schemas import DeskEventType
from orders.models import HOLDING, Order, OrderStatus, ProblemCode
from retail import dialect
from retail.clock import utcnow
from retail.settings import get_settings
from stores import service as stores_service
from stores.models import Store
from stores.service import StoreView

ALTERNATIVES = 3


def reserve_order(session: Session, *, order_pk: int, batch: int = 1) -> OrderStatus | None:
    """Reserve every line of a pending order at its store, or reject it with the reason and alternatives;
    answers the order's status (None for no such order).

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
    run stands in for tasks that were never sent (see `orders.queueing`)."""
    status = order.status
    orders: list[Order] = []
    if status == OrderStatus.pending:
        locked = lifecycle.lock_order(session, order.pk)
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
    """Reserve or reject locked pending orders of one store, in the order given: the recipe."""
    # The code an order names its store by: the store's key, which no upsert changes.
    store = stores_service.get_store(session, code=orders[0].store_snapshot["code"])
    lines = lifecycle.lines_by_order(session, order_pks=[o.id for o in orders if o.id is not None])
    baskets = [lines[o.id or 0] for o in orders]
    assert store.id is not None
    now = utcnow()
    outcomes: list[inventory_service.BasketOutcome | inventory_service.SourcedOutcome]
    sources: dict[int, stores_service.TransferSource] = {}
    if any(o.allow_transfer for o in orders):
        # Lines the store lacks may come from one source (orders.transfers): the store's and every
        # source's rows are locked at once, in the one order of every stock writer.
        sources = {s.store.id or 0: s for s in stores_service.transfer_sources(session, store=store, at=now)}
        outcomes = list(
            inventory_service.reserve_sourced_baskets(
                session,
                store_id=store.id,
                sources=list(sources),
                baskets=[
                    inventory_service.SourcedBasket(lifecycle.quantities(basket), o.allow_transfer)
                    for o, basket in zip(orders, baskets, strict=True)
                ],
            )
        )
    else:
        outcomes = list(
            inventory_service.reserve_baskets(
                session, store_id=store.id, baskets=[lifecycle.quantities(basket) for basket in baskets]
            )
        )
    reserved = [
        (o, basket, outcome)
        for o, basket, outcome in zip(orders, baskets, outcomes, strict=True)
        if outcome.reserved
    ]
    if reserved:
        schedule = stores_service.schedule_of(store)
        # Each order of the batch takes its day's room in turn, so a day fills up within one run too.
        promised = promises.for_run(session, store=store, schedule=schedule)
        issued_codes = _issue_pickups(session, store, [o for o, _, _ in reserved])
        for (o, basket, outcome), issued in zip(reserved, issued_codes, strict=True):
            o.pickup_nonce, o.short_code_hash = issued.nonce, issued.short_code_hash
            start = now
            if isinstance(outcome, inventory_service.SourcedOutcome) and outcome.source is not None:
                # Ready the pickup store's pick time after the transfer arrives.
                start = transfers.plan(
                    session,
                    order=o,
                    lines=basket,
                    source=sources[outcome.source],
                    products=outcome.from_source,
                    at=now,
                )
            ready_by = promises.ready_by(
                session, store=store, schedule=schedule, start=start, promised=promised
            )
            o.promise_basis = promises.basis(store)
            lifecycle.transition(session, o, OrderStatus.reserved, now, ready_by=ready_by, flush=False)
    # A sold-out product rejects many orders of a batch with the same basket: the nearest stores that can
    # supply a basket are searched once per distinct basket, not once per order.
    alternatives: dict[tuple[tuple[int, int], ...], list[dict[str, Any]]] = {}
    for o, basket, outcome in zip(orders, baskets, outcomes, strict=True):
        if outcome.reserved:
            continue
        wanted = tuple(sorted((line.product_id, line.quantity) for line in basket))
        if wanted not in alternatives:
            alternatives[wanted] = find_alternatives(
                session, store=store, wanted=lifecycle.quantities(basket), at=now
            )
        problem = {
            "code": ProblemCode.out_of_stock.value,
            "lines": [
                {"sku": line.sku, "requested": line.quantity, "available": available}
                for line in basket
                if (available := outcome.available.get(line.product_id, 0)) < line.quantity
            ],
            "alternatives": alternatives[wanted],
        }
        lifecycle.transition(session, o, OrderStatus.rejected, now, problem=problem, flush=False)
    session.flush()
    # Last: the store's event counter stays locked until the commit (see orders.desk_events).
    desk_events.emit(
        session,
        store_id=store.id,
        events=[
            desk_events.NewDeskEvent(DeskEventType.order_reserved, o.order_id, now) for o, _, _ in reserved
        ],
    )


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


def find_alternatives(
    session: Session, *, store: Store, wanted: Sequence[inventory_service.Quantity], at: datetime
) -> list[dict[str, Any]]:
    """The nearest other click-and-collect stores that hold all of `wanted` available (up to
    `ALTERNATIVES`), each with its distance from `store` and the promise an order placed there at `at`
    would get: for a rejected order its whole basket, for a short pick the units the shelf did not hold.
    As stored in the order (`Alternative` in JSON)."""
    product_ids = [line.product_id for line in wanted]

    def can_supply(stores: Sequence[StoreView]) -> set[int]:
        ids = [s.id for s in stores if s.id is not None and s.id != store.id and s.click_and_collect]
        levels = inventory_service.stock_levels(session, store_ids=ids, product_ids=product_ids)
        return {
            sid
            for sid in ids
            if all(
                levels.get((sid, line.product_id), inventory_service.NO_STOCK).available >= line.quantity
                for line in wanted
            )
        }

    page = stores_service.nearest_stores(
        session, lat=store.lat, lon=store.lon, limit=ALTERNATIVES, at=at, batch_filter=can_supply
    )
    alternatives = []
    for nearby in page.stores:
        ready_by = promises.ready_by(session, store=nearby.store, schedule=nearby.store.schedule, start=at)
        alternatives.append(
            {
                "code": nearby.store.code,
                "name": nearby.store.name,
                "distance_km": round(nearby.distance_km, 3),
                "ready_by": ready_by.isoformat() if ready_by is not None else None,
            }
        )
    return alternatives

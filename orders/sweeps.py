"""The periodic sweeps of the order flow, run by beat through the thin tasks in `orders/tasks.py`.

Deadlines are timestamps in the database, never tasks delayed for hours: each sweep finds what is due now,
so a beat that was down catches up on its next run, and each is safe to run twice at once (row locks and a
status check after locking).

- `sweep_pending`: orders whose reservation task never arrived (broker down, worker killed) are sent again.
- `expire_ready`: orders not collected by `expires_at` expire and give their stock back.
- `reconcile_reserved`: `stock.reserved` recomputed from the orders that hold stock, repairing any drift.
- `prune_idempotency_keys`: shoppers' `Idempotency-Key`s older than a day are forgotten.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import and_, case, or_, text
from sqlmodel import Session, col, func, select

from inventory import service as inventory_service
from orders import lifecycle
from orders.models import HOLDING, Order, OrderLine, OrderStatus, Transfer, TransferStatus
from orders.store_walk import STORES_WITH_ORDERS
from retail import dialect
from retail.clock import utcnow

logger = logging.getLogger(__name__)

# A reservation task normally runs within a second of the commit; an order pending longer lost its task.
PENDING_GRACE = timedelta(seconds=30)
PENDING_BATCH = 500
EXPIRY_BATCH = 500
# How long an `Idempotency-Key` answers the order it made. A shopper's app retries a POST it got no answer
# to within minutes (hours, if it was offline); after a day the key is forgotten, and with it the table
# stops growing by a row per order for ever. The same key after that places a new order.
IDEMPOTENCY_KEY_TTL = timedelta(hours=24)


def held_units() -> inventory_service.HeldUnits:
    """What the orders that hold stock have reserved, per stock row: what `stock.reserved` must equal.
    A line holds its quantity until the store picks it, then its picked units (`OrderLine.held`), at the
    pickup store, or at its transfer's source while the transfer is planned, and nowhere while it travels
    (`orders.transfer_records.held_by_store`)."""
    held = func.coalesce(col(OrderLine.picked), col(OrderLine.quantity))
    at = case(
        (col(Transfer.status) == TransferStatus.planned.value, col(Transfer.from_store_id)),
        else_=col(Order.store_id),
    )
    return (
        select(at.label("store_id"), OrderLine.product_id, func.sum(held).label("quantity"))
        .select_from(Order)
        .join(OrderLine, col(OrderLine.order_pk) == col(Order.id))
        .outerjoin(
            Transfer,
            and_(
                col(Transfer.order_pk) == col(Order.id),
                col(Transfer.from_store_id) == col(OrderLine.source_store_id),
            ),
        )
        .where(col(Order.status).in_([status.value for status in HOLDING]))
        .where(or_(col(Transfer.status).is_(None), col(Transfer.status) != TransferStatus.shipped.value))
        .group_by(at, col(OrderLine.product_id))
    )


def _due(
    session: Session,
    *,
    status: OrderStatus,
    column: str,
    before: datetime,
    limit: int,
) -> list[int]:
    """Ids of orders in `status` whose `column` lies before `before`, earliest first, at most `limit`.

    On PostgreSQL the search runs per store through the (store, status, created_at) index (see
    `orders.store_walk`) instead of scanning every order ever placed.
    """
    params = {"status": status.value, "before": dialect.timestamp(session, before), "limit": limit}
    query = dialect.pick(
        session,
        postgresql=f"""{STORES_WITH_ORDERS}
                       SELECT d.id FROM walk CROSS JOIN LATERAL (
                           SELECT o.id, o.{column} AS due FROM "order" o
                           WHERE o.store_id = walk.store_id AND o.status = :status
                             AND o.{column} < :before
                           ORDER BY o.{column}, o.id LIMIT :limit) AS d
                       ORDER BY d.due, d.id LIMIT :limit""",
        sqlite=f"""SELECT o.id FROM "order" o
                   WHERE o.status = :status AND o.{column} < :before
                   ORDER BY o.{column}, o.id LIMIT :limit""",
    )
    return [int(pk) for pk in session.execute(text(query), params).scalars()]


# ------------------------------------------------------------------------------------------------ pending


def sweep_pending(
    session: Session,
    *,
    send: Callable[[int], object],
    now: datetime | None = None,
    limit: int = PENDING_BATCH,
) -> list[int]:
    """Send the reservation of every order pending past `PENDING_GRACE` again (the oldest `limit`);
    answers their ids. The task re-reads the order, so one that was only slow is not reserved twice."""
    now = now or utcnow()
    stale = _due(
        session, status=OrderStatus.pending, column="created_at", before=now - PENDING_GRACE, limit=limit
    )
    # Sent at once, not after a commit: this transaction writes nothing, the orders are committed already.
    for order_pk in stale:
        send(order_pk)
    if stale:
        logger.info("sent the reservation of %d pending orders again", len(stale))
    return stale


# ------------------------------------------------------------------------------------------------- expiry


def expire_ready(session: Session, *, now: datetime | None = None, limit: int = EXPIRY_BATCH) -> list[int]:
    """Expire ready orders whose `expires_at` has passed (the earliest `limit`) and release their stock;
    answers the ids expired. Orders without `expires_at` are never expired."""
    now = now or utcnow()
    candidates = _due(
        session, status=OrderStatus.ready_for_pickup, column="expires_at", before=now, limit=limit
    )
    if not candidates:
        return []
    # The candidates were read without locks. Lock them now and check again: a hand-over or cancel that
    # committed meanwhile is seen (PostgreSQL re-evaluates the condition on the row it locks), and one
    # holding an order right now is skipped rather than waited for: the next sweep looks at it again,
    # and a second sweep running at the same moment skips the ones this one holds.
    orders = session.exec(
        select(Order)
        .where(
            col(Order.id).in_(candidates),
            Order.status == OrderStatus.ready_for_pickup,
            col(Order.expires_at) < now,
        )
        .order_by(col(Order.id))
        .with_for_update(skip_locked=True)
        .execution_options(populate_existing=True)
    ).all()
    orders = [o for o in orders if o.status == OrderStatus.ready_for_pickup and o.id is not None]
    if not orders:
        return []
    lines = lifecycle.lines_by_order(session, order_pks=[o.id for o in orders if o.id is not None])
    # One release per store, stores in id order: stock rows are then locked in (store, product) order,
    # the order every other stock writer keeps, so releasing many orders at once cannot deadlock with a
    # reservation that holds some of the same rows.
    held: dict[int, dict[int, int]] = defaultdict(lambda: defaultdict(int))
    for order in orders:
        for line in lines[order.id or 0]:
            held[order.store_id][line.product_id] += line.held
    for store_id in sorted(held):
        inventory_service.release(
            session,
            store_id=store_id,
            lines=[inventory_service.Quantity(pid, qty) for pid, qty in sorted(held[store_id].items())],
        )
    for order in orders:
        lifecycle.transition(session, order, OrderStatus.expired, now)
        logger.info("order %s expired (was due at %s)", order.id, order.expires_at)
    return [o.id for o in orders if o.id is not None]


# ---------------------------------------------------------------------------------------- reconciliation


def reconcile_reserved(session: Session, *, dry_run: bool = False) -> list[inventory_service.ReservedDrift]:
    """Recompute every stock row's `reserved` from the orders holding stock, and repair the rows that
    drifted (unless `dry_run`); answers the drifted rows with the old and the recomputed value."""
    if dry_run:
        return inventory_service.reserved_drift(session, held=held_units())
    repaired = inventory_service.repair_reserved(session, held=held_units())
    for drift in repaired:
        logger.warning(
            "stock of store %s product %s: reserved was %s, the live reservations hold %s; repaired",
            drift.store_id,
            drift.product_id,
            drift.was,
            drift.now,
        )
    return repaired


# -------------------------------------------------------------------------------------- idempotency keys


def prune_idempotency_keys(session: Session, *, batch: int, now: datetime | None = None) -> int:
    """Delete up to `batch` idempotency keys older than `IDEMPOTENCY_KEY_TTL`, oldest first (through the
    index on `created_at`); answers how many. The orders stay. Two runs at once delete each key once."""
    cutoff = dialect.timestamp(session, (now or utcnow()) - IDEMPOTENCY_KEY_TTL)
    deleted = session.execute(
        text(
            """DELETE FROM idempotency_key WHERE key IN (
                   SELECT key FROM idempotency_key WHERE created_at < :cutoff
                   ORDER BY created_at LIMIT :batch)"""
        ),
        {"cutoff": cutoff, "batch": batch},
    )
    return int(deleted.rowcount)  # type: ignore[attr-defined]

"""Celery tasks of the order flow: thin wrappers that open the transactions and call the order modules."""

from __future__ import annotations

import logging
from dataclasses import replace

from orders import desk_events, late, metrics, notifications, reservation, store_figures, sweeps
from orders.models import OrderStatus
from retail.celery_app import celery_app, periodic
from retail.clock import utcnow
from retail.db import delete_in_batches, get_engine, session_scope
from retail.redis_client import redis_client

logger = logging.getLogger(__name__)

# Pending orders of a store one reservation run decides at most in one transaction (its own first): under
# load the queue's later tasks then find their orders decided, and the worker's cost per order falls.
RESERVE_BATCH = 50
# Idempotency keys deleted per transaction, and transactions per run at most (an hourly run then keeps up
# with 100,000 orders an hour without one long transaction).
PRUNE_KEYS_BATCH = 5000
PRUNE_KEYS_MAX_BATCHES = 20


@celery_app.task(name="orders.reserve", acks_late=True, max_retries=None)
def reserve_order(order_pk: int, queued_mark: str | None = None) -> str | None:
    """Reserve a pending order's stock. Safe to run twice: a second run finds the order no longer pending.

    A run queued by `orders.queueing` (with its store's `queued_mark`) also drains every other pending
    order of the store, batch after batch: their own runs may never have been sent.
    """
    if queued_mark is not None:
        # Cleared before the first read, so every order committed before this point is seen below, and
        # every order committed after it finds no mark and queues a run of its own.
        try:
            client = redis_client()
            assert client is not None, "a queued mark comes from Redis"
            client.delete(queued_mark)
        except Exception:  # the mark expires by itself; this run still drains
            logger.warning("could not clear %s", queued_mark, exc_info=True)
    drain = queued_mark is not None
    order = reservation.order_state(get_engine(), order_pk=order_pk)
    status = None if order is None else order.status
    if order is not None and (drain or order.status == OrderStatus.pending):
        with session_scope() as session:
            batch = reservation.reserve_batch(session, order, batch=RESERVE_BATCH, drain=drain)
        # Drain what is left, batch after batch; the order itself is decided by now.
        status, decided_now, order = batch.status, batch.decided, replace(order, status=batch.status)
        while drain and decided_now == RESERVE_BATCH:
            with session_scope() as session:
                decided_now = reservation.reserve_batch(
                    session, order, batch=RESERVE_BATCH, drain=True
                ).decided
    logger.info("order %s reservation: %s", order_pk, status)
    return None if status is None else status.value


def send_reservation(order_pk: int, queued_mark: str | None = None) -> bool:
    """Send the reservation of a committed order; answers whether it was sent. If the broker is down
    the order stays pending and the pending sweep sends it again, so a failure here must not fail the
    request that accepted it."""
    try:
        if queued_mark is None:
            reserve_order.delay(order_pk)
        else:
            reserve_order.delay(order_pk, queued_mark)
    except Exception:  # any broker failure; the order row is the source of truth
        logger.warning(
            "could not queue the reservation of order %s; the sweep will retry", order_pk, exc_info=True
        )
        return False
    return True


# ---------------------------------------------------------------------------------- periodic sweeps (beat)
# Each sweep is one transaction over what is due at the moment it runs; a second run at the same time
# finds nothing left to do (see orders/sweeps.py), so beat ticks delivered twice are harmless.


@periodic(every_s=15.0)
@celery_app.task(name="orders.sweep_pending", acks_late=True)
def sweep_pending() -> int:
    """Send the reservation of orders still pending past the grace period again."""
    with session_scope() as session:
        sent = sweeps.sweep_pending(session, send=send_reservation)
    return len(sent)


@periodic(every_s=60.0)
@celery_app.task(name="orders.expire_ready", acks_late=True)
def expire_ready() -> int:
    """Expire ready orders past their pickup deadline, releasing their stock (the shopper's reminder before
    that is a message of its own, orders/messages)."""
    with session_scope() as session:
        expired = sweeps.expire_ready(session)
    return len(expired)


@periodic(every_s=60.0)
@celery_app.task(name="orders.mark_late", acks_late=True)
def mark_late() -> int:
    """Mark reserved orders close to their promise late, and promise them again (orders/late.py)."""
    with session_scope() as session:
        marked = late.mark_late(session)
    return len(marked)


@periodic(every_s=600.0)
@celery_app.task(name="orders.reconcile_reserved", acks_late=True)
def reconcile_reserved() -> int:
    """Repair stock rows whose `reserved` drifted from the orders that hold stock."""
    with session_scope() as session:
        repaired = sweeps.reconcile_reserved(session)
    # After the commit: the gauge says what this run found and repaired, for /metrics.
    metrics.record_reconciliation(len(repaired), repaired=True)
    return len(repaired)


@periodic(every_s=5.0)
@celery_app.task(name="orders.deliver_notifications", acks_late=True)
def deliver_notifications() -> int:
    """Send due order notifications (the outbox) to the webhook, or to the log."""
    return notifications.deliver_due(get_engine())


@periodic(every_s=3600.0)
@celery_app.task(name="orders.prune_idempotency_keys", acks_late=True)
def prune_idempotency_keys() -> int:
    """Forget shoppers' idempotency keys older than a day (see `sweeps.prune_idempotency_keys`)."""
    pruned = delete_in_batches(
        lambda session, batch: sweeps.prune_idempotency_keys(session, batch=batch),
        batch=PRUNE_KEYS_BATCH,
        max_batches=PRUNE_KEYS_MAX_BATCHES,
    )
    if pruned:
        logger.info("pruned %s idempotency keys older than a day", pruned)
    return pruned


# Desk events deleted per transaction, and transactions per run at most.
PRUNE_DESK_EVENTS_BATCH = 5000
PRUNE_DESK_EVENTS_MAX_BATCHES = 20


@periodic(every_s=600.0)
@celery_app.task(name="orders.prune_desk_events", acks_late=True)
def prune_desk_events() -> int:
    """Forget the desks' events older than `desk_events.RETENTION` (a day)."""
    before = utcnow() - desk_events.RETENTION
    pruned = delete_in_batches(
        lambda session, batch: desk_events.prune(session, before=before, batch=batch),
        batch=PRUNE_DESK_EVENTS_BATCH,
        max_batches=PRUNE_DESK_EVENTS_MAX_BATCHES,
    )
    if pruned:
        logger.info("pruned %s desk events older than %s", pruned, desk_events.RETENTION)
    return pruned


@periodic(every_s=600.0)
@celery_app.task(name="orders.refresh_store_figures", acks_late=True)
def refresh_store_figures() -> int:
    """Measure each store's short-picked share (the stock confidence) and pick time (the measured promise)
    again from its last 28 days of orders (`orders.store_figures`); answers how many stores changed."""
    with session_scope() as session:
        changed = store_figures.refresh(session, now=utcnow())
    if changed:
        logger.info("store figures changed: %s", changed)
    return len(changed)

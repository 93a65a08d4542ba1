"""Celery tasks of the order flow: thin wrappers that open a transaction and call the service."""

from __future__ import annotations

import logging

from orders import notifications, service, sweeps
from orders.models import OrderStatus
from retail.celery_app import celery_app
from retail.db import get_engine, session_scope

logger = logging.getLogger(__name__)

# Pending orders of a store one reservation run decides at most (its own first): under load the queue's
# later tasks then find their orders decided, and the worker's cost per order falls with the batch.
RESERVE_BATCH = 50


@celery_app.task(name="orders.reserve", acks_late=True, max_retries=None)
def reserve_order(order_pk: int) -> str | None:
    """Reserve a pending order's stock. Safe to run twice: a second run finds the order no longer pending."""
    decided = service.decided_status(get_engine(), order_pk=order_pk)
    if decided is not None:
        return decided.value
    with session_scope() as session:
        status = service.reserve_order(session, order_pk=order_pk, batch=RESERVE_BATCH)
    logger.info("order %s reservation: %s", order_pk, status)
    return OrderStatus(status).value if status is not None else None


def send_reservation(order_pk: int) -> None:
    """Queue the reservation of a just-committed order. If the broker is down the order stays pending and
    the pending sweep sends it again, so a failure here must not fail the request that accepted it."""
    try:
        reserve_order.delay(order_pk)
    except Exception:  # any broker failure; the order row is the source of truth
        logger.warning(
            "could not queue the reservation of order %s; the sweep will retry", order_pk, exc_info=True
        )


# ---------------------------------------------------------------------------------- periodic sweeps (beat)
# Each sweep is one transaction over what is due at the moment it runs; a second run at the same time
# finds nothing left to do (see orders/sweeps.py), so beat ticks delivered twice are harmless.


@celery_app.task(name="orders.sweep_pending", acks_late=True)
def sweep_pending() -> int:
    """Send the reservation of orders still pending past the grace period again."""
    with session_scope() as session:
        sent = sweeps.sweep_pending(session, send=send_reservation)
    return len(sent)


@celery_app.task(name="orders.expire_ready", acks_late=True)
def expire_ready() -> int:
    """Expire ready orders past their pickup deadline, releasing their stock; log the day-ahead reminders."""
    with session_scope() as session:
        expired = sweeps.expire_ready(session)
        sweeps.log_reminders(session)
    return len(expired)


@celery_app.task(name="orders.reconcile_reserved", acks_late=True)
def reconcile_reserved() -> int:
    """Repair stock rows whose `reserved` drifted from the orders that hold stock."""
    with session_scope() as session:
        repaired = sweeps.reconcile_reserved(session)
    return len(repaired)


@celery_app.task(name="orders.deliver_notifications", acks_late=True)
def deliver_notifications() -> int:
    """Send due order notifications (the outbox) to the webhook, or to the log."""
    return notifications.deliver_due(get_engine())

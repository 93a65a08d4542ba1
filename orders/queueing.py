"""Queueing an accepted order's reservation: at most one queued reservation run per store at a time.

The first order of a store since its last run started marks the store in Redis (`SET NX`, `QUEUED_MARK`)
and sends a run carrying the mark; the orders after it, while that mark stands, send nothing. The run
clears the mark before it reads (`orders.tasks.reserve_order`), so it drains them all, and an order
committed after that finds no mark and queues a run of its own. Under load that turns one task per order
into one task per batch.
"""

from __future__ import annotations

import logging
from contextlib import suppress

from orders import tasks
from retail.redis_client import redis_client

logger = logging.getLogger(__name__)

QUEUED_MARK = "orders:reserve-queued:{store_code}"
# How long a store's mark lives at most: if that run's message was lost (a Redis restart), the store's next
# order queues a new run after this; the pending sweep backs it up.
QUEUED_TTL_S = 10


def queue_reservation(order_pk: int, *, store_code: str) -> None:
    """Send the reservation of a just-committed order unless a run for its store is queued already. A
    failure (Redis or the broker down) leaves the order pending for the sweep, and never fails the request
    that accepted it."""
    client = redis_client()
    if client is None:  # in-process tasks: nothing to coalesce
        tasks.send_reservation(order_pk)
        return
    mark = QUEUED_MARK.format(store_code=store_code)
    try:
        if not client.set(mark, order_pk, nx=True, ex=QUEUED_TTL_S):
            return
    except Exception:  # any Redis failure; the order row is the source of truth
        logger.warning(
            "could not queue the reservation of order %s; the sweep will retry", order_pk, exc_info=True
        )
        return
    if not tasks.send_reservation(order_pk, mark):
        # No run is coming for this mark: let the store's next order queue one rather than wait for it
        # to expire.
        with suppress(Exception):
            client.delete(mark)

"""Celery tasks of inventory: thin wrappers that open a transaction and call the feed's log."""

from __future__ import annotations

import logging

from inventory import feed_log
from retail.celery_app import celery_app, periodic
from retail.db import delete_in_batches

logger = logging.getLogger(__name__)

# Log rows deleted per transaction, and transactions per run at most: a run keeps up with a log growing
# by thousands of rows a minute without holding one long transaction (or running past its next tick).
PRUNE_BATCH = 5000
PRUNE_MAX_BATCHES = 20


@periodic(every_s=300.0)
@celery_app.task(name="inventory.prune_change_log", acks_late=True)
def prune_change_log() -> int:
    """Delete the availability feed's spent log rows (see `feed_log.prune_change_log`)."""
    pruned = delete_in_batches(
        lambda session, batch: feed_log.prune_change_log(session, batch=batch),
        batch=PRUNE_BATCH,
        max_batches=PRUNE_MAX_BATCHES,
    )
    if pruned:
        logger.info("pruned %s spent availability feed log rows", pruned)
    return pruned

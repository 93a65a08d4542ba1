"""Celery tasks of the messages to the shopper: thin wrappers over `orders.messages.outbox`."""

from __future__ import annotations

import logging

from orders.messages import outbox
from retail.celery_app import celery_app, periodic
from retail.db import get_engine

logger = logging.getLogger(__name__)


@celery_app.task(name="orders.send_message", acks_late=True)
def send_message(message_pk: int) -> int:
    """Send one message if it is still due; a second run finds it sent (or leased) and does nothing."""
    return outbox.send_due(get_engine(), ids=[message_pk])


def send_messages(message_pks: list[int]) -> None:
    """Send each message's task; a broker failure leaves them to the sweep (the rows are the truth)."""
    for message_pk in message_pks:
        try:
            send_message.delay(message_pk)
        except Exception:  # any broker failure
            logger.warning("could not queue message %s; the sweep will send it", message_pk, exc_info=True)
            return


@periodic(every_s=5.0)
@celery_app.task(name="orders.derive_messages", acks_late=True)
def derive_messages() -> int:
    """Turn the new outbox events into messages (committed), then send a task for each one due now."""
    due = outbox.derive_due(get_engine())
    send_messages(due)
    return len(due)


@periodic(every_s=30.0)
@celery_app.task(name="orders.sweep_messages", acks_late=True)
def sweep_messages() -> int:
    """Send what is due and was not sent: reminders at their time, retries after their backoff, and
    messages whose task never ran (broker down, worker killed: the lease ran out)."""
    return outbox.send_due(get_engine())

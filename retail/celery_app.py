"""The Celery app: Redis broker when `RETAIL_REDIS_URL` is set, in-process execution otherwise.

Domain packages own their tasks in `<domain>/tasks.py`; they are found by autodiscovery. Periodic work is
declared in `BEAT_SCHEDULE` as deadlines swept from the database, never as tasks delayed for hours (with the
Redis broker, a task delayed past the visibility timeout is delivered twice).
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from celery import Celery

from retail.settings import Settings, get_settings

DOMAIN_PACKAGES = ["stores", "inventory", "orders"]

# Entries are added by the issues that bring the periodic work (order expiry, reminders, the pending-order
# sweep, stock reconciliation); the schedule lives here so that one beat process runs all of it.
BEAT_SCHEDULE: dict[str, dict[str, Any]] = {
    # Intervals in seconds. `expires` drops a tick still queued when the next one is due: after a worker
    # outage the sweep runs once, not once per missed tick.
    "orders.sweep_pending": {"task": "orders.sweep_pending", "schedule": 15.0, "options": {"expires": 15}},
    "orders.expire_ready": {"task": "orders.expire_ready", "schedule": 60.0, "options": {"expires": 60}},
    "orders.deliver_notifications": {
        "task": "orders.deliver_notifications",
        "schedule": 5.0,
        "options": {"expires": 5},
    },
    "orders.reconcile_reserved": {
        "task": "orders.reconcile_reserved",
        "schedule": 600.0,
        "options": {"expires": 600},
    },
}


def configure(app: Celery, settings: Settings) -> None:
    in_process = settings.redis_url is None
    app.conf.update(
        broker_url=settings.redis_url or "memory://",
        task_always_eager=in_process,
        task_eager_propagates=in_process,
        task_ignore_result=True,
        task_serializer="json",
        accept_content=["json"],
        timezone="UTC",
        enable_utc=True,
        # A task is acknowledged only after it ran, and a worker killed mid-task hands it back to the queue;
        # every task is idempotent and re-reads its state from the database, so a second delivery is harmless.
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        broker_connection_retry_on_startup=True,
        broker_transport_options={"visibility_timeout": 3600},
        beat_schedule=BEAT_SCHEDULE,
        worker_hijack_root_logger=False,
    )


celery_app = Celery("winkelpunt")
configure(celery_app, get_settings())
celery_app.autodiscover_tasks(DOMAIN_PACKAGES)


logger = logging.getLogger(__name__)


def run_schedule_in_process(stop: threading.Event, *, tick_s: float = 1.0) -> None:
    """The embedded default has no beat process: the API process runs the same schedule itself, each task
    in-process, until `stop` is set. One failing run is logged and the schedule goes on."""
    due = dict.fromkeys(BEAT_SCHEDULE, 0.0)
    while not stop.wait(tick_s):
        now = time.monotonic()
        for name, entry in BEAT_SCHEDULE.items():
            if now < due[name]:
                continue
            due[name] = now + float(entry["schedule"])
            try:
                celery_app.tasks[entry["task"]].apply(throw=True)
            except Exception:  # the sweeps are idempotent; the next tick tries again
                logger.exception("periodic task %s failed", entry["task"])

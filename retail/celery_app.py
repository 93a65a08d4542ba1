"""The Celery app: Redis broker when `RETAIL_REDIS_URL` is set, in-process execution otherwise.

Domain packages own their tasks in `<domain>/tasks.py`, imported by the composition root (`app.registry`).
Periodic work is declared with `periodic` as deadlines swept from the database, never as tasks delayed for
hours (with the Redis broker, a task delayed past the visibility timeout is delivered twice).
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

from celery import Celery, Task, signals

from retail import metrics
from retail.logs import configure_logging, request_id_var, task_id_var
from retail.settings import Settings, get_settings

# The beat schedule. Each domain puts its periodic tasks on it with `periodic`, in its own tasks module;
# the composition root imports every one of those, so one beat process (or the embedded schedule) runs all.
BEAT_SCHEDULE: dict[str, dict[str, Any]] = {}

_Task = TypeVar("_Task", bound=Task)


def periodic(every_s: float) -> Callable[[_Task], _Task]:
    """Run the decorated task every `every_s` seconds. `expires` drops a tick still queued when the next
    one is due: after a worker outage the sweep runs once, not once per missed tick."""

    def schedule(task: _Task) -> _Task:
        BEAT_SCHEDULE[task.name] = {"task": task.name, "schedule": every_s, "options": {"expires": every_s}}
        return task

    return schedule


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
        # A worker or beat keeps trying to reach the broker however long it is away (the default gives up
        # after 100 attempts, about 50 minutes, and the process exits); orders accepted meanwhile stay
        # pending in the database and are reserved once it is back.
        broker_connection_max_retries=None,
        broker_transport_options={"visibility_timeout": 3600},
        beat_schedule=BEAT_SCHEDULE,
        worker_hijack_root_logger=False,
    )


celery_app = Celery("winkelpunt")
configure(celery_app, get_settings())


logger = logging.getLogger(__name__)


# ------------------------------------------------------------------------------ logs and metrics of tasks


def _setup_logging(**_kwargs: Any) -> None:
    # Connecting here stops Celery from configuring logging itself: workers log JSON lines as the API does.
    configure_logging(get_settings().log_level)


def _pass_request_id(headers: dict[str, Any] | None = None, **_kwargs: Any) -> None:
    # A task sent while serving a request carries the request's id, so its log lines can be joined to it.
    request_id = request_id_var.get()
    if headers is not None and request_id is not None:
        headers.setdefault("request_id", request_id)


_context_tokens: dict[str, list[Any]] = {}


def _enter_task_context(task_id: str | None = None, task: Task | None = None, **_kwargs: Any) -> None:
    if task_id is None:
        return
    tokens: list[Any] = [task_id_var.set(task_id)]
    # Run in-process (no broker), the task already sits in the request's context.
    request_id = getattr(task.request, "request_id", None) if task is not None else None
    if isinstance(request_id, str):
        tokens.append(request_id_var.set(request_id))
    _context_tokens[task_id] = tokens


def _leave_task_context(task_id: str | None = None, **_kwargs: Any) -> None:
    for token in reversed(_context_tokens.pop(task_id or "", [])):
        token.var.reset(token)


def _count_task_failure(sender: Task | None = None, **_kwargs: Any) -> None:
    # Counted in Redis (see retail.metrics), so a scrape of the API shows the failures of every worker.
    metrics.shared.inc(metrics.TASK_FAILURES, labels=(getattr(sender, "name", None) or "unknown",))


# Connected by call rather than as decorators: Celery's are untyped.
signals.setup_logging.connect(_setup_logging)
signals.before_task_publish.connect(_pass_request_id)
signals.task_prerun.connect(_enter_task_context)
signals.task_postrun.connect(_leave_task_context)
signals.task_failure.connect(_count_task_failure)


class EmbeddedSchedule:
    """The beat schedule run by the embedded default itself, each task in-process: `run_due` runs every
    entry due at a moment of `time.monotonic`, and sets when it is due next."""

    def __init__(self, schedule: dict[str, dict[str, Any]]) -> None:
        self._schedule = schedule
        self._due = dict.fromkeys(schedule, 0.0)

    def run_due(self, now: float) -> list[str]:
        """Run what is due at `now`; answers the names of the tasks run. A failing run is logged and the
        others still run (the sweeps are idempotent; the next tick tries again)."""
        ran: list[str] = []
        for name, entry in self._schedule.items():
            if now < self._due[name]:
                continue
            self._due[name] = now + float(entry["schedule"])
            ran.append(entry["task"])
            try:
                celery_app.tasks[entry["task"]].apply(throw=True)
            except Exception:
                logger.exception("periodic task %s failed", entry["task"])
        return ran


def run_schedule_in_process(stop: threading.Event, *, tick_s: float = 1.0) -> None:
    """The embedded default has no beat process: `retail serve` runs the same schedule itself, in a thread
    of its own process, until `stop` is set. Import every domain's tasks first (the composition root does)."""
    schedule = EmbeddedSchedule(BEAT_SCHEDULE)
    # One line per process that runs the schedule, so an operator (and a test) can see there is one.
    logger.info("running the periodic tasks in process %s", os.getpid(), extra={"pid": os.getpid()})
    while not stop.wait(tick_s):
        schedule.run_due(time.monotonic())

"""The Celery app `bench/orders.py` runs its workers with: the service's own app and tasks, plus a no-op.

    RETAIL_REDIS_URL=... python -m celery -A bench.noop_worker worker --pool solo --concurrency 1

The same worker command serves the reservations (`orders.reserve`) and the no-op baseline (`bench.noop`),
on the same broker and queue, so the two throughputs are measured on identical workers. The no-op only
counts itself in Redis (one INCR), which is how the benchmark knows when a batch of them has run.
"""

from __future__ import annotations

from functools import cache

from redis import Redis

import orders.tasks  # noqa: F401  # the order flow's tasks, registered on `celery_app`
from retail.celery_app import celery_app
from retail.settings import get_settings

app = celery_app  # what `celery -A bench.noop_worker` looks for
COUNTER_KEY = "bench:noop:done"


@cache
def _redis() -> Redis:
    url = get_settings().redis_url
    assert url is not None, "the no-op baseline needs RETAIL_REDIS_URL"
    return Redis.from_url(url)


@celery_app.task(name="bench.noop", acks_late=True)  # type: ignore[untyped-decorator]  # Celery is untyped
def noop() -> None:
    """Nothing but the count of runs."""
    _redis().incr(COUNTER_KEY)

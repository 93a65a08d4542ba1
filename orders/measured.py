"""The measured promise: each store's pick time learnt from its own orders.

A store's figure is the 80th percentile of its orders' reserved -> ready times over the last `WINDOW`,
counted in the store's opening minutes (an order reserved just before closing and ready just after the
next opening took only the open minutes between), when it has at least `MIN_ORDERS` of them; else None,
and its promises use the configured `pick_minutes` (orders/promises.py `pick_minutes_of`).

Measured by beat with the store's other figures (orders/store_figures.py, `orders.refresh_store_figures`,
every 10 minutes) into `store.measured_pick_minutes`: every process's shopper-facing snapshot sees the new
figure, and no request ever scans orders for it. The pure parts (`opening_minutes`,
`measured_minutes`) are tested without a database.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime, timedelta

from stores.hours import MAX_INTERVAL_SPAN, StoreSchedule
from stores.hours import engine as hours_engine

WINDOW = timedelta(days=28)
MIN_ORDERS = 20
PERCENTILE = 0.8


def opening_minutes(schedule: StoreSchedule, start: datetime, end: datetime) -> float:
    """The store's open minutes within [start, end) (pure; a span beyond the engine's window is clipped
    to it: an order that took weeks to pick counts as the longest the engine can measure)."""
    end = min(end, start + MAX_INTERVAL_SPAN)
    return sum(
        (until - since).total_seconds() / 60
        for since, until in hours_engine.open_intervals(schedule, start, end)
    )


def measured_minutes(durations: Sequence[float]) -> int | None:
    """The 80th percentile (nearest rank) of `durations` in whole minutes, rounded up and at least 1;
    None under `MIN_ORDERS` durations (pure)."""
    if len(durations) < MIN_ORDERS:
        return None
    ordered = sorted(durations)
    rank = math.ceil(PERCENTILE * len(ordered))
    return max(1, math.ceil(ordered[rank - 1] - 1e-9))

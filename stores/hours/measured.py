"""The measured promise's pure parts (contract "A measured promise"): how many of a store's opening
minutes an order took from reserved to ready, and the pick time a store's history measures.

A store promises its measured pick time when at least `MIN_ORDERS` orders went reserved -> ready in the
last `WINDOW`: the `PERCENTILE`th percentile of their opening minutes (the nearest-rank percentile, so the
figure is a duration some order really took, rounded up to whole minutes); with fewer, its configured
`pick_minutes`. Minutes the store was closed do not count: an order reserved a minute before closing and
ready ten minutes after the next opening took 11 minutes, not a night.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Literal

from stores.hours.engine import MAX_INTERVAL_SPAN, StoreSchedule, open_intervals

MIN_ORDERS = 20
PERCENTILE = 80
WINDOW = timedelta(days=28)

PromiseBasis = Literal["measured", "configured"]


def open_minutes_between(schedule: StoreSchedule, start: datetime, end: datetime) -> float:
    """The store's opening minutes within [start, end) (0 when `end` is not after `start`); a span longer
    than the engine's window counts its first `MAX_INTERVAL_SPAN`."""
    end = min(end, start + MAX_INTERVAL_SPAN)
    return sum((until - since).total_seconds() for since, until in open_intervals(schedule, start, end)) / 60


def measured_pick_minutes(durations: Sequence[float], *, configured: int) -> tuple[int, PromiseBasis]:
    """The pick time to promise from these opening-minute durations, and on what basis."""
    if len(durations) < MIN_ORDERS:
        return configured, "configured"
    ordered = sorted(durations)
    rank = math.ceil(PERCENTILE / 100 * len(ordered))  # nearest rank, 1-based
    return max(1, math.ceil(ordered[rank - 1])), "measured"

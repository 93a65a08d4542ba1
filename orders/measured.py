"""The measured promise: each store's pick time learnt from its own orders.

A store's figure is the 80th percentile of its orders' reserved -> ready times over the last `WINDOW`,
counted in the store's opening minutes (an order reserved just before closing and ready just after the
next opening took only the open minutes between), when it has at least `MIN_ORDERS` of them; else None,
and its promises use the configured `pick_minutes` (orders/promises.py `pick_minutes_of`).

Refreshed by beat (`orders.tasks.measure_pick_times`, every 10 minutes) into `store.measured_pick_minutes`
through `stores.service`, which touches the network's revision: every process's shopper-facing snapshot
sees the new figure, and no request ever scans orders for it. The pure parts (`opening_minutes`,
`measured_minutes`) are tested without a database.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from orders.models import Order
from retail.clock import as_aware_utc, utcnow
from stores import service as stores_service
from stores.hours import MAX_INTERVAL_SPAN, StoreSchedule
from stores.hours import engine as hours_engine
from stores.models import Store

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


def refresh(session: Session, *, now: datetime | None = None) -> dict[str, int | None]:
    """Measure every store's pick time from its orders placed in the last `WINDOW` that were ready (read
    through the index on `created_at`), and write the figures that changed; answers them by store code."""
    now = now or utcnow()
    rows = session.exec(
        select(Order.store_id, Order.reserved_at, Order.ready_at).where(
            col(Order.created_at) >= now - WINDOW,
            col(Order.reserved_at).is_not(None),
            col(Order.ready_at).is_not(None),
        )
    ).all()
    spans: dict[int, list[tuple[datetime, datetime]]] = defaultdict(list)
    for store_id, reserved_at, ready_at in rows:
        assert reserved_at is not None
        assert ready_at is not None
        spans[store_id].append((as_aware_utc(reserved_at), as_aware_utc(ready_at)))
    changed: dict[str, int | None] = {}
    for store in session.exec(select(Store).where(Store.kind == "store").order_by(col(Store.id))).all():
        assert store.id is not None
        schedule = stores_service.schedule_of(store)
        figure = measured_minutes([opening_minutes(schedule, a, b) for a, b in spans.get(store.id, [])])
        if figure != store.measured_pick_minutes:
            changed[store.code] = figure
    stores_service.set_measured_pick_minutes(session, figures=changed)
    return changed

"""What each store's own recent orders say about it, measured by beat for the shoppers' answers, from one
read of the last 28 days' orders over their own columns (orders.lifecycle.stamp), never a scan per request:

- the share of its picked orders that it picked short (the stock confidence's rule, inventory/confidence.py):
  orders reserved in the window that the store picked (ready, or rejected for want of every unit);
- its measured pick time (orders/measured.py): the 80th percentile of reserved -> ready, in opening minutes,
  of its orders placed in the window that were ready, when it has at least `measured.MIN_ORDERS` of them.

Both are written through `stores.service.record_store_figures`, which touches the network's revision once:
every process's shopper-facing snapshot judges and promises with the new figures."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import or_, select
from sqlmodel import Session, col

from orders import measured
from orders.models import Order
from retail.clock import as_aware_utc
from stores import service as stores_service

WINDOW = measured.WINDOW


@dataclass(frozen=True)
class StoreFigures:
    """One store's measured figures (None: not enough orders to say)."""

    short_pick_share: float | None
    measured_pick_minutes: int | None


@dataclass
class _Seen:
    picked: int = 0
    short: int = 0
    pick_spans: list[tuple[datetime, datetime]] = field(default_factory=list)


def measure(session: Session, *, now: datetime) -> dict[int, StoreFigures]:
    """Every store's figures as of `now`, by store id."""
    return _measure(session, now=now, stores=stores_service.measured_stores(session))


def refresh(session: Session, *, now: datetime) -> dict[str, StoreFigures]:
    """Measure every store again and write the figures that changed; answers them by store code."""
    stores = stores_service.measured_stores(session)
    figures = _measure(session, now=now, stores=stores)
    changed = {
        store.id: figures[store.id]
        for store in stores
        if StoreFigures(store.short_pick_share, store.measured_pick_minutes) != figures[store.id]
    }
    stores_service.record_store_figures(
        session, figures={id_: (f.short_pick_share, f.measured_pick_minutes) for id_, f in changed.items()}
    )
    return {store.code: changed[store.id] for store in stores if store.id in changed}


def _measure(
    session: Session, *, now: datetime, stores: list[stores_service.MeasuredStore]
) -> dict[int, StoreFigures]:
    since = now - WINDOW
    rows = session.execute(
        select(
            col(Order.store_id),
            col(Order.created_at),
            col(Order.reserved_at),
            col(Order.ready_at),
            col(Order.short_picked),
        ).where(
            or_(col(Order.ready_at).is_not(None), col(Order.short_picked).is_(True)),
            or_(col(Order.reserved_at) >= since, col(Order.created_at) >= since),
        )
    ).all()
    seen: dict[int, _Seen] = defaultdict(_Seen)
    for store_id, created_at, reserved_at, ready_at, short_picked in rows:
        if reserved_at is None:
            continue
        reserved, orders = as_aware_utc(reserved_at), seen[store_id]
        if since <= reserved < now:
            orders.picked += 1
            orders.short += bool(short_picked)
        if ready_at is not None and as_aware_utc(created_at) >= since:
            orders.pick_spans.append((reserved, as_aware_utc(ready_at)))
    figures = {}
    for store in stores:
        found = seen.get(store.id, _Seen())
        minutes = [measured.opening_minutes(store.schedule, a, b) for a, b in found.pick_spans]
        figures[store.id] = StoreFigures(
            short_pick_share=found.short / found.picked if found.picked else None,
            measured_pick_minutes=measured.measured_minutes(minutes),
        )
    return figures

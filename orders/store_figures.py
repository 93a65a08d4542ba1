"""What each store's own recent orders say about it, measured by beat for the shoppers' answers: the share
of its picked orders of the last 28 days that it picked short (the stock confidence's rule,
inventory/confidence.py). One grouped read over the orders' own columns (orders.lifecycle.stamp), not a scan
per request."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Integer, case, func, or_, select
from sqlmodel import Session, col

from orders.models import Order
from stores import service as stores_service

WINDOW = timedelta(days=28)


def short_pick_shares(session: Session, *, now: datetime) -> dict[int, float | None]:
    """Per store id, the short-picked share of the orders reserved in the 28 days before `now` that the
    store picked (ready, or rejected for want of every unit); None for a store with no picked order."""
    picked = or_(col(Order.ready_at).is_not(None), col(Order.short_picked).is_(True))
    rows = session.execute(
        select(
            col(Order.store_id),
            func.count(),
            func.sum(case((col(Order.short_picked).is_(True), 1), else_=0).cast(Integer)),
        )
        .where(col(Order.reserved_at) >= now - WINDOW, col(Order.reserved_at) < now, picked)
        .group_by(col(Order.store_id))
    ).all()
    measured = {int(store): int(short or 0) / int(count) for store, count, short in rows}
    stores = session.execute(select(stores_service.store_keys().subquery().c.id)).scalars()
    return {int(store): measured.get(int(store)) for store in stores}


def refresh(session: Session, *, now: datetime) -> int:
    """Measure every store again and store what changed; answers how many stores changed."""
    return stores_service.record_short_pick_shares(session, shares=short_pick_shares(session, now=now))

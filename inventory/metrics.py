"""What the inventory exposes to `/metrics` (rendered by `retail.metrics`): how far behind the sync is."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from sqlalchemy import select, text
from sqlmodel import Session

from inventory import feed_log
from retail import metrics
from retail.clock import as_aware_utc, utcnow


def sync_lag(session: Session) -> Mapping[tuple[str, ...], float]:
    """Seconds since the newest stock change the availability feed holds (any source: snapshot, movement,
    order), and since the newest movement the webshop sent. A metric is absent while there is none."""
    now = utcnow()
    ages: dict[tuple[str, ...], float] = {}
    # Both read one end of an index: the feed's log backwards from its newest writer (a log row whose rows
    # a later writer took over, or that a stale count logged, is passed over), and the movements' key.
    change, stock = feed_log.LOG.alias("c"), feed_log.STOCK.alias("s")
    newest_change = session.execute(
        select(stock.c.changed_at)
        .select_from(change)
        .join(stock, feed_log.logged_rows(change, stock))
        .order_by(change.c.xid.desc())
        .limit(1)
    ).scalar()
    if newest_change is not None:
        ages[("availability_feed",)] = _age(newest_change, now)
    newest_movement = session.execute(
        text("SELECT recorded_at FROM stock_movement WHERE source = 'sync' ORDER BY id DESC LIMIT 1")
    ).scalar()
    if newest_movement is not None:
        ages[("webshop_movement",)] = _age(newest_movement, now)
    return ages


def _age(value: datetime | str, now: datetime) -> float:
    return max(0.0, (now - as_aware_utc(value)).total_seconds())


def probes() -> list[metrics.Probe]:
    return [
        metrics.Probe(
            f"{metrics.PREFIX}_sync_lag_seconds",
            "Age of the newest stock change in the availability feed (source=availability_feed) and of "
            "the newest stock movement the webshop sent (source=webshop_movement)",
            ("source",),
            sync_lag,
        )
    ]

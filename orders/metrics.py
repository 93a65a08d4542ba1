"""What the order flow exposes to `/metrics` (rendered by `retail.metrics`), and what its tasks count."""

from __future__ import annotations

import time
from collections.abc import Mapping

from sqlalchemy import text
from sqlmodel import Session

from orders.models import OrderStatus
from orders.store_walk import STORES_WITH_ORDERS
from retail import dialect, metrics

# The states an order waits in. Final states are left out: counting them would read every order ever
# placed at each scrape; how many orders end in each state is in the logs and the order history.
OPEN = (OrderStatus.pending, OrderStatus.reserved, OrderStatus.ready_for_pickup)


def open_orders_by_status(session: Session) -> Mapping[tuple[str, ...], float]:
    """How many orders are in each open state now, every open state listed (0 included)."""
    params = {f"s{i}": status.value for i, status in enumerate(OPEN)}
    wanted = ", ".join(f":s{i}" for i in range(len(OPEN)))
    # PostgreSQL counts per store (an index range over the open orders of each; see `orders.store_walk`)
    # rather than scan every order ever placed.
    query = dialect.pick(
        session,
        postgresql=f"""{STORES_WITH_ORDERS}
                       SELECT c.status, sum(c.n) FROM walk CROSS JOIN LATERAL (
                           SELECT o.status, count(*) AS n FROM "order" o
                           WHERE o.store_id = walk.store_id AND o.status IN ({wanted}) GROUP BY o.status) AS c
                       GROUP BY c.status""",
        sqlite=f'SELECT status, count(*) FROM "order" WHERE status IN ({wanted}) GROUP BY status',
    )
    counts = {str(status): float(n) for status, n in session.execute(text(query), params).all()}
    return {(status.value,): counts.get(status.value, 0.0) for status in OPEN}


def probes() -> list[metrics.Probe]:
    return [
        metrics.Probe(
            f"{metrics.PREFIX}_orders",
            "Orders waiting in each open state (pending, reserved, ready_for_pickup)",
            ("status",),
            open_orders_by_status,
        )
    ]


def record_reconciliation(drifted: int, *, repaired: bool) -> None:
    """After a reconciliation of `reserved` (committed, unless it was a dry run): how many rows drifted."""
    metrics.shared.set(metrics.RECONCILIATION_DRIFT, drifted)
    if repaired:
        metrics.shared.inc(metrics.RECONCILIATION_REPAIRED, drifted)
    metrics.shared.set(metrics.RECONCILIATION_LAST_RUN, time.time())

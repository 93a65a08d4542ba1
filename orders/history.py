"""Orders of the past, written in bulk: a demo chain's weeks of history (demo/history.py), so that what
is measured from history (the service report, each store's short-picked share) shows real figures on the
first run. Finished orders only (collected, expired, rejected): none holds stock, none is notified, none
reaches the desk. Each order's id is the caller's, so writing the same history again adds nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlmodel import Session, col

from orders import report
from orders.models import Order, OrderEvent, OrderLine, OrderStatus, ProblemCode

_FINISHED = frozenset({OrderStatus.collected, OrderStatus.expired, OrderStatus.rejected})


@dataclass(frozen=True)
class PastLine:
    product_id: int
    sku: str
    name: str
    quantity: int
    unit_price: Decimal
    picked: int  # what the store found on the shelf (below `quantity`: a short pick)


@dataclass(frozen=True)
class PastOrder:
    order_id: str
    store_id: int
    store_snapshot: dict[str, Any]
    customer_name: str
    customer_email: str
    locale: str
    lines: Sequence[PastLine]
    # Its history, in order: (status, at) from `pending` to where it ended.
    events: Sequence[tuple[OrderStatus, datetime]]
    ready_by: datetime


def import_history(session: Session, *, orders: Sequence[PastOrder]) -> int:
    """Write these finished orders with their lines and history, and stamp what the report reads of them;
    orders whose id is there already are left alone. Answers how many were written."""
    ids = [order.order_id for order in orders]
    known = set(session.execute(select(col(Order.order_id)).where(col(Order.order_id).in_(ids))).scalars())
    fresh = [order for order in orders if order.order_id not in known]
    rows = []
    for past in fresh:
        status, ended = past.events[-1]
        if status not in _FINISHED:
            raise ValueError(f"{past.order_id}: history ends {status}, not a finished order")
        total = sum((line.unit_price * line.picked for line in past.lines), Decimal("0"))
        shortages = [
            {"sku": line.sku, "requested": line.quantity, "picked": line.picked, "alternatives": []}
            for line in past.lines
            if line.picked < line.quantity
        ]
        # A rejected past order found nothing on the shelf, as a short pick of every line rejects one.
        problem = (
            {
                "code": ProblemCode.short_pick.value,
                "lines": [
                    {"sku": line.sku, "requested": line.quantity, "available": 0} for line in past.lines
                ],
                "alternatives": [],
            }
            if status == OrderStatus.rejected
            else None
        )
        rows.append(
            Order(
                order_id=past.order_id,
                store_id=past.store_id,
                store_snapshot=past.store_snapshot,
                status=status,
                customer_name=past.customer_name,
                customer_email=past.customer_email,
                locale=past.locale,
                total=total,
                shortages=(shortages or None) if status != OrderStatus.rejected else None,
                problem=problem,
                ready_by=past.ready_by,
                created_at=past.events[0][1],
                updated_at=ended,
            )
        )
    session.add_all(rows)
    session.flush()
    for order, past in zip(rows, fresh, strict=True):
        assert order.id is not None
        collected = order.status == OrderStatus.collected
        session.add_all(
            OrderLine(
                order_pk=order.id,
                product_id=line.product_id,
                sku=line.sku,
                name=line.name,
                quantity=line.quantity,
                unit_price=line.unit_price,
                picked=line.picked if order.status != OrderStatus.rejected else 0,
                collected=line.picked if collected else None,
            )
            for line in past.lines
        )
        session.add_all(OrderEvent(order_pk=order.id, status=status, at=at) for status, at in past.events)
    session.flush()
    report.stamp_from_history(session, order_pks=[order.id for order in rows if order.id is not None])
    return len(rows)

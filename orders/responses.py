"""The answers about an order, built from the values the order modules return (no reads here): the order
object both surfaces show (the shopper's, with its pickup code), the staff's pick-list entry, and the
hand-over the counter checks."""

from __future__ import annotations

from typing import Any

from inventory.schemas import Money
from orders.lifecycle import OrderRecord
from orders.models import Order, OrderLine
from orders.schemas import (
    HandOver,
    HandOverLine,
    HistoryEntry,
    OrderLineOut,
    OrderOut,
    Pickup,
    StaffOrder,
    StoreRef,
)


def order_out(record: OrderRecord) -> OrderOut:
    return OrderOut(**_order_fields(record))


def staff_order(record: OrderRecord) -> StaffOrder:
    return StaffOrder(**_order_fields(record), customer_name=record.order.customer_name)


def _order_fields(record: OrderRecord) -> dict[str, Any]:
    order = record.order
    base = f"/mobile/v1/orders/{order.order_id}"
    return {
        "order_id": order.order_id,
        "status": order.status,
        "store": StoreRef(code=order.store_snapshot["code"], name=order.store_snapshot["name"]),
        "lines": [
            OrderLineOut(
                sku=line.sku, name=line.name, quantity=line.quantity, unit_price=Money.of(line.unit_price)
            )
            for line in record.lines
        ],
        "total": Money.of(order.total),
        "created_at": order.created_at,
        "history": [HistoryEntry(status=event.status, at=event.at) for event in record.history],
        "pickup": None
        if record.pickup is None
        else Pickup(
            code=record.pickup.short_code,
            qr_png_url=f"{base}/pickup-code.png",
            qr_svg_url=f"{base}/pickup-code.svg",
            ready_by=order.ready_by,
            expires_at=order.expires_at,
        ),
        "problem": order.problem,
    }


def hand_over(order: Order, lines: list[OrderLine]) -> HandOver:
    return HandOver(
        order_id=order.order_id,
        status=order.status,
        store_code=order.store_snapshot["code"],
        customer_name=order.customer_name,
        lines=[HandOverLine(sku=line.sku, name=line.name, quantity=line.quantity) for line in lines],
    )

"""The order object both surfaces answer: the shopper's (with pickup code) and the store's pick list."""

from __future__ import annotations

from sqlmodel import Session

from inventory.schemas import Money
from orders import service as orders_service
from orders.models import HOLDING, Order
from orders.schemas import HistoryEntry, OrderLineOut, OrderOut, Pickup, StoreRef


def order_out(session: Session, order: Order) -> OrderOut:
    lines = orders_service.order_lines(session, order=order)
    base = f"/mobile/v1/orders/{order.order_id}"
    pickup = None
    issued = orders_service.pickup_of(order)
    if order.status in HOLDING and issued is not None:
        pickup = Pickup(
            code=issued.short_code,
            qr_png_url=f"{base}/pickup-code.png",
            qr_svg_url=f"{base}/pickup-code.svg",
            ready_by=order.ready_by,
            expires_at=order.expires_at,
        )
    return OrderOut(
        order_id=order.order_id,
        status=order.status,
        store=StoreRef(code=order.store_snapshot["code"], name=order.store_snapshot["name"]),
        lines=[
            OrderLineOut(
                sku=line.sku, name=line.name, quantity=line.quantity, unit_price=Money.of(line.unit_price)
            )
            for line in lines
        ],
        total=Money.of(order.total),
        created_at=order.created_at,
        history=[
            HistoryEntry(status=e.status, at=e.at) for e in orders_service.history(session, order=order)
        ],
        pickup=pickup,
        problem=order.problem,
    )

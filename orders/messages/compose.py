"""What a message says: its context read from the order and the store (and the QR image of a ready order),
at the moment it is sent, so a resend shows the order as it is then."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlmodel import Session, select

from inventory import service as inventory_service
from orders import lifecycle, pickup
from orders.messages import rules
from orders.messages.models import MessageType, ShopperMessage
from orders.messages.render import Alternative, Context, Line, Shortage
from orders.models import Order, OrderStatus
from retail.clock import as_aware_utc
from retail.mail import InlineImage
from stores import service as stores_service
from stores.exceptions import StoreNotFound
from stores.hours import engine as hours_engine

if TYPE_CHECKING:
    from stores.models import Store

QR_CID_PREFIX = "pickup-qr"
# The ready message shows the store's hours until the hold ends, or for this long at most.
HOURS_SHOWN = timedelta(days=14)
# The reminder waits only while the order waits at the counter.
_STILL_DUE: dict[MessageType, tuple[OrderStatus, ...]] = {
    MessageType.reminder: (OrderStatus.ready_for_pickup,),
}


@dataclass(frozen=True)
class Composed:
    context: Context
    images: tuple[InlineImage, ...] = ()


def compose(session: Session, message: ShopperMessage, *, now: datetime) -> Composed | None:
    """The message's context; None when it has nothing left to say (a reminder of an order collected,
    cancelled or expired meanwhile, or of an order that is gone)."""
    if message.type == MessageType.back_in_stock:
        return _back_in_stock(session, message)
    order = session.exec(select(Order).where(Order.order_id == message.order_id)).first()
    if order is None:
        return None
    if message.type in _STILL_DUE and OrderStatus(order.status) not in _STILL_DUE[message.type]:
        return None
    store = stores_service.get_store(session, code=order.store_snapshot["code"])
    lines = lifecycle.order_lines(session, order=order)
    names = {line.sku: line.name for line in lines}
    values: dict[str, Any] = {
        "type": MessageType(message.type),
        "locale": message.locale,
        "timezone": store.timezone,
        "customer_name": order.customer_name,
        "order_id": order.order_id,
        "store_name": store.name,
        "store_address": _address(store),
        "ready_by": _aware(rules.new_ready_by(message.payload) or order.ready_by),
        "expires_at": _aware(order.expires_at),
        "lines": [Line(name=line.name, sku=line.sku, quantity=line.quantity) for line in lines],
    }
    images: tuple[InlineImage, ...] = ()
    if message.type in (MessageType.ready, MessageType.partially_ready, MessageType.reminder):
        issued = lifecycle.pickup_of(order)
        if issued is not None:
            values["short_code"] = issued.short_code
        if message.type != MessageType.reminder and issued is not None:
            cid = f"{QR_CID_PREFIX}.{message.event_id}@winkelpunt"
            values["qr_cid"] = cid
            images = (InlineImage(cid=cid, data=pickup.qr_png(issued.token)),)
        if message.type != MessageType.reminder and order.expires_at is not None:
            until = min(as_aware_utc(order.expires_at), now + HOURS_SHOWN)
            values["hours"] = hours_engine.open_intervals(stores_service.schedule_of(store), now, until)
    if message.type == MessageType.partially_ready:
        values["shortages"] = [
            Shortage(
                name=names.get(short["sku"], short["sku"]),
                requested=short["requested"],
                picked=short["picked"],
                alternatives=_alternatives(short.get("alternatives", [])),
            )
            for short in order.shortages or message.payload.get("shortages", [])
        ]
    if message.type == MessageType.rejected:
        values["alternatives"] = _alternatives((order.problem or {}).get("alternatives", []))
    if message.type == MessageType.collected:
        taken = [line for line in lines if (line.collected or 0) > 0]
        values["lines"] = [
            Line(line.name, line.sku, line.collected or 0, line.unit_price * (line.collected or 0))
            for line in taken
        ]
        values["total"] = sum((line.amount or Decimal(0) for line in values["lines"]), start=Decimal("0.00"))
    if message.type == MessageType.returned:
        values["lines"] = [
            Line(name=names.get(line["sku"], line["sku"]), sku=line["sku"], quantity=line["quantity"])
            for line in message.payload.get("lines", [])
        ]
        values["restocked"] = message.payload.get("restock")
    return Composed(Context(**values), images)


def _back_in_stock(session: Session, message: ShopperMessage) -> Composed:
    payload = message.payload
    try:
        store: Store | None = stores_service.get_store(session, code=payload["store_code"])
    except StoreNotFound:
        store = None  # gone since the alert fired: the message still names the product and the code
    return Composed(
        Context(
            type=MessageType.back_in_stock,
            locale=message.locale,
            timezone="UTC" if store is None else store.timezone,
            store_name=payload["store_code"] if store is None else store.name,
            store_address="" if store is None else _address(store),
            product_name=payload.get("product_name") or payload["sku"],
            alert_id=payload.get("alert_id"),
            alert_token=inventory_service.alert_token(payload["alert_id"]),
        )
    )


def _address(store: Store) -> str:
    return ", ".join(part for part in (store.street, f"{store.postcode} {store.city}".strip()) if part)


def _alternatives(found: list[dict[str, Any]]) -> list[Alternative]:
    return [Alternative(name=a["name"], code=a["code"], distance_km=float(a["distance_km"])) for a in found]


def _aware(value: datetime | None) -> datetime | None:
    return None if value is None else as_aware_utc(value)

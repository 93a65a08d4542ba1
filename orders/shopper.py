"""What the shopper's order token opens: the token itself (an HMAC of the order id, never stored), reading
the order, cancelling it, and the pickup token its QR code shows."""

from __future__ import annotations

import hashlib
import hmac

from sqlmodel import Session, select

from orders import lifecycle
from orders.exceptions import NoPickupCode, OrderNotFound
from orders.models import HOLDING, Order
from retail.settings import get_settings

ORDER_ID_MAX = 64


def order_token(order_id: str) -> str:
    """The shopper's token for an order: an HMAC of its id, so it needs no storage and cannot be forged."""
    mac = hmac.new(get_settings().secret.encode(), f"order-token|{order_id}".encode(), hashlib.sha256)
    return "otk_" + mac.hexdigest()[:40]


def get_order(session: Session, *, order_id: str, token: str | None) -> Order:
    """The order, for the holder of its token; anyone else gets the same 404 as for no order at all."""
    # Bytes: compare_digest refuses str with non-ASCII characters (a 500), and a header may carry any.
    expected = order_token(order_id).encode()
    if not token or len(order_id) > ORDER_ID_MAX or not hmac.compare_digest(token.encode(), expected):
        raise OrderNotFound()
    order = session.exec(select(Order).where(Order.order_id == order_id)).first()
    if order is None:
        raise OrderNotFound()
    return order


def cancel_order(session: Session, *, order_id: str, token: str | None) -> Order:
    """Cancel before collection; stock held for the order goes back on the shelf."""
    return lifecycle.cancel(session, order=get_order(session, order_id=order_id, token=token))


def pickup_token(session: Session, *, order_id: str, token: str | None) -> str:
    """The content of the order's QR code, while it waits for pickup (else 409 `no_pickup_code`)."""
    order = get_order(session, order_id=order_id, token=token)
    issued = lifecycle.pickup_of(order)
    if order.status not in HOLDING or issued is None:
        raise NoPickupCode()
    return issued.token

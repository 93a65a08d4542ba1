"""Helpers of the tests of returns at the counter: a collected order at the `open_stores`' S1, a return
sent for it, and what the database holds of stock and returns."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi.testclient import TestClient
from httpx import Response
from sqlmodel import Session, col, select

from inventory.models import Product, StockMovement
from orders.models import Order, OrderEvent, OrderStatus, Return, ReturnLine
from retail.clock import as_aware_utc
from tests.factories import BASKET, order_body, post_order, stock_of


def collected_order(client: TestClient, staff: dict[str, str], key: str = "key-1") -> dict[str, Any]:
    """`BASKET` (2 KOFFIE, 1 THEE) ordered at S1, picked and handed over; the order as the shopper sees
    it, with the token's header under `headers`."""
    accepted = post_order(client, order_body("S1", BASKET), key=key).json()
    headers = {"Authorization": f"Bearer {accepted['order_token']}"}
    order = client.get(accepted["status_url"], headers=headers).json()
    assert order["status"] == "reserved"
    assert client.post(f"/staff/v1/orders/{order['order_id']}/ready", headers=staff).status_code == 200
    code = {"code": order["pickup"]["code"]}
    assert client.post("/staff/v1/pickups/confirm", json=code, headers=staff).json()["status"] == "collected"
    return {**order, "headers": headers}


def post_return(
    client: TestClient,
    headers: dict[str, str],
    order_id: str,
    lines: dict[str, int],
    *,
    restock: bool = True,
    key: str | None = "return-1",
    **extra: Any,
) -> Response:
    body = {"lines": [{"sku": sku, "quantity": n} for sku, n in lines.items()], "restock": restock, **extra}
    sent = {**headers, **({"Idempotency-Key": key} if key is not None else {})}
    response: Response = client.post(f"/staff/v1/orders/{order_id}/returns", json=body, headers=sent)
    return response


def stock_at_s1(session: Session, sku: str) -> tuple[int, int]:
    row = stock_of(session, "S1", sku)
    return row.on_hand, row.reserved


def product_id_of(session: Session, sku: str) -> int:
    product_id = session.exec(select(Product.id).where(Product.sku == sku)).one()
    assert product_id is not None
    return product_id


def return_movements(session: Session) -> list[tuple[str, int, int, str]]:
    rows = session.exec(
        select(StockMovement).where(StockMovement.source == "return").order_by(col(StockMovement.id))
    ).all()
    return [(m.movement_id, m.product_id, m.delta, m.source) for m in rows]


def returns_written(session: Session) -> tuple[int, int]:
    session.expire_all()
    return len(session.exec(select(Return)).all()), len(session.exec(select(ReturnLine)).all())


def collected_at(session: Session, order_id: str) -> datetime:
    """When the order was handed over, as its history has it."""
    order = session.exec(select(Order).where(Order.order_id == order_id)).one()
    at = session.exec(
        select(OrderEvent.at).where(
            OrderEvent.order_pk == order.id, OrderEvent.status == OrderStatus.collected
        )
    ).one()
    return as_aware_utc(at)

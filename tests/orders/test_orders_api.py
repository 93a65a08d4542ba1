"""Shopper order endpoints: placing with idempotency, status, reservation outcome, cancelling.

The reservation itself is a Celery task; here it is run in-process right after the request's commit (as
the embedded default does), and tests/orders/test_reservation_worker.py runs it on a real worker.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from inventory import service as inventory_service
from inventory.models import Stock
from orders import service as orders_service
from orders import tasks as orders_tasks
from orders.models import Order
from stores import service as stores_service
from tests.conftest import store_row

pytestmark = pytest.mark.parametrize("engine", ["postgresql", "sqlite"], indirect=True)

WEEK = {
    "weekly": {
        day: [{"opens": "00:00", "closes": "24:00"}]
        for day in ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
    },
    "special": [],
}


@pytest.fixture
def shop(session: Session, monkeypatch: pytest.MonkeyPatch) -> None:
    stores = [
        store_row("S1", hours=WEEK, closed_on_public_holidays=False),
        store_row("S2", hours=WEEK, closed_on_public_holidays=False, location={"lat": 52.1, "lon": 5.13}),
        store_row("NO-CNC", click_and_collect=False),
    ]
    assert stores_service.upsert_stores(session, rows=stores).errors == []
    products = [
        {
            "sku": "KOFFIE",
            "name": "Koffiebonen 1 kg",
            "online_price": {"amount": "12.99"},
            "store_price": {"amount": "13.49"},
        },
        {"sku": "THEE", "name": "Groene thee", "online_price": {"amount": "3.49"}},
    ]
    assert inventory_service.upsert_products(session, rows=products).errors == []
    counts = [("S1", "KOFFIE", 3), ("S1", "THEE", 10), ("S2", "KOFFIE", 8), ("S2", "THEE", 8)]
    rows = [
        {"store_code": s, "sku": k, "on_hand": n, "as_of": "2026-11-23T06:00:00+01:00"} for s, k, n in counts
    ]
    assert inventory_service.apply_snapshots(session, rows=list(enumerate(rows))).errors == []
    session.commit()

    def reserve_now(order_pk: int) -> None:
        # What the worker does, in a transaction of its own on this test's connection.
        with Session(bind=session.bind, join_transaction_mode="create_savepoint") as worker:
            orders_service.reserve_order(worker, order_pk=order_pk)
            worker.commit()

    monkeypatch.setattr(orders_tasks, "send_reservation", reserve_now)


def _order(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "store_code": "S1",
        "lines": [{"sku": "KOFFIE", "quantity": 2}, {"sku": "THEE", "quantity": 1}],
        "customer": {"name": "Sanne de Vries", "email": "sanne@example.nl", "phone": "+31 6 1234 5678"},
    }
    body.update(overrides)
    return body


def _place(client: TestClient, body: dict[str, Any], key: str = "key-1") -> Any:
    return client.post("/mobile/v1/orders", json=body, headers={"Idempotency-Key": key})


def _reserved(session: Session, store: str, sku: str) -> int:
    session.expire_all()
    from inventory.models import Product
    from stores.models import Store

    return session.exec(
        select(Stock.reserved)
        .join(Store, Store.id == Stock.store_id)  # type: ignore[arg-type]
        .join(Product, Product.id == Stock.product_id)  # type: ignore[arg-type]
        .where(Store.code == store, Product.sku == sku)
    ).one()


def test_an_order_is_accepted_reserved_and_followed(client: TestClient, session: Session, shop: None) -> None:
    accepted = _place(client, _order())
    assert accepted.status_code == 202
    body = accepted.json()
    assert body["status"] == "pending"
    assert body["status_url"] == f"/mobile/v1/orders/{body['order_id']}"
    assert body["order_id"].startswith("ord_")
    token = {"Authorization": f"Bearer {body['order_token']}"}

    order = client.get(body["status_url"], headers=token).json()
    assert order["status"] == "reserved"
    assert order["store"] == {"code": "S1", "name": "Winkelpunt S1"}
    assert order["lines"] == [
        {
            "sku": "KOFFIE",
            "name": "Koffiebonen 1 kg",
            "quantity": 2,
            "unit_price": {"amount": "13.49", "currency": "EUR"},
        },
        {
            "sku": "THEE",
            "name": "Groene thee",
            "quantity": 1,
            "unit_price": {"amount": "3.49", "currency": "EUR"},
        },
    ]
    assert order["total"] == {"amount": "30.47", "currency": "EUR"}
    assert [h["status"] for h in order["history"]] == ["pending", "reserved"]
    assert order["pickup"]["qr_png_url"] == f"{body['status_url']}/pickup-code.png"
    assert order["pickup"]["ready_by"] is not None  # a 24/7 store: an hour of opening time from now
    assert order["problem"] is None
    assert _reserved(session, "S1", "KOFFIE") == 2
    assert _reserved(session, "S1", "THEE") == 1


def test_the_same_key_and_body_answer_the_same_order(
    client: TestClient, session: Session, shop: None
) -> None:
    first = _place(client, _order()).json()
    again = _place(client, _order()).json()
    assert again["order_id"] == first["order_id"]
    assert again["order_token"] == first["order_token"]
    assert len(session.exec(select(Order)).all()) == 1
    assert _reserved(session, "S1", "KOFFIE") == 2

    other = _place(client, _order(lines=[{"sku": "THEE", "quantity": 1}]))
    assert other.status_code == 422
    assert other.json()["code"] == "idempotency_key_reused"
    missing = client.post("/mobile/v1/orders", json=_order())
    assert missing.status_code == 400
    assert missing.json()["code"] == "idempotency_key_missing"
    assert len(session.exec(select(Order)).all()) == 1


def test_not_enough_stock_rejects_the_whole_basket_with_alternatives(
    client: TestClient, session: Session, shop: None
) -> None:
    body = _place(
        client, _order(lines=[{"sku": "KOFFIE", "quantity": 5}, {"sku": "THEE", "quantity": 1}])
    ).json()
    order = client.get(body["status_url"], headers={"Authorization": f"Bearer {body['order_token']}"}).json()
    assert order["status"] == "rejected"
    assert order["pickup"] is None
    assert order["problem"]["code"] == "out_of_stock"
    assert order["problem"]["lines"] == [{"sku": "KOFFIE", "requested": 5, "available": 3}]
    assert [a["code"] for a in order["problem"]["alternatives"]] == ["S2"]
    assert order["problem"]["alternatives"][0]["ready_by"] is not None
    # all or nothing: the line that would have fitted is not held either
    assert _reserved(session, "S1", "THEE") == 0


def test_cancel_releases_the_stock_once(client: TestClient, session: Session, shop: None) -> None:
    body = _place(client, _order()).json()
    token = {"Authorization": f"Bearer {body['order_token']}"}
    cancelled = client.post(f"{body['status_url']}/cancel", headers=token)
    assert cancelled.status_code == 200
    assert cancelled.json()["status"] == "cancelled"
    assert [h["status"] for h in cancelled.json()["history"]] == ["pending", "reserved", "cancelled"]
    assert _reserved(session, "S1", "KOFFIE") == 0
    again = client.post(f"{body['status_url']}/cancel", headers=token)
    assert again.status_code == 409
    assert again.json()["code"] == "invalid_transition"
    assert _reserved(session, "S1", "KOFFIE") == 0


def test_a_wrong_or_missing_token_is_a_404(client: TestClient, shop: None) -> None:
    body = _place(client, _order()).json()
    other = _place(client, _order(), key="key-2").json()
    for headers in (
        {},
        {"Authorization": f"Bearer {other['order_token']}"},
        {"Authorization": "Bearer otk_x"},
    ):
        for response in (
            client.get(body["status_url"], headers=headers),
            client.post(f"{body['status_url']}/cancel", headers=headers),
        ):
            assert response.status_code == 404
            assert response.json()["code"] == "order_not_found"
    unknown = client.get(
        "/mobile/v1/orders/ord_doesnotexist", headers={"Authorization": f"Bearer {body['order_token']}"}
    )
    assert unknown.status_code == 404
    by_query = client.get(body["status_url"], params={"order_token": body["order_token"]})
    assert by_query.status_code == 200


@pytest.mark.parametrize(
    ("body", "status", "code", "field"),
    [
        (_order(store_code="NOPE"), 422, "unknown_store", "body.store_code"),
        (_order(store_code="NO-CNC"), 422, "no_click_and_collect", "body.store_code"),
        (_order(lines=[{"sku": "NOPE", "quantity": 1}]), 422, "unknown_sku", "body.lines.0.sku"),
        (_order(lines=[]), 422, "validation_error", "body.lines"),
        (_order(lines=[{"sku": "THEE", "quantity": 100}]), 422, "validation_error", "body.lines.0.quantity"),
        (_order(lines=[{"sku": "THEE", "quantity": 0}]), 422, "validation_error", "body.lines.0.quantity"),
        (_order(lines=[{"sku": "THEE", "quantity": 1}] * 2), 422, "validation_error", "body.lines"),
        (
            _order(lines=[{"sku": f"S{i}", "quantity": 1} for i in range(51)]),
            422,
            "validation_error",
            "body.lines",
        ),
        (_order(customer={"name": "", "email": "a@b.nl"}), 422, "validation_error", "body.customer.name"),
        (
            _order(customer={"name": "A", "email": "not-an-email"}),
            422,
            "validation_error",
            "body.customer.email",
        ),
        (
            _order(customer={"name": "A", "email": "a@b.nl", "phone": "call me"}),
            422,
            "validation_error",
            "body.customer.phone",
        ),
    ],
)
def test_bad_orders_are_refused_naming_the_field(
    client: TestClient, session: Session, shop: None, body: dict[str, Any], status: int, code: str, field: str
) -> None:
    response = _place(client, body)
    assert response.status_code == status
    assert response.json()["code"] == code
    assert field in [e["field"] for e in response.json()["errors"]]
    assert session.exec(select(Order)).all() == []


KeyFactory = Callable[..., dict[str, str]]

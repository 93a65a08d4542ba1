"""Shopper order endpoints: placing with idempotency, status, reservation outcome, cancelling.

The reservation itself is a Celery task; here it is run in-process right after the request's commit (as
the embedded default does), and tests/orders/test_reservation_worker.py runs it on a real worker.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from inventory import service as inventory_service
from orders.models import Order
from tests.factories import BASKET, order_body, post_order, stock_of

pytestmark = pytest.mark.parametrize("engine", ["postgresql", "sqlite"], indirect=True)


def test_an_order_is_accepted_reserved_and_followed(
    client: TestClient, session: Session, open_stores: None
) -> None:
    accepted = post_order(client, order_body("S1", BASKET))
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
            "picked": None,
            "collected": None,
            "source": "S1",
        },
        {
            "sku": "THEE",
            "name": "Groene thee",
            "quantity": 1,
            "unit_price": {"amount": "3.49", "currency": "EUR"},
            "picked": None,
            "collected": None,
            "source": "S1",
        },
    ]
    assert order["total"] == {"amount": "30.47", "currency": "EUR"}
    assert [h["status"] for h in order["history"]] == ["pending", "reserved"]
    assert order["pickup"]["qr_png_url"] == f"{body['status_url']}/pickup-code.png"
    assert order["pickup"]["ready_by"] is not None  # a 24/7 store: an hour of opening time from now
    assert order["problem"] is None
    # Every instant is RFC 3339 with its offset, on SQLite too (which hands back naive UTC).
    instants = [order["created_at"], order["pickup"]["ready_by"], order["pickup"]["expires_at"]]
    instants += [h["at"] for h in order["history"]]
    for instant in filter(None, instants):
        assert datetime.fromisoformat(instant).utcoffset() == timedelta(0), instant
    assert datetime.fromisoformat(order["created_at"]) == datetime.fromisoformat(body["created_at"])
    assert stock_of(session, "S1", "KOFFIE").reserved == 2
    assert stock_of(session, "S1", "THEE").reserved == 1


def test_an_order_is_priced_at_its_store(client: TestClient, session: Session, open_stores: None) -> None:
    # S1 sells coffee at a price of its own; S2 charges the product's store price, 13.49.
    prices = [{"store_code": "S1", "sku": "KOFFIE", "price": {"amount": "11.99", "currency": "EUR"}}]
    assert inventory_service.upsert_store_prices(session, rows=prices).errors == []
    for store, unit, total in (("S1", "11.99", "27.47"), ("S2", "13.49", "30.47")):
        accepted = post_order(client, order_body(store, BASKET), key=f"priced-{store}")
        assert accepted.status_code == 202, accepted.text
        order = client.get(
            accepted.json()["status_url"], params={"order_token": accepted.json()["order_token"]}
        ).json()
        assert order["lines"][0]["sku"] == "KOFFIE"
        assert order["lines"][0]["unit_price"] == {"amount": unit, "currency": "EUR"}
        assert order["total"] == {"amount": total, "currency": "EUR"}


def test_the_same_key_and_body_answer_the_sameorder_body(
    client: TestClient, session: Session, open_stores: None
) -> None:
    first = post_order(client, order_body("S1", BASKET)).json()
    again = post_order(client, order_body("S1", BASKET)).json()
    assert again["order_id"] == first["order_id"]
    assert again["order_token"] == first["order_token"]
    assert len(session.exec(select(Order)).all()) == 1
    assert stock_of(session, "S1", "KOFFIE").reserved == 2

    other = post_order(client, order_body("S1", {"THEE": 1}))
    assert other.status_code == 422
    assert other.json()["code"] == "idempotency_key_reused"
    missing = client.post("/mobile/v1/orders", json=order_body("S1", BASKET))
    assert missing.status_code == 400
    assert missing.json()["code"] == "idempotency_key_missing"
    assert len(session.exec(select(Order)).all()) == 1


def test_not_enough_stock_rejects_the_whole_basket_with_alternatives(
    client: TestClient, session: Session, open_stores: None
) -> None:
    body = post_order(client, order_body("S1", {"KOFFIE": 5, "THEE": 1})).json()
    order = client.get(body["status_url"], headers={"Authorization": f"Bearer {body['order_token']}"}).json()
    assert order["status"] == "rejected"
    assert order["pickup"] is None
    assert order["problem"]["code"] == "out_of_stock"
    assert order["problem"]["lines"] == [{"sku": "KOFFIE", "requested": 5, "available": 3}]
    assert [a["code"] for a in order["problem"]["alternatives"]] == ["S2"]
    assert order["problem"]["alternatives"][0]["ready_by"] is not None
    # all or nothing: the line that would have fitted is not held either
    assert stock_of(session, "S1", "THEE").reserved == 0


def test_cancel_releases_the_stock_once(client: TestClient, session: Session, open_stores: None) -> None:
    body = post_order(client, order_body("S1", BASKET)).json()
    token = {"Authorization": f"Bearer {body['order_token']}"}
    cancelled = client.post(f"{body['status_url']}/cancel", headers=token)
    assert cancelled.status_code == 200
    assert cancelled.json()["status"] == "cancelled"
    assert [h["status"] for h in cancelled.json()["history"]] == ["pending", "reserved", "cancelled"]
    assert stock_of(session, "S1", "KOFFIE").reserved == 0
    again = client.post(f"{body['status_url']}/cancel", headers=token)
    assert again.status_code == 409
    assert again.json()["code"] == "invalid_transition"
    assert stock_of(session, "S1", "KOFFIE").reserved == 0


def test_a_wrong_or_missing_token_is_a_404(client: TestClient, open_stores: None) -> None:
    body = post_order(client, order_body("S1", BASKET)).json()
    other = post_order(client, order_body("S1", BASKET), key="key-2").json()
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
        (order_body("NOPE", BASKET), 422, "unknown_store", "body.store_code"),
        (order_body("NO-CNC", BASKET), 422, "no_click_and_collect", "body.store_code"),
        (order_body("S1", {"NOPE": 1}), 422, "unknown_sku", "body.lines.0.sku"),
        (order_body("S1", {}), 422, "validation_error", "body.lines"),
        (order_body("S1", {"THEE": 100}), 422, "validation_error", "body.lines.0.quantity"),
        (order_body("S1", {"THEE": 0}), 422, "validation_error", "body.lines.0.quantity"),
        (
            {**order_body("S1", {}), "lines": [{"sku": "THEE", "quantity": 1}] * 2},
            422,
            "validation_error",
            "body.lines",
        ),
        (order_body("S1", {f"S{i}": 1 for i in range(51)}), 422, "validation_error", "body.lines"),
        (
            order_body("S1", BASKET, customer={"name": "", "email": "a@b.nl"}),
            422,
            "validation_error",
            "body.customer.name",
        ),
        (
            order_body("S1", BASKET, customer={"name": "A", "email": "not-an-email"}),
            422,
            "validation_error",
            "body.customer.email",
        ),
        (
            order_body("S1", BASKET, customer={"name": "A", "email": "a@b.nl", "phone": "call me"}),
            422,
            "validation_error",
            "body.customer.phone",
        ),
    ],
)
def test_bad_orders_are_refused_naming_the_field(
    client: TestClient,
    session: Session,
    open_stores: None,
    body: dict[str, Any],
    status: int,
    code: str,
    field: str,
) -> None:
    response = post_order(client, body)
    assert response.status_code == status
    assert response.json()["code"] == code
    assert field in [e["field"] for e in response.json()["errors"]]
    assert session.exec(select(Order)).all() == []


KeyFactory = Callable[..., dict[str, str]]

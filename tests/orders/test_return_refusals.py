"""Every refusal of a return at the counter, as the contract gives it, with nothing written: lines beyond what
was collected or not in the order, an order not collected, the window closed (at its exact end, and with
no `return_days`), another store's key, an unknown order, and bodies that are not a return."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from orders import returns
from orders.returns import window_closes_at
from tests.factories import BASKET, make_store, order_body, post_order
from tests.orders.returning import (
    collected_at,
    collected_order,
    post_return,
    return_movements,
    returns_written,
    stock_at_s1,
)

KeyFactory = Callable[..., dict[str, str]]
BOTH_DATABASES = pytest.mark.parametrize("engine", ["postgresql", "sqlite"], indirect=True)


@pytest.fixture
def staff(make_key: KeyFactory, open_stores: None) -> dict[str, str]:
    return make_key("staff", store_code="S1", label="S1 desk")


@BOTH_DATABASES
def test_more_than_collected_and_skus_not_in_the_order_are_refused_by_line(
    client: TestClient, session: Session, staff: dict[str, str]
) -> None:
    order = collected_order(client, staff)
    refused = post_return(client, staff, order["order_id"], {"THEE": 1, "KAAS": 1, "KOFFIE": 3})
    assert refused.status_code == 422
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["code"] == "not_in_order"
    assert refused.json()["errors"] == [
        {"field": "body.lines.1.sku", "message": "'KAAS' is not in this order"},
        {
            "field": "body.lines.2.quantity",
            "message": "2 of 'KOFFIE' can be returned: 2 collected, 0 returned before",
        },
    ]
    too_many = post_return(client, staff, order["order_id"], {"KOFFIE": 3}, key="return-2")
    assert (too_many.json()["code"], too_many.json()["errors"][0]["field"]) == (
        "more_than_collected",
        "body.lines.0.quantity",
    )
    assert (stock_at_s1(session, "KOFFIE"), stock_at_s1(session, "THEE")) == ((1, 0), (9, 0))
    assert returns_written(session) == (0, 0)


@BOTH_DATABASES
def test_returns_with_different_keys_never_add_up_to_more_than_collected(
    client: TestClient, session: Session, staff: dict[str, str]
) -> None:
    order = collected_order(client, staff)
    assert post_return(client, staff, order["order_id"], {"KOFFIE": 1}, key="a").status_code == 200
    second = post_return(client, staff, order["order_id"], {"KOFFIE": 2}, key="b")
    assert second.status_code == 422
    assert second.json()["errors"] == [
        {
            "field": "body.lines.0.quantity",
            "message": "1 of 'KOFFIE' can be returned: 2 collected, 1 returned before",
        }
    ]
    third = post_return(client, staff, order["order_id"], {"KOFFIE": 1}, restock=False, key="c")
    assert [r["restock"] for r in third.json()["returns"]] == [True, False]
    assert stock_at_s1(session, "KOFFIE") == (2, 0)
    assert len(return_movements(session)) == 1


@BOTH_DATABASES
def test_an_order_not_collected_cannot_be_returned(
    client: TestClient, session: Session, staff: dict[str, str]
) -> None:
    accepted = post_order(client, order_body("S1", BASKET)).json()
    refused = post_return(client, staff, accepted["order_id"], {"KOFFIE": 1})
    assert refused.status_code == 409
    assert (refused.json()["code"], refused.json()["order_status"]) == ("invalid_transition", "reserved")
    assert stock_at_s1(session, "KOFFIE") == (3, 2)
    assert returns_written(session) == (0, 0)


@BOTH_DATABASES
def test_the_window_closes_at_the_end_of_the_last_day(
    client: TestClient, session: Session, staff: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    order = collected_order(client, staff)
    handed_over = collected_at(session, order["order_id"])
    closes = window_closes_at(handed_over, return_days=30, timezone="Europe/Amsterdam")
    assert timedelta(days=30) < closes - handed_over <= timedelta(days=31)

    monkeypatch.setattr(returns, "_clock", lambda: closes)
    closed = post_return(client, staff, order["order_id"], {"KOFFIE": 1})
    assert closed.status_code == 409
    problem = closed.json()
    assert problem["code"] == "return_window_closed"
    assert (problem["return_days"], datetime.fromisoformat(problem["closed_at"])) == (30, closes)
    assert datetime.fromisoformat(problem["collected_at"]) == handed_over
    assert stock_at_s1(session, "KOFFIE") == (1, 0)
    assert returns_written(session) == (0, 0)

    # A moment earlier it is still open (and the same key, refused before, now takes the return).
    monkeypatch.setattr(returns, "_clock", lambda: closes - timedelta(microseconds=1))
    taken = post_return(client, staff, order["order_id"], {"KOFFIE": 1})
    assert taken.status_code == 200, taken.text
    assert datetime.fromisoformat(taken.json()["returns"][0]["at"]) == closes - timedelta(microseconds=1)
    assert stock_at_s1(session, "KOFFIE") == (2, 0)


@BOTH_DATABASES
def test_a_store_with_no_return_days_takes_nothing_back(
    client: TestClient, session: Session, staff: dict[str, str]
) -> None:
    order = collected_order(client, staff)
    make_store(session, "S1", always_open=True, return_days=0)
    session.commit()
    refused = post_return(client, staff, order["order_id"], {"KOFFIE": 1})
    assert refused.status_code == 409
    assert refused.json()["code"] == "return_window_closed"
    assert refused.json()["return_days"] == 0
    assert refused.json()["closed_at"] == refused.json()["collected_at"]
    assert refused.json()["detail"] == "this store takes no returns"


@BOTH_DATABASES
def test_another_stores_key_and_an_unknown_order_are_refused(
    client: TestClient, session: Session, staff: dict[str, str], make_key: KeyFactory
) -> None:
    order = collected_order(client, staff)
    other = post_return(client, make_key("staff", store_code="S2"), order["order_id"], {"KOFFIE": 1})
    assert other.status_code == 403
    assert (other.json()["code"], other.json()["store_code"]) == ("wrong_store", "S1")
    unknown = post_return(client, staff, "ord_does_not_exist", {"KOFFIE": 1})
    assert (unknown.status_code, unknown.json()["code"]) == (404, "order_not_found")
    shopper = post_return(client, order["headers"], order["order_id"], {"KOFFIE": 1})
    assert shopper.status_code == 401
    webshop = post_return(client, make_key("webshop"), order["order_id"], {"KOFFIE": 1})
    assert webshop.status_code == 403
    assert returns_written(session) == (0, 0)
    # An admin key may take the return at any store.
    admin = post_return(client, make_key("admin", label="head office"), order["order_id"], {"KOFFIE": 1})
    assert admin.status_code == 200
    assert admin.json()["returns"][0]["by"] == "head office"


@BOTH_DATABASES
@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"lines": [], "restock": True}, "body.lines"),
        ({"lines": [{"sku": "KOFFIE", "quantity": 1}] * 51, "restock": True}, "body.lines"),
        ({"lines": [{"sku": "KOFFIE", "quantity": 0}], "restock": True}, "body.lines.0.quantity"),
        ({"lines": [{"sku": "KOFFIE", "quantity": "1"}], "restock": True}, "body.lines.0.quantity"),
        ({"lines": [{"sku": "KOFFIE", "quantity": 1, "price": 1}], "restock": True}, "body.lines.0.price"),
        ({"lines": [{"sku": "KOFFIE", "quantity": 1}], "restock": "yes"}, "body.restock"),
        ({"lines": [{"sku": "KOFFIE", "quantity": 1}]}, "body.restock"),
        ({"lines": [{"sku": "KOFFIE", "quantity": 1}], "restock": True, "refund": 1}, "body.refund"),
        ({"lines": [{"sku": "KOFFIE", "quantity": 1}], "restock": True, "reason": "x" * 201}, "body.reason"),
        ({"lines": [{"sku": "KOFFIE", "quantity": 1}], "restock": True, "reason": "a\x00b"}, "body.reason"),
        (
            {"lines": [{"sku": "KOFFIE", "quantity": 1}, {"sku": "KOFFIE", "quantity": 1}], "restock": True},
            "body.lines",
        ),
    ],
)
def test_malformed_bodies_are_422_naming_the_field(
    client: TestClient, session: Session, staff: dict[str, str], body: dict[str, Any], field: str
) -> None:
    order = collected_order(client, staff)
    refused = client.post(
        f"/staff/v1/orders/{order['order_id']}/returns", json=body, headers={**staff, "Idempotency-Key": "k"}
    )
    assert refused.status_code == 422
    assert refused.json()["code"] == "validation_error"
    assert field in [e["field"] for e in refused.json()["errors"]]
    assert returns_written(session) == (0, 0)

"""A transfer order's whole way over HTTP (API.md, "Every store a distribution point"), on PostgreSQL and
SQLite: S1 lacks the MOLEN a shopper orders with `allow_transfer`, S2 holds it and ships to S1 by a lane;
the order is reserved across both stores, shipped, received, made ready and handed over, with the stock
of both stores exact at every step; and its refusals (receive before ship, the wrong store, a second
ship). The `open_stores` shop: S1 and S2 open around the clock."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from tests.factories import count_stock, lane_row, make_product, order_body, post_order, stock_of

KeyFactory = Callable[..., dict[str, str]]
BOTH_DATABASES = pytest.mark.parametrize("engine", ["postgresql", "sqlite"], indirect=True)


def _stock(session: Session, store: str, sku: str) -> tuple[int, int]:
    row = stock_of(session, store, sku)
    return (0, 0) if row is None else (int(row.on_hand), int(row.reserved))


@pytest.fixture
def lane(session: Session, open_stores: None, client: TestClient, make_key: KeyFactory) -> None:
    make_product(session, "MOLEN", price="39.00", name="Koffiemolen")
    count_stock(session, "S2", {"MOLEN": 4}, as_of="2026-11-24T06:00:00+01:00")
    session.commit()
    lanes = {"lanes": [lane_row("S2", "S1")]}
    answer = client.put("/admin/v1/transfer-lanes", json=lanes, headers=make_key("admin"))
    assert answer.status_code == 200, answer.text
    assert answer.json()["errors"] == []


def _order(client: TestClient, key: str = "key-1", **overrides: Any) -> dict[str, Any]:
    accepted = post_order(client, order_body("S1", {"MOLEN": 1, "THEE": 1}, **overrides), key=key).json()
    headers = {"Authorization": f"Bearer {accepted['order_token']}"}
    order: dict[str, Any] = client.get(accepted["status_url"], headers=headers).json()
    return {**order, "headers": headers, "status_url": accepted["status_url"]}


@BOTH_DATABASES
@pytest.mark.usefixtures("lane")
def test_a_basket_the_pickup_store_lacks_travels_there_and_is_handed_over(
    client: TestClient, session: Session, make_key: KeyFactory
) -> None:
    s1, s2 = make_key("staff", "S1"), make_key("staff", "S2")
    order = _order(client, allow_transfer=True)
    assert order["status"] == "reserved", order
    assert {line["sku"]: line["source"] for line in order["lines"]} == {"MOLEN": "S2", "THEE": "S1"}
    (transfer,) = order["transfers"]
    assert (transfer["from_store"], transfer["status"]) == ("S2", "planned")
    assert order["pickup"]["ready_by"] >= transfer["eta"]
    assert _stock(session, "S2", "MOLEN") == (4, 1)  # held at the source for S1's order
    assert _stock(session, "S1", "THEE") == (10, 1)
    tid = transfer["transfer_id"]

    refused = client.post(f"/staff/v1/transfers/{tid}/receive", headers=s1)
    assert (refused.status_code, refused.json()["code"]) == (409, "invalid_transition")
    wrong = client.post(f"/staff/v1/transfers/{tid}/ship", headers=s1)
    assert (wrong.status_code, wrong.json()["code"]) == (403, "wrong_store")
    outgoing = client.get(
        "/staff/v1/stores/S2/transfers", params={"direction": "outgoing"}, headers=s2
    ).json()
    assert [(t["transfer_id"], t["order"]["order_id"]) for t in outgoing["items"]] == [
        (tid, order["order_id"])
    ]

    shipped = client.post(f"/staff/v1/transfers/{tid}/ship", headers=s2)
    assert shipped.status_code == 200, shipped.text
    assert shipped.json()["status"] == "shipped"
    again = client.post(f"/staff/v1/transfers/{tid}/ship", headers=s2)
    assert (again.status_code, again.json()["status"]) == (200, "shipped")  # idempotent
    assert _stock(session, "S2", "MOLEN") == (3, 0)  # left the source once
    assert _stock(session, "S1", "MOLEN") == (0, 0)  # not yet at the pickup store
    incoming = client.get(
        "/staff/v1/stores/S1/transfers", params={"direction": "incoming"}, headers=s1
    ).json()
    assert [t["status"] for t in incoming["items"]] == ["shipped"]

    received = client.post(f"/staff/v1/transfers/{tid}/receive", headers=s1)
    assert (received.status_code, received.json()["status"]) == (200, "received")
    assert client.post(f"/staff/v1/transfers/{tid}/receive", headers=s1).status_code == 200
    assert _stock(session, "S1", "MOLEN") == (1, 1)  # arrived, reserved for the order
    assert client.post(f"/staff/v1/orders/{order['order_id']}/ready", headers=s1).status_code == 200
    code = client.get(order["status_url"], headers=order["headers"]).json()["pickup"]["code"]
    confirmed = client.post("/staff/v1/pickups/confirm", json={"code": code}, headers=s1)
    assert confirmed.json()["status"] == "collected"
    assert _stock(session, "S1", "MOLEN") == (0, 0)
    assert _stock(session, "S2", "MOLEN") == (3, 0)
    assert _stock(session, "S1", "THEE") == (9, 0)


@BOTH_DATABASES
@pytest.mark.usefixtures("lane")
def test_without_allow_transfer_the_order_is_rejected_and_a_cancelled_transfer_gives_its_units_back(
    client: TestClient, session: Session
) -> None:
    rejected = _order(client)
    assert rejected["status"] == "rejected"
    assert _stock(session, "S2", "MOLEN") == (4, 0)
    planned = _order(client, "key-2", allow_transfer=True)
    assert _stock(session, "S2", "MOLEN") == (4, 1)
    cancelled = client.post(f"{planned['status_url']}/cancel", headers=planned["headers"])
    assert cancelled.status_code == 200, cancelled.text
    assert _stock(session, "S2", "MOLEN") == (4, 0)
    assert _stock(session, "S1", "THEE") == (10, 0)

"""The shopper's arrival check-in (`POST /mobile/v1/orders/{order_id}/arrival`) and the store's arrivals
list (`GET /staff/v1/stores/{code}/arrivals`): what is recorded and shown on every order answer, every
refusal, the list's order, waiting time and lateness as the clock moves."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from orders import desk_events
from orders.models import Order
from retail import clock
from stores.models import Store
from tests.factories import order_body, place_order, post_order

pytestmark = pytest.mark.parametrize("engine", ["postgresql", "sqlite"], indirect=True)

KeyFactory = Callable[..., dict[str, str]]
T0 = datetime(2026, 12, 3, 15, 0, tzinfo=UTC)


def _at(monkeypatch: pytest.MonkeyPatch, when: datetime) -> None:
    """Move the clock the check-in and the arrivals list read."""
    monkeypatch.setattr(clock, "utcnow", lambda: when)


def _reserved(client: TestClient, key: str, store: str = "S1") -> dict[str, Any]:
    accepted = post_order(client, order_body(store, {"THEE": 1}), key=key).json()
    headers = {"Authorization": f"Bearer {accepted['order_token']}"}
    order = client.get(accepted["status_url"], headers=headers).json()
    assert order["status"] == "reserved"
    return {**order, "headers": headers}


def _check_in(client: TestClient, order: dict[str, Any], body: object) -> Any:
    return client.post(f"/mobile/v1/orders/{order['order_id']}/arrival", json=body, headers=order["headers"])


def _events(session: Session, store: str = "S1") -> list[tuple[int, str, str | None]]:
    store_id = session.exec(select(Store.id).where(Store.code == store)).one()
    assert store_id is not None
    return [
        (e.seq, e.event.type.value, e.event.order_id)
        for e in desk_events.events_after(session, store_id=store_id, after=0, limit=100)
    ]


def test_on_the_way_then_arrived_is_shown_on_every_order_answer(
    client: TestClient,
    session: Session,
    open_stores: None,
    make_key: KeyFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    order = _reserved(client, "k1")
    _at(monkeypatch, T0)
    on_the_way = _check_in(client, order, {"status": "on_the_way", "eta_minutes": 10})
    assert on_the_way.status_code == 200, on_the_way.text
    assert on_the_way.json()["arrival"] == {
        "status": "on_the_way",
        "at": "2026-12-03T15:00:00Z",
        "eta": "2026-12-03T15:10:00Z",
        "where": None,
        "bay": None,
    }
    assert on_the_way.json()["status"] == "reserved"

    _at(monkeypatch, T0 + timedelta(minutes=8))
    arrived = _check_in(client, order, {"status": "arrived", "where": "curbside", "bay": " 4 "})
    assert arrived.status_code == 200, arrived.text
    expected = {
        "status": "arrived",
        "at": "2026-12-03T15:08:00Z",
        "eta": None,
        "where": "curbside",
        "bay": "4",
    }
    assert arrived.json()["arrival"] == expected
    # The shopper's own reads, the pick list and the counter's hand-over all show the latest check-in.
    assert (
        client.get(f"/mobile/v1/orders/{order['order_id']}", headers=order["headers"]).json()["arrival"]
        == expected
    )
    staff = make_key("staff", store_code="S1")
    [listed] = client.get("/staff/v1/stores/S1/orders", headers=staff).json()["items"]
    assert listed["arrival"] == expected
    verify = client.post("/staff/v1/pickups/verify", json={"code": order["pickup"]["code"]}, headers=staff)
    assert verify.status_code == 409  # not ready yet; ready it and look again
    ready = client.post(f"/staff/v1/orders/{order['order_id']}/ready", headers=staff)
    assert ready.json()["arrival"] == expected
    verify = client.post("/staff/v1/pickups/verify", json={"code": order["pickup"]["code"]}, headers=staff)
    assert verify.json()["arrival"] == expected
    # A check-in of an order waiting at the counter is fine too.
    counter = _check_in(client, order, {"status": "arrived", "where": "counter"})
    assert counter.json()["arrival"]["where"] == "counter"
    assert counter.json()["arrival"]["bay"] is None
    # Stored as the answer says, and each check-in told the desk once, after the reservation.
    stored = session.exec(select(Order).where(Order.order_id == order["order_id"])).one()
    session.refresh(stored)
    assert (stored.arrival_status, stored.arrival_where, stored.arrival_bay) == ("arrived", "counter", None)
    assert _events(session) == [
        (1, "order.reserved", order["order_id"]),
        (2, "order.arrival", order["order_id"]),
        (3, "order.arrival", order["order_id"]),
        (4, "order.arrival", order["order_id"]),
    ]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"status": "on_the_way"}, "body.eta_minutes"),
        ({"status": "on_the_way", "eta_minutes": None}, "body.eta_minutes"),
        ({"status": "arrived", "eta_minutes": 5}, "body.eta_minutes"),
        ({"status": "on_the_way", "eta_minutes": -1}, "body.eta_minutes"),
        ({"status": "on_the_way", "eta_minutes": 721}, "body.eta_minutes"),
        ({"status": "on_the_way", "eta_minutes": "10"}, "body.eta_minutes"),
        ({"status": "on_the_way", "eta_minutes": 2.5}, "body.eta_minutes"),
        ({"status": "on_the_way", "eta_minutes": True}, "body.eta_minutes"),
        ({"eta_minutes": 10}, "body.status"),
        ({"status": "here"}, "body.status"),
        ({"status": "arrived", "where": "parking"}, "body.where"),
        ({"status": "arrived", "where": "counter", "bay": "4"}, "body.bay"),
        ({"status": "arrived", "bay": "4"}, "body.bay"),
        ({"status": "arrived", "where": "curbside", "bay": "<b>4</b>"}, "body.bay"),
        ({"status": "arrived", "where": "curbside", "bay": "4\u0007"}, "body.bay"),
        ({"status": "arrived", "where": "curbside", "bay": "  "}, "body.bay"),
        ({"status": "arrived", "where": "curbside", "bay": "B" * 21}, "body.bay"),
        ({"status": "arrived", "where": "curbside", "bay": 4}, "body.bay"),
        ({"status": "arrived", "eta": 5}, "body.eta"),
    ],
)
def test_a_bad_check_in_is_a_422_naming_the_field_and_changes_nothing(
    client: TestClient, session: Session, open_stores: None, body: dict[str, Any], field: str
) -> None:
    order = _reserved(client, "k1")
    refused = _check_in(client, order, body)
    assert refused.status_code == 422, refused.text
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["code"] == "validation_error"
    assert [e["field"] for e in refused.json()["errors"]] == [field]
    assert (
        client.get(f"/mobile/v1/orders/{order['order_id']}", headers=order["headers"]).json()["arrival"]
        is None
    )
    assert [kind for _, kind, _ in _events(session)] == ["order.reserved"]


def test_only_an_order_that_holds_stock_takes_a_check_in(
    client: TestClient, session: Session, open_stores: None
) -> None:
    cancelled = _reserved(client, "k1")
    assert (
        client.post(f"/mobile/v1/orders/{cancelled['order_id']}/cancel", headers=cancelled["headers"]).json()[
            "status"
        ]
        == "cancelled"
    )
    refused = _check_in(client, cancelled, {"status": "arrived"})
    assert refused.status_code == 409
    assert refused.json()["code"] == "invalid_transition"
    assert refused.json()["order_status"] == "cancelled"

    pending = place_order(session, "S1", {"THEE": 1}, key="k2")  # its reservation never ran
    session.commit()
    from orders import service as orders_service

    token = {"Authorization": f"Bearer {orders_service.order_token(pending.order_id)}"}
    refused = client.post(
        f"/mobile/v1/orders/{pending.order_id}/arrival", json={"status": "arrived"}, headers=token
    )
    assert refused.status_code == 409
    assert refused.json()["order_status"] == "pending"
    session.refresh(pending)
    assert pending.arrival_status is None
    assert [kind for _, kind, _ in _events(session)] == ["order.reserved", "order.cancelled"]


def test_a_wrong_or_missing_token_is_a_404_like_no_order(client: TestClient, open_stores: None) -> None:
    order = _reserved(client, "k1")
    other = _reserved(client, "k2")
    body = {"status": "arrived"}
    path = f"/mobile/v1/orders/{order['order_id']}/arrival"
    for headers in ({}, other["headers"], {"Authorization": order["headers"]["Authorization"] + "x"}):
        refused = client.post(path, json=body, headers=headers)
        assert refused.status_code == 404
        assert refused.json()["code"] == "order_not_found"
    unknown = client.post("/mobile/v1/orders/ord_nothing/arrival", json=body, headers=order["headers"])
    assert unknown.status_code == 404
    # The token may come as a query parameter, as on the other order endpoints.
    token = order["headers"]["Authorization"].removeprefix("Bearer ")
    assert client.post(f"{path}?order_token={token}", json=body).status_code == 200


def test_check_ins_of_one_order_are_limited(
    client: TestClient, open_stores: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    from orders import arrivals
    from retail import ratelimit

    frozen = time.time()  # one window for the whole test
    monkeypatch.setattr(ratelimit, "_clock", lambda: frozen)
    order = _reserved(client, "k1")
    answers = [
        _check_in(client, order, {"status": "on_the_way", "eta_minutes": 5}).status_code
        for _ in range(arrivals.CHECK_INS_PER_WINDOW + 1)
    ]
    assert answers == [200] * arrivals.CHECK_INS_PER_WINDOW + [429]
    # Another order's shopper has a budget of its own.
    assert _check_in(client, _reserved(client, "k2"), {"status": "arrived"}).status_code == 200


# ------------------------------------------------------------------------------------- the arrivals list


def _arrivals(client: TestClient, headers: dict[str, str], store: str = "S1") -> Any:
    response = client.get(f"/staff/v1/stores/{store}/arrivals", headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def test_the_arrivals_list_puts_the_arrived_first_then_the_coming_by_eta(
    client: TestClient,
    session: Session,
    open_stores: None,
    make_key: KeyFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    staff = make_key("staff", store_code="S1")
    late, early, far, near, silent, gone = (_reserved(client, f"k{n}") for n in range(6))
    elsewhere = _reserved(client, "k-s2", store="S2")
    _at(monkeypatch, T0)
    _check_in(client, early, {"status": "arrived", "where": "counter"})
    _check_in(client, far, {"status": "on_the_way", "eta_minutes": 30})
    _check_in(client, gone, {"status": "arrived"})
    _check_in(client, elsewhere, {"status": "arrived"})
    _at(monkeypatch, T0 + timedelta(minutes=2))
    _check_in(client, late, {"status": "on_the_way", "eta_minutes": 1})
    _check_in(client, late, {"status": "arrived", "where": "curbside", "bay": "2"})
    _check_in(client, near, {"status": "on_the_way", "eta_minutes": 3})  # eta T0+5, before far's T0+30
    client.post(f"/mobile/v1/orders/{gone['order_id']}/cancel", headers=gone["headers"])
    assert silent["arrival"] is None

    _at(monkeypatch, T0 + timedelta(minutes=7))
    page = _arrivals(client, staff)
    assert page["next_cursor"] is None
    assert [
        (item["order_id"], item["arrival"]["status"], item["waiting_minutes"], item["handover_overdue"])
        for item in page["items"]
    ] == [
        (early["order_id"], "arrived", 7, True),  # 7 minutes, more than the store's 5
        (late["order_id"], "arrived", 5, False),  # exactly 5: not longer ago than 5
        (near["order_id"], "on_the_way", None, False),
        (far["order_id"], "on_the_way", None, False),
    ]
    # Each item is the pick list's staff order, plus the two.
    pick_list = {
        o["order_id"]: o for o in client.get("/staff/v1/stores/S1/orders", headers=staff).json()["items"]
    }
    first = page["items"][0]
    assert {k: v for k, v in first.items() if k not in ("waiting_minutes", "handover_overdue")} == pick_list[
        early["order_id"]
    ]
    assert first["customer_name"] == "Sanne de Vries"

    # A moment later the second one is overdue too; a store that allows no wait calls both at once.
    _at(monkeypatch, T0 + timedelta(minutes=7, seconds=1))
    assert [item["handover_overdue"] for item in _arrivals(client, staff)["items"]] == [
        True,
        True,
        False,
        False,
    ]
    store = session.exec(select(Store).where(Store.code == "S1")).one()
    store.handover_minutes = 30
    session.add(store)
    session.commit()
    assert [item["handover_overdue"] for item in _arrivals(client, staff)["items"]] == [False] * 4


def test_collected_orders_leave_the_list_and_another_store_sees_only_its_own(
    client: TestClient, open_stores: None, make_key: KeyFactory
) -> None:
    staff = make_key("staff", store_code="S1")
    order = _reserved(client, "k1")
    _check_in(client, order, {"status": "arrived"})
    assert [i["order_id"] for i in _arrivals(client, staff)["items"]] == [order["order_id"]]
    assert _arrivals(client, make_key("staff", store_code="S2"), store="S2")["items"] == []
    assert [i["order_id"] for i in _arrivals(client, make_key("admin"))["items"]] == [order["order_id"]]
    client.post(f"/staff/v1/orders/{order['order_id']}/ready", headers=staff)
    confirmed = client.post(
        "/staff/v1/pickups/confirm", json={"code": order["pickup"]["code"]}, headers=staff
    )
    assert confirmed.json()["status"] == "collected"
    assert confirmed.json()["arrival"]["status"] == "arrived"  # the record keeps what was said
    assert _arrivals(client, staff)["items"] == []


def test_the_arrivals_list_is_the_stores_own(
    client: TestClient, open_stores: None, make_key: KeyFactory
) -> None:
    other = client.get("/staff/v1/stores/S1/arrivals", headers=make_key("staff", store_code="S2"))
    assert other.status_code == 403
    assert other.json()["code"] == "wrong_store"
    unknown = client.get("/staff/v1/stores/NOPE/arrivals", headers=make_key("admin"))
    assert unknown.status_code == 404
    assert client.get("/staff/v1/stores/S1/arrivals").status_code == 401

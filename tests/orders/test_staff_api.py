"""Store staff: pick list, ready, verify and confirm by QR token or short code, and every refusal."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import png  # type: ignore[import-untyped]
import pytest
import zxingcpp
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from inventory.models import StockMovement
from orders import service as orders_service
from orders.models import Order, OrderEvent, OrderStatus
from tests.factories import BASKET, count_stock, order_body, post_order, stock_of

pytestmark = pytest.mark.parametrize("engine", ["postgresql", "sqlite"], indirect=True)

KeyFactory = Callable[..., dict[str, str]]


def _stock(session: Session, store: str, sku: str) -> tuple[int, int]:
    row = stock_of(session, store, sku)
    return row.on_hand, row.reserved


def decode_qr(data: bytes) -> list[str]:
    """What a scanner reads from a PNG: zxing-cpp, the decoder the pickup desk's scanning relies on too."""
    width, height, rows, _ = png.Reader(bytes=data).read()
    pixels = np.array([list(row) for row in rows], dtype=np.uint8) * 255
    assert pixels.shape == (height, width)
    return [r.text for r in zxingcpp.read_barcodes(pixels)]


def _reserved_order(
    client: TestClient, key: str = "key-1", lines: Mapping[str, int] = BASKET
) -> dict[str, Any]:
    accepted = post_order(client, order_body("S1", lines), key=key).json()
    headers = {"Authorization": f"Bearer {accepted['order_token']}"}
    order = client.get(accepted["status_url"], headers=headers).json()
    assert order["status"] == "reserved"
    return {**order, "headers": headers}


def _token(client: TestClient, session: Session, order_id: str) -> str:
    order = session.exec(select(Order).where(Order.order_id == order_id)).one()
    issued = orders_service.pickup_of(order)
    assert issued is not None
    return issued.token


def test_the_whole_hand_over(
    client: TestClient, session: Session, open_stores: None, make_key: KeyFactory
) -> None:
    staff = make_key("staff", store_code="S1", label="S1 desk")
    order = _reserved_order(client)
    short_code = order["pickup"]["code"]
    assert len(short_code.replace("-", "")) >= 6

    png = client.get(order["pickup"]["qr_png_url"], headers=order["headers"])
    assert png.status_code == 200
    assert png.headers["content-type"] == "image/png"
    [token] = decode_qr(png.content)
    assert token == _token(client, session, order["order_id"])
    svg = client.get(order["pickup"]["qr_svg_url"], headers=order["headers"])
    assert svg.headers["content-type"] == "image/svg+xml"
    assert b"<svg" in svg.content

    pick_list = client.get("/staff/v1/stores/S1/orders", headers=staff).json()
    assert [(o["order_id"], o["customer_name"], o["status"]) for o in pick_list["items"]] == [
        (order["order_id"], "Sanne de Vries", "reserved")
    ]
    not_ready = client.post("/staff/v1/pickups/verify", json={"code": short_code}, headers=staff)
    assert not_ready.status_code == 409
    assert not_ready.json()["code"] == "not_ready"

    ready = client.post(f"/staff/v1/orders/{order['order_id']}/ready", headers=staff)
    assert ready.status_code == 200
    assert ready.json()["status"] == "ready_for_pickup"
    assert ready.json()["pickup"]["expires_at"] is not None

    for code in (short_code, short_code.lower().replace("-", " "), token):
        verified = client.post("/staff/v1/pickups/verify", json={"code": code}, headers=staff)
        assert verified.status_code == 200, verified.text
        answer = verified.json()
        assert [(e["status"], e["by"]) for e in answer.pop("history")] == [
            ("pending", None),
            ("reserved", None),
            ("ready_for_pickup", "S1 desk"),
        ]
        assert answer == {
            "order_id": order["order_id"],
            "status": "ready_for_pickup",
            "store_code": "S1",
            "customer_name": "Sanne de Vries",
            "lines": [
                {"sku": "KOFFIE", "name": "Koffiebonen 1 kg", "quantity": 2, "picked": 2, "collected": None},
                {"sku": "THEE", "name": "Groene thee", "quantity": 1, "picked": 1, "collected": None},
            ],
            "pickup_person": None,
            "locale": "nl",
            "shortages": [],
            "arrival": None,
            "returns": [],
        }
    assert _stock(session, "S1", "KOFFIE") == (3, 2)  # verify changes nothing

    confirmed = client.post("/staff/v1/pickups/confirm", json={"code": token}, headers=staff)
    assert confirmed.status_code == 200
    assert confirmed.json()["status"] == "collected"
    assert _stock(session, "S1", "KOFFIE") == (1, 0)
    assert _stock(session, "S1", "THEE") == (9, 0)

    twice = client.post("/staff/v1/pickups/confirm", json={"code": short_code}, headers=staff)
    assert twice.status_code == 409
    assert twice.json()["code"] == "already_collected"
    assert twice.json()["collected_at"]
    assert _stock(session, "S1", "KOFFIE") == (1, 0)

    db_order = session.exec(select(Order).where(Order.order_id == order["order_id"])).one()
    events = session.exec(select(OrderEvent).where(OrderEvent.order_pk == db_order.id)).all()
    actors = {OrderStatus(e.status): e.actor_key_id for e in events}
    assert actors[OrderStatus.pending] is None
    assert actors[OrderStatus.ready_for_pickup] is not None
    assert actors[OrderStatus.collected] == actors[OrderStatus.ready_for_pickup]
    assert client.get(order["pickup"]["qr_png_url"], headers=order["headers"]).status_code == 409


def test_a_count_taken_before_the_hand_over_does_not_bring_the_units_back(
    client: TestClient, session: Session, open_stores: None, make_key: KeyFactory
) -> None:
    staff = make_key("staff", store_code="S1")
    order = _reserved_order(client)
    client.post(f"/staff/v1/orders/{order['order_id']}/ready", headers=staff)
    client.post("/staff/v1/pickups/confirm", json={"code": order["pickup"]["code"]}, headers=staff)
    # The store counted 3 this morning, before the collection; the count reaches us only now.
    result = count_stock(session, "S1", {"KOFFIE": 3}, as_of="2026-11-23T07:00:00+01:00")
    assert result.applied == 1
    assert _stock(session, "S1", "KOFFIE") == (1, 0)
    movement = session.exec(select(StockMovement).where(StockMovement.source == "collection")).first()
    assert movement is not None
    assert movement.delta == -2


def test_refusals(client: TestClient, session: Session, open_stores: None, make_key: KeyFactory) -> None:
    staff = make_key("staff", store_code="S1")
    other_store = make_key("staff", store_code="S2")
    order = _reserved_order(client)
    token = _token(client, session, order["order_id"])
    client.post(f"/staff/v1/orders/{order['order_id']}/ready", headers=staff)

    def verify(code: str, headers: dict[str, str]) -> Any:
        return client.post("/staff/v1/pickups/verify", json={"code": code}, headers=headers)

    forged = token[:-1] + ("A" if token[-1] != "A" else "B")
    for bad in (forged, "not a code", "ZZZZ-ZZZZ", "x" * 200):
        response = verify(bad, staff)
        assert response.status_code == 422, bad
        assert response.json()["code"] == "invalid_code"
    wrong = verify(token, other_store)
    assert wrong.status_code == 403
    assert wrong.json()["code"] == "wrong_store"
    # A short code typed at another store's counter is simply unknown there.
    assert verify(order["pickup"]["code"], other_store).json()["code"] == "invalid_code"
    assert (
        client.post("/staff/v1/pickups/confirm", json={"code": token}, headers=other_store).status_code == 403
    )

    cancelled = _reserved_order(client, key="key-2", lines={"THEE": 2})
    cancelled_code = cancelled["pickup"]["code"]
    client.post(f"/mobile/v1/orders/{cancelled['order_id']}/cancel", headers=cancelled["headers"])
    response = verify(cancelled_code, staff)
    assert response.status_code == 409
    assert response.json()["code"] == "cancelled"

    expiring = _reserved_order(client, key="key-3", lines={"THEE": 1})
    row = session.exec(select(Order).where(Order.order_id == expiring["order_id"])).one()
    row.status = OrderStatus.expired
    session.add(row)
    session.commit()
    response = verify(expiring["pickup"]["code"], staff)
    assert response.status_code == 410
    assert response.json()["code"] == "expired"
    assert _stock(session, "S1", "KOFFIE") == (3, 2)  # nothing was handed over


def test_ready_and_pick_list_rules(
    client: TestClient, session: Session, open_stores: None, make_key: KeyFactory
) -> None:
    staff = make_key("staff", store_code="S1")
    order = _reserved_order(client)
    ready_url = f"/staff/v1/orders/{order['order_id']}/ready"
    assert client.post(ready_url).status_code == 401
    assert client.post(ready_url, headers=make_key("webshop")).status_code == 403
    wrong = client.post(ready_url, headers=make_key("staff", store_code="S2"))
    assert wrong.status_code == 403
    assert client.post("/staff/v1/orders/ord_nope/ready", headers=staff).status_code == 404
    assert client.post(ready_url, headers=make_key("admin")).status_code == 200
    again = client.post(ready_url, headers=staff)
    assert again.status_code == 409
    assert again.json()["code"] == "invalid_transition"

    assert client.get("/staff/v1/stores/S2/orders", headers=staff).status_code == 403
    ready = client.get(
        "/staff/v1/stores/S1/orders", params={"status": "ready_for_pickup"}, headers=staff
    ).json()
    assert [o["order_id"] for o in ready["items"]] == [order["order_id"]]
    assert client.get("/staff/v1/stores/S1/orders", params={"status": "reserved"}, headers=staff).json() == {
        "items": [],
        "next_cursor": None,
    }
    admin_short = client.post(
        "/staff/v1/pickups/verify", json={"code": order["pickup"]["code"]}, headers=make_key("admin")
    )
    assert admin_short.status_code == 422
    assert admin_short.json()["errors"][0]["field"] == "body.store_code"


def test_the_pick_list_without_status_holds_the_open_orders_as_documented(
    client: TestClient, open_stores: None, make_key: KeyFactory
) -> None:
    staff = make_key("staff", store_code="S1")
    tea = {"THEE": 1}
    picked = _reserved_order(client, key="k-picked", lines=tea)
    to_pick = _reserved_order(client, key="k-to-pick", lines=tea)
    cancelled = _reserved_order(client, key="k-cancelled", lines=tea)
    assert client.post(f"/staff/v1/orders/{picked['order_id']}/ready", headers=staff).status_code == 200
    cancel_url = f"/mobile/v1/orders/{cancelled['order_id']}/cancel"
    assert client.post(cancel_url, headers=cancelled["headers"]).status_code == 200

    listed = client.get("/staff/v1/stores/S1/orders", headers=staff).json()
    assert [(o["order_id"], o["status"]) for o in listed["items"]] == [
        (picked["order_id"], "ready_for_pickup"),
        (to_pick["order_id"], "reserved"),
    ]
    # A generated client shows the default it will get when it sends none.
    operation = client.get("/openapi.json").json()["paths"]["/staff/v1/stores/{code}/orders"]["get"]
    [status] = [p for p in operation["parameters"] if p["name"] == "status"]
    assert status["schema"]["default"] == ["reserved", "ready_for_pickup"]
    assert status["schema"]["items"] == {"$ref": "#/components/schemas/OrderStatus"}
    assert "reserved and ready_for_pickup" in status["description"]


def test_the_pick_list_pages_through_every_order_once_oldest_first(
    client: TestClient, session: Session, open_stores: None, make_key: KeyFactory
) -> None:
    staff = make_key("staff", store_code="S1")
    placed = [_reserved_order(client, key=f"page-{i}", lines={"THEE": 1})["order_id"] for i in range(5)]
    # Two orders placed in the same microsecond: the id decides, and the cursor must not skip either.
    rows = {o.order_id: o for o in session.exec(select(Order)).all()}
    rows[placed[2]].created_at = rows[placed[1]].created_at
    session.add(rows[placed[2]])
    session.commit()
    for limit in (1, 2, 5):
        seen: list[str] = []
        cursor = None
        for _ in range(10):
            params: dict[str, Any] = {"limit": limit, **({"cursor": cursor} if cursor else {})}
            body = client.get("/staff/v1/stores/S1/orders", params=params, headers=staff).json()
            seen += [item["order_id"] for item in body["items"]]
            cursor = body["next_cursor"]
            if cursor is None:
                break
        assert seen == placed, limit


def test_the_pick_list_puts_late_orders_first_then_oldest_first_on_every_page(
    client: TestClient, session: Session, open_stores: None, make_key: KeyFactory
) -> None:
    staff = make_key("staff", store_code="S1")
    placed = [_reserved_order(client, key=f"late-{i}", lines={"THEE": 1})["order_id"] for i in range(5)]
    rows = {o.order_id: o for o in session.exec(select(Order)).all()}
    for order_id in (placed[1], placed[3]):
        rows[order_id].late = True
        session.add(rows[order_id])
    session.commit()
    expected = [placed[1], placed[3], placed[0], placed[2], placed[4]]
    for limit in (1, 2, 5):
        seen: list[str] = []
        cursor = None
        for _ in range(10):
            params: dict[str, Any] = {"limit": limit, **({"cursor": cursor} if cursor else {})}
            body = client.get("/staff/v1/stores/S1/orders", params=params, headers=staff).json()
            seen += [item["order_id"] for item in body["items"]]
            assert {item["order_id"]: item["late"] for item in body["items"]} == {
                item["order_id"]: item["order_id"] in (placed[1], placed[3]) for item in body["items"]
            }
            cursor = body["next_cursor"]
            if cursor is None:
                break
        assert seen == expected, limit


def test_guessing_codes_is_throttled(
    client: TestClient, open_stores: None, make_key: KeyFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    from retail import ratelimit
    from retail import settings as retail_settings

    monkeypatch.setattr(retail_settings.get_settings(), "pickup_attempts_per_minute", 3)
    frozen = time.time()  # one window for the whole test, so it cannot turn over between attempts
    monkeypatch.setattr(ratelimit, "_clock", lambda: frozen)
    staff = make_key("staff", store_code="S1")
    answers = [
        client.post("/staff/v1/pickups/verify", json={"code": f"AAAA-AAA{i}"}, headers=staff)
        for i in range(5)
    ]
    assert [a.status_code for a in answers][:3] == [422, 422, 422]
    limited = answers[3]
    assert limited.status_code == 429
    assert limited.json()["code"] == "rate_limited"
    assert 1 <= int(limited.headers["Retry-After"]) <= 60
    # Another clerk's key has its own budget.
    other = client.post(
        "/staff/v1/pickups/verify", json={"code": "AAAA-AAAA"}, headers=make_key("staff", store_code="S1")
    )
    assert other.status_code == 422

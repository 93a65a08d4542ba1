"""Back in stock at my store (`/mobile/v1/stock-alerts`): the alert's life over HTTP, its limits, and its
firing by every path that raises the units available at a store (a count, a movement, a cancelled
order's units, a return), once, on PostgreSQL and SQLite; its message sent once after the commit,
taken over by the shopper messages once. The `open_stores` shop: S1 holds 3 KOFFIE and 10 THEE."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import Session, col, func, select

from inventory import alerts as inventory_alerts
from inventory import service as inventory_service
from inventory.alerts import MAX_WAITING_PER_EMAIL
from inventory.exceptions import TooManyAlerts
from inventory.models import StockAlert
from orders import sweeps
from orders.messages import outbox
from orders.messages.models import ShopperMessage
from orders.models import Order
from retail.clock import as_aware_utc
from tests.factories import committed_store, count_stock, order_body, post_order, store_row

KeyFactory = Callable[..., dict[str, str]]
BOTH_DATABASES = pytest.mark.parametrize("engine", ["postgresql", "sqlite"], indirect=True)
LATER = "2026-11-24T06:00:00+01:00"
LATER_STILL = "2026-11-25T06:00:00+01:00"


def alert_body(email: str = "sanne@example.nl", sku: str = "KOFFIE", **overrides: Any) -> dict[str, Any]:
    return {"store_code": "S1", "sku": sku, "email": email, **overrides}


def create(client: TestClient, **overrides: Any) -> dict[str, Any]:
    response = client.post("/mobile/v1/stock-alerts", json=alert_body(**overrides))
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def read(client: TestClient, created: dict[str, Any]) -> dict[str, Any]:
    response = client.get(
        f"/mobile/v1/stock-alerts/{created['alert_id']}",
        headers={"Authorization": f"Bearer {created['alert_token']}"},
    )
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


def sold_out(session: Session, sku: str = "KOFFIE") -> None:
    """A count of 0 at S1, taken after the shop's first count."""
    count_stock(session, "S1", {sku: 0}, as_of=LATER)
    session.commit()


def statuses(session: Session) -> list[str]:
    session.expire_all()
    return list(session.exec(select(StockAlert.status).order_by(col(StockAlert.id))).all())


# ------------------------------------------------------------------------------------------ over HTTP


@pytest.mark.usefixtures("open_stores")
def test_an_alert_is_created_waiting_read_with_its_token_and_cancelled(client: TestClient) -> None:
    created = create(client)
    assert created["status"] == "waiting"
    assert created["alert_id"].startswith("sta_")
    assert created["alert_token"].startswith("atk_")
    alert = read(client, created)
    assert {k: alert[k] for k in ("alert_id", "status", "store_code", "sku", "sent_at")} == {
        "alert_id": created["alert_id"],
        "status": "waiting",
        "store_code": "S1",
        "sku": "KOFFIE",
        "sent_at": None,
    }
    path = f"/mobile/v1/stock-alerts/{created['alert_id']}"
    cancelled = client.delete(path, params={"alert_token": created["alert_token"]})
    assert cancelled.status_code == 200
    assert cancelled.json()["status"] == "cancelled"
    gone = client.get(path, params={"alert_token": created["alert_token"]})
    assert gone.status_code == 404
    assert gone.json()["code"] == "alert_not_found"


@pytest.mark.usefixtures("open_stores")
def test_a_wrong_or_missing_token_answers_404_and_cancels_nothing(
    client: TestClient, session: Session
) -> None:
    created = create(client)
    path = f"/mobile/v1/stock-alerts/{created['alert_id']}"
    other = create(client, sku="THEE")
    for headers in (
        {},
        {"Authorization": f"Bearer {other['alert_token']}"},
        {"Authorization": "Bearer \u00fc".encode("latin-1")},
    ):
        assert client.get(path, headers=headers).status_code == 404
        assert client.delete(path, headers=headers).status_code == 404
    assert client.get("/mobile/v1/stock-alerts/sta_nope", params={"alert_token": "x"}).status_code == 404
    assert statuses(session) == ["waiting", "waiting"]


@pytest.mark.usefixtures("open_stores")
def test_asking_twice_answers_the_same_alert_whatever_the_addresss_case(
    client: TestClient, session: Session
) -> None:
    first = create(client)
    again = create(client, email="Sanne@Example.NL")
    assert again == first
    assert statuses(session) == ["waiting"]


@pytest.mark.usefixtures("open_stores")
def test_an_address_waits_for_at_most_twenty_alerts(client: TestClient, session: Session) -> None:
    inventory_service.upsert_products(
        session,
        rows=[{"sku": f"P{i}", "name": f"P{i}", "online_price": {"amount": "1.00"}} for i in range(21)],
    )
    session.commit()
    for i in range(20):
        create(client, sku=f"P{i}")
    refused = client.post("/mobile/v1/stock-alerts", json=alert_body(sku="P20"))
    assert refused.status_code == 429
    assert refused.json()["code"] == "too_many_alerts"
    assert refused.json()["errors"][0]["field"] == "body.email"
    assert len(statuses(session)) == 20
    # Another address is not held back by this one's alerts, and asking again for a waiting one still works.
    create(client, sku="P20", email="joost@example.nl")
    create(client, sku="P3")


@pytest.mark.usefixtures("open_stores")
@pytest.mark.parametrize(
    ("override", "field", "code"),
    [
        ({"store_code": "NOPE"}, "body.store_code", "unknown_store"),
        ({"sku": "NOPE"}, "body.sku", "unknown_sku"),
        ({"email": "not-an-address"}, "body.email", "validation_error"),
        ({"locale": "fr"}, "body.locale", "validation_error"),
        ({"colour": "red"}, "body.colour", "validation_error"),
    ],
)
def test_bad_bodies_answer_422_naming_the_field_and_store_nothing(
    client: TestClient, session: Session, override: dict[str, str], field: str, code: str
) -> None:
    response = client.post("/mobile/v1/stock-alerts", json={**alert_body(), **override})
    assert response.status_code == 422, response.text
    problem = response.json()
    assert problem["code"] == code
    assert [error["field"] for error in problem["errors"]] == [field]
    assert statuses(session) == []


# ------------------------------------------------------------------------------------------ the firing


@BOTH_DATABASES
@pytest.mark.usefixtures("open_stores")
def test_a_count_that_brings_units_back_fires_the_alert_once(client: TestClient, session: Session) -> None:
    sold_out(session)
    created = create(client)
    count_stock(session, "S1", {"KOFFIE": 0}, as_of=LATER_STILL)  # still none: nothing fires
    session.commit()
    assert read(client, created)["status"] == "waiting"
    count_stock(session, "S1", {"KOFFIE": 4}, as_of="2026-11-26T06:00:00+01:00")
    session.commit()
    fired = read(client, created)
    assert fired["status"] == "sent"
    assert fired["sent_at"] is not None
    # Gone and back again: the alert was for once.
    count_stock(session, "S1", {"KOFFIE": 0}, as_of="2026-11-27T06:00:00+01:00")
    count_stock(session, "S1", {"KOFFIE": 2}, as_of="2026-11-28T06:00:00+01:00")
    session.commit()
    assert read(client, created)["sent_at"] == fired["sent_at"]


@BOTH_DATABASES
@pytest.mark.usefixtures("open_stores")
def test_a_delivery_movement_fires_the_alert(client: TestClient, session: Session) -> None:
    sold_out(session)
    created = create(client)
    movement = {"store_code": "S1", "sku": "KOFFIE", "at": "2026-11-24T09:00:00+01:00"}
    inventory_service.record_movements(session, rows=[{**movement, "movement_id": "till-1", "delta": -1}])
    session.commit()
    assert read(client, created)["status"] == "waiting"  # a sale past zero raises nothing
    inventory_service.record_movements(session, rows=[{**movement, "movement_id": "delivery-1", "delta": 6}])
    session.commit()
    assert read(client, created)["status"] == "sent"


@BOTH_DATABASES
@pytest.mark.usefixtures("open_stores")
def test_units_a_cancelled_order_gives_back_fire_the_alert(client: TestClient, session: Session) -> None:
    accepted = post_order(client, order_body("S1", {"KOFFIE": 3})).json()  # every KOFFIE S1 has
    created = create(client)
    token = {"Authorization": f"Bearer {accepted['order_token']}"}
    assert client.get(accepted["status_url"], headers=token).json()["status"] == "reserved"
    assert read(client, created)["status"] == "waiting"
    cancelled = client.post(f"{accepted['status_url']}/cancel", headers=token)
    assert cancelled.status_code == 200, cancelled.text
    assert read(client, created)["status"] == "sent"


@BOTH_DATABASES
@pytest.mark.usefixtures("open_stores")
def test_units_an_expired_order_gives_back_fire_the_alert(
    client: TestClient, session: Session, make_key: KeyFactory
) -> None:
    staff = make_key("staff", "S1")
    accepted = post_order(client, order_body("S1", {"KOFFIE": 3})).json()
    order_id = accepted["order_id"]
    assert client.post(f"/staff/v1/orders/{order_id}/ready", headers=staff).status_code == 200
    created = create(client)
    assert read(client, created)["status"] == "waiting"
    order = session.exec(select(Order).where(Order.order_id == order_id)).one()
    assert order.expires_at is not None
    assert sweeps.expire_ready(session, now=as_aware_utc(order.expires_at) + timedelta(seconds=1)) == [
        order.id
    ]
    session.commit()
    assert read(client, created)["status"] == "sent"


@pytest.mark.usefixtures("open_stores")
def test_returned_units_fire_the_alert(client: TestClient, session: Session, make_key: KeyFactory) -> None:
    staff = make_key("staff", "S1")
    accepted = post_order(client, order_body("S1", {"KOFFIE": 3})).json()
    token = {"Authorization": f"Bearer {accepted['order_token']}"}
    order = client.get(accepted["status_url"], headers=token).json()
    assert client.post(f"/staff/v1/orders/{order['order_id']}/ready", headers=staff).status_code == 200
    confirmed = client.post(
        "/staff/v1/pickups/confirm", json={"code": order["pickup"]["code"]}, headers=staff
    )
    assert confirmed.json()["status"] == "collected"
    created = create(client)
    returned = client.post(
        f"/staff/v1/orders/{order['order_id']}/returns",
        json={"lines": [{"sku": "KOFFIE", "quantity": 1}], "restock": True},
        headers={**staff, "Idempotency-Key": "return-1"},
    )
    assert returned.status_code in (200, 201), returned.text
    assert read(client, created)["status"] == "sent"


@BOTH_DATABASES
@pytest.mark.usefixtures("open_stores")
def test_units_held_back_by_safety_stock_are_not_back(client: TestClient, session: Session) -> None:
    sold_out(session)
    created = create(client)
    # THEE's write in the same transaction fires nothing for KOFFIE, and a rolled-back rise fires nothing.
    count_stock(session, "S1", {"THEE": 0, "KOFFIE": 0}, as_of=LATER_STILL)
    session.commit()
    with session.begin_nested():
        count_stock(session, "S1", {"KOFFIE": 5}, as_of="2026-11-26T06:00:00+01:00")
        session.rollback()
    assert read(client, created)["status"] == "waiting"


# ----------------------------------------------------------------------------------------- the message


def test_a_fired_alert_is_taken_over_by_the_shopper_messages_once(
    committed_client: TestClient, engine: Engine, committed_key: KeyFactory
) -> None:
    admin, webshop = committed_key("admin"), committed_key("webshop")
    client = committed_client
    store = store_row("S1", always_open=True)
    assert client.put("/admin/v1/stores", json={"stores": [store]}, headers=admin).status_code == 200
    products = [
        {"sku": "KOFFIE", "name": "Koffiebonen 1 kg", "online_price": {"amount": "12.99"}},
        {"sku": "THEE", "name": "Groene thee", "online_price": {"amount": "3.49"}},
    ]
    assert client.put("/sync/v1/products", json={"products": products}, headers=webshop).status_code == 200

    def count(sku: str, on_hand: int, as_of: str) -> None:
        rows = [{"store_code": "S1", "sku": sku, "on_hand": on_hand, "as_of": as_of}]
        answer = client.put("/sync/v1/stock", json={"items": rows}, headers=webshop)
        assert answer.status_code == 200, answer.text

    created = create(client, locale="nl")
    count("THEE", 0, LATER)  # in a transaction of its own: the KOFFIE counts below leave its alert waiting
    tea = create(client, sku="THEE")
    assert outbox.derive_due(engine) == []  # nothing fired yet
    count("KOFFIE", 5, LATER)
    assert read(client, tea)["status"] == "waiting"
    written = outbox.derive_due(engine)
    assert len(written) == 1
    count("KOFFIE", 0, LATER_STILL)
    count("KOFFIE", 3, "2026-11-26T06:00:00+01:00")
    assert outbox.derive_due(engine) == []  # once: the alert was sent
    with Session(engine) as db:
        (message,) = db.exec(select(ShopperMessage)).all()
        assert (message.event_id, message.type, message.order_id) == (
            created["alert_id"],
            "back_in_stock",
            None,
        )
        assert (message.recipient, message.locale) == ("sanne@example.nl", "nl")
        assert message.payload == {
            "alert_id": created["alert_id"],
            "store_code": "S1",
            "sku": "KOFFIE",
            "product_name": "Koffiebonen 1 kg",
        }  # the token is not stored: the message derives it again
        alert = db.exec(select(StockAlert).where(StockAlert.alert_id == created["alert_id"])).one()
        assert alert.messaged_at is not None
    assert outbox.send_due(engine) == 1  # no mail server set: logged
    with Session(engine) as db:
        assert db.exec(select(ShopperMessage.status)).one() == "logged"
        assert db.exec(select(func.count()).select_from(StockAlert)).one() == 2


@pytest.mark.parametrize("engine", ["postgresql", "sqlite"], indirect=True)
def test_an_address_asking_for_many_alerts_at_once_still_waits_for_at_most_twenty(engine: Engine) -> None:
    """Each request counts the address's waiting alerts before adding its own: at once, in transactions
    of their own, they take turns, so together they stop at the limit that each checks."""
    skus = {f"P{i}": 0 for i in range(MAX_WAITING_PER_EMAIL + 10)}
    with committed_store(engine, "S1", skus):
        barrier = threading.Barrier(len(skus))
        outcomes: list[str] = []

        def ask(sku: str) -> None:
            barrier.wait()
            with Session(engine) as db:
                try:
                    inventory_alerts.create_alert(
                        db, store_code="S1", sku=sku, email="sanne@example.nl", locale=None
                    )
                    db.commit()
                    outcomes.append("waiting")
                except TooManyAlerts as refused:
                    db.rollback()
                    outcomes.append(refused.code)

        threads = [threading.Thread(target=ask, args=(sku,)) for sku in skus]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(outcomes) == ["too_many_alerts"] * 10 + ["waiting"] * MAX_WAITING_PER_EMAIL
        with Session(engine) as db:
            waiting = db.exec(select(func.count()).select_from(StockAlert)).one()
        assert waiting == MAX_WAITING_PER_EMAIL

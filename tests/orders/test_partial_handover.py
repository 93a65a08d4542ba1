"""The partial hand-over (`POST /staff/v1/pickups/confirm` with `lines` and `verification`): the units
taken leave `reserved` and `on_hand` as a `collection` movement each, refused ones go back on the shelf
(they leave `reserved` only), the `collected` entry records how the collector was checked and by whom
(staff answers only), and every bad line is refused naming it."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from inventory import service as inventory_service
from inventory.models import StockMovement
from orders import service as orders_service
from orders import sweeps
from orders.models import Order, OrderEvent
from tests.factories import BASKET, order_body, post_order, stock_of

pytestmark = pytest.mark.parametrize("engine", ["postgresql", "sqlite"], indirect=True)

KeyFactory = Callable[..., dict[str, str]]


def _ready_order(
    client: TestClient,
    staff: dict[str, str],
    key: str = "key-1",
    lines: Mapping[str, int] = BASKET,
    picked: list[dict[str, Any]] | None = None,
    **overrides: Any,
) -> dict[str, Any]:
    accepted = post_order(client, order_body("S1", lines, **overrides), key=key).json()
    headers = {"Authorization": f"Bearer {accepted['order_token']}"}
    order = client.get(accepted["status_url"], headers=headers).json()
    body = None if picked is None else {"lines": picked}
    ready = client.post(f"/staff/v1/orders/{order['order_id']}/ready", json=body, headers=staff)
    assert ready.json()["status"] == "ready_for_pickup", ready.text
    return {**ready.json(), "headers": headers}


def _stock(session: Session, store: str, sku: str) -> tuple[int, int]:
    row = stock_of(session, store, sku)
    return row.on_hand, row.reserved


def _movements(session: Session) -> list[tuple[str, int]]:
    rows = session.exec(select(StockMovement).order_by(col(StockMovement.movement_id))).all()
    return [(m.movement_id.split(":")[0], m.delta) for m in rows]


def _token(session: Session, order_id: str) -> str:
    order = session.exec(select(Order).where(Order.order_id == order_id)).one()
    issued = orders_service.pickup_of(order)
    assert issued is not None
    return issued.token


def _confirm(client: TestClient, staff: dict[str, str], code: str, **body: Any) -> Any:
    return client.post("/staff/v1/pickups/confirm", json={"code": code, **body}, headers=staff)


def test_a_refused_item_goes_back_on_the_shelf(
    client: TestClient, session: Session, open_stores: None, make_key: KeyFactory
) -> None:
    staff = make_key("staff", store_code="S1", label="S1 desk")
    order = _ready_order(client, staff, pickup_person={"name": "Joost de Vries"})
    code = order["pickup"]["code"]
    assert (_stock(session, "S1", "KOFFIE"), _stock(session, "S1", "THEE")) == ((3, 2), (10, 1))

    verified = client.post("/staff/v1/pickups/verify", json={"code": code}, headers=staff).json()
    assert verified["pickup_person"] == {"name": "Joost de Vries"}
    assert [(e["status"], e["by"], e["verification"]) for e in verified["history"]] == [
        ("pending", None, None),
        ("reserved", None, None),
        ("ready_for_pickup", "S1 desk", None),
    ]

    # The tea is damaged: the collector takes the coffee only, after showing an ID.
    confirmed = _confirm(
        client, staff, code, lines=[{"sku": "THEE", "quantity": 0}], verification="pickup_person_named"
    )
    assert confirmed.status_code == 200, confirmed.text
    answer = confirmed.json()
    assert answer["status"] == "collected"
    assert [(line["sku"], line["picked"], line["collected"]) for line in answer["lines"]] == [
        ("KOFFIE", 2, 2),
        ("THEE", 1, 0),
    ]
    assert answer["pickup_person"] == {"name": "Joost de Vries"}
    assert [(e["status"], e["by"], e["verification"]) for e in answer["history"]] == [
        ("pending", None, None),
        ("reserved", None, None),
        ("ready_for_pickup", "S1 desk", None),
        ("collected", "S1 desk", "pickup_person_named"),
    ]

    # The coffee left the store; the tea is back on the shelf, free to sell.
    assert _stock(session, "S1", "KOFFIE") == (1, 0)
    assert _stock(session, "S1", "THEE") == (10, 0)
    assert _movements(session) == [("collection", -2)]
    assert inventory_service.reserved_drift(session, held=sweeps.held_units()) == []

    # The shopper sees what was collected, but never who handed it over or how they were checked.
    seen = client.get(f"/mobile/v1/orders/{order['order_id']}", headers=order["headers"]).json()
    assert [(line["picked"], line["collected"]) for line in seen["lines"]] == [(2, 2), (1, 0)]
    assert [entry["status"] for entry in seen["history"]][-1] == "collected"
    assert all(set(entry) == {"status", "at"} for entry in seen["history"])
    listed = client.get("/staff/v1/stores/S1/orders?status=collected", headers=staff).json()["items"]
    assert [(e["status"], e["verification"]) for e in listed[0]["history"]][-1] == (
        "collected",
        "pickup_person_named",
    )


def test_a_short_picked_order_handed_over_in_part(
    client: TestClient, session: Session, open_stores: None, make_key: KeyFactory
) -> None:
    staff = make_key("staff", store_code="S1")
    order = _ready_order(
        client, staff, lines={"KOFFIE": 3, "THEE": 2}, picked=[{"sku": "KOFFIE", "picked": 2}]
    )
    assert (_stock(session, "S1", "KOFFIE"), _stock(session, "S1", "THEE")) == ((2, 2), (10, 2))
    # Take one of the two bags picked and both teas (left out: taken in full).
    confirmed = _confirm(client, staff, order["pickup"]["code"], lines=[{"sku": "KOFFIE", "quantity": 1}])
    assert confirmed.status_code == 200, confirmed.text
    lines = confirmed.json()["lines"]
    assert [(line["quantity"], line["picked"], line["collected"]) for line in lines] == [(3, 2, 1), (2, 2, 2)]
    assert confirmed.json()["shortages"][0]["picked"] == 2
    assert _stock(session, "S1", "KOFFIE") == (1, 0)
    assert _stock(session, "S1", "THEE") == (8, 0)
    assert _movements(session) == [("collection", -1), ("collection", -2), ("short_pick", -1)]


def test_everything_refused_is_a_hand_over_of_nothing(
    client: TestClient, session: Session, open_stores: None, make_key: KeyFactory
) -> None:
    staff = make_key("staff", store_code="S1", label="S1 desk")
    order = _ready_order(client, staff)
    refused = [{"sku": "KOFFIE", "quantity": 0}, {"sku": "THEE", "quantity": 0}]
    confirmed = _confirm(client, staff, order["pickup"]["code"], lines=refused, verification="id_checked")
    assert confirmed.status_code == 200, confirmed.text
    assert confirmed.json()["status"] == "collected"
    assert [line["collected"] for line in confirmed.json()["lines"]] == [0, 0]
    assert confirmed.json()["history"][-1]["verification"] == "id_checked"
    # Nothing left the store: every unit is back on the shelf.
    assert _stock(session, "S1", "KOFFIE") == (3, 0)
    assert _stock(session, "S1", "THEE") == (10, 0)
    assert _movements(session) == []
    again = _confirm(client, staff, order["pickup"]["code"], lines=refused)
    assert (again.status_code, again.json()["code"]) == (409, "already_collected")


def test_the_check_defaults_to_how_the_code_was_given(
    client: TestClient, session: Session, open_stores: None, make_key: KeyFactory
) -> None:
    staff = make_key("staff", store_code="S1")
    typed = _ready_order(client, staff, "key-1", {"THEE": 1})
    scanned = _ready_order(client, staff, "key-2", {"THEE": 1})
    assert _confirm(client, staff, typed["pickup"]["code"].lower()).status_code == 200
    assert _confirm(client, staff, _token(session, scanned["order_id"])).status_code == 200
    stored = {
        order_id: session.exec(
            select(OrderEvent.verification)
            .join(Order, col(Order.id) == col(OrderEvent.order_pk))
            .where(Order.order_id == order_id, OrderEvent.status == "collected")
        ).one()
        for order_id in (typed["order_id"], scanned["order_id"])
    }
    assert stored == {typed["order_id"]: "short_code", scanned["order_id"]: "qr"}
    # Only the hand-over's entry has a check.
    events = session.exec(select(OrderEvent.status, OrderEvent.verification)).all()
    assert [v for s, v in events if s != "collected"] == [None] * (len(events) - 2)


def test_confirming_twice_collects_once(
    client: TestClient, session: Session, open_stores: None, make_key: KeyFactory
) -> None:
    staff = make_key("staff", store_code="S1")
    order = _ready_order(client, staff)
    body = {"lines": [{"sku": "KOFFIE", "quantity": 1}]}
    first = _confirm(client, staff, order["pickup"]["code"], **body)
    again = _confirm(client, staff, order["pickup"]["code"], **body)
    assert first.status_code == 200
    assert (again.status_code, again.json()["code"]) == (409, "already_collected")
    assert _stock(session, "S1", "KOFFIE") == (2, 0)
    assert _stock(session, "S1", "THEE") == (9, 0)
    assert _movements(session) == [("collection", -1), ("collection", -1)]


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({"lines": [{"sku": "THEE", "quantity": 2}]}, ["body.lines.0.quantity"]),
        (
            {"lines": [{"sku": "THEE", "quantity": 1}, {"sku": "KOFFIE", "quantity": -1}]},
            ["body.lines.1.quantity"],
        ),
        ({"lines": [{"sku": "MELK", "quantity": 1}]}, ["body.lines.0.sku"]),
        ({"lines": [{"sku": "THEE", "quantity": 0}, {"sku": "THEE", "quantity": 0}]}, ["body.lines.1.sku"]),
        (
            {"lines": [{"sku": "KOFFIE", "quantity": 3}, {"sku": "THEE", "quantity": 2}]},
            ["body.lines.0.quantity", "body.lines.1.quantity"],
        ),
        ({"lines": [{"sku": "THEE", "quantity": "0"}]}, ["body.lines.0.quantity"]),
        ({"lines": [{"sku": "THEE", "quantity": 0, "why": "damaged"}]}, ["body.lines.0.why"]),
        ({"verification": "face_recognised"}, ["body.verification"]),
        ({"verification": "QR"}, ["body.verification"]),
        ({"collector": "Joost"}, ["body.collector"]),
    ],
)
def test_bad_hand_overs_are_refused_naming_each_field(
    client: TestClient,
    session: Session,
    open_stores: None,
    make_key: KeyFactory,
    body: dict[str, Any],
    fields: list[str],
) -> None:
    staff = make_key("staff", store_code="S1")
    order = _ready_order(client, staff)
    refused = _confirm(client, staff, order["pickup"]["code"], **body)
    assert refused.status_code == 422, refused.text
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["code"] == "validation_error"
    assert [e["field"] for e in refused.json()["errors"]] == fields
    # Nothing happened: still ready, every unit still reserved, no movement.
    seen = client.get(f"/mobile/v1/orders/{order['order_id']}", headers=order["headers"]).json()
    assert (seen["status"], [line["collected"] for line in seen["lines"]]) == (
        "ready_for_pickup",
        [None, None],
    )
    assert (_stock(session, "S1", "KOFFIE"), _stock(session, "S1", "THEE")) == ((3, 2), (10, 1))
    assert _movements(session) == []


def test_the_document_describes_the_confirm_body(client: TestClient) -> None:
    document = client.get("/openapi.json").json()
    operation = document["paths"]["/staff/v1/pickups/confirm"]["post"]
    assert operation["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ConfirmIn"
    }
    schemas = document["components"]["schemas"]
    examples = schemas["ConfirmIn"]["examples"]
    assert {
        "code": "K7QM-4T9X",
        "lines": [{"sku": "WP-100234", "quantity": 0}],
        "verification": "id_checked",
    } in (examples)
    assert schemas["Verification"]["enum"] == ["qr", "short_code", "id_checked", "pickup_person_named"]
    assert "verification" in schemas["StaffHistoryEntry"]["required"]
    assert "verification" not in schemas["HistoryEntry"]["properties"]
    verify = document["paths"]["/staff/v1/pickups/verify"]["post"]
    assert verify["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/CodeIn"
    }

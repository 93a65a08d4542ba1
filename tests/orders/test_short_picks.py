"""Short picks (`POST /staff/v1/orders/{id}/ready` with picked quantities): the missing units leave
`reserved` and `on_hand` as one `short_pick` movement each, the order keeps its shortages with the nearest
stores that hold the missing units, its total counts what was picked, and nothing picked at all rejects it;
every bad line is refused naming it, and a retry changes nothing twice."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from inventory import service as inventory_service
from inventory.models import StockMovement
from orders import lifecycle, sweeps
from orders.models import Notification, Order
from retail.clock import as_aware_utc
from tests.factories import BASKET, count_stock, order_body, post_order, stock_of

pytestmark = pytest.mark.parametrize("engine", ["postgresql", "sqlite"], indirect=True)

KeyFactory = Callable[..., dict[str, str]]

# S2 as an alternative to S1 (`make_coffee_shop`): open around the clock, so an order placed there at `at`
# would be ready an hour (its `pick_minutes`) later.
S2_DISTANCE_KM = 1.191


def _reserved_order(
    client: TestClient, key: str = "key-1", lines: Mapping[str, int] = BASKET
) -> dict[str, Any]:
    accepted = post_order(client, order_body("S1", lines), key=key).json()
    headers = {"Authorization": f"Bearer {accepted['order_token']}"}
    order = client.get(accepted["status_url"], headers=headers).json()
    assert order["status"] == "reserved"
    return {**order, "headers": headers}


def _stock(session: Session, store: str, sku: str) -> tuple[int, int]:
    row = stock_of(session, store, sku)
    return row.on_hand, row.reserved


def _movements(session: Session) -> list[tuple[str, int, str]]:
    rows = session.exec(select(StockMovement).order_by(col(StockMovement.movement_id))).all()
    return [(m.movement_id, m.delta, m.source) for m in rows]


def _movement_id(session: Session, source: str, order_id: str, sku: str) -> str:
    product = inventory_service.products_by_sku(session, skus=[sku])[sku]
    return f"{source}:{order_id}:{product.id}"


def _outbox(session: Session, order_id: str) -> list[tuple[str, dict[str, Any]]]:
    rows = session.exec(select(Notification).order_by(col(Notification.id))).all()
    return [(n.kind, n.payload) for n in rows if n.payload["order_id"] == order_id]


def _s2(at: str) -> dict[str, Any]:
    return {
        "code": "S2",
        "name": "Winkelpunt S2",
        "distance_km": S2_DISTANCE_KM,
        "ready_by": datetime.fromisoformat(at) + timedelta(hours=1),
    }


def _instants(value: Any) -> Any:
    """`value` with each alternative's `ready_by` read as the instant it is (given in the store's zone)."""
    if isinstance(value, list):
        return [_instants(item) for item in value]
    if isinstance(value, dict):
        return {
            k: datetime.fromisoformat(v) if k == "ready_by" and v else _instants(v) for k, v in value.items()
        }
    return value


def _ready(client: TestClient, order_id: str, headers: dict[str, str], **body: Any) -> Any:
    return client.post(f"/staff/v1/orders/{order_id}/ready", json=body or None, headers=headers)


def test_a_short_pick_takes_the_missing_units_out_and_names_where_they_are(
    client: TestClient, session: Session, open_stores: None, make_key: KeyFactory
) -> None:
    staff = make_key("staff", store_code="S1", label="S1 desk")
    order = _reserved_order(client)
    assert order["total"] == {"amount": "30.47", "currency": "EUR"}
    assert _stock(session, "S1", "KOFFIE") == (3, 2)

    ready = _ready(client, order["order_id"], staff, lines=[{"sku": "KOFFIE", "picked": 1}])
    assert ready.status_code == 200, ready.text
    answer = ready.json()
    at = answer["history"][-1]["at"]
    assert answer["status"] == "ready_for_pickup"
    assert [(line["sku"], line["quantity"], line["picked"]) for line in answer["lines"]] == [
        ("KOFFIE", 2, 1),
        ("THEE", 1, 1),
    ]
    assert _instants(answer["shortages"]) == [
        {"sku": "KOFFIE", "requested": 2, "picked": 1, "alternatives": [_s2(at)]}
    ]
    assert answer["total"] == {"amount": "16.98", "currency": "EUR"}  # 13.49 + 3.49
    assert answer["problem"] is None
    assert answer["pickup"]["expires_at"] is not None
    assert answer["history"][-1]["by"] == "S1 desk"

    # The missing bag left the shelf and the reservation at once; the tea is held in full.
    koffie = stock_of(session, "S1", "KOFFIE")
    assert (koffie.on_hand, koffie.reserved, koffie.on_hand - koffie.reserved) == (2, 1, 1)
    assert _stock(session, "S1", "THEE") == (10, 1)
    [movement] = session.exec(select(StockMovement)).all()
    assert (movement.movement_id, movement.delta, movement.source) == (
        _movement_id(session, "short_pick", order["order_id"], "KOFFIE"),
        -1,
        "short_pick",
    )
    assert as_aware_utc(movement.at) == datetime.fromisoformat(at)
    assert inventory_service.reserved_drift(session, held=sweeps.held_units()) == []

    # Notified once, as a partial ready, with everything a status change says and the shortages.
    kinds = [(kind, payload["status"]) for kind, payload in _outbox(session, order["order_id"])]
    assert kinds == [
        ("order.status_changed", "pending"),
        ("order.status_changed", "reserved"),
        ("order.partially_ready", "ready_for_pickup"),
    ]
    payload = _outbox(session, order["order_id"])[-1][1]
    assert _instants(payload) == {
        "order_id": order["order_id"],
        "store_code": "S1",
        "status": "ready_for_pickup",
        "at": payload["at"],
        "customer_email": "sanne@example.nl",
        "shortages": [
            {"sku": "KOFFIE", "requested": 2, "picked": 1, "alternatives": [_s2(at)]},
        ],
    }
    assert datetime.fromisoformat(payload["at"]) == datetime.fromisoformat(at)

    # Every later answer shows the shortages the pick found, the shopper's too.
    seen = client.get(f"/mobile/v1/orders/{order['order_id']}", headers=order["headers"]).json()
    assert (seen["shortages"], seen["total"]) == (answer["shortages"], answer["total"])
    listed = client.get("/staff/v1/stores/S1/orders", headers=staff).json()["items"]
    assert [o["shortages"] for o in listed] == [answer["shortages"]]
    verified = client.post("/staff/v1/pickups/verify", json={"code": order["pickup"]["code"]}, headers=staff)
    assert verified.json()["shortages"] == answer["shortages"]


def test_a_count_taken_before_the_short_pick_still_subtracts_it(
    client: TestClient, session: Session, open_stores: None, make_key: KeyFactory
) -> None:
    staff = make_key("staff", store_code="S1")
    order = _reserved_order(client)
    _ready(client, order["order_id"], staff, lines=[{"sku": "KOFFIE", "picked": 0}])
    # The store counted 3 this morning, before the pick; the count reaches us only now.
    assert count_stock(session, "S1", {"KOFFIE": 3}, as_of="2026-11-23T07:00:00+01:00").applied == 1
    assert _stock(session, "S1", "KOFFIE") == (1, 0)


def test_alternatives_hold_the_missing_units_only(
    client: TestClient, session: Session, open_stores: None, make_key: KeyFactory
) -> None:
    staff = make_key("staff", store_code="S1")
    # S2 holds 8 tea: enough for 8 missing, not for 9.
    first = _reserved_order(client, "key-1", {"KOFFIE": 1, "THEE": 9})
    short_of_nine = _ready(client, first["order_id"], staff, lines=[{"sku": "THEE", "picked": 0}]).json()
    assert short_of_nine["status"] == "ready_for_pickup"
    assert short_of_nine["shortages"] == [{"sku": "THEE", "requested": 9, "picked": 0, "alternatives": []}]
    assert short_of_nine["total"] == {"amount": "13.49", "currency": "EUR"}
    assert [line["picked"] for line in short_of_nine["lines"]] == [1, 0]
    assert _stock(session, "S1", "THEE") == (1, 0)

    # Counted again after the pick: 10 on the shelf.
    recounted = datetime.fromisoformat(short_of_nine["history"][-1]["at"]) + timedelta(seconds=1)
    count_stock(session, "S1", {"THEE": 10}, as_of=recounted.isoformat())
    second = _reserved_order(client, "key-2", {"THEE": 9})
    short_of_eight = _ready(client, second["order_id"], staff, lines=[{"sku": "THEE", "picked": 1}]).json()
    at = short_of_eight["history"][-1]["at"]
    assert _instants(short_of_eight["shortages"]) == [
        {"sku": "THEE", "requested": 9, "picked": 1, "alternatives": [_s2(at)]}
    ]


def test_nothing_picked_rejects_the_order_with_alternatives_for_the_basket(
    client: TestClient, session: Session, open_stores: None, make_key: KeyFactory
) -> None:
    staff = make_key("staff", store_code="S1", label="S1 desk")
    order = _reserved_order(client)
    lines = [{"sku": "KOFFIE", "picked": 0}, {"sku": "THEE", "picked": 0}]
    rejected = _ready(client, order["order_id"], staff, lines=lines)
    assert rejected.status_code == 200, rejected.text
    answer = rejected.json()
    at = answer["history"][-1]["at"]
    assert answer["status"] == "rejected"
    assert _instants(answer["problem"]) == {
        "code": "short_pick",
        "lines": [
            {"sku": "KOFFIE", "requested": 2, "available": 0},
            {"sku": "THEE", "requested": 1, "available": 0},
        ],
        "alternatives": [_s2(at)],
    }
    assert answer["shortages"] == []
    assert answer["pickup"] is None
    assert answer["total"] == {"amount": "0.00", "currency": "EUR"}
    assert [line["picked"] for line in answer["lines"]] == [0, 0]
    assert [(e["status"], e["by"]) for e in answer["history"]] == [
        ("pending", None),
        ("reserved", None),
        ("rejected", "S1 desk"),
    ]

    # Every reserved unit left the shelf as a short pick.
    assert _stock(session, "S1", "KOFFIE") == (1, 0)
    assert _stock(session, "S1", "THEE") == (9, 0)
    assert _movements(session) == sorted(
        [
            (_movement_id(session, "short_pick", order["order_id"], "KOFFIE"), -2, "short_pick"),
            (_movement_id(session, "short_pick", order["order_id"], "THEE"), -1, "short_pick"),
        ]
    )
    assert _outbox(session, order["order_id"])[-1][0] == "order.status_changed"
    assert _outbox(session, order["order_id"])[-1][1]["status"] == "rejected"

    seen = client.get(f"/mobile/v1/orders/{order['order_id']}", headers=order["headers"]).json()
    assert (seen["status"], seen["problem"]) == ("rejected", answer["problem"])
    code = client.post("/staff/v1/pickups/verify", json={"code": order["pickup"]["code"]}, headers=staff)
    assert code.json()["code"] == "invalid_code"


def test_picked_in_full_is_what_no_body_and_an_empty_list_mean(
    client: TestClient, session: Session, open_stores: None, make_key: KeyFactory
) -> None:
    staff = make_key("staff", store_code="S1")
    for key, body in (("key-1", None), ("key-2", {}), ("key-3", {"lines": []})):
        order = _reserved_order(client, key, {"THEE": 1})
        ready = client.post(f"/staff/v1/orders/{order['order_id']}/ready", json=body, headers=staff)
        assert ready.status_code == 200, (body, ready.text)
        assert (ready.json()["shortages"], ready.json()["lines"][0]["picked"]) == ([], 1)
        assert _outbox(session, order["order_id"])[-1][0] == "order.status_changed"
    full = _reserved_order(client, "key-4", BASKET)
    named = _ready(client, full["order_id"], staff, lines=[{"sku": "THEE", "picked": 1}]).json()
    assert ([line["picked"] for line in named["lines"]], named["shortages"]) == ([2, 1], [])
    assert named["total"] == full["total"]
    assert _movements(session) == []
    assert _stock(session, "S1", "THEE") == (10, 4)


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({"lines": [{"sku": "KOFFIE", "picked": 3}]}, ["body.lines.0.picked"]),
        ({"lines": [{"sku": "THEE", "picked": 1}, {"sku": "KOFFIE", "picked": -1}]}, ["body.lines.1.picked"]),
        ({"lines": [{"sku": "MELK", "picked": 0}]}, ["body.lines.0.sku"]),
        ({"lines": [{"sku": "KOFFIE", "picked": 1}, {"sku": "KOFFIE", "picked": 1}]}, ["body.lines.1.sku"]),
        (
            {"lines": [{"sku": "KOFFIE", "picked": 5}, {"sku": "MELK", "picked": 1}]},
            ["body.lines.0.picked", "body.lines.1.sku"],
        ),
        ({"lines": [{"sku": "KOFFIE", "picked": "1"}]}, ["body.lines.0.picked"]),
        ({"lines": [{"sku": "KOFFIE", "picked": True}]}, ["body.lines.0.picked"]),
        ({"lines": [{"sku": "KOFFIE"}]}, ["body.lines.0.picked"]),
        ({"lines": [{"sku": "KOFFIE", "picked": 1, "reason": "damaged"}]}, ["body.lines.0.reason"]),
        ({"lines": [], "note": "x"}, ["body.note"]),
        ({"lines": {"KOFFIE": 1}}, ["body.lines"]),
    ],
)
def test_bad_lines_are_refused_naming_each(
    client: TestClient,
    session: Session,
    open_stores: None,
    make_key: KeyFactory,
    body: dict[str, Any],
    fields: list[str],
) -> None:
    staff = make_key("staff", store_code="S1")
    order = _reserved_order(client)
    refused = client.post(f"/staff/v1/orders/{order['order_id']}/ready", json=body, headers=staff)
    assert refused.status_code == 422, refused.text
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["code"] == "validation_error"
    assert [e["field"] for e in refused.json()["errors"]] == fields
    # Nothing happened: still reserved in full, no movement.
    seen = client.get(f"/mobile/v1/orders/{order['order_id']}", headers=order["headers"]).json()
    assert (seen["status"], [line["picked"] for line in seen["lines"]]) == ("reserved", [None, None])
    assert _stock(session, "S1", "KOFFIE") == (3, 2)
    assert _movements(session) == []


def test_a_short_pick_sent_twice_counts_once(
    client: TestClient, session: Session, open_stores: None, make_key: KeyFactory
) -> None:
    staff = make_key("staff", store_code="S1")
    order = _reserved_order(client)
    body = {"lines": [{"sku": "KOFFIE", "picked": 1}]}
    first = client.post(f"/staff/v1/orders/{order['order_id']}/ready", json=body, headers=staff)
    again = client.post(f"/staff/v1/orders/{order['order_id']}/ready", json=body, headers=staff)
    assert first.status_code == 200
    assert again.status_code == 409
    assert (again.json()["code"], again.json()["order_status"]) == ("invalid_transition", "ready_for_pickup")
    assert _stock(session, "S1", "KOFFIE") == (2, 1)
    assert len(_movements(session)) == 1


def test_the_ledger_takes_a_short_pick_out_once(session: Session, open_stores: None) -> None:
    # Below the order's state check, the movement id keeps a repeated write from counting twice.
    koffie = inventory_service.products_by_sku(session, skus=["KOFFIE"])["KOFFIE"]
    assert koffie.id is not None
    stock = stock_of(session, "S1", "KOFFIE")
    stock.reserved = 2
    session.add(stock)
    session.flush()
    at = datetime.fromisoformat("2026-11-23T10:00:00+01:00")
    for _ in range(2):
        inventory_service.short_pick(
            session,
            store_id=stock.store_id,
            lines=[inventory_service.Quantity(koffie.id, 2)],
            order_id="ord_x",
            at=at,
        )
    assert _stock(session, "S1", "KOFFIE") == (1, 0)
    assert _movements(session) == [(f"short_pick:ord_x:{koffie.id}", -2, "short_pick")]


def test_after_a_short_pick_the_order_holds_its_picked_units_only(
    client: TestClient, session: Session, open_stores: None, make_key: KeyFactory
) -> None:
    staff = make_key("staff", store_code="S1")
    cancelled = _reserved_order(client, "key-1")
    _ready(client, cancelled["order_id"], staff, lines=[{"sku": "KOFFIE", "picked": 1}])
    expiring = _reserved_order(client, "key-2", {"THEE": 3})
    _ready(client, expiring["order_id"], staff, lines=[{"sku": "THEE", "picked": 2}])
    assert _stock(session, "S1", "KOFFIE") == (2, 1)
    assert _stock(session, "S1", "THEE") == (9, 3)
    assert inventory_service.reserved_drift(session, held=sweeps.held_units()) == []

    # Cancelling gives back what was picked; the missing bag stays gone.
    answer = client.post(f"/mobile/v1/orders/{cancelled['order_id']}/cancel", headers=cancelled["headers"])
    assert answer.json()["status"] == "cancelled"
    assert _stock(session, "S1", "KOFFIE") == (2, 0)
    assert _stock(session, "S1", "THEE") == (9, 2)

    # So does expiry.
    order = session.exec(select(Order).where(Order.order_id == expiring["order_id"])).one()
    assert order.expires_at is not None
    assert sweeps.expire_ready(session, now=as_aware_utc(order.expires_at) + timedelta(seconds=1)) == [
        order.id
    ]
    assert _stock(session, "S1", "THEE") == (9, 0)
    assert inventory_service.reserved_drift(session, held=sweeps.held_units()) == []
    assert [entry.status for entry in lifecycle.history(session, order=order)][-1] == "expired"


def test_the_document_describes_the_ready_body(client: TestClient) -> None:
    document = client.get("/openapi.json").json()
    operation = document["paths"]["/staff/v1/orders/{order_id}/ready"]["post"]
    body = operation["requestBody"]
    assert body.get("required", False) is False
    schemas = document["components"]["schemas"]
    ready_in = schemas["ReadyIn"]
    assert ready_in["examples"][0] == {"lines": [{"sku": "WP-100234", "picked": 1}]}
    assert ready_in["additionalProperties"] is False
    assert {"409", "422"} <= set(operation["responses"])
    assert schemas["Shortage"]["properties"]["alternatives"]["items"] == {
        "$ref": "#/components/schemas/Alternative"
    }
    assert "ShortageAlternative" not in schemas
    assert schemas["ProblemCode"]["enum"] == ["out_of_stock", "short_pick"]

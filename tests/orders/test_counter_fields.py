"""The order's counter fields (issue 14's first increment): `pickup_person` and `locale` at placement and
in every order answer, each line's `picked` and `collected`, the empty `shortages`, `arrival` and
`returns`, and `history[].by` in the staff's answers only."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, func, select

from orders.models import Order
from tests.factories import BASKET, make_stocked_store, order_body, post_order, store_row

pytestmark = pytest.mark.parametrize("engine", ["postgresql", "sqlite"], indirect=True)

KeyFactory = Callable[..., dict[str, str]]

# What every order answer shows of the counter before anything happened at it.
UNTOUCHED: dict[str, Any] = {"pickup_person": None, "shortages": [], "arrival": None, "returns": []}


def _placed(client: TestClient, body: dict[str, Any], key: str = "key-1") -> dict[str, Any]:
    """The order as its shopper sees it, with the token's header under `headers`."""
    accepted = post_order(client, body, key=key)
    assert accepted.status_code == 202, accepted.text
    headers = {"Authorization": f"Bearer {accepted.json()['order_token']}"}
    order = client.get(accepted.json()["status_url"], headers=headers)
    assert order.status_code == 200
    return {**order.json(), "headers": headers}


def _counter(answer: dict[str, Any]) -> dict[str, Any]:
    return {field: answer[field] for field in ("pickup_person", "locale", "shortages", "arrival", "returns")}


def _order_count(session: Session) -> int:
    return session.exec(select(func.count()).select_from(Order)).one()


def test_an_order_without_the_new_fields_shows_them_empty_and_in_the_stores_language(
    client: TestClient, open_stores: None
) -> None:
    order = _placed(client, order_body("S1", BASKET))
    assert order["status"] == "reserved"
    assert _counter(order) == {**UNTOUCHED, "locale": "nl"}
    assert [(line["picked"], line["collected"]) for line in order["lines"]] == [(None, None), (None, None)]
    assert all("by" not in entry for entry in order["history"])


def test_someone_else_collects_in_english(client: TestClient, session: Session, open_stores: None) -> None:
    body = order_body("S1", BASKET, pickup_person={"name": "  Joost de Vries "}, locale="en")
    order = _placed(client, body)
    assert _counter(order) == {**UNTOUCHED, "pickup_person": {"name": "Joost de Vries"}, "locale": "en"}
    stored = session.exec(select(Order).where(Order.order_id == order["order_id"])).one()
    assert (stored.pickup_person_name, stored.locale) == ("Joost de Vries", "en")


@pytest.mark.parametrize(
    ("country", "timezone", "locale"),
    [("NL", "Europe/Amsterdam", "nl"), ("BE", "Europe/Brussels", "nl"), ("DE", "Europe/Berlin", "en")],
)
def test_the_locale_defaults_by_the_stores_country(
    client: TestClient, session: Session, open_stores: None, country: str, timezone: str, locale: str
) -> None:
    address = {**store_row()["address"], "country": country}
    make_stocked_store(session, "ST-1", {"KOFFIE": 5}, address=address, timezone=timezone)
    session.commit()
    assert _placed(client, order_body("ST-1", {"KOFFIE": 1}))["locale"] == locale
    other = "en" if locale == "nl" else "nl"
    assert _placed(client, order_body("ST-1", {"KOFFIE": 1}, locale=other), key="key-2")["locale"] == other


def test_the_idempotency_key_compares_the_new_fields(
    client: TestClient, session: Session, open_stores: None
) -> None:
    body = order_body("S1", BASKET, pickup_person={"name": "Joost de Vries"}, locale="en")
    first = post_order(client, body, key="same")
    again = post_order(client, body, key="same")
    assert first.status_code == again.status_code == 202
    assert again.json()["order_id"] == first.json()["order_id"]
    for changed in (
        {**body, "pickup_person": {"name": "Lucas Peeters"}},
        {**body, "pickup_person": None},
        {**body, "locale": "nl"},
        {key: value for key, value in body.items() if key != "locale"},
    ):
        refused = post_order(client, changed, key="same")
        assert refused.status_code == 422, changed
        assert refused.json()["code"] == "idempotency_key_reused"
    assert _order_count(session) == 1


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"pickup_person": {"name": ""}}, "body.pickup_person.name"),
        ({"pickup_person": {"name": "   "}}, "body.pickup_person.name"),
        ({"pickup_person": {"name": "x" * 101}}, "body.pickup_person.name"),
        ({"pickup_person": {"name": "<b>Joost</b>"}}, "body.pickup_person.name"),
        ({"pickup_person": {"name": "Joost\u0000"}}, "body.pickup_person.name"),
        ({"pickup_person": {}}, "body.pickup_person.name"),
        ({"pickup_person": {"name": "Joost", "phone": "+31 6"}}, "body.pickup_person.phone"),
        ({"pickup_person": "Joost de Vries"}, "body.pickup_person"),
        ({"locale": "fr"}, "body.locale"),
        ({"locale": "NL"}, "body.locale"),
        ({"locale": 1}, "body.locale"),
    ],
)
def test_bad_counter_fields_are_refused_naming_the_field(
    client: TestClient, session: Session, open_stores: None, overrides: dict[str, Any], field: str
) -> None:
    response = post_order(client, order_body("S1", BASKET, **overrides))
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["code"] == "validation_error"
    assert field in [e["field"] for e in response.json()["errors"]]
    assert _order_count(session) == 0


def test_picked_and_collected_follow_the_counter_and_staff_see_who(
    client: TestClient, open_stores: None, make_key: KeyFactory
) -> None:
    staff = make_key("staff", store_code="S1", label="S1 desk")
    admin = make_key("admin", label="head office")
    order = _placed(client, order_body("S1", BASKET, pickup_person={"name": "Joost de Vries"}))
    code = order["pickup"]["code"]

    listed = client.get("/staff/v1/stores/S1/orders", headers=staff).json()["items"]
    assert [(o["order_id"], o["customer_name"]) for o in listed] == [(order["order_id"], "Sanne de Vries")]
    assert [(e["status"], e["by"]) for e in listed[0]["history"]] == [("pending", None), ("reserved", None)]
    assert _counter(listed[0]) == _counter(order)

    ready = client.post(f"/staff/v1/orders/{order['order_id']}/ready", headers=admin)
    assert ready.status_code == 200
    assert [(line["quantity"], line["picked"], line["collected"]) for line in ready.json()["lines"]] == [
        (2, 2, None),
        (1, 1, None),
    ]
    assert ready.json()["history"][-1]["by"] == "head office"
    assert _counter(ready.json()) == {
        **UNTOUCHED,
        "pickup_person": {"name": "Joost de Vries"},
        "locale": "nl",
    }

    verified = client.post("/staff/v1/pickups/verify", json={"code": code}, headers=staff).json()
    assert verified["pickup_person"] == {"name": "Joost de Vries"}
    assert [(e["status"], e["by"]) for e in verified["history"]] == [
        ("pending", None),
        ("reserved", None),
        ("ready_for_pickup", "head office"),
    ]

    confirmed = client.post("/staff/v1/pickups/confirm", json={"code": code}, headers=staff)
    assert confirmed.status_code == 200
    assert confirmed.json()["status"] == "collected"
    assert [(line["picked"], line["collected"]) for line in confirmed.json()["lines"]] == [(2, 2), (1, 1)]
    assert [(e["status"], e["by"]) for e in confirmed.json()["history"][-2:]] == [
        ("ready_for_pickup", "head office"),
        ("collected", "S1 desk"),
    ]
    assert _counter(confirmed.json()) == _counter(verified)

    seen = client.get(f"/mobile/v1/orders/{order['order_id']}", headers=order["headers"]).json()
    assert [(line["picked"], line["collected"]) for line in seen["lines"]] == [(2, 2), (1, 1)]
    assert [entry["status"] for entry in seen["history"]] == [
        "pending",
        "reserved",
        "ready_for_pickup",
        "collected",
    ]
    assert all(set(entry) == {"status", "at"} for entry in seen["history"])
    assert _counter(seen) == _counter(verified)


def test_a_key_without_a_label_is_named_by_its_id(
    client: TestClient, open_stores: None, make_key: KeyFactory
) -> None:
    staff = make_key("staff", store_code="S1")
    order = _placed(client, order_body("S1", BASKET))
    ready = client.post(f"/staff/v1/orders/{order['order_id']}/ready", headers=staff).json()
    assert ready["history"][-1]["by"].startswith("key ")
    assert ready["history"][-1]["by"] != "key "


def test_cancelling_answers_the_counter_fields_without_by(
    client: TestClient, open_stores: None, make_key: KeyFactory
) -> None:
    staff = make_key("staff", store_code="S1", label="S1 desk")
    order = _placed(client, order_body("S1", BASKET, locale="en"))
    assert client.post(f"/staff/v1/orders/{order['order_id']}/ready", headers=staff).status_code == 200
    cancelled = client.post(f"/mobile/v1/orders/{order['order_id']}/cancel", headers=order["headers"])
    assert cancelled.status_code == 200
    answer = cancelled.json()
    assert answer["status"] == "cancelled"
    assert _counter(answer) == {**UNTOUCHED, "locale": "en"}
    assert [(line["picked"], line["collected"]) for line in answer["lines"]] == [(2, None), (1, None)]
    assert all(set(entry) == {"status", "at"} for entry in answer["history"])


def test_the_document_describes_the_counter_fields(client: TestClient) -> None:
    schemas = client.get("/openapi.json").json()["components"]["schemas"]
    order_in_example = next(e for e in schemas["OrderIn"]["examples"] if "pickup_person" in e)
    assert order_in_example["locale"] in ("nl", "en")
    counter = {"pickup_person", "locale", "shortages", "arrival", "returns"}
    for name in ("OrderOut", "StaffOrder", "HandOver"):
        assert counter <= set(schemas[name]["properties"]), name
        assert counter <= set(schemas[name]["required"]), name
    for name in ("OrderOut", "StaffOrder"):
        [example] = schemas[name]["examples"]
        # FastAPI leaves the nulls out of the served document's examples (`arrival` here).
        assert counter - {"arrival"} <= set(example), name
    assert "by" not in schemas["HistoryEntry"]["properties"]
    assert "by" in schemas["StaffHistoryEntry"]["properties"]
    assert {"picked", "collected"} <= set(schemas["OrderLineOut"]["properties"])
    assert schemas["Locale"]["enum"] == ["nl", "en"]

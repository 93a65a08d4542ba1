"""Shopper answers that count transfers (API.md, "Every store a distribution point"), on PostgreSQL and
SQLite: `products/{sku}/availability?allow_transfer=true` shows a store that lacks the sku but can get it
by transfer with the `ready_by` an `allow_transfer` order placed then gets, and `stores/nearest` with a
basket and `allow_transfer` counts such a store as holding the basket.

The `open_stores` shop (S1, S2 open around the clock, NO-CNC without click and collect), plus S3 (open
around the clock, 5 THEE, no lane into it) and the warehouse WH, where the shopper stands. MOLEN: 4 at S2,
10 at WH, none elsewhere. Lanes: S2 -> S1 and WH -> NO-CNC, departing at 06:00, 12:00 and 18:00, two hours
on the road.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, event
from sqlmodel import Session

from orders import reservation as reservation_module
from tests.factories import count_stock, make_product, make_stores, order_body, post_order, store_row

pytestmark = pytest.mark.parametrize("engine", ["postgresql", "sqlite"], indirect=True)

KeyFactory = Callable[..., dict[str, str]]
AMS = ZoneInfo("Europe/Amsterdam")
UTRECHT = {"lat": 52.0907, "lon": 5.1214}
# A Monday at 10:00: S2 picks by 11:00, the 12:00 departure reaches S1 at 14:00, S1 picks by 15:00.
AT = datetime(2026, 11, 23, 10, 0, tzinfo=AMS)
BY_TRANSFER = datetime(2026, 11, 23, 15, 0, tzinfo=AMS)
EVERY_DAY = {
    day: ["06:00", "12:00", "18:00"]
    for day in ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
}


@pytest.fixture
def lanes(session: Session, open_stores: None, client: TestClient, make_key: KeyFactory) -> None:
    make_stores(
        session,
        [
            store_row("S3", always_open=True, location={"lat": 52.095, "lon": 5.125}),
            store_row("WH", always_open=True, kind="warehouse", location=dict(UTRECHT)),
        ],
    )
    make_product(session, "MOLEN", price="39.00", name="Koffiemolen")
    count_stock(session, "S2", {"MOLEN": 4})
    count_stock(session, "S3", {"THEE": 5})
    count_stock(session, "WH", {"MOLEN": 10, "KOFFIE": 10, "THEE": 10})
    session.commit()
    _lanes(client, make_key, ("S2", "S1"), ("WH", "NO-CNC"))


def _lanes(client: TestClient, make_key: KeyFactory, *pairs: tuple[str, str]) -> None:
    rows = [{"from_store": a, "to_store": b, "departures": EVERY_DAY, "transit_hours": 2} for a, b in pairs]
    answer = client.put("/admin/v1/transfer-lanes", json={"lanes": rows}, headers=make_key("admin"))
    assert answer.json() == {"applied": len(rows), "errors": []}


def _availability(client: TestClient, sku: str = "MOLEN", **params: Any) -> dict[str, Any]:
    query = {**UTRECHT, "at": AT.isoformat(), **params}
    response = client.get(f"/mobile/v1/products/{sku}/availability", params=query)
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


def _by_code(answer: dict[str, Any], key: str = "stores") -> dict[str, dict[str, Any]]:
    return {store["code"]: store for store in answer[key]}


def _when(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


@pytest.mark.usefixtures("lanes")
def test_a_store_that_can_get_the_sku_by_transfer_shows_when_an_order_would_be_ready(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    stores = _by_code(_availability(client, allow_transfer="true"))
    # Nearest first (NO-CNC and S1 where the shopper stands, by code); never the warehouse.
    assert list(stores) == ["NO-CNC", "S1", "S3", "S2"]
    s1 = stores["S1"]
    assert (s1["available"], s1["status"]) == (0, "out_of_stock")
    assert _when(s1["transfer_ready_by"]) == BY_TRANSFER
    assert _when(s1["pickup_ready_by"]) == datetime(2026, 11, 23, 11, 0, tzinfo=AMS)  # its own shelf's
    assert stores["S3"]["transfer_ready_by"] is None  # no lane into S3
    assert stores["S2"]["available"] == 4
    assert stores["S2"]["transfer_ready_by"] is None  # holds it
    assert stores["NO-CNC"]["transfer_ready_by"] is None  # a lane, but no orders to collect there

    # The order placed then, with allow_transfer, is promised exactly that.
    monkeypatch.setattr(reservation_module, "utcnow", lambda: AT.astimezone(UTC))
    placed = post_order(client, order_body("S1", {"MOLEN": 1}, allow_transfer=True)).json()
    order = client.get(
        placed["status_url"], headers={"Authorization": f"Bearer {placed['order_token']}"}
    ).json()
    assert order["status"] == "reserved", order
    assert [(t["from_store"], t["status"]) for t in order["transfers"]] == [("S2", "planned")]
    assert _when(order["pickup"]["ready_by"]) == _when(s1["transfer_ready_by"])


@pytest.mark.usefixtures("lanes")
def test_without_the_flag_the_answer_is_as_before(client: TestClient, session: Session) -> None:
    plain = _availability(client)
    assert _availability(client, allow_transfer="false") == plain
    assert all("transfer_ready_by" not in store for store in plain["stores"])
    # Once the source has none left to send, the store cannot get it either.
    count_stock(session, "S2", {"MOLEN": 0}, as_of="2026-11-24T06:00:00+01:00")
    session.commit()
    assert _by_code(_availability(client, allow_transfer="true"))["S1"]["transfer_ready_by"] is None


@pytest.mark.usefixtures("lanes")
def test_allow_transfer_takes_true_or_false_only(client: TestClient) -> None:
    for path in ("/mobile/v1/products/MOLEN/availability", "/mobile/v1/stores/nearest"):
        response = client.get(path, params={**UTRECHT, "sku": "MOLEN", "allow_transfer": "maybe"})
        assert response.status_code == 422, response.text
        assert [e["field"] for e in response.json()["errors"]] == ["query.allow_transfer"]
    no_sku = client.get("/mobile/v1/stores/nearest", params={**UTRECHT, "allow_transfer": "true"})
    assert no_sku.status_code == 422
    assert [e["field"] for e in no_sku.json()["errors"]] == ["query.sku"]


def _nearest(client: TestClient, **params: Any) -> dict[str, dict[str, Any]]:
    query = {**UTRECHT, "at": AT.isoformat(), "sku": ["MOLEN", "THEE"], "in_stock": "true", **params}
    response = client.get("/mobile/v1/stores/nearest", params=query)
    assert response.status_code == 200, response.text
    return _by_code(response.json(), "items")


@pytest.mark.usefixtures("lanes")
def test_the_basket_filter_counts_a_store_that_can_get_the_missing_lines_by_transfer(
    client: TestClient,
) -> None:
    assert list(_nearest(client)) == ["S2"]  # the only shelf with MOLEN and THEE
    counted = _nearest(client, allow_transfer="true")
    # S1 has THEE and gets MOLEN from S2; S3 has THEE but no lane; NO-CNC takes no orders.
    assert list(counted) == ["S1", "S2"]
    s1 = counted["S1"]
    assert _when(s1["pickup_ready_by"]) == BY_TRANSFER
    assert s1["has_all"] is False  # what its own shelves hold
    assert [(line["sku"], line["available"]) for line in s1["availability"]] == [("MOLEN", 0), ("THEE", 10)]
    assert _when(counted["S2"]["pickup_ready_by"]) == datetime(2026, 11, 23, 11, 0, tzinfo=AMS)

    # Without the filter every store is listed; the promise still counts the transfer.
    unfiltered = _nearest(client, allow_transfer="true", in_stock="false")
    assert list(unfiltered) == ["NO-CNC", "S1", "S3", "S2"]
    assert _when(unfiltered["S1"]["pickup_ready_by"]) == BY_TRANSFER
    assert _when(unfiltered["S3"]["pickup_ready_by"]) == datetime(2026, 11, 23, 11, 0, tzinfo=AMS)
    plain = _nearest(client, in_stock="false")
    assert _when(plain["S1"]["pickup_ready_by"]) == datetime(2026, 11, 23, 11, 0, tzinfo=AMS)


@contextmanager
def _selects(engine: Engine) -> Iterator[list[str]]:
    seen: list[str] = []

    def note(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            seen.append(statement)

    event.listen(engine, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", note)


@pytest.mark.usefixtures("lanes")
def test_transfers_cost_two_queries_whatever_the_number_of_stores(
    client: TestClient, session: Session, engine: Engine, make_key: KeyFactory
) -> None:
    # MOLEN: S1 (from S2) and S3 (from WH) can get it; THEE, sold out at S3: S3 alone (from WH).
    _lanes(client, make_key, ("WH", "S3"))
    count_stock(session, "S3", {"THEE": 0}, as_of="2026-11-24T06:00:00+01:00")
    session.commit()
    molen = _by_code(_availability(client, "MOLEN", allow_transfer="true"))
    assert [c for c, s in molen.items() if s["transfer_ready_by"] is not None] == ["S1", "S3"]
    thee = _by_code(_availability(client, "THEE", allow_transfer="true"))
    assert [c for c, s in thee.items() if s["transfer_ready_by"] is not None] == ["S3"]
    counts = {}
    for sku in ("MOLEN", "THEE"):
        for flag in ("false", "true"):
            _availability(client, sku, allow_transfer=flag)  # warm: the store network, the catalogue
            with _selects(engine) as seen:
                _availability(client, sku, allow_transfer=flag)
            counts[sku, flag] = len(seen)
    assert counts["MOLEN", "false"] == counts["THEE", "false"]
    assert counts["MOLEN", "true"] - counts["MOLEN", "false"] == 2  # the lanes, the stock
    assert counts["THEE", "true"] - counts["THEE", "false"] == 2


@pytest.mark.usefixtures("lanes")
def test_the_missing_lines_must_all_come_from_one_source(
    client: TestClient, session: Session, make_key: KeyFactory
) -> None:
    # S1 lacks MOLEN (at S2) and FILTER (at S3): each has a lane into S1, neither holds both.
    make_product(session, "FILTER", price="4.00")
    count_stock(session, "S3", {"FILTER": 6})
    session.commit()
    _lanes(client, make_key, ("S3", "S1"))
    assert "S1" not in _nearest(client, sku=["MOLEN", "FILTER"], allow_transfer="true")
    # Either alone travels.
    assert "S1" in _nearest(client, sku=["FILTER", "THEE"], allow_transfer="true")
    assert "S1" in _nearest(client, sku=["MOLEN", "THEE"], allow_transfer="true")


@pytest.mark.usefixtures("lanes")
def test_a_cursor_continues_only_the_query_it_came_from(client: TestClient) -> None:
    # With the flag the in_stock filter passes other stores: its cursor is not one of the query without.
    query = {**UTRECHT, "at": AT.isoformat(), "sku": ["MOLEN", "THEE"], "in_stock": "true", "limit": 1}
    counted = {**query, "allow_transfer": "true"}
    first = client.get("/mobile/v1/stores/nearest", params=counted).json()
    assert [item["code"] for item in first["items"]] == ["S1"]
    cursor = first["next_cursor"]
    more = client.get("/mobile/v1/stores/nearest", params={**counted, "cursor": cursor})
    assert [item["code"] for item in more.json()["items"]] == ["S2"]
    other = client.get("/mobile/v1/stores/nearest", params={**query, "cursor": cursor})
    assert (other.status_code, other.json()["code"]) == (422, "invalid_cursor")


def test_the_flag_and_the_field_are_documented(client: TestClient) -> None:
    document = client.get("/openapi.json").json()
    assert "transfer_ready_by" in document["components"]["schemas"]["StoreAvailability"]["properties"]
    for path in ("/mobile/v1/products/{sku}/availability", "/mobile/v1/stores/nearest"):
        parameters = {p["name"]: p for p in document["paths"][path]["get"]["parameters"]}
        schema = parameters["allow_transfer"]["schema"]
        assert (schema["type"], schema["default"]) == ("boolean", False)
        assert "transfer" in parameters["allow_transfer"]["description"]

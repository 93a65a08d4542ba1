"""`pickup_ready_by` in `stores/nearest` and `products/{sku}/availability` is the promise an order placed
then would get (API.md, "Every store a distribution point"): the store view's fast answer is the hours
engine's, and capacity and cutoff move it as they move an order's `ready_by`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from orders import reservation as reservation_module
from stores import service as stores_service
from stores.hours import add_open_time
from tests.factories import make_stores, order_body, post_order, store_row

pytestmark = pytest.mark.parametrize("engine", ["postgresql", "sqlite"], indirect=True)

AMS = ZoneInfo("Europe/Amsterdam")
UTRECHT = {"lat": 52.0907, "lon": 5.1214}


def test_the_views_fast_answer_is_the_engines_at_every_instant(session: Session) -> None:
    # Split days, an overnight period, a closed Sunday, and the DST night of 29 March 2026 in the week.
    hours = {
        "weekly": {
            "monday": [{"opens": "09:00", "closes": "12:00"}, {"opens": "13:00", "closes": "18:00"}],
            "tuesday": [{"opens": "09:00", "closes": "18:00"}],
            "wednesday": [{"opens": "09:00", "closes": "18:00"}],
            "thursday": [{"opens": "09:00", "closes": "21:00"}],
            "friday": [{"opens": "22:00", "closes": "03:00"}],
            "saturday": [{"opens": "03:30", "closes": "05:00"}],
        },
        "special": [],
    }
    make_stores(session, [store_row("S-FAST", hours=hours, pick_minutes=45)])
    view = stores_service.shopper_store(session, code="S-FAST")
    at = datetime(2026, 3, 23, 0, 0, tzinfo=AMS)
    while at < datetime(2026, 3, 31, tzinfo=AMS):
        expected = add_open_time(view.schedule, at, timedelta(minutes=45))
        assert expected is not None
        answer = view.picked_after(at)
        assert answer is not None
        assert answer.astimezone(UTC) == expected.astimezone(UTC), at
        at += timedelta(minutes=7)
    # From each local midnight (where a promise moved to a later day starts), asked between instants of
    # the present, as a page of promises asks: the same answers, the DST night's midnight included.
    present = datetime(2026, 3, 23, 10, 0, tzinfo=AMS)
    for day in range(23, 31):
        midnight = datetime(2026, 3, day, tzinfo=AMS)
        for start in (present, midnight, present + timedelta(minutes=day), midnight):
            expected = add_open_time(view.schedule, start, timedelta(minutes=45))
            assert view.picked_after(start) == expected, start


def _nearest(client: TestClient, at: datetime) -> dict[str, Any]:
    items = client.get("/mobile/v1/stores/nearest", params={**UTRECHT, "at": at.isoformat()}).json()["items"]
    return {item["code"]: item for item in items}


@pytest.mark.usefixtures("open_stores")
def test_nearest_and_availability_show_the_promise_an_order_then_gets(
    client: TestClient, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = datetime(2026, 4, 20, 17, 30, tzinfo=AMS)  # Monday; S1 closes at 18:00 and picks in 60 minutes
    make_stores(session, [store_row("S1", pick_minutes=60)])
    shown = _nearest(client, at)
    assert datetime.fromisoformat(shown["S1"]["pickup_ready_by"]) == datetime(2026, 4, 21, 9, 30, tzinfo=AMS)
    assert shown["NO-CNC"]["pickup_ready_by"] is None
    availability = client.get(
        "/mobile/v1/products/KOFFIE/availability", params={**UTRECHT, "at": at.isoformat()}
    ).json()
    by_code = {store["code"]: store["pickup_ready_by"] for store in availability["stores"]}
    assert by_code["S1"] == shown["S1"]["pickup_ready_by"]

    monkeypatch.setattr(reservation_module, "utcnow", lambda: at.astimezone(UTC))
    placed = post_order(client, order_body("S1", {"THEE": 1})).json()
    order = client.get(
        placed["status_url"], headers={"Authorization": f"Bearer {placed['order_token']}"}
    ).json()
    promised = datetime.fromisoformat(order["pickup"]["ready_by"])
    assert promised == datetime.fromisoformat(shown["S1"]["pickup_ready_by"])


@pytest.mark.usefixtures("open_stores")
def test_a_full_day_or_a_passed_cutoff_shows_the_next_opening_day(
    client: TestClient, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = datetime(2026, 4, 20, 10, 0, tzinfo=AMS)
    make_stores(
        session,
        [
            store_row("S1", pick_minutes=60, daily_order_capacity=1),
            store_row("S2", pick_minutes=60, same_day_cutoff="09:30", location={"lat": 52.1, "lon": 5.13}),
        ],
    )
    shown = _nearest(client, at)
    assert datetime.fromisoformat(shown["S1"]["pickup_ready_by"]) == datetime(2026, 4, 20, 11, tzinfo=AMS)
    assert datetime.fromisoformat(shown["S2"]["pickup_ready_by"]) == datetime(2026, 4, 21, 10, tzinfo=AMS)

    monkeypatch.setattr(reservation_module, "utcnow", lambda: at.astimezone(UTC))
    assert post_order(client, order_body("S1", {"THEE": 1})).status_code == 202
    # S1's Monday is now full: an order placed now would be ready Tuesday.
    again = _nearest(client, at)
    assert datetime.fromisoformat(again["S1"]["pickup_ready_by"]) == datetime(2026, 4, 21, 10, tzinfo=AMS)


def test_the_pickup_ready_by_is_documented(client: TestClient) -> None:
    schemas = client.get("/openapi.json").json()["components"]["schemas"]
    assert "pickup_ready_by" in schemas["NearestStore"]["properties"]
    assert "pickup_ready_by" in schemas["StoreAvailability"]["properties"]

"""Shopper store endpoints: nearest, one store, resolved hours; success and every error path."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from geopy.distance import geodesic
from sqlmodel import Session

from stores import service as stores_service
from tests.factories import (
    apply_counts,
    count_row,
    make_products,
    make_store,
    make_stores,
    product_row,
    store_row,
)

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
UTRECHT = (52.0907, 5.1214)


def _weekly(opens: str, closes: str, days: tuple[str, ...] = WEEKDAYS) -> dict[str, Any]:
    return {"weekly": {day: [{"opens": opens, "closes": closes}] for day in days}, "special": []}


def _chain(session: Session) -> None:
    rows = [
        store_row("UT-CENTRUM", location={"lat": 52.0907, "lon": 5.1214}),
        store_row("UT-ZUID", location={"lat": 52.0700, "lon": 5.1100}, click_and_collect=False),
        store_row("AMS-24", always_open=True, location={"lat": 52.3791, "lon": 4.9003}),
        store_row("RTD-NACHT", location={"lat": 51.9244, "lon": 4.4777}, hours=_weekly("18:00", "04:00")),
        # Two stores on the same spot: equal distances must come out ordered by code.
        store_row("DH-B", location={"lat": 52.0705, "lon": 4.3007}),
        store_row("DH-A", location={"lat": 52.0705, "lon": 4.3007}),
        store_row(
            "BE-ANT",
            location={"lat": 51.2194, "lon": 4.4025},
            address={"city": "Antwerpen", "country": "BE"},
            timezone="Europe/Brussels",
        ),
    ]
    make_stores(session, rows)
    session.commit()


@pytest.fixture
def store_chain(session: Session) -> None:
    """`_chain` in the test's session."""
    _chain(session)


def _nearest(client: TestClient, **params: Any) -> Any:
    return client.get("/mobile/v1/stores/nearest", params=params)


@pytest.mark.parametrize("engine", ["postgresql", "sqlite"], indirect=True)
def test_nearest_ranks_by_geodesic_distance_with_ties_by_code(client: TestClient, store_chain: None) -> None:
    response = _nearest(client, lat=UTRECHT[0], lon=UTRECHT[1], limit=50, at="2026-11-23T12:00:00+01:00")
    assert response.status_code == 200
    body = response.json()
    assert body["origin"] == {"lat": UTRECHT[0], "lon": UTRECHT[1], "name": None}
    codes = [item["code"] for item in body["items"]]
    assert codes == ["UT-CENTRUM", "UT-ZUID", "AMS-24", "RTD-NACHT", "DH-A", "DH-B", "BE-ANT"]
    for item in body["items"]:
        expected = geodesic(UTRECHT, (item["location"]["lat"], item["location"]["lon"])).km
        assert abs(item["distance_km"] - expected) < 0.001
    assert body["next_cursor"] is None
    first = body["items"][0]
    assert first["open_now"] is True
    assert first["today"] == [{"opens": "09:00", "closes": "18:00"}]
    assert first["next_change"] == {"at": "2026-11-23T18:00:00+01:00", "open": False}
    assert first["address"]["city"] == "Utrecht"
    twenty_four_seven = next(item for item in body["items"] if item["code"] == "AMS-24")
    assert twenty_four_seven["open_now"] is True
    assert twenty_four_seven["next_change"] is None


def test_nearest_limit_and_cursor_walk_the_whole_ranking_once(client: TestClient, store_chain: None) -> None:
    seen: list[str] = []
    cursor = None
    for _ in range(10):
        params: dict[str, Any] = {"lat": UTRECHT[0], "lon": UTRECHT[1], "limit": 2}
        if cursor:
            params["cursor"] = cursor
        body = _nearest(client, **params).json()
        seen.extend(item["code"] for item in body["items"])
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert seen == ["UT-CENTRUM", "UT-ZUID", "AMS-24", "RTD-NACHT", "DH-A", "DH-B", "BE-ANT"]


def test_nearest_filters(client: TestClient, store_chain: None) -> None:
    at_3am = "2026-11-24T03:00:00+01:00"
    open_at_night = _nearest(client, lat=UTRECHT[0], lon=UTRECHT[1], open_now="true", at=at_3am).json()
    assert [i["code"] for i in open_at_night["items"]] == ["AMS-24", "RTD-NACHT"]
    night = next(i for i in open_at_night["items"] if i["code"] == "RTD-NACHT")
    assert night["next_change"] == {"at": "2026-11-24T04:00:00+01:00", "open": False}

    # A client's unticked box sends false: that means "no filter", never "closed stores only".
    unfiltered = _nearest(client, lat=UTRECHT[0], lon=UTRECHT[1], open_now="false", at=at_3am, limit=2).json()
    assert [i["code"] for i in unfiltered["items"]] == ["UT-CENTRUM", "UT-ZUID"]
    assert [i["open_now"] for i in unfiltered["items"]] == [False, False]

    cnc = _nearest(client, lat=UTRECHT[0], lon=UTRECHT[1], click_and_collect="true", limit=3).json()
    assert [i["code"] for i in cnc["items"]] == ["UT-CENTRUM", "AMS-24", "RTD-NACHT"]
    no_cnc_filter = _nearest(
        client, lat=UTRECHT[0], lon=UTRECHT[1], click_and_collect="false", limit=2
    ).json()
    assert [i["code"] for i in no_cnc_filter["items"]] == ["UT-CENTRUM", "UT-ZUID"]

    within_5km = _nearest(client, lat=UTRECHT[0], lon=UTRECHT[1], radius_km=5).json()
    assert [i["code"] for i in within_5km["items"]] == ["UT-CENTRUM", "UT-ZUID"]


def test_nearest_by_place_name(client: TestClient, store_chain: None) -> None:
    body = _nearest(client, q="Antwerpen", limit=1).json()
    assert body["items"][0]["code"] == "BE-ANT"
    assert body["origin"]["name"]
    assert abs(body["origin"]["lat"] - 51.22) < 0.05

    missing = _nearest(client, q="Atlantis-aan-Zee")
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"
    assert missing.json()["code"] == "place_not_found"


@pytest.mark.parametrize(
    ("q", "name"), [("Den Haag", "Den Haag"), ("s-gravenhage", "'s-Gravenhage"), ("The Hague", "The Hague")]
)
def test_nearest_names_the_place_as_the_shopper_wrote_it(
    client: TestClient, store_chain: None, q: str, name: str
) -> None:
    body = _nearest(client, q=q, limit=2).json()
    assert body["origin"] == {"lat": 52.07667, "lon": 4.29861, "name": name}
    assert [item["code"] for item in body["items"]] == ["DH-A", "DH-B"]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({}, "query.lat"),
        ({"lat": 52.1}, "query.lon"),
        ({"lon": 5.1}, "query.lat"),
        ({"lat": 91, "lon": 5.1}, "query.lat"),
        ({"lat": 52.1, "lon": -180.5}, "query.lon"),
        ({"lat": "nan", "lon": 5.1}, "query.lat"),
        ({"lat": "abc", "lon": 5.1}, "query.lat"),
        ({"lat": 52.1, "lon": 5.1, "limit": 0}, "query.limit"),
        ({"lat": 52.1, "lon": 5.1, "limit": 51}, "query.limit"),
        ({"lat": 52.1, "lon": 5.1, "radius_km": -1}, "query.radius_km"),
        ({"lat": 52.1, "lon": 5.1, "cursor": "!!not-a-cursor!!"}, "query.cursor"),
        ({"lat": 52.1, "lon": 5.1, "at": "2026-11-23T12:00:00"}, "query.at"),
        ({"q": "x" * 201}, "query.q"),
    ],
)
def test_nearest_rejects_bad_input_naming_the_field(
    client: TestClient, params: dict[str, Any], field: str
) -> None:
    response = _nearest(client, **params)
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == 422
    assert field in [error["field"] for error in body["errors"]]


@pytest.mark.parametrize("engine", ["postgresql", "sqlite"], indirect=True)
def test_store_detail(client: TestClient, store_chain: None) -> None:
    response = client.get("/mobile/v1/stores/UT-CENTRUM", params={"at": "2026-11-22T12:00:00+01:00"})
    assert response.status_code == 200
    body = response.json()
    assert body["code"] == "UT-CENTRUM"
    assert body["timezone"] == "Europe/Amsterdam"
    assert body["location"] == {"lat": 52.0907, "lon": 5.1214}
    assert body["hours"]["weekly"]["sunday"] == []
    assert body["hours"]["weekly"]["monday"] == [{"opens": "09:00", "closes": "18:00"}]
    assert body["hours"]["special"] == []
    assert body["open_now"] is False  # a Sunday
    assert body["next_change"] == {"at": "2026-11-23T09:00:00+01:00", "open": True}


def test_unknown_store_is_a_problem_404(client: TestClient) -> None:
    for path in ("/mobile/v1/stores/NOPE", "/mobile/v1/stores/NOPE/hours"):
        response = client.get(path)
        assert response.status_code == 404
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["code"] == "store_not_found"


def test_resolved_hours_with_holiday_special_day_and_overnight(
    client: TestClient, session: Session, make_key: Callable[..., dict[str, str]]
) -> None:
    hours = _weekly("20:00", "02:00")
    hours["special"] = [
        {
            "date": "2026-04-28",
            "closed": False,
            "periods": [{"opens": "10:00", "closes": "14:00"}],
            "reason": "Inventaris",
        }
    ]
    make_store(session, "NL-NACHT", hours=hours)
    session.commit()
    response = client.get("/mobile/v1/stores/NL-NACHT/hours", params={"start": "2026-04-26", "days": 3})
    assert response.status_code == 200
    assert response.json() == {
        "store_code": "NL-NACHT",
        "timezone": "Europe/Amsterdam",
        "days": [
            {
                "date": "2026-04-26",
                "closed": False,
                "periods": [{"opens": "20:00", "closes": "02:00"}],
                "reason": None,
            },
            {"date": "2026-04-27", "closed": True, "periods": [], "reason": "Koningsdag"},
            {
                "date": "2026-04-28",
                "closed": False,
                "periods": [{"opens": "10:00", "closes": "14:00"}],
                "reason": "Inventaris",
            },
        ],
    }


def test_resolved_hours_defaults_to_a_week_from_today(client: TestClient, store_chain: None) -> None:
    body = client.get("/mobile/v1/stores/UT-CENTRUM/hours").json()
    assert len(body["days"]) == 7
    dates = [day["date"] for day in body["days"]]
    assert dates == sorted(dates)


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"days": 0}, "query.days"),
        ({"days": 32}, "query.days"),
        ({"start": "2026-13-01"}, "query.start"),
        ({"start": "9999-01-01"}, "query.start"),
        ({"start": "0001-01-01"}, "query.start"),
    ],
)
def test_resolved_hours_rejects_bad_input(
    client: TestClient, store_chain: None, params: dict[str, Any], field: str
) -> None:
    response = client.get("/mobile/v1/stores/UT-CENTRUM/hours", params=params)
    assert response.status_code == 422
    assert field in [error["field"] for error in response.json()["errors"]]


def test_a_filter_that_rejects_many_stores_pages_instead_of_walking_the_chain(
    client: TestClient, store_chain: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(stores_service, "MAX_EXAMINED", 2)
    params: dict[str, Any] = {"lat": UTRECHT[0], "lon": UTRECHT[1], "open_now": "true", "limit": 5}
    params["at"] = "2026-11-24T03:00:00+01:00"
    first = _nearest(client, **params).json()
    # The two nearest stores are closed at 3 a.m.: the page is empty but says where to carry on.
    assert first["items"] == []
    assert first["next_cursor"] is not None
    seen: list[str] = []
    cursor = first["next_cursor"]
    while cursor:
        body = _nearest(client, **params, cursor=cursor).json()
        seen.extend(item["code"] for item in body["items"])
        cursor = body["next_cursor"]
    assert seen == ["AMS-24", "RTD-NACHT"]


def _stock_for_basket(session: Session) -> None:
    make_products(session, [product_row(sku, name=f"Artikel {sku}") for sku in ("P1", "P2")])
    counts = [("UT-CENTRUM", "P1", 5), ("UT-CENTRUM", "P2", 1), ("UT-ZUID", "P1", 0), ("UT-ZUID", "P2", 9)]
    counts += [("AMS-24", "P1", 3), ("AMS-24", "P2", 3), ("RTD-NACHT", "P1", 4)]
    apply_counts(session, [count_row(store, sku, n) for store, sku, n in counts])
    session.commit()


@pytest.mark.parametrize("engine", ["postgresql", "sqlite"], indirect=True)
def test_nearest_with_a_basket_reports_stock_and_filters_on_it(
    client: TestClient, session: Session, store_chain: None
) -> None:
    _stock_for_basket(session)
    params: dict[str, Any] = {"lat": UTRECHT[0], "lon": UTRECHT[1], "limit": 4, "sku": ["P1", "P2", "P1"]}
    body = _nearest(client, **params).json()
    by_code = {item["code"]: item for item in body["items"]}
    assert list(by_code) == ["UT-CENTRUM", "UT-ZUID", "AMS-24", "RTD-NACHT"]
    assert by_code["UT-CENTRUM"]["availability"] == [
        {
            "sku": "P1",
            "available": 5,
            "status": "in_stock",
            "as_of": "2026-11-23T05:00:00Z",
            "confidence": "high",
        },
        {
            "sku": "P2",
            "available": 1,
            "status": "limited_availability",
            "as_of": "2026-11-23T05:00:00Z",
            "confidence": "high",
        },
    ]
    assert by_code["UT-CENTRUM"]["has_all"] is True
    assert by_code["UT-ZUID"]["availability"][0] == {
        "sku": "P1",
        "available": 0,
        "status": "out_of_stock",
        "as_of": "2026-11-23T05:00:00Z",
        "confidence": "high",
    }
    assert by_code["UT-ZUID"]["has_all"] is False
    assert by_code["RTD-NACHT"]["availability"][1] == {  # never counted there
        "sku": "P2",
        "available": 0,
        "status": "out_of_stock",
        "as_of": None,
        "confidence": "low",
    }

    in_stock = _nearest(client, **params, in_stock="true").json()
    assert [item["code"] for item in in_stock["items"]] == ["UT-CENTRUM", "AMS-24"]
    assert all(item["has_all"] for item in in_stock["items"])

    plain = _nearest(client, lat=UTRECHT[0], lon=UTRECHT[1], limit=1).json()
    assert "availability" not in plain["items"][0]
    assert "has_all" not in plain["items"][0]


def test_nearest_basket_errors(client: TestClient, session: Session, store_chain: None) -> None:
    _stock_for_basket(session)
    unknown = _nearest(client, lat=UTRECHT[0], lon=UTRECHT[1], sku=["P1", "NOPE"])
    assert unknown.status_code == 422
    assert unknown.json()["code"] == "unknown_sku"
    assert unknown.json()["errors"][0]["field"] == "query.sku"
    no_sku = _nearest(client, lat=UTRECHT[0], lon=UTRECHT[1], in_stock="true")
    assert no_sku.status_code == 422
    assert no_sku.json()["errors"][0]["field"] == "query.sku"
    too_many = _nearest(client, lat=UTRECHT[0], lon=UTRECHT[1], sku=[f"S{i}" for i in range(21)])
    assert too_many.status_code == 422
    assert too_many.json()["errors"][0]["field"] == "query.sku"

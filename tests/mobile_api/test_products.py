"""Shopper product endpoints: one product, availability at the nearest stores, price comparison; success
and every error path (the search is in test_product_search.py). Data goes in through the real services,
answers are checked value by value."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from geopy.distance import geodesic
from sqlmodel import Session

from inventory import service as inventory_service
from tests.factories import (
    apply_counts,
    count_row,
    make_products,
    make_stores,
    product_row,
    stock_of,
    store_row,
)

UTRECHT = (52.0907, 5.1214)
MONDAY_NOON = "2026-11-23T12:00:00+01:00"
ONE_HOUR_AFTER_NOON = "2026-11-23T13:00:00+01:00"
SUNDAY_NOON = "2026-11-22T12:00:00+01:00"
BOTH_DATABASES = pytest.mark.parametrize("engine", ["postgresql", "sqlite"], indirect=True)

# Store code -> location, nearest to UTRECHT first.
LOCATIONS = {
    "UT-CENTRUM": (52.0907, 5.1214),
    "UT-ZUID": (52.0700, 5.1100),
    "AMS": (52.3791, 4.9003),
    "RTD": (51.9244, 4.4777),
}


def eur(amount: str) -> dict[str, str]:
    return {"amount": amount, "currency": "EUR"}


def _stores(session: Session) -> None:
    # UT-ZUID counts up to 5 as "limited"; the others keep the default of 2.
    thresholds: dict[str, dict[str, Any]] = {"UT-ZUID": {"low_stock_threshold": 5}}
    rows = [
        store_row(code, location={"lat": lat, "lon": lon}, **thresholds.get(code, {}))
        for code, (lat, lon) in LOCATIONS.items()
    ]
    make_stores(session, rows)


def _prices(session: Session, *prices: tuple[str, str, str]) -> None:
    rows = [{"store_code": store, "sku": sku, "price": eur(amount)} for store, sku, amount in prices]
    assert inventory_service.upsert_store_prices(session, rows=rows).errors == []


def _snapshot(session: Session, *counts: tuple[str, str, int]) -> None:
    result = apply_counts(session, [count_row(store, sku, n) for store, sku, n in counts])
    assert result.applied == len(counts)


def _set_stock(session: Session, store_code: str, sku: str, **fields: int) -> None:
    row = stock_of(session, store_code, sku)
    for name, value in fields.items():
        setattr(row, name, value)
    session.add(row)
    session.commit()


def _km(code: str) -> float:
    km: float = geodesic(UTRECHT, LOCATIONS[code]).km
    return round(km, 3)


def _problem(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert body["code"] == code
    return body


# ----------------------------------------------------------------------------------------------- product


@pytest.fixture
def detail_products(session: Session) -> None:
    """CB-1 with every field the webshop can give, and GTIN8 with only the ones it must."""
    make_products(
        session,
        [
            product_row(
                "CB-1",
                price="24.95",
                name="Crème Brûlée Brander",
                ean="8712345678906",
                brand="Keukenhulp",
                description="Brander voor het karamelliseren van suiker.",
                image_url="https://images.example/cb-1.jpg",
                category="Keuken > Gereedschap",
                store_price=eur("26.50"),
                online_stock=2,
            ),
            product_row("GTIN8", price="9.99", name="Tandenstokers", ean="96385074"),
        ],
    )
    session.commit()


@BOTH_DATABASES
def test_product_detail(client: TestClient, detail_products: None) -> None:
    response = client.get("/mobile/v1/products/CB-1")
    assert response.status_code == 200
    assert response.json() == {
        "sku": "CB-1",
        "ean": "8712345678906",
        "name": "Crème Brûlée Brander",
        "brand": "Keukenhulp",
        "description": "Brander voor het karamelliseren van suiker.",
        "image_url": "https://images.example/cb-1.jpg",
        "category": "Keuken > Gereedschap",
        "online_price": eur("24.95"),
        "store_price": eur("26.50"),
        "online_availability": {"available": 2, "status": "limited_availability"},
    }
    bare = client.get("/mobile/v1/products/GTIN8").json()
    assert bare["online_price"] == eur("9.99")
    assert bare["store_price"] == eur("9.99")  # the online price when the webshop gave none
    assert bare["online_availability"] == {"available": 0, "status": "out_of_stock"}
    # Texts the webshop gave none of are null, not "".
    assert (bare["brand"], bare["description"], bare["image_url"], bare["category"]) == (
        None,
        None,
        None,
        None,
    )


def test_unknown_product_is_a_problem_404(client: TestClient, detail_products: None) -> None:
    for suffix, params in (
        ("", {}),
        ("/availability", {"lat": UTRECHT[0], "lon": UTRECHT[1]}),
        ("/prices", {"lat": UTRECHT[0], "lon": UTRECHT[1]}),
        ("/prices", {"store": "UT-CENTRUM"}),
    ):
        response = client.get(f"/mobile/v1/products/NOPE{suffix}", params=params)
        body = _problem(response, 404, "product_not_found")
        assert body["detail"] == "no product with sku 'NOPE'"


def test_an_overlong_sku_is_a_validation_error(client: TestClient) -> None:
    body = _problem(client.get("/mobile/v1/products/" + "X" * 65), 422, "validation_error")
    assert [error["field"] for error in body["errors"]] == ["path.sku"]


# ------------------------------------------------------------------------------------------ availability

# What each store entry says of its count (inventory/confidence.py): counted at COUNTED_AT, judged as of
# tests/conftest.py's instant, under a week before; or never counted there.
COUNTED = {"as_of": "2026-11-23T05:00:00Z", "confidence": "high"}
NEVER = {"as_of": None, "confidence": "low"}


@pytest.fixture
def stocked(session: Session) -> None:
    """KOF-1 in four stores: limited by reserved and safety stock, limited at a store's own threshold, in
    stock just above the default threshold, and no stock row at all."""
    _stores(session)
    make_products(
        session,
        [
            product_row(
                "KOF-1", price="12.99", name="Koffiebonen 1 kg", store_price=eur("13.49"), online_stock=40
            ),
            product_row("KB/2", price="5.00", name="Koffiebonen met schuine streep"),
        ],
    )
    _snapshot(session, ("UT-CENTRUM", "KOF-1", 7), ("UT-ZUID", "KOF-1", 5), ("AMS", "KOF-1", 3))
    _prices(session, ("UT-CENTRUM", "KOF-1", "11.49"), ("AMS", "KOF-1", "12.99"))
    session.commit()
    # 7 on hand, 2 held for orders and 3 kept back: 2 can be sold, "limited" at the default threshold of 2.
    _set_stock(session, "UT-CENTRUM", "KOF-1", reserved=2, safety_stock=3)


def _availability(client: TestClient, sku: str = "KOF-1", **params: Any) -> Any:
    query = {"lat": UTRECHT[0], "lon": UTRECHT[1], "at": MONDAY_NOON, **params}
    return client.get(f"/mobile/v1/products/{sku}/availability", params=query)


@BOTH_DATABASES
def test_availability_at_the_nearest_stores(client: TestClient, stocked: None) -> None:
    response = _availability(client)
    assert response.status_code == 200
    assert response.json() == {
        "sku": "KOF-1",
        "online": {"available": 40, "status": "in_stock"},
        "stores": [
            {
                "code": "UT-CENTRUM",
                "name": "Winkelpunt UT-CENTRUM",
                "distance_km": 0.0,
                "available": 2,
                "status": "limited_availability",
                **COUNTED,
                "price": eur("11.49"),
                "open_now": True,
                "pickup_ready_by": ONE_HOUR_AFTER_NOON,  # pick_minutes 60, open until 18:00
            },
            {
                "code": "UT-ZUID",
                "name": "Winkelpunt UT-ZUID",
                "distance_km": _km("UT-ZUID"),
                "available": 5,
                "status": "limited_availability",  # 5 is within this store's own threshold of 5
                **COUNTED,
                "price": eur("13.49"),  # no price of its own: the product's store price
                "open_now": True,
                "pickup_ready_by": ONE_HOUR_AFTER_NOON,  # pick_minutes 60, open until 18:00
            },
            {
                "code": "AMS",
                "name": "Winkelpunt AMS",
                "distance_km": _km("AMS"),
                "available": 3,
                "status": "in_stock",
                **COUNTED,
                "price": eur("12.99"),
                "open_now": True,
                "pickup_ready_by": ONE_HOUR_AFTER_NOON,  # pick_minutes 60, open until 18:00
            },
            {
                "code": "RTD",
                "name": "Winkelpunt RTD",
                "distance_km": _km("RTD"),
                "available": 0,  # no stock row at all
                "status": "out_of_stock",
                **NEVER,
                "price": eur("13.49"),
                "open_now": True,
                "pickup_ready_by": ONE_HOUR_AFTER_NOON,  # pick_minutes 60, open until 18:00
            },
        ],
    }


@BOTH_DATABASES
def test_availability_follows_reserved_and_safety_stock(
    client: TestClient, session: Session, stocked: None
) -> None:
    def centrum() -> tuple[int, str]:
        store = _availability(client, limit=1).json()["stores"][0]
        assert store["code"] == "UT-CENTRUM"
        return store["available"], store["status"]

    _set_stock(session, "UT-CENTRUM", "KOF-1", reserved=0, safety_stock=0)
    assert centrum() == (7, "in_stock")
    _set_stock(session, "UT-CENTRUM", "KOF-1", reserved=4)
    assert centrum() == (3, "in_stock")
    _set_stock(session, "UT-CENTRUM", "KOF-1", safety_stock=2)
    assert centrum() == (1, "limited_availability")
    _set_stock(session, "UT-CENTRUM", "KOF-1", reserved=5)
    assert centrum() == (0, "out_of_stock")
    # More held back than on the shelf: still 0, never negative.
    _set_stock(session, "UT-CENTRUM", "KOF-1", reserved=6, safety_stock=6)
    assert centrum() == (0, "out_of_stock")


def test_availability_limit_radius_and_opening_hours(client: TestClient, stocked: None) -> None:
    two = _availability(client, limit=2).json()
    assert [s["code"] for s in two["stores"]] == ["UT-CENTRUM", "UT-ZUID"]
    near = _availability(client, radius_km=10).json()
    assert [s["code"] for s in near["stores"]] == ["UT-CENTRUM", "UT-ZUID"]
    nothing_near = _availability(client, lat=53.2, lon=6.56, radius_km=5).json()
    assert nothing_near == {"sku": "KOF-1", "online": {"available": 40, "status": "in_stock"}, "stores": []}
    sunday = _availability(client, at=SUNDAY_NOON).json()
    assert [s["open_now"] for s in sunday["stores"]] == [False, False, False, False]


def test_a_sku_with_a_slash_is_reachable(client: TestClient, stocked: None) -> None:
    assert client.get("/mobile/v1/products/KB/2").json()["name"] == "Koffiebonen met schuine streep"
    availability = _availability(client, sku="KB/2", limit=1).json()
    assert availability["sku"] == "KB/2"
    assert availability["stores"][0]["status"] == "out_of_stock"
    prices = client.get("/mobile/v1/products/KB/2/prices", params={"store": "AMS"}).json()
    assert prices["cheapest"] == {"channel": "online", "store_code": None, "price": eur("5.00")}


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"lat": None, "lon": None}, "query.lat"),
        ({"lat": None, "lon": None}, "query.lon"),
        ({"lat": None}, "query.lat"),
        ({"lon": None}, "query.lon"),
        ({"lat": 91}, "query.lat"),
        ({"lat": -90.5}, "query.lat"),
        ({"lon": 180.5}, "query.lon"),
        ({"lat": "nan"}, "query.lat"),
        ({"lon": "inf"}, "query.lon"),
        ({"lat": "abc"}, "query.lat"),
        ({"limit": 0}, "query.limit"),
        ({"limit": 51}, "query.limit"),
        ({"radius_km": 0}, "query.radius_km"),
        ({"radius_km": -1}, "query.radius_km"),
        ({"radius_km": "inf"}, "query.radius_km"),
        ({"at": "2026-11-23T12:00:00"}, "query.at"),
    ],
)
def test_availability_rejects_bad_input_naming_the_field(
    client: TestClient, stocked: None, params: dict[str, Any], field: str
) -> None:
    query = {"lat": UTRECHT[0], "lon": UTRECHT[1], **params}
    response = client.get(
        "/mobile/v1/products/KOF-1/availability", params={k: v for k, v in query.items() if v is not None}
    )
    body = _problem(response, 422, "validation_error")
    assert field in [error["field"] for error in body["errors"]]


# ------------------------------------------------------------------------------------------------ prices


def _prices_of(client: TestClient, sku: str = "KOF-1", **params: Any) -> Any:
    return client.get(f"/mobile/v1/products/{sku}/prices", params=params)


@BOTH_DATABASES
def test_prices_at_the_nearest_stores_against_online(client: TestClient, stocked: None) -> None:
    response = _prices_of(client, lat=UTRECHT[0], lon=UTRECHT[1])
    assert response.status_code == 200
    assert response.json() == {
        "sku": "KOF-1",
        "online_price": eur("12.99"),
        "stores": [
            {
                "code": "UT-CENTRUM",
                "name": "Winkelpunt UT-CENTRUM",
                "distance_km": 0.0,
                "price": eur("11.49"),
                "difference": eur("-1.50"),
                "available": 2,
                "status": "limited_availability",
                **COUNTED,
            },
            {
                "code": "UT-ZUID",
                "name": "Winkelpunt UT-ZUID",
                "distance_km": _km("UT-ZUID"),
                "price": eur("13.49"),
                "difference": eur("0.50"),
                "available": 5,
                "status": "limited_availability",
                **COUNTED,
            },
            {
                "code": "AMS",
                "name": "Winkelpunt AMS",
                "distance_km": _km("AMS"),
                "price": eur("12.99"),
                "difference": eur("0.00"),
                "available": 3,
                "status": "in_stock",
                **COUNTED,
            },
            {
                "code": "RTD",
                "name": "Winkelpunt RTD",
                "distance_km": _km("RTD"),
                "price": eur("13.49"),
                "difference": eur("0.50"),
                "available": 0,
                "status": "out_of_stock",
                **NEVER,
            },
        ],
        "cheapest": {"channel": "store", "store_code": "UT-CENTRUM", "price": eur("11.49")},
    }


@BOTH_DATABASES
def test_prices_at_one_named_store(client: TestClient, stocked: None) -> None:
    response = _prices_of(client, store="UT-ZUID")
    assert response.status_code == 200
    assert response.json() == {
        "sku": "KOF-1",
        "online_price": eur("12.99"),
        "stores": [
            {
                "code": "UT-ZUID",
                "name": "Winkelpunt UT-ZUID",
                "distance_km": None,
                "price": eur("13.49"),
                "difference": eur("0.50"),
                "available": 5,
                "status": "limited_availability",
                **COUNTED,
            }
        ],
        "cheapest": {"channel": "online", "store_code": None, "price": eur("12.99")},
    }
    centrum = _prices_of(client, store="UT-CENTRUM").json()
    assert centrum["cheapest"] == {"channel": "store", "store_code": "UT-CENTRUM", "price": eur("11.49")}


@BOTH_DATABASES
def test_cheapest_ties_go_online_then_to_the_nearest_store(
    client: TestClient, session: Session, stocked: None
) -> None:
    def cheapest(**params: Any) -> Any:
        return _prices_of(client, lat=UTRECHT[0], lon=UTRECHT[1], **params).json()["cheapest"]

    # A store as cheap as online (AMS at 12.99, the others dearer): online wins.
    _prices(session, ("UT-CENTRUM", "KOF-1", "14.00"))
    session.commit()
    assert cheapest() == {"channel": "online", "store_code": None, "price": eur("12.99")}
    # Stores equally cheaper than online: the nearest one.
    _prices(session, ("AMS", "KOF-1", "10.00"), ("RTD", "KOF-1", "10.00"))
    session.commit()
    assert cheapest() == {"channel": "store", "store_code": "AMS", "price": eur("10.00")}
    # Nearest, not first by code: UT-ZUID is nearer than AMS.
    _prices(session, ("UT-ZUID", "KOF-1", "10.00"))
    session.commit()
    assert cheapest() == {"channel": "store", "store_code": "UT-ZUID", "price": eur("10.00")}
    # Only the stores listed take part: beyond the limit a cheaper store does not count.
    _prices(session, ("RTD", "KOF-1", "1.00"))
    session.commit()
    assert cheapest(limit=3) == {"channel": "store", "store_code": "UT-ZUID", "price": eur("10.00")}
    assert cheapest(limit=4) == {"channel": "store", "store_code": "RTD", "price": eur("1.00")}
    # No store in range: online, with an empty list.
    far = _prices_of(client, lat=53.2, lon=6.56, radius_km=5).json()
    assert far["stores"] == []
    assert far["cheapest"] == {"channel": "online", "store_code": None, "price": eur("12.99")}


def test_unknown_store_is_a_problem_404(client: TestClient, stocked: None) -> None:
    body = _problem(_prices_of(client, store="NOPE"), 404, "store_not_found")
    assert body["detail"] == "no store with code 'NOPE'"


@pytest.mark.parametrize(
    ("params", "fields"),
    [
        ({}, ["query.lat", "query.lon", "query.store"]),
        ({"limit": 5}, ["query.lat", "query.lon", "query.store"]),
        ({"lat": 52.1}, ["query.lon"]),
        ({"lon": 5.1}, ["query.lat"]),
        ({"lat": 52.1, "lon": 5.1, "store": "UT-ZUID"}, ["query.store"]),
        ({"lat": 91, "lon": 5.1}, ["query.lat"]),
        ({"lat": 52.1, "lon": "nan"}, ["query.lon"]),
        ({"lat": 52.1, "lon": 5.1, "limit": 0}, ["query.limit"]),
        ({"lat": 52.1, "lon": 5.1, "limit": 51}, ["query.limit"]),
        ({"lat": 52.1, "lon": 5.1, "radius_km": 0}, ["query.radius_km"]),
        ({"store": ""}, ["query.store"]),
        ({"store": "X" * 33}, ["query.store"]),
    ],
)
def test_prices_reject_bad_input_naming_the_field(
    client: TestClient, stocked: None, params: dict[str, Any], fields: list[str]
) -> None:
    body = _problem(_prices_of(client, **params), 422, "validation_error")
    assert [error["field"] for error in body["errors"]] == fields


def test_products_are_documented_with_stable_operation_ids(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    operations = {
        path: paths[path]["get"]["operationId"]
        for path in (
            "/mobile/v1/products",
            "/mobile/v1/products/{sku}",
            "/mobile/v1/products/{sku}/availability",
            "/mobile/v1/products/{sku}/prices",
        )
    }
    assert operations == {
        "/mobile/v1/products": "products_search",
        "/mobile/v1/products/{sku}": "product_get",
        "/mobile/v1/products/{sku}/availability": "product_availability",
        "/mobile/v1/products/{sku}/prices": "product_prices",
    }
    for path in ("/mobile/v1/products/{sku}", "/mobile/v1/products/{sku}/prices"):
        assert "application/problem+json" in paths[path]["get"]["responses"]["404"]["content"]

"""Request bodies are read as the JSON they are: `true` is not a quantity and `"3"` is not a number.

Pydantic's default (lax) mode took `true` as 1, `"3"` as 3, `"52.1"` as a latitude and `"yes"` as true.
Every integer, number and boolean of every body is strict (pydantic's `StrictInt`, `StrictFloat`,
`StrictBool`), and `test_every_body_field_is_strict` keeps it so for fields added later. A whole body is
refused with 422 naming the field; a bulk row is reported in `errors` naming it, and the good rows apply.
"""

from __future__ import annotations

import types
from typing import Annotated, Any, Union, get_args, get_origin

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from pydantic import BaseModel, Strict
from sqlmodel import Session, select

from inventory.models import Product, StockMovement
from inventory.schemas import ProductIn, StockMovementIn, StockSnapshotIn, StorePriceIn
from orders.models import Order
from stores.models import Store
from stores.schemas import StoreIn
from tests.factories import count_row, order_body, product_row, stock_of, store_row

KeyFactory = Any


# Bulk rows are validated one by one by the service, not by FastAPI: their models, named here.
ROW_MODELS: list[type[BaseModel]] = [StoreIn, ProductIn, StorePriceIn, StockSnapshotIn, StockMovementIn]
LAX_SCALARS = (int, float, bool)


def _lax_fields(model: type[BaseModel], path: str, seen: set[type[BaseModel]]) -> list[str]:
    if model in seen:
        return []
    seen.add(model)
    found = []
    for name, field in model.model_fields.items():
        strict = any(isinstance(m, Strict) and m.strict for m in field.metadata)
        found += _lax_in(field.annotation, f"{path}.{name}", strict, seen)
    return found


def _lax_in(annotation: Any, path: str, strict: bool, seen: set[type[BaseModel]]) -> list[str]:
    origin = get_origin(annotation)
    if origin is Annotated:
        inner, *metadata = get_args(annotation)
        strict = strict or any(isinstance(m, Strict) and m.strict for m in metadata)
        return _lax_in(inner, path, strict, seen)
    if origin in (Union, types.UnionType, list, dict, tuple):
        return [lax for arg in get_args(annotation) for lax in _lax_in(arg, path, strict, seen)]
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return _lax_fields(annotation, path, seen)
    if annotation in LAX_SCALARS and not strict:
        return [path]
    return []


def _routes(routes: list[Any]) -> list[APIRoute]:
    found = []
    for route in routes:
        if isinstance(route, APIRoute):
            found.append(route)
        # FastAPI 0.16x keeps an included router as one route holding the original router.
        included = getattr(route, "original_router", None)
        if included is not None:
            found += _routes(included.routes)
    return found


def _body_models(app: FastAPI) -> list[type[BaseModel]]:
    models = list(ROW_MODELS)
    for route in _routes(app.routes):
        if route.body_field is not None:
            annotation = route.body_field.field_info.annotation
            if isinstance(annotation, type) and issubclass(annotation, BaseModel):
                models.append(annotation)
    return models


def test_every_body_field_is_strict(app: FastAPI) -> None:
    models = _body_models(app)
    assert {m.__name__ for m in models} >= {"OrderIn", "CodeIn", "StoreBatch", "ProductBatch"}
    lax = [path for model in models for path in _lax_fields(model, model.__name__, set())]
    assert lax == []


# --------------------------------------------------------------------------------------- whole bodies


@pytest.mark.parametrize("quantity", [True, "2", 2.0])
def test_an_order_quantity_must_be_a_json_integer(
    client: TestClient, session: Session, open_stores: None, quantity: object
) -> None:
    body = {**order_body("S1", {}), "lines": [{"sku": "KOFFIE", "quantity": quantity}]}
    response = client.post("/mobile/v1/orders", json=body, headers={"Idempotency-Key": f"q-{quantity!r}"})
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert [e["field"] for e in response.json()["errors"]] == ["body.lines.0.quantity"]
    assert session.exec(select(Order)).all() == []
    assert stock_of(session, "S1", "KOFFIE").reserved == 0


def test_a_pickup_code_must_be_a_json_string(
    client: TestClient, make_key: KeyFactory, open_stores: None
) -> None:
    staff = make_key("staff", store_code="S1")
    response = client.post("/staff/v1/pickups/verify", json={"code": True}, headers=staff)
    assert response.status_code == 422, response.text
    assert [e["field"] for e in response.json()["errors"]] == ["body.code"]


# ------------------------------------------------------------------------------------------ bulk rows


def _codes(answer: dict[str, Any]) -> list[tuple[int, str, str]]:
    return [(e["index"], e["code"], e["detail"].split(":")[0]) for e in answer["errors"]]


def test_store_rows_take_json_numbers_and_booleans_only(
    client: TestClient, session: Session, make_key: KeyFactory
) -> None:
    special = {"date": "2026-12-24", "closed": "yes"}
    rows = [
        store_row("S-TRUE", low_stock_threshold=True),
        store_row("S-TEXT", hold_hours="48"),
        store_row("S-CNC", click_and_collect="true"),
        store_row("S-LAT", location={"lat": "52.09", "lon": 5.12}),
        store_row("S-DAY", hours={"weekly": {}, "special": [special]}),
        store_row("S-PH", closed_on_public_holidays=1),
        store_row("S-GOOD", low_stock_threshold=3, location={"lat": 52, "lon": 5.12}),
    ]
    answer = client.put("/admin/v1/stores", json={"stores": rows}, headers=make_key("admin")).json()
    assert answer["applied"] == 1
    assert _codes(answer) == [
        (0, "invalid_row", "low_stock_threshold"),
        (1, "invalid_row", "hold_hours"),
        (2, "invalid_row", "click_and_collect"),
        (3, "invalid_location", "location.lat"),
        (4, "invalid_hours", "hours.special.0.closed"),
        (5, "invalid_row", "closed_on_public_holidays"),
    ]
    assert session.exec(select(Store.code)).all() == ["S-GOOD"]


def test_product_rows_take_a_json_integer_as_online_stock(
    client: TestClient, session: Session, make_key: KeyFactory
) -> None:
    rows = [
        product_row(sku, online_stock=stock)
        for sku, stock in (("P-TRUE", True), ("P-TEXT", "4"), ("P-FLOAT", 4.0), ("P-GOOD", 4))
    ]
    answer = client.put("/sync/v1/products", json={"products": rows}, headers=make_key("webshop")).json()
    assert answer["applied"] == 1
    assert _codes(answer) == [(i, "invalid_row", "online_stock") for i in range(3)]
    assert session.exec(select(Product.sku, Product.online_stock)).all() == [("P-GOOD", 4)]


def test_stock_counts_and_movements_take_json_integers_only(
    client: TestClient, session: Session, make_key: KeyFactory, open_stores: None
) -> None:
    webshop = make_key("webshop")
    as_of = "2026-11-24T06:00:00+01:00"
    counts = [count_row("S1", "KOFFIE", value, as_of=as_of) for value in (True, "7", 7.0)]
    answer = client.put("/sync/v1/stock", json={"items": counts}, headers=webshop).json()
    assert (answer["applied"], answer["stale"]) == (0, 0)
    assert [(e["index"], e["code"], e["detail"]) for e in answer["errors"]] == [
        (0, "invalid_on_hand", "on_hand: a whole number, not true"),
        (1, "invalid_on_hand", "on_hand: a whole number, not the string '7'"),
        (2, "invalid_on_hand", "on_hand: a whole number"),
    ]
    assert stock_of(session, "S1", "KOFFIE").on_hand == 3
    moves = [
        {"movement_id": f"m-{i}", "store_code": "S1", "sku": "KOFFIE", "delta": value, "at": as_of}
        for i, value in enumerate((True, "-1", -1.0))
    ]
    moved = client.post("/sync/v1/stock/movements", json={"movements": moves}, headers=webshop).json()
    assert (moved["applied"], moved["duplicates"]) == (0, 0)
    assert [(e["index"], e["code"]) for e in moved["errors"]] == [(i, "invalid_delta") for i in range(3)]
    assert session.exec(select(StockMovement)).all() == []
    assert stock_of(session, "S1", "KOFFIE").on_hand == 3


def test_a_csv_count_is_text_and_still_read_as_a_number(
    client: TestClient, session: Session, make_key: KeyFactory, open_stores: None
) -> None:
    # CSV has no types: its reader turns the text into the JSON body's number before the same checks.
    body = (
        b"store_code,sku,on_hand,as_of\n"
        b"S1,KOFFIE, 7 ,2026-11-24T06:00:00+01:00\n"
        b"S1,THEE,true,2026-11-24T06:00:00+01:00\n"
    )
    headers = {**make_key("webshop"), "content-type": "text/csv"}
    answer = client.put("/sync/v1/stock", content=body, headers=headers).json()
    assert answer["applied"] == 1
    assert [(e["index"], e["code"], e["detail"]) for e in answer["errors"]] == [
        (1, "invalid_on_hand", "on_hand: 'true' is not a whole number")
    ]
    assert (stock_of(session, "S1", "KOFFIE").on_hand, stock_of(session, "S1", "THEE").on_hand) == (7, 10)

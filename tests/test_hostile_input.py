"""Hostile input where the contract fuzzing does not reach: oversized bodies, huge limits, NaN and infinity,
far dates, odd Unicode, SQL and script fragments. Each is a 4xx naming the field (or, inside a bulk body, a
row error naming it), and nothing is written."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from httpx import Response
from sqlmodel import Session, select

from inventory.models import Product, StockMovement
from orders.models import Order
from stores.models import Store
from tests.factories import BASKET, count_row, order_body, product_row, stock_of, store_row

KeyFactory = Callable[..., dict[str, str]]


def _refused(response: Response, status: int, field: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert any(error["field"] == field for error in body.get("errors", [])), body
    return body


def _orders(session: Session) -> list[Order]:
    session.expire_all()
    return list(session.exec(select(Order)).all())


# ------------------------------------------------------------------------------------------------ sizes


@pytest.mark.parametrize(
    ("method", "path", "role"),
    [
        ("POST", "/mobile/v1/orders", None),
        ("PUT", "/sync/v1/products", "webshop"),
        ("PUT", "/sync/v1/stock", "webshop"),
        ("POST", "/staff/v1/pickups/verify", "staff"),
    ],
)
def test_a_body_over_the_limit_is_413_and_writes_nothing(
    client: TestClient, session: Session, make_key: KeyFactory, method: str, path: str, role: str | None
) -> None:
    headers = {"content-type": "application/json", "Idempotency-Key": "big"}
    if role:
        headers |= make_key(role, store_code="S1" if role == "staff" else None)
    body = b'{"x": "' + b"a" * (2 * 1024 * 1024 + 1) + b'"}'
    response = client.request(method, path, content=body, headers=headers)
    _refused(response, 413, "body")
    # Without a Content-Length the limit holds too: the body is counted as it streams in.
    streamed = client.request(
        method, path, content=iter([body[:1_000_000], body[1_000_000:]]), headers=headers
    )
    _refused(streamed, 413, "body")
    assert _orders(session) == []
    assert session.exec(select(Product)).all() == []


@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("/mobile/v1/products?q=koffie&limit=100000000000000000000000", "query.limit"),
        ("/mobile/v1/stores/nearest?lat=52&lon=5&limit=1000000", "query.limit"),
        ("/mobile/v1/products/KOFFIE/availability?lat=52&lon=5&limit=-1", "query.limit"),
        ("/mobile/v1/stores/S1/hours?days=100000", "query.days"),
        ("/sync/v1/availability?limit=99999999999999999999999999", "query.limit"),
        ("/staff/v1/stores/S1/orders?limit=1e9", "query.limit"),
    ],
)
def test_huge_limits_are_422_naming_the_field(
    client: TestClient, make_key: KeyFactory, open_stores: None, path: str, field: str
) -> None:
    role = "webshop" if path.startswith("/sync") else "admin"
    _refused(client.get(path, headers=make_key(role)), 422, field)


@pytest.mark.parametrize("value", ["NaN", "nan", "Infinity", "-Infinity", "inf", "1e999"])
@pytest.mark.parametrize("name", ["lat", "lon", "radius_km"])
def test_nan_and_infinity_in_numbers_are_422(client: TestClient, value: str, name: str) -> None:
    params = {"lat": "52.0", "lon": "5.0", name: value}
    _refused(client.get("/mobile/v1/stores/nearest", params=params), 422, f"query.{name}")


@pytest.mark.parametrize("value", ["NaN", "Infinity", "-Infinity", "1e999"])
def test_nan_and_infinity_in_a_json_body_are_422_and_write_nothing(
    client: TestClient, session: Session, open_stores: None, value: str
) -> None:
    # Python's JSON parser reads these bare words, which JSON itself does not allow.
    body = (
        '{"store_code": "S1", "lines": [{"sku": "KOFFIE", "quantity": %s}], '
        '"customer": {"name": "A", "email": "a@example.nl"}}'
    )
    response = client.post(
        "/mobile/v1/orders",
        content=body % value,
        headers={"content-type": "application/json", "Idempotency-Key": f"nan-{value}"},
    )
    _refused(response, 422, "body.lines.0.quantity")
    assert _orders(session) == []


@pytest.mark.parametrize("amount", ["NaN", "Infinity", "-1", "1e400", "12.999"])
def test_nan_and_infinity_in_money_are_row_errors(
    client: TestClient, session: Session, make_key: KeyFactory, amount: str
) -> None:
    product = product_row("P-1", price=amount, name="P")
    response = client.put("/sync/v1/products", json={"products": [product]}, headers=make_key("webshop"))
    assert response.status_code in (200, 422), response.text
    if response.status_code == 200:
        assert response.json()["applied"] == 0
        assert "online_price" in response.json()["errors"][0]["detail"]
    else:
        _refused(response, 422, "body.products.0.online_price.amount")
    assert session.exec(select(Product)).all() == []


# ------------------------------------------------------------------------------------------------ dates


@pytest.mark.parametrize(
    "at", ["9999-12-31T23:59:59+00:00", "0001-01-01T00:00:00+00:00", "1970-01-01T00:00:00Z"]
)
def test_far_dates_are_422(client: TestClient, open_stores: None, at: str) -> None:
    _refused(client.get("/mobile/v1/stores/S1", params={"at": at}), 422, "query.at")
    _refused(client.get("/mobile/v1/stores/nearest", params={"lat": 52, "lon": 5, "at": at}), 422, "query.at")


@pytest.mark.parametrize("at", ["0.5", "1700000000", "2026-11-23", "yesterday", "2026-11-23T18:00:00+99:00"])
def test_at_is_an_rfc3339_instant_only(client: TestClient, open_stores: None, at: str) -> None:
    _refused(client.get("/mobile/v1/stores/S1", params={"at": at}), 422, "query.at")


def test_far_dates_in_stock_rows_are_row_errors_and_change_nothing(
    client: TestClient, session: Session, make_key: KeyFactory, open_stores: None
) -> None:
    before = stock_of(session, "S1", "KOFFIE").on_hand
    rows = [
        count_row("S1", "KOFFIE", 99, as_of="9999-12-31T00:00:00+00:00"),
        count_row("S1", "KOFFIE", 99, as_of="0001-01-01T00:00:00+00:00"),
    ]
    answer = client.put("/sync/v1/stock", json={"items": rows}, headers=make_key("webshop")).json()
    assert answer["applied"] == 0
    assert [(e["index"], e["code"]) for e in answer["errors"]] == [(0, "invalid_date"), (1, "invalid_date")]
    movement = {
        "movement_id": "far",
        "store_code": "S1",
        "sku": "KOFFIE",
        "delta": 5,
        "at": "9999-01-01T00:00:00Z",
    }
    moved = client.post(
        "/sync/v1/stock/movements", json={"movements": [movement]}, headers=make_key("webshop")
    )
    assert [e["code"] for e in moved.json()["errors"]] == ["invalid_date"]
    assert stock_of(session, "S1", "KOFFIE").on_hand == before
    assert session.exec(select(StockMovement).where(StockMovement.movement_id == "far")).all() == []


# -------------------------------------------------------------------------------------- odd Unicode, NUL


@pytest.mark.parametrize(
    "name",
    [
        "Kees\x00",  # PostgreSQL text cannot hold NUL
        "Kees\u202egnirts",  # right-to-left override: spoofs what staff read
        "Kees\u0007",
        "\ud800",  # a lone surrogate (not encodable as UTF-8)
        "<script>alert(1)</script>",
    ],
)
def test_odd_characters_in_the_customer_name_are_422(
    client: TestClient, session: Session, open_stores: None, name: str
) -> None:
    body = order_body("S1", BASKET, customer={"name": name, "email": "kees@example.nl"})
    # Sent as ASCII JSON with \u escapes, as a client could, so a lone surrogate arrives too.
    response = client.post(
        "/mobile/v1/orders",
        content=json.dumps(body, ensure_ascii=True),
        headers={"Idempotency-Key": f"odd-{ord(name[-1])}", "content-type": "application/json"},
    )
    _refused(response, 422, "body.customer.name")
    assert _orders(session) == []


def test_ordinary_non_ascii_names_are_welcome(
    client: TestClient, session: Session, open_stores: None
) -> None:
    for i, name in enumerate(["Zoë Ćosić", "Jürgen Groß", "李小龍", "Ørjan Ñúñez-D'Amato"]):
        body = order_body("S1", BASKET, customer={"name": name, "email": "z@example.nl"})
        assert (
            client.post("/mobile/v1/orders", json=body, headers={"Idempotency-Key": f"ok-{i}"}).status_code
            == 202
        )
    assert sorted(o.customer_name for o in _orders(session)) == sorted(
        ["Zoë Ćosić", "Jürgen Groß", "李小龍", "Ørjan Ñúñez-D'Amato"]
    )


@pytest.mark.parametrize("q", ["\x00", "koffie\x00", "%", "_", "\\", "' OR 1=1; --"])
def test_search_text_with_nul_or_sql_is_answered_and_harmless(
    client: TestClient, session: Session, open_stores: None, q: str
) -> None:
    response = client.get("/mobile/v1/products", params={"q": q})
    if "\x00" in q:
        # NUL cannot be looked up.
        _refused(response, 422, "query.q")
    else:
        assert response.status_code == 200, response.text
        assert response.json()["items"] == []  # the text is matched as text, not as a pattern or SQL
    assert len(session.exec(select(Product)).all()) == 2


@pytest.mark.parametrize("q", ["\x00", "Utrecht\x00", "'; DROP TABLE store; --"])
def test_place_search_with_nul_or_sql_is_a_4xx(
    client: TestClient, session: Session, open_stores: None, q: str
) -> None:
    response = client.get("/mobile/v1/stores/nearest", params={"q": q})
    if "\x00" in q:
        _refused(response, 422, "query.q")
    else:
        assert response.status_code == 404
        assert response.json()["code"] == "place_not_found"
    assert len(session.exec(select(Store)).all()) == 3


@pytest.mark.parametrize("code", ["S1'--", "S1%00", "%00", "..%2F..%2Fetc%2Fpasswd", "S1;DROP TABLE store"])
def test_codes_in_paths_with_sql_or_nul_are_404(
    client: TestClient, session: Session, open_stores: None, code: str
) -> None:
    response = client.get(f"/mobile/v1/stores/{code}")
    if "%00" in code:
        _refused(response, 422, "path.code")
    else:
        assert response.status_code == 404, response.text
        assert response.headers["content-type"] == "application/problem+json"
    assert len(session.exec(select(Store)).all()) == 3


@pytest.mark.parametrize(
    ("field", "value"),
    [("name", "Koffie\x00"), ("description", "x\x00y"), ("brand", "\x00"), ("category", "a\x00")],
)
def test_nul_in_a_product_row_is_a_row_error(
    client: TestClient, session: Session, make_key: KeyFactory, field: str, value: str
) -> None:
    product = {**product_row("P-NUL", name="P"), field: value}
    response = client.put("/sync/v1/products", json={"products": [product]}, headers=make_key("webshop"))
    assert response.status_code == 200, response.text
    assert response.json()["applied"] == 0
    assert field in response.json()["errors"][0]["detail"]
    assert session.exec(select(Product).where(Product.sku == "P-NUL")).all() == []


def test_nul_in_a_store_row_is_a_row_error(
    client: TestClient, session: Session, make_key: KeyFactory
) -> None:
    rows = [
        store_row("S-NUL", name="Winkel\x00"),
        store_row("S-NUL2", address={**store_row()["address"], "city": "U\x00"}),
    ]
    response = client.put("/admin/v1/stores", json={"stores": rows}, headers=make_key("admin"))
    assert response.status_code == 200, response.text
    assert response.json()["applied"] == 0
    assert len(response.json()["errors"]) == 2
    assert session.exec(select(Store)).all() == []


def test_nul_in_a_csv_upload_is_a_row_error(
    client: TestClient, session: Session, make_key: KeyFactory, open_stores: None
) -> None:
    before = stock_of(session, "S1", "KOFFIE").on_hand
    csv = "store_code,sku,on_hand,as_of\nS1,KOFFIE\x00,7,2026-11-24T06:00:00+01:00\n"
    response = client.put(
        "/sync/v1/stock", content=csv.encode(), headers={**make_key("webshop"), "content-type": "text/csv"}
    )
    assert response.status_code in (200, 422), response.text
    if response.status_code == 200:
        assert response.json()["applied"] == 0
    assert stock_of(session, "S1", "KOFFIE").on_hand == before


@pytest.mark.parametrize("code", ["\x00", "A\x00B", "\u202e1234-5678", "x" * 300])
def test_odd_pickup_codes_are_4xx(
    client: TestClient, make_key: KeyFactory, open_stores: None, code: str
) -> None:
    response = client.post(
        "/staff/v1/pickups/verify", json={"code": code}, headers=make_key("staff", store_code="S1")
    )
    assert response.status_code == 422, response.text
    assert response.json()["code"] in ("invalid_code", "validation_error")


# --------------------------------------------------------------------------------- malformed JSON and CSV

HEADER = b"store_code,sku,on_hand,as_of\n"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (b"a,b\n1,2\n", "body.line.1"),
        (HEADER + b'"S1,KOFFIE,1,2026-11-24T06:00:00+01:00\n', "body.line.2"),
        (b"\xff\xfe\x00\x01garbage", "body.line.1"),
    ],
)
def test_unreadable_csv_is_422_naming_the_line_and_applies_nothing(
    client: TestClient, session: Session, make_key: KeyFactory, open_stores: None, body: bytes, field: str
) -> None:
    before = stock_of(session, "S1", "KOFFIE").on_hand
    headers = {**make_key("webshop"), "content-type": "text/csv"}
    body = HEADER + b"S1,THEE,1,2026-11-24T06:00:00+01:00\n" + body if field != "body.line.1" else body
    response = client.put("/sync/v1/stock", content=body, headers=headers)
    assert response.status_code == 422, response.text
    assert response.json()["code"] == "invalid_csv"
    assert response.json()["errors"][0]["field"].startswith("body.line.")
    assert stock_of(session, "S1", "KOFFIE").on_hand == before
    assert stock_of(session, "S1", "THEE").on_hand == 10


def test_a_csv_row_with_too_many_fields_is_a_row_error(
    client: TestClient, make_key: KeyFactory, open_stores: None
) -> None:
    body = HEADER + b"S1,KOFFIE,7,2026-11-24T06:00:00+01:00,x\n"
    response = client.put(
        "/sync/v1/stock", content=body, headers={**make_key("webshop"), "content-type": "text/csv"}
    )
    assert response.json()["applied"] == 0
    assert response.json()["errors"] == [
        {"index": 0, "code": "invalid_row", "detail": "row: 5 fields where the header has 4"}
    ]


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/sync/v1/products", b'{"products": ['),
        ("/sync/v1/stock", b'{"items": ['),
        ("/sync/v1/products", b'{"products": ' + b"[" * 5000 + b"]" * 5000 + b"}"),
        ("/admin/v1/stores", b"\xff\xfe{}"),
        ("/mobile/v1/orders", b'{"store_code": "S1", "lines": [}'),
    ],
)
def test_malformed_json_is_422_naming_the_body(
    client: TestClient, session: Session, make_key: KeyFactory, path: str, body: bytes
) -> None:
    role = "admin" if path.startswith("/admin") else "webshop"
    headers = {**make_key(role), "content-type": "application/json", "Idempotency-Key": "malformed"}
    response = client.request("PUT" if "orders" not in path else "POST", path, content=body, headers=headers)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["errors"][0]["field"].startswith("body")
    assert session.exec(select(Product)).all() == []
    assert _orders(session) == []


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        (
            "/sync/v1/prices",
            {"prices": [{"store_code": "S1", "sku": "K", "price": {"amount": "1.00"}}] * 10_001},
            "body.prices",
        ),
        (
            "/mobile/v1/orders",
            order_body("S1", {f"S{i}": 1 for i in range(51)}),
            "body.lines",
        ),
        (
            "/mobile/v1/orders",
            order_body("S1", {"KOFFIE": 10**30}),
            "body.lines.0.quantity",
        ),
        (
            "/mobile/v1/orders",
            order_body("S1", BASKET, customer={"name": "x" * 101, "email": "a@example.nl"}),
            "body.customer.name",
        ),
    ],
)
def test_lists_and_strings_are_bounded(
    client: TestClient, session: Session, make_key: KeyFactory, path: str, body: dict[str, Any], field: str
) -> None:
    headers = {**make_key("webshop"), "Idempotency-Key": "bounded"}
    response = client.request("PUT" if path.startswith("/sync") else "POST", path, json=body, headers=headers)
    _refused(response, 422, field)
    assert _orders(session) == []

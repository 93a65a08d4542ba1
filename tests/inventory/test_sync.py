"""The webshop sync (/sync/v1): catalogue, prices, snapshots and movements out of order and twice."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from inventory.models import Product, StockMovement, StorePrice
from stores.models import Store
from tests.factories import count_row, make_stores, product_row, stock_of, store_row

pytestmark = pytest.mark.parametrize("engine", ["postgresql", "sqlite"], indirect=True)

KeyFactory = Callable[..., dict[str, str]]


@pytest.fixture
def webshop(session: Session, make_key: KeyFactory) -> dict[str, str]:
    make_stores(session, [store_row("S1"), store_row("S2")])
    session.commit()
    return make_key("webshop")


def _on_hand(session: Session, store_code: str, sku: str) -> int | None:
    row = stock_of(session, store_code, sku)
    return None if row is None else int(row.on_hand)


def _snapshot(client: TestClient, key: dict[str, str], *items: tuple[str, str, int, str]) -> Any:
    body = {"items": [count_row(s, k, n, as_of=t) for s, k, n, t in items]}
    return client.put("/sync/v1/stock", json=body, headers=key).json()


def _move(client: TestClient, key: dict[str, str], *moves: tuple[str, str, str, int, str]) -> Any:
    body = {
        "movements": [
            {"movement_id": m, "store_code": s, "sku": k, "delta": d, "at": t} for m, s, k, d, t in moves
        ]
    }
    return client.post("/sync/v1/stock/movements", json=body, headers=key).json()


def test_products_upsert_with_row_errors(
    client: TestClient, session: Session, webshop: dict[str, str]
) -> None:
    response = client.put(
        "/sync/v1/products",
        json={
            "products": [
                product_row("P1", ean="8712345678906", store_price={"amount": "10.49", "currency": "EUR"}),
                product_row("P2", ean="8712345678907"),  # wrong check digit
                product_row("P3", online_price={"amount": 9.99, "currency": "EUR"}),  # a float, not a string
                product_row("P4", ean="8712345678906"),  # P1's EAN
                product_row("P5", online_price={"amount": "1.999", "currency": "EUR"}),
                product_row("P1", name="again"),
                product_row("P6", price="9.99"),
            ]
        },
        headers=webshop,
    )
    assert response.status_code == 200
    body = response.json()
    assert body["applied"] == 2
    assert [(e["index"], e["code"]) for e in body["errors"]] == [
        (1, "invalid_ean"),
        (2, "invalid_price"),
        (3, "duplicate_ean"),
        (4, "invalid_price"),
        (5, "duplicate_sku"),
    ]
    products = {p.sku: p for p in session.exec(select(Product)).all()}
    assert set(products) == {"P1", "P6"}
    assert str(products["P1"].store_price) == "10.49"
    assert str(products["P6"].store_price) == "9.99"  # defaults to the online price

    again = client.put(
        "/sync/v1/products", json={"products": [product_row("P1", name="Koffiebonen")]}, headers=webshop
    )
    assert again.json() == {"applied": 1, "errors": []}
    session.expire_all()
    assert session.exec(select(Product).where(Product.sku == "P1")).one().name == "Koffiebonen"


def test_product_texts_may_be_null_and_a_row_replaces_the_product(
    client: TestClient, webshop: dict[str, str]
) -> None:
    texts = ("ean", "brand", "description", "image_url", "category")
    full = product_row(
        "P1",
        ean="8712345678906",
        brand="Philips",
        description="Heteluchtfriteuse voor het hele gezin.",
        image_url="https://images.example/p1.jpg",
        category="Keuken > Keukenapparatuur",
    )

    def put(row: dict[str, Any]) -> None:
        answer = client.put("/sync/v1/products", json={"products": [row]}, headers=webshop)
        assert answer.json() == {"applied": 1, "errors": []}

    def shown() -> tuple[Any, ...]:
        body = client.get("/mobile/v1/products/P1").json()
        return tuple(body[name] for name in texts)

    put(full)
    assert shown() == tuple(full[name] for name in texts)
    # null means "none", and clears what was stored.
    nulls: dict[str, Any] = dict.fromkeys(texts)
    put(product_row("P1", **nulls))
    assert shown() == (None,) * len(texts)
    # A row replaces the product: a text left out is cleared too, as it always was.
    put(full)
    put(product_row("P1"))
    assert shown() == (None,) * len(texts)


def test_store_prices(client: TestClient, session: Session, webshop: dict[str, str]) -> None:
    client.put("/sync/v1/products", json={"products": [product_row("P1")]}, headers=webshop)
    body = client.put(
        "/sync/v1/prices",
        json={
            "prices": [
                {"store_code": "S1", "sku": "P1", "price": {"amount": "8.49", "currency": "EUR"}},
                {"store_code": "NOPE", "sku": "P1", "price": {"amount": "8.49", "currency": "EUR"}},
                {"store_code": "S1", "sku": "NOPE", "price": {"amount": "8.49", "currency": "EUR"}},
                {"store_code": "S2", "sku": "P1", "price": {"amount": "-1.00", "currency": "EUR"}},
            ]
        },
        headers=webshop,
    ).json()
    assert body["applied"] == 1
    assert [(e["index"], e["code"]) for e in body["errors"]] == [
        (1, "unknown_store"),
        (2, "unknown_sku"),
        (3, "invalid_price"),
    ]
    prices = session.exec(select(StorePrice)).all()
    assert [(p.store_id, str(p.price)) for p in prices] == [
        (session.exec(select(Store.id).where(Store.code == "S1")).one(), "8.49")
    ]


def test_stale_snapshot_changes_nothing(
    client: TestClient, session: Session, webshop: dict[str, str]
) -> None:
    client.put("/sync/v1/products", json={"products": [product_row("P1")]}, headers=webshop)
    first = _snapshot(client, webshop, ("S1", "P1", 10, "2026-11-23T08:00:00+01:00"))
    assert first == {"applied": 1, "stale": 0, "errors": [], "errors_omitted": 0}
    # The same instant written with another offset is not newer: stale.
    older = _snapshot(
        client,
        webshop,
        ("S1", "P1", 99, "2026-11-23T07:00:00+00:00"),
        ("S1", "P1", 98, "2026-11-23T06:59:59+00:00"),
    )
    assert (older["applied"], older["stale"]) == (0, 2)
    assert _on_hand(session, "S1", "P1") == 10


def test_movements_count_once_and_snapshots_never_count_them_twice(
    client: TestClient, session: Session, webshop: dict[str, str]
) -> None:
    client.put("/sync/v1/products", json={"products": [product_row("P1")]}, headers=webshop)
    # A sale at 09:00 arrives before any count.
    sale = ("m-0900", "S1", "P1", -2, "2026-11-23T09:00:00+01:00")
    assert _move(client, webshop, sale) == {"applied": 1, "duplicates": 0, "errors": []}
    assert _on_hand(session, "S1", "P1") == -2
    # The 08:00 count arrives late: the 09:00 sale is not in it, so it still counts on top.
    _snapshot(client, webshop, ("S1", "P1", 10, "2026-11-23T08:00:00+01:00"))
    assert _on_hand(session, "S1", "P1") == 8
    # The same sale replayed, alone and inside a batch: counted once.
    assert _move(client, webshop, sale)["duplicates"] == 1
    replay = _move(client, webshop, sale, ("m-1000", "S1", "P1", -1, "2026-11-23T10:00:00+01:00"))
    assert (replay["applied"], replay["duplicates"]) == (1, 1)
    assert _on_hand(session, "S1", "P1") == 7
    # A movement from before the last count is already in it: recorded, not counted.
    early = _move(client, webshop, ("m-0700", "S1", "P1", -5, "2026-11-23T07:00:00+01:00"))
    assert early["applied"] == 1
    assert _on_hand(session, "S1", "P1") == 7
    # A newer count at 09:30 contains the 09:00 sale but not the 10:00 one.
    _snapshot(client, webshop, ("S1", "P1", 20, "2026-11-23T09:30:00+01:00"))
    assert _on_hand(session, "S1", "P1") == 19
    # Replaying the 08:00 count now is stale and resurrects nothing.
    assert _snapshot(client, webshop, ("S1", "P1", 10, "2026-11-23T08:00:00+01:00"))["stale"] == 1
    assert _on_hand(session, "S1", "P1") == 19
    assert len(session.exec(select(StockMovement)).all()) == 3


def test_row_errors_leave_good_rows_applied(
    client: TestClient, session: Session, webshop: dict[str, str]
) -> None:
    client.put(
        "/sync/v1/products", json={"products": [product_row("P1"), product_row("P2")]}, headers=webshop
    )
    body = client.put(
        "/sync/v1/stock",
        json={
            "items": [
                count_row("S1", "P1", 4, as_of="2026-11-23T08:00:00+01:00"),
                count_row("ZZ", "P1", 4, as_of="2026-11-23T08:00:00+01:00"),
                count_row("S1", "ZZ", 4, as_of="2026-11-23T08:00:00+01:00"),
                count_row("S1", "P2", -4, as_of="2026-11-23T08:00:00+01:00"),
                count_row("S1", "P2", 4, as_of="2026-11-31T08:00:00+01:00"),
                count_row("S1", "P2", 4, as_of="2026-11-23T08:00:00"),
                count_row("S1", "P2", "four", as_of="2026-11-23T08:00:00+01:00"),
                count_row("S2", "P2", 6, as_of="2026-11-23T08:00:00+01:00"),
            ]
        },
        headers=webshop,
    ).json()
    assert (body["applied"], body["stale"]) == (2, 0)
    assert [(e["index"], e["code"]) for e in body["errors"]] == [
        (1, "unknown_store"),
        (2, "unknown_sku"),
        (3, "negative_on_hand"),
        (4, "invalid_date"),
        (5, "invalid_date"),
        (6, "invalid_on_hand"),
    ]
    assert _on_hand(session, "S1", "P1") == 4
    assert _on_hand(session, "S2", "P2") == 6
    assert _on_hand(session, "S1", "P2") is None


def test_csv_snapshot_streams_with_the_same_rules(
    client: TestClient, session: Session, webshop: dict[str, str]
) -> None:
    client.put(
        "/sync/v1/products", json={"products": [product_row("P1"), product_row("P2")]}, headers=webshop
    )
    lines = ["as_of,sku,store_code,on_hand"]  # columns in any order
    lines += [f"2026-11-23T08:00:00+01:00,P1,S1,{n}" for n in range(3)]  # same key: the last line wins
    lines += [
        "2026-11-23T08:00:00+01:00,P2,S2,7",
        "2026-11-23T08:00:00+01:00,P2,NOPE,1",
        "oops,P2,S1,1",
        "a,b",
    ]
    body = b"\xef\xbb\xbf" + "\r\n".join(lines).encode() + b"\r\n"  # with a byte-order mark, as Excel writes
    # Far larger than the JSON body limit would allow, to show CSV bodies are streamed, not capped.
    body += b"\n" * (3 * 1024 * 1024)
    response = client.put("/sync/v1/stock", content=body, headers={**webshop, "content-type": "text/csv"})
    assert response.status_code == 200, response.text
    result = response.json()
    assert (result["applied"], result["stale"]) == (2, 2)
    assert [(e["index"], e["code"]) for e in result["errors"]] == [
        (4, "unknown_store"),
        (5, "invalid_date"),
        (6, "invalid_row"),
    ]
    assert _on_hand(session, "S1", "P1") == 2
    assert _on_hand(session, "S2", "P2") == 7


def test_csv_fast_path_applies_the_same_rules_without_the_row_by_row_path(
    client: TestClient, session: Session, webshop: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from inventory import sync as inventory_sync

    client.put(
        "/sync/v1/products", json={"products": [product_row("P1"), product_row("P2")]}, headers=webshop
    )
    _move(client, webshop, ("m-late", "S1", "P1", -2, "2026-11-23T09:00:00+01:00"))
    _snapshot(client, webshop, ("S2", "P2", 50, "2026-11-23T12:00:00+01:00"))
    if session.get_bind().dialect.name == "postgresql":
        # Every row here is readable, so PostgreSQL must answer from COPY and SQL alone.
        def no_replay(*_args: object, **_kwargs: object) -> None:
            raise AssertionError("the CSV was replayed row by row")

        monkeypatch.setattr(inventory_sync, "apply_snapshots", no_replay)
    csv = (
        "store_code,sku,on_hand,as_of\n"
        "S1,P1,10,2026-11-23T08:00:00+01:00\n"  # the 09:00 sale still counts on top: 8
        "S1,P2,4,2026-11-23T08:00:00Z\n"
        "S1,P2,5,2026-11-23T08:00:00Z\n"  # the same count time twice: the later line wins
        "S2,P2,9,2026-11-23T08:00:00+01:00\n"  # older than the stored 12:00 count: stale
        "S9,P1,1,2026-11-23T08:00:00+01:00\n"
        "S1,P9,1,2026-11-23T08:00:00+01:00\n"
        "S2,P1,-3,2026-11-23T08:00:00+01:00\n"
        "S2,P1,3,2026-11-23T08:00:00\n"
    )
    response = client.put(
        "/sync/v1/stock", content=csv.encode(), headers={**webshop, "content-type": "text/csv"}
    )
    result = response.json()
    assert (result["applied"], result["stale"]) == (2, 2)
    assert [(e["index"], e["code"]) for e in result["errors"]] == [
        (4, "unknown_store"),
        (5, "unknown_sku"),
        (6, "negative_on_hand"),
        (7, "invalid_date"),
    ]
    assert _on_hand(session, "S1", "P1") == 8
    assert _on_hand(session, "S1", "P2") == 5
    assert _on_hand(session, "S2", "P2") == 50
    assert _on_hand(session, "S2", "P1") is None


@pytest.mark.parametrize(
    "body",
    [b"", b"store,sku,count\nS1,P1,1\n", b'store_code,sku,on_hand,as_of\n"S1,P1,1,x\n', b"\xff\xfe\x00bad"],
)
def test_unreadable_csv_is_a_422_and_applies_nothing(
    client: TestClient, session: Session, webshop: dict[str, str], body: bytes
) -> None:
    client.put("/sync/v1/products", json={"products": [product_row("P1")]}, headers=webshop)
    response = client.put("/sync/v1/stock", content=body, headers={**webshop, "content-type": "text/csv"})
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "invalid_csv"
    assert response.json()["errors"][0]["field"].startswith("body")
    assert _on_hand(session, "S1", "P1") is None


def test_stock_body_types_and_envelope(client: TestClient, webshop: dict[str, str]) -> None:
    xml = client.put(
        "/sync/v1/stock", content=b"<items/>", headers={**webshop, "content-type": "application/xml"}
    )
    assert xml.status_code == 415
    assert xml.json()["code"] == "unsupported_media_type"
    broken = client.put(
        "/sync/v1/stock", content=b'{"items": [', headers={**webshop, "content-type": "application/json"}
    )
    assert broken.status_code == 422
    assert broken.json()["errors"][0]["field"] == "body"
    wrong = client.put("/sync/v1/stock", json={"items": "x"}, headers=webshop)
    assert wrong.status_code == 422
    assert wrong.json()["errors"][0]["field"] == "body.items"
    too_many = client.put("/sync/v1/stock", json={"items": [{}] * 10_001}, headers=webshop)
    assert too_many.status_code == 422
    assert too_many.json()["errors"][0]["field"] == "body.items"


def test_availability_feed_sees_every_latest_state_and_later_changes(
    committed_client: TestClient, committed_key: KeyFactory
) -> None:
    client = committed_client
    webshop = committed_key("webshop")
    admin = committed_key("admin")
    client.put("/admin/v1/stores", json={"stores": [store_row("S1"), store_row("S2")]}, headers=admin)
    skus = [f"P{i}" for i in range(7)]
    client.put("/sync/v1/products", json={"products": [product_row(s) for s in skus]}, headers=webshop)
    _snapshot(client, webshop, *[("S1", s, i, "2026-11-23T08:00:00+01:00") for i, s in enumerate(skus)])
    _snapshot(client, webshop, ("S2", "P0", 3, "2026-11-23T08:00:00+01:00"))
    _move(client, webshop, ("m1", "S1", "P1", -1, "2026-11-23T09:00:00+01:00"))  # P1 changes again

    seen: dict[tuple[str, str], dict[str, Any]] = {}
    cursor = None
    for _ in range(20):
        params: dict[str, Any] = {"limit": 3}
        if cursor:
            params["cursor"] = cursor
        page = client.get("/sync/v1/availability", params=params, headers=webshop).json()
        assert page["next_cursor"]
        cursor = page["next_cursor"]
        if not page["items"]:
            break
        for item in page["items"]:
            seen[(item["store_code"], item["sku"])] = item
    assert len(seen) == 8
    assert seen[("S1", "P1")]["on_hand"] == 0
    assert seen[("S1", "P6")] | {"changed_at": None} == {
        "store_code": "S1",
        "sku": "P6",
        "on_hand": 6,
        "reserved": 0,
        "available": 6,
        "status": "in_stock",
        "in_transit": 0,
        "changed_at": None,
    }
    assert seen[("S1", "P2")]["status"] == "limited_availability"  # 2 <= low_stock_threshold 2
    assert seen[("S1", "P0")]["status"] == "out_of_stock"

    # Nothing new: the poll answers no items and the same place to resume.
    quiet = client.get("/sync/v1/availability", params={"cursor": cursor}, headers=webshop).json()
    assert quiet == {"items": [], "next_cursor": cursor}
    # A later change shows up, alone.
    _move(client, webshop, ("m2", "S2", "P0", 5, "2026-11-23T10:00:00+01:00"))
    later = client.get("/sync/v1/availability", params={"cursor": cursor}, headers=webshop).json()
    assert [(i["store_code"], i["sku"], i["on_hand"]) for i in later["items"]] == [("S2", "P0", 8)]


def test_sync_needs_a_webshop_key(client: TestClient, make_key: KeyFactory) -> None:
    body = {"products": [product_row("P1")]}
    assert client.put("/sync/v1/products", json=body).status_code == 401
    assert client.put("/sync/v1/products", json=body, headers=make_key("admin")).status_code == 403
    assert client.get("/sync/v1/availability", headers=make_key("staff", store_code="S1")).status_code == 403
    bad_cursor = client.get("/sync/v1/availability", params={"cursor": "zz"}, headers=make_key("webshop"))
    assert bad_cursor.status_code == 422
    assert bad_cursor.json()["code"] == "invalid_cursor"

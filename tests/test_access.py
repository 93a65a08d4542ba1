"""The access matrix: every route of the app against every kind of caller, answered as the contract says.

`ROUTES` classifies each route; `test_every_route_is_in_the_matrix` fails when the app gains a route that
is not classified here, so a new endpoint cannot ship without its access rules being tested.
"""

from __future__ import annotations

import enum
import io
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from httpx import Response
from PIL import Image
from sqlmodel import Session, select

from app.main import create_app
from orders import service as orders_service
from orders.models import Order
from stores import service as stores_service
from tests.factories import (
    BASKET,
    apply_counts,
    count_row,
    lane_row,
    make_products,
    order_body,
    post_order,
    product_row,
    store_row,
)


class Access(enum.Enum):
    public = "public"  # anyone, key or not
    order = "order"  # the order's own token; anything else is 404
    staff = "staff"  # a staff key of the order's store, or an admin key
    any_staff = "any_staff"  # any staff key (its own store's or not) or an admin key; nothing store-bound
    admin = "admin"
    webshop = "webshop"


@dataclass(frozen=True)
class Shop:
    """What a request needs: an order of store S1 (reserved) and its token, and a second order's token;
    a transfer S1 ships (planned, for an order at S2) and one S1 receives (shipped by S2, for an order at
    S1)."""

    order_id: str
    token: str
    pickup_token: str
    other_token: str
    outgoing_transfer: str
    incoming_transfer: str


Call = Callable[[TestClient, Shop, dict[str, str]], Response]


def _json(method: str, path: str, body: dict[str, Any]) -> Call:
    return lambda client, _shop, headers: client.request(method, path, json=body, headers=headers)


def _order(method: str, suffix: str = "") -> Call:
    return lambda client, s, headers: client.request(
        method, f"/mobile/v1/orders/{s.order_id}{suffix}", headers=headers
    )


def _blank_frame() -> bytes:
    # A camera frame with no code in it: the scan answers {"code": null}, past every access check.
    frame = io.BytesIO()
    Image.new("L", (64, 48), 200).save(frame, format="PNG")
    return frame.getvalue()


def _get(path: str) -> Call:
    return lambda client, _shop, headers: client.get(path, headers=headers)


def _alert(method: str) -> Call:
    """A stock alert created for the call, then read or cancelled with its token (in the query, so that
    the caller's key rides in the header beside it)."""

    def call(client: TestClient, _shop: Shop, headers: dict[str, str]) -> Response:
        body = {"store_code": "S1", "sku": "KOFFIE", "email": f"{uuid.uuid4().hex}@example.nl"}
        created = client.post("/mobile/v1/stock-alerts", json=body).json()
        path = f"/mobile/v1/stock-alerts/{created['alert_id']}?alert_token={created['alert_token']}"
        answer: Response = client.request(method, path, headers=headers)
        return answer

    return call


AS_OF = "2026-11-24T06:00:00+01:00"

# (method, route template) -> who may call it, how to call it, and what an allowed caller gets.
ROUTES: dict[tuple[str, str], tuple[Access, Call, int]] = {
    ("GET", "/openapi.json"): (Access.public, _get("/openapi.json"), 200),
    ("GET", "/docs"): (Access.public, _get("/docs"), 200),
    ("GET", "/redoc"): (Access.public, _get("/redoc"), 200),
    ("GET", "/healthz"): (Access.public, _get("/healthz"), 200),
    ("GET", "/readyz"): (Access.public, _get("/readyz"), 200),
    ("GET", "/metrics"): (Access.public, _get("/metrics"), 200),
    ("GET", "/mobile/v1/stores/nearest"): (
        Access.public,
        _get("/mobile/v1/stores/nearest?lat=52&lon=5"),
        200,
    ),
    ("GET", "/mobile/v1/stores/{code}"): (Access.public, _get("/mobile/v1/stores/S1"), 200),
    ("GET", "/mobile/v1/stores/{code}/hours"): (Access.public, _get("/mobile/v1/stores/S1/hours"), 200),
    ("GET", "/mobile/v1/products"): (Access.public, _get("/mobile/v1/products?q=koffie"), 200),
    ("GET", "/mobile/v1/products/{sku:path}"): (Access.public, _get("/mobile/v1/products/KOFFIE"), 200),
    ("GET", "/mobile/v1/products/{sku:path}/availability"): (
        Access.public,
        _get("/mobile/v1/products/KOFFIE/availability?lat=52&lon=5"),
        200,
    ),
    ("GET", "/mobile/v1/products/{sku:path}/prices"): (
        Access.public,
        _get("/mobile/v1/products/KOFFIE/prices?lat=52&lon=5"),
        200,
    ),
    ("POST", "/mobile/v1/orders"): (
        Access.public,
        lambda client, _s, headers: client.post(
            "/mobile/v1/orders",
            json=order_body("S1", {"THEE": 1}),
            headers={**headers, "Idempotency-Key": "matrix"},
        ),
        202,
    ),
    ("GET", "/mobile/v1/orders/{order_id}"): (Access.order, _order("GET"), 200),
    ("POST", "/mobile/v1/stock-alerts"): (
        Access.public,
        _json(
            "POST", "/mobile/v1/stock-alerts", {"store_code": "S1", "sku": "KOFFIE", "email": "a@example.nl"}
        ),
        201,
    ),
    ("GET", "/mobile/v1/stock-alerts/{alert_id}"): (Access.public, _alert("GET"), 200),
    ("DELETE", "/mobile/v1/stock-alerts/{alert_id}"): (Access.public, _alert("DELETE"), 200),
    ("POST", "/mobile/v1/orders/{order_id}/cancel"): (Access.order, _order("POST", "/cancel"), 200),
    ("GET", "/mobile/v1/orders/{order_id}/pickup-code.png"): (
        Access.order,
        _order("GET", "/pickup-code.png"),
        200,
    ),
    ("GET", "/mobile/v1/orders/{order_id}/pickup-code.svg"): (
        Access.order,
        _order("GET", "/pickup-code.svg"),
        200,
    ),
    ("POST", "/mobile/v1/orders/{order_id}/arrival"): (
        Access.order,
        lambda client, s, headers: client.post(
            f"/mobile/v1/orders/{s.order_id}/arrival", json={"status": "arrived"}, headers=headers
        ),
        200,
    ),
    ("GET", "/staff/"): (Access.public, _get("/staff/"), 200),  # the desk page; it signs in by itself
    ("GET", "/manager/"): (Access.public, _get("/manager/"), 200),  # the report's page; it signs in by itself
    ("GET", "/manager/assets/plotly.min.js"): (Access.public, _get("/manager/assets/plotly.min.js"), 200),
    ("GET", "/staff/v1/me"): (Access.any_staff, _get("/staff/v1/me"), 200),
    ("POST", "/staff/v1/pickups/scan"): (
        Access.any_staff,
        lambda client, _s, headers: client.post(
            "/staff/v1/pickups/scan", content=_blank_frame(), headers={**headers, "Content-Type": "image/png"}
        ),
        200,
    ),
    ("GET", "/staff/v1/stores/{code}"): (Access.staff, _get("/staff/v1/stores/S1"), 200),
    ("GET", "/staff/v1/stores/{code}/orders"): (Access.staff, _get("/staff/v1/stores/S1/orders"), 200),
    ("GET", "/staff/v1/stores/{code}/arrivals"): (Access.staff, _get("/staff/v1/stores/S1/arrivals"), 200),
    # A stream, read whole here: it ends after RETAIL_DESK_STREAM_MAX_S (1 s in the tests, see conftest).
    ("GET", "/staff/v1/stores/{code}/events"): (Access.staff, _get("/staff/v1/stores/S1/events"), 200),
    ("GET", "/staff/v1/stores/{code}/transfers"): (Access.staff, _get("/staff/v1/stores/S1/transfers"), 200),
    # The source's staff ship (S1's outgoing transfer), the pickup store's staff receive (S1's incoming
    # one): a key of the other store is 403 wrong_store.
    ("POST", "/staff/v1/transfers/{transfer_id}/ship"): (
        Access.staff,
        lambda client, s, headers: client.post(
            f"/staff/v1/transfers/{s.outgoing_transfer}/ship", headers=headers
        ),
        200,
    ),
    ("POST", "/staff/v1/transfers/{transfer_id}/receive"): (
        Access.staff,
        lambda client, s, headers: client.post(
            f"/staff/v1/transfers/{s.incoming_transfer}/receive", headers=headers
        ),
        200,
    ),
    ("POST", "/staff/v1/orders/{order_id}/ready"): (
        Access.staff,
        lambda client, s, headers: client.post(f"/staff/v1/orders/{s.order_id}/ready", headers=headers),
        200,
    ),
    ("POST", "/staff/v1/orders/{order_id}/returns"): (
        Access.staff,
        lambda client, s, headers: client.post(
            f"/staff/v1/orders/{s.order_id}/returns",
            json={"lines": [{"sku": "KOFFIE", "quantity": 1}], "restock": True},
            headers={**headers, "Idempotency-Key": "access"},
        ),
        409,  # the order is reserved, not collected: invalid_transition, past every access check
    ),
    ("POST", "/staff/v1/pickups/verify"): (
        Access.staff,
        lambda client, s, headers: client.post(
            "/staff/v1/pickups/verify", json={"code": s.pickup_token}, headers=headers
        ),
        409,  # the order is reserved, not yet ready: not_ready, but past every access check
    ),
    ("POST", "/staff/v1/pickups/confirm"): (
        Access.staff,
        lambda client, s, headers: client.post(
            "/staff/v1/pickups/confirm", json={"code": s.pickup_token}, headers=headers
        ),
        409,
    ),
    ("PUT", "/admin/v1/stores"): (
        Access.admin,
        _json("PUT", "/admin/v1/stores", {"stores": [store_row("S9")]}),
        200,
    ),
    ("PUT", "/admin/v1/transfer-lanes"): (
        Access.admin,
        _json(
            "PUT",
            "/admin/v1/transfer-lanes",
            {
                "lanes": [
                    {
                        "from_store": "S2",
                        "to_store": "S1",
                        "departures": {"monday": ["12:00"]},
                        "transit_hours": 1,
                    }
                ]
            },
        ),
        200,
    ),
    # Store S1's report: a staff key of S2 reports on S2 only (403 wrong_store for S1).
    ("GET", "/admin/v1/reports/service"): (Access.staff, _get("/admin/v1/reports/service?store=S1"), 200),
    ("PUT", "/sync/v1/products"): (
        Access.webshop,
        _json(
            "PUT",
            "/sync/v1/products",
            {"products": [product_row("NEW", name="n")]},
        ),
        200,
    ),
    ("PUT", "/sync/v1/prices"): (
        Access.webshop,
        _json(
            "PUT",
            "/sync/v1/prices",
            {"prices": [{"store_code": "S1", "sku": "KOFFIE", "price": {"amount": "9.99"}}]},
        ),
        200,
    ),
    ("PUT", "/sync/v1/stock"): (
        Access.webshop,
        _json(
            "PUT",
            "/sync/v1/stock",
            {"items": [count_row("S1", "KOFFIE", 5, as_of=AS_OF)]},
        ),
        200,
    ),
    ("POST", "/sync/v1/stock/movements"): (
        Access.webshop,
        _json(
            "POST",
            "/sync/v1/stock/movements",
            {
                "movements": [
                    {"movement_id": "mv-1", "store_code": "S1", "sku": "KOFFIE", "delta": 1, "at": AS_OF}
                ]
            },
        ),
        200,
    ),
    ("GET", "/sync/v1/availability"): (Access.webshop, _get("/sync/v1/availability"), 200),
}

# What an allowed caller's 409 is, where it is not `not_ready` (the order of `Shop` is reserved).
REFUSED_PAST_ACCESS = {
    ("POST", "/staff/v1/orders/{order_id}/returns"): "invalid_transition",
}

CALLERS = ["no_key", "malformed", "unknown_key", "admin", "staff", "other_store_staff", "webshop"]


def _app_routes(app: FastAPI) -> set[tuple[str, str]]:
    try:  # FastAPI 0.16x keeps included routers as branches; older versions list plain routes
        from fastapi.routing import iter_route_contexts
    except ImportError:  # pragma: no cover
        routes: list[Any] = list(app.routes)
    else:
        routes = list(iter_route_contexts(app.routes))
    return {(method, route.path) for route in routes for method in (route.methods or ()) if method != "HEAD"}


def test_every_route_is_in_the_matrix() -> None:
    assert _app_routes(create_app()) == set(ROUTES)


def _expected(access: Access, caller: str, allowed: int, refusal: str = "not_ready") -> tuple[int, set[str]]:
    """The status and problem codes the contract gives `caller` on a route of this kind."""
    if access is Access.public:
        return allowed, set()
    if access is Access.order:
        return 404, {"order_not_found"}  # no API key is an order token; existence never leaks
    if caller in ("no_key", "malformed", "unknown_key"):
        return 401, {"unauthorized"}
    if access is Access.any_staff:
        return (allowed, set()) if caller in ("staff", "other_store_staff", "admin") else (403, {"forbidden"})
    if access is Access.staff:
        if caller in ("staff", "admin"):
            return allowed, {refusal} if allowed == 409 else set()
        if caller == "other_store_staff":
            return 403, {"wrong_store"}
        return 403, {"forbidden"}
    wanted = "admin" if access is Access.admin else "webshop"
    return (allowed, set()) if caller == wanted else (403, {"forbidden"})


@pytest.fixture
def access_world(
    client: TestClient,
    session: Session,
    make_key: Callable[..., dict[str, str]],
    open_stores: None,
) -> Any:
    """Two orders placed at the `open_stores` (the first reserved, with its pickup token), two transfer
    orders (KAN, which only S1 holds, ordered at S2; MOLEN, which only S2 holds, ordered at S1 and shipped),
    and the headers of every kind of caller."""
    accepted = post_order(client, order_body("S1", BASKET), key="first").json()
    second = post_order(client, order_body("S1", {"THEE": 1}), key="second").json()
    order = session.exec(select(Order).where(Order.order_id == accepted["order_id"])).one()
    issued = orders_service.pickup_of(order)
    assert issued is not None
    make_products(session, [product_row("KAN"), product_row("MOLEN")])
    apply_counts(session, [count_row("S1", "KAN", 2, as_of=AS_OF), count_row("S2", "MOLEN", 2, as_of=AS_OF)])
    assert (
        stores_service.upsert_lanes(session, rows=[lane_row("S1", "S2"), lane_row("S2", "S1")]).errors == []
    )
    session.commit()
    outgoing, incoming = (
        _transfer_of(client, order_body(store, {sku: 1}, allow_transfer=True), key=f"transfer-{sku}")
        for store, sku in (("S2", "KAN"), ("S1", "MOLEN"))
    )
    shipped = client.post(f"/staff/v1/transfers/{incoming}/ship", headers=make_key("staff", store_code="S2"))
    assert shipped.status_code == 200, shipped.text
    headers = {
        "no_key": {},
        "malformed": {"Authorization": "Basic d3BfYWRtaW46eA=="},
        "unknown_key": {"Authorization": "Bearer wp_" + "A" * 43},
        "admin": make_key("admin"),
        "staff": make_key("staff", store_code="S1"),
        "other_store_staff": make_key("staff", store_code="S2"),
        "webshop": make_key("webshop"),
    }
    shop = Shop(
        accepted["order_id"], accepted["order_token"], issued.token, second["order_token"], outgoing, incoming
    )
    return shop, headers


def _transfer_of(client: TestClient, body: dict[str, Any], key: str) -> str:
    """Place a transfer order (reserved at once, `open_stores`); answers its one transfer's id."""
    accepted = post_order(client, body, key=key).json()
    headers = {"Authorization": f"Bearer {accepted['order_token']}"}
    order = client.get(accepted["status_url"], headers=headers).json()
    (transfer,) = order["transfers"]
    return str(transfer["transfer_id"])


def _assert_problem(response: Response, status: int, codes: set[str]) -> None:
    assert response.status_code == status, response.text
    if status >= 400:
        assert response.headers["content-type"] == "application/problem+json"
        body = response.json()
        assert body["status"] == status
        assert body["code"] in codes, body


@pytest.mark.parametrize("caller", CALLERS)
@pytest.mark.parametrize("route", list(ROUTES), ids=[f"{m} {p}" for m, p in ROUTES])
def test_access_matrix(client: TestClient, access_world: Any, route: tuple[str, str], caller: str) -> None:
    shop_state, headers = access_world
    access, call, allowed = ROUTES[route]
    status, codes = _expected(access, caller, allowed, REFUSED_PAST_ACCESS.get(route, "not_ready"))
    _assert_problem(call(client, shop_state, headers[caller]), status, codes)


@pytest.mark.parametrize("route", [r for r, (access, _c, _s) in ROUTES.items() if access is Access.order])
def test_order_endpoints_answer_only_their_own_token(
    client: TestClient, access_world: Any, route: tuple[str, str]
) -> None:
    shop_state, _headers = access_world
    _access, call, allowed = ROUTES[route]
    for wrong in (
        {"Authorization": f"Bearer {shop_state.other_token}"},
        {"Authorization": f"Bearer {shop_state.token}x"},
        {"Authorization": f"Bearer {shop_state.token[:-1]}"},
        {"Authorization": "Bearer " + "otk_" + "0" * 40},
        {"Authorization": "Bearer otk_é".encode()},
    ):
        _assert_problem(call(client, shop_state, wrong), 404, {"order_not_found"})  # type: ignore[arg-type]
    _assert_problem(call(client, shop_state, {"Authorization": f"Bearer {shop_state.token}"}), allowed, set())


# ------------------------------------------------------------------------------------------- rate limits


def _hold_the_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    from retail import ratelimit

    now = time.time()
    monkeypatch.setattr(ratelimit, "_clock", lambda: now)


def test_shopper_endpoints_are_limited_per_client_address(
    app: FastAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    from retail.settings import get_settings

    monkeypatch.setattr(get_settings(), "shopper_requests_per_minute", 3)
    _hold_the_clock(monkeypatch)
    # Unique addresses: the counts live in Redis for the minute, shared by every test client.
    address = f"shopper-{uuid.uuid4().hex[:12]}"
    with TestClient(app, client=(address, 50000)) as first, TestClient(app, client=(address, 50001)) as again:
        answers = [first.get("/mobile/v1/stores/S1") for _ in range(2)] + [
            again.get("/mobile/v1/products?q=x")
        ]
        assert [a.status_code for a in answers] == [404, 404, 200]
        # The fourth request in the minute, from the same address (another connection, or replica: the
        # count is in Redis), on any shopper route.
        limited = again.post(
            "/mobile/v1/orders", json=order_body("S1", BASKET), headers={"Idempotency-Key": "k"}
        )
        _assert_problem(limited, 429, {"rate_limited"})
        assert 1 <= int(limited.headers["Retry-After"]) <= 60
        assert limited.json()["retry_after"] == int(limited.headers["Retry-After"])
    with TestClient(app, client=(f"{address}-other", 50000)) as other:
        assert other.get("/mobile/v1/stores/S1").status_code == 404
        # Staff, webshop and operators are not shoppers: their routes do not count against the address.
        for _ in range(5):
            assert other.get("/healthz").status_code == 200


def test_no_order_was_written_by_the_limited_request(
    app: FastAPI, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    from retail.settings import get_settings

    monkeypatch.setattr(get_settings(), "shopper_requests_per_minute", 1)
    _hold_the_clock(monkeypatch)
    with TestClient(app, client=(f"shopper-{uuid.uuid4().hex[:12]}", 50000)) as client:
        assert client.get("/mobile/v1/products?q=x").status_code == 200
        refused = client.post(
            "/mobile/v1/orders", json=order_body("S1", BASKET), headers={"Idempotency-Key": "k2"}
        )
    assert refused.status_code == 429
    assert session.exec(select(Order)).all() == []


# ----------------------------------------------------------------------------------------------- secrets


def test_no_secret_is_stored_as_it_was_given(session: Session, access_world: Any) -> None:
    """API keys, order tokens, pickup tokens and short codes are kept only as hashes (or not at all)."""
    from app.registry import metadata

    shop_state, headers = access_world
    order = session.exec(select(Order).where(Order.order_id == shop_state.order_id)).one()
    issued = orders_service.pickup_of(order)
    assert issued is not None
    secrets = [
        shop_state.token,
        shop_state.other_token,
        shop_state.pickup_token,
        issued.short_code,
        issued.short_code.replace("-", ""),
        *(h["Authorization"].removeprefix("Bearer ") for k, h in headers.items() if k in ("admin", "staff")),
    ]
    session.flush()
    stored = " ".join(
        str(row) for table in metadata.sorted_tables for row in session.execute(table.select()).all()
    )
    assert shop_state.order_id in stored  # the dump does hold the rows
    for secret in secrets:
        assert secret not in stored

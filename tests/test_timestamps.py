"""Every instant in every answer carries an offset, on PostgreSQL and on SQLite (which hands timestamps back
naive): the whole set of flows is walked through the HTTP API, admin, webshop, shopper and staff, refusals
included, and every string in every JSON answer that reads as a date and a time is checked."""

from __future__ import annotations

import re
import types
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Annotated, Any, Union, get_args, get_origin

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import AfterValidator, BaseModel
from sqlalchemy import Engine
from sqlmodel import Session

from app.main import create_app
from orders import queueing, sweeps
from orders import service as orders_service
from orders import tasks as orders_tasks
from orders.models import Order
from retail.clock import as_aware_utc, utcnow
from retail.errors import RetailError
from tests.factories import count_row, make_stocked_store, order_body, product_row, reserved_order, store_row

BOTH_DATABASES = pytest.mark.parametrize("engine", ["postgresql", "sqlite"], indirect=True)

KeyFactory = Callable[..., dict[str, str]]

# A date and a time of day at the start of a string: what a client would parse as an instant.
LOOKS_LIKE_INSTANT = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}")
RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")


def instants(value: Any, path: str = "") -> Iterator[tuple[str, str]]:
    """(dotted path, text) of every string in a JSON value that looks like a date-time."""
    if isinstance(value, str):
        if LOOKS_LIKE_INSTANT.match(value):
            yield path, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from instants(item, f"{path}.{key}" if path else key)
    elif isinstance(value, list):
        for position, item in enumerate(value):
            yield from instants(item, f"{path}.{position}")


class Walk:
    """Calls the API and records every instant of every JSON answer, with the request it came from."""

    def __init__(self, client: TestClient) -> None:
        self.client = client
        self.seen: dict[str, str] = {}  # `METHOD path -> field` : the instant's text
        self.statuses: list[tuple[str, int, str | None]] = []

    def __call__(self, method: str, url: str, expected: int, **kwargs: Any) -> Any:
        answer: httpx.Response = self.client.request(method, url, **kwargs)
        assert answer.status_code == expected, (method, url, answer.status_code, answer.text)
        media_type = answer.headers.get("content-type", "").split(";")[0]
        if media_type not in ("application/json", "application/problem+json"):
            return answer
        body = answer.json()
        route = f"{method} {re.sub(r'ord_[A-Za-z0-9_-]+', '{order_id}', url.split('?')[0])}"
        self.statuses.append(
            (route, answer.status_code, body.get("code") if isinstance(body, dict) else None)
        )
        for field, text in instants(body):
            self.seen[f"{route} -> {field}"] = text
        return body

    def fields(self) -> set[str]:
        """The fields that held instants, their list positions left out (`history.0.at` -> `history.at`)."""
        return {re.sub(r"\.\d+", "", key.split(" -> ")[1]) for key in self.seen}


@pytest.fixture
def reserve_in_process(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    """The reservation task, run right after the request's commit, as the embedded default does."""

    def reserve_now(order_pk: int) -> None:
        with Session(engine) as worker:
            orders_service.reserve_order(worker, order_pk=order_pk)
            worker.commit()

    monkeypatch.setattr(orders_tasks, "send_reservation", reserve_now)
    monkeypatch.setattr(queueing, "queue_reservation", lambda order_pk, store_code: reserve_now(order_pk))


@BOTH_DATABASES
def test_every_instant_in_every_answer_has_an_offset(
    committed_client: TestClient, engine: Engine, committed_key: KeyFactory, reserve_in_process: None
) -> None:
    # Real commits: the availability feed shows committed changes only.
    walk = Walk(committed_client)
    admin, webshop = committed_key("admin"), committed_key("webshop")
    staff = committed_key("staff", store_code="S1")

    # Admin and webshop set the chain up.
    stores = [
        store_row("S1", always_open=True),
        # Open Monday to Saturday, so it has a next opening or closing.
        store_row("S2", location={"lat": 52.1, "lon": 5.13}),
    ]
    assert walk("PUT", "/admin/v1/stores", 200, json={"stores": stores}, headers=admin)["errors"] == []
    products = [
        product_row("KOFFIE", price="12.99", name="Koffiebonen", ean="8712345678906"),
        product_row("THEE", price="3.49", name="Groene thee"),
    ]
    assert walk("PUT", "/sync/v1/products", 200, json={"products": products}, headers=webshop)["errors"] == []
    prices = [{"store_code": "S1", "sku": "KOFFIE", "price": {"amount": "13.49"}}]
    assert walk("PUT", "/sync/v1/prices", 200, json={"prices": prices}, headers=webshop)["errors"] == []
    as_of = (utcnow() - timedelta(hours=1)).isoformat()
    counts = [count_row("S1", "KOFFIE", 5, as_of=as_of)]
    assert walk("PUT", "/sync/v1/stock", 200, json={"items": counts}, headers=webshop)["applied"] == 1
    csv = f"store_code,sku,on_hand,as_of\nS1,THEE,10,{as_of}\nS2,KOFFIE,20,{as_of}\nS2,THEE,20,{as_of}\n"
    csv_headers = {**webshop, "Content-Type": "text/csv"}
    assert walk("PUT", "/sync/v1/stock", 200, content=csv, headers=csv_headers)["applied"] == 3
    movement = {
        "movement_id": "m-1",
        "store_code": "S1",
        "sku": "THEE",
        "delta": -1,
        "at": utcnow().isoformat(),
    }
    moved = walk("POST", "/sync/v1/stock/movements", 200, json={"movements": [movement]}, headers=webshop)
    assert moved["applied"] == 1
    assert len(walk("GET", "/sync/v1/availability", 200, headers=webshop)["items"]) == 4

    # The shopper looks around.
    walk("GET", "/mobile/v1/stores/nearest?lat=52.09&lon=5.12", 200)
    walk("GET", "/mobile/v1/stores/nearest?lat=52.09&lon=5.12&sku=KOFFIE&in_stock=true", 200)
    walk("GET", "/mobile/v1/stores/S1", 200)
    walk("GET", "/mobile/v1/stores/S2", 200)
    walk("GET", "/mobile/v1/stores/S1/hours?days=2", 200)
    walk("GET", "/mobile/v1/products?q=koffie", 200)
    walk("GET", "/mobile/v1/products/KOFFIE", 200)
    walk("GET", "/mobile/v1/products/KOFFIE/availability?lat=52.09&lon=5.12", 200)
    walk("GET", "/mobile/v1/products/KOFFIE/prices?lat=52.09&lon=5.12", 200)

    def place(key: str, lines: dict[str, int]) -> tuple[dict[str, Any], dict[str, str]]:
        body = order_body("S1", lines)
        accepted = walk("POST", "/mobile/v1/orders", 202, json=body, headers={"Idempotency-Key": key})
        return accepted, {"Authorization": f"Bearer {accepted['order_token']}"}

    # An order collected, and collected again.
    collected, token = place("collected", {"KOFFIE": 1})
    order = walk("GET", collected["status_url"], 200, headers=token)
    assert order["status"] == "reserved"
    code = order["pickup"]["code"]
    walk("GET", "/staff/v1/me", 200, headers=staff)
    walk("GET", "/staff/v1/stores/S1/orders", 200, headers=staff)
    walk("POST", "/staff/v1/pickups/verify", 409, json={"code": code}, headers=staff)  # not_ready
    walk("POST", f"/staff/v1/orders/{collected['order_id']}/ready", 200, headers=staff)
    walk("POST", "/staff/v1/pickups/verify", 200, json={"code": code}, headers=staff)
    walk("POST", "/staff/v1/pickups/confirm", 200, json={"code": code}, headers=staff)
    again = walk("POST", "/staff/v1/pickups/confirm", 409, json={"code": code}, headers=staff)
    assert again["code"] == "already_collected"
    walk("POST", "/staff/v1/pickups/verify", 409, json={"code": code}, headers=staff)
    walk("GET", collected["status_url"], 200, headers=token)
    walk("POST", f"{collected['status_url']}/cancel", 409, headers=token)  # invalid_transition

    # An order cancelled, then shown at the counter.
    cancelled, token = place("cancelled", {"THEE": 1})
    cancel_code = walk("GET", cancelled["status_url"], 200, headers=token)["pickup"]["code"]
    assert walk("POST", f"{cancelled['status_url']}/cancel", 200, headers=token)["status"] == "cancelled"
    walk("POST", "/staff/v1/pickups/verify", 409, json={"code": cancel_code}, headers=staff)

    # An order that expires at the counter.
    expiring, token = place("expired", {"THEE": 1})
    expire_code = walk("GET", expiring["status_url"], 200, headers=token)["pickup"]["code"]
    walk("POST", f"/staff/v1/orders/{expiring['order_id']}/ready", 200, headers=staff)
    with Session(engine) as session:
        assert len(sweeps.expire_ready(session, now=utcnow() + timedelta(days=30))) == 1
        session.commit()
    walk("POST", "/staff/v1/pickups/verify", 410, json={"code": expire_code}, headers=staff)
    walk("GET", expiring["status_url"], 200, headers=token)

    # An order S1 cannot supply: rejected, with S2 as the alternative and its promise.
    rejected, token = place("rejected", {"KOFFIE": 9})
    refused = walk("GET", rejected["status_url"], 200, headers=token)
    assert refused["status"] == "rejected"
    assert [a["code"] for a in refused["problem"]["alternatives"]] == ["S2"]

    assert ("POST /staff/v1/pickups/confirm", 409, "already_collected") in walk.statuses
    assert ("POST /staff/v1/pickups/verify", 409, "cancelled") in walk.statuses
    assert ("POST /staff/v1/pickups/verify", 410, "expired") in walk.statuses
    # The walk reached every kind of instant the API answers with, so the check below is not vacuous.
    assert walk.fields() >= {
        "created_at",
        "history.at",
        "pickup.ready_by",
        "pickup.expires_at",
        "items.created_at",
        "items.changed_at",
        "next_change.at",
        "items.next_change.at",
        "collected_at",
        "problem.alternatives.ready_by",
    }, walk.fields()
    without_offset = {key: text for key, text in walk.seen.items() if not RFC3339.match(text)}
    assert without_offset == {}
    for text in walk.seen.values():
        assert datetime.fromisoformat(text).utcoffset() is not None


def _bare_instants(annotation: Any, where: str, seen: set[type]) -> Iterator[str]:
    """Where `annotation` holds a datetime that is not the answers' one instant type, `UtcDateTime`
    (whose validator gives a naive value read from SQLite its UTC offset), following nested models."""
    origin = get_origin(annotation)
    if origin is Annotated:
        base, *metadata = get_args(annotation)
        if base is datetime:
            if not any(isinstance(m, AfterValidator) and m.func is as_aware_utc for m in metadata):
                yield where
            return
        yield from _bare_instants(base, where, seen)
    elif annotation is datetime:
        yield where
    elif isinstance(annotation, type) and issubclass(annotation, BaseModel):
        if annotation in seen:
            return
        seen.add(annotation)
        for name, field in annotation.model_fields.items():
            # pydantic keeps a field's outermost Annotated metadata apart from its annotation.
            typed = Annotated[(field.annotation, *field.metadata)] if field.metadata else field.annotation
            yield from _bare_instants(typed, f"{annotation.__name__}.{name}", seen)
    elif origin in (Union, types.UnionType, list, dict, tuple) or origin is not None:
        for argument in get_args(annotation):
            yield from _bare_instants(argument, where, seen)


def _routes(app: FastAPI) -> list[Any]:
    try:  # FastAPI 0.16x keeps included routers as branches; older versions list plain routes
        from fastapi.routing import iter_route_contexts
    except ImportError:  # pragma: no cover
        return list(app.routes)
    return list(iter_route_contexts(app.routes))


def test_every_answer_model_types_its_instants_with_the_one_instant_type() -> None:
    models: list[Any] = []
    for route in _routes(create_app()):
        models.append(getattr(route, "response_model", None))
        models += [
            answer["model"]
            for answer in (getattr(route, "responses", None) or {}).values()
            if "model" in answer
        ]
    # Every error renders through its problem model, documented or not.
    errors: list[type[RetailError]] = [RetailError]
    while errors:
        error = errors.pop()
        models.append(error.problem)
        errors += error.__subclasses__()
    assert len(models) > 30
    seen: set[type] = set()
    bare = [where for model in models for where in _bare_instants(model, "answer", seen)]
    assert bare == []
    # The walk reached the models that hold instants, the problems' among them.
    assert {"AlreadyCollectedProblem", "AvailabilityFeedItem", "NextChangeOut", "OrderOut"} <= {
        model.__name__ for model in seen
    }


@BOTH_DATABASES
@pytest.mark.parametrize("zone", ["Europe/Amsterdam", "Asia/Tokyo", "America/New_York"])
def test_an_instant_computed_in_the_stores_zone_is_stored_as_that_instant(
    session: Session, zone: str
) -> None:
    """`ready_by` is worked out in the store's own zone; read back from the database it is the same instant
    (SQLite keeps no offset: stored as the store's wall clock, it came back hours off)."""
    make_stocked_store(session, "TZ-1", {"A": 5}, timezone=zone, pick_minutes=60)
    before = utcnow()
    order = reserved_order(session, "TZ-1", {"A": 1}, key="tz-1")
    session.expire_all()
    stored = session.get(Order, order.id)
    assert stored is not None
    assert stored.ready_by is not None
    ready_by = as_aware_utc(stored.ready_by)
    assert before + timedelta(minutes=60) <= ready_by <= utcnow() + timedelta(minutes=60)

"""A client generated from the served OpenAPI document, as a client author makes one: openapi-python-client
with the project's clients/openapi-python-client.yaml, from the `/openapi.json` of a live `retail serve` on
the embedded SQLite default. It generates without a single warning, and it drives the webshop and shopper
flows (and the counter's refusal with its `collected_at`), every answer parsing into its typed model with
no member left undocumented."""

from __future__ import annotations

import datetime
import importlib
import inspect
import io
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import attrs
import httpx
import pytest
import yaml
from sqlmodel import Session

from app.main import create_app
from retail.auth import Role, create_api_key
from retail.db import make_engine
from tests.e2e.processes import end, free_port, spawn, wait_serving, wait_until
from tests.factories import count_row, order_body, product_row, store_row

ROOT = Path(__file__).resolve().parent.parent
GENERATOR = Path(sys.executable).with_name("openapi-python-client")
PACKAGE = "winkelpunt_generated_client"


class Service:
    def __init__(self, base: str, database_url: str) -> None:
        self.base = base
        self.engine = make_engine(database_url)

    def key(self, role: str, store: str | None = None) -> str:
        """A new API key, written straight into the service's database."""
        with Session(self.engine) as session:
            secret = create_api_key(session, role=Role(role), store_code=store)
            session.commit()
        return secret


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    """`retail serve` as it runs out of the box: an embedded SQLite file, tasks in-process."""
    workdir = tmp_path_factory.mktemp("serve")
    database_url = f"sqlite:///{workdir / 'winkelpunt.db'}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("RETAIL_")}
    env.update(
        RETAIL_DATABASE_URL=database_url,
        RETAIL_SECRET_KEY="generated-client-test-secret",
        RETAIL_LOG_LEVEL="WARNING",
    )
    port = free_port()
    process = spawn(["serve", "--port", str(port)], env, workdir)
    try:
        base = f"http://127.0.0.1:{port}"
        wait_serving(base)
        service = Service(base, database_url)
        yield service
        service.engine.dispose()
    finally:
        end(process)


@pytest.fixture(scope="module")
def generated(service: Service, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, ModuleType]]:
    """(the generator's output, the generated package imported)."""
    workdir = tmp_path_factory.mktemp("client")
    (workdir / "openapi.json").write_bytes(httpx.get(f"{service.base}/openapi.json", timeout=30).content)
    config = yaml.safe_load((ROOT / "clients" / "openapi-python-client.yaml").read_text())
    # Its hooks as they are, less the formatting with ruff, which the test has no use for.
    hooks = [hook for hook in config["post_hooks"] if not hook.startswith("ruff ")]
    (workdir / "config.yaml").write_text(yaml.safe_dump({**config, "post_hooks": hooks}))
    result = subprocess.run(
        [
            str(GENERATOR),
            "generate",
            "--path",
            "openapi.json",
            "--config",
            "config.yaml",
            "--meta",
            "none",
            "--output-path",
            PACKAGE,
        ],
        cwd=workdir,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    sys.path.insert(0, str(workdir))
    try:
        yield result.stdout + result.stderr, importlib.import_module(PACKAGE)
    finally:
        sys.path.remove(str(workdir))
        for name in [m for m in sys.modules if m == PACKAGE or m.startswith(f"{PACKAGE}.")]:
            del sys.modules[name]


def test_the_client_generates_without_a_warning_and_types_every_answer(
    generated: tuple[str, ModuleType],
) -> None:
    output, package = generated
    assert output.strip().splitlines() == [f"Generating {PACKAGE}"]
    assert package.__file__ is not None
    root = Path(package.__file__).parent
    # An answer documented without a schema is parsed as nothing at all, `cast(Any, None)`; an object
    # schema given inline, without properties, becomes a `..._type_0` model holding a plain dict.
    endpoints = sorted(root.glob("api/*/*.py"))
    assert len(endpoints) > 25
    assert [p.name for p in endpoints if "cast(Any, None)" in p.read_text()] == []
    assert sorted(p.name for p in root.glob("models/*.py") if re.search(r"_type_\d+\.py$", p.name)) == []
    # Placing an order without an Idempotency-Key cannot be written with the client.
    order_create = _load("api.mobile.order_create")
    key = inspect.signature(order_create.sync_detailed).parameters["idempotency_key"]
    assert (key.annotation, key.default) == (str, inspect.Parameter.empty)


def _load(module: str) -> Any:
    return importlib.import_module(f"{PACKAGE}.{module}")


def untyped(value: Any, path: str = "answer") -> list[str]:
    """Where a parsed answer holds members its model does not declare, or a plain dict in place of a
    model: the parts of the answer the document leaves untyped."""
    found: list[str] = []
    if attrs.has(type(value)):
        extra = getattr(value, "additional_properties", {})
        found += [f"{path}.{key}" for key in extra]
        for field in attrs.fields(type(value)):
            if field.name != "additional_properties":
                found += untyped(getattr(value, field.name), f"{path}.{field.name}")
    elif isinstance(value, dict):
        found.append(path)
    elif isinstance(value, list):
        for position, item in enumerate(value):
            found += untyped(item, f"{path}.{position}")
    return found


def answer(response: Any, status: int, model: Any) -> Any:
    """The parsed answer, checked to be of `status` and fully typed as `model`."""
    assert response.status_code == status, response.content
    assert isinstance(response.parsed, model), (type(response.parsed), response.content)
    assert untyped(response.parsed) == []
    return response.parsed


def aware(instant: Any) -> datetime.datetime:
    assert isinstance(instant, datetime.datetime)
    assert instant.utcoffset() is not None, instant
    return instant


def test_the_generated_client_drives_the_webshop_and_shopper_flows(
    service: Service, generated: tuple[str, ModuleType]
) -> None:
    _, client_package = generated
    models = _load("models")
    types = _load("types")
    api = {name: _load(f"api.{name}") for name in ("admin", "webshop_sync", "mobile", "staff")}

    def call(surface: str, operation: str, **kwargs: Any) -> Any:
        return importlib.import_module(f"{api[surface].__name__}.{operation}").sync_detailed(**kwargs)

    def authenticated(secret: str) -> Any:
        return client_package.AuthenticatedClient(base_url=service.base, token=secret)

    admin = authenticated(service.key("admin"))
    webshop = authenticated(service.key("webshop"))
    shopper = client_package.Client(base_url=service.base)

    # The admin sets up two stores; the webshop its catalogue, prices and counts.
    stores = [
        store_row("NL-GEN-001", always_open=True),
        store_row("NL-GEN-002", location={"lat": 52.1, "lon": 5.13}),
    ]
    upserted = answer(
        call(
            "admin", "admin_upsert_stores", client=admin, body=models.StoreBatch.from_dict({"stores": stores})
        ),
        200,
        models.StoreUpsertResult,
    )
    assert (upserted.applied, upserted.errors) == (2, [])
    products = [
        product_row("GEN-KOFFIE", price="12.99", name="Koffiebonen", ean="8712345678906"),
        product_row("GEN-THEE", price="3.49", name="Groene thee"),
    ]
    batch = models.ProductBatch.from_dict({"products": products})
    assert (
        answer(
            call("webshop_sync", "sync_put_products", client=webshop, body=batch), 200, models.BulkResult
        ).applied
        == 2
    )
    prices = models.StorePriceBatch.from_dict(
        {"prices": [{"store_code": "NL-GEN-001", "sku": "GEN-KOFFIE", "price": {"amount": "13.49"}}]}
    )
    assert (
        answer(
            call("webshop_sync", "sync_put_prices", client=webshop, body=prices), 200, models.BulkResult
        ).applied
        == 1
    )
    moment = datetime.datetime.now(datetime.UTC)
    as_of, now = (moment - datetime.timedelta(hours=1)).isoformat(), moment.isoformat()
    counts = models.SyncPutStockJsonBody.from_dict(
        {"items": [count_row("NL-GEN-001", "GEN-KOFFIE", 5, as_of=as_of)]}
    )
    stock = answer(
        call("webshop_sync", "sync_put_stock", client=webshop, body=counts), 200, models.SnapshotResult
    )
    assert (stock.applied, stock.stale) == (1, 0)
    csv = f"store_code,sku,on_hand,as_of\nNL-GEN-001,GEN-THEE,10,{as_of}\nNL-GEN-002,GEN-KOFFIE,20,{as_of}\n"
    upload = types.File(payload=io.BytesIO(csv.encode()), file_name="counts.csv", mime_type="text/csv")
    stock = answer(
        call("webshop_sync", "sync_put_stock", client=webshop, body=upload), 200, models.SnapshotResult
    )
    assert (stock.applied, stock.stale) == (2, 0)
    movements = models.StockMovementBatch.from_dict(
        {
            "movements": [
                {
                    "movement_id": "gen-1",
                    "store_code": "NL-GEN-001",
                    "sku": "GEN-THEE",
                    "delta": -1,
                    "at": now,
                }
            ]
        }
    )
    moved = answer(
        call("webshop_sync", "sync_post_stock_movements", client=webshop, body=movements),
        200,
        models.MovementResult,
    )
    assert (moved.applied, moved.duplicates) == (1, 0)
    feed = answer(call("webshop_sync", "sync_get_availability", client=webshop), 200, models.AvailabilityFeed)
    assert sorted((item.store_code, item.sku, item.available) for item in feed.items) == [
        ("NL-GEN-001", "GEN-KOFFIE", 5),
        ("NL-GEN-001", "GEN-THEE", 9),
        ("NL-GEN-002", "GEN-KOFFIE", 20),
    ]
    for item in feed.items:
        aware(item.changed_at)

    # The shopper finds a store and a product.
    nearest = answer(
        call("mobile", "stores_nearest", client=shopper, lat=52.09, lon=5.12), 200, models.NearestStores
    )
    assert [store.code for store in nearest.items] == ["NL-GEN-001", "NL-GEN-002"]
    with_stock = answer(
        call(
            "mobile", "stores_nearest", client=shopper, lat=52.09, lon=5.12, sku=["GEN-KOFFIE"], in_stock=True
        ),
        200,
        models.NearestStores,
    )
    assert [(store.code, store.has_all) for store in with_stock.items] == [
        ("NL-GEN-001", True),
        ("NL-GEN-002", True),
    ]
    detail = answer(call("mobile", "store_get", code="NL-GEN-002", client=shopper), 200, models.StoreDetail)
    aware(detail.next_change.at)
    hours = answer(
        call("mobile", "store_hours", code="NL-GEN-002", client=shopper, days=3), 200, models.ResolvedHours
    )
    assert len(hours.days) == 3
    found = answer(call("mobile", "products_search", client=shopper, q="koffie"), 200, models.ProductPage)
    assert [product.sku for product in found.items] == ["GEN-KOFFIE"]
    product = answer(call("mobile", "product_get", sku="GEN-KOFFIE", client=shopper), 200, models.ProductOut)
    assert product.online_price.amount == "12.99"
    availability = answer(
        call("mobile", "product_availability", sku="GEN-KOFFIE", client=shopper, lat=52.09, lon=5.12),
        200,
        models.ProductAvailability,
    )
    assert [(s.code, s.available) for s in availability.stores] == [("NL-GEN-001", 5), ("NL-GEN-002", 20)]
    compared = answer(
        call("mobile", "product_prices", sku="GEN-KOFFIE", client=shopper, lat=52.09, lon=5.12),
        200,
        models.ProductPrices,
    )
    assert compared.cheapest.channel == models.Channel.ONLINE

    # Orders: accepted, reserved, their QR codes fetched; one cancelled, one collected.
    def place(key: str, quantity: int) -> tuple[Any, Any]:
        order_in = models.OrderIn.from_dict(order_body("NL-GEN-001", {"GEN-KOFFIE": quantity}))
        accepted = answer(
            call("mobile", "order_create", client=shopper, body=order_in, idempotency_key=key),
            202,
            models.OrderAccepted,
        )
        aware(accepted.created_at)
        holder = authenticated(accepted.order_token)

        def decided() -> bool:
            state = call("mobile", "order_get", order_id=accepted.order_id, client=holder).parsed
            return bool(state.status != models.OrderStatus.PENDING)

        wait_until(decided, timeout=30, what="the order's reservation")
        return accepted, holder

    accepted, holder = place("gen-order-1", 2)
    order = answer(
        call("mobile", "order_get", order_id=accepted.order_id, client=holder), 200, models.OrderOut
    )
    assert order.status == models.OrderStatus.RESERVED
    assert order.problem is None
    aware(order.pickup.ready_by)
    assert [aware(entry.at) for entry in order.history] == sorted(entry.at for entry in order.history)
    png = answer(
        call("mobile", "order_pickup_code_png", order_id=accepted.order_id, client=holder), 200, types.File
    )
    assert png.payload.read(8) == b"\x89PNG\r\n\x1a\n"
    svg = answer(
        call("mobile", "order_pickup_code_svg", order_id=accepted.order_id, client=holder), 200, types.File
    )
    assert b"<svg" in svg.payload.read()
    stranger = authenticated("otk_not-this-orders-token")
    refused = answer(
        call("mobile", "order_get", order_id=accepted.order_id, client=stranger), 404, models.Problem
    )
    assert refused.code == "order_not_found"

    dropped, dropper = place("gen-order-0", 1)
    cancelled = answer(
        call("mobile", "order_cancel", order_id=dropped.order_id, client=dropper), 200, models.OrderOut
    )
    assert (cancelled.status, cancelled.pickup) == (models.OrderStatus.CANCELLED, None)

    # At the counter: ready, handed over, and shown again.
    staff = authenticated(service.key("staff", store="NL-GEN-001"))
    code = models.CodeIn(code=order.pickup.code)
    ready = answer(
        call("staff", "staff_order_ready", order_id=accepted.order_id, client=staff), 200, models.StaffOrder
    )
    aware(ready.pickup.expires_at)
    handed = answer(call("staff", "staff_pickup_confirm", client=staff, body=code), 200, models.HandOver)
    assert handed.status == models.OrderStatus.COLLECTED
    again = answer(
        call("staff", "staff_pickup_verify", client=staff, body=code), 409, models.AlreadyCollectedProblem
    )
    assert again.code == "already_collected"
    collected_at = aware(again.collected_at)
    collected = answer(
        call("mobile", "order_get", order_id=accepted.order_id, client=holder), 200, models.OrderOut
    )
    assert collected.history[-1].at == collected_at
    cancel = answer(
        call("mobile", "order_cancel", order_id=accepted.order_id, client=holder),
        409,
        models.InvalidTransitionProblem,
    )
    assert cancel.order_status == models.OrderStatus.COLLECTED

    # An order the store cannot supply: rejected, with the other store as the alternative.
    rejected, holder = place("gen-order-2", 9)
    order = answer(
        call("mobile", "order_get", order_id=rejected.order_id, client=holder), 200, models.OrderOut
    )
    assert order.status == models.OrderStatus.REJECTED
    assert isinstance(order.problem, models.OrderProblem)
    assert order.problem.code == "out_of_stock"
    assert [(line.sku, line.requested, line.available) for line in order.problem.lines] == [
        ("GEN-KOFFIE", 9, 3)
    ]
    [alternative] = order.problem.alternatives
    assert alternative.code == "NL-GEN-002"
    aware(alternative.ready_by)


def test_the_document_says_what_clients_need() -> None:
    """The points a generator needs, read from the document itself (the same on every engine)."""
    document = create_app().openapi()
    paths = document["paths"]
    binary = {"type": "string", "format": "binary"}

    [key] = [p for p in paths["/mobile/v1/orders"]["post"]["parameters"] if p["name"] == "Idempotency-Key"]
    assert (key["in"], key["required"]) == ("header", True)
    assert paths["/mobile/v1/orders"]["post"]["responses"]["400"]["content"] == {
        "application/problem+json": {"schema": {"$ref": "#/components/schemas/ValidationProblem"}}
    }
    for suffix, media_type in (("png", "image/png"), ("svg", "image/svg+xml")):
        ok = paths[f"/mobile/v1/orders/{{order_id}}/pickup-code.{suffix}"]["get"]["responses"]["200"]
        assert ok["content"] == {media_type: {"schema": binary}}
    frame = paths["/staff/v1/pickups/scan"]["post"]["requestBody"]
    assert frame["required"] is True
    assert {media: body["schema"] for media, body in frame["content"].items()} == {
        "image/jpeg": binary,
        "image/png": binary,
        "image/webp": binary,
    }
    stock = paths["/sync/v1/stock"]["put"]["requestBody"]["content"]
    assert sorted(stock) == ["application/json", "text/csv"]
    assert {k: v for k, v in stock["text/csv"]["schema"].items() if k != "description"} == binary

    schemas = document["components"]["schemas"]
    refusals = paths["/staff/v1/pickups/confirm"]["post"]["responses"]["409"]["content"]
    assert refusals["application/problem+json"]["schema"]["anyOf"] == [
        {"$ref": "#/components/schemas/NotReadyProblem"},
        {"$ref": "#/components/schemas/AlreadyCollectedProblem"},
        {"$ref": "#/components/schemas/CancelledProblem"},
    ]
    collected_at = schemas["AlreadyCollectedProblem"]["properties"]["collected_at"]
    assert collected_at["anyOf"] == [{"type": "string", "format": "date-time"}, {"type": "null"}]
    assert "collected_at" in schemas["AlreadyCollectedProblem"]["required"]
    assert schemas["OrderOut"]["properties"]["problem"]["anyOf"] == [
        {"$ref": "#/components/schemas/OrderProblem"},
        {"type": "null"},
    ]
    assert schemas["OrderProblem"]["properties"]["lines"]["items"] == {
        "$ref": "#/components/schemas/ShortLine"
    }
    assert schemas["OrderProblem"]["properties"]["alternatives"]["items"] == {
        "$ref": "#/components/schemas/Alternative"
    }
    # No error answer is documented as plain JSON: every one is a problem.
    for path, item in paths.items():
        for method, operation in item.items():
            for status, response in operation["responses"].items():
                if int(status) >= 400 and path != "/readyz":
                    assert list(response["content"]) == ["application/problem+json"], (method, path, status)

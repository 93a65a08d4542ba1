"""The application factory: routers, error handling, health, limits and the OpenAPI document."""

from __future__ import annotations

from typing import Any

from fastapi import Depends, FastAPI, Request
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from pydantic import BaseModel
from redis import Redis
from sqlalchemy import text

from retail import docs, observability, registry
from retail.bodies import STREAMED_UPLOADS, BodyLimits
from retail.db import get_engine
from retail.errors import (
    InvalidInput,
    install_error_handlers,
    problem_json_content,
    problem_responses,
)
from retail.settings import get_settings

API_DESCRIPTION = """Click-and-collect and store inventory for retail chains.

Errors are RFC 9457 `application/problem+json` with a stable `code`; each error answer documents its
problems, with their own members (`collected_at` of `already_collected`, `errors` naming each bad field).
Every instant is RFC 3339 with an offset. Auth: `Authorization: Bearer <secret>` for `/admin`, `/staff` and
`/sync`; shopper endpoints need no key (orders use their `order_token`).

Generated clients: the QR images, the camera frame of `pickups/scan` and the `text/csv` stock upload are
binary (`format: binary`). openapi-python-client reads JSON and `application/octet-stream` only: map
`image/png`, `image/svg+xml`, `image/jpeg`, `image/webp` and `text/csv` to `application/octet-stream` with
its `content_type_overrides` (the repository's `clients/openapi-python-client.yaml` does, and works around
a bug of the generator's).

Every response carries an `X-Request-ID` header: the client's own, when it sent a sane one (1-128 of
`A-Z a-z 0-9 . _ : @ + = / -`), else a fresh one. It is in every log line written for the request; quote it
when reporting a problem.

`GET /metrics` is the operators' Prometheus endpoint. It is open unless `RETAIL_METRICS_TOKEN` is set; then
it needs `Authorization: Bearer <that token>`, and no API key opens it.
"""


def _operation_id(route: APIRoute) -> str:
    # Stable ids from the route's explicit name, so the mobile team's generated clients never churn when a
    # handler function is renamed or moved.
    return route.name


def _no_nul_in_parameters(request: Request) -> None:
    """A NUL character can be neither stored nor looked up (PostgreSQL refuses it in text), so a query or
    path parameter holding one is refused here, naming it, before any handler passes it to the database."""
    for location, params in (("path", request.path_params), ("query", request.query_params)):
        for name, value in params.items():
            if isinstance(value, str) and "\x00" in value:
                raise InvalidInput("contains a NUL character", field=f"{location}.{name}")


class Health(BaseModel):
    status: str
    database: str | None = None
    broker: str | None = None


def create_app() -> FastAPI:
    from inventory import metrics as inventory_metrics
    from inventory.router import router as sync_router
    from mobile_api.orders import router as orders_router
    from mobile_api.products import router as products_router
    from mobile_api.router import router as mobile_router
    from orders import desk
    from orders import metrics as orders_metrics
    from orders.router import router as staff_router
    from stores.router import router as stores_admin_router

    settings = get_settings()
    app = FastAPI(
        title="Winkelpunt",
        version="1.0.0",
        description=API_DESCRIPTION,
        generate_unique_id_function=_operation_id,
        responses=problem_responses(413, 422, 500),
        dependencies=[Depends(_no_nul_in_parameters)],
        # FastAPI's pages load their scripts from a CDN; retail.docs serves the same pages whole.
        docs_url=None,
        redoc_url=None,
    )
    install_error_handlers(app)
    app.include_router(mobile_router)
    app.include_router(products_router)
    app.include_router(orders_router)
    app.include_router(staff_router)
    app.include_router(stores_admin_router)
    app.include_router(sync_router)
    app.include_router(desk.router)
    app.mount(desk.ASSETS_PATH, desk.assets(), name="staff_desk_assets")
    docs.install(app)
    _add_health(app)
    app.add_middleware(
        BodyLimits,
        max_bytes=settings.max_body_bytes,
        stall_timeout_s=settings.body_stall_timeout_s,
        streamed=STREAMED_UPLOADS,
    )
    # Last, so it is the outermost middleware: the request id and the metrics cover the 413s too.
    observability.install(app, probes=[*orders_metrics.probes(), *inventory_metrics.probes()])
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    return app


def _add_health(app: FastAPI) -> None:
    @app.get("/healthz", name="healthz", tags=["health"], response_model=Health)
    def healthz() -> Health:
        """The process is alive."""
        return Health(status="ok")

    @app.get(
        "/readyz", name="readyz", tags=["health"], response_model=Health, responses={503: {"model": Health}}
    )
    def readyz() -> Any:
        """The database and the broker are reachable."""
        health = Health(status="ok", database="ok", broker="in-process")
        try:
            with get_engine().connect() as connection:
                connection.execute(text("SELECT 1"))
        except Exception as exc:  # any failure to reach the database means "not ready"
            health.database = f"unreachable: {type(exc).__name__}"
            health.status = "unavailable"
        redis_url = get_settings().redis_url
        if redis_url:
            try:
                Redis.from_url(redis_url, socket_timeout=2, socket_connect_timeout=2).ping()
                health.broker = "ok"
            except Exception as exc:
                health.broker = f"unreachable: {type(exc).__name__}"
                health.status = "unavailable"
        if health.status != "ok":
            return JSONResponse(health.model_dump(), status_code=503)
        return health


def _openapi(app: FastAPI) -> dict[str, Any]:
    if app.openapi_schema:
        return app.openapi_schema
    schema = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
    problem_json_content(schema)
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    # Bulk bodies are read leniently (rows validated one by one) but documented with their row models.
    for model in _documented_row_models():
        model_schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
        for name, definition in model_schema.pop("$defs", {}).items():
            components.setdefault(name, definition)
        components[model.__name__] = model_schema
    app.openapi_schema = schema
    return schema


def _documented_row_models() -> list[type[BaseModel]]:
    from inventory.schemas import ProductIn, StockMovementIn, StockSnapshotIn, StorePriceIn
    from stores.schemas import StoreIn

    return [StoreIn, ProductIn, StorePriceIn, StockSnapshotIn, StockMovementIn]


__all__ = ["create_app", "registry"]

"""The application factory: every domain's routers behind the kernel's error handling, limits, health
and OpenAPI document."""

from __future__ import annotations

from fastapi import Depends, FastAPI

from inventory import metrics as inventory_metrics
from inventory.router import STREAMED_UPLOADS
from inventory.router import router as sync_router
from inventory.schemas import ProductIn, StockMovementIn, StockSnapshotIn, StorePriceIn
from mobile_api.alerts import router as stock_alerts_router
from mobile_api.orders import router as orders_router
from mobile_api.products import router as products_router
from mobile_api.stores import router as shopper_stores_router
from orders import metrics as orders_metrics
from orders.desk import desk
from orders.desk_router import router as desk_events_router
from orders.manager import manager
from orders.report_router import router as report_router
from orders.router import router as staff_router
from retail import docs, http, observability
from retail.bodies import BodyLimits
from retail.errors import install_error_handlers, problem_responses
from retail.settings import get_settings
from stores.router import router as stores_admin_router
from stores.schemas import LaneIn, StoreIn

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


def create_app() -> FastAPI:
    settings = get_settings()
    app = FastAPI(
        title="Winkelpunt",
        version="1.0.0",
        description=API_DESCRIPTION,
        generate_unique_id_function=http.operation_id,
        responses=problem_responses(413, 422, 500),
        dependencies=[Depends(http.no_nul_in_parameters)],
        # FastAPI's pages load their scripts from a CDN; retail.docs serves the same pages whole.
        docs_url=None,
        redoc_url=None,
    )
    install_error_handlers(app)
    app.include_router(shopper_stores_router)
    app.include_router(products_router)
    app.include_router(orders_router)
    app.include_router(stock_alerts_router)
    app.include_router(staff_router)
    app.include_router(desk_events_router)
    app.include_router(stores_admin_router)
    app.include_router(report_router)
    app.include_router(sync_router)
    app.include_router(desk.router)
    app.mount(desk.ASSETS_PATH, desk.assets(), name="staff_desk_assets")
    app.include_router(manager.router)
    app.mount(manager.ASSETS_PATH, manager.assets(), name="manager_assets")
    docs.install(app)
    http.install_health(app)
    app.add_middleware(
        BodyLimits,
        max_bytes=settings.max_body_bytes,
        stall_timeout_s=settings.body_stall_timeout_s,
        streamed=STREAMED_UPLOADS,
    )
    # Last, so it is the outermost middleware: the request id and the metrics cover the 413s too.
    observability.install(app, probes=[*orders_metrics.probes(), *inventory_metrics.probes()])
    http.install_openapi(
        app, row_models=[StoreIn, LaneIn, ProductIn, StorePriceIn, StockSnapshotIn, StockMovementIn]
    )
    return app

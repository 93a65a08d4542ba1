"""The webshop sync (`/sync/v1`): thin handlers over the catalogue, the stock sync and the feed."""

from __future__ import annotations

import json
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ValidationError

from inventory import catalogue, feed, sync
from inventory.exceptions import InvalidCsv
from inventory.schemas import (
    AvailabilityFeed,
    MovementResult,
    ProductBatch,
    SnapshotResult,
    StockMovementBatch,
    StockSnapshotBatch,
    StorePriceBatch,
)
from retail.auth import WebshopKey, WebshopReadKey
from retail.bodies import spool_body
from retail.bulk import BulkResult
from retail.db import ReadSessionDep, SessionDep
from retail.errors import RetailError, problem_responses
from retail.routing import OneHopRoute

M = TypeVar("M", bound=BaseModel)

router = APIRouter(
    prefix="/sync/v1", tags=["webshop sync"], responses=problem_responses(401, 403), route_class=OneHopRoute
)
# (method, path, media type) of the uploads read as a stream, row by row, and so of any size: the app
# exempts them from its body size limit.
STREAMED_UPLOADS = frozenset({("PUT", "/sync/v1/stock", "text/csv")})

MAX_FEED_LIMIT = 5000


@router.put("/products", name="sync_put_products", response_model=BulkResult)
def put_products(batch: ProductBatch, session: SessionDep, _key: WebshopKey) -> BulkResult:
    """Insert or update products by `sku`; rows with errors are reported by index, the rest apply."""
    return catalogue.upsert_products(session, rows=batch.products)


@router.put("/prices", name="sync_put_prices", response_model=BulkResult)
def put_prices(batch: StorePriceBatch, session: SessionDep, _key: WebshopKey) -> BulkResult:
    """Store prices overriding a product's `store_price` per (store, sku)."""
    return catalogue.upsert_store_prices(session, rows=batch.prices)


_STOCK_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "required": ["items"],
                    "properties": {
                        "items": {
                            "type": "array",
                            "maxItems": 10_000,
                            "items": {"$ref": "#/components/schemas/StockSnapshotIn"},
                        }
                    },
                }
            },
            "text/csv": {
                # Binary, so that generated clients send a file or a stream as it is, at any size.
                "schema": {
                    "type": "string",
                    "format": "binary",
                    "description": (
                        "UTF-8 CSV: the header line `store_code,sku,on_hand,as_of`, then one count per "
                        "line, `as_of` RFC 3339 with an offset. Streamed: any size, exempt from the body "
                        "limit; a file that cannot be read as a whole is 422 `invalid_csv`"
                    ),
                },
                "example": "store_code,sku,on_hand,as_of\nNL-AMS-001,WP-100234,7,2026-11-23T06:00:00+01:00\n",
            },
        },
    }
}


@router.put(
    "/stock",
    name="sync_put_stock",
    response_model=SnapshotResult,
    openapi_extra=_STOCK_BODY,
    responses=problem_responses(408, 415, InvalidCsv),
)
async def put_stock(request: Request, session: SessionDep, _key: WebshopKey) -> SnapshotResult:
    """Absolute stock counts as of `as_of`: JSON up to 10,000 rows, or `text/csv` with the header
    `store_code,sku,on_hand,as_of`, of any size. Not newer than the stored count: `stale`. A body that
    stalls (`RETAIL_BODY_STALL_TIMEOUT_S`) is refused with 408 and nothing of it applies."""
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type not in ("text/csv", "application/json", ""):
        raise RetailError(
            f"send application/json or text/csv, not {media_type}",
            status_code=415,
            code="unsupported_media_type",
        )
    # Checking the key opened a transaction: on SQLite (BEGIN IMMEDIATE) that is the database's one write
    # lock, on PostgreSQL a pooled connection. End it before waiting for the body, however slowly that
    # arrives; the counts are applied in a transaction of their own once the whole body is here.
    session.rollback()
    if media_type == "text/csv":
        with await spool_body(request) as body:
            return await run_in_threadpool(lambda: sync.apply_snapshot_csv(session, body=body))
    batch = _parse(StockSnapshotBatch, await request.body())
    rows = list(enumerate(batch.items))
    return await run_in_threadpool(lambda: sync.apply_snapshots(session, rows=rows))


@router.post("/stock/movements", name="sync_post_stock_movements", response_model=MovementResult)
def post_movements(batch: StockMovementBatch, session: SessionDep, _key: WebshopKey) -> MovementResult:
    """Relative stock changes, idempotent by `movement_id`: a replayed movement counts once."""
    return sync.record_movements(session, rows=batch.movements)


@router.get("/availability", name="sync_get_availability", response_model=AvailabilityFeed)
def get_availability(
    session: ReadSessionDep,
    _key: WebshopReadKey,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_FEED_LIMIT)] = 1000,
) -> AvailabilityFeed:
    """Stock rows changed since `cursor`, each in its latest state. Follow `next_cursor` until `items` is
    empty; poll again later with the last cursor to see what changed since (it is never null)."""
    return feed.availability_feed(session, cursor=cursor, limit=limit)


def _parse(model: type[M], body: bytes) -> M:
    try:
        data: Any = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise RequestValidationError(
            [{"loc": ("body",), "msg": f"malformed JSON: {exc}", "type": "json_invalid"}]
        ) from exc
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise RequestValidationError(
            [
                {**err, "loc": ("body", *err["loc"])}
                for err in exc.errors(include_url=False, include_input=False)
            ]
        ) from exc

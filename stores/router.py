"""Admin HTTP surface of the store network (`/admin/v1`)."""

from __future__ import annotations

from fastapi import APIRouter

from retail.auth import AdminKey
from retail.db import SessionDep
from retail.errors import problem_responses
from retail.routing import OneHopRoute
from stores import service
from stores.schemas import LaneBatch, LaneUpsertResult, StoreBatch, StoreUpsertResult

router = APIRouter(
    prefix="/admin/v1", tags=["admin"], responses=problem_responses(401, 403), route_class=OneHopRoute
)


@router.put("/stores", name="admin_upsert_stores", response_model=StoreUpsertResult)
def upsert_stores(batch: StoreBatch, session: SessionDep, _key: AdminKey) -> StoreUpsertResult:
    """Insert or update stores by `code`. Rows with errors are reported by index; the others apply."""
    return service.upsert_stores(session, rows=batch.stores)


@router.put("/transfer-lanes", name="admin_upsert_transfer_lanes", response_model=LaneUpsertResult)
def upsert_transfer_lanes(batch: LaneBatch, session: SessionDep, _key: AdminKey) -> LaneUpsertResult:
    """Insert or replace the lanes goods travel by, by (`from_store`, `to_store`): departures per weekday
    in the source's time zone and `transit_hours`. Rows with errors are reported by index; the others
    apply."""
    return service.upsert_lanes(session, rows=batch.lanes)

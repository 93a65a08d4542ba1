"""Shopper store endpoints (`/mobile/v1/stores`): the nearest stores to a point or a place, one store with
its hours, and its resolved days. Thin handlers: validate, call the domain services, shape the answer."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request, Response

from mobile_api.basket import Basket
from mobile_api.params import (
    SHOPPER_RATE_LIMIT,
    SHOPPER_RESPONSES,
    AllowTransfer,
    AtQuery,
    Lat,
    Lon,
    RadiusKm,
    StoreLimit,
    instant,
    point,
)
from mobile_api.schemas import (
    NearestStore,
    NearestStores,
    NextChangeOut,
    Origin,
    ResolvedHours,
    SkuAvailability,
    StoreDetail,
    StoreHours,
)
from orders import service as orders_service
from retail.caching import TIME_DEPENDENT_MAX_AGE_S, cached_json
from retail.clock import utcnow
from retail.errors import InvalidInput, problem_responses
from retail.pagination import decode_position, encode_cursor
from retail.replica import LookupRoute, LookupSessionDep
from stores import service as stores_service
from stores.schemas import Address, Location
from stores.service import NearbyStore, StoreStatus, StoreView

# Lookups: a replica may answer them (retail/replica.py), and the primary does when it cannot.
router = APIRouter(
    prefix="/mobile/v1",
    tags=["mobile"],
    route_class=LookupRoute,
    dependencies=[SHOPPER_RATE_LIMIT],
    responses={**problem_responses(404), **SHOPPER_RESPONSES},
)

StoreCodePath = Annotated[str, Path(max_length=32, description="the store's code", examples=["NL-AMS-001"])]


@router.get(
    "/stores/nearest",
    name="stores_nearest",
    response_model=NearestStores,
    response_model_exclude_unset=True,
    responses=problem_responses(503),
)
def nearest_stores(
    session: LookupSessionDep,
    lat: Lat | None = None,
    lon: Lon | None = None,
    q: Annotated[
        str | None,
        Query(min_length=1, max_length=200, description="a place name or postcode", examples=["Utrecht"]),
    ] = None,
    limit: StoreLimit = 10,
    radius_km: RadiusKm = None,
    open_now: Annotated[bool, Query(description="true: only stores open now (false: no filter)")] = False,
    click_and_collect: Annotated[
        bool, Query(description="true: only stores offering click and collect (false: no filter)")
    ] = False,
    sku: Annotated[
        list[str] | None,
        Query(max_length=20, description="repeatable: report these skus' stock in each store"),
    ] = None,
    in_stock: Annotated[
        bool, Query(description="true: only stores where every requested sku is available (false: no filter)")
    ] = False,
    allow_transfer: AllowTransfer = False,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
    at: AtQuery = None,
) -> NearestStores:
    """The stores nearest to a point or a place, by geodesic distance, ties by code.

    With `open_now` or `click_and_collect`, a page may hold fewer than `limit` stores when many nearer
    stores did not match (each request looks at most at 1,000 stores); `next_cursor` then continues.

    With `allow_transfer` (and `sku`), a store that lacks some skus but can get them all by transfer from
    one source counts as holding them for `in_stock`, and its `pickup_ready_by` is the promise of an
    `allow_transfer` order placed now; `availability` and `has_all` still say what its shelves hold.
    """
    given = point(lat, lon)
    if given is not None:
        origin = Origin(lat=given.lat, lon=given.lon, name=None)
    elif q is not None and q.strip():
        place = stores_service.locate(q)
        origin = Origin(lat=place.lat, lon=place.lon, name=place.name)
    else:
        raise InvalidInput("give lat and lon, or q", field="query.lat")
    if in_stock and not sku:
        raise InvalidInput("in_stock needs at least one sku", field="query.sku")
    if allow_transfer and not sku:
        raise InvalidInput("allow_transfer needs at least one sku", field="query.sku")
    basket = Basket(session, sku) if sku else None
    when = instant(at)
    if basket is not None and allow_transfer:
        basket.count_transfers(at=when)
    # Everything that decides which stores come in which order, so a cursor only continues its own query.
    scope = {
        "route": "stores_nearest",
        "origin": [origin.lat, origin.lon],
        "radius_km": radius_km,
        # `at` decides which stores are open; without `open_now` it only changes what is said of them.
        "open_at": (when.isoformat() if at is not None else "now") if open_now else None,
        "click_and_collect": click_and_collect,
        "in_stock": sorted(set(sku or [])) if in_stock else None,
    }
    if in_stock and allow_transfer:
        # Only then: a cursor issued without the flag reads as it did before there was one.
        scope["allow_transfer"] = True
    page = stores_service.nearest_stores(
        session,
        lat=origin.lat,
        lon=origin.lon,
        limit=limit,
        at=when,
        radius_km=radius_km,
        open_now_only=open_now,
        click_and_collect_only=click_and_collect,
        after=decode_position(cursor, float, str, scope=scope),
        batch_filter=basket.stores_with_everything if basket is not None and in_stock else None,
    )
    next_cursor = encode_cursor(list(page.resume_after), scope=scope) if page.resume_after else None
    # Empty without `allow_transfer`; with it, one batch for the page (the filter's batches remembered).
    by_transfer = basket.transfer_promises([s.store for s in page.stores]) if basket is not None else {}
    promises = orders_service.shown_ready_by_all(
        session, stores=[s.store for s in page.stores if s.store.id not in by_transfer], at=when
    )
    own = dict(zip((s.store.id for s in page.stores if s.store.id not in by_transfer), promises, strict=True))
    items = [
        _nearest(
            s,
            basket.availability(s.store) if basket else None,
            by_transfer.get(s.store.id, own.get(s.store.id)),
        )
        for s in page.stores
    ]
    return NearestStores(origin=origin, items=items, next_cursor=next_cursor)


@router.get("/stores/{code}", name="store_get", response_model=StoreDetail)
def get_store(
    code: StoreCodePath, request: Request, session: LookupSessionDep, at: AtQuery = None
) -> Response:
    """One store with its weekly hours and special days, and whether it is open now.

    With an `ETag`, `Cache-Control: max-age=30` (the answer says whether the store is open) and `304` on
    `If-None-Match`."""
    store = stores_service.shopper_store(session, code=code)
    hours = store.schedule.hours
    status = store.status_at(instant(at))
    answer = StoreDetail(
        **_store_fields(store, status),
        hours=StoreHours(weekly=hours.weekly, special=hours.special),
    )
    return cached_json(request, answer, max_age_s=TIME_DEPENDENT_MAX_AGE_S)


@router.get("/stores/{code}/hours", name="store_hours", response_model=ResolvedHours)
def store_hours(
    code: StoreCodePath,
    request: Request,
    session: LookupSessionDep,
    start: Annotated[date | None, Query(description="first day; default today in the store's zone")] = None,
    days: Annotated[int, Query(ge=1, le=stores_service.MAX_HOURS_DAYS)] = 7,
) -> Response:
    """The store's resolved opening hours per day: weekly hours, special days and public holidays.

    With an `ETag`, `Cache-Control: max-age=30` (without `start`, the days begin today) and `304` on
    `If-None-Match`."""
    store = stores_service.shopper_store(session, code=code)
    now = utcnow()
    if start is not None:
        earliest, latest = stores_service.hours_date_bounds(now.date())
        if not earliest <= start <= latest:
            raise InvalidInput(f"start must lie between {earliest} and {latest}", field="query.start")
    resolved = stores_service.resolved_days(store, start=start, days=days, at=now)
    answer = ResolvedHours(store_code=store.code, timezone=store.timezone, days=resolved)
    return cached_json(request, answer, max_age_s=TIME_DEPENDENT_MAX_AGE_S)


def _store_fields(store: StoreView, status: StoreStatus) -> dict[str, Any]:
    """The fields of a store object: the store as stored, and where it stands at the instant asked about."""
    return {
        "code": store.code,
        "name": store.name,
        "address": Address(
            street=store.street,
            postcode=store.postcode,
            city=store.city,
            country=store.country,
            subdivision=store.subdivision,
        ),
        "location": Location(lat=store.lat, lon=store.lon),
        "timezone": store.timezone,
        "phone": store.phone,
        "click_and_collect": store.click_and_collect,
        "kind": "store",
        "daily_order_capacity": store.daily_order_capacity,
        "same_day_cutoff": store.same_day_cutoff,
        "click_and_collect_paused": store.click_and_collect_paused,
        "hold_opening_hours": store.hold_opening_hours,
        "open_now": status.open_now,
        "today": status.today,
        "next_change": (
            NextChangeOut(at=status.next_change.at, open=status.next_change.open)
            if status.next_change
            else None
        ),
    }


def _nearest(
    nearby: NearbyStore, availability: list[SkuAvailability] | None, pickup_ready_by: datetime | None
) -> NearestStore:
    store = NearestStore(
        **_store_fields(nearby.store, nearby.status),
        distance_km=round(nearby.distance_km, 3),
        pickup_ready_by=pickup_ready_by,
    )
    if availability is not None:
        # Set only when skus were asked for, so that the answer leaves both fields out otherwise.
        store.availability = availability
        store.has_all = all(line.available > 0 for line in availability)
    return store

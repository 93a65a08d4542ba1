"""The store network's logic: upserting stores, reading them, their hours, and finding the nearest ones.

Services take the session first and keyword-only arguments, may flush, and never commit.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, fields
from datetime import date, datetime, timedelta
from functools import lru_cache
from itertools import islice
from typing import Any

from sqlalchemy import Select, bindparam
from sqlalchemy import select as sa_select
from sqlalchemy import update as sa_update
from sqlmodel import Session, col, select

from retail import dialect
from retail.bulk import RowError, validate_rows
from retail.clock import utcnow
from retail.db import on_commit
from retail.settings import get_settings
from stores.exceptions import GeocoderUnavailable, PlaceNotFound, StoreNotFound
from stores.geocoding import Geocoder, GeocodingUnavailable, Place, make_geocoder
from stores.hours import ResolvedDay, StoreSchedule
from stores.hours import engine as hours_engine
from stores.hours import promise as promise_rules
from stores.lanes import Lane as Lane
from stores.lanes import TransferSource as TransferSource
from stores.lanes import lanes_to as lanes_to
from stores.lanes import transfer_sources as transfer_sources
from stores.lanes import transfer_sources_into as transfer_sources_into
from stores.lanes import upsert_lanes as upsert_lanes
from stores.models import Store, StoreNetworkRevision
from stores.network import StoreStatus as StoreStatus
from stores.network import StoreView as StoreView
from stores.network import forget as forget_network
from stores.network import network, schedule_for
from stores.schemas import StoreIn, StoreKind, StoreUpsertResult, row_error_code

MAX_HOURS_DAYS = 31


# ---------------------------------------------------------------------------------------------- writing


def upsert_stores(session: Session, *, rows: Sequence[Any]) -> StoreUpsertResult:
    """Insert or update stores by code; invalid rows are reported by index and the rest apply."""
    valid, errors = validate_rows(rows, StoreIn, error_code=row_error_code)
    first_index_of: dict[str, int] = {}
    unique: list[StoreIn] = []
    for index, store_in in valid:
        earlier = first_index_of.setdefault(store_in.code, index)
        if earlier != index:
            errors.append(
                RowError(
                    index=index,
                    code="duplicate_code",
                    detail=f"code: {store_in.code!r} already appears at index {earlier} of this batch",
                )
            )
            continue
        unique.append(store_in)
    errors.sort(key=lambda e: e.index)
    if unique:
        _write_stores(session, unique)
        _touch_network(session)
    return StoreUpsertResult(applied=len(unique), errors=errors)


def _row_values(store_in: StoreIn, now: datetime) -> dict[str, Any]:
    return {
        "code": store_in.code,
        "name": store_in.name,
        "street": store_in.address.street,
        "postcode": store_in.address.postcode,
        "city": store_in.address.city,
        "country": store_in.address.country,
        "subdivision": store_in.address.subdivision,
        "lat": store_in.location.lat,
        "lon": store_in.location.lon,
        "timezone": store_in.timezone,
        "phone": store_in.phone,
        "click_and_collect": store_in.click_and_collect,
        "low_stock_threshold": store_in.low_stock_threshold,
        "hold_hours": store_in.hold_hours,
        "pick_minutes": store_in.pick_minutes,
        "return_days": store_in.return_days,
        "handover_minutes": store_in.handover_minutes,
        "closed_on_public_holidays": bool(store_in.closed_on_public_holidays),
        "kind": store_in.kind.value,
        "daily_order_capacity": store_in.daily_order_capacity,
        "same_day_cutoff": store_in.same_day_cutoff,
        "click_and_collect_paused": store_in.click_and_collect_paused,
        "hold_opening_hours": store_in.hold_opening_hours,
        "hours": store_in.opening_hours_structured.model_dump(mode="json"),
        "created_at": now,
        "updated_at": now,
    }


def _write_stores(session: Session, stores_in: Sequence[StoreIn]) -> None:
    # One upsert statement, compiled once and sent with every row as its parameters (SQLAlchemy batches
    # them into multi-row VALUES), instead of a read-modify-write per store.
    now = utcnow()
    values = [_row_values(s, now) for s in stores_in]
    statement = dialect.insert(session, Store.__table__)  # type: ignore[attr-defined]
    updated = {
        column: statement.excluded[column] for column in values[0] if column not in ("code", "created_at")
    }
    session.connection().execute(
        statement.on_conflict_do_update(index_elements=["code"], set_=updated), values
    )


def _touch_network(session: Session) -> None:
    statement = dialect.insert(session, StoreNetworkRevision.__table__).values(  # type: ignore[attr-defined]
        id=1, token=uuid.uuid4().hex
    )
    session.execute(
        statement.on_conflict_do_update(index_elements=["id"], set_={"token": statement.excluded.token})
    )
    # This process sees its own change at once; the others within `stores.network.STALE_AFTER_S`.
    on_commit(session, forget_network)


# ---------------------------------------------------------------------------------------------- reading


def get_store(session: Session, *, code: str) -> Store:
    store = session.exec(select(Store).where(Store.code == code)).first()
    if store is None:
        raise StoreNotFound(code)
    return store


def lock_store(session: Session, *, store_id: int) -> None:
    """Hold the store's row until the transaction ends, so that what is decided per store (the orders a
    day has promised, against its capacity) is decided by one transaction at a time. SQLite has no row
    locks; its one writer already is the only one."""
    session.exec(select(Store.id).where(Store.id == store_id).with_for_update()).one()


def schedule_of(store: Store) -> StoreSchedule:
    return schedule_for(
        json.dumps(store.hours, sort_keys=True),
        store.timezone,
        store.country,
        store.subdivision,
        store.closed_on_public_holidays,
    )


def shopper_store(session: Session, *, code: str) -> StoreView:
    """The store with this code as shoppers see it, from this process's snapshot of the network."""
    view = network(session).by_code.get(code)
    if view is None:
        raise StoreNotFound(code)
    return view


def resolved_days(store: StoreView, *, start: date | None, days: int, at: datetime) -> list[ResolvedDay]:
    schedule = store.schedule
    first = start or hours_engine.local_today(schedule, at)
    return hours_engine.resolve_days(schedule, first, days)


def hours_date_bounds(today: date) -> tuple[date, date]:
    """The range of start dates `/hours` accepts: holidays are defined well beyond it, but nobody plans a
    pickup decades ahead and unbounded years are a cheap way to make the server compute a lot."""
    return today - timedelta(days=366 * 2), today + timedelta(days=366 * 3)


# ---------------------------------------------------------------------------------------------- nearest


@lru_cache(maxsize=1)
def _geocoder() -> Geocoder:
    settings = get_settings()
    return make_geocoder(
        settings.geocoder,
        countries=settings.gazetteer_country_list,
        user_agent=settings.geocoder_user_agent,
        timeout_s=settings.geocoder_timeout_s,
    )


def warm_up_geocoder() -> None:
    """Load the offline gazetteer now instead of on the first `q` query."""
    warm_up = getattr(_geocoder(), "warm_up", None)
    if warm_up is not None:
        warm_up()


def locate(query: str) -> Place:
    """Coordinates for a place name or postcode."""
    try:
        place = _geocoder().geocode(query)
    except GeocodingUnavailable as exc:
        raise GeocoderUnavailable(f"the geocoder is unavailable: {exc}") from exc
    if place is None:
        raise PlaceNotFound(query)
    return place


@dataclass(frozen=True)
class NearbyStore:
    store: StoreView
    distance_km: float
    status: StoreStatus


@dataclass(frozen=True)
class NearbyPage:
    stores: list[NearbyStore]
    # Where the next page starts, as (distance, code); None when no store is left.
    resume_after: tuple[float, str] | None


# How many stores one request may look at before answering with what it found. Filters can reject most of
# a chain (every store is closed at 3 a.m.); without a bound, one request would walk all 100,000 stores.
MAX_EXAMINED = 1000
_MAX_BATCH = 1024


def nearest_stores(
    session: Session,
    *,
    lat: float,
    lon: float,
    limit: int,
    at: datetime,
    radius_km: float | None = None,
    open_now_only: bool = False,
    click_and_collect_only: bool = False,
    after: tuple[float, str] | None = None,
    batch_filter: Callable[[Sequence[StoreView]], set[int]] | None = None,
) -> NearbyPage:
    """Up to `limit` stores nearest to (lat, lon) that pass the filters, in (distance, code) order.

    `batch_filter` is a filter of another domain (stock, say), asked once per batch of candidate stores
    and answering the ids of those that pass. A page holds fewer than `limit` stores, with
    `resume_after` set, when the filters rejected `MAX_EXAMINED` stores first; the caller can carry on.
    """
    found: list[NearbyStore] = []
    examined = 0
    candidates = network(session).nearest(lat, lon, radius_km=radius_km, after=after)
    batch_size = limit + 1
    # In growing batches, so that a caller that wants ten stores asks its filter (a stock query, say) about
    # a few stores once, and one that filters most stores out still asks only a few times.
    while batch := list(islice(candidates, batch_size)):
        batch_size = min(batch_size * 4, _MAX_BATCH)
        passing = batch_filter([store for store, _ in batch]) if batch_filter is not None else None
        for store, distance in batch:
            examined += 1
            if (not click_and_collect_only or store.click_and_collect) and (
                passing is None or store.id in passing
            ):
                status = store.status_at(at)
                if status.open_now or not open_now_only:
                    found.append(NearbyStore(store, distance, status))
                    if len(found) > limit:
                        last = found[limit - 1]
                        return NearbyPage(found[:limit], (last.distance_km, last.store.code))
            if examined >= MAX_EXAMINED:
                return NearbyPage(found, (distance, store.code))
    return NearbyPage(found, None)


# -------------------------------------------------------------------------------- for other domains


@dataclass(frozen=True)
class StoreCard:
    """What an order needs of its store: the keys, the name and address it was promised at, and whether
    the store takes click-and-collect orders (a warehouse never does; a paused store not for now)."""

    id: int
    code: str
    name: str
    street: str
    postcode: str
    city: str
    country: str
    click_and_collect: bool
    kind: str
    click_and_collect_paused: bool

    @property
    def is_shop(self) -> bool:
        """A store shoppers walk into, not a warehouse."""
        return self.kind == StoreKind.store

    @property
    def offers_click_and_collect(self) -> bool:
        """Whether the store is a pickup point at all (paused or not): a warehouse never is."""
        return self.click_and_collect and self.kind == StoreKind.store

    @classmethod
    def of_row(cls, row: Sequence[Any]) -> StoreCard:
        """The card in the first columns of a row of `store_card_by_code` (or of a query that embeds it
        first, as `inventory.service.priced_beside` does)."""
        return cls(*row[: len(_CARD_FIELDS)])


_CARD_FIELDS = tuple(field.name for field in fields(StoreCard))


# Every order placed reads its store: loading the whole ORM row (hours and all), and building the statement
# per call, cost more than the read itself, so the statement is built once, of the card's table columns
# (a Core statement: no ORM loading of its rows).
@lru_cache(maxsize=1)
def store_card_by_code() -> Select[*tuple[Any, ...]]:
    """The card of the store whose code is bound as `code`, as a query another domain may embed in one
    statement of its own (an order's placement reads its store and its basket in one round trip)."""
    table = Store.__table__.c  # type: ignore[attr-defined]
    return sa_select(*(table[name] for name in _CARD_FIELDS)).where(table.code == bindparam("code"))


def find_store(session: Session, *, code: str) -> StoreCard | None:
    """The store with this code, or None: for callers that answer an unknown code in their own words (the
    pickup desk's `invalid_code`)."""
    row = session.execute(store_card_by_code(), {"code": code}).first()
    return None if row is None else StoreCard.of_row(row)


def open_time_after(schedule: StoreSchedule, *, start: datetime, duration: timedelta) -> datetime | None:
    """The instant at which the store has been open for `duration` since `start`, in its own opening hours
    (holidays and special days included); None when that is beyond the hours engine's horizon."""
    return hours_engine.add_open_time(schedule, start, duration)


def promised_ready_by(
    schedule: StoreSchedule,
    *,
    start: datetime,
    pick_minutes: int,
    same_day_cutoff: str | None,
    daily_order_capacity: int | None,
    promised_on: Callable[[date], int],
    picked: Callable[[datetime], datetime | None] | None = None,
) -> datetime | None:
    """The promise rule (`stores.hours.promise.promised_ready_by`) with the store's settings as stored:
    the cutoff as `"HH:MM"`."""
    return promise_rules.promised_ready_by(
        schedule,
        start=start,
        pick_minutes=pick_minutes,
        same_day_cutoff=None if same_day_cutoff is None else promise_rules.minutes_of_day(same_day_cutoff),
        daily_order_capacity=daily_order_capacity,
        promised_on=promised_on,
        picked=picked,
    )


def hold_ends_at(store: Store, *, ready_at: datetime) -> datetime:
    """When a ready order's hold runs out: `hold_opening_hours` of the store's own opening hours (holidays
    and special days included) when the store counts its holds so, else `hold_hours` on the clock; the
    clock too for a store that would not open again within the hours engine's horizon."""
    if store.hold_opening_hours is not None:
        ends = open_time_after(
            schedule_of(store), start=ready_at, duration=timedelta(hours=store.hold_opening_hours)
        )
        if ends is not None:
            return ends
        return ready_at + timedelta(hours=store.hold_opening_hours)
    return ready_at + timedelta(hours=store.hold_hours)


def store_keys() -> Select[int, str, int]:
    """Every store's `id`, `code` and `low_stock_threshold`, as a query for another domain to embed in
    one statement of its own where store codes meet many rows at once (a sync's staged counts resolved
    to ids, the availability feed's page): built here from the model, so the store table is read only
    through this domain."""
    return sa_select(col(Store.id), col(Store.code), col(Store.low_stock_threshold))


@dataclass(frozen=True)
class MeasuredStore:
    """A store as its measured figures are worked out (orders/store_figures.py): its schedule and the
    figures it holds now."""

    id: int
    code: str
    schedule: StoreSchedule
    short_pick_share: float | None
    measured_pick_minutes: int | None


def measured_stores(session: Session) -> list[MeasuredStore]:
    """Every store (warehouses included), by id, with the figures `record_store_figures` last wrote."""
    return [
        MeasuredStore(
            id=store.id or 0,
            code=store.code,
            schedule=schedule_of(store),
            short_pick_share=store.short_pick_share,
            measured_pick_minutes=store.measured_pick_minutes,
        )
        for store in session.exec(select(Store).order_by(col(Store.id))).all()
    ]


def record_store_figures(session: Session, *, figures: Mapping[int, tuple[float | None, int | None]]) -> None:
    """Write stores' measured figures, store id -> (short-pick share, measured pick minutes), in one
    statement, and touch the network's revision once, so that every process's snapshot judges and promises
    with them. Nothing given, nothing written."""
    if not figures:
        return
    table = Store.__table__  # type: ignore[attr-defined]
    session.execute(
        sa_update(table)
        .where(table.c.id == bindparam("store"))
        .values(short_pick_share=bindparam("share"), measured_pick_minutes=bindparam("minutes")),
        [
            {"store": store, "share": share, "minutes": minutes}
            for store, (share, minutes) in sorted(figures.items())
        ],
    )
    _touch_network(session)


def timezones_in_use(session: Session) -> list[str]:
    """The distinct zones of the chain's stores (a handful, however many stores): what a report over
    every store turns its local days into instants with (orders/report.py)."""
    return sorted(session.exec(select(Store.timezone).distinct()).all())

"""The store network as each API process holds it: every store's shopper-facing values, their spatial index
and their compiled hours, refreshed when the network changes rather than read per request.

Shopper reads of stores (the nearest ones, one store, its hours, the stores beside a product's stock) answer
from this snapshot without reading a store row. Freshness, the cross-process rule: the process that changes
the network drops its snapshot when that change commits, and every process compares the network's revision
token (one primary-key read) at most once per `STALE_AFTER_S`; so an upsert is seen by the process that made
it at once and by every other process within `STALE_AFTER_S` (the README, "The store network in memory").

Memory: a store's view holds its stored values and its hours as the JSON text they are stored as; the
compiled schedule is shared by every store with the same hours and region (`StoreView.schedule`).
"""

from __future__ import annotations

import json
import math
import threading
import time
import weakref
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from typing import Any

from sqlalchemy import Engine, select
from sqlmodel import Session

from stores.geo import GeoIndex
from stores.hours import NextChange, OpeningHours, Period, StoreSchedule
from stores.hours import engine as hours_engine
from stores.models import Store, StoreNetworkRevision

# The bound on how long another process's change to the network may go unseen here.
STALE_AFTER_S = 0.5


@dataclass(frozen=True)
class StoreStatus:
    """Where a store stands at one instant."""

    open_now: bool
    today: list[Period]
    next_change: NextChange | None


_END_OF_TIME = datetime.max.replace(tzinfo=UTC)
_MIDNIGHT = datetime.min.time()
_MIDNIGHTS_KEPT = 8


@lru_cache(maxsize=16_384)
def schedule_for(
    hours_json: str, timezone: str, country: str, subdivision: str | None, closed_on_public_holidays: bool
) -> StoreSchedule:
    """A store's schedule from its stored hours and region. Validating the stored JSON back into models
    costs more than the hours engine itself, and a schedule keeps a compiled form of the week after its
    first use; keyed by the hours and region themselves, so a changed store is never served stale hours,
    and stores with the same hours share one."""
    return StoreSchedule(
        timezone=timezone,
        hours=OpeningHours.model_validate_json(hours_json),
        country=country,
        subdivision=subdivision,
        closed_on_public_holidays=closed_on_public_holidays,
    )


# The fields of the view, read from the store table in this order.
_FIELDS = (
    "id",
    "code",
    "name",
    "street",
    "postcode",
    "city",
    "country",
    "subdivision",
    "lat",
    "lon",
    "timezone",
    "phone",
    "click_and_collect",
    "low_stock_threshold",
    "pick_minutes",
    "measured_pick_minutes",
    "closed_on_public_holidays",
    "daily_order_capacity",
    "same_day_cutoff",
    "click_and_collect_paused",
    "hold_opening_hours",
    "short_pick_share",
)


class StoreView:
    """One store as shoppers see it: its stored values, its schedule, and where it stands now.

    Where a store stands (open now, today's periods, the next change) holds from the instant it was worked
    out until the store's next change, within the same local day: it is kept, and worked out again only
    when asked about an instant outside that span.
    """

    __slots__ = (
        *_FIELDS,
        "hours_json",
        "_schedule",
        "_status",
        "_picked_after_opening",
        "_picked_from_midnight",
    )

    id: int
    code: str
    name: str
    street: str
    postcode: str
    city: str
    country: str
    subdivision: str | None
    lat: float
    lon: float
    timezone: str
    phone: str | None
    # As shoppers see it: offered and not paused (API.md: a paused store answers `click_and_collect: false`).
    click_and_collect: bool
    low_stock_threshold: int
    pick_minutes: int
    measured_pick_minutes: int | None
    closed_on_public_holidays: bool
    daily_order_capacity: int | None
    same_day_cutoff: str | None
    click_and_collect_paused: bool
    hold_opening_hours: int | None
    short_pick_share: float | None
    hours_json: str
    # The view's fields never change (a changed store is a new view): its schedule is looked up once.
    _schedule: StoreSchedule | None
    # (local day, from, until, status): `status` answers every instant in [from, until) of that local day.
    _status: tuple[date, datetime, datetime, StoreStatus] | None
    # (opening, picked): an order placed while the store is closed, before `opening`, is picked then.
    _picked_after_opening: tuple[datetime, datetime | None] | None
    # Local midnight -> picked: where a promise moves to a later day (a cutoff passed, a day full), it
    # starts at that day's midnight, the same instant for every order until then.
    _picked_from_midnight: dict[datetime, datetime | None]

    def __init__(self, values: Mapping[Any, Any], hours: dict[str, Any]) -> None:
        for field in _FIELDS:
            setattr(self, field, values[field])
        self.click_and_collect = bool(values["click_and_collect"]) and not values["click_and_collect_paused"]
        self.hours_json = json.dumps(hours, sort_keys=True)
        self._schedule = None
        self._status = None
        self._picked_after_opening = None
        self._picked_from_midnight = {}

    @property
    def schedule(self) -> StoreSchedule:
        # A page of stores asks each view for its schedule about forty times a request (its status, its
        # pick times, its promise); the shared cache's lookup hashes five values each time.
        schedule = self._schedule
        if schedule is None:
            schedule = self._schedule = schedule_for(
                self.hours_json, self.timezone, self.country, self.subdivision, self.closed_on_public_holidays
            )
        return schedule

    def status_at(self, at: datetime) -> StoreStatus:
        schedule = self.schedule
        day = hours_engine.local_today(schedule, at)
        kept = self._status
        if kept is not None and kept[0] == day and kept[1] <= at < kept[2]:
            return kept[3]
        status = StoreStatus(
            open_now=hours_engine.is_open(schedule, at),
            today=hours_engine.resolve_day(schedule, day).periods,
            next_change=hours_engine.next_change(schedule, at),
        )
        # No change within the engine's horizon: the horizon is counted in local days, so none comes into
        # it before the local day ends.
        until = status.next_change.at if status.next_change is not None else _END_OF_TIME
        # One assignment of a tuple: a thread reading the view sees the old span or the new one, whole.
        self._status = (day, at, until, status)
        return status

    def picked_after(self, at: datetime) -> datetime | None:
        """When an order placed at `at` has had `pick_minutes` of the store's opening time: the engine's
        `add_open_time`, answered from where the store stands without the engine where that decides it
        (open long enough: `at` plus the pick time; closed: the same instant for every `at` until it
        opens; from a local midnight, as a promise moved to a later day starts: kept per midnight), so a
        page of stores costs no hours arithmetic per store and request."""
        pick = timedelta(minutes=self.measured_pick_minutes or self.pick_minutes)
        if at.astimezone(self.schedule._compiled.zone).time() == _MIDNIGHT:
            # Not through `status_at`: a later day's span would replace the one of the present.
            memo = self._picked_from_midnight
            if at not in memo:
                if len(memo) >= _MIDNIGHTS_KEPT:
                    memo.clear()
                memo[at] = hours_engine.add_open_time(self.schedule, at, pick)
            return memo[at]
        status = self.status_at(at)
        change = status.next_change
        if status.open_now and (change is None or change.at.astimezone(UTC) >= at.astimezone(UTC) + pick):
            return (at.astimezone(UTC) + pick).astimezone(self.schedule._compiled.zone)
        if not status.open_now and change is not None:
            kept = self._picked_after_opening
            if kept is None or kept[0] != change.at:
                kept = (change.at, hours_engine.add_open_time(self.schedule, change.at, pick))
                self._picked_after_opening = kept
            return kept[1]
        return hours_engine.add_open_time(self.schedule, at, pick)


@dataclass(frozen=True)
class Network:
    """One snapshot of the store network, as of the revision `token`."""

    token: str
    by_code: dict[str, StoreView]
    index: GeoIndex

    def nearest(
        self,
        lat: float,
        lon: float,
        *,
        radius_km: float | None = None,
        after: tuple[float, str] | None = None,
    ) -> Iterator[tuple[StoreView, float]]:
        """Every store in ascending (distance, code) order, lazily; `after` resumes behind a (distance,
        code) position a previous page ended on."""
        candidates: Iterator[tuple[str, float]] = self.index.nearest(lat, lon, radius_km=radius_km)
        if after is not None:
            candidates = (c for c in candidates if (c[1], c[0]) > after)
        return ((self.by_code[code], distance) for code, distance in candidates)


@dataclass
class _Held:
    network: Network
    checked_at: float


# One snapshot per database (tests, and the replica, use more than one in a process), by its URL.
_held: dict[str, _Held] = {}
_lock = threading.Lock()


def network(session: Session) -> Network:
    """The store network as this process holds it, no older than `STALE_AFTER_S` behind the database."""
    key = _database_of(session.get_bind().engine)
    held = _held.get(key)
    now = time.monotonic()
    if held is not None and now - held.checked_at < STALE_AFTER_S:
        return held.network
    with _lock:
        held = _held.get(key)
        if held is not None and now - held.checked_at < STALE_AFTER_S:
            return held.network
        token = _current_token(session)
        current = held.network if held is not None and held.network.token == token else _load(session, token)
        _held[key] = _Held(current, now)
        return current


# Rendering an engine's URL cost more than the rest of a snapshot's lookup; an engine's URL never changes.
_databases: weakref.WeakKeyDictionary[Engine, str] = weakref.WeakKeyDictionary()


def _database_of(engine: Engine) -> str:
    database = _databases.get(engine)
    if database is None:
        database = _databases[engine] = str(engine.url)
    return database


def forget() -> None:
    """Drop every snapshot: the next read loads the network again. Called when this process changed the
    network (on commit), and by tests that empty the tables behind the services' backs."""
    with _lock:
        for held in _held.values():
            held.checked_at = -math.inf


def _current_token(session: Session) -> str:
    revision = StoreNetworkRevision.__table__.c  # type: ignore[attr-defined]
    token = session.execute(select(revision.token).where(revision.id == 1)).scalar()
    return token or ""


def _load(session: Session, token: str) -> Network:
    table = Store.__table__.c  # type: ignore[attr-defined]
    # Warehouses ship to stores and are never shown to shoppers: the shoppers' network leaves them out.
    rows = session.execute(
        select(*(table[field] for field in _FIELDS), table.hours).where(table.kind == "store")
    ).all()
    views = [StoreView(row._mapping, row.hours) for row in rows]
    return Network(
        token=token,
        by_code={view.code: view for view in views},
        index=GeoIndex([v.code for v in views], [v.lat for v in views], [v.lon for v in views]),
    )

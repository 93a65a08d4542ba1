"""The promise an order gets, `ready_by`, under the store's capacity and cutoff.

The rule is `stores.hours.promise.promised_ready_by` (pure: the pick time in the store's opening hours,
moved to the next opening day with room when the day is full or the order came after the cutoff); this
module gives it what only orders know, how many orders each local day already has promised, and is the
one place every promise is made (a reservation, the alternatives of a rejection or a short pick).

A day's count is every order of the store with its `ready_by` on that local day that has not been
withdrawn (cancelled, or rejected after all): orders collected or expired since were promised that day
and used its room. It is read once per day asked, and only for a store with a `daily_order_capacity`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from typing import Protocol
from zoneinfo import ZoneInfo

from sqlalchemy import TextClause, text
from sqlmodel import Session

from inventory import service as inventory_service
from inventory.service import Quantity
from orders.models import OrderStatus
from retail import dialect
from stores import service as stores_service
from stores.hours import StoreSchedule
from stores.service import StoreView

_WITHDRAWN = (OrderStatus.cancelled.value, OrderStatus.rejected.value)
# How many days a count of a day not yet counted reads at once, from that day on (`PromisedDays`).
_DAYS_COUNTED_AHEAD = 7


class PromiseTerms(Protocol):
    """What a promise needs of a store: a `Store` row or the shoppers' `StoreView`."""

    @property
    def id(self) -> int | None: ...
    @property
    def pick_minutes(self) -> int: ...
    @property
    def measured_pick_minutes(self) -> int | None: ...
    @property
    def same_day_cutoff(self) -> str | None: ...
    @property
    def daily_order_capacity(self) -> int | None: ...


class PromisedDays:
    """Orders of one store promised per local day: counted in the database once per day asked, plus the
    promises made through `add` in this transaction (a reservation run promising a batch)."""

    def __init__(
        self, session: Session, *, store_id: int, zone: ZoneInfo, counted: dict[date, int] | None = None
    ) -> None:
        self._session, self._store_id, self._zone = session, store_id, zone
        self._counted: dict[date, int] = counted or {}
        self._added: Counter[date] = Counter()

    def __call__(self, day: date) -> int:
        if day not in self._counted:
            # A day asked for that was not counted is nearly always the day after a full one, and a store
            # full one day is often full the next ones too: the week from it in one statement, not one
            # statement per day the promise walks (a store full for three weeks cost 21 a request).
            week = [day + timedelta(days=n) for n in range(_DAYS_COUNTED_AHEAD)]
            wanted = [d for d in week if d not in self._counted]
            counts = _count_days(self._session, [(self._store_id, self._zone, d) for d in wanted])
            self._counted.update(zip(wanted, counts, strict=True))
        return self._counted[day] + self._added[day]

    def add(self, ready_by: datetime) -> None:
        self._added[ready_by.astimezone(self._zone).date()] += 1


def for_run(session: Session, *, store: PromiseTerms, schedule: StoreSchedule) -> PromisedDays | None:
    """The counts a run carries that promises several orders at `store` (None when the store has no
    capacity to count against). Takes the store's lock: two runs at one store, each counting the other's
    promises as not yet made, would fill a day past its capacity."""
    if store.daily_order_capacity is None:
        return None
    assert store.id is not None
    stores_service.lock_store(session, store_id=store.id)
    return PromisedDays(session, store_id=store.id, zone=ZoneInfo(schedule.timezone))


def _count_days(session: Session, wanted: Sequence[tuple[int, ZoneInfo, date]]) -> list[int]:
    """The orders promised on each (store id, its zone, local day) of `wanted`, in one statement."""
    params: dict[str, object] = {}
    for n, (store_id, zone, day) in enumerate(wanted):
        params[f"store_{n}"] = store_id
        params[f"from_{n}"] = dialect.timestamp(session, datetime.combine(day, time(), tzinfo=zone))
        params[f"until_{n}"] = dialect.timestamp(
            session, datetime.combine(day + timedelta(days=1), time(), tzinfo=zone)
        )
    counts = dialect.first_row(session, _count_days_statement(len(wanted)), params)
    assert counts is not None  # one row of counts, whatever they count
    return [int(count) for count in counts]


@lru_cache(maxsize=64)
def _count_days_statement(days: int) -> TextClause:
    # Text, built once per length: the hot shopper reads (a page of stores) count here, and building the
    # ORM form of the same statement per request cost more than running it (ix_order_store_ready_by).
    withdrawn = ", ".join(f"'{status}'" for status in _WITHDRAWN)
    counts = ", ".join(
        f"""(SELECT count(*) FROM "order" WHERE store_id = :store_{n} AND ready_by >= :from_{n}"""
        f""" AND ready_by < :until_{n} AND status NOT IN ({withdrawn}))"""
        for n in range(days)
    )
    return text(f"SELECT {counts}")


def ready_by(
    session: Session,
    *,
    store: PromiseTerms,
    schedule: StoreSchedule,
    start: datetime,
    promised: PromisedDays | None = None,
    picked: Callable[[datetime], datetime | None] | None = None,
) -> datetime | None:
    """The promise of an order at `store` that can start at `start`, counted in `promised` (a run's, from
    `for_run`; made here for a one-off promise). None: no opening day with room within the horizon.
    `picked`: the store's own answers of its pick time from an instant (`StoreView.picked_after`)."""
    if promised is None and store.daily_order_capacity is not None:
        assert store.id is not None
        promised = PromisedDays(session, store_id=store.id, zone=ZoneInfo(schedule.timezone))
    promise = stores_service.promised_ready_by(
        schedule,
        start=start,
        pick_minutes=pick_minutes_of(store),
        same_day_cutoff=store.same_day_cutoff,
        daily_order_capacity=store.daily_order_capacity,
        promised_on=promised if promised is not None else _nothing_promised,
        picked=picked,
    )
    if promise is not None and promised is not None:
        promised.add(promise)
    return promise


def shown_ready_by(session: Session, *, store: StoreView, at: datetime) -> datetime | None:
    """The `pickup_ready_by` a shopper sees before ordering at one store (`shown_ready_by_all`)."""
    return shown_ready_by_all(session, stores=[store], at=at)[0]


def shown_ready_by_all(
    session: Session, *, stores: Sequence[StoreView], at: datetime
) -> list[datetime | None]:
    """The `pickup_ready_by` a shopper sees before ordering at each of `stores`: the promise an order placed
    at `at` would get (`ready_by`, the same rule; null at a store without click and collect).

    A page of stores costs no hours arithmetic per store (the store's view keeps its pick-time answers,
    `StoreView.picked_after`, the engine's answer by construction) and one statement for the days the
    stores with a capacity would promise on, counted for all of them at once. Where that day has room, the
    promise is the one worked out to find the day; the rule runs again only for a store whose day is full."""
    promising = [s for s in stores if s.click_and_collect]
    first = _first_days(session, [s for s in promising if s.daily_order_capacity is not None], at)
    shown: dict[int | None, datetime | None] = {}
    for store in promising:
        if store.daily_order_capacity is None and store.same_day_cutoff is None:
            shown[store.id] = store.picked_after(at)
            continue
        promised = None
        if store.id in first:
            assert store.id is not None
            assert store.daily_order_capacity is not None
            day = first[store.id]
            if day.count < store.daily_order_capacity:
                shown[store.id] = day.promise
                continue
            zone = ZoneInfo(store.timezone)
            promised = PromisedDays(session, store_id=store.id, zone=zone, counted={day.day: day.count})
        shown[store.id] = ready_by(
            session,
            store=store,
            schedule=store.schedule,
            start=at,
            promised=promised,
            picked=store.picked_after,
        )
    return [shown[s.id] if s.click_and_collect else None for s in stores]


@dataclass(frozen=True)
class _FirstDay:
    """The promise a store would make were its day not full, that local day, and the orders it has."""

    promise: datetime
    day: date
    count: int


def _first_days(session: Session, stores: Sequence[StoreView], at: datetime) -> dict[int, _FirstDay]:
    """Per store, the promise of an order placed at `at` were its day not full, with the orders already
    promised on that day (nearly always the day the promise is made on), counted for all stores at once.
    A store absent: no opening day within the horizon, full or not."""
    wanted: list[tuple[int, ZoneInfo, date]] = []
    promises: list[datetime] = []
    for store in stores:
        assert store.id is not None
        zone = ZoneInfo(store.timezone)
        unfilled = stores_service.promised_ready_by(
            store.schedule,
            start=at,
            pick_minutes=pick_minutes_of(store),
            same_day_cutoff=store.same_day_cutoff,
            daily_order_capacity=None,
            promised_on=_nothing_promised,
            picked=store.picked_after,
        )
        if unfilled is not None:
            wanted.append((store.id, zone, unfilled.astimezone(zone).date()))
            promises.append(unfilled)
    if not wanted:
        return {}
    counts = _count_days(session, wanted)
    return {
        store_id: _FirstDay(promise, day, count)
        for (store_id, _zone, day), promise, count in zip(wanted, promises, counts, strict=True)
    }


def shown_transfer_ready_by(
    session: Session, *, stores: Sequence[StoreView], lines: Sequence[Quantity], at: datetime
) -> dict[int, datetime]:
    """The `pickup.ready_by` an `allow_transfer` order of `lines` placed at `at` would get, by store id,
    for each of `stores` (with click and collect) that lacks some of the lines and can get all of them by
    transfer from one source: the reservation's own choices (`stores_service.transfer_sources_into` for
    the sources and their ETAs, `inventory_service.sourced_options` for the source on the counts as they
    stand) and `ready_by` from the ETA, as a reservation then promises. A store that holds every line,
    or cannot get them, is absent. One query for the lanes and one for the stock, whatever the number
    of stores."""
    pickups = [s for s in stores if s.click_and_collect]
    sources = stores_service.transfer_sources_into(session, stores=pickups, at=at)
    if not sources:
        return {}
    options = inventory_service.sourced_options(
        session,
        candidates={pickup: [s.store.id or 0 for s in found] for pickup, found in sources.items()},
        lines=lines,
    )
    shown: dict[int, datetime] = {}
    for store in pickups:
        option = options.get(store.id)
        if option is None or not option.reserved or option.source is None:
            continue
        eta = next(s.eta for s in sources[store.id] if s.store.id == option.source)
        promise = ready_by(session, store=store, schedule=store.schedule, start=eta)
        if promise is not None:
            shown[store.id] = promise
    return shown


def pick_minutes_of(store: PromiseTerms) -> int:
    """The pick time a promise counts: the store's measured one (orders/measured.py) when it has one,
    else its configured `pick_minutes`."""
    return store.measured_pick_minutes or store.pick_minutes


def basis(store: PromiseTerms) -> str:
    """What `pick_minutes_of` took (`pickup.promise_basis`): `measured` or `configured`."""
    return MEASURED if store.measured_pick_minutes else CONFIGURED


MEASURED, CONFIGURED = "measured", "configured"


def _nothing_promised(_day: date) -> int:
    return 0

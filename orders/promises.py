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
from collections.abc import Sequence
from datetime import date, datetime, time, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

from sqlalchemy import func
from sqlmodel import Session, col, select

from inventory import service as inventory_service
from inventory.service import Quantity
from orders.models import Order, OrderStatus
from stores import service as stores_service
from stores.hours import StoreSchedule
from stores.service import StoreView

_WITHDRAWN = (OrderStatus.cancelled.value, OrderStatus.rejected.value)


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

    def __init__(self, session: Session, *, store_id: int, zone: ZoneInfo) -> None:
        self._session, self._store_id, self._zone = session, store_id, zone
        self._counted: dict[date, int] = {}
        self._added: Counter[date] = Counter()

    def __call__(self, day: date) -> int:
        if day not in self._counted:
            start = datetime.combine(day, time(), tzinfo=self._zone)
            end = datetime.combine(day + timedelta(days=1), time(), tzinfo=self._zone)
            self._counted[day] = int(
                self._session.exec(
                    select(func.count())
                    .select_from(Order)
                    .where(
                        Order.store_id == self._store_id,
                        col(Order.ready_by) >= start,
                        col(Order.ready_by) < end,
                        col(Order.status).not_in(_WITHDRAWN),
                    )
                ).one()
            )
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


def ready_by(
    session: Session,
    *,
    store: PromiseTerms,
    schedule: StoreSchedule,
    start: datetime,
    promised: PromisedDays | None = None,
) -> datetime | None:
    """The promise of an order at `store` that can start at `start`, counted in `promised` (a run's, from
    `for_run`; made here for a one-off promise). None: no opening day with room within the horizon."""
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
    )
    if promise is not None and promised is not None:
        promised.add(promise)
    return promise


def shown_ready_by(session: Session, *, store: StoreView, at: datetime) -> datetime | None:
    """The `pickup_ready_by` a shopper sees before ordering: the promise an order placed at `at` would get
    (`ready_by`, the same rule; null at a store without click and collect). A store without capacity or
    cutoff promises its pick time, which the store's view answers without the hours engine for most
    instants (`StoreView.picked_after`, the engine's answer by construction)."""
    if not store.click_and_collect:
        return None
    if store.daily_order_capacity is None and store.same_day_cutoff is None:
        return store.picked_after(at)
    return ready_by(session, store=store, schedule=store.schedule, start=at)


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

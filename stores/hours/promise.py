"""The promise rules: when a transfer arrives, and when an order can be ready at a store whose days fill up.

Pure functions over plain values in the hours engine's style (no database): the caller reads the lane, the
schedules and how many orders each day already has, and these decide. API.md, "Every store a distribution
point", is the contract:

- a transfer leaves on the first departure of its lane at least `pick_minutes` of the source's opening time
  after the reservation, and arrives `transit_hours` later (`transfer_eta`);
- an order is ready `pick_minutes` of the pickup store's opening time after it could start (placed, or the
  latest transfer arrived), unless that day is full (`daily_order_capacity` orders already promised on it)
  or the order came after the store's `same_day_cutoff`: then on the store's next opening day with room
  (`promised_ready_by`).

Departure times are wall-clock times in the source's zone, like opening hours, so a 06:00 departure leaves
at 06:00 local on both sides of a DST change. A departure whose wall time does not exist that night (inside
the spring-forward gap) leaves when the clocks jump, the first instant after the gap; one whose wall time
happens twice (the autumn fold) leaves at the first of the two. Departures follow the lane's own timetable,
not the source's opening hours: a warehouse's night trucks run whether or not its doors are open to anyone.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Final
from zoneinfo import ZoneInfo

from stores.hours.engine import StoreSchedule, add_open_time
from stores.hours.model import WEEKDAYS

# How many days ahead a promise looks for a day with room before giving up (None: no promise). A month
# covers a store that is full for weeks; past it, "no promise" is the honest answer.
MAX_PROMISE_DAYS: Final = 31


@dataclass(frozen=True)
class Timetable:
    """A lane's departures: per weekday (0 = Monday) the sorted minutes after local midnight, in `zone`."""

    zone: ZoneInfo
    departures: tuple[tuple[int, ...], ...]

    @classmethod
    def of(cls, timezone: str, departures: Mapping[str, Sequence[str]]) -> Timetable:
        """From the contract's form: weekday names (`monday`..`sunday`) to `"HH:MM"` lists; a weekday left
        out has no departures."""
        unknown = set(departures) - set(WEEKDAYS)
        if unknown:
            raise ValueError(f"unknown weekdays: {sorted(unknown)}")
        per_day = tuple(
            tuple(sorted({minutes_of_day(hhmm) for hhmm in departures.get(day, ())})) for day in WEEKDAYS
        )
        return cls(ZoneInfo(timezone), per_day)


def minutes_of_day(hhmm: str) -> int:
    """Minutes after local midnight of a wall-clock time (a departure, a cutoff), `"HH:MM"` from 00:00 to
    23:59."""
    hours, minutes = hhmm[:2], hhmm[3:]
    if len(hhmm) != 5 or hhmm[2] != ":" or not (hhmm.isascii() and hours.isdigit() and minutes.isdigit()):
        raise ValueError(f"not a departure time (HH:MM, 00:00 to 23:59): {hhmm!r}")
    if int(hours) > 23 or int(minutes) > 59:
        raise ValueError(f"not a departure time (HH:MM, 00:00 to 23:59): {hhmm!r}")
    return int(hours) * 60 + int(minutes)


def _at(zone: ZoneInfo, day: date, minute: int) -> datetime:
    """The instant of a wall-clock minute on a local day: in a gap, the first instant after it; in a fold,
    the first of the two (PEP 495's fold=0, taken through UTC so the gap case lands after the jump)."""
    wall = datetime.combine(day, time(minute // 60, minute % 60), tzinfo=zone)
    instant = wall.astimezone(UTC)
    if instant.astimezone(zone).replace(tzinfo=None) != wall.replace(tzinfo=None):
        # The wall time does not exist: zoneinfo read it with the offset before the jump, which puts the
        # instant after the gap already; the clocks' jump itself is the first instant of the new offset.
        instant = _gap_end(zone, instant)
    return instant.astimezone(zone)


def _gap_end(zone: ZoneInfo, inside: datetime) -> datetime:
    # The transition lies within the hour before `inside` (gaps are at most an hour or two); bisect it to the
    # minute, which is what departure times are given in.
    low, high = inside - timedelta(hours=3), inside
    offset_before = low.astimezone(zone).utcoffset()
    while high - low > timedelta(minutes=1):
        middle = low + (high - low) / 2
        if middle.astimezone(zone).utcoffset() == offset_before:
            low = middle
        else:
            high = middle
    return high.replace(second=0, microsecond=0)


def next_departure(timetable: Timetable, at: datetime) -> datetime | None:
    """The first departure at or after `at`, in the lane's zone; None when the lane has none at all."""
    if not any(timetable.departures):
        return None
    zone, after = timetable.zone, at.astimezone(UTC)
    local_day = at.astimezone(zone).date()
    # A week and a day: every weekday once, and today's departures again a week on.
    for offset in range(-1, 9):
        day = local_day + timedelta(days=offset)
        for minute in timetable.departures[day.weekday()]:
            leaves = _at(zone, day, minute)
            # In UTC: two datetimes of one zone compare as wall clocks, which the autumn fold confuses.
            if leaves.astimezone(UTC) >= after:
                return leaves
    return None


def transfer_eta(
    source: StoreSchedule,
    timetable: Timetable,
    *,
    reserved_at: datetime,
    pick_minutes: int,
    transit_hours: float,
) -> datetime | None:
    """When a transfer reserved at `reserved_at` arrives at the pickup store: the source picks it in
    `pick_minutes` of its own opening time, it leaves on the lane's first departure from then on (one
    missed by a minute waits for the next) and travels `transit_hours`. None when the source never opens
    within the engine's horizon or the lane never departs."""
    picked = add_open_time(source, reserved_at, timedelta(minutes=pick_minutes))
    if picked is None:
        return None
    leaves = next_departure(timetable, picked)
    if leaves is None:
        return None
    return (leaves.astimezone(UTC) + timedelta(hours=transit_hours)).astimezone(leaves.tzinfo)


def promised_ready_by(
    store: StoreSchedule,
    *,
    start: datetime,
    pick_minutes: int,
    same_day_cutoff: int | None,
    daily_order_capacity: int | None,
    promised_on: Callable[[date], int],
    picked: Callable[[datetime], datetime | None] | None = None,
) -> datetime | None:
    """When an order that can start at `start` (placed then, or its last transfer arrives then) is ready:
    `pick_minutes` of the store's opening time later, on the first local day with room.

    `same_day_cutoff` (minutes after local midnight, or None): an order starting at or after it is not
    started that day; it is ready on the next opening day, `pick_minutes` after the store opens.
    `daily_order_capacity` (None: unlimited): a day on which `promised_on(day)` orders are already promised
    is full, and the promise moves to the store's next opening day with room, again `pick_minutes` after it
    opens. None when no day within MAX_PROMISE_DAYS has room (or the store never opens).

    `picked` answers `add_open_time(store, start, pick_minutes)` for a start, when the caller keeps those
    answers (the shopper's store view, `stores.network.StoreView.picked_after`); it must be that function."""
    zone = store._compiled.zone
    local = start.astimezone(zone)
    if same_day_cutoff is not None and local.hour * 60 + local.minute >= same_day_cutoff:
        start = _midnight_after(zone, local.date())
    last_day = local.date() + timedelta(days=MAX_PROMISE_DAYS)
    pick = timedelta(minutes=pick_minutes)
    picked_at = picked or (lambda at: add_open_time(store, at, pick))
    while True:
        ready = picked_at(start)
        if ready is None:
            return None
        day = ready.astimezone(zone).date()
        if day > last_day:
            return None
        if daily_order_capacity is None or promised_on(day) < daily_order_capacity:
            return ready
        start = _midnight_after(zone, day)


def _midnight_after(zone: ZoneInfo, day: date) -> datetime:
    """The first instant of the local day after `day` (a midnight inside a DST gap starts when the gap
    ends)."""
    return _at(zone, day + timedelta(days=1), 0)

"""The opening-hours engine: "is the store open at this instant", "when does that change", "which instants
is it open" and "when has it been open this long", for one store's hours, holidays and time zone.

Pure functions over plain values (no database): the rules are wall-clock times in the store's IANA zone,
turned into real instants per day, so DST, midnight and overnight periods come out right.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import cached_property
from typing import Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from stores.hours.model import MINUTES_PER_DAY, NextChange, OpeningHours, Period, ResolvedDay, SpecialDay
from stores.hours.public_holidays import check_region, holidays_for_year

# How far next_change looks ahead before answering "no change": a year plus a day covers any yearly
# pattern (a store closed only on one holiday still gets its closing found).
HORIZON_DAYS: Final = 366
# Bounds for the range helpers so that a request can't make us resolve decades of days.
MAX_RESOLVE_DAYS: Final = 400
MAX_INTERVAL_SPAN: Final = timedelta(days=400)

_EPOCH_ORDINAL: Final = date(1970, 1, 1).toordinal()
_SECOND: Final = timedelta(seconds=1)
_WHOLE_DAY: Final = ((0, MINUTES_PER_DAY),)


def check_timezone(name: str) -> str | None:
    """Error message if `name` is not an IANA time zone known to this system, else None."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        return f"unknown time zone {name!r}"
    return None


@dataclass(frozen=True)
class _Compiled:
    zone: ZoneInfo
    weekly: tuple[tuple[tuple[int, int], ...], ...]  # per weekday: sorted (start, end) minutes
    special: dict[date, tuple[tuple[int, int], ...]]
    special_days: dict[date, SpecialDay]


@dataclass(frozen=True)
class StoreSchedule:
    """Everything the engine needs to know about one store.

    Treated as immutable: the compiled form is cached on first use, so don't mutate `hours` afterwards.
    """

    timezone: str
    hours: OpeningHours
    country: str
    subdivision: str | None
    closed_on_public_holidays: bool = True

    def __post_init__(self) -> None:
        problem = check_timezone(self.timezone)
        if problem is None and self.closed_on_public_holidays:
            problem = check_region(self.country, self.subdivision)
        if problem is not None:
            raise ValueError(problem)

    @cached_property
    def _compiled(self) -> _Compiled:
        def minutes(periods: list[Period]) -> tuple[tuple[int, int], ...]:
            return tuple(sorted((p.start_minute, p.end_minute) for p in periods))

        weekly = self.hours.weekly
        return _Compiled(
            zone=ZoneInfo(self.timezone),
            weekly=tuple(minutes(weekly.day(weekday)) for weekday in range(7)),
            special={s.date: () if s.closed else minutes(s.periods) for s in self.hours.special},
            special_days={s.date: s for s in self.hours.special},
        )


def _holiday(schedule: StoreSchedule, day: date) -> str | None:
    if not schedule.closed_on_public_holidays:
        return None
    return holidays_for_year(schedule.country, schedule.subdivision, day.year).get(day)


def resolve_day(schedule: StoreSchedule, day: date) -> ResolvedDay:
    """The store's periods for one date: a special day wins, then a public holiday (closed), then the week."""
    special = schedule._compiled.special_days.get(day)
    if special is not None:
        periods = sorted(special.periods, key=lambda p: p.start_minute)
        return ResolvedDay(date=day, closed=special.closed, periods=periods, reason=special.reason)
    holiday = _holiday(schedule, day)
    if holiday is not None:
        return ResolvedDay(date=day, closed=True, periods=[], reason=holiday)
    periods = sorted(schedule.hours.weekly.day(day.weekday()), key=lambda p: p.start_minute)
    return ResolvedDay(date=day, closed=not periods, periods=periods, reason=None)


def resolve_days(schedule: StoreSchedule, start: date, days: int) -> list[ResolvedDay]:
    """`days` consecutive resolved dates from `start` (at most MAX_RESOLVE_DAYS)."""
    if not 0 <= days <= MAX_RESOLVE_DAYS:
        raise ValueError(f"days must be between 0 and {MAX_RESOLVE_DAYS}, got {days}")
    return [resolve_day(schedule, start + timedelta(days=offset)) for offset in range(days)]


def _require_aware(at: datetime, name: str = "at") -> None:
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError(f"{name} must be a timezone-aware datetime")


def local_today(schedule: StoreSchedule, at: datetime) -> date:
    """The store-local date at the instant `at`."""
    _require_aware(at)
    return at.astimezone(schedule._compiled.zone).date()


def _day_minutes(schedule: StoreSchedule, compiled: _Compiled, day: date) -> tuple[tuple[int, int], ...]:
    special = compiled.special.get(day)
    if special is not None:
        return special
    if _holiday(schedule, day) is not None:
        return ()
    return compiled.weekly[day.weekday()]


def _instant(zone: ZoneInfo, ordinal: int, minute: int) -> int:
    """Epoch seconds of the wall-clock time `minute` minutes after the start of day `ordinal` in `zone`.

    One rule covers both DST cases: a wall time maps to the earliest instant at which the store's clock
    reads that time or later. So an ambiguous time (fall-back, clock reads 02:30 twice) is its first
    occurrence, and a time that doesn't exist (spring-forward gap, 02:30 when clocks jump 02:00 -> 03:00)
    is the moment of the jump (03:00). This keeps the mapping monotonic: periods never invert, a period
    lying wholly inside the gap becomes empty, and "open until 02:30" never outlasts the wall clock.
    """
    ordinal += minute // MINUTES_PER_DAY
    minute %= MINUTES_PER_DAY
    naive = (ordinal - _EPOCH_ORDINAL) * 86400 + minute * 60
    day = date.fromordinal(ordinal)
    wall = datetime(day.year, day.month, day.day, minute // 60, minute % 60, tzinfo=zone)
    before = wall.utcoffset()
    after = wall.replace(fold=1).utcoffset()
    assert before is not None  # a ZoneInfo always answers
    assert after is not None
    if before >= after:  # unambiguous, or ambiguous: fold=0 is the first occurrence
        return naive - before // _SECOND
    # In the gap: the jump lies between the two readings; find it to the second.
    low, high = naive - after // _SECOND, naive - before // _SECOND  # offset(low) = before side
    while high - low > 1:
        middle = (low + high) // 2
        offset = datetime.fromtimestamp(middle, zone).utcoffset()
        if offset == after:
            high = middle
        else:
            low = middle
    return high


def _spans(
    schedule: StoreSchedule, compiled: _Compiled, ordinal: int, spill_only: bool = False
) -> Iterator[tuple[int, int, int]]:
    """Epoch-second [start, end) spans of the periods starting on day `ordinal`, by start, with each
    period's end in minutes after the day's start.

    With spill_only, only periods reaching past the day's end (the only ones that matter for the next day).
    """
    for start, end in _day_minutes(schedule, compiled, date.fromordinal(ordinal)):
        if spill_only and end <= MINUTES_PER_DAY:
            continue
        start_at = _instant(compiled.zone, ordinal, start)
        end_at = _instant(compiled.zone, ordinal, end)
        if end_at > start_at:
            yield start_at, end_at, end


def is_open(schedule: StoreSchedule, at: datetime) -> bool:
    """Whether the store is open at the instant `at` (periods are half-open: closed at the closing time)."""
    _require_aware(at)
    compiled = schedule._compiled
    now = at.timestamp()
    today = at.astimezone(compiled.zone).date().toordinal()
    for start, end, _ in _spans(schedule, compiled, today - 1, spill_only=True):
        if start <= now < end:
            return True
    for start, end, _ in _spans(schedule, compiled, today):
        if start <= now < end:
            return True
        if start > now:
            break
    return False


def _zoned(compiled: _Compiled, epoch: int) -> datetime:
    return datetime.fromtimestamp(epoch, compiled.zone)


def next_change(schedule: StoreSchedule, at: datetime) -> NextChange | None:
    """The first instant after `at` at which the store opens or closes, in the store's zone.

    Touching periods merge (open 00:00-24:00 every day never closes), and the search stops after
    HORIZON_DAYS days: None means no change within that horizon.
    """
    _require_aware(at)
    compiled = schedule._compiled
    now = at.timestamp()
    today = at.astimezone(compiled.zone).date().toordinal()
    # The chain of touching spans being built; only one that contains `now` needs to be followed to its end.
    chain_start: int | None = None
    chain_end = 0
    # Set while the chain holding `now` ends at the start of this day. Whole days open 00:00-24:00 then just
    # move it on without converting any times, which keeps a round-the-clock store from costing 700
    # conversions; chain_end catches up when a day isn't whole.
    midnight: int | None = None
    last = today + HORIZON_DAYS
    for ordinal in range(today - 1, last + 1):
        if midnight == ordinal and _day_minutes(schedule, compiled, date.fromordinal(ordinal)) == _WHOLE_DAY:
            midnight = ordinal + 1
            continue
        if midnight is not None:
            chain_end, midnight = _instant(compiled.zone, midnight, 0), None
        for start, end, end_minute in _spans(schedule, compiled, ordinal, spill_only=ordinal < today):
            if chain_start is not None and start <= chain_end:
                if end >= chain_end:
                    chain_end = end
                    ends_at_midnight = end_minute == MINUTES_PER_DAY and chain_start <= now < end
                    midnight = ordinal + 1 if ends_at_midnight else None
                continue
            if chain_start is not None and chain_start <= now < chain_end:
                return NextChange(at=_zoned(compiled, chain_end), open=False)
            if start > now:
                return NextChange(at=_zoned(compiled, start), open=True)
            chain_start, chain_end = start, end
            if end_minute == MINUTES_PER_DAY and start <= now < end:
                midnight = ordinal + 1
    if midnight is not None:
        chain_end = _instant(compiled.zone, midnight, 0)
    # A chain still holding `now` may go on past the horizon unless it ended before the next day began.
    if chain_start is not None and chain_start <= now < chain_end < _instant(compiled.zone, last + 1, 0):
        return NextChange(at=_zoned(compiled, chain_end), open=False)
    return None


def open_intervals(
    schedule: StoreSchedule, start: datetime, end: datetime
) -> list[tuple[datetime, datetime]]:
    """The store's open time within [start, end) as merged, sorted [from, until) pairs in the store's zone.

    Intervals are clipped to the window. The window may span at most MAX_INTERVAL_SPAN.
    """
    _require_aware(start, "start")
    _require_aware(end, "end")
    if end - start > MAX_INTERVAL_SPAN:
        raise ValueError(f"the window may span at most {MAX_INTERVAL_SPAN.days} days")
    if end <= start:
        return []
    compiled = schedule._compiled
    window_start, window_end = start.timestamp(), end.timestamp()
    first = start.astimezone(compiled.zone).date().toordinal()
    last = end.astimezone(compiled.zone).date().toordinal()
    chains: list[list[int]] = []
    for ordinal in range(first - 1, last + 1):
        for span_start, span_end, _ in _spans(schedule, compiled, ordinal, spill_only=ordinal < first):
            if span_start >= window_end:
                break
            if chains and span_start <= chains[-1][1]:
                chains[-1][1] = max(chains[-1][1], span_end)
            else:
                chains.append([span_start, span_end])
    result: list[tuple[datetime, datetime]] = []
    for chain_start, chain_end in chains:
        if chain_end <= window_start or chain_start >= window_end:
            continue
        opened = (
            start.astimezone(compiled.zone) if chain_start <= window_start else _zoned(compiled, chain_start)
        )
        closed = end.astimezone(compiled.zone) if chain_end >= window_end else _zoned(compiled, chain_end)
        result.append((opened, closed))
    return result


def add_open_time(schedule: StoreSchedule, start: datetime, duration: timedelta) -> datetime | None:
    """The instant at which the store has been open for `duration` counted from `start` (e.g. "ready after
    60 minutes of opening time"), in the store's zone; None if that doesn't happen within MAX_INTERVAL_SPAN.
    A zero duration gives the first open instant at or after `start`.
    """
    if duration < timedelta(0):
        raise ValueError("duration must not be negative")
    remaining = duration
    cursor, limit, step = start, start + MAX_INTERVAL_SPAN, timedelta(days=7)
    # Growing windows: the answer is nearly always within days, so don't resolve a year up front.
    while cursor < limit:
        window_end = min(cursor + step, limit)
        for opened, closed in open_intervals(schedule, cursor, window_end):
            # Subtract in UTC: datetimes sharing a zone subtract as wall clocks, off by an hour across DST.
            length = closed.astimezone(UTC) - opened.astimezone(UTC)
            if remaining <= length:
                return (opened.astimezone(UTC) + remaining).astimezone(schedule._compiled.zone)
            remaining -= length
        cursor, step = window_end, step * 2
    return None

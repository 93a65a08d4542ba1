"""Store opening hours: the structured form (pydantic, also the API schema) and the engine that answers
"is the store open at this instant", "when does that change" and "which instants is it open" for a store.

All rules are wall-clock times in the store's IANA zone; the engine turns them into real instants per day,
so DST, midnight and overnight periods come out right.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import cached_property
from itertools import pairwise
from typing import Any, Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError

from stores.public_holidays import check_region, holidays_for_year

MINUTES_PER_DAY: Final = 24 * 60
MAX_PERIODS_PER_DAY: Final = 6
MAX_SPECIAL_DAYS: Final = 400
MAX_REASON_LENGTH: Final = 200
# How far next_change looks ahead before answering "no change": a year plus a day covers any yearly
# pattern (a store closed only on one holiday still gets its closing found).
HORIZON_DAYS: Final = 366
# Bounds for the range helpers so that a request can't make us resolve decades of days.
MAX_RESOLVE_DAYS: Final = 400
MAX_INTERVAL_SPAN: Final = timedelta(days=400)

WEEKDAYS: Final = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")

# [0-9], not \d: \d also matches other scripts' digits, which int() would happily read.
_OPENS_RE = re.compile(r"(?:[01][0-9]|2[0-3]):[0-5][0-9]")
_CLOSES_RE = re.compile(r"(?:[01][0-9]|2[0-3]):[0-5][0-9]|24:00")
_EPOCH_ORDINAL: Final = date(1970, 1, 1).toordinal()
_SECOND: Final = timedelta(seconds=1)
_WHOLE_DAY: Final = ((0, 24 * 60),)


def _to_minutes(hhmm: str) -> int:
    return int(hhmm[:2]) * 60 + int(hhmm[3:5])


def _fail(loc: tuple[str | int, ...], error_type: str, message: str, value: Any) -> ValidationError:
    # A ValidationError raised inside a validator is merged into the outer one with its loc prefixed, which
    # lets a model-level check point at the exact offending item, e.g. ('weekly', 'tuesday', 0).
    return ValidationError.from_exception_data(
        "OpeningHours",
        [InitErrorDetails(type=PydanticCustomError(error_type, message), loc=loc, input=value)],
    )


# --------------------------------------------------------------------------------------------- data types


class Period(BaseModel):
    """One opening period, wall-clock times in the store's zone."""

    model_config = ConfigDict(
        frozen=True,
        extra="forbid",
        json_schema_extra={
            "examples": [{"opens": "09:00", "closes": "18:00"}, {"opens": "22:00", "closes": "02:00"}]
        },
    )

    opens: str = Field(
        description="Opening time 'HH:MM', 00:00-23:59, wall clock in the store's time zone",
        json_schema_extra={"pattern": _OPENS_RE.pattern},
        examples=["09:00"],
    )
    closes: str = Field(
        description=(
            "Closing time 'HH:MM', 00:00-24:00. If not after `opens` the period runs past midnight into "
            "the next day (22:00-02:00); equal to `opens` means 24 hours from `opens`."
        ),
        json_schema_extra={"pattern": _CLOSES_RE.pattern},
        examples=["18:00"],
    )

    @field_validator("opens")
    @classmethod
    def _check_opens(cls, value: str) -> str:
        if value == "24:00":
            raise ValueError("24:00 is only allowed as a closing time; use 00:00 to open at midnight")
        if not _OPENS_RE.fullmatch(value):
            raise ValueError(f"opening time must be 'HH:MM' between 00:00 and 23:59, got {value!r}")
        return value

    @field_validator("closes")
    @classmethod
    def _check_closes(cls, value: str) -> str:
        if not _CLOSES_RE.fullmatch(value):
            raise ValueError(f"closing time must be 'HH:MM' between 00:00 and 24:00, got {value!r}")
        return value

    @property
    def start_minute(self) -> int:
        """Minutes after the start of the day the period is listed on."""
        return _to_minutes(self.opens)

    @property
    def end_minute(self) -> int:
        """Minutes after the start of the day the period is listed on; above 1440 for overnight periods."""
        start, end = _to_minutes(self.opens), _to_minutes(self.closes)
        return end if end > start else end + MINUTES_PER_DAY

    def __str__(self) -> str:
        return f"{self.opens}-{self.closes}"


def _check_day_overlaps(periods: list[Period], loc: tuple[str | int, ...]) -> None:
    order = sorted(range(len(periods)), key=lambda i: periods[i].start_minute)
    for previous, current in pairwise(order):
        if periods[current].start_minute < periods[previous].end_minute:
            raise _fail(
                (*loc, current),
                "overlapping_periods",
                f"period {periods[current]} overlaps {periods[previous]} on the same day",
                str(periods[current]),
            )


_PERIODS_FIELD_DOC = (
    "Opening periods of the day; empty means closed. Overnight periods are listed on the day they start."
)


class WeeklyHours(BaseModel):
    """The regular week. A day without periods is closed."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "monday": [{"opens": "09:00", "closes": "12:00"}, {"opens": "13:00", "closes": "18:00"}],
                    "tuesday": [{"opens": "09:00", "closes": "18:00"}],
                    "wednesday": [{"opens": "09:00", "closes": "18:00"}],
                    "thursday": [{"opens": "09:00", "closes": "21:00"}],
                    "friday": [{"opens": "09:00", "closes": "18:00"}],
                    "saturday": [{"opens": "10:00", "closes": "17:00"}],
                    "sunday": [],
                }
            ]
        },
    )

    monday: list[Period] = Field(
        default_factory=list, max_length=MAX_PERIODS_PER_DAY, description=_PERIODS_FIELD_DOC
    )
    tuesday: list[Period] = Field(
        default_factory=list, max_length=MAX_PERIODS_PER_DAY, description=_PERIODS_FIELD_DOC
    )
    wednesday: list[Period] = Field(
        default_factory=list, max_length=MAX_PERIODS_PER_DAY, description=_PERIODS_FIELD_DOC
    )
    thursday: list[Period] = Field(
        default_factory=list, max_length=MAX_PERIODS_PER_DAY, description=_PERIODS_FIELD_DOC
    )
    friday: list[Period] = Field(
        default_factory=list, max_length=MAX_PERIODS_PER_DAY, description=_PERIODS_FIELD_DOC
    )
    saturday: list[Period] = Field(
        default_factory=list, max_length=MAX_PERIODS_PER_DAY, description=_PERIODS_FIELD_DOC
    )
    sunday: list[Period] = Field(
        default_factory=list, max_length=MAX_PERIODS_PER_DAY, description=_PERIODS_FIELD_DOC
    )

    def day(self, weekday: int) -> list[Period]:
        """Periods of a weekday, 0 = Monday as in `date.weekday()`."""
        periods: list[Period] = getattr(self, WEEKDAYS[weekday])
        return periods

    @model_validator(mode="after")
    def _no_overlaps(self) -> WeeklyHours:
        # The week is a circle of 7 * 1440 minutes; an overnight period may spill into the next day's
        # periods, Sunday's into Monday's. Sweeping by start finds any overlap via the running max end.
        week = 7 * MINUTES_PER_DAY
        items: list[tuple[int, int, int, int]] = []  # start, end, weekday, index
        for weekday in range(7):
            for index, period in enumerate(self.day(weekday)):
                base = weekday * MINUTES_PER_DAY
                items.append((base + period.start_minute, base + period.end_minute, weekday, index))
        if not items:
            return self
        items.sort()
        # Sunday's spill past the end of the week is checked against a copy of the week's first periods.
        wrapped = [(s + week, e + week, d, i) for s, e, d, i in items if s < MINUTES_PER_DAY]
        holder = items[0]
        for current in items[1:] + wrapped:
            if current[0] < holder[1]:
                self._report_overlap(holder, current)
            if current[1] > holder[1]:
                holder = current
        return self

    def _report_overlap(self, earlier: tuple[int, int, int, int], later: tuple[int, int, int, int]) -> None:
        _, _, earlier_day, earlier_index = earlier
        _, _, later_day, later_index = later
        earlier_period = self.day(earlier_day)[earlier_index]
        later_period = self.day(later_day)[later_index]
        if earlier_day == later_day:
            message = f"period {later_period} overlaps {earlier_period} on the same day"
        else:
            message = (
                f"period {later_period} overlaps {WEEKDAYS[earlier_day]}'s period {earlier_period}, "
                "which runs past midnight"
            )
        raise _fail((WEEKDAYS[later_day], later_index), "overlapping_periods", message, str(later_period))


class SpecialDay(BaseModel):
    """An exception to the weekly hours for one date: closed, or open with its own periods."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "date": "2026-12-24",
                    "periods": [{"opens": "09:00", "closes": "16:00"}],
                    "reason": "Christmas Eve",
                },
                {"date": "2026-07-14", "closed": True, "reason": "Stocktaking"},
            ]
        },
    )

    # dt.date: a field called `date` would shadow the type in the class namespace.
    date: dt.date = Field(description="The store-local date this exception applies to")
    closed: StrictBool = Field(default=False, description="True: closed all day (then give no periods)")
    periods: list[Period] = Field(
        default_factory=list,
        max_length=MAX_PERIODS_PER_DAY,
        description="Opening periods replacing the weekly ones for this date; required unless closed",
    )
    reason: str | None = Field(
        default=None, max_length=MAX_REASON_LENGTH, description="Shown to customers, e.g. 'Stocktaking'"
    )

    @model_validator(mode="after")
    def _consistent(self) -> SpecialDay:
        if self.closed and self.periods:
            raise _fail(("periods",), "closed_with_periods", "a closed day can't have opening periods", None)
        if not self.closed and not self.periods:
            raise _fail(
                ("periods",),
                "open_without_periods",
                'an open special day needs at least one period; use "closed": true for a closed day',
                [],
            )
        _check_day_overlaps(self.periods, ("periods",))
        return self


class OpeningHours(BaseModel):
    """A store's opening hours: the regular week plus dated exceptions."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "weekly": {
                        "monday": [{"opens": "09:00", "closes": "18:00"}],
                        "tuesday": [{"opens": "09:00", "closes": "18:00"}],
                        "wednesday": [{"opens": "09:00", "closes": "18:00"}],
                        "thursday": [{"opens": "09:00", "closes": "21:00"}],
                        "friday": [{"opens": "09:00", "closes": "18:00"}],
                        "saturday": [{"opens": "10:00", "closes": "17:00"}],
                    },
                    "special": [{"date": "2026-12-31", "periods": [{"opens": "09:00", "closes": "16:00"}]}],
                }
            ]
        },
    )

    weekly: WeeklyHours = Field(default_factory=WeeklyHours, description="The regular weekly hours")
    special: list[SpecialDay] = Field(
        default_factory=list,
        max_length=MAX_SPECIAL_DAYS,
        description="Dated exceptions; they win over the weekly hours and over public holidays",
    )

    @field_validator("special")
    @classmethod
    def _unique_dates(cls, value: list[SpecialDay]) -> list[SpecialDay]:
        seen: set[date] = set()
        for index, day in enumerate(value):
            if day.date in seen:
                raise _fail(
                    (index, "date"),
                    "duplicate_date",
                    f"{day.date.isoformat()} is listed more than once",
                    day.date.isoformat(),
                )
            seen.add(day.date)
        return value


class ResolvedDay(BaseModel):
    """What a store does on one date after special days and public holidays are applied."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"date": "2026-04-27", "closed": True, "periods": [], "reason": "Koningsdag"},
                {
                    "date": "2026-04-28",
                    "closed": False,
                    "periods": [{"opens": "09:00", "closes": "18:00"}],
                    "reason": None,
                },
            ]
        }
    )

    # dt.date: a field called `date` would shadow the type in the class namespace.
    date: dt.date = Field(description="Store-local date")
    closed: bool = Field(description="True when the store has no opening period starting on this date")
    periods: list[Period] = Field(description="Periods starting on this date, by opening time")
    reason: str | None = Field(
        description="Why the day differs from the weekly hours (holiday name, special-day reason)"
    )


class NextChange(BaseModel):
    """The next instant at which the store opens or closes.

    `at` carries the store's zone (with `fold` set in a repeated hour); compare it with other instants in
    UTC, since Python's == across zones is False for times in a fold (PEP 495).
    """

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"at": "2026-03-29T09:00:00+02:00", "open": True}]}
    )

    at: datetime = Field(description="When the change happens, in the store's time zone")
    open: bool = Field(description="True if the store is open after the change, False if it closes")


# ------------------------------------------------------------------------------------------------- engine


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

"""Store opening hours as data: the structured form a store's hours are given, stored and shown in (the
API models, with their validation), and the resolved day the engine answers with.

All times are wall-clock times in the store's IANA zone; `stores.hours.engine` turns them into instants.
"""

from __future__ import annotations

import datetime as dt
import re
from datetime import date, datetime
from itertools import pairwise
from typing import Annotated, Any, Final

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

MINUTES_PER_DAY: Final = 24 * 60
MAX_PERIODS_PER_DAY: Final = 6
MAX_SPECIAL_DAYS: Final = 400
MAX_REASON_LENGTH: Final = 200

WEEKDAYS: Final = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")

# [0-9], not \d: \d also matches other scripts' digits, which int() would happily read.
_OPENS_RE = re.compile(r"(?:[01][0-9]|2[0-3]):[0-5][0-9]")
_CLOSES_RE = re.compile(r"(?:[01][0-9]|2[0-3]):[0-5][0-9]|24:00")


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


# The periods of one weekday: empty means closed.
DayPeriods = Annotated[
    list[Period],
    Field(
        max_length=MAX_PERIODS_PER_DAY,
        description=(
            "Opening periods of the day; empty means closed. Overnight periods are listed on the day they "
            "start."
        ),
    ),
]


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

    monday: DayPeriods = Field(default_factory=list)
    tuesday: DayPeriods = Field(default_factory=list)
    wednesday: DayPeriods = Field(default_factory=list)
    thursday: DayPeriods = Field(default_factory=list)
    friday: DayPeriods = Field(default_factory=list)
    saturday: DayPeriods = Field(default_factory=list)
    sunday: DayPeriods = Field(default_factory=list)

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

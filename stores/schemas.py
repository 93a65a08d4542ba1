"""API models of the store network: what the admin upsert accepts and what every surface shows."""

from __future__ import annotations

import enum
import re
from functools import lru_cache
from typing import Annotated, Any, Final, Literal
from zoneinfo import available_timezones

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictFloat,
    StrictInt,
    StringConstraints,
    ValidationInfo,
    field_validator,
    model_validator,
)

from retail.bulk import BulkResult, rows_of
from retail.errors import described_pattern
from stores.codes import STORE_CODE_MEANING, STORE_CODE_PATTERN
from stores.hours import OpeningHours
from stores.hours.model import WEEKDAYS
from stores.hours.osm import parse_osm_opening_hours
from stores.hours.promise import minutes_of_day
from stores.hours.public_holidays import check_region

StoreCode = Annotated[
    str,
    StringConstraints(pattern=described_pattern(f"^{STORE_CODE_PATTERN}$", STORE_CODE_MEANING)),
]
Text200 = Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)]


@lru_cache(maxsize=1)
def _zones() -> frozenset[str]:
    return frozenset(available_timezones())


_COMPUTED_FIELDS = frozenset({"open_now", "today", "next_change", "distance_km", "availability", "has_all"})


class Address(BaseModel):
    street: Text200 = ""
    postcode: Annotated[str, StringConstraints(strip_whitespace=True, max_length=16)] = ""
    city: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
    country: Annotated[
        str,
        StringConstraints(
            pattern=described_pattern(r"^[A-Z]{2}$", "a country is two capital letters (ISO 3166-1), e.g. NL")
        ),
    ] = Field(description="ISO 3166-1 alpha-2", examples=["NL"])
    subdivision: (
        Annotated[
            str,
            StringConstraints(
                pattern=described_pattern(
                    r"^[A-Z]{2}-[A-Z0-9]{1,3}$", "a subdivision is an ISO 3166-2 code in capitals, e.g. NL-NH"
                )
            ),
        ]
        | None
    ) = Field(default=None, description="ISO 3166-2; selects regional public holidays", examples=["NL-NH"])


class Location(BaseModel):
    lat: StrictFloat = Field(ge=-90, le=90, allow_inf_nan=False, examples=[52.3702])
    lon: StrictFloat = Field(ge=-180, le=180, allow_inf_nan=False, examples=[4.8952])


# A store as the examples of the OpenAPI document show it, admin upsert and shopper answers alike.
STORE_EXAMPLE: Final[dict[str, Any]] = {
    "code": "NL-AMS-001",
    "name": "Winkelpunt Amsterdam Centrum",
    "address": {
        "street": "Kalverstraat 92",
        "postcode": "1012 PH",
        "city": "Amsterdam",
        "country": "NL",
        "subdivision": "NL-NH",
    },
    "location": {"lat": 52.3702, "lon": 4.8952},
    "timezone": "Europe/Amsterdam",
    "phone": "+31 20 555 0101",
    "click_and_collect": True,
}


class StoreKind(enum.StrEnum):
    """A store takes click-and-collect orders; a warehouse only ships to stores, unseen by shoppers."""

    store = "store"
    warehouse = "warehouse"


CutoffTime = Annotated[
    str,
    StringConstraints(
        pattern=described_pattern(
            r"^([01][0-9]|2[0-3]):[0-5][0-9]$", "a time of day, HH:MM from 00:00 to 23:59"
        )
    ),
]


class StoreIn(BaseModel):
    """One store as the admin upsert takes it. Give `hours`, or `opening_hours` in OpenStreetMap syntax."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    **STORE_EXAMPLE,
                    "opening_hours": "Mo-Sa 09:00-21:00; Su 12:00-18:00; PH off",
                }
            ]
        },
    )

    code: StoreCode
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
    address: Address
    location: Location
    timezone: Annotated[str, StringConstraints(max_length=64)] = Field(examples=["Europe/Amsterdam"])
    phone: Annotated[str, StringConstraints(strip_whitespace=True, max_length=32)] | None = None
    click_and_collect: StrictBool = True
    low_stock_threshold: StrictInt = Field(default=2, ge=0, le=1000)
    hold_hours: StrictInt = Field(default=72, ge=1, le=24 * 31)
    pick_minutes: StrictInt = Field(default=60, ge=0, le=24 * 60)
    return_days: StrictInt = Field(
        default=30,
        ge=0,
        le=365,
        description="days after collection the counter takes units back (through the last of those days "
        "in the store's zone); 0: no returns",
    )
    handover_minutes: StrictInt = Field(
        default=5,
        ge=0,
        le=240,
        description="minutes an arrived shopper may wait before the arrivals list calls the hand-over "
        "overdue",
    )
    closed_on_public_holidays: StrictBool | None = Field(
        default=None, description="default true; `PH off` in `opening_hours` also sets it"
    )
    kind: StoreKind = Field(default=StoreKind.store, description="a warehouse is never shown to shoppers")
    daily_order_capacity: StrictInt | None = Field(
        default=None, ge=1, le=100_000, description="orders promised per local day; null: unlimited"
    )
    same_day_cutoff: CutoffTime | None = Field(
        default=None, description="orders from this time (store's zone) on are ready the next opening day"
    )
    click_and_collect_paused: StrictBool = Field(
        default=False, description="while true shoppers see `click_and_collect: false` and orders are refused"
    )
    hold_opening_hours: StrictInt | None = Field(
        default=None,
        ge=1,
        le=24 * 31,
        description="opening hours a ready order is held, in the store's own hours; replaces `hold_hours`",
    )
    hours: OpeningHours | None = None
    opening_hours: str | None = Field(
        default=None,
        validate_default=True,
        max_length=1000,
        description="OpenStreetMap opening_hours, stored in the structured form",
        examples=["Mo-Sa 09:00-21:00; Su 12:00-18:00; PH off"],
    )

    @model_validator(mode="before")
    @classmethod
    def _drop_computed_fields(cls, data: Any) -> Any:
        # A store object read from the shopper API may be sent back as it is: the fields computed at read
        # time are ignored, while any other unknown field is still an error (it is most likely a typo).
        if isinstance(data, dict) and not _COMPUTED_FIELDS.isdisjoint(data):
            return {key: value for key, value in data.items() if key not in _COMPUTED_FIELDS}
        return data

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        if value not in _zones():
            raise ValueError(f"unknown IANA time zone {value!r}")
        return value

    @field_validator("address")
    @classmethod
    def _known_region(cls, value: Address) -> Address:
        problem = check_region(value.country, value.subdivision)
        if problem:
            raise ValueError(problem)
        return value

    @field_validator("opening_hours")
    @classmethod
    def _one_form_of_hours(cls, value: str | None, info: ValidationInfo) -> str | None:
        if "hours" not in info.data:  # `hours` itself was invalid and already reported
            return value
        if value is None and info.data["hours"] is None:
            raise ValueError("hours or opening_hours is required")
        if value is not None and info.data["hours"] is not None:
            raise ValueError("give either hours or opening_hours, not both")
        if value is not None:
            parse_osm_opening_hours(value)
        return value

    @model_validator(mode="after")
    def _structured_hours(self) -> StoreIn:
        # Checked by the field validators above; here the OSM form becomes the structured one we store.
        if self.opening_hours is not None:
            self.hours, closed_on_holidays = parse_osm_opening_hours(self.opening_hours)
            if self.closed_on_public_holidays is None:
                self.closed_on_public_holidays = closed_on_holidays
        if self.closed_on_public_holidays is None:
            self.closed_on_public_holidays = True
        return self

    @property
    def opening_hours_structured(self) -> OpeningHours:
        assert self.hours is not None  # guaranteed by the validators
        return self.hours


class StoreBatch(BaseModel):
    stores: Annotated[list[dict[str, Any]], rows_of(StoreIn)] = Field(max_length=10_000)


class StoreUpsertResult(BulkResult):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "applied": 1,
                    "errors": [
                        {
                            "index": 1,
                            "code": "unknown_timezone",
                            "detail": "timezone: Value error, unknown IANA time zone 'Europe/Amsterdm'",
                        }
                    ],
                }
            ]
        }
    )


_ERROR_CODES = (
    ("timezone", "unknown_timezone"),
    ("location", "invalid_location"),
    ("hours", "invalid_hours"),
    ("opening_hours", "invalid_hours"),
    ("address", "invalid_address"),
    ("code", "invalid_code"),
)
_DATE_FIELD = re.compile(r"(^|\.)date$")


def row_error_code(path: str) -> str:
    """A stable code for the first bad field of a store row."""
    if _DATE_FIELD.search(path):
        return "invalid_date"
    for prefix, code in _ERROR_CODES:
        if path == prefix or path.startswith(prefix + "."):
            return code
    return "invalid_row"


# ------------------------------------------------------------------------------------------- transfer lanes

MAX_DEPARTURES_PER_DAY: Final = 48
MAX_TRANSIT_HOURS: Final = 24 * 14


def _departure_time(value: str) -> str:
    minutes_of_day(value)  # raises ValueError with the rule
    return value


DepartureTime = Annotated[str, StringConstraints(max_length=5), AfterValidator(_departure_time)]
"""A departure's wall-clock time in the source's zone."""

LANE_EXAMPLE: Final[dict[str, Any]] = {
    "from_store": "NL-WH-TIL",
    "to_store": "NL-AMS-001",
    "departures": {day: ["22:00"] for day in WEEKDAYS},
    "transit_hours": 6,
}


class LaneIn(BaseModel):
    """A lane goods travel by: departures per weekday (`monday`..`sunday`; a day left out has none) in the
    source's time zone, and the hours on the road. An upsert of an existing (from, to) replaces it; a lane
    with no departures at all carries nothing."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [LANE_EXAMPLE]})

    from_store: StoreCode
    to_store: StoreCode
    departures: dict[
        Literal["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"],
        Annotated[list[DepartureTime], Field(max_length=MAX_DEPARTURES_PER_DAY)],
    ]
    transit_hours: StrictFloat | StrictInt = Field(gt=0, le=MAX_TRANSIT_HOURS)

    @model_validator(mode="after")
    def _two_stores(self) -> LaneIn:
        if self.from_store == self.to_store:
            raise ValueError("to_store: a lane joins two different stores")
        return self

    def sorted_departures(self) -> dict[str, list[str]]:
        """The departures as stored: every weekday given, each day's times sorted and once."""
        return {day: sorted(set(self.departures[day])) for day in WEEKDAYS if day in self.departures}


class LaneBatch(BaseModel):
    lanes: Annotated[list[dict[str, Any]], rows_of(LaneIn)] = Field(max_length=10_000)


class LaneUpsertResult(BulkResult):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "applied": 1,
                    "errors": [
                        {"index": 1, "code": "unknown_store", "detail": "from_store: no store 'NL-XX-404'"}
                    ],
                }
            ]
        }
    )

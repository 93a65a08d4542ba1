"""Response models of the shopper surface. Kept apart from the domain tables: the app's contract changes
only by addition, whatever the domains do with their storage."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from inventory.schemas import StockStatus
from retail.clock import UtcDateTime
from stores.hours import Period, ResolvedDay, SpecialDay, WeeklyHours
from stores.models import Store
from stores.schemas import Address, Location
from stores.service import NearbyStore, StoreStatus

_STORE_EXAMPLE: dict[str, Any] = {
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
    "open_now": True,
}


class NextChangeOut(BaseModel):
    at: UtcDateTime = Field(description="RFC 3339 instant with the store's UTC offset")
    open: bool = Field(description="whether the store is open after this change")


class StoreOut(BaseModel):
    code: str
    name: str
    address: Address
    location: Location
    timezone: str
    phone: str | None
    click_and_collect: bool
    open_now: bool
    today: list[Period] = Field(description="today's opening periods in the store's zone")
    next_change: NextChangeOut | None = Field(
        description="the next opening or closing; null for a 24/7 store"
    )

    @classmethod
    def fields_of(cls, store: Store, status: StoreStatus) -> dict[str, Any]:
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
            "open_now": status.open_now,
            "today": status.today,
            "next_change": (
                NextChangeOut(at=status.next_change.at, open=status.next_change.open)
                if status.next_change
                else None
            ),
        }


class StoreHours(BaseModel):
    weekly: WeeklyHours
    special: list[SpecialDay]


class StoreDetail(StoreOut):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    **_STORE_EXAMPLE,
                    "today": [{"opens": "09:00", "closes": "18:00"}],
                    "next_change": {"at": "2026-11-23T18:00:00+01:00", "open": False},
                    "hours": {
                        "weekly": {
                            "monday": [{"opens": "12:00", "closes": "18:00"}],
                            "tuesday": [{"opens": "09:00", "closes": "18:00"}],
                            "wednesday": [{"opens": "09:00", "closes": "18:00"}],
                            "thursday": [{"opens": "09:00", "closes": "21:00"}],
                            "friday": [{"opens": "09:00", "closes": "18:00"}],
                            "saturday": [{"opens": "09:00", "closes": "17:00"}],
                            "sunday": [{"opens": "12:00", "closes": "17:00"}],
                        },
                        "special": [
                            {
                                "date": "2026-12-24",
                                "closed": False,
                                "periods": [{"opens": "09:00", "closes": "16:00"}],
                                "reason": "Kerstavond",
                            }
                        ],
                    },
                }
            ]
        }
    )

    hours: StoreHours


class SkuAvailability(BaseModel):
    sku: str
    available: int
    status: StockStatus


class NearestStore(StoreOut):
    distance_km: float = Field(description="geodesic distance on WGS-84 from `origin`")
    availability: list[SkuAvailability] | None = Field(
        default=None, description="when `sku` was given: the store's stock of each requested sku"
    )
    has_all: bool | None = Field(default=None, description="when `sku` was given: every sku is available")


class Origin(BaseModel):
    lat: float
    lon: float
    name: str | None = Field(default=None, description="the place `q` was geocoded to, when `q` was given")


class NearestStores(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "origin": {"lat": 52.37, "lon": 4.89, "name": None},
                    "items": [
                        {
                            **_STORE_EXAMPLE,
                            "distance_km": 0.412,
                            "today": [{"opens": "09:00", "closes": "18:00"}],
                            "next_change": {"at": "2026-11-23T18:00:00+01:00", "open": False},
                        }
                    ],
                    "next_cursor": None,
                }
            ]
        }
    )

    origin: Origin
    items: list[NearestStore]
    next_cursor: str | None = Field(description="pass as `cursor` for the next stores; null on the last page")

    @staticmethod
    def item(nearby: NearbyStore, availability: list[SkuAvailability] | None = None) -> NearestStore:
        store = NearestStore(
            **StoreOut.fields_of(nearby.store, nearby.status),
            distance_km=round(nearby.distance_km, 3),
        )
        if availability is not None:
            # Set only when skus were asked for, so that the answer leaves both fields out otherwise.
            store.availability = availability
            store.has_all = all(line.available > 0 for line in availability)
        return store


class ResolvedHours(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "store_code": "NL-AMS-001",
                    "timezone": "Europe/Amsterdam",
                    "days": [
                        {
                            "date": "2026-04-26",
                            "closed": False,
                            "periods": [{"opens": "12:00", "closes": "17:00"}],
                            "reason": None,
                        },
                        {"date": "2026-04-27", "closed": True, "periods": [], "reason": "Koningsdag"},
                    ],
                }
            ]
        }
    )

    store_code: str
    timezone: str
    days: list[ResolvedDay]

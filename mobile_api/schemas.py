"""Response models of the shopper surface: stores and their hours, products, stock nearby and price
comparisons. Kept apart from the domain tables, so the app's contract changes only by addition whatever the
domains do with their storage; plain models, built by the routes from what the services answer.

Money is always `inventory.schemas.Money` built with `Money.of`, so amounts are two-place decimal strings;
a signed `difference` serialises the same way with a leading minus ("-1.50").
"""

from __future__ import annotations

import enum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from inventory.confidence import Confidence
from inventory.schemas import PRODUCT_EXAMPLE, Money, StockStatus
from retail.clock import UtcDateTime
from stores.hours import Period, ResolvedDay, SpecialDay, WeeklyHours
from stores.schemas import STORE_EXAMPLE, Address, Location

# ---------------------------------------------------------------------------------------------- stores

_STORE_EXAMPLE: dict[str, Any] = {
    **STORE_EXAMPLE,
    "kind": "store",
    "daily_order_capacity": None,
    "same_day_cutoff": "16:00",
    "click_and_collect_paused": False,
    "hold_opening_hours": None,
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
    click_and_collect: bool = Field(description="false while the store has click and collect paused")
    kind: Literal["store"] = Field(description="always `store`: warehouses are never shown to shoppers")
    daily_order_capacity: int | None = Field(description="orders promised per local day; null: unlimited")
    same_day_cutoff: str | None = Field(
        description="`HH:MM` in the store's zone: orders from then on are ready the next opening day"
    )
    click_and_collect_paused: bool
    hold_opening_hours: int | None = Field(
        description="opening hours a ready order is held; null: the store's `hold_hours` on the clock"
    )
    open_now: bool
    today: list[Period] = Field(description="today's opening periods in the store's zone")
    next_change: NextChangeOut | None = Field(
        description="the next opening or closing; null for a 24/7 store"
    )


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
    as_of: UtcDateTime | None = Field(
        description="the store's last count of the sku; null: never counted there"
    )
    confidence: Confidence = Field(
        description="`high`, `medium` or `low`: how far the figure can be trusted (README, Stock confidence)"
    )


class NearestStore(StoreOut):
    distance_km: float = Field(description="geodesic distance on WGS-84 from `origin`")
    pickup_ready_by: UtcDateTime | None = Field(
        description="when an order placed now would be ready (capacity and cutoff included); null at a "
        "store without click and collect"
    )
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
                            "pickup_ready_by": "2026-11-23T15:40:00+01:00",
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


# -------------------------------------------------------------------------------------------- products

_PRODUCT_EXAMPLE: dict[str, Any] = {
    **PRODUCT_EXAMPLE,
    "online_availability": {"available": 42, "status": "in_stock"},
}


class OnlineAvailability(BaseModel):
    available: int = Field(description="units the webshop can sell now")
    status: StockStatus


class ProductOut(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [_PRODUCT_EXAMPLE]})

    sku: str
    ean: str | None = Field(description="GTIN-8, -13 or -14")
    name: str
    brand: str | None
    description: str | None
    image_url: str | None
    category: str | None
    online_price: Money
    store_price: Money = Field(description="the price in a store that has no price of its own")
    online_availability: OnlineAvailability


class ProductPage(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "items": [_PRODUCT_EXAMPLE],
                    "next_cursor": "WyJ4U3JfUUp2NHRfdnMiLDQsInBoaWxpcHMgYWlyZnJ5ZXIgeGwiLDEyXQ",
                }
            ]
        }
    )

    items: list[ProductOut] = Field(description="most relevant first, then by name")
    next_cursor: str | None = Field(description="pass as `cursor` for the next page; null on the last page")


class StoreAvailability(BaseModel):
    code: str
    name: str
    distance_km: float = Field(description="geodesic distance on WGS-84 from the given point")
    available: int = Field(description="on hand minus reserved minus safety stock, never below 0")
    status: StockStatus = Field(
        description="`limited_availability` up to the store's `low_stock_threshold`, and for stock of `low` "
        "confidence"
    )
    as_of: UtcDateTime | None = Field(
        description="the store's last count of the sku; null: never counted there"
    )
    confidence: Confidence = Field(
        description="`high`, `medium` or `low`: how far the figure can be trusted (README, Stock confidence)"
    )
    price: Money = Field(description="the store's own price, else the product's `store_price`")
    open_now: bool
    pickup_ready_by: UtcDateTime | None = Field(
        description="when an order placed now would be ready (capacity and cutoff included); null at a "
        "store without click and collect"
    )
    # Left out of the answer unless `allow_transfer` was asked for: the route leaves unset fields out.
    transfer_ready_by: UtcDateTime | None = Field(
        default=None,
        description="only with `allow_transfer=true`: at a store that lacks the sku (`available` 0) but can "
        "get it by transfer, when an `allow_transfer` order placed now would be ready (the order's "
        "`pickup.ready_by`); null at a store that holds it or cannot get it",
    )


class ProductAvailability(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "sku": "WP-100234",
                    "online": {"available": 42, "status": "in_stock"},
                    "stores": [
                        {
                            "code": "NL-AMS-001",
                            "name": "Winkelpunt Amsterdam Centrum",
                            "distance_km": 0.412,
                            "available": 2,
                            "status": "limited_availability",
                            "price": {"amount": "127.99", "currency": "EUR"},
                            "open_now": True,
                        }
                    ],
                }
            ]
        }
    )

    sku: str
    online: OnlineAvailability
    stores: list[StoreAvailability] = Field(description="nearest first, ties by code")


class Channel(enum.StrEnum):
    online = "online"
    store = "store"


class StorePriceComparison(BaseModel):
    code: str
    name: str
    distance_km: float | None = Field(description="from the given point; null when one `store` was asked for")
    price: Money
    difference: Money = Field(
        description='store price minus online price, signed: "-1.50" means the store is 1.50 cheaper'
    )
    available: int
    status: StockStatus
    as_of: UtcDateTime | None = Field(
        description="the store's last count of the sku; null: never counted there"
    )
    confidence: Confidence = Field(
        description="`high`, `medium` or `low`: how far the figure can be trusted (README, Stock confidence)"
    )


class Cheapest(BaseModel):
    channel: Channel
    store_code: str | None = Field(description="the store when `channel` is `store`; null for online")
    price: Money


class ProductPrices(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "sku": "WP-100234",
                    "online_price": {"amount": "129.99", "currency": "EUR"},
                    "stores": [
                        {
                            "code": "NL-AMS-001",
                            "name": "Winkelpunt Amsterdam Centrum",
                            "distance_km": 0.412,
                            "price": {"amount": "127.99", "currency": "EUR"},
                            "difference": {"amount": "-2.00", "currency": "EUR"},
                            "available": 2,
                            "status": "limited_availability",
                        },
                        {
                            "code": "NL-AMS-002",
                            "name": "Winkelpunt Amsterdam Zuid",
                            "distance_km": 3.871,
                            "price": {"amount": "134.99", "currency": "EUR"},
                            "difference": {"amount": "5.00", "currency": "EUR"},
                            "available": 0,
                            "status": "out_of_stock",
                        },
                    ],
                    "cheapest": {
                        "channel": "store",
                        "store_code": "NL-AMS-001",
                        "price": {"amount": "127.99", "currency": "EUR"},
                    },
                }
            ]
        }
    )

    sku: str
    online_price: Money
    stores: list[StorePriceComparison] = Field(description="nearest first, ties by code; or the one store")
    cheapest: Cheapest = Field(
        description="the lowest price among online and the listed stores, whatever their stock; "
        "ties go online, then to the nearest store"
    )

"""Response models of the shopper's product endpoints: search, one product, stock nearby, price comparison.

Money is always `inventory.schemas.Money` built with `Money.of`, so amounts are two-place decimal strings;
a signed `difference` serialises the same way with a leading minus ("-1.50").
"""

from __future__ import annotations

import enum
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from inventory import service as inventory_service
from inventory.models import Product
from inventory.schemas import Money, StockStatus
from inventory.service import StoreOffer
from stores.service import NearbyStore

_PRODUCT_EXAMPLE: dict[str, Any] = {
    "sku": "WP-100234",
    "ean": "8712345678906",
    "name": "Philips Airfryer XL 6,2 liter",
    "brand": "Philips",
    "description": "Heteluchtfriteuse voor het hele gezin.",
    "image_url": "https://images.winkelpunt.example/p/WP-100234.jpg",
    "category": "Keuken > Keukenapparatuur",
    "online_price": {"amount": "129.99", "currency": "EUR"},
    "store_price": {"amount": "134.99", "currency": "EUR"},
    "online_availability": {"available": 42, "status": "in_stock"},
}


def _money(amount: Decimal, currency: str) -> Money:
    return Money.of(amount, currency)


class OnlineAvailability(BaseModel):
    available: int = Field(description="units the webshop can sell now")
    status: StockStatus

    @classmethod
    def of(cls, product: Product) -> OnlineAvailability:
        available, status = inventory_service.online_availability(product)
        return cls(available=available, status=StockStatus(status))


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

    @classmethod
    def of(cls, product: Product) -> ProductOut:
        # The catalogue keeps a text the webshop gave none of as "": the shopper sees null.
        return cls(
            sku=product.sku,
            ean=product.ean,
            name=product.name,
            brand=product.brand or None,
            description=product.description or None,
            image_url=product.image_url,
            category=product.category or None,
            online_price=_money(product.online_price, product.currency),
            store_price=_money(product.store_price, product.currency),
            online_availability=OnlineAvailability.of(product),
        )


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
    status: StockStatus = Field(description="`limited_availability` up to the store's `low_stock_threshold`")
    price: Money = Field(description="the store's own price, else the product's `store_price`")
    open_now: bool

    @classmethod
    def of(cls, nearby: NearbyStore, offer: StoreOffer, currency: str) -> StoreAvailability:
        return cls(
            code=nearby.store.code,
            name=nearby.store.name,
            distance_km=round(nearby.distance_km, 3),
            available=offer.available,
            status=StockStatus(offer.status),
            price=_money(offer.price, currency),
            open_now=nearby.status.open_now,
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

    @classmethod
    def of(
        cls, product: Product, offers: list[StoreOffer], distances: dict[str, float] | None
    ) -> ProductPrices:
        """`offers` nearest first; `distances` by store code, or None when one store was named."""
        currency = product.currency
        online = _money(product.online_price, currency)
        stores = []
        for offer in offers:
            price = _money(offer.price, currency)
            distance = distances.get(offer.store.code) if distances is not None else None
            stores.append(
                StorePriceComparison(
                    code=offer.store.code,
                    name=offer.store.name,
                    distance_km=round(distance, 3) if distance is not None else None,
                    price=price,
                    # Both sides are already two-place decimals, so the difference is exact.
                    difference=_money(price.amount - online.amount, currency),
                    available=offer.available,
                    status=StockStatus(offer.status),
                )
            )
        best = inventory_service.cheapest_offer(online.amount, offers)
        cheapest = (
            Cheapest(channel=Channel.online, store_code=None, price=online)
            if best is None
            else Cheapest(
                channel=Channel.store, store_code=best.store.code, price=_money(best.price, currency)
            )
        )
        return cls(sku=product.sku, online_price=online, stores=stores, cheapest=cheapest)

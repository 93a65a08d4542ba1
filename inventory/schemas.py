"""API models of the catalogue, prices and stock: what the webshop sync accepts and answers."""

from __future__ import annotations

import enum
import re
from datetime import datetime
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from typing import Annotated, Any, Final

from pydantic import BaseModel, ConfigDict, Field, StrictInt, StringConstraints, field_validator

from inventory.codes import (
    GTIN_MEANING,
    GTIN_PATTERN,
    MOVEMENT_ID_CHARACTERS,
    MOVEMENT_ID_MAX_LENGTH,
    MOVEMENT_ID_MEANING,
    SKU_MEANING,
    SKU_PATTERN,
    has_valid_check_digit,
)
from inventory.instants import INSTANT_RULE
from retail.bulk import BulkResult, rows_of
from retail.clock import UtcDateTime
from retail.contact import Email, Locale
from retail.errors import described_pattern

# Re-exported: the sync rows and the orders name their store with the store network's one code type.
from stores.schemas import StoreCode as StoreCode

CURRENCY = "EUR"
_CENT = Decimal("0.01")

Sku = Annotated[str, StringConstraints(pattern=described_pattern(f"^{SKU_PATTERN}$", SKU_MEANING))]
# GTIN-8, -13 or -14; the product search takes the same in its `ean` query.
EAN_PATTERN = described_pattern(GTIN_PATTERN, GTIN_MEANING)


class StockStatus(enum.StrEnum):
    in_stock = "in_stock"
    limited_availability = "limited_availability"
    out_of_stock = "out_of_stock"


def stock_status(available: int, low_stock_threshold: int) -> StockStatus:
    """The contract's status for an available quantity (Google local inventory's reading of "limited")."""
    if available <= 0:
        return StockStatus.out_of_stock
    if available <= low_stock_threshold:
        return StockStatus.limited_availability
    return StockStatus.in_stock


def available_quantity(on_hand: int, reserved: int, safety_stock: int) -> int:
    return max(0, on_hand - reserved - safety_stock)


def strict_with_example(example: dict[str, Any]) -> ConfigDict:
    """The configuration of every API model here: unknown fields are refused, and the OpenAPI document
    shows `example`."""
    return ConfigDict(extra="forbid", json_schema_extra={"examples": [example]})


class Money(BaseModel):
    """`{"amount": "12.99", "currency": "EUR"}`: a decimal string with two places, never a float."""

    model_config = strict_with_example({"amount": "12.99", "currency": "EUR"})

    amount: Decimal = Field(description="decimal string with two places", examples=["12.99"])
    currency: Annotated[
        str,
        StringConstraints(
            pattern=described_pattern(
                r"^[A-Z]{3}$", "a currency is three capital letters (ISO 4217), e.g. EUR"
            )
        ),
    ] = CURRENCY

    @field_validator("amount", mode="before")
    @classmethod
    def _decimal_string(cls, value: Any) -> Decimal:
        # Floats lose cents (0.1 + 0.2); a number in JSON is refused, a string of at most two places taken.
        if not isinstance(value, str) or not re.fullmatch(r"[0-9]{1,10}(\.[0-9]{1,2})?", value.strip()):
            raise ValueError('a non-negative decimal string with at most two places, e.g. "12.99"')
        try:
            return Decimal(value.strip()).quantize(_CENT)
        except InvalidOperation as exc:  # pragma: no cover - the pattern already excludes these
            raise ValueError("not a decimal amount") from exc

    @field_validator("currency")
    @classmethod
    def _supported_currency(cls, value: str) -> str:
        if value != CURRENCY:
            raise ValueError(f"only {CURRENCY} is supported")
        return value

    @classmethod
    def of(cls, amount: Decimal, currency: str = CURRENCY) -> Money:
        return cls.model_construct(amount=amount.quantize(_CENT, rounding=ROUND_HALF_EVEN), currency=currency)


# A product as the examples of the OpenAPI document show it, webshop upsert and shopper answers alike.
PRODUCT_EXAMPLE: Final[dict[str, Any]] = {
    "sku": "WP-100234",
    "ean": "8712345678906",
    "name": "Philips Airfryer XL 6,2 liter",
    "brand": "Philips",
    "description": "Heteluchtfriteuse voor het hele gezin.",
    "image_url": "https://images.winkelpunt.example/p/WP-100234.jpg",
    "category": "Keuken > Keukenapparatuur",
    "online_price": {"amount": "129.99", "currency": "EUR"},
    "store_price": {"amount": "134.99", "currency": "EUR"},
}


class ProductIn(BaseModel):
    """One product as the webshop pushes it."""

    model_config = strict_with_example({**PRODUCT_EXAMPLE, "online_stock": 42})

    sku: Sku
    ean: Annotated[str, StringConstraints(pattern=EAN_PATTERN)] | None = Field(
        default=None, description="GTIN-8, -13 or -14 with a valid check digit"
    )
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
    # A row replaces the stored product: a field left out or null is cleared.
    brand: Annotated[str, StringConstraints(strip_whitespace=True, max_length=100)] | None = None
    description: Annotated[str, StringConstraints(max_length=5000)] | None = None
    image_url: (
        Annotated[
            str,
            StringConstraints(
                pattern=described_pattern(
                    r"^https?://\S+$",
                    "not a web address: it starts with http:// or https:// and has no spaces",
                ),
                max_length=500,
            ),
        ]
        | None
    ) = None
    category: Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)] | None = None
    online_price: Money
    store_price: Money | None = Field(
        default=None, description="default store price; the online price if absent"
    )
    online_stock: StrictInt = Field(default=0, ge=0, le=10_000_000)

    @field_validator("ean")
    @classmethod
    def _check_digit(cls, value: str | None) -> str | None:
        if value is not None and not has_valid_check_digit(value):
            raise ValueError("check digit does not match")
        return value


class StorePriceIn(BaseModel):
    model_config = strict_with_example(
        {
            "store_code": "NL-AMS-001",
            "sku": "WP-100234",
            "price": {"amount": "127.99", "currency": "EUR"},
        }
    )

    store_code: StoreCode
    sku: Sku
    price: Money


class StockSnapshotIn(BaseModel):
    model_config = strict_with_example(
        {
            "store_code": "NL-AMS-001",
            "sku": "WP-100234",
            "on_hand": 7,
            "as_of": "2026-11-23T06:00:00+01:00",
        }
    )

    store_code: StoreCode
    sku: Sku
    on_hand: StrictInt = Field(ge=0, le=10_000_000)
    as_of: datetime = Field(description=f"when the count was taken: {INSTANT_RULE}")


class StockMovementIn(BaseModel):
    model_config = strict_with_example(
        {
            "movement_id": "till-0042-20261123-000173",
            "store_code": "NL-AMS-001",
            "sku": "WP-100234",
            "delta": -1,
            "at": "2026-11-23T14:02:11+01:00",
        }
    )

    movement_id: Annotated[
        str,
        StringConstraints(
            min_length=1,
            max_length=MOVEMENT_ID_MAX_LENGTH,
            pattern=described_pattern(f"^{MOVEMENT_ID_CHARACTERS}+$", MOVEMENT_ID_MEANING),
        ),
    ]
    store_code: StoreCode
    sku: Sku
    delta: StrictInt = Field(ge=-1_000_000, le=1_000_000)
    at: datetime = Field(description=f"when it happened: {INSTANT_RULE}")


class ProductBatch(BaseModel):
    products: Annotated[list[dict[str, Any]], rows_of(ProductIn)] = Field(max_length=10_000)


class StorePriceBatch(BaseModel):
    prices: Annotated[list[dict[str, Any]], rows_of(StorePriceIn)] = Field(max_length=10_000)


class StockSnapshotBatch(BaseModel):
    items: Annotated[list[dict[str, Any]], rows_of(StockSnapshotIn)] = Field(max_length=10_000)


class StockMovementBatch(BaseModel):
    movements: Annotated[list[dict[str, Any]], rows_of(StockMovementIn)] = Field(max_length=10_000)


class SnapshotResult(BulkResult):
    stale: int = Field(default=0, description="snapshots not newer than the stored count; nothing changed")
    errors_omitted: int = Field(default=0, description="bad rows beyond the first 1,000 reported in `errors`")


class MovementResult(BulkResult):
    duplicates: int = Field(default=0, description="movements already recorded; counted once")


class AvailabilityFeedItem(BaseModel):
    store_code: str
    sku: str
    on_hand: int
    reserved: int
    available: int
    status: StockStatus
    in_transit: int = Field(description="units shipped to the store by transfer, not yet received")
    changed_at: UtcDateTime


class AvailabilityFeed(BaseModel):
    items: list[AvailabilityFeedItem]
    next_cursor: str = Field(description="never null: poll again with it to see what changed since")


class StockAlertIn(BaseModel):
    """Ask to be told when a product is back in stock at a store (API.md, "Back in stock at my store")."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"store_code": "NL-AMS-001", "sku": "TSHIRT-BLK-M", "email": "sanne@example.nl"}]
        },
    )

    store_code: StoreCode
    sku: Sku
    email: Email
    locale: Locale | None = Field(
        default=None,
        description="the language of the message; left out: `nl` at stores in NL and BE, else `en`",
    )


class AlertStatus(enum.StrEnum):
    waiting = "waiting"
    sent = "sent"
    cancelled = "cancelled"  # only in the answer to its cancellation


class StockAlertCreated(BaseModel):
    alert_id: str
    alert_token: str = Field(description="keep it: it reads and cancels the alert")
    status: AlertStatus


class StockAlertOut(BaseModel):
    alert_id: str
    status: AlertStatus = Field(
        description="`waiting`; `sent` once the units are back (the message goes out at once); `cancelled`"
    )
    store_code: str
    sku: str
    created_at: UtcDateTime
    sent_at: UtcDateTime | None

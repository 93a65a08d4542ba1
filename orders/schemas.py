"""API models of click-and-collect orders: the shopper's order and the store staff's answers."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StrictInt, StringConstraints, field_validator

from inventory.schemas import Money, Sku, StoreCode
from orders.models import OrderStatus
from retail.auth import Role
from retail.clock import UtcDateTime
from retail.errors import described_pattern

MAX_LINES = 50


class OrderLineIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sku: Sku
    quantity: StrictInt = Field(ge=1, le=99)


class CustomerIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
    email: Annotated[
        str,
        StringConstraints(
            strip_whitespace=True,
            max_length=254,
            pattern=described_pattern(
                r"^[^@\s<>\"()\[\],;:\x00-\x1f\x7f]+@[^@\s<>\"()\[\],;:\x00-\x1f\x7f]+\.[A-Za-z]{2,}$",
                "not a valid email address",
            ),
        ),
    ]
    phone: (
        Annotated[
            str,
            StringConstraints(
                strip_whitespace=True,
                pattern=described_pattern(
                    r"^\+?[0-9 ()\-]{6,20}$",
                    "not a valid phone number: 6 to 20 digits, spaces, brackets or dashes, with a + in front "
                    "if international",
                ),
            ),
        ]
        | None
    ) = None

    @field_validator("name")
    @classmethod
    def _printable(cls, value: str) -> str:
        if any(not ch.isprintable() for ch in value):
            raise ValueError("name: printable characters only")
        # Markup has no place in a person's name, and a name is shown on the staff's screens and in
        # notifications: refused rather than trusted to be escaped everywhere.
        if any(ch in "<>" for ch in value):
            raise ValueError("name: no < or >")
        return value


class OrderIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "store_code": "NL-AMS-001",
                    "lines": [{"sku": "WP-100234", "quantity": 1}],
                    "customer": {
                        "name": "Sanne de Vries",
                        "email": "sanne@example.nl",
                        "phone": "+31 6 1234 5678",
                    },
                }
            ]
        },
    )

    store_code: StoreCode
    lines: list[OrderLineIn] = Field(min_length=1, max_length=MAX_LINES)
    customer: CustomerIn

    @field_validator("lines")
    @classmethod
    def _each_sku_once(cls, lines: list[OrderLineIn]) -> list[OrderLineIn]:
        seen: set[str] = set()
        for line in lines:
            if line.sku in seen:
                raise ValueError(f"sku {line.sku!r} appears twice; give it once with the total quantity")
            seen.add(line.sku)
        return lines


class OrderAccepted(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "order_id": "ord_4kP9x2QmZ7bT1vR8sLw3Ne",
                    "order_token": "otk_Xq1...",
                    "status": "pending",
                    "status_url": "/mobile/v1/orders/ord_4kP9x2QmZ7bT1vR8sLw3Ne",
                    "created_at": "2026-11-23T14:02:11+00:00",
                }
            ]
        }
    )

    order_id: str
    order_token: str = Field(description="keep it: every order endpoint needs it (Authorization: Bearer ...)")
    status: OrderStatus
    status_url: str
    created_at: UtcDateTime


class StoreRef(BaseModel):
    code: str
    name: str


class OrderLineOut(BaseModel):
    sku: str
    name: str
    quantity: int
    unit_price: Money


class HistoryEntry(BaseModel):
    status: OrderStatus
    at: UtcDateTime


class Pickup(BaseModel):
    code: str = Field(description="short code staff can type instead of scanning")
    qr_png_url: str
    qr_svg_url: str
    ready_by: UtcDateTime | None
    expires_at: UtcDateTime | None


class ShortLine(BaseModel):
    sku: str
    requested: int = Field(description="units ordered")
    available: int = Field(description="units the store could promise when the order was decided")


class Alternative(BaseModel):
    """Another store nearby that could supply the whole basket when the order was decided."""

    code: str
    name: str
    distance_km: float = Field(description="from the store the order was placed at")
    ready_by: UtcDateTime | None = Field(description="when an order placed then would have been ready")


class OrderProblem(BaseModel):
    """Why an order was rejected: the lines the store could not supply, and where to go instead."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "code": "out_of_stock",
                    "lines": [{"sku": "WP-100234", "requested": 2, "available": 1}],
                    "alternatives": [
                        {
                            "code": "NL-AMS-002",
                            "name": "Winkelpunt Amsterdam Zuid",
                            "distance_km": 3.217,
                            "ready_by": "2026-11-23T15:02:11+00:00",
                        }
                    ],
                }
            ]
        }
    )

    code: str = Field(description="stable machine code: `out_of_stock`")
    lines: list[ShortLine]
    alternatives: list[Alternative] = Field(description="nearest first; empty when no store nearby can")


class OrderOut(BaseModel):
    order_id: str
    status: OrderStatus
    store: StoreRef
    lines: list[OrderLineOut]
    total: Money
    created_at: UtcDateTime
    history: list[HistoryEntry]
    pickup: Pickup | None
    problem: OrderProblem | None = Field(description="why the order was rejected; null unless `rejected`")


# ---------------------------------------------------------------------------------------- store staff


class StaffOrder(OrderOut):
    customer_name: str


class StaffOrderPage(BaseModel):
    items: list[StaffOrder]
    next_cursor: str | None


class CodeIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"code": "K7QM-4T9X"}, {"code": "WPK1.ord_....NL-AMS-001...."}]},
    )

    code: str = Field(min_length=1, max_length=256, description="the QR code's content, or the short code")
    store_code: str | None = Field(
        default=None, max_length=32, description="with an admin key and a short code: the store's counter"
    )


class HandOverLine(BaseModel):
    sku: str
    name: str
    quantity: int


class HandOver(BaseModel):
    order_id: str
    status: OrderStatus
    store_code: str
    customer_name: str
    lines: list[HandOverLine]


class StaffIdentity(BaseModel):
    role: Role = Field(description="`staff` (one store) or `admin` (any store)")
    store_code: str | None = Field(description="the store a staff key is for; null for an admin key")


class CounterStore(BaseModel):
    code: str
    name: str
    timezone: str = Field(
        description="IANA time zone; the pickup desk shows every time in it, whatever the device's own zone"
    )


class ScanResult(BaseModel):
    code: str | None = Field(
        description="the QR code's content, to send to `pickups/verify`; null when the frame shows none"
    )

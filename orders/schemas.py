"""API models of click-and-collect orders."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StrictInt, StringConstraints, field_validator

from inventory.schemas import Money, Sku, StoreCode
from orders.models import OrderStatus
from retail.clock import UtcDateTime

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
            pattern=r"^[^@\s<>\"()\[\],;:\x00-\x1f\x7f]+@[^@\s<>\"()\[\],;:\x00-\x1f\x7f]+\.[A-Za-z]{2,}$",
        ),
    ]
    phone: (
        Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^\+?[0-9 ()\-]{6,20}$")] | None
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


class OrderOut(BaseModel):
    order_id: str
    status: OrderStatus
    store: StoreRef
    lines: list[OrderLineOut]
    total: Money
    created_at: UtcDateTime
    history: list[HistoryEntry]
    pickup: Pickup | None
    problem: dict[str, Any] | None

"""API models of click-and-collect orders: the shopper's order and the store staff's answers."""

from __future__ import annotations

import enum
from collections.abc import Sequence
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, StringConstraints, field_validator

from inventory.schemas import Money, Sku, StoreCode
from orders.counter_schemas import (
    MAX_LINES,
    Alternative,
    CounterFields,
    Locale,
    PersonName,
    PickupPerson,
    StaffOrderReturn,
    TakenLineIn,
    Verification,
    each_sku_once,
)
from orders.messages.models import MessageType
from orders.models import OrderStatus, ProblemCode, TransferStatus
from retail.auth import Role
from retail.clock import UtcDateTime
from retail.contact import Email
from retail.errors import described_pattern


class OrderLineIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sku: Sku
    quantity: StrictInt = Field(ge=1, le=99)


class CustomerIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: PersonName
    email: Email
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
                },
                {
                    "store_code": "BE-ANR-001",
                    "lines": [{"sku": "WP-100234", "quantity": 2}],
                    "customer": {"name": "Emma Peeters", "email": "emma@example.be"},
                    "pickup_person": {"name": "Lucas Peeters"},
                    "locale": "en",
                },
            ]
        },
    )

    store_code: StoreCode
    lines: list[OrderLineIn] = Field(min_length=1, max_length=MAX_LINES)
    customer: CustomerIn
    pickup_person: PickupPerson | None = Field(
        default=None, description="someone else collects the order; leave out when the customer does"
    )
    locale: Locale | None = Field(
        default=None,
        description="the language of the messages to the shopper; left out: `nl` at stores in NL and BE, "
        "else `en`",
    )
    allow_transfer: StrictBool = Field(
        default=False,
        description="lines the store lacks may come from one other store or warehouse by transfer; the "
        "order is still all lines or none",
    )

    _each_sku_once = field_validator("lines")(each_sku_once)


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
    picked: int | None = Field(description="units the store picked; null until it marks the order ready")
    collected: int | None = Field(description="units the collector took; null until the hand-over")
    source: str = Field(
        description="the code of the store the line's units come from: the pickup store's own, or a "
        "transfer's source"
    )


class TransferOut(BaseModel):
    transfer_id: str
    from_store: str = Field(description="the source store's code")
    status: TransferStatus = Field(description="`planned` -> `shipped` -> `received`")
    eta: UtcDateTime | None = Field(description="when the units are due at the pickup store")


class HistoryEntry(BaseModel):
    status: OrderStatus
    at: UtcDateTime


class StaffHistoryEntry(HistoryEntry):
    by: str | None = Field(
        description="the label of the staff or admin key that made the transition; null when no staff did"
    )
    verification: Verification | None = Field(
        description="on the `collected` entry: how the counter checked the collector; null on the others"
    )


class MessageEntry(BaseModel):
    """A message to the shopper about the order (orders/messages/)."""

    type: MessageType
    at: UtcDateTime = Field(description="when it went (`sent`, `logged`); until then when it is meant to go")
    status: Literal["queued", "sent", "failed", "logged"] = Field(
        description="`queued`: to go (again, after a failed try); `sent`: the mail server took it; "
        "`failed`: refused for good or still failing after the last try; `logged`: no mail server is set"
    )


class PromiseBasis(enum.StrEnum):
    """What an order's `ready_by` counts (orders/promises.py `basis`)."""

    measured = "measured"  # the store's pick time measured from its own orders
    configured = "configured"  # the store's configured `pick_minutes`


class Pickup(BaseModel):
    code: str = Field(description="short code staff can type instead of scanning")
    qr_png_url: str
    qr_svg_url: str
    ready_by: UtcDateTime | None
    first_ready_by: UtcDateTime | None = Field(
        default=None, description="the promise first made, when the order ran late and was promised again"
    )
    expires_at: UtcDateTime | None
    promise_basis: PromiseBasis | None = Field(
        default=None,
        description="`ready_by` counts the store's measured pick time (`measured`) or its configured one",
    )


class ShortLine(BaseModel):
    sku: str
    requested: int = Field(description="units ordered")
    available: int = Field(
        description="units the store could promise when the order was decided (`short_pick`: picked)"
    )


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

    code: ProblemCode = Field(
        description="stable machine code: `out_of_stock` (the store could not reserve the basket) or "
        "`short_pick` (the shelf held none of it when the store picked)"
    )
    lines: list[ShortLine]
    alternatives: list[Alternative] = Field(description="nearest first; empty when no store nearby can")


_ORDER_EXAMPLE: dict[str, Any] = {
    "order_id": "ord_4kP9x2QmZ7bT1vR8sLw3Ne",
    "status": "ready_for_pickup",
    "store": {"code": "NL-AMS-001", "name": "Winkelpunt Amsterdam Centrum"},
    "lines": [
        {
            "sku": "WP-100234",
            "name": "Airfryer XL",
            "quantity": 1,
            "unit_price": {"amount": "127.99", "currency": "EUR"},
            "picked": 1,
            "collected": None,
            "source": "NL-AMS-001",
        }
    ],
    "transfers": [],
    "total": {"amount": "127.99", "currency": "EUR"},
    "created_at": "2026-11-23T14:02:11+00:00",
    "history": [
        {"status": "pending", "at": "2026-11-23T14:02:11+00:00"},
        {"status": "reserved", "at": "2026-11-23T14:02:12+00:00"},
        {"status": "ready_for_pickup", "at": "2026-11-23T14:40:03+00:00"},
    ],
    "pickup": {
        "code": "K7QM-4T9X",
        "qr_png_url": "/mobile/v1/orders/ord_4kP9x2QmZ7bT1vR8sLw3Ne/pickup-code.png",
        "qr_svg_url": "/mobile/v1/orders/ord_4kP9x2QmZ7bT1vR8sLw3Ne/pickup-code.svg",
        "ready_by": "2026-11-23T15:02:11+00:00",
        "first_ready_by": None,
        "expires_at": "2026-11-26T14:40:03+00:00",
    },
    "problem": None,
    "late": False,
    "pickup_person": {"name": "Joost de Vries"},
    "locale": "nl",
    "shortages": [],
    "arrival": None,
    "returns": [],
    "messages": [
        {"type": "reserved", "at": "2026-11-23T14:02:13+00:00", "status": "sent"},
        {"type": "ready", "at": "2026-11-23T14:40:05+00:00", "status": "sent"},
        {"type": "reminder", "at": "2026-11-25T16:40:03+00:00", "status": "queued"},
    ],
}
_STAFF_ORDER_EXAMPLE: dict[str, Any] = {
    **_ORDER_EXAMPLE,
    "history": [
        {"status": "pending", "at": "2026-11-23T14:02:11+00:00", "by": None, "verification": None},
        {"status": "reserved", "at": "2026-11-23T14:02:12+00:00", "by": None, "verification": None},
        {
            "status": "ready_for_pickup",
            "at": "2026-11-23T14:40:03+00:00",
            "by": "Amsterdam Centrum desk",
            "verification": None,
        },
    ],
    "customer_name": "Sanne de Vries",
}
STAFF_RETURNED_ORDER_EXAMPLE: dict[str, Any] = {
    **_STAFF_ORDER_EXAMPLE,
    "status": "collected",
    "lines": [{**_ORDER_EXAMPLE["lines"][0], "collected": 1}],
    "history": [
        *_STAFF_ORDER_EXAMPLE["history"],
        {"status": "collected", "at": "2026-11-23T17:12:45+00:00", "by": "Amsterdam Centrum desk"},
    ],
    "pickup": None,
    "returns": [
        {
            "return_id": "ret_Hq7Yw2mV0cTt9LxRb4KpZg",
            "at": "2026-11-30T10:05:31+00:00",
            "lines": [{"sku": "WP-100234", "quantity": 1}],
            "restock": True,
            "reason": "te groot",
            "by": "Amsterdam Centrum desk",
        }
    ],
}
"""A collected order with a return taken at the counter, as the staff see it."""


class _OrderFields(CounterFields):
    """The order object without its history, which the shopper and the staff see differently."""

    order_id: str
    status: OrderStatus
    store: StoreRef
    lines: list[OrderLineOut]
    total: Money
    created_at: UtcDateTime
    pickup: Pickup | None
    problem: OrderProblem | None = Field(description="why the order was rejected; null unless `rejected`")
    messages: list[MessageEntry] = Field(description="the messages to the shopper, in the order they go")
    late: bool = Field(
        default=False, description="still reserved 10 minutes before its promise: promised again"
    )
    transfers: list[TransferOut] = Field(
        description="lines travelling from another store to the pickup store; empty when none"
    )


class OrderOut(_OrderFields):
    model_config = ConfigDict(json_schema_extra={"examples": [_ORDER_EXAMPLE]})

    history: list[HistoryEntry]


# ---------------------------------------------------------------------------------------- store staff


class StaffOrder(_OrderFields):
    model_config = ConfigDict(json_schema_extra={"examples": [_STAFF_ORDER_EXAMPLE]})

    history: list[StaffHistoryEntry] = Field(description="with `by`, who at the store made each change")
    customer_name: str
    returns: Sequence[StaffOrderReturn] = Field(description="returns at the counter, with who took each")


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


class ConfirmIn(CodeIn):
    """The hand-over: the code, what the collector takes (a line left out: everything picked) and how
    the collector was checked (left out: how the code was given, `qr` or `short_code`)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"code": "K7QM-4T9X"},
                {
                    "code": "K7QM-4T9X",
                    "lines": [{"sku": "WP-100234", "quantity": 0}],
                    "verification": "id_checked",
                },
            ]
        },
    )

    lines: list[TakenLineIn] = Field(
        default_factory=list,
        max_length=MAX_LINES,
        description="what the collector takes of each line; fewer than picked: the rest is refused and "
        "goes back on the shelf; a line left out is taken in full",
    )
    verification: Verification | None = Field(
        default=None,
        description="how the collector was checked; left out: `qr` for a scanned code, `short_code` for a "
        "typed one",
    )


class HandOverLine(BaseModel):
    sku: str
    name: str
    quantity: int
    picked: int | None = Field(description="units the store picked; null until it marks the order ready")
    collected: int | None = Field(description="units the collector took; null until the hand-over")


class HandOver(CounterFields):
    """The order as the counter checks it; `pickup_person` is who may collect besides the customer."""

    order_id: str
    status: OrderStatus
    store_code: str
    customer_name: str
    lines: list[HandOverLine]
    history: list[StaffHistoryEntry]
    returns: Sequence[StaffOrderReturn] = Field(description="returns at the counter, with who took each")


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

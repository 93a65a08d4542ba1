"""What an order shows of the store's day at the counter (API.md, "At the counter"): who collects, in which
language the shopper is written to, what the shelf did not hold, the shopper's arrival and the returns.

Every order answer carries these fields whether or not they apply (lists as `[]`, the rest as null), so
clients can rely on their presence; `CounterFields` is that set, shared by the order object and the
counter's hand-over. Also the lines of the counter's bodies: what was picked (`ReadyIn`) and what the
collector takes (`TakenLineIn`, of `orders.schemas.ConfirmIn`).
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from typing import Annotated, Protocol, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    StringConstraints,
    field_validator,
)

from inventory.schemas import Sku
from retail.clock import UtcDateTime
from retail.contact import Locale as Locale

MAX_LINES = 50
"""The most lines an order has, and so the most a counter body names."""


def _person_name(value: str) -> str:
    if any(not ch.isprintable() for ch in value):
        raise ValueError("name: printable characters only")
    # Markup has no place in a person's name, and a name is shown on the staff's screens and in
    # notifications: refused rather than trusted to be escaped everywhere.
    if any(ch in "<>" for ch in value):
        raise ValueError("name: no < or >")
    return value


PersonName = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=100),
    AfterValidator(_person_name),
]
"""A person's name as the shopper types it: the customer's, or whoever collects for them."""


class PickupPerson(BaseModel):
    """Someone other than the customer who collects the order; the counter sees the name at verify."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"name": "Joost de Vries"}]})

    name: PersonName


class Alternative(BaseModel):
    """Another click-and-collect store nearby that held the units when the store looked: the whole basket
    of a rejected order, or the missing units of a line picked short."""

    code: str
    name: str
    distance_km: float = Field(description="from the store the order was placed at")
    ready_by: UtcDateTime | None = Field(description="when an order placed there then would have been ready")


class Shortage(BaseModel):
    """A line the store picked short: fewer units on the shelf than ordered."""

    sku: str
    requested: int = Field(description="units ordered")
    picked: int = Field(description="units the store found and picked")
    alternatives: list[Alternative] = Field(
        description="the nearest other stores that held the missing units, nearest first; empty when none"
    )


class Verification(enum.StrEnum):
    """How the counter checked the collector: the QR code scanned, the short code typed, an ID seen, or
    the pickup person named at the order."""

    qr = "qr"
    short_code = "short_code"
    id_checked = "id_checked"
    pickup_person_named = "pickup_person_named"


class PickedLineIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sku: Sku
    picked: StrictInt = Field(
        ge=0, le=99, description="units found on the shelf, 0 up to the line's quantity"
    )


class ReadyIn(BaseModel):
    """What the store picked. No body, or a line left out, means picked in full."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"lines": [{"sku": "WP-100234", "picked": 1}]},
                {"lines": [{"sku": "WP-100234", "picked": 0}, {"sku": "WP-200871", "picked": 0}]},
            ]
        },
    )

    lines: list[PickedLineIn] = Field(
        default_factory=list,
        max_length=MAX_LINES,
        description="the lines picked short (or in full); a line left out was picked in full",
    )


class TakenLineIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sku: Sku
    quantity: StrictInt = Field(
        ge=0, le=99, description="units the collector takes, 0 up to the line's picked units"
    )


class ArrivalStatus(enum.StrEnum):
    on_the_way = "on_the_way"
    arrived = "arrived"


class ArrivalPlace(enum.StrEnum):
    counter = "counter"
    curbside = "curbside"


class Arrival(BaseModel):
    """What the shopper's app last said about coming to collect."""

    status: ArrivalStatus
    at: UtcDateTime = Field(description="when the shopper said it")
    eta: UtcDateTime | None = Field(description="when the shopper expects to arrive, while on the way")
    where: ArrivalPlace | None
    bay: str | None = Field(description="the curbside bay, if the shopper gave one")


class ReturnLine(BaseModel):
    sku: str
    quantity: int


class OrderReturn(BaseModel):
    """Units of a collected order brought back to the counter."""

    return_id: str
    at: UtcDateTime
    lines: list[ReturnLine] = Field(description="in the order's product order")
    restock: bool = Field(description="whether the units went back into the store's stock")
    reason: str | None


class StaffOrderReturn(OrderReturn):
    """A return as the store's staff see it: with who took it."""

    by: str | None = Field(description="the label of the staff or admin key that took the return")


class CounterFields(BaseModel):
    """The counter's fields of an order, present on every order answer."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "pickup_person": {"name": "Lucas Peeters"},
                    "locale": "nl",
                    "shortages": [],
                    "arrival": None,
                    "returns": [],
                }
            ]
        }
    )

    pickup_person: PickupPerson | None = Field(
        description="who collects instead of the customer; null when the customer does"
    )
    locale: Locale = Field(description="the language of the messages to the shopper")
    shortages: list[Shortage] = Field(description="lines the store picked short; empty when none")
    arrival: Arrival | None = Field(description="the shopper's arrival check-in; null when none")
    # A Sequence, so that the staff's answers may narrow it to returns that name who took them.
    returns: Sequence[OrderReturn] = Field(description="returns at the counter; empty when none")


# ------------------------------------------------------------------------------------------- returns


class _Line(Protocol):
    @property
    def sku(self) -> str: ...


LineT = TypeVar("LineT", bound=_Line)


def each_sku_once(lines: list[LineT]) -> list[LineT]:
    """The lines of a body that names skus (an order, a return) name each one once."""
    seen: set[str] = set()
    for line in lines:
        if line.sku in seen:
            raise ValueError(f"sku {line.sku!r} appears twice; give it once with the total quantity")
        seen.add(line.sku)
    return lines


MAX_RETURN_LINES = 50


def _reason(value: str) -> str | None:
    if any(not ch.isprintable() for ch in value):
        raise ValueError("reason: printable characters only")
    return value or None


ReturnReason = Annotated[
    str, StringConstraints(strip_whitespace=True, max_length=200), AfterValidator(_reason)
]
"""Why the shopper brought the units back, in the clerk's words; blank is no reason."""


class ReturnLineIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sku: Sku
    quantity: StrictInt = Field(ge=1, le=99, description="units brought back")


class ReturnIn(BaseModel):
    """Units of a collected order brought back to the counter."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"lines": [{"sku": "WP-100234", "quantity": 1}], "restock": True, "reason": "te groot"},
                {"lines": [{"sku": "WP-100234", "quantity": 1}], "restock": False, "reason": "damaged"},
            ]
        },
    )

    lines: list[ReturnLineIn] = Field(min_length=1, max_length=MAX_RETURN_LINES)
    restock: StrictBool = Field(
        description="true: the units go back into the store's stock; false: they are written off"
    )
    reason: ReturnReason | None = Field(default=None, description="at most 200 printable characters")

    _each_sku_once = field_validator("lines")(each_sku_once)

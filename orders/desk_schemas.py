"""API models of the shopper's arrival check-in, the store's arrivals list and the desk's event stream
(API.md, "At the counter")."""

from __future__ import annotations

import enum
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StrictInt,
    StringConstraints,
    ValidationInfo,
    field_validator,
)

from orders.counter_schemas import ArrivalPlace, ArrivalStatus
from orders.schemas import _STAFF_ORDER_EXAMPLE, StaffOrder
from retail.clock import UtcDateTime

ETA_MAX_MINUTES = 720
"""The furthest a shopper on the way may say they are: twelve hours (a promise for later is no check-in)."""


def _bay_text(value: str) -> str:
    # Shown on the desk's screen as it is: printable text only, and no markup.
    if any(not ch.isprintable() for ch in value):
        raise ValueError("printable characters only")
    if any(ch in "<>" for ch in value):
        raise ValueError("no < or >")
    return value


Bay = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=20), AfterValidator(_bay_text)
]


class ArrivalIn(BaseModel):
    """The shopper's check-in: on the way (with the minutes until arrival), or arrived (where)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"status": "on_the_way", "eta_minutes": 10},
                {"status": "arrived", "where": "curbside", "bay": "4"},
                {"status": "arrived", "where": "counter"},
            ]
        },
    )

    status: ArrivalStatus
    eta_minutes: StrictInt | None = Field(
        default=None,
        ge=0,
        le=ETA_MAX_MINUTES,
        validate_default=True,
        description="minutes until the shopper expects to arrive: required while on_the_way, refused once "
        "arrived",
    )
    where: ArrivalPlace | None = Field(
        default=None, description="counter or curbside, if the shopper says; null: not said"
    )
    bay: Bay | None = Field(
        default=None,
        validate_default=True,
        description="the curbside bay or spot, as signposted (with where: curbside only)",
    )

    @field_validator("eta_minutes")
    @classmethod
    def _eta_while_on_the_way(cls, value: int | None, info: ValidationInfo) -> int | None:
        status = info.data.get("status")  # absent: `status` itself was invalid and is reported already
        if status is ArrivalStatus.on_the_way and value is None:
            raise ValueError("eta_minutes is required while on_the_way")
        if status is ArrivalStatus.arrived and value is not None:
            raise ValueError("an arrived shopper has no eta_minutes")
        return value

    @field_validator("bay")
    @classmethod
    def _bay_at_the_curb(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is not None and "where" in info.data and info.data["where"] is not ArrivalPlace.curbside:
            raise ValueError("a bay goes with where: curbside")
        return value


_ARRIVED_EXAMPLE: dict[str, Any] = {
    **_STAFF_ORDER_EXAMPLE,
    "arrival": {
        "status": "arrived",
        "at": "2026-11-23T16:05:00+00:00",
        "eta": None,
        "where": "curbside",
        "bay": "4",
    },
    "waiting_minutes": 7,
    "handover_overdue": True,
}


class ArrivalItem(StaffOrder):
    """An order whose shopper is on the way or has arrived, as the pick list shows it, and how long the
    shopper has waited."""

    model_config = ConfigDict(json_schema_extra={"examples": [_ARRIVED_EXAMPLE]})

    waiting_minutes: int | None = Field(
        description="whole minutes since the shopper arrived; null while on the way"
    )
    handover_overdue: bool = Field(
        description="arrived longer ago than the store's handover_minutes; false while on the way"
    )


class ArrivalPage(BaseModel):
    items: list[ArrivalItem] = Field(
        description="arrived first (earliest arrival first), then on the way (earliest eta first)"
    )
    next_cursor: None = Field(description="always null: the list is whole (at most 200 orders)")


# ---------------------------------------------------------------------------------------- desk events


class DeskEventType(enum.StrEnum):
    """What a store's desk hears about. A new kind is one member here and one `desk_events.emit` call
    where it happens."""

    order_reserved = "order.reserved"
    order_cancelled = "order.cancelled"
    order_arrival = "order.arrival"
    order_late = "order.late"
    transfer_incoming = "transfer.incoming"


class DeskEventOut(BaseModel):
    """The `data:` of one event of the desk's stream."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "type": "order.reserved",
                    "order_id": "ord_4kP9x2QmZ7bT1vR8sLw3Ne",
                    "at": "2026-11-23T14:02:12Z",
                }
            ]
        }
    )

    type: DeskEventType
    order_id: str | None
    at: UtcDateTime

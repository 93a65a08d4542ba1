"""The service report's answer (API.md, "Promises kept, and seen to be kept"): one item per store and day,
or per store over the whole range. Each figure's definition is in `orders.report` and the README."""

from __future__ import annotations

import enum
from datetime import date

from pydantic import BaseModel, Field


class ReportGroup(enum.StrEnum):
    day = "day"  # an item per store and day (in the store's zone) with orders
    store = "store"  # an item per store over the whole range, `day` null


class ServiceReportItem(BaseModel):
    store_code: str
    day: date | None = Field(description="the day the orders were placed, in the store's zone; null by store")
    orders: int = Field(description="orders placed, rejected ones included")
    rejected: int = Field(
        description="of those, rejected (out of stock when reserved, or nothing on the shelf)"
    )
    short_picked: int = Field(description="of those, picked with fewer units than ordered on some line")
    ready_on_time_pct: float | None = Field(
        description="of those made ready, the percentage ready by the first promised ready_by; null if none"
    )
    minutes_to_ready_p50: float | None = Field(description="median minutes from reserved to ready")
    minutes_to_ready_p90: float | None = Field(description="90th percentile minutes from reserved to ready")
    expired_pct: float | None = Field(
        description="of those made ready, the percentage never collected (expired); null if none"
    )
    handover_minutes_p50: float | None = Field(
        description="median minutes from the shopper's arrival check-in to the hand-over"
    )
    returns: int = Field(description="returns taken at the counter for those orders")


class ServiceReport(BaseModel):
    items: list[ServiceReportItem]


CSV_COLUMNS = tuple(ServiceReportItem.model_fields)
"""The CSV form's header, in the JSON items' order."""

"""Query parameters and conversions shared by the shopper routers."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import Query

from retail import ratelimit
from retail.clock import utcnow
from retail.errors import InvalidInput, problem_responses
from retail.settings import get_settings

# Every shopper route counts against its client address: the app is public, and one client hammering the
# nearest-store search or order endpoints must not take the service from everyone else.
SHOPPER_RATE_LIMIT = ratelimit.per_client("shopper", lambda: get_settings().shopper_requests_per_minute)
SHOPPER_RESPONSES = problem_responses(429)

AtQuery = Annotated[
    datetime | None,
    Query(description="evaluate opening hours at this instant (RFC 3339 with offset) instead of now"),
]
Lat = Annotated[float, Query(ge=-90, le=90, allow_inf_nan=False, examples=[52.37])]
Lon = Annotated[float, Query(ge=-180, le=180, allow_inf_nan=False, examples=[4.89])]
StoreLimit = Annotated[int, Query(ge=1, le=50, description="how many of the nearest stores")]
RadiusKm = Annotated[
    float | None, Query(gt=0, le=20_100, allow_inf_nan=False, description="only stores within this distance")
]


def instant(at: datetime | None) -> datetime:
    """The instant a request asks about: `at`, which must carry an offset, or now."""
    if at is None:
        return utcnow()
    if at.tzinfo is None:
        raise InvalidInput("give an offset, e.g. 2026-11-23T18:00:00+01:00", field="query.at")
    return at

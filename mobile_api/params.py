"""Query parameters and conversions shared by the shopper routers: the rate limit, the point a request
asks about (`lat` and `lon`, checked in one place), the instant (`at`), the bounds of `limit` and
`radius_km`, `allow_transfer`, and the token a shopper shows for what is hers (an order, a stock alert)."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Annotated, Any, NamedTuple

from fastapi import Depends, Query
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BeforeValidator

from retail import ratelimit
from retail.clock import utcnow
from retail.errors import InvalidInput, problem_responses
from retail.settings import get_settings
from stores import service as stores_service

# Every shopper route counts against its client address: the app is public, and one client hammering the
# nearest-store search or order endpoints must not take the service from everyone else.
SHOPPER_RATE_LIMIT = ratelimit.per_client("shopper", lambda: get_settings().shopper_requests_per_minute)
SHOPPER_RESPONSES = problem_responses(ratelimit.RateLimited)

AtQuery = Annotated[
    datetime | None,
    BeforeValidator(lambda value: _rfc3339(value)),
    Query(
        description="evaluate opening hours at this instant (RFC 3339 with offset) instead of now",
        examples=["2026-11-23T18:00:00+01:00"],
    ),
]
Lat = Annotated[float, Query(ge=-90, le=90, allow_inf_nan=False, examples=[52.37])]
Lon = Annotated[float, Query(ge=-180, le=180, allow_inf_nan=False, examples=[4.89])]
StoreLimit = Annotated[int, Query(ge=1, le=50, description="how many of the nearest stores")]
RadiusKm = Annotated[
    float | None, Query(gt=0, le=20_100, allow_inf_nan=False, description="only stores within this distance")
]

AllowTransfer = Annotated[
    bool,
    Query(
        description="true: a store that lacks the goods but can get them by transfer from one other store "
        "or warehouse is shown with the promise an `allow_transfer` order placed now would get "
        "(false: stock on the store's own shelves only)"
    ),
]


class Point(NamedTuple):
    lat: float
    lon: float


def point(lat: float | None, lon: float | None) -> Point | None:
    """The point a request names with `lat` and `lon`, or None when it gives neither: one without the other
    is a 422 naming the missing one. Every route that takes a point checks it here."""
    if lat is None and lon is None:
        return None
    if lat is None or lon is None:
        raise InvalidInput("lat and lon go together", field="query.lon" if lon is None else "query.lat")
    return Point(lat, lon)


# An RFC 3339 date-time, so pydantic's lenient forms (a number of seconds since 1970, a bare date) fail.
_RFC3339 = re.compile(r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?([Zz]|[+-]\d{2}:\d{2})?")


def _rfc3339(value: object) -> object:
    if isinstance(value, str) and not _RFC3339.fullmatch(value):
        raise ValueError("an RFC 3339 date-time with an offset, e.g. 2026-11-23T18:00:00+01:00")
    return value


def instant(at: datetime | None) -> datetime:
    """The instant a request asks about: `at`, which must carry an offset and lie within the years that
    opening hours are computed for, or now."""
    if at is None:
        return utcnow()
    if at.tzinfo is None:
        raise InvalidInput("give an offset, e.g. 2026-11-23T18:00:00+01:00", field="query.at")
    today = utcnow().date()
    earliest, latest = stores_service.hours_date_bounds(today)
    if not earliest <= at.date() <= latest:
        raise InvalidInput(f"at must lie between {earliest} and {latest}", field="query.at")
    return at


# A token may come as a query parameter instead, and a missing one answers 404 like a wrong one (the
# existence of what it opens never leaks), so the document lists "no credentials" as an alternative
# rather than promising a 401.
TOKEN_OPTIONAL: dict[str, Any] = {"security": [{}]}


def shopper_token(*, scheme_name: str, name: str, of: str) -> Callable[..., Awaitable[str | None]]:
    """The dependency (for `Depends`) of a shopper's own token, `name` (`order_token`, the token of `of`):
    the bearer header, or the query parameter of that name, which wins when both are sent (an app may send
    a key of its own in every request's header); None when neither is."""
    bearer = HTTPBearer(auto_error=False, scheme_name=scheme_name, description=f"{of}'s `{name}`")

    # Defaults rather than `Annotated`: this module's annotations are strings, which FastAPI resolves in the
    # module's namespace, where this function's own `bearer` and `name` are not.
    async def token(
        credentials: HTTPAuthorizationCredentials | None = Depends(bearer),
        in_query: str | None = Query(
            None, alias=name, max_length=100, description="alternative to the header"
        ),
    ) -> str | None:
        if in_query is not None:
            return in_query
        return credentials.credentials if credentials is not None else None

    return token

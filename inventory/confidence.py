"""Stock confidence (contract "Stock confidence"), the pure rule: how far a shopper may trust a store's
count of a sku, from when it was counted and how often the store picked short lately.

- `low` when the count is over `STALE` (30 days) old, or the store short-picked over `SHORT_SHARE` (a
  fifth) of its orders in the last 28 days;
- else `medium` when the count is over `AGING` (7 days) old;
- else `high`.
"Over" is strict: a count exactly 7 days old is still `high`, exactly 30 days `medium`, a store that
short-picked exactly a fifth is not `low` for it. With `low` confidence an `in_stock` answer says
`limited_availability`; the other answers stay as they are.
"""

from __future__ import annotations

import enum
from datetime import UTC, datetime, timedelta
from fractions import Fraction

from inventory.schemas import StockStatus

AGING = timedelta(days=7)
STALE = timedelta(days=30)
SHORT_SHARE = Fraction(1, 5)


class Confidence(enum.StrEnum):
    high = "high"
    medium = "medium"
    low = "low"


def confidence(*, as_of: datetime, now: datetime, short_picked: int, orders: int) -> Confidence:
    """The confidence of a count made at `as_of`, at a store that short-picked `short_picked` of its
    `orders` in the last 28 days (a store without orders has picked nothing short)."""
    age = now.astimezone(UTC) - as_of.astimezone(UTC)
    if age > STALE or (orders > 0 and Fraction(short_picked, orders) > SHORT_SHARE):
        return Confidence.low
    if age > AGING:
        return Confidence.medium
    return Confidence.high


def shown_status(status: StockStatus, level: Confidence) -> StockStatus:
    """The stock status a shopper sees: `in_stock` is only `limited_availability` with low confidence."""
    if status == StockStatus.in_stock and level == Confidence.low:
        return StockStatus.limited_availability
    return status

"""How far a shopper may trust a store's stock figure (API.md, "Stock confidence"): a pure rule over the
age of the store's last count of the sku and how often the store found its shelf short lately.

- `low`: the sku was never counted at the store, or its last count is more than 30 days old, or the store
  picked more than a fifth of its picked orders of the last 28 days short;
- `medium`: otherwise, when the last count is more than 7 days old;
- `high`: otherwise.

Exactly 7 days old is still `high`, exactly 30 days `medium`, a share of exactly a fifth not `low`. A store
with no picked orders in 28 days has no share, and only the count's age counts. An `in_stock` answer of
`low` confidence says `limited_availability`: a shopper should not make a trip on it.
"""

from __future__ import annotations

import enum
from datetime import datetime, timedelta

from inventory.schemas import StockStatus
from retail.clock import utcnow

FRESH_FOR = timedelta(days=7)
STALE_AFTER = timedelta(days=30)
SHORT_PICK_SHARE_LIMIT = 0.2


def judged_at() -> datetime:
    """The instant stock is judged at: now. A seam of its own because the test suite's counts carry fixed
    dates, and their confidence must not decay with the calendar (tests/conftest.py pins it)."""
    return utcnow()


class Confidence(enum.StrEnum):
    high = "high"
    medium = "medium"
    low = "low"


def stock_confidence(as_of: datetime | None, *, now: datetime, short_pick_share: float | None) -> Confidence:
    """The confidence of a stock figure counted at `as_of` (None: never counted), at a store whose share
    of short-picked orders is `short_pick_share` (None: not measured)."""
    if as_of is None or now - as_of > STALE_AFTER:
        return Confidence.low
    if short_pick_share is not None and short_pick_share > SHORT_PICK_SHARE_LIMIT:
        return Confidence.low
    if now - as_of > FRESH_FOR:
        return Confidence.medium
    return Confidence.high


def trusted_status(status: StockStatus, confidence: Confidence) -> StockStatus:
    """The status a shopper is shown: `in_stock` that cannot be trusted reads `limited_availability`."""
    if status is StockStatus.in_stock and confidence is Confidence.low:
        return StockStatus.limited_availability
    return status

"""When a count or a movement may be dated: the one window every sync path applies (the JSON rows and the
CSV read row by row in Python, the CSV's COPY path in SQL).

A count from the future would make every real count until then stale, and a movement from the future
would be added on top of every count until then; a date before 2000 is a wrong date.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Final

# The clocks of tills and the webshop run a little ahead of the server's now and then; more than this is
# a wrong date (2099 for 2025), refused per row with `invalid_date`.
MAX_CLOCK_SKEW: Final = timedelta(minutes=5)
EARLIEST_INSTANT: Final = datetime(2000, 1, 1, tzinfo=UTC)
TOO_LATE: Final = (
    f"lies more than {MAX_CLOCK_SKEW.total_seconds() / 60:g} minutes ahead of the server's clock"
)
TOO_EARLY: Final = f"lies before {EARLIEST_INSTANT.date().isoformat()}"
INSTANT_RULE: Final = (
    f"RFC 3339 with an offset, from {EARLIEST_INSTANT.year} on, at most "
    f"{MAX_CLOCK_SKEW.total_seconds() / 60:g} minutes ahead of the server's clock"
)


def instant_window(now: datetime) -> tuple[datetime, datetime]:
    """The first and the last instant a count or a movement may be dated at, by the server's clock `now`."""
    return EARLIEST_INSTANT, now + MAX_CLOCK_SKEW


def instant_problem(value: datetime, *, now: datetime) -> str | None:
    """Why a count's `as_of` or a movement's `at` is refused, or None."""
    earliest, latest = instant_window(now)
    if value > latest:
        return TOO_LATE
    if value < earliest:
        return TOO_EARLY
    return None

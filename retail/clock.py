"""The one way to read the time: aware UTC datetimes, so comparisons and storage never mix naive values."""

from __future__ import annotations

from datetime import UTC, datetime


def utcnow() -> datetime:
    return datetime.now(UTC)

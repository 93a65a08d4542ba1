"""The one way to read the time: aware UTC datetimes, so comparisons and storage never mix naive values."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from pydantic import AfterValidator


def utcnow() -> datetime:
    return datetime.now(UTC)


def as_aware_utc(value: datetime | str) -> datetime:
    """A timestamp read back from the database, aware: SQLite keeps no offset (naive, written as UTC) and
    answers raw SQL with text."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


# An instant in an answer: rendered RFC 3339 with its offset whichever database it was read from.
UtcDateTime = Annotated[datetime, AfterValidator(as_aware_utc)]

"""How a shopper is reached: an email address as the service accepts it, and the language written in.

Kept in the kernel because more than one domain writes to shoppers: orders (their order's messages) and
inventory (back-in-stock alerts)."""

from __future__ import annotations

import enum
from typing import Annotated

from pydantic import StringConstraints

from retail.errors import described_pattern

Email = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True,
        max_length=254,
        pattern=described_pattern(
            r"^[^@\s<>\"()\[\],;:\x00-\x1f\x7f]+@[^@\s<>\"()\[\],;:\x00-\x1f\x7f]+\.[A-Za-z]{2,}$",
            "not a valid email address",
        ),
    ),
]
"""An email address: one @, a dotted domain, nothing a mail header or a page could be made to misread."""


class Locale(enum.StrEnum):
    """The language of the messages to the shopper."""

    nl = "nl"
    en = "en"

    @classmethod
    def default_for(cls, country: str) -> Locale:
        """The language of a store's country, for an order that names none: the contract's rule."""
        return cls.nl if country.upper() in ("NL", "BE") else cls.en

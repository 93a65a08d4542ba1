"""Barcodes of the demo catalogue: unique GTINs with valid check digits, a GS1 company prefix per brand
(its country prefix from `data/brands.csv`), then item references."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final, Literal

from demo.hashing import stable_hash
from inventory.codes import gtin_check_digit


def _with_check_digit(digits: str) -> str:
    return digits + str(gtin_check_digit(digits))


class Barcodes:
    """Hands out unique GTINs: a GS1 company prefix per brand, then consecutive item references."""

    # Multiplying by a prime spreads consecutive numbers over the whole range (a bijection modulo the
    # range, so no two brands or items share a number) and makes the barcodes look less sequential.
    SPREAD: Final = 7919

    def __init__(self, country_prefixes: Mapping[str, str]) -> None:
        """`country_prefixes`: brand -> the GS1 country prefix of its barcodes ("87", "54")."""
        self._country_prefixes = country_prefixes
        self._companies: dict[str, str] = {}
        self._items: dict[str, int] = {}
        self._short_items = 0

    def _company(self, brand: str) -> str:
        """The brand's 7-digit company prefix: its country prefix, then 5 digits."""
        if brand not in self._companies:
            number = 10_000 + (len(self._companies) * self.SPREAD + 4_321) % 90_000
            self._companies[brand] = f"{self._country_prefixes[brand]}{number:05d}"
        return self._companies[brand]

    def _gtin13_body(self, brand: str) -> str:
        """Twelve digits (company prefix and item reference) of the brand's next GTIN-13."""
        count = self._items.get(brand, 0)
        self._items[brand] = count + 1
        item = (count * self.SPREAD + stable_hash(brand)) % 100_000
        return f"{self._company(brand)}{item:05d}"

    def next(self, brand: str, length: Literal[8, 13, 14]) -> str:
        if length == 8:
            # GTIN-8s come from the national GS1 office's own range, not from a company prefix.
            self._short_items += 1
            return _with_check_digit(f"87{(self._short_items * self.SPREAD) % 100_000:05d}")
        body = self._gtin13_body(brand)
        if length == 14:
            # Indicator digit 1: a fixed-quantity trade unit of the (unlisted) single item `body`.
            return _with_check_digit("1" + body)
        return _with_check_digit(body)

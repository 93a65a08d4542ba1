"""Fixtures the end-to-end fault tests share."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from sqlalchemy import Engine

from retail.settings import Settings
from tests.e2e.stream import OrderStream
from tests.factories import committed_store

STREAM_STORE = "S1"
STREAM_STOCK = {"A": 40, "B": 40, "C": 40, "D": 20}


@dataclass(frozen=True)
class StreamShop:
    """A store, committed for real, for a stream of orders (stream.OrderStream) to run against, and the
    settings of the test database it is in."""

    settings: Settings
    store_code: str
    stock: dict[str, int]

    @property
    def counts(self) -> dict[tuple[str, str], int]:
        """Its snapshot counts, as check_books takes them."""
        return {(self.store_code, sku): n for sku, n in self.stock.items()}

    def order_stream(self, base: str) -> OrderStream:
        """Shoppers ordering its skus from the service at `base` (not started yet)."""
        return OrderStream(base, store_code=self.store_code, skus=list(self.stock))


@pytest.fixture
def stream_shop(pg_engine: Engine, pg_settings: Settings) -> Iterator[StreamShop]:
    with committed_store(pg_engine, STREAM_STORE, STREAM_STOCK):
        yield StreamShop(pg_settings, STREAM_STORE, dict(STREAM_STOCK))

"""Store formats: how a kind of store carries stock (`data/store_formats.json`), and which format each
demo store has, as the store list makes it (never a table of store codes).

A station kiosk, night shop or supermarket-style store is what its opening hours make it; among the other
stores, those of a city with several demo stores are bigger and carry more, store 001 being the city-centre
flagship, and the rest are town stores.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any, Final, Literal

from demo.stores import demo_stores
from demo.tables import json_table

Format = Literal["flagship", "city", "supermarket", "station", "night", "town"]

_TABLE: Final[dict[str, Any]] = json_table("store_formats.json")
# Departments (top-level categories, or full categories) a convenience or grocery format lives on.
CONVENIENCE: Final = frozenset(_TABLE["departments"]["convenience"])
GROCERY: Final = frozenset(_TABLE["departments"]["grocery"])
# Products at or above this price are bulky: small stores have no room for a television or a lounge set.
BULKY_PRICE_CENTS: Final[int] = _TABLE["bulky_price_cents"]
# Towns vary in size; a town store's depth and breadth are scaled by one of these, chosen per store.
TOWN_SIZES: Final[tuple[float, ...]] = tuple(_TABLE["town_sizes"])


@dataclass(frozen=True)
class StoreFormat:
    """How a kind of store carries stock.

    `core` departments are carried at `carry_core`, the rest at `carry_other`; None means every department
    is core. Bulky products are carried at `carry_bulky` at most. `depth` multiplies a product's typical
    shelf quantity.
    """

    depth: float
    carry_core: float
    carry_other: float
    carry_bulky: float
    out_of_stock: float  # share of carried items at 0
    limited: float  # share of carried items at 1 or 2
    core: frozenset[str] | None = None


def _format(entry: dict[str, Any]) -> StoreFormat:
    core = entry.pop("core")
    return StoreFormat(**entry, core=None if core is None else frozenset(_TABLE["departments"][core]))


FORMATS: Final[dict[Format, StoreFormat]] = {
    name: _format(dict(entry)) for name, entry in _TABLE["formats"].items()
}


def city_of(store_code: str) -> str:
    """The "XX-CCC" part of a store code: the country and city."""
    return store_code.rsplit("-", 1)[0]


@cache
def store_formats() -> dict[str, Format]:
    """The demo stores that are not ordinary shops, by code: station kiosks, night shops and
    supermarket-style stores."""
    return {
        code: store.kind
        for code, store in demo_stores().items()
        if store.kind in ("station", "night", "supermarket")
    }


@cache
def multi_store_cities() -> frozenset[str]:
    """The cities ("XX-CCC") with several demo stores."""
    cities = [store.city for store in demo_stores().values()]
    return frozenset(city for city in cities if cities.count(city) > 1)


def store_format(store_code: str) -> Format:
    """The format of a demo store; stores unknown to the store list are treated as town stores."""
    formats = store_formats()
    if store_code in formats:
        return formats[store_code]
    if city_of(store_code) in multi_store_cities():
        return "flagship" if store_code.endswith("-001") else "city"
    return "town"

"""Per-store prices of the demo catalogue: the few percent of (store, product) pairs whose price differs
from the product's `store_price` (the shares and price changes in `data/store_prices.json`).

City-centre stores of the towns where rents are highest are a little dearer on some items, station and
night shops charge convenience prices on food and drugstore items, stores in towns with a big outlet centre
(Lelystad's Batavia Stad, Roosendaal's Rosada, Maasmechelen Village) sell non-food cheaper to compete, and
every store has a few local promotions. The store facts come from the store list (`demo.stores`).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import Any, Final

from demo.catalogue import Product, catalogue
from demo.formats import CONVENIENCE, city_of, store_format
from demo.hashing import fraction, stable_hash
from demo.prices import adjusted, money
from demo.stores import demo_stores
from demo.tables import json_table

_TABLE: Final[dict[str, Any]] = json_table("store_prices.json")
# Promotions are per (store, product), in permille; the other shares are in percent of the products
# concerned. Each price change is a (low, high) fraction.
PROMOTION_PERMILLE: Final[int] = _TABLE["promotion_permille"]
PROMOTION_DISCOUNT: Final[tuple[float, float]] = tuple(_TABLE["promotion_discount"])
OUTLET_SHARE: Final[int] = _TABLE["outlet_share"]
OUTLET_DISCOUNT: Final[tuple[float, float]] = tuple(_TABLE["outlet_discount"])
CONVENIENCE_SHARE: Final[int] = _TABLE["convenience_share"]
CONVENIENCE_MARKUP: Final[tuple[float, float]] = tuple(_TABLE["convenience_markup"])
PREMIUM_SHARE: Final[int] = _TABLE["premium_share"]
PREMIUM_MARKUP: Final[tuple[float, float]] = tuple(_TABLE["premium_markup"])


@cache
def _high_rent_cities() -> frozenset[str]:
    return frozenset(store.city for store in demo_stores().values() if store.high_rent)


@cache
def _outlet_stores() -> frozenset[str]:
    return frozenset(code for code, store in demo_stores().items() if store.outlet_town)


def _store_override(
    store_code: str, product: Product, *, convenience_prices: bool, city_premium: bool, outlet: bool
) -> int | None:
    """The store's own price for the product, or None when it sells at the product's store price."""
    pair = stable_hash(store_code, product.sku)
    if pair % 1000 < PROMOTION_PERMILLE:
        factor = 1 - fraction(pair >> 10, *PROMOTION_DISCOUNT)
    elif outlet and product.department != "Eten & drinken" and (pair >> 10) % 100 < OUTLET_SHARE:
        factor = 1 - fraction(pair >> 16, *OUTLET_DISCOUNT)
    elif convenience_prices and product.department in CONVENIENCE:
        if (pair >> 10) % 100 >= CONVENIENCE_SHARE:
            return None
        factor = 1 + fraction(pair >> 16, *CONVENIENCE_MARKUP)
    elif city_premium and (pair >> 10) % 100 < PREMIUM_SHARE:
        factor = 1 + fraction(pair >> 16, *PREMIUM_MARKUP)
    else:
        return None
    price = adjusted(product.store_cents, factor, pair)
    if price == product.store_cents or (factor < 1) != (price < product.store_cents):
        return None  # rounding to a shelf price undid the change
    return price


def demo_store_prices(store_codes: Sequence[str]) -> list[dict[str, Any]]:
    """Per-store price overrides for the given stores (a few percent of all pairs); the same every call.
    A pair without a row sells at the product's `store_price`."""
    rows: list[dict[str, Any]] = []
    products = catalogue()
    for store_code in dict.fromkeys(store_codes):  # a pair must not get two rows
        fmt = store_format(store_code)
        convenience = fmt in ("station", "night")
        premium = city_of(store_code) in _high_rent_cities() and fmt in ("flagship", "city")
        outlet = store_code in _outlet_stores()
        for product in products:
            price = _store_override(
                store_code, product, convenience_prices=convenience, city_premium=premium, outlet=outlet
            )
            if price is not None:
                rows.append({"store_code": store_code, "sku": product.sku, "price": money(price)})
    return rows

"""How the demo prices things: shelf-price rounding, the default in-store price against the online price,
and money in the sync contract's shape (the shares in `data/catalogue.json`)."""

from __future__ import annotations

from typing import Any

from demo.hashing import fraction
from demo.tables import json_table


def _catalogue_settings() -> dict[str, Any]:
    settings: dict[str, Any] = json_table("catalogue.json")
    return settings


def shelf_price(euros: float, salt: int) -> int:
    """`euros` rounded to a price as seen on a shelf, in cents: 1.29, 2.49, 14.99, 24.95, 129.99, 229.00."""
    settings = _catalogue_settings()
    lowest, highest = settings["min_price_cents"], settings["max_price_cents"]
    cents = round(euros * 100)
    if cents < 100:
        price = max(lowest, (cents + 5) // 10 * 10 - 1)  # 0.49, 0.59 ... 0.99
    elif cents < 1000:
        euro = cents // 100
        endings = (29, 49, 79, 99)
        candidates = [euro * 100 + ending for ending in endings] + [euro * 100 - 1]
        price = min(candidates, key=lambda candidate: abs(candidate - cents))
    elif cents < 10000:
        price = (cents + 25) // 50 * 50 - 1  # x.49 or x.99
        if price % 100 == 99 and salt % 5 == 0:
            price -= 4  # some shops prefer x.95
    else:
        tens = (cents + 500) // 1000 * 1000
        price = tens - (100 if salt % 4 == 0 else 1)  # 229.00 or 229.99
    return int(min(highest, max(lowest, price)))


def adjusted(cents: int, factor: float, salt: int) -> int:
    """`cents` times `factor`, rounded to a shelf price."""
    return shelf_price(cents * factor / 100, salt)


def default_store_price(online: int, salt: int) -> int:
    """The default in-store price: mostly the online price, sometimes a surcharge or a store discount."""
    settings = _catalogue_settings()
    surcharge, discount = settings["store_surcharge_percent"], settings["store_discount_percent"]
    roll = salt % 100
    if roll < surcharge:
        dearer = adjusted(online, 1 + fraction(salt >> 8, 0.04, 0.12), salt)
        return dearer if dearer > online else online
    if roll < surcharge + discount:
        cheaper = adjusted(online, 1 - fraction(salt >> 8, 0.05, 0.15), salt)
        return cheaper if cheaper < online else online
    return online


def money(cents: int) -> dict[str, str]:
    return {"amount": f"{cents // 100}.{cents % 100:02d}", "currency": _catalogue_settings()["currency"]}

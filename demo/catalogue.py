"""The demo catalogue: about 2,400 products of a general-merchandise, household, drugstore and
food-and-drink assortment, in the webshop sync contract's JSON shape.

Product lines (`data/product_lines.json`: a brand list, a name template and up to two variant axes such as
size and colour) are expanded combinatorially, so the table stays readable while the catalogue is big
enough to make search and paging meaningful. A line's `name` and `description` are templates with the
fields {brand}, {a} and {b}; `price` is the base price in euros, multiplied by the options' factors (an
option is a label or [label, factor]) and, when the line has several brands, by the brand's factor
(`data/brands.csv`), then rounded to a shelf price. `gtin` is the barcode length: 8 for small items
(chewing gum, lip balm), 14 for trade units sold as they are (crates and trays), otherwise 13.
`data/special_products.csv` adds products whose names a name search must treat as text, not as
wildcards or quoting: `%`, `_`, apostrophes and double quotes.

Everything is derived from the tables and from CRC-32 hashes of the skus: every call returns the same rows.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from typing import Any, Final, Literal

from demo.barcodes import Barcodes
from demo.hashing import stable_hash
from demo.prices import default_store_price, money, shelf_price
from demo.tables import csv_table, json_table

_SETTINGS: Final[dict[str, Any]] = json_table("catalogue.json")
HOUSE_BRAND: Final[str] = _SETTINGS["house_brand"]

# A variant: its label, or [label, price factor against the line's base price].
Option = str | list[Any]


@dataclass(frozen=True)
class Product:
    sku: str
    ean: str
    name: str
    brand: str
    description: str
    category: str
    online_cents: int
    store_cents: int
    online_stock: int
    salt: int  # CRC-32 of the sku: drives every per-product choice
    shelf_depth: int  # typical quantity on a store shelf

    @property
    def department(self) -> str:
        return self.category.split(" > ")[0]


@cache
def _brands() -> dict[str, tuple[str, float]]:
    """Brand -> (GS1 country prefix of its barcodes, price factor against the line's base price).

    Belgian companies get 54, everything else 87 (as if registered by the Benelux importer); the house
    brand is the cheapest option, premium brands cost a multiple of the line's base price."""
    return {row["brand"]: (row["gs1_prefix"], float(row["price_factor"])) for row in csv_table("brands.csv")}


def _option(option: Option) -> tuple[str, float]:
    return (option, 1.0) if isinstance(option, str) else (str(option[0]), float(option[1]))


def _tidy(text: str) -> str:
    """Collapses the double spaces an empty option leaves; capitalises a template that starts with {a}."""
    words = " ".join(text.split())
    return words[:1].upper() + words[1:]


def _shelf_depth(cents: int) -> int:
    """Typical shelf quantity: 30 of a cheap item, a handful of a €100 one, one or two televisions."""
    return max(2, min(30, round(60 / math.pow(cents / 100, 0.45))))


def _online_stock(salt: int, depth: int) -> int:
    roll = (salt >> 4) % 100
    if roll < _SETTINGS["online_sold_out_percent"]:
        return 0
    spread = (salt >> 12) & 0xFFFF
    # Squaring a uniform number skews it low: most products have modest stock, a few have a lot.
    return int(min(_SETTINGS["max_online_stock"], 1 + (spread * spread >> 16) * depth * 20 // 0x10000))


def _product(
    number: int, ean: str, brand: str, name: str, description: str, category: str, euros: float
) -> Product:
    sku = f"{_SETTINGS['sku_prefix']}{number}"
    salt = stable_hash(sku)
    online = shelf_price(euros, salt)
    depth = _shelf_depth(online)
    return Product(
        sku=sku,
        ean=ean,
        name=name,
        brand=brand,
        description=description,
        category=category,
        online_cents=online,
        store_cents=default_store_price(online, salt),
        online_stock=_online_stock(salt, depth),
        salt=salt,
        shelf_depth=depth,
    )


def _line_products(line: dict[str, Any]) -> Iterator[tuple[str, str, str, float]]:
    """(brand, name, description, price in euros) of every product of the line."""
    brands: list[str] = line["brands"]
    for brand in brands:
        # A single-brand line's base price is that brand's price; factors compare brands within a line.
        brand_factor = _brands()[brand][1] if len(brands) > 1 else 1.0
        for a_option in line.get("a", [""]):
            a, a_factor = _option(a_option)
            for b_option in line.get("b", [""]):
                b, b_factor = _option(b_option)
                fields = {"brand": brand, "a": a, "b": b}
                name = _tidy(line["name"].format(**fields))
                description = _tidy(line["description"].format(**fields))
                yield brand, name, description, line["price"] * brand_factor * a_factor * b_factor


@cache
def catalogue() -> tuple[Product, ...]:
    """Every demo product, in sku order."""
    barcodes = Barcodes({brand: prefix for brand, (prefix, _) in _brands().items()})
    first = int(_SETTINGS["first_sku_number"])
    products: list[Product] = []
    names: set[str] = set()
    for line in json_table("product_lines.json"):
        length: Literal[8, 13, 14] = line.get("gtin", 13)
        for brand, name, description, euros in _line_products(line):
            if name in names:
                raise ValueError(f"duplicate demo product name {name!r}")
            names.add(name)
            ean = barcodes.next(brand, length)
            products.append(
                _product(first + len(products), ean, brand, name, description, line["category"], euros)
            )
    for row in csv_table("special_products.csv"):
        ean = barcodes.next(row["brand"], 13)
        products.append(
            _product(
                first + len(products),
                ean,
                row["brand"],
                row["name"],
                _SETTINGS["special_description"],
                row["category"],
                float(row["price"]),
            )
        )
    return tuple(products)


def demo_products() -> list[dict[str, Any]]:
    """About 2,400 demo products in the webshop sync's JSON shape; the same on every call."""
    return [
        {
            "sku": product.sku,
            "ean": product.ean,
            "name": product.name,
            "brand": product.brand,
            "description": product.description,
            "image_url": _SETTINGS["image_url"].format(sku=product.sku),
            "category": product.category,
            "online_price": money(product.online_cents),
            "store_price": money(product.store_cents),
            "online_stock": product.online_stock,
        }
        for product in catalogue()
    ]

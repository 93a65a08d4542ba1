"""A product as the shopper's reads show it (one product, the search's pages, availability and prices):
plain values read by Core statements. Loading the ORM entity cost more than the query did (README,
Benchmarks)."""

from __future__ import annotations

from dataclasses import dataclass, fields
from decimal import Decimal

from sqlalchemy import Table

from inventory.models import Product

_PRODUCTS: Table = Product.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True, slots=True)
class ProductCard:
    """One product's row, as far as a shopper sees it."""

    id: int
    sku: str
    ean: str | None
    name: str
    brand: str
    description: str
    image_url: str | None
    category: str
    currency: str
    online_price: Decimal
    store_price: Decimal
    online_stock: int


#: The columns of a `ProductCard`, in its fields' order, for the statements that read cards.
CARD_COLUMNS = tuple(_PRODUCTS.c[field.name] for field in fields(ProductCard))

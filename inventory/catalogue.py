"""The catalogue and its prices: products and store prices as the webshop pushes them, and the price
lookups (what a product sells at in a store) that the shopper surface and the orders use."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, Select, Subquery, Table, bindparam, func
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from inventory import search
from inventory.cards import CARD_COLUMNS, ProductCard
from inventory.exceptions import ProductNotFound, unknown_sku, unknown_store
from inventory.models import MONEY, Product, StorePrice
from inventory.schemas import ProductIn, StorePriceIn
from retail import dialect
from retail.bulk import BulkResult, RowError, validate_rows
from retail.clock import utcnow
from stores import service as stores_service

PRODUCTS: Table = Product.__table__  # type: ignore[attr-defined]
STORE_PRICES: Table = StorePrice.__table__  # type: ignore[attr-defined]
# Codes and skus looked up per query.
_CHUNK = 1000

_ROW_CODES = {
    "sku": "invalid_sku",
    "ean": "invalid_ean",
    "store_code": "invalid_store_code",
    "online_price": "invalid_price",
    "store_price": "invalid_price",
    "price": "invalid_price",
}


def _row_code(field: str) -> str:
    return _ROW_CODES.get(field.split(".", 1)[0], "invalid_row")


# ---------------------------------------------------------------------------------------------- writes


def upsert_products(session: Session, *, rows: Sequence[Any]) -> BulkResult:
    """Insert or update products by `sku`; rows with errors are reported by index, the rest apply."""
    valid, errors = validate_rows(rows, ProductIn, error_code=_row_code)
    unique: dict[str, tuple[int, ProductIn]] = {}
    for index, product in valid:
        if product.sku in unique:
            errors.append(
                RowError(
                    index=index,
                    code="duplicate_sku",
                    detail=f"sku: {product.sku!r} repeats row {unique[product.sku][0]}",
                )
            )
        else:
            unique[product.sku] = (index, product)
    accepted = _drop_ean_conflicts(session, list(unique.values()), errors)
    if accepted:
        now = utcnow()
        values = [
            {
                "sku": p.sku,
                "ean": p.ean,
                "name": p.name,
                "search_name": search.fold(p.name),
                "search_words": search.search_words(p.name, p.brand or "", p.ean),
                # The catalogue keeps a text the webshop gave none of (null or left out) as "".
                "brand": p.brand or "",
                "description": p.description or "",
                "image_url": p.image_url,
                "category": p.category or "",
                "currency": p.online_price.currency,
                "online_price": p.online_price.amount,
                "store_price": (p.store_price or p.online_price).amount,
                "online_stock": p.online_stock,
                "updated_at": now,
            }
            for _, p in accepted
        ]
        statement = dialect.insert(session, PRODUCTS)
        updated = {c: statement.excluded[c] for c in values[0] if c != "sku"}
        session.connection().execute(
            statement.on_conflict_do_update(index_elements=["sku"], set_=updated), values
        )
    errors.sort(key=lambda e: e.index)
    return BulkResult(applied=len(accepted), errors=errors)


def _drop_ean_conflicts(
    session: Session, candidates: list[tuple[int, ProductIn]], errors: list[RowError]
) -> list[tuple[int, ProductIn]]:
    """An EAN identifies one product: refuse a row whose EAN belongs to another sku, here or stored."""
    owners: dict[str, str] = {}
    eans = [p.ean for _, p in candidates if p.ean]
    for start in range(0, len(eans), _CHUNK):
        chunk = eans[start : start + _CHUNK]
        owners.update(
            session.execute(select(Product.ean, Product.sku).where(col(Product.ean).in_(chunk))).all()
        )
    claimed: dict[str, str] = {}
    accepted = []
    for index, product in candidates:
        if product.ean:
            owner = claimed.get(product.ean) or owners.get(product.ean)
            if owner is not None and owner != product.sku:
                errors.append(
                    RowError(
                        index=index,
                        code="duplicate_ean",
                        detail=f"ean: {product.ean} belongs to sku {owner!r}",
                    )
                )
                continue
            claimed[product.ean] = product.sku
        accepted.append((index, product))
    return accepted


def upsert_store_prices(session: Session, *, rows: Sequence[Any]) -> BulkResult:
    """Store prices overriding a product's `store_price` per (store, sku)."""
    valid, errors = validate_rows(rows, StorePriceIn, error_code=_row_code)
    store_ids = _store_ids(session, {p.store_code for _, p in valid})
    product_ids = _product_ids(session, {p.sku for _, p in valid})
    values: dict[tuple[int, int], dict[str, Any]] = {}
    now = utcnow()
    applied = 0
    for index, price in valid:
        store_id, product_id = store_ids.get(price.store_code), product_ids.get(price.sku)
        if store_id is None:
            errors.append(unknown_store(index, price.store_code))
        elif product_id is None:
            errors.append(unknown_sku(index, price.sku))
        else:
            applied += 1
            # The last price given for a (store, sku) in a batch is the one that stands.
            values[store_id, product_id] = {
                "store_id": store_id,
                "product_id": product_id,
                "price": price.price.amount,
                "updated_at": now,
            }
    if values:
        statement = dialect.insert(session, STORE_PRICES)
        session.connection().execute(
            statement.on_conflict_do_update(
                index_elements=["store_id", "product_id"],
                set_={"price": statement.excluded.price, "updated_at": statement.excluded.updated_at},
            ),
            list(values.values()),
        )
    errors.sort(key=lambda e: e.index)
    return BulkResult(applied=applied, errors=errors)


def _store_ids(session: Session, codes: Iterable[str]) -> dict[str, int]:
    stores = stores_service.store_keys().subquery("st")
    wanted = sorted(codes)
    found: dict[str, int] = {}
    for start in range(0, len(wanted), _CHUNK):
        chunk = wanted[start : start + _CHUNK]
        found.update(
            session.execute(sa_select(stores.c.code, stores.c.id).where(stores.c.code.in_(chunk))).all()
        )
    return found


def _product_ids(session: Session, skus: Iterable[str]) -> dict[str, int]:
    wanted = sorted(skus)
    found: dict[str, int] = {}
    for start in range(0, len(wanted), _CHUNK):
        chunk = wanted[start : start + _CHUNK]
        found.update(
            session.execute(
                sa_select(col(Product.sku), col(Product.id)).where(col(Product.sku).in_(chunk))
            ).all()
        )
    return found


# ---------------------------------------------------------------------------------------------- reads


_CARD_BY_SKU = sa_select(*CARD_COLUMNS).where(PRODUCTS.c.sku == bindparam("sku"))


def get_product(session: Session, *, sku: str) -> ProductCard:
    row = dialect.first_row(session, _CARD_BY_SKU, {"sku": sku})
    if row is None:
        raise ProductNotFound(sku)
    return ProductCard(*row)


def products_by_sku(session: Session, *, skus: Sequence[str]) -> dict[str, Product]:
    found = session.exec(select(Product).where(col(Product.sku).in_(list(skus)))).all()
    return {p.sku: p for p in found}


def price_at_store(store_id: ColumnElement[int]) -> ColumnElement[Decimal]:
    """What the query's `product` row sells at in store `store_id`: the store's own price where it has
    one, else the product's store price. The one place this rule is written."""
    own = (
        sa_select(STORE_PRICES.c.price)
        .where(STORE_PRICES.c.store_id == store_id, STORE_PRICES.c.product_id == PRODUCTS.c.id)
        .scalar_subquery()
    )
    # The type makes SQLite's float a Decimal again.
    return func.coalesce(own, PRODUCTS.c.store_price, type_=MONEY)


@dataclass(frozen=True)
class PricedProduct:
    product_id: int
    name: str
    price: Decimal


# The labels of the product columns `priced_beside` adds to another domain's rows, after its columns.
_PRICED = ("priced_sku", "priced_product_id", "priced_name", "priced_price")


def priced_beside(stores: Subquery) -> Select[*tuple[Any, ...]]:
    """Each row of `stores` (a query of another domain with an `id` column, narrowed to the stores it
    wants) beside each product of the skus bound as `skus`, priced at that store; a store with none of
    them comes once, with NULL products. One read then answers both "which store" and "which products"
    (an order's placement: its store and its basket in one round trip); `priced_in` reads the products
    back out of the rows."""
    product = PRODUCTS.c
    sku, product_id, name, price = _PRICED
    return sa_select(
        *stores.c,
        product.sku.label(sku),
        product.id.label(product_id),
        product.name.label(name),
        price_at_store(stores.c.id).label(price),
    ).select_from(stores.outerjoin(PRODUCTS, product.sku.in_(bindparam("skus", expanding=True))))


def priced_in(rows: Iterable[Sequence[Any]]) -> dict[str, PricedProduct]:
    """The products of a `priced_beside` read, by sku, with their price in the store."""
    return {
        sku: PricedProduct(int(product_id), name, price)
        for sku, product_id, name, price in (row[-len(_PRICED) :] for row in rows)
        if sku is not None
    }

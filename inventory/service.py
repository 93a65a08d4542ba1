"""Catalogue, prices and stock: the webshop sync and the lookups the shopper surface composes.

Services take the session first and keyword-only arguments, may flush, and never commit.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from functools import partial
from typing import IO, Any

import psycopg
from sqlalchemy import Select, bindparam, text
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session, col, select

from inventory import csv_import, feed, search, stock
from inventory.exceptions import ProductNotFound
from inventory.models import MONEY, Product, Stock, StorePrice
from inventory.schemas import (
    AvailabilityFeed,
    AvailabilityFeedItem,
    MovementResult,
    ProductIn,
    SnapshotResult,
    StorePriceIn,
    available_quantity,
    stock_status,
)
from retail import dialect
from retail.bulk import BulkResult, RowError, validate_rows
from retail.clock import as_aware_utc, utcnow
from stores.models import Store

ONLINE_LOW_STOCK_THRESHOLD = 2
_CHUNK = 1000
# Bytes of a CSV body handed to COPY at a time.
_COPY_CHUNK = 1 << 20


def _row_code(field: str) -> str:
    head = field.split(".", 1)[0]
    return {
        "sku": "invalid_sku",
        "ean": "invalid_ean",
        "store_code": "invalid_store_code",
        "on_hand": "invalid_on_hand",
        "as_of": "invalid_date",
        "at": "invalid_date",
        "delta": "invalid_delta",
        "movement_id": "invalid_movement_id",
        "online_price": "invalid_price",
        "store_price": "invalid_price",
        "price": "invalid_price",
    }.get(head, "invalid_row")


# ----------------------------------------------------------------------------------------- code lookups


class CodeResolver:
    """Store codes and skus to ids, looked up in chunks and remembered for the rest of a request."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.store_ids: dict[str, int | None] = {}
        self.product_ids: dict[str, int | None] = {}

    def resolve(self, store_codes: Iterable[str], skus: Iterable[str]) -> None:
        self._fill(self.store_ids, Store.code, Store.id, store_codes)
        self._fill(self.product_ids, Product.sku, Product.id, skus)

    def _fill(self, known: dict[str, int | None], key: Any, ident: Any, wanted: Iterable[str]) -> None:
        missing = sorted({code for code in wanted if code not in known})
        for start in range(0, len(missing), _CHUNK):
            chunk = missing[start : start + _CHUNK]
            found = dict(self.session.execute(select(key, ident).where(key.in_(chunk))).all())
            for code in chunk:
                known[code] = found.get(code)

    def ids(self, index: int, store_code: str, sku: str) -> tuple[int, int] | RowError:
        store_id = self.store_ids.get(store_code)
        if store_id is None:
            return RowError(index=index, code="unknown_store", detail=f"store_code: no store {store_code!r}")
        product_id = self.product_ids.get(sku)
        if product_id is None:
            return RowError(index=index, code="unknown_sku", detail=f"sku: no product {sku!r}")
        return store_id, product_id


# --------------------------------------------------------------------------------------------- catalogue


def upsert_products(session: Session, *, rows: Sequence[Any]) -> BulkResult:
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
        statement = dialect.insert(session, Product.__table__)  # type: ignore[attr-defined]
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
    valid, errors = validate_rows(rows, StorePriceIn, error_code=_row_code)
    resolver = CodeResolver(session)
    resolver.resolve((p.store_code for _, p in valid), (p.sku for _, p in valid))
    values: dict[tuple[int, int], dict[str, Any]] = {}
    now = utcnow()
    applied = 0
    for index, price in valid:
        ids = resolver.ids(index, price.store_code, price.sku)
        if isinstance(ids, RowError):
            errors.append(ids)
            continue
        applied += 1
        # The last price given for a (store, sku) in a batch is the one that stands.
        values[ids] = {
            "store_id": ids[0],
            "product_id": ids[1],
            "price": price.price.amount,
            "updated_at": now,
        }
    if values:
        statement = dialect.insert(session, StorePrice.__table__)  # type: ignore[attr-defined]
        session.connection().execute(
            statement.on_conflict_do_update(
                index_elements=["store_id", "product_id"],
                set_={"price": statement.excluded.price, "updated_at": statement.excluded.updated_at},
            ),
            list(values.values()),
        )
    errors.sort(key=lambda e: e.index)
    return BulkResult(applied=applied, errors=errors)


def get_product(session: Session, *, sku: str) -> Product:
    product = session.exec(select(Product).where(Product.sku == sku)).first()
    if product is None:
        raise ProductNotFound(sku)
    return product


def products_by_sku(session: Session, *, skus: Sequence[str]) -> dict[str, Product]:
    found = session.exec(select(Product).where(col(Product.sku).in_(list(skus)))).all()
    return {p.sku: p for p in found}


MAX_SEARCH_TERMS = search.MAX_TERMS


def search_terms(q: str) -> list[str]:
    """The distinct words of a shopper's search text, each of which a product must match (none: nothing
    to search for, as in "%" or "--")."""
    return search.words(q)


def search_products(
    session: Session, *, terms: list[str], ean: str | None, limit: int, after: tuple[int, str, int] | None
) -> tuple[list[Product], tuple[int, str, int] | None]:
    """Products with every one of `terms` (each starting a word of the name, brand or EAN; see
    `inventory.search`) and/or with this EAN, most relevant first; answers the page and where the next
    one starts."""
    return search.search(session, terms=terms, ean=ean, limit=limit, after=after)


# ------------------------------------------------------------------------------------------------- stock


@dataclass(frozen=True)
class StockLevel:
    on_hand: int
    reserved: int
    safety_stock: int

    @property
    def available(self) -> int:
        return available_quantity(self.on_hand, self.reserved, self.safety_stock)


NO_STOCK = StockLevel(0, 0, 0)


def stock_levels(
    session: Session, *, store_ids: Sequence[int], product_ids: Sequence[int]
) -> dict[tuple[int, int], StockLevel]:
    """Stock of these products in these stores, by (store_id, product_id); absent pairs have none."""
    if not store_ids or not product_ids:
        return {}
    rows = session.exec(
        select(Stock).where(
            col(Stock.store_id).in_(list(store_ids)), col(Stock.product_id).in_(list(product_ids))
        )
    ).all()
    return {(r.store_id, r.product_id): StockLevel(r.on_hand, r.reserved, r.safety_stock) for r in rows}


def price_at_store(product: str, store_id: str) -> str:
    """SQL for what a product sells at in a store: the store's own price where it has one, else the
    product's store price. `product` names a `product` row in the query, `store_id` is an SQL expression.
    The one place this rule is written: price comparisons and an order's prices both use it."""
    return (
        f"coalesce((SELECT sp.price FROM store_price sp WHERE sp.store_id = {store_id} "
        f"AND sp.product_id = {product}.id), {product}.store_price)"
    )


def store_prices(session: Session, *, product: Product, store_ids: Sequence[int]) -> dict[int, Decimal]:
    """The price of `product` in each of the stores."""
    rows = _priced(
        session,
        f"SELECT st.id, {price_at_store('p', 'st.id')} AS price FROM store st, product p "
        "WHERE p.id = :product AND st.id IN :keys",
        product=product.id,
        keys=list(store_ids),
    )
    return {int(store_id): price for store_id, price in rows}


@dataclass(frozen=True)
class PricedProduct:
    product_id: int
    name: str
    price: Decimal


def priced_at_store(session: Session, *, store_id: int, skus: Sequence[str]) -> dict[str, PricedProduct]:
    """The products of `skus` that exist, by sku, with their price in the store."""
    rows = _priced(
        session,
        f"SELECT p.sku, p.id, p.name, {price_at_store('p', ':store')} AS price FROM product p "
        "WHERE p.sku IN :keys",
        store=store_id,
        keys=list(skus),
    )
    return {sku: PricedProduct(int(product_id), name, price) for sku, product_id, name, price in rows}


def _priced(session: Session, query: str, **params: object) -> Sequence[Any]:
    statement = (
        text(query)
        .bindparams(bindparam("keys", expanding=True))
        # SQLite hands back a float for the bare expression; the column type makes it a Decimal again.
        .columns(price=MONEY)
    )
    return session.execute(statement, params).all()


def online_availability(product: Product) -> tuple[int, str]:
    available = max(0, product.online_stock)
    return available, stock_status(available, ONLINE_LOW_STOCK_THRESHOLD).value


_SNAPSHOT_FIELDS = ("store_code", "sku", "on_hand", "as_of")
_MOVEMENT_FIELDS = ("movement_id", "store_code", "sku", "delta", "at")
_CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,31}")
_SKU = re.compile(r"[A-Za-z0-9][A-Za-z0-9._/-]{0,63}")
_MOVEMENT_ID = re.compile(r"[\x21-\x7e]{1,100}")
_MAX_COUNT = 10_000_000


def _integer(value: object, field: str, low: int, high: int) -> int | str:
    # A JSON integer only: JSON has true and "3" for what they are, and a reader of text (the CSV) turns
    # its fields into numbers itself.
    if isinstance(value, bool):
        return f"{field}: a whole number, not {str(value).lower()}"
    if isinstance(value, str):
        return f"{field}: a whole number, not the string {value[:40]!r}"
    if not isinstance(value, int):
        return f"{field}: a whole number"
    if not low <= value <= high:
        return f"{field}: must lie between {low} and {high}"
    return value


def _instant(value: object, field: str, *, now: datetime) -> datetime | str:
    if not isinstance(value, str) or len(value) > 40:
        return f"{field}: an RFC 3339 timestamp with an offset"
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        return f"{field}: {value!r} is not an RFC 3339 timestamp"
    if parsed.tzinfo is None:
        return f"{field}: give an offset, e.g. {value}+01:00"
    problem = stock.instant_problem(parsed, now=now)
    return f"{field}: {value!r} {problem}" if problem else parsed


def parse_snapshot(index: int, row: dict[str, object], *, now: datetime) -> stock.StagedSnapshot | RowError:
    """One snapshot row (JSON object or CSV record), checked field by field; fast enough for a million.
    `now` is the server's clock, which no count may be dated ahead of (`stock.instant_problem`)."""
    unknown = row.keys() - set(_SNAPSHOT_FIELDS)
    if unknown:
        return RowError(index=index, code="invalid_row", detail=f"{sorted(unknown)[0]}: unknown field")
    store_code, sku = row.get("store_code"), row.get("sku")
    if not (isinstance(store_code, str) and _CODE.fullmatch(store_code)):
        return RowError(index=index, code="invalid_store_code", detail="store_code: a store code")
    if not (isinstance(sku, str) and _SKU.fullmatch(sku)):
        return RowError(index=index, code="invalid_sku", detail="sku: a sku")
    on_hand = _integer(row.get("on_hand"), "on_hand", -_MAX_COUNT, _MAX_COUNT)
    if isinstance(on_hand, str):
        return RowError(index=index, code="invalid_on_hand", detail=on_hand)
    if on_hand < 0:
        return RowError(index=index, code="negative_on_hand", detail="on_hand: a count cannot be negative")
    as_of = _instant(row.get("as_of"), "as_of", now=now)
    if isinstance(as_of, str):
        return RowError(index=index, code="invalid_date", detail=as_of)
    return stock.StagedSnapshot(index, store_code, sku, on_hand, as_of)


def parse_movement(index: int, row: dict[str, object], *, now: datetime) -> stock.StagedMovement | RowError:
    unknown = row.keys() - set(_MOVEMENT_FIELDS)
    if unknown:
        return RowError(index=index, code="invalid_row", detail=f"{sorted(unknown)[0]}: unknown field")
    movement_id, store_code, sku = row.get("movement_id"), row.get("store_code"), row.get("sku")
    if not (isinstance(movement_id, str) and _MOVEMENT_ID.fullmatch(movement_id)):
        return RowError(
            index=index, code="invalid_movement_id", detail="movement_id: 1-100 printable characters"
        )
    if not (isinstance(store_code, str) and _CODE.fullmatch(store_code)):
        return RowError(index=index, code="invalid_store_code", detail="store_code: a store code")
    if not (isinstance(sku, str) and _SKU.fullmatch(sku)):
        return RowError(index=index, code="invalid_sku", detail="sku: a sku")
    delta = _integer(row.get("delta"), "delta", -1_000_000, 1_000_000)
    if isinstance(delta, str):
        return RowError(index=index, code="invalid_delta", detail=delta)
    at = _instant(row.get("at"), "at", now=now)
    if isinstance(at, str):
        return RowError(index=index, code="invalid_date", detail=at)
    return stock.StagedMovement(index, movement_id, store_code, sku, delta, at)


def apply_snapshots(
    session: Session, *, rows: Iterable[tuple[int, dict[str, object] | RowError]]
) -> SnapshotResult:
    """Absolute counts (JSON rows or a CSV stream, as (index, row)), each checked here field by field;
    see `inventory.stock` for the rules. A row a reader could not split into fields arrives as its error."""
    errors: list[RowError] = []
    error_count = 0
    now = utcnow()

    def valid_rows() -> Iterator[stock.StagedSnapshot]:
        nonlocal error_count
        for index, row in rows:
            parsed = row if isinstance(row, RowError) else parse_snapshot(index, row, now=now)
            if isinstance(parsed, RowError):
                error_count += 1
                if len(errors) < stock.MAX_REPORTED_ERRORS:
                    errors.append(parsed)
            else:
                yield parsed

    staged = stock.stage_snapshots(session, valid_rows())
    return _snapshot_result(stock.merge_snapshots(session, checked=True, staged=staged), errors, error_count)


def apply_snapshot_csv(session: Session, *, body: IO[bytes]) -> SnapshotResult:
    """A snapshot CSV of any size, read from `body` (the spooled request body, or a file).

    On PostgreSQL the bytes go straight into COPY and SQL checks and casts them: no Python work per row,
    which is what makes a million rows take seconds. If COPY or a cast meets a row it cannot read, the body
    is read again from the start through the row-by-row path, which names each bad row. SQLite always
    takes the row-by-row path.
    """
    if not stock.is_postgres(session):
        return apply_snapshots(session, rows=csv_import.snapshot_rows(body))
    columns, data = csv_import.split_header(iter(partial(body.read, _COPY_CHUNK), b""))
    try:
        with session.begin_nested():
            staged = stock.stage_snapshot_csv(session, columns, csv_import.without_blank_lines(data))
            merged = stock.merge_snapshots(session, checked=False, staged=staged)
    except (DBAPIError, psycopg.Error) as exc:
        if not stock.is_bad_input(exc):
            raise
        body.seek(0)
        return apply_snapshots(session, rows=csv_import.snapshot_rows(body))
    return _snapshot_result(merged, [], 0)


def _snapshot_result(merged: stock.SnapshotMerge, errors: list[RowError], error_count: int) -> SnapshotResult:
    errors.extend(RowError(index=p.line, code=p.code, detail=p.detail) for p in merged.problems)
    errors.sort(key=lambda e: e.index)
    return SnapshotResult(
        applied=merged.applied,
        stale=merged.stale,
        errors=errors[: stock.MAX_REPORTED_ERRORS],
        errors_omitted=max(0, error_count + merged.problem_count - stock.MAX_REPORTED_ERRORS),
    )


def record_movements(session: Session, *, rows: Sequence[dict[str, object]]) -> MovementResult:
    """Relative changes from the webshop, idempotent by `movement_id`."""
    errors: list[RowError] = []
    staged: list[stock.StagedMovement] = []
    now = utcnow()
    for index, row in enumerate(rows):
        parsed = parse_movement(index, row, now=now)
        if isinstance(parsed, RowError):
            errors.append(parsed)
        else:
            staged.append(parsed)
    stock.stage_movements(session, staged)
    unknown, _ = stock.unknown_codes(session, stock.STAGE_MOVEMENT)
    outcome = stock.merge_movements(session)
    return MovementResult(
        applied=outcome.applied, duplicates=outcome.duplicates, errors=_merge_errors(errors, unknown)
    )


def _merge_errors(errors: list[RowError], unknown: list[stock.UnknownCode]) -> list[RowError]:
    for row in unknown:
        if row.store_known:
            errors.append(RowError(index=row.line, code="unknown_sku", detail=f"sku: no product {row.sku!r}"))
        else:
            errors.append(
                RowError(
                    index=row.line, code="unknown_store", detail=f"store_code: no store {row.store_code!r}"
                )
            )
    errors.sort(key=lambda e: e.index)
    return errors[: stock.MAX_REPORTED_ERRORS]


# --------------------------------------------------------------------------------------------------- feed


def availability_feed(session: Session, *, cursor: str | None, limit: int) -> AvailabilityFeed:
    """Stock rows changed since `cursor`, each in its latest state; the cursor is never null. Followed
    from no cursor until `items` is empty, it serves every change committed before that last page (see
    `inventory.feed`)."""
    page = feed.read_page(session, cursor=feed.FeedCursor.decode(cursor), limit=limit)
    items = []
    for row in page.rows:
        available = available_quantity(row.on_hand, row.reserved, row.safety_stock)
        items.append(
            AvailabilityFeedItem(
                store_code=row.store_code,
                sku=row.sku,
                on_hand=row.on_hand,
                reserved=row.reserved,
                available=available,
                status=stock_status(available, row.low_stock_threshold),
                changed_at=as_aware_utc(row.changed_at),
            )
        )
    return AvailabilityFeed(items=items, next_cursor=page.next_cursor.encode())


# --- shopper lookups
# Price and stock of one product across a set of stores (the nearest ones, or one the shopper named), for
# the shopper's availability and price comparison. Two queries whatever the number of stores: one for the
# stock rows, one for the stores' own prices.


@dataclass(frozen=True)
class StoreOffer:
    """One product in one store: what it costs there and how many can be had."""

    store: Store
    price: Decimal
    available: int
    status: str


def store_offers(session: Session, *, product: Product, stores: Sequence[Store]) -> list[StoreOffer]:
    """`product`'s price and availability in each of `stores`, in the order given. A store without a stock
    row has none; a store without a price of its own charges the product's `store_price`."""
    store_ids = [store.id for store in stores if store.id is not None]
    if product.id is None or not store_ids:
        return []
    levels = stock_levels(session, store_ids=store_ids, product_ids=[product.id])
    prices = store_prices(session, product=product, store_ids=store_ids)
    offers = []
    for store in stores:
        if store.id is None:
            continue
        available = levels.get((store.id, product.id), NO_STOCK).available
        offers.append(
            StoreOffer(
                store=store,
                price=prices[store.id],
                available=available,
                status=stock_status(available, store.low_stock_threshold).value,
            )
        )
    return offers


def cheapest_offer(online_price: Decimal, offers: Sequence[StoreOffer]) -> StoreOffer | None:
    """The store offer cheaper than every other channel, or None when buying online is (jointly) cheapest.

    Ties go online (no trip needed), then to the first offer, so callers pass offers nearest first. Only
    prices count: the shopper compares prices here and sees each channel's availability beside them.
    """
    best: StoreOffer | None = None
    best_price = online_price
    for offer in offers:
        if offer.price < best_price:
            best, best_price = offer, offer.price
    return best


# --- the ledger
# What the order flow asks of stock: reserve baskets, give units back, hand them over, and keep `reserved`
# in step with the orders that hold stock. The one write path is `inventory.stock`.

Quantity = stock.Quantity
BasketOutcome = stock.BasketOutcome
ReservedDrift = stock.ReservedDrift
reserve_baskets = stock.reserve_baskets
release = stock.release
collect = stock.collect

HeldUnits = Select[int, int, int]
"""The units the orders holding stock hold, per stock row: a query of the order flow's own tables that
answers (store_id, product_id, quantity), run inside inventory's statements so that both are read in one
snapshot."""


def _held_sql(session: Session, held: HeldUnits) -> str:
    return str(held.compile(session.get_bind(), compile_kwargs={"literal_binds": True}))


def reserved_drift(session: Session, *, held: HeldUnits) -> list[ReservedDrift]:
    """Stock rows whose `reserved` differs from what the orders hold."""
    return stock.reserved_drift(session, live=_held_sql(session, held))


def repair_reserved(session: Session, *, held: HeldUnits) -> list[ReservedDrift]:
    """Set `reserved` to what the orders hold wherever it drifted; answers what it changed."""
    return stock.repair_reserved(session, live=_held_sql(session, held))

"""What a product can be had for, and how many, at stores and online: the lookups behind the shopper's
availability and price comparison, and the stock checks of the order flow.

Price and stock of one product across a set of stores (the nearest ones, or one the shopper named) take
one query whatever the number of stores.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from functools import lru_cache

from sqlalchemy import Integer, Select, Table, bindparam, func
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from inventory import confidence
from inventory.cards import ProductCard
from inventory.catalogue import PRODUCTS, price_at_store
from inventory.confidence import Confidence, stock_confidence, trusted_status
from inventory.models import Stock
from inventory.schemas import StockStatus, available_quantity, stock_status
from retail import dialect
from retail.clock import as_aware_utc
from stores import service as stores_service
from stores.service import StoreView

STOCK: Table = Stock.__table__  # type: ignore[attr-defined]

ONLINE_LOW_STOCK_THRESHOLD = 2


@dataclass(frozen=True)
class StockLevel:
    on_hand: int
    reserved: int
    safety_stock: int
    # The last absolute count of the row (a snapshot's `as_of`); None: never counted, only moved.
    as_of: datetime | None = None

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
    return {
        (r.store_id, r.product_id): StockLevel(r.on_hand, r.reserved, r.safety_stock, _aware(r.as_of))
        for r in rows
    }


def _aware(value: datetime | str | None) -> datetime | None:
    return None if value is None else as_aware_utc(value)


def online_availability(product: ProductCard) -> tuple[int, StockStatus]:
    available = max(0, product.online_stock)
    return available, stock_status(available, ONLINE_LOW_STOCK_THRESHOLD)


@dataclass(frozen=True)
class StoreOffer:
    """One product in one store: what it costs there and how many can be had."""

    store: StoreView
    price: Decimal
    available: int
    status: StockStatus  # as the shopper is shown it: with the confidence (`inventory.confidence`)
    as_of: datetime | None
    confidence: Confidence


def store_offers(session: Session, *, product: ProductCard, stores: Sequence[StoreView]) -> list[StoreOffer]:
    """`product`'s price and availability in each of `stores` (as `stores.service` gives them), in the
    order given. A store without a stock row has none; a store without a price of its own charges the
    product's `store_price`."""
    store_ids = [store.id for store in stores if store.id is not None]
    if product.id is None or not store_ids:
        return []
    # On the driver (`retail.dialect.rows`): through `Session.execute` the ORM's compile step alone was a
    # seventh of an availability answer's CPU, and SQLAlchemy's execution costs twice the driver's.
    rows = dialect.rows(session, _offers(), {"product": product.id, "stores": store_ids})
    found = {
        store_id: (price, StockLevel(on_hand, reserved, safety, _aware(as_of)))
        for store_id, price, on_hand, reserved, safety, as_of in rows
    }
    offers = []
    now = confidence.judged_at()
    for store in stores:
        if store.id is None or store.id not in found:
            continue
        price, level = found[store.id]
        trust = shown_stock(level, store, now=now)
        offers.append(
            StoreOffer(
                store=store,
                price=price,
                available=level.available,
                status=trust.status,
                as_of=level.as_of,
                confidence=trust.confidence,
            )
        )
    return offers


@dataclass(frozen=True)
class ShownStock:
    status: StockStatus
    confidence: Confidence


def shown_stock(level: StockLevel, store: StoreView, *, now: datetime | None = None) -> ShownStock:
    """A store's stock of one product as the shopper is shown it: its status under the store's threshold,
    with the confidence the count deserves (`inventory.confidence`)."""
    trust = stock_confidence(
        level.as_of, now=now or confidence.judged_at(), short_pick_share=store.short_pick_share
    )
    status = stock_status(level.available, store.low_stock_threshold)
    return ShownStock(trusted_status(status, trust), trust)


# Asked for every availability and price comparison a shopper makes; building a statement cost more than
# running it, so it is built once.
@lru_cache(maxsize=1)
def _offers() -> Select[int, Decimal, int, int, int, datetime | None]:
    stores = stores_service.store_keys().subquery("st")
    stock = STOCK.c
    with_the_product = stores.join(PRODUCTS, PRODUCTS.c.id == bindparam("product", type_=Integer))
    with_its_stock = with_the_product.outerjoin(
        STOCK, (stock.store_id == stores.c.id) & (stock.product_id == PRODUCTS.c.id)
    )
    return (
        sa_select(
            stores.c.id,
            price_at_store(stores.c.id),
            # No stock row: none of it in the store.
            func.coalesce(stock.on_hand, 0),
            func.coalesce(stock.reserved, 0),
            func.coalesce(stock.safety_stock, 0),
            stock.as_of,
        )
        .select_from(with_its_stock)
        .where(stores.c.id.in_(bindparam("stores", expanding=True)))
    )


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

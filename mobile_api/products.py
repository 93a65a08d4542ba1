"""Shopper product endpoints (`/mobile/v1/products`): search, one product, stock at the nearest stores and
a price comparison. Thin handlers: validate, call the domain services, shape the answer.

Skus may contain `/` (see `inventory.schemas.Sku`), so the sku is a `path` parameter, and the routes with a
suffix (`/availability`, `/prices`) are registered before the bare product route that would swallow them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response

from inventory import service as inventory_service
from inventory.codes import GTIN_PATTERN
from inventory.schemas import Money
from inventory.service import ProductCard, StoreOffer
from mobile_api.params import (
    SHOPPER_RATE_LIMIT,
    SHOPPER_RESPONSES,
    AllowTransfer,
    AtQuery,
    Lat,
    Lon,
    RadiusKm,
    StoreLimit,
    instant,
    point,
)
from mobile_api.schemas import (
    Channel,
    Cheapest,
    OnlineAvailability,
    ProductAvailability,
    ProductOut,
    ProductPage,
    ProductPrices,
    StoreAvailability,
    StorePriceComparison,
)
from orders import service as orders_service
from retail.caching import CATALOGUE_MAX_AGE_S, cached_json
from retail.clock import utcnow
from retail.errors import InvalidInput, RetailError, problem_responses
from retail.pagination import decode_position, encode_cursor
from retail.replica import LookupRoute, LookupSessionDep
from stores import service as stores_service
from stores.service import NearbyStore

# Lookups: a replica may answer them (retail/replica.py), and the primary does when it cannot.
router = APIRouter(
    prefix="/mobile/v1",
    tags=["mobile"],
    route_class=LookupRoute,
    dependencies=[SHOPPER_RATE_LIMIT],
    responses=SHOPPER_RESPONSES,
)

SkuPath = Annotated[str, Path(max_length=64, description="the product's sku", examples=["WP-100234"])]


@router.get("/products", name="products_search", response_model=ProductPage, responses=problem_responses(422))
def search_products(
    session: LookupSessionDep,
    q: Annotated[
        str | None,
        Query(
            min_length=1,
            max_length=100,
            description="words, in any order, each the start of a word of the product's name, brand or "
            "EAN; case, accents and punctuation ignored (`%`, `_`, quotes and `*` are plain text)",
            examples=["ajax citroen"],
        ),
    ] = None,
    ean: Annotated[
        str | None,
        Query(pattern=GTIN_PATTERN, description="GTIN-8, -13 or -14, exactly"),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    cursor: Annotated[
        str | None, Query(max_length=512, description="`next_cursor` of the previous page")
    ] = None,
) -> ProductPage:
    """Products matching every word of `q` and/or with this EAN, most relevant first: a word that is a
    whole word of the product counts more than one that only starts a word; ties by name. At least one
    of `q` and `ean`."""
    terms = inventory_service.search_terms(q) if q is not None else []
    if q is not None and not terms:
        # Nothing but spaces and punctuation ("%", "*"): text no product's words can start with, so no
        # product matches. A shopper's search box answers that with no results, not an error.
        return ProductPage(items=[], next_cursor=None)
    most = inventory_service.MAX_SEARCH_TERMS
    if len(terms) > most:
        raise InvalidInput(f"q has {len(terms)} different words; at most {most}", field="query.q")
    if ean is None and q is None:
        raise InvalidInput("give q (words of the name or brand) or ean", field="query.q")
    # Words in any order are the same query, and so is their page.
    scope = {"route": "products_search", "terms": sorted(terms), "ean": ean}
    products, resume = inventory_service.search_products(
        session,
        terms=terms,
        ean=ean,
        limit=limit,
        after=decode_position(cursor, int, str, int, scope=scope),
    )
    return ProductPage(
        items=[_product_out(p) for p in products],
        next_cursor=encode_cursor(list(resume), scope=scope) if resume is not None else None,
    )


@router.get(
    "/products/{sku:path}/availability",
    name="product_availability",
    response_model=ProductAvailability,
    # `transfer_ready_by` is set only with `allow_transfer`: without it the answer is as before the flag.
    response_model_exclude_unset=True,
    responses=problem_responses(404, 422),
)
def product_availability(
    sku: SkuPath,
    session: LookupSessionDep,
    lat: Lat,
    lon: Lon,
    limit: StoreLimit = 10,
    radius_km: RadiusKm = None,
    at: AtQuery = None,
    allow_transfer: AllowTransfer = False,
) -> ProductAvailability:
    """Stock of one product online and at the stores nearest to a point, nearest first (ties by code).

    A store with no stock row for the product has 0 available (`out_of_stock`). With `allow_transfer`,
    each store also says `transfer_ready_by`: set where the store lacks the product but can get it by
    transfer.
    """
    product = inventory_service.get_product(session, sku=sku)
    when = instant(at)
    page = stores_service.nearest_stores(session, lat=lat, lon=lon, limit=limit, at=when, radius_km=radius_km)
    stores = [n.store for n in page.stores]
    offers = inventory_service.store_offers(session, product=product, stores=stores)
    promises = orders_service.shown_ready_by_all(session, stores=stores, at=when)
    shown = [
        _store_availability(nearby, offer, product.currency, promise)
        for nearby, offer, promise in zip(page.stores, offers, promises, strict=True)
    ]
    if allow_transfer:
        assert product.id is not None
        lacking = [offer.store for offer in offers if offer.available == 0]
        by_transfer = orders_service.shown_transfer_ready_by(
            session, stores=lacking, lines=[inventory_service.Quantity(product.id, 1)], at=when
        )
        for one, offer in zip(shown, offers, strict=True):
            one.transfer_ready_by = by_transfer.get(offer.store.id)
    return ProductAvailability(sku=product.sku, online=_online_availability(product), stores=shown)


@router.get(
    "/products/{sku:path}/prices",
    name="product_prices",
    response_model=ProductPrices,
    responses=problem_responses(404, 422),
)
def product_prices(
    sku: SkuPath,
    session: LookupSessionDep,
    lat: Lat | None = None,
    lon: Lon | None = None,
    store: Annotated[
        str | None, Query(min_length=1, max_length=32, description="one store's code instead of lat/lon")
    ] = None,
    limit: StoreLimit = 10,
    radius_km: RadiusKm = None,
) -> ProductPrices:
    """The online price against the prices at the stores nearest to a point (`lat`, `lon`), or at one
    `store`, with each store's signed difference and the cheapest channel."""
    given = point(lat, lon)
    if store is not None and given is not None:
        raise InvalidInput("give either lat and lon, or store, not both", field="query.store")
    if store is None and given is None:
        raise RetailError(
            "give lat and lon, or store",
            status_code=422,
            code="validation_error",
            extra={
                "errors": [
                    {"field": field, "message": "give lat and lon, or store"}
                    for field in ("query.lat", "query.lon", "query.store")
                ]
            },
        )
    product = inventory_service.get_product(session, sku=sku)
    if store is not None:
        one = stores_service.shopper_store(session, code=store)
        offers = inventory_service.store_offers(session, product=product, stores=[one])
        return _price_comparison(product, offers, distances=None)
    assert given is not None  # the checks above leave only the lat/lon case
    # Opening hours play no part in a price comparison; any instant will do for the store search.
    page = stores_service.nearest_stores(
        session, lat=given.lat, lon=given.lon, limit=limit, at=utcnow(), radius_km=radius_km
    )
    offers = inventory_service.store_offers(session, product=product, stores=[n.store for n in page.stores])
    distances = {n.store.code: n.distance_km for n in page.stores}
    return _price_comparison(product, offers, distances=distances)


# Last: `{sku:path}` matches anything below /products/, including the suffixed routes above.
@router.get(
    "/products/{sku:path}",
    name="product_get",
    response_model=ProductOut,
    responses=problem_responses(404, 422),
)
def get_product(sku: SkuPath, request: Request, session: LookupSessionDep) -> Response:
    """One product with its online price and online availability.

    With an `ETag`, `Cache-Control: max-age=60` and `304` on `If-None-Match`."""
    answer = _product_out(inventory_service.get_product(session, sku=sku))
    return cached_json(request, answer, max_age_s=CATALOGUE_MAX_AGE_S)


# ------------------------------------------------------------------------------------ answers from values


def _online_availability(product: ProductCard) -> OnlineAvailability:
    available, status = inventory_service.online_availability(product)
    return OnlineAvailability(available=available, status=status)


def _product_out(product: ProductCard) -> ProductOut:
    # The catalogue keeps a text the webshop gave none of as "": the shopper sees null.
    return ProductOut(
        sku=product.sku,
        ean=product.ean,
        name=product.name,
        brand=product.brand or None,
        description=product.description or None,
        image_url=product.image_url,
        category=product.category or None,
        online_price=Money.of(product.online_price, product.currency),
        store_price=Money.of(product.store_price, product.currency),
        online_availability=_online_availability(product),
    )


def _store_availability(
    nearby: NearbyStore, offer: StoreOffer, currency: str, pickup_ready_by: datetime | None
) -> StoreAvailability:
    return StoreAvailability(
        code=nearby.store.code,
        name=nearby.store.name,
        distance_km=round(nearby.distance_km, 3),
        available=offer.available,
        status=offer.status,
        as_of=offer.as_of,
        confidence=offer.confidence,
        price=Money.of(offer.price, currency),
        open_now=nearby.status.open_now,
        pickup_ready_by=pickup_ready_by,
    )


def _price_comparison(
    product: ProductCard, offers: list[StoreOffer], distances: dict[str, float] | None
) -> ProductPrices:
    """`offers` nearest first; `distances` by store code, or None when one store was named."""
    currency = product.currency
    online = Money.of(product.online_price, currency)
    stores = []
    for offer in offers:
        price = Money.of(offer.price, currency)
        distance = distances.get(offer.store.code) if distances is not None else None
        stores.append(
            StorePriceComparison(
                code=offer.store.code,
                name=offer.store.name,
                distance_km=round(distance, 3) if distance is not None else None,
                price=price,
                # Both sides are already two-place decimals, so the difference is exact.
                difference=Money.of(price.amount - online.amount, currency),
                available=offer.available,
                status=offer.status,
                as_of=offer.as_of,
                confidence=offer.confidence,
            )
        )
    best = inventory_service.cheapest_offer(online.amount, offers)
    cheapest = (
        Cheapest(channel=Channel.online, store_code=None, price=online)
        if best is None
        else Cheapest(channel=Channel.store, store_code=best.store.code, price=Money.of(best.price, currency))
    )
    return ProductPrices(sku=product.sku, online_price=online, stores=stores, cheapest=cheapest)

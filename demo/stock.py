"""On-hand stock of every demo product in every given store, as of one count.

A stock row depends only on its own (store, sku) pair, through a hash of the two, and on the store's
format (`demo.formats`): never on which other stores were asked for or in which order.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any, Final

from demo.catalogue import Product, catalogue
from demo.formats import BULKY_PRICE_CENTS, FORMATS, GROCERY, TOWN_SIZES, Format, StoreFormat, store_format
from demo.hashing import stable_hash

_MASK64: Final = (1 << 64) - 1
_GOLDEN64: Final = 0x9E3779B97F4A7C15  # 2^64 / golden ratio: an odd multiplier that mixes well
_MIX64: Final = 0xBF58476D1CE4E5B9  # SplitMix64's; the second round breaks the first one's linearity
_FULL: Final = 0x10000  # probabilities below are in 1/65536ths, compared with 16-bit hash slices


@dataclass(frozen=True)
class _StockProfile:
    """Per-product thresholds of one kind of store, precomputed so the row loop only compares."""

    carry: tuple[int, ...]  # a product is carried when a 16-bit slice of the pair hash is below this
    spans: tuple[int, ...]  # number of quantities from 3 to the product's maximum
    out_of_stock: int
    limited: int  # out_of_stock + share of 1-2 on hand


def _store_size(store_code: str) -> float:
    if store_format(store_code) != "town":
        return 1.0
    return TOWN_SIZES[stable_hash(store_code, "size") % len(TOWN_SIZES)]


def _is_core(fmt: StoreFormat, product: Product) -> bool:
    return fmt.core is None or product.department in fmt.core or product.category in fmt.core


def _carry_share(fmt: StoreFormat, product: Product, size: float) -> float:
    core = _is_core(fmt, product)
    share = fmt.carry_core if core else fmt.carry_other
    if product.store_cents >= BULKY_PRICE_CENTS:
        share = min(share, fmt.carry_bulky)
    # Smaller towns drop the non-essential part of the range first.
    return share * (1.0 if core else size)


@lru_cache(maxsize=32)
def _stock_profile(fmt_name: Format, size: float) -> _StockProfile:
    fmt = FORMATS[fmt_name]
    carry: list[int] = []
    spans: list[int] = []
    for product in catalogue():
        carry.append(round(_carry_share(fmt, product, size) * _FULL))
        core = _is_core(fmt, product)
        grocery_boost = 1.25 if fmt_name == "supermarket" and product.department in GROCERY else 1.0
        top = max(3, round(product.shelf_depth * fmt.depth * size * grocery_boost * (1.0 if core else 0.6)))
        spans.append(top - 2)
    out_of_stock = fmt.out_of_stock + (1.0 - size) * 0.15  # small towns are restocked less often
    return _StockProfile(
        carry=tuple(carry),
        spans=tuple(spans),
        out_of_stock=round(out_of_stock * _FULL),
        limited=round((out_of_stock + fmt.limited) * _FULL),
    )


def _stock_rows(store_codes: list[str], as_of: str) -> Iterator[dict[str, Any]]:
    products = catalogue()
    skus = [product.sku for product in products]
    salts = [product.salt for product in products]
    for store_code in store_codes:
        profile = _stock_profile(store_format(store_code), _store_size(store_code))
        store_salt = stable_hash(store_code) << 32
        for sku, salt, carry, span in zip(skus, salts, profile.carry, profile.spans, strict=True):
            # One 64-bit multiplicative hash of the (store, product) pair; its 16-bit slices are
            # independent rolls. Cheaper than a CRC of the joined strings, and order-independent.
            mixed = ((store_salt | salt) * _GOLDEN64) & _MASK64
            mixed = ((mixed ^ mixed >> 32) * _MIX64) & _MASK64
            if mixed >> 48 >= carry:
                on_hand = 0  # not in this store's range
            else:
                roll = (mixed >> 32) & 0xFFFF
                if roll < profile.out_of_stock:
                    on_hand = 0
                elif roll < profile.limited:
                    on_hand = 1 + (mixed >> 16 & 1)
                else:
                    quantity = (mixed >> 8) & 0xFFFF
                    # Squared to skew low: most shelves hold a few items, some are well stocked.
                    on_hand = 3 + ((quantity * quantity) >> 16) * span // _FULL
            yield {"store_code": store_code, "sku": sku, "on_hand": on_hand, "as_of": as_of}


def demo_stock(store_codes: Sequence[str], *, as_of: datetime) -> Iterator[dict[str, Any]]:
    """On-hand stock of every demo product in every given store, store by store; the same on every call.

    `as_of` (timezone-aware) is the moment of the count, written to every row in RFC 3339. About 440,000
    rows for the 184 demo stores: iterate, don't collect them in a list.
    """
    if as_of.tzinfo is None or as_of.utcoffset() is None:
        raise ValueError("as_of must be timezone-aware, so rows carry an RFC 3339 offset")
    return _stock_rows(list(dict.fromkeys(store_codes)), as_of.isoformat())

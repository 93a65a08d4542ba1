"""The demo catalogue: webshop sync row shapes, valid barcodes, varied prices and stock, determinism.

No database: these are pure functions over the tables in `demo/data`.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from functools import cache
from typing import Any

import pytest

from demo.catalogue import HOUSE_BRAND, demo_products
from demo.formats import multi_store_cities, store_format, store_formats
from demo.stock import demo_stock
from demo.store_prices import demo_store_prices
from demo.stores import demo_store_rows
from inventory.codes import gtin_check_digit

AS_OF = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)
# Derived from the demo store list, no longer tables of their own.
STORE_FORMATS = store_formats()
MULTI_STORE_CITIES = multi_store_cities()
PRODUCT_KEYS = {
    "sku",
    "ean",
    "name",
    "brand",
    "description",
    "image_url",
    "category",
    "online_price",
    "store_price",
    "online_stock",
}
SKU_RE = re.compile(r"^[A-Z0-9-]{1,64}$")
AMOUNT_RE = re.compile(r"^(0|[1-9]\d*)\.\d{2}$")
# A few stores of every format: flagship, city, station, night shop, supermarket-style, town, outlet.
SAMPLE_STORES = [
    "NL-AMS-001",
    "NL-AMS-002",
    "NL-AMS-003",
    "NL-UTR-004",
    "BE-GNT-004",
    "NL-LEL-001",
    "BE-ATH-001",
]


@cache
def products() -> tuple[dict[str, Any], ...]:
    return tuple(demo_products())


@cache
def demo_codes() -> tuple[str, ...]:
    return tuple(str(row["code"]) for row in demo_store_rows())


def by_sku() -> dict[str, dict[str, Any]]:
    return {product["sku"]: product for product in products()}


def cents(money: dict[str, Any]) -> int:
    return int(Decimal(money["amount"]) * 100)


def gtin_is_valid(code: str) -> bool:
    """Independent of `gtin_check_digit`: pad to 14 digits and weigh from the left, check digit included.

    In a 14-digit GTIN the weights are 3, 1, 3, ... from the first digit and the check digit weighs 1;
    the weighted sum of a valid code is a multiple of 10.
    """
    padded = code.rjust(14, "0")
    weighted = sum(int(digit) * (3 if index % 2 == 0 else 1) for index, digit in enumerate(padded))
    return weighted % 10 == 0


def assert_money(money: Any) -> None:
    assert isinstance(money, dict)
    assert set(money) == {"amount", "currency"}
    assert money["currency"] == "EUR"
    assert isinstance(money["amount"], str)
    assert AMOUNT_RE.match(money["amount"]), money
    assert Decimal("0.49") <= Decimal(money["amount"]) <= Decimal("899.00")


def hours_kind(store: dict[str, Any]) -> str:
    """A demo store's kind as its opening hours show it (`demo/data/hours_profiles.json`)."""
    weekly: dict[str, list[dict[str, str]]] = store["hours"]["weekly"]
    days = list(weekly.values())
    if all(day == [{"opens": "00:00", "closes": "24:00"}] for day in days):
        return "station"
    if all(day == [{"opens": "08:00", "closes": "22:00"}] for day in days):
        return "supermarket"
    if any(period["closes"] < period["opens"] for day in days for period in day):
        return "night"
    return "regular"


# --------------------------------------------------------------------------------------------------
# Barcodes
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("4006381333931", 1),
        ("8712345678906", 6),
        ("96385074", 4),
        ("10012345678902", 2),
        ("5449000000996", 6),
    ],
)
def test_gtin_check_digit_of_known_codes(code: str, expected: int) -> None:
    assert gtin_check_digit(code[:-1]) == expected
    assert gtin_is_valid(code)


def test_gtin_check_digit_rejects_non_digits() -> None:
    with pytest.raises(ValueError, match="digits"):
        gtin_check_digit("87123A567890")


def test_every_ean_is_a_valid_unique_gtin() -> None:
    eans = [product["ean"] for product in products()]
    for ean in eans:
        assert isinstance(ean, str)
        assert ean.isascii(), ean
        assert ean.isdigit(), ean
        assert len(ean) in (8, 13, 14), ean
        assert gtin_is_valid(ean), ean
        assert gtin_check_digit(ean[:-1]) == int(ean[-1])
    assert len(set(eans)) == len(eans)
    # Different lengths must not encode the same GTIN either (they are compared as 14 digits).
    assert len({ean.rjust(14, "0") for ean in eans}) == len(eans)


def test_eans_are_mostly_benelux_gtin13_with_a_few_gtin8_and_gtin14() -> None:
    lengths = Counter(len(product["ean"]) for product in products())
    assert 0 < lengths[8] <= 50
    assert 0 < lengths[14] <= 50
    assert lengths[13] >= 0.95 * len(products())
    gtin13 = [product["ean"] for product in products() if len(product["ean"]) == 13]
    assert all(ean[:2] in ("87", "54") for ean in gtin13)
    assert any(ean.startswith("54") for ean in gtin13)


# --------------------------------------------------------------------------------------------------
# Products
# --------------------------------------------------------------------------------------------------


def test_at_least_two_thousand_products_in_the_sync_shape() -> None:
    assert len(products()) >= 2000
    for product in products():
        assert set(product) == PRODUCT_KEYS


def test_skus_are_unique_and_well_formed() -> None:
    skus = [product["sku"] for product in products()]
    assert len(set(skus)) == len(skus)
    assert all(SKU_RE.match(sku) for sku in skus)


def test_text_fields_are_non_empty_and_short_enough() -> None:
    for product in products():
        for field in ("name", "brand", "category", "description"):
            value = product[field]
            assert isinstance(value, str)
            assert value, (field, product["sku"])
            assert value.strip() == value, (field, product["sku"])
            assert "  " not in value, (field, value)
        assert len(product["name"]) <= 200
        assert len(product["brand"]) <= 200
        assert len(product["category"]) <= 200
        assert all(part.strip() == part != "" for part in product["category"].split(" > "))
        assert product["image_url"] == f"https://images.winkelpunt.example/p/{product['sku']}.jpg"
    names = [product["name"] for product in products()]
    assert len(set(names)) == len(names)


def test_assortment_is_broad() -> None:
    categories = {product["category"] for product in products()}
    departments = {category.split(" > ")[0] for category in categories}
    brands = Counter(product["brand"] for product in products())
    assert len(categories) >= 40
    assert {"Huishouden", "Drogisterij", "Eten & drinken", "Speelgoed", "Tuin", "Elektronica", "Wonen"} <= (
        departments
    )
    assert len(brands) >= 80
    assert {"Philips", "Dreft", "Douwe Egberts", "Nivea", "Tefal", "LEGO"} <= set(brands)
    assert 0.15 < brands[HOUSE_BRAND] / len(products()) < 0.5


def test_names_with_characters_a_search_must_escape() -> None:
    names = [product["name"] for product in products()]
    assert any("%" in name for name in names)
    assert any(name.startswith("Korting 50%") for name in names)
    assert any("_" in name for name in names)
    assert any(name.startswith("Sinterklaas' ") for name in names)
    assert any(name.startswith("'s-Hertogenbosch ") for name in names)
    assert any('"' in name for name in names)


def test_prices_are_money_objects_with_two_decimals() -> None:
    for product in products():
        assert_money(product["online_price"])
        assert_money(product["store_price"])


def test_prices_look_like_shelf_prices() -> None:
    endings = Counter(product["online_price"]["amount"][-2:] for product in products())
    assert sum(endings[ending] for ending in ("99", "49", "95", "29", "79")) >= 0.9 * len(products())
    amounts = [cents(product["online_price"]) for product in products()]
    assert min(amounts) < 100
    assert max(amounts) > 50000


def test_store_price_mostly_equals_online_price() -> None:
    comparison = Counter(
        "same" if store == online else "dearer" if store > online else "cheaper"
        for online, store in ((cents(p["online_price"]), cents(p["store_price"])) for p in products())
    )
    assert comparison["same"] > 0.7 * len(products())
    assert comparison["dearer"] > 0.05 * len(products())
    assert comparison["cheaper"] > 0.01 * len(products())
    assert comparison["cheaper"] < comparison["dearer"]


def test_online_stock() -> None:
    stock = [product["online_stock"] for product in products()]
    assert all(isinstance(value, int) and 0 <= value <= 500 for value in stock)
    sold_out = stock.count(0) / len(stock)
    assert 0.02 < sold_out < 0.10
    assert len(set(stock)) > 100


def test_products_are_deterministic_and_fresh_copies() -> None:
    first = demo_products()
    assert first == demo_products()
    first[0]["online_price"]["amount"] = "0.01"
    first[0]["name"] = "changed"
    second = demo_products()
    assert second[0]["online_price"]["amount"] != "0.01"
    assert second[0]["name"] != "changed"


# --------------------------------------------------------------------------------------------------
# Store formats
# --------------------------------------------------------------------------------------------------


def test_store_formats_match_the_demo_stores_hours() -> None:
    stores = {str(store["code"]): store for store in demo_store_rows()}
    assert set(STORE_FORMATS) <= set(stores)
    for code, store in stores.items():
        kind = hours_kind(store)
        if kind == "regular":
            assert code not in STORE_FORMATS, code
        else:
            assert STORE_FORMATS[code] == kind, code


def test_multi_store_cities_are_those_of_the_demo() -> None:
    cities = Counter(code.rsplit("-", 1)[0] for code in demo_codes())
    assert {city for city, count in cities.items() if count > 1} == MULTI_STORE_CITIES


def test_store_format_of_codes() -> None:
    assert store_format("NL-AMS-001") == "flagship"
    assert store_format("NL-AMS-004") == "city"
    assert store_format("NL-AMS-002") == "station"
    assert store_format("BE-GNT-002") == "night"
    assert store_format("NL-ZWO-001") == "supermarket"
    assert store_format("BE-ATH-001") == "town"
    assert store_format("XX-NEW-001") == "town"


# --------------------------------------------------------------------------------------------------
# Store prices
# --------------------------------------------------------------------------------------------------


def test_store_prices_shape_and_references() -> None:
    rows = demo_store_prices(demo_codes())
    skus = by_sku()
    codes = set(demo_codes())
    assert 1000 < len(rows) < 50_000
    pairs = [(row["store_code"], row["sku"]) for row in rows]
    assert len(set(pairs)) == len(pairs)
    for row in rows:
        assert set(row) == {"store_code", "sku", "price"}
        assert row["store_code"] in codes
        assert row["sku"] in skus
        assert_money(row["price"])
        # An override that repeated the product's store price would be noise.
        assert row["price"] != skus[row["sku"]]["store_price"]


def test_store_prices_show_cheaper_and_dearer_stores() -> None:
    skus = by_sku()
    rows = demo_store_prices(demo_codes())
    versus_online = Counter(
        "dearer" if cents(row["price"]) > cents(skus[row["sku"]]["online_price"]) else "cheaper"
        for row in rows
        if cents(row["price"]) != cents(skus[row["sku"]]["online_price"])
    )
    assert versus_online["dearer"] > 1000
    assert versus_online["cheaper"] > 1000
    stores = Counter(row["store_code"] for row in rows)
    assert len(stores) == len(demo_codes())  # every store has at least its promotions


def test_store_prices_follow_the_store() -> None:
    skus = by_sku()
    rows = demo_store_prices(SAMPLE_STORES)
    assert {row["store_code"] for row in rows} <= set(SAMPLE_STORES)

    def direction(code: str) -> Counter[str]:
        return Counter(
            "dearer" if cents(row["price"]) > cents(skus[row["sku"]]["store_price"]) else "cheaper"
            for row in rows
            if row["store_code"] == code
        )

    assert direction("NL-AMS-001")["dearer"] > 100  # city centre
    assert direction("NL-AMS-002")["dearer"] > 100  # station kiosk
    assert direction("NL-LEL-001")["cheaper"] > 200  # outlet town
    assert 0 < direction("BE-ATH-001")["cheaper"] < 100  # a town store's promotions only
    assert direction("BE-ATH-001")["dearer"] == 0


def test_store_prices_are_deterministic_and_per_store() -> None:
    assert demo_store_prices(SAMPLE_STORES) == demo_store_prices(SAMPLE_STORES)
    alone = demo_store_prices(["NL-LEL-001"])
    among = [row for row in demo_store_prices(SAMPLE_STORES) if row["store_code"] == "NL-LEL-001"]
    assert alone == among
    assert demo_store_prices([]) == []


# --------------------------------------------------------------------------------------------------
# Stock
# --------------------------------------------------------------------------------------------------


def stock(codes: list[str], as_of: datetime = AS_OF) -> list[dict[str, Any]]:
    return list(demo_stock(codes, as_of=as_of))


def test_stock_covers_every_store_and_product_once() -> None:
    rows = stock(SAMPLE_STORES)
    skus = [product["sku"] for product in products()]
    assert len(rows) == len(SAMPLE_STORES) * len(products())
    pairs = {(row["store_code"], row["sku"]) for row in rows}
    assert len(pairs) == len(rows)
    assert pairs == {(code, sku) for code in SAMPLE_STORES for sku in skus}


def test_stock_row_shape() -> None:
    for row in stock(["NL-AMS-001"]):
        assert set(row) == {"store_code", "sku", "on_hand", "as_of"}
        assert isinstance(row["on_hand"], int)
        assert row["on_hand"] >= 0
        assert row["as_of"] == "2026-11-23T06:00:00+00:00"


def test_stock_as_of_keeps_the_offset() -> None:
    amsterdam_winter = timezone(timedelta(hours=1))
    rows = stock(["NL-AMS-001"], datetime(2026, 11, 23, 7, 0, tzinfo=amsterdam_winter))
    assert rows[0]["as_of"] == "2026-11-23T07:00:00+01:00"


def test_stock_needs_a_timezone_aware_moment() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        demo_stock(["NL-AMS-001"], as_of=datetime(2026, 11, 23, 6, 0))


def test_stock_has_a_realistic_mix() -> None:
    on_hand = Counter(row["on_hand"] for row in stock(SAMPLE_STORES))
    total = sum(on_hand.values())
    zero = on_hand[0] / total
    limited = (on_hand[1] + on_hand[2]) / total
    up_to_30 = sum(count for value, count in on_hand.items() if value <= 30) / total
    assert 0.05 < zero < 0.5
    assert 0.03 < limited < 0.2
    assert up_to_30 > 0.9
    assert max(on_hand) > 30


def test_stock_depends_on_the_store_format() -> None:
    def share_in_stock(code: str) -> float:
        rows = stock([code])
        return sum(1 for row in rows if row["on_hand"] > 0) / len(rows)

    def mean_on_hand(code: str) -> float:
        rows = stock([code])
        return float(sum(row["on_hand"] for row in rows)) / len(rows)

    assert share_in_stock("NL-AMS-001") > share_in_stock("BE-ATH-001") > share_in_stock("NL-AMS-002")
    assert mean_on_hand("NL-AMS-001") > mean_on_hand("BE-ATH-001")
    # A station kiosk carries food and drink, not televisions or garden furniture.
    skus = by_sku()
    kiosk = {row["sku"]: row["on_hand"] for row in stock(["NL-AMS-002"])}
    food = [sku for sku, product in skus.items() if product["category"].startswith("Eten & drinken")]
    garden = [sku for sku, product in skus.items() if product["category"].startswith("Tuin")]
    assert sum(1 for sku in food if kiosk[sku] > 0) > 0.5 * len(food)
    assert sum(1 for sku in garden if kiosk[sku] > 0) < 0.1 * len(garden)


def test_stock_rows_do_not_depend_on_the_other_stores_or_their_order() -> None:
    forward = {(row["store_code"], row["sku"]): row["on_hand"] for row in stock(SAMPLE_STORES)}
    backward = {(row["store_code"], row["sku"]): row["on_hand"] for row in stock(SAMPLE_STORES[::-1])}
    alone = {(row["store_code"], row["sku"]): row["on_hand"] for row in stock(["BE-GNT-004"])}
    assert forward == backward
    assert all(forward[pair] == on_hand for pair, on_hand in alone.items())


def test_stock_is_deterministic_and_ignores_repeated_codes() -> None:
    assert stock(SAMPLE_STORES) == stock(SAMPLE_STORES)
    assert stock(["NL-AMS-001", "NL-AMS-001"]) == stock(["NL-AMS-001"])
    assert stock([]) == []


def test_stock_is_a_lazy_iterator() -> None:
    rows = demo_stock(demo_codes(), as_of=AS_OF)
    assert isinstance(rows, Iterator)
    assert next(rows)["store_code"] == demo_codes()[0]


def test_full_stock_of_the_demo_chain() -> None:
    count = 0
    zero = 0
    for row in demo_stock(demo_codes(), as_of=AS_OF):
        count += 1
        zero += row["on_hand"] == 0
    assert len(demo_codes()) == 184
    assert count == len(demo_codes()) * len(products())
    assert 0.05 < zero / count < 0.4

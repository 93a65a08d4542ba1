"""The demo chain's warehouses, their stock and the transfer lanes (demo/warehouses.py), as pure rows, and as
the store network takes them."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

from demo.catalogue import catalogue
from demo.formats import city_of, multi_store_cities
from demo.stores import demo_store_rows
from demo.warehouses import (
    DEMO_WAREHOUSES,
    MIDDAY_DEPARTURE,
    NIGHT_DEPARTURE,
    demo_lanes,
    demo_warehouse_rows,
    demo_warehouse_stock,
)
from stores.schemas import LaneIn, StoreIn, StoreKind

AS_OF = datetime(2026, 11, 23, 6, tzinfo=UTC)


def test_the_warehouses_are_valid_store_rows_of_kind_warehouse() -> None:
    rows = [StoreIn.model_validate(row) for row in demo_warehouse_rows()]
    assert [row.kind for row in rows] == [StoreKind.warehouse, StoreKind.warehouse]
    assert {row.address.country for row in rows} == {"NL", "BE"}
    assert not any(row.click_and_collect for row in rows)
    store_codes = {row["code"] for row in demo_store_rows()}
    assert store_codes.isdisjoint(row.code for row in rows)


def test_every_warehouse_holds_every_product() -> None:
    rows = list(demo_warehouse_stock(as_of=AS_OF))
    skus = {product.sku for product in catalogue()}
    for warehouse in DEMO_WAREHOUSES:
        held = {row["sku"]: row["on_hand"] for row in rows if row["store_code"] == warehouse["code"]}
        assert set(held) == skus
        assert min(held.values()) >= 40
        assert max(held.values()) <= 400
    assert rows == list(demo_warehouse_stock(as_of=AS_OF))  # the same on every call


def test_lanes_from_every_warehouse_to_every_store_and_within_each_city() -> None:
    stores = demo_store_rows()
    lanes = [LaneIn.model_validate(lane) for lane in demo_lanes(stores)]
    pairs = Counter((lane.from_store, lane.to_store) for lane in lanes)
    assert max(pairs.values()) == 1
    warehouses = {w["code"] for w in DEMO_WAREHOUSES}
    for store in stores:
        into = {lane.from_store for lane in lanes if lane.to_store == store["code"]}
        assert warehouses <= into
        city = city_of(store["code"])
        neighbours = {s["code"] for s in stores if city_of(s["code"]) == city and s["code"] != store["code"]}
        assert into - warehouses == neighbours
        assert bool(neighbours) == (city in multi_store_cities())
    for lane in lanes:
        if lane.from_store in warehouses:
            assert all(times == [NIGHT_DEPARTURE] for times in lane.departures.values())
            assert 1 <= lane.transit_hours < 8
        else:
            assert all(times == [MIDDAY_DEPARTURE] for times in lane.departures.values())
            assert lane.transit_hours == 1
        assert "sunday" not in lane.departures

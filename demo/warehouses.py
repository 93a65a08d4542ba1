"""The demo chain's distribution: two warehouses, their stock, and the transfer lanes between them and the
stores, so that a basket no store near the shopper holds can still be promised at the shopper's own store.

- A warehouse in each country, working an overnight shift (14:00 to 06:00, Monday to Saturday, holidays
  included), holding every product of the catalogue.
- Each warehouse ships every night (04:00, Monday to Saturday) to every store of the chain, the truck
  taking an hour plus the road at 60 km/h.
- The stores of one city ship to each other at midday (12:00, Monday to Saturday), in an hour.

Every call returns the same rows.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from itertools import permutations
from typing import Any, Final

from geopy.distance import geodesic

from demo.catalogue import catalogue
from demo.formats import city_of
from demo.hashing import stable_hash

_WORKING_DAYS: Final = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday")
_NIGHT_SHIFT: Final = {
    "weekly": {day: [{"opens": "14:00", "closes": "06:00"}] for day in _WORKING_DAYS},
    "special": [],
}

DEMO_WAREHOUSES: Final[tuple[dict[str, Any], ...]] = (
    {
        "code": "NL-WH-TIL",
        "name": "Winkelpunt distributiecentrum Tilburg",
        "address": {
            "street": "Dr. Hub van Doorneweg 150",
            "postcode": "5026 RA",
            "city": "Tilburg",
            "country": "NL",
        },
        "location": {"lat": 51.5606, "lon": 5.0227},
        "timezone": "Europe/Amsterdam",
    },
    {
        "code": "BE-WH-MEC",
        "name": "Winkelpunt distributiecentrum Mechelen",
        "address": {"street": "Zandvoortstraat 12", "postcode": "2800", "city": "Mechelen", "country": "BE"},
        "location": {"lat": 51.0430, "lon": 4.4800},
        "timezone": "Europe/Brussels",
    },
)

NIGHT_DEPARTURE: Final = "04:00"
MIDDAY_DEPARTURE: Final = "12:00"
_ROAD_KMH: Final = 60.0


def demo_warehouse_rows() -> list[dict[str, Any]]:
    """The warehouses in the admin upsert's JSON shape."""
    return [
        {
            **warehouse,
            "kind": "warehouse",
            "click_and_collect": False,
            "phone": None,
            "hours": _NIGHT_SHIFT,
            "closed_on_public_holidays": False,
            "pick_minutes": 60,
        }
        for warehouse in DEMO_WAREHOUSES
    ]


def demo_warehouse_stock(*, as_of: datetime) -> Iterator[dict[str, Any]]:
    """Every catalogue product on hand at every warehouse: 40 to 400 units, by a hash of the pair."""
    stamp = as_of.isoformat()
    for warehouse in DEMO_WAREHOUSES:
        code = warehouse["code"]
        for product in catalogue():
            on_hand = 40 + stable_hash(code, product.sku) % 361
            yield {"store_code": code, "sku": product.sku, "on_hand": on_hand, "as_of": stamp}


def demo_lanes(store_rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """The lanes: every warehouse to every store each night, and the stores of a city to each other at
    midday, in the transfer-lane upsert's JSON shape."""
    lanes: list[dict[str, Any]] = []
    for warehouse in DEMO_WAREHOUSES:
        for store in store_rows:
            lanes.append(
                _lane(
                    warehouse,
                    store,
                    NIGHT_DEPARTURE,
                    transit_hours=round(1 + _km(warehouse, store) / _ROAD_KMH, 1),
                )
            )
    by_city: dict[str, list[dict[str, Any]]] = {}
    for store in store_rows:
        by_city.setdefault(city_of(store["code"]), []).append(store)
    for stores in by_city.values():
        for source, target in permutations(stores, 2):
            lanes.append(_lane(source, target, MIDDAY_DEPARTURE, transit_hours=1))
    return lanes


def _lane(
    source: dict[str, Any], target: dict[str, Any], departs: str, *, transit_hours: float
) -> dict[str, Any]:
    return {
        "from_store": source["code"],
        "to_store": target["code"],
        "departures": {day: [departs] for day in _WORKING_DAYS},
        "transit_hours": transit_hours,
    }


def _km(a: dict[str, Any], b: dict[str, Any]) -> float:
    return float(
        geodesic(
            (a["location"]["lat"], a["location"]["lon"]), (b["location"]["lat"], b["location"]["lon"])
        ).km
    )

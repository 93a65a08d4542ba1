"""Opening hours of the demo stores: the named profiles of the big cities' stores
(`data/hours_profiles.json`), the hours of a one-store town (varied by the town's rank), and the special
days (`data/special_days.json`): early closing on Christmas and New Year's Eve, shopping Sundays,
stocktaking and renovations. Fixed dates, never relative to today.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from functools import cache
from typing import Any, Final, Literal, cast

from demo.tables import json_table
from stores.hours import WEEKDAYS

Country = Literal["NL", "BE"]
Lang = Literal["nl", "fr"]
Period = tuple[str, str]
Day = tuple[Period, ...]
Week = tuple[Day, Day, Day, Day, Day, Day, Day]

# The kind of store its hours make it: what the catalogue's formats and the settings go by.
Kind = Literal["regular", "lunch", "supermarket", "station", "night"]


@dataclass(frozen=True)
class Profile:
    kind: Kind
    week: Week

    @property
    def closed_on_public_holidays(self) -> bool:
        return self.kind in ("regular", "lunch")


CLOSED: Final[Day] = ()


def _day(*periods: Period) -> Day:
    return tuple(periods)


def _period(text: str) -> Period:
    """(opens, closes) of a period written as in the data files, "09:00-18:00"."""
    opens, closes = text.split("-")
    return opens, closes


@cache
def profiles() -> Mapping[str, Profile]:
    """The named hours profiles of the big cities' stores (`data/hours_profiles.json`)."""
    table: dict[str, dict[str, Any]] = json_table("hours_profiles.json")
    return {
        name: Profile(
            kind=entry["kind"],
            week=cast(Week, tuple(tuple(_period(p) for p in entry["week"][day]) for day in WEEKDAYS)),
        )
        for name, entry in table.items()
    }


def _nl_week(
    monday_opens: str, koopavond: Literal["thursday", "friday"], sunday: bool, opens: str = "09:00"
) -> Week:
    """Typical Dutch shop hours: late Monday start, one late shopping evening, Saturday until 17:00."""
    regular = _day((opens, "18:00"))
    late = _day((opens, "21:00"))
    return (
        _day((monday_opens, "18:00")),
        regular,
        regular,
        late if koopavond == "thursday" else regular,
        late if koopavond == "friday" else regular,
        _day((opens, "17:00")),
        _day(("12:00", "17:00")) if sunday else CLOSED,
    )


def _be_week(opens: str, closes: str, closed_monday: bool, lunch: bool) -> Week:
    """Belgian shop hours: closed on Sunday, some also on Monday, small towns close for lunch."""
    day = _day((opens, "12:30"), ("13:30", closes)) if lunch else _day((opens, closes))
    saturday = _day((opens, "12:30"), ("13:30", "17:00")) if lunch else day
    return (CLOSED if closed_monday else day, day, day, day, day, saturday, CLOSED)


def _nl_town_profile(rank: int, population: int) -> Profile:
    """Hours of a Dutch town's one store, varied by the town's rank among the single-store towns."""
    if rank % 15 == 7:
        return profiles()["supermarket"]
    sunday = population >= 90_000 or rank % 4 == 1
    koopavond: Literal["thursday", "friday"] = "friday" if rank % 3 == 2 else "thursday"
    monday_opens = "09:00" if rank % 2 else "12:00"
    return Profile("regular", _nl_week(monday_opens, koopavond, sunday))


def _be_town_profile(rank: int, population: int) -> Profile:
    """Hours of the one store of a Belgian town: lunch breaks in small towns, some closed on Monday."""
    if population < 35_000 and rank % 2 == 0:
        return Profile("lunch", _be_week("09:00", "18:00", closed_monday=rank % 4 == 0, lunch=True))
    if rank % 3 == 0:
        return profiles()["be_closed_monday"]
    opens = "09:30" if rank % 2 else "10:00"
    return Profile("regular", _be_week(opens, "18:00", closed_monday=False, lunch=False))


def town_profile(country: Country, rank: int, population: int) -> Profile:
    """The hours of a one-store town, `rank` its place among the country's one-store towns."""
    return (_nl_town_profile if country == "NL" else _be_town_profile)(rank, population)


# --------------------------------------------------------------------------------------------------
# Special days


def _minutes(hhmm: str) -> int:
    hours, minutes = hhmm.split(":")
    return int(hours) * 60 + int(minutes)


def _close_early(day: Day, cutoff: str) -> Day:
    """The day's periods cut off at `cutoff` (an overnight period counts as running to midnight)."""
    limit = _minutes(cutoff)
    result: list[Period] = []
    for opens, closes in day:
        if _minutes(opens) >= limit:
            continue
        end = _minutes(closes)
        overnight = end <= _minutes(opens)
        result.append((opens, cutoff if overnight or end > limit else closes))
    return tuple(result)


def _periods_json(day: Iterable[Period]) -> list[dict[str, str]]:
    return [{"opens": opens, "closes": closes} for opens, closes in day]


def _special_day(iso_date: str, day: Day | None, reason: str) -> dict[str, Any]:
    if day is None:
        return {"date": iso_date, "closed": True, "periods": [], "reason": reason}
    return {"date": iso_date, "closed": False, "periods": _periods_json(day), "reason": reason}


def _special_days(
    profile: Profile, country: Country, lang: Lang, profile_name: str, index: int
) -> list[dict[str, Any]]:
    """Early closing on Christmas and New Year's Eve, shopping Sundays, stocktaking and renovations."""
    if profile.kind in ("station", "night"):
        return []
    table: dict[str, Any] = json_table("special_days.json")
    reasons: dict[str, str] = table["reasons"][lang]
    cutoff = table["early_closing_long_hours"] if profile.kind == "supermarket" else table["early_closing"]
    special: list[dict[str, Any]] = []
    for key in ("christmas_eve", "new_years_eve"):
        iso_date = table[key]
        early = _close_early(profile.week[date.fromisoformat(iso_date).weekday()], cutoff)
        if early:
            special.append(_special_day(iso_date, early, reasons[key]))
    if profile.week[6] == CLOSED:
        # Every Dutch store closed on Sundays opens on the Dutch shopping Sundays; in Belgium only the big
        # cities' central stores do.
        shopping = table["shopping_sundays"]
        if country == "NL" or profile_name == "be_city":
            sundays, hours = shopping[country]["dates"], _period(shopping[country]["hours"])
            special.extend(
                _special_day(sunday, _day(hours), reasons["shopping_sunday"]) for sunday in sundays
            )
    if index % 11 == 3:
        special.append(_special_day(table["stocktaking"], None, reasons["stocktaking"]))
    if index % 47 == 20:
        special.extend(
            _special_day(iso_date, None, reasons["renovation"]) for iso_date in table["renovation"]
        )
    return sorted(special, key=lambda entry: str(entry["date"]))


def hours_json(
    profile: Profile, *, country: Country, lang: Lang, profile_name: str, index: int
) -> dict[str, Any]:
    """The store's `hours` in the admin upsert's shape: the profile's week and the special days of the
    store (the `index`-th of the chain; `profile_name` the named profile of a city store, else "")."""
    weekly = {name: _periods_json(day) for name, day in zip(WEEKDAYS, profile.week, strict=True)}
    return {"weekly": weekly, "special": _special_days(profile, country, lang, profile_name, index)}

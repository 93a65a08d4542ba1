"""Errors of the store network, each with its HTTP status and stable code."""

from __future__ import annotations

from retail.errors import NotFound, ServiceUnavailable


class StoreNotFound(NotFound):
    code = "store_not_found"

    def __init__(self, code: str) -> None:
        super().__init__(f"no store with code {code!r}")


class PlaceNotFound(NotFound):
    code = "place_not_found"

    def __init__(self, query: str) -> None:
        super().__init__(f"no place or postcode matches {query!r}")


class GeocoderUnavailable(ServiceUnavailable):
    code = "geocoder_unavailable"

"""Errors of the store network, each with its HTTP status and stable code."""

from __future__ import annotations

from retail.errors import NotFound, ServiceUnavailable


def no_store(code: str) -> str:
    """How every answer says that a store code names no store (a 404, a refused order, a bulk row)."""
    return f"no store with code {code!r}"


class StoreNotFound(NotFound):
    code = "store_not_found"

    def __init__(self, code: str) -> None:
        super().__init__(no_store(code))


class PlaceNotFound(NotFound):
    code = "place_not_found"

    def __init__(self, query: str) -> None:
        super().__init__(f"no place or postcode matches {query!r}")


class GeocoderUnavailable(ServiceUnavailable):
    code = "geocoder_unavailable"

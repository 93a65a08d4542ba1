"""Every cursor of the API, tampered with: each class of hostile value, put into a real cursor the endpoint
gave out, answers 422 `invalid_cursor` naming `query.cursor`, on both databases; and a cursor sent with
other filters than the query that made it is refused the same way instead of silently skipping rows.

The lists: products (`/mobile/v1/products`), the nearest stores, the staff pick list and the webshop's
availability feed. A tampered cursor keeps the endpoint's own shape (the same number of values, each of
the type it had), so the refusal tested is the check of that one value, not of the shape.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from tests.factories import make_products, order_body, post_order, product_row

BOTH_DATABASES = pytest.mark.parametrize("engine", ["postgresql", "sqlite"], indirect=True)
UTRECHT = {"lat": 52.0907, "lon": 5.1214}
MAX_BIGINT = 2**63 - 1


@dataclass(frozen=True)
class Listing:
    name: str
    path: str
    params: dict[str, Any]
    headers: dict[str, str]
    # The same route with other filters; None for a list that has none (the feed).
    other_params: dict[str, Any] | None


@pytest.fixture
def listings(
    client: TestClient,
    session: Session,
    make_key: Callable[..., dict[str, str]],
    open_stores: None,
) -> dict[str, Listing]:
    extra = [
        product_row("FILTERS", price="1.99", name="Koffiefilters nr 4"),
        product_row("MELK", price="1.29", name="Koffiemelk halfvol"),
    ]
    make_products(session, extra)
    session.commit()
    for key in ("pick-1", "pick-2"):
        body = order_body("S1", {"THEE": 1})
        assert post_order(client, body, key=key).status_code == 202
    staff = make_key("staff", store_code="S1")
    return {
        "products": Listing(
            "products",
            "/mobile/v1/products",
            {"q": "koffie", "limit": 1},
            {},
            {"q": "koffie melk", "limit": 1},
        ),
        "nearest": Listing(
            "nearest",
            "/mobile/v1/stores/nearest",
            {**UTRECHT, "limit": 1},
            {},
            {**UTRECHT, "limit": 1, "radius_km": 50},
        ),
        "pick_list": Listing(
            "pick_list", "/staff/v1/stores/S1/orders", {"limit": 1}, staff, {"limit": 1, "status": "reserved"}
        ),
        "feed": Listing("feed", "/sync/v1/availability", {"limit": 1}, make_key("webshop"), None),
    }


def _get(client: TestClient, listing: Listing, cursor: str, params: dict[str, Any] | None = None) -> Any:
    query = {**(listing.params if params is None else params), "cursor": cursor}
    return client.get(listing.path, params=query, headers=listing.headers)


def _issued(client: TestClient, listing: Listing) -> str:
    """A cursor the endpoint gave out, which it takes back."""
    response = client.get(listing.path, params=listing.params, headers=listing.headers)
    assert response.status_code == 200, response.text
    cursor = response.json()["next_cursor"]
    assert isinstance(cursor, str)
    assert _get(client, listing, cursor).status_code == 200
    return cursor


def _values(cursor: str) -> list[Any]:
    raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
    values = json.loads(raw)
    assert isinstance(values, list)
    return values


def _encode_json(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def _with(values: list[Any], index: int, replacement: str) -> str:
    """The cursor with value `index` replaced by a raw JSON fragment (so NaN, huge integers and lone
    surrogate escapes arrive exactly as an attacker would write them)."""
    parts = [json.dumps(v) for v in values]
    parts[index] = replacement
    return _encode_json("[" + ",".join(parts) + "]")


def _is_datetime(value: object) -> bool:
    if not isinstance(value, str):
        return False
    try:
        datetime.fromisoformat(value)
    except ValueError:
        return False
    return True


# Each class: (the type of value it replaces, the raw JSON put there instead).
HOSTILE: dict[str, list[tuple[Callable[[object], bool], str]]] = {
    "integer_at_or_above_2_63": [
        (lambda v: type(v) is int, str(2**63)),
        (lambda v: type(v) is int, str(2**64 + 1)),
        (lambda v: type(v) is int, "1" + "0" * 300),
    ],
    "negative_number": [
        (lambda v: type(v) is int, "-1"),
        (lambda v: type(v) is int, str(-(2**63) - 1)),
        (lambda v: type(v) is float, "-0.5"),
    ],
    "float_out_of_range": [
        (lambda v: type(v) is float, "1" + "0" * 309),  # an integer too large to be a float
        (lambda v: type(v) is float, "1e999"),  # parses as infinity
        (lambda v: type(v) in (int, float), "NaN"),
        (lambda v: type(v) in (int, float), "Infinity"),
        (lambda v: type(v) in (int, float), "-Infinity"),
    ],
    "nul": [
        (lambda v: isinstance(v, str), json.dumps("\x00")),
        (lambda v: isinstance(v, str), json.dumps("koffie\x00")),
    ],
    "lone_surrogate": [
        (lambda v: isinstance(v, str), '"\\ud800"'),
        (lambda v: isinstance(v, str), '"koffie\\udfff"'),
    ],
    "wrong_type": [
        (lambda v: type(v) in (int, float), '"7"'),
        (lambda v: type(v) in (int, float), "true"),
        (lambda v: type(v) is int, "1.5"),
        (lambda v: isinstance(v, str), "7"),
        (lambda v: True, "null"),
        (lambda v: True, "[]"),
        (lambda v: True, '{"a": 1}'),
    ],
    "malformed_timestamp": [
        (_is_datetime, '"2026-02-30T12:00:00+00:00"'),
        (_is_datetime, '"2026-11-23T12:00:00"'),  # no offset: which instant is it?
        (_is_datetime, '"gisteren"'),
    ],
}


def _tampered(values: list[Any], hostile: list[tuple[Callable[[object], bool], str]]) -> Iterator[str]:
    for index, value in enumerate(values):
        for applies, replacement in hostile:
            if applies(value):
                yield _with(values, index, replacement)


def _refused(response: Any, what: str) -> None:
    assert response.status_code == 422, (what, response.status_code, response.text)
    assert response.headers["content-type"] == "application/problem+json", what
    body = response.json()
    assert body["code"] == "invalid_cursor", (what, body)
    assert [error["field"] for error in body["errors"]] == ["query.cursor"], (what, body)


@BOTH_DATABASES
@pytest.mark.parametrize("kind", sorted(HOSTILE))
def test_a_hostile_value_in_any_cursor_is_422_invalid_cursor(
    client: TestClient, listings: dict[str, Listing], kind: str
) -> None:
    tried: dict[str, int] = {}
    for listing in listings.values():
        values = _values(_issued(client, listing))
        tampered = list(_tampered(values, HOSTILE[kind]))
        tried[listing.name] = len(tampered)
        for cursor in tampered:
            _refused(
                _get(client, listing, cursor), f"{listing.name}: {base64.urlsafe_b64decode(cursor + '==')!r}"
            )
    # Every class reaches a value in at least one cursor (the feed's holds integers only, the nearest
    # stores' a distance and a code), and a wrong type reaches every cursor.
    assert sum(tried.values()) > 0, tried
    if kind == "wrong_type":
        assert all(tried.values()), tried


@BOTH_DATABASES
def test_a_cursor_of_the_wrong_shape_is_422_invalid_cursor(
    client: TestClient, listings: dict[str, Listing]
) -> None:
    for listing in listings.values():
        values = _values(_issued(client, listing))
        shapes = {
            "empty": "",
            "not base64": "!!not-a-cursor!!",
            "padding only": "====",
            "not JSON": _encode_json("koffie"),
            "not UTF-8": base64.urlsafe_b64encode(b"[\xff\xfe]").decode(),
            "a number": _encode_json("7"),
            "an object": _encode_json(json.dumps({"after": values})),
            "one value short": _encode_json(json.dumps(values[:-1])),
            "one value more": _encode_json(json.dumps([*values, 1])),
            "nested": _encode_json(json.dumps([values])),
            "deeply nested": _encode_json("[" * 150 + "]" * 150),
        }
        for what, cursor in shapes.items():
            _refused(_get(client, listing, cursor), f"{listing.name}: {what}")


@BOTH_DATABASES
def test_the_largest_bigint_in_a_cursor_is_still_a_position(
    client: TestClient, listings: dict[str, Listing]
) -> None:
    """The bound is exactly the database's: 2^63 - 1 is an id like any other (a page past the end)."""
    reached = []
    for listing in listings.values():
        values = _values(_issued(client, listing))
        ints = [i for i, v in enumerate(values) if type(v) is int]
        if ints:
            reached.append(listing.name)
        for index in ints:
            response = _get(client, listing, _with(values, index, str(MAX_BIGINT)))
            assert response.status_code == 200, (listing.name, index, response.text)
    assert reached == ["products", "pick_list", "feed"]  # the nearest stores page by distance and code


@BOTH_DATABASES
def test_a_cursor_belongs_to_the_query_that_made_it(client: TestClient, listings: dict[str, Listing]) -> None:
    issued = {name: _issued(client, listing) for name, listing in listings.items()}
    for name, listing in listings.items():
        if listing.other_params is not None:
            # The same route and the same cursor, other filters: refused, not a page of the other query.
            _refused(_get(client, listing, issued[name], listing.other_params), f"{name} with other filters")
            # Another page size is the same query.
            assert _get(client, listing, issued[name], {**listing.params, "limit": 2}).status_code == 200
        for other, cursor in issued.items():
            if other != name:
                _refused(_get(client, listing, cursor), f"a {other} cursor sent to {name}")

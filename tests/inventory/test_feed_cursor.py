"""The availability feed's cursor: what it carries, the cursors given out before it listed waiting
writers, what it refuses, and that a cursor listing as many waiting writers as a page may add still fits
the length every cursor is held to."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest
from fastapi.testclient import TestClient

from inventory.feed import FeedCursor, Waiting, _room
from retail.pagination import MAX_CURSOR_LENGTH, InvalidCursor, encode_cursor

KeyFactory = Callable[..., dict[str, str]]


def test_a_cursor_carries_its_position_and_its_waiting_writers() -> None:
    cursor = FeedCursor(1_000_000, 7, 4321, (Waiting(999_990), Waiting(999_998, 3, 17)))
    assert FeedCursor.decode(cursor.encode()) == cursor
    # Waiting writers are written as their distance below the position: short numbers.
    assert cursor.encode() == encode_cursor([1_000_000, 7, 4321, 10, 0, 0, 2, 3, 17])


def test_a_cursor_of_three_numbers_from_before_waiting_writers_still_reads() -> None:
    assert FeedCursor.decode(encode_cursor([812, 3, 99])) == FeedCursor(812, 3, 99, ())
    assert FeedCursor.decode(None) == FeedCursor(0, 0, 0, ())
    assert FeedCursor().encode() == encode_cursor([0, 0, 0])  # an empty feed's cursor, as before


@pytest.mark.parametrize(
    "value",
    [
        {"xid": 1},
        [1, 2],
        [1, 2, 3, 4],
        [10, 1, 1, 2, 0],
        [True, 1, 1],
        [10, 1, 1.5],
        [-1, 1, 1],
        [2**63, 1, 1],
        [10, 1, 1, 0, 0, 0],  # a waiting writer at the position itself
        [10, 1, 1, 11, 0, 0],  # below transaction 0
        [10, 1, 1, 2, -1, 0],
        [10, 1, 1, 2, 1, 1, 3, 1, 1],  # two writers part-way: a page leaves one at most
        [10**6, 1, 1, *[999_999, 0, 0] * 32],  # no room left for a part-way writer's progress
    ],
)
def test_a_cursor_the_feed_did_not_give_out_is_refused(value: Any) -> None:
    with pytest.raises(InvalidCursor):
        FeedCursor.decode(encode_cursor(value))


@pytest.mark.parametrize("distance", [2, 9_999, 10**6, 10**12])
def test_a_cursor_with_as_many_waiting_writers_as_there_is_room_for_fits(distance: int) -> None:
    """The widest cursor a page can give out below `end` when its oldest waiting writer is `distance`
    below it: 64-bit position, each writer as far below it as can be, one of them part-way with 64-bit
    progress."""
    end = top = 2**63 - 1
    room = _room(end, oldest=end - distance, kept=0)
    assert room is not None
    assert room >= (16 if distance <= 10**6 else 8)
    plain = FeedCursor(end - 1, top, top, (Waiting(end - distance),) * room)
    assert FeedCursor.decode(plain.encode()) == plain
    # A later page that serves part of one of them adds its progress, and still fits.
    part_way = replace(plain, waiting=(*plain.waiting[1:], Waiting(end - distance, top, top)))
    assert len(part_way.encode()) <= MAX_CURSOR_LENGTH
    assert FeedCursor.decode(part_way.encode()) == part_way
    assert _room(end, oldest=end - distance, kept=room) == 0
    assert _room(end, oldest=end - distance, kept=room + 1) is None  # the position stays where it is


def test_the_endpoint_refuses_a_cursor_whose_waiting_writer_is_not_below_it(
    client: TestClient, make_key: KeyFactory
) -> None:
    cursor = encode_cursor([5, 1, 1, 9, 0, 0])
    answer = client.get("/sync/v1/availability", params={"cursor": cursor}, headers=make_key("webshop"))
    assert answer.status_code == 422
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["code"] == "invalid_cursor"
    assert answer.json()["errors"] == [
        {"field": "query.cursor", "message": "cursor is not one this endpoint gave out"}
    ]

"""PUT /admin/v1/transfer-lanes: the lanes goods travel by, with per-row errors, on both databases."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from stores import lanes
from stores.hours.promise import Timetable
from stores.service import get_store
from tests.factories import make_store

pytestmark = pytest.mark.parametrize("engine", ["postgresql", "sqlite"], indirect=True)

KeyFactory = Callable[..., dict[str, str]]


def lane(source: str, target: str, **overrides: Any) -> dict[str, Any]:
    return {
        "from_store": source,
        "to_store": target,
        "departures": {"monday": ["18:00", "06:00"], "friday": ["06:00", "06:00"]},
        "transit_hours": 12,
        **overrides,
    }


def _put(client: TestClient, headers: dict[str, str], rows: list[dict[str, Any]]) -> Any:
    return client.put("/admin/v1/transfer-lanes", json={"lanes": rows}, headers=headers)


@pytest.fixture
def three_stores(session: Session) -> dict[str, int]:
    for code in ("NL-WH-1", "NL-A-1", "NL-A-2"):
        make_store(session, code)
    return {code: get_store(session, code=code).id or 0 for code in ("NL-WH-1", "NL-A-1", "NL-A-2")}


def test_lanes_are_upserted_and_read_back_with_their_timetables(
    client: TestClient, session: Session, make_key: KeyFactory, three_stores: dict[str, int]
) -> None:
    admin = make_key("admin")
    answer = _put(client, admin, [lane("NL-WH-1", "NL-A-1"), lane("NL-A-2", "NL-A-1", transit_hours=1.5)])
    assert answer.status_code == 200
    assert answer.json() == {"applied": 2, "errors": []}
    into = lanes.lanes_to(session, store_id=three_stores["NL-A-1"])
    assert [(x.from_store_id, x.transit_hours) for x in into] == sorted(
        [(three_stores["NL-WH-1"], 12.0), (three_stores["NL-A-2"], 1.5)]
    )
    # Each day's times sorted and once; days left out have none.
    expected = Timetable.of("Europe/Amsterdam", {"monday": ["06:00", "18:00"], "friday": ["06:00"]})
    assert all(x.timetable == expected for x in into)
    assert lanes.lanes_to(session, store_id=three_stores["NL-WH-1"]) == []

    # The same (from, to) again replaces its timetable.
    again = _put(
        client, admin, [lane("NL-WH-1", "NL-A-1", departures={"sunday": ["22:00"]}, transit_hours=8)]
    )
    assert again.json() == {"applied": 1, "errors": []}
    replaced = {x.from_store_id: x for x in lanes.lanes_to(session, store_id=three_stores["NL-A-1"])}
    warehouse_lane = replaced[three_stores["NL-WH-1"]]
    assert warehouse_lane.transit_hours == 8.0
    assert warehouse_lane.timetable == Timetable.of("Europe/Amsterdam", {"sunday": ["22:00"]})


def test_bad_rows_are_reported_by_index_and_good_rows_apply(
    client: TestClient, session: Session, make_key: KeyFactory, three_stores: dict[str, int]
) -> None:
    rows = [
        lane("NL-WH-1", "NL-A-1"),
        lane("NL-WH-1", "NL-XX-404"),
        lane("NL-A-1", "NL-A-1"),
        lane("NL-WH-1", "NL-A-2", departures={"monday": ["24:00"]}),
        lane("NL-WH-1", "NL-A-2", departures={"funday": ["06:00"]}),
        lane("NL-WH-1", "NL-A-2", transit_hours=0),
        lane("NL-WH-1", "NL-A-2", transit_hours="12"),
        lane("NL-WH-1", "NL-A-1"),
        {**lane("NL-A-2", "NL-A-1"), "colour": "red"},
    ]
    answer = _put(client, make_key("admin"), rows)
    assert answer.status_code == 200
    body = answer.json()
    assert body["applied"] == 1
    assert [(e["index"], e["code"]) for e in body["errors"]] == [
        (1, "unknown_store"),
        (2, "invalid_row"),
        (3, "invalid_departures"),
        (4, "invalid_departures"),
        (5, "invalid_transit_hours"),
        (6, "invalid_transit_hours"),
        (7, "duplicate_lane"),
        (8, "invalid_row"),
    ]
    details = {e["index"]: e["detail"] for e in body["errors"]}
    assert details[1] == "to_store: no store 'NL-XX-404'"
    assert "different stores" in details[2]
    assert details[3].startswith("departures.monday.0:")
    assert details[4].startswith("departures.funday")
    assert [x.from_store_id for x in lanes.lanes_to(session, store_id=three_stores["NL-A-1"])] == [
        three_stores["NL-WH-1"]
    ]


def test_the_envelope_is_validated_and_an_admin_key_is_required(
    client: TestClient, make_key: KeyFactory, three_stores: dict[str, int]
) -> None:
    malformed = client.put("/admin/v1/transfer-lanes", json={"lane": []}, headers=make_key("admin"))
    assert malformed.status_code == 422
    assert malformed.headers["content-type"].startswith("application/problem+json")
    assert [e["field"] for e in malformed.json()["errors"]] == ["body.lanes"]
    assert _put(client, {}, [lane("NL-WH-1", "NL-A-1")]).status_code == 401
    staff = make_key("staff", "NL-A-1")
    assert _put(client, staff, [lane("NL-WH-1", "NL-A-1")]).status_code == 403

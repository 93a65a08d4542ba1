"""PUT /admin/v1/stores: bulk upsert with per-row errors, against PostgreSQL and the SQLite default."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from stores.models import Store
from tests.factories import store_row

pytestmark = pytest.mark.parametrize("engine", ["postgresql", "sqlite"], indirect=True)

KeyFactory = Callable[..., dict[str, str]]


def _put(client: TestClient, headers: dict[str, str], rows: list[dict[str, Any]]) -> Any:
    return client.put("/admin/v1/stores", json={"stores": rows}, headers=headers)


def test_upsert_creates_then_updates_by_code(
    client: TestClient, session: Session, make_key: KeyFactory
) -> None:
    admin = make_key("admin")
    first = _put(client, admin, [store_row("NL-A-1"), store_row("NL-A-2")])
    assert first.status_code == 200
    assert first.json() == {"applied": 2, "errors": []}

    renamed = store_row("NL-A-1", name="Winkelpunt Utrecht Hoog Catharijne", click_and_collect=False)
    second = _put(client, admin, [renamed])
    assert second.json() == {"applied": 1, "errors": []}

    stores = {s.code: s for s in session.exec(select(Store)).all()}
    assert set(stores) == {"NL-A-1", "NL-A-2"}
    assert stores["NL-A-1"].name == "Winkelpunt Utrecht Hoog Catharijne"
    assert stores["NL-A-1"].click_and_collect is False
    assert stores["NL-A-2"].click_and_collect is True


def test_bad_rows_are_reported_and_good_rows_apply(
    client: TestClient, session: Session, make_key: KeyFactory
) -> None:
    rows = [
        store_row("NL-OK-1"),
        store_row("NL-BAD-TZ", timezone="Europe/Amsterdm"),
        store_row("NL-BAD-LAT", location={"lat": 91.5, "lon": 5.0}),
        store_row(
            "NL-BAD-OVERLAP",
            hours={
                "weekly": {
                    "monday": [{"opens": "09:00", "closes": "13:00"}, {"opens": "12:00", "closes": "18:00"}]
                }
            },
        ),
        store_row(
            "NL-BAD-DATE",
            hours={"weekly": {}, "special": [{"date": "2026-02-30", "closed": True, "periods": []}]},
        ),
        store_row("NL-BAD-TIME", hours={"weekly": {"tuesday": [{"opens": "9:00", "closes": "25:00"}]}}),
        store_row("NL-OK-2"),
        store_row("NL-OK-1", name="again"),
    ]
    response = _put(client, make_key("admin"), rows)
    assert response.status_code == 200
    body = response.json()
    assert body["applied"] == 2
    codes = {e["index"]: e["code"] for e in body["errors"]}
    assert codes == {
        1: "unknown_timezone",
        2: "invalid_location",
        3: "invalid_hours",
        4: "invalid_date",
        5: "invalid_hours",
        7: "duplicate_code",
    }
    by_index = {e["index"]: e["detail"] for e in body["errors"]}
    assert "timezone" in by_index[1]
    assert "location.lat" in by_index[2]
    assert "hours.weekly.monday" in by_index[3]
    assert "hours.special.0.date" in by_index[4]
    stored = sorted(s.code for s in session.exec(select(Store)).all())
    assert stored == ["NL-OK-1", "NL-OK-2"]
    assert session.exec(select(Store).where(Store.code == "NL-OK-1")).one().name == "Winkelpunt NL-OK-1"


def test_osm_opening_hours_are_stored_structured(
    client: TestClient, session: Session, make_key: KeyFactory
) -> None:
    row = store_row("NL-OSM-1", opening_hours="Mo-Sa 09:00-21:00; Su 12:00-18:00; PH off")
    del row["hours"]
    response = _put(client, make_key("admin"), [row])
    assert response.json() == {"applied": 1, "errors": []}
    store = session.exec(select(Store).where(Store.code == "NL-OSM-1")).one()
    assert store.closed_on_public_holidays is True
    assert store.hours["weekly"]["monday"] == [{"opens": "09:00", "closes": "21:00"}]
    assert store.hours["weekly"]["saturday"] == [{"opens": "09:00", "closes": "21:00"}]
    assert store.hours["weekly"]["sunday"] == [{"opens": "12:00", "closes": "18:00"}]

    detail = client.get("/mobile/v1/stores/NL-OSM-1").json()
    assert detail["hours"]["weekly"]["sunday"] == [{"opens": "12:00", "closes": "18:00"}]


def test_unparseable_osm_hours_and_missing_hours_are_row_errors(
    client: TestClient, session: Session, make_key: KeyFactory
) -> None:
    bad_osm = store_row("NL-OSM-BAD", opening_hours="Mo-Sa 09:00-21:00; Jan 10:00-12:00")
    del bad_osm["hours"]
    no_hours = store_row("NL-NO-HOURS")
    del no_hours["hours"]
    both = store_row("NL-BOTH", opening_hours="24/7")
    response = _put(client, make_key("admin"), [bad_osm, no_hours, both])
    body = response.json()
    assert body["applied"] == 0
    assert [(e["index"], e["code"]) for e in body["errors"]] == [
        (0, "invalid_hours"),
        (1, "invalid_hours"),
        (2, "invalid_hours"),
    ]
    assert session.exec(select(Store)).all() == []


def test_unknown_subdivision_and_country_are_row_errors(client: TestClient, make_key: KeyFactory) -> None:
    rows = [
        store_row("DE-1", address={"city": "München", "country": "DE", "subdivision": "DE-XX"}),
        store_row("XX-1", address={"city": "Nowhere", "country": "XX"}),
        store_row(
            "DE-2",
            address={"city": "München", "country": "DE", "subdivision": "DE-BY"},
            timezone="Europe/Berlin",
        ),
    ]
    body = _put(client, make_key("admin"), rows).json()
    assert body["applied"] == 1
    assert [(e["index"], e["code"]) for e in body["errors"]] == [
        (0, "invalid_address"),
        (1, "invalid_address"),
    ]


def test_malformed_envelope_is_a_422_naming_the_field(client: TestClient, make_key: KeyFactory) -> None:
    admin = make_key("admin")
    not_a_list = client.put("/admin/v1/stores", json={"stores": "nope"}, headers=admin)
    assert not_a_list.status_code == 422
    assert not_a_list.headers["content-type"] == "application/problem+json"
    assert not_a_list.json()["code"] == "validation_error"
    assert not_a_list.json()["errors"][0]["field"] == "body.stores"

    broken_json = client.put(
        "/admin/v1/stores", content=b'{"stores": [', headers={**admin, "content-type": "application/json"}
    )
    assert broken_json.status_code == 422
    assert broken_json.json()["code"] == "validation_error"


def test_upsert_requires_an_admin_key(client: TestClient, session: Session, make_key: KeyFactory) -> None:
    rows = [store_row("NL-AUTH-1")]
    assert _put(client, {}, rows).status_code == 401
    assert _put(client, {"Authorization": "Bearer wp_not-a-real-key"}, rows).status_code == 401
    assert _put(client, make_key("webshop"), rows).status_code == 403
    staff = _put(client, make_key("staff", store_code="NL-AUTH-1"), rows)
    assert staff.status_code == 403
    assert staff.json()["code"] == "forbidden"
    assert session.exec(select(Store)).all() == []


def test_a_store_object_read_from_the_api_can_be_sent_back(
    client: TestClient, session: Session, make_key: KeyFactory
) -> None:
    admin = make_key("admin")
    assert _put(client, admin, [store_row("NL-RT-1")]).json()["applied"] == 1
    read = client.get("/mobile/v1/stores/NL-RT-1").json()
    read["name"] = "Winkelpunt Utrecht Oudegracht"
    assert _put(client, admin, [read]).json() == {"applied": 1, "errors": []}
    assert (
        session.exec(select(Store).where(Store.code == "NL-RT-1")).one().name
        == "Winkelpunt Utrecht Oudegracht"
    )

    typo = store_row("NL-RT-2", click_and_colect=True)
    body = _put(client, admin, [typo]).json()
    assert body["applied"] == 0
    assert body["errors"][0]["code"] == "invalid_row"
    assert "click_and_colect" in body["errors"][0]["detail"]

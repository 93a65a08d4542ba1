"""The store settings that shape the promise (API.md, "Every store a distribution point"): kind, capacity,
cutoff, a paused click and collect, holds in opening hours; through the admin upsert, the store file and
what shoppers see, on both databases."""

from __future__ import annotations

from collections.abc import Callable
from io import StringIO
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from stores.importing import read_store_csv
from stores.service import get_store
from tests.factories import (
    BASKET,
    make_coffee_shop,
    make_stores,
    order_body,
    post_order,
    store_row,
)

BOTH_ENGINES = pytest.mark.parametrize("engine", ["postgresql", "sqlite"], indirect=True)

KeyFactory = Callable[..., dict[str, str]]
UTRECHT = {"lat": 52.0907, "lon": 5.1214}


@BOTH_ENGINES
def test_the_settings_are_stored_and_shown_on_the_store_object(
    client: TestClient, session: Session, make_key: KeyFactory
) -> None:
    make_stores(
        session,
        [
            store_row(
                "NL-CAP-1",
                daily_order_capacity=40,
                same_day_cutoff="16:30",
                hold_opening_hours=24,
            ),
            store_row("NL-PLAIN-1"),
        ],
    )
    stored = get_store(session, code="NL-CAP-1")
    assert (stored.kind, stored.daily_order_capacity, stored.same_day_cutoff) == ("store", 40, "16:30")
    assert (stored.click_and_collect_paused, stored.hold_opening_hours) == (False, 24)

    shown = client.get("/mobile/v1/stores/NL-CAP-1").json()
    assert {k: shown[k] for k in _SETTINGS} == {
        "kind": "store",
        "daily_order_capacity": 40,
        "same_day_cutoff": "16:30",
        "click_and_collect_paused": False,
        "hold_opening_hours": 24,
    }
    plain = client.get("/mobile/v1/stores/NL-PLAIN-1").json()
    assert {k: plain[k] for k in _SETTINGS} == {
        "kind": "store",
        "daily_order_capacity": None,
        "same_day_cutoff": None,
        "click_and_collect_paused": False,
        "hold_opening_hours": None,
    }
    # Every store object carries them, in nearest too.
    nearest = client.get("/mobile/v1/stores/nearest", params=UTRECHT).json()["items"]
    assert all(set(_SETTINGS) <= set(store) for store in nearest)
    # A store object read from the shopper API can be sent back as it is.
    again = client.put("/admin/v1/stores", json={"stores": [shown]}, headers=make_key("admin"))
    assert again.json() == {"applied": 1, "errors": []}


_SETTINGS = (
    "kind",
    "daily_order_capacity",
    "same_day_cutoff",
    "click_and_collect_paused",
    "hold_opening_hours",
)


@BOTH_ENGINES
@pytest.mark.parametrize(
    ("field", "value", "path"),
    [
        ("kind", "depot", "kind"),
        ("daily_order_capacity", 0, "daily_order_capacity"),
        ("daily_order_capacity", "40", "daily_order_capacity"),
        ("same_day_cutoff", "24:00", "same_day_cutoff"),
        ("same_day_cutoff", "4pm", "same_day_cutoff"),
        ("click_and_collect_paused", "yes", "click_and_collect_paused"),
        ("hold_opening_hours", 0, "hold_opening_hours"),
        ("hold_opening_hours", 24 * 31 + 1, "hold_opening_hours"),
    ],
)
def test_bad_settings_are_row_errors_naming_the_field(
    client: TestClient, make_key: KeyFactory, field: str, value: Any, path: str
) -> None:
    answer = client.put(
        "/admin/v1/stores",
        json={"stores": [store_row("NL-OK-1"), store_row("NL-BAD-1", **{field: value})]},
        headers=make_key("admin"),
    )
    body = answer.json()
    assert body["applied"] == 1
    assert [e["index"] for e in body["errors"]] == [1]
    assert body["errors"][0]["detail"].startswith(f"{path}:")


@BOTH_ENGINES
def test_a_warehouse_is_never_shown_to_shoppers_nor_a_pickup_store(
    client: TestClient, session: Session
) -> None:
    make_coffee_shop(session)
    make_stores(session, [store_row("WH-1", kind="warehouse", always_open=True, location=UTRECHT)])
    assert get_store(session, code="WH-1").kind == "warehouse"

    codes = [s["code"] for s in client.get("/mobile/v1/stores/nearest", params=UTRECHT).json()["items"]]
    assert "WH-1" not in codes
    assert "S1" in codes
    missing = client.get("/mobile/v1/stores/WH-1")
    assert missing.status_code == 404
    assert missing.json()["code"] == "store_not_found"
    assert client.get("/mobile/v1/stores/WH-1/hours").status_code == 404

    refused = post_order(client, order_body("WH-1", BASKET))
    assert refused.status_code == 422
    assert refused.json()["code"] == "no_click_and_collect"


@BOTH_ENGINES
def test_a_paused_store_shows_no_click_and_collect_and_takes_no_orders(
    client: TestClient, session: Session
) -> None:
    make_coffee_shop(session)
    make_stores(session, [store_row("S1", always_open=True, click_and_collect_paused=True)])

    shown = client.get("/mobile/v1/stores/S1").json()
    assert shown["click_and_collect"] is False
    assert shown["click_and_collect_paused"] is True
    offering = client.get("/mobile/v1/stores/nearest", params={**UTRECHT, "click_and_collect": "true"}).json()
    assert "S1" not in [s["code"] for s in offering["items"]]
    assert "S2" in [s["code"] for s in offering["items"]]

    refused = post_order(client, order_body("S1", BASKET))
    assert refused.status_code == 422
    problem = refused.json()
    assert problem["code"] == "click_and_collect_paused"
    assert [e["field"] for e in problem["errors"]] == ["body.store_code"]

    # Resumed, it takes orders again.
    make_stores(session, [store_row("S1", always_open=True)])
    assert post_order(client, order_body("S1", BASKET), key="key-2").status_code == 202


def test_the_store_file_reads_the_settings() -> None:
    text = (
        "code,name,city,country,lat,lon,timezone,opening_hours,kind,daily_order_capacity,same_day_cutoff,"
        "click_and_collect_paused,hold_opening_hours\n"
        "NL-WH-1,Warehouse,Tilburg,NL,51.56,5.08,Europe/Amsterdam,24/7,warehouse,,,,\n"
        "NL-S-1,Store,Utrecht,NL,52.09,5.12,Europe/Amsterdam,Mo-Sa 09:00-18:00,store,40,16:00,yes,24\n"
    )
    warehouse, store = read_store_csv(StringIO(text))
    assert warehouse["kind"] == "warehouse"
    assert "daily_order_capacity" not in warehouse
    assert (store["daily_order_capacity"], store["same_day_cutoff"]) == (40, "16:00")
    assert (store["click_and_collect_paused"], store["hold_opening_hours"]) == (True, 24)

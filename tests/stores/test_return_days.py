"""The store setting `return_days` (how many days after collection the counter takes units back): the admin
upsert with its default and per-row errors, and the store files the CLI imports (CSV column, JSON field)."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from stores import importing
from stores import service as stores_service
from stores.models import Store
from tests.factories import store_row

pytestmark = pytest.mark.parametrize("engine", ["postgresql", "sqlite"], indirect=True)

KeyFactory = Callable[..., dict[str, str]]


def _days(session: Session) -> dict[str, int]:
    session.expire_all()
    return {store.code: store.return_days for store in session.exec(select(Store)).all()}


def test_the_upsert_takes_0_to_365_days_and_defaults_to_30(
    client: TestClient, session: Session, make_key: KeyFactory
) -> None:
    admin = make_key("admin")
    rows = [store_row("R-DEFAULT"), store_row("R-NONE", return_days=0), store_row("R-YEAR", return_days=365)]
    answer = client.put("/admin/v1/stores", json={"stores": rows}, headers=admin)
    assert answer.json() == {"applied": 3, "errors": []}
    assert _days(session) == {"R-DEFAULT": 30, "R-NONE": 0, "R-YEAR": 365}
    # An update without the field sets the default again, as every other setting of a store row.
    again = client.put("/admin/v1/stores", json={"stores": [store_row("R-NONE")]}, headers=admin)
    assert again.json() == {"applied": 1, "errors": []}
    assert _days(session)["R-NONE"] == 30


def test_bad_return_days_are_row_errors_and_the_good_rows_apply(
    client: TestClient, session: Session, make_key: KeyFactory
) -> None:
    rows = [
        store_row("R-OVER", return_days=366),
        store_row("R-NEGATIVE", return_days=-1),
        store_row("R-TEXT", return_days="30"),
        store_row("R-BOOL", return_days=True),
        store_row("R-FLOAT", return_days=14.5),
        store_row("R-NULL", return_days=None),
        store_row("R-OK", return_days=14),
    ]
    answer = client.put("/admin/v1/stores", json={"stores": rows}, headers=make_key("admin")).json()
    assert answer["applied"] == 1
    assert [(e["index"], e["code"], e["detail"].split(":")[0]) for e in answer["errors"]] == [
        (index, "invalid_row", "return_days") for index in range(6)
    ]
    assert "365" in answer["errors"][0]["detail"]
    assert _days(session) == {"R-OK": 14}


def test_the_store_csv_has_a_return_days_column(session: Session) -> None:
    assert "return_days" in importing.CSV_COLUMNS
    header = "code,name,city,country,lat,lon,timezone,return_days,opening_hours"
    csv = "\n".join(
        [
            header,
            "R-CSV-1,Winkelpunt Gouda,Gouda,NL,52.0115,4.7105,Europe/Amsterdam,7,Mo-Sa 09:00-18:00",
            "R-CSV-2,Winkelpunt Delft,Delft,NL,52.0116,4.3571,Europe/Amsterdam,,Mo-Sa 09:00-18:00",
            "R-CSV-3,Winkelpunt Hoorn,Hoorn,NL,52.6425,5.0597,Europe/Amsterdam,veertien,Mo-Sa 09:00-18:00",
        ]
    )
    rows = list(importing.read_store_csv(io.StringIO(csv)))
    assert [row.get("return_days") for row in rows] == [7, None, "veertien"]
    result = stores_service.upsert_stores(session, rows=rows)
    assert (result.applied, [(e.index, e.detail.split(":")[0]) for e in result.errors]) == (
        2,
        [(2, "return_days")],
    )
    assert _days(session) == {"R-CSV-1": 7, "R-CSV-2": 30}


def test_a_json_store_file_carries_return_days(session: Session, tmp_path: Path) -> None:
    path = tmp_path / "stores.json"
    stores: list[dict[str, Any]] = [store_row("R-JSON-1", return_days=0), store_row("R-JSON-2")]
    path.write_text(json.dumps({"stores": stores}), encoding="utf-8")
    result = stores_service.upsert_stores(session, rows=list(importing.read_store_file(path)))
    assert (result.applied, result.errors) == (2, [])
    assert _days(session) == {"R-JSON-1": 0, "R-JSON-2": 30}

"""The store's `handover_minutes` (how long an arrived shopper may wait before the arrivals list calls the
hand-over overdue): default 5, 0-240 whole minutes, set by the admin upsert and by store files (a CSV
column, a JSON field), bad values a row error naming the field."""

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
from stores.models import Store
from tests.factories import store_row

BOTH_DATABASES = pytest.mark.parametrize("engine", ["postgresql", "sqlite"], indirect=True)

KeyFactory = Callable[..., dict[str, str]]


def _put(client: TestClient, headers: dict[str, str], rows: list[dict[str, Any]]) -> Any:
    response = client.put("/admin/v1/stores", json={"stores": rows}, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def _minutes(session: Session) -> dict[str, int]:
    session.expire_all()
    return {s.code: s.handover_minutes for s in session.exec(select(Store)).all()}


@BOTH_DATABASES
def test_a_store_waits_five_minutes_unless_told_and_the_upsert_sets_it(
    client: TestClient, session: Session, make_key: KeyFactory
) -> None:
    admin = make_key("admin")
    body = _put(client, admin, [store_row("S-DEFAULT"), store_row("S-TEN", handover_minutes=10)])
    assert body == {"applied": 2, "errors": []}
    assert _minutes(session) == {"S-DEFAULT": 5, "S-TEN": 10}
    assert _put(client, admin, [store_row("S-TEN", handover_minutes=0)]) == {"applied": 1, "errors": []}
    assert _minutes(session) == {"S-DEFAULT": 5, "S-TEN": 0}


@BOTH_DATABASES
@pytest.mark.parametrize("value", [-1, 241, "5", 2.5, True, None])
def test_a_bad_handover_minutes_is_a_row_error_naming_it(
    client: TestClient, session: Session, make_key: KeyFactory, value: object
) -> None:
    body = _put(client, make_key("admin"), [store_row("S-OK"), store_row("S-BAD", handover_minutes=value)])
    assert body["applied"] == 1
    assert [(e["index"], e["code"]) for e in body["errors"]] == [(1, "invalid_row")]
    assert "handover_minutes" in body["errors"][0]["detail"]
    assert _minutes(session) == {"S-OK": 5}


def test_store_files_carry_it_as_a_csv_column_and_a_json_field(tmp_path: Path) -> None:
    header = "code,name,city,country,lat,lon,timezone,handover_minutes,opening_hours"
    rows = list(
        importing.read_store_csv(
            io.StringIO(
                f"{header}\n"
                "S-CSV,Winkelpunt Gouda,Gouda,NL,52.01,4.71,Europe/Amsterdam,12,24/7\n"
                "S-BLANK,Winkelpunt Delft,Delft,NL,52.01,4.36,Europe/Amsterdam,,24/7\n"
                "S-WORD,Winkelpunt Delft,Delft,NL,52.01,4.36,Europe/Amsterdam,vijf,24/7\n"
            )
        )
    )
    assert [row.get("handover_minutes") for row in rows] == [12, None, "vijf"]
    assert "handover_minutes" in importing.CSV_COLUMNS
    stores = tmp_path / "stores.json"
    stores.write_text(json.dumps({"stores": [store_row("S-JSON", handover_minutes=3)]}), encoding="utf-8")
    assert [row["handover_minutes"] for row in importing.read_store_file(stores)] == [3]


@BOTH_DATABASES
def test_an_imported_word_is_a_row_error_and_a_number_applies(session: Session) -> None:
    from stores import service as stores_service

    rows = list(
        importing.read_store_csv(
            io.StringIO(
                "code,name,city,country,lat,lon,timezone,handover_minutes,opening_hours\n"
                "S-CSV,Winkelpunt Gouda,Gouda,NL,52.01,4.71,Europe/Amsterdam,12,24/7\n"
                "S-WORD,Winkelpunt Delft,Delft,NL,52.01,4.36,Europe/Amsterdam,vijf,24/7\n"
            )
        )
    )
    result = stores_service.upsert_stores(session, rows=rows)
    assert result.applied == 1
    assert [(e.index, e.code) for e in result.errors] == [(1, "invalid_row")]
    assert "handover_minutes" in result.errors[0].detail
    assert _minutes(session) == {"S-CSV": 12}

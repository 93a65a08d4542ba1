"""Counts and movements dated ahead of the server's clock are refused, per row, on every path.

One count dated 2099 used to stand as the newest count until 2099, so every real count after it was stale;
a movement from the future was added on top of every count. A small skew (`instants.MAX_CLOCK_SKEW`, for
clocks a little ahead) is still accepted.
"""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from app.migrations import upgrade_database
from inventory import instants as inventory_instants
from inventory import sync as inventory_sync
from inventory.models import StockMovement
from retail.db import make_engine
from retail.settings import Settings
from tests.factories import count_row, make_products, make_store, product_row, stock_of

NOW = datetime.now(UTC)
PAST = (NOW - timedelta(hours=1)).isoformat()
LATER = (NOW - timedelta(minutes=30)).isoformat()
# Within the skew: a till whose clock runs two minutes fast.
SLIGHTLY_AHEAD = (NOW + timedelta(minutes=2)).isoformat()
AN_HOUR_AHEAD = (NOW + timedelta(hours=1)).isoformat()
DECADES_AHEAD = "2099-01-01T06:00:00+01:00"
TOO_LATE = "lies more than 5 minutes ahead of the server's clock"

BOTH = pytest.mark.parametrize("engine", ["postgresql", "sqlite"], indirect=True)


@pytest.fixture
def webshop_with_products(session: Session, make_key: Any) -> dict[str, str]:
    """A webshop key's Authorization header, with store S1 and products P1 to P3, none counted yet."""
    make_store(session, "S1")
    make_products(session, [product_row(sku) for sku in ("P1", "P2", "P3")])
    session.commit()
    return make_key("webshop")  # type: ignore[no-any-return]


def _on_hand(session: Session, sku: str) -> int | None:
    row = stock_of(session, "S1", sku)
    return None if row is None else int(row.on_hand)


def _errors(result: dict[str, Any]) -> list[tuple[int, str, str]]:
    return [(e["index"], e["code"], e["detail"]) for e in result["errors"]]


def _csv(*rows: tuple[str, int, str]) -> bytes:
    lines = ["store_code,sku,on_hand,as_of", *(f"S1,{sku},{n},{as_of}" for sku, n, as_of in rows)]
    return ("\n".join(lines) + "\n").encode()


@BOTH
def test_a_json_count_from_the_future_is_refused_and_real_counts_still_apply(
    client: TestClient, session: Session, webshop_with_products: dict[str, str]
) -> None:
    items = [
        count_row("S1", "P1", 99, as_of=DECADES_AHEAD),
        count_row("S1", "P2", 5, as_of=PAST),
        count_row("S1", "P3", 98, as_of=AN_HOUR_AHEAD),
        count_row("S1", "P2", 6, as_of=SLIGHTLY_AHEAD),
    ]
    result = client.put("/sync/v1/stock", json={"items": items}, headers=webshop_with_products).json()
    assert (result["applied"], result["stale"]) == (1, 1)
    assert _errors(result) == [
        (0, "invalid_date", f"as_of: {DECADES_AHEAD!r} {TOO_LATE}"),
        (2, "invalid_date", f"as_of: {AN_HOUR_AHEAD!r} {TOO_LATE}"),
    ]
    assert (_on_hand(session, "P1"), _on_hand(session, "P2"), _on_hand(session, "P3")) == (None, 6, None)
    # The refused counts froze nothing: today's count of P1 applies, and is not stale.
    today = [count_row("S1", "P1", 4, as_of=LATER)]
    again = client.put("/sync/v1/stock", json={"items": today}, headers=webshop_with_products).json()
    assert (again["applied"], again["stale"], again["errors"]) == (1, 0, [])
    assert _on_hand(session, "P1") == 4


@BOTH
def test_a_csv_count_from_the_future_is_refused_on_the_fast_path(
    client: TestClient,
    session: Session,
    webshop_with_products: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    if session.get_bind().dialect.name == "postgresql":
        # Every row here is readable: PostgreSQL answers from COPY and SQL, which must apply the rule too.
        def no_replay(*_args: object, **_kwargs: object) -> None:
            raise AssertionError("the CSV was replayed row by row")

        monkeypatch.setattr(inventory_sync, "apply_snapshots", no_replay)
    body = _csv(("P1", 99, DECADES_AHEAD), ("P2", 5, PAST), ("P3", 1, "1999-12-31T23:00:00Z"))
    response = client.put(
        "/sync/v1/stock", content=body, headers={**webshop_with_products, "content-type": "text/csv"}
    )
    result = response.json()
    assert (result["applied"], result["stale"]) == (1, 0)
    assert [(index, code) for index, code, _ in _errors(result)] == [(0, "invalid_date"), (2, "invalid_date")]
    assert TOO_LATE in result["errors"][0]["detail"]
    assert "before 2000-01-01" in result["errors"][1]["detail"]
    assert (_on_hand(session, "P1"), _on_hand(session, "P2"), _on_hand(session, "P3")) == (None, 5, None)


@BOTH
def test_a_csv_count_from_the_future_is_refused_when_the_body_is_replayed_row_by_row(
    client: TestClient, session: Session, webshop_with_products: dict[str, str]
) -> None:
    # "lots" cannot be cast: on PostgreSQL the COPY path gives up and the row-by-row path reads it all.
    body = _csv(("P1", 99, AN_HOUR_AHEAD), ("P2", 5, PAST)) + b"S1,P3,lots," + PAST.encode() + b"\n"
    response = client.put(
        "/sync/v1/stock", content=body, headers={**webshop_with_products, "content-type": "text/csv"}
    )
    result = response.json()
    assert (result["applied"], result["stale"]) == (1, 0)
    assert _errors(result) == [
        (0, "invalid_date", f"as_of: {AN_HOUR_AHEAD!r} {TOO_LATE}"),
        (2, "invalid_on_hand", "on_hand: 'lots' is not a whole number"),
    ]
    assert (_on_hand(session, "P1"), _on_hand(session, "P2"), _on_hand(session, "P3")) == (None, 5, None)


@BOTH
def test_a_movement_from_the_future_is_refused_and_not_recorded(
    client: TestClient, session: Session, webshop_with_products: dict[str, str]
) -> None:
    client.put(
        "/sync/v1/stock",
        json={"items": [count_row("S1", "P1", 10, as_of=PAST)]},
        headers=webshop_with_products,
    )
    movements = [
        {"movement_id": "far", "store_code": "S1", "sku": "P1", "delta": 50, "at": DECADES_AHEAD},
        {"movement_id": "ahead", "store_code": "S1", "sku": "P1", "delta": 40, "at": AN_HOUR_AHEAD},
        {"movement_id": "fast-till", "store_code": "S1", "sku": "P1", "delta": -1, "at": SLIGHTLY_AHEAD},
    ]
    result = client.post(
        "/sync/v1/stock/movements", json={"movements": movements}, headers=webshop_with_products
    ).json()
    assert (result["applied"], result["duplicates"]) == (1, 0)
    assert _errors(result) == [
        (0, "invalid_date", f"at: {DECADES_AHEAD!r} {TOO_LATE}"),
        (1, "invalid_date", f"at: {AN_HOUR_AHEAD!r} {TOO_LATE}"),
    ]
    assert _on_hand(session, "P1") == 9
    recorded = session.exec(select(StockMovement.movement_id)).all()
    assert recorded == ["fast-till"]


def test_the_window_is_the_one_rule_of_every_path() -> None:
    now = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
    assert inventory_instants.instant_problem(now + inventory_instants.MAX_CLOCK_SKEW, now=now) is None
    assert inventory_instants.instant_problem(now + timedelta(minutes=5, seconds=1), now=now) == TOO_LATE
    assert inventory_instants.instant_problem(inventory_instants.EARLIEST_INSTANT, now=now) is None
    assert inventory_instants.instant_problem(datetime(1999, 12, 31, 23, tzinfo=UTC), now=now) == (
        "lies before 2000-01-01"
    )


def test_retail_stock_import_refuses_a_count_from_the_future(tmp_path: Path) -> None:
    database = tmp_path / "w.db"
    settings = Settings(
        database_url=f"sqlite:///{database}", redis_url=None, secret_key="cli-test-secret-key"
    )
    upgrade_database(settings)
    engine = make_engine(settings.sqlalchemy_url)
    with Session(engine) as session:
        make_store(session, "S1")
        make_products(session, [product_row(sku) for sku in ("P1", "P2")])
        session.commit()
    counts = tmp_path / "counts.csv"
    counts.write_bytes(_csv(("P1", 99, DECADES_AHEAD), ("P2", 5, PAST)))
    env = {"PATH": "/usr/bin:/bin", "RETAIL_DATABASE_URL": settings.database_url}
    result = subprocess.run(
        [sys.executable, "-m", "app", "stock", "import", str(counts)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1, result.stderr
    assert "1 counts applied, 0 stale, 1 rows rejected" in result.stderr
    assert "row 1: invalid_date" in result.stderr
    with Session(engine) as session:
        assert (_on_hand(session, "P1"), _on_hand(session, "P2")) == (None, 5)
    engine.dispose()

"""Lookups on a replica (retail/replica.py) and their fall-back to the primary, in-process: a replica that
cannot be reached at all, and one that drops its connection in the middle of a read. The real standby is
tests/e2e/test_read_replica.py's; here a second engine on the test database stands in for it, which is
enough to see which engine a read went to and what happens when its connection dies."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, event, text
from sqlmodel import Session

from retail import db, dialect, replica
from retail.db import make_engine
from retail.settings import Settings
from stores import network as stores_network
from tests.factories import make_store

STAND_IN = "winkelpunt-replica-stand-in"


@pytest.fixture
def lookups(committed_client: TestClient, pg_engine: Engine) -> Iterator[TestClient]:
    """The committed client with the real lookup dependency (not the suite's override), a store S1, and
    the replica's state fresh before and after."""
    committed_client.app.dependency_overrides.pop(replica.get_lookup_session)  # type: ignore[attr-defined]
    with Session(pg_engine) as session:
        make_store(session, "S1")
        session.commit()
    replica.state.up()
    yield committed_client
    replica.state.up()


def _counting(engine: Engine) -> list[str]:
    statements: list[str] = []

    def note(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", note)
    return statements


def test_no_replica_configured(lookups: TestClient) -> None:
    assert replica.get_replica_engine() is None
    assert lookups.get("/mobile/v1/stores/S1").status_code == 200
    assert lookups.get("/readyz").json()["replica"] is None


def test_a_lookup_reads_the_replica_an_order_the_primary(
    lookups: TestClient, pg_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    stand_in = dialect.read_only(make_engine(pg_settings.sqlalchemy_url))
    monkeypatch.setattr(replica, "get_replica_engine", lambda: stand_in)
    on_replica = _counting(stand_in)
    try:
        assert lookups.get("/mobile/v1/stores/S1").status_code == 200
        assert any("FROM store" in s for s in on_replica)
        on_replica.clear()
        assert lookups.get("/mobile/v1/orders/no-such-order", params={"order_token": "x"}).status_code == 404
        assert lookups.get("/readyz").json()["replica"] == "ok"
        assert [s for s in on_replica if s != "SELECT 1"] == []  # the order was looked for on the primary
    finally:
        stand_in.dispose()


def test_an_unreachable_replica_falls_back_at_once_and_is_not_tried_per_request(
    lookups: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    dead = "postgresql+psycopg://postgres@127.0.0.1:1/gone"
    gone = dialect.read_only(make_engine(dead, connect_timeout_s=2))
    monkeypatch.setattr(replica, "get_replica_engine", lambda: gone)
    attempts: list[int] = []
    event.listen(gone, "do_connect", lambda *_: attempts.append(1))
    try:
        for _ in range(3):
            answer = lookups.get("/mobile/v1/stores/S1")
            assert answer.status_code == 200, answer.text
            assert answer.json()["code"] == "S1"
        assert len(attempts) == 1  # then marked down for RETRY_AFTER_S: the primary, without trying
        ready = lookups.get("/readyz")
        assert ready.status_code == 200  # the primary serves: still ready
        assert ready.json()["status"] == "ok"
        assert ready.json()["replica"] == "fallback: unreachable: OperationalError"
    finally:
        gone.dispose()


def test_a_replica_that_drops_the_connection_mid_read_is_answered_from_the_primary(
    lookups: TestClient, pg_settings: Settings, pg_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    # No ping before reuse, however long the test takes: the dead connection is found by the read itself.
    monkeypatch.setattr(db, "IDLE_BEFORE_PING_S", 3600.0)
    url = f"{pg_settings.sqlalchemy_url}?application_name={STAND_IN}"
    stand_in = dialect.read_only(make_engine(url))
    monkeypatch.setattr(replica, "get_replica_engine", lambda: stand_in)
    on_replica = _counting(stand_in)
    try:
        assert lookups.get("/mobile/v1/stores/S1").status_code == 200
        assert on_replica
        with pg_engine.connect() as admin:
            terminate = (
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = :n"
            )
            cut = admin.execute(text(terminate), {"n": STAND_IN}).scalar_one()
            admin.commit()
        assert cut == 1  # the replica's one pooled connection, idle in the pool
        tried = len(on_replica)
        stores_network.forget()  # as once `STALE_AFTER_S` has passed: the lookup reads the database again
        answer = lookups.get("/mobile/v1/stores/S1")
        assert answer.status_code == 200, answer.text
        assert answer.json()["code"] == "S1"
        assert len(on_replica) == tried + 1  # one statement on the dead connection, then the primary
        assert not replica.state.usable()
        assert replica.state.reason == "unreachable: OperationalError"
    finally:
        stand_in.dispose()


def test_every_lookup_gives_its_connection_back_before_the_answer(
    lookups: TestClient, pg_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A lookup session ends before the answer is sent, whatever the answer, on the primary and on a
    replica."""
    primary = db.get_lookup_engine()
    asked = {
        "/mobile/v1/stores/S1": 200,
        "/mobile/v1/stores/NOPE": 404,
        "/mobile/v1/stores/nearest?lat=52.09&lon=5.12&limit=5": 200,
        "/mobile/v1/stores/nearest?lat=91&lon=5.12": 422,
        "/mobile/v1/products/NOPE/availability?lat=52.09&lon=5.12": 404,
    }
    for path, status in asked.items():
        assert lookups.get(path).status_code == status, path
        assert primary.pool.checkedout() == 0, path  # type: ignore[attr-defined]
    stand_in = dialect.read_only(make_engine(pg_settings.sqlalchemy_url))
    monkeypatch.setattr(replica, "get_replica_engine", lambda: stand_in)
    try:
        for path, status in asked.items():
            assert lookups.get(path).status_code == status, path
            assert stand_in.pool.checkedout() == 0, path  # type: ignore[attr-defined]
            assert primary.pool.checkedout() == 0, path  # type: ignore[attr-defined]
    finally:
        stand_in.dispose()

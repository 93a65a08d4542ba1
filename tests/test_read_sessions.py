"""Read sessions: the routes that only read take `ReadSessionDep`, whose transaction refuses writes, and
on the embedded SQLite default reads beside a writer instead of queueing for the one write lock."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.testclient import TestClient
from sqlalchemy import Engine, event, text
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session

from app.main import create_app
from retail import dialect
from retail.db import (
    ReadSessionDep,
    get_read_session,
    get_session,
    make_engine,
    read_session_scope,
    session_scope,
)
from retail.replica import LookupRoute, get_lookup_session
from stores import network as stores_network
from stores import service as stores_service
from tests.factories import empty_tables, make_store

BOTH_DATABASES = pytest.mark.parametrize("engine", ["postgresql", "sqlite"], indirect=True)
ON_SQLITE = pytest.mark.parametrize("engine", ["sqlite"], indirect=True)
ON_POSTGRES = pytest.mark.parametrize("engine", ["postgresql"], indirect=True)

# The GETs whose answer is read: none of them writes, so each takes a read session (or none at all).
# A GET that had to write (a lazily issued code, an audit row) would be listed here, and say why.
GETS_THAT_WRITE: set[str] = set()
# The shopper's reads of stores, products, availability and prices: the replica's (retail/replica.py),
# which may lag the primary. Orders, staff, the sync and its feed read the primary.
LOOKUPS = {
    "/mobile/v1/stores/nearest",
    "/mobile/v1/stores/{code}",
    "/mobile/v1/stores/{code}/hours",
    "/mobile/v1/products",
    "/mobile/v1/products/{sku:path}",
    "/mobile/v1/products/{sku:path}/availability",
    "/mobile/v1/products/{sku:path}/prices",
}
# Not GETs, and only read: the clerk's check of a code ("changes nothing", says the contract).
POSTS_THAT_READ = {"/staff/v1/pickups/verify"}


def _calls(dependant: Any) -> Iterator[Callable[..., Any]]:
    for dependency in dependant.dependencies:
        if dependency.call is not None:
            yield dependency.call
        yield from _calls(dependency)


def _sessions_of(route: APIRoute) -> set[str]:
    kinds = {get_session: "write", get_read_session: "read", get_lookup_session: "lookup"}
    return {kinds[call] for call in _calls(route.dependant) if call in kinds}


def _api_routes() -> list[tuple[str, set[str], APIRoute]]:
    """(full path, methods, route) of every API route; FastAPI 0.16x keeps included routers as branches."""
    found = []
    for context in iter_route_contexts(create_app().routes):
        route = context.original_route
        if isinstance(route, APIRoute) and context.path is not None:
            found.append((context.path, set(route.methods or ()), route))
    return found


def test_every_route_says_whether_it_reads_or_writes() -> None:
    routes = _api_routes()
    for path, methods, route in routes:
        sessions = _sessions_of(route)
        assert len(sessions) <= 1, f"{path} opens both a read and a write session"
        if path in LOOKUPS:
            assert sessions == {"lookup"}, path
            assert isinstance(route, LookupRoute), f"{path}: only a LookupRoute answers again on the primary"
        elif "lookup" in sessions:
            raise AssertionError(f"{path} is not a lookup, and may not read the replica")
        elif methods == {"GET"} and path not in GETS_THAT_WRITE:
            assert sessions <= {"read"}, f"GET {path} takes {sessions}: only lookups may read a replica"
        elif path in POSTS_THAT_READ:
            assert sessions == {"read"}, path
        elif sessions and methods & {"POST", "PUT", "DELETE", "PATCH"}:
            assert sessions == {"write"}, f"{methods} {path} takes a read session"
    # Not vacuous: the shopper's reads and the staff's lists are among them.
    paths = {path: _sessions_of(route) for path, _, route in routes}
    assert paths["/mobile/v1/stores/{code}"] == {"lookup"}
    assert paths["/mobile/v1/orders/{order_id}"] == {"read"}  # the primary: just placed, maybe not replayed
    assert paths["/staff/v1/stores/{code}/orders"] == {"read"}
    assert paths["/sync/v1/availability"] == {"read"}
    assert paths["/mobile/v1/orders"] == {"write"}


@BOTH_DATABASES
def test_a_read_session_refuses_to_write(engine: Engine) -> None:
    make = "CREATE TABLE IF NOT EXISTS read_session_probe (n integer)"
    with session_scope(engine) as session:
        session.execute(text(make))
    try:
        with read_session_scope(dialect.read_only(engine)) as session:
            assert session.execute(text("SELECT count(*) FROM read_session_probe")).scalar_one() == 0
            with pytest.raises(DBAPIError) as refused:
                session.execute(text("INSERT INTO read_session_probe VALUES (1)"))
        assert dialect.is_write_in_read_only(refused.value)
        # The same pool's connections still write in a writing session afterwards.
        with session_scope(engine) as session:
            session.execute(text("INSERT INTO read_session_probe VALUES (1)"))
            assert session.execute(text("SELECT count(*) FROM read_session_probe")).scalar_one() == 1
    finally:
        with session_scope(engine) as session:
            session.execute(text("DROP TABLE read_session_probe"))


@ON_POSTGRES
def test_a_lookup_reads_outside_any_transaction_and_refuses_to_write(engine: Engine) -> None:
    lookups = make_engine(engine.url.render_as_string(hide_password=False), lookups=True)
    make = "CREATE TABLE IF NOT EXISTS lookup_probe (n integer)"
    with session_scope(engine) as session:
        session.execute(text(make))
    try:
        with read_session_scope(lookups) as session:
            # Each statement a transaction of its own: no BEGIN, no COMMIT, one round trip a statement.
            first = session.execute(text("SELECT transaction_timestamp(), pg_sleep(0.01)")).one()[0]
            second = session.execute(text("SELECT transaction_timestamp()")).scalar_one()
            assert second > first
            with pytest.raises(DBAPIError) as refused:
                session.execute(text("INSERT INTO lookup_probe VALUES (1)"))
        assert dialect.is_write_in_read_only(refused.value)
        with session_scope(engine) as session:
            assert session.execute(text("SELECT count(*) FROM lookup_probe")).scalar_one() == 0
    finally:
        lookups.dispose()
        with session_scope(engine) as session:
            session.execute(text("DROP TABLE lookup_probe"))


def _with_a_writing_read_route(application: FastAPI) -> FastAPI:
    @application.get("/test/writes-in-a-read")
    def writes(session: ReadSessionDep) -> dict[str, int]:
        session.execute(text("UPDATE store SET pick_minutes = pick_minutes + 1"))
        return {"wrote": 1}

    return application


@BOTH_DATABASES
def test_a_route_that_writes_in_its_read_session_fails_loudly_in_the_tests(
    app: FastAPI, session: Session
) -> None:
    make_store(session, "S1")
    session.commit()
    with TestClient(_with_a_writing_read_route(app), raise_server_exceptions=False) as client:
        response = client.get("/test/writes-in-a-read")
        # A bug (500, logged with its stack), not "the database is unavailable" (503).
        assert response.status_code == 500, response.text
        assert response.json()["code"] == "internal_error"
        # And the test's own session writes again afterwards.
        make_store(session, "S2")
        session.commit()
        assert client.get("/mobile/v1/stores/S2").status_code == 200


@BOTH_DATABASES
def test_a_route_that_writes_in_its_read_session_fails_loudly_when_served(
    committed_client: TestClient, engine: Engine
) -> None:
    with Session(engine) as session:
        make_store(session, "S1")
        session.commit()
    with TestClient(
        _with_a_writing_read_route(committed_client.app),  # type: ignore[arg-type]
        raise_server_exceptions=False,
    ) as client:
        response = client.get("/test/writes-in-a-read")
    assert response.status_code == 500, response.text
    with Session(engine) as session:
        minutes = session.execute(text("SELECT pick_minutes FROM store WHERE code = 'S1'")).scalar_one()
    assert minutes == 60  # unchanged: the default


@ON_SQLITE
def test_a_shopper_read_answers_while_a_writer_holds_the_write_lock(
    committed_client: TestClient, engine: Engine, committed_key: Callable[..., dict[str, str]]
) -> None:
    with Session(engine) as session:
        make_store(session, "S1", name="Before")
        session.commit()
    staff = committed_key("staff", "S1")
    with engine.connect() as writer:
        writer.begin()  # BEGIN IMMEDIATE: the one write lock, held until the end of this block
        writer.execute(text("UPDATE store SET name = 'During' WHERE code = 'S1'"))
        # A change to the network says so, as `stores.service.upsert_stores` does.
        writer.execute(text("UPDATE store_network_revision SET token = 'during' WHERE id = 1"))
        started = time.monotonic()
        store = committed_client.get("/mobile/v1/stores/S1")
        pick_list = committed_client.get("/staff/v1/stores/S1/orders", headers=staff)
        elapsed = time.monotonic() - started
        # Readers read the last committed state beside the writer; before, they queued for its lock
        # (up to the 30 s busy timeout, then a 503 "database is locked").
        assert store.status_code == 200, store.text
        assert store.json()["name"] == "Before"
        assert pick_list.status_code == 200, pick_list.text
        assert elapsed < 5, elapsed
        writer.commit()
    # Another connection's change reaches this process's store network within `STALE_AFTER_S`.
    stores_network.forget()
    assert committed_client.get("/mobile/v1/stores/S1").json()["name"] == "During"


@ON_SQLITE
def test_a_reading_request_is_one_deferred_transaction_key_check_included(
    committed_client: TestClient, engine: Engine, committed_key: Callable[..., dict[str, str]]
) -> None:
    with Session(engine) as session:
        make_store(session, "S1")
        session.commit()
    staff = committed_key("staff", "S1")
    begun: list[str] = []

    def note(conn: Any, cursor: Any, statement: str, *_: Any) -> None:
        if statement.startswith("BEGIN"):
            begun.append(statement)

    event.listen(engine, "before_cursor_execute", note)
    try:
        assert committed_client.get("/staff/v1/stores/S1/orders", headers=staff).status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", note)
    assert begun == ["BEGIN"]


@ON_SQLITE
def test_writers_still_serialise(engine: Engine) -> None:
    with Session(engine) as session:
        make_store(session, "S1", pick_minutes=0)
        session.commit()
    errors: list[BaseException] = []

    def add_one() -> None:
        # Read, think, write: two deferred transactions doing this at once would lose an update, or
        # one would fail to upgrade its read lock (SQLITE_BUSY). BEGIN IMMEDIATE queues them instead.
        try:
            with session_scope(engine) as session:
                query = text("SELECT pick_minutes FROM store WHERE code = 'S1'")
                minutes = session.execute(query).scalar_one()
                time.sleep(0.02)
                session.execute(
                    text("UPDATE store SET pick_minutes = :n WHERE code = 'S1'"), {"n": minutes + 1}
                )
        except BaseException as exc:
            errors.append(exc)

    try:
        threads = [threading.Thread(target=add_one) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        with Session(engine) as session:
            total = session.execute(text("SELECT pick_minutes FROM store WHERE code = 'S1'")).scalar_one()
        assert total == 8
    finally:
        empty_tables(engine)


def test_shopper_reads_run_at_most_two_at_a_time(
    committed_client: TestClient, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`LookupRoute.threads`: six store reads at once run at most two at a time, in worker threads (not
    on the event loop), where anyio's shared limit would have let all six run; the answers are what they
    were."""
    with Session(engine) as session:
        make_store(session, "S1")
        session.commit()
    looked_up = stores_service.shopper_store
    threads: list[int] = []
    in_flight, most = [0], [0]
    guard = threading.Lock()

    def slowly(*args: Any, **kwargs: Any) -> Any:
        with guard:
            threads.append(threading.get_ident())
            in_flight[0] += 1
            most[0] = max(most[0], in_flight[0])
        time.sleep(0.05)
        with guard:
            in_flight[0] -= 1
        return looked_up(*args, **kwargs)

    monkeypatch.setattr(stores_service, "shopper_store", slowly)
    barrier = threading.Barrier(6)
    answers: list[tuple[int, str]] = []

    def read() -> None:
        barrier.wait()
        answer = committed_client.get("/mobile/v1/stores/S1")
        answers.append((answer.status_code, answer.json()["code"]))

    readers = [threading.Thread(target=read) for _ in range(6)]
    for reader in readers:
        reader.start()
    for reader in readers:
        reader.join()
    assert answers == [(200, "S1")] * 6
    assert len(threads) == 6
    assert threading.get_ident() not in threads
    assert most[0] == LookupRoute.threads == 2

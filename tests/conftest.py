"""Test fixtures: real PostgreSQL (and the embedded SQLite default), each test in a rolled-back transaction.

PostgreSQL: `RETAIL_TEST_DATABASE_URL` (default: a database named after this run on 127.0.0.1:5432), created
once per run, brought up by the real migrations and dropped at the end. Redis: `RETAIL_TEST_REDIS_URL`
(default: a database number on 127.0.0.1:6379 that no other run holds). See tests/run_services.py.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests import run_services  # imports no app module, so the settings below still come first

PG_URL = run_services.database_url()
REDIS_URL = run_services.claim_redis_url()

# Settings are read once per process; point them at the test services before any app module loads.
os.environ["RETAIL_DATABASE_URL"] = PG_URL
os.environ["RETAIL_REDIS_URL"] = REDIS_URL
os.environ["RETAIL_SECRET_KEY"] = "test-secret-key-not-for-production"
# The whole suite comes from one client address; the tests of the shopper limit lower it themselves.
os.environ["RETAIL_SHOPPER_REQUESTS_PER_MINUTE"] = "100000000"
# In-process clients read a response whole, so a desk's event stream must end for its request to: within
# a second (tests/orders/test_desk_stream.py and tests/e2e/test_desk_events.py set their own).
os.environ["RETAIL_DESK_STREAM_MAX_S"] = "1"

import psycopg  # noqa: E402
from fastapi import FastAPI  # noqa: E402
from fastapi.testclient import TestClient  # noqa: E402
from sqlalchemy import Engine  # noqa: E402
from sqlmodel import Session  # noqa: E402

from app.main import create_app  # noqa: E402
from app.migrations import upgrade_database  # noqa: E402
from inventory import confidence  # noqa: E402
from orders import queueing  # noqa: E402
from orders import service as orders_service  # noqa: E402
from orders import tasks as orders_tasks  # noqa: E402
from retail import dialect, metrics  # noqa: E402
from retail.auth import Role, create_api_key  # noqa: E402
from retail.db import (  # noqa: E402
    get_read_session,
    get_session,
    make_engine,
    read_session_scope,
    session_scope,
)
from retail.replica import get_lookup_session  # noqa: E402
from retail.settings import Settings  # noqa: E402
from stores import network as stores_network  # noqa: E402
from tests.factories import empty_tables, make_coffee_shop  # noqa: E402


def pytest_sessionfinish(session: pytest.Session) -> None:
    run_services.release_redis_url(REDIS_URL)


@pytest.fixture(scope="session")
def pg_settings() -> Iterator[Settings]:
    settings = Settings(database_url=PG_URL, redis_url=REDIS_URL, secret_key=os.environ["RETAIL_SECRET_KEY"])
    run_services.create_database(settings.sqlalchemy_url)
    upgrade_database(settings)
    yield settings
    run_services.drop_database(settings.sqlalchemy_url)


@pytest.fixture(scope="session")
def sqlite_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    path: Path = tmp_path_factory.mktemp("sqlite") / "winkelpunt.db"
    settings = Settings(database_url=f"sqlite:///{path}", redis_url=None, secret_key="sqlite-test-secret-key")
    upgrade_database(settings)
    return settings


@pytest.fixture(scope="session")
def pg_engine(pg_settings: Settings) -> Iterator[Engine]:
    engine = make_engine(pg_settings.sqlalchemy_url)
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def sqlite_engine(sqlite_settings: Settings) -> Iterator[Engine]:
    engine = make_engine(sqlite_settings.sqlalchemy_url)
    yield engine
    engine.dispose()


@pytest.fixture
def own_engine(pg_engine: Engine) -> Iterator[Engine]:
    """A PostgreSQL engine of the test's own, so that killing its connections leaves the shared one alone."""
    engine = make_engine(pg_engine.url.render_as_string(hide_password=False))
    yield engine
    engine.dispose()


def terminate_backend(pid: int) -> None:
    """End the PostgreSQL server process `pid` (a connection the server drops), waiting until it is gone."""
    with psycopg.connect(PG_URL, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s, 5000)", (pid,))


@pytest.fixture(params=["postgresql"])
def engine(request: pytest.FixtureRequest) -> Engine:
    """The database under test: PostgreSQL, or SQLite where a test parametrizes it in."""
    fixture = "pg_engine" if request.param == "postgresql" else "sqlite_engine"
    return request.getfixturevalue(fixture)  # type: ignore[no-any-return]


# The instant the suite's stock counts are judged at (inventory/confidence.py): they carry fixed dates
# (tests/factories.py, COUNTED_AT and later ones), so their confidence is judged as of 29 November
# 2026 rather than decaying with the calendar. Tests of confidence itself set the instant they need.
CONFIDENCE_JUDGED_AT = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def judged_stock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(confidence, "judged_at", lambda: CONFIDENCE_JUDGED_AT)


@pytest.fixture(autouse=True)
def fresh_store_network() -> None:
    """Each API process keeps the store network in memory (`stores.network`) and would see another test's
    rolled-back or emptied stores for up to `STALE_AFTER_S`: each test starts from the database."""
    stores_network.forget()


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    """A session inside a transaction that is rolled back after the test; commits become savepoints."""
    with engine.connect() as connection:
        transaction = connection.begin()
        with Session(bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False) as db:
            yield db
        transaction.rollback()


@pytest.fixture
def app(session: Session) -> FastAPI:
    application = create_app()

    def test_session() -> Iterator[Session]:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise

    def test_read_session() -> Iterator[Session]:
        # What the request's own read session would refuse, this one refuses too: a route taking
        # ReadSessionDep that writes fails its test. What the test made before is kept, as a writing
        # request would keep it.
        session.commit()
        with dialect.writes_refused(session):
            yield session

    application.dependency_overrides[get_session] = test_session
    application.dependency_overrides[get_read_session] = test_read_session
    application.dependency_overrides[get_lookup_session] = test_read_session
    return application


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.fixture
def committed_client(engine: Engine) -> Iterator[TestClient]:
    """A client whose requests commit for real, for behaviour across transactions (feeds, concurrency).
    Every table is emptied afterwards."""
    application = create_app()

    reading = dialect.read_only(engine)

    def real_session() -> Iterator[Session]:
        with session_scope(engine) as db:
            yield db

    def real_read_session() -> Iterator[Session]:
        with read_session_scope(reading) as db:
            yield db

    application.dependency_overrides[get_session] = real_session
    application.dependency_overrides[get_read_session] = real_read_session
    # The primary: tests/test_replica_routing.py takes this override off to test the replica's own.
    application.dependency_overrides[get_lookup_session] = real_read_session
    try:
        with TestClient(application, raise_server_exceptions=False) as test_client:
            yield test_client
    finally:
        empty_tables(engine)


@pytest.fixture
def committed_key(engine: Engine) -> Callable[..., dict[str, str]]:
    def make(role: str, store_code: str | None = None) -> dict[str, str]:
        with Session(engine) as db:
            secret = create_api_key(db, role=Role(role), store_code=store_code)
            db.commit()
        return {"Authorization": f"Bearer {secret}"}

    return make


@pytest.fixture
def make_key(session: Session) -> Callable[..., dict[str, str]]:
    """Create an API key and return the Authorization header for it."""

    def make(role: str, store_code: str | None = None, label: str = "") -> dict[str, str]:
        secret = create_api_key(session, role=Role(role), store_code=store_code, label=label)
        session.commit()  # a request that fails and rolls back must not take the key with it
        return {"Authorization": f"Bearer {secret}"}

    return make


@pytest.fixture
def clean_shared() -> Iterator[None]:
    """The metrics the processes share (`retail.metrics.shared`), empty before and after the test."""
    metrics.shared.clear()
    yield
    metrics.shared.clear()


@pytest.fixture
def open_stores(session: Session, monkeypatch: pytest.MonkeyPatch) -> None:
    """`make_coffee_shop` in the test's session (S1, S2 and NO-CNC, KOFFIE and THEE in stock), committed
    (a savepoint); a reservation runs as soon as its order is placed, in a transaction of its own on the
    test's connection, as the worker would."""
    make_coffee_shop(session)
    session.commit()

    def reserve_now(order_pk: int) -> None:
        # What the worker does, in a transaction of its own on this test's connection.
        with Session(bind=session.bind, join_transaction_mode="create_savepoint") as worker:
            orders_service.reserve_order(worker, order_pk=order_pk)
            worker.commit()

    monkeypatch.setattr(orders_tasks, "send_reservation", reserve_now)
    monkeypatch.setattr(queueing, "queue_reservation", lambda order_pk, store_code: reserve_now(order_pk))

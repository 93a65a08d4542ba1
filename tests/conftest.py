"""Test fixtures: real PostgreSQL (and the embedded SQLite default), each test in a rolled-back transaction.

PostgreSQL: `RETAIL_TEST_DATABASE_URL` (default: a database named after this run on 127.0.0.1:5432), created
once per run, brought up by the real migrations and dropped at the end. Redis: `RETAIL_TEST_REDIS_URL`
(default: a database number on 127.0.0.1:6379 that no other run holds). See tests/run_services.py.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

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

from fastapi import FastAPI  # noqa: E402
from fastapi.testclient import TestClient  # noqa: E402
from sqlalchemy import Engine  # noqa: E402
from sqlmodel import Session, select  # noqa: E402

from app.main import create_app  # noqa: E402
from app.migrations import upgrade_database  # noqa: E402
from app.registry import metadata  # noqa: E402
from retail.auth import Role, create_api_key  # noqa: E402
from retail.db import get_session, make_engine, session_scope  # noqa: E402
from retail.settings import Settings  # noqa: E402


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


@pytest.fixture(params=["postgresql"])
def engine(request: pytest.FixtureRequest) -> Engine:
    """The database under test: PostgreSQL, or SQLite where a test parametrizes it in."""
    fixture = "pg_engine" if request.param == "postgresql" else "sqlite_engine"
    return request.getfixturevalue(fixture)  # type: ignore[no-any-return]


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

    application.dependency_overrides[get_session] = test_session
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

    def real_session() -> Iterator[Session]:
        with session_scope(engine) as db:
            yield db

    application.dependency_overrides[get_session] = real_session
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

    def make(role: str, store_code: str | None = None) -> dict[str, str]:
        secret = create_api_key(session, role=Role(role), store_code=store_code)
        session.commit()  # a request that fails and rolls back must not take the key with it
        return {"Authorization": f"Bearer {secret}"}

    return make


def store_row(code: str = "NL-TST-001", **overrides: Any) -> dict[str, Any]:
    """A valid admin-upsert store object; override any top-level field."""
    row: dict[str, Any] = {
        "code": code,
        "name": f"Winkelpunt {code}",
        "address": {"street": "Hoogstraat 1", "postcode": "3511 AA", "city": "Utrecht", "country": "NL"},
        "location": {"lat": 52.0907, "lon": 5.1214},
        "timezone": "Europe/Amsterdam",
        "phone": "+31 30 555 0100",
        "click_and_collect": True,
        "hours": {
            "weekly": {
                day: [{"opens": "09:00", "closes": "18:00"}]
                for day in ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday")
            },
            "special": [],
        },
    }
    row.update(overrides)
    return row


ALWAYS_OPEN: dict[str, Any] = {
    "weekly": {
        day: [{"opens": "00:00", "closes": "24:00"}]
        for day in ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
    },
    "special": [],
}


def empty_tables(engine: Engine) -> None:
    """Delete every row a test committed (the schema and its migrations stay)."""
    with engine.begin() as connection:
        for table in reversed(metadata.sorted_tables):
            if table.name != "alembic_version":
                connection.execute(table.delete())


@contextmanager
def committed_catalogue(engine: Engine, skus: list[str]) -> Iterator[Engine]:
    """Stores S1 and S2 and a product per sku, committed for real, without stock; emptied afterwards."""
    from inventory import service as inventory_service
    from stores import service as stores_service

    with Session(engine) as session:
        stores_service.upsert_stores(session, rows=[store_row("S1"), store_row("S2")])
        inventory_service.upsert_products(
            session, rows=[{"sku": s, "name": s, "online_price": {"amount": "1.00"}} for s in skus]
        )
        session.commit()
    try:
        yield engine
    finally:
        empty_tables(engine)


@contextmanager
def committed_shop(engine: Engine, store_code: str, stock: dict[str, int]) -> Iterator[None]:
    """A store open around the clock with these skus in stock, committed for real; emptied afterwards.
    For tests of behaviour across transactions, processes and workers."""
    from inventory import service as inventory_service
    from stores import service as stores_service

    with Session(engine) as session:
        stores_service.upsert_stores(
            session, rows=[store_row(store_code, hours=ALWAYS_OPEN, closed_on_public_holidays=False)]
        )
        inventory_service.upsert_products(
            session, rows=[{"sku": sku, "name": sku, "online_price": {"amount": "1.00"}} for sku in stock]
        )
        counts = [
            {"store_code": store_code, "sku": sku, "on_hand": n, "as_of": "2026-11-23T06:00:00+01:00"}
            for sku, n in stock.items()
        ]
        inventory_service.apply_snapshots(session, rows=list(enumerate(counts)))
        session.commit()
    try:
        yield
    finally:
        empty_tables(engine)


def stock_of(session: Session, store_code: str, sku: str) -> Any:
    """The stock row of (store, sku) as the database has it now, or None."""
    from inventory.models import Product, Stock
    from stores.models import Store

    session.expire_all()
    return session.exec(
        select(Stock)
        .join(Store, Store.id == Stock.store_id)  # type: ignore[arg-type]
        .join(Product, Product.id == Stock.product_id)  # type: ignore[arg-type]
        .where(Store.code == store_code, Product.sku == sku)
    ).first()


def commit_order(
    engine: Engine,
    store_code: str,
    lines: dict[str, int],
    *,
    key: str,
    send: Callable[[int], object] = lambda _pk: None,
    reserve: bool = False,
    customer_name: str = "Klant",
) -> Any:
    """Place an order through the service and commit it (its reservation handed to `send`); with
    `reserve`, run the reservation right here too. Answers the order."""
    from orders import service as orders_service
    from orders.schemas import OrderIn

    order_in = OrderIn.model_validate(
        {
            "store_code": store_code,
            "lines": [{"sku": sku, "quantity": quantity} for sku, quantity in lines.items()],
            "customer": {"name": customer_name, "email": "klant@example.nl"},
        }
    )

    def send_reservation(order_pk: int) -> None:
        send(order_pk)

    with Session(engine, expire_on_commit=False) as session:
        order, _ = orders_service.place_order(
            session, order_in=order_in, idempotency_key=key, send_reservation=send_reservation
        )
        session.commit()
        if reserve:
            assert order.id is not None
            orders_service.reserve_order(session, order_pk=order.id)
            session.commit()
        return order

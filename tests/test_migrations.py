"""The migrations build exactly the schema the models describe, on PostgreSQL and SQLite; the search
migration (0006) fills in the products already there, the counter fields' (0008) the orders already there,
the returns' (0013) gives the stores already there their `return_days`, and each can be undone."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, inspect, text
from sqlmodel import Session

from app.migrations import alembic_config, upgrade_database
from app.registry import include_object, metadata
from inventory import service as inventory_service
from retail.db import make_engine
from retail.settings import Settings
from tests import run_services
from tests.conftest import PG_URL


@pytest.mark.parametrize("engine", ["postgresql", "sqlite"], indirect=True)
def test_migrated_schema_matches_the_models(engine: Engine) -> None:
    with engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"render_as_batch": True, "include_object": include_object}
        )
        assert compare_metadata(context, metadata) == []


@pytest.fixture(params=["postgresql", "sqlite"])
def scratch(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Settings]:
    """An empty database of its own, for migrating up and down."""
    if request.param == "sqlite":
        yield Settings(
            database_url=f"sqlite:///{tmp_path / 'scratch.db'}",
            redis_url=None,
            secret_key="scratch-secret-key",
        )
        return
    settings = Settings(database_url=f"{PG_URL}_scratch", redis_url=None, secret_key="scratch-secret-key")
    run_services.create_database(settings.sqlalchemy_url)
    try:
        yield settings
    finally:
        run_services.drop_database(settings.sqlalchemy_url)


def _search_objects(engine: Engine) -> set[str]:
    with engine.connect() as connection:
        if engine.dialect.name == "postgresql":
            found = connection.execute(
                text("SELECT indexname FROM pg_indexes WHERE tablename = 'product'")
            ).scalars()
        else:
            found = connection.execute(
                text("SELECT name FROM sqlite_master WHERE name LIKE 'product_search%'")
            ).scalars()
        return {name for name in found if "search_vector" in name or name.startswith("product_search")}


def test_the_search_migration_fills_in_existing_products_and_can_be_undone(scratch: Settings) -> None:
    upgrade_database(scratch, "0005")
    engine = make_engine(scratch.sqlalchemy_url)
    try:
        with engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO product (sku, ean, name, search_name, brand, description, category, "
                    "currency, online_price, store_price, online_stock, updated_at) VALUES "
                    "('AJAX-1', '8710908000017', 'Allesreiniger Citroen 1 liter', "
                    "'allesreiniger citroen 1 liter', 'Ajax', '', '', 'EUR', 2.49, 2.49, 0, "
                    "'2026-11-23 12:00:00')"
                )
            )
        upgrade_database(scratch)
        expected = (
            {"ix_product_search_vector"}
            if engine.dialect.name == "postgresql"
            else {"product_search", "product_search_insert", "product_search_update", "product_search_delete"}
        )
        assert expected <= _search_objects(engine)
        with Session(engine) as session:
            for q in ("ajax citroen", "CITROËN aj", "8710908"):
                found, _ = inventory_service.search_products(
                    session, terms=inventory_service.search_terms(q), ean=None, limit=5, after=None
                )
                assert [p.sku for p in found] == ["AJAX-1"], q
        command.downgrade(alembic_config(scratch), "0005")
        assert _search_objects(engine) == set()
        columns = {c["name"] for c in inspect(engine).get_columns("product")}
        assert not {"search_words", "search_vector"} & columns
        upgrade_database(scratch)
        assert expected <= _search_objects(engine)
    finally:
        engine.dispose()


_ORDERS_BEFORE_0008 = [
    "INSERT INTO store (id, code, name, street, postcode, city, country, lat, lon, timezone, "
    "click_and_collect, low_stock_threshold, hold_hours, pick_minutes, closed_on_public_holidays, hours, "
    "created_at, updated_at) VALUES "
    "(1, 'NL-1', 'Utrecht', 'Hoogstraat 1', '3511 AA', 'Utrecht', 'NL', 52.09, 5.12, 'Europe/Amsterdam', "
    "true, 2, 72, 60, true, '{}', '2026-11-23 12:00:00', '2026-11-23 12:00:00'), "
    "(2, 'DE-1', 'Aachen', 'Markt 1', '52062', 'Aachen', 'DE', 50.78, 6.08, 'Europe/Berlin', "
    "true, 2, 72, 60, true, '{}', '2026-11-23 12:00:00', '2026-11-23 12:00:00')",
    "INSERT INTO product (id, sku, name, search_name, brand, description, category, currency, "
    "online_price, store_price, online_stock, updated_at) VALUES "
    "(1, 'KOFFIE', 'Koffie', 'koffie', '', '', '', 'EUR', 1.00, 1.00, 0, '2026-11-23 12:00:00')",
    "INSERT INTO api_key (id, secret_hash, role, store_code, label, created_at) VALUES "
    "(1, 'a', 'staff', 'NL-1', 'NL-1 desk', '2026-11-23 12:00:00'), "
    "(2, 'b', 'admin', NULL, '', '2026-11-23 12:00:00')",
    'INSERT INTO "order" (id, order_id, store_id, store_snapshot, status, customer_name, customer_email, '
    "total, currency, created_at, updated_at) VALUES "
    "(1, 'ord_collected', 1, '{}', 'collected', 'A', 'a@b.nl', 2.00, 'EUR', "
    "'2026-11-23 12:00:00', '2026-11-23 12:00:00'), "
    "(2, 'ord_reserved', 2, '{}', 'reserved', 'A', 'a@b.nl', 3.00, 'EUR', "
    "'2026-11-23 12:00:00', '2026-11-23 12:00:00')",
    "INSERT INTO order_line (order_pk, product_id, sku, name, quantity, unit_price) VALUES "
    "(1, 1, 'KOFFIE', 'Koffie', 2, 1.00), (2, 1, 'KOFFIE', 'Koffie', 3, 1.00)",
    "INSERT INTO order_event (order_pk, status, at, actor_key_id) VALUES "
    "(1, 'pending', '2026-11-23 12:00:00', NULL), (1, 'reserved', '2026-11-23 12:00:01', NULL), "
    "(1, 'ready_for_pickup', '2026-11-23 12:30:00', 2), (1, 'collected', '2026-11-23 13:00:00', 1), "
    "(2, 'pending', '2026-11-23 12:00:00', NULL), (2, 'reserved', '2026-11-23 12:00:01', NULL)",
]


def test_the_counter_fields_migration_fills_in_existing_orders_and_can_be_undone(scratch: Settings) -> None:
    upgrade_database(scratch, "0007")
    engine = make_engine(scratch.sqlalchemy_url)
    try:
        with engine.begin() as connection:
            for statement in _ORDERS_BEFORE_0008:
                connection.execute(text(statement))
        upgrade_database(scratch)
        with engine.connect() as connection:
            orders = connection.execute(
                text('SELECT order_id, locale, pickup_person_name FROM "order" ORDER BY id')
            ).all()
            lines = connection.execute(
                text("SELECT order_pk, picked, collected FROM order_line ORDER BY order_pk")
            ).all()
            labels = connection.execute(
                text("SELECT status, actor_label FROM order_event WHERE order_pk = 1 ORDER BY id")
            ).all()
        assert [tuple(row) for row in orders] == [("ord_collected", "nl", None), ("ord_reserved", "en", None)]
        assert [tuple(row) for row in lines] == [(1, 2, 2), (2, None, None)]
        assert [tuple(row) for row in labels] == [
            ("pending", None),
            ("reserved", None),
            ("ready_for_pickup", "key 2"),
            ("collected", "NL-1 desk"),
        ]
        command.downgrade(alembic_config(scratch), "0007")
        assert "locale" not in {c["name"] for c in inspect(engine).get_columns("order")}
        assert "picked" not in {c["name"] for c in inspect(engine).get_columns("order_line")}
        assert "actor_label" not in {c["name"] for c in inspect(engine).get_columns("order_event")}
        upgrade_database(scratch)
        assert "locale" in {c["name"] for c in inspect(engine).get_columns("order")}
    finally:
        engine.dispose()


def test_the_returns_migration_gives_existing_stores_30_days_and_can_be_undone(scratch: Settings) -> None:
    upgrade_database(scratch, "0008")
    engine = make_engine(scratch.sqlalchemy_url)
    try:
        with engine.begin() as connection:
            connection.execute(text(_ORDERS_BEFORE_0008[0]))  # two stores, from before `return_days`
        upgrade_database(scratch)
        with engine.connect() as connection:
            days = connection.execute(text("SELECT code, return_days FROM store ORDER BY id")).all()
        assert [tuple(row) for row in days] == [("NL-1", 30), ("DE-1", 30)]
        assert {"order_return", "order_return_line"} <= set(inspect(engine).get_table_names())
        command.downgrade(alembic_config(scratch), "0012")
        assert "return_days" not in {c["name"] for c in inspect(engine).get_columns("store")}
        assert not {"order_return", "order_return_line"} & set(inspect(engine).get_table_names())
        upgrade_database(scratch)
        assert "return_days" in {c["name"] for c in inspect(engine).get_columns("store")}
    finally:
        engine.dispose()


def test_the_arrivals_migration_keeps_existing_stores_and_orders_and_can_be_undone(scratch: Settings) -> None:
    upgrade_database(scratch, "0008")
    engine = make_engine(scratch.sqlalchemy_url)
    try:
        with engine.begin() as connection:
            for statement in _ORDERS_BEFORE_0008:
                connection.execute(text(statement))
        upgrade_database(scratch)
        with engine.connect() as connection:
            stores = connection.execute(text("SELECT code, handover_minutes FROM store ORDER BY id")).all()
            arrivals = connection.execute(
                text(
                    'SELECT arrival_status, arrival_at, arrival_eta, arrival_where, arrival_bay FROM "order"'
                )
            ).all()
            events = connection.execute(text("SELECT count(*) FROM desk_event")).scalar_one()
            counters = connection.execute(text("SELECT count(*) FROM desk_event_counter")).scalar_one()
        assert [tuple(row) for row in stores] == [("NL-1", 5), ("DE-1", 5)]
        assert [tuple(row) for row in arrivals] == [(None,) * 5] * 2
        assert (events, counters) == (0, 0)
        command.downgrade(alembic_config(scratch), "0013")
        assert "handover_minutes" not in {c["name"] for c in inspect(engine).get_columns("store")}
        assert "arrival_status" not in {c["name"] for c in inspect(engine).get_columns("order")}
        assert not {"desk_event", "desk_event_counter"} & set(inspect(engine).get_table_names())
        upgrade_database(scratch)
        assert "desk_event" in set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_the_report_migration_fills_in_existing_orders_from_their_history_and_can_be_undone(
    scratch: Settings,
) -> None:
    upgrade_database(scratch, "0008")
    engine = make_engine(scratch.sqlalchemy_url)
    try:
        with engine.begin() as connection:
            for statement in _ORDERS_BEFORE_0008:
                connection.execute(text(statement))
            # Order 2 was picked short since: 1 of its 3 units.
            connection.execute(text("UPDATE order_line SET picked = 1 WHERE order_pk = 2"))
        upgrade_database(scratch)
        with engine.connect() as connection:
            rows = connection.execute(
                text(
                    "SELECT order_id, reserved_at, ready_at, collected_at, short_picked "
                    'FROM "order" ORDER BY id'
                )
            ).all()
        stamps = [
            (row[0], *(None if t is None else str(t)[:19] for t in row[1:4]), bool(row[4])) for row in rows
        ]
        assert stamps == [
            ("ord_collected", "2026-11-23 12:00:01", "2026-11-23 12:30:00", "2026-11-23 13:00:00", False),
            ("ord_reserved", "2026-11-23 12:00:01", None, None, True),
        ]
        command.downgrade(alembic_config(scratch), "0014")
        columns = {c["name"] for c in inspect(engine).get_columns("order")}
        assert not {"reserved_at", "promised_ready_by", "ready_at", "collected_at", "short_picked"} & columns
        upgrade_database(scratch)
        assert "short_picked" in {c["name"] for c in inspect(engine).get_columns("order")}
    finally:
        engine.dispose()

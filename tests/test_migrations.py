"""The migrations build exactly the schema the models describe, on PostgreSQL and SQLite, and the search
migration (0006) fills in the products already there and can be undone."""

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

"""Alembic environment: the schema is `app.registry.metadata`, the URL comes from the settings."""

from __future__ import annotations

from alembic import context

from app.registry import include_object, metadata
from retail.db import make_engine
from retail.settings import get_settings

config = context.config
url = config.attributes.get("database_url") or get_settings().sqlalchemy_url


def run_migrations_offline() -> None:
    context.configure(
        url=url,
        target_metadata=metadata,
        include_object=include_object,
        literal_binds=True,
        render_as_batch=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    engine = make_engine(url)
    with engine.connect() as connection:
        # Batch mode lets the same migrations alter tables on SQLite, which lacks most ALTER TABLE forms.
        context.configure(
            connection=connection,
            target_metadata=metadata,
            include_object=include_object,
            render_as_batch=True,
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()

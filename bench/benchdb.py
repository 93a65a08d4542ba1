"""The throwaway PostgreSQL database a benchmark runs against."""

from __future__ import annotations

import os

import psycopg
from sqlalchemy.engine import make_url


def fresh_database(database_url: str, *, redis_url: str | None = None) -> str:
    """Drop and re-create the database, migrate it and point the app's settings at it and at `redis_url`
    (None: no broker, tasks in-process), set before the app's modules load: migrating imports every
    domain's tasks, which configures the Celery app. Answers a psycopg connection string for the
    benchmark's own baseline queries."""
    os.environ["RETAIL_DATABASE_URL"] = database_url
    os.environ.setdefault("RETAIL_SECRET_KEY", "bench-secret-key-not-for-production")
    # Every benchmark request comes from one client address: the per-client shopper limit would cut it off.
    os.environ.setdefault("RETAIL_SHOPPER_REQUESTS_PER_MINUTE", "1000000000")
    if redis_url is None:
        os.environ.pop("RETAIL_REDIS_URL", None)
    else:
        os.environ["RETAIL_REDIS_URL"] = redis_url
    url = make_url(database_url)
    admin = url.set(drivername="postgresql", database="postgres").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{url.database}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{url.database}"')
    from app.migrations import upgrade_database

    upgrade_database()
    return url.set(drivername="postgresql").render_as_string(hide_password=False)

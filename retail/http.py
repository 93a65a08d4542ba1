"""What every HTTP app built on this kernel gets: stable operation ids, parameters without NUL, the health
probes and an OpenAPI document whose problems are `application/problem+json`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from pydantic import BaseModel, Field
from redis import Redis
from sqlalchemy import text

from retail import replica
from retail.db import get_read_engine
from retail.errors import InvalidInput, problem_json_content
from retail.settings import get_settings


def operation_id(route: APIRoute) -> str:
    """Stable ids from the route's explicit name, so the mobile team's generated clients never churn when a
    handler function is renamed or moved."""
    return route.name


async def no_nul_in_parameters(request: Request) -> None:
    """A NUL character can be neither stored nor looked up (PostgreSQL refuses it in text), so a query or
    path parameter holding one is refused here, naming it, before any handler passes it to the database.
    Asynchronous: it does no I/O, and a synchronous dependency costs every request a hop to a thread."""
    for location, params in (("path", request.path_params), ("query", request.query_params)):
        for name, value in params.items():
            if isinstance(value, str) and "\x00" in value:
                raise InvalidInput("contains a NUL character", field=f"{location}.{name}")


class Health(BaseModel):
    status: str
    database: str | None = None
    broker: str | None = None
    replica: str | None = Field(
        default=None,
        description="the read replica (RETAIL_DATABASE_REPLICA_URL): `ok`, or `fallback: <why>` while the "
        "lookups read the primary instead, which leaves the service ready; null without a replica",
        examples=["ok", "fallback: unreachable: OperationalError"],
    )


def install_health(app: FastAPI) -> None:
    @app.get("/healthz", name="healthz", tags=["health"], response_model=Health)
    def healthz() -> Health:
        """The process is alive."""
        return Health(status="ok")

    @app.get(
        "/readyz", name="readyz", tags=["health"], response_model=Health, responses={503: {"model": Health}}
    )
    def readyz() -> Any:
        """The database and the broker are reachable (else 503). With a read replica, `replica` says
        whether it is too; one out of reach is reported but does not make the service unready, since
        its reads then go to the primary."""
        health = Health(status="ok", database="ok", broker="in-process")
        try:
            with get_read_engine().connect() as connection:
                connection.execute(text("SELECT 1"))
        except Exception as exc:  # any failure to reach the database means "not ready"
            health.database = f"unreachable: {type(exc).__name__}"
            health.status = "unavailable"
        health.replica = replica.probe()
        redis_url = get_settings().redis_url
        if redis_url:
            try:
                Redis.from_url(redis_url, socket_timeout=2, socket_connect_timeout=2).ping()
                health.broker = "ok"
            except Exception as exc:
                health.broker = f"unreachable: {type(exc).__name__}"
                health.status = "unavailable"
        if health.status != "ok":
            return JSONResponse(health.model_dump(), status_code=503)
        return health


def install_openapi(app: FastAPI, *, row_models: Sequence[type[BaseModel]]) -> None:
    """The app's OpenAPI document, built once: problems as `application/problem+json`, and the models of
    bulk rows, which are read leniently (validated one by one) but documented with their row models."""

    def document() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = get_openapi(
            title=app.title, version=app.version, description=app.description, routes=app.routes
        )
        problem_json_content(schema)
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        for model in row_models:
            model_schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
            for name, definition in model_schema.pop("$defs", {}).items():
                components.setdefault(name, definition)
            components[model.__name__] = model_schema
        app.openapi_schema = schema
        return schema

    app.openapi = document  # type: ignore[method-assign]

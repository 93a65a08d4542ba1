"""Contract fuzzing: schemathesis generates requests from the served OpenAPI document, for every operation,
and checks that none answers 5xx, that every answer matches its documented status, media type and schema,
and that every error is problem+json. Runs against PostgreSQL with valid keys and an order's token, so the
requests get past authentication into the handlers.

The example count per operation is bounded (`FUZZ_EXAMPLES`, default 25) so the suite stays in minutes;
raise it locally (`RETAIL_FUZZ_EXAMPLES=500 pytest tests/test_contract_fuzzing.py`) for a deeper run.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    missing_required_header,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy import Engine
from sqlmodel import Session

from app.main import create_app
from tests.factories import (
    apply_counts,
    count_row,
    empty_tables,
    make_products,
    make_stores,
    product_row,
    reserved_order,
    store_row,
)

Case = schemathesis.Case[Any]
FUZZ_EXAMPLES = int(os.environ.get("RETAIL_FUZZ_EXAMPLES", "25"))
PROBLEM_FIELDS = {"type", "title", "status", "detail", "code"}


@schemathesis.check
def errors_are_problem_json(
    ctx: schemathesis.CheckContext, response: schemathesis.Response, case: Case
) -> bool | None:
    if response.status_code < 400:
        return None
    media_type = response.headers.get("content-type", [""])[0].split(";")[0]
    if media_type != "application/problem+json":
        raise AssertionError(f"a {response.status_code} answered {media_type}, not application/problem+json")
    body = response.json()
    missing = PROBLEM_FIELDS - body.keys()
    if missing:
        raise AssertionError(f"problem+json without {sorted(missing)}: {body}")
    if body["status"] != response.status_code:
        raise AssertionError(
            f"problem status {body['status']} differs from the HTTP status {response.status_code}"
        )
    if body["code"] == "validation_error" and not body.get("errors"):
        raise AssertionError("a validation error that names no field")
    return True


# Left out: `positive_data_acceptance`, because the contract has rules across fields that a schema cannot
# say (lat and lon together or q; in_stock needs a sku; a cursor must be one we issued), which answer 422 to
# requests the schema alone would accept.
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    negative_data_rejection,
    missing_required_header,
    errors_are_problem_json,
]


class World:
    def __init__(self, keys: dict[str, str], order_id: str, order_token: str) -> None:
        self.keys = keys
        self.order_id = order_id
        self.order_token = order_token


@pytest.fixture(scope="module")
def fuzz_world(pg_engine: Engine) -> Iterator[World]:
    """Two stores with stock, a key of each role and an order reserved, committed for the whole module;
    emptied afterwards."""
    from orders import service as orders_service
    from retail.auth import Role, create_api_key

    empty_tables(pg_engine)
    with Session(pg_engine) as session:
        make_stores(
            session,
            [
                store_row("NL-AMS-001", always_open=True),
                store_row("NL-UTR-001", location={"lat": 52.09, "lon": 5.12}),
            ],
        )
        make_products(
            session,
            [
                product_row("WP-100234", price="12.99", ean="8712345678906", name="Koffiebonen"),
                product_row("WP-100235", price="3.49", name="Thee"),
            ],
        )
        stores, skus = ("NL-AMS-001", "NL-UTR-001"), ("WP-100234", "WP-100235")
        apply_counts(session, [count_row(store, sku, 50) for store in stores for sku in skus])
        keys = {
            role: create_api_key(
                session, role=Role(role), store_code="NL-AMS-001" if role == "staff" else None
            )
            for role in ("admin", "staff", "webshop")
        }
        session.commit()
    order = reserved_order(pg_engine, "NL-AMS-001", {"WP-100234": 1}, key="fuzz")
    yield World(keys, order.order_id, orders_service.order_token(order.order_id))
    empty_tables(pg_engine)


# Loaded when the module is imported (schemathesis parametrizes at collection); the settings already point
# at the test database, whose schema the session fixtures create before the first request is made.
# Every request commits for real, as in production; `fuzz_world` empties the tables afterwards.
fuzz_app = create_app()
# A request body over RETAIL_MAX_BODY_BYTES is refused with 413 before it is read: a rejection too.
CONFIG = schemathesis.Config.from_dict(
    {
        "checks": {
            "negative_data_rejection": {
                "expected-statuses": ["400", "401", "403", "404", "406", "413", "415", "422", "428"]
            }
        }
    }
)
schema = schemathesis.openapi.from_asgi("/openapi.json", fuzz_app, config=CONFIG)

# Bulk writes validate row by row: a bad row is reported in `errors` of a 200 and the good rows apply
# (the contract), so a schema-violating row does not make the request a rejected one. Their rows are also
# read in pydantic's lax mode (0 for false, "7" for 7), which the generator counts as violations.
BULK = {
    ("PUT", "/admin/v1/stores"),
    ("PUT", "/admin/v1/transfer-lanes"),
    ("PUT", "/sync/v1/products"),
    ("PUT", "/sync/v1/prices"),
    ("PUT", "/sync/v1/stock"),
    ("POST", "/sync/v1/stock/movements"),
}


def _negative(case: Case) -> bool:
    return case.meta is not None and case.meta.generation.mode.is_negative


def _has_unknown_query_parameters(case: Case) -> bool:
    declared = {p.name for p in case.operation.query}
    return any(name not in declared for name in (case.query or {}))


def _authorize(case: Case, world: World) -> dict[str, str]:
    """The credentials the operation needs, so generated requests reach the handler."""
    path = case.path
    if path.startswith("/admin/"):
        return {"Authorization": f"Bearer {world.keys['admin']}"}
    if path.startswith("/staff/"):
        return {"Authorization": f"Bearer {world.keys['staff']}"}
    if path.startswith("/sync/"):
        return {"Authorization": f"Bearer {world.keys['webshop']}"}
    if path.startswith("/mobile/v1/orders/{order_id}") and not _negative(case):
        # Half the valid cases address the real order (with its token), the others a generated id.
        params = case.path_parameters or {}
        if len(str(params.get("order_id", ""))) % 2 == 0:
            case.path_parameters = {**params, "order_id": world.order_id}
            return {"Authorization": f"Bearer {world.order_token}"}
    return {}


@schema.parametrize()
@settings(
    max_examples=FUZZ_EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_the_api_keeps_its_contract(case: Case, fuzz_world: World) -> None:
    # Unknown query parameters are ignored, as HTTP APIs do (cache busters, tracking tags), so a case made
    # invalid by one is not expected to be refused; nor is a bulk body with a bad row (see BULK).
    lenient = (case.method.upper(), case.path) in BULK or _has_unknown_query_parameters(case)
    checks = [c for c in CHECKS if not (lenient and c is negative_data_rejection)]
    case.call_and_validate(headers=_authorize(case, fuzz_world), checks=checks)

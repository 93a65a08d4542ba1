"""The application shell: health, errors as problem+json, body limits, API keys, the OpenAPI document."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from app.main import create_app
from retail.auth import ApiKey, Role, authenticate, create_api_key, hash_secret, revoke_api_keys
from retail.errors import InvalidInput
from retail.settings import Settings


def test_healthz(client: TestClient) -> None:
    assert client.get("/healthz").json() == {
        "status": "ok",
        "database": None,
        "broker": None,
        "replica": None,
    }


def test_readyz_checks_database_and_redis(client: TestClient) -> None:
    response = client.get("/readyz")
    assert response.status_code == 200
    # No replica configured: `replica` is there, null (a new field, present when it does not apply).
    assert response.json() == {"status": "ok", "database": "ok", "broker": "ok", "replica": None}


def test_readyz_is_503_when_the_broker_is_unreachable(monkeypatch: pytest.MonkeyPatch) -> None:
    from retail import http

    dead = Settings(database_url="sqlite:///:memory:", redis_url="redis://127.0.0.1:1/0", secret_key="x" * 32)
    monkeypatch.setattr(http, "get_settings", lambda: dead)
    with TestClient(create_app(), raise_server_exceptions=False) as client:
        response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["broker"].startswith("unreachable")


def test_a_database_out_of_reach_is_a_503_problem_to_retry() -> None:
    from collections.abc import Iterator

    from retail.db import make_engine, read_session_scope
    from retail.replica import get_lookup_session

    dead = make_engine("postgresql+psycopg://postgres@127.0.0.1:1/gone")

    def unreachable() -> Iterator[Session]:
        with read_session_scope(dead) as db:
            yield db

    app = create_app()
    app.dependency_overrides[get_lookup_session] = unreachable
    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.get("/mobile/v1/stores/NL-AMS-001")
    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["retry-after"] == "1"
    assert response.json()["code"] == "service_unavailable"


def test_unknown_route_and_wrong_method_are_problem_json(client: TestClient) -> None:
    missing = client.get("/mobile/v1/nothing-here")
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"
    assert missing.json()["code"] == "not_found"
    wrong = client.delete("/mobile/v1/stores/nearest")
    assert wrong.status_code == 405
    assert wrong.json()["code"] == "method_not_allowed"


def test_oversized_body_is_413_and_changes_nothing(
    client: TestClient, make_key: Callable[..., dict[str, str]]
) -> None:
    huge = b'{"stores": [' + b"{}," * 1_000_000 + b"{}]}"
    response = client.put(
        "/admin/v1/stores", content=huge, headers={**make_key("admin"), "content-type": "application/json"}
    )
    assert response.status_code == 413
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "payload_too_large"


def test_api_keys_are_stored_hashed_and_shown_once(session: Session) -> None:
    secret = create_api_key(session, role=Role.staff, store_code="NL-AMS-001", label="counter 1")
    stored = session.exec(select(ApiKey)).one()
    assert secret.startswith("wp_")
    assert len(secret) >= 40
    assert stored.secret_hash == hash_secret(secret)
    assert secret not in stored.secret_hash
    principal = authenticate(session, secret)
    assert principal is not None
    assert (principal.role, principal.store_code) == (Role.staff, "NL-AMS-001")
    assert principal.may_act_for_store("NL-AMS-001")
    assert not principal.may_act_for_store("NL-UTR-001")
    assert authenticate(session, secret + "x") is None
    assert authenticate(session, "wp_" + "A" * 43) is None


def test_key_scope_rules(session: Session) -> None:
    with pytest.raises(InvalidInput):
        create_api_key(session, role=Role.staff)
    with pytest.raises(InvalidInput):
        create_api_key(session, role=Role.webshop, store_code="NL-AMS-001")
    admin = authenticate(session, create_api_key(session, role=Role.admin))
    assert admin is not None
    assert admin.may_act_for_store("ANY-STORE")


def test_settings_refuse_postgres_without_a_secret() -> None:
    with pytest.raises(ValueError, match="RETAIL_SECRET_KEY"):
        Settings(database_url="postgresql://postgres@127.0.0.1/x", secret_key=None)
    # The embedded default's generated secret: tests/test_settings.py.
    assert Settings(database_url="postgresql://u@h:5432/d", secret_key="s" * 20).sqlalchemy_url == (
        "postgresql+psycopg://u@h:5432/d"
    )


def test_openapi_has_stable_operation_ids_and_examples(client: TestClient) -> None:
    document = client.get("/openapi.json").json()
    operations = {
        (path, method): spec["operationId"]
        for path, methods in document["paths"].items()
        for method, spec in methods.items()
    }
    assert operations[("/mobile/v1/stores/nearest", "get")] == "stores_nearest"
    assert operations[("/mobile/v1/stores/{code}", "get")] == "store_get"
    assert operations[("/mobile/v1/stores/{code}/hours", "get")] == "store_hours"
    assert operations[("/admin/v1/stores", "put")] == "admin_upsert_stores"
    assert len(set(operations.values())) == len(operations)
    schemas = document["components"]["schemas"]
    assert schemas["StoreIn"]["examples"][0]["code"] == "NL-AMS-001"
    assert schemas["NearestStores"]["examples"]
    assert schemas["StoreBatch"]["properties"]["stores"]["items"] == {"$ref": "#/components/schemas/StoreIn"}
    for ref in _refs(document):
        assert ref.removeprefix("#/components/schemas/") in schemas, ref


def _refs(node: object) -> list[str]:
    if isinstance(node, dict):
        found = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return found + [ref for value in node.values() for ref in _refs(value)]
    if isinstance(node, list):
        return [ref for value in node for ref in _refs(value)]
    return []


def test_revoked_keys_stop_working(session: Session) -> None:
    demo = create_api_key(session, role=Role.admin, label="demo")
    other = create_api_key(session, role=Role.admin, label="ops")
    assert revoke_api_keys(session, label="demo") == 1
    assert authenticate(session, demo) is None
    assert authenticate(session, other) is not None


def test_celery_runs_in_process_without_redis_and_over_redis_with_it() -> None:
    from celery import Celery

    from retail.celery_app import configure

    embedded = Celery("embedded")
    configure(embedded, Settings(database_url="sqlite:///x.db", redis_url=None, secret_key="k" * 32))
    assert embedded.conf.task_always_eager is True
    scaled = Celery("scaled")
    configure(
        scaled,
        Settings(database_url="sqlite:///x.db", redis_url="redis://127.0.0.1:6379/15", secret_key="k" * 32),
    )
    assert scaled.conf.task_always_eager is False
    assert scaled.conf.broker_url == "redis://127.0.0.1:6379/15"
    assert scaled.conf.task_acks_late is True
    assert scaled.conf.task_reject_on_worker_lost is True

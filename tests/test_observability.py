"""Structured logs with a request id, and the Prometheus metrics at /metrics."""

from __future__ import annotations

import io
import json
import logging
import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from sqlmodel import Session

from inventory import service as inventory_service
from retail import metrics
from retail import redis_client as redis_client_module
from retail.celery_app import celery_app
from retail.logs import JsonFormatter
from retail.settings import get_settings
from tests.factories import count_stock, make_product, make_store


@pytest.fixture
def log_lines() -> Iterator[Callable[[], list[dict[str, Any]]]]:
    """Every JSON line the root logger writes during the test, parsed."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    previous = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    try:
        yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    finally:
        root.removeHandler(handler)
        root.setLevel(previous)


def samples(
    client: TestClient, headers: dict[str, str] | None = None
) -> dict[tuple[str, frozenset[Any]], float]:
    response = client.get("/metrics", headers=headers or {})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def test_a_request_without_an_id_gets_a_fresh_one_in_the_header_and_every_log_line(
    client: TestClient, log_lines: Callable[[], list[dict[str, Any]]]
) -> None:
    first = client.get("/mobile/v1/stores/NOPE")
    second = client.get("/mobile/v1/stores/NOPE")
    assert first.status_code == 404
    assert first.headers["content-type"] == "application/problem+json"
    ids = [first.headers["x-request-id"], second.headers["x-request-id"]]
    assert all(re.fullmatch(r"[0-9a-f]{32}", i) for i in ids)
    assert ids[0] != ids[1]
    access = [line for line in log_lines() if line["logger"] == "retail.access"]
    assert [(line["request_id"], line["status"], line["route"]) for line in access] == [
        (ids[0], 404, "/mobile/v1/stores/{code}"),
        (ids[1], 404, "/mobile/v1/stores/{code}"),
    ]
    problems = [line for line in log_lines() if line["logger"] == "retail.errors"]
    assert [(line["request_id"], line["status"], line["code"]) for line in problems] == [
        (ids[0], 404, "store_not_found"),
        (ids[1], 404, "store_not_found"),
    ]
    assert access[0]["method"] == "GET"
    assert access[0]["path"] == "/mobile/v1/stores/NOPE"
    assert access[0]["level"] == "INFO"


@pytest.mark.parametrize(
    ("sent", "kept"),
    [
        ("abc-123", True),
        ("0f0e4c1a-7a4e-4f0c-9d55-6b1f1f0a9b2e", True),
        ("trace/01.span:02", True),
        ("x" * 129, False),
        ("has space", False),
        ("quote\"and'", False),
        ("", False),
    ],
)
def test_an_incoming_request_id_is_kept_only_when_sane(client: TestClient, sent: str, kept: bool) -> None:
    response = client.get("/healthz", headers={"X-Request-ID": sent})
    echoed = response.headers["x-request-id"]
    if kept:
        assert echoed == sent
    else:
        assert re.fullmatch(r"[0-9a-f]{32}", echoed)


def test_an_unexpected_error_is_problem_json_with_the_request_id_in_its_log_line(
    app: FastAPI, log_lines: Callable[[], list[dict[str, Any]]]
) -> None:
    @app.get("/boom")
    def boom() -> None:
        raise RuntimeError("kaboom")

    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.get("/boom", headers={"X-Request-ID": "req-500"})
    assert response.status_code == 500
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["x-request-id"] == "req-500"
    assert response.json()["code"] == "internal_error"
    assert "kaboom" not in response.text
    errors = [line for line in log_lines() if line["level"] == "ERROR"]
    assert len(errors) == 1
    assert errors[0]["request_id"] == "req-500"
    assert "RuntimeError: kaboom" in errors[0]["exc_info"]
    access = [line for line in log_lines() if line["logger"] == "retail.access"]
    assert [(line["request_id"], line["status"]) for line in access] == [("req-500", 500)]


def test_log_lines_of_the_handler_carry_the_request_id(
    app: FastAPI, log_lines: Callable[[], list[dict[str, Any]]]
) -> None:
    @app.get("/chatty")
    def chatty() -> dict[str, str]:
        # A sync handler runs in a worker thread: the id must follow it there.
        logging.getLogger("tests.chatty").warning("inside the handler", extra={"sku": "KOFFIE"})
        return {}

    with TestClient(app) as client:
        client.get("/chatty", headers={"X-Request-ID": "req-chatty"})
    inside = [line for line in log_lines() if line["logger"] == "tests.chatty"]
    assert inside == [
        {
            "ts": inside[0]["ts"],
            "level": "WARNING",
            "logger": "tests.chatty",
            "message": "inside the handler",
            "request_id": "req-chatty",
            "sku": "KOFFIE",
        }
    ]


def test_requests_are_counted_by_route_template_not_raw_path(client: TestClient) -> None:
    before = samples(client)
    for code in ("A-1", "B-2", "C-3"):
        assert client.get(f"/mobile/v1/stores/{code}").status_code == 404
    assert client.get("/no/such/path/1").status_code == 404
    assert client.get("/no/such/path/2").status_code == 404
    after = samples(client)

    def delta(name: str, **labels: str) -> float:
        key = (name, frozenset(labels.items()))
        return after.get(key, 0.0) - before.get(key, 0.0)

    store = {"method": "GET", "route": "/mobile/v1/stores/{code}"}
    assert delta("winkelpunt_http_requests_total", **store, status="404") == 3
    assert delta("winkelpunt_http_requests_total", method="GET", route="<unmatched>", status="404") == 2
    assert delta("winkelpunt_http_request_duration_seconds_count", **store) == 3
    assert delta("winkelpunt_http_request_duration_seconds_bucket", **store, le="+Inf") == 3
    routes = {dict(labels).get("route") for name, labels in after if name == "winkelpunt_http_requests_total"}
    assert not any(route and "A-1" in route for route in routes)


def test_sync_lag_is_the_age_of_the_newest_feed_change_and_webshop_movement(
    client: TestClient, session: Session
) -> None:
    lag = [value for (name, _), value in samples(client).items() if name == "winkelpunt_sync_lag_seconds"]
    assert lag == []  # no stock yet: no age to report
    make_store(session, "S1")
    make_product(session, "KOFFIE", name="K")
    count_stock(session, "S1", {"KOFFIE": 3})
    found = samples(client)
    feed = found[("winkelpunt_sync_lag_seconds", frozenset({("source", "availability_feed")}))]
    assert 0 <= feed < 60
    assert ("winkelpunt_sync_lag_seconds", frozenset({("source", "webshop_movement")})) not in found
    result = inventory_service.record_movements(
        session,
        rows=[
            {
                "movement_id": "m-1",
                "store_code": "S1",
                "sku": "KOFFIE",
                "delta": -1,
                "at": "2026-11-23T07:00:00+01:00",
            }
        ],
    )
    assert result.applied == 1
    movement = samples(client)[("winkelpunt_sync_lag_seconds", frozenset({("source", "webshop_movement")}))]
    assert 0 <= movement < 60
    assert samples(client)[("winkelpunt_database_probe_up", frozenset())] == 1


@celery_app.task(name="tests.always_fails")
def always_fails() -> None:
    raise ValueError("this task always fails")


def test_task_failures_are_counted_in_redis_and_shown_by_any_api_process(
    client: TestClient, clean_shared: None
) -> None:
    for _ in range(2):
        always_fails.apply()  # what a worker does with a delivered task: run it, signals included
    failures = samples(client)[
        ("winkelpunt_task_failures_total", frozenset({("task", "tests.always_fails")}))
    ]
    assert failures == 2
    # Kept in Redis, not in this process: a fresh counter store (another process) reads the same.
    assert metrics.SharedCounters().read(metrics.TASK_FAILURES) == {("tests.always_fails",): 2.0}


def test_shared_counters_fall_back_to_the_process_when_redis_is_away(
    monkeypatch: pytest.MonkeyPatch, clean_shared: None
) -> None:
    store = metrics.SharedCounters()
    monkeypatch.setattr(metrics, "redis_client", lambda: redis_client_module._client("redis://127.0.0.1:1/0"))
    store.inc(metrics.TASK_FAILURES, labels=("orders.reserve",))
    store.inc(metrics.TASK_FAILURES, labels=("orders.reserve",))
    store.set(metrics.RECONCILIATION_DRIFT, 4)
    assert store.read(metrics.TASK_FAILURES) == {("orders.reserve",): 2.0}
    assert store.read(metrics.RECONCILIATION_DRIFT) == {(): 4.0}


def test_metrics_are_open_without_a_token_and_need_it_once_set(
    client: TestClient, make_key: Callable[..., dict[str, str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert client.get("/metrics").status_code == 200
    monkeypatch.setattr(get_settings(), "metrics_token", "scrape-token-0123456789")
    for headers in (
        {},
        {"Authorization": "Bearer wrong"},
        {"Authorization": "Bearer schräg".encode()},
        make_key("admin"),
    ):
        refused = client.get("/metrics", headers=headers)
        assert refused.status_code == 401, headers
        assert refused.headers["content-type"] == "application/problem+json"
        assert refused.json()["code"] == "unauthorized"
    assert samples(client, {"Authorization": "Bearer scrape-token-0123456789"})


def test_metrics_are_in_the_openapi_document(client: TestClient) -> None:
    operation = client.get("/openapi.json").json()["paths"]["/metrics"]["get"]
    assert operation["operationId"] == "metrics"
    assert "RETAIL_METRICS_TOKEN" in operation["description"]
    assert "text/plain" in operation["responses"]["200"]["content"]

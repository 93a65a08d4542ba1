"""What the order flow shows at /metrics: open orders by status and the reconciliation's drift."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import Engine, text
from sqlmodel import Session

from orders import tasks as orders_tasks
from tests.factories import committed_store, order_body, post_order, reserved_order


def scrape(client: TestClient) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(client.get("/metrics").text)
        for s in family.samples
    }


def open_orders(client: TestClient) -> dict[str, float]:
    return {
        dict(labels)["status"]: value
        for (name, labels), value in scrape(client).items()
        if name == "winkelpunt_orders"
    }


@pytest.mark.usefixtures("open_stores")
def test_open_orders_are_counted_by_status(client: TestClient, session: Session) -> None:
    assert open_orders(client) == {"pending": 0, "reserved": 0, "ready_for_pickup": 0}
    first = post_order(client, order_body("S1", {"THEE": 1}), key="k1").json()
    post_order(client, order_body("S1", {"THEE": 1}), key="k2")
    assert open_orders(client) == {"pending": 0, "reserved": 2, "ready_for_pickup": 0}
    token = {"Authorization": f"Bearer {first['order_token']}"}
    assert client.post(f"/mobile/v1/orders/{first['order_id']}/cancel", headers=token).status_code == 200
    # A rejected order (not enough stock) and a cancelled one wait for nothing: not counted.
    post_order(client, order_body("S1", {"KOFFIE": 50}), key="k3")
    assert open_orders(client) == {"pending": 0, "reserved": 1, "ready_for_pickup": 0}


def test_the_reconciliation_task_publishes_its_drift(
    engine: Engine, client: TestClient, clean_shared: None
) -> None:
    with committed_store(engine, "RC1", {"A": 10, "B": 10}):
        reserved_order(engine, "RC1", {"A": 2}, key="rc-1")
        with engine.begin() as connection:
            connection.execute(text("UPDATE stock SET reserved = reserved + 3"))
        assert orders_tasks.reconcile_reserved.apply().get() == 2
        found = scrape(client)
        assert found[("winkelpunt_stock_reserved_drift_rows", frozenset())] == 2
        assert found[("winkelpunt_stock_reserved_repaired_rows_total", frozenset())] == 2
        assert found[("winkelpunt_stock_reconciliation_last_run_timestamp_seconds", frozenset())] > 0
        assert orders_tasks.reconcile_reserved.apply().get() == 0
        found = scrape(client)
        assert found[("winkelpunt_stock_reserved_drift_rows", frozenset())] == 0
        assert found[("winkelpunt_stock_reserved_repaired_rows_total", frozenset())] == 2

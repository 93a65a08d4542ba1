"""Fixtures of the order tests: a small shop with stock, and order requests."""

from __future__ import annotations

from typing import Any

import numpy as np
import png  # type: ignore[import-untyped]
import pytest
import zxingcpp
from fastapi.testclient import TestClient
from sqlmodel import Session

from inventory import service as inventory_service
from orders import queueing
from orders import service as orders_service
from orders import tasks as orders_tasks
from stores import service as stores_service
from tests.conftest import ALWAYS_OPEN, stock_of, store_row


@pytest.fixture
def shop(session: Session, monkeypatch: pytest.MonkeyPatch) -> None:
    stores = [
        store_row("S1", hours=ALWAYS_OPEN, closed_on_public_holidays=False),
        store_row(
            "S2", hours=ALWAYS_OPEN, closed_on_public_holidays=False, location={"lat": 52.1, "lon": 5.13}
        ),
        store_row("NO-CNC", click_and_collect=False),
    ]
    assert stores_service.upsert_stores(session, rows=stores).errors == []
    products = [
        {
            "sku": "KOFFIE",
            "name": "Koffiebonen 1 kg",
            "online_price": {"amount": "12.99"},
            "store_price": {"amount": "13.49"},
        },
        {"sku": "THEE", "name": "Groene thee", "online_price": {"amount": "3.49"}},
    ]
    assert inventory_service.upsert_products(session, rows=products).errors == []
    counts = [("S1", "KOFFIE", 3), ("S1", "THEE", 10), ("S2", "KOFFIE", 8), ("S2", "THEE", 8)]
    rows = [
        {"store_code": s, "sku": k, "on_hand": n, "as_of": "2026-11-23T06:00:00+01:00"} for s, k, n in counts
    ]
    assert inventory_service.apply_snapshots(session, rows=list(enumerate(rows))).errors == []
    session.commit()

    def reserve_now(order_pk: int) -> None:
        # What the worker does, in a transaction of its own on this test's connection.
        with Session(bind=session.bind, join_transaction_mode="create_savepoint") as worker:
            orders_service.reserve_order(worker, order_pk=order_pk)
            worker.commit()

    monkeypatch.setattr(orders_tasks, "send_reservation", reserve_now)
    monkeypatch.setattr(queueing, "queue_reservation", lambda order_pk, store_code: reserve_now(order_pk))


def order_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "store_code": "S1",
        "lines": [{"sku": "KOFFIE", "quantity": 2}, {"sku": "THEE", "quantity": 1}],
        "customer": {"name": "Sanne de Vries", "email": "sanne@example.nl", "phone": "+31 6 1234 5678"},
    }
    body.update(overrides)
    return body


def place(client: TestClient, body: dict[str, Any], key: str = "key-1") -> Any:
    return client.post("/mobile/v1/orders", json=body, headers={"Idempotency-Key": key})


def reserved_units(session: Session, store: str, sku: str) -> int:
    return int(stock_of(session, store, sku).reserved)


def decode_qr(data: bytes) -> list[str]:
    """What a scanner reads from a PNG: zxing-cpp, the decoder the pickup desk's scanning relies on too."""
    width, height, rows, _ = png.Reader(bytes=data).read()
    pixels = np.array([list(row) for row in rows], dtype=np.uint8) * 255
    assert pixels.shape == (height, width)
    return [r.text for r in zxingcpp.read_barcodes(pixels)]

"""The shopper's lookups on a real streaming replica, and back on the primary when it goes away.

A primary and a standby streaming from it (pg_basebackup -R), private clusters of this test's own
(tests/e2e/replication.py), and `retail serve` with RETAIL_DATABASE_URL on the primary and
RETAIL_DATABASE_REPLICA_URL on the replica. What proves which server answered: the replica's replay is
paused, the primary changes, and a lookup answers what the replica still holds while an order placed
meanwhile, which the replica cannot have, is read back at once.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlmodel import Session

from app.migrations import upgrade_database
from retail.auth import Role, create_api_key
from retail.db import make_engine
from retail.settings import Settings
from stores.network import STALE_AFTER_S
from tests.e2e.processes import running_service
from tests.e2e.replication import Primary, StreamingReplica, one
from tests.factories import count_row, product_row, store_row

STORE = "P1"
SKU = "R-1"
SECRET = "replica-test-secret-key"


@dataclass(frozen=True)
class Replicated:
    primary: Primary
    replica: StreamingReplica
    settings: Settings
    admin: dict[str, str]
    webshop: dict[str, str]


@pytest.fixture(scope="session")
def replicated() -> Iterator[Replicated]:
    """A migrated primary with two keys, and its replica, streaming; both clusters removed at the end,
    killed if they would not stop, whatever the tests did."""
    primary = Primary()
    replica: StreamingReplica | None = None
    try:
        primary.start()
        settings = Settings(database_url=primary.url, redis_url=None, secret_key=SECRET)
        upgrade_database(settings)
        engine = make_engine(settings.sqlalchemy_url)
        with Session(engine) as session:
            admin = create_api_key(session, role=Role.admin)
            webshop = create_api_key(session, role=Role.webshop)
            session.commit()
        engine.dispose()
        replica = StreamingReplica(primary)
        replica.start()
        replica.catch_up()
        yield Replicated(
            primary,
            replica,
            settings,
            admin={"Authorization": f"Bearer {admin}"},
            webshop={"Authorization": f"Bearer {webshop}"},
        )
    finally:
        if replica is not None:
            replica.remove()
        primary.remove()


def _ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


def _put_store(http: httpx.Client, db: Replicated, name: str) -> None:
    row = store_row(STORE, always_open=True, name=name)
    assert _ok(http.put("/admin/v1/stores", json={"stores": [row]}, headers=db.admin))["errors"] == []


def _count(http: httpx.Client, db: Replicated, on_hand: int, as_of: str) -> None:
    body = {"items": [count_row(STORE, SKU, on_hand, as_of=as_of)]}
    assert _ok(http.put("/sync/v1/stock", json=body, headers=db.webshop))["errors"] == []


def _store_name(http: httpx.Client, expected: str) -> str:
    """The store's name as the lookups answer it, asked again while it is not yet `expected`: each API
    process sees another's change to the store network within `stores.network.STALE_AFTER_S`."""
    deadline = time.monotonic() + 10 * STALE_AFTER_S
    while True:
        name: str = _ok(http.get(f"/mobile/v1/stores/{STORE}"))["name"]
        if name == expected or time.monotonic() > deadline:
            return name
        time.sleep(STALE_AFTER_S / 5)


def _available(http: httpx.Client) -> int:
    answer = _ok(http.get(f"/mobile/v1/products/{SKU}/availability", params={"lat": 52.09, "lon": 5.12}))
    return int(next(s["available"] for s in answer["stores"] if s["code"] == STORE))


def test_lookups_read_the_replica_orders_the_primary_and_an_absent_replica_the_primary(
    replicated: Replicated, tmp_path: Path
) -> None:
    db = replicated
    extra = {"database_replica_url": db.replica.url}
    with (
        running_service(db.settings, tmp_path, extra_settings=extra) as service,
        httpx.Client(base_url=service.base, timeout=10) as http,
    ):
        # Upserted through the primary, read back from the replica once it has replayed that far.
        _put_store(http, db, "Eerste")
        products = {"products": [product_row(SKU, price="2.00")]}
        assert _ok(http.put("/sync/v1/products", json=products, headers=db.webshop))["errors"] == []
        _count(http, db, 7, "2026-01-05T06:00:00+00:00")
        db.replica.catch_up()
        assert _ok(http.get(f"/mobile/v1/stores/{STORE}"))["name"] == "Eerste"
        assert _available(http) == 7
        ready = _ok(http.get("/readyz"))
        assert (ready["status"], ready["database"], ready["replica"]) == ("ok", "ok", "ok")

        # Replay paused: the primary moves on, the lookups still answer what the replica holds.
        db.replica.pause_replay()
        _put_store(http, db, "Tweede")
        _count(http, db, 3, "2026-01-05T07:00:00+00:00")
        products = {"products": [product_row(SKU, price="2.50")]}
        assert _ok(http.put("/sync/v1/products", json=products, headers=db.webshop))["errors"] == []
        assert one(db.primary, "SELECT name FROM store WHERE code = %s", (STORE,)) == "Tweede"
        assert _ok(http.get(f"/mobile/v1/stores/{STORE}"))["name"] == "Eerste"
        assert _available(http) == 7
        assert _ok(http.get(f"/mobile/v1/products/{SKU}"))["online_price"]["amount"] == "2.00"
        nearest = _ok(http.get("/mobile/v1/stores/nearest", params={"lat": 52.09, "lon": 5.12}))
        assert [s["name"] for s in nearest["items"]] == ["Eerste"]

        # An order goes to the primary, and so does reading it: the replica cannot have it yet.
        order = {
            "store_code": STORE,
            "lines": [{"sku": SKU, "quantity": 1}],
            "customer": {"name": "Replica", "email": "replica@example.nl"},
        }
        placed = _ok(http.post("/mobile/v1/orders", json=order, headers={"Idempotency-Key": "r-1"}), 202)
        token = {"Authorization": f"Bearer {placed['order_token']}"}
        seen = _ok(http.get(f"/mobile/v1/orders/{placed['order_id']}", headers=token))
        assert seen["order_id"] == placed["order_id"]
        query = 'SELECT count(*) FROM "order" WHERE order_id = %s'
        assert one(db.replica, query, (placed["order_id"],)) == 0
        assert one(db.primary, query, (placed["order_id"],)) == 1

        db.replica.resume_replay()
        db.replica.catch_up()
        assert _store_name(http, "Tweede") == "Tweede"
        assert _available(http) == 3

        # The replica goes away (its connections cut): the lookups read the primary, and the service
        # stays ready, saying that it falls back.
        db.replica.stop()
        assert _store_name(http, "Tweede") == "Tweede"
        assert _available(http) == 3
        ready = _ok(http.get("/readyz"))
        assert (ready["status"], ready["database"]) == ("ok", "ok")
        assert ready["replica"].startswith("fallback: unreachable"), ready

        # Back, and the lookups with it: the probe that reaches it ends the fallback.
        db.replica.start()
        db.replica.catch_up()
        assert _ok(http.get("/readyz"))["replica"] == "ok"
        db.replica.pause_replay()
        _put_store(http, db, "Derde")
        assert _ok(http.get(f"/mobile/v1/stores/{STORE}"))["name"] == "Tweede"
        db.replica.resume_replay()

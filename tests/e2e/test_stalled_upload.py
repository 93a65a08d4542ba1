"""A stock upload whose body goes quiet half-way holds nobody back, and applies nothing.

A webshop's connection can stall mid-upload (a dying link, a paused process). Each test sends half a
`PUT /sync/v1/stock` body through a raw socket to a real `retail serve` and then sends nothing more;
meanwhile a shopper reads, the webshop writes and reads the availability feed, and every one of those
answers as usual. The stalled upload is refused with 408 once `RETAIL_BODY_STALL_TIMEOUT_S` passes, and
none of its rows is applied; an upload whose client disconnects half-way applies nothing either, and is
logged as a client error, not a crash. On the embedded SQLite default (one process, and `--workers 2`) and
on PostgreSQL with Redis, a worker and beat.
"""

from __future__ import annotations

import json
import socket
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import Engine
from sqlmodel import Session

from app.migrations import upgrade_database
from retail.auth import Role, create_api_key
from retail.db import make_engine
from retail.settings import Settings
from tests.e2e.processes import end, free_port, running_service, service_env, spawn, wait_serving, wait_until
from tests.factories import (
    count_row,
    count_stock,
    empty_tables,
    make_products,
    make_stores,
    order_body,
    product_row,
    stock_of,
    store_row,
)

STALL_TIMEOUT_S = 4
COUNTED = (datetime.now(UTC) - timedelta(hours=2)).isoformat()
SETTINGS = {"body_stall_timeout_s": str(STALL_TIMEOUT_S), "log_level": "INFO"}


@dataclass(frozen=True)
class Service:
    port: int
    key: str
    engine: Engine
    workdir: Path

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def on_hand(self, sku: str) -> int:
        with Session(self.engine) as session:
            return int(stock_of(session, "S1", sku).on_hand)

    def log(self) -> str:
        return "".join(path.read_text() for path in sorted(self.workdir.glob("serve-*.log")))


def _seed(engine: Engine) -> str:
    """Stores S1 and S2, products A and B with 10 of A counted at S1; answers a webshop key."""
    with Session(engine) as session:
        make_stores(session, [store_row("S1"), store_row("S2")])
        make_products(session, [product_row(sku) for sku in ("A", "B")])
        counted = count_stock(session, "S1", {"A": 10}, as_of=COUNTED)
        assert counted.applied == 1
        secret = create_api_key(session, role=Role.webshop)
        session.commit()
    return secret


@contextmanager
def _sqlite_service(tmp_path: Path, workers: int) -> Iterator[Service]:
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'winkelpunt.db'}", redis_url=None, secret_key="stall-test-secret"
    )
    upgrade_database(settings)
    engine = make_engine(settings.sqlalchemy_url)
    key = _seed(engine)
    port = free_port()
    env = service_env(database_url=settings.database_url, redis_url=None, secret=settings.secret, **SETTINGS)
    server: subprocess.Popen[bytes] = spawn(
        ["serve", "--port", str(port), "--workers", str(workers)], env, tmp_path
    )
    try:
        wait_serving(f"http://127.0.0.1:{port}")
        yield Service(port, key, engine, tmp_path)
    finally:
        end(server)
        engine.dispose()


# ------------------------------------------------------------------------------------------ raw HTTP


def _start_upload(service: Service, path: str, content_type: str, body: bytes, *, sent: int) -> socket.socket:
    """A request with a body of `len(body)` bytes of which only the first `sent` go out; the socket is left
    open, quiet. `Expect: 100-continue` makes uvicorn say when the handler starts reading the body, so the
    key has been checked and the request is as far as it gets before the body is needed."""
    sock = socket.create_connection(("127.0.0.1", service.port), timeout=30)
    head = (
        f"PUT {path} HTTP/1.1\r\nHost: 127.0.0.1:{service.port}\r\nAuthorization: Bearer {service.key}\r\n"
        f"Content-Type: {content_type}\r\nContent-Length: {len(body)}\r\nExpect: 100-continue\r\n\r\n"
    )
    if path == "/mobile/v1/orders":
        head = head.replace("PUT ", "POST ", 1).replace("\r\n\r\n", "\r\nIdempotency-Key: stalled\r\n\r\n")
    sock.sendall(head.encode())
    interim = b""
    while b"\r\n\r\n" not in interim:
        interim += sock.recv(1024)
    assert interim.startswith(b"HTTP/1.1 100"), interim
    sock.sendall(body[:sent])
    return sock


def _response(sock: socket.socket) -> tuple[int, dict[str, str], Any]:
    """The answer on a raw socket, read to the end of its body."""
    received = b""
    while b"\r\n\r\n" not in received:
        chunk = sock.recv(65536)
        assert chunk, f"connection closed without an answer: {received!r}"
        received += chunk
    head, body = received.split(b"\r\n\r\n", 1)
    lines = head.decode("latin-1").split("\r\n")
    headers = {name.lower(): value.strip() for name, value in (line.split(":", 1) for line in lines[1:])}
    while len(body) < int(headers["content-length"]):
        chunk = sock.recv(65536)
        assert chunk, "connection closed mid-answer"
        body += chunk
    sock.close()
    return int(lines[0].split()[1]), headers, json.loads(body)


CSV = (
    "store_code,sku,on_hand,as_of\n"
    + "".join(f"S1,A,{n},{(datetime.now(UTC) - timedelta(minutes=n)).isoformat()}\n" for n in range(1, 40))
).encode()
# Header and full rows of A, then a row broken off: every row that arrived would apply if it were applied.
CSV_SENT = CSV.index(b"\nS1,A,5,") + 6


def _others_answer_meanwhile(service: Service) -> None:
    """A shopper's read, a webshop write and the feed after it, each answered at once."""
    webshop = {"Authorization": f"Bearer {service.key}"}
    with httpx.Client(base_url=service.base, timeout=10) as client:
        product = client.get("/mobile/v1/products/A")
        assert (product.status_code, product.json()["sku"]) == (200, "A")
        count = count_row("S1", "B", 7, as_of=COUNTED)
        written = client.put("/sync/v1/stock", json={"items": [count]}, headers=webshop)
        assert (written.status_code, written.json()["applied"]) == (200, 1), written.text

        def feed_shows_the_write() -> bool:
            page = client.get("/sync/v1/availability", params={"limit": 5000}, headers=webshop)
            assert page.status_code == 200, page.text
            return {(i["sku"], i["on_hand"]) for i in page.json()["items"]} == {("A", 10), ("B", 7)}

        wait_until(feed_shows_the_write, timeout=10, what="the feed to show the write made meanwhile")


def _assert_refused_as_stalled(sock: socket.socket) -> None:
    status, headers, problem = _response(sock)
    assert (status, headers["content-type"], headers["connection"]) == (
        408,
        "application/problem+json",
        "close",
    )
    assert problem["code"] == "body_timeout"
    assert problem["errors"] == [
        {"field": "body", "message": f"no part of the request body arrived for {STALL_TIMEOUT_S} s"}
    ]


def _disconnect_mid_upload(service: Service) -> None:
    _start_upload(service, "/sync/v1/stock", "text/csv", CSV, sent=CSV_SENT).close()
    wait_until(
        lambda: '"code": "client_disconnected"' in service.log(),
        timeout=20,
        what="the disconnected upload to be logged",
    )
    assert '"internal_error"' not in service.log()


def _check_stalled_upload(service: Service, *, disconnect: bool) -> None:
    stalled = _start_upload(service, "/sync/v1/stock", "text/csv", CSV, sent=CSV_SENT)
    _others_answer_meanwhile(service)
    _assert_refused_as_stalled(stalled)
    assert service.on_hand("A") == 10
    if disconnect:
        _disconnect_mid_upload(service)
        assert service.on_hand("A") == 10


# ------------------------------------------------------------------------------------------------ tests


def test_a_stalled_upload_on_sqlite_blocks_no_request_and_applies_nothing(tmp_path: Path) -> None:
    with _sqlite_service(tmp_path, workers=1) as service:
        # The JSON body of the same endpoint and an order body stall alongside: every body is bounded.
        count = count_row("S1", "A", 99, as_of=COUNTED)
        json_body = json.dumps({"items": [count]}).encode()
        stalled_json = _start_upload(service, "/sync/v1/stock", "application/json", json_body, sent=30)
        order = json.dumps(order_body("S1", {"A": 1})).encode()
        stalled_order = _start_upload(service, "/mobile/v1/orders", "application/json", order, sent=20)
        _check_stalled_upload(service, disconnect=True)
        _assert_refused_as_stalled(stalled_json)
        _assert_refused_as_stalled(stalled_order)
        assert service.on_hand("A") == 10


def test_a_stalled_upload_on_sqlite_with_two_workers_blocks_no_request(tmp_path: Path) -> None:
    with _sqlite_service(tmp_path, workers=2) as service:
        _check_stalled_upload(service, disconnect=False)


def test_a_stalled_upload_on_postgres_blocks_no_request_and_applies_nothing(
    pg_engine: Engine, pg_settings: Settings, tmp_path: Path
) -> None:
    key = _seed(pg_engine)
    try:
        with running_service(
            pg_settings, tmp_path, worker_concurrency=1, beat=True, extra_settings=SETTINGS
        ) as processes:
            _check_stalled_upload(Service(processes.api_port, key, pg_engine, tmp_path), disconnect=True)
    finally:
        empty_tables(pg_engine)

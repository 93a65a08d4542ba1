"""The `retail` command, run as a user runs it: a subprocess on a fresh embedded SQLite database."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
from sqlmodel import Session, select

from inventory import service as inventory_service
from inventory.models import Stock
from retail.db import make_engine
from tests.conftest import store_row

RETAIL = [sys.executable, "-m", "retail"]


def _env(db: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RETAIL_")}
    env["RETAIL_DATABASE_URL"] = f"sqlite:///{db}"
    env.update(extra)
    return env


def _run(args: list[str], env: dict[str, str], check: bool = True) -> subprocess.CompletedProcess[str]:
    result = subprocess.run([*RETAIL, *args], env=env, capture_output=True, text=True, timeout=120)
    if check and result.returncode != 0:
        raise AssertionError(f"retail {' '.join(args)} failed ({result.returncode}):\n{result.stderr}")
    return result


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_keys_create_prints_the_secret_last_and_it_works(tmp_path: Path) -> None:
    env = _env(tmp_path / "w.db")
    _run(["db", "upgrade"], env)
    admin = _run(["keys", "create", "--role", "admin"], env).stdout.strip().splitlines()[-1]
    assert admin.startswith("wp_")

    refused = _run(["keys", "create", "--role", "staff", "--store", "NL-NOPE"], env, check=False)
    assert refused.returncode == 2
    assert "NL-NOPE" in refused.stderr

    stores_file = tmp_path / "stores.json"
    stores_file.write_text(json.dumps({"stores": [store_row("NL-CLI-1")]}))
    _run(["stores", "import", str(stores_file)], env)
    staff = (
        _run(["keys", "create", "--role", "staff", "--store", "NL-CLI-1"], env)
        .stdout.strip()
        .splitlines()[-1]
    )
    assert staff.startswith("wp_")
    assert staff != admin


def test_stores_import_csv_reports_bad_rows_and_applies_good_ones(tmp_path: Path) -> None:
    env = _env(tmp_path / "w.db")
    _run(["db", "upgrade"], env)
    csv_file = tmp_path / "stores.csv"
    lines = [
        "code,name,street,postcode,city,country,subdivision,lat,lon,timezone,phone,click_and_collect,opening_hours",
        "NL-CSV-1,Winkelpunt Gouda,Markt 1,2801 JE,Gouda,NL,NL-ZH,52.0115,4.7105,Europe/Amsterdam,,true,"
        '"Mo-Sa 09:00-18:00; PH off"',
        "NL-CSV-2,Winkelpunt Nergens,Markt 2,1234 AB,Nergens,NL,,95.0,4.7,Europe/Amsterdam,,true,"
        "Mo-Su 09:00-18:00",
        "NL-CSV-3,WP Delft,Markt 3,2611 GW,Delft,NL,NL-ZH,52.0116,4.3571,Europe/Amsterdam,,false,24/7",
    ]
    csv_file.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = _run(["stores", "import", str(csv_file)], env, check=False)
    assert result.returncode == 1
    assert "2 stores applied, 1 rows rejected" in result.stderr
    assert "row 2: invalid_location" in result.stderr


def test_serve_demo_on_a_fresh_sqlite_file_answers_the_shopper(tmp_path: Path) -> None:
    """The README's first command, end to end: a fresh database, migrated and loaded by `serve --demo`."""
    db = tmp_path / "fresh" / "winkelpunt.db"
    port = _free_port()
    server = subprocess.Popen(
        [*RETAIL, "serve", "--demo", "--port", str(port)],
        env=_env(db),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        body: dict[str, Any] = {}
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            try:
                response = httpx.get(f"{base}/mobile/v1/stores/nearest", params={"q": "Utrecht", "limit": 3})
                body = response.json()
                break
            except httpx.TransportError:
                assert server.poll() is None, server.stdout.read() if server.stdout else ""
                time.sleep(0.5)
        assert len(body["items"]) == 3
        assert body["items"][0]["address"]["city"] == "Utrecht"
        assert httpx.get(f"{base}/readyz").json()["database"] == "ok"

        # And a click-and-collect order, reserved in-process right after it is accepted.
        store = httpx.get(
            f"{base}/mobile/v1/stores/nearest",
            params={"q": "Utrecht", "limit": 1, "click_and_collect": "true"},
        ).json()["items"][0]["code"]
        products = httpx.get(f"{base}/mobile/v1/products", params={"q": "koffie", "limit": 50}).json()[
            "items"
        ]
        sku = next(
            p["sku"]
            for p in products
            if any(
                s["code"] == store and s["available"] > 0
                for s in httpx.get(
                    f"{base}/mobile/v1/products/{p['sku']}/availability",
                    params={"lat": 52.09, "lon": 5.12, "limit": 10},
                ).json()["stores"]
            )
        )
        accepted = httpx.post(
            f"{base}/mobile/v1/orders",
            json={
                "store_code": store,
                "lines": [{"sku": sku, "quantity": 1}],
                "customer": {"name": "Demo Klant", "email": "demo@example.nl"},
            },
            headers={"Idempotency-Key": "demo-order-1"},
        )
        assert accepted.status_code == 202
        token = {"Authorization": f"Bearer {accepted.json()['order_token']}"}
        order = httpx.get(f"{base}{accepted.json()['status_url']}", headers=token).json()
        assert order["status"] == "reserved"
        assert order["pickup"]["code"]
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_stock_import_applies_a_csv_with_the_sync_rules(tmp_path: Path) -> None:
    db = tmp_path / "w.db"
    env = _env(db)
    _run(["db", "upgrade"], env)
    stores_file = tmp_path / "stores.json"
    stores_file.write_text(json.dumps([store_row("NL-CLI-1")]))
    _run(["stores", "import", str(stores_file)], env)
    engine = make_engine(f"sqlite:///{db}")
    with Session(engine) as session:
        products = [{"sku": "SKU-1", "name": "Koffie", "online_price": {"amount": "4.99"}}]
        assert inventory_service.upsert_products(session, rows=products).errors == []
        session.commit()

    csv_file = tmp_path / "stock.csv"
    csv_file.write_text(
        "store_code,sku,on_hand,as_of\n"
        "NL-CLI-1,SKU-1,12,2026-11-23T06:00:00+01:00\n"
        "NL-CLI-1,SKU-1,3,2026-11-22T06:00:00+01:00\n"
        "NL-CLI-1,NOPE,1,2026-11-23T06:00:00+01:00\n"
    )
    result = _run(["stock", "import", str(csv_file)], env, check=False)
    assert result.returncode == 1
    assert "1 counts applied, 1 stale, 1 rows rejected" in result.stderr
    assert "row 3: unknown_sku" in result.stderr
    with Session(engine) as session:
        assert session.exec(select(Stock.on_hand)).all() == [12]

    broken = tmp_path / "broken.csv"
    broken.write_text("store,sku\nx,y\n")
    refused = _run(["stock", "import", str(broken)], env, check=False)
    assert refused.returncode == 2
    assert "nothing was applied" in refused.stderr
    engine.dispose()


def test_serve_with_two_workers_answers_on_one_port(tmp_path: Path) -> None:
    port = _free_port()
    server = subprocess.Popen(
        [*RETAIL, "serve", "--workers", "2", "--port", str(port)],
        env=_env(tmp_path / "winkelpunt.db"),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 90
        while True:
            try:
                assert httpx.get(f"{base}/healthz").json()["status"] == "ok"
                break
            except httpx.TransportError:
                assert server.poll() is None, server.stdout.read() if server.stdout else ""
                assert time.monotonic() < deadline, "retail serve --workers 2 never answered"
                time.sleep(0.5)
        with httpx.Client(base_url=base) as client:
            assert {client.get("/readyz").json()["database"] for _ in range(10)} == {"ok"}
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_the_served_http_protocol_turns_nagle_off() -> None:
    from retail.serving import _no_delay

    class Transport:
        def __init__(self, sock: socket.socket) -> None:
            self.sock = sock

        def get_extra_info(self, name: str) -> object:
            return self.sock if name == "socket" else None

    # Made as uvicorn makes the listening socket with --workers: protocol number 0, Nagle on.
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 0
        _no_delay(Transport(sock))  # type: ignore[arg-type]
        assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0

"""The `retail` command, run as a user runs it: a subprocess on a fresh embedded SQLite database."""

from __future__ import annotations

import json
import os
import re
import socket
import stat
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlmodel import Session, select

from inventory.models import Stock
from retail.db import make_engine
from tests.factories import make_product, order_body, store_row

RETAIL = [sys.executable, "-m", "app"]


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


class Served:
    """`retail <args>` (a `serve`) running on a free port, its output in a log file (a pipe left unread
    would fill up and stall it); stopped on leaving the block."""

    def __init__(self, args: list[str], env: dict[str, str], log: Path) -> None:
        self.port = _free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = log
        self._command = [*RETAIL, *args, "--port", str(self.port)]
        self._env = env
        self.process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Served:
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                self._command, env=self._env, stdout=out, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + 120
        while True:
            try:
                if httpx.get(f"{self.base}/healthz", timeout=5).status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            assert self.process.poll() is None, self.output()
            assert time.monotonic() < deadline, f"{self._command} never answered:\n{self.output()}"
            time.sleep(0.3)

    def __exit__(self, *_exc: object) -> None:
        assert self.process is not None
        self.process.terminate()
        self.process.wait(timeout=30)

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def log_lines(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.output().splitlines() if line.startswith("{")]

    def wait_for_log(self, condition: Any, *, what: str, timeout: float = 90) -> None:
        deadline = time.monotonic() + timeout
        while not condition(self.log_lines()):
            assert self.process is not None
            assert self.process.poll() is None, self.output()
            assert time.monotonic() < deadline, f"timed out waiting for {what}:\n{self.output()[-5000:]}"
            time.sleep(0.5)


def _errors(output: str) -> list[str]:
    """The lines of a log that an operator would have to look into."""
    return [
        line
        for line in output.splitlines()
        if "Traceback" in line or '"level": "ERROR"' in line or '"level": "CRITICAL"' in line
    ]


def _ran_every_periodic_task(lines: list[dict[str, Any]]) -> bool:
    from retail.celery_app import BEAT_SCHEDULE

    succeeded = {
        entry["task"]
        for entry in BEAT_SCHEDULE.values()
        for line in lines
        if line["logger"] == "celery.app.trace"
        and line["message"].startswith(f"Task {entry['task']}[")
        and " succeeded in " in line["message"]
    }
    return succeeded == {entry["task"] for entry in BEAT_SCHEDULE.values()}


def _fresh_shop(db: Path, env: dict[str, str], tmp_path: Path) -> None:
    """Store K1 (open around the clock, click and collect) with 10 of product K, through the CLI."""
    _run(["db", "upgrade"], env)
    stores_file = tmp_path / "shop.json"
    stores_file.write_text(json.dumps([store_row("K1", always_open=True)]))
    _run(["stores", "import", str(stores_file)], env)
    engine = make_engine(f"sqlite:///{db}")
    with Session(engine) as session:
        make_product(session, "K", price="4.99", name="Koffie")
        session.commit()
    engine.dispose()
    counts = tmp_path / "counts.csv"
    counts.write_text("store_code,sku,on_hand,as_of\nK1,K,10,2026-11-23T06:00:00+01:00\n")
    _run(["stock", "import", str(counts)], env)


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


def _demo_keys(output: str) -> dict[str, str]:
    """The demo keys `serve --demo` printed, by name ("admin", "staff (NL-AMS-001)", "webshop")."""
    found = re.findall(r"^  demo (.+) key: (wp_\S+)$", output, flags=re.MULTILINE)
    return dict(found)


def _order_a_basket_no_store_near_holds(base: str, store: str, held: str) -> None:
    """Issue 15's first run: a shopper in Amsterdam wants `held` (on `store`'s shelf) and an item no store
    in the city holds; by transfer their own store promises the basket, and the order gets that promise."""
    near: dict[str, float | str | list[str]] = {"lat": 52.37, "lon": 4.89, "limit": 10, "radius_km": 5}
    tvs = httpx.get(f"{base}/mobile/v1/products", params={"q": "tv", "limit": 50}).json()["items"]
    missing = None
    for product in tvs:
        answer = httpx.get(
            f"{base}/mobile/v1/products/{product['sku']}/availability",
            params={**near, "allow_transfer": "true"},
        ).json()
        own = next((s for s in answer["stores"] if s["code"] == store), None)
        if own and own.get("transfer_ready_by") and all(s["available"] == 0 for s in answer["stores"]):
            missing = product["sku"]
            break
    assert missing is not None, "the demo has an item no store in Amsterdam holds, sent by transfer"
    basket = {**near, "sku": [held, str(missing)], "in_stock": "true"}
    assert httpx.get(f"{base}/mobile/v1/stores/nearest", params=basket).json()["items"] == []

    def promised() -> datetime:
        items = httpx.get(
            f"{base}/mobile/v1/stores/nearest", params={**basket, "allow_transfer": "true"}
        ).json()["items"]
        assert store in [s["code"] for s in items]
        own = next(s for s in items if s["code"] == store)
        assert own["has_all"] is False
        return datetime.fromisoformat(own["pickup_ready_by"])

    shown = promised()
    accepted = httpx.post(
        f"{base}/mobile/v1/orders",
        json=order_body(store, {held: 1, missing: 1}, allow_transfer=True),
        headers={"Idempotency-Key": "demo-transfer-1"},
    )
    assert accepted.status_code == 202, accepted.text
    token = {"Authorization": f"Bearer {accepted.json()['order_token']}"}
    order = httpx.get(f"{base}{accepted.json()['status_url']}", headers=token).json()
    assert order["status"] == "reserved"
    sources = {line["sku"]: line["source"] for line in order["lines"]}
    assert sources[held] == store
    assert sources[missing] != store
    assert [(t["from_store"], t["status"]) for t in order["transfers"]] == [(sources[missing], "planned")]
    ready_by = datetime.fromisoformat(order["pickup"]["ready_by"])
    assert ready_by > datetime.fromisoformat(order["transfers"][0]["eta"])
    # The promise shown before ordering is the order's (or, had a departure passed in between, the one
    # shown right after).
    assert ready_by in {shown, promised()}


def test_serve_demo_on_a_fresh_sqlite_file_answers_the_shopper_and_starts_again_the_same(
    tmp_path: Path,
) -> None:
    """The README's first command, end to end: a fresh database, migrated and loaded by `serve --demo`,
    an order placed and its periodic tasks run without an error logged; then `make serve` again: the
    demo keys and the order's token and pickup code from the first start still work."""
    db = tmp_path / "fresh" / "winkelpunt.db"
    env = _env(db)
    with Served(["serve", "--demo"], env, tmp_path / "first.log") as served:
        base = served.base
        body = httpx.get(f"{base}/mobile/v1/stores/nearest", params={"q": "Utrecht", "limit": 3}).json()
        assert len(body["items"]) == 3
        assert body["items"][0]["address"]["city"] == "Utrecht"
        assert httpx.get(f"{base}/readyz").json()["database"] == "ok"

        # And a click-and-collect order, reserved in-process right after it is accepted.
        store = "NL-AMS-001"  # the demo staff key's store
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
                    params={"lat": 52.37, "lon": 4.89, "limit": 10},
                ).json()["stores"]
            )
        )
        accepted = httpx.post(
            f"{base}/mobile/v1/orders",
            json=order_body(store, {sku: 1}),
            headers={"Idempotency-Key": "demo-order-1"},
        )
        assert accepted.status_code == 202
        token = {"Authorization": f"Bearer {accepted.json()['order_token']}"}
        order = httpx.get(f"{base}{accepted.json()['status_url']}", headers=token).json()
        assert order["status"] == "reserved"
        assert order["pickup"]["code"]
        _order_a_basket_no_store_near_holds(base, store, sku)
        served.wait_for_log(_ran_every_periodic_task, what="every periodic task to run once")
        assert _errors(served.output()) == []
        first_keys = _demo_keys(served.output())
    assert sorted(first_keys) == ["admin", f"staff ({store})", "webshop"]

    with Served(["serve", "--demo"], env, tmp_path / "again.log") as served:
        assert _demo_keys(served.output()) == first_keys
        staff = {"Authorization": f"Bearer {first_keys[f'staff ({store})']}"}
        me = httpx.get(f"{served.base}/staff/v1/me", headers=staff)
        assert (me.status_code, me.json()) == (200, {"role": "staff", "store_code": store})
        admin = {"Authorization": f"Bearer {first_keys['admin']}"}
        assert httpx.get(f"{served.base}/staff/v1/me", headers=admin).status_code == 200
        again = httpx.get(f"{served.base}{accepted.json()['status_url']}", headers=token)
        assert (again.status_code, again.json()["pickup"]["code"]) == (200, order["pickup"]["code"])
        ready = httpx.post(f"{served.base}/staff/v1/orders/{order['order_id']}/ready", headers=staff)
        assert ready.status_code == 200
        verify = httpx.post(
            f"{served.base}/staff/v1/pickups/verify", json={"code": order["pickup"]["code"]}, headers=staff
        )
        assert (verify.status_code, verify.json()["order_id"]) == (200, order["order_id"])
        assert _errors(served.output()) == []


def test_stock_import_applies_a_csv_with_the_sync_rules(tmp_path: Path) -> None:
    db = tmp_path / "w.db"
    env = _env(db)
    _run(["db", "upgrade"], env)
    stores_file = tmp_path / "stores.json"
    stores_file.write_text(json.dumps([store_row("NL-CLI-1")]))
    _run(["stores", "import", str(stores_file)], env)
    engine = make_engine(f"sqlite:///{db}")
    with Session(engine) as session:
        make_product(session, "SKU-1", price="4.99", name="Koffie")
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


def test_serve_with_two_workers_shares_one_secret_and_runs_the_schedule_once(tmp_path: Path) -> None:
    """`retail serve --workers 2` on the embedded default, no RETAIL_SECRET_KEY: an order's token and
    pickup code work in both workers and after a restart; one process (the one started, uvicorn's
    supervisor) runs every periodic task, and nothing logs an error."""
    db = tmp_path / "winkelpunt.db"
    env = _env(db)
    _fresh_shop(db, env, tmp_path)
    staff_key = _run(["keys", "create", "--role", "staff", "--store", "K1"], env).stdout.split()[-1]
    staff = {"Authorization": f"Bearer {staff_key}"}
    body = order_body("K1", {"K": 2})
    with Served(["serve", "--workers", "2"], env, tmp_path / "serve-1.log") as served:
        accepted = httpx.post(
            f"{served.base}/mobile/v1/orders", json=body, headers={"Idempotency-Key": "two-workers"}
        )
        assert accepted.status_code == 202
        token = {"Authorization": f"Bearer {accepted.json()['order_token']}"}
        status_url = f"{served.base}{accepted.json()['status_url']}"
        # A new connection each time: the kernel hands them to either worker.
        polls = [httpx.get(status_url, headers=token) for _ in range(20)]
        assert [p.status_code for p in polls] == [200] * 20
        order = polls[0].json()
        assert order["status"] == "reserved"
        ready = httpx.post(f"{served.base}/staff/v1/orders/{order['order_id']}/ready", headers=staff)
        assert ready.status_code == 200
        verified = [
            httpx.post(
                f"{served.base}/staff/v1/pickups/verify",
                json={"code": order["pickup"]["code"]},
                headers=staff,
            )
            for _ in range(6)
        ]
        assert [v.status_code for v in verified] == [200] * 6

        served.wait_for_log(_ran_every_periodic_task, what="every periodic task to run once")
        assert served.process is not None
        runners = [
            line for line in served.log_lines() if line["message"].startswith("running the periodic tasks")
        ]
        assert [line["pid"] for line in runners] == [served.process.pid]
        assert _errors(served.output()) == []
    secret_file = tmp_path / "winkelpunt.db.secret"
    assert stat.S_IMODE(secret_file.stat().st_mode) == 0o600

    # Restarted: what was issued before still works.
    with Served(["serve", "--workers", "2"], env, tmp_path / "serve-2.log") as served:
        again = [httpx.get(f"{served.base}{accepted.json()['status_url']}", headers=token) for _ in range(6)]
        assert [a.status_code for a in again] == [200] * 6
        assert {a.json()["pickup"]["code"] for a in again} == {order["pickup"]["code"]}
        verify = httpx.post(
            f"{served.base}/staff/v1/pickups/verify", json={"code": order["pickup"]["code"]}, headers=staff
        )
        assert (verify.status_code, verify.json()["order_id"]) == (200, order["order_id"])
        assert _errors(served.output()) == []


def _shopper_statuses(base: str, forwarded_for: list[str]) -> list[int]:
    """The statuses of one shopper request per X-Forwarded-For value, all from this host (127.0.0.1)."""
    # Not in the last seconds of a minute, so that the limit's fixed window cannot turn over mid-way.
    while time.time() % 60 > 50:
        time.sleep(1)
    return [
        httpx.get(
            f"{base}/mobile/v1/stores/nearest",
            params={"lat": 52.09, "lon": 5.12},
            headers={"X-Forwarded-For": address},
        ).status_code
        for address in forwarded_for
    ]


def test_the_shopper_limit_trusts_x_forwarded_for_only_from_a_configured_proxy(tmp_path: Path) -> None:
    db = tmp_path / "winkelpunt.db"
    _run(["db", "upgrade"], _env(db))
    spoofed = ["198.51.100.1", "198.51.100.2", "198.51.100.3", "198.51.100.4"]

    # By default no proxy is trusted: a client that makes up addresses is still counted as itself.
    with Served(["serve"], _env(db, RETAIL_SHOPPER_REQUESTS_PER_MINUTE="3"), tmp_path / "a.log") as served:
        assert _shopper_statuses(served.base, spoofed) == [200, 200, 200, 429]

    # Behind a configured proxy (here: this host), each forwarded client is counted on its own.
    proxied = _env(db, RETAIL_SHOPPER_REQUESTS_PER_MINUTE="3", RETAIL_FORWARDED_ALLOW_IPS="127.0.0.1")
    with Served(["serve"], proxied, tmp_path / "b.log") as served:
        assert _shopper_statuses(served.base, spoofed) == [200, 200, 200, 200]
        assert _shopper_statuses(served.base, ["203.0.113.9"] * 4) == [200, 200, 200, 429]


REPO = Path(__file__).resolve().parent.parent


def test_the_readme_tells_how_to_reach_the_retail_command() -> None:
    """The README's commands say `retail ...`; the line it gives to put that on the PATH must do so."""
    if not (REPO / ".venv" / "bin" / "retail").exists():
        pytest.skip("the virtualenv is not the README's .venv (VENV=... make)")
    readme = (REPO / "README.md").read_text()
    activate = [line for line in readme.splitlines() if line.strip().startswith(". .venv/bin/activate")]
    assert activate == [". .venv/bin/activate"]
    env = {k: v for k, v in os.environ.items() if k != "VIRTUAL_ENV"}
    env["PATH"] = "/usr/local/bin:/usr/bin:/bin"  # a fresh shell's, without the virtualenv
    result = subprocess.run(
        ["sh", "-c", f"{activate[0]} && command -v retail && retail --help"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0] == str(REPO / ".venv" / "bin" / "retail")
    assert "Winkelpunt: click-and-collect and store inventory." in result.stdout


def test_the_served_http_protocol_turns_nagle_off() -> None:
    from app.serving import _no_delay

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

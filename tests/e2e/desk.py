"""What the pickup desk's browser tests share: the service as a process, a shop of two stores with stock,
orders placed and moved along through the real API, and the browser's page at a counter or on a phone.

The test modules (test_pickup_desk.py, test_desk_counter.py) wrap these in their fixtures. Screenshots of
every screen go to test-artifacts/desk/.
"""

from __future__ import annotations

import io
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import zxingcpp
from PIL import Image
from playwright.sync_api import Browser, BrowserContext, Page, Request, expect
from sqlalchemy import Engine
from sqlmodel import Session, select

from orders import service as orders_service
from orders import sweeps
from orders.models import Order
from retail.auth import Role, create_api_key
from retail.clock import utcnow
from retail.settings import Settings
from tests.conftest import REDIS_URL
from tests.e2e.processes import free_port, service_env, stop
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

TIMES = "\u00d7"  # the multiplication sign the page puts between quantity and name
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "desk"
# Chromium may not show a camera prompt headless; these make it use a fake device and grant access.
CAMERA_ARGS = ["--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream"]
PHONE_WIDTH = 360


@contextmanager
def serve(settings: Settings, log_name: str) -> Iterator[str]:
    """`retail serve` on a free port, against the test database and Redis; answers its base URL. Its
    output goes to test-artifacts/desk/`log_name`."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    port = free_port()
    env = service_env(database_url=settings.database_url, redis_url=REDIS_URL, secret=settings.secret)
    with (ARTIFACTS / log_name).open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "app", "serve", "--port", str(port)],
            env=env,
            cwd=ARTIFACTS,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    if httpx.get(f"{base}/healthz").status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if process.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(f"retail serve did not start; see {log.name}")
                time.sleep(0.2)
            yield base
        finally:
            stop(process)


@dataclass
class Placed:
    order_id: str
    order_token: str
    short_code: str
    customer_name: str


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


class DeskShop:
    """Stores D1 (the desk's) and D2, with stock, committed for real; orders moved on through the service."""

    def __init__(self, engine: Engine, base: str) -> None:
        self.engine = engine
        self.base = base
        self.count = 0

    def key(self, store_code: str | None = "D1", *, role: Role = Role.staff) -> str:
        with Session(self.engine) as session:
            secret = create_api_key(session, role=role, store_code=store_code)
            session.commit()
        return secret

    def order(
        self, customer_name: str, lines: dict[str, int], *, store: str = "D1", **overrides: Any
    ) -> Placed:
        self.count += 1
        customer = {"name": customer_name, "email": "klant@example.nl"}
        order = reserved_order(
            self.engine, store, lines, key=f"desk-{uuid.uuid4()}", customer=customer, **overrides
        )
        token = orders_service.order_token(order.order_id)
        shown = self.shown(Placed(order.order_id, token, "", customer_name))
        assert shown["status"] == "reserved"
        return Placed(order.order_id, token, shown["pickup"]["code"], customer_name)

    def shown(self, placed: Placed) -> dict[str, Any]:
        """The order as the shopper's app shows it."""
        answer = httpx.get(
            f"{self.base}/mobile/v1/orders/{placed.order_id}", headers=bearer(placed.order_token)
        )
        assert answer.status_code == 200, answer.text
        body: dict[str, Any] = answer.json()
        return body

    def ready(self, placed: Placed, secret: str, *, picked: dict[str, int] | None = None) -> dict[str, Any]:
        body = None if picked is None else {"lines": [{"sku": s, "picked": n} for s, n in picked.items()]}
        answer = httpx.post(
            f"{self.base}/staff/v1/orders/{placed.order_id}/ready", json=body, headers=bearer(secret)
        )
        assert answer.status_code == 200, answer.text
        shown: dict[str, Any] = answer.json()
        return shown

    def collect(self, placed: Placed, secret: str) -> None:
        answer = httpx.post(
            f"{self.base}/staff/v1/pickups/confirm", json={"code": placed.short_code}, headers=bearer(secret)
        )
        assert answer.status_code == 200, answer.text

    def arrive(self, placed: Placed, **body: Any) -> httpx.Response:
        """What the shopper's app sends: on my way (with an eta), or I'm here."""
        return httpx.post(
            f"{self.base}/mobile/v1/orders/{placed.order_id}/arrival",
            json=body,
            headers=bearer(placed.order_token),
        )

    def staff_order(self, placed: Placed, secret: str, *, status: str = "collected") -> dict[str, Any]:
        """The order as the store's staff see it (history with `by` and `verification`, returns)."""
        answer = httpx.get(
            f"{self.base}/staff/v1/stores/D1/orders",
            params={"status": status, "limit": 200},
            headers=bearer(secret),
        )
        assert answer.status_code == 200, answer.text
        [found] = [order for order in answer.json()["items"] if order["order_id"] == placed.order_id]
        shown: dict[str, Any] = found
        return shown

    def change_store(self, code: str, **settings: Any) -> None:
        """What the chain's admin does: the store's row upserted with these settings."""
        answer = httpx.put(
            f"{self.base}/admin/v1/stores",
            json={"stores": [desk_store_row(code, **settings)]},
            headers=bearer(self.key(None, role=Role.admin)),
        )
        assert answer.status_code == 200, answer.text
        assert answer.json()["errors"] == []

    def status(self, placed: Placed) -> str:
        return str(self.shown(placed)["status"])

    def qr_png(self, placed: Placed) -> bytes:
        answer = httpx.get(
            f"{self.base}/mobile/v1/orders/{placed.order_id}/pickup-code.png",
            headers=bearer(placed.order_token),
        )
        assert answer.headers["content-type"] == "image/png"
        return answer.content

    def set_times(self, placed: Placed, *, created_at: datetime, ready_by: datetime) -> None:
        with Session(self.engine) as session:
            order = session.exec(select(Order).where(Order.order_id == placed.order_id)).one()
            order.created_at = created_at
            order.ready_by = ready_by
            session.add(order)
            session.commit()

    def expire(self, placed: Placed) -> None:
        """What the expiry sweep does once the hold time has passed."""
        with Session(self.engine) as session:
            order = session.exec(select(Order).where(Order.order_id == placed.order_id)).one()
            order.expires_at = utcnow() - timedelta(minutes=1)
            session.add(order)
            session.commit()
            assert order.id in sweeps.expire_ready(session)
            session.commit()


STORES = {
    "D1": ("Utrecht", {"lat": 52.0907, "lon": 5.1214}),
    "D2": ("Zeist", {"lat": 52.0894, "lon": 5.2330}),  # 7.6 km east
}


def desk_store_row(code: str, **overrides: Any) -> dict[str, Any]:
    city, location = STORES[code]
    return store_row(code, always_open=True, name=f"Winkelpunt {city}", location=location, **overrides)


@contextmanager
def desk_shop_at(engine: Engine, base: str) -> Iterator[DeskShop]:
    """D1 in Utrecht and D2 in Zeist, 50 of each product, for one test; every row goes afterwards."""
    with Session(engine) as session:
        make_stores(session, [desk_store_row(code) for code in STORES])
        make_products(
            session,
            [
                product_row("KOFFIE", price="12.99", name="Koffiebonen 1 kg"),
                product_row("THEE", price="3.49", name="Groene thee"),
                product_row("MOLEN", price="39.00", name="Koffiemolen handmatig"),
            ],
        )
        apply_counts(
            session,
            [count_row(store, sku, 50) for store in ("D1", "D2") for sku in ("KOFFIE", "THEE", "MOLEN")],
        )
        session.commit()
    try:
        yield DeskShop(engine, base)
    finally:
        empty_tables(engine)


# -------------------------------------------------------------------------------------------- browser


def new_context(
    browser: Browser, locale: str, *, phone: bool = False, timezone_id: str = "Europe/Amsterdam"
) -> BrowserContext:
    if phone:
        context = browser.new_context(
            locale=locale,
            timezone_id=timezone_id,
            viewport={"width": PHONE_WIDTH, "height": 740},
            device_scale_factor=2,
            is_mobile=True,
            has_touch=True,
        )
    else:
        context = browser.new_context(
            locale=locale, timezone_id=timezone_id, viewport={"width": 1024, "height": 768}
        )
    context.set_default_timeout(30_000)
    return context


def shot(page: Page, name: str) -> None:
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def sign_in(page: Page, base: str, secret: str) -> None:
    page.goto(f"{base}/staff/")
    page.locator("#secret").fill(secret)
    page.locator("#sign-in-button").click()
    expect(page.locator("#desk")).to_be_visible()


def look_up(page: Page, code: str) -> None:
    """What a hardware scanner or a clerk does: type into the field and press Enter."""
    page.locator("#code").fill(code)
    page.locator("#code").press("Enter")


@dataclass(frozen=True)
class Sent:
    """A request the page sent to /staff/v1."""

    method: str
    path: str
    headers: dict[str, str]
    body: Any


def record_requests(page: Page) -> list[Sent]:
    """Every request the page sends to /staff/v1 from now on, in order, with its JSON body."""
    sent: list[Sent] = []

    def on_request(request: Request) -> None:
        path = urlsplit(request.url).path
        if path.startswith("/staff/v1/"):
            body = request.post_data_json if request.post_data else None
            sent.append(Sent(request.method, path, dict(request.headers), body))

    page.on("request", on_request)
    return sent


# The page's tones, as the frequencies it started oscillators at (WebAudio makes no sound headless).
RECORD_TONES = """
window.__tones = [];
const start = OscillatorNode.prototype.start;
OscillatorNode.prototype.start = function (...args) {
  window.__tones.push(this.frequency.value);
  return start.apply(this, args);
};
"""


def tones(page: Page) -> list[float]:
    played: list[float] = page.evaluate("window.__tones")
    return played


def decode_token(png: bytes) -> str:
    [result] = zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))
    return result.text


def assert_fits_a_phone(page: Page) -> None:
    """Nothing sticks out sideways, and every button, box and choice is a thumb-sized target."""
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE_WIDTH
    targets = page.evaluate(
        "[...document.querySelectorAll('button, label.choice, label.take-line, select')]"
        ".filter(b => b.offsetParent).map(b => { const r = b.getBoundingClientRect();"
        " return [b.id || b.className || b.textContent, r.width, r.height, r.right]; })"
    )
    assert targets
    small = [target for target in targets if min(target[1], target[2]) < 44]
    assert not small, small
    outside = [target for target in targets if target[3] > PHONE_WIDTH]
    assert not outside, outside
    # Each tab's label fits its tab, broken at spaces only (a word too long would stick out of it).
    overflowing = page.evaluate(
        "[...document.querySelectorAll('.tabs button')]"
        ".filter(b => !b.hidden && b.scrollWidth > b.clientWidth).map(b => b.id)"
    )
    assert overflowing == []

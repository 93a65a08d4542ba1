"""The manager's page (`/manager/`) in a real browser: Debian's headless Chromium driven by Playwright,
against `retail serve` as its own process on the test PostgreSQL database. Two weeks of orders of two
stores are written with exact instants; an admin sees the chain's table and each store's charts, a staff
key its own store only (in Dutch); nothing is fetched from anywhere but the service. Screenshots go to
test-artifacts/manager/."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, Playwright, expect, sync_playwright
from sqlalchemy import Engine
from sqlmodel import Session

from orders.models import OrderStatus
from retail.auth import Role, create_api_key
from retail.clock import utcnow
from retail.settings import Settings
from tests.e2e.chromium import CHROMIUM, offline, require_chromium
from tests.e2e.desk import new_context, serve
from tests.factories import empty_tables, make_stores, store_row
from tests.orders.report_orders import report_order

expect.set_options(timeout=20_000)

require_chromium()

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "manager"
CHARTS_PER_STORE = 5
DAYS = 14


@pytest.fixture(scope="module")
def server(pg_settings: Settings) -> Iterator[str]:
    with serve(pg_settings, "manager-server.log") as base:
        yield base


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    driver: Playwright
    with sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=str(CHROMIUM))
        yield browser
        browser.close()


@pytest.fixture
def chain(pg_engine: Engine) -> Iterator[dict[str, str]]:
    """M1 (keeps its promise mostly) and M2 (slower, rejects more), an order every few hours for the last
    two weeks; the secrets of an admin key and of M1's staff key. Every row goes afterwards."""
    with Session(pg_engine) as session:
        make_stores(session, [store_row("M1"), store_row("M2", location={"lat": 52.1, "lon": 5.13})])
        today = datetime.combine(utcnow().date(), time(8, 0), UTC)
        for day in range(DAYS):
            placed = today - timedelta(days=day)
            for n in range(6):
                at = placed + timedelta(hours=n * 2)
                report_order(session, "M1", f"m1-{day}-{n}", at,
                             OrderStatus.expired if n == 5 else OrderStatus.collected,
                             ready_after=20 + 8 * n + day % 4, collected_after=30,
                             arrived_before_collection=3,
                             short_picked=n == 4, returns=1 if (day, n) == (2, 1) else 0)  # fmt: skip
                slow = 45 + 9 * n + day % 6
                status = OrderStatus.rejected if n in (0, 3) and day % 2 else OrderStatus.collected
                report_order(session, "M2", f"m2-{day}-{n}", at, status,
                             ready_after=None if status is OrderStatus.rejected else slow, collected_after=12,
                             arrived_before_collection=6)  # fmt: skip
        secrets = {
            "admin": create_api_key(session, role=Role.admin),
            "staff": create_api_key(session, role=Role.staff, store_code="M1"),
        }
        session.commit()
    try:
        yield secrets
    finally:
        empty_tables(pg_engine)


def _page(browser: Browser, locale: str) -> tuple[Page, list[str]]:
    """A page of its own context; answers it and the errors of its console (a CSP refusal among them)."""
    context = new_context(browser, locale)
    page = context.new_page()
    errors: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            errors.append(message.text)

    page.on("console", on_console)
    page.on("pageerror", lambda error: errors.append(str(error)))
    return page, errors


def _sign_in(page: Page, base: str, secret: str) -> None:
    page.goto(f"{base}/manager/")
    page.locator("#secret").fill(secret)
    page.locator("#sign-in-form button[type=submit]").click()
    expect(page.locator("body")).to_have_attribute("data-loaded", "true")


def _shot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def test_an_admin_sees_the_chain_and_each_stores_charts_drawn_by_the_services_own_plotly(
    browser: Browser, server: str, chain: dict[str, str]
) -> None:
    page, errors = _page(browser, "en-GB")
    elsewhere = offline(page.context, server)
    page.goto(f"{server}/manager/")
    expect(page.locator("h1")).to_have_text("Service report")
    page.locator("#secret").fill("wp_not-a-key-of-this-chain")
    page.locator("#sign-in-form button[type=submit]").click()
    expect(page.locator("#sign-in-message")).to_have_text("This key is not known, or revoked.")
    expect(page.locator("#report")).to_be_hidden()
    errors.clear()  # the browser logs the refused key's 401; nothing else may be logged from here on

    _sign_in(page, server, chain["admin"])
    expect(page.locator("#who")).to_have_text("admin")
    # The chain's table: both stores, M2 (the worse promise keeper) first.
    rows = page.locator("#chain-table tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.nth(0).locator("td").first).to_have_text("M2")
    expect(rows.nth(1).locator("td").nth(1)).to_have_text(str(6 * DAYS))
    for store in ("M1", "M2"):
        charts = page.locator(f".store[data-store={store}] .chart")
        expect(charts).to_have_count(CHARTS_PER_STORE)
        for n in range(CHARTS_PER_STORE):  # each drawn: plotly's SVG with its bars or lines
            expect(charts.nth(n).locator("svg.main-svg").first).to_be_visible()
    expect(page.locator(".store[data-store=M1] .chart[data-chart='Promise kept %'] .point")).to_have_count(
        DAYS
    )
    _shot(page, "01-chain-admin-en")
    assert elsewhere == []
    assert errors == []
    page.context.close()


def test_a_staff_key_sees_its_own_store_only_in_dutch(
    browser: Browser, server: str, chain: dict[str, str]
) -> None:
    page, errors = _page(browser, "nl-NL")
    elsewhere = offline(page.context, server)
    _sign_in(page, server, chain["staff"])
    expect(page.locator("h1")).to_have_text("Servicerapport")
    expect(page.locator("#who")).to_have_text("winkel M1")
    expect(page.locator("#store-field")).to_be_hidden()
    expect(page.locator("#chain")).to_be_hidden()
    expect(page.locator(".store")).to_have_count(1)
    expect(page.locator(".store[data-store=M1] .chart svg.main-svg >> nth=0")).to_be_visible()
    expect(page.locator(".store[data-store=M1] .chart")).to_have_count(CHARTS_PER_STORE)
    expect(page.locator(".store[data-store=M1] .summary")).to_contain_text(f"{6 * DAYS} bestellingen")
    _shot(page, "02-store-staff-nl")
    assert elsewhere == []
    assert errors == []
    page.context.close()

"""`/docs` and `/redoc` in a real browser with no internet: Debian's Chromium, driven by Playwright, may
reach nothing but the service. The service is `retail serve` on the embedded SQLite default, as a
newcomer first runs it. Screenshots go to test-artifacts/docs/."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from tests.e2e.chromium import CHROMIUM, offline, require_chromium
from tests.e2e.processes import end, free_port, spawn, wait_serving

require_chromium()

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "docs"
# Every Content-Security-Policy refusal of the page, with what was refused.
RECORD_VIOLATIONS = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__violations.push(`${event.effectiveDirective} ${event.blockedURI}`);
});
"""

expect.set_options(timeout=30_000)


@pytest.fixture(scope="module")
def docs_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`retail serve` on the embedded SQLite default, on a free port; answers its base URL."""
    workdir = tmp_path_factory.mktemp("docs-service")
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("RETAIL_")},
        "RETAIL_DATABASE_URL": f"sqlite:///{workdir / 'winkelpunt.db'}",
        "RETAIL_LOG_LEVEL": "WARNING",
    }
    port = free_port()
    process = spawn(["serve", "--port", str(port)], env, workdir)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_serving(base)
        yield base
    finally:
        end(process)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=str(CHROMIUM))
        yield browser
        browser.close()


@pytest.fixture
def page_offline(browser: Browser, docs_server: str) -> Iterator[tuple[Page, list[str]]]:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    elsewhere = offline(context, docs_server)
    context.add_init_script(RECORD_VIOLATIONS)
    yield context.new_page(), elsewhere
    context.close()


def _operations(base: str) -> int:
    document = httpx.get(f"{base}/openapi.json").json()
    methods = {"get", "put", "post", "delete", "patch"}
    return sum(1 for item in document["paths"].values() for method in item if method in methods)


def test_swagger_ui_renders_every_operation_and_tries_one_with_no_internet(
    page_offline: tuple[Page, list[str]], docs_server: str
) -> None:
    page, elsewhere = page_offline
    page.goto(f"{docs_server}/docs")
    expect(page.locator(".info .title")).to_contain_text("Winkelpunt")
    expect(page.locator(".opblock")).to_have_count(_operations(docs_server))
    nearest = page.locator("#operations-mobile-stores_nearest")
    expect(nearest.locator(".opblock-summary-path")).to_have_text("/mobile/v1/stores/nearest")

    # "Try it out" works under the page's policy: the request goes to this service and its answer shows.
    nearest.locator(".opblock-summary").click()
    nearest.locator(".try-out__btn").click()
    nearest.locator("tr[data-param-name='lat'] input").fill("52.0907")
    nearest.locator("tr[data-param-name='lon'] input").fill("5.1214")
    nearest.locator(".execute").click()
    answer = nearest.locator(".live-responses-table tbody .response")
    expect(answer.locator(".response-col_status")).to_have_text("200")
    expect(answer.locator(".response-col_description")).to_contain_text('"items": []')
    page.screenshot(path=str(ARTIFACTS / "swagger-ui.png"))

    assert elsewhere == []
    assert page.evaluate("window.__violations") == []


def test_redoc_renders_every_operation_with_no_internet(
    page_offline: tuple[Page, list[str]], docs_server: str
) -> None:
    page, elsewhere = page_offline
    page.goto(f"{docs_server}/redoc")
    expect(page.locator("h1")).to_have_text("Winkelpunt (1.0.0)")
    expect(page.locator("li[data-item-id*='/operation/']")).to_have_count(_operations(docs_server))
    operation = page.locator("[id='tag/mobile/operation/stores_nearest']")
    expect(operation.locator("h2")).to_have_text("Stores Nearest")
    page.screenshot(path=str(ARTIFACTS / "redoc.png"))

    assert elsewhere == []
    # ReDoc's side menu always shows the Redocly logo from Redocly's CDN; the policy refuses it before any
    # request is made (the menu then hides the image), and it is the only thing refused.
    assert page.evaluate("window.__violations") == ["img-src https://cdn.redoc.ly/redoc/logo-mini.svg"]

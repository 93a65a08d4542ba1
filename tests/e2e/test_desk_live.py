"""The pickup desk's live feed in Debian's headless Chromium: `GET /staff/v1/stores/{code}/events` read with
fetch() (the key in the Authorization header, never in a URL), arrivals and new orders on the open desk
without a reload, with a tone and a count on the tab; polling while the feed is down; a dropped feed
resumed with Last-Event-ID, nothing missed and nothing rung twice. And the page's SSE parser on its own.

The page's clock is stopped (Playwright's fake timers) where a test must show that the feed, not a poll,
brought something: with time standing still no polling timer can fire.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, Page, Request, Route, expect, sync_playwright
from sqlalchemy import Engine

from retail.settings import Settings
from tests.e2e.chromium import CHROMIUM, require_chromium
from tests.e2e.desk import (
    RECORD_TONES,
    DeskShop,
    assert_fits_a_phone,
    desk_shop_at,
    new_context,
    serve,
    shot,
    sign_in,
    tones,
)

expect.set_options(timeout=20_000)  # a shared two-core machine: right but slow is still right

require_chromium()

ORDER_TONE = [660.0]
ARRIVAL_TONE = [880.0, 1175.0]
# The issue asks for under 2 seconds; the bound is generous for a loaded machine, the figure is printed.
LIVE_BOUND_S = 10.0


@pytest.fixture(scope="module")
def server(pg_settings: Settings) -> Iterator[str]:
    with serve(pg_settings, "server-live.log") as base:
        yield base


@pytest.fixture
def desk_shop(pg_engine: Engine, server: str) -> Iterator[DeskShop]:
    with desk_shop_at(pg_engine, server) as shop:
        yield shop


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=str(CHROMIUM))
        yield browser
        browser.close()


def _visible_tabs(page: Page) -> list[str]:
    ids: list[str] = page.evaluate(
        "[...document.querySelectorAll('.tabs button')].filter(b => !b.hidden).map(b => b.id)"
    )
    return ids


def _stop_the_clock(page: Page) -> None:
    """Time stands still in the page from now on (its own now: run_for may have moved it ahead)."""
    now_ms: float = page.evaluate("Date.now()")
    page.clock.pause_at(datetime.fromtimestamp(now_ms / 1000, UTC) + timedelta(seconds=1))


def test_an_arrival_and_a_new_order_reach_the_open_desk_through_the_feed(
    browser: Browser, desk_shop: DeskShop
) -> None:
    secret = desk_shop.key("D1")
    sanne = desk_shop.order("Sanne de Vries", {"THEE": 1})
    desk_shop.ready(sanne, secret)
    context = new_context(browser, "nl-NL", phone=True)
    page = context.new_page()
    try:
        page.add_init_script(RECORD_TONES)
        feeds: list[Request] = []
        page.on("request", lambda r: feeds.append(r) if urlsplit(r.url).path.endswith("/events") else None)
        page.clock.install()
        sign_in(page, desk_shop.base, secret)
        expect(page.locator("#live")).to_have_attribute("data-live", "true")
        assert _visible_tabs(page) == ["tab-handover", "tab-pick", "tab-waiting"]
        # The key goes in the header; nothing of it in the feed's address.
        assert [urlsplit(r.url).path for r in feeds] == ["/staff/v1/stores/D1/events"]
        assert feeds[0].headers["authorization"] == f"Bearer {secret}"
        assert secret not in feeds[0].url
        _stop_the_clock(page)

        started = time.monotonic()
        answer = desk_shop.arrive(sanne, status="arrived", where="curbside", bay="4")
        assert answer.status_code == 200, answer.text
        expect(page.locator("#tab-arrivals")).to_be_visible()
        arrival_s = time.monotonic() - started
        # Whoever waits comes first in the row, counted, with a count of what is new on the tab's title.
        assert _visible_tabs(page) == ["tab-arrivals", "tab-handover", "tab-pick", "tab-waiting"]
        expect(page.locator("#arrivals-count")).to_have_text("1")
        expect(page.locator("#arrivals-new")).to_have_text("+1")
        expect(page).to_have_title("(1) Afhaalbalie · Winkelpunt")
        assert tones(page) == ARRIVAL_TONE
        shot(page, "30-phone-arrival-came-in")
        page.locator("#tab-arrivals").tap()
        card = page.locator("#arrived-list > li")
        expect(card.locator("h2")).to_have_text("Sanne de Vries")
        expect(card.locator(".arrival-state")).to_have_text("Wacht 0 min")
        expect(card.locator(".where")).to_have_text("Op de parkeerplaats, vak 4")
        expect(card.locator(".short-code")).to_have_text(sanne.short_code)
        expect(page).to_have_title("Afhaalbalie · Winkelpunt")  # seen
        expect(page.locator("#arrivals-new")).to_be_hidden()

        # A new order rings too, and is on the pick list at once.
        started = time.monotonic()
        ahmed = desk_shop.order("Ahmed Yilmaz", {"MOLEN": 1})
        expect(page.locator(f"#pick-list > li[data-order-id='{ahmed.order_id}']")).to_have_count(1)
        order_s = time.monotonic() - started
        expect(page.locator("#pick-new")).to_have_text("+1")
        expect(page.locator("#pick-count")).to_have_text("1")
        assert tones(page) == ARRIVAL_TONE + ORDER_TONE
        # ... and its shopper is on the way: under those waiting, with when they expect to be here.
        answer = desk_shop.arrive(ahmed, status="on_the_way", eta_minutes=10)
        assert answer.status_code == 200, answer.text
        coming = page.locator("#coming-list > li")
        expect(coming.locator("h2")).to_have_text("Ahmed Yilmaz")
        expect(coming.locator(".arrival-state")).to_have_text(re_time("Onderweg, rond ", " hier"))
        expect(coming.locator(".not-picked")).to_have_text("Nog niet gepakt: pak het nu.")
        expect(page.locator("#arrivals-count")).to_have_text("2")
        assert tones(page) == ARRIVAL_TONE + ORDER_TONE + ARRIVAL_TONE
        shot(page, "31-phone-arrivals")
        assert_fits_a_phone(page)
        print(f"\nlive desk: arrival shown after {arrival_s:.2f} s, new order after {order_s:.2f} s")
        assert arrival_s < LIVE_BOUND_S
        assert order_s < LIVE_BOUND_S
    finally:
        context.close()


def re_time(before: str, after: str) -> re.Pattern[str]:
    """The text with a clock time (HH:MM) between `before` and `after`."""
    return re.compile(re.escape(before) + r"\d{1,2}:\d{2}" + re.escape(after))


def test_polling_carries_on_while_the_feed_is_down_and_a_resumed_feed_misses_nothing(
    browser: Browser, desk_shop: DeskShop
) -> None:
    secret = desk_shop.key("D1")
    first = desk_shop.order("Sanne de Vries", {"THEE": 1})
    desk_shop.ready(first, secret)
    second = desk_shop.order("Noor Jansen", {"KOFFIE": 1})
    desk_shop.ready(second, secret)
    context = new_context(browser, "en-GB")
    page = context.new_page()
    try:
        page.add_init_script(RECORD_TONES)
        page.clock.install()

        def feed_down(route: Route) -> None:
            route.fulfill(status=503, content_type="application/problem+json", body='{"code": "unavailable"}')

        page.route("**/staff/v1/stores/D1/events", feed_down)
        resumes: list[str | None] = []
        page.on(
            "request",
            lambda r: (
                resumes.append(r.headers.get("last-event-id"))
                if urlsplit(r.url).path.endswith("/events")
                else None
            ),
        )
        sign_in(page, desk_shop.base, secret)
        live = page.locator("#panel-pick .live-state")
        expect(live).to_have_text("not live: refreshed every 15 s")
        # Without the feed, the lists still come: by polling.
        late = desk_shop.order("Ahmed Yilmaz", {"MOLEN": 1})
        page.clock.run_for("00:16")
        expect(page.locator(f"#pick-list > li[data-order-id='{late.order_id}']")).to_have_count(1)
        assert tones(page) == []  # a poll finds it, it rings only what the feed says

        # The feed is back: the page asks again (every 30 s while it is refused) and goes live.
        page.unroute("**/staff/v1/stores/D1/events")
        page.clock.run_for("00:40")
        expect(live).to_have_text("live")
        answer = desk_shop.arrive(first, status="arrived", where="counter")
        assert answer.status_code == 200, answer.text
        expect(page.locator("#arrived-list > li h2")).to_have_text(["Sanne de Vries"])
        assert tones(page) == ARRIVAL_TONE
        assert resumes[-1] is None  # a fresh start: nothing to resume from yet

        # The connection dies silently (no keep-alive for 40 s): the page drops it and resumes from the
        # last event it saw. What happened in between arrives once.
        _stop_the_clock(page)
        page.clock.fast_forward("00:41")
        expect(live).to_have_text("not live: refreshed every 15 s")
        answer = desk_shop.arrive(second, status="arrived", where="counter")
        assert answer.status_code == 200, answer.text
        page.clock.fast_forward("00:02")
        expect(live).to_have_text("live")
        assert resumes[-1]  # Last-Event-ID: the id of Sanne's arrival
        expect(page.locator("#arrived-list > li h2")).to_have_text(["Sanne de Vries", "Noor Jansen"])
        assert tones(page) == ARRIVAL_TONE + ARRIVAL_TONE  # Noor's arrival rang once, Sanne's not again

        # Past the store's hand-over time, a waiting shopper is marked.
        desk_shop.change_store("D1", handover_minutes=0)
        third = desk_shop.order("Elif Demir", {"THEE": 1})  # any event makes the desk look again
        expect(page.locator(f"#pick-list > li[data-order-id='{third.order_id}']")).to_have_count(1)
        page.locator("#tab-arrivals").click()
        overdue = page.locator("#arrived-list > li.overdue")
        expect(overdue).to_have_count(2)
        expect(overdue.nth(0).locator(".arrival-state")).to_have_text("Waiting 0 min: hand it over now")
        expect(page.locator("#arrivals-count")).to_have_class("count urgent")
        shot(page, "32-arrivals-overdue")
    finally:
        context.close()


# The page's parser on its own, fed as the network might cut the stream: across a CRLF, mid-field, with
# comments, a multi-line data field, an id without data, a retry.
SSE_CHUNKS = [
    ": keep-alive\r",
    "\n",
    'id: 7\r\nevent: order.arrival\r\ndata: {"type": "order.arrival",',
    ' "order_id": "ord_a", "at": "2026-03-02T10:00:00+00:00"}\r\n\r',
    "\nid: 8\n\n",  # an id alone: the position moves, nothing is dispatched
    "retry: 2500\ndata: first line\ndata:second line\n\n",
    "data: no end yet",
]


def test_the_pages_sse_parser_reads_frames_cut_anywhere(browser: Browser, server: str) -> None:
    context = new_context(browser, "en-GB")
    page = context.new_page()
    try:
        page.goto(f"{server}/staff/")
        result = page.evaluate(
            """async (chunks) => {
                const { SseParser } = await import('/staff/assets/sse.js');
                const parser = new SseParser();
                const events = [];
                for (const chunk of chunks) events.push(...parser.feed(chunk));
                return { events, lastEventId: parser.lastEventId, retry: parser.retry };
            }""",
            SSE_CHUNKS,
        )
    finally:
        context.close()
    assert result == {
        "events": [
            {
                "type": "order.arrival",
                "data": '{"type": "order.arrival", "order_id": "ord_a", "at": "2026-03-02T10:00:00+00:00"}',
                "id": "7",
            },
            {"type": "message", "data": "first line\nsecond line", "id": "8"},
        ],
        "lastEventId": "8",
        "retry": 2500,
    }

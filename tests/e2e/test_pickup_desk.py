"""The pickup desk page (`/staff/`) in a real browser: Debian's headless Chromium driven by Playwright.

The service runs as it does in production (`retail serve`, its own process on a free port) against the
test PostgreSQL database and Redis; the data is committed for real and removed after each test. The camera
scan feeds Chromium's fake camera a video made from the order's real QR PNG, so the page's whole path
(camera, frame, `pickups/scan`, `pickups/verify`, `pickups/confirm`) runs. Screenshots of every screen go
to test-artifacts/desk/. The counter's day (short picks, partial hand-overs, returns, arrivals on the live
feed) is in test_desk_counter.py.
"""

from __future__ import annotations

import hashlib
import io
import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from PIL import Image
from playwright.sync_api import (
    Browser,
    FloatRect,
    Page,
    Playwright,
    Route,
    expect,
    sync_playwright,
)
from redis import Redis
from sqlalchemy import Engine
from sqlmodel import Session

from orders import scan
from retail.auth import Role
from retail.settings import Settings
from tests.conftest import REDIS_URL
from tests.e2e.chromium import CHROMIUM, require_chromium
from tests.e2e.desk import (
    CAMERA_ARGS,
    TIMES,
    DeskShop,
    assert_fits_a_phone,
    bearer,
    decode_token,
    desk_shop_at,
    look_up,
    new_context,
    serve,
    shot,
    sign_in,
)
from tests.factories import ALWAYS_OPEN, make_store

# Generous waits: other test runs share this machine's two cores, and a page that is right but slow is
# still right. A broken page fails all the same, only later.
expect.set_options(timeout=20_000)

require_chromium()


@pytest.fixture(scope="module")
def server(pg_settings: Settings) -> Iterator[str]:
    with serve(pg_settings, "server.log") as base:
        yield base


@pytest.fixture
def desk_shop(pg_engine: Engine, server: str) -> Iterator[DeskShop]:
    with desk_shop_at(pg_engine, server) as shop:
        yield shop


@pytest.fixture(scope="module")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="module")
def browser(playwright: Playwright) -> Iterator[Browser]:
    browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CAMERA_ARGS)
    yield browser
    browser.close()


@pytest.fixture
def english(browser: Browser) -> Iterator[Page]:
    context = new_context(browser, "en-GB")
    yield context.new_page()
    context.close()


@pytest.fixture
def dutch(browser: Browser) -> Iterator[Page]:
    context = new_context(browser, "nl-NL")
    yield context.new_page()
    context.close()


# ---------------------------------------------------------------------------------------------- tests


def test_sign_in_refuses_a_wrong_key_and_keeps_the_right_one_for_the_session_only(
    english: Page, desk_shop: DeskShop
) -> None:
    english.goto(f"{desk_shop.base}/staff/")
    expect(english.locator("h1")).to_have_text("Pickup desk")
    english.locator("#sign-in-button").click()
    expect(english.locator("#sign-in-message")).to_have_text("Type the staff key first.")
    english.locator("#secret").fill("wp_not-a-key-of-this-chain")
    english.locator("#sign-in-button").click()
    expect(english.locator("#sign-in-message")).to_have_text(
        "This staff key is not valid. Check it and try again."
    )
    expect(english.locator("#desk")).to_be_hidden()
    shot(english, "01-sign-in-refused")

    secret = desk_shop.key("D1")
    english.locator("#secret").fill(secret)
    english.locator("#sign-in-button").click()
    expect(english.locator("#desk")).to_be_visible()
    expect(english.locator("#store")).to_have_text("D1")
    assert english.evaluate("JSON.parse(sessionStorage.getItem('winkelpunt.desk')).secret") == secret
    assert english.evaluate("localStorage.length") == 0
    assert secret not in english.url
    shot(english, "02-signed-in")

    # A reload keeps the session; signing out forgets the key.
    english.reload()
    expect(english.locator("#desk")).to_be_visible()
    english.locator("#sign-out").click()
    expect(english.locator("#sign-in")).to_be_visible()
    assert english.evaluate("sessionStorage.getItem('winkelpunt.desk')") is None


def test_the_pick_list_marks_orders_ready_and_both_lists_refresh_by_themselves(
    english: Page, desk_shop: DeskShop
) -> None:
    first = desk_shop.order("Sanne de Vries", {"KOFFIE": 2, "THEE": 1})
    second = desk_shop.order("Ahmed Yilmaz", {"MOLEN": 1})
    desk_shop.order("Elsewhere", {"THEE": 1}, store="D2")
    english.clock.install()
    sign_in(english, desk_shop.base, desk_shop.key("D1"))

    english.locator("#tab-pick").click()
    cards = english.locator("#pick-list > li")
    # Oldest first, with the customer, when it must be ready, and every line.
    expect(cards).to_have_count(2)
    expect(english.locator("#pick-count")).to_have_text("2")
    expect(cards.nth(0).locator("h2")).to_have_text("Sanne de Vries")
    expect(cards.nth(1).locator("h2")).to_have_text("Ahmed Yilmaz")
    expect(cards.nth(0).locator(".ready-by")).to_contain_text("Ready by")
    expect(cards.nth(0).locator(".lines li .line-text")).to_have_text(
        [f"2 {TIMES} Koffiebonen 1 kgKOFFIE", f"1 {TIMES} Groene theeTHEE"]
    )
    shot(english, "03-pick-list")

    cards.nth(0).locator("button.ready").click()
    expect(english.locator("#pick-notice")).to_have_text("Sanne de Vries: ready for pickup.")
    expect(cards).to_have_count(1)
    expect(cards.nth(0).locator("h2")).to_have_text("Ahmed Yilmaz")
    assert desk_shop.status(first) == "ready_for_pickup"
    assert desk_shop.status(second) == "reserved"

    english.locator("#tab-waiting").click()
    waiting = english.locator("#waiting-list > li")
    expect(waiting).to_have_count(1)
    expect(waiting.nth(0).locator("h2")).to_have_text("Sanne de Vries")
    expect(waiting.nth(0).locator(".time-left")).to_contain_text("left to collect")
    shot(english, "04-waiting-list")

    # Orders placed and picked elsewhere (another clerk) appear without anyone touching the page.
    third = desk_shop.order("Noor Jansen", {"THEE": 3})
    desk_shop.ready(second, desk_shop.key("D1"))
    english.clock.fast_forward("00:35")
    expect(waiting).to_have_count(2)
    expect(english.locator("#waiting-count")).to_have_text("2")
    expect(english.locator("#pick-count")).to_have_text("1")
    english.locator("#tab-pick").click()
    expect(cards.nth(0).locator("h2")).to_have_text(third.customer_name)


def test_each_card_carries_the_bags_label_and_a_waiting_order_hands_over_without_the_shoppers_code(
    english: Page, desk_shop: DeskShop
) -> None:
    secret = desk_shop.key("D1")
    to_pick = desk_shop.order("Sanne de Vries", {"KOFFIE": 1})
    waiting = desk_shop.order("Ahmed Yilmaz", {"THEE": 2})
    other = desk_shop.order("Noor Jansen", {"MOLEN": 1})
    desk_shop.ready(waiting, secret)
    desk_shop.ready(other, secret)
    sign_in(english, desk_shop.base, secret)

    english.locator("#tab-pick").click()
    pick = english.locator("#pick-list > li")
    expect(pick).to_have_count(1)
    # What goes on the bag: the short code the shopper will show, and the order number.
    expect(pick.locator(".label dt")).to_have_text(["Code", "Order"])
    expect(pick.locator(".short-code")).to_have_text(to_pick.short_code)
    expect(pick.locator(".order-number")).to_have_text(to_pick.order_id)

    english.locator("#tab-waiting").click()
    card = english.locator(f"#waiting-list > li[data-order-id='{waiting.order_id}']")
    expect(card.locator(".short-code")).to_have_text(waiting.short_code)
    expect(card.locator(".order-number")).to_have_text(waiting.order_id)
    button = card.locator("button.hand-over-code")
    expect(button).to_have_text(f"Hand over {waiting.short_code}")
    shot(english, "12-waiting-hand-over-button")

    # The shopper's phone died: the clerk hands over from the list, after the usual check.
    button.click()
    expect(english.locator("#tab-handover")).to_have_attribute("aria-selected", "true")
    shown = english.locator("#result .hand-over")
    expect(shown.locator("h2")).to_have_text("Ahmed Yilmaz")
    expect(shown.locator(".warning")).to_have_text(
        "Without the customer's code: check their name, or an ID, before handing over."
    )
    expect(shown.locator(".lines li .line-text")).to_have_text([f"2 {TIMES} Groene theeTHEE"])
    expect(english.locator("#hand-over-close")).to_have_text("Close")
    assert desk_shop.status(waiting) == "ready_for_pickup"  # looking it up changes nothing
    shot(english, "13-hand-over-from-the-list")
    english.locator("#confirm").click()
    expect(english.locator("#result .success")).to_have_text("Handed over to Ahmed Yilmaz. Done.")
    assert desk_shop.status(waiting) == "collected"
    assert desk_shop.status(other) == "ready_for_pickup"
    assert desk_shop.status(to_pick) == "reserved"
    english.locator("#tab-waiting").click()
    expect(english.locator("#waiting-list > li")).to_have_count(1)
    expect(english.locator("#waiting-list > li h2")).to_have_text("Noor Jansen")


def test_times_are_the_stores_whatever_zone_the_device_is_set_to(
    browser: Browser, desk_shop: DeskShop
) -> None:
    # Half past midnight in Amsterdam is still the evening before in New York.
    now = datetime(2026, 11, 23, 23, 30, tzinfo=UTC)
    order = desk_shop.order("Sanne de Vries", {"KOFFIE": 1})
    desk_shop.set_times(
        order,
        created_at=datetime(2026, 11, 23, 22, 50, tzinfo=UTC),  # 23:50 in Amsterdam, on the day before
        ready_by=datetime(2026, 11, 23, 23, 45, tzinfo=UTC),  # 00:45 in Amsterdam, today
    )
    context = new_context(browser, "en-GB", timezone_id="America/New_York")
    page = context.new_page()
    try:
        page.clock.set_fixed_time(now)
        assert page.evaluate("new Date().getHours()") == 18  # the device's own clock reads New York time
        sign_in(page, desk_shop.base, desk_shop.key("D1"))
        page.locator("#tab-pick").click()
        card = page.locator("#pick-list > li")
        expect(card.locator(".ready-by")).to_have_text("Ready by 00:45")
        expect(card.locator(".meta").nth(1)).to_have_text("Ordered 23 Nov 2026, 23:50")
        expect(page.locator("#panel-pick .updated-at")).to_have_text("00:30:00")
        shot(page, "14-store-time-on-a-new-york-device")
    finally:
        context.close()


def test_the_header_keeps_the_store_code_on_one_line_on_a_360_px_phone(
    browser: Browser, desk_shop: DeskShop
) -> None:
    with Session(desk_shop.engine) as session:
        make_store(session, "NL-UTR-0042", hours=ALWAYS_OPEN)
        session.commit()
    context = new_context(browser, "nl-NL", phone=True)
    page = context.new_page()
    try:
        sign_in(page, desk_shop.base, desk_shop.key("NL-UTR-0042"))
        store = page.locator("#store")
        expect(store).to_have_text("NL-UTR-0042")
        shot(page, "15-phone-header")
        # One line: a range over the text has one box per line it is laid out on.
        lines = store.evaluate(
            "node => { const r = document.createRange(); r.selectNodeContents(node);"
            " return r.getClientRects().length; }"
        )
        assert lines == 1
        bar, code, sign_out = (_box(page, selector) for selector in (".bar", "#store", "#sign-out"))
        # The code, whole, beside the sign-out button, in one row of the header.
        assert code["x"] + code["width"] <= sign_out["x"]
        assert sign_out["x"] + sign_out["width"] <= 360
        assert bar["height"] < 2 * sign_out["height"]
        assert page.evaluate("document.documentElement.scrollWidth") <= 360
    finally:
        context.close()


def _box(page: Page, selector: str) -> FloatRect:
    box = page.locator(selector).bounding_box()
    assert box is not None, f"{selector} is not shown"
    return box


def test_hand_over_by_typing_the_short_code(dutch: Page, desk_shop: DeskShop) -> None:
    secret = desk_shop.key("D1")
    order = desk_shop.order("Sanne de Vries", {"KOFFIE": 2, "THEE": 1})
    other = desk_shop.order("Ahmed Yilmaz", {"MOLEN": 1})
    desk_shop.ready(order, secret)
    desk_shop.ready(other, secret)
    sign_in(dutch, desk_shop.base, secret)
    expect(dutch.locator("h1")).to_have_text("Afhaalbalie")

    # Typed by hand: lower case, a space instead of the dash.
    look_up(dutch, order.short_code.lower().replace("-", " "))
    card = dutch.locator("#result .hand-over")
    expect(card.locator("h2")).to_have_text("Sanne de Vries")
    expect(card.locator(".lines li .line-text")).to_have_text(
        [f"2 {TIMES} Koffiebonen 1 kgKOFFIE", f"1 {TIMES} Groene theeTHEE"]
    )
    expect(dutch.locator("#confirm")).to_have_text("Meegeven aan Sanne de Vries")
    assert desk_shop.status(order) == "ready_for_pickup"  # looking it up changes nothing
    shot(dutch, "05-hand-over-check")

    # The next customer's code from a hardware scanner (its text, then Enter) replaces the order on
    # screen; the Enter never hands over the one shown before.
    look_up(dutch, decode_token(desk_shop.qr_png(other)))
    expect(card.locator("h2")).to_have_text("Ahmed Yilmaz")
    assert desk_shop.status(order) == "ready_for_pickup"
    # Putting the order away is "close": "cancel" under an order reads as cancelling the order.
    expect(dutch.locator("#hand-over-close")).to_have_text("Sluiten")
    dutch.locator("#hand-over-close").click()
    expect(card).to_have_count(0)
    assert desk_shop.status(other) == "ready_for_pickup"

    # Two codes in quick succession (a scanner does not wait for the answer): the last one is shown.
    look_up(dutch, "ZZZZ-ZZZZ")
    look_up(dutch, order.short_code)
    expect(card.locator("h2")).to_have_text("Sanne de Vries")
    expect(dutch.locator("#result .refusal")).to_have_count(0)
    dutch.locator("#confirm").click()
    expect(dutch.locator("#result .success")).to_have_text("Meegegeven aan Sanne de Vries. Klaar.")
    assert desk_shop.status(order) == "collected"
    assert desk_shop.status(other) == "ready_for_pickup"
    shot(dutch, "06-handed-over")


def test_an_admin_key_says_which_stores_counter_it_is_at(english: Page, desk_shop: DeskShop) -> None:
    order = desk_shop.order("Sanne de Vries", {"THEE": 1})
    desk_shop.ready(order, desk_shop.key("D1"))
    english.goto(f"{desk_shop.base}/staff/")
    expect(english.locator("#store-code")).to_be_hidden()
    english.locator("#secret").fill(desk_shop.key(None, role=Role.admin))
    english.locator("#sign-in-button").click()
    expect(english.locator("#sign-in-message")).to_have_text(
        "An admin key needs a store code: type the store's code."
    )
    english.locator("#store-code").fill("NOPE")
    english.locator("#sign-in-button").click()
    expect(english.locator("#sign-in-message")).to_have_text("There is no store with this code.")
    english.locator("#store-code").fill("D1")
    english.locator("#sign-in-button").click()
    expect(english.locator("#store")).to_have_text("D1")

    # A short code only means something at one store, so the page sends the store along.
    look_up(english, order.short_code)
    expect(english.locator("#result .hand-over h2")).to_have_text("Sanne de Vries")
    english.locator("#confirm").click()
    expect(english.locator("#result .success")).to_have_text("Handed over to Sanne de Vries. Done.")
    assert desk_shop.status(order) == "collected"


def _fake_camera_video(
    png: bytes, path: Path, *, size: tuple[int, int] = (640, 480), frames: int = 10
) -> None:
    """A YUV4MPEG2 video (what Chromium's fake camera plays in a loop) of the QR PNG, scaled down onto a
    white frame the way a phone held at the counter sees it."""
    width, height = size
    side = int(height * 0.75)
    qr = Image.open(io.BytesIO(png)).convert("L").resize((side, side), Image.Resampling.BILINEAR)
    frame = Image.new("L", size, 255)
    frame.paste(qr, ((width - side) // 2, (height - side) // 2))
    luma = frame.tobytes()
    chroma = bytes([128]) * ((width // 2) * (height // 2))  # no colour
    with path.open("wb") as video:
        video.write(f"YUV4MPEG2 W{width} H{height} F10:1 Ip A1:1 C420jpeg\n".encode())
        for _ in range(frames):
            video.write(b"FRAME\n" + luma + chroma + chroma)


def test_hand_over_by_scanning_the_real_qr_code_with_the_camera(
    playwright: Playwright, desk_shop: DeskShop, tmp_path: Path
) -> None:
    secret = desk_shop.key("D1")
    order = desk_shop.order("Sanne de Vries", {"KOFFIE": 1})
    desk_shop.ready(order, secret)
    video = tmp_path / "pickup-code.y4m"
    _fake_camera_video(desk_shop.qr_png(order), video)

    browser = playwright.chromium.launch(
        executable_path=str(CHROMIUM), args=[*CAMERA_ARGS, f"--use-file-for-fake-video-capture={video}"]
    )
    try:
        context = new_context(browser, "en-GB", phone=True)
        context.grant_permissions(["camera"], origin=desk_shop.base)
        page = context.new_page()
        frames: list[tuple[str, int]] = []

        def record(route: Route) -> None:
            request = route.request
            frames.append((request.headers["content-type"], len(request.post_data_buffer or b"")))
            route.continue_()

        page.route("**/staff/v1/pickups/scan", record)
        sign_in(page, desk_shop.base, secret)
        page.locator("#camera-start").click()
        card = page.locator("#result .hand-over")
        expect(card.locator("h2")).to_have_text("Sanne de Vries", timeout=30_000)
        expect(page.locator("#camera")).to_be_hidden()  # the camera stops once it has read a code
        # The frames went to the server as small JPEGs: that is where the code was read.
        assert frames
        assert {media_type for media_type, _ in frames} == {"image/jpeg"}
        assert all(0 < size <= scan.MAX_FRAME_BYTES for _, size in frames)
        assert desk_shop.status(order) == "ready_for_pickup"
        shot(page, "07-scanned")
        page.locator("#confirm").click()
        expect(page.locator("#result .success")).to_have_text("Handed over to Sanne de Vries. Done.")
        assert desk_shop.status(order) == "collected"
    finally:
        browser.close()


ENGLISH = {
    "invalid_code": "This is not a valid pickup code. Ask the customer to show the code in the app again.",
    "wrong_store": "This order is for another store (D2). It cannot be handed over here.",
    "not_ready": "This order has not been picked yet. Pick it first and press Ready.",
    "cancelled": "This order was cancelled. Do not hand anything over.",
    "expired": "This order was not collected in time and has expired. Its items are back in stock.",
    "already_collected": "This order was already collected on ",
    "rate_limited": "Too many attempts. Wait ",
    "unauthorized": "This staff key is not valid. Check it and try again.",
}
DUTCH = {
    "invalid_code": "Dit is geen geldige afhaalcode. Vraag de klant de code in de app opnieuw te tonen.",
    "wrong_store": "Deze bestelling is voor een andere winkel (D2). Hij kan hier niet worden meegegeven.",
    "not_ready": "Deze bestelling is nog niet gepakt. Pak hem eerst en druk op Klaar.",
    "cancelled": "Deze bestelling is geannuleerd. Geef niets mee.",
    "expired": (
        "Deze bestelling is niet op tijd afgehaald en is verlopen. De artikelen zijn terug in de voorraad."
    ),
    "already_collected": "Deze bestelling is al afgehaald op ",
    "rate_limited": "Te veel pogingen. Wacht ",
    "unauthorized": "Deze personeelssleutel is niet geldig. Controleer hem en probeer het opnieuw.",
}


def _throttle(secret: str) -> None:
    """Spend the key's pickup attempts of this minute and the next (as a script guessing codes would)."""
    key_ref = hashlib.sha256(secret.encode()).hexdigest()[:16]
    window = int(time.time()) // 60
    redis = Redis.from_url(REDIS_URL)
    for w in (window, window + 1):
        redis.set(f"ratelimit:pickup:{key_ref}:{w}", 10_000, ex=180)


@pytest.mark.parametrize(("locale", "sentences"), [("en-GB", ENGLISH), ("nl-NL", DUTCH)], ids=["en", "nl"])
def test_every_refusal_is_a_sentence_in_the_browsers_language(
    browser: Browser, desk_shop: DeskShop, locale: str, sentences: dict[str, str]
) -> None:
    secret = desk_shop.key("D1")
    not_ready = desk_shop.order("Nog Niet", {"THEE": 1})
    elsewhere = desk_shop.order("Ander Filiaal", {"THEE": 1}, store="D2")
    desk_shop.ready(elsewhere, desk_shop.key("D2"))
    cancelled = desk_shop.order("Geannuleerd", {"THEE": 1})
    assert httpx.post(
        f"{desk_shop.base}/mobile/v1/orders/{cancelled.order_id}/cancel",
        headers=bearer(cancelled.order_token),
    ).is_success
    expired = desk_shop.order("Te Laat", {"THEE": 1})
    desk_shop.ready(expired, secret)
    collected = desk_shop.order("Al Weg", {"THEE": 1})
    desk_shop.ready(collected, secret)
    assert httpx.post(
        f"{desk_shop.base}/staff/v1/pickups/confirm",
        json={"code": collected.short_code},
        headers=bearer(secret),
    ).is_success
    token_elsewhere = decode_token(desk_shop.qr_png(elsewhere))
    desk_shop.expire(expired)

    context = new_context(browser, locale)
    page = context.new_page()
    try:
        sign_in(page, desk_shop.base, secret)
        refusal = page.locator("#result .refusal")
        for code, typed in [
            ("invalid_code", "ZZZZ-ZZZZ"),
            ("invalid_code", "WPK1.not-a-real-token"),
            ("wrong_store", token_elsewhere),  # a hardware scanner types the QR content and Enter
            ("not_ready", not_ready.short_code),
            ("cancelled", cancelled.short_code),
            ("expired", expired.short_code),
            ("already_collected", collected.short_code),
        ]:
            look_up(page, typed)
            expect(refusal).to_have_attribute("data-code", code)
            if code == "already_collected":
                # ... with when: a date and a time, in the browser's language.
                expect(refusal).to_contain_text(sentences[code])
                expect(refusal).to_have_text(pattern_with_date(sentences[code]))
            else:
                expect(refusal).to_have_text(sentences[code])
            expect(page.locator("#confirm")).to_have_count(0)
            shot(page, f"08-refused-{locale}-{code}")
        assert desk_shop.status(not_ready) == "reserved"

        throttled = desk_shop.key("D1")
        page.locator("#sign-out").click()
        sign_in(page, desk_shop.base, throttled)
        _throttle(throttled)
        look_up(page, not_ready.short_code)
        expect(refusal).to_have_attribute("data-code", "rate_limited")
        expect(refusal).to_contain_text(sentences["rate_limited"])
        shot(page, f"08-refused-{locale}-rate_limited")

        page.locator("#sign-out").click()
        page.locator("#secret").fill("wp_revoked-or-mistyped")
        page.locator("#sign-in-button").click()
        expect(page.locator("#sign-in-message")).to_have_text(sentences["unauthorized"])
    finally:
        context.close()


def pattern_with_date(prefix: str) -> re.Pattern[str]:
    return re.compile(re.escape(prefix) + r".*\d{1,2}:\d{2}\.$")


def test_a_whole_hand_over_on_a_360_px_phone(browser: Browser, desk_shop: DeskShop) -> None:
    secret = desk_shop.key("D1")
    order = desk_shop.order("Maria van den Heuvel-Oosterhout", {"KOFFIE": 2, "THEE": 1, "MOLEN": 1})
    context = new_context(browser, "nl-NL", phone=True)
    page = context.new_page()
    try:
        sign_in(page, desk_shop.base, secret)
        page.locator("#tab-pick").tap()
        expect(page.locator("#pick-list .short-code")).to_have_text(order.short_code)
        shot(page, "09-phone-pick-card")
        assert_fits_a_phone(page)  # the order number, a long unbroken word, included
        page.locator("#pick-list > li button.ready").tap()
        expect(page.locator("#pick-empty")).to_be_visible()
        shot(page, "09-phone-picked")
        page.locator("#tab-waiting").tap()
        expect(page.locator("#waiting-list button.hand-over-code")).to_be_visible()
        shot(page, "09-phone-waiting")
        assert_fits_a_phone(page)
        page.locator("#tab-handover").tap()
        look_up(page, order.short_code)
        expect(page.locator("#confirm")).to_be_visible()
        shot(page, "10-phone-hand-over")
        assert_fits_a_phone(page)
        page.locator("#confirm").tap()
        expect(page.locator("#result .success")).to_be_visible()
        assert desk_shop.status(order) == "collected"
        shot(page, "11-phone-done")
    finally:
        context.close()

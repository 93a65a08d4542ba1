"""The counter's day on the pickup desk page, in Debian's headless Chromium on a 360 px phone: a short pick,
a partial hand-over to someone collecting for the customer with one item refused, and a return sent twice
over a lost answer (taken once). Each against the real service (`retail serve`), with what the page sent
and the stock it moved checked; screenshots in test-artifacts/desk/. The live feed and arrivals are in
test_desk_live.py.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, Route, expect, sync_playwright
from sqlalchemy import Engine
from sqlmodel import Session

from retail.settings import Settings
from tests.e2e.chromium import CHROMIUM, require_chromium
from tests.e2e.desk import (
    TIMES,
    DeskShop,
    Sent,
    assert_fits_a_phone,
    decode_token,
    desk_shop_at,
    look_up,
    new_context,
    record_requests,
    serve,
    shot,
    sign_in,
)
from tests.factories import stock_of

expect.set_options(timeout=20_000)  # a shared two-core machine: right but slow is still right

require_chromium()


@pytest.fixture(scope="module")
def server(pg_settings: Settings) -> Iterator[str]:
    with serve(pg_settings, "server-counter.log") as base:
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


@pytest.fixture
def phone_en(browser: Browser) -> Iterator[Page]:
    context = new_context(browser, "en-GB", phone=True)
    yield context.new_page()
    context.close()


@pytest.fixture
def phone_nl(browser: Browser) -> Iterator[Page]:
    context = new_context(browser, "nl-NL", phone=True)
    yield context.new_page()
    context.close()


def _stock(engine: Engine, sku: str) -> tuple[int, int]:
    with Session(engine) as session:
        row = stock_of(session, "D1", sku)
        return int(row.on_hand), int(row.reserved)


def _bodies(sent: list[Sent], method: str, path: str) -> list[Any]:
    return [request.body for request in sent if request.method == method and re.fullmatch(path, request.path)]


# ------------------------------------------------------------------------------------------ short pick


def test_a_short_pick_on_a_360_px_phone(phone_en: Page, desk_shop: DeskShop) -> None:
    page = phone_en
    secret = desk_shop.key("D1")
    order = desk_shop.order("Sanne de Vries", {"KOFFIE": 2, "THEE": 1})
    nothing = desk_shop.order("Ahmed Yilmaz", {"MOLEN": 1})
    sent = record_requests(page)
    sign_in(page, desk_shop.base, secret)
    page.locator("#tab-pick").tap()

    card = page.locator(f"#pick-list > li[data-order-id='{order.order_id}']")
    # What goes on the bag: the short code the shopper will show, and the order number.
    expect(card.locator(".short-code")).to_have_text(order.short_code)
    expect(card.locator(".order-number")).to_have_text(order.order_id)
    koffie = card.locator(".line[data-sku='KOFFIE']")
    expect(card.locator(".line .step-value")).to_have_text(["2 of 2", "1 of 1"])
    expect(card.locator("button.ready")).to_have_text("Ready")
    # One coffee is not on the shelf: one tap on Short; a tap too many is put right with +1.
    koffie.locator("button.step-down").tap()
    koffie.locator("button.step-down").tap()
    expect(koffie.locator(".step-value")).to_have_text("0 of 2")
    koffie.locator("button.step-up").tap()
    expect(koffie.locator(".step-value")).to_have_text("1 of 2")
    expect(koffie.locator("button.step-down")).to_have_text("Short")
    expect(card.locator(".pick-summary")).to_have_text("2 of 3 items found")
    expect(card.locator("button.ready")).to_have_text("Ready, 1 missing")
    shot(page, "20-phone-short-pick")
    assert_fits_a_phone(page)

    card.locator("button.ready").tap()
    notice = page.locator("#pick-notice")
    expect(notice.locator(".outcome")).to_have_text(
        "Sanne de Vries: ready for pickup, 1 missing. Tell the customer:"
    )
    expect(notice.locator(".shortages .missing")).to_have_text(
        f"1 {TIMES} Koffiebonen 1 kg missing (picked 1 of 2)."
    )
    expect(notice.locator(".shortages .alternatives")).to_contain_text("Winkelpunt Zeist (7.7 km")
    shot(page, "21-phone-short-pick-shortages")
    assert_fits_a_phone(page)

    assert _bodies(sent, "POST", rf"/staff/v1/orders/{order.order_id}/ready") == [
        {"lines": [{"sku": "KOFFIE", "picked": 1}, {"sku": "THEE", "picked": 1}]}
    ]
    shown = desk_shop.shown(order)
    assert shown["status"] == "ready_for_pickup"
    assert [(line["sku"], line["quantity"], line["picked"]) for line in shown["lines"]] == [
        ("KOFFIE", 2, 1),
        ("THEE", 1, 1),
    ]
    assert [(s["sku"], s["requested"], s["picked"]) for s in shown["shortages"]] == [("KOFFIE", 2, 1)]
    assert shown["total"] == {"amount": "16.48", "currency": "EUR"}  # 12.99 + 3.49: what was picked
    # The missing coffee left the shelf's count and the reservation; the one picked is still held.
    assert _stock(desk_shop.engine, "KOFFIE") == (49, 1)

    # The waiting card says what is in the bag, and what is not.
    page.locator("#tab-waiting").tap()
    waiting = page.locator(f"#waiting-list > li[data-order-id='{order.order_id}']")
    expect(waiting.locator(".lines li .line-text")).to_have_text(
        [f"1 {TIMES} Koffiebonen 1 kgKOFFIE", f"1 {TIMES} Groene theeTHEE"]
    )
    expect(waiting.locator(".lines li .of-ordered")).to_have_text(["(2 ordered)"])
    expect(waiting.locator(".shortages .missing")).to_have_text(
        f"1 {TIMES} Koffiebonen 1 kg missing (picked 1 of 2)."
    )
    shot(page, "22-phone-waiting-after-a-short-pick")

    # Nothing of an order on the shelf: the button says what it will do, and the order is rejected.
    page.locator("#tab-pick").tap()
    other = page.locator(f"#pick-list > li[data-order-id='{nothing.order_id}']")
    other.locator(".line[data-sku='MOLEN'] button.step-down").tap()
    expect(other.locator("button.ready")).to_have_text("Nothing found: reject")
    other.locator("button.ready").tap()
    expect(notice.locator(".outcome")).to_have_text(
        "Ahmed Yilmaz: nothing was on the shelf. The order is rejected and the customer told where else"
        " to get it."
    )
    expect(page.locator("#pick-empty")).to_be_visible()
    rejected = desk_shop.shown(nothing)
    assert rejected["status"] == "rejected"
    assert rejected["problem"]["code"] == "short_pick"
    assert _stock(desk_shop.engine, "MOLEN") == (49, 0)


# ----------------------------------------------------------------------------------- partial hand-over


def test_a_partial_hand_over_to_the_pickup_person_with_one_item_refused(
    phone_nl: Page, desk_shop: DeskShop
) -> None:
    page = phone_nl
    secret = desk_shop.key("D1")
    order = desk_shop.order(
        "Sanne de Vries", {"KOFFIE": 2, "THEE": 1, "MOLEN": 1}, pickup_person={"name": "Joost de Vries"}
    )
    desk_shop.ready(order, secret)
    token = decode_token(desk_shop.qr_png(order))
    sent = record_requests(page)
    sign_in(page, desk_shop.base, secret)

    look_up(page, token)  # a hardware scanner types the QR code's content and Enter
    card = page.locator("#result .hand-over")
    # Who collects, large; for whom; and the check that fits a scanned QR code, preselected.
    expect(card.locator(".pickup-person")).to_have_text("Joost de Vries")
    expect(card.locator(".collects-for")).to_have_text("haalt op voor Sanne de Vries")
    expect(card.locator("input[name=verification]:checked")).to_have_value("qr")
    expect(card.locator(".verification label")).to_have_text(
        [
            "QR-code gescand",
            "Code uit de app gecontroleerd",
            "ID-bewijs gecontroleerd",
            "Is de genoemde afhaler",
        ]
    )
    expect(card.locator(".take-lines li .line-text")).to_have_text(
        [
            f"2 {TIMES} Koffiebonen 1 kgKOFFIE",
            f"1 {TIMES} Groene theeTHEE",
            f"1 {TIMES} Koffiemolen handmatigMOLEN",
        ]
    )
    expect(card.locator("input.take:checked")).to_have_count(3)
    confirm = page.locator("#confirm")
    expect(confirm).to_have_text("Meegeven aan Joost de Vries")

    # The coffee grinder's box is dented: the customer refuses it. The clerk unticks it.
    card.locator(".line[data-sku='MOLEN'] label.take-line").tap()
    expect(card.locator(".line[data-sku='MOLEN']")).to_have_class(re.compile(r"\brefused\b"))
    expect(confirm).to_have_text("3 van 4 meegeven aan Joost de Vries")
    # Stepping the coffee down and up again leaves it taken in full.
    koffie = card.locator(".line[data-sku='KOFFIE']")
    koffie.locator("button.step-down").tap()
    expect(koffie.locator(".step-value")).to_have_text("neemt 1 van 2")
    expect(confirm).to_have_text("2 van 4 meegeven aan Joost de Vries")
    koffie.locator("button.step-up").tap()
    expect(confirm).to_have_text("3 van 4 meegeven aan Joost de Vries")
    # Joost showed his ID as well.
    card.locator("label.choice", has_text="ID-bewijs gecontroleerd").tap()
    shot(page, "23-phone-partial-hand-over")
    assert_fits_a_phone(page)

    confirm.tap()
    expect(page.locator("#result .success")).to_have_text(
        "Meegegeven aan Joost de Vries: 3 van 4 artikelen. Zet de 1 geweigerde terug in het schap."
    )
    shot(page, "24-phone-partial-hand-over-done")
    assert _bodies(sent, "POST", "/staff/v1/pickups/confirm") == [
        {
            "code": token,
            "lines": [
                {"sku": "KOFFIE", "quantity": 2},
                {"sku": "THEE", "quantity": 1},
                {"sku": "MOLEN", "quantity": 0},
            ],
            "verification": "id_checked",
        }
    ]
    collected = desk_shop.staff_order(order, secret)
    assert [(line["sku"], line["collected"]) for line in collected["lines"]] == [
        ("KOFFIE", 2),
        ("THEE", 1),
        ("MOLEN", 0),
    ]
    last = collected["history"][-1]
    assert (last["status"], last["verification"]) == ("collected", "id_checked")
    assert last["by"]
    # Taken units left the shelf; the refused grinder is back on it, no longer held for anyone.
    assert _stock(desk_shop.engine, "KOFFIE") == (48, 0)
    assert _stock(desk_shop.engine, "THEE") == (49, 0)
    assert _stock(desk_shop.engine, "MOLEN") == (50, 0)


def test_the_check_preselected_fits_how_the_code_came_in(browser: Browser, desk_shop: DeskShop) -> None:
    secret = desk_shop.key("D1")
    order = desk_shop.order("Sanne de Vries", {"THEE": 1})
    desk_shop.ready(order, secret)
    context = new_context(browser, "en-GB")
    page = context.new_page()
    try:
        sign_in(page, desk_shop.base, secret)
        checked = page.locator("#result input[name=verification]:checked")
        look_up(page, order.short_code)
        expect(checked).to_have_value("short_code")
        # Nobody collects for the customer: there is no pickup person to name.
        expect(page.locator("#result .verification label")).to_have_text(
            ["QR code scanned", "Code from the app checked", "ID checked"]
        )
        expect(page.locator("#result .hand-over h2")).to_have_text("Sanne de Vries")
        look_up(page, decode_token(desk_shop.qr_png(order)))
        expect(checked).to_have_value("qr")
        page.locator("#tab-waiting").click()
        page.locator("#waiting-list button.hand-over-code").click()  # no code from the customer
        expect(checked).to_have_value("id_checked")
        shot(page, "25-hand-over-from-the-list-checks-an-id")
    finally:
        context.close()


# --------------------------------------------------------------------------------------------- returns


def test_a_return_sent_again_after_a_lost_answer_is_taken_once(phone_en: Page, desk_shop: DeskShop) -> None:
    page = phone_en
    secret = desk_shop.key("D1")
    order = desk_shop.order("Sanne de Vries", {"KOFFIE": 2, "THEE": 1})
    desk_shop.ready(order, secret)
    desk_shop.collect(order, secret)
    assert _stock(desk_shop.engine, "KOFFIE") == (48, 0)
    sent = record_requests(page)
    sign_in(page, desk_shop.base, secret)

    page.locator("#returns-open").tap()
    expect(page.locator("#panel-returns")).to_be_visible()
    expect(page.locator("#tab-handover")).to_have_attribute("aria-selected", "true")
    page.locator("#return-code").fill(order.order_id)
    page.locator("#return-code").press("Enter")
    form = page.locator("#return-order .return")
    expect(form.locator("h2")).to_have_text("Sanne de Vries")
    expect(form.locator(".order-number")).to_have_text(f"Order {order.order_id}")
    koffie = form.locator(".line[data-sku='KOFFIE']")
    expect(form.locator(".line .step-value")).to_have_text(["0 of 2 back", "0 of 1 back"])
    submit = page.locator("#return-submit")
    expect(submit).to_have_text("Choose what comes back")
    expect(submit).to_be_disabled()
    koffie.locator("button.step-up").tap()
    expect(submit).to_have_text("Take back 1 item")
    # Damaged goods do not go back on the shelf, as a rule; this coffee is only not wanted.
    page.locator("#return-reason").select_option("damaged")
    expect(form.locator("input[name=restock]:checked")).to_have_value("no")
    page.locator("#return-reason").select_option("not_wanted")
    expect(form.locator("input[name=restock]:checked")).to_have_value("yes")
    page.locator("#return-note").fill("too strong")
    shot(page, "26-phone-return")
    assert_fits_a_phone(page)

    # The first answer is lost on its way back (the server took the return): the clerk taps again.
    lost: list[int] = []

    def lose_the_first_answer(route: Route) -> None:
        if lost:
            route.continue_()
            return
        lost.append(route.fetch().status)
        route.abort("connectionreset")

    page.route("**/staff/v1/orders/*/returns", lose_the_first_answer)
    submit.tap()
    expect(page.locator("#return-answer .refusal")).to_have_text(
        "No connection to the server. Check the network and try again."
    )
    submit.tap()
    done = page.locator("#return-answer")
    expect(done.locator(".success")).to_have_text("Taken back. Returns of this order:")
    expect(done.locator(".returns li .what")).to_have_text([f"1 {TIMES} Koffiebonen 1 kg"])
    expect(done.locator(".returns li .restocked")).to_have_text(["back in stock"])
    assert lost == [200]
    returns = [request for request in sent if request.path.endswith("/returns")]
    assert [request.body for request in returns] == 2 * [
        {"lines": [{"sku": "KOFFIE", "quantity": 1}], "restock": True, "reason": "not_wanted: too strong"}
    ]
    first_key = returns[0].headers["idempotency-key"]
    assert returns[1].headers["idempotency-key"] == first_key
    assert len(desk_shop.staff_order(order, secret)["returns"]) == 1
    assert _stock(desk_shop.engine, "KOFFIE") == (49, 0)

    # What is left to return is what the form offers now; a second return is a new one, with a new key,
    # and a double tap sends it once.
    expect(form.locator(".line .step-value")).to_have_text(["0 of 1 back", "0 of 1 back"])
    form.locator(".line[data-sku='THEE'] button.step-up").tap()
    page.locator("#return-reason").select_option("damaged")
    submit.dblclick()
    expect(done.locator(".returns li .what")).to_have_text(
        [f"1 {TIMES} Koffiebonen 1 kg", f"1 {TIMES} Groene thee"]
    )
    expect(done.locator(".returns li .restocked")).to_have_text(["back in stock", "not back in stock"])
    shot(page, "27-phone-returns-done")
    returns = [request for request in sent if request.path.endswith("/returns")]
    assert len(returns) == 3
    assert returns[2].body == {
        "lines": [{"sku": "THEE", "quantity": 1}],
        "restock": False,
        "reason": "damaged",
    }
    assert returns[2].headers["idempotency-key"] != first_key
    assert len(desk_shop.staff_order(order, secret)["returns"]) == 2
    assert _stock(desk_shop.engine, "THEE") == (49, 0)  # not restocked


def test_a_return_is_found_by_its_qr_code_and_a_short_code_asks_for_the_order_number(
    browser: Browser, desk_shop: DeskShop
) -> None:
    secret = desk_shop.key("D1")
    order = desk_shop.order("Sanne de Vries", {"KOFFIE": 1})
    desk_shop.ready(order, secret)
    token = decode_token(desk_shop.qr_png(order))  # the QR code stays on the customer's phone
    desk_shop.collect(order, secret)
    not_yet = desk_shop.order("Ahmed Yilmaz", {"THEE": 1})
    desk_shop.ready(not_yet, secret)
    context = new_context(browser, "en-GB")
    page = context.new_page()
    try:
        sign_in(page, desk_shop.base, secret)
        # The customer is back with the app's QR code: scanning it at the hand-over says it was
        # collected, and offers the return.
        look_up(page, token)
        expect(page.locator("#result .refusal")).to_have_attribute("data-code", "already_collected")
        page.locator("#take-return").click()
        expect(page.locator("#return-order .return h2")).to_have_text("Sanne de Vries")
        shot(page, "28-return-from-a-scanned-code")

        # A short code names no collected order (it is only looked up among open ones).
        page.locator("#returns-close").click()
        look_up(page, order.short_code)
        page.locator("#take-return").click()
        expect(page.locator("#return-message")).to_have_text(
            "A short code cannot find a collected order. Scan the QR code, or type the order number from"
            " the receipt."
        )
        page.locator("#return-code").fill(not_yet.short_code)
        page.locator("#return-code").press("Enter")
        expect(page.locator("#return-message")).to_have_text(
            "This order has not been collected yet: there is nothing to take back."
        )
        page.locator("#return-code").fill(not_yet.order_id)
        page.locator("#return-code").press("Enter")
        expect(page.locator("#return-message")).to_have_text(
            f"No collected order {not_yet.order_id} at this store."
        )
        expect(page.locator("#return-order")).to_be_empty()
    finally:
        context.close()

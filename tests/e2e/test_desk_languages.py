"""The counter's screens in both of the page's languages (the browser's language picks): the pick card with
Short, the hand-over form of an order someone else collects, the returns screen and the arrivals list, each
in Dutch and in English, at 360 px. Screenshots in test-artifacts/desk/.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from playwright.sync_api import Browser, expect, sync_playwright
from sqlalchemy import Engine

from retail.settings import Settings
from tests.e2e.chromium import CHROMIUM, require_chromium
from tests.e2e.desk import (
    DeskShop,
    assert_fits_a_phone,
    desk_shop_at,
    look_up,
    new_context,
    serve,
    shot,
    sign_in,
)

expect.set_options(timeout=20_000)  # a shared two-core machine: right but slow is still right

require_chromium()


@dataclass(frozen=True)
class Words:
    """What the screens say in one language."""

    tabs: list[str]
    short: str
    picked: list[str]
    ready: str
    collector: str
    collects_for: str
    question: str
    confirm: str
    returns: list[str]  # the entry button, the field's label, the find button
    arrived: str
    waiting: str
    where: str


ENGLISH = Words(
    tabs=["Arrivals 1", "Hand over", "To pick 1", "Waiting 1"],
    short="Short",
    picked=["1 of 2"],
    ready="Ready, 1 missing",
    collector="Collected by",
    collects_for="collects for Sanne de Vries",
    question="How did you check who collects?",
    confirm="Hand over to Joost de Vries",
    returns=["Take back a return", "Scan or type the order's QR code or order number", "Find the order"],
    arrived="Here now",
    waiting="Waiting 0 min",
    where="At the counter",
)
DUTCH = Words(
    tabs=["Aankomst 1", "Meegeven", "Te pakken 1", "Klaar 1"],
    short="Mist",
    picked=["1 van 2"],
    ready="Klaar, 1 ontbreekt",
    collector="Afgehaald door",
    collects_for="haalt op voor Sanne de Vries",
    question="Hoe heb je gecontroleerd wie ophaalt?",
    confirm="Meegeven aan Joost de Vries",
    returns=["Retour aannemen", "Scan of typ de QR-code of het bestelnummer", "Bestelling zoeken"],
    arrived="Nu hier",
    waiting="Wacht 0 min",
    where="Bij de balie",
)


@pytest.fixture(scope="module")
def server(pg_settings: Settings) -> Iterator[str]:
    with serve(pg_settings, "server-languages.log") as base:
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


@pytest.mark.parametrize(("locale", "words"), [("en-GB", ENGLISH), ("nl-NL", DUTCH)], ids=["en", "nl"])
def test_the_counters_screens_in_the_browsers_language(
    browser: Browser, desk_shop: DeskShop, locale: str, words: Words
) -> None:
    secret = desk_shop.key("D1")
    to_pick = desk_shop.order("Ahmed Yilmaz", {"KOFFIE": 2})
    collects = desk_shop.order("Sanne de Vries", {"THEE": 1}, pickup_person={"name": "Joost de Vries"})
    desk_shop.ready(collects, secret)
    assert desk_shop.arrive(collects, status="arrived", where="counter").status_code == 200
    context = new_context(browser, locale, phone=True)
    page = context.new_page()
    name = locale.split("-")[0]
    try:
        sign_in(page, desk_shop.base, secret)
        tabs = page.locator(".tabs button:visible")
        expect(tabs).to_have_text(words.tabs)

        page.locator("#tab-arrivals").tap()
        expect(page.locator("#arrived-heading")).to_have_text(words.arrived)
        card = page.locator("#arrived-list > li")
        expect(card.locator("h2")).to_have_text("Joost de Vries")
        expect(card.locator(".collects-for")).to_have_text(words.collects_for)
        expect(card.locator(".arrival-state")).to_have_text(words.waiting)
        expect(card.locator(".where")).to_have_text(words.where)
        shot(page, f"40-{name}-arrivals")
        assert_fits_a_phone(page)

        page.locator("#tab-pick").tap()
        line = page.locator(f"#pick-list > li[data-order-id='{to_pick.order_id}'] .line")
        expect(line.locator("button.step-down")).to_have_text(words.short)
        line.locator("button.step-down").tap()
        expect(line.locator(".step-value")).to_have_text(words.picked)
        expect(page.locator("#pick-list button.ready")).to_have_text(words.ready)
        shot(page, f"41-{name}-pick-card")
        assert_fits_a_phone(page)

        page.locator("#tab-handover").tap()
        look_up(page, collects.short_code)
        form = page.locator("#result .hand-over")
        expect(form.locator(".collector-label")).to_have_text(words.collector)
        expect(form.locator(".collects-for")).to_have_text(words.collects_for)
        expect(form.locator(".verification legend")).to_have_text(words.question)
        expect(page.locator("#confirm")).to_have_text(words.confirm)
        shot(page, f"42-{name}-hand-over-form")
        assert_fits_a_phone(page)

        page.locator("#returns-open").tap()
        expect(page.locator("#returns-title")).to_be_visible()
        returns = words.returns
        expect(page.locator("#return-code")).to_be_focused()
        expect(page.locator("label[for=return-code]")).to_have_text(returns[1])
        expect(page.locator("#return-find")).to_have_text(returns[2])
        page.locator("#returns-close").tap()
        expect(page.locator("#returns-open")).to_have_text(returns[0])
        shot(page, f"43-{name}-returns-entry")
    finally:
        context.close()

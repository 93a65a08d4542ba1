"""Transfers on the pickup desk page (API.md, "Every store a distribution point", the desk), in Debian's
headless Chromium on a 360 px phone: D1 has no MOLEN, a shopper orders one there with `allow_transfer`,
D2 (Zeist) holds it and ships to D1. D2's clerk ships it from the Transfers tab (in Dutch), D1's clerk
receives it by typing the transfer id (in English), and the stock of both stores follows. Against the
real service (`retail serve`); screenshots in test-artifacts/desk/."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright
from sqlalchemy import Engine
from sqlmodel import Session

from retail.settings import Settings
from stores import service as stores_service
from tests.e2e.chromium import CHROMIUM, require_chromium
from tests.e2e.desk import DeskShop, assert_fits_a_phone, desk_shop_at, new_context, serve, shot, sign_in
from tests.factories import apply_counts, count_row, lane_row, stock_of

expect.set_options(timeout=20_000)  # a shared two-core machine: right but slow is still right

require_chromium()


@pytest.fixture(scope="module")
def server(pg_settings: Settings) -> Iterator[str]:
    with serve(pg_settings, "server-transfers.log") as base:
        yield base


@pytest.fixture
def desk_shop(pg_engine: Engine, server: str) -> Iterator[DeskShop]:
    with desk_shop_at(pg_engine, server) as shop:
        with Session(pg_engine) as session:
            # D1 sold its last grinder; D2 ships to D1 three times a day, two hours on the road.
            apply_counts(session, [count_row("D1", "MOLEN", 0, as_of="2026-11-24T06:00:00+01:00")])
            lanes = [lane_row("D2", "D1")]
            assert stores_service.upsert_lanes(session, rows=lanes).errors == []
            session.commit()
        yield shop


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=str(CHROMIUM))
        yield browser
        browser.close()


def _phone(browser: Browser, locale: str) -> Page:
    return new_context(browser, locale, phone=True).new_page()


def _stock(engine: Engine, store: str) -> tuple[int, int]:
    with Session(engine) as session:
        row = stock_of(session, store, "MOLEN")
        return int(row.on_hand), int(row.reserved)


def test_a_transfer_is_shipped_from_one_desk_and_received_at_the_other(
    browser: Browser, desk_shop: DeskShop, pg_engine: Engine
) -> None:
    placed = desk_shop.order("Sanne de Vries", {"MOLEN": 1}, allow_transfer=True)
    (transfer,) = desk_shop.shown(placed)["transfers"]
    assert (transfer["from_store"], transfer["status"]) == ("D2", "planned")
    assert _stock(pg_engine, "D2") == (50, 1)

    zeist = _phone(browser, "nl-NL")
    sign_in(zeist, desk_shop.base, desk_shop.key("D2"))
    tab = zeist.locator("#tab-transfers")
    expect(tab).to_be_visible()
    expect(zeist.locator("#transfers-count")).to_have_text("1")
    tab.tap()
    card = zeist.locator(f"#outgoing-list > li[data-transfer-id='{transfer['transfer_id']}']")
    expect(card.locator("h2")).to_have_text("Naar D1")
    expect(card).to_contain_text("Koffiemolen handmatig")
    expect(card).to_contain_text(f"Voor Sanne de Vries · bestelling {placed.order_id}")
    shot(zeist, "60-phone-transfer-to-ship-nl")
    assert_fits_a_phone(zeist)
    card.locator("button.ship").tap()
    expect(zeist.locator("#transfer-notice")).to_have_text(f"{transfer['transfer_id']} verstuurd naar D1.")
    expect(zeist.locator("#outgoing-list > li")).to_have_count(0)
    expect(zeist.locator("#transfers-empty")).to_be_visible()
    assert _stock(pg_engine, "D2") == (49, 0)  # left the source
    assert _stock(pg_engine, "D1") == (0, 0)  # on the road

    utrecht = _phone(browser, "en-GB")
    sign_in(utrecht, desk_shop.base, desk_shop.key("D1"))
    utrecht.locator("#tab-transfers").tap()
    incoming = utrecht.locator(f"#incoming-list > li[data-transfer-id='{transfer['transfer_id']}']")
    expect(incoming.locator("h2")).to_have_text("From D2")
    expect(incoming.locator(".transfer-state")).to_contain_text("On its way")
    shot(utrecht, "61-phone-transfer-coming-in-en")
    utrecht.locator("#receive-code").fill(transfer["transfer_id"])
    utrecht.locator("#receive-code").press("Enter")
    expect(utrecht.locator("#transfer-notice")).to_have_text(
        f"Received. Keep it with order {placed.order_id} for Sanne de Vries."
    )
    expect(utrecht.locator("#incoming-list > li")).to_have_count(0)
    shot(utrecht, "62-phone-transfer-received-en")
    assert_fits_a_phone(utrecht)
    assert _stock(pg_engine, "D1") == (1, 1)  # on the shelf, held for the order
    assert desk_shop.shown(placed)["transfers"][0]["status"] == "received"

    # A code that names nothing on its way here is said so, and receives nothing.
    utrecht.locator("#receive-code").fill("trf_nothing")
    utrecht.locator("#receive-code").press("Enter")
    expect(utrecht.locator("#transfer-message")).to_have_text(
        "No transfer on its way here has this code or id."
    )

"""A ready order's hold: `hold_hours` on the clock, or `hold_opening_hours` counted in the store's own
opening hours when the store sets it (API.md, "Every store a distribution point")."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from orders import staff
from tests.factories import BASKET, make_stores, order_body, post_order, store_row

pytestmark = [
    pytest.mark.parametrize("engine", ["postgresql", "sqlite"], indirect=True),
    pytest.mark.usefixtures("open_stores"),
]

KeyFactory = Callable[..., dict[str, str]]
AMS = ZoneInfo("Europe/Amsterdam")
# Saturday 25 April 2026, 17:00 in Amsterdam; Sunday the 26th the store is closed, Monday the 27th is
# King's Day (a public holiday: closed too).
SATURDAY_EVENING = datetime(2026, 4, 25, 17, tzinfo=AMS)


def _ready_at(
    client: TestClient, make_key: KeyFactory, monkeypatch: pytest.MonkeyPatch, at: datetime
) -> datetime:
    accepted = post_order(client, order_body("S1", BASKET)).json()
    monkeypatch.setattr(staff, "utcnow", lambda: at.astimezone(UTC))
    ready = client.post(f"/staff/v1/orders/{accepted['order_id']}/ready", headers=make_key("staff", "S1"))
    assert ready.status_code == 200, ready.text
    return datetime.fromisoformat(ready.json()["pickup"]["expires_at"])


def test_a_hold_in_opening_hours_skips_closed_days_and_holidays(
    client: TestClient, session: Session, make_key: KeyFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Open Monday to Saturday 09:00-18:00 (`store_row`), holds of 8 opening hours: one hour on Saturday,
    # seven from Tuesday's opening.
    make_stores(session, [store_row("S1", hold_opening_hours=8)])
    expires = _ready_at(client, make_key, monkeypatch, SATURDAY_EVENING)
    assert expires == datetime(2026, 4, 28, 16, tzinfo=AMS)


def test_without_it_the_hold_is_clock_hours(
    client: TestClient, session: Session, make_key: KeyFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_stores(session, [store_row("S1", hold_hours=8)])
    expires = _ready_at(client, make_key, monkeypatch, SATURDAY_EVENING)
    assert expires == datetime(2026, 4, 26, 1, tzinfo=AMS)

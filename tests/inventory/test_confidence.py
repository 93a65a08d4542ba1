"""Stock confidence (inventory/confidence.py): the rule at its edges without a database; each store's
short-picked share measured from its orders (orders/store_figures.py) on PostgreSQL and SQLite; and what
the shopper's availability answer makes of both."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update
from sqlmodel import Session, col, select

from inventory.confidence import Confidence, stock_confidence, trusted_status
from inventory.schemas import StockStatus
from orders import store_figures
from orders.models import Order
from stores import service as stores_service
from stores.models import Store
from tests.conftest import CONFIDENCE_JUDGED_AT
from tests.factories import count_stock, reserved_order

BOTH_DATABASES = pytest.mark.parametrize("engine", ["postgresql", "sqlite"], indirect=True)
NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
DAY = timedelta(days=1)
TICK = timedelta(microseconds=1)


@pytest.mark.parametrize(
    ("age", "share", "expected"),
    [
        (timedelta(0), None, Confidence.high),
        (7 * DAY, None, Confidence.high),  # exactly a week: still fresh
        (7 * DAY + TICK, None, Confidence.medium),
        (30 * DAY, None, Confidence.medium),  # exactly 30 days: not yet stale
        (30 * DAY + TICK, None, Confidence.low),
        (timedelta(0), 0.2, Confidence.high),  # exactly a fifth short: not over it
        (timedelta(0), 0.2001, Confidence.low),
        (10 * DAY, 0.0, Confidence.medium),
        (10 * DAY, 0.5, Confidence.low),
        (-DAY, None, Confidence.high),  # a count from a clock slightly ahead
    ],
)
def test_the_confidence_rule_at_its_edges(age: timedelta, share: float | None, expected: Confidence) -> None:
    assert stock_confidence(NOW - age, now=NOW, short_pick_share=share) is expected


def test_never_counted_is_low_confidence() -> None:
    assert stock_confidence(None, now=NOW, short_pick_share=0.0) is Confidence.low


def test_only_in_stock_of_low_confidence_reads_limited() -> None:
    assert trusted_status(StockStatus.in_stock, Confidence.low) is StockStatus.limited_availability
    assert trusted_status(StockStatus.in_stock, Confidence.medium) is StockStatus.in_stock
    assert trusted_status(StockStatus.out_of_stock, Confidence.low) is StockStatus.out_of_stock
    assert (
        trusted_status(StockStatus.limited_availability, Confidence.low) is StockStatus.limited_availability
    )


def _stamp(session: Session, order_id: str, *, reserved_at: datetime, picked: bool, short: bool) -> None:
    session.execute(
        update(Order)
        .where(col(Order.order_id) == order_id)
        .values(
            reserved_at=reserved_at,
            ready_at=reserved_at + timedelta(hours=1) if picked else None,
            short_picked=short,
        )
    )


@BOTH_DATABASES
@pytest.mark.usefixtures("open_stores")
def test_a_stores_short_picked_share_counts_its_picked_orders_of_28_days(session: Session) -> None:
    now = datetime.now(UTC)
    placed = [reserved_order(session, "S1", {"THEE": 1}, key=f"k{i}").order_id for i in range(7)]
    recent = now - 2 * DAY
    _stamp(session, placed[0], reserved_at=recent, picked=True, short=True)
    _stamp(session, placed[1], reserved_at=recent, picked=True, short=False)
    _stamp(session, placed[2], reserved_at=recent, picked=True, short=False)
    _stamp(session, placed[3], reserved_at=recent, picked=False, short=True)  # rejected: nothing found
    _stamp(session, placed[4], reserved_at=recent, picked=False, short=False)  # not picked yet: left out
    _stamp(session, placed[5], reserved_at=now - 29 * DAY, picked=True, short=True)  # before the window
    _stamp(session, placed[6], reserved_at=now - 27 * DAY, picked=True, short=False)
    session.commit()
    figures = store_figures.measure(session, now=now)
    ids = {code: int(pk or 0) for code, pk in session.exec(select(Store.code, Store.id)).all()}
    assert figures[ids["S1"]].short_pick_share == 2 / 5
    assert figures[ids["S2"]].short_pick_share is None  # no picked orders there
    assert list(store_figures.refresh(session, now=now)) == ["S1"]
    assert store_figures.refresh(session, now=now) == {}  # nothing changed since
    session.commit()
    assert session.exec(select(Store.short_pick_share).where(Store.code == "S1")).one() == 2 / 5


@BOTH_DATABASES
@pytest.mark.usefixtures("open_stores")
def test_the_availability_answer_carries_the_count_and_its_confidence(
    client: TestClient, session: Session
) -> None:
    # THEE: 10 at S1, 8 at S2, both counted at COUNTED_AT. Recounted at S2 the day before the judged instant.
    count_stock(session, "S2", {"THEE": 8}, as_of="2026-11-28T12:00:00+01:00")
    session.commit()

    def stores() -> dict[str, dict[str, object]]:
        answer = client.get("/mobile/v1/products/THEE/availability", params={"lat": 52.09, "lon": 5.12})
        assert answer.status_code == 200, answer.text
        return {s["code"]: s for s in answer.json()["stores"]}

    found = stores()
    assert (found["S1"]["as_of"], found["S1"]["confidence"], found["S1"]["status"]) == (
        "2026-11-23T05:00:00Z",
        "high",
        "in_stock",
    )
    # S1 picked over a fifth of its orders short: its counts are not to be trusted, whatever their age.
    s1 = session.exec(select(Store.id).where(Store.code == "S1")).one()
    assert s1 is not None
    stores_service.record_store_figures(session, figures={s1: (0.25, None)})
    session.commit()
    found = stores()
    assert (found["S1"]["confidence"], found["S1"]["status"], found["S1"]["available"]) == (
        "low",
        "limited_availability",
        10,
    )
    assert (found["S2"]["as_of"], found["S2"]["confidence"]) == ("2026-11-28T11:00:00Z", "high")
    assert CONFIDENCE_JUDGED_AT - datetime(2026, 11, 23, 5, 0, tzinfo=UTC) < 7 * DAY

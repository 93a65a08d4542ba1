"""Returns at the counter (`POST /staff/v1/orders/{order_id}/returns`): the exact stock effect of a
restocked and of a written-off return, the idempotency key, and the rules as plain functions, on
PostgreSQL and SQLite. Every refusal is in tests/orders/test_return_refusals.py; the committed and
concurrent cases (the feed, one key sent at once) in tests/orders/test_returns_committed.py."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from inventory.models import StockMovement
from orders import returns
from orders.models import Notification
from orders.returns import Returnable, refused_lines, window_closes_at
from retail.clock import as_aware_utc
from tests.factories import count_stock
from tests.orders.returning import (
    collected_at,
    collected_order,
    post_return,
    product_id_of,
    return_movements,
    returns_written,
    stock_at_s1,
)

KeyFactory = Callable[..., dict[str, str]]
BOTH_DATABASES = pytest.mark.parametrize("engine", ["postgresql", "sqlite"], indirect=True)


# ------------------------------------------------------------------------------------ the rules, pure


def test_the_window_ends_with_the_last_day_in_the_stores_zone_across_a_dst_change() -> None:
    # Collected at 17:00 CET on 1 March; 30 days on is 31 March, in summer time: the window closes at
    # midnight starting 1 April, 22:00 UTC.
    collected = datetime(2026, 3, 1, 16, 0, tzinfo=UTC)
    closes = window_closes_at(collected, return_days=30, timezone="Europe/Amsterdam")
    assert closes == datetime(2026, 3, 31, 22, 0, tzinfo=UTC)
    # Late at night local time is still the day of collection, though UTC has moved on.
    late = datetime(2026, 11, 23, 22, 30, tzinfo=UTC)  # 23:30 in Amsterdam
    assert window_closes_at(late, return_days=1, timezone="Europe/Amsterdam") == datetime(
        2026, 11, 24, 23, 0, tzinfo=UTC
    )
    assert window_closes_at(late, return_days=1, timezone="Europe/London") == datetime(
        2026, 11, 25, 0, 0, tzinfo=UTC
    )


def test_no_return_days_means_the_window_closed_at_collection() -> None:
    collected = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
    assert window_closes_at(collected, return_days=0, timezone="Europe/Amsterdam") == collected


def test_refused_lines_name_each_line_the_order_cannot_give() -> None:
    returnable = {"A": Returnable(1, collected=2, returned=1), "B": Returnable(2, collected=0, returned=0)}
    assert refused_lines([("A", 1)], returnable) == []
    assert refused_lines([("A", 2), ("C", 1), ("B", 1)], returnable) == [
        (
            "more_than_collected",
            "body.lines.0.quantity",
            "1 of 'A' can be returned: 2 collected, 1 returned before",
        ),
        ("not_in_order", "body.lines.1.sku", "'C' is not in this order"),
        (
            "more_than_collected",
            "body.lines.2.quantity",
            "0 of 'B' can be returned: 0 collected, 0 returned before",
        ),
    ]


@pytest.fixture
def staff(make_key: KeyFactory, open_stores: None) -> dict[str, str]:
    return make_key("staff", store_code="S1", label="S1 desk")


# ------------------------------------------------------------------------------- the stock effect


@BOTH_DATABASES
def test_a_restocked_return_puts_the_units_back_on_hand_once(
    client: TestClient, session: Session, staff: dict[str, str]
) -> None:
    order = collected_order(client, staff)
    assert (stock_at_s1(session, "KOFFIE"), stock_at_s1(session, "THEE")) == ((1, 0), (9, 0))

    answer = post_return(client, staff, order["order_id"], {"KOFFIE": 1}, reason="  te groot ")
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["status"] == "collected"
    [taken] = body["returns"]
    assert taken["return_id"].startswith("ret_")
    assert taken == {
        "return_id": taken["return_id"],
        "at": taken["at"],
        "lines": [{"sku": "KOFFIE", "quantity": 1}],
        "restock": True,
        "reason": "te groot",
        "by": "S1 desk",
    }
    assert datetime.fromisoformat(taken["at"]).utcoffset() == timedelta(0)
    # Back on the shelf, not reserved for anyone; the tea was not returned.
    assert (stock_at_s1(session, "KOFFIE"), stock_at_s1(session, "THEE")) == ((2, 0), (9, 0))
    koffie = product_id_of(session, "KOFFIE")
    assert return_movements(session) == [(f"return:{taken['return_id']}:{koffie}", koffie, 1, "return")]
    movement = session.exec(select(StockMovement).where(StockMovement.source == "return")).one()
    assert as_aware_utc(movement.at) == datetime.fromisoformat(taken["at"])

    # The shopper sees the return too, without who took it; the order's history is unchanged.
    shopper = client.get(f"/mobile/v1/orders/{order['order_id']}", headers=order["headers"]).json()
    assert shopper["returns"] == [{k: v for k, v in taken.items() if k != "by"}]
    assert [e["status"] for e in shopper["history"]] == [
        "pending",
        "reserved",
        "ready_for_pickup",
        "collected",
    ]
    # And so does the pick list of collected orders.
    listed = client.get("/staff/v1/stores/S1/orders", params={"status": "collected"}, headers=staff).json()
    assert [o["returns"] for o in listed["items"]] == [[taken]]

    # Its outbox notification, beside the transitions' own.
    [note] = session.exec(select(Notification).where(Notification.kind == "order.returned")).all()
    assert datetime.fromisoformat(note.payload["at"]) == datetime.fromisoformat(taken["at"])
    assert note.payload == {
        "order_id": order["order_id"],
        "store_code": "S1",
        "return_id": taken["return_id"],
        "at": note.payload["at"],
        "lines": [{"sku": "KOFFIE", "quantity": 1}],
        "restock": True,
        "customer_email": "sanne@example.nl",
    }


@BOTH_DATABASES
def test_a_return_not_restocked_is_recorded_and_leaves_the_stock_alone(
    client: TestClient, session: Session, staff: dict[str, str]
) -> None:
    order = collected_order(client, staff)
    answer = post_return(client, staff, order["order_id"], {"THEE": 1, "KOFFIE": 2}, restock=False, reason="")
    assert answer.status_code == 200, answer.text
    [taken] = answer.json()["returns"]
    assert (taken["restock"], taken["reason"]) == (False, None)
    assert taken["lines"] == [{"sku": "KOFFIE", "quantity": 2}, {"sku": "THEE", "quantity": 1}]
    assert (stock_at_s1(session, "KOFFIE"), stock_at_s1(session, "THEE")) == ((1, 0), (9, 0))
    assert return_movements(session) == []
    assert returns_written(session) == (1, 2)
    # Everything collected is back (as a write-off): nothing more can be returned.
    again = post_return(client, staff, order["order_id"], {"THEE": 1}, key="return-2")
    assert again.status_code == 422
    assert again.json()["errors"] == [
        {
            "field": "body.lines.0.quantity",
            "message": "0 of 'THEE' can be returned: 1 collected, 1 returned before",
        }
    ]


@BOTH_DATABASES
def test_a_count_taken_between_collection_and_return_still_gets_the_return_on_top(
    client: TestClient, session: Session, staff: dict[str, str]
) -> None:
    order = collected_order(client, staff)
    [taken] = post_return(client, staff, order["order_id"], {"KOFFIE": 2}).json()["returns"]
    returned_at = datetime.fromisoformat(taken["at"])
    handed_over = collected_at(session, order["order_id"])
    assert handed_over < returned_at
    between = handed_over + (returned_at - handed_over) / 2
    # Counted 7 between the hand-over and the return: the return came after, so it counts on top.
    count_stock(session, "S1", {"KOFFIE": 7}, as_of=between.isoformat())
    assert stock_at_s1(session, "KOFFIE") == (9, 0)
    # A count taken after the return already holds it.
    count_stock(session, "S1", {"KOFFIE": 7}, as_of=(returned_at + timedelta(microseconds=1)).isoformat())
    assert stock_at_s1(session, "KOFFIE") == (7, 0)


@BOTH_DATABASES
def test_a_return_dated_before_the_rows_last_count_is_recorded_but_already_counted(
    client: TestClient, session: Session, staff: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    order = collected_order(client, staff)
    # The shelf was counted (4) a moment after the clerk took the units back, and the count arrived first.
    now = datetime.now(UTC)
    count_stock(session, "S1", {"KOFFIE": 4}, as_of=(now + timedelta(minutes=1)).isoformat())
    monkeypatch.setattr(returns, "_clock", lambda: now)
    assert post_return(client, staff, order["order_id"], {"KOFFIE": 1}).status_code == 200
    assert stock_at_s1(session, "KOFFIE") == (4, 0)
    assert [delta for _, _, delta, _ in return_movements(session)] == [1]


# --------------------------------------------------------------------------------- the idempotency key


@BOTH_DATABASES
def test_the_same_key_answers_the_same_return_and_another_body_is_refused(
    client: TestClient, session: Session, staff: dict[str, str]
) -> None:
    order = collected_order(client, staff)
    first = post_return(client, staff, order["order_id"], {"KOFFIE": 1}, reason="kapot")
    again = post_return(client, staff, order["order_id"], {"KOFFIE": 1}, reason="kapot")
    assert again.status_code == 200
    assert again.json() == first.json()
    assert stock_at_s1(session, "KOFFIE") == (2, 0)
    assert len(return_movements(session)) == 1
    assert returns_written(session) == (1, 1)

    for other in ({"KOFFIE": 2}, {"THEE": 1}):
        reused = post_return(client, staff, order["order_id"], other, reason="kapot")
        assert reused.status_code == 422
        assert reused.json()["code"] == "idempotency_key_reused"
        assert reused.json()["errors"][0]["field"] == "header.Idempotency-Key"
    not_restocked = post_return(
        client, staff, order["order_id"], {"KOFFIE": 1}, restock=False, reason="kapot"
    )
    assert not_restocked.json()["code"] == "idempotency_key_reused"
    assert stock_at_s1(session, "KOFFIE") == (2, 0)
    assert returns_written(session) == (1, 1)


@BOTH_DATABASES
def test_a_replay_answers_its_return_after_the_window_closed(
    client: TestClient, session: Session, staff: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    order = collected_order(client, staff)
    first = post_return(client, staff, order["order_id"], {"KOFFIE": 1})
    monkeypatch.setattr(returns, "_clock", lambda: datetime.now(UTC) + timedelta(days=90))
    assert post_return(client, staff, order["order_id"], {"KOFFIE": 1}).json() == first.json()
    late = post_return(client, staff, order["order_id"], {"KOFFIE": 1}, key="return-2")
    assert (late.status_code, late.json()["code"]) == (409, "return_window_closed")


@BOTH_DATABASES
def test_without_a_key_nothing_is_returned(
    client: TestClient, session: Session, staff: dict[str, str]
) -> None:
    order = collected_order(client, staff)
    missing = post_return(client, staff, order["order_id"], {"KOFFIE": 1}, key=None)
    assert missing.status_code == 400
    assert missing.json()["code"] == "idempotency_key_missing"
    assert missing.json()["errors"] == [{"field": "header.Idempotency-Key", "message": "required"}]
    too_long = post_return(client, staff, order["order_id"], {"KOFFIE": 1}, key="k" * 201)
    assert too_long.status_code == 422
    assert stock_at_s1(session, "KOFFIE") == (1, 0)
    assert returns_written(session) == (0, 0)

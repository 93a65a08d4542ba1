"""Late orders (orders/late.py): the pure rule at its edges and across the night DST ends in
Europe/Amsterdam, and the sweep on both databases: marked once, promised again, told to desk and outbox."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from orders import desk_events, late
from orders.desk_schemas import DeskEventType
from orders.models import Notification, Order, OrderStatus
from orders.shopper import order_token
from retail.clock import as_aware_utc
from stores.models import Store
from tests.factories import make_stocked_store, reserved_order, store_row

BOTH_DATABASES = pytest.mark.parametrize("engine", ["postgresql", "sqlite"], indirect=True)
AMSTERDAM = ZoneInfo("Europe/Amsterdam")
# Sunday 25 October 2026, 03:00 CEST becomes 02:00 CET: the hour 02:00-03:00 happens twice.
FIRST_TWO = datetime(2026, 10, 25, 0, 0, tzinfo=UTC)  # 02:00 CEST
SECOND_TWO = datetime(2026, 10, 25, 1, 0, tzinfo=UTC)  # 02:00 CET


def test_an_order_is_late_from_ten_minutes_before_its_promise() -> None:
    ready_by = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
    reserved = OrderStatus.reserved
    assert not late.is_late(
        status=reserved, ready_by=ready_by, late=False, now=ready_by - timedelta(minutes=10)
    )
    assert late.is_late(
        status=reserved, ready_by=ready_by, late=False, now=ready_by - timedelta(minutes=10, seconds=-1)
    )
    assert late.is_late(status=reserved, ready_by=ready_by, late=False, now=ready_by + timedelta(hours=2))
    # Once late, not again; ready or unpromised orders never.
    assert not late.is_late(status=reserved, ready_by=ready_by, late=True, now=ready_by)
    assert not late.is_late(status=OrderStatus.ready_for_pickup, ready_by=ready_by, late=False, now=ready_by)
    assert not late.is_late(status=reserved, ready_by=None, late=False, now=ready_by)


def test_the_ten_minutes_are_real_minutes_across_the_night_dst_ends() -> None:
    # Promised for the second 02:00 (CET); at 02:50 CEST the wall clock says 50 minutes after the promise,
    # but it is 10 minutes before it: exactly on the edge, not yet late; a minute later, late.
    ready_by = SECOND_TWO.astimezone(AMSTERDAM)
    now = (FIRST_TWO + timedelta(minutes=50)).astimezone(AMSTERDAM)
    assert (ready_by.hour, ready_by.minute, now.hour, now.minute) == (2, 0, 2, 50)
    assert not late.is_late(status=OrderStatus.reserved, ready_by=ready_by, late=False, now=now)
    assert late.is_late(
        status=OrderStatus.reserved, ready_by=ready_by, late=False, now=now + timedelta(minutes=1)
    )
    assert late.late_due_before(now) == SECOND_TWO


def _aware(at: datetime | None) -> datetime | None:
    return None if at is None else as_aware_utc(at)


def _promised(session: Session, key: str, ready_by: datetime) -> Order:
    order = reserved_order(session, "S1", {"A": 1}, key=key)
    # As if reserved with that promise (orders.lifecycle.stamp keeps it as the first one).
    order.ready_by = order.promised_ready_by = ready_by
    session.add(order)
    session.flush()
    return order


@BOTH_DATABASES
def test_the_sweep_marks_due_orders_late_once_and_promises_them_again(
    session: Session, client: TestClient
) -> None:
    # Open Monday to Saturday 9 to 6 (closed on Sunday), so the new promise of the DST night is Monday's
    # opening plus the pick time of 60 minutes: 10:00 CET.
    make_stocked_store(session, "S1", {"A": 10}, hours=store_row("S1")["hours"])
    now = FIRST_TWO + timedelta(minutes=51)  # 02:51 CEST
    due = _promised(session, "due", SECOND_TWO)
    early = _promised(session, "early", SECOND_TWO + timedelta(minutes=2))
    assert late.mark_late(session, now=now) == [due.order_id]
    session.refresh(due)
    session.refresh(early)
    assert (due.late, _aware(due.promised_ready_by), _aware(due.ready_by)) == (
        True,
        SECOND_TWO,
        datetime(2026, 10, 26, 9, 0, tzinfo=UTC),
    )
    assert (early.late, _aware(early.promised_ready_by), _aware(early.ready_by)) == (
        False,
        SECOND_TWO + timedelta(minutes=2),
        SECOND_TWO + timedelta(minutes=2),
    )
    session.commit()
    # The shopper sees both promises of the late order, and only the one of the other.
    for order, first, now_promised in (
        (due, SECOND_TWO, "2026-10-26T09:00:00Z"),
        (early, None, "2026-10-25T01:02:00Z"),
    ):
        pickup = client.get(
            f"/mobile/v1/orders/{order.order_id}", params={"order_token": order_token(order.order_id)}
        ).json()["pickup"]
        assert (pickup["ready_by"], pickup["first_ready_by"]) == (
            now_promised,
            None if first is None else first.isoformat().replace("+00:00", "Z"),
        )
    notices = session.exec(select(Notification).where(Notification.kind == "order.late")).all()
    assert [n.payload for n in notices] == [
        {
            "order_id": due.order_id,
            "store_code": "S1",
            "status": "reserved",
            "at": now.isoformat(),
            "customer_email": due.customer_email,
            "ready_by": "2026-10-26T09:00:00+00:00",
            "first_ready_by": SECOND_TWO.isoformat(),
        }
    ]
    store_id = session.exec(select(Store.id).where(Store.code == "S1")).one()
    assert store_id is not None
    events = [e.event for e in desk_events.events_after(session, store_id=store_id, after=0, limit=100)]
    late_events = [(e.type, e.order_id) for e in events if e.type == DeskEventType.order_late]
    assert late_events == [(DeskEventType.order_late, due.order_id)]
    # A second sweep at the same moment does nothing: no order, no notice, no event.
    assert late.mark_late(session, now=now) == []
    assert len(session.exec(select(Notification).where(Notification.kind == "order.late")).all()) == 1
    assert desk_events.count(session, store_id=store_id) == len(events)
    assert session.exec(select(Order.id).where(col(Order.late).is_(True))).all() == [due.id]

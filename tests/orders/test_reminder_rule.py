"""The reminder's time (`orders.messages.rules.reminder_at`), without a database: a quarter of the hold
left, moved to an hour the store is open, at the edges of its hours and across both DST changes."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from orders.messages import rules
from orders.messages.models import MessageType
from stores.hours import engine
from stores.hours.model import OpeningHours
from tests.factories import WEEKDAYS

AMS = ZoneInfo("Europe/Amsterdam")


def _schedule(days: tuple[str, ...] = WEEKDAYS[:6]) -> engine.StoreSchedule:
    """Open 9 to 6 on `days` (Monday to Saturday unless told), no public holidays."""
    hours = OpeningHours.model_validate(
        {"weekly": {day: [{"opens": "09:00", "closes": "18:00"}] for day in days}, "special": []}
    )
    return engine.StoreSchedule(
        timezone="Europe/Amsterdam",
        hours=hours,
        country="NL",
        subdivision=None,
        closed_on_public_holidays=False,
    )


def _reminder(ready_at: datetime, expires_at: datetime, schedule: engine.StoreSchedule) -> datetime | None:
    intervals = engine.open_intervals(schedule, ready_at, expires_at)
    found = rules.reminder_at(ready_at=ready_at, expires_at=expires_at, open_intervals=intervals)
    return None if found is None else found.astimezone(AMS)


def _at(day: int, hour: int, minute: int = 0, month: int = 12) -> datetime:
    """An instant of December 2026 (Monday the 7th) in Amsterdam unless told."""
    return datetime(2026, month, day, hour, minute, tzinfo=AMS)


@pytest.mark.parametrize(
    ("ready_at", "expires_at", "expected"),
    [
        # The quarter mark (Wednesday 16:00) falls in opening hours: then.
        (_at(7, 10), _at(10, 10), _at(9, 16)),
        # At 04:00 the store is closed; it opens at 9 before the hold ends at 10: at the opening.
        (_at(7, 10), _at(8, 10), _at(8, 9)),
        # The mark at the opening minute itself: open (hours are half-open, [09:00, 18:00)).
        (_at(7, 12), _at(8, 16), _at(8, 9)),
        # One minute before closing: still open.
        (_at(7, 11, 58), _at(7, 19, 58), _at(7, 17, 58)),
        # At the closing minute: closed, and no opening before the hold ends at 20:00: an hour before
        # the closing.
        (_at(7, 12), _at(7, 20), _at(7, 17)),
        # The mark at 03:00, the next opening after the end (Tuesday 08:00): an hour before Monday's
        # closing.
        (_at(7, 12), _at(8, 8), _at(7, 17)),
    ],
)
def test_a_quarter_of_the_hold_left_moved_into_opening_hours(
    ready_at: datetime, expires_at: datetime, expected: datetime
) -> None:
    assert _reminder(ready_at, expires_at, _schedule()) == expected


def test_no_reminder_when_the_store_is_not_open_during_the_hold() -> None:
    # Ready at Saturday's closing, gone before Monday's opening: the store is closed all the while.
    assert _reminder(_at(12, 18), _at(14, 8), _schedule()) is None


def test_no_reminder_within_an_hour_of_the_ready_message() -> None:
    # Ready at 17:30, gone at 08:00: the only open time is the half hour after the ready message.
    assert _reminder(_at(7, 17, 30), _at(8, 8), _schedule()) is None
    # A hold over before it began (an order expired at once) has none either.
    assert _reminder(_at(7, 12), _at(7, 11), _schedule()) is None


def test_across_the_autumn_dst_change_the_quarter_counts_real_hours() -> None:
    # Saturday 24 October 10:00 CEST to Sunday 25 October 18:00 CET: 33 real hours (32 on the wall
    # clock). A quarter is 8 h 15 min: 09:45 CET; the wall clock would have said 10:00.
    ready_at = datetime(2026, 10, 24, 10, tzinfo=AMS)
    expires_at = datetime(2026, 10, 25, 18, tzinfo=AMS)
    found = _reminder(ready_at, expires_at, _schedule(WEEKDAYS))
    assert found == datetime(2026, 10, 25, 9, 45, tzinfo=AMS)
    assert found is not None
    assert found.utcoffset() == timedelta(hours=1)


def test_across_the_spring_dst_change_the_quarter_counts_real_hours() -> None:
    # Saturday 28 March 10:00 CET to Sunday 29 March 18:00 CEST: 31 real hours. A quarter is 7 h 45 min:
    # 10:15 CEST (the wall clock would have said 10:00).
    ready_at = datetime(2026, 3, 28, 10, tzinfo=AMS)
    expires_at = datetime(2026, 3, 29, 18, tzinfo=AMS)
    found = _reminder(ready_at, expires_at, _schedule(WEEKDAYS))
    assert found == datetime(2026, 3, 29, 10, 15, tzinfo=AMS)
    assert found is not None
    assert found.utcoffset() == timedelta(hours=2)


def test_a_mark_in_the_repeated_hour_of_the_dst_night_moves_before_saturdays_closing() -> None:
    # Saturday 24 October 12:00 CEST to Sunday 08:00 CET: 21 real hours, the mark 5 h 15 min before the
    # end, at 02:45 CET (the second 02:45 of that night). Sunday opens after the hold: an hour before
    # Saturday's closing, in summer time.
    ready_at = datetime(2026, 10, 24, 12, tzinfo=AMS)
    expires_at = datetime(2026, 10, 25, 8, tzinfo=AMS)
    found = _reminder(ready_at, expires_at, _schedule(WEEKDAYS))
    assert found == datetime(2026, 10, 24, 17, tzinfo=AMS)
    assert found is not None
    assert found.utcoffset() == timedelta(hours=2)


def test_which_messages_each_outbox_event_makes() -> None:
    assert rules.message_types("order.status_changed", {"status": "pending"}) == ()
    assert rules.message_types("order.status_changed", {"status": "cancelled"}) == ()
    assert rules.message_types("order.status_changed", {"status": "reserved"}) == (MessageType.reserved,)
    assert rules.message_types("order.status_changed", {"status": "ready_for_pickup"}) == (
        MessageType.ready,
        MessageType.reminder,
    )
    assert rules.message_types("order.partially_ready", {"status": "ready_for_pickup"}) == (
        MessageType.partially_ready,
        MessageType.reminder,
    )
    assert rules.message_types("order.late", {}) == (MessageType.delayed,)
    assert rules.message_types("order.returned", {}) == (MessageType.returned,)
    # The stock alerts' messages come from the fired alerts themselves, not from an outbox event.
    assert rules.message_types("stock.back_in_stock", {}) == ()
    assert rules.message_types("stock.something_else", {}) == ()


def test_a_late_event_names_its_order_and_new_promise_however_it_carries_the_order() -> None:
    ready_by = "2026-12-07T15:30:00+00:00"
    expected = datetime(2026, 12, 7, 15, 30, tzinfo=ZoneInfo("UTC"))
    for payload in (
        {"order_id": "ord_1", "ready_by": ready_by},
        {"order_id": "ord_1", "order": {"order_id": "ord_1", "ready_by": ready_by}},
        {"order": {"order_id": "ord_1", "pickup": {"ready_by": ready_by}}},
    ):
        assert rules.event_order_id(payload) == "ord_1"
        assert rules.new_ready_by(payload) == expected
    assert rules.event_order_id({"status": "reserved"}) is None
    assert rules.new_ready_by({"order_id": "ord_1"}) is None

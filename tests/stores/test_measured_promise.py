"""The measured promise's pure rule (stores/hours/measured.py): 19, 20 and more orders, the nearest-rank
80th percentile, and durations counted in opening minutes, across a night and a DST change."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from stores.hours.engine import StoreSchedule
from stores.hours.measured import measured_pick_minutes, open_minutes_between
from stores.hours.model import OpeningHours

AMS = ZoneInfo("Europe/Amsterdam")
NINE_TO_SIX = StoreSchedule(
    "Europe/Amsterdam",
    OpeningHours.model_validate(
        {
            "weekly": {
                day: [{"opens": "09:00", "closes": "18:00"}]
                for day in ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday")
            },
            "special": [],
        }
    ),
    "NL",
    None,
    False,
)


def test_nineteen_orders_promise_the_configured_pick_time() -> None:
    assert measured_pick_minutes([5.0] * 19, configured=60) == (60, "configured")
    assert measured_pick_minutes([], configured=45) == (45, "configured")


def test_twenty_orders_promise_their_80th_percentile_by_nearest_rank() -> None:
    # 1..20 minutes: the 16th smallest is the 80th percentile.
    assert measured_pick_minutes([float(m) for m in range(20, 0, -1)], configured=60) == (16, "measured")


def test_more_orders_round_the_percentile_up_to_whole_minutes() -> None:
    durations = [10.0] * 20 + [30.5] * 5  # 25 orders: rank ceil(0.8 * 25) = 20 -> 10 minutes
    assert measured_pick_minutes(durations, configured=60) == (10, "measured")
    durations = [10.0] * 19 + [30.5] * 6  # rank 20 is now 30.5 -> 31
    assert measured_pick_minutes(durations, configured=60) == (31, "measured")
    assert measured_pick_minutes([0.2] * 20, configured=60) == (1, "measured")


def test_an_order_reserved_before_closing_and_ready_after_opening_took_only_opening_minutes() -> None:
    # Friday 17:59 to Saturday 09:10: one minute on Friday, ten on Saturday.
    reserved = datetime(2026, 10, 23, 17, 59, tzinfo=AMS)
    ready = datetime(2026, 10, 24, 9, 10, tzinfo=AMS)
    assert open_minutes_between(NINE_TO_SIX, reserved, ready) == 11
    # Saturday 17:55 to Monday 09:05 across the closed Sunday on which DST ends: 5 + 5 minutes.
    assert (
        open_minutes_between(
            NINE_TO_SIX, datetime(2026, 10, 24, 17, 55, tzinfo=AMS), datetime(2026, 10, 26, 9, 5, tzinfo=AMS)
        )
        == 10
    )
    assert open_minutes_between(NINE_TO_SIX, ready, reserved) == 0

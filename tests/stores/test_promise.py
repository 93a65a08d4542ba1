"""The promise rules as pure functions: transfer ETAs and promises under capacity and cut-off
(stores/hours/promise.py), across DST, holidays and overnight shifts."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from stores.hours import WEEKDAYS, add_open_time
from stores.hours.promise import (
    MAX_PROMISE_DAYS,
    Timetable,
    next_departure,
    promised_ready_by,
    transfer_eta,
)
from tests.stores.test_hours import WEEKDAY_SHOP, ams, every_day, p, store

# 2026-04-20 is a Monday; 2026-04-27 (Monday) is King's Day, a public holiday in the Netherlands.
MONDAY = (2026, 4, 20)


def timetable(departures: dict[str, list[str]]) -> Timetable:
    return Timetable.of("Europe/Amsterdam", departures)


def weekdays(*times: str) -> dict[str, list[str]]:
    return {day: list(times) for day in WEEKDAYS[:5]}


def utc(at: datetime | None) -> datetime:
    assert at is not None
    return at.astimezone(UTC)


# ------------------------------------------------------------------------------------------ departures


def test_the_first_departure_at_or_after_the_instant() -> None:
    lane = timetable(weekdays("12:00", "18:00"))
    assert next_departure(lane, ams(*MONDAY, 12, 0)) == ams(*MONDAY, 12, 0)
    assert next_departure(lane, ams(*MONDAY, 12, 1)) == ams(*MONDAY, 18, 0)
    # Friday evening after the last truck: Monday's first.
    assert next_departure(lane, ams(2026, 4, 24, 18, 1)) == ams(2026, 4, 27, 12, 0)


def test_a_lane_without_departures_has_none() -> None:
    assert next_departure(timetable({}), ams(*MONDAY, 9)) is None


def test_departure_times_are_validated() -> None:
    for bad in ("24:00", "7:00", "12:60", "noon", "1a:00", "-1:00"):
        with pytest.raises(ValueError, match="not a departure time"):
            timetable({"monday": [bad]})
    with pytest.raises(ValueError, match="weekdays"):
        timetable({"funday": ["12:00"]})


def test_a_departure_keeps_its_wall_time_across_dst() -> None:
    lane = timetable({day: ["06:00"] for day in WEEKDAYS})
    # Saturday 28 March 2026 is still CET (UTC+1), Sunday the 29th is CEST (UTC+2).
    assert utc(next_departure(lane, ams(2026, 3, 28, 5))) == datetime(2026, 3, 28, 5, tzinfo=UTC)
    assert utc(next_departure(lane, ams(2026, 3, 28, 7))) == datetime(2026, 3, 29, 4, tzinfo=UTC)


def test_a_departure_in_the_spring_gap_leaves_when_the_clocks_jump() -> None:
    lane = timetable({"sunday": ["02:30"]})
    # On 29 March 2026 the clocks go from 02:00 CET straight to 03:00 CEST (01:00 UTC).
    assert utc(next_departure(lane, ams(2026, 3, 29, 0))) == datetime(2026, 3, 29, 1, tzinfo=UTC)


def test_a_departure_in_the_autumn_fold_leaves_at_the_first_of_the_two() -> None:
    lane = timetable({"sunday": ["02:30"]})
    # On 25 October 2026 02:00-03:00 happens twice: first in CEST (00:30 UTC), then in CET (01:30 UTC).
    assert utc(next_departure(lane, ams(2026, 10, 25, 0))) == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)
    # Just after the first 02:30 (in the second pass of the hour) it has left: next Sunday's.
    second_pass = ams(2026, 10, 25, 2, 15, fold=1)
    assert utc(next_departure(lane, second_pass)) == datetime(2026, 11, 1, 1, 30, tzinfo=UTC)


# ----------------------------------------------------------------------------------------- transfer ETA


def test_the_eta_is_pick_time_then_the_next_departure_then_transit() -> None:
    source = store(WEEKDAY_SHOP)
    lane = timetable(weekdays("12:00"))
    # Reserved 10:59, picked by 11:59 (60 opening minutes), leaves 12:00, four hours on the road.
    eta = transfer_eta(source, lane, reserved_at=ams(*MONDAY, 10, 59), pick_minutes=60, transit_hours=4)
    assert eta == ams(*MONDAY, 16, 0)


def test_a_departure_missed_by_one_minute_waits_for_the_next_day() -> None:
    source = store(WEEKDAY_SHOP)
    lane = timetable(weekdays("12:00"))
    eta = transfer_eta(source, lane, reserved_at=ams(*MONDAY, 11, 1), pick_minutes=60, transit_hours=4)
    assert eta == ams(2026, 4, 21, 16, 0)


def test_the_pick_time_counts_only_the_sources_opening_hours() -> None:
    source = store(WEEKDAY_SHOP)
    lane = timetable(weekdays("12:00"))
    # Reserved Friday 17:30: 30 minutes picked on Friday, the other 30 on Saturday (10:00-10:30), but the
    # lane runs on weekdays only: Monday's truck.
    eta = transfer_eta(source, lane, reserved_at=ams(2026, 4, 17, 17, 30), pick_minutes=60, transit_hours=2)
    assert eta == ams(*MONDAY, 14, 0)


def test_a_holiday_at_the_source_delays_the_pick() -> None:
    source = store(WEEKDAY_SHOP)
    lane = timetable({day: ["12:00"] for day in WEEKDAYS})
    # Reserved Sunday 26 April (closed); Monday is King's Day (closed): picked Tuesday 10:00.
    eta = transfer_eta(source, lane, reserved_at=ams(2026, 4, 26, 12), pick_minutes=60, transit_hours=1)
    assert eta == ams(2026, 4, 28, 13, 0)


def test_an_overnight_warehouse_shift() -> None:
    warehouse = store(every_day(p("22:00", "06:00")), closed_on_public_holidays=False)
    lane = timetable({day: ["05:00"] for day in WEEKDAYS})
    # Reserved Monday afternoon: the shift starts 22:00, the pick is done by midnight, the 05:00 truck
    # leaves Tuesday and arrives at 08:00.
    eta = transfer_eta(warehouse, lane, reserved_at=ams(*MONDAY, 14), pick_minutes=120, transit_hours=3)
    assert eta == ams(2026, 4, 21, 8, 0)
    # Reserved Tuesday 04:00: picked at the shift's end, 06:00, after the truck left: Wednesday's.
    eta = transfer_eta(warehouse, lane, reserved_at=ams(2026, 4, 21, 4), pick_minutes=120, transit_hours=3)
    assert eta == ams(2026, 4, 22, 8, 0)


def test_transit_is_real_hours_across_the_dst_night() -> None:
    warehouse = store(every_day(p("00:00", "24:00")), closed_on_public_holidays=False)
    lane = timetable({"saturday": ["06:00"]})
    eta = transfer_eta(warehouse, lane, reserved_at=ams(2026, 3, 28, 5), pick_minutes=0, transit_hours=24)
    # Left 06:00 CET (05:00 UTC); 24 hours later is 07:00 CEST on Sunday.
    assert utc(eta) == datetime(2026, 3, 29, 5, tzinfo=UTC)
    assert eta is not None
    assert eta.replace(tzinfo=None) == datetime(2026, 3, 29, 7)


def test_no_eta_when_the_source_never_opens_or_the_lane_never_runs() -> None:
    lane = timetable(weekdays("12:00"))
    assert (
        transfer_eta(store({}), lane, reserved_at=ams(*MONDAY, 9), pick_minutes=10, transit_hours=1) is None
    )
    shop = store(WEEKDAY_SHOP)
    never = timetable({})
    assert transfer_eta(shop, never, reserved_at=ams(*MONDAY, 9), pick_minutes=10, transit_hours=1) is None


# ------------------------------------------------------------------------------- capacity and cut-off


def nobody(_day: date) -> int:
    return 0


def test_without_capacity_or_cutoff_the_promise_is_the_pick_time() -> None:
    shop = store(WEEKDAY_SHOP)
    start = ams(*MONDAY, 17, 30)
    ready = promised_ready_by(
        shop,
        start=start,
        pick_minutes=60,
        same_day_cutoff=None,
        daily_order_capacity=None,
        promised_on=nobody,
    )
    assert ready == add_open_time(shop, start, timedelta(minutes=60)) == ams(2026, 4, 21, 9, 30)


def test_an_order_at_or_after_the_cutoff_is_ready_the_next_opening_day() -> None:
    shop = store(WEEKDAY_SHOP)
    cutoff = 16 * 60

    def ready(at: datetime) -> datetime | None:
        return promised_ready_by(
            shop,
            start=at,
            pick_minutes=30,
            same_day_cutoff=cutoff,
            daily_order_capacity=None,
            promised_on=nobody,
        )

    assert ready(ams(*MONDAY, 15, 59)) == ams(*MONDAY, 16, 29)
    assert ready(ams(*MONDAY, 16, 0)) == ams(2026, 4, 21, 9, 30)
    # Saturday after the cutoff: Sunday is closed, Monday the 27th is King's Day: Tuesday.
    assert ready(ams(2026, 4, 25, 16, 30)) == ams(2026, 4, 28, 9, 30)


def test_a_full_day_moves_the_promise_to_the_next_opening_day_with_room() -> None:
    shop = store(WEEKDAY_SHOP)
    promised = {date(*MONDAY): 3, date(2026, 4, 21): 3, date(2026, 4, 22): 2}

    def ready(capacity: int | None) -> datetime | None:
        return promised_ready_by(
            shop,
            start=ams(*MONDAY, 10),
            pick_minutes=45,
            same_day_cutoff=None,
            daily_order_capacity=capacity,
            promised_on=lambda day: promised.get(day, 0),
        )

    assert ready(None) == ams(*MONDAY, 10, 45)
    assert ready(4) == ams(*MONDAY, 10, 45)  # room for one more on Monday
    assert ready(3) == ams(2026, 4, 22, 9, 45)  # Monday and Tuesday full: Wednesday, 45 minutes after opening
    assert ready(2) == ams(2026, 4, 23, 9, 45)


def test_a_pick_that_runs_past_closing_counts_against_the_day_it_ends() -> None:
    shop = store(WEEKDAY_SHOP)
    promised = {date(2026, 4, 21): 1}
    ready = promised_ready_by(
        shop,
        start=ams(*MONDAY, 17, 45),
        pick_minutes=30,
        same_day_cutoff=None,
        daily_order_capacity=1,
        promised_on=lambda day: promised.get(day, 0),
    )
    # Ready Tuesday 09:15 but Tuesday is full: Wednesday 09:30.
    assert ready == ams(2026, 4, 22, 9, 30)


def test_no_promise_when_every_day_is_full() -> None:
    shop = store(WEEKDAY_SHOP)
    calls: list[date] = []

    def full(day: date) -> int:
        calls.append(day)
        return 5

    ready = promised_ready_by(
        shop,
        start=ams(*MONDAY, 10),
        pick_minutes=10,
        same_day_cutoff=None,
        daily_order_capacity=5,
        promised_on=full,
    )
    assert ready is None
    # Every opening day of the horizon asked once, none beyond it.
    assert calls == sorted(set(calls))
    assert calls[-1] <= date(*MONDAY) + timedelta(days=MAX_PROMISE_DAYS)


def test_a_transfer_order_starts_at_its_eta() -> None:
    shop = store(WEEKDAY_SHOP)
    eta = ams(*MONDAY, 16, 0)
    ready = promised_ready_by(
        shop, start=eta, pick_minutes=30, same_day_cutoff=None, daily_order_capacity=None, promised_on=nobody
    )
    assert ready == ams(*MONDAY, 16, 30)


# ---------------------------------------------------------------------------- holds in opening hours


def test_a_hold_counted_in_opening_hours_skips_closed_days_and_holidays() -> None:
    # Ready Saturday 25 April at 19:00 (open until 20:00), Sunday closed, Monday King's Day: a hold of
    # eight opening hours is one hour on Saturday and seven on Tuesday (from 09:00).
    shop = store({**WEEKDAY_SHOP, "saturday": [p("10:00", "20:00")]})
    expires = add_open_time(shop, ams(2026, 4, 25, 19), timedelta(hours=8))
    assert expires == ams(2026, 4, 28, 16, 0)

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from itertools import pairwise
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from stores.hours import (
    HORIZON_DAYS,
    WEEKDAYS,
    NextChange,
    OpeningHours,
    Period,
    ResolvedDay,
    StoreSchedule,
    add_open_time,
    is_open,
    local_today,
    next_change,
    open_intervals,
    resolve_day,
    resolve_days,
)

AMS = ZoneInfo("Europe/Amsterdam")
MICRO = timedelta(microseconds=1)


def p(opens: str, closes: str) -> dict[str, str]:
    return {"opens": opens, "closes": closes}


def every_day(*periods: dict[str, str]) -> dict[str, list[dict[str, str]]]:
    return {day: list(periods) for day in WEEKDAYS}


def store(
    weekly: dict[str, Any],
    special: list[dict[str, Any]] | None = None,
    *,
    timezone: str = "Europe/Amsterdam",
    country: str = "NL",
    subdivision: str | None = None,
    closed_on_public_holidays: bool = True,
) -> StoreSchedule:
    hours = OpeningHours.model_validate({"weekly": weekly, "special": special or []})
    return StoreSchedule(timezone, hours, country, subdivision, closed_on_public_holidays)


def ams(year: int, month: int, day: int, hour: int = 0, minute: int = 0, fold: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=AMS, fold=fold)


def change(at: datetime, open_: bool) -> NextChange:
    return NextChange(at=at, open=open_)


def utc(at: datetime) -> datetime:
    # Compare in UTC: per PEP 495, == between zones is False for instants in a fold, and comparing two
    # datetimes of the same zone ignores fold altogether.
    return at.astimezone(UTC)


WEEKDAY_SHOP = {
    **{day: [p("09:00", "18:00")] for day in WEEKDAYS[:5]},
    "saturday": [p("10:00", "17:00")],
}


# ------------------------------------------------------------------------------------------- basic days


def test_split_day() -> None:
    s = store({"monday": [p("09:00", "12:00"), p("13:00", "18:00")]})
    # 2026-04-20 is a Monday
    assert is_open(s, ams(2026, 4, 20, 8, 59)) is False
    assert is_open(s, ams(2026, 4, 20, 9, 0)) is True
    assert is_open(s, ams(2026, 4, 20, 11, 59)) is True
    assert is_open(s, ams(2026, 4, 20, 12, 0)) is False
    assert is_open(s, ams(2026, 4, 20, 13, 0)) is True
    assert next_change(s, ams(2026, 4, 20, 10, 0)) == change(ams(2026, 4, 20, 12, 0), False)
    assert next_change(s, ams(2026, 4, 20, 12, 30)) == change(ams(2026, 4, 20, 13, 0), True)
    # Next Monday is Koningsdag (closed), so the following opening is a fortnight later.
    assert next_change(s, ams(2026, 4, 20, 18, 0)) == change(ams(2026, 5, 4, 9, 0), True)


def test_overnight_friday_is_open_saturday_early() -> None:
    s = store({"friday": [p("22:00", "02:00")]})
    assert is_open(s, ams(2026, 4, 24, 21, 59)) is False
    assert is_open(s, ams(2026, 4, 24, 22, 0)) is True
    assert is_open(s, ams(2026, 4, 25, 1, 0)) is True
    assert is_open(s, ams(2026, 4, 25, 2, 0)) is False
    assert next_change(s, ams(2026, 4, 24, 23, 0)) == change(ams(2026, 4, 25, 2, 0), False)
    assert next_change(s, ams(2026, 4, 25, 1, 0)) == change(ams(2026, 4, 25, 2, 0), False)
    assert next_change(s, ams(2026, 4, 25, 2, 0)) == change(ams(2026, 5, 1, 22, 0), True)


def test_overnight_period_runs_into_a_holiday() -> None:
    # Sunday 2026-04-26 22:00 -> Monday 02:00; Monday is Koningsdag but the period belongs to Sunday.
    s = store({"sunday": [p("22:00", "02:00")], "monday": [p("09:00", "17:00")]})
    assert is_open(s, ams(2026, 4, 27, 1, 0)) is True
    assert is_open(s, ams(2026, 4, 27, 10, 0)) is False
    assert next_change(s, ams(2026, 4, 27, 1, 0)) == change(ams(2026, 4, 27, 2, 0), False)


def test_closes_at_24_00_merges_with_next_day_from_midnight() -> None:
    s = store({"monday": [p("18:00", "24:00")], "tuesday": [p("00:00", "03:00")]})
    assert is_open(s, ams(2026, 4, 20, 23, 59)) is True
    assert is_open(s, ams(2026, 4, 21, 0, 0)) is True
    assert next_change(s, ams(2026, 4, 20, 20, 0)) == change(ams(2026, 4, 21, 3, 0), False)
    assert open_intervals(s, ams(2026, 4, 20), ams(2026, 4, 22)) == [
        (ams(2026, 4, 20, 18), ams(2026, 4, 21, 3))
    ]


def test_24_hours_from_opens_when_opens_equals_closes() -> None:
    s = store({"wednesday": [p("10:00", "10:00")]})
    assert resolve_day(s, date(2026, 4, 22)).periods == [Period(opens="10:00", closes="10:00")]
    assert is_open(s, ams(2026, 4, 23, 9, 59)) is True
    assert next_change(s, ams(2026, 4, 22, 12)) == change(ams(2026, 4, 23, 10), False)


def test_round_the_clock_store_never_changes() -> None:
    s = store(every_day(p("00:00", "24:00")), closed_on_public_holidays=False)
    assert is_open(s, ams(2026, 4, 20, 3, 0)) is True
    assert next_change(s, ams(2026, 4, 20, 3, 0)) is None
    assert next_change(s, ams(2026, 10, 25, 2, 30)) is None


def test_overnight_chain_covering_the_week_never_changes() -> None:
    s = store(every_day(p("22:00", "22:00")), closed_on_public_holidays=False)
    assert is_open(s, ams(2026, 4, 20, 3, 0)) is True
    assert next_change(s, ams(2026, 4, 20, 3, 0)) is None


def test_round_the_clock_store_closes_on_a_holiday() -> None:
    s = store(every_day(p("00:00", "24:00")))
    assert next_change(s, ams(2026, 4, 20, 3, 0)) == change(ams(2026, 4, 27, 0, 0), False)
    assert next_change(s, ams(2026, 4, 27, 3, 0)) == change(ams(2026, 4, 28, 0, 0), True)


def test_store_that_never_opens() -> None:
    s = store({})
    assert is_open(s, ams(2026, 4, 20, 12)) is False
    assert next_change(s, ams(2026, 4, 20, 12)) is None
    assert resolve_day(s, date(2026, 4, 20)) == ResolvedDay(
        date=date(2026, 4, 20), closed=True, periods=[], reason=None
    )


def test_next_change_within_and_beyond_the_horizon() -> None:
    start = ams(2026, 1, 1, 12)
    inside = date(2026, 1, 1) + timedelta(days=HORIZON_DAYS - 1)
    s = store({}, [{"date": inside.isoformat(), "periods": [p("10:00", "11:00")]}])
    assert next_change(s, start) == change(ams(inside.year, inside.month, inside.day, 10), True)
    beyond = date(2026, 1, 1) + timedelta(days=HORIZON_DAYS + 2)
    s = store({}, [{"date": beyond.isoformat(), "periods": [p("10:00", "11:00")]}])
    assert next_change(s, start) is None


# ------------------------------------------------------------------------------ special days and holidays


def test_special_day_overrides_weekly_and_holiday() -> None:
    s = store(
        WEEKDAY_SHOP,
        [
            {"date": "2026-04-22", "closed": True, "reason": "Stocktaking"},
            {"date": "2026-04-27", "periods": [p("12:00", "16:00")], "reason": "Koningsdag market"},
            {"date": "2026-04-26", "periods": [p("12:00", "17:00")]},
        ],
    )
    assert resolve_day(s, date(2026, 4, 22)) == ResolvedDay(
        date=date(2026, 4, 22), closed=True, periods=[], reason="Stocktaking"
    )
    assert resolve_day(s, date(2026, 4, 27)) == ResolvedDay(
        date=date(2026, 4, 27),
        closed=False,
        periods=[Period(opens="12:00", closes="16:00")],
        reason="Koningsdag market",
    )
    assert resolve_day(s, date(2026, 4, 26)).periods == [Period(opens="12:00", closes="17:00")]
    assert is_open(s, ams(2026, 4, 22, 12)) is False
    assert is_open(s, ams(2026, 4, 27, 13)) is True
    assert next_change(s, ams(2026, 4, 21, 19)) == change(ams(2026, 4, 23, 9), True)


def test_dutch_national_holiday_is_closed_with_its_dutch_name() -> None:
    s = store(WEEKDAY_SHOP, subdivision="NL-NH")
    assert resolve_day(s, date(2026, 4, 27)) == ResolvedDay(
        date=date(2026, 4, 27), closed=True, periods=[], reason="Koningsdag"
    )
    assert is_open(s, ams(2026, 4, 27, 12)) is False
    assert resolve_day(s, date(2026, 12, 25)).reason == "Eerste kerstdag"


def test_next_change_skips_closed_days_and_holidays() -> None:
    s = store(WEEKDAY_SHOP)
    # Saturday after closing -> Sunday closed -> Monday Koningsdag -> Tuesday 09:00
    assert next_change(s, ams(2026, 4, 25, 17, 0)) == change(ams(2026, 4, 28, 9, 0), True)
    assert next_change(s, ams(2026, 4, 25, 16, 0)) == change(ams(2026, 4, 25, 17, 0), False)


def test_regional_holiday_applies_only_in_its_region() -> None:
    bavaria = store(WEEKDAY_SHOP, timezone="Europe/Berlin", country="DE", subdivision="DE-BY")
    berlin = store(WEEKDAY_SHOP, timezone="Europe/Berlin", country="DE", subdivision="DE-BE")
    day = date(2026, 1, 6)  # a Tuesday
    assert resolve_day(bavaria, day) == ResolvedDay(
        date=day, closed=True, periods=[], reason="Heilige Drei Könige"
    )
    assert resolve_day(berlin, day) == ResolvedDay(
        date=day, closed=False, periods=[Period(opens="09:00", closes="18:00")], reason=None
    )
    noon = datetime(2026, 1, 6, 12, tzinfo=ZoneInfo("Europe/Berlin"))
    assert is_open(bavaria, noon) is False
    assert is_open(berlin, noon) is True


def test_holidays_ignored_when_store_opens_on_them() -> None:
    s = store(WEEKDAY_SHOP, closed_on_public_holidays=False)
    assert resolve_day(s, date(2026, 4, 27)) == ResolvedDay(
        date=date(2026, 4, 27), closed=False, periods=[Period(opens="09:00", closes="18:00")], reason=None
    )
    assert is_open(s, ams(2026, 4, 27, 12)) is True


def test_resolve_days_and_local_today() -> None:
    s = store(WEEKDAY_SHOP)
    days = resolve_days(s, date(2026, 4, 25), 4)
    assert [(d.date, d.closed, d.reason) for d in days] == [
        (date(2026, 4, 25), False, None),
        (date(2026, 4, 26), True, None),
        (date(2026, 4, 27), True, "Koningsdag"),
        (date(2026, 4, 28), False, None),
    ]
    assert local_today(s, datetime(2026, 4, 24, 22, 30, tzinfo=UTC)) == date(2026, 4, 25)
    assert local_today(s, datetime(2026, 4, 24, 21, 59, tzinfo=UTC)) == date(2026, 4, 24)
    with pytest.raises(ValueError, match="days"):
        resolve_days(s, date(2026, 1, 1), 10_000)


# ---------------------------------------------------------------------------------------------------- DST


def test_spring_forward_next_opening_has_summer_offset() -> None:
    s = store(every_day(p("09:00", "21:00")))
    assert next_change(s, ams(2026, 3, 28, 20)) == change(ams(2026, 3, 28, 21), False)
    result = next_change(s, ams(2026, 3, 28, 21, 30))
    assert result == change(ams(2026, 3, 29, 9), True)
    assert result is not None
    assert result.at.utcoffset() == timedelta(hours=2)
    assert result.at.astimezone(UTC) == datetime(2026, 3, 29, 7, tzinfo=UTC)
    assert is_open(s, datetime(2026, 3, 29, 7, 0, tzinfo=UTC)) is True
    assert is_open(s, datetime(2026, 3, 29, 6, 59, tzinfo=UTC)) is False


def test_overnight_over_spring_forward_is_7_real_hours() -> None:
    s = store(every_day(p("22:00", "06:00")))
    intervals = open_intervals(s, ams(2026, 3, 28, 12), ams(2026, 3, 29, 12))
    assert intervals == [(ams(2026, 3, 28, 22), ams(2026, 3, 29, 6))]
    opened, closed = intervals[0]
    assert closed.utcoffset() == timedelta(hours=2)
    assert closed.astimezone(UTC) - opened.astimezone(UTC) == timedelta(hours=7)
    assert is_open(s, datetime(2026, 3, 29, 1, 30, tzinfo=UTC)) is True  # 03:30 CEST


def test_overnight_over_fall_back_is_9_real_hours() -> None:
    s = store(every_day(p("22:00", "06:00")))
    intervals = open_intervals(s, ams(2026, 10, 24, 12), ams(2026, 10, 25, 12))
    assert intervals == [(ams(2026, 10, 24, 22), ams(2026, 10, 25, 6))]
    opened, closed = intervals[0]
    assert opened.utcoffset() == timedelta(hours=2)
    assert closed.utcoffset() == timedelta(hours=1)
    assert closed.astimezone(UTC) - opened.astimezone(UTC) == timedelta(hours=9)
    # 02:30 happens twice that night; the store is open both times.
    assert is_open(s, ams(2026, 10, 25, 2, 30, fold=0)) is True
    assert is_open(s, ams(2026, 10, 25, 2, 30, fold=1)) is True
    result = next_change(s, ams(2026, 10, 25, 2, 30, fold=1))
    assert result == change(ams(2026, 10, 25, 6), False)
    assert result is not None
    assert result.at.astimezone(UTC) == datetime(2026, 10, 25, 5, tzinfo=UTC)


def test_fall_back_day_shop_hours() -> None:
    s = store(every_day(p("09:00", "21:00")))
    result = next_change(s, ams(2026, 10, 24, 22))
    assert result == change(ams(2026, 10, 25, 9), True)
    assert result is not None
    assert result.at.utcoffset() == timedelta(hours=1)
    assert result.at.astimezone(UTC) == datetime(2026, 10, 25, 8, tzinfo=UTC)


def test_wall_time_in_the_spring_gap_maps_to_the_jump() -> None:
    # 02:30 does not exist on 2026-03-29: opening "at 02:30" means when clocks jump to 03:00.
    s = store({"sunday": [p("02:30", "05:00")]})
    result = next_change(s, ams(2026, 3, 29, 0, 30))
    assert result == NextChange(at=datetime(2026, 3, 29, 1, 0, tzinfo=UTC), open=True)
    assert result is not None
    assert result.at.replace(tzinfo=None) == datetime(2026, 3, 29, 3, 0)
    # A period wholly inside the gap never opens that day.
    s = store({"sunday": [p("02:00", "02:45")]})
    assert open_intervals(s, ams(2026, 3, 29), ams(2026, 3, 30)) == []
    # Closing inside the gap closes at the jump.
    s = store({"saturday": [p("22:00", "02:30")]})
    assert next_change(s, ams(2026, 3, 28, 23)) == NextChange(
        at=datetime(2026, 3, 29, 1, tzinfo=UTC), open=False
    )


def test_ambiguous_wall_time_is_its_first_occurrence() -> None:
    s = store({"saturday": [p("22:00", "02:30")]})
    result = next_change(s, ams(2026, 10, 24, 23))
    assert result is not None
    assert result.open is False
    assert utc(result.at) == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)
    assert result.at.utcoffset() == timedelta(hours=2)
    assert is_open(s, ams(2026, 10, 25, 2, 15, fold=0)) is True
    assert is_open(s, ams(2026, 10, 25, 2, 15, fold=1)) is False


# ----------------------------------------------------------------------------------- intervals and helpers


def test_open_intervals_clip_and_merge() -> None:
    s = store(WEEKDAY_SHOP)
    assert open_intervals(s, ams(2026, 4, 24, 12), ams(2026, 4, 25, 12)) == [
        (ams(2026, 4, 24, 12), ams(2026, 4, 24, 18)),
        (ams(2026, 4, 25, 10), ams(2026, 4, 25, 12)),
    ]
    assert open_intervals(s, ams(2026, 4, 25, 12), ams(2026, 4, 24, 12)) == []
    with pytest.raises(ValueError, match="at most"):
        open_intervals(s, ams(2026, 1, 1), ams(2028, 1, 1))


def test_add_open_time_counts_only_opening_hours() -> None:
    s = store(WEEKDAY_SHOP)
    assert add_open_time(s, ams(2026, 4, 24, 17, 30), timedelta(minutes=60)) == ams(2026, 4, 25, 10, 30)
    assert add_open_time(s, ams(2026, 4, 24, 12), timedelta(minutes=60)) == ams(2026, 4, 24, 13)
    assert add_open_time(store({}), ams(2026, 4, 24, 12), timedelta(minutes=1)) is None
    assert add_open_time(s, ams(2026, 4, 24, 19), timedelta(0)) == ams(2026, 4, 25, 10)
    # Three weeks of opening time: counted across windows and the Koningsdag closure.
    weekly_hours = 5 * 9 + 7
    ready = add_open_time(s, ams(2026, 4, 20, 9), timedelta(hours=3 * weekly_hours))
    assert ready == ams(2026, 5, 11, 18)
    overnight = store(every_day(p("22:00", "06:00")))
    # 22:00 CEST + 8 real hours during the fall-back night is 05:00 CET, not 06:00.
    result = add_open_time(overnight, ams(2026, 10, 24, 22), timedelta(hours=8))
    assert result is not None
    assert utc(result) == datetime(2026, 10, 25, 4, tzinfo=UTC)


def test_naive_datetimes_are_rejected() -> None:
    s = store(WEEKDAY_SHOP)
    with pytest.raises(ValueError, match="timezone-aware"):
        is_open(s, datetime(2026, 4, 20, 12))
    with pytest.raises(ValueError, match="timezone-aware"):
        next_change(s, datetime(2026, 4, 20, 12))


def test_schedule_rejects_bad_zone_and_region() -> None:
    hours = OpeningHours()
    with pytest.raises(ValueError, match="unknown time zone"):
        StoreSchedule("Mars/Olympus", hours, "NL", None)
    with pytest.raises(ValueError, match="unknown subdivision"):
        StoreSchedule("Europe/Berlin", hours, "DE", "DE-XX")
    # Without holiday closures the region isn't used, so it isn't checked either.
    assert StoreSchedule("Europe/Berlin", hours, "DE", "DE-XX", closed_on_public_holidays=False)


# ------------------------------------------------------------------------------------------------ validation


def error_locs(data: dict[str, Any]) -> list[tuple[str | int, ...]]:
    with pytest.raises(ValidationError) as info:
        OpeningHours.model_validate(data)
    return [tuple(error["loc"]) for error in info.value.errors()]


@pytest.mark.parametrize(
    ("opens", "closes", "field", "message"),
    [
        ("9:00", "18:00", "opens", "'HH:MM'"),
        ("25:00", "18:00", "opens", "'HH:MM'"),
        ("12:60", "18:00", "opens", "'HH:MM'"),
        ("24:00", "18:00", "opens", "only allowed as a closing time"),
        ("09:00", "24:01", "closes", "'HH:MM'"),
        ("09:00", "18:0", "closes", "'HH:MM'"),
    ],
)
def test_malformed_times(opens: str, closes: str, field: str, message: str) -> None:
    with pytest.raises(ValidationError) as info:
        OpeningHours.model_validate({"weekly": {"monday": [p(opens, closes)]}})
    errors = info.value.errors()
    assert [e["loc"] for e in errors] == [("weekly", "monday", 0, field)]
    assert message in errors[0]["msg"]


def test_overlap_into_next_day() -> None:
    data = {
        "weekly": {"monday": [p("22:00", "02:00")], "tuesday": [p("09:00", "12:00"), p("01:00", "05:00")]}
    }
    assert error_locs(data) == [("weekly", "tuesday", 1)]


def test_sunday_spills_into_monday() -> None:
    data = {"weekly": {"sunday": [p("22:00", "02:00")], "monday": [p("01:00", "05:00")]}}
    assert error_locs(data) == [("weekly", "monday", 0)]
    assert OpeningHours.model_validate(
        {"weekly": {"sunday": [p("22:00", "02:00")], "monday": [p("02:00", "05:00")]}}
    )


def test_same_day_overlap_and_touching() -> None:
    assert error_locs({"weekly": {"friday": [p("09:00", "13:00"), p("12:00", "18:00")]}}) == [
        ("weekly", "friday", 1)
    ]
    assert OpeningHours.model_validate({"weekly": {"friday": [p("09:00", "12:00"), p("12:00", "18:00")]}})
    assert error_locs({"weekly": {"friday": [p("10:00", "10:00"), p("20:00", "21:00")]}}) == [
        ("weekly", "friday", 1)
    ]


def test_too_many_periods() -> None:
    periods = [p(f"{h:02d}:00", f"{h:02d}:30") for h in range(7)]
    assert error_locs({"weekly": {"monday": periods}}) == [("weekly", "monday")]


def test_special_day_errors() -> None:
    special = [
        {"date": "2026-01-01", "closed": True},
        {"date": "2026-01-02", "closed": True},
        {"date": "2026-01-01", "closed": True},
    ]
    assert error_locs({"weekly": {}, "special": special}) == [("special", 2, "date")]
    closed_with_periods = [{"date": "2026-01-01", "closed": True, "periods": [p("09:00", "10:00")]}]
    assert error_locs({"weekly": {}, "special": closed_with_periods}) == [("special", 0, "periods")]
    with pytest.raises(ValidationError, match='"closed": true'):
        OpeningHours.model_validate({"weekly": {}, "special": [{"date": "2026-01-01"}]})
    overlapping = [{"date": "2026-01-01", "periods": [p("09:00", "12:00"), p("11:00", "13:00")]}]
    assert error_locs({"weekly": {}, "special": overlapping}) == [("special", 0, "periods", 1)]
    long_reason = [{"date": "2026-01-01", "closed": True, "reason": "x" * 201}]
    assert error_locs({"weekly": {}, "special": long_reason}) == [("special", 0, "reason")]
    assert error_locs({"weekly": {"mondy": []}}) == [("weekly", "mondy")]


def test_schema_has_examples() -> None:
    schema = OpeningHours.model_json_schema()
    assert schema["examples"]
    assert schema["$defs"]["Period"]["properties"]["opens"]["description"]


# ------------------------------------------------------------------------------------------------ properties

_times = st.integers(min_value=0, max_value=95).map(lambda q: f"{q // 4:02d}:{q % 4 * 15:02d}")
_period = st.tuples(_times, st.one_of(_times, st.just("24:00"))).map(lambda t: p(*t))
_weekly = st.fixed_dictionaries({}, optional={day: st.lists(_period, max_size=2) for day in WEEKDAYS})
# Instants in 2026 around DST changes and anywhere else.
_instants = st.one_of(
    st.datetimes(min_value=datetime(2026, 3, 26), max_value=datetime(2026, 4, 2)),
    st.datetimes(min_value=datetime(2026, 10, 22), max_value=datetime(2026, 10, 29)),
    st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2026, 12, 31)),
    # the other zones' 2026 changes: Havana Mar 8 / Nov 1, Santiago Apr 5 / Sep 6, Lord Howe Apr 5 / Oct 4
    st.sampled_from(
        [date(2026, 3, 7), date(2026, 4, 4), date(2026, 9, 5), date(2026, 10, 3), date(2026, 10, 31)]
    ).flatmap(
        lambda d: st.datetimes(
            min_value=datetime(d.year, d.month, d.day),
            max_value=datetime(d.year, d.month, d.day) + timedelta(days=2),
        )
    ),
).map(lambda d: d.replace(tzinfo=UTC))


# Havana and Santiago change clocks at midnight, Lord Howe by half an hour.
_zones = st.sampled_from(
    ["Europe/Amsterdam", "Europe/Amsterdam", "America/Havana", "America/Santiago", "Australia/Lord_Howe"]
)


def _valid_store(weekly: dict[str, Any], closed_on_public_holidays: bool, zone: str) -> StoreSchedule:
    try:
        return store(weekly, timezone=zone, closed_on_public_holidays=closed_on_public_holidays)
    except ValidationError:
        assume(False)
        raise


@settings(max_examples=300, deadline=None)
@given(weekly=_weekly, at=_instants, holidays=st.booleans(), zone=_zones)
def test_is_open_flips_exactly_at_next_change(
    weekly: dict[str, Any], at: datetime, holidays: bool, zone: str
) -> None:
    s = _valid_store(weekly, holidays, zone)
    state = is_open(s, at)
    result = next_change(s, at)
    if result is None:
        return
    assert utc(result.at) > at
    assert result.open is not state
    assert is_open(s, result.at) is result.open
    assert is_open(s, utc(result.at) - MICRO) is state
    assert result.at.tzinfo == ZoneInfo(zone)


@settings(max_examples=200, deadline=None)
@given(weekly=_weekly, at=_instants, zone=_zones)
def test_open_intervals_agree_with_is_open_and_next_change(
    weekly: dict[str, Any], at: datetime, zone: str
) -> None:
    s = _valid_store(weekly, True, zone)
    end = at + timedelta(days=9)
    intervals = [(utc(a), utc(b)) for a, b in open_intervals(s, at, end)]
    assert is_open(s, at) is any(a <= at < b for a, b in intervals)
    for (_, b), (a, _) in pairwise(intervals):
        assert b < a  # merged: never touching
    boundaries = sorted({x for a, b in intervals for x in (a, b) if at < x < end})
    result = next_change(s, at)
    if boundaries:
        assert result is not None
        assert utc(result.at) == boundaries[0]
    elif result is not None:
        assert utc(result.at) >= end
    for a, b in intervals:
        assert a < b
        assert is_open(s, a) is True
        assert is_open(s, b - MICRO) is True

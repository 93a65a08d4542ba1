from __future__ import annotations

import re
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stores.hours import WEEKDAYS, OpeningHours, WeeklyHours
from stores.hours.osm import MAX_LENGTH, parse_osm_opening_hours


def week(text: str) -> dict[str, list[str]]:
    hours, _ = parse_osm_opening_hours(text)
    return {day: [f"{p.opens}-{p.closes}" for p in getattr(hours.weekly, day)] for day in WEEKDAYS}


def days(**periods: list[str]) -> dict[str, list[str]]:
    return {day: periods.get(day, []) for day in WEEKDAYS}


def test_24_7() -> None:
    hours, ph = parse_osm_opening_hours("24/7")
    assert ph is None
    assert hours == OpeningHours(
        weekly=WeeklyHours.model_validate({day: [{"opens": "00:00", "closes": "24:00"}] for day in WEEKDAYS})
    )


def test_typical_store_with_ph_off() -> None:
    hours, ph = parse_osm_opening_hours("Mo-Sa 09:00-21:00; Su 12:00-18:00; PH off")
    assert ph is True
    assert hours.special == []
    six = ["09:00-21:00"]
    assert week("Mo-Sa 09:00-21:00; Su 12:00-18:00; PH off") == days(
        monday=six, tuesday=six, wednesday=six, thursday=six, friday=six, saturday=six, sunday=["12:00-18:00"]
    )


def test_lists_ranges_and_split_days() -> None:
    split = ["09:00-12:00", "13:00-18:00"]
    assert week("Mo-We,Fr 09:00-12:00,13:00-18:00") == days(
        monday=split, tuesday=split, wednesday=split, friday=split
    )


def test_wrapping_range_and_overnight() -> None:
    late = ["22:00-02:00"]
    assert week("Fr-Mo 22:00-02:00") == days(friday=late, saturday=late, sunday=late, monday=late)
    assert week("Sa 22:00-26:00") == days(saturday=late)
    assert week("Su 18:00-24:00") == days(sunday=["18:00-24:00"])


def test_later_rules_override_earlier_days() -> None:
    full = ["08:00-20:00"]
    assert week("Mo-Su 08:00-20:00; We off; Sa 10:00-12:00") == days(
        monday=full, tuesday=full, thursday=full, friday=full, saturday=["10:00-12:00"], sunday=full
    )
    assert week("Mo-Fr 09:00-18:00; Fr closed") == days(
        monday=["09:00-18:00"], tuesday=["09:00-18:00"], wednesday=["09:00-18:00"], thursday=["09:00-18:00"]
    )


def test_additional_rule_after_comma_and_lenient_spelling() -> None:
    assert week("Mo-Fr 09:00-18:00, Sa 10:00-16:00") == days(
        monday=["09:00-18:00"],
        tuesday=["09:00-18:00"],
        wednesday=["09:00-18:00"],
        thursday=["09:00-18:00"],
        friday=["09:00-18:00"],
        saturday=["10:00-16:00"],
    )
    assert week("mo 9:00 - 17:30;") == days(monday=["09:00-17:30"])


def test_ph_flag() -> None:
    assert parse_osm_opening_hours("Mo-Fr 09:00-17:00")[1] is None
    assert parse_osm_opening_hours("Mo-Fr 09:00-17:00; PH closed")[1] is True
    assert parse_osm_opening_hours("Mo-Sa 09:00-17:00; Su,PH off") == (
        parse_osm_opening_hours("Mo-Sa 09:00-17:00")[0],
        True,
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("Jan-Mar Mo 10:00-12:00", "month or date selectors at character 1"),
        ("Mo-Fr 09:00-18:00; Dec 25 off", "month or date selectors at character 20"),
        ("Mo 10:00-12:00; week 1-10 Tu 10:00-12:00", "week selectors"),
        ("Mo-Fr 09:00-18:00; SH off", "school holidays (SH) at character 20"),
        ("Sa 09:00-sunset", "sunrise/sunset times at character 10"),
        ('Mo 10:00-12:00 "by appointment"', "comments at character 16"),
        ("PH 10:00-14:00", "opening times on public holidays"),
        ("Mo-Fr,PH 10:00-14:00", "opening times on public holidays"),
        ("Mo-Fr 09:00-18:00 || closed", "fallback rules ('||') at character 19"),
        ("Mo 18:00+", "open-ended times ('+') at character 9"),
        ("Su[1] 10:00-12:00", "nth-weekday selectors"),
        ("2026 Mo 10:00-12:00", "year, date or week numbers"),
        ("Mo-Fr open", "'open'"),
    ],
)
def test_unsupported_syntax(text: str, message: str) -> None:
    with pytest.raises(ValueError, match="unsupported") as info:
        parse_osm_opening_hours(text)
    assert message in str(info.value)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("Mo-Fr", "expected opening times"),
        ("Mo-Fr 09:00", "expected '-'"),
        ("Mo 09:00-", "a closing time"),
        ("Mo-", "after '-'"),
        ("Mo 24:00-02:00", "must be before 24:00"),
        ("Mo 09:70-10:00", "minutes above 59"),
        ("Mo 10:00-35:00", "longer than 24 hours"),
        ("Mo 10:00-12:00 Tu 10:00-12:00", "';' between rules"),
        ("Moo 10:00-12:00", "unexpected word 'Moo'"),
        ("Mo 10:00-12:00 €", "unexpected character"),
        ("Mo 22:00-02:00; Tu 01:00-05:00", "overlaps monday's period 22:00-02:00"),
        ("Mo 09:00-12:00,11:00-13:00", "overlaps"),
        ("Mo " + ",".join(f"{h:02d}:00-{h:02d}:30" for h in range(7)), "at most 6"),
        ("Mo 10:00-12:00;" * 100, "longer than 1000"),
    ],
)
def test_malformed(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)) as info:
        parse_osm_opening_hours(text)
    assert type(info.value) is ValueError  # not a pydantic ValidationError leaking through


_ALPHABET = st.sampled_from(list("MoTuWeThFrSaSuPHoffclsed0123456789:-,;/+|[]\"' \t\n24/7xyz€"))


@settings(max_examples=500, deadline=None)
@given(st.one_of(st.text(max_size=MAX_LENGTH + 5), st.text(alphabet=_ALPHABET, max_size=60)))
def test_arbitrary_text_either_parses_or_raises_value_error(text: str) -> None:
    try:
        hours, ph = parse_osm_opening_hours(text)
    except ValueError:
        return
    assert isinstance(hours, OpeningHours)
    assert ph in (True, None)


_minute = st.integers(min_value=0, max_value=95).map(lambda q: f"{q // 4:02d}:{q % 4 * 15:02d}")


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.sampled_from(WEEKDAYS), st.tuples(_minute, _minute).filter(lambda t: t[0] < t[1])))
def test_generated_rules_round_trip(rules: dict[str, tuple[str, str]]) -> None:
    codes = dict(zip(WEEKDAYS, ["Mo", "Tu", "We", "Th", "Fr", "Sa", "Su"], strict=True))
    text = "; ".join(f"{codes[day]} {opens}-{closes}" for day, (opens, closes) in rules.items()) or "off"
    expected: dict[str, Any] = {day: [{"opens": o, "closes": c}] for day, (o, c) in rules.items()}
    assert parse_osm_opening_hours(text) == (OpeningHours(weekly=WeeklyHours.model_validate(expected)), None)

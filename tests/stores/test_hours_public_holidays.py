from __future__ import annotations

from datetime import date

import pytest

from stores.hours.public_holidays import check_region, holiday_name, holidays_for_year


def test_names_are_in_the_countrys_language() -> None:
    assert holiday_name("NL", None, date(2026, 4, 27)) == "Koningsdag"
    assert holiday_name("NL", None, date(2026, 12, 25)) == "Eerste kerstdag"
    assert holiday_name("DE", None, date(2026, 10, 3)) == "Tag der Deutschen Einheit"
    assert holiday_name("NL", None, date(2026, 4, 28)) is None


def test_regional_holidays() -> None:
    assert holiday_name("DE", "DE-BY", date(2026, 1, 6)) == "Heilige Drei Könige"
    assert holiday_name("DE", "DE-BE", date(2026, 1, 6)) is None
    assert holiday_name("DE", None, date(2026, 1, 6)) is None
    assert holiday_name("AT", "AT-9", date(2026, 1, 6)) == "Heilige Drei Könige"


def test_non_iso_package_subdivisions_fall_back_to_national_holidays() -> None:
    assert holiday_name("NL", "NL-NH", date(2026, 4, 27)) == "Koningsdag"
    assert holiday_name("BE", "BE-VLG", date(2026, 7, 21)) == "Nationale feestdag"
    assert holidays_for_year("BE", "BE-VLG", 2026) == holidays_for_year("BE", None, 2026)


@pytest.mark.parametrize(
    ("country", "subdivision"),
    [
        ("NL", None),
        ("NL", "NL-NH"),
        ("BE", "BE-VLG"),
        ("DE", "DE-BY"),
        ("DE", None),
        ("AT", "AT-9"),
        ("LU", "LU-CA"),
    ],
)
def test_valid_regions(country: str, subdivision: str | None) -> None:
    assert check_region(country, subdivision) is None


@pytest.mark.parametrize(
    ("country", "subdivision", "message"),
    [
        ("XX", None, "unknown country 'XX'"),
        ("NLD", None, "ISO 3166-1 alpha-2"),
        ("nl", None, "ISO 3166-1 alpha-2"),
        ("DE", "DE-XX", "unknown subdivision 'DE-XX' for DE"),
        ("DE", "BY", "ISO 3166-2 code of DE"),
        ("NL", "DE-BY", "ISO 3166-2 code of NL"),
        ("NL", "NL-nh", "ISO 3166-2 code of NL"),
        ("NL", "NL-ABCD", "ISO 3166-2 code of NL"),
    ],
)
def test_invalid_regions(country: str, subdivision: str | None, message: str) -> None:
    problem = check_region(country, subdivision)
    assert problem is not None
    assert message in problem


def test_lookup_with_a_bad_region_raises() -> None:
    with pytest.raises(ValueError, match="unknown subdivision"):
        holiday_name("DE", "DE-XX", date(2026, 1, 6))


def test_calendars_are_cached_per_year() -> None:
    assert holidays_for_year("NL", None, 2026) is holidays_for_year("NL", None, 2026)
    assert date(2027, 4, 27) in holidays_for_year("NL", None, 2027)

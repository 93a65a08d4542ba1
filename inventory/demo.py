"""A demo catalogue for `retail demo`: products, per-store prices and stock for the demo stores.

`demo_products()` returns about 2,400 products of a general-merchandise, household, drugstore and
food-and-drink assortment in the webshop sync contract's JSON shape. Product lines (a brand list, a
name template and up to two variant axes such as size and colour) are expanded combinatorially, so the
tables below stay readable while the catalogue is big enough to make search and paging meaningful.

`demo_store_prices()` and `demo_stock()` add what a shopper compares between stores: per-store price
overrides (dearer city centres, cheaper outlet towns, promotions) and on-hand stock for every
(store, product) pair. Store behaviour follows the store's format (city flagship, station kiosk, night
shop, supermarket-style, town store), known here from its store code; see `STORE_FORMATS`.

Everything is derived from the tables and from CRC-32 hashes of skus and store codes: no random
generator, no clock. Every call returns the same rows, and a stock row depends only on its own
(store, sku) pair, never on which other stores were asked for or in which order.

The caller chooses the moment the stock was counted. `retail demo` should pass a fixed, timezone-aware
moment rather than ``datetime.now()``, so that a re-run produces identical rows, for instance
``DEMO_STOCK_AS_OF = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)`` (a Monday, before any store opens).
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any, Final, Literal

# --------------------------------------------------------------------------------------------------
# Data tables: brands
# --------------------------------------------------------------------------------------------------

HOUSE_BRAND: Final = "Winkelpunt"

#: Brand -> (GS1 country prefix of its barcodes, price factor against the line's base price).
#: Belgian companies get 54, everything else 87 (as if registered by the Benelux importer); the house
#: brand is the cheapest option, premium brands cost a multiple of the line's base price.
BRANDS: Final[dict[str, tuple[str, float]]] = {
    HOUSE_BRAND: ("87", 0.72),
    "999 Games": ("87", 1.0),
    "Ajax": ("87", 1.0),
    "Alpro": ("54", 1.0),
    "Ambre Solaire": ("87", 1.15),
    "Andrélon": ("87", 1.0),
    "Ariel": ("87", 1.2),
    "Atoma": ("54", 1.6),
    "BK": ("87", 1.3),
    "BaByliss": ("87", 1.15),
    "Barbecook": ("54", 1.0),
    "Beddinghouse": ("87", 1.2),
    "Belkin": ("87", 1.5),
    "Anker": ("87", 1.3),
    "Appelsientje": ("87", 1.1),
    "Bavaria": ("87", 0.9),
    "Björn Borg": ("87", 1.6),
    "CoolBest": ("87", 1.2),
    "Bic": ("87", 0.9),
    "Black+Decker": ("87", 0.95),
    "Bolsius": ("87", 1.0),
    "Bosch": ("87", 1.2),
    "Brabantia": ("87", 1.3),
    "Bref": ("87", 1.0),
    "Bruynzeel": ("87", 1.1),
    "Buzzy": ("87", 1.0),
    "Calvé": ("87", 1.0),
    "Campina": ("87", 1.0),
    "Canon": ("87", 1.0),
    "Catrice": ("87", 0.8),
    "Catsan": ("87", 1.2),
    "Chaudfontaine": ("54", 1.0),
    "Coca-Cola": ("87", 1.15),
    "Côte d'Or": ("54", 1.25),
    "Crayola": ("87", 1.1),
    "Croky": ("54", 1.0),
    "Curver": ("87", 1.0),
    "Davitamon": ("87", 1.15),
    "De Ruijter": ("87", 1.1),
    "Douwe Egberts": ("87", 1.0),
    "Dove": ("87", 1.1),
    "Dreft": ("87", 1.1),
    "Droste": ("87", 1.15),
    "Duracell": ("87", 1.3),
    "Duyvis": ("87", 1.1),
    "Dyson": ("87", 2.6),
    "Ecover": ("54", 1.25),
    "Einhell": ("87", 0.9),
    "Elvive": ("87", 1.1),
    "Energizer": ("87", 1.2),
    "Epson": ("87", 1.05),
    "Essence": ("87", 0.55),
    "Fanta": ("87", 1.05),
    "Felix": ("87", 1.0),
    "Finish": ("87", 1.2),
    "Fiskars": ("87", 1.3),
    "Gardena": ("87", 1.25),
    "Gillette": ("87", 1.4),
    "Got2b": ("87", 1.05),
    "Grand'Italia": ("87", 1.0),
    "Greenpan": ("54", 1.45),
    "Grolsch": ("87", 1.0),
    "Hansaplast": ("87", 1.2),
    "Haribo": ("87", 1.1),
    "Hasbro": ("87", 1.0),
    "Head & Shoulders": ("87", 1.2),
    "Heineken": ("87", 1.1),
    "Heinz": ("87", 1.2),
    "Hertog Jan": ("87", 1.05),
    "HP": ("87", 1.1),
    "Inventum": ("87", 0.95),
    "JBL": ("87", 1.35),
    "Jellycat": ("87", 1.8),
    "Jordan": ("87", 0.9),
    "Jumbo": ("87", 1.0),
    "Jupiler": ("54", 0.95),
    "Kärcher": ("87", 1.3),
    "Katja": ("87", 1.0),
    "Kellogg's": ("87", 1.2),
    "Koopmans": ("87", 1.0),
    "L'OR": ("87", 1.15),
    "L'Oréal Paris": ("87", 1.5),
    "Labello": ("87", 1.0),
    "Lassie": ("87", 1.1),
    "Lavazza": ("87", 1.1),
    "Lay's": ("87", 1.05),
    "LEGO": ("87", 1.0),
    "Lenor": ("87", 1.1),
    "LG": ("87", 1.05),
    "Lipton": ("87", 1.0),
    "Lotus": ("54", 1.05),
    "Maybelline": ("87", 1.35),
    "Mentos": ("87", 1.0),
    "Mepal": ("87", 1.0),
    "Moccamaster": ("87", 1.0),
    "Nivea": ("87", 1.05),
    "Oral-B": ("87", 1.2),
    "Pampers": ("87", 1.25),
    "Pedigree": ("87", 1.0),
    "Pepsi": ("87", 0.95),
    "Philips": ("87", 1.25),
    "Pickwick": ("87", 1.1),
    "Playmobil": ("87", 1.0),
    "Pokon": ("87", 1.0),
    "Princess": ("87", 0.9),
    "Prodent": ("87", 0.9),
    "Ravensburger": ("87", 1.2),
    "Remington": ("87", 1.0),
    "Rexona": ("87", 1.0),
    "Rituals": ("87", 2.4),
    "Robijn": ("87", 1.0),
    "Royal Leerdam": ("87", 1.2),
    "Samsung": ("87", 1.15),
    "Senseo": ("87", 1.1),
    "Sensodyne": ("87", 1.6),
    "Sony": ("87", 1.4),
    "Spa": ("54", 1.0),
    "Stabilo": ("87", 1.2),
    "Stimorol": ("87", 1.0),
    "Sun": ("87", 1.0),
    "Sunware": ("87", 1.0),
    "Taft": ("87", 1.0),
    "TCL": ("87", 0.8),
    "Tefal": ("87", 1.1),
    "Tony's Chocolonely": ("87", 1.0),
    "Tristar": ("87", 0.85),
    "Varta": ("87", 1.15),
    "Verkade": ("87", 1.0),
    "Vileda": ("87", 1.2),
    "Walra": ("87", 1.5),
    "WC-Eend": ("87", 1.0),
    "Weber": ("87", 1.8),
    "Whiskas": ("87", 1.0),
    "Wilkinson": ("87", 1.15),
    "Zendium": ("87", 1.1),
    "Zwitsal": ("87", 1.05),
}

# --------------------------------------------------------------------------------------------------
# Data tables: product lines
# --------------------------------------------------------------------------------------------------

#: A variant: its label, or (label, price factor against the line's base price).
Option = str | tuple[str, float]


@dataclass(frozen=True)
class Line:
    """A product line: every brand times every option of `a` times every option of `b` is one product.

    `name` and `description` are templates with the fields {brand}, {a} and {b}. `price` is the base
    price in euros, multiplied by the options' factors (and, when the line has several brands, by the
    brand's factor) and rounded to a shelf price.
    `gtin` is the barcode length: 8 for small items (chewing gum, lip balm), 14 for trade units sold
    as they are (crates and trays), otherwise 13.
    """

    category: str
    name: str
    brands: tuple[str, ...]
    price: float
    description: str
    a: tuple[Option, ...] = ("",)
    b: tuple[Option, ...] = ("",)
    gtin: Literal[8, 13, 14] = 13


W = HOUSE_BRAND
COLOURS: Final = ("zwart", "wit", "grijs", "salie groen", "terracotta")
TEXTILE_COLOURS: Final = ("wit", "antraciet", "oud groen", "zand")

LINES: Final[tuple[Line, ...]] = (
    # ---------------------------------------------------------------------------- Huishouden
    Line(
        "Huishouden > Schoonmaak",
        "{brand} afwasmiddel {a} {b}",
        ("Dreft", "Ecover", W),
        2.49,
        "Afwasmiddel dat vet moeiteloos oplost, ook in koud water. Variant: {a}.",
        ("Original", "Citroen", "Sensitive", "Aloë vera"),
        (("383 ml", 0.8), ("500 ml", 1.0), ("1 liter", 1.8)),
    ),
    Line(
        "Huishouden > Schoonmaak",
        "{brand} vaatwastabletten {a} {b}",
        ("Sun", "Finish", W),
        7.99,
        "Vaatwastabletten die ingedroogde resten verwijderen en glazen laten glanzen.",
        ("All-in-1", "Classic", "Citroen"),
        (("30 stuks", 1.0), ("50 stuks", 1.5), ("80 stuks", 2.2)),
    ),
    Line(
        "Huishouden > Schoonmaak",
        "{brand} allesreiniger {a} {b}",
        ("Ajax", "Ecover", W),
        2.29,
        "Allesreiniger voor vloeren, tegels en keukenbladen. Met een frisse geur van {a}.",
        ("lente", "citroen", "lavendel", "oceaan"),
        (("1 liter", 1.0), ("1,5 liter", 1.35)),
    ),
    Line(
        "Huishouden > Schoonmaak",
        "{brand} toiletblok {a} {b}",
        ("WC-Eend", "Bref", W),
        2.19,
        "Toiletblok dat bij elke spoelbeurt reinigt en een frisse geur verspreidt.",
        ("citroen", "oceaan", "lavendel", "dennen"),
        (("1 stuk", 1.0), ("3 stuks", 2.4)),
    ),
    Line(
        "Huishouden > Schoonmaak",
        "{brand} {a} {b}",
        ("Vileda", W),
        2.99,
        "Handige {a} voor dagelijks gebruik in keuken en badkamer. Wasbaar op 60 graden.",
        ("microvezeldoekjes", "schuursponzen", "vaatdoekjes", "glasdoeken"),
        (("3 stuks", 1.0), ("5 stuks", 1.45), ("10 stuks", 2.4)),
    ),
    Line(
        "Huishouden > Schoonmaak",
        "{brand} vuilniszakken {a} {b}",
        (W,),
        2.49,
        "Stevige vuilniszakken van gerecycled plastic. Past in de meeste afvalemmers van {a}.",
        ("20 liter", "30 liter", "50 liter", "60 liter"),
        (("met trekband 20 stuks", 1.0), ("standaard 30 stuks", 0.9), ("extra sterk 15 stuks", 1.2)),
    ),
    Line(
        "Huishouden > Wasmiddel",
        "{brand} wasmiddel {a} {b}",
        ("Ariel", "Robijn", W),
        6.99,
        "Vloeibaar wasmiddel voor een stralend schone was, al vanaf 30 graden.",
        ("Color", "Wit", "Sensitive"),
        (("20 wasbeurten", 1.0), ("40 wasbeurten", 1.8), ("60 wasbeurten", 2.5)),
    ),
    Line(
        "Huishouden > Wasmiddel",
        "{brand} wasverzachter {a} {b}",
        ("Robijn", "Lenor", W),
        3.49,
        "Wasverzachter die je was zacht maakt en dagenlang fris laat ruiken naar {a}.",
        ("lentefris", "katoenbloesem", "zachte vanille", "oceaan"),
        (("750 ml", 1.0), ("1,5 liter", 1.7)),
    ),
    Line(
        "Huishouden > Opbergen",
        "{brand} opbergbox {a} {b}",
        ("Sunware", "Curver", W),
        6.99,
        "Stapelbare opbergbox met deksel, ideaal voor zolder, kast of garage.",
        (("5 liter", 0.6), ("14 liter", 1.0), ("32 liter", 1.6), ("52 liter", 2.2)),
        ("transparant", "grijs"),
    ),
    Line(
        "Huishouden > Opbergen",
        "{brand} wasmand {a} {b}",
        ("Curver", W),
        9.99,
        "Lichte wasmand met handgrepen, makkelijk mee te nemen naar de wasmachine.",
        (("40 liter", 1.0), ("60 liter", 1.35)),
        ("wit", "antraciet", "grijs", "naturel"),
    ),
    Line(
        "Huishouden > Afvalbakken",
        "Brabantia pedaalemmer {a} {b}",
        ("Brabantia",),
        34.99,
        "Pedaalemmer met zacht sluitend deksel en uitneembare binnenemmer.",
        (("3 liter", 0.6), ("5 liter", 0.75), ("12 liter", 1.0), ("20 liter", 1.3), ("30 liter", 1.6)),
        ("Matt Black", "White", "Brilliant Steel", "Mineral Concrete Grey"),
    ),
    Line(
        "Huishouden > Stofzuigers",
        "{brand} {a}",
        ("Philips", "Bosch", "Dyson", W),
        129.0,
        "Krachtige {a} voor harde vloeren en tapijt. Inclusief kierenzuiger en meubelborstel.",
        (
            ("steelstofzuiger", 1.4),
            ("stofzuiger met zak", 1.0),
            ("zakloze stofzuiger", 1.15),
            ("robotstofzuiger", 2.1),
            ("kruimeldief", 0.35),
        ),
    ),
    Line(
        "Huishouden > Strijken",
        "{brand} stoomstrijkijzer {a}",
        ("Philips", "Tefal", "Princess", W),
        34.99,
        "Stoomstrijkijzer met keramische zoolplaat en antikalksysteem.",
        (("2400 W", 1.0), ("2800 W", 1.35), ("3000 W met stoomstation", 3.2)),
    ),
    # ---------------------------------------------------------------------------- Keuken
    Line(
        "Keuken > Keukenapparatuur",
        "{brand} airfryer {a}",
        ("Philips", "Tefal", "Princess", "Tristar", "Inventum", W),
        84.99,
        "Bereid frietjes en snacks krokant met tot 90% minder vet. Met een inhoud van {a}.",
        (("3,5 liter", 0.75), ("4,1 liter", 0.9), ("6,2 liter", 1.2), ("XXL 7,3 liter", 1.6)),
    ),
    Line(
        "Keuken > Keukenapparatuur",
        "{brand} waterkoker {a} {b}",
        ("Philips", "Bosch", "Princess", W),
        29.99,
        "Snelle waterkoker met kalkfilter en automatische uitschakeling.",
        (("1 liter", 0.85), ("1,7 liter", 1.0)),
        ("RVS", "zwart", "crème"),
    ),
    Line(
        "Keuken > Keukenapparatuur",
        "Philips Senseo Original koffiepadapparaat {a}",
        ("Philips",),
        69.99,
        "Zet in 30 seconden een kop koffie met een heerlijke crèmelaag. Kleur: {a}.",
        ("zwart", "rood", "diepblauw", "wit", "grijs"),
    ),
    Line(
        "Keuken > Keukenapparatuur",
        "Moccamaster KBG Select {a}",
        ("Moccamaster",),
        229.0,
        "Handgemaakte filterkoffiemachine die 1,25 liter koffie zet in zes minuten.",
        ("Matt Black", "Polished Silver", "Red", "Off-White", "Stone Grey", "Forest Green", "Ice Blue"),
    ),
    Line(
        "Keuken > Keukenapparatuur",
        "{brand} filterkoffiezetapparaat {a} {b}",
        ("Philips", "Princess", "Inventum", W),
        29.99,
        "Filterkoffiezetapparaat met warmhoudplaat en druppelstop.",
        (("1,25 liter", 1.0), ("1,5 liter", 1.2)),
        ("zwart", "wit", "RVS"),
    ),
    Line(
        "Keuken > Keukenapparatuur",
        "{brand} {a} {b}",
        ("Philips", "Bosch", "Tefal", "Princess"),
        34.99,
        "Veelzijdige {a} voor soepen, sauzen en smoothies. Onderdelen kunnen in de vaatwasser.",
        (("staafmixer", 1.0), ("blender", 1.6), ("handmixer", 0.9), ("foodprocessor", 2.8)),
        ("wit", "zwart"),
    ),
    Line(
        "Keuken > Keukenapparatuur",
        "{brand} {a}",
        ("Princess", "Tristar", "Inventum", W),
        29.99,
        "{a} met antiaanbaklaag en indicatielampje. Makkelijk schoon te maken.",
        (
            ("tosti-ijzer", 0.9),
            ("contactgrill", 1.3),
            ("wafelijzer", 1.1),
            ("broodrooster", 1.0),
            ("gourmetstel 8 personen", 1.4),
            ("fonduestel", 1.2),
        ),
    ),
    Line(
        "Keuken > Keukenapparatuur",
        "{brand} magnetron {a} {b}",
        ("Samsung", "Inventum", "Tristar"),
        99.0,
        "Magnetron met ontdooifunctie en eenvoudige draaiknoppen.",
        (("20 liter", 0.8), ("23 liter", 1.0), ("28 liter combi", 1.9)),
        ("zwart", "RVS"),
    ),
    Line(
        "Keuken > Pannen",
        "{brand} {b} koekenpan {a}",
        ("Tefal", "BK", "Greenpan", W),
        24.99,
        "Koekenpan met duurzame antiaanbaklaag, geschikt voor alle warmtebronnen inclusief inductie.",
        (("20 cm", 0.8), ("24 cm", 1.0), ("28 cm", 1.25)),
        ("keramische", "antiaanbak"),
    ),
    Line(
        "Keuken > Pannen",
        "{brand} pannenset {a}",
        ("Tefal", "BK", "Greenpan", W),
        79.99,
        "Complete pannenset voor alle warmtebronnen, ook inductie. Vaatwasserbestendig.",
        (("3-delig", 1.0), ("5-delig", 1.6), ("8-delig", 2.3)),
    ),
    Line(
        "Keuken > Pannen",
        "{brand} kookpan {a}",
        ("BK", "Tefal", W),
        22.99,
        "RVS kookpan met glazen deksel en dikke sandwichbodem.",
        (("16 cm", 0.8), ("18 cm", 0.9), ("20 cm", 1.0), ("24 cm", 1.25)),
    ),
    Line(
        "Keuken > Servies & glazen",
        "Winkelpunt {a} {b}",
        (W,),
        5.49,
        "{a} van stevig aardewerk, geschikt voor vaatwasser en magnetron.",
        (
            ("ontbijtbord 21 cm", 0.9),
            ("dinerbord 27 cm", 1.1),
            ("diep bord 21 cm", 1.0),
            ("mok 350 ml", 0.8),
            ("schaaltje 15 cm", 0.7),
        ),
        ("wit", "steengoed grijs", "terracotta", "donkerblauw"),
    ),
    Line(
        "Keuken > Servies & glazen",
        "{brand} {a} {b}",
        ("Royal Leerdam", W),
        12.99,
        "Set {a} van helder glas, vaatwasserbestendig.",
        ("waterglazen", "wijnglazen", "bierglazen", "longdrinkglazen", "cocktailglazen"),
        (("4 stuks", 1.0), ("6 stuks", 1.4)),
    ),
    Line(
        "Keuken > Lunch & onderweg",
        "Mepal {a} {b}",
        ("Mepal",),
        14.99,
        "Lekvrije {a} die je overal mee naartoe neemt. Vaatwasserbestendig en BPA-vrij.",
        (
            ("lunchbox Campus", 0.8),
            ("drinkfles Ellipse 500 ml", 0.9),
            ("isoleerfles Ellipse 500 ml", 1.6),
            ("bentobox Take a Break", 1.1),
        ),
        ("Nordic black", "Nordic denim", "Nordic sage", "Nordic pink"),
    ),
    Line(
        "Keuken > Keukengerei",
        "{brand} {a}",
        ("Brabantia", W),
        6.99,
        "Handige {a} voor elke keuken. Stevig en makkelijk schoon te maken.",
        (
            ("snijplank bamboe", 1.3),
            ("garde RVS", 0.8),
            ("pannenlikker", 0.6),
            ("soeplepel", 0.8),
            ("spatel", 0.7),
            ("kaasschaaf", 1.0),
            ("dunschiller", 0.7),
            ("rasp", 1.2),
            ("vergiet 24 cm", 1.3),
            ("keukenweegschaal digitaal", 2.5),
            ("kookwekker", 1.1),
            ("keukenschaar", 1.4),
        ),
    ),
    Line(
        "Keuken > Vershouden",
        "{brand} vershouddoos {a} {b}",
        ("Curver", W),
        3.49,
        "Luchtdichte vershouddoos om restjes en lunch vers te bewaren. Geschikt voor de vriezer.",
        (("350 ml", 0.8), ("800 ml", 1.0), ("1,5 liter", 1.4), ("set van 3", 2.4)),
        ("rond", "rechthoekig"),
    ),
    # ---------------------------------------------------------------------------- Eten & drinken
    Line(
        "Eten & drinken > Koffie",
        "Douwe Egberts {a} {b}",
        ("Douwe Egberts",),
        7.49,
        "Volle, evenwichtige koffie van zorgvuldig gebrande bonen.",
        ("Aroma Rood filterkoffie", "Aroma Rood koffiebonen", "Excellent koffiebonen", "Décafé filterkoffie"),
        (("250 g", 0.55), ("500 g", 1.0), ("1 kg", 1.85)),
    ),
    Line(
        "Eten & drinken > Koffie",
        "{brand} koffiepads {a} {b}",
        ("Senseo", W),
        3.99,
        "Koffiepads voor een volle kop koffie met crèmelaag. Smaak: {a}.",
        ("Classic", "Strong", "Mild", "Dark Roast", "Décafé"),
        (("36 stuks", 1.0), ("54 stuks", 1.45)),
    ),
    Line(
        "Eten & drinken > Koffie",
        "{brand} koffiecups {a} {b}",
        ("L'OR", "Lavazza", W),
        3.29,
        "Aluminium koffiecups, geschikt voor Nespresso-machines. Intense smaak met een rijke crema.",
        ("Espresso Forza", "Lungo Profondo", "Ristretto", "Espresso Decaffeinato", "Espresso Onyx"),
        (("10 stuks", 1.0), ("20 stuks", 1.9)),
    ),
    Line(
        "Eten & drinken > Thee",
        "{brand} thee {a} {b}",
        ("Pickwick", "Lipton", W),
        2.09,
        "Thee in handige zakjes, lekker op elk moment van de dag.",
        ("Engelse melange", "rooibos", "groene thee", "bosvruchten", "Earl Grey", "kamille"),
        (("20 zakjes", 1.0), ("40 zakjes", 1.8)),
    ),
    Line(
        "Eten & drinken > Snoep & chocolade",
        "Tony's Chocolonely chocoladereep {a} {b}",
        ("Tony's Chocolonely",),
        3.79,
        "Fairtrade chocolade in ongelijke stukken. Smaak: {a}.",
        (
            "melk",
            "puur",
            "melk karamel zeezout",
            "wit framboos knettersuiker",
            "melk hazelnoot",
            "puur amandel zeezout",
            "melk nougat",
        ),
        (("180 g", 1.0),),
    ),
    Line(
        "Eten & drinken > Snoep & chocolade",
        "{brand} chocoladereep {a} {b}",
        ("Verkade", "Côte d'Or", W),
        1.89,
        "Romige chocoladereep om te delen, of niet. Smaak: {a}.",
        ("melk", "puur 70%", "hazelnoot", "karamel zeezout", "wit", "melk-noot"),
        (("100 g", 1.0), ("200 g", 1.8)),
    ),
    Line(
        "Eten & drinken > Snoep & chocolade",
        "{brand} {a} {b}",
        ("Haribo", "Katja", W),
        1.99,
        "Heerlijk snoep om uit te delen. Bevat geen kunstmatige kleurstoffen.",
        ("winegums", "zoete drop", "zoute drop", "zure matten", "spekjes", "dropmix"),
        (("250 g", 1.0), ("500 g", 1.7)),
    ),
    Line(
        "Eten & drinken > Snoep & chocolade",
        "{brand} kauwgom {a}",
        ("Mentos", "Stimorol"),
        0.99,
        "Suikervrije kauwgom voor een frisse adem.",
        ("pepermunt", "spearmint", "fruit", "eucalyptus", "wild cherry"),
        gtin=8,
    ),
    Line(
        "Eten & drinken > Koek",
        "{brand} {a} {b}",
        ("Verkade", "Lotus", W),
        1.79,
        "Knapperige koekjes, lekker bij de koffie of thee.",
        ("stroopwafels", "speculaas", "roomboterkoekjes", "kletskoppen", "bastognekoeken"),
        (("1 pak", 1.0), ("voordeelpak", 1.7)),
    ),
    Line(
        "Eten & drinken > Frisdrank",
        "{brand} {a} {b}",
        ("Coca-Cola", "Pepsi"),
        2.29,
        "Verfrissende cola, het lekkerst ijskoud geserveerd.",
        ("Regular", "Zero Sugar", "Light"),
        (("blikje 33 cl", 0.4), ("fles 1,5 liter", 1.0), ("6 x 33 cl", 2.0)),
    ),
    Line(
        "Eten & drinken > Frisdrank",
        "Coca-Cola {a} tray 24 x 33 cl",
        ("Coca-Cola",),
        17.99,
        "Voordelige tray met 24 blikjes. Let op: exclusief statiegeld.",
        ("Original Taste", "Zero Sugar", "Light", "Cherry Zero"),
        gtin=14,
    ),
    Line(
        "Eten & drinken > Frisdrank",
        "Fanta {a} {b}",
        ("Fanta",),
        2.19,
        "Bruisende frisdrank met een fruitige smaak van {a}.",
        ("Orange", "Cassis", "Lemon", "Exotic"),
        (("blikje 33 cl", 0.4), ("fles 1,5 liter", 1.0)),
    ),
    Line(
        "Eten & drinken > Water",
        "{brand} {a} {b}",
        ("Spa", "Chaudfontaine", W),
        0.89,
        "Natuurlijk mineraalwater uit de Belgische Ardennen.",
        ("mineraalwater plat", "mineraalwater bruisend", "licht bruisend"),
        (("50 cl", 1.0), ("1,5 liter", 1.3), ("6 x 1,5 liter", 6.5)),
    ),
    Line(
        "Eten & drinken > Water",
        "Spa {a} tray 24 x 50 cl",
        ("Spa",),
        14.49,
        "Tray met 24 flesjes van 50 cl, ideaal voor onderweg. Exclusief statiegeld.",
        ("Reine", "Intense", "Finesse"),
        gtin=14,
    ),
    Line(
        "Eten & drinken > Sappen",
        "{brand} {a} {b}",
        ("Appelsientje", "CoolBest", W),
        1.99,
        "Vruchtensap zonder toegevoegde suikers, gemaakt van rijpe vruchten.",
        ("sinaasappelsap", "appelsap", "multivruchtensap", "appel-perzik"),
        (("1 liter", 1.0), ("1,5 liter", 1.4)),
    ),
    Line(
        "Eten & drinken > Bier",
        "{brand} pils {a}",
        ("Heineken", "Hertog Jan", "Grolsch", "Jupiler", "Bavaria"),
        7.49,
        "Helder, fris pilsener met een volle moutsmaak. Alcoholpercentage 5%. Niet verkocht onder de 18.",
        (("6 x 33 cl", 1.0), ("blik 50 cl", 0.25)),
    ),
    Line(
        "Eten & drinken > Bier",
        "{brand} pils krat 24 x 30 cl",
        ("Heineken", "Hertog Jan", "Grolsch", "Jupiler", "Bavaria"),
        17.99,
        "Krat met 24 flesjes pils. Prijs exclusief statiegeld. Niet verkocht onder de 18.",
        gtin=14,
    ),
    Line(
        "Eten & drinken > Ontbijt & beleg",
        "{brand} {a} {b}",
        ("De Ruijter", W),
        2.49,
        "Echt Hollands broodbeleg, lekker op een beschuitje of boterham.",
        ("hagelslag melk", "hagelslag puur", "chocoladevlokken melk", "vruchtenhagel", "anijshagel"),
        (("390 g", 1.0), ("600 g", 1.45)),
    ),
    Line(
        "Eten & drinken > Ontbijt & beleg",
        "{brand} {a} {b}",
        ("Calvé", W),
        2.69,
        "Romig en vol van smaak, voor op brood of in de keuken.",
        ("pindakaas naturel", "pindakaas met stukjes pinda", "pindakaas zonder zout"),
        (("350 g", 1.0), ("650 g", 1.6)),
    ),
    Line(
        "Eten & drinken > Ontbijt & beleg",
        "{brand} {a} {b}",
        ("Kellogg's", W),
        2.99,
        "Een goed begin van de dag, lekker met melk of yoghurt.",
        ("cornflakes", "muesli krokant", "havermout", "granola noten", "chocopops"),
        (("375 g", 1.0), ("750 g", 1.7)),
    ),
    Line(
        "Eten & drinken > Houdbare zuivel",
        "Alpro {a} {b}",
        ("Alpro",),
        2.29,
        "Plantaardig alternatief voor melk, verrijkt met calcium en vitamines.",
        ("sojadrink naturel", "sojadrink vanille", "haverdrink", "amandeldrink ongezoet", "kokosdrink"),
        (("1 liter", 1.0), ("6 x 1 liter", 5.5)),
    ),
    Line(
        "Eten & drinken > Houdbare zuivel",
        "{brand} {a} {b}",
        ("Campina", W),
        1.29,
        "Lang houdbare melk, ongekoeld te bewaren tot de verpakking open is.",
        ("halfvolle melk houdbaar", "volle melk houdbaar", "magere melk houdbaar", "koffiemelk"),
        (("1 liter", 1.0), ("6 x 1 liter", 5.6)),
    ),
    Line(
        "Eten & drinken > Pasta & rijst",
        "{brand} {a} {b}",
        ("Grand'Italia", W),
        1.29,
        "Italiaanse pasta van durumtarwe, in 9 tot 11 minuten beetgaar.",
        ("spaghetti", "penne", "fusilli", "macaroni", "lasagnebladen"),
        (("500 g", 1.0), ("1 kg", 1.8)),
    ),
    Line(
        "Eten & drinken > Pasta & rijst",
        "{brand} {a} {b}",
        ("Lassie", W),
        1.99,
        "Rijst die altijd los en korrelig kookt.",
        ("zilvervliesrijst", "basmatirijst", "pandanrijst", "risottorijst", "toverrijst"),
        (("400 g", 1.0), ("1 kg", 2.1)),
    ),
    Line(
        "Eten & drinken > Sauzen",
        "{brand} {a} {b}",
        ("Heinz", "Calvé", W),
        2.49,
        "Klassieke saus voor bij de friet, de burger of de barbecue.",
        ("tomatenketchup", "mayonaise", "fritessaus", "currysaus", "knoflooksaus", "satésaus"),
        (("500 ml", 1.0), ("750 ml", 1.3)),
    ),
    Line(
        "Eten & drinken > Chips & noten",
        "{brand} chips {a} {b}",
        ("Lay's", "Croky", W),
        1.99,
        "Knapperige aardappelchips, lekker bij de borrel. Smaak: {a}.",
        ("naturel", "paprika", "bolognese", "cheese onion", "zout & peper"),
        (("40 g", 0.45), ("225 g", 1.0)),
    ),
    Line(
        "Eten & drinken > Chips & noten",
        "{brand} {a} {b}",
        ("Duyvis", W),
        2.49,
        "Geroosterde noten, perfect voor bij de borrel.",
        ("borrelnootjes", "cashewnoten", "pinda's gezouten", "studentenhaver", "gemengde noten", "amandelen"),
        (("200 g", 1.0), ("400 g", 1.8)),
    ),
    # ---------------------------------------------------------------------------- Drogisterij
    Line(
        "Drogisterij > Haarverzorging",
        "{brand} shampoo {a} {b}",
        ("Andrélon", "Elvive", "Head & Shoulders", W),
        3.49,
        "Milde shampoo die je haar reinigt en verzorgt. Variant: {a}.",
        ("Intense Repair", "Kleur & Glans", "Anti-roos", "Volume", "Sensitive"),
        (("250 ml", 1.0), ("500 ml", 1.7)),
    ),
    Line(
        "Drogisterij > Haarverzorging",
        "{brand} conditioner {a} 200 ml",
        ("Andrélon", "Elvive", "Dove", W),
        3.79,
        "Conditioner die je haar soepel en makkelijk kambaar maakt.",
        ("Intense Repair", "Kleur & Glans", "Volume", "Zilver"),
    ),
    Line(
        "Drogisterij > Haarverzorging",
        "{brand} {a}",
        ("Andrélon", "Taft", "Got2b", W),
        3.99,
        "Styling voor de hele dag, zonder plakkerig gevoel.",
        (
            "haarlak extra sterk 250 ml",
            "gel ultra strong 150 ml",
            "mousse volume 200 ml",
            "wax matte 75 ml",
            "droogshampoo 200 ml",
        ),
    ),
    Line(
        "Drogisterij > Lichaamsverzorging",
        "{brand} douchegel {a} {b}",
        ("Nivea", "Dove", "Rituals", W),
        2.99,
        "Verzorgende douchegel die de huid niet uitdroogt. Geur: {a}.",
        ("Creme Soft", "Fresh", "Men Sport", "Kokos", "Sensitive"),
        (("250 ml", 1.0), ("500 ml", 1.6)),
    ),
    Line(
        "Drogisterij > Lichaamsverzorging",
        "{brand} deodorant {a} {b}",
        ("Nivea", "Dove", "Rexona", W),
        2.99,
        "Deodorant met 48 uur bescherming tegen zweet en geurtjes.",
        ("Fresh", "Invisible Black & White", "Sensitive", "Men Active"),
        (("spray 150 ml", 1.0), ("roller 50 ml", 0.9)),
    ),
    Line(
        "Drogisterij > Lichaamsverzorging",
        "Nivea {a}",
        ("Nivea",),
        1.0,
        "Vertrouwde verzorging voor gezicht, handen en lichaam.",
        (
            ("Creme blik 30 ml", 1.99),
            ("Creme blik 150 ml", 4.49),
            ("Creme blik 250 ml", 6.49),
            ("Soft 100 ml", 3.49),
            ("Body Milk 400 ml", 6.99),
            ("Q10 dagcrème 50 ml", 14.99),
            ("Q10 nachtcrème 50 ml", 14.99),
            ("Men Creme 150 ml", 5.49),
        ),
    ),
    Line(
        "Drogisterij > Lichaamsverzorging",
        "Labello lippenbalsem {a}",
        ("Labello",),
        2.49,
        "Lippenbalsem die droge lippen de hele dag verzorgt.",
        ("Original Care", "Hydro Care", "Cherry Shine", "Strawberry Shine", "Med Repair", "Sun SPF 30"),
        gtin=8,
    ),
    Line(
        "Drogisterij > Zonnebrand",
        "{brand} zonnebrand {a} {b}",
        ("Nivea", "Ambre Solaire", W),
        9.99,
        "Waterbestendige zonnebescherming tegen UVA- en UVB-straling. Bescherming: {a}.",
        ("SPF 15", "SPF 30", "SPF 50", "Kids SPF 50+"),
        (("spray 200 ml", 1.0), ("melk 200 ml", 0.9)),
    ),
    Line(
        "Drogisterij > Mondverzorging",
        "{brand} tandpasta {a} {b}",
        ("Prodent", "Zendium", "Sensodyne", W),
        2.49,
        "Tandpasta met fluoride die beschermt tegen gaatjes. Variant: {a}.",
        ("Fresh Mint", "Whitening", "Gevoelige tanden", "Kids 0-5 jaar"),
        (("75 ml", 1.0), ("2 x 75 ml", 1.8)),
    ),
    Line(
        "Drogisterij > Mondverzorging",
        "{brand} tandenborstel {a} {b}",
        ("Oral-B", "Jordan", W),
        2.49,
        "Handtandenborstel met afgeronde haartjes die tandvlees sparen.",
        ("zacht", "medium", "kids"),
        (("1 stuk", 1.0), ("2 stuks", 1.7), ("4 stuks", 2.9)),
    ),
    Line(
        "Drogisterij > Mondverzorging",
        "Oral-B elektrische tandenborstel {a}",
        ("Oral-B",),
        1.0,
        "Elektrische tandenborstel met ronde poetskop en drukcontrole.",
        (("Vitality Pro", 34.99), ("Pro 3 3000", 69.99), ("iO 5", 149.0), ("iO 9", 299.0)),
    ),
    Line(
        "Drogisterij > Gezondheid",
        "{brand} {a} {b}",
        ("Davitamon", W),
        5.99,
        "Voedingssupplement als aanvulling op een gevarieerd eetpatroon.",
        (
            "vitamine C 500 mg",
            "vitamine D3 25 mcg",
            "multivitamine volwassenen",
            "magnesium 250 mg",
            "ijzer",
            "vitamine B12",
        ),
        (("60 tabletten", 1.0), ("120 tabletten", 1.7)),
    ),
    Line(
        "Drogisterij > Gezondheid",
        "Winkelpunt {a}",
        (W,),
        1.0,
        "Zelfzorggeneesmiddel. Lees voor gebruik de bijsluiter.",
        (
            ("paracetamol 500 mg 20 tabletten", 1.29),
            ("paracetamol 500 mg 50 tabletten", 2.49),
            ("ibuprofen 200 mg 20 tabletten", 1.99),
            ("ibuprofen 400 mg 20 tabletten", 2.79),
            ("keelpastilles honing-citroen", 3.49),
            ("neusspray xylometazoline 0,1%", 3.99),
            ("hoestsiroop 150 ml", 5.49),
        ),
    ),
    Line(
        "Drogisterij > Gezondheid",
        "{brand} pleisters {a} {b}",
        ("Hansaplast", W),
        2.99,
        "Pleisters die goed blijven zitten en de wond beschermen.",
        ("Universal", "Sensitive", "Waterproof", "Kids", "blarenpleisters"),
        (("20 stuks", 1.0), ("40 stuks", 1.7)),
    ),
    Line(
        "Drogisterij > Baby",
        "{brand} luiers {a} {b}",
        ("Pampers", W),
        9.99,
        "Luiers die tot 12 uur droog houden, met een zachte elastische band.",
        (
            "maat 1 (2-5 kg)",
            "maat 2 (4-8 kg)",
            "maat 3 (6-10 kg)",
            "maat 4 (9-14 kg)",
            "maat 5 (11-16 kg)",
            "maat 6 (13-18 kg)",
        ),
        (("voordeelpak", 1.0), ("maandbox", 3.2)),
    ),
    Line(
        "Drogisterij > Baby",
        "{brand} billendoekjes {a} {b}",
        ("Pampers", "Zwitsal", W),
        1.99,
        "Zachte billendoekjes voor de gevoelige babyhuid, zonder parfum.",
        ("Sensitive", "Fresh Clean", "Aqua"),
        (("52 stuks", 1.0), ("3 x 52 stuks", 2.6)),
    ),
    Line(
        "Drogisterij > Make-up",
        "{brand} {a} {b}",
        ("Maybelline", "L'Oréal Paris", "Catrice", "Essence"),
        6.99,
        "Langhoudende {a} met een intense kleur.",
        ("lippenstift", "nagellak"),
        ("101 Nude", "220 Rose", "420 Rood", "510 Bordeaux"),
    ),
    Line(
        "Drogisterij > Make-up",
        "{brand} {a}",
        ("Maybelline", "L'Oréal Paris", "Catrice", "Essence"),
        8.99,
        "Make-up die de hele dag mooi blijft.",
        (
            "mascara Volume zwart",
            "mascara Lengte zwart",
            ("foundation 010 Ivory", 1.4),
            ("foundation 030 Sand", 1.4),
            ("foundation 050 Beige", 1.4),
            ("foundation 070 Caramel", 1.4),
        ),
    ),
    Line(
        "Drogisterij > Scheren",
        "{brand} {a}",
        ("Gillette", "Wilkinson", W),
        4.99,
        "Voor een gladde, comfortabele scheerbeurt.",
        (
            ("wegwerpscheermesjes 5 stuks", 1.0),
            ("scheergel sensitive 200 ml", 0.8),
            ("scheerschuim 250 ml", 0.6),
            ("scheermesjes navulling 4 stuks", 2.4),
            ("scheermesjes navulling 8 stuks", 4.2),
        ),
    ),
    # ---------------------------------------------------------------------------- Elektronica
    Line(
        "Elektronica > Accessoires",
        "{brand} {a} {b}",
        ("Anker", W),
        7.99,
        "Stevige {a} met versterkte connectoren. Lengte: {b}.",
        (
            "USB-C naar USB-C kabel",
            "USB-C naar Lightning kabel",
            "USB-A naar USB-C kabel",
            "micro-USB kabel",
            ("HDMI-kabel 4K", 1.3),
        ),
        (("1 meter", 1.0), ("2 meter", 1.3)),
    ),
    Line(
        "Elektronica > Accessoires",
        "{brand} {a} {b}",
        ("Belkin", "Anker", W),
        14.99,
        "Veilig en snel opladen van telefoon, tablet of oordopjes.",
        (
            ("USB-C snellader 20 W", 1.0),
            ("USB-C snellader 45 W", 1.8),
            ("autolader 2 poorten", 0.9),
            ("draadloze oplader 15 W", 1.6),
            ("powerbank 10.000 mAh", 1.7),
            ("powerbank 20.000 mAh", 2.6),
        ),
        ("zwart", "wit"),
    ),
    Line(
        "Elektronica > Accessoires",
        "{brand} batterijen {a} {b}",
        ("Duracell", "Varta", "Energizer", W),
        4.99,
        "Langdurige alkaline batterijen voor afstandsbediening, speelgoed en meer.",
        ("AA", "AAA", ("C", 1.6), ("9V", 1.5), ("CR2032 knoopcel", 1.2)),
        (("4 stuks", 1.0), ("8 stuks", 1.7)),
    ),
    Line(
        "Elektronica > Audio",
        "{brand} {a} {b}",
        ("JBL", "Sony", "Philips"),
        39.99,
        "{a} met heldere klank en lange batterijduur.",
        (
            ("draadloze oordopjes", 1.0),
            ("on-ear koptelefoon bluetooth", 1.2),
            ("over-ear koptelefoon noise cancelling", 3.2),
            ("sportoordopjes", 1.1),
        ),
        ("zwart", "wit"),
    ),
    Line(
        "Elektronica > Audio",
        "JBL {a} bluetooth speaker {b}",
        ("JBL",),
        1.0,
        "Waterdichte draagbare speaker met krachtig geluid.",
        (("Go 3", 34.99), ("Go 4", 49.99), ("Clip 5", 69.99), ("Flip 6", 119.0), ("Charge 5", 169.0)),
        ("zwart", "blauw", "rood", "camouflage"),
    ),
    Line(
        "Elektronica > Televisies",
        "{brand} {a} 4K Smart TV",
        ("Samsung", "LG", "Philips", "TCL"),
        349.0,
        "Smart TV met 4K Ultra HD-beeld, HDR en ingebouwde streaming-apps.",
        (("43 inch", 1.0), ("50 inch", 1.3), ("55 inch", 1.55), ("65 inch", 2.1)),
    ),
    Line(
        "Elektronica > Persoonlijke verzorging",
        "{brand} {a}",
        ("Philips", "Remington", "BaByliss", W),
        29.99,
        "{a} met meerdere standen voor een professioneel resultaat thuis.",
        (
            ("föhn", 1.0),
            ("stijltang", 1.2),
            ("krultang", 1.1),
            ("tondeuse", 1.3),
            ("scheerapparaat", 2.5),
            ("ladyshave", 1.4),
        ),
    ),
    Line(
        "Wonen > Verlichting",
        "{brand} LED-lamp {a} {b}",
        ("Philips", W),
        3.99,
        "Zuinige LED-lamp die tot 15 jaar meegaat.",
        ("E27 60 W", "E27 40 W", "E14 kaars 25 W", "GU10 spot 50 W"),
        ("warm wit", "koel wit", ("dimbaar warm wit", 1.6)),
    ),
    Line(
        "Wonen > Verlichting",
        "Philips Hue {a}",
        ("Philips",),
        1.0,
        "Slimme verlichting die je bedient met de app of met je stem.",
        (
            ("White Ambiance E27 starterset", 99.99),
            ("White and Color Ambiance E27", 49.99),
            ("White and Color Ambiance GU10", 44.99),
            ("Bridge", 59.99),
            ("Go draagbare lamp", 84.99),
            ("Lightstrip Plus 2 meter", 79.99),
        ),
    ),
    Line(
        "Wonen > Verlichting",
        "Winkelpunt {a} {b}",
        (W,),
        27.99,
        "{a} in een tijdloos ontwerp. Lamp niet inbegrepen.",
        (
            ("tafellamp", 1.0),
            ("vloerlamp", 2.0),
            ("hanglamp", 1.4),
            ("bureaulamp LED", 1.1),
            ("wandlamp", 0.9),
        ),
        ("zwart", "messing", "rotan"),
    ),
    # ---------------------------------------------------------------------------- Wonen
    Line(
        "Wonen > Textiel",
        "{brand} hoeslaken {b} {a}",
        ("Beddinghouse", W),
        14.99,
        "Hoeslaken met rondom elastiek, past op matrassen tot 25 cm dik.",
        (("90 x 200 cm", 1.0), ("140 x 200 cm", 1.3), ("160 x 200 cm", 1.4), ("180 x 200 cm", 1.6)),
        ("katoen wit", "katoen antraciet", "jersey lichtgrijs"),
    ),
    Line(
        "Wonen > Textiel",
        "{brand} dekbedovertrek {b} {a}",
        ("Beddinghouse", W),
        29.99,
        "Zacht dekbedovertrek inclusief kussenslopen. Wasbaar op 40 graden.",
        (("140 x 200/220 cm", 1.0), ("200 x 200/220 cm", 1.4), ("240 x 200/220 cm", 1.7)),
        ("Stripe grijs", "Botanical groen", "Uni wit", "Bloom roze"),
    ),
    Line(
        "Wonen > Textiel",
        "{brand} {a} {b}",
        ("Walra", W),
        7.99,
        "Zachte, goed absorberende badstof van katoen. Kleur: {b}.",
        (
            ("handdoek 50 x 100 cm", 1.0),
            ("badlaken 70 x 140 cm", 1.8),
            ("gastendoekje 30 x 50 cm", 0.5),
            ("washandje 16 x 21 cm", 0.35),
        ),
        TEXTILE_COLOURS,
    ),
    Line(
        "Wonen > Textiel",
        "Winkelpunt {a} {b}",
        (W,),
        14.99,
        "Sfeervolle {a} die elk interieur direct gezelliger maakt.",
        (
            ("sierkussen 45 x 45 cm", 0.7),
            ("plaid 130 x 170 cm", 1.2),
            ("vloerkleed 160 x 230 cm", 4.0),
            ("gordijn 140 x 250 cm", 1.8),
        ),
        ("teddy crème", "velvet groen", "velvet oker", "katoen naturel", "bouclé wit"),
    ),
    Line(
        "Wonen > Decoratie",
        "{brand} {a} {b}",
        ("Bolsius", W),
        2.99,
        "Kaarsen met een lange brandduur en een rustige vlam.",
        (
            ("theelichtjes 30 stuks", 1.0),
            ("theelichtjes 100 stuks", 2.3),
            ("dinerkaarsen 4 stuks", 1.2),
            ("stompkaars 7 x 10 cm", 1.1),
            ("geurkaars in glas", 2.0),
        ),
        ("wit", "ivoor"),
    ),
    Line(
        "Wonen > Decoratie",
        "Winkelpunt fotolijst {a} {b}",
        (W,),
        3.99,
        "Fotolijst om neer te zetten of op te hangen, met glazen plaat.",
        (
            ("10 x 15 cm", 1.0),
            ("13 x 18 cm", 1.2),
            ("20 x 30 cm", 1.8),
            ("30 x 40 cm", 2.6),
            ("40 x 50 cm", 3.4),
        ),
        ("zwart", "wit", "hout", "goud"),
    ),
    Line(
        "Wonen > Decoratie",
        "Winkelpunt {a} {b}",
        (W,),
        4.99,
        "Mooie {a} voor binnen, met een matte afwerking.",
        (
            ("bloempot Ø 12 cm", 0.8),
            ("bloempot Ø 17 cm", 1.2),
            ("bloempot Ø 24 cm", 2.0),
            ("vaas glas 25 cm", 1.6),
            ("vaas keramiek 30 cm", 2.6),
        ),
        ("terracotta", "wit", "zwart", "salie groen"),
    ),
    # ---------------------------------------------------------------------------- Speelgoed
    Line(
        "Speelgoed > Bouwen",
        "LEGO {a}",
        ("LEGO",),
        1.0,
        "Bouwset met duidelijke bouwinstructies. Stimuleert creativiteit en fijne motoriek.",
        (
            ("City politiebureau", 69.99),
            ("City brandweerkazerne", 89.99),
            ("City vrachtwagen", 24.99),
            ("Friends Heartlake City ziekenhuis", 79.99),
            ("Friends huis aan het strand", 49.99),
            ("Technic raceauto", 44.99),
            ("Technic graafmachine", 99.99),
            ("Star Wars X-Wing Starfighter", 49.99),
            ("Star Wars Millennium Falcon", 169.99),
            ("Creator 3-in-1 dinosaurus", 14.99),
            ("Creator 3-in-1 piratenschip", 99.99),
            ("DUPLO treinset", 59.99),
            ("DUPLO boerderijdieren", 19.99),
            ("Ninjago drakenstrijd", 39.99),
            ("Harry Potter Zweinstein kasteel", 149.99),
            ("Classic creatieve bouwdoos", 34.99),
            ("Icons bloemenboeket", 54.99),
            ("Minecraft de grot", 29.99),
        ),
    ),
    Line(
        "Speelgoed > Bouwen",
        "Playmobil {a}",
        ("Playmobil",),
        1.0,
        "Speelset vol details voor urenlang speelplezier, vanaf 4 jaar.",
        (
            ("City Life kinderdagverblijf", 49.99),
            ("Country manege", 79.99),
            ("Pirates piratenschip", 89.99),
            ("Family Fun camper", 59.99),
            ("dierenkliniek", 44.99),
            ("politiewagen met licht en geluid", 34.99),
        ),
    ),
    Line(
        "Speelgoed > Spellen",
        "{a}",
        ("Hasbro",),
        1.0,
        "Gezelschapsspel voor de hele familie.",
        (
            ("Monopoly Classic", 34.99),
            ("Monopoly Nederland editie", 36.99),
            ("Cluedo", 29.99),
            ("Risk", 39.99),
            ("Wie is het?", 24.99),
            ("Twister", 24.99),
            ("Jenga", 17.99),
        ),
    ),
    Line(
        "Speelgoed > Spellen",
        "{a}",
        ("Jumbo",),
        1.0,
        "Klassiek spel dat in geen enkele speelgoedkast mag ontbreken.",
        (
            ("Stratego Original", 29.99),
            ("Mens erger je niet", 14.99),
            ("Ganzenbord en Ludo", 12.99),
            ("Rummikub Original", 29.99),
            ("Scrabble Original", 32.99),
        ),
    ),
    Line(
        "Speelgoed > Spellen",
        "{a}",
        ("999 Games",),
        1.0,
        "Bekroond bordspel met eenvoudige regels en veel diepgang.",
        (
            ("Catan basisspel", 39.99),
            ("Qwirkle", 29.99),
            ("Carcassonne", 29.99),
            ("Ticket to Ride Europa", 44.99),
            ("Regenwormen", 12.99),
        ),
    ),
    Line(
        "Speelgoed > Spellen",
        "{brand} puzzel {a} {b}",
        ("Jumbo", "Ravensburger"),
        11.99,
        "Legpuzzel van stevig karton met een prachtige afbeelding: {a}.",
        ("Hollandse molens", "Amsterdamse grachten", "wereldkaart", "dieren in het bos"),
        (("500 stukjes", 1.0), ("1000 stukjes", 1.4), ("1500 stukjes", 1.8)),
    ),
    Line(
        "Speelgoed > Knuffels",
        "{brand} knuffel {a} {b}",
        ("Jellycat", W),
        9.99,
        "Superzachte knuffel om mee te knuffelen en in slaap te vallen. Geschikt vanaf 0 jaar.",
        ("beer", "konijn", "eenhoorn", "hond", "olifant", "dinosaurus"),
        (("25 cm", 1.0),),
    ),
    Line(
        "Speelgoed > Buitenspeelgoed",
        "Winkelpunt {a}",
        (W,),
        1.0,
        "Buitenspeelgoed voor zonnige dagen in de tuin, op straat of op het strand.",
        (
            ("bellenblaas 1 liter", 2.99),
            ("stoepkrijt 20 stuks", 2.49),
            ("springtouw", 2.99),
            ("frisbee", 1.99),
            ("waterpistool", 4.99),
            ("voetbal maat 5", 7.99),
            ("badmintonset", 9.99),
            ("jeu-de-boulesset", 14.99),
            ("opblaaszwembad 2 meter", 24.99),
            ("strandset emmer en schep", 3.99),
        ),
    ),
    Line(
        "Hobby & creatief > Tekenen",
        "{brand} {a}",
        ("Crayola", "Bruynzeel", "Stabilo", W),
        4.99,
        "Felle kleuren voor tekenen en kleuren, op school of thuis.",
        (
            ("kleurpotloden 12 stuks", 0.8),
            ("kleurpotloden 24 stuks", 1.4),
            ("viltstiften 12 stuks", 0.9),
            ("viltstiften 24 stuks", 1.5),
            ("waskrijt 16 stuks", 0.7),
            ("aquarelpotloden 12 stuks", 1.6),
        ),
    ),
    Line(
        "Hobby & creatief > Knutselen",
        "Winkelpunt {a}",
        (W,),
        1.0,
        "Knutselmateriaal voor creatieve projecten van jong en oud.",
        (
            ("klei 4 kleuren", 2.99),
            ("vingerverf 6 potjes", 4.99),
            ("knutseldoos", 9.99),
            ("acrylverf 12 x 12 ml", 4.49),
            ("schilderdoek 30 x 40 cm", 3.49),
            ("strijkkralen 3000 stuks", 3.99),
            ("glitterlijm 6 stuks", 2.49),
            ("origamipapier 100 vel", 2.29),
        ),
    ),
    # ---------------------------------------------------------------------------- Kantoor & school
    Line(
        "Kantoor & school > Schrijfwaren",
        "{brand} {a} {b}",
        ("Bic", "Stabilo", W),
        1.99,
        "Betrouwbare {a} die soepel schrijft tot de laatste druppel.",
        ("balpen blauw", "gelpen zwart", "markeerstift geel", "potlood HB", "fineliner zwart"),
        (("4 stuks", 1.0), ("10 stuks", 2.1)),
    ),
    Line(
        "Kantoor & school > Papier",
        "{brand} {a} {b}",
        ("Atoma", W),
        1.49,
        "Papierwaren van stevig papier waar inkt niet doorheen drukt.",
        (
            ("schrift A4 gelinieerd", 1.0),
            ("schrift A4 geruit", 1.0),
            ("schrift A5 gelinieerd", 0.8),
            ("collegeblok A4", 1.6),
            ("notitieboek A5", 2.2),
        ),
        (("1 stuk", 1.0), ("3 stuks", 2.6)),
    ),
    Line(
        "Kantoor & school > Printen",
        "{brand} {a}",
        ("HP", "Canon", "Epson"),
        21.99,
        "Originele cartridge voor scherpe afdrukken van tekst en foto's.",
        (("inktcartridge zwart", 1.0), ("inktcartridge kleur", 1.2), ("inktcartridge multipack", 2.4)),
    ),
    Line(
        "Kantoor & school > Printen",
        "Winkelpunt kopieerpapier A4 80 g {a}",
        (W,),
        5.99,
        "Wit kopieerpapier voor printers en kopieerapparaten.",
        (("500 vel", 1.0), ("2500 vel", 4.5)),
    ),
    # ---------------------------------------------------------------------------- Tuin
    Line(
        "Tuin > Gereedschap",
        "{brand} {a}",
        ("Gardena", "Fiskars"),
        14.99,
        "{a} van duurzaam materiaal met een ergonomische greep.",
        (
            ("snoeischaar", 1.2),
            ("heggenschaar", 2.0),
            ("schoffel", 1.4),
            ("hark", 1.2),
            ("bladhark", 1.1),
            ("spade", 2.1),
            ("plantschepje", 0.5),
            ("tuinslang 20 meter", 1.7),
            ("tuinslang 50 meter", 3.2),
            ("sproeier", 1.1),
        ),
    ),
    Line(
        "Tuin > Gereedschap",
        "{brand} {a}",
        ("Bosch", "Black+Decker", "Einhell"),
        1.0,
        "Elektrisch tuingereedschap dat het werk in de tuin een stuk lichter maakt.",
        (
            ("grasmaaier elektrisch 1200 W", 119.0),
            ("accu grasmaaier 36 V", 249.0),
            ("grastrimmer", 49.99),
            ("elektrische heggenschaar", 69.99),
            ("bladblazer", 59.99),
        ),
    ),
    Line(
        "Tuin > Gereedschap",
        "Kärcher hogedrukreiniger {a}",
        ("Kärcher",),
        1.0,
        "Hogedrukreiniger voor terras, tuinmeubelen en auto.",
        (("K2 Basic", 99.0), ("K3 Power Control", 149.0), ("K4 Full Control", 229.0), ("K5 Premium", 349.0)),
    ),
    Line(
        "Tuin > Planten & zaden",
        "Pokon voeding voor {a} {b}",
        ("Pokon",),
        4.49,
        "Plantenvoeding die zorgt voor gezonde groei en een mooie bloei.",
        ("groene planten", "bloeiende planten", "orchideeën", "kamerplanten", "cactussen"),
        (("250 ml", 1.0), ("500 ml", 1.6)),
    ),
    Line(
        "Tuin > Planten & zaden",
        "{brand} potgrond {a} {b}",
        ("Pokon", W),
        3.99,
        "Luchtige potgrond met voeding voor de eerste weken.",
        ("universeel", "kamerplanten", "moestuin", "cactus"),
        (("20 liter", 1.0), ("40 liter", 1.6)),
    ),
    Line(
        "Tuin > Planten & zaden",
        "Buzzy zaden {a}",
        ("Buzzy",),
        1.99,
        "Zaden met een hoge kiemkracht. Zaai- en oogsttijden staan op de verpakking.",
        (
            "tomaat Moneymaker",
            "sla",
            "radijs",
            "zonnebloem",
            "basilicum",
            "bloemenmix",
            "wortel",
            "courgette",
            "snijbloemenmix",
            "bijenmengsel",
        ),
    ),
    Line(
        "Tuin > Tuinmeubelen",
        "Winkelpunt {a} {b}",
        (W,),
        49.99,
        "Weerbestendige {a} voor tuin en balkon.",
        (
            ("tuinstoel", 1.0),
            ("ligbed", 1.8),
            ("parasol 300 cm", 1.6),
            ("tuintafel 160 cm", 3.0),
            ("loungeset 4-delig", 8.0),
            ("tuinkussen", 0.4),
        ),
        ("antraciet", "naturel", "groen"),
    ),
    Line(
        "Tuin > Barbecue",
        "{brand} {a}",
        ("Weber", "Barbecook", W),
        1.0,
        "Alles voor een geslaagde barbecue met vrienden en familie.",
        (
            ("houtskoolbarbecue 47 cm", 99.0),
            ("houtskoolbarbecue 57 cm", 159.0),
            ("gasbarbecue 2 branders", 249.0),
            ("gasbarbecue 3 branders", 349.0),
            ("barbecueset RVS", 24.99),
            ("houtskool 10 kg", 12.99),
            ("briketten 8 kg", 11.99),
            ("aanmaakblokjes 32 stuks", 2.99),
        ),
    ),
    # ---------------------------------------------------------------------------- Feest & seizoen
    Line(
        "Feest > Feestartikelen",
        "Winkelpunt {a} {b}",
        (W,),
        2.49,
        "Feestelijke versiering voor verjaardag, jubileum of Koningsdag.",
        (
            ("ballonnen 25 stuks", 1.0),
            ("slingers 10 meter", 1.2),
            ("vlaggenlijn", 1.2),
            ("feesthoedjes 8 stuks", 1.0),
            ("confetti", 0.6),
            ("papieren tafelkleed", 1.2),
        ),
        ("goud", "zilver", "roze", "oranje"),
    ),
    Line(
        "Feest > Sinterklaas",
        "{brand} chocoladeletter {a} {b}",
        ("Verkade", "Droste", W),
        2.49,
        "Echte chocoladeletter van 135 gram, voor in de schoen of op pakjesavond.",
        ("A", "M", "P", "S"),
        ("melk", "puur", "wit"),
    ),
    Line(
        "Feest > Kerst",
        "Winkelpunt {a} {b}",
        (W,),
        1.0,
        "Kerstdecoratie voor een sfeervolle kerstboom en een feestelijk huis.",
        (
            ("kerstballen glas 6 cm 12 stuks", 7.99),
            ("kerstballen kunststof 8 cm 6 stuks", 4.99),
            ("kerstpiek", 5.99),
            ("kerstslinger 2 meter", 3.49),
        ),
        ("goud", "rood", "zilver", "groen"),
    ),
    Line(
        "Feest > Kerst",
        "Winkelpunt {a}",
        (W,),
        1.0,
        "Voor een warme kerstsfeer binnen en buiten.",
        (
            ("kerstverlichting 180 lampjes warm wit", 12.99),
            ("kerstverlichting 500 lampjes warm wit", 24.99),
            ("kerstverlichting 240 lampjes gekleurd", 14.99),
            ("kunstkerstboom 150 cm", 49.99),
            ("kunstkerstboom 210 cm", 99.99),
            ("kerstboomstandaard", 14.99),
        ),
    ),
    # ---------------------------------------------------------------------------- Dier
    Line(
        "Dier > Kat",
        "{brand} kattenvoer {a} {b}",
        ("Whiskas", "Felix", W),
        4.49,
        "Compleet natvoer in saus, met alle voedingsstoffen die je kat nodig heeft.",
        ("kip", "zalm", "rund", "tonijn"),
        (("12 x 85 g", 1.0), ("40 x 85 g", 3.0)),
    ),
    Line(
        "Dier > Kat",
        "{brand} kattenbrokjes {a} {b}",
        ("Whiskas", W),
        4.99,
        "Knapperige brokjes voor volwassen katten, goed voor het gebit.",
        ("kip", "zalm", "sterilised"),
        (("950 g", 1.0), ("3,8 kg", 3.2)),
    ),
    Line(
        "Dier > Kat",
        "{brand} kattenbakvulling {a}",
        ("Catsan", W),
        1.0,
        "Kattenbakvulling die geurtjes neutraliseert en lang meegaat.",
        (("hygiëne 10 liter", 7.99), ("klontvormend 10 liter", 9.99), ("silica 5 liter", 8.99)),
    ),
    Line(
        "Dier > Hond",
        "{brand} hondenvoer {a} {b}",
        ("Pedigree", W),
        8.99,
        "Compleet droogvoer met vlees, granen en groenten voor een gezonde hond.",
        ("brokjes Adult rund", "brokjes Adult kip", "brokjes Junior", "brokjes Senior"),
        (("3 kg", 1.0), ("10 kg", 2.6)),
    ),
    # ---------------------------------------------------------------------------- Sport & kleding
    Line(
        "Sport & vrije tijd > Fitness",
        "Winkelpunt {a} {b}",
        (W,),
        1.0,
        "Sportartikelen om thuis of in de sportschool fit te blijven.",
        (
            ("yogamat", 14.99),
            ("fitnesselastieken set", 9.99),
            ("dumbbells 2 x 2 kg", 12.99),
            ("sporttas 40 liter", 19.99),
            ("sportdrinkfles 750 ml", 5.99),
        ),
        ("zwart", "roze", "blauw", "salie groen"),
    ),
    Line(
        "Kleding > Sokken",
        "{brand} {a} {b}",
        ("Björn Borg", W),
        6.99,
        "Comfortabele sokken van zacht katoen met versterkte hiel en teen.",
        (
            ("sneakersokken 5 paar", 1.2),
            ("enkelsokken 3 paar", 1.0),
            ("wintersokken 2 paar", 1.1),
            ("sportsokken 6 paar", 1.5),
        ),
        ("maat 35-38", "maat 39-42", "maat 43-46"),
    ),
    Line(
        "Kleding > Ondergoed",
        "{brand} boxershorts {a} {b}",
        ("Björn Borg", W),
        14.99,
        "Boxershorts van stretchkatoen die de hele dag comfortabel blijven zitten.",
        (("2-pack zwart", 0.8), ("3-pack mix", 1.0), ("5-pack grijs", 1.5)),
        ("maat S", "maat M", "maat L", "maat XL"),
    ),
)

#: Products whose names contain characters a name search must treat as text, not as wildcards or
#: quoting: `%`, `_`, apostrophes and double quotes. (brand, name, category, price in euros).
SPECIAL_PRODUCTS: Final[tuple[tuple[str, str, str, float], ...]] = (
    ("Douwe Egberts", "Korting 50% Douwe Egberts Aroma Rood 2 x 500 g", "Eten & drinken > Koffie", 11.49),
    (W, "Korting 50% op de tweede: Winkelpunt theelichtjes 2 x 30 stuks", "Wonen > Decoratie", 4.49),
    (W, "Winkelpunt labeltape TZe_231 12 mm zwart op wit", "Kantoor & school > Printen", 12.99),
    (W, "Winkelpunt naamstickers set_02 48 stuks", "Kantoor & school > Schrijfwaren", 3.99),
    (W, "Sinterklaas' strooigoed kruidnoten 500 g", "Feest > Sinterklaas", 2.99),
    (W, "Sinterklaas' schoencadeau chocolademunten 12 stuks", "Feest > Sinterklaas", 1.99),
    ("Jumbo", "'s-Hertogenbosch puzzel 1000 stukjes", "Speelgoed > Spellen", 14.99),
    ("Koopmans", "Koopmans Oma's appeltaart bakmix 440 g", "Eten & drinken > Koek", 3.29),
    (W, 'Mok "Beste juf" 300 ml', "Keuken > Servies & glazen", 5.99),
    (W, 'Deurmat "Welkom thuis" 40 x 60 cm', "Wonen > Textiel", 12.99),
    (W, 'Tegeltje "Oost west, thuis best" 15 x 15 cm', "Wonen > Decoratie", 6.99),
    (W, "Vlag 'Oranje boven' 90 x 150 cm", "Feest > Feestartikelen", 7.99),
)
SPECIAL_DESCRIPTION: Final = "Tijdelijk in het assortiment, zolang de voorraad strekt."

IMAGE_URL: Final = "https://images.winkelpunt.example/p/{sku}.jpg"
SKU_PREFIX: Final = "WP-"
FIRST_SKU_NUMBER: Final = 100001
CURRENCY: Final = "EUR"
MIN_PRICE_CENTS: Final = 49
MAX_PRICE_CENTS: Final = 89900

#: Share (in percent) of products sold in stores above or below the online price; the rest are equal.
STORE_SURCHARGE_PERCENT: Final = 14
STORE_DISCOUNT_PERCENT: Final = 5
ONLINE_SOLD_OUT_PERCENT: Final = 5
MAX_ONLINE_STOCK: Final = 500

# --------------------------------------------------------------------------------------------------
# Data tables: stores
# --------------------------------------------------------------------------------------------------

Format = Literal["flagship", "city", "supermarket", "station", "night", "town"]


@dataclass(frozen=True)
class StoreFormat:
    """How a kind of store carries stock.

    `core` departments (top-level categories, or full categories) are carried at `carry_core`, the rest
    at `carry_other`; None means every department is core. Products over `BULKY_PRICE_CENTS` are carried
    at `carry_bulky` at most, since small stores have no room for a television or a lounge set.
    `depth` multiplies a product's typical shelf quantity.
    """

    depth: float
    carry_core: float
    carry_other: float
    carry_bulky: float
    out_of_stock: float  # share of carried items at 0
    limited: float  # share of carried items at 1 or 2
    core: frozenset[str] | None = None


CONVENIENCE: Final = frozenset({"Eten & drinken", "Drogisterij", "Elektronica > Accessoires"})
GROCERY: Final = frozenset({"Eten & drinken", "Drogisterij", "Huishouden", "Dier"})

FORMATS: Final[dict[Format, StoreFormat]] = {
    "flagship": StoreFormat(1.5, 1.0, 0.98, 0.9, 0.03, 0.06),
    "city": StoreFormat(1.2, 0.97, 0.9, 0.6, 0.05, 0.08),
    "supermarket": StoreFormat(1.3, 1.0, 0.5, 0.15, 0.04, 0.06, GROCERY),
    "town": StoreFormat(1.0, 0.93, 0.85, 0.45, 0.07, 0.1),
    "station": StoreFormat(0.45, 0.7, 0.03, 0.0, 0.1, 0.16, CONVENIENCE),
    "night": StoreFormat(0.45, 0.8, 0.04, 0.0, 0.09, 0.15, CONVENIENCE),
}
BULKY_PRICE_CENTS: Final = 15000

#: The demo stores (see `stores.demo`) that are not ordinary shops, by store code. Station kiosks and
#: night shops carry a small convenience assortment; supermarket-style stores carry groceries deep.
STORE_FORMATS: Final[dict[str, Format]] = {
    "NL-AMS-002": "station",
    "NL-RTM-002": "station",
    "NL-DHG-002": "station",
    "NL-UTR-002": "station",
    "BE-ANT-002": "station",
    "NL-AMS-003": "night",
    "NL-RTM-003": "night",
    "BE-ANT-003": "night",
    "BE-GNT-002": "night",
    "BE-BRU-002": "supermarket",
    "BE-GNT-003": "supermarket",
    "BE-LGG-002": "supermarket",
    "NL-UTR-004": "supermarket",
    "NL-EIN-003": "supermarket",
    "NL-ZWO-001": "supermarket",
    "NL-ROO-001": "supermarket",
    "NL-VEE-001": "supermarket",
    "NL-ZWI-001": "supermarket",
    "NL-BAR-001": "supermarket",
}

#: Cities with several demo stores (the "XX-CCC" part of the code): their stores are bigger and
#: carry more, and store 001 is the city-centre flagship.
MULTI_STORE_CITIES: Final = frozenset(
    {
        "NL-AMS",
        "NL-RTM",
        "NL-DHG",
        "NL-UTR",
        "NL-EIN",
        "NL-GRO",
        "NL-TIL",
        "NL-BRD",
        "NL-NIJ",
        "NL-HLM",
        "NL-MST",
        "BE-BRU",
        "BE-ANT",
        "BE-GNT",
        "BE-CRL",
        "BE-LGG",
        "BE-BRG",
        "BE-LEU",
    }
)

#: Cities where rents are highest: their stores charge a little more than online on some items.
PREMIUM_CITIES: Final = frozenset({"NL-AMS", "NL-RTM", "NL-DHG", "NL-UTR", "BE-BRU", "BE-ANT"})

#: Stores in towns with a big outlet centre (Lelystad's Batavia Stad, Roosendaal's Rosada,
#: Maasmechelen Village): they sell non-food below the online price to compete.
OUTLET_STORES: Final = frozenset({"NL-LEL-001", "NL-ROO-001", "BE-MAA-001"})

#: Per-store price overrides, in percent of the products concerned and price change (low, high).
PREMIUM_SHARE: Final = 12
PREMIUM_MARKUP: Final = (0.03, 0.08)
CONVENIENCE_SHARE: Final = 45
CONVENIENCE_MARKUP: Final = (0.10, 0.20)
OUTLET_SHARE: Final = 35
OUTLET_DISCOUNT: Final = (0.10, 0.30)
#: Promotions are per (store, product), in permille: a few local offers in every store.
PROMOTION_PERMILLE: Final = 8
PROMOTION_DISCOUNT: Final = (0.15, 0.30)

#: Towns vary in size; a town store's depth and breadth are scaled by one of these, chosen per store.
TOWN_SIZES: Final = (0.7, 0.8, 0.9, 1.0)

# --------------------------------------------------------------------------------------------------
# Barcodes
# --------------------------------------------------------------------------------------------------


def gtin_check_digit(digits: str) -> int:
    """The GS1 check digit for the GTIN `digits` without their check digit (7, 12 or 13 digits).

    From the right, digits are weighted 3, 1, 3, 1, ...; the check digit brings the sum to a multiple
    of 10. The same rule serves GTIN-8, GTIN-13 and GTIN-14.
    """
    if not digits.isdigit():
        raise ValueError(f"a GTIN has digits only: {digits!r}")
    total = sum(
        int(digit) * (3 if position % 2 == 0 else 1) for position, digit in enumerate(reversed(digits))
    )
    return (10 - total % 10) % 10


def _with_check_digit(digits: str) -> str:
    return digits + str(gtin_check_digit(digits))


class _Barcodes:
    """Hands out unique GTINs: a GS1 company prefix per brand, then consecutive item references."""

    # Multiplying by a prime spreads consecutive numbers over the whole range (a bijection modulo the
    # range, so no two brands or items share a number) and makes the barcodes look less sequential.
    SPREAD: Final = 7919

    def __init__(self) -> None:
        self._companies: dict[str, str] = {}
        self._items: dict[str, int] = {}
        self._short_items = 0

    def _company(self, brand: str) -> str:
        """The brand's 7-digit company prefix: 87 or 54, then 5 digits."""
        if brand not in self._companies:
            country = BRANDS[brand][0]
            number = 10_000 + (len(self._companies) * self.SPREAD + 4_321) % 90_000
            self._companies[brand] = f"{country}{number:05d}"
        return self._companies[brand]

    def gtin13_body(self, brand: str) -> str:
        """Twelve digits (company prefix and item reference) of the brand's next GTIN-13."""
        count = self._items.get(brand, 0)
        self._items[brand] = count + 1
        item = (count * self.SPREAD + _stable_hash(brand)) % 100_000
        return f"{self._company(brand)}{item:05d}"

    def next(self, brand: str, length: Literal[8, 13, 14]) -> str:
        if length == 8:
            # GTIN-8s come from the national GS1 office's own range, not from a company prefix.
            self._short_items += 1
            return _with_check_digit(f"87{(self._short_items * self.SPREAD) % 100_000:05d}")
        body = self.gtin13_body(brand)
        if length == 14:
            # Indicator digit 1: a fixed-quantity trade unit of the (unlisted) single item `body`.
            return _with_check_digit("1" + body)
        return _with_check_digit(body)


# --------------------------------------------------------------------------------------------------
# Prices
# --------------------------------------------------------------------------------------------------


def _stable_hash(*parts: str) -> int:
    return zlib.crc32("|".join(parts).encode())


def _shelf_price(euros: float, salt: int) -> int:
    """`euros` rounded to a price as seen on a shelf, in cents: 1.29, 2.49, 14.99, 24.95, 129.99, 229.00."""
    cents = round(euros * 100)
    if cents < 100:
        price = max(MIN_PRICE_CENTS, (cents + 5) // 10 * 10 - 1)  # 0.49, 0.59 ... 0.99
    elif cents < 1000:
        euro = cents // 100
        endings = (29, 49, 79, 99)
        candidates = [euro * 100 + ending for ending in endings] + [euro * 100 - 1]
        price = min(candidates, key=lambda candidate: abs(candidate - cents))
    elif cents < 10000:
        price = (cents + 25) // 50 * 50 - 1  # x.49 or x.99
        if price % 100 == 99 and salt % 5 == 0:
            price -= 4  # some shops prefer x.95
    else:
        tens = (cents + 500) // 1000 * 1000
        price = tens - (100 if salt % 4 == 0 else 1)  # 229.00 or 229.99
    return min(MAX_PRICE_CENTS, max(MIN_PRICE_CENTS, price))


def _adjusted(cents: int, factor: float, salt: int) -> int:
    return _shelf_price(cents * factor / 100, salt)


def _fraction(value: int, low: float, high: float) -> float:
    """A number between `low` and `high`, picked by the low 16 bits of the hash `value`."""
    return low + (high - low) * (value & 0xFFFF) / 0xFFFF


def _store_price(online: int, salt: int) -> int:
    """The default in-store price: mostly the online price, sometimes a surcharge or a store discount."""
    roll = salt % 100
    if roll < STORE_SURCHARGE_PERCENT:
        dearer = _adjusted(online, 1 + _fraction(salt >> 8, 0.04, 0.12), salt)
        return dearer if dearer > online else online
    if roll < STORE_SURCHARGE_PERCENT + STORE_DISCOUNT_PERCENT:
        cheaper = _adjusted(online, 1 - _fraction(salt >> 8, 0.05, 0.15), salt)
        return cheaper if cheaper < online else online
    return online


def _money(cents: int) -> dict[str, str]:
    return {"amount": f"{cents // 100}.{cents % 100:02d}", "currency": CURRENCY}


# --------------------------------------------------------------------------------------------------
# Products
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Product:
    sku: str
    ean: str
    name: str
    brand: str
    description: str
    category: str
    online_cents: int
    store_cents: int
    online_stock: int
    salt: int  # CRC-32 of the sku: drives every per-product choice
    shelf_depth: int  # typical quantity on a store shelf

    @property
    def department(self) -> str:
        return self.category.split(" > ")[0]


def _option(option: Option) -> tuple[str, float]:
    return (option, 1.0) if isinstance(option, str) else option


def _tidy(text: str) -> str:
    """Collapses the double spaces an empty option leaves; capitalises a template that starts with {a}."""
    words = " ".join(text.split())
    return words[:1].upper() + words[1:]


def _shelf_depth(cents: int) -> int:
    """Typical shelf quantity: 30 of a cheap item, a handful of a €100 one, one or two televisions."""
    return max(2, min(30, round(60 / math.pow(cents / 100, 0.45))))


def _online_stock(salt: int, depth: int) -> int:
    roll = (salt >> 4) % 100
    if roll < ONLINE_SOLD_OUT_PERCENT:
        return 0
    spread = (salt >> 12) & 0xFFFF
    # Squaring a uniform number skews it low: most products have modest stock, a few have a lot.
    return min(MAX_ONLINE_STOCK, 1 + (spread * spread >> 16) * depth * 20 // 0x10000)


def _product(
    number: int, ean: str, brand: str, name: str, description: str, category: str, euros: float
) -> Product:
    sku = f"{SKU_PREFIX}{number}"
    salt = _stable_hash(sku)
    online = _shelf_price(euros, salt)
    depth = _shelf_depth(online)
    return Product(
        sku=sku,
        ean=ean,
        name=name,
        brand=brand,
        description=description,
        category=category,
        online_cents=online,
        store_cents=_store_price(online, salt),
        online_stock=_online_stock(salt, depth),
        salt=salt,
        shelf_depth=depth,
    )


def _line_products(line: Line) -> Iterator[tuple[str, str, str, float]]:
    """(brand, name, description, price in euros) of every product of the line."""
    for brand in line.brands:
        # A single-brand line's base price is that brand's price; factors compare brands within a line.
        brand_factor = BRANDS[brand][1] if len(line.brands) > 1 else 1.0
        for a_option in line.a:
            a, a_factor = _option(a_option)
            for b_option in line.b:
                b, b_factor = _option(b_option)
                fields = {"brand": brand, "a": a, "b": b}
                name = _tidy(line.name.format(**fields))
                description = _tidy(line.description.format(**fields))
                yield brand, name, description, line.price * brand_factor * a_factor * b_factor


@lru_cache(maxsize=1)
def _catalogue() -> tuple[Product, ...]:
    barcodes = _Barcodes()
    products: list[Product] = []
    names: set[str] = set()
    for line in LINES:
        for brand, name, description, euros in _line_products(line):
            if name in names:
                raise ValueError(f"duplicate demo product name {name!r}")
            names.add(name)
            ean = barcodes.next(brand, line.gtin)
            products.append(
                _product(
                    FIRST_SKU_NUMBER + len(products), ean, brand, name, description, line.category, euros
                )
            )
    for brand, name, category, euros in SPECIAL_PRODUCTS:
        ean = barcodes.next(brand, 13)
        products.append(
            _product(FIRST_SKU_NUMBER + len(products), ean, brand, name, SPECIAL_DESCRIPTION, category, euros)
        )
    return tuple(products)


def demo_products() -> list[dict[str, Any]]:
    """About 2,400 demo products in the webshop sync's JSON shape; the same on every call."""
    return [
        {
            "sku": product.sku,
            "ean": product.ean,
            "name": product.name,
            "brand": product.brand,
            "description": product.description,
            "image_url": IMAGE_URL.format(sku=product.sku),
            "category": product.category,
            "online_price": _money(product.online_cents),
            "store_price": _money(product.store_cents),
            "online_stock": product.online_stock,
        }
        for product in _catalogue()
    ]


# --------------------------------------------------------------------------------------------------
# Stores
# --------------------------------------------------------------------------------------------------


def _city(store_code: str) -> str:
    return store_code.rsplit("-", 1)[0]


def store_format(store_code: str) -> Format:
    """The format of a demo store; stores unknown to the tables are treated as town stores."""
    if store_code in STORE_FORMATS:
        return STORE_FORMATS[store_code]
    if _city(store_code) in MULTI_STORE_CITIES:
        return "flagship" if store_code.endswith("-001") else "city"
    return "town"


def _unique(store_codes: Sequence[str]) -> list[str]:
    """The store codes without repeats, in the given order (a pair must not get two rows)."""
    return list(dict.fromkeys(store_codes))


# --------------------------------------------------------------------------------------------------
# Store prices
# --------------------------------------------------------------------------------------------------


def _store_override(store_code: str, product: Product, city_premium: bool, outlet: bool) -> int | None:
    """The store's own price for the product, or None when it sells at the product's store price."""
    pair = _stable_hash(store_code, product.sku)
    if pair % 1000 < PROMOTION_PERMILLE:
        factor = 1 - _fraction(pair >> 10, *PROMOTION_DISCOUNT)
    elif outlet and product.department != "Eten & drinken" and (pair >> 10) % 100 < OUTLET_SHARE:
        factor = 1 - _fraction(pair >> 16, *OUTLET_DISCOUNT)
    elif store_format(store_code) in ("station", "night") and product.department in CONVENIENCE:
        if (pair >> 10) % 100 >= CONVENIENCE_SHARE:
            return None
        factor = 1 + _fraction(pair >> 16, *CONVENIENCE_MARKUP)
    elif city_premium and (pair >> 10) % 100 < PREMIUM_SHARE:
        factor = 1 + _fraction(pair >> 16, *PREMIUM_MARKUP)
    else:
        return None
    price = _adjusted(product.store_cents, factor, pair)
    if price == product.store_cents or (factor < 1) != (price < product.store_cents):
        return None  # rounding to a shelf price undid the change
    return price


def demo_store_prices(store_codes: Sequence[str]) -> list[dict[str, Any]]:
    """Per-store price overrides for the given stores (a few percent of all pairs); the same every call.

    City-centre stores of the biggest cities are a little dearer on some items, station and night shops
    charge convenience prices on food and drugstore items, outlet towns sell non-food cheaper, and every
    store has a few local promotions. A pair without a row sells at the product's `store_price`.
    """
    rows: list[dict[str, Any]] = []
    products = _catalogue()
    for store_code in _unique(store_codes):
        premium = _city(store_code) in PREMIUM_CITIES and store_format(store_code) in ("flagship", "city")
        outlet = store_code in OUTLET_STORES
        for product in products:
            price = _store_override(store_code, product, premium, outlet)
            if price is not None:
                rows.append({"store_code": store_code, "sku": product.sku, "price": _money(price)})
    return rows


# --------------------------------------------------------------------------------------------------
# Stock
# --------------------------------------------------------------------------------------------------

_MASK64: Final = (1 << 64) - 1
_GOLDEN64: Final = 0x9E3779B97F4A7C15  # 2^64 / golden ratio: an odd multiplier that mixes well
_MIX64: Final = 0xBF58476D1CE4E5B9  # SplitMix64's; the second round breaks the first one's linearity
_FULL: Final = 0x10000  # probabilities below are in 1/65536ths, compared with 16-bit hash slices


@dataclass(frozen=True)
class _StockProfile:
    """Per-product thresholds of one kind of store, precomputed so the row loop only compares."""

    carry: tuple[int, ...]  # a product is carried when a 16-bit slice of the pair hash is below this
    spans: tuple[int, ...]  # number of quantities from 3 to the product's maximum
    out_of_stock: int
    limited: int  # out_of_stock + share of 1-2 on hand


def _store_size(store_code: str) -> float:
    if store_format(store_code) != "town":
        return 1.0
    return TOWN_SIZES[_stable_hash(store_code, "size") % len(TOWN_SIZES)]


def _is_core(fmt: StoreFormat, product: Product) -> bool:
    return fmt.core is None or product.department in fmt.core or product.category in fmt.core


def _carry_share(fmt: StoreFormat, product: Product, size: float) -> float:
    core = _is_core(fmt, product)
    share = fmt.carry_core if core else fmt.carry_other
    if product.store_cents >= BULKY_PRICE_CENTS:
        share = min(share, fmt.carry_bulky)
    # Smaller towns drop the non-essential part of the range first.
    return share * (1.0 if core else size)


@lru_cache(maxsize=32)
def _stock_profile(fmt_name: Format, size: float) -> _StockProfile:
    fmt = FORMATS[fmt_name]
    carry: list[int] = []
    spans: list[int] = []
    for product in _catalogue():
        carry.append(round(_carry_share(fmt, product, size) * _FULL))
        core = _is_core(fmt, product)
        grocery_boost = 1.25 if fmt_name == "supermarket" and product.department in GROCERY else 1.0
        top = max(3, round(product.shelf_depth * fmt.depth * size * grocery_boost * (1.0 if core else 0.6)))
        spans.append(top - 2)
    out_of_stock = fmt.out_of_stock + (1.0 - size) * 0.15  # small towns are restocked less often
    return _StockProfile(
        carry=tuple(carry),
        spans=tuple(spans),
        out_of_stock=round(out_of_stock * _FULL),
        limited=round((out_of_stock + fmt.limited) * _FULL),
    )


def _stock_rows(store_codes: list[str], as_of: str) -> Iterator[dict[str, Any]]:
    products = _catalogue()
    skus = [product.sku for product in products]
    salts = [product.salt for product in products]
    for store_code in store_codes:
        profile = _stock_profile(store_format(store_code), _store_size(store_code))
        store_salt = _stable_hash(store_code) << 32
        for sku, salt, carry, span in zip(skus, salts, profile.carry, profile.spans, strict=True):
            # One 64-bit multiplicative hash of the (store, product) pair; its 16-bit slices are
            # independent rolls. Cheaper than a CRC of the joined strings, and order-independent.
            mixed = ((store_salt | salt) * _GOLDEN64) & _MASK64
            mixed = ((mixed ^ mixed >> 32) * _MIX64) & _MASK64
            if mixed >> 48 >= carry:
                on_hand = 0  # not in this store's range
            else:
                roll = (mixed >> 32) & 0xFFFF
                if roll < profile.out_of_stock:
                    on_hand = 0
                elif roll < profile.limited:
                    on_hand = 1 + (mixed >> 16 & 1)
                else:
                    quantity = (mixed >> 8) & 0xFFFF
                    # Squared to skew low: most shelves hold a few items, some are well stocked.
                    on_hand = 3 + ((quantity * quantity) >> 16) * span // _FULL
            yield {"store_code": store_code, "sku": sku, "on_hand": on_hand, "as_of": as_of}


def demo_stock(store_codes: Sequence[str], *, as_of: datetime) -> Iterator[dict[str, Any]]:
    """On-hand stock of every demo product in every given store, store by store; the same on every call.

    `as_of` (timezone-aware) is the moment of the count, written to every row in RFC 3339. Each row is a
    function of its (store, sku) pair only. About 440,000 rows for the 184 demo stores: iterate, don't
    collect them in a list.
    """
    if as_of.tzinfo is None or as_of.utcoffset() is None:
        raise ValueError("as_of must be timezone-aware, so rows carry an RFC 3339 offset")
    return _stock_rows(_unique(store_codes), as_of.isoformat())

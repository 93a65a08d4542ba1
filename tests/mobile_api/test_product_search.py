"""The shopper's product search (`GET /mobile/v1/products`): words in any order, each starting a word of
the name, brand or EAN, case and accents ignored, best matches first; hostile text is text; pages walk
the ranking once. On both databases, whose indexes differ (GIN on PostgreSQL, FTS5 on SQLite)."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from tests.factories import make_product, make_products, product_row

BOTH_DATABASES = pytest.mark.parametrize("engine", ["postgresql", "sqlite"], indirect=True)


def gtin13(first_twelve: str) -> str:
    """An EAN-13 with its check digit (the sync refuses a wrong one)."""
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(first_twelve))
    return first_twelve + str(-total % 10)


AJAX_EAN = gtin13("871090800001")
CATALOGUE: dict[str, dict[str, Any]] = {
    "AJAX-CIT": {"name": "Ajax allesreiniger citroen 1 liter", "brand": "Ajax", "ean": AJAX_EAN},
    "AJAX-GLAS": {"name": "Glasreiniger spray 750 ml", "brand": "Ajax"},
    "CIT-SAP": {"name": "Citroensap 1 liter", "brand": "Hero"},
    "ACC-3": {"name": "Acceptatie product 3"},
    "ACC-30": {"name": "Acceptatie product 30"},
    "ACC-13": {"name": "Acceptatie product 13"},
    "CB-1": {"name": "Crème Brûlée Brander", "brand": "Keukenhulp", "ean": "8712345678906"},
    "STRASSE": {"name": "Straßenkarte Nederland"},
    "SMORRE": {"name": "Smørrebrød plank Łódź"},
    "NFC": {"name": "NEAR field communication tag"},
    "PCT": {"name": "100% Katoen Shirt"},
    "NOPCT": {"name": "1000 Katoen Shirt"},
    "UND": {"name": "Snoer_2m"},
    "QUOTE": {"name": 'Jan\'s "Beste" Koffie'},
    "BACK": {"name": "Map C:\\temp"},
    **{f"LAMP-{c}": {"name": f"Bureaulamp {c}"} for c in "EDCBA"},
    "LAMPJE": {"name": "Bureaulampje led"},
}


@pytest.fixture
def search_catalogue(session: Session) -> None:
    """The products of `CATALOGUE` at 1.99, in the test's session (committed: a savepoint)."""
    make_products(session, [product_row(sku, price="1.99", **fields) for sku, fields in CATALOGUE.items()])
    session.commit()


def _search(client: TestClient, **params: Any) -> Any:
    return client.get("/mobile/v1/products", params=params)


def _skus(client: TestClient, q: str, **params: Any) -> list[str]:
    response = _search(client, q=q, limit=100, **params)
    assert response.status_code == 200, (q, response.text)
    body = response.json()
    assert body["next_cursor"] is None
    return [item["sku"] for item in body["items"]]


def _problem(response: Any, field: str) -> None:
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["code"] == "validation_error"
    assert field in [error["field"] for error in body["errors"]]


@BOTH_DATABASES
def test_words_are_found_in_any_order_whatever_their_case_and_spacing(
    client: TestClient, search_catalogue: None
) -> None:
    assert _skus(client, "ajax citroen") == ["AJAX-CIT"]
    assert _skus(client, "citroen ajax") == ["AJAX-CIT"]
    # "3" is a whole word of "Acceptatie product 3" and only starts "30"; it starts no word of "... 13".
    assert _skus(client, "ACCEPTATIE  3") == ["ACC-3", "ACC-30"]
    assert _skus(client, "3 acceptatie") == ["ACC-3", "ACC-30"]


@BOTH_DATABASES
def test_every_word_must_start_a_word_of_the_name_brand_or_ean(
    client: TestClient, search_catalogue: None
) -> None:
    assert _skus(client, "ajax glas") == ["AJAX-GLAS"]  # the brand and a name
    assert _skus(client, "ajax wc") == []  # every word, not any
    assert _skus(client, "reiniger") == []  # inside a word is not the start of one
    assert _skus(client, "keukenhulp") == ["CB-1"]
    assert _skus(client, AJAX_EAN) == ["AJAX-CIT"]
    assert _skus(client, AJAX_EAN[:7]) == ["AJAX-CIT"]  # the start of an EAN too
    assert _skus(client, "871") == ["AJAX-CIT", "CB-1"]


@BOTH_DATABASES
def test_case_and_accents_are_ignored(client: TestClient, search_catalogue: None) -> None:
    for q in ("CREME brulee", "crème BRÛLÉE", "brûl", "Creme BRU"):
        assert _skus(client, q) == ["CB-1"], q
    assert _skus(client, "rûl") == []
    # Case folding, not just lower case: ß is "ss".
    assert _skus(client, "STRASSENKARTE") == ["STRASSE"]
    assert _skus(client, "straßenkarte") == ["STRASSE"]
    # Letters without an accent to drop are spelled as typed on a Dutch keyboard.
    assert _skus(client, "smorrebrod lodz") == ["SMORRE"]
    assert _skus(client, "SMØRREBRØD") == ["SMORRE"]


@BOTH_DATABASES
def test_whole_words_rank_before_starts_of_words_then_by_name(
    client: TestClient, search_catalogue: None
) -> None:
    # A whole word scores 2, the start of a word 1; equal scores go by name.
    assert _skus(client, "citroen") == ["AJAX-CIT", "CIT-SAP"]
    assert _skus(client, "citroen 1 liter") == ["AJAX-CIT", "CIT-SAP"]
    assert _skus(client, "ajax") == ["AJAX-CIT", "AJAX-GLAS"]
    assert _skus(client, "100") == ["PCT", "NOPCT"]
    assert _skus(client, "bureaulamp") == ["LAMP-A", "LAMP-B", "LAMP-C", "LAMP-D", "LAMP-E", "LAMPJE"]
    assert _skus(client, "bureaulamp e") == ["LAMP-E"]


@BOTH_DATABASES
@pytest.mark.parametrize(
    ("q", "skus"),
    [
        # LIKE wildcards and quotes
        ("100%", ["PCT", "NOPCT"]),
        ("snoer_2m", ["UND"]),
        ("jan's", ["QUOTE"]),
        ('"beste"', ["QUOTE"]),
        ("'koffie'", ["QUOTE"]),
        ("c:\\temp", ["BACK"]),
        # FTS5 syntax: phrases, prefixes, column filters, NEAR, boolean operators, grouping
        ('"beste koffie"', ["QUOTE"]),
        ("koffie*", ["QUOTE"]),
        ("words:koffie", []),
        ("NEAR(field tag)", ["NFC"]),
        ("near tag", ["NFC"]),
        ("shirt OR koffie", []),
        ("shirt NOT katoen", []),
        ("shirt -katoen", ["PCT", "NOPCT"]),
        ("-koffie", ["QUOTE"]),
        ("^koffie", ["QUOTE"]),
        ("{koffie}", ["QUOTE"]),
        ("(koffie)", ["QUOTE"]),
        # tsquery syntax: &, |, !, <->, :*, weights
        ("shirt & !katoen", ["PCT", "NOPCT"]),
        ("koffie | shirt", []),
        ("katoen <-> shirt", ["PCT", "NOPCT"]),
        ("koffie:*", ["QUOTE"]),
        ("koffie:A", []),
        ("' OR 1=1; --", []),
    ],
)
def test_hostile_text_is_words_never_query_syntax(
    client: TestClient, search_catalogue: None, q: str, skus: list[str]
) -> None:
    assert _skus(client, q) == skus


@BOTH_DATABASES
@pytest.mark.parametrize("q", ["%", "_", "\\", '"', "*", "-", ":", "()", "&", "|", "<->", "  ", "'"])
def test_text_without_a_word_finds_nothing(client: TestClient, search_catalogue: None, q: str) -> None:
    # Punctuation is plain text that starts no word: no product, not the whole catalogue, and no error.
    for params in ({"q": q}, {"q": q, "ean": "8712345678906"}):
        answer = client.get("/mobile/v1/products", params=params)
        assert answer.status_code == 200, answer.text
        assert answer.json() == {"items": [], "next_cursor": None}


@BOTH_DATABASES
def test_at_most_twenty_different_words(client: TestClient, search_catalogue: None) -> None:
    twenty = " ".join(f"w{i}" for i in range(20))
    assert _skus(client, twenty) == []
    assert _skus(client, f"{twenty} w0 W1") == []  # a word again is the same word
    _problem(_search(client, q=f"{twenty} w20"), "query.q")


@BOTH_DATABASES
def test_search_by_ean(client: TestClient, search_catalogue: None) -> None:
    assert _skus(client, q="brander", ean="8712345678906") == ["CB-1"]
    assert _skus(client, q="ajax", ean="8712345678906") == []
    response = _search(client, ean="8712345678906")
    assert [item["sku"] for item in response.json()["items"]] == ["CB-1"]
    assert _search(client, ean="8712345678913").json() == {"items": [], "next_cursor": None}


@BOTH_DATABASES
def test_pages_walk_the_ranking_once(client: TestClient, search_catalogue: None) -> None:
    def walk(q: str, limit: int) -> list[list[str]]:
        pages: list[list[str]] = []
        cursor = None
        for _ in range(10):
            params: dict[str, Any] = {"q": q, "limit": limit}
            if cursor is not None:
                params["cursor"] = cursor
            body = _search(client, **params).json()
            pages.append([item["sku"] for item in body["items"]])
            cursor = body["next_cursor"]
            if cursor is None:
                return pages
        raise AssertionError(pages)

    # Within one score and across the step down to the next.
    assert walk("bureaulamp", 2) == [["LAMP-A", "LAMP-B"], ["LAMP-C", "LAMP-D"], ["LAMP-E", "LAMPJE"]]
    assert walk("bureaulamp", 5) == [["LAMP-A", "LAMP-B", "LAMP-C", "LAMP-D", "LAMP-E"], ["LAMPJE"]]
    assert walk("acceptatie 3", 1) == [["ACC-3"], ["ACC-30"]]
    # The same words in another order and case are the same query: its cursor carries on.
    first = _search(client, q="acceptatie 3", limit=1).json()
    again = _search(client, q="3 ACCEPTATIE", limit=1, cursor=first["next_cursor"]).json()
    assert [item["sku"] for item in again["items"]] == ["ACC-30"]
    # An exact fit ends with a null cursor, not with an empty page.
    assert walk("bureaulamp", 6) == [["LAMP-A", "LAMP-B", "LAMP-C", "LAMP-D", "LAMP-E", "LAMPJE"]]


@BOTH_DATABASES
def test_a_product_is_found_by_its_current_words(
    client: TestClient, session: Session, search_catalogue: None
) -> None:
    """Renaming, rebranding and a new EAN reach the index (on SQLite through triggers)."""
    new_ean = gtin13("871090800002")
    changed = {"name": "Vloerreiniger lavendel", "brand": "Dettol", "ean": new_ean}
    make_product(session, "AJAX-GLAS", price="2.49", **changed)
    session.commit()
    assert _skus(client, "glasreiniger") == []
    assert _skus(client, "ajax") == ["AJAX-CIT"]
    assert _skus(client, "dettol vloer") == ["AJAX-GLAS"]
    assert _skus(client, new_ean) == ["AJAX-GLAS"]
    assert _skus(client, "reiniger") == []
    # A second upsert of the same words changes nothing and still finds it once.
    make_product(session, "AJAX-GLAS", price="2.59", **changed)
    session.commit()
    assert _skus(client, "lavendel") == ["AJAX-GLAS"]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({}, "query.q"),
        ({"q": ""}, "query.q"),
        ({"q": "x" * 101}, "query.q"),
        ({"ean": "123"}, "query.ean"),
        ({"ean": "871234567890a"}, "query.ean"),
        ({"ean": "871234567890612"}, "query.ean"),
        ({"q": "lamp", "limit": 0}, "query.limit"),
        ({"q": "lamp", "limit": 101}, "query.limit"),
        ({"q": "lamp", "limit": "ten"}, "query.limit"),
        ({"q": "lamp", "cursor": "x" * 513}, "query.cursor"),
    ],
)
def test_bad_input_is_422_naming_the_field(
    client: TestClient, search_catalogue: None, params: dict[str, Any], field: str
) -> None:
    _problem(_search(client, **params), field)

"""Product search: every word of the shopper's text must start a word of the product's name, brand or EAN,
in any order, case and accents ignored; the best matches first.

Words are made here, in Python, for the stored products and for the query alike (`words`): case-folded,
accents dropped, split on anything that is not a letter or a digit. So both databases see the same
words, PostgreSQL needs no `unaccent` extension (not every managed server lets the application's user
create one), and no character of the shopper's text can reach either database's query syntax: `%`, `_`,
quotes, `*`, `-`, `:`, parentheses and `NEAR` are separators or plain words.

Each product stores its distinct words, space-separated, in `product.search_words`; the index over them
is the one piece that differs per database (`_matching`), created by migration 0006:
- PostgreSQL: a GIN index on `product.search_vector`, a stored generated column
  `array_to_tsvector(string_to_array(search_words, ' '))` (the words as given, no parser or dictionary in
  between; stored: built per row, the table scan of a broad word was far slower, README, Benchmarks:
  measured choices), queried with prefix lexemes `'ajax':* & 'citroen':*`;
- SQLite: the FTS5 table `product_search` (ASCII tokenizer: with the words already folded it splits on
  the spaces only), kept in step with `product` by triggers, queried with `"ajax"* "citroen"*`.

Relevance (`_rank`) is computed the same way on both, over the matching rows only: each word of the query
scores 2 when it is a whole word of the product, 1 when it only starts one; ties go by name, then id. An
integer rank lets a cursor carry its position exactly.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    BigInteger,
    BindParameter,
    ColumnElement,
    Integer,
    Select,
    String,
    TextClause,
    bindparam,
    case,
    column,
    literal,
    select,
    text,
    tuple_,
)
from sqlmodel import Session, col

from inventory.cards import CARD_COLUMNS, ProductCard
from inventory.models import Product
from retail import dialect

SEARCH_TABLE = "product_search"
#: What migration 0006 made outside the models (each database's own index, FTS5's shadow tables), which
#: schema comparison leaves alone.
DATABASE_ONLY_OBJECTS = frozenset(
    {
        "search_vector",
        "ix_product_search_vector",
        SEARCH_TABLE,
        *(f"{SEARCH_TABLE}_{part}" for part in ("data", "idx", "content", "docsize", "config")),
    }
)
# Letters and digits of any script; everything else (underscore included) separates words.
_WORD = re.compile(r"[^\W_]+")
# More words than a shopper types: each is a prefix scan of the index and a term of the rank, and 50
# one-letter words (what 100 characters allow) cost PostgreSQL many times a typical query (README,
# Benchmarks: measured choices).
MAX_TERMS = 20


# Latin letters that Unicode does not decompose into a base letter and an accent, spelled as a Dutch
# keyboard would type them (casefold already makes ß "ss").
_UNDECOMPOSED = str.maketrans(
    {"ø": "o", "ł": "l", "đ": "d", "ħ": "h", "æ": "ae", "œ": "oe", "þ": "th", "\u0131": "i"}
)


def fold(text: str) -> str:
    """Lower case without accents: "Crème Brûlée" and "creme brulee" fold to the same text."""
    decomposed = unicodedata.normalize("NFKD", text.casefold().translate(_UNDECOMPOSED))
    return "".join(c for c in decomposed if not unicodedata.combining(c)).strip()


def words(text: str) -> list[str]:
    """The distinct searchable words of a text, in order of first appearance."""
    return list(dict.fromkeys(_WORD.findall(fold(text))))


def search_words(name: str, brand: str, ean: str | None) -> str:
    """What a product is found by, as stored in `product.search_words`."""
    return " ".join(dict.fromkeys([*words(name), *words(brand), *([ean] if ean else [])]))


def search(
    session: Session,
    *,
    terms: list[str],
    ean: str | None,
    limit: int,
    after: tuple[int, str, int] | None,
) -> tuple[list[ProductCard], tuple[int, str, int] | None]:
    """Products matching every one of `terms` (from `words`, at most `MAX_TERMS`) and/or with this EAN,
    most relevant first; answers the page and the (rank, name key, id) position the next page starts
    after."""
    assert len(terms) <= MAX_TERMS, terms
    assert all(_WORD.fullmatch(term) for term in terms), terms
    index = dialect.pick(session, postgresql=_POSTGRESQL, sqlite=_SQLITE)
    values: dict[str, object] = {"limit": limit + 1}
    if terms:
        values["match"] = index.match(terms)
        values.update({f"whole_{n}": f"% {term} %" for n, term in enumerate(terms)})
    if ean:
        values["ean"] = ean
    if after is not None:
        values["resume_rank"], values["resume_name"], values["resume_id"] = after
    statement = _statement(index, len(terms), by_ean=bool(ean), resuming=after is not None)
    rows = dialect.rows(session, statement, values)
    card_fields = len(CARD_COLUMNS)
    products = [ProductCard(*row[:card_fields]) for row in rows[:limit]]
    if len(rows) > limit:
        # The card's columns, then the name key and the rank (`_statement`).
        last = products[-1]
        name_key, rank = rows[limit - 1][card_fields:]
        return products, (int(rank), name_key, last.id)
    return products, None


@dataclass(frozen=True)
class _WordIndex:
    """One database's index of the products' words: the condition that every term starts a word of the
    product, with the terms bound as `:match`, and how the terms are written for it.

    The terms are letters and digits only (`words`), so quoting them is all the escaping either query
    language needs; they still travel as a bound parameter, never as SQL text."""

    condition: Callable[[], ColumnElement[bool] | TextClause]
    match: Callable[[list[str]], str]


def _condition_postgresql() -> ColumnElement[bool] | TextClause:
    return text("product.search_vector @@ CAST(:match AS tsquery)")


def _condition_sqlite() -> ColumnElement[bool] | TextClause:
    found = text(f"SELECT rowid FROM {SEARCH_TABLE} WHERE {SEARCH_TABLE} MATCH :match")
    return col(Product.id).in_(found.columns(column("rowid", Integer)))


_POSTGRESQL = _WordIndex(_condition_postgresql, lambda terms: " & ".join(f"'{term}':*" for term in terms))
_SQLITE = _WordIndex(_condition_sqlite, lambda terms: " ".join(f'"{term}"*' for term in terms))


# Building the statement cost more of a search's CPU than running it; its shape depends only on these.
@lru_cache(maxsize=4 * (MAX_TERMS + 1) * 2)
def _statement(index: _WordIndex, terms: int, *, by_ean: bool, resuming: bool) -> Select[Any]:
    rank = _rank(terms).label("rank")
    matching = select(*CARD_COLUMNS, col(Product.search_name), rank)
    if terms:
        matching = matching.where(index.condition())
    if by_ean:
        matching = matching.where(col(Product.ean) == bindparam("ean"))
    # One level, no join: so PostgreSQL keeps only the best `limit` rows while it ranks (a top-N sort)
    # instead of sorting every match of a broad word.
    found = matching.subquery("found")
    query = select(found)
    if resuming:
        # Descending rank, ascending name and id, as one row comparison both databases run. The numbers
        # are bound as 64-bit: a cursor may carry any number up to the largest bigint.
        query = query.where(
            tuple_(-found.c.rank, found.c.search_name, found.c.id)
            > tuple_(
                -bindparam("resume_rank", type_=BigInteger),
                bindparam("resume_name", type_=String),
                bindparam("resume_id", type_=BigInteger),
            )
        )
    return query.order_by(found.c.rank.desc(), found.c.search_name, found.c.id).limit(
        bindparam("limit", type_=Integer)
    )


def _rank(terms: int) -> ColumnElement[int]:
    """2 per term that is a whole word of the product (`:whole_N`, the term in spaces and `%`), 1 per term
    that only starts one (the match already guarantees one of the two)."""
    padded = literal(" ") + col(Product.search_words) + literal(" ")
    score: ColumnElement[int] = literal(0, Integer)
    for index in range(terms):
        whole: BindParameter[str] = bindparam(f"whole_{index}", type_=String)
        score = score + case((padded.like(whole), 2), else_=1)
    return score

"""`retail.dialect.first_row`: a text statement on psycopg itself on PostgreSQL (the hottest reads and the
order's write), on SQLAlchemy's connection on SQLite; the same answers either way, and on PostgreSQL the
errors SQLAlchemy would raise, a connection that is gone invalidated as SQLAlchemy invalidates it (so a
lookup on a dropped replica still reads the primary, `retail.replica`)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import psycopg
import pytest
from sqlalchemy import (
    Engine,
    Numeric,
    Select,
    String,
    bindparam,
    cast,
    event,
    func,
    select,
    text,
    type_coerce,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DataError, OperationalError
from sqlalchemy.types import TypeDecorator
from sqlmodel import Session

from retail import dialect
from stores.models import Store
from tests.conftest import terminate_backend
from tests.factories import make_store

_SUM = text("SELECT CAST(:a AS integer) + CAST(:b AS integer), CAST(:at AS timestamptz) WHERE :a > 0")


@pytest.mark.parametrize("engine", ["postgresql", "sqlite"], indirect=True)
def test_the_first_row_or_none_with_its_values(session: Session) -> None:
    at = datetime(2026, 12, 8, 9, 30, tzinfo=UTC)
    row = dialect.first_row(session, _SUM, {"a": 2, "b": 3, "at": dialect.timestamp(session, at)})
    assert row is not None
    assert row[0] == 5
    assert dialect.first_row(session, _SUM, {"a": 0, "b": 3, "at": dialect.timestamp(session, at)}) is None
    # A literal percent sign stays one (psycopg's own placeholders are %(name)s).
    assert dialect.first_row(session, text("SELECT '100%' || :x"), {"x": "!"}) == ("100%!",)


def test_an_error_of_the_statement_is_sqlalchemys(session: Session) -> None:
    with pytest.raises(DataError) as failed:
        dialect.first_row(session, text("SELECT 1 / CAST(:zero AS integer)"), {"zero": 0})
    assert isinstance(failed.value.orig, psycopg.errors.DivisionByZero)
    assert not failed.value.connection_invalidated


def test_a_connection_gone_in_mid_read_is_invalidated_and_not_pooled_again(own_engine: Engine) -> None:
    with Session(own_engine) as session:
        pid = dialect.first_row(session, text("SELECT pg_backend_pid()"), {})
        assert pid is not None
        terminate_backend(pid[0])
        with pytest.raises(OperationalError) as failed:
            dialect.first_row(session, text("SELECT 1"), {})
        assert failed.value.connection_invalidated
    with Session(own_engine) as session:
        again = dialect.first_row(session, text("SELECT pg_backend_pid()"), {})
        assert again is not None
        assert again[0] != pid[0]


class _Shouted(TypeDecorator[str]):
    """A type SQLAlchemy must process on the way out: the driver alone would answer the stored text."""

    impl = String
    cache_ok = True

    def process_result_value(self, value: str | None, dialect: Dialect) -> str | None:
        return None if value is None else value.upper()


_STORES = Store.__table__.c  # type: ignore[attr-defined]


def _listed(
    session: Session, statement: Select[*tuple[Any, ...]], values: dict[str, object]
) -> list[tuple[Any, ...]]:
    """What SQLAlchemy itself answers: the rows `dialect.rows` must give the same."""
    return [tuple(row) for row in session.connection().execute(statement, values)]


def _ids(session: Session, codes: str) -> list[int]:
    found = session.connection().execute(
        select(_STORES.id).where(_STORES.code.like(codes)).order_by(_STORES.id)
    )
    return list(found.scalars())


@pytest.mark.parametrize("engine", ["postgresql", "sqlite"], indirect=True)
def test_a_select_answers_as_sqlalchemy_would(session: Session) -> None:
    for n in range(4):
        make_store(
            session, f"DRV-{n}", location={"lat": 52.0 + n / 100, "lon": 5.1}, low_stock_threshold=n + 1
        )
    ids = _ids(session, "DRV-%")
    # Literals the statement binds itself, a list expanded into IN, typed columns (a float, a decimal).
    statement = (
        select(
            _STORES.id,
            _STORES.code,
            _STORES.lat,
            func.coalesce(_STORES.daily_order_capacity, 7),
            cast(_STORES.low_stock_threshold, Numeric(10, 2)),
        )
        .where(_STORES.id.in_(bindparam("ids", expanding=True)), _STORES.code != bindparam("not_code"))
        .order_by(_STORES.id)
    )
    values: dict[str, object] = {"ids": ids[:3], "not_code": "DRV-1"}
    found = dialect.rows(session, statement, values)
    assert found == _listed(session, statement, values)
    assert [row[1] for row in found] == ["DRV-0", "DRV-2"]
    assert found[0][3] == 7
    assert isinstance(found[0][4], Decimal)
    assert dialect.first_row(session, statement, values) == found[0]
    assert dialect.rows(session, statement, {"ids": [], "not_code": "-"}) == []


@pytest.mark.parametrize("engine", ["postgresql", "sqlite"], indirect=True)
def test_a_column_sqlalchemy_processes_is_still_sqlalchemys(session: Session) -> None:
    make_store(session, "DRV-TEXT")
    statement = select(type_coerce(func.lower(_STORES.code), _Shouted()), _STORES.code).where(
        _STORES.code.in_(bindparam("codes", expanding=True))
    )
    assert dialect.rows(session, statement, {"codes": ["DRV-TEXT", "NONE"]}) == [("DRV-TEXT", "DRV-TEXT")]
    shouted = select(type_coerce(func.lower(_STORES.code), _Shouted())).where(_STORES.code == "DRV-TEXT")
    for _ in range(2):  # the first run judges the columns, the next ones go by that judgement
        assert dialect.rows(session, shouted, {}) == [("DRV-TEXT",)]
        assert dialect.first_row(session, shouted, {}) == ("DRV-TEXT",)


def test_a_plain_select_runs_on_the_driver_alone(session: Session) -> None:
    make_store(session, "DRV-FAST")
    statement = select(_STORES.code).where(
        _STORES.id.in_(bindparam("ids", expanding=True)), _STORES.code.in_(bindparam("codes", expanding=True))
    )
    ids = _ids(session, "DRV-FAST")
    through_sqlalchemy: list[str] = []

    def seen(*args: Any) -> None:
        through_sqlalchemy.append(args[2])

    engine = session.get_bind()
    event.listen(engine, "before_cursor_execute", seen)
    try:
        assert dialect.rows(session, statement, {"ids": ids, "codes": ["DRV-FAST", "X"]}) == [("DRV-FAST",)]
        assert dialect.rows(session, statement, {"ids": ids, "codes": ["X"]}) == []
        assert dialect.rows(session, select(type_coerce(func.lower(_STORES.code), _Shouted())), {})
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    # Only the select with a processed column went through SQLAlchemy (its first run on the driver too).
    assert len(through_sqlalchemy) == 1

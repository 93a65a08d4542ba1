"""`retail.dialect.first_row`: a text statement on psycopg itself on PostgreSQL (the hottest reads and the
order's write), on SQLAlchemy's connection on SQLite; the same answers either way, and on PostgreSQL the
errors SQLAlchemy would raise, a connection that is gone invalidated as SQLAlchemy invalidates it (so a
lookup on a dropped replica still reads the primary, `retail.replica`)."""

from __future__ import annotations

from datetime import UTC, datetime

import psycopg
import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import DataError, OperationalError
from sqlmodel import Session

from retail import dialect
from tests.conftest import terminate_backend

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

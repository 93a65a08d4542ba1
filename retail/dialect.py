"""The one place that knows PostgreSQL from SQLite.

Business code reads as the rule, the same on both databases. Where the two need different SQL, the
function that runs that statement holds its two forms side by side and takes the one for its database
with `pick`; the few things that are not a statement (COPY, the driver's own connection, how a timestamp
is bound in raw SQL, a server setting) are functions here. Nothing else asks which engine it runs on.
"""

from __future__ import annotations

import math
import re
import sqlite3
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import lru_cache
from typing import Any, TypeVar, cast
from zoneinfo import ZoneInfo

import psycopg
from sqlalchemy import (
    Connection,
    Date,
    DateTime,
    Engine,
    Float,
    Integer,
    Select,
    Table,
    TextClause,
    extract,
    func,
    text,
)
from sqlalchemy import cast as sql_cast
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.schema import CreateTable, DropTable
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.expression import ClauseElement, ColumnElement, Executable, SelectBase
from sqlalchemy.types import TypeDecorator, TypeEngine

T = TypeVar("T")

Bind = Session | Connection | Engine

_SQLITE_BATCH = 5000
# SQLSTATE of a unique violation, and the class of data exceptions (a bad integer or date, a field too
# long) and of COPY's own format errors (22P04 bad_copy_file_format): a row PostgreSQL could not read.
_UNIQUE_VIOLATION = "23505"
_DATA_EXCEPTION_CLASS = "22"
_READ_ONLY_SQL_TRANSACTION = "25006"
# What a standby answers when it cancels a query whose rows replay must change (a recovery conflict).
_SERIALIZATION_FAILURE = "40001"
# An execution option of a SQLite engine: its transactions only read (retail/db.py begins them).
SQLITE_READ_ONLY = "retail_sqlite_read_only"


def _name(bind: Bind) -> str:
    engine = bind.get_bind() if isinstance(bind, Session) else bind
    return engine.dialect.name


def pick(bind: Bind, *, postgresql: T, sqlite: T) -> T:
    """The form of one statement (or of one step) for the database `bind` runs on."""
    return postgresql if _name(bind) == "postgresql" else sqlite


def insert(bind: Bind, table: Table) -> postgresql.Insert | sqlite.Insert:
    """An INSERT that takes `on_conflict_do_update` / `_do_nothing`, in the database's own dialect."""
    if _name(bind) == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


def timestamp(bind: Bind, value: datetime) -> datetime | str:
    """A timestamp as raw SQL must bind it.

    PostgreSQL compares `timestamptz` values whatever their offset. SQLite stores text and compares it as
    text, so every timestamp is written in UTC in the one format SQLAlchemy's own DateTime columns use;
    otherwise 06:00+01:00 would sort after 05:30+00:00 and a stale snapshot could win.
    """
    if value.tzinfo is None:
        raise ValueError("timestamps must be timezone-aware")
    if _name(bind) == "postgresql":
        return value
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


class UtcTimestamp(TypeDecorator[datetime]):
    """The column type of every stored instant, `timestamp`'s rule for typed columns: an aware datetime is
    written in UTC. SQLite keeps the wall clock and drops the offset, so a promise worked out in the
    store's zone (10:00+01:00) came back an hour late (10:00, read as UTC); PostgreSQL stores the instant
    either way. Reads are left to the driver: a naive value read back from SQLite is UTC
    (`retail.clock.as_aware_utc`, and `retail.clock.UtcDateTime` in every answer)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None or value.tzinfo is None:
            return value
        return value.astimezone(UTC)


def timestamp_text(bind: Bind, value: datetime) -> str:
    """`timestamp` as text, for a text column of a staging table that SQL casts later."""
    bound = timestamp(bind, value)
    return bound if isinstance(bound, str) else bound.isoformat()


def driver_connection(session: Session) -> psycopg.Connection[tuple[Any, ...]]:
    """The psycopg connection under the session's, in the session's transaction (PostgreSQL only: for
    COPY and for the prepared statements of the hottest paths)."""
    return _driver_of(session.connection())


def _driver_of(connection: Connection) -> psycopg.Connection[tuple[Any, ...]]:
    return cast("psycopg.Connection[tuple[Any, ...]]", connection.connection.driver_connection)


def int_array(values: Iterable[int]) -> str:
    """Integers as a PostgreSQL array literal, for a parameter the statement casts (`CAST(%s AS
    integer[])`): psycopg adapts a list by inspecting its elements to pick the array type, which costs
    more than a text parameter (README, Benchmarks: measured choices)."""
    return "{" + ",".join(map(str, values)) + "}"


def first_row(
    session: Session, statement: TextClause | Select[*tuple[Any, ...]], parameters: Mapping[str, object]
) -> tuple[Any, ...] | None:
    """The first row a statement answers (None: none), on the session's connection, in its transaction
    (as `rows`)."""
    found = _run(session, statement, parameters, first=True)
    return found[0] if found else None


def rows(
    session: Session, statement: TextClause | Select[*tuple[Any, ...]], parameters: Mapping[str, object]
) -> list[tuple[Any, ...]]:
    """Every row a statement answers, as tuples, on the session's connection, in its transaction.

    PostgreSQL: through psycopg itself (which prepares a statement on its fifth run), for the statements
    of the hottest paths: SQLAlchemy's execution of the same statement cost about twice the driver's CPU
    (README, "Measured choices"). A select whose columns the driver does not give back as SQLAlchemy
    would (a type with a result processor on psycopg), or whose bound values SQLAlchemy would convert,
    runs through SQLAlchemy instead. An expanding `IN` is an array on the driver. SQLite: the connection's
    own execute. Meant for statements built once (module-level or cached): each is compiled for the
    driver once, by identity."""
    return _run(session, statement, parameters, first=False)


def _run(
    session: Session,
    statement: TextClause | Select[*tuple[Any, ...]],
    parameters: Mapping[str, object],
    *,
    first: bool,
) -> list[tuple[Any, ...]]:
    connection = session.connection()
    plan = _driver_plan(statement, connection.dialect) if _name(session) == "postgresql" else None
    if plan is None or plan.processed:
        return _through_sqlalchemy(connection, statement, parameters, first=first)
    values = {**plan.literals, **parameters} if plan.literals else dict(parameters)
    for name in plan.integer_lists:
        values[name] = int_array(cast("Iterable[int]", values[name]))
    try:
        cursor = _driver_of(connection).execute(plan.sql, values)
    except psycopg.Error as exc:
        # As if SQLAlchemy had run it: its DBAPIError, and a connection that is gone invalidated, so that
        # the pool never hands it out again and a lookup on a dropped replica reads the primary instead
        # (`retail.replica`). SQLAlchemy's own handler, which does both, has no public name.
        connection._handle_dbapi_exception(exc, plan.sql, values, None, None)
        raise  # not reached: the handler raises
    if plan.columns is not None and plan.processed is None:
        plan.judge(connection.dialect, cursor.description)
        if plan.processed:
            return _through_sqlalchemy(connection, statement, parameters, first=first)
    return cursor.fetchmany(1) if first else cursor.fetchall()


def _through_sqlalchemy(
    connection: Connection,
    statement: TextClause | Select[*tuple[Any, ...]],
    parameters: Mapping[str, object],
    *,
    first: bool,
) -> list[tuple[Any, ...]]:
    result = connection.execute(statement, parameters)
    return [tuple(row) for row in (result.fetchmany(1) if first else result.all())]


@dataclass
class _DriverPlan:
    """A statement as psycopg runs it: its SQL, the values it binds itself (literals), its expanding
    integer lists, and its typed columns, judged on the first run against what the driver answered."""

    sql: str
    literals: dict[str, object]
    integer_lists: tuple[str, ...]
    columns: tuple[TypeEngine[Any], ...] | None  # None: a text statement, whose values SQLAlchemy leaves be
    processed: bool | None = None  # None: not judged yet; True: some column needs SQLAlchemy's processing

    def judge(self, dialect: Dialect, description: Sequence[psycopg.Column] | None) -> None:
        assert self.columns is not None
        assert description is not None
        self.processed = any(
            type_.dialect_impl(dialect).result_processor(dialect, column.type_code) is not None
            for type_, column in zip(self.columns, description, strict=True)
        )


_EXPANDING = re.compile(r"IN \(__\[POSTCOMPILE_(\w+)\]\)")


@lru_cache(maxsize=256)
def _driver_plan(statement: TextClause | Select[*tuple[Any, ...]], dialect: Dialect) -> _DriverPlan | None:
    """The statement on psycopg, or None where only SQLAlchemy runs it as written: a bound value SQLAlchemy
    would convert on the way in (a type with a bind processor)."""
    compiled = statement.compile(dialect=dialect)
    arrays: dict[str, str] = {}
    for name, bind in compiled.binds.items():
        if bind.type.dialect_impl(dialect).bind_processor(dialect) is not None:
            return None
        if bind.expanding:
            arrays[name] = bind.type.compile(dialect=dialect)
    # `IN (<expanded>)` as `= ANY(<array>)`: one statement whatever the list's length, prepared once.
    sql = _EXPANDING.sub(lambda m: f"= ANY(CAST(%({m.group(1)})s AS {arrays[m.group(1)]}[]))", str(compiled))
    if "POSTCOMPILE" in sql:
        return None
    # Only the values the statement carries: a parameter the caller must give stays missing when it does
    # not (psycopg refuses the statement, as SQLAlchemy would), rather than bound as NULL.
    literals = {name: value for name, value in compiled.params.items() if not compiled.binds[name].required}
    columns = None if isinstance(statement, TextClause) else tuple(c.type for c in statement.selected_columns)
    integer_lists = tuple(name for name in arrays if isinstance(compiled.binds[name].type, Integer))
    return _DriverPlan(sql, literals, integer_lists, columns)


def create_temporary_table(session: Session, table: Table) -> None:
    """A temporary table for this transaction's staging, empty (one left by an earlier statement of the
    same connection is dropped first). `table` is declared with `prefixes=["TEMPORARY"]` on a metadata
    of its own, so that the same object serves the statements that read it."""
    session.execute(DropTable(table, if_exists=True))
    session.execute(CreateTable(table))


def copy_rows(
    session: Session, table: str, columns: Sequence[str], rows: Iterable[tuple[object, ...]]
) -> int:
    """Write `rows` into `table`: COPY on PostgreSQL, multi-row INSERTs on SQLite; answers how many."""
    return pick(session, postgresql=_copy_rows_postgresql, sqlite=_insert_rows_sqlite)(
        session, table, columns, rows
    )


def _copy_rows_postgresql(
    session: Session, table: str, columns: Sequence[str], rows: Iterable[tuple[object, ...]]
) -> int:
    cursor = driver_connection(session).cursor()
    with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)
    return int(cursor.rowcount)


def _insert_rows_sqlite(
    session: Session, table: str, columns: Sequence[str], rows: Iterable[tuple[object, ...]]
) -> int:
    statement = text(
        f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join(':' + c for c in columns)})"
    )
    count = 0
    batch: list[dict[str, object]] = []
    for row in rows:
        batch.append(dict(zip(columns, row, strict=True)))
        if len(batch) == _SQLITE_BATCH:
            session.execute(statement, batch)
            count += len(batch)
            batch = []
    if batch:
        session.execute(statement, batch)
        count += len(batch)
    return count


def copy_csv(session: Session, table: str, columns: Sequence[str], body: Iterable[bytes]) -> int:
    """PostgreSQL: COPY a CSV body (without its header line) into a table created in this same
    subtransaction, as it is; answers how many rows. FREEZE writes the rows frozen: the first scan then
    has no hint bits to set, which would otherwise dirty and write back every page of the stage."""
    cursor = driver_connection(session).cursor()
    with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN (FORMAT csv, FREEZE)") as copy:
        for chunk in body:
            copy.write(chunk)
    return int(cursor.rowcount)


def set_local(session: Session, setting: str, value: str) -> None:
    """A planner or memory setting for the rest of this transaction (PostgreSQL); SQLite has none."""
    if _name(session) == "postgresql":
        session.execute(text(f"SET LOCAL {setting} = {value}"))


def serialise_on(session: Session, key: str) -> None:
    """Hold, until this transaction ends, a lock on `key`: transactions that take it run one after the
    other, for a rule counted over rows no row lock covers (a count of rows that do not exist yet).
    PostgreSQL: a transaction-level advisory lock on the key's 64-bit hash (a collision only serialises
    two unrelated keys). SQLite: a writer already holds the database's one write lock (retail/db.py)."""
    if _name(session) == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"), {"key": key})


def analyze(session: Session, table: str) -> None:
    """Statistics for a freshly filled temporary table (PostgreSQL plans it as empty without them)."""
    if _name(session) == "postgresql":
        session.execute(text(f"ANALYZE {table}"))


def autocommit(connection: Connection) -> Connection:
    """The connection outside any transaction, for a read that needs no BEGIN and COMMIT. SQLite's
    connections begin a transaction on their own (retail/db.py) and are left as they are."""
    if _name(connection) == "postgresql":
        return connection.execution_options(isolation_level="AUTOCOMMIT")
    return connection


def read_only(engine: Engine) -> Engine:
    """The same database and pool, in transactions that refuse to write.

    PostgreSQL: `BEGIN READ ONLY`, which psycopg sends as its own BEGIN (no round trip more). SQLite: a
    deferred BEGIN (retail/db.py), which in WAL mode reads a snapshot beside the one writer instead of
    queueing for its lock, under `query_only`, so that a write fails there rather than quietly taking the
    lock after all. Either way a write is a bug, answered as one (`is_write_in_read_only`)."""
    return engine.execution_options(
        **pick(engine, postgresql={"postgresql_readonly": True}, sqlite={SQLITE_READ_ONLY: True})
    )


@contextmanager
def writes_refused(session: Session) -> Iterator[None]:
    """`read_only` for a session inside a transaction that is already open, and so cannot begin READ ONLY
    (the tests' rolled-back one): the session's savepoint refuses writes until the block ends, and is then
    rolled back. SQLite's `query_only` belongs to the connection, not the savepoint, so it is turned off
    again by hand."""
    refuse = pick(session, postgresql="SET LOCAL transaction_read_only = on", sqlite="PRAGMA query_only = ON")
    session.execute(text(refuse))
    try:
        yield
    finally:
        session.rollback()
        if _name(session) == "sqlite":
            session.execute(text("PRAGMA query_only = OFF"))


def is_write_in_read_only(exc: BaseException) -> bool:
    """A write attempted in a read-only transaction (`read_only`): a bug of the caller's, never a database
    out of reach, even though SQLite raises it as an OperationalError."""
    error = exc.orig if isinstance(exc, DBAPIError) else exc
    return (
        _sqlstate(exc) == _READ_ONLY_SQL_TRANSACTION
        or getattr(error, "sqlite_errorcode", None) == sqlite3.SQLITE_READONLY
    )


def _sqlstate(exc: BaseException) -> str:
    error = exc.orig if isinstance(exc, DBAPIError) else exc
    return str(getattr(error, "sqlstate", None) or "")


def is_unique_violation(exc: BaseException) -> bool:
    return _sqlstate(exc) == _UNIQUE_VIOLATION


def is_recovery_conflict(exc: BaseException) -> bool:
    """A read a PostgreSQL standby cancelled to replay changes under it (in a read-only transaction
    nothing else raises a serialization failure). Read again elsewhere, it succeeds."""
    return _sqlstate(exc) == _SERIALIZATION_FAILURE


def is_bad_input(exc: BaseException) -> bool:
    """A value PostgreSQL could not read (a bad integer or date, a CSV row COPY could not split)."""
    return _sqlstate(exc).startswith(_DATA_EXCEPTION_CLASS)


class _CreateTemporaryTableAs(Executable, ClauseElement):
    inherit_cache = False

    def __init__(self, table: str, query: SelectBase) -> None:
        self.table = table
        self.query = query


@compiles(_CreateTemporaryTableAs)
def _compile_create_temporary_table_as(
    element: _CreateTemporaryTableAs, compiler: SQLCompiler, **kw: Any
) -> str:
    return f"CREATE TEMPORARY TABLE {element.table} AS {compiler.process(element.query, **kw)}"


def create_temporary_table_as(session: Session, table: str, query: SelectBase) -> None:
    """A temporary table holding what `query` answers, written in one statement (both databases have
    `CREATE TEMPORARY TABLE ... AS`); one left by an earlier statement of the same connection is dropped
    first."""
    session.execute(text(f"DROP TABLE IF EXISTS {table}"))
    session.execute(_CreateTemporaryTableAs(table, query))


# ------------------------------------------------------------------------------ report arithmetic
# PostgreSQL converts zones, subtracts instants and takes percentiles itself; SQLite has none of the
# three, so each connection gets them as Python functions (`install_sqlite_functions`, from
# retail/db.py's connect hook) and the statement is the same on both, but for these three expressions.


def local_date(bind: Bind, instant: Any, zone: Any) -> ColumnElement[date]:
    """The calendar date of `instant` in the IANA zone named by `zone` (a column: each row its own).
    Columns and expressions are `Any` here, as SQLModel's `col()` types them."""
    if _name(bind) == "postgresql":
        return sql_cast(func.timezone(zone, instant), Date)
    return func.retail_local_date(instant, zone, type_=Date)


def minutes_between(bind: Bind, start: Any, end: Any) -> ColumnElement[float]:
    """`end - start` in minutes, fractional; NULL when either is."""
    if _name(bind) == "postgresql":
        return sql_cast(extract("epoch", end - start) / 60.0, Float)
    return func.retail_minutes_between(start, end, type_=Float)


def percentile(bind: Bind, fraction: float, value: Any) -> ColumnElement[float]:
    """The aggregate: the `fraction` percentile of `value` over the group, interpolated between the two
    nearest values (PostgreSQL's `percentile_cont`, `continuous_percentile` on SQLite); NULLs are left
    out, and a group of none answers NULL."""
    if _name(bind) == "postgresql":
        return func.percentile_cont(fraction).within_group(value).cast(Float)
    return func.retail_percentile(value, fraction, type_=Float)


def continuous_percentile(values: Sequence[float], fraction: float) -> float | None:
    """`percentile_cont`'s rule: the value at position `fraction * (n - 1)` of the sorted values,
    linearly interpolated between its neighbours; None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    position = fraction * (len(ordered) - 1)
    below, above = math.floor(position), math.ceil(position)
    return ordered[below] + (ordered[above] - ordered[below]) * (position - below)


def _sqlite_instant(value: str | None) -> datetime | None:
    # SQLite keeps UTC wall clocks as text (UtcTimestamp), in SQLAlchemy's format.
    return None if value is None else datetime.fromisoformat(value).replace(tzinfo=UTC)


def _sqlite_local_date(value: str | None, zone: str | None) -> str | None:
    instant = _sqlite_instant(value)
    if instant is None or zone is None:
        return None
    return instant.astimezone(ZoneInfo(zone)).date().isoformat()


def _sqlite_minutes_between(start: str | None, end: str | None) -> float | None:
    first, last = _sqlite_instant(start), _sqlite_instant(end)
    if first is None or last is None:
        return None
    return (last - first).total_seconds() / 60.0


class _SqlitePercentile:
    """`percentile` as a SQLite aggregate: the group's values, in memory (a group is one store's day, or
    one store's range: bounded by the report's range)."""

    def __init__(self) -> None:
        self.values: list[float] = []
        self.fraction = 0.5

    def step(self, value: float | None, fraction: float) -> None:
        self.fraction = fraction
        if value is not None:
            self.values.append(float(value))

    def finalize(self) -> float | None:
        return continuous_percentile(self.values, self.fraction)


def install_sqlite_functions(dbapi_connection: sqlite3.Connection) -> None:
    """Give a SQLite connection what `local_date`, `minutes_between` and `percentile` call."""
    dbapi_connection.create_function("retail_local_date", 2, _sqlite_local_date, deterministic=True)
    dbapi_connection.create_function("retail_minutes_between", 2, _sqlite_minutes_between, deterministic=True)
    # typeshed's protocol knows one-argument aggregates only.
    dbapi_connection.create_aggregate("retail_percentile", 2, cast(Any, _SqlitePercentile))

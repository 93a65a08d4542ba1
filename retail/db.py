"""Engine, sessions and the transaction boundary.

One transaction per request or task, owned by the edge: services take a session, may flush, and never
commit. Work that must only happen once the data is durable (sending a Celery task) is registered with
`on_commit` and runs from SQLAlchemy's `after_commit` event, or is dropped on rollback.

A request that only reads says so (`ReadSessionDep`): its transaction refuses writes
(`retail.dialect.read_only`), and on SQLite it reads beside the writer instead of waiting for the one
write lock that every other transaction takes up front.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends
from fastapi.concurrency import run_in_threadpool
from sqlalchemy import event
from sqlalchemy.engine import Dialect, Engine, make_url
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import Session as OrmSession
from sqlmodel import Session, create_engine

from retail import dialect
from retail.settings import Settings, get_settings

_AFTER_COMMIT_KEY = "retail_after_commit"

_engines: dict[str, Engine] = {}
_read_engines: dict[str, Engine] = {}


def make_engine(url: str, *, connect_timeout_s: int | None = None, lookups: bool = False) -> Engine:
    """An engine for a SQLAlchemy URL, with the per-backend settings the service relies on;
    `connect_timeout_s` bounds a PostgreSQL connect (libpq's `connect_timeout`, whole seconds).

    `lookups` (PostgreSQL): an engine for the shopper's lookups only, whose connections refuse every write
    (`default_transaction_read_only`) and run each statement as a transaction of its own (autocommit): a
    lookup of one statement costs one round trip, not three (BEGIN, the statement, COMMIT), which was a
    tenth of a lookup's CPU; two statements of one lookup may read two snapshots, which the lookups (stores,
    products, stock, prices, each read whole in one statement) do not mind. Its own pool: a connection
    keeps these settings for good."""
    sa_url = make_url(url)
    if sa_url.get_backend_name() == "sqlite":
        database = sa_url.database
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
        event.listen(engine, "connect", _sqlite_on_connect)
        event.listen(engine, "begin", _sqlite_on_begin)
        return engine
    connect_args: dict[str, Any] = {} if connect_timeout_s is None else {"connect_timeout": connect_timeout_s}
    if lookups:
        connect_args["options"] = "-c default_transaction_read_only=on"
    engine = create_engine(
        url,
        pool_size=10,
        max_overflow=20,
        connect_args=connect_args,
        **({"isolation_level": "AUTOCOMMIT"} if lookups else {}),
    )
    event.listen(engine, "checkin", _note_checkin)
    event.listen(engine, "checkout", _pinger(engine.dialect))
    return engine


# A pooled connection that sat idle may have been cut (a database restart, a proxy's idle timeout), so it
# is pinged before use, but only then: SQLAlchemy's `pool_pre_ping` pings on every checkout, a round trip
# more per transaction, which was a fifth of a reservation's time. A connection busy moments ago is alive
# as far as a ping could tell; should the database go away in between, the statement fails with a
# disconnect error (a 503, or a retried task) and SQLAlchemy then replaces every connection of the pool.
IDLE_BEFORE_PING_S = 2.0
_CHECKED_IN = "retail_checked_in"


def _note_checkin(_dbapi_connection: Any, record: Any) -> None:
    record.info[_CHECKED_IN] = time.monotonic()


def _pinger(dialect: Dialect) -> Callable[[Any, Any, Any], None]:
    def ping_if_idle(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        checked_in = record.info.get(_CHECKED_IN)
        if checked_in is None or time.monotonic() - checked_in < IDLE_BEFORE_PING_S:
            return
        try:
            dialect.do_ping(dbapi_connection)
        except Exception as exc:
            # The pool drops this connection and checks out (or opens) another.
            raise DisconnectionError() from exc

    return ping_if_idle


def _sqlite_on_connect(dbapi_connection: Any, _record: Any) -> None:
    # pysqlite's own transaction handling defers BEGIN until the first write, which lets two writers read
    # the same rows and then both update them. We take over BEGIN (see _sqlite_on_begin).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()
    dialect.install_sqlite_functions(dbapi_connection)


def _sqlite_on_begin(connection: Any) -> None:
    # A writer begins IMMEDIATE, taking the one write lock up front: writers serialise, as row locks would
    # on PostgreSQL, and none fails half-way (a deferred transaction that has read cannot always upgrade
    # to the write lock, and gets SQLITE_BUSY however long it waits). A reader begins deferred: in WAL
    # mode it reads its snapshot beside the writer. `query_only` is the connection's, so it is set for
    # every transaction, both ways: the pool hands the same connection to readers and writers.
    read_only = bool(connection.get_execution_options().get(dialect.SQLITE_READ_ONLY))
    connection.exec_driver_sql(f"PRAGMA query_only = {'ON' if read_only else 'OFF'}")
    connection.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")


def get_engine(settings: Settings | None = None) -> Engine:
    """The database's engine, for transactions that may write."""
    url = (settings or get_settings()).sqlalchemy_url
    engine = _engines.get(url)
    if engine is None:
        engine = _engines[url] = make_engine(url)
    return engine


def get_read_engine(settings: Settings | None = None) -> Engine:
    """The same database and pool as `get_engine`, in transactions that only read."""
    url = (settings or get_settings()).sqlalchemy_url
    engine = _read_engines.get(url)
    if engine is None:
        engine = _read_engines[url] = dialect.read_only(get_engine(settings))
    return engine


_lookup_engines: dict[str, Engine] = {}


def get_lookup_engine(settings: Settings | None = None) -> Engine:
    """The engine of the shopper's lookups on the primary (`retail.replica` reads them from a replica when
    there is one): on PostgreSQL `make_engine(lookups=True)`, on SQLite `get_read_engine`'s."""
    settings = settings or get_settings()
    url = settings.sqlalchemy_url
    engine = _lookup_engines.get(url)
    if engine is None:
        sqlite = make_url(url).get_backend_name() == "sqlite"
        engine = get_read_engine(settings) if sqlite else make_engine(url, lookups=True)
        _lookup_engines[url] = engine
    return engine


def on_commit(session: OrmSession, callback: Callable[[], object]) -> None:
    """Run `callback` after the session's transaction commits; forget it if the transaction rolls back."""
    session.info.setdefault(_AFTER_COMMIT_KEY, []).append(callback)


@event.listens_for(OrmSession, "after_commit")
def _run_after_commit(session: OrmSession) -> None:
    callbacks: list[Callable[[], None]] = session.info.pop(_AFTER_COMMIT_KEY, [])
    for callback in callbacks:
        callback()


@event.listens_for(OrmSession, "after_rollback")
def _drop_after_commit(session: OrmSession) -> None:
    session.info.pop(_AFTER_COMMIT_KEY, None)


@contextmanager
def session_scope(engine: Engine | None = None) -> Iterator[Session]:
    """One transaction for a CLI command or a task: commit on success, roll back on any error."""
    with Session(engine or get_engine(), expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


@contextmanager
def read_session_scope(engine: Engine | None = None) -> Iterator[Session]:
    """One transaction that only reads, on a read-only engine (`get_read_engine`, or
    `retail.dialect.read_only` of one): a write in it fails. Nothing to commit; closing ends it."""
    with Session(engine or get_read_engine(), expire_on_commit=False) as session:
        yield session


def delete_in_batches(delete: Callable[[Session, int], int], *, batch: int, max_batches: int) -> int:
    """Run `delete(session, batch)` (which deletes at most `batch` rows and answers how many) one
    transaction at a time until it deletes fewer than `batch` or `max_batches` ran; answers the total.
    Short transactions hold few locks and let a periodic clean-up stop half-way and go on next time."""
    deleted_total = 0
    for _ in range(max_batches):
        with session_scope() as session:
            deleted = delete(session, batch)
        deleted_total += deleted
        if deleted < batch:
            break
    return deleted_total


# Marks a session made by the request dependencies below, whose transaction the route may end itself.
_REQUEST_SESSION = "retail_request_session"


def end_transaction(session: Session, *, failed: bool) -> None:
    """End a request session's transaction where the caller stands (a worker thread): roll back when the
    request failed, else commit, a read session's included (nothing to write; it keeps what it loaded, as
    closing would not). Sessions the request dependencies below did not make (tests' own) are left alone.

    `retail.routing.OneHopRoute` calls this in the endpoint's thread, so that the dependency's exit,
    on the event loop, finds the connection back in the pool and has no thread to hop to."""
    if not session.info.get(_REQUEST_SESSION):
        return
    if failed:
        session.rollback()
    else:
        session.commit()


def _end_and_close(session: Session, failed: bool) -> None:
    try:
        end_transaction(session, failed=failed)
    finally:
        session.close()


def as_request_session(session: Session) -> Session:
    """Mark `session` as a request's: `end_transaction` ends it, and `release` closes it."""
    session.info[_REQUEST_SESSION] = True
    return session


async def release(session: Session, *, failed: bool) -> None:
    """Close a request's session after its route: no hop to a worker thread when the route already ended
    the transaction (`end_transaction`), the connection back in the pool; otherwise commit, or roll back
    when the request failed, in a worker thread, as `session_scope` does."""
    if session.in_transaction():
        await run_in_threadpool(_end_and_close, session, failed)
    else:
        session.close()


@asynccontextmanager
async def request_session(session: Session) -> AsyncIterator[Session]:
    """`session` as the request's, for an async dependency: making a session does no I/O (it connects on
    its first statement), so entering costs no hop to a worker thread, and neither does the exit when the
    route already ended the transaction (`release`)."""
    as_request_session(session)
    failed = True
    try:
        yield session
        failed = False
    finally:
        await release(session, failed=failed)


async def get_session() -> AsyncIterator[Session]:
    """FastAPI dependency: the request's transaction. Declare with `scope="function"` so a failed commit
    turns into an error response instead of happening after a 200 was sent."""
    async with request_session(Session(get_engine(), expire_on_commit=False)) as session:
        yield session


async def get_read_session() -> AsyncIterator[Session]:
    """FastAPI dependency: the transaction of a request that only reads (on `get_read_engine`). Function
    scope too, so the connection goes back to the pool before the answer is sent."""
    async with request_session(Session(get_read_engine(), expire_on_commit=False)) as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session, scope="function")]
ReadSessionDep = Annotated[Session, Depends(get_read_session, scope="function")]

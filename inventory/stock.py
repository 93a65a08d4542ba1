"""Every change of stock, and the availability feed that follows them.

All writes to `stock` happen here, each as one set-based statement that also stamps the row with the
writing transaction (`feed_xid`), so the availability feed sees every path: snapshots, movements, and the
order paths (reservation, release, collection) that arrive with click and collect.

The rules of the webshop sync:
- A snapshot is the absolute count at `as_of`. One not newer than the stored `as_of` is stale and changes
  nothing. Otherwise `on_hand` becomes the count plus every recorded movement after `as_of`: those are not
  in the count yet, while movements before `as_of` already are.
- A movement counts once (by `movement_id`). It changes `on_hand` only if it happened after the stored
  `as_of`; an older one is already contained in the last count.
- No count or movement may be dated more than `MAX_CLOCK_SKEW` ahead of the server's clock, nor before
  `EARLIEST_INSTANT` (`instant_problem`): a count from the future would make every real count until then
  stale, and a movement from the future would be added on top of every count until then.

Batches are written to a temporary staging table first (COPY on PostgreSQL), resolved and checked into a
second one by one statement, then written by one statement per rule, so a 10,000-row request or a
million-row CSV costs a handful of round trips.

The feed: a row's `feed_xid` is its last writer's transaction id, and the writer logs the row's (store,
bucket of product ids) under that id in `stock_change`. `inventory.feed` walks the log in order and reads
each logged bucket's rows still stamped with that id, serving only writers that have finished
(`feed_snapshot`); its cursor lists the running writers a page went past, so a row whose writer commits
later can never land behind a cursor that has already passed it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import psycopg
from sqlalchemy import bindparam, text
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session

from retail.clock import as_aware_utc, utcnow

STAGE_SNAPSHOT = "stage_stock_snapshot"
STAGE_RESOLVED = "stage_stock_resolved"
UNIQUE_VIOLATION = "23505"
STAGE_MOVEMENT = "stage_stock_movement"


# The clocks of tills and the webshop run a little ahead of the server's now and then; more than this is
# a wrong date (2099 for 2025), refused per row with `invalid_date`.
MAX_CLOCK_SKEW = timedelta(minutes=5)
EARLIEST_INSTANT = datetime(2000, 1, 1, tzinfo=UTC)
_TOO_LATE = f"lies more than {MAX_CLOCK_SKEW.total_seconds() / 60:g} minutes ahead of the server's clock"
_TOO_EARLY = f"lies before {EARLIEST_INSTANT.date().isoformat()}"
INSTANT_RULE = (
    f"RFC 3339 with an offset, from {EARLIEST_INSTANT.year} on, at most "
    f"{MAX_CLOCK_SKEW.total_seconds() / 60:g} minutes ahead of the server's clock"
)


def instant_window(now: datetime) -> tuple[datetime, datetime]:
    """The first and the last instant a count or a movement may be dated at, by the server's clock `now`."""
    return EARLIEST_INSTANT, now + MAX_CLOCK_SKEW


def instant_problem(value: datetime, *, now: datetime) -> str | None:
    """Why a count's `as_of` or a movement's `at` is refused, or None. The CSV fast path applies the same
    window in SQL (`_resolve_snapshots`)."""
    earliest, latest = instant_window(now)
    if value > latest:
        return _TOO_LATE
    if value < earliest:
        return _TOO_EARLY
    return None


def is_postgres(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def db_time(session: Session, value: datetime) -> datetime | str:
    """A timestamp as raw SQL must bind it.

    PostgreSQL compares `timestamptz` values whatever their offset. SQLite stores text and compares it as
    text, so every timestamp is written in UTC in the one format SQLAlchemy's own DateTime columns use;
    otherwise 06:00+01:00 would sort after 05:30+00:00 and a stale snapshot could win.
    """
    if value.tzinfo is None:
        raise ValueError("timestamps must be timezone-aware")
    if is_postgres(session):
        return value
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def feed_xid(session: Session) -> int:
    """The id that places this transaction's stock changes in the availability feed."""
    if is_postgres(session):
        return int(session.execute(text(f"SELECT {_PG_XID}")).scalar_one())
    # SQLite runs one writer at a time (BEGIN IMMEDIATE), so a counter bumped inside the transaction
    # orders transactions exactly as they commit.
    session.execute(
        text(
            "INSERT INTO feed_clock (id, value) VALUES (1, 1) "
            "ON CONFLICT (id) DO UPDATE SET value = value + 1"
        )
    )
    return int(session.execute(text("SELECT value FROM feed_clock WHERE id = 1")).scalar_one())


@dataclass(frozen=True)
class FeedSnapshot:
    """Which writers' changes the feed may serve: those of every id below `end` that is not `running`.

    `running` holds the transactions of this database that could still commit (the caller's own
    included). Sessions of other databases on the same server cannot write these tables, so they are left
    out: a long transaction there does not hold the feed back.
    """

    end: int
    running: frozenset[int]

    @property
    def horizon(self) -> int:
        """Feed rows with a `feed_xid` below this are final: every transaction that could commit is newer."""
        return min(self.running | {self.end})


def feed_snapshot(session: Session) -> FeedSnapshot:
    """PostgreSQL: the current snapshot's end (one past the newest finished transaction) and this
    database's transactions running below it. SQLite: one writer at a time, none of them running while
    this transaction reads, so every id the clock gave out is final."""
    if is_postgres(session):
        # pg_stat_activity is read once per transaction and then served from a copy: a backend that took
        # its id since would be missing from it, and a second snapshot would pass a writer still running.
        session.execute(text("SELECT pg_stat_clear_snapshot()"))
        end, running = session.execute(_PG_FEED_SNAPSHOT).one()
        return FeedSnapshot(end=int(end), running=frozenset(int(xid) for xid in running or ()))
    value = session.execute(text("SELECT value FROM feed_clock WHERE id = 1")).scalar()
    return FeedSnapshot(end=int(value or 0) + 1, running=frozenset())


def feed_horizon(session: Session) -> int:
    """See `FeedSnapshot.horizon`."""
    return feed_snapshot(session).horizon


# The running transactions come from the snapshot, whose ids are 64-bit; pg_stat_activity (32-bit ids)
# only says which of them belong to this database. Matched on their low 32 bits, which is exact: ids in
# use at once are never 2^31 apart. (Placing pg_stat_activity's ids in an epoch by hand went wrong: a
# transaction that took its id after the newest finished one is past the snapshot's end, and was put an
# epoch back, 2^32 below everything, so the feed answered empty pages in the middle of its data.)
_PG_FEED_SNAPSHOT = text(
    """WITH snapshot AS (SELECT pg_current_snapshot() AS s)
       SELECT pg_snapshot_xmax(s)::text::bigint,
              array_remove((SELECT array_agg(running::text::bigint) FROM pg_snapshot_xip(s) AS running
                            WHERE xid(running) IN (SELECT backend_xid FROM pg_stat_activity
                                                   WHERE datname = current_database()))
                           || pg_current_xact_id_if_assigned()::text::bigint, NULL)
       FROM snapshot"""
)


# The feed's log (`stock_change`): every writer that stamps rows with its `feed_xid` also logs their
# (store, bucket) under it, in the same transaction. Logging a bucket none of whose rows end up written
# is harmless (the feed finds no row with that `feed_xid` there), so writers log before they know.

FEED_BUCKET = 1024  # product ids per log row; migration 0004 backfilled with this value
# The writing transaction's id, computed by PostgreSQL inside a statement.
_PG_XID = "pg_current_xact_id()::text::bigint"


def _log_sql(xid: str, rows: str) -> str:
    """SQL logging the buckets of the rows `rows` answers (store_id, product_id) as changed by transaction
    `xid` (an SQL expression): a statement of its own, or a data-modifying CTE of the writing statement.
    `FEED_BUCKET` is read at each call, for tests that make buckets small."""
    return (
        "INSERT INTO stock_change (xid, store_id, bucket) "
        f"SELECT DISTINCT {xid}, store_id, product_id / {FEED_BUCKET} FROM ({rows}) AS changed "
        "WHERE true ON CONFLICT DO NOTHING"
    )


_LOG_KEY = text(
    "INSERT INTO stock_change (xid, store_id, bucket) VALUES (:xid, :store, :bucket) ON CONFLICT DO NOTHING"
)


def logged_rows(change: str, stock_row: str) -> str:
    """SQL condition: `stock_row` is one of the rows log row `change` names, still stamped by its writer.
    The one way a log row is read: the feed, its pruning and the sync-lag metric all join through it.
    `FEED_BUCKET` is read at each call, for tests that make buckets small."""
    return (
        f"{stock_row}.store_id = {change}.store_id AND {stock_row}.feed_xid = {change}.xid "
        f"AND {stock_row}.product_id >= {change}.bucket * {FEED_BUCKET} "
        f"AND {stock_row}.product_id < ({change}.bucket + 1) * {FEED_BUCKET}"
    )


def _log_changes(session: Session, *, xid: int, rows: str) -> None:
    """Log the buckets of the rows `rows` (SQL answering store_id, product_id) as changed by `xid`."""
    session.execute(text(_log_sql(":xid", rows)), {"xid": xid})


def _log_keys(session: Session, *, xid: int, keys: Iterable[tuple[int, int]]) -> None:
    """Log the buckets of (store_id, product_id) `keys` as changed by `xid`."""
    buckets = sorted({(store_id, product_id // FEED_BUCKET) for store_id, product_id in keys})
    if buckets:
        session.connection().execute(
            _LOG_KEY, [{"xid": xid, "store": store, "bucket": bucket} for store, bucket in buckets]
        )


def prune_change_log(session: Session, *, batch: int) -> int:
    """Delete up to `batch` log rows that can no longer give the feed anything, oldest first; answers how
    many. Without this the log grows by a row or more per stock-writing transaction, for ever.

    A log row (xid, store, bucket) is spent once no stock row of that bucket still carries `xid`: a row's
    `feed_xid` only ever moves on to its next writer, and a finished writer stamps nothing more, so a
    spent log row stays spent, and a feed reading it would find nothing (a poller whose cursor is before
    it reads the rows under their later writers' log rows). Only writers older than the feed's horizon
    are pruned: every transaction that could still commit is newer, so none of the stamps checked for can
    still appear.
    """
    deleted = session.execute(
        text(
            f"""DELETE FROM stock_change WHERE (xid, store_id, bucket) IN (
                    SELECT c.xid, c.store_id, c.bucket FROM stock_change c
                    WHERE c.xid < :horizon
                      AND NOT EXISTS (SELECT 1 FROM stock s WHERE {logged_rows("c", "s")})
                    ORDER BY c.xid, c.store_id, c.bucket
                    LIMIT :batch)"""
        ),
        {"horizon": feed_horizon(session), "batch": batch},
    )
    return int(deleted.rowcount)  # type: ignore[attr-defined]


# ------------------------------------------------------------------------------------------------ staging
# Staged rows carry the webshop's codes; the merges resolve them to ids by joining, so a million-row CSV
# needs no lookups from Python while its COPY is open, and unknown codes come back from one query.

STAGE_FRESH = "stage_fresh_movement"
MAX_REPORTED_ERRORS = 1000


@dataclass(frozen=True)
class StagedSnapshot:
    line: int
    store_code: str
    sku: str
    on_hand: int
    as_of: datetime


@dataclass(frozen=True)
class StagedMovement:
    line: int
    movement_id: str
    store_code: str
    sku: str
    delta: int
    at: datetime


def _create_snapshot_stage(session: Session) -> None:
    # Text columns: the CSV fast path copies the webshop's bytes in untouched and the merge casts them.
    # It leaves `line` empty: rows lie in the order COPY read them, so their position is their line, worked
    # out only for the rows a problem is reported on (an identity column cost a third of the COPY).
    _create(session, STAGE_SNAPSHOT, "line INTEGER, store_code TEXT, sku TEXT, on_hand TEXT, as_of TEXT")


def stage_snapshots(session: Session, rows: Iterable[StagedSnapshot]) -> int:
    """Stage snapshot rows that were already checked field by field in Python; answers how many."""
    _create_snapshot_stage(session)
    return _copy(
        session,
        STAGE_SNAPSHOT,
        ("line", "store_code", "sku", "on_hand", "as_of"),
        ((r.line, r.store_code, r.sku, str(r.on_hand), _time_text(session, r.as_of)) for r in rows),
    )


def stage_snapshot_csv(session: Session, columns: Sequence[str], body: Iterable[bytes]) -> int:
    """PostgreSQL: COPY a CSV body (without its header line) as it is; the merge checks and casts it.
    Answers how many rows it staged.

    A row COPY cannot split (wrong field count, broken quoting) aborts the COPY, as a cast of a bad value
    aborts the merge: the caller then replays the body through the row-by-row path, which reports each
    bad row instead.
    """
    _create_snapshot_stage(session)
    cursor = _driver_connection(session).cursor()
    # FREEZE (the table was created in this same subtransaction) writes the rows frozen: the first scan
    # then has no hint bits to set, which would otherwise dirty and write back every page of the stage.
    statement = f"COPY {STAGE_SNAPSHOT} ({', '.join(columns)}) FROM STDIN (FORMAT csv, FREEZE)"
    with cursor.copy(statement) as copy:
        for chunk in body:
            copy.write(chunk)
    return int(cursor.rowcount)


def _time_text(session: Session, value: datetime) -> str:
    converted = db_time(session, value)
    return converted if isinstance(converted, str) else converted.isoformat()


def stage_movements(session: Session, rows: Iterable[StagedMovement]) -> None:
    _create(
        session,
        STAGE_MOVEMENT,
        "line INTEGER, movement_id VARCHAR(100), store_code VARCHAR(32), "
        "sku VARCHAR(64), delta INTEGER, at TIMESTAMP WITH TIME ZONE",
    )
    _copy(
        session,
        STAGE_MOVEMENT,
        ("line", "movement_id", "store_code", "sku", "delta", "at"),
        ((r.line, r.movement_id, r.store_code, r.sku, r.delta, db_time(session, r.at)) for r in rows),
    )


def _create(session: Session, table: str, columns: str) -> None:
    session.execute(text(f"DROP TABLE IF EXISTS {table}"))
    session.execute(text(f"CREATE TEMPORARY TABLE {table} ({columns})"))


def _copy(session: Session, table: str, columns: Sequence[str], rows: Iterable[tuple[object, ...]]) -> int:
    """Write `rows` into `table` (COPY on PostgreSQL); answers how many."""
    if is_postgres(session):
        cursor = _driver_connection(session).cursor()
        with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        return int(cursor.rowcount)
    statement = text(
        f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join(':' + c for c in columns)})"
    )
    count = 0
    batch: list[dict[str, object]] = []
    for row in rows:
        batch.append(dict(zip(columns, row, strict=True)))
        if len(batch) == 5000:
            session.execute(statement, batch)
            count += len(batch)
            batch = []
    if batch:
        session.execute(statement, batch)
        count += len(batch)
    return count


@dataclass(frozen=True)
class UnknownCode:
    line: int
    store_code: str
    sku: str
    store_known: bool


def unknown_codes(session: Session, table: str) -> tuple[list[UnknownCode], int]:
    """Staged rows whose store or sku does not exist (the first `MAX_REPORTED_ERRORS`), and how many."""
    where = f"""FROM {table} s LEFT JOIN store st ON st.code = s.store_code
                LEFT JOIN product p ON p.sku = s.sku WHERE st.id IS NULL OR p.id IS NULL"""
    total = int(session.execute(text(f"SELECT count(*) {where}")).scalar_one())
    if total == 0:
        return [], 0
    rows = session.execute(
        text(
            f"SELECT s.line, s.store_code, s.sku, st.id IS NOT NULL AS store_known {where} "
            "ORDER BY s.line LIMIT :n"
        ),
        {"n": MAX_REPORTED_ERRORS},
    ).all()
    return [UnknownCode(r.line, r.store_code, r.sku, bool(r.store_known)) for r in rows], total


# -------------------------------------------------------------------------------------------------- merges


@dataclass(frozen=True)
class SnapshotProblem:
    line: int
    code: str
    detail: str


@dataclass(frozen=True)
class SnapshotMerge:
    applied: int
    stale: int
    problems: list[SnapshotProblem]
    problem_count: int


def merge_snapshots(session: Session, *, checked: bool, staged: int) -> SnapshotMerge:
    """Apply the `staged` snapshot rows under the stale and movement rules.

    `checked` rows were validated in Python; unchecked ones (the CSV fast path) are checked here: a
    negative count or a time without an offset is reported and skipped, and a value that does not cast
    raises, for the caller to replay the rows through the checked path.

    The staged rows are read once: one statement resolves codes to ids, checks and casts every row and
    sorts the result into `STAGE_RESOLVED`, in (store, product) order; everything after reads that.
    """
    pg = is_postgres(session)
    if pg:
        # The sort holds the whole batch; in memory it takes a fraction of the time of an external merge
        # on disk. Local to this transaction.
        session.execute(text("SET LOCAL work_mem = '256MB'"))
    clock = utcnow()
    _resolve_snapshots(session, checked=checked, now=clock)
    now, xid = db_time(session, clock), feed_xid(session)
    good, bad, since = _summarise_and_log(session, xid=xid)
    problems = []
    if bad:
        if not pg:
            staged_rows, key = f"SELECT line AS key, line, store_code, sku FROM {STAGE_SNAPSHOT}", "line"
        elif checked:
            staged_rows, key = f"SELECT ctid AS key, line, store_code, sku FROM {STAGE_SNAPSHOT}", "tid"
        else:
            staged_rows, key = (
                f"""SELECT ctid AS key, row_number() OVER (ORDER BY ctid) - 1 AS line, store_code, sku
                    FROM {STAGE_SNAPSHOT}""",
                "tid",
            )
        rows = session.execute(
            text(
                f"""SELECT s.line, s.store_code, s.sku, r.problem
                    FROM {STAGE_RESOLVED} r JOIN ({staged_rows}) AS s ON s.key = r.{key}
                    WHERE r.problem IS NOT NULL ORDER BY s.line LIMIT :n"""
            ),
            {"n": MAX_REPORTED_ERRORS},
        ).all()
        problems = [_snapshot_problem(r.line, r.problem, r.store_code, r.sku) for r in rows]
    # Every staged row without a problem counts: applied, or stale (a repeated pair's losers included).
    valid = staged - bad
    if good == 0:
        return SnapshotMerge(applied=0, stale=valid, problems=problems, problem_count=bad)
    applied = (
        _write_counts(session, good=good, now=now, xid=xid)
        if pg
        else _upsert_counts(session, now=now, xid=xid)
    )
    _add_movements_since_count(session, since=since, now=now, xid=xid)
    return SnapshotMerge(applied=applied, stale=valid - applied, problems=problems, problem_count=bad)


# A time with an offset (Z, +HH:MM, +HHMM or +HH) at the end: string tests, far cheaper than a regex.
_HAS_OFFSET = """length(as_of) >= 16 AND (right(as_of, 1) IN ('Z', 'z')
                 OR left(right(as_of, 6), 1) IN ('+', '-') OR left(right(as_of, 5), 1) IN ('+', '-')
                 OR left(right(as_of, 3), 1) IN ('+', '-'))"""


def _resolve_snapshots(session: Session, *, checked: bool, now: datetime) -> None:
    """Staged rows to `STAGE_RESOLVED` (the staged row's `line` on SQLite, its `ctid` on PostgreSQL;
    store_id, product_id, on_hand, as_of, problem).

    PostgreSQL keeps one good row per (store, product): when a pair appears twice in a batch, its newest
    count wins (the later line on a tie: rows lie in the order they were staged, so the later `ctid`);
    the others are dropped here and counted stale by the caller. Each problem row is kept (its own `tie`;
    (0,0) is no row's ctid).
    The rows are written sorted by (store, product), so a plain scan of the table reads them in that
    order. A snapshot's times repeat (a store's counts share one), so each distinct time text is checked
    and parsed once (materialized: inlined, the planner would parse it again for every row); per row,
    that was a third of this statement.

    SQLite keeps every row; its upsert picks the newest of a pair itself.
    """
    session.execute(text(f"DROP TABLE IF EXISTS {STAGE_RESOLVED}"))
    codes = f"""FROM {STAGE_SNAPSHOT} s LEFT JOIN store st ON st.code = s.store_code
                LEFT JOIN product p ON p.sku = s.sku"""
    if not is_postgres(session):
        session.execute(
            text(
                f"""CREATE TEMPORARY TABLE {STAGE_RESOLVED} AS
                    SELECT s.line, st.id AS store_id, p.id AS product_id,
                           CAST(s.on_hand AS INTEGER) AS on_hand, s.as_of,
                           CASE WHEN st.id IS NULL THEN 'unknown_store'
                                WHEN p.id IS NULL THEN 'unknown_sku' END AS problem
                    {codes}"""
            )
        )
        return
    checks = (
        ""
        if checked
        else "WHEN s.on_hand IS NULL THEN 'invalid_on_hand' "
        "WHEN CAST(s.on_hand AS INTEGER) < 0 THEN 'negative_on_hand' "
        "WHEN t.value IS NULL THEN 'invalid_date' "
        "WHEN t.value > :latest THEN 'future_date' "
        "WHEN t.value < :earliest THEN 'early_date' "
    )
    earliest, latest = instant_window(now)
    session.execute(
        text(
            f"""CREATE TEMPORARY TABLE {STAGE_RESOLVED} AS
                WITH times AS MATERIALIZED (
                    SELECT as_of AS text,
                           CASE WHEN {_HAS_OFFSET} THEN CAST(as_of AS TIMESTAMP WITH TIME ZONE) END AS value
                    FROM (SELECT DISTINCT as_of FROM {STAGE_SNAPSHOT}) AS d)
                SELECT DISTINCT ON (store_id, product_id, tie) tid, store_id, product_id, on_hand, as_of,
                       problem
                FROM (SELECT s.ctid AS tid, st.id AS store_id, p.id AS product_id,
                             CAST(s.on_hand AS INTEGER) AS on_hand, t.value AS as_of, problem.code AS problem,
                             CASE WHEN problem.code IS NULL THEN '(0,0)' ELSE s.ctid END AS tie
                      {codes}
                      LEFT JOIN times t ON t.text = s.as_of
                      CROSS JOIN LATERAL (SELECT CASE WHEN st.id IS NULL THEN 'unknown_store'
                                                      WHEN p.id IS NULL THEN 'unknown_sku' {checks}
                                                 END AS code) AS problem) AS checked
                ORDER BY store_id, product_id, tie, as_of DESC, tid DESC"""
        ),
        {} if checked else {"earliest": earliest, "latest": latest},
    )
    session.execute(text(f"ANALYZE {STAGE_RESOLVED}"))


def _summarise_and_log(session: Session, *, xid: int) -> tuple[int, int, object]:
    """The resolved batch's good and bad row counts and its oldest good count time, and the feed log of
    the good rows' buckets, from one scan (PostgreSQL) of `STAGE_RESOLVED`."""
    groups = f"""SELECT problem IS NULL AS good, store_id, product_id / {FEED_BUCKET} AS bucket,
                        count(*) AS n, min(as_of) AS since
                 FROM {STAGE_RESOLVED} GROUP BY 1, 2, 3"""
    totals = """SELECT sum(n) FILTER (WHERE good), sum(n) FILTER (WHERE NOT good),
                       min(since) FILTER (WHERE good) FROM groups"""
    first_of_bucket = f"SELECT store_id, bucket * {FEED_BUCKET} AS product_id FROM groups WHERE good"
    if is_postgres(session):
        row = session.execute(
            text(
                # The log reads the few groups, not the batch again: a group's first product id stands
                # for its bucket.
                f"""WITH groups AS MATERIALIZED ({groups}),
                         logged AS ({_log_sql(":xid", first_of_bucket)})
                    {totals}"""
            ),
            {"xid": xid},
        ).one()
    else:
        row = session.execute(
            text(
                f"""WITH groups AS ({groups})
                    SELECT sum(CASE WHEN good THEN n END), sum(CASE WHEN NOT good THEN n END),
                           min(CASE WHEN good THEN since END) FROM groups"""
            )
        ).one()
        _log_changes(session, xid=xid, rows=f"SELECT * FROM {STAGE_RESOLVED} WHERE problem IS NULL")
    return int(row[0] or 0), int(row[1] or 0), row[2]


_GOOD = f"SELECT store_id, product_id, on_hand, as_of FROM {STAGE_RESOLVED} WHERE problem IS NULL"


def _write_counts(session: Session, *, good: int, now: datetime | str, xid: int) -> int:
    """PostgreSQL: write the `good` resolved counts (one per (store, product)) where newer than stored.

    Plain statements, cheaper than `INSERT ... ON CONFLICT DO UPDATE`, which locks each existing row in a
    WAL record of its own before updating it and confirms each new row in another:
    - first an INSERT of every count, for a batch of pairs that are all new (a first load). It stops at
      the first pair that exists, which in a batch of known pairs is the first row;
    - else an UPDATE of the pairs that exist, then an INSERT of the ones that do not. A pair another
      transaction inserted after this INSERT's snapshot makes it fail on the primary key; then the upsert
      writes what is still missing.

    All write in (store, product) order, the order every stock writer locks rows in, so a long sync and a
    reservation wait for each other instead of deadlocking. They read `STAGE_RESOLVED` by a plain scan,
    which meets rows in the order they were written (sorted; temporary tables are never scanned in
    parallel or from the middle). The UPDATE's join keeps that order: a nested loop over the scan (each
    stock row found by primary key) or a merge join on the key, whichever the planner finds cheaper for
    the share of the table the batch covers; a hash join, which would lock rows in the hashed table's
    order, is ruled out for it.
    """
    params: dict[str, object] = {"now": now, "xid": xid}
    insert = """INSERT INTO stock (store_id, product_id, on_hand, reserved, safety_stock, as_of, changed_at,
                                   feed_xid)
                SELECT store_id, product_id, on_hand, 0, 0, as_of, :now, :xid FROM ({rows}) AS r"""
    inserted = _insert_new(session, insert.format(rows=_GOOD), params)
    if inserted is not None:
        return inserted
    session.execute(text("SET LOCAL enable_hashjoin = off"))
    updated = int(
        session.execute(
            text(
                f"""UPDATE stock SET on_hand = c.on_hand, as_of = c.as_of, changed_at = :now, feed_xid = :xid
                    FROM ({_GOOD}) AS c
                    WHERE stock.store_id = c.store_id AND stock.product_id = c.product_id
                      AND (stock.as_of IS NULL OR stock.as_of < c.as_of)"""
            ),
            params,
        ).rowcount  # type: ignore[attr-defined]
    )
    if updated < good:
        missing = f"""{_GOOD} AND NOT EXISTS (SELECT 1 FROM stock s
                                              WHERE s.store_id = {STAGE_RESOLVED}.store_id
                                                AND s.product_id = {STAGE_RESOLVED}.product_id)"""
        inserted = _insert_new(session, insert.format(rows=missing), params)
        if inserted is None:
            # Rows the UPDATE wrote hold their count's own `as_of` now, so the upsert leaves them alone.
            inserted = _upsert_counts(session, now=now, xid=xid)
        updated += inserted
    session.execute(text("SET LOCAL enable_hashjoin TO DEFAULT"))
    return updated


def _insert_new(session: Session, statement: str, params: dict[str, object]) -> int | None:
    """Run an INSERT of stock rows; None, and nothing written, if one of them exists already."""
    try:
        with session.begin_nested():
            return int(session.execute(text(statement), params).rowcount)  # type: ignore[attr-defined]
    except DBAPIError as exc:
        if getattr(exc.orig, "sqlstate", None) != UNIQUE_VIOLATION:
            raise
        return None


def _upsert_counts(session: Session, *, now: datetime | str, xid: int) -> int:
    """Write the resolved counts where newer than stored, with `INSERT ... ON CONFLICT DO UPDATE`, in
    (store, product) order (see `_write_counts`). SQLite's path, and PostgreSQL's when a concurrent writer
    inserted some of the same pairs first. Of a pair given twice, the newest count is written (the later
    line on a tie; PostgreSQL resolved them already)."""
    later = "tid" if is_postgres(session) else "line"
    newest = f"""SELECT * FROM (SELECT r.*, row_number() OVER (PARTITION BY store_id, product_id
                                                            ORDER BY as_of DESC, {later} DESC) AS rank
                                FROM {STAGE_RESOLVED} r WHERE problem IS NULL) AS ranked
                 WHERE rank = 1"""
    upsert = f"""
        INSERT INTO stock (store_id, product_id, on_hand, reserved, safety_stock, as_of, changed_at, feed_xid)
        SELECT store_id, product_id, on_hand, 0, 0, as_of, :now, :xid FROM ({newest}) AS counts
        WHERE true
        ORDER BY store_id, product_id
        ON CONFLICT (store_id, product_id) DO UPDATE
           SET on_hand = excluded.on_hand, as_of = excluded.as_of,
               changed_at = excluded.changed_at, feed_xid = excluded.feed_xid
           WHERE stock.as_of IS NULL OR stock.as_of < excluded.as_of"""
    return int(session.execute(text(upsert), {"now": now, "xid": xid}).rowcount)  # type: ignore[attr-defined]


def _add_movements_since_count(session: Session, *, since: object, now: datetime | str, xid: int) -> None:
    """Movements after a count are not in it: add them to the rows this merge just counted."""
    session.execute(
        text(
            """UPDATE stock SET on_hand = stock.on_hand + d.delta
               FROM (SELECT m.store_id, m.product_id, sum(m.delta) AS delta
                     FROM stock_movement m
                     JOIN stock s ON s.store_id = m.store_id AND s.product_id = m.product_id
                     WHERE m.at > :since AND s.changed_at = :now AND s.feed_xid = :xid AND m.at > s.as_of
                     GROUP BY m.store_id, m.product_id) AS d
               WHERE stock.store_id = d.store_id AND stock.product_id = d.product_id"""
        ),
        {"since": since, "now": now, "xid": xid},
    )


# SQLSTATE classes of a row PostgreSQL could not read: data exceptions (22: a bad integer or date, a
# field too long) and COPY's own format errors (also 22, e.g. 22P04 bad_copy_file_format).
def is_bad_input(exc: Exception) -> bool:
    error = exc.orig if isinstance(exc, DBAPIError) else exc
    sqlstate = getattr(error, "sqlstate", None) or ""
    return sqlstate.startswith("22")


def _snapshot_problem(line: int, problem: str, store_code: str, sku: str) -> SnapshotProblem:
    """A problem the merge found in a staged row, as its row error (code and detail)."""
    code, detail = {
        "unknown_store": ("unknown_store", f"store_code: no store {store_code!r}"),
        "unknown_sku": ("unknown_sku", f"sku: no product {sku!r}"),
        "negative_on_hand": ("negative_on_hand", "on_hand: a count cannot be negative"),
        "invalid_date": ("invalid_date", "as_of: give an offset, e.g. +01:00"),
        "future_date": ("invalid_date", f"as_of: {_TOO_LATE}"),
        "early_date": ("invalid_date", f"as_of: {_TOO_EARLY}"),
        "invalid_on_hand": ("invalid_on_hand", "on_hand: a whole number"),
    }[problem]
    return SnapshotProblem(line, code, detail)


@dataclass(frozen=True)
class MovementOutcome:
    applied: int
    duplicates: int


def merge_movements(session: Session, *, source: str = "sync") -> MovementOutcome:
    """Record the staged movements of known stores and skus once each, and add the new ones that
    happened after the row's last count to `on_hand`."""
    known = int(
        session.execute(
            text(
                f"SELECT count(*) FROM {STAGE_MOVEMENT} s JOIN store st ON st.code = s.store_code "
                "JOIN product p ON p.sku = s.sku"
            )
        ).scalar_one()
    )
    if known == 0:
        return MovementOutcome(applied=0, duplicates=0)
    now = utcnow()
    # The insert answers exactly the movements it recorded: a replay, or the same batch arriving twice at
    # once, gets nothing back for rows another transaction recorded first (the unique index decides).
    fresh = session.execute(
        text(
            f"""
            INSERT INTO stock_movement (movement_id, store_id, product_id, delta, at, recorded_at, source)
            SELECT movement_id, store_id, product_id, delta, at, :now, :source
            FROM (SELECT s.line, s.movement_id, st.id AS store_id, p.id AS product_id, s.delta, s.at,
                         row_number() OVER (PARTITION BY s.movement_id ORDER BY s.line) AS rank
                  FROM {STAGE_MOVEMENT} s
                  JOIN store st ON st.code = s.store_code
                  JOIN product p ON p.sku = s.sku) AS m
            WHERE m.rank = 1
            ORDER BY m.line
            ON CONFLICT (movement_id) DO NOTHING
            RETURNING store_id, product_id, delta, at
            """
        ),
        {"now": db_time(session, now), "source": source},
    ).all()
    if fresh:
        _create(
            session,
            STAGE_FRESH,
            "store_id INTEGER, product_id INTEGER, delta INTEGER, at TIMESTAMP WITH TIME ZONE",
        )
        _copy(
            session,
            STAGE_FRESH,
            ("store_id", "product_id", "delta", "at"),
            ((r.store_id, r.product_id, r.delta, db_time(session, as_aware_utc(r.at))) for r in fresh),
        )
        add_deltas_after_count(session, now=now)
    return MovementOutcome(applied=len(fresh), duplicates=known - len(fresh))


def add_deltas_after_count(session: Session, *, now: datetime) -> None:
    """Add the fresh movements' deltas to `on_hand` where they happened after the row's last count."""
    xid = feed_xid(session)
    if is_postgres(session):
        # A temp table has no statistics: unanalyzed, the joins below were planned as a scan of all stock.
        session.execute(text(f"ANALYZE {STAGE_FRESH}"))
    _log_changes(session, xid=xid, rows=f"SELECT store_id, product_id FROM {STAGE_FRESH}")
    session.execute(
        text(
            f"""
            INSERT INTO stock
                (store_id, product_id, on_hand, reserved, safety_stock, as_of, changed_at, feed_xid)
            SELECT DISTINCT store_id, product_id, 0, 0, 0, CAST(NULL AS TIMESTAMP WITH TIME ZONE), :now, :xid
            FROM {STAGE_FRESH}
            WHERE true
            -- New rows go in key order too, so two batches creating the same rows cannot deadlock.
            ORDER BY store_id, product_id
            ON CONFLICT (store_id, product_id) DO NOTHING
            """
        ),
        {"now": db_time(session, now), "xid": xid},
    )
    if is_postgres(session):
        # Lock the rows (in key order, as every stock writer does) before deciding, in a new statement,
        # which movements come after each row's count. Decided inside the UPDATE, a count committing while
        # the UPDATE waited for its lock would not be seen (PostgreSQL re-reads the locked row, not the
        # join that chose the deltas), and a movement from before that count was added on top of it:
        # the same batch sent twice alongside a snapshot counted twice (tests/e2e/test_sync_twice.py).
        session.execute(
            text(
                f"""SELECT 1 FROM stock s
                    JOIN (SELECT DISTINCT store_id, product_id FROM {STAGE_FRESH}) k
                      ON k.store_id = s.store_id AND k.product_id = s.product_id
                    ORDER BY s.store_id, s.product_id FOR UPDATE OF s"""
            )
        )
    session.execute(
        text(
            f"""
            UPDATE stock SET on_hand = stock.on_hand + d.delta, changed_at = :now, feed_xid = :xid
            FROM (SELECT m.store_id, m.product_id, sum(m.delta) AS delta
                  FROM {STAGE_FRESH} m
                  JOIN stock s ON s.store_id = m.store_id AND s.product_id = m.product_id
                  WHERE s.as_of IS NULL OR m.at > s.as_of
                  GROUP BY m.store_id, m.product_id) AS d
            WHERE stock.store_id = d.store_id AND stock.product_id = d.product_id
            """
        ),
        {"now": db_time(session, now), "xid": xid},
    )


# ------------------------------------------------------------------------------------------- order paths


@dataclass(frozen=True)
class Quantity:
    product_id: int
    quantity: int


_RESERVE_SQLITE = text(
    "UPDATE stock SET reserved = reserved + :quantity, changed_at = :now, feed_xid = :xid "
    "WHERE store_id = :store AND product_id = :product AND on_hand - reserved - safety_stock >= :quantity"
)
_LOCK_STOCK_SQLITE = text(
    "SELECT product_id, on_hand - reserved - safety_stock FROM stock "
    "WHERE store_id = :store AND product_id IN :products ORDER BY product_id"
).bindparams(bindparam("products", expanding=True))
# SQLite has no row locks: BEGIN IMMEDIATE already made this transaction the only writer.

# PostgreSQL runs these on the psycopg connection under the session (same transaction): they are the
# hottest statements of the service, and SQLAlchemy's per-call work (compiling the expanding IN, result
# wrapping, an executemany of one UPDATE per product) cost more CPU than the database's own work.
# Fixed texts with array parameters, so psycopg prepares each once per connection.
_LOCK_STOCK_PG = (
    b"SELECT product_id, on_hand - reserved - safety_stock FROM stock "
    b"WHERE store_id = %s AND product_id = ANY(%s::integer[]) ORDER BY product_id FOR UPDATE"
)


def _reserve_pg() -> bytes:
    """One statement writes the sums and logs their buckets in the feed; PostgreSQL computes the feed stamp
    inside it. The rows are locked and the sums were checked against them, so the condition cannot fail;
    it is there so that a bug here can never oversell (the caller compares the count)."""
    return f"""
        WITH reserved AS (
            UPDATE stock SET reserved = stock.reserved + taken.quantity, changed_at = %(now)s,
                             feed_xid = {_PG_XID}
            FROM unnest(%(products)s::integer[], %(quantities)s::integer[]) AS taken(product_id, quantity)
            WHERE stock.store_id = %(store)s AND stock.product_id = taken.product_id
              AND stock.on_hand - stock.reserved - stock.safety_stock >= taken.quantity
            RETURNING stock.store_id, stock.product_id),
        logged AS ({_log_sql(_PG_XID, "SELECT store_id, product_id FROM reserved")})
        SELECT count(*) FROM reserved""".encode()


@dataclass(frozen=True)
class BasketOutcome:
    reserved: bool
    # What was available of each product of the basket when its turn came (after the baskets before it).
    available: dict[int, int]


def reserve_baskets(
    session: Session, *, store_id: int, baskets: Sequence[Sequence[Quantity]]
) -> list[BasketOutcome]:
    """Reserve several baskets at one store, each whole or not at all, in the order given.

    The one way stock is reserved: a reservation run passes the pending orders of a store it drains (one
    or many). The stock rows of all baskets are locked at once in product order (the fixed lock order of
    every stock writer), so overlapping baskets wait instead of deadlocking; the decisions are made on the
    locked counts, so stock never goes below zero available whatever runs at once; and the sums are
    written with one statement, so the round trips do not grow with the number of baskets. A basket that
    does not fit takes nothing; the baskets after it still get their turn.
    """
    products = sorted({line.product_id for basket in baskets for line in basket})
    if not products:
        return [BasketOutcome(True, {}) for _ in baskets]
    pg = is_postgres(session)
    if pg:
        cursor = _driver_connection(session).cursor()
        cursor.execute(_LOCK_STOCK_PG, (store_id, _int_array(products)))
        locked: Sequence[Sequence[Any]] = cursor.fetchall()
    else:
        locked = (
            session.connection().execute(_LOCK_STOCK_SQLITE, {"store": store_id, "products": products}).all()
        )
    available: dict[int, int] = {int(product): int(free) for product, free in locked}
    taken: dict[int, int] = {}
    outcomes: list[BasketOutcome] = []
    for basket in baskets:
        wanted: dict[int, int] = {}
        for line in basket:
            wanted[line.product_id] = wanted.get(line.product_id, 0) + line.quantity
        seen = {product: available.get(product, 0) for product in wanted}
        fits = all(seen[product] >= quantity for product, quantity in wanted.items())
        if fits:
            for product, quantity in wanted.items():
                available[product] -= quantity
                taken[product] = taken.get(product, 0) + quantity
        outcomes.append(BasketOutcome(fits, seen))
    if not taken:
        return outcomes
    now = db_time(session, utcnow())
    if pg:
        cursor.execute(
            _reserve_pg(),
            {
                "now": now,
                "store": store_id,
                "products": _int_array(taken),
                "quantities": _int_array(taken.values()),
            },
        )
        row = cursor.fetchone()
        changed = int(row[0]) if row is not None else 0
    else:
        xid = feed_xid(session)
        # The rows are stamped for the feed, so their buckets go in its log (`stock_change`) too.
        _log_keys(session, xid=xid, keys=((store_id, product) for product in taken))
        rows = [
            {"now": now, "xid": xid, "store": store_id, "product": product, "quantity": taken[product]}
            for product in sorted(taken)
        ]
        changed = session.connection().execute(_RESERVE_SQLITE, rows).rowcount
    if changed != len(taken):
        raise RuntimeError(f"reserved {changed} of {len(taken)} locked stock rows")
    return outcomes


def _int_array(values: Iterable[int]) -> str:
    # An array literal, cast in the statement: psycopg adapts a list by inspecting its elements to pick the
    # array type, which took 70 µs of a reservation's CPU; a text parameter takes a sixth of that.
    return "{" + ",".join(map(str, values)) + "}"


def _driver_connection(session: Session) -> psycopg.Connection[tuple[Any, ...]]:
    """The psycopg connection under the session's, in the session's transaction (PostgreSQL only)."""
    return cast("psycopg.Connection[tuple[Any, ...]]", session.connection().connection.driver_connection)


def release(session: Session, *, store_id: int, lines: Sequence[Quantity]) -> None:
    """Give reserved units back to the shelf (cancelled or expired order)."""
    _change_reserved(session, store_id=store_id, lines=lines, collect=False)


def collect(
    session: Session, *, store_id: int, lines: Sequence[Quantity], order_id: str, at: datetime
) -> None:
    """Hand reserved units over: they leave `reserved` and `on_hand`, and are recorded as movements at the
    moment of hand-over, so a count taken before it and synced later still subtracts them."""
    _change_reserved(session, store_id=store_id, lines=lines, collect=True)
    for line in lines:
        session.execute(
            text(
                """INSERT INTO stock_movement
                       (movement_id, store_id, product_id, delta, at, recorded_at, source)
                   VALUES (:movement_id, :store, :product, :delta, :at, :now, 'collection')
                   ON CONFLICT (movement_id) DO NOTHING"""
            ),
            {
                "movement_id": f"collection:{order_id}:{line.product_id}",
                "store": store_id,
                "product": line.product_id,
                "delta": -line.quantity,
                "at": db_time(session, at),
                "now": db_time(session, utcnow()),
            },
        )


def _change_reserved(session: Session, *, store_id: int, lines: Sequence[Quantity], collect: bool) -> None:
    now, xid = db_time(session, utcnow()), feed_xid(session)
    _log_keys(session, xid=xid, keys=((store_id, line.product_id) for line in lines))
    on_hand = "on_hand - :quantity" if collect else "on_hand"
    # Product order, as `reserve_baskets` locks them: each UPDATE locks its row, in one order.
    for line in sorted(lines, key=lambda q: q.product_id):
        session.execute(
            text(
                f"UPDATE stock SET reserved = reserved - :quantity, on_hand = {on_hand}, "
                "changed_at = :now, feed_xid = :xid WHERE store_id = :store AND product_id = :product"
            ),
            {
                "quantity": line.quantity,
                "now": now,
                "xid": xid,
                "store": store_id,
                "product": line.product_id,
            },
        )


# --- reconciliation
# `reserved` is a counter kept in step with the orders that hold stock; a bug or a hand edit can make it
# drift, and a drifted counter either sells units that are promised or hides units that are free. The
# caller says what the live reservations are (`live`: SQL answering store_id, product_id, quantity), so this
# module stays unaware of the order tables, and the repair is set-based like every other stock write.

STAGE_DRIFT = "stage_reserved_drift"


@dataclass(frozen=True)
class ReservedDrift:
    store_id: int
    product_id: int
    was: int
    now: int


def _drift_query(live: str, *, keys: str | None = None) -> str:
    # Rows with a live reservation and rows still holding units that no live reservation explains. `keys`
    # narrows the check to staged rows.
    narrowed = f"JOIN {keys} k ON k.store_id = s.store_id AND k.product_id = s.product_id" if keys else ""
    return f"""SELECT s.store_id, s.product_id, s.reserved AS was, COALESCE(l.quantity, 0) AS now
               FROM stock s {narrowed}
               LEFT JOIN ({live}) l ON l.store_id = s.store_id AND l.product_id = s.product_id
               WHERE s.reserved <> COALESCE(l.quantity, 0)"""


def reserved_drift(session: Session, *, live: str) -> list[ReservedDrift]:
    """Rows whose `reserved` differs from the live reservations, read in one statement (one snapshot, so
    a reservation is never seen in the order tables but not yet in `stock`, or the other way round)."""
    rows = session.execute(text(_drift_query(live) + " ORDER BY s.store_id, s.product_id")).all()
    return [ReservedDrift(int(r.store_id), int(r.product_id), int(r.was), int(r.now)) for r in rows]


def repair_reserved(session: Session, *, live: str) -> list[ReservedDrift]:
    """Set `reserved` to the live reservations wherever it drifted; answers what it changed.

    The drift is found without locks, then the drifted rows are locked (in key order, as every stock
    writer does) and checked again before the write. Without that, a reservation committing while the
    check ran would have its units wiped: PostgreSQL re-reads a row updated meanwhile but not the
    aggregate, and would set the new count back to the old one.
    """
    suspects = reserved_drift(session, live=live)
    if not suspects:
        return []
    _create(session, STAGE_DRIFT, "store_id INTEGER, product_id INTEGER")
    _copy(session, STAGE_DRIFT, ("store_id", "product_id"), ((d.store_id, d.product_id) for d in suspects))
    if is_postgres(session):
        session.execute(
            text(
                f"""SELECT 1 FROM stock s JOIN {STAGE_DRIFT} k
                       ON k.store_id = s.store_id AND k.product_id = s.product_id
                    ORDER BY s.store_id, s.product_id FOR UPDATE OF s"""
            )
        )
    # A new statement sees every transaction that finished with these rows before the locks were granted;
    # none can change them until this one commits.
    drifted = _drift_query(live, keys=STAGE_DRIFT)
    confirmed = session.execute(text(drifted + " ORDER BY s.store_id, s.product_id")).all()
    if not confirmed:
        return []
    now, xid = db_time(session, utcnow()), feed_xid(session)
    _log_keys(session, xid=xid, keys=((int(r.store_id), int(r.product_id)) for r in confirmed))
    session.execute(
        text(
            f"""UPDATE stock SET reserved = d.now, changed_at = :now, feed_xid = :xid
                FROM ({drifted}) AS d
                WHERE stock.store_id = d.store_id AND stock.product_id = d.product_id"""
        ),
        {"now": now, "xid": xid},
    )
    return [ReservedDrift(int(r.store_id), int(r.product_id), int(r.was), int(r.now)) for r in confirmed]

"""The availability feed's change log (`stock_change`), which every stock writer keeps.

A stock row's `feed_xid` is the id of the transaction that last wrote it (`feed_xid`), and that writer
logs the row's (store, bucket of `FEED_BUCKET` product ids) under the same id, in the same transaction
(`log_insert`, `log_changes`, `log_keys`). Logging a bucket none of whose rows end up written is harmless
(the feed finds no row with that id there), so writers log before they know. The feed (`inventory.feed`)
walks the log in key order and reads each logged bucket's rows still stamped by that writer
(`logged_rows`), serving only writers that have finished (`feed_snapshot`). Log rows that can no longer
give the feed anything are pruned (`prune_change_log`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    FromClause,
    Integer,
    Table,
    and_,
    delete,
    exists,
    literal,
    literal_column,
    select,
    text,
    true,
    tuple_,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session

from inventory.models import Stock, StockChange
from retail import dialect

# Product ids per log row; migration 0004 backfilled with this value. Read at each use, for tests that
# make buckets small.
FEED_BUCKET = 1024

LOG: Table = StockChange.__table__  # type: ignore[attr-defined]
STOCK: Table = Stock.__table__  # type: ignore[attr-defined]

# The writing transaction's id, computed by PostgreSQL inside the writing statement.
POSTGRESQL_XID: ColumnElement[int] = literal_column("pg_current_xact_id()::text::bigint", BigInteger)


# ----------------------------------------------------------------------------------------- writers' ids


# Where `feed_xid` notes, in the session, the ids its transaction writes stock under: the stock alerts
# (`inventory.alerts`) fire from them just before the transaction commits.
WRITTEN_XIDS = "inventory.written_feed_xids"


def feed_xid(session: Session) -> int:
    """The id that places this transaction's stock changes in the availability feed."""
    xid = dialect.pick(session, postgresql=_xid_postgresql, sqlite=_xid_sqlite)(session)
    session.info.setdefault(WRITTEN_XIDS, set()).add(xid)
    return xid


_XID_POSTGRESQL = select(POSTGRESQL_XID)


def _xid_postgresql(session: Session) -> int:
    return int(session.execute(_XID_POSTGRESQL).scalar_one())


# SQLite runs one writer at a time (BEGIN IMMEDIATE), so a counter bumped inside the transaction orders
# transactions exactly as they commit.
_BUMP_CLOCK_SQLITE = text(
    "INSERT INTO feed_clock (id, value) VALUES (1, 1) ON CONFLICT (id) DO UPDATE SET value = value + 1"
)
_READ_CLOCK_SQLITE = text("SELECT value FROM feed_clock WHERE id = 1")


def _xid_sqlite(session: Session) -> int:
    session.execute(_BUMP_CLOCK_SQLITE)
    return int(session.execute(_READ_CLOCK_SQLITE).scalar_one())


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
    """The end of the current snapshot (one past the newest finished writer) and this database's writers
    still running below it."""
    return dialect.pick(session, postgresql=_snapshot_postgresql, sqlite=_snapshot_sqlite)(session)


# The running transactions come from the snapshot, whose ids are 64-bit; pg_stat_activity (32-bit ids)
# only says which of them belong to this database. Matched on their low 32 bits, which is exact: ids in
# use at once are never 2^31 apart. (Placing pg_stat_activity's ids in an epoch by hand went wrong: a
# transaction that took its id after the newest finished one is past the snapshot's end, and was put an
# epoch back, 2^32 below everything, so the feed answered empty pages in the middle of its data.) Only
# client backends write stock: an autovacuum worker's ANALYZE takes an id too (for pg_statistic), and
# counted here it held the horizon back for as long as it ran (tests/inventory/test_feed_concurrency.py
# saw it on a busy server).
_SNAPSHOT_POSTGRESQL = text(
    """WITH snapshot AS (SELECT pg_current_snapshot() AS s)
       SELECT pg_snapshot_xmax(s)::text::bigint,
              array_remove((SELECT array_agg(running::text::bigint) FROM pg_snapshot_xip(s) AS running
                            WHERE xid(running) IN (SELECT backend_xid FROM pg_stat_activity
                                                   WHERE datname = current_database()
                                                     AND backend_type = 'client backend'))
                           || pg_current_xact_id_if_assigned()::text::bigint, NULL)
       FROM snapshot"""
)


def _snapshot_postgresql(session: Session) -> FeedSnapshot:
    # pg_stat_activity is read once per transaction and then served from a copy: a backend that took its
    # id since would be missing from it, and a second snapshot would pass a writer still running.
    session.execute(text("SELECT pg_stat_clear_snapshot()"))
    end, running = session.execute(_SNAPSHOT_POSTGRESQL).one()
    return FeedSnapshot(end=int(end), running=frozenset(int(xid) for xid in running or ()))


def _snapshot_sqlite(session: Session) -> FeedSnapshot:
    # One writer at a time, none of them running while this transaction reads: every id given out is final.
    value = session.execute(_READ_CLOCK_SQLITE).scalar()
    return FeedSnapshot(end=int(value or 0) + 1, running=frozenset())


def feed_horizon(session: Session) -> int:
    """See `FeedSnapshot.horizon`."""
    return feed_snapshot(session).horizon


# ------------------------------------------------------------------------------------------------ logging


def _bucket_size() -> ColumnElement[int]:
    # Written into the statement as a number, as the planner has always seen it.
    return literal_column(str(int(FEED_BUCKET)), Integer)


def bucket_of(product_id: ColumnElement[int]) -> ColumnElement[int]:
    """The log bucket a product id falls in."""
    return product_id // _bucket_size()


def first_product_of(bucket: ColumnElement[int]) -> ColumnElement[int]:
    """The lowest product id of a bucket: logging it logs the bucket."""
    return bucket * _bucket_size()


def log_insert(
    into: postgresql.Insert | sqlite.Insert, *, xid: ColumnElement[int], changed: FromClause
) -> postgresql.Insert | sqlite.Insert:
    """The one statement that logs: the buckets of the rows `changed` names (its `store_id` and
    `product_id`) as changed by `xid`. `into` is `dialect.insert` of `LOG`; the statement runs alone
    (`log_changes`) or inside the writing statement, as a CTE."""
    buckets = (
        select(xid, changed.c.store_id, bucket_of(changed.c.product_id))
        .distinct()
        .where(true())  # SQLite reads ON CONFLICT after a bare FROM as a join's ON
    )
    return into.from_select(["xid", "store_id", "bucket"], buckets).on_conflict_do_nothing()


def log_changes(session: Session, *, xid: int, changed: FromClause) -> None:
    """Log the buckets of the rows `changed` names as changed by `xid`, in a statement of its own."""
    session.execute(log_insert(dialect.insert(session, LOG), xid=literal(xid, BigInteger), changed=changed))


_LOG_KEYS_POSTGRESQL = postgresql.insert(LOG).on_conflict_do_nothing()
_LOG_KEYS_SQLITE = sqlite.insert(LOG).on_conflict_do_nothing()


def log_keys(session: Session, *, xid: int, keys: Iterable[tuple[int, int]]) -> None:
    """Log the buckets of (store_id, product_id) `keys` as changed by `xid`."""
    buckets = sorted({(store_id, product_id // FEED_BUCKET) for store_id, product_id in keys})
    if buckets:
        session.connection().execute(
            dialect.pick(session, postgresql=_LOG_KEYS_POSTGRESQL, sqlite=_LOG_KEYS_SQLITE),
            [{"xid": xid, "store_id": store, "bucket": bucket} for store, bucket in buckets],
        )


# ------------------------------------------------------------------------------------------------ reading


def logged_rows(change: FromClause, stock: FromClause) -> ColumnElement[bool]:
    """`stock` (the stock table, or an alias) is one of the rows log row `change` (the log, or an alias)
    names, still stamped by its writer: the one way a log row is read (the feed, its pruning and the
    sync-lag metric all join through it)."""
    return and_(
        stock.c.store_id == change.c.store_id,
        stock.c.feed_xid == change.c.xid,
        in_bucket(stock.c.product_id, change.c.bucket),
    )


def in_bucket(product_id: ColumnElement[int], bucket: ColumnElement[int]) -> ColumnElement[bool]:
    """`product_id` (of stock, or of the products themselves) falls in log bucket `bucket`: a range of
    the primary key."""
    return and_(
        product_id >= first_product_of(bucket),
        product_id < first_product_of(bucket + literal_column("1", Integer)),
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
    change, stock = LOG.alias("c"), STOCK.alias("s")
    key = (change.c.xid, change.c.store_id, change.c.bucket)
    spent = (
        select(*key)
        .where(key[0] < feed_horizon(session), ~exists().where(logged_rows(change, stock)))
        .order_by(*key)
        .limit(batch)
    )
    deleted = session.execute(delete(LOG).where(tuple_(LOG.c.xid, LOG.c.store_id, LOG.c.bucket).in_(spent)))
    return int(deleted.rowcount)  # type: ignore[attr-defined]

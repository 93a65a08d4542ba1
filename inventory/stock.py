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

Batches are written to a temporary staging table first (COPY on PostgreSQL), then merged by one statement
per rule, so a 10,000-row request or a million-row CSV costs a handful of round trips.

The feed: a row's `feed_xid` is its last writer's transaction id. A reader only takes rows whose writer is
older than every transaction still running (PostgreSQL's snapshot xmin), so a row whose writer commits
later can never land behind a cursor that has already passed it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import text
from sqlmodel import Session

from retail.clock import utcnow

STAGE_SNAPSHOT = "stage_stock_snapshot"
STAGE_MOVEMENT = "stage_stock_movement"


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
        return int(session.execute(text("SELECT pg_current_xact_id()::text::bigint")).scalar_one())
    # SQLite runs one writer at a time (BEGIN IMMEDIATE), so a counter bumped inside the transaction
    # orders transactions exactly as they commit.
    session.execute(
        text(
            "INSERT INTO feed_clock (id, value) VALUES (1, 1) "
            "ON CONFLICT (id) DO UPDATE SET value = value + 1"
        )
    )
    return int(session.execute(text("SELECT value FROM feed_clock WHERE id = 1")).scalar_one())


def feed_horizon(session: Session) -> int:
    """Feed rows with a `feed_xid` below this are final: no transaction that could still commit is older."""
    if is_postgres(session):
        return int(
            session.execute(text("SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint")).scalar_one()
        )
    value = session.execute(text("SELECT value FROM feed_clock WHERE id = 1")).scalar()
    return int(value or 0) + 1


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


def stage_snapshots(session: Session, rows: Iterable[StagedSnapshot]) -> None:
    _create(
        session,
        STAGE_SNAPSHOT,
        "line INTEGER, store_code VARCHAR(32), sku VARCHAR(64), on_hand INTEGER, "
        "as_of TIMESTAMP WITH TIME ZONE",
    )
    _copy(
        session,
        STAGE_SNAPSHOT,
        ("line", "store_code", "sku", "on_hand", "as_of"),
        ((r.line, r.store_code, r.sku, r.on_hand, db_time(session, r.as_of)) for r in rows),
    )


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


def _copy(session: Session, table: str, columns: Sequence[str], rows: Iterable[tuple[object, ...]]) -> None:
    if is_postgres(session):
        cursor = session.connection().connection.driver_connection.cursor()  # type: ignore[union-attr]
        with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        return
    statement = text(
        f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join(':' + c for c in columns)})"
    )
    batch: list[dict[str, object]] = []
    for row in rows:
        batch.append(dict(zip(columns, row, strict=True)))
        if len(batch) == 5000:
            session.execute(statement, batch)
            batch = []
    if batch:
        session.execute(statement, batch)


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
class SnapshotOutcome:
    applied: int
    stale: int


def merge_snapshots(session: Session) -> SnapshotOutcome:
    """Apply the staged snapshots of known stores and skus under the stale and movement rules."""
    known = int(
        session.execute(
            text(
                f"SELECT count(*) FROM {STAGE_SNAPSHOT} s JOIN store st ON st.code = s.store_code "
                "JOIN product p ON p.sku = s.sku"
            )
        ).scalar_one()
    )
    if known == 0:
        return SnapshotOutcome(applied=0, stale=0)
    # Within one batch the newest count of a (store, product) wins; older ones are stale like any other.
    # "WHERE true" lets SQLite tell the SELECT's end from the ON CONFLICT clause.
    result = session.execute(
        text(
            f"""
            INSERT INTO stock
                (store_id, product_id, on_hand, reserved, safety_stock, as_of, changed_at, feed_xid)
            SELECT l.store_id, l.product_id,
                   l.on_hand + COALESCE((SELECT sum(m.delta) FROM stock_movement m
                                         WHERE m.store_id = l.store_id AND m.product_id = l.product_id
                                           AND m.at > l.as_of), 0),
                   0, 0, l.as_of, :now, :xid
            FROM (SELECT st.id AS store_id, p.id AS product_id, s.on_hand, s.as_of,
                         row_number() OVER (PARTITION BY st.id, p.id
                                            ORDER BY s.as_of DESC, s.line DESC) AS rank
                  FROM {STAGE_SNAPSHOT} s
                  JOIN store st ON st.code = s.store_code
                  JOIN product p ON p.sku = s.sku) AS l
            WHERE l.rank = 1
            ORDER BY l.store_id, l.product_id
            ON CONFLICT (store_id, product_id) DO UPDATE
               SET on_hand = excluded.on_hand, as_of = excluded.as_of,
                   changed_at = excluded.changed_at, feed_xid = excluded.feed_xid
               WHERE stock.as_of IS NULL OR stock.as_of < excluded.as_of
            """
        ),
        {"now": db_time(session, utcnow()), "xid": feed_xid(session)},
    )
    applied = int(result.rowcount)  # type: ignore[attr-defined]
    return SnapshotOutcome(applied=applied, stale=known - applied)


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
            ((r.store_id, r.product_id, r.delta, db_time(session, as_utc(r.at))) for r in fresh),
        )
        add_deltas_after_count(session, now=now)
    return MovementOutcome(applied=len(fresh), duplicates=known - len(fresh))


def add_deltas_after_count(session: Session, *, now: datetime) -> None:
    """Add the fresh movements' deltas to `on_hand` where they happened after the row's last count."""
    xid = feed_xid(session)
    session.execute(
        text(
            f"""
            INSERT INTO stock
                (store_id, product_id, on_hand, reserved, safety_stock, as_of, changed_at, feed_xid)
            SELECT DISTINCT store_id, product_id, 0, 0, 0, CAST(NULL AS TIMESTAMP WITH TIME ZONE), :now, :xid
            FROM {STAGE_FRESH}
            WHERE true
            ON CONFLICT (store_id, product_id) DO NOTHING
            """
        ),
        {"now": db_time(session, now), "xid": xid},
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


def as_utc(value: datetime | str) -> datetime:
    """A timestamp read back from the database, aware: SQLite hands back naive UTC (text for raw SQL)."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value

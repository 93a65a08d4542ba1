"""The set-based writes of a staged snapshot batch: resolve, check, log for the feed, write.

The staged rows are read once: one statement resolves codes to ids (joining the stores domain's
`store_keys`), checks and casts every row and sorts the result into `staging.RESOLVED` in (store,
product) order; everything after reads that. Where the two databases need different SQL, each step has
its PostgreSQL and its SQLite form side by side. The rules applied are `inventory.sync`'s; the writes of
staged movements are in `inventory.movement_merges`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    DateTime,
    FromClause,
    Integer,
    Select,
    and_,
    case,
    cast,
    func,
    literal,
    literal_column,
    or_,
    select,
    text,
    true,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session

from inventory import feed_log, staging
from inventory.exceptions import unknown_sku, unknown_store
from inventory.instants import TOO_EARLY, TOO_LATE, instant_window
from retail import dialect
from retail.bulk import RowError
from retail.clock import utcnow

MAX_REPORTED_ERRORS = 1000
NEGATIVE_COUNT = "on_hand: a count cannot be negative"
_RESOLVED = staging.RESOLVED.name


@dataclass(frozen=True)
class SnapshotMerge:
    applied: int
    stale: int
    problems: list[RowError]
    problem_count: int


def merge_snapshots(session: Session, *, checked: bool, staged: int) -> SnapshotMerge:
    """Apply the `staged` snapshot rows under the stale and movement rules.

    `checked` rows were validated in Python; unchecked ones (the CSV fast path) are checked here: a
    negative count or a time without an offset is reported and skipped, and a value that does not cast
    raises, for the caller to replay the rows through the checked path.
    """
    # The sort holds the whole batch; in memory it takes a fraction of the time of an external merge on
    # disk. Local to this transaction.
    dialect.set_local(session, "work_mem", "'256MB'")
    clock = utcnow()
    resolving = dialect.pick(session, postgresql=_resolving_postgresql, sqlite=_resolving_sqlite)
    dialect.create_temporary_table_as(session, _RESOLVED, resolving(checked=checked, now=clock))
    dialect.analyze(session, _RESOLVED)
    now, xid = dialect.timestamp(session, clock), feed_log.feed_xid(session)
    summarise = dialect.pick(
        session, postgresql=_summarise_and_log_postgresql, sqlite=_summarise_and_log_sqlite
    )
    good, bad, since = summarise(session, xid=xid)
    problems = _problems(session, checked=checked) if bad else []
    # Every staged row without a problem counts: applied, or stale (a repeated pair's losers included).
    valid = staged - bad
    if good == 0:
        return SnapshotMerge(applied=0, stale=valid, problems=problems, problem_count=bad)
    write = dialect.pick(session, postgresql=_write_counts_postgresql, sqlite=_upsert_counts)
    applied = write(session, good=good, now=now, xid=xid)
    _add_movements_since_count(session, since=since, now=now, xid=xid)
    return SnapshotMerge(applied=applied, stale=valid - applied, problems=problems, problem_count=bad)


# ------------------------------------------------------------------------------------------- resolving
# Into `staging.RESOLVED`: (staged_row, store_id, product_id, on_hand, as_of, problem).


def _resolving_postgresql(*, checked: bool, now: datetime) -> Select[Any]:
    """One good row per (store, product): when a pair appears twice in a batch, its newest count wins (the
    later line on a tie: rows lie in the order they were staged, so the later `ctid`); the others are
    dropped here and counted stale by the caller. Each problem row is kept (its own `tie`; (0,0) is no
    row's ctid).

    The rows are written sorted by (store, product), so a plain scan of the table reads them in that
    order. A snapshot's times repeat (a store's counts share one), so each distinct time text is checked
    and parsed once (materialized: inlined, the planner would parse it again for every row; README,
    Benchmarks: measured choices).
    """
    codes = staging.staged_codes(staging.SNAPSHOTS)
    staged = codes.staged
    distinct = select(staging.SNAPSHOTS.c.as_of).distinct().subquery("d")
    parsed = case((_has_offset(distinct.c.as_of), cast(distinct.c.as_of, DateTime(timezone=True))))
    times = (
        select(distinct.c.as_of.label("text"), parsed.label("value")).cte("times").prefix_with("MATERIALIZED")
    )
    on_hand = cast(staged.c.on_hand, Integer)
    earliest, latest = instant_window(now)
    checks: list[tuple[ColumnElement[bool], str]] = (
        []
        if checked
        else [
            (staged.c.on_hand.is_(None), "invalid_on_hand"),
            (on_hand < 0, "negative_on_hand"),
            (times.c.value.is_(None), "invalid_date"),
            (times.c.value > latest, "future_date"),
            (times.c.value < earliest, "early_date"),
        ]
    )
    problem = select(case(*codes.unknown, *checks).label("code")).correlate_except(None).lateral("problem")
    staged_row: ColumnElement[Any] = literal_column(f"{staging.STAGED_ALIAS}.ctid")
    rows = (
        select(
            staged_row.label("staged_row"),
            codes.stores.c.id.label("store_id"),
            codes.products.c.id.label("product_id"),
            on_hand.label("on_hand"),
            times.c.value.label("as_of"),
            problem.c.code.label("problem"),
            case((problem.c.code.is_(None), literal_column("'(0,0)'")), else_=staged_row).label("tie"),
        )
        .select_from(
            codes.joined(known_only=False)
            .outerjoin(times, times.c.text == staged.c.as_of)
            .join(problem, true())
        )
        .subquery("checked")
    ).c
    return (
        select(rows.staged_row, rows.store_id, rows.product_id, rows.on_hand, rows.as_of, rows.problem)
        .ext(postgresql.distinct_on(rows.store_id, rows.product_id, rows.tie))
        .order_by(rows.store_id, rows.product_id, rows.tie, rows.as_of.desc(), rows.staged_row.desc())
    )


def _resolving_sqlite(*, checked: bool, now: datetime) -> Select[Any]:
    """Every row, by its line: SQLite is handed checked rows only (the CSV is parsed in Python there), and
    its upsert picks the newest count of a pair itself."""
    codes = staging.staged_codes(staging.SNAPSHOTS)
    staged = codes.staged
    return select(
        staged.c.line.label("staged_row"),
        codes.stores.c.id.label("store_id"),
        codes.products.c.id.label("product_id"),
        cast(staged.c.on_hand, Integer).label("on_hand"),
        staged.c.as_of,
        case(*codes.unknown).label("problem"),
    ).select_from(codes.joined(known_only=False))


def _has_offset(value: ColumnElement[Any]) -> ColumnElement[bool]:
    """A time with an offset (Z, +HH:MM, +HHMM or +HH) at its end: string tests, far cheaper than a regex."""
    signs = ("+", "-")
    return and_(
        func.length(value) >= 16,
        or_(
            func.right(value, 1).in_(("Z", "z")),
            *(func.left(func.right(value, width), 1).in_(signs) for width in (6, 5, 3)),
        ),
    )


# -------------------------------------------------------------------------------- counting and logging
# The resolved batch's good and bad row counts and its oldest good count time, and the feed log of the
# good rows' buckets.


def _groups() -> Select[Any]:
    resolved = staging.RESOLVED.c
    good = resolved.problem.is_(None)
    bucket = feed_log.bucket_of(resolved.product_id)
    return select(
        good.label("good"),
        resolved.store_id,
        bucket.label("bucket"),
        func.count().label("n"),
        func.min(resolved.as_of).label("since"),
    ).group_by(good, resolved.store_id, bucket)


def _totals(groups: FromClause) -> Select[Any]:
    return select(
        func.sum(groups.c.n).filter(groups.c.good),
        func.sum(groups.c.n).filter(~groups.c.good),
        func.min(groups.c.since).filter(groups.c.good),
    )


def _summarise_and_log_postgresql(session: Session, *, xid: int) -> tuple[int, int, object]:
    """From one scan of the batch; the log reads the few groups, not the batch again (a group's first
    product id stands for its bucket), inside the same statement."""
    groups = _groups().cte("groups").prefix_with("MATERIALIZED")
    first_of_bucket = (
        select(groups.c.store_id, feed_log.first_product_of(groups.c.bucket).label("product_id"))
        .where(groups.c.good)
        .subquery("first_of_bucket")
    )
    logged = feed_log.log_insert(
        dialect.insert(session, feed_log.LOG), xid=literal(xid, BigInteger), changed=first_of_bucket
    ).cte("logged")
    good, bad, since = session.execute(_totals(groups).add_cte(logged)).one()
    return int(good or 0), int(bad or 0), since


def _summarise_and_log_sqlite(session: Session, *, xid: int) -> tuple[int, int, object]:
    """SQLite has no writing CTE: the log is a statement of its own."""
    good, bad, since = session.execute(_totals(_groups().cte("groups"))).one()
    resolved = staging.RESOLVED.c
    changed = select(resolved.store_id, resolved.product_id).where(resolved.problem.is_(None))
    feed_log.log_changes(session, xid=xid, changed=changed.subquery("changed"))
    return int(good or 0), int(bad or 0), since


# ------------------------------------------------------------------------------------------- problems
# The staged rows the problems were found in, keyed as `staged_row` keys them. The CSV's COPY leaves
# `line` empty: its rows lie in the order COPY read them, so their position is their line.

_STAGED_ROWS_SQLITE = f"SELECT line AS key, line, store_code, sku FROM {staging.SNAPSHOTS.name}"
_STAGED_ROWS_POSTGRESQL = f"SELECT ctid AS key, line, store_code, sku FROM {staging.SNAPSHOTS.name}"
_COPIED_ROWS_POSTGRESQL = f"""SELECT ctid AS key, row_number() OVER (ORDER BY ctid) - 1 AS line,
                                      store_code, sku
                               FROM {staging.SNAPSHOTS.name}"""

_CHECK_PROBLEMS = {
    "negative_on_hand": ("negative_on_hand", NEGATIVE_COUNT),
    "invalid_date": ("invalid_date", "as_of: give an offset, e.g. +01:00"),
    "future_date": ("invalid_date", f"as_of: {TOO_LATE}"),
    "early_date": ("invalid_date", f"as_of: {TOO_EARLY}"),
    "invalid_on_hand": ("invalid_on_hand", "on_hand: a whole number"),
}


def _problems(session: Session, *, checked: bool) -> list[RowError]:
    """The first `MAX_REPORTED_ERRORS` rows with a problem, as their row errors, in line order."""
    staged_rows = dialect.pick(
        session,
        postgresql=_STAGED_ROWS_POSTGRESQL if checked else _COPIED_ROWS_POSTGRESQL,
        sqlite=_STAGED_ROWS_SQLITE,
    )
    rows = session.execute(
        text(
            f"""SELECT s.line, s.store_code, s.sku, r.problem
                FROM {_RESOLVED} r JOIN ({staged_rows}) AS s ON s.key = r.staged_row
                WHERE r.problem IS NOT NULL ORDER BY s.line LIMIT :n"""
        ),
        {"n": MAX_REPORTED_ERRORS},
    ).all()
    return [_problem(r.line, r.problem, r.store_code, r.sku) for r in rows]


def _problem(line: int, problem: str, store_code: str, sku: str) -> RowError:
    if problem == "unknown_store":
        return unknown_store(line, store_code)
    if problem == "unknown_sku":
        return unknown_sku(line, sku)
    code, detail = _CHECK_PROBLEMS[problem]
    return RowError(index=line, code=code, detail=detail)


# ------------------------------------------------------------------------------------------- writing

_GOOD = f"SELECT store_id, product_id, on_hand, as_of FROM {_RESOLVED} WHERE problem IS NULL"
_INSERT_COUNTS = """INSERT INTO stock (store_id, product_id, on_hand, reserved, safety_stock, as_of,
                                       changed_at, feed_xid)
                    SELECT store_id, product_id, on_hand, 0, 0, as_of, :now, :xid FROM ({rows}) AS r"""
_MISSING = f"""{_GOOD} AND NOT EXISTS (SELECT 1 FROM stock s
                                       WHERE s.store_id = {_RESOLVED}.store_id
                                         AND s.product_id = {_RESOLVED}.product_id)"""
_UPDATE_COUNTS = f"""UPDATE stock SET on_hand = c.on_hand, as_of = c.as_of, changed_at = :now, feed_xid = :xid
                     FROM ({_GOOD}) AS c
                     WHERE stock.store_id = c.store_id AND stock.product_id = c.product_id
                       AND (stock.as_of IS NULL OR stock.as_of < c.as_of)"""


def _write_counts_postgresql(session: Session, *, good: int, now: datetime | str, xid: int) -> int:
    """Write the `good` resolved counts (one per (store, product)) where newer than stored.

    Plain statements, cheaper than `INSERT ... ON CONFLICT DO UPDATE`, which locks each existing row in a
    WAL record of its own before updating it and confirms each new row in another:
    - first an INSERT of every count, for a batch of pairs that are all new (a first load). It stops at
      the first pair that exists, which in a batch of known pairs is the first row;
    - else an UPDATE of the pairs that exist, then an INSERT of the ones that do not. A pair another
      transaction inserted after this INSERT's snapshot makes it fail on the primary key; then the upsert
      writes what is still missing.

    All write in (store, product) order, the order every stock writer locks rows in
    (`inventory.locking`), so a long sync and a reservation wait for each other instead of deadlocking.
    They read `staging.RESOLVED` by a plain scan, which meets rows in the order they were written
    (sorted; temporary tables are never scanned in parallel or from the middle). The UPDATE's join keeps
    that order: a nested loop over the scan (each stock row found by primary key) or a merge join on the
    key, whichever the planner finds cheaper for the share of the table the batch covers; a hash join,
    which would lock rows in the hashed table's order, is ruled out for it.
    """
    params: dict[str, object] = {"now": now, "xid": xid}
    inserted = _insert_new(session, _INSERT_COUNTS.format(rows=_GOOD), params)
    if inserted is not None:
        return inserted
    session.execute(text("SET LOCAL enable_hashjoin = off"))
    updated = int(session.execute(text(_UPDATE_COUNTS), params).rowcount)  # type: ignore[attr-defined]
    if updated < good:
        inserted = _insert_new(session, _INSERT_COUNTS.format(rows=_MISSING), params)
        if inserted is None:
            # Rows the UPDATE wrote hold their count's own `as_of` now, so the upsert leaves them alone.
            inserted = _upsert_counts(session, good=good, now=now, xid=xid)
        updated += inserted
    session.execute(text("SET LOCAL enable_hashjoin TO DEFAULT"))
    return updated


def _insert_new(session: Session, statement: str, params: dict[str, object]) -> int | None:
    """Run an INSERT of stock rows; None, and nothing written, if one of them exists already."""
    try:
        with session.begin_nested():
            return int(session.execute(text(statement), params).rowcount)  # type: ignore[attr-defined]
    except DBAPIError as exc:
        if not dialect.is_unique_violation(exc):
            raise
        return None


# Of a pair given twice, the newest count (the later staged row on a tie; PostgreSQL resolved them
# already).
_NEWEST = f"""SELECT * FROM (SELECT r.*, row_number() OVER (PARTITION BY store_id, product_id
                                                         ORDER BY as_of DESC, staged_row DESC) AS rank
                             FROM {_RESOLVED} r WHERE problem IS NULL) AS ranked
              WHERE rank = 1"""
_UPSERT_COUNTS = f"""
    INSERT INTO stock (store_id, product_id, on_hand, reserved, safety_stock, as_of, changed_at, feed_xid)
    SELECT store_id, product_id, on_hand, 0, 0, as_of, :now, :xid FROM ({_NEWEST}) AS counts
    WHERE true
    ORDER BY store_id, product_id
    ON CONFLICT (store_id, product_id) DO UPDATE
       SET on_hand = excluded.on_hand, as_of = excluded.as_of,
           changed_at = excluded.changed_at, feed_xid = excluded.feed_xid
       WHERE stock.as_of IS NULL OR stock.as_of < excluded.as_of"""


def _upsert_counts(session: Session, *, good: int, now: datetime | str, xid: int) -> int:
    """Write the resolved counts where newer than stored, with `INSERT ... ON CONFLICT DO UPDATE`, in
    (store, product) order: SQLite's write, and PostgreSQL's when a concurrent writer inserted some of
    the same pairs first."""
    return int(session.execute(text(_UPSERT_COUNTS), {"now": now, "xid": xid}).rowcount)  # type: ignore[attr-defined]


_ADD_MOVEMENTS_SINCE_COUNT = text(
    """UPDATE stock SET on_hand = stock.on_hand + d.delta
       FROM (SELECT m.store_id, m.product_id, sum(m.delta) AS delta
             FROM stock_movement m
             JOIN stock s ON s.store_id = m.store_id AND s.product_id = m.product_id
             WHERE m.at > :since AND s.changed_at = :now AND s.feed_xid = :xid AND m.at > s.as_of
             GROUP BY m.store_id, m.product_id) AS d
       WHERE stock.store_id = d.store_id AND stock.product_id = d.product_id"""
)


def _add_movements_since_count(session: Session, *, since: object, now: datetime | str, xid: int) -> None:
    """Movements after a count are not in it: add them to the rows this merge just counted."""
    session.execute(_ADD_MOVEMENTS_SINCE_COUNT, {"since": since, "now": now, "xid": xid})

"""The set-based writes of a staged movement batch: record each movement once, add the new ones to
`on_hand` where they come after the row's last count (the rules are `inventory.sync`'s)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import DateTime, Table, func, literal, or_, select, text
from sqlmodel import Session

from inventory import feed_log, staging
from inventory.exceptions import unknown_sku, unknown_store
from inventory.locking import lock_stock_rows
from inventory.merges import MAX_REPORTED_ERRORS
from inventory.models import StockMovement
from retail import dialect
from retail.bulk import RowError
from retail.clock import as_aware_utc, utcnow

MOVEMENTS: Table = StockMovement.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True)
class MovementOutcome:
    applied: int
    duplicates: int


def unknown_codes(session: Session) -> list[RowError]:
    """The staged movements whose store or sku does not exist (the first `MAX_REPORTED_ERRORS`), as their
    row errors."""
    codes = staging.staged_codes(staging.MOVEMENTS)
    staged = codes.staged
    store_id, product_id = codes.stores.c.id, codes.products.c.id
    rows = session.execute(
        select(staged.c.line, staged.c.store_code, staged.c.sku, store_id.is_not(None).label("store_known"))
        .select_from(codes.joined(known_only=False))
        .where(or_(store_id.is_(None), product_id.is_(None)))
        .order_by(staged.c.line)
        .limit(MAX_REPORTED_ERRORS)
    ).all()
    return [
        unknown_sku(r.line, r.sku) if r.store_known else unknown_store(r.line, r.store_code) for r in rows
    ]


def merge_movements(session: Session, *, source: str = "sync") -> MovementOutcome:
    """Record the staged movements of known stores and skus once each, and add the new ones that
    happened after the row's last count to `on_hand`."""
    codes = staging.staged_codes(staging.MOVEMENTS)
    known_rows = codes.joined(known_only=True)
    known = int(session.execute(select(func.count()).select_from(known_rows)).scalar_one())
    if known == 0:
        return MovementOutcome(applied=0, duplicates=0)
    now = utcnow()
    staged = codes.staged
    # The first of each movement id in the batch.
    ranked = (
        select(
            staged.c.line,
            staged.c.movement_id,
            codes.stores.c.id.label("store_id"),
            codes.products.c.id.label("product_id"),
            staged.c.delta,
            staged.c.at,
            func.row_number().over(partition_by=staged.c.movement_id, order_by=staged.c.line).label("rank"),
        )
        .select_from(known_rows)
        .subquery("m")
    )
    recording = (
        dialect.insert(session, MOVEMENTS)
        .from_select(
            ["movement_id", "store_id", "product_id", "delta", "at", "recorded_at", "source"],
            select(
                ranked.c.movement_id,
                ranked.c.store_id,
                ranked.c.product_id,
                ranked.c.delta,
                ranked.c.at,
                literal(now, DateTime(timezone=True)),
                literal(source),
            )
            .where(ranked.c.rank == 1)
            .order_by(ranked.c.line),
        )
        .on_conflict_do_nothing(index_elements=["movement_id"])
        .returning(MOVEMENTS.c.store_id, MOVEMENTS.c.product_id, MOVEMENTS.c.delta, MOVEMENTS.c.at)
    )
    # The insert answers exactly the movements it recorded: a replay, or the same batch arriving twice at
    # once, gets nothing back for rows another transaction recorded first (the unique index decides).
    fresh = session.execute(recording).all()
    if fresh:
        staging.stage_fresh_movements(
            session, ((r.store_id, r.product_id, r.delta, as_aware_utc(r.at)) for r in fresh)
        )
        add_deltas_after_count(session, now=now)
    return MovementOutcome(applied=len(fresh), duplicates=known - len(fresh))


_FRESH = staging.FRESH_MOVEMENTS.name
_CREATE_MISSING_ROWS = text(
    f"""
    INSERT INTO stock (store_id, product_id, on_hand, reserved, safety_stock, as_of, changed_at, feed_xid)
    SELECT DISTINCT store_id, product_id, 0, 0, 0, CAST(NULL AS TIMESTAMP WITH TIME ZONE), :now, :xid
    FROM {_FRESH}
    WHERE true
    -- New rows go in key order too, so two batches creating the same rows cannot deadlock.
    ORDER BY store_id, product_id
    ON CONFLICT (store_id, product_id) DO NOTHING
    """
)
_ADD_DELTAS = text(
    f"""
    UPDATE stock SET on_hand = stock.on_hand + d.delta, changed_at = :now, feed_xid = :xid
    FROM (SELECT m.store_id, m.product_id, sum(m.delta) AS delta
          FROM {_FRESH} m
          JOIN stock s ON s.store_id = m.store_id AND s.product_id = m.product_id
          WHERE s.as_of IS NULL OR m.at > s.as_of
          GROUP BY m.store_id, m.product_id) AS d
    WHERE stock.store_id = d.store_id AND stock.product_id = d.product_id
    """
)


def add_deltas_after_count(session: Session, *, now: datetime) -> None:
    """Add the fresh movements' deltas to `on_hand` where they happened after the row's last count."""
    xid, fresh = feed_log.feed_xid(session), staging.FRESH_MOVEMENTS
    # A temp table has no statistics: unanalyzed, the joins below were planned as a scan of all stock.
    dialect.analyze(session, _FRESH)
    feed_log.log_changes(session, xid=xid, changed=fresh)
    params = {"now": dialect.timestamp(session, now), "xid": xid}
    session.execute(_CREATE_MISSING_ROWS, params)
    # Locked before deciding, in a new statement, which movements come after each row's count. Decided
    # inside the UPDATE, a count committing while the UPDATE waited for its lock would not be seen
    # (PostgreSQL re-reads the locked row, not the join that chose the deltas), and a movement from
    # before that count was added on top of it: the same batch sent twice alongside a snapshot counted
    # twice (tests/e2e/test_sync_twice.py).
    lock_stock_rows(session, select(fresh.c.store_id, fresh.c.product_id).distinct().subquery("k"))
    session.execute(_ADD_DELTAS, params)

"""The reservation ledger: what the order flow does to stock. Reserve baskets, give units back, hand them
over, take out the units a pick found missing, take returned ones back onto the shelf;
`inventory.reconciliation` keeps `reserved` in step with the orders that hold stock. Units that leave the
store (a collection, a short pick) are also recorded as a `stock_movement` of the order
(`<source>:<order_id>:<product_id>`), and a row's units leave only with the movement that records them, so
a retried write changes nothing twice; a return's units come back the same way (`return:...`).

Every write stamps its rows for the availability feed and logs them (`inventory.feed_log`), and locks
rows in the one order of every stock writer (`inventory.locking`), so overlapping writers wait instead of
deadlocking. Which baskets fit the locked counts is a plain function, `decide_baskets`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

from sqlalchemy import Integer, TextClause, bindparam, column, table, text
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects.postgresql import psycopg as postgresql_psycopg
from sqlmodel import Session

from inventory import feed_log
from retail import dialect
from retail.clock import utcnow


@dataclass(frozen=True)
class Quantity:
    product_id: int
    quantity: int


@dataclass(frozen=True)
class BasketOutcome:
    reserved: bool
    # What was available of each product of the basket when its turn came (after the baskets before it).
    available: dict[int, int]


# --------------------------------------------------------------------------------------- the decision


def decide_baskets(
    available: Mapping[int, int], baskets: Sequence[Sequence[Quantity]]
) -> list[BasketOutcome]:
    """Which baskets fit, in the order given, each whole or not at all, on `available` (per product id:
    what can be taken of it; a product absent has none). A basket that does not fit takes nothing, and
    the baskets after it still get their turn; a product on several lines of a basket counts once with
    their sum."""
    left = dict(available)
    outcomes: list[BasketOutcome] = []
    for basket in baskets:
        wanted: dict[int, int] = {}
        for line in basket:
            wanted[line.product_id] = wanted.get(line.product_id, 0) + line.quantity
        seen = {product: left.get(product, 0) for product in wanted}
        fits = all(seen[product] >= quantity for product, quantity in wanted.items())
        if fits:
            for product, quantity in wanted.items():
                left[product] = seen[product] - quantity
        outcomes.append(BasketOutcome(fits, seen))
    return outcomes


# -------------------------------------------------------------------------------------------- reserving


def reserve_baskets(
    session: Session, *, store_id: int, baskets: Sequence[Sequence[Quantity]]
) -> list[BasketOutcome]:
    """Reserve several baskets at one store, each whole or not at all, in the order given.

    The one way stock is reserved: a reservation run passes the pending orders of a store it drains (one
    or many). The stock rows of all baskets are locked at once in product order, so overlapping baskets
    wait instead of deadlocking; the decisions are made on the locked counts, so stock never goes below
    zero available whatever runs at once; and the sums are written with one statement, so the round trips
    do not grow with the number of baskets.
    """
    products = sorted({line.product_id for basket in baskets for line in basket})
    if not products:
        return [BasketOutcome(True, {}) for _ in baskets]
    lock = dialect.pick(session, postgresql=_lock_postgresql, sqlite=_lock_sqlite)
    outcomes = decide_baskets(lock(session, store_id, products), baskets)
    taken: dict[int, int] = {}
    for basket, outcome in zip(baskets, outcomes, strict=True):
        if outcome.reserved:
            for line in basket:
                taken[line.product_id] = taken.get(line.product_id, 0) + line.quantity
    if taken:
        changed = write_reserved(session, store_id, taken)
        if changed != len(taken):
            raise RuntimeError(f"reserved {changed} of {len(taken)} locked stock rows")
    return outcomes


def write_reserved(session: Session, store_id: int, taken: dict[int, int]) -> int:
    """Add `taken` (per product) to the store's `reserved`, on rows this transaction locked and checked;
    answers how many rows it changed (each only if it still has the units available)."""
    write = dialect.pick(session, postgresql=_reserve_postgresql, sqlite=_reserve_sqlite)
    return write(session, store_id, taken)


# PostgreSQL runs the two statements of a reservation on the psycopg connection under the session (same
# transaction), as prepared statements: they are the hottest of the service, and SQLAlchemy's per-call
# work cost more CPU than the database's own (README, Benchmarks: `bench/orders.py`). Fixed texts with
# array parameters, so psycopg prepares each once per connection.
_LOCK_POSTGRESQL = (
    b"SELECT product_id, on_hand - reserved - safety_stock FROM stock "
    b"WHERE store_id = %s AND product_id = ANY(%s::integer[]) ORDER BY product_id FOR UPDATE"
)


def _lock_postgresql(session: Session, store_id: int, products: Sequence[int]) -> dict[int, int]:
    locked = dialect.driver_connection(session).execute(
        _LOCK_POSTGRESQL, (store_id, dialect.int_array(products))
    )
    return {int(product): int(free) for product, free in locked.fetchall()}


@lru_cache(maxsize=4)
def _reserve_statement_postgresql(bucket: int) -> bytes:
    """One statement writes the sums and logs their buckets in the feed; PostgreSQL computes the feed stamp
    inside it. The rows are locked and the sums were checked against them, so the condition cannot fail;
    it is there so that a bug here can never oversell (the caller compares the count). By bucket size,
    which the log statement is written with."""
    reserved = table("reserved", column("store_id", Integer), column("product_id", Integer))
    logged = feed_log.log_insert(
        postgresql.insert(feed_log.LOG), xid=feed_log.POSTGRESQL_XID, changed=reserved
    ).compile(dialect=postgresql_psycopg.dialect())  # type: ignore[no-untyped-call]
    return f"""
        WITH reserved AS (
            UPDATE stock SET reserved = stock.reserved + taken.quantity, changed_at = %(now)s,
                             feed_xid = {feed_log.POSTGRESQL_XID}
            FROM unnest(%(products)s::integer[], %(quantities)s::integer[]) AS taken(product_id, quantity)
            WHERE stock.store_id = %(store)s AND stock.product_id = taken.product_id
              AND stock.on_hand - stock.reserved - stock.safety_stock >= taken.quantity
            RETURNING stock.store_id, stock.product_id),
        logged AS ({logged})
        SELECT count(*) FROM reserved""".encode()


def _reserve_postgresql(session: Session, store_id: int, taken: dict[int, int]) -> int:
    parameters = {
        "now": utcnow(),
        "store": store_id,
        "products": dialect.int_array(taken),
        "quantities": dialect.int_array(taken.values()),
    }
    statement = _reserve_statement_postgresql(feed_log.FEED_BUCKET)
    row = dialect.driver_connection(session).execute(statement, parameters).fetchone()
    return int(row[0]) if row is not None else 0


# SQLite has no row locks: BEGIN IMMEDIATE already made this transaction the only writer.
_LOCK_SQLITE = text(
    "SELECT product_id, on_hand - reserved - safety_stock FROM stock "
    "WHERE store_id = :store AND product_id IN :products ORDER BY product_id"
).bindparams(bindparam("products", expanding=True))
_RESERVE_SQLITE = text(
    "UPDATE stock SET reserved = reserved + :quantity, changed_at = :now, feed_xid = :xid "
    "WHERE store_id = :store AND product_id = :product AND on_hand - reserved - safety_stock >= :quantity"
)


def _lock_sqlite(session: Session, store_id: int, products: Sequence[int]) -> dict[int, int]:
    locked = session.connection().execute(_LOCK_SQLITE, {"store": store_id, "products": products})
    return {int(product): int(free) for product, free in locked}


def _reserve_sqlite(session: Session, store_id: int, taken: dict[int, int]) -> int:
    now, xid = dialect.timestamp(session, utcnow()), feed_log.feed_xid(session)
    feed_log.log_keys(session, xid=xid, keys=((store_id, product) for product in taken))
    rows = [
        {"now": now, "xid": xid, "store": store_id, "product": product, "quantity": taken[product]}
        for product in sorted(taken)
    ]
    return int(session.connection().execute(_RESERVE_SQLITE, rows).rowcount)


# ------------------------------------------------------------------------------------ giving units back

_RELEASE = text(
    "UPDATE stock SET reserved = reserved - :quantity, changed_at = :now, feed_xid = :xid "
    "WHERE store_id = :store AND product_id = :product"
)
_TAKE_OUT = text(
    "UPDATE stock SET reserved = reserved - :quantity, on_hand = on_hand - :quantity, "
    "changed_at = :now, feed_xid = :xid WHERE store_id = :store AND product_id = :product"
)
_RECORD_MOVEMENT = text(
    """INSERT INTO stock_movement (movement_id, store_id, product_id, delta, at, recorded_at, source)
       VALUES (:movement_id, :store, :product, :delta, :at, :now, :source)
       ON CONFLICT (movement_id) DO NOTHING"""
)


@dataclass(frozen=True)
class _Change:
    """One stock row's part of a ledger write: `line.quantity` units leave `reserved` (`statement`), and,
    for units that leave the store, a movement `source:order_id:product_id` dated `at` records it."""

    line: Quantity
    statement: TextClause
    source: str | None = None


def release(session: Session, *, store_id: int, lines: Sequence[Quantity]) -> None:
    """Give reserved units back to the shelf (cancelled or expired order)."""
    _write(session, store_id=store_id, changes=[_Change(line, _RELEASE) for line in lines])


def collect(
    session: Session,
    *,
    store_id: int,
    lines: Sequence[Quantity],
    order_id: str,
    at: datetime,
    refused: Sequence[Quantity] = (),
) -> None:
    """Hand reserved units over: `lines`, the units taken, leave `reserved` and `on_hand`, and are recorded
    as `collection` movements at the moment of hand-over, so a count taken before it and synced later still
    subtracts them. `refused`, units picked but not taken, leave `reserved` and stay in `on_hand` (back on
    the shelf), in the same pass, so every row is locked in product order."""
    changes = [_Change(line, _TAKE_OUT, "collection") for line in lines]
    _write(
        session,
        store_id=store_id,
        changes=changes + [_Change(line, _RELEASE) for line in refused],
        order_id=order_id,
        at=at,
    )


def short_pick(
    session: Session, *, store_id: int, lines: Sequence[Quantity], order_id: str, at: datetime
) -> None:
    """Reserved units the shelf did not hold when the store picked the order: they leave `reserved` and
    `on_hand` at once, recorded as `short_pick` movements dated `at`, the moment of the pick, so a count
    taken before it and synced later still subtracts them, as a collection's."""
    changes = [_Change(line, _TAKE_OUT, "short_pick") for line in lines]
    _write(session, store_id=store_id, changes=changes, order_id=order_id, at=at)


# A returned unit is counted as the sync counts a movement (`inventory.sync`): on top of the row's last
# count only if it came back after that count was taken (a count taken later already holds it). The row
# is there unless the store was never stocked with the product; then the return starts it.
_RECORD_RETURN = text(
    """INSERT INTO stock_movement (movement_id, store_id, product_id, delta, at, recorded_at, source)
       VALUES (:movement_id, :store, :product, :delta, :at, :now, 'return')
       ON CONFLICT (movement_id) DO NOTHING RETURNING product_id"""
)
_RESTOCK = text(
    """INSERT INTO stock (store_id, product_id, on_hand, reserved, safety_stock, changed_at, feed_xid)
       VALUES (:store, :product, :quantity, 0, 0, :now, :xid)
       ON CONFLICT (store_id, product_id) DO UPDATE SET
           on_hand = stock.on_hand
                     + CASE WHEN stock.as_of IS NULL OR stock.as_of < :at THEN excluded.on_hand ELSE 0 END,
           changed_at = excluded.changed_at, feed_xid = excluded.feed_xid"""
)


def restock(
    session: Session, *, store_id: int, lines: Sequence[Quantity], return_id: str, at: datetime
) -> None:
    """Returned units go back on the shelf: into `on_hand` (not `reserved`), recorded as movements with
    reason `return` at the moment of the return. Each line's movement id (`return:{return_id}:{product}`)
    counts it once: a line whose movement is already recorded changes nothing, whoever calls again."""
    now = dialect.timestamp(session, utcnow())
    when = dialect.timestamp(session, at)
    fresh = []
    for line in sorted(lines, key=lambda q: q.product_id):
        recorded = session.execute(
            _RECORD_RETURN,
            {
                "movement_id": f"return:{return_id}:{line.product_id}",
                "store": store_id,
                "product": line.product_id,
                "delta": line.quantity,
                "at": when,
                "now": now,
            },
        ).first()
        if recorded is not None:
            fresh.append(line)
    if not fresh:
        return
    xid = feed_log.feed_xid(session)
    feed_log.log_keys(session, xid=xid, keys=((store_id, line.product_id) for line in fresh))
    for line in fresh:
        session.execute(
            _RESTOCK,
            {
                "store": store_id,
                "product": line.product_id,
                "quantity": line.quantity,
                "at": when,
                "now": now,
                "xid": xid,
            },
        )


def _write(
    session: Session,
    *,
    store_id: int,
    changes: Sequence[_Change],
    order_id: str = "",
    at: datetime | None = None,
) -> None:
    changes = sorted((c for c in changes if c.line.quantity > 0), key=lambda c: c.line.product_id)
    if not changes:
        return
    now, xid = dialect.timestamp(session, utcnow()), feed_log.feed_xid(session)
    feed_log.log_keys(session, xid=xid, keys=((store_id, change.line.product_id) for change in changes))
    connection = session.connection()
    # Product order, as `reserve_baskets` locks them: each UPDATE locks its row, in one order.
    for change in changes:
        line = change.line
        if change.source is not None:
            assert at is not None
            recorded = connection.execute(
                _RECORD_MOVEMENT,
                {
                    "movement_id": f"{change.source}:{order_id}:{line.product_id}",
                    "store": store_id,
                    "product": line.product_id,
                    "delta": -line.quantity,
                    "at": dialect.timestamp(session, at),
                    "now": now,
                    "source": change.source,
                },
            )
            if recorded.rowcount == 0:
                continue  # recorded (and taken out) before: the same order's units leave once
        values = {"quantity": line.quantity, "now": now, "xid": xid, "store": store_id}
        connection.execute(change.statement, {**values, "product": line.product_id})

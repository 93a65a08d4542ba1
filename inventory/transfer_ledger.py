"""Transfers in the ledger: reserving a basket across its pickup store and one source store, shipping the
source's units and receiving them at the pickup store.

A transfer order is still all lines or none: the pickup store supplies the lines it holds whole, and the
lines it lacks are reserved at ONE source, the first of the candidates (nearest first) that holds all of
them. The stock rows of the pickup store and of every candidate are locked at once, in the one order of
every stock writer, (store_id, product_id) (`inventory.locking`): two orders transferring in opposite
directions lock the same rows in the same order, and wait instead of deadlocking. Which baskets fit, and
from where, is a plain function, `decide_sourced_baskets`.

Shipping takes the units out of the source (`on_hand` and `reserved`, a `transfer_out` movement) and
counts them in the pickup store's `in_transit`; receiving moves them from `in_transit` into the pickup
store's `on_hand` (a `transfer_in` movement), reserved for the order unless it was cancelled meanwhile.
Units in transit are in neither store's `on_hand`, and each step writes both rows in one transaction, so
they are never in both and never in neither. Movement ids (`transfer_out:{transfer_id}:{product_id}`) make
a retried step change nothing twice.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import TextClause, bindparam, text
from sqlmodel import Session

from inventory import availability, feed_log, ledger
from inventory.ledger import Quantity
from retail import dialect
from retail.clock import utcnow


@dataclass(frozen=True)
class SourcedBasket:
    lines: Sequence[Quantity]
    allow_transfer: bool


@dataclass(frozen=True)
class SourcedOutcome:
    reserved: bool
    # What the pickup store had available of each product of the basket when its turn came.
    available: dict[int, int]
    # The source store the basket's `from_source` products are reserved at; None: all at the pickup store.
    source: int | None = None
    from_source: tuple[int, ...] = ()


def decide_sourced_baskets(
    available: Mapping[tuple[int, int], int],
    *,
    pickup: int,
    sources: Sequence[int],
    baskets: Sequence[SourcedBasket],
) -> list[SourcedOutcome]:
    """Which baskets fit, in the order given, and where their units come from, on `available` (per
    (store, product): what can be taken of it; absent: none). A basket fits at the pickup store whole; or,
    when it allows a transfer, the products the pickup store holds in full come from there and the rest
    all from the first of `sources` that holds all of them. A basket that fits nowhere takes nothing."""
    left = dict(available)
    outcomes: list[SourcedOutcome] = []
    for basket in baskets:
        wanted: dict[int, int] = {}
        for line in basket.lines:
            wanted[line.product_id] = wanted.get(line.product_id, 0) + line.quantity
        seen = {product: left.get((pickup, product), 0) for product in wanted}
        missing = sorted(product for product, quantity in wanted.items() if seen[product] < quantity)
        source: int | None = None
        if missing:
            if basket.allow_transfer:
                source = next(
                    (
                        s
                        for s in sources
                        if s != pickup and all(left.get((s, p), 0) >= wanted[p] for p in missing)
                    ),
                    None,
                )
            if source is None:
                outcomes.append(SourcedOutcome(False, seen))
                continue
        for product, quantity in wanted.items():
            store = source if source is not None and product in missing else pickup
            left[(store, product)] = left.get((store, product), 0) - quantity
        outcomes.append(SourcedOutcome(True, seen, source, tuple(missing)))
    return outcomes


def sourced_options(
    session: Session, *, candidates: Mapping[int, Sequence[int]], lines: Sequence[Quantity]
) -> dict[int, SourcedOutcome]:
    """What an `allow_transfer` basket of `lines` would get at each pickup store of `candidates` (pickup
    store id -> its sources, nearest first), on the counts as they stand: `decide_sourced_baskets`, the
    reservation's own rule, without a lock (the shopper's answers: a promise shown, not a reservation).
    One stock read for every pickup store and source together."""
    stores = sorted({store for pickup, sources in candidates.items() for store in (pickup, *sources)})
    products = sorted({line.product_id for line in lines})
    levels = availability.stock_levels(session, store_ids=stores, product_ids=products)
    free = {key: level.available for key, level in levels.items()}
    basket = SourcedBasket(lines, allow_transfer=True)
    return {
        pickup: decide_sourced_baskets(free, pickup=pickup, sources=sources, baskets=[basket])[0]
        for pickup, sources in candidates.items()
    }


def reserve_sourced_baskets(
    session: Session, *, store_id: int, sources: Sequence[int], baskets: Sequence[SourcedBasket]
) -> list[SourcedOutcome]:
    """`ledger.reserve_baskets` for baskets that may take lines from one of `sources` (nearest first):
    the rows of the pickup store and of every source are locked at once in (store, product) order, the
    decisions made on the locked counts, and each store's sums written with the ledger's own statement."""
    products = sorted({line.product_id for basket in baskets for line in basket.lines})
    if not products:
        return [SourcedOutcome(True, {}) for _ in baskets]
    stores = sorted({store_id, *sources})
    lock = dialect.pick(session, postgresql=_lock_postgresql, sqlite=_lock_sqlite)
    outcomes = decide_sourced_baskets(
        lock(session, stores, products), pickup=store_id, sources=sources, baskets=baskets
    )
    taken: dict[int, dict[int, int]] = {}
    for basket, outcome in zip(baskets, outcomes, strict=True):
        if not outcome.reserved:
            continue
        for line in basket.lines:
            at = outcome.source if line.product_id in outcome.from_source else store_id
            assert at is not None
            per_store = taken.setdefault(at, {})
            per_store[line.product_id] = per_store.get(line.product_id, 0) + line.quantity
    # The rows are all locked already: the order of these writes cannot deadlock.
    for at in sorted(taken):
        changed = ledger.write_reserved(session, at, taken[at])
        if changed != len(taken[at]):
            raise RuntimeError(f"reserved {changed} of {len(taken[at])} locked stock rows at {at}")
    return outcomes


_LOCK_POSTGRESQL = (
    b"SELECT store_id, product_id, on_hand - reserved - safety_stock FROM stock "
    b"WHERE store_id = ANY(%s::integer[]) AND product_id = ANY(%s::integer[]) "
    b"ORDER BY store_id, product_id FOR UPDATE"
)


def _lock_postgresql(
    session: Session, stores: Sequence[int], products: Sequence[int]
) -> dict[tuple[int, int], int]:
    locked = dialect.driver_connection(session).execute(
        _LOCK_POSTGRESQL, (dialect.int_array(stores), dialect.int_array(products))
    )
    return {(int(s), int(p)): int(free) for s, p, free in locked.fetchall()}


# SQLite has no row locks: BEGIN IMMEDIATE already made this transaction the only writer.
_LOCK_SQLITE = text(
    "SELECT store_id, product_id, on_hand - reserved - safety_stock FROM stock "
    "WHERE store_id IN :stores AND product_id IN :products ORDER BY store_id, product_id"
).bindparams(bindparam("stores", expanding=True), bindparam("products", expanding=True))


def _lock_sqlite(
    session: Session, stores: Sequence[int], products: Sequence[int]
) -> dict[tuple[int, int], int]:
    locked = session.connection().execute(_LOCK_SQLITE, {"stores": stores, "products": products})
    return {(int(s), int(p)): int(free) for s, p, free in locked}


# ------------------------------------------------------------------------------- shipping, receiving

_RECORD_MOVEMENT = text(
    """INSERT INTO stock_movement (movement_id, store_id, product_id, delta, at, recorded_at, source)
       VALUES (:movement_id, :store, :product, :delta, :at, :now, :source)
       ON CONFLICT (movement_id) DO NOTHING"""
)
_SHIP_OUT = text(
    "UPDATE stock SET reserved = reserved - :quantity, on_hand = on_hand - :quantity, "
    "changed_at = :now, feed_xid = :xid WHERE store_id = :store AND product_id = :product"
)
# The pickup store may never have stocked the product: the transfer starts its row.
_INTO_TRANSIT = text(
    """INSERT INTO stock (store_id, product_id, on_hand, reserved, safety_stock, in_transit, changed_at,
                          feed_xid)
       VALUES (:store, :product, 0, 0, 0, :quantity, :now, :xid)
       ON CONFLICT (store_id, product_id) DO UPDATE SET
           in_transit = stock.in_transit + excluded.in_transit,
           changed_at = excluded.changed_at, feed_xid = excluded.feed_xid"""
)
# A count taken after the units arrived holds them already (as a return's, `ledger.restock`).
_RECEIVE = text(
    """UPDATE stock SET in_transit = in_transit - :quantity,
           on_hand = on_hand + CASE WHEN as_of IS NULL OR as_of < :at THEN :quantity ELSE 0 END,
           reserved = reserved + :reserve, changed_at = :now, feed_xid = :xid
       WHERE store_id = :store AND product_id = :product"""
)


def ship_transfer(
    session: Session,
    *,
    from_store_id: int,
    to_store_id: int,
    lines: Sequence[Quantity],
    transfer_id: str,
    at: datetime,
) -> None:
    """The source's reserved units leave its `on_hand` and `reserved` (movements `transfer_out` dated
    `at`) and are counted in the pickup store's `in_transit`. A line shipped before changes nothing."""
    fresh = _record(
        session,
        store_id=from_store_id,
        lines=lines,
        reason="transfer_out",
        sign=-1,
        transfer_id=transfer_id,
        at=at,
    )
    changes = [(from_store_id, line, _SHIP_OUT) for line in fresh]
    changes += [(to_store_id, line, _INTO_TRANSIT) for line in fresh]
    _write(session, changes)


def receive_transfer(
    session: Session,
    *,
    to_store_id: int,
    lines: Sequence[Quantity],
    transfer_id: str,
    at: datetime,
    reserve: bool,
) -> None:
    """Shipped units arrive: out of the pickup store's `in_transit`, into its `on_hand` (movements
    `transfer_in` dated `at`), and into `reserved` for the order unless `reserve` is false (the order was
    cancelled while they travelled). A line received before changes nothing."""
    fresh = _record(
        session,
        store_id=to_store_id,
        lines=lines,
        reason="transfer_in",
        sign=1,
        transfer_id=transfer_id,
        at=at,
    )
    _write(
        session,
        [(to_store_id, line, _RECEIVE) for line in fresh],
        received_at=dialect.timestamp(session, at),
        reserve=reserve,
    )


def _record(
    session: Session,
    *,
    store_id: int,
    lines: Sequence[Quantity],
    reason: str,
    sign: int,
    transfer_id: str,
    at: datetime,
) -> list[Quantity]:
    """Record each line's movement once; answers the lines recorded now (not by an earlier call)."""
    now, when = dialect.timestamp(session, utcnow()), dialect.timestamp(session, at)
    connection = session.connection()
    fresh = []
    for line in sorted(lines, key=lambda q: q.product_id):
        if line.quantity <= 0:
            continue
        recorded = connection.execute(
            _RECORD_MOVEMENT,
            {
                "movement_id": f"{reason}:{transfer_id}:{line.product_id}",
                "store": store_id,
                "product": line.product_id,
                "delta": sign * line.quantity,
                "at": when,
                "now": now,
                "source": reason,
            },
        )
        if recorded.rowcount:
            fresh.append(line)
    return fresh


def _write(
    session: Session,
    changes: Sequence[tuple[int, Quantity, TextClause]],
    *,
    received_at: object = None,
    reserve: bool = False,
) -> None:
    if not changes:
        return
    now, xid = dialect.timestamp(session, utcnow()), feed_log.feed_xid(session)
    feed_log.log_keys(session, xid=xid, keys=((store, line.product_id) for store, line, _ in changes))
    connection = session.connection()
    # (store, product) order, as every stock writer locks rows: each statement locks its row.
    for store, line, statement in sorted(changes, key=lambda c: (c[0], c[1].product_id)):
        values: dict[str, object] = {
            "quantity": line.quantity,
            "now": now,
            "xid": xid,
            "store": store,
            "product": line.product_id,
            "at": received_at,
            "reserve": line.quantity if reserve else 0,
        }
        connection.execute(statement, values)

"""Keeping `reserved` in step with the orders that hold stock.

`reserved` is a counter kept by the ledger; a bug or a hand edit can make it drift, and a drifted counter
either sells units that are promised or hides units that are free. The order flow says what its orders
hold (`HeldUnits`: a query of its own tables), and inventory reads it inside its own statements, so both
are read in one snapshot; the repair is set-based like every other stock write.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import FromClause, Row, Select, and_, func, select, update
from sqlalchemy.orm import aliased
from sqlmodel import Session, col

from inventory import feed_log, staging
from inventory.locking import lock_stock_rows
from inventory.models import Product, Stock
from retail.clock import utcnow
from stores import service as stores_service

HeldUnits = Select[int, int, int]
"""The units the orders holding stock hold, per stock row: a query of the order flow's own tables that
answers (store_id, product_id, quantity), run inside inventory's statements so that both are read in one
snapshot."""


@dataclass(frozen=True)
class ReservedDrift:
    """A stock row whose `reserved` (`was`) differs from what the orders hold (`now`). The row's store
    code and sku name it for a person; they do not make it another drift."""

    store_id: int
    product_id: int
    was: int
    now: int
    store_code: str = field(default="", compare=False)
    sku: str = field(default="", compare=False)


def _drift(held: HeldUnits, *, among: FromClause | None = None) -> Select[int, int, int, Any]:
    """Rows with a held unit and rows still holding units that nothing held explains; `among` narrows
    the check to the rows it names."""
    stock = aliased(Stock, name="s")
    store_id, product_id, reserved = col(stock.store_id), col(stock.product_id), col(stock.reserved)
    live = held.subquery("l")
    live_store, live_product, live_quantity = live.c
    now = func.coalesce(live_quantity, 0)
    query: Select[int, int, int, Any] = select(
        store_id, product_id, reserved.label("was"), now.label("now")
    ).select_from(stock)
    if among is not None:
        query = query.join(among, and_(among.c.store_id == store_id, among.c.product_id == product_id))
    return (
        query.outerjoin(live, and_(live_store == store_id, live_product == product_id))
        .where(reserved != now)
        .order_by(store_id, product_id)
    )


def reserved_drift(session: Session, *, held: HeldUnits) -> list[ReservedDrift]:
    """Stock rows whose `reserved` differs from what the orders hold, read in one statement (one snapshot,
    so a reservation is never seen in the order tables but not yet in `stock`, or the other way round)."""
    return _named(session, session.execute(_drift(held)).all())


def repair_reserved(session: Session, *, held: HeldUnits) -> list[ReservedDrift]:
    """Set `reserved` to what the orders hold wherever it drifted; answers what it changed.

    The drift is found without locks, then the drifted rows are locked (in key order, as every stock
    writer does) and checked again before the write. Without that, a reservation committing while the
    check ran would have its units wiped: PostgreSQL re-reads a row updated meanwhile but not the
    aggregate, and would set the new count back to the old one.
    """
    suspects = session.execute(_drift(held)).all()
    if not suspects:
        return []
    staging.stage_drifted(session, ((int(r.store_id), int(r.product_id)) for r in suspects))
    lock_stock_rows(session, staging.DRIFTED)
    drifted = _drift(held, among=staging.DRIFTED)
    confirmed = session.execute(drifted).all()
    if not confirmed:
        return []
    xid = feed_log.feed_xid(session)
    feed_log.log_keys(session, xid=xid, keys=((int(r.store_id), int(r.product_id)) for r in confirmed))
    target = drifted.order_by(None).subquery("d")
    session.execute(
        update(Stock)
        .where(col(Stock.store_id) == target.c.store_id, col(Stock.product_id) == target.c.product_id)
        .values(reserved=target.c.now, changed_at=utcnow(), feed_xid=xid)
    )
    return _named(session, confirmed)


def _named(session: Session, rows: Sequence[Row[Any]]) -> list[ReservedDrift]:
    """The drifted rows with their store codes and skus (`#id` for one that names nothing)."""
    if not rows:
        return []
    stores = stores_service.store_keys().subquery("st")
    store_ids = {int(r.store_id) for r in rows}
    codes = dict(session.execute(select(stores.c.id, stores.c.code).where(stores.c.id.in_(store_ids))).all())
    product_ids = {int(r.product_id) for r in rows}
    skus = dict(
        session.execute(
            select(col(Product.id), col(Product.sku)).where(col(Product.id).in_(product_ids))
        ).all()
    )
    return [
        ReservedDrift(
            int(r.store_id),
            int(r.product_id),
            int(r.was),
            int(r.now),
            store_code=codes.get(int(r.store_id), f"#{r.store_id}"),
            sku=skus.get(int(r.product_id), f"#{r.product_id}"),
        )
        for r in rows
    ]

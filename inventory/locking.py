"""The one order every stock writer locks rows in: (store_id, product_id), as the primary key runs.

Writers that lock overlapping rows in one order wait for each other instead of deadlocking: a long sync,
a reservation run, a cancelled order and the reconciliation. The set-based writes meet rows in that order
themselves (`inventory.merges`); a writer that must decide after locking takes the locks first, here.
"""

from __future__ import annotations

from sqlalchemy import FromClause, and_, literal, select
from sqlalchemy.orm import aliased
from sqlmodel import Session, col

from inventory.models import Stock
from retail import dialect


def lock_stock_rows(session: Session, keys: FromClause) -> None:
    """Lock the stock rows `keys` names (its `store_id` and `product_id`) until this transaction ends.

    A statement run after this one sees every transaction that finished with these rows before the locks
    were granted, and none can change them until this one commits."""
    dialect.pick(session, postgresql=_lock_postgresql, sqlite=_lock_sqlite)(session, keys)


def _lock_postgresql(session: Session, keys: FromClause) -> None:
    stock = aliased(Stock, name="s")
    store_id, product_id = col(stock.store_id), col(stock.product_id)
    session.execute(
        select(literal(1))
        .select_from(stock)
        .join(keys, and_(keys.c.store_id == store_id, keys.c.product_id == product_id))
        .order_by(store_id, product_id)
        .with_for_update(of=stock)
    )


def _lock_sqlite(session: Session, keys: FromClause) -> None:
    """SQLite has no row locks: BEGIN IMMEDIATE already made this transaction the only writer."""

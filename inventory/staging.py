"""The temporary tables a sync batch passes through, and how its rows get into them.

Staged rows carry the webshop's codes; the merges (`inventory.merges`) resolve them to ids by joining, so
a million-row CSV needs no lookups from Python while its COPY is open, and unknown codes come back from
one query. Rows go in by COPY on PostgreSQL (`retail.dialect.copy_rows`, `copy_csv`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import (
    Column,
    ColumnElement,
    DateTime,
    FromClause,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    column,
    table,
)
from sqlmodel import Session

from inventory.models import Product
from retail import dialect
from stores import service as stores_service

# Not the application's metadata: these tables live for one transaction and no migration knows them.
_TEMPORARY = MetaData()

# Text columns: the CSV fast path copies the webshop's bytes in untouched and the merge casts them. It
# leaves `line` empty: rows lie in the order COPY read them, so their position is their line, worked out
# only for the rows a problem is reported on (an identity column is costly: README, Benchmarks: measured
# choices).
SNAPSHOTS = Table(
    "stage_stock_snapshot",
    _TEMPORARY,
    Column("line", Integer),
    Column("store_code", Text),
    Column("sku", Text),
    Column("on_hand", Text),
    Column("as_of", Text),
    prefixes=["TEMPORARY"],
)
MOVEMENTS = Table(
    "stage_stock_movement",
    _TEMPORARY,
    Column("line", Integer),
    Column("movement_id", String(100)),
    Column("store_code", String(32)),
    Column("sku", String(64)),
    Column("delta", Integer),
    Column("at", DateTime(timezone=True)),
    prefixes=["TEMPORARY"],
)
# The movements a batch recorded for the first time, with their ids resolved.
FRESH_MOVEMENTS = Table(
    "stage_fresh_movement",
    _TEMPORARY,
    Column("store_id", Integer),
    Column("product_id", Integer),
    Column("delta", Integer),
    Column("at", DateTime(timezone=True)),
    prefixes=["TEMPORARY"],
)
# Stock rows the reconciliation found drifted, to lock and check again.
DRIFTED = Table(
    "stage_reserved_drift",
    _TEMPORARY,
    Column("store_id", Integer),
    Column("product_id", Integer),
    prefixes=["TEMPORARY"],
)
# The staged snapshots resolved to ids, checked and sorted, by a query (`CREATE TEMPORARY TABLE ... AS`,
# in `inventory.merges`): `staged_row` is the staged row's place (its `ctid` on PostgreSQL, its `line` on
# SQLite), `problem` the code of what is wrong with it, if anything.
RESOLVED = table(
    "stage_stock_resolved",
    column("staged_row"),
    column("store_id", Integer),
    column("product_id", Integer),
    column("on_hand", Integer),
    # Untyped: read back and bound again as the database gave it (SQLite: text in the one stored format).
    column("as_of"),
    column("problem", String),
)


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


@dataclass(frozen=True)
class StagedCodes:
    """Staged rows (as `s`) and the stores (`st`, the stores domain's `store_keys`) and products (`p`)
    their codes name: how a merge resolves codes to ids, in the same statement as the rest of its work."""

    staged: FromClause
    stores: FromClause
    products: FromClause

    def joined(self, *, known_only: bool) -> FromClause:
        """The rows with their store and product; `known_only`: only rows whose codes both name one."""
        staged, stores, products = self.staged, self.stores, self.products
        join = staged.join if known_only else staged.outerjoin
        by_store = join(stores, stores.c.code == staged.c.store_code)
        join = by_store.join if known_only else by_store.outerjoin
        return join(products, products.c.sku == staged.c.sku)

    @property
    def unknown(self) -> list[tuple[ColumnElement[bool], str]]:
        """The problem of a row whose store code or sku names nothing, as `case` takes it."""
        return [(self.stores.c.id.is_(None), "unknown_store"), (self.products.c.id.is_(None), "unknown_sku")]


STAGED_ALIAS = "s"


def staged_codes(table: Table) -> StagedCodes:
    products: Table = Product.__table__  # type: ignore[attr-defined]
    return StagedCodes(
        table.alias(STAGED_ALIAS), stores_service.store_keys().subquery("st"), products.alias("p")
    )


def _names(table: Table) -> list[str]:
    return [column.name for column in table.columns]


def stage_snapshots(session: Session, rows: Iterable[StagedSnapshot]) -> int:
    """Stage snapshot rows that were already checked field by field in Python; answers how many."""
    dialect.create_temporary_table(session, SNAPSHOTS)
    return dialect.copy_rows(
        session,
        SNAPSHOTS.name,
        _names(SNAPSHOTS),
        (
            (r.line, r.store_code, r.sku, str(r.on_hand), dialect.timestamp_text(session, r.as_of))
            for r in rows
        ),
    )


def stage_snapshot_csv(session: Session, columns: Sequence[str], body: Iterable[bytes]) -> int:
    """PostgreSQL: COPY a CSV body (without its header line) as it is; the merge checks and casts it.
    Answers how many rows it staged.

    A row COPY cannot split (wrong field count, broken quoting) aborts the COPY, as a cast of a bad value
    aborts the merge: the caller then replays the body through the row-by-row path, which reports each
    bad row instead.
    """
    dialect.create_temporary_table(session, SNAPSHOTS)
    return dialect.copy_csv(session, SNAPSHOTS.name, columns, body)


def stage_movements(session: Session, rows: Iterable[StagedMovement]) -> int:
    """Stage movement rows checked field by field in Python; answers how many."""
    dialect.create_temporary_table(session, MOVEMENTS)
    return dialect.copy_rows(
        session,
        MOVEMENTS.name,
        _names(MOVEMENTS),
        (
            (r.line, r.movement_id, r.store_code, r.sku, r.delta, dialect.timestamp(session, r.at))
            for r in rows
        ),
    )


def stage_fresh_movements(session: Session, rows: Iterable[tuple[int, int, int, datetime]]) -> int:
    """Stage (store_id, product_id, delta, at) of the movements a batch recorded first."""
    dialect.create_temporary_table(session, FRESH_MOVEMENTS)
    return dialect.copy_rows(
        session,
        FRESH_MOVEMENTS.name,
        _names(FRESH_MOVEMENTS),
        ((store, product, delta, dialect.timestamp(session, at)) for store, product, delta, at in rows),
    )


def stage_drifted(session: Session, keys: Iterable[tuple[int, int]]) -> int:
    """Stage the (store_id, product_id) of stock rows the reconciliation found drifted."""
    dialect.create_temporary_table(session, DRIFTED)
    return dialect.copy_rows(session, DRIFTED.name, _names(DRIFTED), keys)

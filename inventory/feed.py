"""The availability feed (`GET /sync/v1/availability`): pages of changed stock rows, and the cursor that
carries on from them.

Rows come in (writer's transaction id, store, product) order: the change log (`inventory.feed_log`, in its
key order) names the (store, bucket) each transaction wrote, and each bucket's rows still stamped by that
transaction are read by primary key (`feed_log.logged_rows`).

Transaction ids are handed out when a transaction begins to write, not when it commits, so a writer still
running can commit after newer ones. A page therefore never serves a running writer's changes, and the
cursor never silently passes one: when a page goes past writers that are still running, the cursor lists
them as *waiting*, and a later page serves each waiting writer's rows once it has finished, before carrying
on. So the feed never holds committed changes back behind a writer that is still at work (a page comes
back empty only once every change committed before it has been served), and a writer that commits late
never falls behind a cursor.

A cursor is the position (xid, store_id, product_id) of the last row served, then three numbers per
waiting writer: how far its id lies below the position's (small numbers, so a cursor stays short) and
how far into its rows a page got (store_id, product_id; 0, 0 before the first). Cursors of three numbers,
as the feed gave out before it had waiting writers, read as having none, which is what they meant.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import Any, NamedTuple

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    FromClause,
    Integer,
    Select,
    Subquery,
    Table,
    and_,
    bindparam,
    select,
    true,
    tuple_,
)
from sqlmodel import Session

from inventory import feed_log
from inventory.models import Product
from inventory.schemas import AvailabilityFeed, available_quantity, stock_status
from retail import dialect
from retail.clock import as_aware_utc
from retail.collector import collector_paused
from retail.pagination import MAX_CURSOR_LENGTH, InvalidCursor, decode_cursor, encode_cursor
from stores import service as stores_service

# Every cursor must fit in MAX_CURSOR_LENGTH characters of base64, whatever runs meanwhile, so a page only
# ever gives out one that fits:
# - a page that moves the position lists each waiting writer at most as far below it as the oldest one
#   it knows of lies below the snapshot's end, and goes past only as many running writers as fit so
#   (`_room`); when not even the writers already listed would fit, it keeps the position;
# - a page that serves part of a waiting writer keeps the position and adds that writer's progress: every
#   cursor without a part-way writer leaves room for one (`decode` refuses those that do not).
_MAX_JSON = MAX_CURSOR_LENGTH * 3 // 4  # base64 gives 4 characters for 3
_POSITION_JSON = 3 * 20 + 2  # "[xid,store,product" at its widest (numbers of up to 20 characters)
_PROGRESS_JSON = 2 * 20  # what a waiting writer's progress (store, product) adds at its widest
_LARGEST_BIGINT = 2**63 - 1
PRODUCTS: Table = Product.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True, order=True)
class Waiting:
    """A writer the cursor went past while it was running; its rows up to (store_id, product_id) have
    been served."""

    xid: int
    store_id: int = 0
    product_id: int = 0

    @property
    def started(self) -> bool:
        return (self.store_id, self.product_id) != (0, 0)


@dataclass(frozen=True)
class FeedCursor:
    xid: int = 0
    store_id: int = 0
    product_id: int = 0
    waiting: tuple[Waiting, ...] = field(default=())

    @classmethod
    def decode(cls, cursor: str | None) -> FeedCursor:
        if cursor is None:
            return cls()
        value = decode_cursor(cursor)
        if (
            not isinstance(value, list)
            or len(value) < 3
            or len(value) % 3
            # JSON has one number type, and a bool is an int to Python: accept exactly what was written.
            or not all(type(number) is int and 0 <= number <= _LARGEST_BIGINT for number in value)
        ):
            raise InvalidCursor()
        xid, store_id, product_id = value[:3]
        waiting = []
        for below, waiting_store, waiting_product in zip(*[iter(value[3:])] * 3, strict=True):
            if not 0 < below <= xid:
                raise InvalidCursor()
            waiting.append(Waiting(xid - below, waiting_store, waiting_product))
        decoded = cls(xid, store_id, product_id, tuple(sorted(waiting)))
        part_way = sum(writer.started for writer in waiting)
        if part_way > 1 or (part_way == 0 and decoded.json_length() > _MAX_JSON - _PROGRESS_JSON):
            raise InvalidCursor()  # not one a page gives out (see the rules above)
        return decoded

    def encode(self) -> str:
        cursor = encode_cursor(self._numbers())
        if len(cursor) > MAX_CURSOR_LENGTH:  # the rules above keep this from happening
            raise RuntimeError(f"an availability feed cursor of {len(cursor)} characters")
        return cursor

    def json_length(self) -> int:
        return len(json.dumps(self._numbers(), separators=(",", ":")))  # as `encode_cursor` writes it

    def _numbers(self) -> list[int]:
        numbers = [self.xid, self.store_id, self.product_id]
        for writer in self.waiting:
            numbers += [self.xid - writer.xid, writer.store_id, writer.product_id]
        return numbers


class FeedRow(NamedTuple):
    # A tuple, not a dataclass: a full walk builds one per stock row (README, Benchmarks: measured
    # choices).
    xid: int
    store_id: int
    product_id: int
    on_hand: int
    reserved: int
    safety_stock: int
    in_transit: int
    changed_at: Any
    store_code: str
    low_stock_threshold: int
    sku: str


@dataclass(frozen=True)
class FeedPage:
    rows: list[FeedRow]
    next_cursor: FeedCursor


def read_page(session: Session, *, cursor: FeedCursor, limit: int) -> FeedPage:
    """Up to `limit` rows after `cursor`: first those of its waiting writers that have finished since,
    then the next ones in order, of finished writers only, going past running ones as room allows."""
    snapshot = feed_log.feed_snapshot(session)
    still_running = [writer for writer in cursor.waiting if writer.xid in snapshot.running]
    # A writer whose rows a page began comes first, so at most one is ever part-way.
    finished = sorted(
        (writer for writer in cursor.waiting if writer.xid not in snapshot.running),
        key=lambda writer: (not writer.started, writer.xid),
    )
    rows: list[FeedRow] = []
    logged = _logged(session, [writer.xid for writer in finished])
    for index, writer in enumerate(finished):
        if writer.xid not in logged:
            # It wrote no stock (most transactions do not), or the pruning found all of it written again.
            continue
        rows += _rows(
            session,
            after=(writer.xid, writer.store_id, writer.product_id),
            end=writer.xid + 1,
            skip=frozenset(),
            limit=limit - len(rows),
        )
        if len(rows) == limit:
            # Perhaps not all of its rows: it stays, at the last one served (a page that finds no more
            # drops it).
            last = rows[-1]
            left = [
                replace(writer, store_id=last.store_id, product_id=last.product_id),
                *finished[index + 1 :],
            ]
            return FeedPage(rows, replace(cursor, waiting=tuple(sorted(still_running + left))))

    # The page may go past as many running writers as the cursor has room to list; the next one bounds it.
    ahead = sorted(xid for xid in snapshot.running if xid > cursor.xid)
    oldest = min([cursor.xid, *(writer.xid for writer in still_running)])
    room = _room(snapshot.end, oldest=oldest, kept=len(still_running))
    if room is None:
        return FeedPage(rows, replace(cursor, waiting=tuple(still_running)))
    end = ahead[room] if len(ahead) > room else snapshot.end
    served = _rows(
        session,
        after=(cursor.xid, cursor.store_id, cursor.product_id),
        end=end,
        skip=frozenset(xid for xid in ahead if xid < end),
        limit=limit - len(rows),
    )
    rows += served
    if not served:
        return FeedPage(rows, replace(cursor, waiting=tuple(still_running)))
    last = served[-1]
    passed = [Waiting(xid) for xid in ahead if xid < last.xid]
    waiting = tuple(sorted(still_running + passed))
    return FeedPage(rows, FeedCursor(last.xid, last.store_id, last.product_id, waiting))


def _room(end: int, *, oldest: int, kept: int) -> int | None:
    """How many more waiting writers a cursor whose position is below `end` has room for, with `kept`
    listed already; None when the position cannot move at all. Each takes its distance below the
    position (less than `end - oldest`) and two zeros."""
    per_writer = len(f",{max(end - oldest, 1)},0,0")
    left = _MAX_JSON - _POSITION_JSON - _PROGRESS_JSON - per_writer * kept
    return left // per_writer if left >= 0 else None


def _logged(session: Session, xids: list[int]) -> set[int]:
    """Those of `xids` that have rows in the change log: one query, instead of one per writer."""
    if not xids:
        return set()
    log = feed_log.LOG
    logged = select(log.c.xid).distinct().where(log.c.xid.in_(xids))
    return {int(xid) for xid in session.execute(logged).scalars()}


def _rows(
    session: Session, *, after: tuple[int, int, int], end: int, skip: frozenset[int], limit: int
) -> list[FeedRow]:
    """The feed's rows after position `after` of writers below `end`, except those in `skip`."""
    xid, store_id, product_id = after
    parameters: dict[str, object] = {
        "xid": xid,
        "store": store_id,
        "product": product_id,
        "bucket": product_id // feed_log.FEED_BUCKET,
        "end": end,
        "limit": limit,
    }
    if skip:
        parameters["skip"] = sorted(skip)
    build = dialect.pick(session, postgresql=_page_postgresql, sqlite=_page_sqlite)
    statement = build(feed_log.FEED_BUCKET, skipping=bool(skip))
    # On the session's connection, not through the session: the ORM's handling of each row of a Core
    # statement cost an eighth of a full walk's CPU. And all of the page from the driver's cursor at
    # once: a result read row by row asks the driver for each row (`fetchone`) and wraps it in a `Row`
    # (README, Benchmarks: measured choices). The columns need no conversion on the way: the one that
    # would (`changed_at`, text from SQLite) goes through `as_aware_utc`, as the page's items are built.
    with session.connection().execute(statement, parameters) as result:
        return list(map(FeedRow._make, result.cursor.fetchall()))


# A page is the feed's hot path, and building its statement cost more than running it: each form is built
# once per bucket size (it is written into the statement) and per whether writers are skipped. Core
# tables, not the models: a page is up to 5,000 rows, read as plain tuples.
#
# A page must cost in proportion to its own rows, not to the tables: a full walk is every page (README,
# Benchmarks: `bench/feed.py`). Written as a plain join of log and stock, PostgreSQL planned it as a hash
# join over a scan of all of `stock` whenever it guessed the join small (after one sync's writer it
# expected 1 to 170 rows where 500,000 came), then sorted the whole rest of the feed to serve a page, so a
# full walk grew with the square of the table. So on PostgreSQL each log row's bucket is read LATERAL, by
# primary key, in the log's key order: a nested loop that the LIMIT stops once the page is full, whatever
# the statistics. The bucket's products are joined inside it, over the bucket's range of product ids:
# joined to the cut page instead, PostgreSQL hashed the whole catalogue for each page. The stores (a few
# per page) are joined to the cut page, whose order the join keeps. SQLite has no LATERAL and needs none:
# it nests loops in the log's key order anyway, probing stock and the codes by primary key, and stops at
# the LIMIT.


@lru_cache(maxsize=8)
def _page_postgresql(bucket: int, *, skipping: bool) -> Select[Any]:
    change, stock, products = feed_log.LOG.alias("c"), feed_log.STOCK.alias("s"), PRODUCTS.alias("p")
    its_product = and_(
        products.c.id == stock.c.product_id, feed_log.in_bucket(products.c.id, change.c.bucket)
    )
    rows = (
        select(*_stock_columns(stock), products.c.sku)
        .join_from(stock, products, its_product)
        .where(feed_log.logged_rows(change, stock), _after_position(change, stock))
        .order_by(stock.c.product_id)
        .limit(bindparam("limit", type_=Integer))  # also keeps PostgreSQL from flattening it into a join
        .lateral("b")
    )
    # The log row's store, not the equal one of its stock rows: PostgreSQL then knows the page comes in
    # the order the codes' join asks for, and sorts it no more.
    key = (change.c.xid, change.c.store_id, change.c.bucket)
    walk = select(*key, *(column for column in rows.c if column.name != "store_id")).select_from(change)
    walk = walk.join(rows, true())
    page = _cut(walk, change, rows.c.product_id, skipping=skipping)
    stores = stores_service.store_keys().subquery("st")
    return (
        select(*_page_columns(page), stores.c.code, stores.c.low_stock_threshold, page.c.sku)
        .join(stores, stores.c.id == page.c.store_id)
        .order_by(page.c.xid, page.c.store_id, page.c.bucket, page.c.product_id)  # the page's own order
    )


@lru_cache(maxsize=8)
def _page_sqlite(bucket: int, *, skipping: bool) -> Select[Any]:
    change, stock, products = feed_log.LOG.alias("c"), feed_log.STOCK.alias("s"), PRODUCTS.alias("p")
    walk = (
        select(change.c.xid, *_stock_columns(stock))
        .select_from(change)
        .join(stock, feed_log.logged_rows(change, stock))
        .where(_after_position(change, stock))
    )
    page = _cut(walk, change, stock.c.product_id, skipping=skipping)
    stores = stores_service.store_keys().subquery("st")
    return (
        select(*_page_columns(page), stores.c.code, stores.c.low_stock_threshold, products.c.sku)
        .join(stores, stores.c.id == page.c.store_id)
        .join(products, products.c.id == page.c.product_id)
        .order_by(page.c.xid, page.c.store_id, page.c.product_id)
    )


_STOCK_COLUMNS = ("store_id", "product_id", "on_hand", "reserved", "safety_stock", "in_transit", "changed_at")


def _stock_columns(stock: FromClause) -> list[ColumnElement[Any]]:
    return [stock.c[name] for name in _STOCK_COLUMNS]


def _page_columns(page: Subquery) -> list[ColumnElement[Any]]:
    """A `FeedRow`'s columns that come from the page itself, in its order."""
    return [page.c.xid, *(page.c[name] for name in _STOCK_COLUMNS)]


def _after_position(change: FromClause, stock: FromClause) -> ColumnElement[bool]:
    """Past the cursor's row, given that the walk starts at the cursor's log row (`_cut`): only in the
    cursor's own writer and store are there rows to leave out, those up to its product. Said as a row
    value of log and stock, (xid, store, product) > cursor, SQLite bounded its log scan by the writer
    alone, and each page stepped over all of its writer's earlier log rows."""
    return ~and_(
        change.c.xid == bindparam("xid", type_=BigInteger),
        change.c.store_id == bindparam("store", type_=BigInteger),
        stock.c.product_id <= bindparam("product", type_=BigInteger),
    )


def _cut(
    walk: Select[Any], change: FromClause, product_id: ColumnElement[int], *, skipping: bool
) -> Subquery:
    """The page of `walk` (log rows joined to their stock rows): from the cursor's log row on, writers
    below `end` (but those skipped), in (writer, store, bucket, product) order, up to `limit` rows."""
    writer = change.c.xid
    walk = (
        walk.where(
            tuple_(writer, change.c.store_id, change.c.bucket) >= _position("xid", "store", "bucket"),
            writer < bindparam("end", type_=BigInteger),
        )
        .order_by(writer, change.c.store_id, change.c.bucket, product_id)
        .limit(bindparam("limit", type_=Integer))
    )
    if skipping:
        walk = walk.where(writer.not_in(bindparam("skip", type_=BigInteger, expanding=True)))
    return walk.subquery("page")


def _position(*names: str) -> ColumnElement[Any]:
    # Bound as 64-bit: a cursor may carry any number up to the largest bigint.
    return tuple_(*(bindparam(name, type_=BigInteger) for name in names))


def availability_feed(session: Session, *, cursor: str | None, limit: int) -> AvailabilityFeed:
    """Stock rows changed since `cursor`, each in its latest state; the cursor is never null. Followed
    from no cursor until `items` is empty, it serves every change committed before that last page."""
    with collector_paused():
        # The page's rows and the dicts made of them are freed as `_answer` returns, before the collector
        # is back: only the answer's items meet it.
        return _answer(read_page(session, cursor=FeedCursor.decode(cursor), limit=limit))


def _answer(page: FeedPage) -> AvailabilityFeed:
    # Validated as one page, not item by item: a call per item cost a third more (README, Benchmarks:
    # measured choices).
    items = [
        {
            "store_code": row.store_code,
            "sku": row.sku,
            "on_hand": row.on_hand,
            "reserved": row.reserved,
            "available": (available := available_quantity(row.on_hand, row.reserved, row.safety_stock)),
            "status": stock_status(available, row.low_stock_threshold),
            "in_transit": row.in_transit,
            "changed_at": as_aware_utc(row.changed_at),
        }
        for row in page.rows
    ]
    return AvailabilityFeed(items=items, next_cursor=page.next_cursor.encode())

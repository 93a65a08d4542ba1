"""The service report (API.md, "Promises kept, and seen to be kept"): whether each store kept its promises,
per day or over a range, from the columns `orders.lifecycle.stamp` writes on each order.

Every figure of an item is about the same orders: those placed at the store on that day in the store's
own zone (or, grouped by store, on any day of the range), whatever became of them since.

- `orders`: all of them, rejected ones included. `rejected`: those whose status is `rejected`.
  `short_picked`: those the store found fewer units of than ordered on some line (ready with
  shortages, or rejected because the shelf held none of it).
- `ready_on_time_pct`: of those that were made ready, the share ready (`ready_at`) at or before the
  `ready_by` first promised at reservation, in percent with one decimal; null when none was made ready.
- `minutes_to_ready_p50` / `_p90`: the median and the 90th percentile of the minutes from reserved to ready
  (wall clock), interpolated (`percentile_cont`), one decimal; null when none was made ready.
- `expired_pct`: of those made ready, the share that expired uncollected (no-shows), as the on-time share.
- `handover_minutes_p50`: of those collected whose shopper checked in as arrived, the median minutes from
  the check-in to the hand-over; null when none.
- `returns`: how many returns the counter took of those orders (one per return, whatever its units).

A day without orders has no item. The range is read over an index on (store, created) or (created): the
rows scanned are the range's own, give or take the zones' offsets.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import TypeAdapter
from sqlalchemy import Select, and_, bindparam, case, func, null, or_, select, text
from sqlmodel import Session, col

from orders.models import Order, OrderStatus, Return
from orders.report_schemas import CSV_COLUMNS, ReportGroup, ServiceReportItem
from retail import dialect
from retail.auth import Principal, Role
from retail.errors import Forbidden, InvalidInput
from stores import service as stores_service
from stores.models import Store

MAX_DAYS = 366
"""The longest range one request reports on: a year, leap day included."""
MAX_CHAIN_DAYS = 31
"""The longest range of the whole chain by day: 5,000 stores of a month are 155,000 items already; a
longer range is asked of one store, or by store."""
EARLIEST = date(2000, 1, 1)
LATEST = date(2999, 12, 31)

# ---------------------------------------------------------------------------------------------- rules


def check_range(date_from: date, date_to: date, *, chain_by_day: bool = False) -> None:
    """A range the report answers: `from` not after `to`, at most `MAX_DAYS` days (`MAX_CHAIN_DAYS` for
    the whole chain by day), within sane years."""
    if not EARLIEST <= date_from <= LATEST:
        raise InvalidInput(f"from must lie between {EARLIEST} and {LATEST}", field="query.from")
    if not EARLIEST <= date_to <= LATEST:
        raise InvalidInput(f"to must lie between {EARLIEST} and {LATEST}", field="query.to")
    if date_from > date_to:
        raise InvalidInput("from is after to", field="query.from")
    days = (date_to - date_from).days + 1
    if days > MAX_DAYS:
        raise InvalidInput(f"a range covers at most {MAX_DAYS} days", field="query.to")
    if chain_by_day and days > MAX_CHAIN_DAYS:
        raise InvalidInput(
            f"the whole chain by day covers at most {MAX_CHAIN_DAYS} days: name a store, or group=store",
            field="query.to",
        )


def utc_bounds(date_from: date, date_to: date, zone: str) -> tuple[datetime, datetime]:
    """The instants [start, end) of the local days `date_from`..`date_to` in `zone`."""
    tz = ZoneInfo(zone)
    start = datetime.combine(date_from, time.min, tz).astimezone(UTC)
    return start, datetime.combine(date_to + timedelta(days=1), time.min, tz).astimezone(UTC)


def pct(part: int, whole: int) -> float | None:
    return None if whole == 0 else round(100.0 * part / whole, 1)


def _one_decimal(value: float | None) -> float | None:
    return None if value is None else round(float(value), 1)


# ------------------------------------------------------------------------------------------- the query


def report_store(session: Session, *, principal: Principal, store_code: str | None) -> Store | None:
    """The one store the report is about, or None for the whole chain (an admin key only); a staff key
    reports on its own store, and asking for another is 403 `wrong_store`."""
    if principal.role is Role.staff:
        store_code = store_code or principal.store_code
    if store_code is None:
        return None
    if not principal.may_act_for_store(store_code):
        raise Forbidden(f"this key is not for store {store_code}", code="wrong_store")
    return stores_service.get_store(session, code=store_code)


def service_report(
    session: Session,
    *,
    principal: Principal,
    date_from: date,
    date_to: date,
    store_code: str | None = None,
    group: ReportGroup = ReportGroup.day,
) -> list[ServiceReportItem]:
    """The report's items, by store code and then day."""
    store = report_store(session, principal=principal, store_code=store_code)
    check_range(date_from, date_to, chain_by_day=store is None and group is ReportGroup.day)
    zones = [store.timezone] if store is not None else stores_service.timezones_in_use(session)
    if not zones:
        return []
    # Each zone's local days as exact instants, so no row's zone is converted to pick it (that conversion
    # was a third of a year's scan); the outer bounds are what an index on created_at is read by.
    bounds = {zone: utc_bounds(date_from, date_to, zone) for zone in zones}
    created = col(Order.created_at)
    where: list[Any] = [
        created >= min(lo for lo, _ in bounds.values()),
        created < max(hi for _, hi in bounds.values()),
    ]
    if store is not None:
        where.append(col(Order.store_id) == store.id)
    if len(bounds) > 1:
        where.append(
            or_(
                *(
                    and_(col(Store.timezone) == z, created >= lo, created < hi)
                    for z, (lo, hi) in bounds.items()
                )
            )
        )
    # Grouped by the store's id, not its code: the sort under the percentiles is of integers.
    keys: list[Any] = [col(Order.store_id).label("store_id")]
    if group is ReportGroup.day:
        keys.append(dialect.local_date(session, created, col(Store.timezone)).label("day"))
    # The sort under the percentiles in memory rather than on disk (PostgreSQL; a year of the chain by
    # store sorts some 100 MB of narrow rows).
    dialect.set_local(session, "work_mem", "'256MB'")
    returns = {
        tuple(row[:-1]): int(row[-1])
        for row in session.execute(
            _returns(keys).where(*where, col(Return.at) >= where[0].right).group_by(*keys)
        )
    }
    by_day = group is ReportGroup.day
    f = _figures(session, keys).where(*where).group_by(*keys).subquery().c
    codes: Any = col(Store.code)
    rows = session.execute(
        select(codes, f.store_id, f.day if by_day else null(), *(f[name] for name in _FIGURES))
        .join(Store, col(Store.id) == f.store_id)
        .order_by(codes, *([f.day] if by_day else []))
    )
    return _ITEMS.validate_python([_item(tuple(row), returns, by_day=by_day) for row in rows])


def _count(condition: Any) -> Any:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def _figures(session: Session, keys: list[Any]) -> Select[Any]:
    """One row per group: its counts and percentiles (the order's columns only: no history read)."""
    status = col(Order.status)
    first_promise = func.coalesce(col(Order.promised_ready_by), col(Order.ready_by))
    to_ready = dialect.minutes_between(session, col(Order.reserved_at), col(Order.ready_at))
    arrived_and_collected = and_(col(Order.arrival_status) == "arrived", col(Order.collected_at).is_not(None))
    handover = case(
        (
            arrived_and_collected,
            dialect.minutes_between(session, col(Order.arrival_at), col(Order.collected_at)),
        )
    )
    return (
        select(
            *keys,
            func.count().label("orders"),
            _count(status == OrderStatus.rejected.value).label("rejected"),
            _count(col(Order.short_picked)).label("short_picked"),
            func.count(col(Order.ready_at)).label("made_ready"),
            _count(col(Order.ready_at) <= first_promise).label("on_time"),
            _count(status == OrderStatus.expired.value).label("expired"),
            dialect.percentile(session, 0.5, to_ready).label("ready_p50"),
            dialect.percentile(session, 0.9, to_ready).label("ready_p90"),
            dialect.percentile(session, 0.5, handover).label("handover_p50"),
        )
        .select_from(Order)
        .join(Store, col(Store.id) == col(Order.store_id))
    )


def _returns(keys: list[Any]) -> Select[Any]:
    """Per group, the returns of its orders: a query of its own, so the orders' scan joins nothing. A
    return comes after its order was placed, so the returns read (by their index on `at`) start at the
    range's start too."""
    return (
        select(*keys, func.count(col(Return.id)))
        .select_from(Return)
        .join(Order, col(Order.id) == col(Return.order_pk))
        .join(Store, col(Store.id) == col(Order.store_id))
    )


_FIGURES = ("orders", "rejected", "short_picked", "made_ready", "on_time", "expired", "ready_p50",
            "ready_p90", "handover_p50")  # fmt: skip
# The items are validated all at once (pydantic's core, not a model call per item: a month of the chain
# is 155,000 of them), from rows read by position.
_ITEMS = TypeAdapter(list[ServiceReportItem])


def _item(row: tuple[Any, ...], returns: dict[tuple[Any, ...], int], *, by_day: bool) -> dict[str, Any]:
    code, store_id, day, orders, rejected, short, ready, on_time, expired, p50, p90, handover = row
    return {
        "store_code": code,
        "day": day,  # SQLite's is text, which the validation reads as a date
        "orders": orders,
        "rejected": rejected,
        "short_picked": short,
        "ready_on_time_pct": pct(on_time, ready),
        "minutes_to_ready_p50": _one_decimal(p50),
        "minutes_to_ready_p90": _one_decimal(p90),
        "expired_pct": pct(expired, ready),
        "handover_minutes_p50": _one_decimal(handover),
        "returns": returns.get((store_id, day) if by_day else (store_id,), 0),
    }


# ------------------------------------------------------------------------------------------ history

# What migration 0015 fills in for the orders before it, for orders written without
# `orders.lifecycle.transition` (a generated history): each instant from the order's first history
# entry of that status, the promise from its `ready_by`, a short pick from its lines.
_FIRST = "(SELECT MIN(e.at) FROM order_event e WHERE e.order_pk = \"order\".id AND e.status = '{status}')"
_STAMP_FROM_HISTORY = (
    text(
        f"""UPDATE "order" SET reserved_at = {_FIRST.format(status="reserved")},
                               ready_at = {_FIRST.format(status="ready_for_pickup")},
                               collected_at = {_FIRST.format(status="collected")},
                               promised_ready_by = COALESCE(promised_ready_by, ready_by)
            WHERE status <> 'pending' AND reserved_at IS NULL AND id IN :pks"""
    ).bindparams(bindparam("pks", expanding=True)),
    text(
        """UPDATE "order" SET short_picked = true
           WHERE id IN :pks AND EXISTS (
               SELECT 1 FROM order_line l
               WHERE l.order_pk = "order".id AND l.picked IS NOT NULL AND l.picked < l.quantity)"""
    ).bindparams(bindparam("pks", expanding=True)),
)


def stamp_from_history(session: Session, *, order_pks: Sequence[int]) -> None:
    """Fill in the report's columns of these orders from their history and lines (for orders written
    in bulk, as a demo's weeks of history are); orders stamped already are left as they are."""
    for start in range(0, len(order_pks), 5000):
        batch = list(order_pks[start : start + 5000])
        for statement in _STAMP_FROM_HISTORY:
            session.execute(statement, {"pks": batch})


# ---------------------------------------------------------------------------------------------- CSV


def as_csv(items: Iterable[ServiceReportItem]) -> str:
    """The items as CSV, a header first, in the JSON's order of members; a null is an empty field."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for item in items:
        values = item.model_dump()
        writer.writerow(["" if values[c] is None else values[c] for c in CSV_COLUMNS])
    return out.getvalue()

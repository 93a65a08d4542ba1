"""What an order's record shows of its returns at the counter (`orders.returns` takes them): each return
with its lines, read for several orders at once."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlmodel import Session, col, select

from orders.models import Return, ReturnLine


@dataclass(frozen=True)
class RecordedReturn:
    """One return of an order and its lines, in product order."""

    entry: Return
    lines: list[ReturnLine]


def returns_by_order(session: Session, *, order_pks: Sequence[int]) -> dict[int, list[RecordedReturn]]:
    """The returns of several orders in one query, each order's oldest first (every return has a line,
    so the join drops none)."""
    found: dict[int, list[RecordedReturn]] = {pk: [] for pk in order_pks}
    if not order_pks:
        return found
    rows = session.exec(
        select(Return, ReturnLine)
        .join(ReturnLine, col(ReturnLine.return_pk) == col(Return.id))
        .where(col(Return.order_pk).in_(list(order_pks)))
        .order_by(col(Return.order_pk), col(Return.id), col(ReturnLine.product_id))
    ).all()
    for entry, line in rows:
        returns = found[entry.order_pk]
        if not returns or returns[-1].entry.id != entry.id:
            returns.append(RecordedReturn(entry, []))
        returns[-1].lines.append(line)
    return found


def returned_units(returns: Sequence[RecordedReturn]) -> dict[int, int]:
    """Units returned so far per product id, over all of an order's returns."""
    units: dict[int, int] = {}
    for recorded in returns:
        for line in recorded.lines:
            units[line.product_id] = units.get(line.product_id, 0) + line.quantity
    return units

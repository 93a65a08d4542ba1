"""What an order's transfers are, read for every answer and for giving stock back: the transfer rows of
orders, and where each line's units are held while the order holds stock.

A line without a source is held at the pickup store. A line with a source is held at the source while its
transfer is `planned`, nowhere while it travels (`shipped`: the pickup store's `in_transit`), and at the
pickup store once `received`. `orders.sweeps.held_units` is the same rule in SQL.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlmodel import Session, col, select

from inventory import service as inventory_service
from orders.models import Order, OrderLine, Transfer, TransferStatus


def transfers_by_order(session: Session, *, order_pks: Sequence[int]) -> dict[int, list[Transfer]]:
    """The transfers of several orders in one query, each order's in creation order."""
    found: dict[int, list[Transfer]] = {pk: [] for pk in order_pks}
    if not order_pks:
        return found
    for transfer in session.exec(
        select(Transfer).where(col(Transfer.order_pk).in_(list(order_pks))).order_by(col(Transfer.id))
    ):
        found[transfer.order_pk].append(transfer)
    return found


def held_by_store(
    order: Order, lines: Sequence[OrderLine], transfers: Sequence[Transfer]
) -> dict[int, list[inventory_service.Quantity]]:
    """Where the lines of an order holding stock hold it, per store id (units travelling are held nowhere)."""
    status_of = {t.from_store_id: TransferStatus(t.status) for t in transfers}
    held: dict[int, list[inventory_service.Quantity]] = {}
    for line in lines:
        if line.held <= 0:
            continue
        store = order.store_id
        if line.source_store_id is not None:
            status = status_of.get(line.source_store_id, TransferStatus.received)
            if status == TransferStatus.shipped:
                continue
            if status == TransferStatus.planned:
                store = line.source_store_id
        held.setdefault(store, []).append(inventory_service.Quantity(line.product_id, line.held))
    return held


def source_codes(order: Order, lines: Sequence[OrderLine], transfers: Sequence[Transfer]) -> list[str]:
    """Each line's `source`: the code of the store its units come from (the pickup store's own)."""
    codes = {t.from_store_id: t.from_store_code for t in transfers}
    own: str = order.store_snapshot["code"]
    return [own if line.source_store_id is None else codes.get(line.source_store_id, own) for line in lines]

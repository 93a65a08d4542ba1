"""Transfers to the pickup store: the lines of an `allow_transfer` order that the pickup store lacks are
reserved at one source (`orders.reservation`, `inventory.transfer_ledger`) and travel to it.

- planning: the reservation run records the transfer with its ETA (`stores.service.transfer_sources`:
  the source's pick time in its opening hours, the lane's next departure, the transit) and names the
  source on the lines it supplies; the order's `ready_by` is the pickup store's pick time after the ETA;
- shipping (the source's staff): the units leave the source's `on_hand` and `reserved` and travel (the
  pickup store's `in_transit`); the pickup store's desk hears `transfer.incoming`;
- receiving (the pickup store's staff): the units enter its `on_hand`, reserved for the order, or
  unreserved when the order was cancelled while they travelled.

Each step locks the order's row first (as a cancellation does), then the transfer's, so a cancellation
and a step see each other's outcome; a second call of a step answers the transfer as it is.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import datetime

from sqlmodel import Session, col, select

from inventory import service as inventory_service
from orders import desk_events, lifecycle
from orders.desk_schemas import DeskEventType
from orders.exceptions import TransferNotFound, TransferOutOfOrder
from orders.models import HOLDING, Order, OrderLine, OrderStatus, Transfer, TransferStatus
from orders.transfer_schemas import (
    StaffTransfer,
    TransferDirection,
    TransferLine,
    TransferOrder,
)
from retail.auth import Principal
from retail.clock import utcnow
from retail.errors import Forbidden
from stores import service as stores_service
from stores.models import Store

LIST_LIMIT = 200


def plan(
    session: Session,
    *,
    order: Order,
    lines: Sequence[OrderLine],
    source: stores_service.TransferSource,
    products: Sequence[int],
    at: datetime,
) -> datetime:
    """Record the transfer of a reserved order's `products` from `source`; answers its ETA."""
    assert order.id is not None
    assert source.store.id is not None
    for line in lines:
        if line.product_id in products:
            line.source_store_id = source.store.id
            session.add(line)
    session.add(
        Transfer(
            transfer_id="trf_" + secrets.token_urlsafe(12),
            order_pk=order.id,
            from_store_id=source.store.id,
            to_store_id=order.store_id,
            from_store_code=source.store.code,
            status=TransferStatus.planned,
            eta=source.eta,
            created_at=at,
        )
    )
    return source.eta


def incomplete(session: Session, *, order: Order) -> bool:
    """Whether some transfer of the order has not been received yet (the store cannot pick it whole)."""
    return (
        session.exec(
            select(Transfer.id).where(
                Transfer.order_pk == order.id, Transfer.status != TransferStatus.received
            )
        ).first()
        is not None
    )


# ------------------------------------------------------------------------------------------ the staff


def store_transfers(
    session: Session,
    *,
    principal: Principal,
    store_code: str,
    direction: TransferDirection,
    status: TransferStatus | None,
) -> list[StaffTransfer]:
    """The store's outgoing or incoming transfers (optionally in one status), oldest first."""
    if not principal.may_act_for_store(store_code):
        raise Forbidden(f"this key is not for store {store_code}", code="wrong_store")
    store = stores_service.get_store(session, code=store_code)
    side = Transfer.from_store_id if direction == TransferDirection.outgoing else Transfer.to_store_id
    query = select(Transfer).where(side == store.id)
    if status is not None:
        query = query.where(Transfer.status == status)
    found = list(session.exec(query.order_by(col(Transfer.id)).limit(LIST_LIMIT)).all())
    return staff_transfers(session, found)


def ship(session: Session, *, principal: Principal, transfer_id: str) -> StaffTransfer:
    """`planned` -> `shipped`, by the source's staff; shipped already: the same transfer."""
    order, transfer = _locked(session, transfer_id)
    _check_store(session, principal, transfer.from_store_id)
    status = TransferStatus(transfer.status)
    if status == TransferStatus.received:
        raise TransferOutOfOrder(status, "shipped")
    if status == TransferStatus.planned:
        if OrderStatus(order.status) not in HOLDING:
            # Cancelled (or expired) before shipping: its units went back to the source's shelf.
            raise TransferOutOfOrder(status, "shipped", order_status=OrderStatus(order.status))
        now = utcnow()
        inventory_service.ship_transfer(
            session,
            from_store_id=transfer.from_store_id,
            to_store_id=transfer.to_store_id,
            lines=_quantities(session, transfer),
            transfer_id=transfer.transfer_id,
            at=now,
        )
        transfer.status, transfer.shipped_at = TransferStatus.shipped, now
        session.add(transfer)
        session.flush()
        # Last: the pickup store's event counter stays locked until the commit (orders.desk_events).
        incoming = desk_events.NewDeskEvent(DeskEventType.transfer_incoming, order.order_id, now)
        desk_events.emit(session, store_id=transfer.to_store_id, events=[incoming])
    return staff_transfers(session, [transfer])[0]


def receive(session: Session, *, principal: Principal, transfer_id: str) -> StaffTransfer:
    """`shipped` -> `received`, by the pickup store's staff; received already: the same transfer."""
    order, transfer = _locked(session, transfer_id)
    _check_store(session, principal, transfer.to_store_id)
    status = TransferStatus(transfer.status)
    if status == TransferStatus.planned:
        raise TransferOutOfOrder(status, "received")
    if status == TransferStatus.shipped:
        now = utcnow()
        inventory_service.receive_transfer(
            session,
            to_store_id=transfer.to_store_id,
            lines=_quantities(session, transfer),
            transfer_id=transfer.transfer_id,
            at=now,
            reserve=OrderStatus(order.status) in HOLDING,
        )
        transfer.status, transfer.received_at = TransferStatus.received, now
        session.add(transfer)
        session.flush()
    return staff_transfers(session, [transfer])[0]


def _locked(session: Session, transfer_id: str) -> tuple[Order, Transfer]:
    found = session.exec(select(Transfer.order_pk).where(Transfer.transfer_id == transfer_id)).first()
    if found is None:
        raise TransferNotFound()
    order = lifecycle.lock_order(session, found)
    transfer = session.exec(
        select(Transfer)
        .where(Transfer.transfer_id == transfer_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).first()
    if order is None or transfer is None:
        raise TransferNotFound()
    return order, transfer


def _check_store(session: Session, principal: Principal, store_id: int) -> None:
    store = session.get(Store, store_id)
    if store is None or not principal.may_act_for_store(store.code):
        code = "" if store is None else store.code
        raise Forbidden(f"this transfer is handled at store {code}", code="wrong_store")


def _lines(session: Session, transfers: Sequence[Transfer]) -> dict[int, list[OrderLine]]:
    """The order lines each transfer carries, by transfer id (pk), in product order."""
    by_order = lifecycle.lines_by_order(session, order_pks=sorted({t.order_pk for t in transfers}))
    return {
        t.id or 0: [line for line in by_order[t.order_pk] if line.source_store_id == t.from_store_id]
        for t in transfers
    }


def _quantities(session: Session, transfer: Transfer) -> list[inventory_service.Quantity]:
    return lifecycle.quantities(_lines(session, [transfer])[transfer.id or 0])


def staff_transfers(session: Session, transfers: Sequence[Transfer]) -> list[StaffTransfer]:
    """The answers for several transfers in three queries, whatever their number."""
    if not transfers:
        return []
    lines = _lines(session, transfers)
    orders = {
        o.id: o
        for o in session.exec(select(Order).where(col(Order.id).in_(sorted({t.order_pk for t in transfers}))))
    }
    codes = dict(
        session.exec(
            select(Store.id, Store.code).where(col(Store.id).in_(sorted({t.to_store_id for t in transfers})))
        ).all()
    )
    answers = []
    for t in transfers:
        order = orders[t.order_pk]
        answers.append(
            StaffTransfer(
                transfer_id=t.transfer_id,
                from_store=t.from_store_code,
                to_store=codes[t.to_store_id],
                status=TransferStatus(t.status),
                eta=t.eta,
                shipped_at=t.shipped_at,
                received_at=t.received_at,
                lines=[
                    TransferLine(sku=line.sku, name=line.name, quantity=line.quantity)
                    for line in lines[t.id or 0]
                ],
                order=TransferOrder(
                    order_id=order.order_id,
                    customer_name=order.customer_name,
                    store_code=order.store_snapshot["code"],
                ),
            )
        )
    return answers

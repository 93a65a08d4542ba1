"""The answers about an order, built from the values the order modules return (no reads here): the order
object both surfaces show (the shopper's, with its pickup code), the staff's pick-list entry, and the
hand-over the counter checks. Staff answers name who made each change (`history[].by`); the shopper's
never do."""

from __future__ import annotations

from typing import Any

from inventory.schemas import Money
from orders import transfer_records
from orders.counter_schemas import (
    Arrival,
    ArrivalPlace,
    ArrivalStatus,
    Locale,
    OrderReturn,
    PickupPerson,
    ReturnLine,
    Shortage,
    StaffOrderReturn,
    Verification,
)
from orders.lifecycle import OrderRecord
from orders.models import Order, Transfer, TransferStatus
from orders.return_records import RecordedReturn
from orders.schemas import (
    HandOver,
    HandOverLine,
    HistoryEntry,
    MessageEntry,
    OrderLineOut,
    OrderOut,
    Pickup,
    StaffHistoryEntry,
    StaffOrder,
    StoreRef,
    TransferOut,
)


def transfer_out(transfer: Transfer) -> TransferOut:
    return TransferOut(
        transfer_id=transfer.transfer_id,
        from_store=transfer.from_store_code,
        status=TransferStatus(transfer.status),
        eta=transfer.eta,
    )


def order_out(record: OrderRecord) -> OrderOut:
    return OrderOut(
        **_order_fields(record),
        history=[HistoryEntry(status=event.status, at=event.at) for event in record.history],
        returns=[OrderReturn(**_return_fields(recorded)) for recorded in record.returns],
    )


def staff_order(record: OrderRecord) -> StaffOrder:
    return StaffOrder(
        **_order_fields(record),
        history=_staff_history(record),
        customer_name=record.order.customer_name,
        returns=_staff_returns(record),
    )


def hand_over(record: OrderRecord) -> HandOver:
    order = record.order
    return HandOver(
        order_id=order.order_id,
        status=order.status,
        store_code=order.store_snapshot["code"],
        customer_name=order.customer_name,
        lines=[
            HandOverLine(
                sku=line.sku,
                name=line.name,
                quantity=line.quantity,
                picked=line.picked,
                collected=line.collected,
            )
            for line in record.lines
        ],
        history=_staff_history(record),
        returns=_staff_returns(record),
        **_counter_fields(order),
    )


def _staff_history(record: OrderRecord) -> list[StaffHistoryEntry]:
    return [
        StaffHistoryEntry(
            status=event.status,
            at=event.at,
            by=event.actor_label,
            verification=None if event.verification is None else Verification(event.verification),
        )
        for event in record.history
    ]


def _staff_returns(record: OrderRecord) -> list[StaffOrderReturn]:
    return [
        StaffOrderReturn(**_return_fields(recorded), by=recorded.entry.actor_label)
        for recorded in record.returns
    ]


def _return_fields(recorded: RecordedReturn) -> dict[str, Any]:
    entry = recorded.entry
    return {
        "return_id": entry.return_id,
        "at": entry.at,
        "lines": [ReturnLine(sku=line.sku, quantity=line.quantity) for line in recorded.lines],
        "restock": entry.restock,
        "reason": entry.reason,
    }


def _counter_fields(order: Order) -> dict[str, Any]:
    # Returns are the record's, which each answer adds as its audience sees them.
    return {
        "pickup_person": None
        if order.pickup_person_name is None
        else PickupPerson(name=order.pickup_person_name),
        "locale": Locale(order.locale),
        "shortages": [Shortage.model_validate(shortage) for shortage in order.shortages or []],
        "arrival": arrival_of(order),
    }


def arrival_of(order: Order) -> Arrival | None:
    """The shopper's last arrival check-in (orders/arrivals.py); None before the first."""
    if order.arrival_status is None or order.arrival_at is None:
        return None
    return Arrival(
        status=ArrivalStatus(order.arrival_status),
        at=order.arrival_at,
        eta=order.arrival_eta,
        where=None if order.arrival_where is None else ArrivalPlace(order.arrival_where),
        bay=order.arrival_bay,
    )


def _order_fields(record: OrderRecord) -> dict[str, Any]:
    order = record.order
    base = f"/mobile/v1/orders/{order.order_id}"
    return {
        "order_id": order.order_id,
        "status": order.status,
        "store": StoreRef(code=order.store_snapshot["code"], name=order.store_snapshot["name"]),
        "lines": [
            OrderLineOut(
                sku=line.sku,
                name=line.name,
                quantity=line.quantity,
                unit_price=Money.of(line.unit_price),
                picked=line.picked,
                collected=line.collected,
                source=source,
            )
            for line, source in zip(
                record.lines,
                transfer_records.source_codes(order, record.lines, record.transfers),
                strict=True,
            )
        ],
        "transfers": [transfer_out(t) for t in record.transfers],
        "total": Money.of(order.total),
        "created_at": order.created_at,
        "pickup": None
        if record.pickup is None
        else Pickup(
            code=record.pickup.short_code,
            qr_png_url=f"{base}/pickup-code.png",
            qr_svg_url=f"{base}/pickup-code.svg",
            ready_by=order.ready_by,
            first_ready_by=order.promised_ready_by if order.late else None,
            promise_basis=order.promise_basis,
            expires_at=order.expires_at,
        ),
        "problem": order.problem,
        "messages": [
            MessageEntry(type=listed.type, at=listed.at, status=listed.status.value)
            for listed in record.messages
        ],
        "late": order.late,
        **_counter_fields(order),
    }

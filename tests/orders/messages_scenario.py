"""Orders that make every message type, committed for real: the helpers of the messages' tests."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import Engine, text
from sqlmodel import Session, select

from inventory import service as inventory_service
from orders import returns, staff, sweeps
from orders import service as orders_service
from orders.counter_schemas import ReturnIn
from orders.messages.models import MessageType, ShopperMessage
from orders.models import Notification, Order
from retail.auth import Principal, Role, authenticate, create_api_key
from retail.clock import utcnow
from retail.contact import Locale
from tests.factories import count_stock, place_order, reserved_order

# What each order of `every_message_type` is sent: the order's key, its language, its message types.
EXPECTED: dict[str, tuple[str, set[MessageType]]] = {
    "collected": (
        "nl",
        {MessageType.reserved, MessageType.ready, MessageType.collected, MessageType.returned},
    ),
    "short": ("en", {MessageType.reserved, MessageType.partially_ready, MessageType.reminder}),
    "rejected": ("en", {MessageType.rejected}),
    "expired": ("nl", {MessageType.reserved, MessageType.ready, MessageType.expired}),
    "late": ("en", {MessageType.reserved, MessageType.delayed}),
}


@dataclass(frozen=True)
class Scenario:
    order_ids: dict[str, str]  # key -> order_id
    alert_event_id: str


def principal(session: Session, store_code: str) -> Principal:
    secret = create_api_key(session, role=Role.staff, store_code=store_code, label=f"{store_code} desk")
    session.commit()
    found = authenticate(session, secret)
    session.commit()  # authenticating writes (the key's last use): SQLite's one writer must be free
    assert found is not None
    return found


def every_message_type(engine: Engine, store_code: str) -> Scenario:
    """At `store_code` (A: 5, B: 5, C: 1): an order collected and returned, one picked short, one
    rejected, one expired, one late, and a stock alert fired; every event committed."""
    ids: dict[str, str] = {}
    with Session(engine, expire_on_commit=False) as session:
        desk = principal(session, store_code)
        for key, (locale, _types) in EXPECTED.items():
            lines = {"C": 5} if key == "rejected" else {"A": 1, "B": 2} if key == "short" else {"A": 1}
            if key == "rejected":
                order = place_order(engine, store_code, lines, key=key, locale=locale)
                orders_service.reserve_order(session, order_pk=order.id or 0)
                session.commit()
            else:
                order = reserved_order(engine, store_code, lines, key=key, locale=locale)
            ids[key] = order.order_id
        staff.mark_ready(session, principal=desk, order_id=ids["collected"])
        staff.mark_ready(session, principal=desk, order_id=ids["short"], picked=[("B", 1)])
        staff.mark_ready(session, principal=desk, order_id=ids["expired"])
        session.commit()
        collected = session.exec(select(Order).where(Order.order_id == ids["collected"])).one()
        issued = orders_service.pickup_of(collected)
        assert issued is not None
        staff.confirm(session, principal=desk, code=issued.token, store_code=None)
        session.commit()
        returns.take_return(
            session,
            principal=desk,
            order_id=ids["collected"],
            return_in=ReturnIn.model_validate({"lines": [{"sku": "A", "quantity": 1}], "restock": True}),
            idempotency_key="return-1",
        )
        session.commit()
        # Its hold ran out a minute ago (the others' holds go on).
        expired = session.exec(select(Order).where(Order.order_id == ids["expired"])).one()
        expired.expires_at = utcnow() - timedelta(minutes=1)
        session.add(expired)
        session.commit()
        assert sweeps.expire_ready(session) == [expired.id]
        session.commit()
        late = session.exec(select(Order).where(Order.order_id == ids["late"])).one()
        session.add(outbox_row("order.late", late_payload(late)))
        session.commit()
        # C sold out, a shopper waits for it, and a count brings it back: the alert fires.
        count_stock(session, store_code, {"C": 0}, as_of="2026-11-24T06:00:00+01:00")
        session.commit()
        alert = inventory_service.create_alert(
            session, store_code=store_code, sku="C", email="Wachter@example.nl", locale=Locale.nl
        )
        session.commit()
        count_stock(session, store_code, {"C": 3}, as_of="2026-11-25T06:00:00+01:00")
        session.commit()
    return Scenario(order_ids=ids, alert_event_id=alert.alert_id)


def outbox_row(kind: str, payload: dict[str, Any]) -> Notification:
    now = utcnow()
    return Notification(
        event_id=str(uuid.uuid4()), kind=kind, payload=payload, created_at=now, next_attempt_at=now
    )


def late_payload(order: Order) -> dict[str, Any]:
    """An `order.late` event as the late-order sweep writes it: the order with its new `ready_by`."""
    new_ready_by = utcnow() + timedelta(hours=2)
    return {
        "order_id": order.order_id,
        "store_code": order.store_snapshot["code"],
        "status": "reserved",
        "at": utcnow().isoformat(),
        "customer_email": order.customer_email,
        "order": {"order_id": order.order_id, "ready_by": new_ready_by.isoformat()},
    }


def make_reminders_due(engine: Engine) -> None:
    """Move every queued reminder to now, as if its time had come."""
    with engine.begin() as connection:
        connection.execute(
            text(
                "UPDATE shopper_message SET next_attempt_at = :now, scheduled_at = :now "
                "WHERE type = 'reminder' AND status = 'queued'"
            ),
            {"now": utcnow() - timedelta(seconds=1)},
        )


def messages(engine: Engine) -> list[ShopperMessage]:
    with Session(engine) as session:
        return list(session.exec(select(ShopperMessage).order_by(ShopperMessage.id)).all())  # type: ignore[arg-type]

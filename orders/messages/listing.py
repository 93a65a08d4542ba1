"""An order's messages as its answers show them (`messages [{type, at, status}]`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from orders.messages.models import MessageStatus, MessageType, ShopperMessage
from retail.clock import as_aware_utc


@dataclass(frozen=True)
class ListedMessage:
    type: MessageType
    # When it went (sent or logged); until then when it is meant to go.
    at: datetime
    status: MessageStatus


def messages_by_order(session: Session, *, order_ids: Sequence[str]) -> dict[str, list[ListedMessage]]:
    """The messages of each order in one query (through the index on `order_id`), in the order they were
    meant to go; a dropped reminder is left out (it never went and never will)."""
    if not order_ids:
        return {}
    rows = session.exec(
        select(ShopperMessage)
        .where(
            col(ShopperMessage.order_id).in_(list(order_ids)),
            ShopperMessage.status != MessageStatus.dropped,
        )
        .order_by(col(ShopperMessage.scheduled_at), col(ShopperMessage.id))
    ).all()
    listed: dict[str, list[ListedMessage]] = {}
    for row in rows:
        at = as_aware_utc(row.sent_at or row.scheduled_at)
        listed.setdefault(row.order_id or "", []).append(
            ListedMessage(MessageType(row.type), at, MessageStatus(row.status))
        )
    return listed

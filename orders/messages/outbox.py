"""From the outbox to the shopper's mailbox, once per event.

1. `derive`: the outbox events not yet looked at (`notification.messaged_at` null, a partial index) become
   `shopper_message` rows, one per (event, message type), unique: a second derivation of one event
   writes nothing. A ready order's reminder is written then too, due at its own time (`rules.reminder_at`).
2. `claim`: due queued rows are leased (`next_attempt_at` moved `LEASE` ahead) and rendered, in one short
   transaction.
3. `retail.mail.send`, outside any transaction: a slow mail server holds no row lock.
4. `record`: sent (or logged), or retried with backoff, in another transaction.

A worker dying between 3 and 4 leaves the lease to run out; the message is then sent again with the same
`Message-ID` (derived from the event id and the type), which is how a receiver recognises the repeat.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from inventory import service as inventory_service
from orders.messages import compose, render, rules
from orders.messages.models import MessageStatus, MessageType, ShopperMessage
from orders.models import Notification, Order
from retail import mail
from retail.clock import as_aware_utc, utcnow
from retail.settings import get_settings
from stores import service as stores_service
from stores.hours import engine as hours_engine

logger = logging.getLogger(__name__)

LEASE = timedelta(seconds=120)
MAX_BACKOFF = timedelta(hours=1)
# 10 s doubling to an hour: about seven and a half hours of tries before a message counts as failed.
MAX_ATTEMPTS = 16
# A round stops sending once it has taken this long and hands the rest of its batch back (due at once):
# a slow mail server must not keep a round going past its rows' lease, when another round would claim
# them again and send them twice.
ROUND_BUDGET = LEASE / 2
DERIVE_BATCH = 500
SEND_BATCH = 50


def backoff(attempts: int) -> timedelta:
    """10 s, 20 s, 40 s, ... up to an hour between tries."""
    return min(timedelta(seconds=10 * 2 ** max(attempts - 1, 0)), MAX_BACKOFF)


def message_id(event_id: str, type_: MessageType) -> str:
    return f"<{event_id}.{type_.value}@{mail.sender_domain()}>"


# ------------------------------------------------------------------------------------------- derive


def derive(session: Session, *, now: datetime, limit: int = DERIVE_BATCH) -> list[int]:
    """Write the messages of up to `limit` outbox events not yet looked at; answers the new rows' ids.
    SKIP LOCKED lets two derivers share the events; the unique (event, type) keeps each message one."""
    events = session.exec(
        select(Notification)
        .where(col(Notification.messaged_at).is_(None))
        .order_by(col(Notification.id))
        .limit(limit)
        .with_for_update(skip_locked=True)
    ).all()
    written: list[ShopperMessage] = []
    for event in events:
        event.messaged_at = now
        session.add(event)
        for type_ in rules.message_types(event.kind, event.payload):
            row = _message(session, event, type_, now)
            if row is not None and not _exists(session, event.event_id, type_):
                session.add(row)
                written.append(row)
    # The stock alerts fired since (inventory.alerts): their messages, keyed by the alert's id.
    for fired in inventory_service.take_fired_alerts(session, now=now, limit=limit):
        if not _exists(session, fired.alert_id, MessageType.back_in_stock):
            row = _back_in_stock(fired, now)
            session.add(row)
            written.append(row)
    session.flush()
    return [row.id for row in written if row.id is not None]


def _back_in_stock(fired: inventory_service.FiredAlert, now: datetime) -> ShopperMessage:
    at = as_aware_utc(fired.sent_at)
    return ShopperMessage(
        event_id=fired.alert_id,
        type=MessageType.back_in_stock,
        order_id=None,
        recipient=fired.email,
        locale=fired.locale.value,
        payload={
            "alert_id": fired.alert_id,
            "store_code": fired.store_code,
            "sku": fired.sku,
            "product_name": fired.product_name,
        },
        status=MessageStatus.queued,
        scheduled_at=at,
        next_attempt_at=at,
        message_id=message_id(fired.alert_id, MessageType.back_in_stock),
        created_at=now,
    )


def _exists(session: Session, event_id: str, type_: MessageType) -> bool:
    return (
        session.exec(
            select(ShopperMessage.id).where(ShopperMessage.event_id == event_id, ShopperMessage.type == type_)
        ).first()
        is not None
    )


def _message(
    session: Session, event: Notification, type_: MessageType, now: datetime
) -> ShopperMessage | None:
    payload = event.payload
    at = as_aware_utc(event.created_at)
    order = session.exec(select(Order).where(Order.order_id == rules.event_order_id(payload))).first()
    if order is None:
        return None
    recipient, locale, order_id = order.customer_email, order.locale, order.order_id
    if type_ == MessageType.reminder:
        due = _reminder_at(session, order, ready_at=at)
        if due is None:
            return None
        at = due
    return ShopperMessage(
        event_id=event.event_id,
        type=type_,
        order_id=order_id,
        recipient=recipient,
        locale=locale,
        payload=payload,
        status=MessageStatus.queued,
        scheduled_at=at,
        next_attempt_at=at,
        message_id=message_id(event.event_id, type_),
        created_at=now,
    )


def _reminder_at(session: Session, order: Order, *, ready_at: datetime) -> datetime | None:
    if order.expires_at is None:
        return None
    expires_at = as_aware_utc(order.expires_at)
    store = stores_service.get_store(session, code=order.store_snapshot["code"])
    schedule = stores_service.schedule_of(store)
    return rules.reminder_at(
        ready_at=ready_at,
        expires_at=expires_at,
        open_intervals=hours_engine.open_intervals(schedule, ready_at, expires_at)
        if expires_at - ready_at <= hours_engine.MAX_INTERVAL_SPAN
        else [],
    )


# --------------------------------------------------------------------------------------- claim, send


@dataclass(frozen=True)
class Outgoing:
    id: int
    mail: mail.Mail | None  # None: nothing left to say (the message is dropped)


def claim(
    session: Session, *, now: datetime, limit: int = SEND_BATCH, ids: list[int] | None = None
) -> list[Outgoing]:
    """Lease up to `limit` due messages (only `ids`, when given) and render them."""
    query = select(ShopperMessage).where(
        ShopperMessage.status == MessageStatus.queued, col(ShopperMessage.next_attempt_at) <= now
    )
    if ids is not None:
        query = query.where(col(ShopperMessage.id).in_(ids))
    rows = session.exec(
        query.order_by(col(ShopperMessage.next_attempt_at)).limit(limit).with_for_update(skip_locked=True)
    ).all()
    claimed = []
    for row in rows:
        assert row.id is not None
        row.next_attempt_at = now + LEASE
        session.add(row)
        composed = compose.compose(session, row, now=now)
        claimed.append(Outgoing(row.id, None if composed is None else _mail(row, composed)))
    session.flush()
    return claimed


def _mail(row: ShopperMessage, composed: compose.Composed) -> mail.Mail:
    rendered = render.render(composed.context)
    return mail.Mail(
        to=row.recipient,
        subject=rendered.subject,
        text=rendered.text,
        html=rendered.html,
        message_id=row.message_id,
        language=composed.context.locale,
        images=composed.images,
    )


Result = mail.Failure | None | MessageStatus


def record(session: Session, *, results: dict[int, Result], now: datetime, logged: bool) -> None:
    """Write what each send came to: sent (or logged), dropped, or a failure retried with backoff."""
    for message_pk, result in results.items():
        row = session.get(ShopperMessage, message_pk, with_for_update=True)
        if row is None or row.status != MessageStatus.queued:
            continue
        if result == MessageStatus.queued:  # not tried in this round: the lease is given back
            row.next_attempt_at = now
        elif isinstance(result, MessageStatus):
            row.status = result
        elif result is None:
            row.attempts += 1
            row.status = MessageStatus.logged if logged else MessageStatus.sent
            row.sent_at, row.last_error = now, None
        else:
            row.attempts += 1
            row.last_error = result.reason
            if result.permanent or row.attempts >= MAX_ATTEMPTS:
                row.status = MessageStatus.failed
            else:
                row.next_attempt_at = now + backoff(row.attempts)
            logger.warning("message %s failed (attempt %s): %s", row.message_id, row.attempts, result.reason)
        session.add(row)
    session.flush()


def derive_due(engine: Engine) -> list[int]:
    """Derive the messages of the new outbox events, in a transaction of its own; answers the ids of the
    rows written that are due now (a reminder waits for the sweep at its time)."""
    now = utcnow()
    with Session(engine, expire_on_commit=False) as session:
        written = derive(session, now=now)
        due = session.exec(
            select(ShopperMessage.id).where(
                col(ShopperMessage.id).in_(written), col(ShopperMessage.next_attempt_at) <= now
            )
        ).all()
        session.commit()
    return [pk for pk in due if pk is not None]


def send_due(engine: Engine, *, ids: list[int] | None = None) -> int:
    """One round: claim (only `ids`, when given), send outside any transaction, record. Answers how many
    went out (sent or logged)."""
    with Session(engine, expire_on_commit=False) as session:
        batch = claim(session, now=utcnow(), ids=ids)
        session.commit()
    logged = get_settings().smtp_url is None
    results: dict[int, Result] = {}
    started = time.monotonic()
    for outgoing in batch:
        if results and time.monotonic() - started > ROUND_BUDGET.total_seconds():
            results[outgoing.id] = MessageStatus.queued
        elif outgoing.mail is None:
            results[outgoing.id] = MessageStatus.dropped
        else:
            results[outgoing.id] = mail.send(outgoing.mail)
    with Session(engine, expire_on_commit=False) as session:
        record(session, results=results, now=utcnow(), logged=logged)
        session.commit()
    return sum(1 for result in results.values() if result is None)

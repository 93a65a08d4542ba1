"""Delivering the outbox: order notifications to the configured webhook, or to the log.

Delivery is at least once. Each notification carries a unique event id (`X-Winkelpunt-Event`) for the
receiver to drop repeats, and an HMAC-SHA256 of the body under a key derived from the service's secret
(`X-Winkelpunt-Signature: sha256=<hex>`), so the receiver can tell it came from us.

Rows are claimed in one short transaction (a lease: `next_attempt_at` moved ahead) and marked in another,
and the HTTP calls happen between them, outside any transaction: a slow receiver must not hold row locks
or a transaction id (which would hold the availability feed back). A worker dying mid-delivery leaves the
lease to run out, and the rows are tried again.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

import httpx
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from orders.models import Notification
from retail.clock import utcnow
from retail.settings import get_settings

logger = logging.getLogger(__name__)

LEASE = timedelta(seconds=60)
MAX_BACKOFF = timedelta(hours=1)
BATCH = 100


@dataclass(frozen=True)
class Outgoing:
    id: int
    event_id: str
    kind: str
    body: bytes


def signing_key() -> bytes:
    # Derived for this one purpose, so a webhook receiver holding it learns nothing about other secrets.
    return hmac.new(get_settings().secret.encode(), b"webhook-signing-key", hashlib.sha256).digest()


def signature(body: bytes) -> str:
    return "sha256=" + hmac.new(signing_key(), body, hashlib.sha256).hexdigest()


def backoff(attempts: int) -> timedelta:
    """10 s, 20 s, 40 s, ... up to an hour between tries."""
    return min(timedelta(seconds=10 * 2 ** max(attempts - 1, 0)), MAX_BACKOFF)


def claim(session: Session, *, now: datetime, limit: int = BATCH) -> list[Outgoing]:
    """Lease due notifications to this deliverer; SKIP LOCKED lets several deliverers share the work."""
    rows = session.exec(
        select(Notification)
        .where(col(Notification.delivered_at).is_(None), col(Notification.next_attempt_at) <= now)
        .order_by(col(Notification.id))
        .limit(limit)
        .with_for_update(skip_locked=True)
    ).all()
    claimed = []
    for row in rows:
        assert row.id is not None
        row.next_attempt_at = now + LEASE
        session.add(row)
        body = json.dumps(
            {
                "event_id": row.event_id,
                "type": row.kind,
                "created_at": row.created_at.isoformat(),
                "data": row.payload,
            },
            sort_keys=True,
        ).encode()
        claimed.append(Outgoing(row.id, row.event_id, row.kind, body))
    session.flush()
    return claimed


def send(outgoing: Outgoing, client: httpx.Client) -> str | None:
    """Deliver one notification; answers None on success or the reason it failed."""
    settings = get_settings()
    if not settings.webhook_url:
        logger.info("notification %s %s", outgoing.event_id, outgoing.body.decode())
        return None
    try:
        response = client.post(
            settings.webhook_url,
            content=outgoing.body,
            headers={
                "content-type": "application/json",
                "X-Winkelpunt-Event": outgoing.event_id,
                "X-Winkelpunt-Signature": signature(outgoing.body),
            },
            timeout=settings.webhook_timeout_s,
        )
    except httpx.HTTPError as exc:
        return f"{type(exc).__name__}: {exc}"[:500]
    if 200 <= response.status_code < 300:
        return None
    return f"HTTP {response.status_code}"


def record(session: Session, *, results: dict[int, str | None], now: datetime) -> None:
    for notification_id, error in results.items():
        row = session.get(Notification, notification_id)
        if row is None or row.delivered_at is not None:
            continue
        row.attempts += 1
        if error is None:
            row.delivered_at = now
            row.last_error = None
        else:
            row.last_error = error
            row.next_attempt_at = now + backoff(row.attempts)
            logger.warning("notification %s failed (attempt %s): %s", row.event_id, row.attempts, error)
        session.add(row)
    session.flush()


def deliver_due(engine: Engine) -> int:
    """One round: claim, send outside any transaction, record. Answers how many were delivered."""
    with Session(engine, expire_on_commit=False) as session:
        batch = claim(session, now=utcnow())
        session.commit()
    # One client for the round: its connections are kept open between the notifications it sends.
    with httpx.Client() as client:
        results = {outgoing.id: send(outgoing, client) for outgoing in batch}
    with Session(engine, expire_on_commit=False) as session:
        record(session, results=results, now=utcnow())
        session.commit()
    return sum(1 for error in results.values() if error is None)

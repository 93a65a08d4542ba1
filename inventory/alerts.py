"""Back in stock at my store: a shopper's alert per (store, sku, email), fired by whatever raises the units
available there above zero (API.md, "Promises kept": snapshot, movement, return, cancellation, expiry,
received transfer).

Every stock writer other than a reservation (which only ever lowers what is available) takes its
transaction's feed id from `feed_log.feed_xid`, which notes the id in the session; just before that
transaction commits, `fire_alerts` turns the waiting alerts whose stock row the transaction wrote, and
that now has units available, into `sent`. Firing inside the writing transaction makes it exactly once
whatever runs at once (the row lock of the alert decides), and no writer can be missed: they all log
their rows for the availability feed, and the firing walks that same log (`stock_change`) of its own
transaction, one logged bucket at a time, to the alerts waiting there. The message is written after the
commit by the shopper messages (orders/messages take fired alerts over with `take_fired_alerts`) and sent
with the others, so a mail server that is down delays it and loses nothing.

The alert's token is an HMAC of its id (as an order's is), never stored; the email address is kept only
while the alert lives (cancelling deletes the row).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import and_, event, func, select, update
from sqlalchemy.orm import Session as OrmSession
from sqlalchemy.orm import SessionTransaction
from sqlmodel import Session, col

from inventory import feed_log
from inventory.exceptions import AlertNotFound, TooManyAlerts, UnknownAlertProduct, UnknownAlertStore
from inventory.models import Product, StockAlert
from retail import dialect
from retail.clock import utcnow
from retail.contact import Locale
from retail.settings import get_settings
from stores import service as stores_service

WAITING, SENT, CANCELLED = "waiting", "sent", "cancelled"
MAX_WAITING_PER_EMAIL = 20
ALERT_ID_MAX = 64
BATCH = 100
ALERTS = StockAlert.__table__  # type: ignore[attr-defined]


def alert_token(alert_id: str) -> str:
    """The shopper's token for an alert: an HMAC of its id, so it needs no storage and cannot be forged."""
    mac = hmac.new(get_settings().secret.encode(), f"stock-alert-token|{alert_id}".encode(), hashlib.sha256)
    return "atk_" + mac.hexdigest()[:40]


@dataclass(frozen=True)
class AlertView:
    alert_id: str
    status: str
    store_code: str
    sku: str
    created_at: datetime
    sent_at: datetime | None


# ------------------------------------------------------------------------------------------- the shopper


def create_alert(
    session: Session, *, store_code: str, sku: str, email: str, locale: Locale | None
) -> AlertView:
    """A waiting alert for `email`, or the one already waiting for the same store and sku (asking twice
    gives one message). Refused past `MAX_WAITING_PER_EMAIL` waiting alerts of one address."""
    store = stores_service.find_store(session, code=store_code)
    if store is None or not store.is_shop:
        raise UnknownAlertStore(store_code)
    product_id = session.execute(select(col(Product.id)).where(col(Product.sku) == sku)).scalar()
    if product_id is None:
        raise UnknownAlertProduct(sku)
    address = email.lower()
    key = and_(
        col(StockAlert.store_id) == store.id,
        col(StockAlert.product_id) == product_id,
        col(StockAlert.email) == address,
        col(StockAlert.status) == WAITING,
    )
    # Concurrent requests of one address count its waiting alerts one after the other, so that together
    # they cannot pass the limit that each checks alone.
    dialect.serialise_on(session, f"stock-alert-email|{address}")
    existing = session.execute(select(StockAlert).where(key)).scalar()
    if existing is None:
        waiting = session.execute(
            select(func.count())
            .select_from(StockAlert)
            .where(col(StockAlert.email) == address, col(StockAlert.status) == WAITING)
        ).scalar_one()
        if waiting >= MAX_WAITING_PER_EMAIL:
            raise TooManyAlerts(MAX_WAITING_PER_EMAIL)
        values: dict[str, Any] = {
            "alert_id": "sta_" + secrets.token_urlsafe(16),  # 128 random bits: unguessable
            "store_id": store.id,
            "product_id": product_id,
            "email": address,
            "locale": (locale or Locale.default_for(store.country)).value,
            "status": WAITING,
            "created_at": utcnow(),
        }
        # Two requests for the same alert at once: the unique index keeps one, both answer it.
        session.execute(dialect.insert(session, ALERTS).values(values).on_conflict_do_nothing())
        existing = session.execute(select(StockAlert).where(key)).scalar_one()
    return _view(existing, store_code=store.code, sku=sku)


def get_alert(session: Session, *, alert_id: str, token: str | None) -> AlertView:
    """The alert, for the holder of its token; anyone else gets the same 404 as for no alert at all."""
    return _described(session, _owned(session, alert_id=alert_id, token=token))


def cancel_alert(session: Session, *, alert_id: str, token: str | None) -> AlertView:
    """Forget the alert, and with it the email address; answers it as it was, `cancelled`."""
    alert = _owned(session, alert_id=alert_id, token=token)
    view = _described(session, alert)
    session.delete(alert)
    session.flush()
    return replace(view, status=CANCELLED)


def _owned(session: Session, *, alert_id: str, token: str | None) -> StockAlert:
    # Bytes: compare_digest refuses str with non-ASCII characters (a 500), and a header may carry any.
    if not token or len(alert_id) > ALERT_ID_MAX:
        raise AlertNotFound()
    if not hmac.compare_digest(token.encode(), alert_token(alert_id).encode()):
        raise AlertNotFound()
    alert: StockAlert | None = session.execute(
        select(StockAlert).where(col(StockAlert.alert_id) == alert_id)
    ).scalar()
    if alert is None:
        raise AlertNotFound()
    return alert


def _described(session: Session, alert: StockAlert) -> AlertView:
    stores = stores_service.store_keys().subquery("st")
    store_code, sku = session.execute(
        select(stores.c.code, col(Product.sku))
        .select_from(stores)
        .join(Product, col(Product.id) == alert.product_id)
        .where(stores.c.id == alert.store_id)
    ).one()
    return _view(alert, store_code=store_code, sku=sku)


def _view(alert: StockAlert, *, store_code: str, sku: str) -> AlertView:
    return AlertView(
        alert_id=alert.alert_id,
        status=alert.status,
        store_code=store_code,
        sku=sku,
        created_at=alert.created_at,
        sent_at=alert.sent_at,
    )


# ------------------------------------------------------------------------------------------- the firing


def _fired_ids(xids: set[int]) -> Any:
    """The waiting alerts whose stock row one of `xids` (this transaction's feed ids) wrote and that has
    units available now: from the transaction's own log rows, through the waiting alerts' index on
    (store, product), to the stock row by its key."""
    change, stock, alert = feed_log.LOG.alias("c"), feed_log.STOCK.alias("s"), ALERTS.alias("a")
    return (
        select(alert.c.id)
        .select_from(change)
        .join(
            alert,
            and_(
                alert.c.store_id == change.c.store_id,
                feed_log.in_bucket(alert.c.product_id, change.c.bucket),
                alert.c.status == WAITING,
            ),
        )
        .join(
            stock,
            and_(
                stock.c.store_id == alert.c.store_id,
                stock.c.product_id == alert.c.product_id,
                stock.c.feed_xid == change.c.xid,
            ),
        )
        .where(
            change.c.xid.in_(sorted(xids)),
            stock.c.on_hand - stock.c.reserved - stock.c.safety_stock > 0,
        )
    )


def fire_alerts(session: Session, *, xids: set[int]) -> int:
    """Mark `sent` the waiting alerts this transaction's stock writes (under `xids`) made available;
    answers how many. The shopper messages write their messages after the commit (`take_fired_alerts`)."""
    now = utcnow()
    fired = session.execute(
        update(ALERTS)
        .where(ALERTS.c.id.in_(_fired_ids(xids)), ALERTS.c.status == WAITING)
        .values(status=SENT, sent_at=now)
    )
    return int(fired.rowcount)  # type: ignore[attr-defined]


@event.listens_for(OrmSession, "before_commit")
def _fire_before_commit(session: OrmSession) -> None:
    # SQLAlchemy calls this before a savepoint is released too (a writer's own `begin_nested`): the
    # transaction has not written everything yet, and its alerts fire when the whole of it commits.
    if session.get_nested_transaction() is not None:
        return
    xids: set[int] | None = session.info.pop(feed_log.WRITTEN_XIDS, None)
    if xids and isinstance(session, Session):
        fire_alerts(session, xids=xids)


@event.listens_for(OrmSession, "after_transaction_end")
def _forget_written(session: OrmSession, transaction: SessionTransaction) -> None:
    if transaction.parent is None:  # the whole transaction ended, committed or rolled back
        session.info.pop(feed_log.WRITTEN_XIDS, None)


# ------------------------------------------------------------------------------------------ the message


@dataclass(frozen=True)
class FiredAlert:
    """A fired alert's message, as the shopper messages take it over: to whom, in which language, about
    what."""

    alert_id: str
    email: str
    locale: Locale
    store_code: str
    sku: str
    product_name: str
    sent_at: datetime


def take_fired_alerts(session: Session, *, now: datetime, limit: int = BATCH) -> list[FiredAlert]:
    """Up to `limit` fired alerts whose message nobody has taken over yet, marked taken (`messaged_at`)
    in the caller's transaction, which writes their messages: each goes to the messages once. SKIP
    LOCKED lets two callers share them."""
    stores = stores_service.store_keys().subquery("st")
    rows = session.execute(
        select(StockAlert, stores.c.code, col(Product.sku), col(Product.name))
        .join(stores, stores.c.id == col(StockAlert.store_id))
        .join(Product, col(Product.id) == col(StockAlert.product_id))
        .where(col(StockAlert.status) == SENT, col(StockAlert.messaged_at).is_(None))
        .order_by(col(StockAlert.sent_at), col(StockAlert.id))
        .limit(limit)
        .with_for_update(skip_locked=True, of=StockAlert)
    ).all()
    taken = []
    for alert, store_code, sku, product_name in rows:
        alert.messaged_at = now
        session.add(alert)
        assert alert.sent_at is not None
        taken.append(
            FiredAlert(
                alert_id=alert.alert_id,
                email=alert.email,
                locale=Locale(alert.locale),
                store_code=store_code,
                sku=sku,
                product_name=product_name,
                sent_at=alert.sent_at,
            )
        )
    session.flush()
    return taken

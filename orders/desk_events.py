"""The desk's events: what a store's pickup desk is told as it happens (a new order to pick, an order
cancelled, a shopper checking in), kept in the database so that every API process can stream them
(`orders.desk_stream`), and written in the transaction of the change itself: a change that rolls back
leaves no event, and no event is sent of a change that is not there.

**Numbering without loss.** A stream remembers the last event it sent (the SSE `id:`, `Last-Event-ID` on a
reconnect) and next reads the events after it. That is only safe if no event can become visible *behind*
a number already read. Ids from a sequence do not have that property on PostgreSQL: transaction A takes
id 5, B takes id 6, B commits first, a stream reads 6 and remembers it, A commits, and 5 is never sent.

So each store's events are numbered by a counter row of its own (`desk_event_counter`), which the
emitting transaction increments (`INSERT ... ON CONFLICT DO UPDATE ... RETURNING`): that takes the row's
lock, held until the transaction ends, so a second writer of the same store waits and then numbers after
the first one's committed value, or reuses the numbers of one that rolled back. A store's numbers are
therefore gapless and become visible in their order (PostgreSQL releases a transaction's locks only
after its commit is visible), and "everything after n" is exact. On SQLite, writers are serialised by
the database's one write lock, and the same statements give the same guarantee.

The cost is that the emitting transactions of one store serialise from their `emit` to their commit.
`emit` therefore comes last in each of them (after the order and stock locks, so the lock order stays
order -> stock -> counter and cannot deadlock), a reservation run numbers its whole batch at once, and
other stores are not affected at all. Measured (`bench/desk_events.py`, README "Benchmarks"): spread over
stores the events cost nothing measurable; eight check-ins at one store at the same instant spend two
thirds of their time waiting for its counter, and the store still takes ~150 a second, far beyond a
desk's few a minute.

Events are pruned after `RETENTION` by beat (`prune`); the counter rows stay, so numbers never repeat.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, func, select, text
from sqlmodel import Session

from orders.desk_schemas import DeskEventOut, DeskEventType
from orders.models import DeskEvent, DeskEventCounter
from retail import dialect
from retail.clock import as_aware_utc

RETENTION = timedelta(days=1)
"""How long events are kept: a desk offline for longer reloads its lists instead of replaying them."""

_EVENTS = DeskEvent.__table__  # type: ignore[attr-defined]
_COUNTERS = DeskEventCounter.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True)
class NewDeskEvent:
    type: DeskEventType
    order_id: str | None
    at: datetime


@dataclass(frozen=True)
class NumberedEvent:
    """An event of a store's stream, with its number there (the SSE `id:`)."""

    seq: int
    event: DeskEventOut


def emit(session: Session, *, store_id: int, events: Sequence[NewDeskEvent]) -> None:
    """Write `events` of one store in the session's transaction, numbered after the store's last ones.
    Call it last in the transaction: the store's counter row stays locked until the transaction ends."""
    if not events:
        return
    connection = session.connection()
    upsert = dialect.insert(session, _COUNTERS).values(store_id=store_id, last_seq=len(events))
    last = connection.execute(
        upsert.on_conflict_do_update(
            index_elements=["store_id"], set_={"last_seq": _COUNTERS.c.last_seq + len(events)}
        ).returning(_COUNTERS.c.last_seq)
    ).scalar_one()
    first = int(last) - len(events) + 1
    connection.execute(
        _EVENTS.insert(),
        [
            {"store_id": store_id, "seq": first + n, "type": e.type.value, "order_id": e.order_id, "at": e.at}
            for n, e in enumerate(events)
        ],
    )


def last_seq(bind: Session | Connection, *, store_id: int) -> int:
    """The number of the store's latest event (0 before its first)."""
    found = bind.execute(select(_COUNTERS.c.last_seq).where(_COUNTERS.c.store_id == store_id)).scalar()
    return 0 if found is None else int(found)


def last_seqs(bind: Session | Connection, *, store_ids: Sequence[int]) -> dict[int, int]:
    """`last_seq` of several stores in one read; a store without events is left out."""
    rows = bind.execute(
        select(_COUNTERS.c.store_id, _COUNTERS.c.last_seq).where(_COUNTERS.c.store_id.in_(list(store_ids)))
    )
    return {int(store): int(seq) for store, seq in rows}


def events_after(bind: Session | Connection, *, store_id: int, after: int, limit: int) -> list[NumberedEvent]:
    """The store's events numbered after `after`, in order, at most `limit` (through the primary key)."""
    rows = bind.execute(
        select(_EVENTS.c.seq, _EVENTS.c.type, _EVENTS.c.order_id, _EVENTS.c.at)
        .where(_EVENTS.c.store_id == store_id, _EVENTS.c.seq > after)
        .order_by(_EVENTS.c.seq)
        .limit(limit)
    )
    return [
        NumberedEvent(
            int(seq), DeskEventOut(type=DeskEventType(kind), order_id=order_id, at=as_aware_utc(at))
        )
        for seq, kind, order_id, at in rows
    ]


def prune(session: Session, *, before: datetime, batch: int) -> int:
    """Delete up to `batch` events older than `before`, oldest first (through the index on `at`); answers
    how many. A stream resuming behind them gets what is left."""
    deleted = session.execute(
        text(
            """DELETE FROM desk_event WHERE (store_id, seq) IN (
                   SELECT store_id, seq FROM desk_event WHERE at < :before ORDER BY at LIMIT :batch)"""
        ),
        {"before": dialect.timestamp(session, before), "batch": batch},
    )
    return int(deleted.rowcount)  # type: ignore[attr-defined]


def count(bind: Session | Connection, *, store_id: int) -> int:
    """How many events of the store are kept (for tests and the operator)."""
    return int(bind.execute(select(func.count()).where(_EVENTS.c.store_id == store_id)).scalar_one())

"""The books check every fault test ends with: whatever went wrong on the way, nothing was lost, nothing
counted twice, and every stock counter agrees with the records it is derived from.

- Orders: none still pending (unless allowed); every order went through each status at most once (one
  event per transition), starting at `pending` and ending at its current status, with one outbox
  notification per event; a collected order, and only one, left one collection movement per line the
  collector took units of (`-collected`; refused units leave none), and a line picked short, and only
  one, one short pick movement (`picked - quantity`); no collection or short pick movement belongs to no
  order line.
- Returns: only of collected orders, never more of a line than was collected; each with one outbox
  notification; a restocked return, and only one, left one `return` movement per line, of its quantity.
- Idempotency: every order belongs to exactly one idempotency key, and each key a client was answered a
  202 for still leads to the order it was told about (accepted orders are never lost).
- `reserved`: equals the live reservations (orders `reserved` or `ready_for_pickup`; a picked line holds
  its picked units), computed by the service's own reconciliation query (`orders.sweeps.held_units`,
  `inventory.service.reserved_drift`).
- Transfers: units leave the source when shipped (one `transfer_out` movement per line, at the source)
  and enter the pickup store when received (one `transfer_in` movement, at the pickup store), whatever
  became of the order since; in between they are counted in the pickup store's `in_transit`, which equals
  the units of its shipped, not yet received transfers: never in both stores, never in neither. No
  transfer movement belongs to no transfer line.
- `on_hand`: equals the last snapshot count applied to the row plus every movement after that count's
  `as_of` (all movements when the row was never counted), the rule of `inventory/sync.py`.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, text
from sqlmodel import Session

from inventory import service as inventory_service
from orders import lifecycle, returns, sweeps
from orders.models import FINAL, HOLDING, OrderStatus

# Every transition's notification: a partial pick's has a kind of its own.
_TRANSITIONS = f"('{lifecycle.NOTIFICATION_KIND}', '{lifecycle.PARTIALLY_READY_KIND}')"
_RETURNED = returns.NOTIFICATION_KIND


@dataclass(frozen=True)
class Books:
    """What the check saw, for a test to assert more on (e.g. that the fault really hit some orders)."""

    orders: int
    by_status: dict[str, int]
    returns: int = 0
    transfers: dict[str, int] = field(default_factory=dict)  # by status


def _rows(session: Session, sql: str, **params: object) -> list[Any]:
    return list(session.execute(text(sql), params).all())


def _count(session: Session, sql: str) -> int:
    return int(session.execute(text(sql)).scalar_one())


def check_books(
    engine: Engine,
    *,
    counts: Mapping[tuple[str, str], int],
    accepted: Mapping[str, str] | None = None,
    allow_pending: bool = False,
) -> Books:
    """Assert the books balance. `counts`: the last snapshot count sent per (store code, sku);
    `accepted`: idempotency key -> order_id of every 202 a client got."""
    with Session(engine) as session:
        # One snapshot for every query below, so a check never sees half of a transaction.
        session.execute(text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ"))
        by_status = {
            str(r[0]): int(r[1])
            for r in _rows(session, 'SELECT status, count(*) FROM "order" GROUP BY status')
        }
        known = {s.value for s in (*HOLDING, *FINAL)} | ({"pending"} if allow_pending else set())
        assert set(by_status) <= known, f"orders left in an unexpected state: {by_status}"

        repeated = _rows(
            session,
            "SELECT order_pk, status, count(*) FROM order_event "
            "GROUP BY order_pk, status HAVING count(*) > 1",
        )
        assert not repeated, f"a transition recorded more than once (order_pk, status, n): {repeated}"
        # The first event is `pending` and the last one is the order's status.
        misordered = _rows(
            session,
            """SELECT o.id, o.status, first_value(e.status) OVER w, last_value(e.status) OVER w
               FROM "order" o JOIN order_event e ON e.order_pk = o.id
               WINDOW w AS (PARTITION BY o.id ORDER BY e.id
                            ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)""",
        )
        bad_history = {r for r in misordered if r[2] != OrderStatus.pending.value or r[3] != r[1]}
        assert not bad_history, (
            f"history does not lead to the status (id, status, first, last): {bad_history}"
        )
        without_history = _rows(
            session,
            'SELECT o.id FROM "order" o '
            "WHERE NOT EXISTS (SELECT 1 FROM order_event e WHERE e.order_pk = o.id)",
        )
        assert not without_history, f"orders without history: {without_history}"

        events = _count(session, "SELECT count(*) FROM order_event")
        notifications = _count(session, f"SELECT count(*) FROM notification WHERE kind IN {_TRANSITIONS}")
        assert notifications == events, f"{notifications} notifications for {events} transitions"
        repeated_notes = _rows(
            session,
            f"""SELECT payload->>'order_id', payload->>'status', count(*) FROM notification
                WHERE kind IN {_TRANSITIONS} GROUP BY 1, 2 HAVING count(*) > 1""",
        )
        assert not repeated_notes, f"a transition notified more than once: {repeated_notes}"

        keyless = _rows(
            session,
            """SELECT o.id, count(k.key) FROM "order" o LEFT JOIN idempotency_key k ON k.order_pk = o.id
               GROUP BY o.id HAVING count(k.key) <> 1""",
        )
        assert not keyless, f"orders without exactly one idempotency key (id, keys): {keyless}"
        if accepted:
            digests = {hashlib.sha256(key.encode()).hexdigest(): key for key in accepted}
            found: dict[str, str] = dict(
                _rows(
                    session,
                    """SELECT k.key, o.order_id FROM idempotency_key k JOIN "order" o ON o.id = k.order_pk
                       WHERE k.key = ANY(:keys)""",
                    keys=list(digests),
                )
            )
            lost = {digests[d]: accepted[digests[d]] for d in digests if found.get(d) != accepted[digests[d]]}
            assert not lost, f"accepted orders lost or answered with another order: {lost}"

        # The order flow's movements, each once (movement_id is unique): a collection for every line of a
        # collected order the collector took units of (refused units left none: back on the shelf; no
        # more taken than picked), and a short pick for every line picked short, whatever became of its
        # order since.
        collections = _rows(
            session,
            """SELECT o.order_id, l.product_id, l.collected, m.delta, o.status
               FROM "order" o JOIN order_line l ON l.order_pk = o.id
               LEFT JOIN stock_movement m
                      ON m.movement_id = 'collection:' || o.order_id || ':' || l.product_id
               WHERE (o.status = 'collected' AND COALESCE(l.collected, 0) > 0) <> (m.id IS NOT NULL)
                  OR (m.id IS NOT NULL AND m.delta IS DISTINCT FROM -l.collected)
                  OR (o.status = 'collected' AND NOT COALESCE(l.collected <= l.picked, FALSE))""",
        )
        assert not collections, f"collection movements do not match collected orders: {collections}"
        short_picks = _rows(
            session,
            """SELECT o.order_id, l.product_id, l.quantity, l.picked, m.delta
               FROM "order" o JOIN order_line l ON l.order_pk = o.id
               LEFT JOIN stock_movement m
                      ON m.movement_id = 'short_pick:' || o.order_id || ':' || l.product_id
               WHERE (COALESCE(l.picked, l.quantity) < l.quantity) <> (m.id IS NOT NULL)
                  OR (m.id IS NOT NULL AND m.delta <> l.picked - l.quantity)""",
        )
        assert not short_picks, f"short pick movements do not match the lines picked short: {short_picks}"
        strays = _rows(
            session,
            """SELECT m.movement_id FROM stock_movement m
               WHERE m.source IN ('collection', 'short_pick') AND NOT EXISTS (
                   SELECT 1 FROM "order" o JOIN order_line l ON l.order_pk = o.id
                   WHERE m.movement_id = m.source || ':' || o.order_id || ':' || l.product_id
                     AND m.store_id = o.store_id)""",
        )
        assert not strays, f"order movements of no order line: {strays}"

        returns = _check_returns(session)
        transfers = _check_transfers(session)

        drift = inventory_service.reserved_drift(session, held=sweeps.held_units())
        assert not drift, f"reserved differs from the live reservations: {drift}"

        stock = _rows(
            session,
            """SELECT st.code, p.sku, s.on_hand, s.reserved, s.as_of IS NOT NULL,
                      COALESCE((SELECT sum(m.delta) FROM stock_movement m
                                WHERE m.store_id = s.store_id AND m.product_id = s.product_id
                                  AND (s.as_of IS NULL OR m.at > s.as_of)), 0)
               FROM stock s JOIN store st ON st.id = s.store_id JOIN product p ON p.id = s.product_id""",
        )
        wrong = []
        for store_code, sku, on_hand, reserved, counted, later in stock:
            key = (str(store_code), str(sku))
            assert counted == (key in counts), (
                f"{key}: counted {counted}, but the test sent {counts.get(key)}"
            )
            expected = counts.get(key, 0) + int(later)
            if on_hand != expected or reserved < 0:
                wrong.append((key, on_hand, expected, reserved))
        assert not wrong, (
            f"on_hand is not the count plus later movements (row, on_hand, expected, reserved): {wrong}"
        )
        missing = set(counts) - {(str(r[0]), str(r[1])) for r in stock}
        assert not missing, f"counted rows missing: {missing}"
    return Books(orders=sum(by_status.values()), by_status=by_status, returns=returns, transfers=transfers)


def _check_returns(session: Session) -> int:
    """The returns' part of the books; answers how many returns there are."""
    beyond = _rows(
        session,
        """SELECT o.order_id, o.status, rl.sku, l.collected, sum(rl.quantity)
           FROM order_return r JOIN "order" o ON o.id = r.order_pk
           JOIN order_return_line rl ON rl.return_pk = r.id
           LEFT JOIN order_line l ON l.order_pk = o.id AND l.product_id = rl.product_id
           GROUP BY o.order_id, o.status, rl.sku, l.product_id, l.collected
           HAVING o.status <> 'collected' OR l.product_id IS NULL
               OR sum(rl.quantity) > COALESCE(l.collected, 0)""",
    )
    assert not beyond, f"returned more than collected (order, status, sku, collected, returned): {beyond}"
    unnotified = _rows(
        session,
        f"""SELECT r.return_id, count(n.id) FROM order_return r
            LEFT JOIN notification n ON n.kind = '{_RETURNED}' AND n.payload->>'return_id' = r.return_id
            GROUP BY r.return_id HAVING count(n.id) <> 1""",
    )
    assert not unnotified, f"a return notified other than once (return_id, notifications): {unnotified}"
    # Each restocked line has its movement (movement_id is unique), no other line has one, and no return
    # movement lacks its line.
    movements = _rows(
        session,
        """SELECT r.return_id, rl.product_id, rl.quantity, m.delta, r.restock
           FROM order_return r JOIN order_return_line rl ON rl.return_pk = r.id
           LEFT JOIN stock_movement m ON m.movement_id = 'return:' || r.return_id || ':' || rl.product_id
           WHERE r.restock <> (m.id IS NOT NULL) OR (m.id IS NOT NULL AND m.delta <> rl.quantity)""",
    )
    assert not movements, f"return movements do not match restocked returns: {movements}"
    strays = _rows(
        session,
        """SELECT m.movement_id FROM stock_movement m WHERE m.source = 'return' AND NOT EXISTS (
               SELECT 1 FROM order_return r JOIN order_return_line rl ON rl.return_pk = r.id
               WHERE m.movement_id = 'return:' || r.return_id || ':' || rl.product_id)""",
    )
    assert not strays, f"return movements without their return: {strays}"
    return _count(session, "SELECT count(*) FROM order_return")


# A transfer carries the lines of its order that name its source (orders.transfers).
_TRANSFER_LINES = """transfer t JOIN order_line l
                     ON l.order_pk = t.order_pk AND l.source_store_id = t.from_store_id"""


def _check_transfers(session: Session) -> dict[str, int]:
    """The transfers' part of the books; answers how many transfers there are in each status."""
    movements = _rows(
        session,
        f"""SELECT t.transfer_id, t.status, l.product_id, l.quantity, o.delta, i.delta
            FROM {_TRANSFER_LINES}
            LEFT JOIN stock_movement o
                   ON o.movement_id = 'transfer_out:' || t.transfer_id || ':' || l.product_id
                  AND o.store_id = t.from_store_id
            LEFT JOIN stock_movement i
                   ON i.movement_id = 'transfer_in:' || t.transfer_id || ':' || l.product_id
                  AND i.store_id = t.to_store_id
            WHERE (t.status IN ('shipped', 'received')) <> (o.id IS NOT NULL)
               OR (t.status = 'received') <> (i.id IS NOT NULL)
               OR (o.id IS NOT NULL AND o.delta <> -l.quantity)
               OR (i.id IS NOT NULL AND i.delta <> l.quantity)""",
    )
    assert not movements, (
        f"transfer movements do not match the transfers (id, status, product, quantity, out, in): {movements}"
    )
    strays = _rows(
        session,
        f"""SELECT m.movement_id FROM stock_movement m
            WHERE m.source IN ('transfer_out', 'transfer_in') AND NOT EXISTS (
                SELECT 1 FROM {_TRANSFER_LINES}
                WHERE m.movement_id = m.source || ':' || t.transfer_id || ':' || l.product_id
                  AND m.store_id = CASE m.source WHEN 'transfer_out' THEN t.from_store_id
                                                 ELSE t.to_store_id END)""",
    )
    assert not strays, f"transfer movements of no transfer line: {strays}"
    # A FULL JOIN: travelling units whose pickup store has no row at all are units in neither store.
    in_transit = _rows(
        session,
        f"""SELECT COALESCE(s.store_id, x.to_store_id), COALESCE(s.product_id, x.product_id),
                   COALESCE(s.in_transit, 0), COALESCE(x.quantity, 0)
            FROM stock s FULL JOIN (
                SELECT t.to_store_id, l.product_id, sum(l.quantity) AS quantity FROM {_TRANSFER_LINES}
                WHERE t.status = 'shipped' GROUP BY t.to_store_id, l.product_id
            ) x ON x.to_store_id = s.store_id AND x.product_id = s.product_id
            WHERE COALESCE(s.in_transit, 0) <> COALESCE(x.quantity, 0)""",
    )
    assert not in_transit, (
        f"in_transit is not the units shipped and not received (store, product, in_transit, shipped): "
        f"{in_transit}"
    )
    return {str(r[0]): int(r[1]) for r in _rows(session, "SELECT status, count(*) FROM transfer GROUP BY 1")}


def pending(engine: Engine) -> int:
    with engine.connect() as connection:
        return int(
            connection.execute(text("SELECT count(*) FROM \"order\" WHERE status = 'pending'")).scalar_one()
        )


def wait_settled(engine: Engine, *, timeout: float = 150) -> None:
    """Until no order is pending: after a fault, the pending sweep (every 15 s, for orders pending over
    30 s) sends the lost reservations again."""
    deadline = time.monotonic() + timeout
    while (left := pending(engine)) > 0:
        assert time.monotonic() < deadline, f"{left} orders still pending"
        time.sleep(1)

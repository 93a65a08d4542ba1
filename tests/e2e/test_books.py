"""The books check itself: it passes on balanced books and names each kind of imbalance, transfers'
units on their way included."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, text
from sqlmodel import Session, select

from orders import lifecycle, returns, staff, transfers
from orders import service as orders_service
from orders.counter_schemas import ReturnIn
from orders.models import Order, Transfer
from retail.auth import Principal, Role, authenticate, create_api_key
from tests.e2e.books import check_books
from tests.factories import committed_lanes, committed_store, place_order, reserved_order

COUNTS = {("B1", "A"): 5, ("B1", "B"): 3}


@pytest.fixture
def books(pg_engine: Engine) -> Iterator[Engine]:
    with committed_store(pg_engine, "B1", {"A": 5, "B": 3}):
        reserved_order(pg_engine, "B1", {"A": 2, "B": 1}, key="held")
        place_order(pg_engine, "B1", {"A": 1}, key="waiting")
        yield pg_engine


def _execute(engine: Engine, sql: str) -> None:
    with engine.begin() as connection:
        connection.execute(text(sql))


def test_balanced_books_pass_and_say_what_they_hold(books: Engine) -> None:
    seen = check_books(books, counts=COUNTS, allow_pending=True)
    assert (seen.orders, seen.by_status) == (2, {"reserved": 1, "pending": 1})


@pytest.mark.parametrize(
    ("damage", "complaint"),
    [
        ("UPDATE stock SET reserved = reserved + 1 WHERE reserved > 0", "live reservations"),
        ("UPDATE stock SET on_hand = on_hand - 1 WHERE reserved > 0", "count plus later movements"),
        (
            "INSERT INTO order_event (order_pk, status, at) SELECT order_pk, status, at FROM order_event "
            "WHERE status = 'reserved'",
            "more than once",
        ),
        ("DELETE FROM notification WHERE payload->>'status' = 'reserved'", "notifications for"),
        ("DELETE FROM idempotency_key", "idempotency key"),
    ],
)
def test_each_imbalance_is_caught(books: Engine, damage: str, complaint: str) -> None:
    _execute(books, damage)
    with pytest.raises(AssertionError, match=complaint):
        check_books(books, counts=COUNTS, allow_pending=True)


def test_a_pending_order_fails_unless_allowed(books: Engine) -> None:
    with pytest.raises(AssertionError, match="unexpected state"):
        check_books(books, counts=COUNTS)


def test_an_accepted_order_that_is_gone_is_caught(books: Engine) -> None:
    with pytest.raises(AssertionError, match="lost"):
        check_books(books, counts=COUNTS, accepted={"never-placed": "ord_x"}, allow_pending=True)


# ------------------------------------------------------------------------------------------ the counter


@pytest.fixture
def counter_books(pg_engine: Engine) -> Iterator[Engine]:
    """At B1: an order short-picked (A 1 of 2) and handed over with its B refused, one picked nothing
    (rejected), one picked in full and waiting."""
    with committed_store(pg_engine, "B1", {"A": 5, "B": 3}), Session(pg_engine) as session:
        secret = create_api_key(session, role=Role.staff, store_code="B1")
        session.commit()
        principal = authenticate(session, secret)
        assert principal is not None
        short = reserved_order(pg_engine, "B1", {"A": 2, "B": 1}, key="short")
        nothing = reserved_order(pg_engine, "B1", {"B": 1}, key="nothing")
        waiting = reserved_order(pg_engine, "B1", {"A": 1}, key="waiting")
        staff.mark_ready(session, principal=principal, order_id=short.order_id, picked=[("A", 1)])
        staff.mark_ready(session, principal=principal, order_id=nothing.order_id, picked=[("B", 0)])
        staff.mark_ready(session, principal=principal, order_id=waiting.order_id)
        session.commit()
        issued = lifecycle.pickup_of(short)
        assert issued is not None
        staff.confirm(session, principal=principal, code=issued.token, store_code=None, taken=[("B", 0)])
        session.commit()
        yield pg_engine


def test_short_picks_and_refusals_balance(counter_books: Engine) -> None:
    seen = check_books(counter_books, counts=COUNTS)
    assert seen.by_status == {"collected": 1, "rejected": 1, "ready_for_pickup": 1}
    with counter_books.connect() as connection:
        stock = connection.execute(
            text("SELECT p.sku, s.on_hand, s.reserved FROM stock s JOIN product p ON p.id = s.product_id")
        ).all()
    # A: 5 - 1 short - 1 collected, 1 held for the waiting order; B: 3 - 1 short, the refused one back.
    assert sorted((str(r[0]), int(r[1]), int(r[2])) for r in stock) == [("A", 3, 1), ("B", 2, 0)]


# ------------------------------------------------------------------------------------------- returns


@pytest.fixture
def returned(pg_engine: Engine) -> Iterator[Engine]:
    """At B1: an order of 2 A and 1 B collected, then 1 A returned onto the shelf and 1 B written off."""
    with committed_store(pg_engine, "B1", {"A": 5, "B": 3}), Session(pg_engine) as session:
        secret = create_api_key(session, role=Role.staff, store_code="B1")
        session.commit()
        order = reserved_order(pg_engine, "B1", {"A": 2, "B": 1}, key="collected")
        principal = authenticate(session, secret)
        assert principal is not None
        staff.mark_ready(session, principal=principal, order_id=order.order_id)
        issued = orders_service.pickup_of(order)
        assert issued is not None
        staff.confirm(session, principal=principal, code=issued.token, store_code=None)
        session.commit()
        for key, sku, restock in (("back", "A", True), ("gone", "B", False)):
            body = ReturnIn.model_validate({"lines": [{"sku": sku, "quantity": 1}], "restock": restock})
            returns.take_return(
                session, principal=principal, order_id=order.order_id, return_in=body, idempotency_key=key
            )
            session.commit()
        yield pg_engine


def test_books_with_returns_balance(returned: Engine) -> None:
    seen = check_books(returned, counts=COUNTS)
    assert (seen.by_status, seen.returns) == ({"collected": 1}, 2)
    with returned.connect() as connection:
        stock = connection.execute(text("SELECT on_hand, reserved FROM stock ORDER BY product_id")).all()
    assert [tuple(row) for row in stock] == [(4, 0), (2, 0)]  # A: 5 - 2 + 1; B: 3 - 1, written off


@pytest.mark.parametrize(
    ("damage", "complaint"),
    [
        ("DELETE FROM stock_movement WHERE source = 'short_pick'", "short pick movements"),
        ("UPDATE order_line SET picked = quantity", "short pick movements"),
        ("UPDATE order_line SET collected = picked WHERE collected = 0", "collection movements"),
        ("UPDATE order_line SET collected = 2 WHERE collected = 1", "collection movements"),
        (
            "INSERT INTO stock_movement (movement_id, store_id, product_id, delta, at, recorded_at, source) "
            "SELECT 'short_pick:ord_gone:' || product_id, store_id, product_id, 0, now(), now(), "
            "'short_pick' FROM stock LIMIT 1",
            "no order line",
        ),
        # A refused unit that left the shelf anyway, or stayed reserved.
        ("UPDATE stock SET on_hand = on_hand - 1 WHERE reserved = 0", "count plus later movements"),
        ("UPDATE stock SET reserved = reserved + 1 WHERE reserved = 0", "live reservations"),
    ],
)
def test_each_counter_imbalance_is_caught(counter_books: Engine, damage: str, complaint: str) -> None:
    _execute(counter_books, damage)
    with pytest.raises(AssertionError, match=complaint):
        check_books(counter_books, counts=COUNTS)


@pytest.mark.parametrize(
    ("damage", "complaint"),
    [
        ("DELETE FROM stock_movement WHERE source = 'return'", "return movements do not match"),
        ("UPDATE stock_movement SET delta = 2 WHERE source = 'return'", "return movements do not match"),
        ("UPDATE order_return SET restock = true", "return movements do not match"),
        ("UPDATE order_return_line SET quantity = 3", "returned more than collected"),
        ("DELETE FROM order_return WHERE restock", "without their return"),
        ("DELETE FROM notification WHERE kind = 'order.returned'", "notified other than once"),
        ("UPDATE stock SET on_hand = on_hand + 1 WHERE on_hand = 4", "count plus later movements"),
    ],
)
def test_each_imbalance_of_returns_is_caught(returned: Engine, damage: str, complaint: str) -> None:
    _execute(returned, damage)
    with pytest.raises(AssertionError, match=complaint):
        check_books(returned, counts=COUNTS)


# ----------------------------------------------------------------------------------------- transfers

TRANSFER_COUNTS = {("B1", "A"): 5, ("B2", "C"): 6}


@pytest.fixture
def transferred(pg_engine: Engine) -> Iterator[Engine]:
    """B1 lacks C, B2 holds 6 and ships to B1. Five orders at B1 of 1 A and 1 C, with `allow_transfer`,
    their C coming from B2: one shipped and received, one shipped and still travelling, one cancelled
    after shipping and then received (unreserved), one cancelled while travelling, one cancelled before
    shipping (its C back on B2's shelf)."""
    stock = {"B1": {"A": 5}, "B2": {"C": 6}}
    with committed_lanes(pg_engine, stock, lanes=[("B2", "B1")]), Session(pg_engine) as session:
        staff_of: dict[str, Principal] = {}
        for code in ("B1", "B2"):
            secret = create_api_key(session, role=Role.staff, store_code=code)
            session.commit()
            principal = authenticate(session, secret)
            assert principal is not None
            staff_of[code] = principal
        names = ("received", "travelling", "cancelled_received", "cancelled_travelling", "cancelled_planned")
        placed = {
            name: reserved_order(pg_engine, "B1", {"A": 1, "C": 1}, key=name, allow_transfer=True)
            for name in names
        }
        tid = {
            name: session.exec(select(Transfer.transfer_id).where(Transfer.order_pk == order.id)).one()
            for name, order in placed.items()
        }

        def cancel(name: str) -> None:
            order = session.get(Order, placed[name].id)
            assert order is not None
            lifecycle.cancel(session, order=order)
            session.commit()

        cancel("cancelled_planned")
        for name in names[:4]:
            transfers.ship(session, principal=staff_of["B2"], transfer_id=tid[name])
            session.commit()
        cancel("cancelled_received")
        cancel("cancelled_travelling")
        for name in ("received", "cancelled_received"):
            transfers.receive(session, principal=staff_of["B1"], transfer_id=tid[name])
            session.commit()
        yield pg_engine


def _stock(engine: Engine) -> dict[tuple[str, str], tuple[int, int, int]]:
    with engine.connect() as connection:
        rows = connection.execute(
            text(
                "SELECT st.code, p.sku, s.on_hand, s.reserved, s.in_transit FROM stock s "
                "JOIN store st ON st.id = s.store_id JOIN product p ON p.id = s.product_id"
            )
        ).all()
    return {(str(r[0]), str(r[1])): (int(r[2]), int(r[3]), int(r[4])) for r in rows}


def test_books_with_transfers_balance(transferred: Engine) -> None:
    seen = check_books(transferred, counts=TRANSFER_COUNTS)
    assert seen.by_status == {"reserved": 2, "cancelled": 3}
    assert seen.transfers == {"received": 2, "shipped": 2, "planned": 1}
    assert _stock(transferred) == {
        ("B1", "A"): (5, 2, 0),  # held for the received and the travelling order
        ("B1", "C"): (2, 1, 2),  # two arrived (one for a cancelled order: unreserved), two on the way
        ("B2", "C"): (2, 0, 0),  # four left when shipped; the one cancelled before shipping stayed
    }


@pytest.mark.parametrize(
    ("damage", "complaint"),
    [
        # Units in neither store, in both, or counted twice on the way.
        ("UPDATE stock SET in_transit = 0", "in_transit is not the units shipped"),
        ("UPDATE stock SET in_transit = in_transit + 1 WHERE in_transit > 0", "in_transit is not"),
        ("UPDATE stock SET on_hand = on_hand + 1 WHERE in_transit > 0", "count plus later movements"),
        ("DELETE FROM stock WHERE in_transit > 0", "in_transit is not the units shipped"),
        # Left the source, or arrived, without its movement; or the movement without the step.
        ("DELETE FROM stock_movement WHERE source = 'transfer_in'", "transfer movements do not match"),
        ("DELETE FROM stock_movement WHERE source = 'transfer_out'", "transfer movements do not match"),
        ("UPDATE transfer SET status = 'received' WHERE status = 'shipped'", "transfer movements do not"),
        ("UPDATE transfer SET status = 'planned' WHERE status = 'shipped'", "transfer movements do not"),
        ("UPDATE stock_movement SET delta = -2 WHERE source = 'transfer_out'", "transfer movements"),
        (
            "UPDATE stock_movement SET store_id = (SELECT id FROM store WHERE code = 'B2') "
            "WHERE source = 'transfer_in'",
            "transfer movements do not match",
        ),
        ("UPDATE order_line SET source_store_id = NULL", "transfer movements of no transfer line"),
    ],
)
def test_each_imbalance_of_transfers_is_caught(transferred: Engine, damage: str, complaint: str) -> None:
    _execute(transferred, damage)
    with pytest.raises(AssertionError, match=complaint):
        check_books(transferred, counts=TRANSFER_COUNTS)

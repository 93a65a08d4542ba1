"""The counter's stock effects across real transactions: the availability feed serves the rows a short
pick, a partial hand-over and a pick of nothing change, and a short pick racing the shopper's cancel of
the same order leaves the books balanced whichever wins (PostgreSQL, threads)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from sqlalchemy import Engine, text
from sqlmodel import Session

from inventory import service as inventory_service
from orders import service as orders_service
from orders import staff
from orders.exceptions import InvalidTransition
from orders.models import Order, OrderStatus
from retail.auth import Principal, Role, authenticate, create_api_key
from tests.e2e.books import check_books
from tests.factories import committed_store, reserved_order

FeedRows = dict[tuple[str, str], tuple[int, int]]


@dataclass(frozen=True)
class Counter:
    """A store F1 with A and B counted 5 and 3, committed, and its desk's key."""

    engine: Engine
    secret: str

    def principal(self, session: Session) -> Principal:
        principal = authenticate(session, self.secret)
        assert principal is not None
        return principal


@pytest.fixture
def counter(engine: Engine) -> Iterator[Counter]:
    with committed_store(engine, "F1", {"A": 5, "B": 3}), Session(engine) as session:
        secret = create_api_key(session, role=Role.staff, store_code="F1", label="F1 desk")
        session.commit()
        yield Counter(engine, secret)


def _drain(engine: Engine, cursor: str | None) -> tuple[FeedRows, str | None]:
    """Follow the feed from `cursor` until it is exhausted: each row's latest (on_hand, reserved)."""
    seen: FeedRows = {}
    for _ in range(100):
        with Session(engine) as session:
            page = inventory_service.availability_feed(session, cursor=cursor, limit=10)
        cursor = page.next_cursor
        if not page.items:
            return seen, cursor
        seen.update({(item.store_code, item.sku): (item.on_hand, item.reserved) for item in page.items})
    raise AssertionError("the feed did not end")


def _movements(engine: Engine) -> list[tuple[str, int]]:
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT movement_id, delta FROM stock_movement ORDER BY movement_id"))
        return sorted((str(r[0]).split(":")[0], int(r[1])) for r in rows)


@pytest.mark.parametrize("engine", ["postgresql", "sqlite"], indirect=True)
def test_the_feed_sees_every_counter_action(counter: Counter) -> None:
    engine = counter.engine
    order = reserved_order(engine, "F1", {"A": 2, "B": 1}, key="feed-1")
    seen, cursor = _drain(engine, None)
    assert seen == {("F1", "A"): (5, 2), ("F1", "B"): (3, 1)}

    with Session(engine) as session:
        staff.mark_ready(
            session, principal=counter.principal(session), order_id=order.order_id, picked=[("A", 1)]
        )
        session.commit()
    seen, cursor = _drain(engine, cursor)
    assert seen == {("F1", "A"): (4, 1)}

    issued = orders_service.pickup_of(order)
    assert issued is not None
    with Session(engine) as session:
        staff.confirm(
            session,
            principal=counter.principal(session),
            code=issued.token,
            store_code=None,
            taken=[("B", 0)],
        )
        session.commit()
    seen, cursor = _drain(engine, cursor)
    assert seen == {("F1", "A"): (3, 0), ("F1", "B"): (3, 0)}  # the refused tea is back, free

    nothing = reserved_order(engine, "F1", {"B": 2}, key="feed-2")
    _, cursor = _drain(engine, cursor)
    with Session(engine) as session:
        rejected = staff.mark_ready(
            session, principal=counter.principal(session), order_id=nothing.order_id, picked=[("B", 0)]
        )
        assert rejected.status == OrderStatus.rejected
        session.commit()
    seen, cursor = _drain(engine, cursor)
    assert seen == {("F1", "B"): (1, 0)}
    assert _movements(engine) == [("collection", -1), ("short_pick", -2), ("short_pick", -1)]
    if engine.dialect.name == "postgresql":
        check_books(engine, counts={("F1", "A"): 5, ("F1", "B"): 3})


@pytest.fixture
def pg_counter(pg_engine: Engine) -> Iterator[Counter]:
    with committed_store(pg_engine, "C2", {"A": 30, "B": 10}), Session(pg_engine) as session:
        secret = create_api_key(session, role=Role.staff, store_code="C2")
        session.commit()
        yield Counter(pg_engine, secret)


ROUNDS = 8


def test_a_short_pick_racing_the_shoppers_cancel_balances_the_books(pg_counter: Counter) -> None:
    engine = pg_counter.engine
    wins: dict[str, int] = {"short_pick": 0, "cancel_first": 0}
    for round_ in range(ROUNDS):
        order = reserved_order(engine, "C2", {"A": 2, "B": 1}, key=f"race-{round_}")
        barrier = threading.Barrier(2)
        outcomes: dict[str, str] = {}

        def clerk(
            order_id: str = order.order_id,
            outcomes: dict[str, str] = outcomes,
            barrier: threading.Barrier = barrier,
        ) -> None:
            with Session(engine) as session:
                principal = pg_counter.principal(session)
                barrier.wait()
                try:
                    staff.mark_ready(session, principal=principal, order_id=order_id, picked=[("A", 1)])
                    session.commit()
                    outcomes["clerk"] = "short_picked"
                except InvalidTransition:
                    session.rollback()
                    outcomes["clerk"] = "refused"

        def shopper(
            order_id: str = order.order_id,
            outcomes: dict[str, str] = outcomes,
            barrier: threading.Barrier = barrier,
        ) -> None:
            with Session(engine) as session:
                token = orders_service.order_token(order_id)
                barrier.wait()
                orders_service.cancel_order(session, order_id=order_id, token=token)
                session.commit()
                outcomes["shopper"] = "cancelled"

        threads = [threading.Thread(target=clerk), threading.Thread(target=shopper)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

        # A cancel is allowed before and after the pick: it always wins in the end; the short pick
        # happened only if it came first.
        assert outcomes["shopper"] == "cancelled"
        wins["short_pick" if outcomes["clerk"] == "short_picked" else "cancel_first"] += 1
        with Session(engine) as session:
            assert session.get(Order, order.id).status == OrderStatus.cancelled  # type: ignore[union-attr]
        with engine.connect() as connection:
            rows = connection.execute(
                text("SELECT p.sku, s.on_hand, s.reserved FROM stock s JOIN product p ON p.id = s.product_id")
            ).all()
        stock = {str(sku): (int(on_hand), int(reserved)) for sku, on_hand, reserved in rows}
        assert stock == {"A": (30 - wins["short_pick"], 0), "B": (10, 0)}, (round_, outcomes)
        assert _movements(engine) == [("short_pick", -1)] * wins["short_pick"]
    assert sum(wins.values()) == ROUNDS
    check_books(engine, counts={("C2", "A"): 30, ("C2", "B"): 10})


@pytest.mark.parametrize("first", ["clerk", "shopper"])
def test_the_one_holding_the_order_goes_first_and_the_other_waits(pg_counter: Counter, first: str) -> None:
    # Each side of the race above, for certain: the first holds the order's row lock, uncommitted, while
    # the second starts and must wait for it.
    engine = pg_counter.engine
    order = reserved_order(engine, "C2", {"A": 2, "B": 1}, key="ordered-race")
    token = orders_service.order_token(order.order_id)

    def short_pick(session: Session) -> str:
        try:
            principal = pg_counter.principal(session)
            staff.mark_ready(session, principal=principal, order_id=order.order_id, picked=[("A", 1)])
        except InvalidTransition:
            return "refused"
        return "short_picked"

    def cancel(session: Session) -> str:
        orders_service.cancel_order(session, order_id=order.order_id, token=token)
        return "cancelled"

    actions = {"clerk": short_pick, "shopper": cancel}
    second = "shopper" if first == "clerk" else "clerk"
    outcomes: dict[str, str] = {}

    def later() -> None:
        with Session(engine) as session:
            outcomes[second] = actions[second](session)
            session.commit()

    with Session(engine) as holding:
        outcomes[first] = actions[first](holding)
        waiting = threading.Thread(target=later)
        waiting.start()
        waiting.join(timeout=0.5)
        assert waiting.is_alive(), "the second went ahead without the order's lock"
        holding.commit()
    waiting.join()

    short_picked = first == "clerk"
    assert outcomes == {"clerk": "short_picked" if short_picked else "refused", "shopper": "cancelled"}
    with engine.connect() as connection:
        rows = connection.execute(
            text("SELECT p.sku, s.on_hand, s.reserved FROM stock s JOIN product p ON p.id = s.product_id")
        ).all()
    stock = {str(sku): (int(on_hand), int(reserved)) for sku, on_hand, reserved in rows}
    assert stock == {"A": (29 if short_picked else 30, 0), "B": (10, 0)}
    assert _movements(engine) == ([("short_pick", -1)] if short_picked else [])
    check_books(engine, counts={("C2", "A"): 30, ("C2", "B"): 10})

"""The desk's events, as the transactions that cause them write them: a reservation run's reserved orders
(numbered in the run's order, none for rejected ones), a shopper's cancel of an order the desk was shown,
a check-in; nothing of a transaction that rolls back; per-store numbers given in commit order, so that a
reader who has seen number n can never later find a new event at or below n; pruning after a day."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import Engine, text
from sqlmodel import Session, select

from orders import desk_events
from orders import service as orders_service
from orders.counter_schemas import ArrivalStatus
from orders.desk_schemas import ArrivalIn, DeskEventType
from orders.models import Order, OrderStatus
from retail.clock import as_aware_utc, utcnow
from retail.db import session_scope
from stores.models import Store
from tests.e2e.processes import wait_until
from tests.factories import committed_store, make_coffee_shop, place_order, reserved_order

BOTH_DATABASES = pytest.mark.parametrize("engine", ["postgresql", "sqlite"], indirect=True)


def _store_id(session: Session, code: str = "S1") -> int:
    store_id = session.exec(select(Store.id).where(Store.code == code)).one()
    assert store_id is not None
    return store_id


def _events(session: Session, code: str = "S1", after: int = 0) -> list[tuple[int, str, str | None]]:
    return [
        (e.seq, e.event.type.value, e.event.order_id)
        for e in desk_events.events_after(session, store_id=_store_id(session, code), after=after, limit=100)
    ]


def _token(order: Order) -> str:
    return orders_service.order_token(order.order_id)


@BOTH_DATABASES
def test_a_reservation_run_numbers_its_reserved_orders_and_says_nothing_of_rejected_ones(
    session: Session,
) -> None:
    make_coffee_shop(session)
    first = place_order(session, "S1", {"THEE": 1}, key="k1")
    too_much = place_order(session, "S1", {"KOFFIE": 4}, key="k2")  # 3 on the shelf
    second = place_order(session, "S1", {"THEE": 2}, key="k3")
    at_s2 = reserved_order(session, "S2", {"THEE": 1}, key="k4")
    assert first.id is not None
    assert orders_service.reserve_order(session, order_pk=first.id, batch=10) == OrderStatus.reserved
    session.refresh(too_much)
    assert too_much.status == OrderStatus.rejected
    assert _events(session) == [(1, "order.reserved", first.order_id), (2, "order.reserved", second.order_id)]
    assert _events(session, "S2") == [(1, "order.reserved", at_s2.order_id)]
    [reserved] = desk_events.events_after(session, store_id=_store_id(session), after=0, limit=1)
    session.refresh(first)
    assert reserved.event.at == as_aware_utc(first.updated_at)


@BOTH_DATABASES
def test_a_cancel_tells_the_desk_of_orders_it_was_shown_only(session: Session) -> None:
    make_coffee_shop(session)
    reserved = reserved_order(session, "S1", {"THEE": 1}, key="k1")
    pending = place_order(session, "S1", {"THEE": 1}, key="k2")
    orders_service.cancel_order(session, order_id=reserved.order_id, token=_token(reserved))
    orders_service.cancel_order(session, order_id=pending.order_id, token=_token(pending))
    assert _events(session) == [
        (1, "order.reserved", reserved.order_id),
        (2, "order.cancelled", reserved.order_id),
    ]


@BOTH_DATABASES
def test_a_rolled_back_change_leaves_no_event_and_its_number_is_given_again(session: Session) -> None:
    make_coffee_shop(session)
    order = reserved_order(session, "S1", {"THEE": 1}, key="k1")
    session.commit()
    arrived = ArrivalIn(status=ArrivalStatus.arrived)
    orders_service.check_in(session, order_id=order.order_id, token=_token(order), arrival=arrived)
    assert [kind for _, kind, _ in _events(session)] == ["order.reserved", "order.arrival"]
    session.rollback()
    assert _events(session) == [(1, "order.reserved", order.order_id)]
    assert desk_events.last_seq(session, store_id=_store_id(session)) == 1
    orders_service.cancel_order(session, order_id=order.order_id, token=_token(order))
    assert _events(session) == [(1, "order.reserved", order.order_id), (2, "order.cancelled", order.order_id)]


@pytest.fixture
def committed_shop(engine: Engine) -> Iterator[int]:
    """S1 with THEE counted, committed for real; answers its store id. Every table emptied afterwards."""
    with committed_store(engine, "S1", {"THEE": 50}):
        with Session(engine) as session:
            store_id = _store_id(session)
        yield store_id


@BOTH_DATABASES
def test_a_transaction_that_fails_after_its_change_commits_no_event(
    engine: Engine, committed_shop: int
) -> None:
    order = place_order(engine, "S1", {"THEE": 1}, key="k1")
    assert order.id is not None
    written: list[int] = []

    def reserve_then_fail() -> None:
        with session_scope(engine) as session:
            orders_service.reserve_order(session, order_pk=order.id or 0)
            written.append(len(_events(session)))  # written, in this transaction
            raise RuntimeError("the commit never comes")

    with pytest.raises(RuntimeError):
        reserve_then_fail()
    assert written == [1]
    with Session(engine) as session:
        assert _events(session) == []
        assert desk_events.last_seq(session, store_id=committed_shop) == 0
        assert session.get(Order, order.id).status == OrderStatus.pending  # type: ignore[union-attr]


def _emit(session: Session, store_id: int, order_id: str) -> None:
    event = desk_events.NewDeskEvent(DeskEventType.order_arrival, order_id, utcnow())
    desk_events.emit(session, store_id=store_id, events=[event])


def _waiting_for_a_lock(engine: Engine) -> bool:
    with engine.connect() as connection:
        waiting = connection.execute(
            text(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND wait_event_type = 'Lock' AND query LIKE 'INSERT INTO desk_event_counter%'"
            )
        ).scalar_one()
    return int(waiting) > 0


@pytest.mark.parametrize("engine", ["postgresql"], indirect=True)
@pytest.mark.parametrize("first_commits", [True, False], ids=["commit", "rollback"])
def test_numbers_are_given_in_commit_order(engine: Engine, committed_shop: int, first_commits: bool) -> None:
    """A sequence would give the first writer 1 and the second 2, let the second commit first, and a
    reader who saw 2 would never see 1. Here the second writer waits for the first to end, and numbers
    after what it committed (or takes its number again when it rolled back)."""
    first = Session(engine)
    _emit(first, committed_shop, "ord_first")
    errors: list[BaseException] = []

    def second() -> None:
        try:
            with session_scope(engine) as session:
                _emit(session, committed_shop, "ord_second")
        except BaseException as exc:  # reported in the test's thread
            errors.append(exc)

    thread = threading.Thread(target=second)
    thread.start()
    try:
        wait_until(
            lambda: _waiting_for_a_lock(engine), timeout=10, what="the second writer to wait", every=0.05
        )
        with Session(engine) as reader:
            assert _events(reader) == []  # neither is visible: the second has not even numbered its event
    finally:
        if first_commits:
            first.commit()
        else:
            first.rollback()
        first.close()
        thread.join(timeout=10)
    assert not errors, errors
    with Session(engine) as reader:
        if first_commits:
            assert _events(reader) == [(1, "order.arrival", "ord_first"), (2, "order.arrival", "ord_second")]
        else:
            assert _events(reader) == [(1, "order.arrival", "ord_second")]


@BOTH_DATABASES
def test_events_older_than_a_day_are_pruned_and_numbers_go_on(session: Session) -> None:
    make_coffee_shop(session)
    store_id = _store_id(session)
    now = utcnow()
    old = [
        desk_events.NewDeskEvent(DeskEventType.order_reserved, f"ord_old{n}", now - timedelta(days=2))
        for n in range(3)
    ]
    desk_events.emit(session, store_id=store_id, events=old)
    desk_events.emit(
        session,
        store_id=store_id,
        events=[desk_events.NewDeskEvent(DeskEventType.order_reserved, "ord_new", now)],
    )
    before = now - desk_events.RETENTION
    assert desk_events.prune(session, before=before, batch=2) == 2
    assert desk_events.prune(session, before=before, batch=2) == 1
    assert desk_events.prune(session, before=before, batch=2) == 0
    assert _events(session) == [(4, "order.reserved", "ord_new")]
    _emit(session, store_id, "ord_next")
    assert [seq for seq, _, _ in _events(session)] == [4, 5]


@BOTH_DATABASES
def test_a_store_without_events_is_at_zero(session: Session) -> None:
    make_coffee_shop(session)
    assert desk_events.last_seq(session, store_id=_store_id(session)) == 0
    assert desk_events.last_seqs(session, store_ids=[_store_id(session), _store_id(session, "S2")]) == {}
    assert desk_events.count(session, store_id=_store_id(session)) == 0

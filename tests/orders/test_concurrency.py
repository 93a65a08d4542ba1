"""Orders under real concurrency on committed PostgreSQL: simultaneous confirmations, duplicate requests."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, text
from sqlmodel import Session, select

from orders import service as orders_service
from orders import staff
from orders.exceptions import AlreadyCollected
from orders.models import Order
from retail.auth import Role, authenticate, create_api_key
from tests.factories import committed_store, place_order, reserved_order


@pytest.fixture
def ready_order(pg_engine: Engine) -> Iterator[tuple[Engine, str, str]]:
    with committed_store(pg_engine, "C1", {"A": 5}), Session(pg_engine) as session:
        secret = create_api_key(session, role=Role.staff, store_code="C1")
        session.commit()
        order = reserved_order(pg_engine, "C1", {"A": 2}, key="concurrent-confirm")
        principal = authenticate(session, secret)
        assert principal is not None
        staff.mark_ready(session, principal=principal, order_id=order.order_id)
        session.commit()
        issued = orders_service.pickup_of(order)
        assert issued is not None
        token = issued.token
        yield pg_engine, secret, token


def test_two_confirmations_at_once_collect_once(ready_order: tuple[Engine, str, str]) -> None:
    engine, secret, token = ready_order
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def clerk() -> None:
        with Session(engine) as session:
            principal = authenticate(session, secret)
            assert principal is not None
            barrier.wait()
            try:
                staff.confirm(session, principal=principal, code=token, store_code=None)
                session.commit()
                outcomes.append("collected")
            except AlreadyCollected:
                session.rollback()
                outcomes.append("already_collected")

    threads = [threading.Thread(target=clerk) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes) == ["already_collected", "collected"]
    with engine.connect() as connection:
        on_hand, reserved = connection.execute(text("SELECT on_hand, reserved FROM stock")).one()
        movements = connection.execute(text("SELECT count(*) FROM stock_movement")).scalar_one()
    assert (on_hand, reserved, movements) == (3, 0, 1)
    with Session(engine) as session:
        assert session.exec(select(Order.status)).one() == "collected"


def test_concurrent_requests_with_one_idempotency_key_make_one_order(
    ready_order: tuple[Engine, str, str],
) -> None:
    engine, _secret, _token = ready_order
    barrier = threading.Barrier(8)
    answers: list[str] = []

    def shopper() -> None:
        barrier.wait()
        order = place_order(
            engine, "C1", {"A": 1}, key="double-tap", customer={"name": "D", "email": "d@example.nl"}
        )
        answers.append(order.order_id)

    threads = [threading.Thread(target=shopper) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(answers) == 8
    assert len(set(answers)) == 1
    with engine.connect() as connection:
        orders = connection.execute(
            text('SELECT count(*) FROM "order" WHERE customer_name = :name'), {"name": "D"}
        ).scalar_one()
    assert orders == 1

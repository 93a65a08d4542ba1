"""Returns at the counter across real transactions: the availability feed sees a restocked return (and
nothing of a written-off one), on PostgreSQL and SQLite; and on PostgreSQL, returns of one order sent at
once, with one key or with several, never give back more than was collected nor count twice."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text
from sqlmodel import Session

from orders import returns, staff
from orders import service as orders_service
from orders.counter_schemas import ReturnIn
from orders.exceptions import ReturnLinesRefused
from retail.auth import Principal, Role, authenticate, create_api_key
from tests.factories import committed_store, reserved_order


@dataclass(frozen=True)
class Collected:
    engine: Engine
    secret: str
    order_id: str


@pytest.fixture
def collected(engine: Engine) -> Iterator[Collected]:
    """Store R1 (A: 5), and an order of 2 A placed, reserved, picked and collected there, all committed;
    A is left at 3 on hand. Every table is emptied afterwards."""
    with committed_store(engine, "R1", {"A": 5}), Session(engine) as session:
        secret = create_api_key(session, role=Role.staff, store_code="R1", label="R1 desk")
        session.commit()
        order = reserved_order(engine, "R1", {"A": 2}, key="collected")
        principal = _principal(session, secret)
        staff.mark_ready(session, principal=principal, order_id=order.order_id)
        session.commit()
        issued = orders_service.pickup_of(order)
        assert issued is not None
        staff.confirm(session, principal=principal, code=issued.token, store_code=None)
        session.commit()
        yield Collected(engine, secret, order.order_id)


def _principal(session: Session, secret: str) -> Principal:
    principal = authenticate(session, secret)
    assert principal is not None
    return principal


def _stock(engine: Engine) -> tuple[int, int, int]:
    """(on_hand, reserved) of A at R1 and the number of return movements."""
    with engine.connect() as connection:
        on_hand, reserved = connection.execute(text("SELECT on_hand, reserved FROM stock")).one()
        movements = connection.execute(
            text("SELECT count(*) FROM stock_movement WHERE source = 'return'")
        ).scalar_one()
    return int(on_hand), int(reserved), int(movements)


def _returns(engine: Engine) -> int:
    with engine.connect() as connection:
        return int(connection.execute(text("SELECT count(*) FROM order_return")).scalar_one())


def _feed_to_the_end(
    client: TestClient, webshop: dict[str, str], cursor: str | None
) -> tuple[list[Any], str]:
    items: list[Any] = []
    for _ in range(20):
        params = {"limit": 100, **({"cursor": cursor} if cursor else {})}
        page = client.get("/sync/v1/availability", params=params, headers=webshop).json()
        cursor = page["next_cursor"]
        if not page["items"]:
            assert cursor is not None
            return items, cursor
        items += page["items"]
    raise AssertionError("the feed did not end")


@pytest.mark.parametrize("engine", ["postgresql", "sqlite"], indirect=True)
def test_the_feed_sees_a_restocked_return_and_nothing_of_a_written_off_one(
    collected: Collected, committed_client: TestClient, committed_key: Any
) -> None:
    client, webshop = committed_client, committed_key("webshop")
    counter = {"Authorization": f"Bearer {collected.secret}"}
    seen, cursor = _feed_to_the_end(client, webshop, None)
    assert [(i["sku"], i["on_hand"], i["reserved"]) for i in seen] == [("A", 3, 0)]

    url = f"/staff/v1/orders/{collected.order_id}/returns"
    written_off = {"lines": [{"sku": "A", "quantity": 1}], "restock": False, "reason": "kapot"}
    assert client.post(url, json=written_off, headers={**counter, "Idempotency-Key": "w"}).status_code == 200
    assert _feed_to_the_end(client, webshop, cursor) == ([], cursor)

    restocked = {"lines": [{"sku": "A", "quantity": 1}], "restock": True}
    assert client.post(url, json=restocked, headers={**counter, "Idempotency-Key": "r"}).status_code == 200
    later, _ = _feed_to_the_end(client, webshop, cursor)
    assert [(i["store_code"], i["sku"], i["on_hand"], i["reserved"], i["available"]) for i in later] == [
        ("R1", "A", 4, 0, 4)
    ]
    assert _stock(collected.engine) == (4, 0, 1)


def _at_once(count: int, act: Any) -> list[str]:
    """Run `act()` in `count` threads released together; answers their outcomes."""
    barrier = threading.Barrier(count)
    outcomes: list[str] = []

    def run() -> None:
        barrier.wait()
        outcomes.append(act())

    threads = [threading.Thread(target=run) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(outcomes) == count, "a clerk's request failed"
    return sorted(outcomes)


def _clerk(collected: Collected, body: dict[str, Any], key: str | None = None) -> Any:
    """A clerk sending this return in a transaction of its own; `key` None: a key of its own."""

    def act() -> str:
        with Session(collected.engine) as session:
            principal = _principal(session, collected.secret)
            try:
                order = returns.take_return(
                    session,
                    principal=principal,
                    order_id=collected.order_id,
                    return_in=ReturnIn.model_validate(body),
                    idempotency_key=key or f"clerk-{threading.get_ident()}",
                )
                [taken] = orders_service.order_record(session, order=order).returns
                session.commit()
                return taken.entry.return_id
            except ReturnLinesRefused as refused:
                session.rollback()
                return refused.code

    return act


@pytest.mark.parametrize("engine", ["postgresql"], indirect=True)
def test_one_key_sent_at_once_makes_one_return_and_changes_the_stock_once(collected: Collected) -> None:
    body = {"lines": [{"sku": "A", "quantity": 1}], "restock": True}
    outcomes = _at_once(6, _clerk(collected, body, key="double-tap"))
    assert len(set(outcomes)) == 1
    assert outcomes[0].startswith("ret_")
    assert _stock(collected.engine) == (4, 0, 1)
    assert _returns(collected.engine) == 1


@pytest.mark.parametrize("engine", ["postgresql"], indirect=True)
def test_returns_at_once_with_their_own_keys_never_give_back_more_than_was_collected(
    collected: Collected,
) -> None:
    body = {"lines": [{"sku": "A", "quantity": 2}], "restock": True}
    outcomes = _at_once(4, _clerk(collected, body))
    assert outcomes[:3] == ["more_than_collected"] * 3
    assert outcomes[3].startswith("ret_")
    assert _stock(collected.engine) == (5, 0, 1)
    assert _returns(collected.engine) == 1

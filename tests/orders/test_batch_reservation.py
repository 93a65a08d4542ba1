"""A reservation run that decides several pending orders of a store in one transaction (the task's batch),
and the batch form of the stock reservation beneath it."""

from __future__ import annotations

import threading
from collections import Counter

import pytest
from sqlalchemy import Engine, text
from sqlmodel import Session, col, select

from inventory import ledger as inventory_ledger
from inventory.models import Product
from orders import service as orders_service
from orders.models import Order, OrderEvent, OrderStatus
from retail.redis_client import redis_client
from stores.models import Store
from tests.factories import (
    apply_counts,
    committed_store,
    count_row,
    make_products,
    make_stores,
    place_order,
    product_row,
    stock_of,
    store_row,
)

BOTH_DATABASES = pytest.mark.parametrize("engine", ["postgresql", "sqlite"], indirect=True)


@pytest.fixture
def batch_stores(session: Session) -> Session:
    """The test's session with stores B1 and B2 open around the clock, X counted 5 at B1 and 9 at B2, Y 9
    at B1, and Z nowhere (no stock row at all)."""
    make_stores(session, [store_row(code, always_open=True) for code in ("B1", "B2")])
    make_products(session, [product_row(sku) for sku in "XYZ"])
    counts = [("B1", "X", 5), ("B1", "Y", 9), ("B2", "X", 9)]
    apply_counts(session, [count_row(store, sku, n) for store, sku, n in counts])
    return session


def _place(session: Session, basket: dict[str, int], *, key: str, store: str = "B1") -> Order:
    return place_order(session, store, basket, key=key)


def _status(session: Session, order: Order) -> str:
    session.expire_all()
    found = session.get(Order, order.id)
    assert found is not None
    return found.status


@BOTH_DATABASES
def test_one_run_decides_the_stores_pending_orders_each_all_or_nothing(batch_stores: Session) -> None:
    first = _place(batch_stores, {"X": 2, "Y": 1}, key="first")
    too_big = _place(batch_stores, {"Y": 1, "X": 4}, key="too-big")  # 3 X left after the first
    fits = _place(batch_stores, {"X": 3}, key="fits")
    no_stock_row = _place(batch_stores, {"Z": 1}, key="no-row")
    elsewhere = _place(batch_stores, {"X": 1}, key="elsewhere", store="B2")
    assert first.id is not None

    assert orders_service.reserve_order(batch_stores, order_pk=first.id, batch=10) == OrderStatus.reserved

    statuses = {o.order_id: _status(batch_stores, o) for o in (first, too_big, fits, no_stock_row, elsewhere)}
    assert statuses == {
        first.order_id: "reserved",
        too_big.order_id: "rejected",
        fits.order_id: "reserved",
        no_stock_row.order_id: "rejected",
        elsewhere.order_id: "pending",
    }
    assert (stock_of(batch_stores, "B1", "X").reserved, stock_of(batch_stores, "B1", "Y").reserved) == (5, 1)
    assert stock_of(batch_stores, "B2", "X").reserved == 0
    rejected = batch_stores.get(Order, too_big.id)
    assert rejected is not None
    assert rejected.problem is not None
    # What was left when its turn came, after the first order of the batch.
    assert rejected.problem["lines"] == [{"sku": "X", "requested": 4, "available": 3}]
    reserved = [batch_stores.get(Order, o.id) for o in (first, fits)]
    codes = {o.short_code_hash for o in reserved if o is not None}
    assert len(codes) == 2
    assert None not in codes
    assert all(o is not None and o.ready_by is not None for o in reserved)
    events = Counter(
        (e.order_pk, e.status)
        for e in batch_stores.exec(select(OrderEvent).where(col(OrderEvent.status) != OrderStatus.pending))
    )
    assert events == Counter(
        {
            (first.id, "reserved"): 1,
            (too_big.id, "rejected"): 1,
            (fits.id, "reserved"): 1,
            (no_stock_row.id, "rejected"): 1,
        }
    )

    # The later runs of those orders find them decided and change nothing.
    for order in (too_big, fits):
        assert order.id is not None
        assert orders_service.reserve_order(batch_stores, order_pk=order.id, batch=10) in (
            OrderStatus.rejected,
            OrderStatus.reserved,
        )
    assert stock_of(batch_stores, "B1", "X").reserved == 5


@BOTH_DATABASES
def test_a_batch_of_one_decides_only_its_own_order(batch_stores: Session) -> None:
    first = _place(batch_stores, {"X": 1}, key="one")
    second = _place(batch_stores, {"X": 1}, key="two")
    assert first.id is not None
    orders_service.reserve_order(batch_stores, order_pk=first.id)
    assert (_status(batch_stores, first), _status(batch_stores, second)) == ("reserved", "pending")


def test_reserve_baskets_takes_each_basket_whole_or_not_at_all(batch_stores: Session) -> None:
    ids = dict(batch_stores.execute(select(Product.sku, Product.id)).all())
    store = batch_stores.exec(select(Store).where(Store.code == "B1")).one()
    assert store.id is not None
    q = inventory_ledger.Quantity
    outcomes = inventory_ledger.reserve_baskets(
        batch_stores,
        store_id=store.id,
        baskets=[
            [q(ids["Y"], 9), q(ids["X"], 1)],
            [q(ids["Y"], 1)],  # nothing left of Y
            [q(ids["X"], 4)],
            [q(ids["X"], 1), q(ids["Z"], 1)],  # X fits, Z has no row: none of it
        ],
    )
    assert [o.reserved for o in outcomes] == [True, False, True, False]
    assert outcomes[1].available == {ids["Y"]: 0}
    assert outcomes[3].available == {ids["X"]: 0, ids["Z"]: 0}
    assert (stock_of(batch_stores, "B1", "X").reserved, stock_of(batch_stores, "B1", "Y").reserved) == (5, 9)


def test_a_batch_skips_orders_another_transaction_holds(pg_engine: Engine) -> None:
    with committed_store(pg_engine, "B9", {"X": 10}):
        first = place_order(pg_engine, "B9", {"X": 1}, key="batch-first")
        held = place_order(pg_engine, "B9", {"X": 1}, key="batch-held")
        assert first.id is not None
        first_pk = first.id
        with pg_engine.connect() as holder:
            holding = holder.begin()
            holder.execute(text('SELECT 1 FROM "order" WHERE id = :id FOR UPDATE'), {"id": held.id})
            done = threading.Event()

            def reserve_first() -> None:
                with Session(pg_engine) as session:
                    orders_service.reserve_order(session, order_pk=first_pk, batch=10)
                    session.commit()
                done.set()

            thread = threading.Thread(target=reserve_first)
            thread.start()
            thread.join(timeout=60)
            # It did not wait for the held order: it skipped it.
            assert done.is_set()
            holding.rollback()
        with Session(pg_engine) as session:
            assert (_status(session, first), _status(session, held)) == ("reserved", "pending")
            assert held.id is not None
            orders_service.reserve_order(session, order_pk=held.id, batch=10)
            session.commit()
            assert _status(session, held) == "reserved"
            assert stock_of(session, "B9", "X").reserved == 2


def test_one_queued_run_per_store_drains_every_order_batch_after_batch(
    pg_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    from orders import queueing
    from orders import tasks as orders_tasks

    sent: list[tuple[int, str | None]] = []
    monkeypatch.setattr(orders_tasks.reserve_order, "delay", lambda pk, mark=None: sent.append((pk, mark)))
    mark = queueing.QUEUED_MARK.format(store_code="B8")
    redis = redis_client()
    assert redis is not None
    redis.delete(mark)
    count = orders_tasks.RESERVE_BATCH * 2 + 5
    with committed_store(pg_engine, "B8", {"X": count - 1}):
        orders = [
            place_order(
                pg_engine,
                "B8",
                {"X": 1},
                key=f"drain-{i}",
                send=lambda pk: queueing.queue_reservation(pk, store_code="B8"),
            )
            for i in range(count)
        ]
        # The mark stood from the first order on: one run queued for all of them.
        assert sent == [(orders[0].id, mark)]

        assert orders_tasks.reserve_order.run(*sent[0]) == "reserved"
        assert not redis.exists(mark)
        with Session(pg_engine) as session:
            statuses = Counter(_status(session, o) for o in orders)
            assert statuses == Counter({"reserved": count - 1, "rejected": 1})
            assert stock_of(session, "B8", "X").reserved == count - 1
            # The last order found the shelf empty: the orders went oldest first.
            assert _status(session, orders[-1]) == "rejected"

        # The run cleared the mark: the next order queues a run of its own.
        later = place_order(
            pg_engine,
            "B8",
            {"X": 1},
            key="drain-later",
            send=lambda pk: queueing.queue_reservation(pk, store_code="B8"),
        )
        assert sent[-1] == (later.id, mark)
        redis.delete(mark)


def test_a_run_that_could_not_be_sent_leaves_no_mark_behind(monkeypatch: pytest.MonkeyPatch) -> None:
    from orders import queueing
    from orders import tasks as orders_tasks

    def broker_down(*_args: object) -> None:
        raise ConnectionError("broker down")

    monkeypatch.setattr(orders_tasks.reserve_order, "delay", broker_down)
    mark = queueing.QUEUED_MARK.format(store_code="B7")
    redis = redis_client()
    assert redis is not None
    redis.delete(mark)
    queueing.queue_reservation(1, store_code="B7")  # logged, not raised: the sweep sends it again
    assert not redis.exists(mark)

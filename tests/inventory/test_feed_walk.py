"""A full walk of the availability feed, page by page, on both engines: every row exactly once and in the
feed's order (writer, store, product) across pages, log buckets and writers, and a row changed during
the walk served in its latest state after the rows of older writers (API.md, webshop sync)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, text
from sqlmodel import Session

from inventory import feed_log as inventory_feed_log
from inventory import service as inventory_service
from tests.factories import apply_counts, committed_catalogue, count_row

SKUS = [f"W{i:02d}" for i in range(14)]
COUNTED = "2026-11-23T08:00:00+01:00"
RECOUNTED = "2026-11-23T09:00:00+01:00"
BUCKET = 4  # product ids a log row covers here: each store's 14 rows lie in four or five buckets

Item = tuple[str, str, int]  # store code, sku, on hand: what a page serves of a row


@pytest.fixture
def walk_catalogue(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> Iterator[Engine]:
    """The database under test with stores S1 and S2 and the products of `SKUS`, committed, without
    stock, and log buckets of `BUCKET` product ids."""
    monkeypatch.setattr(inventory_feed_log, "FEED_BUCKET", BUCKET)
    with committed_catalogue(engine, SKUS) as committed:
        yield committed


def _count(engine: Engine, store: str, skus: list[str], *, at: str = COUNTED, base: int = 0) -> None:
    """One snapshot (one writer) of `skus` at `store`, each with its own count."""
    with Session(engine) as session:
        rows = [count_row(store, sku, base + index, as_of=at) for index, sku in enumerate(skus)]
        assert apply_counts(session, rows).applied == len(skus)
        session.commit()


def _feed_order(engine: Engine) -> list[Item]:
    """Every stock row as the feed must serve it from no cursor: by the writer that stamped it, then by
    store and product id."""
    with engine.connect() as connection:
        return [
            (r.code, r.sku, r.on_hand)
            for r in connection.execute(
                text(
                    "SELECT st.code, p.sku, s.on_hand FROM stock s JOIN store st ON st.id = s.store_id "
                    "JOIN product p ON p.id = s.product_id ORDER BY s.feed_xid, s.store_id, s.product_id"
                )
            )
        ]


def _walk(
    engine: Engine, cursor: str | None, *, limit: int, pages: int | None = None
) -> tuple[list[Item], str]:
    """Follow the feed from `cursor`, each page in a transaction of its own as a request has, for
    `pages` pages or until one is empty: the items in the order served, and the last cursor."""
    served: list[Item] = []
    for _ in range(pages or 1000):
        with Session(engine) as session:
            page = inventory_service.availability_feed(session, cursor=cursor, limit=limit)
        assert page.next_cursor
        cursor = page.next_cursor
        if not page.items:
            return served, cursor
        assert len(page.items) <= limit
        served += [(item.store_code, item.sku, item.on_hand) for item in page.items]
    if pages is None:
        raise AssertionError("the feed did not end")
    assert cursor is not None
    return served, cursor


@pytest.mark.parametrize("engine", ["postgresql", "sqlite"], indirect=True)
@pytest.mark.parametrize("limit", [1, 3, 5, 40])
def test_a_walk_serves_every_row_once_in_the_feeds_order(walk_catalogue: Engine, limit: int) -> None:
    engine = walk_catalogue
    _count(engine, "S1", SKUS)  # one writer: fourteen rows tied on the first key, over several buckets
    _count(engine, "S2", SKUS[::-1], base=100)  # counted in another order: served in product order still
    _count(engine, "S1", SKUS[5:8], at=RECOUNTED, base=50)  # holes in the first writer's buckets
    expected = _feed_order(engine)
    assert len(expected) == 28
    assert [store for store, _, _ in expected] == ["S1"] * 11 + ["S2"] * 14 + ["S1"] * 3

    served, cursor = _walk(engine, None, limit=limit)
    assert served == expected
    assert _walk(engine, cursor, limit=limit) == ([], cursor)  # nothing changed since: nothing more


@pytest.mark.parametrize("engine", ["postgresql", "sqlite"], indirect=True)
def test_a_row_changed_during_a_walk_comes_again_in_its_latest_state_after_the_older_writers(
    walk_catalogue: Engine,
) -> None:
    engine = walk_catalogue
    _count(engine, "S1", SKUS)
    _count(engine, "S2", SKUS, base=100)
    before = _feed_order(engine)
    first, cursor = _walk(engine, None, limit=3, pages=3)
    assert first == before[:9]

    # A row the walk has served and one it has not reached yet change in one more writer.
    (served_store, served_sku, _), (ahead_store, ahead_sku, _) = before[4], before[20]
    with Session(engine) as session:
        moves = [(served_store, served_sku, -2), (ahead_store, ahead_sku, 5)]
        rows: list[dict[str, object]] = [
            {"movement_id": f"m-{sku}", "store_code": store, "sku": sku, "delta": delta, "at": RECOUNTED}
            for store, sku, delta in moves
        ]
        assert inventory_service.record_movements(session, rows=rows).applied == 2
        session.commit()

    rest, cursor = _walk(engine, cursor, limit=3)
    changed = [
        (served_store, served_sku, before[4][2] - 2),
        (ahead_store, ahead_sku, before[20][2] + 5),
    ]
    # The row ahead is not served in its old state, only in its new one; the row served already comes
    # once more: both after every row of the older writers, in (store, product) order.
    assert rest == [row for row in before[9:] if row != before[20]] + changed
    assert _feed_order(engine)[-2:] == changed
    # From no cursor, each row once, in its latest state.
    everything, _ = _walk(engine, None, limit=4)
    assert everything == _feed_order(engine)
    assert len(everything) == len(SKUS) * 2

"""The availability feed's `in_transit` (API.md, "Every store a distribution point"): the units shipped to a
store by transfer and not yet received, at the pickup store's item, over HTTP with real commits."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import Session, select

from orders.models import Transfer
from tests.factories import committed_lanes, reserved_order

KeyFactory = Callable[..., dict[str, str]]
BOTH_DATABASES = pytest.mark.parametrize("engine", ["postgresql", "sqlite"], indirect=True)
Item = tuple[int, int, int, int]  # on_hand, reserved, available, in_transit


def _poll(
    client: TestClient, key: dict[str, str], cursor: str | None
) -> tuple[dict[tuple[str, str], Item], str]:
    """Every item changed since `cursor`, in its latest state, and the cursor to poll again with."""
    seen: dict[tuple[str, str], Item] = {}
    while True:
        params: dict[str, Any] = {} if cursor is None else {"cursor": cursor}
        page = client.get("/sync/v1/availability", params=params, headers=key).json()
        cursor = page["next_cursor"]
        if not page["items"]:
            assert cursor is not None
            return seen, cursor
        for i in page["items"]:
            seen[(i["store_code"], i["sku"])] = (i["on_hand"], i["reserved"], i["available"], i["in_transit"])


@BOTH_DATABASES
def test_the_pickup_stores_item_shows_the_shipped_units_in_transit_until_received(
    committed_client: TestClient, committed_key: KeyFactory, engine: Engine
) -> None:
    client, webshop = committed_client, committed_key("webshop")
    # F1 lacks MOLEN; F2 holds 4 and ships to F1. An order of 2 at F1, reserved at F2.
    with committed_lanes(engine, {"F1": {"THEE": 5}, "F2": {"MOLEN": 4}}, lanes=[("F2", "F1")]):
        order = reserved_order(engine, "F1", {"MOLEN": 2}, key="feed-transfer", allow_transfer=True)
        with Session(engine) as session:
            tid = session.exec(select(Transfer.transfer_id).where(Transfer.order_pk == order.id)).one()
        seen, cursor = _poll(client, webshop, None)
        assert seen[("F2", "MOLEN")] == (4, 2, 2, 0)
        assert ("F1", "MOLEN") not in seen  # F1 never stocked it

        shipped = client.post(f"/staff/v1/transfers/{tid}/ship", headers=committed_key("staff", "F2"))
        assert shipped.status_code == 200, shipped.text
        seen, cursor = _poll(client, webshop, cursor)
        assert seen == {("F1", "MOLEN"): (0, 0, 0, 2), ("F2", "MOLEN"): (2, 0, 2, 0)}

        received = client.post(f"/staff/v1/transfers/{tid}/receive", headers=committed_key("staff", "F1"))
        assert received.status_code == 200, received.text
        seen, cursor = _poll(client, webshop, cursor)
        assert seen == {("F1", "MOLEN"): (2, 2, 0, 0)}  # arrived, held for the order

"""The service report (`GET /admin/v1/reports/service`): every figure against orders the test writes with
exact instants, the day boundaries in each store's zone, `group=store`, the CSV form, the keys' scope and
the refused parameters, on PostgreSQL and SQLite; and the real flow (reserve, pick short, hand over)
stamping what the report reads."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from inventory import service as inventory_service
from orders.models import Order, OrderEvent, OrderLine, OrderStatus
from orders.report import check_range, stamp_from_history, utc_bounds
from retail.clock import as_aware_utc
from retail.dialect import continuous_percentile
from retail.errors import InvalidInput
from stores import service as stores_service
from tests.factories import make_product, make_store, order_body, post_order
from tests.orders.report_orders import report_order

KeyFactory = Callable[..., dict[str, str]]
BOTH_DATABASES = pytest.mark.parametrize("engine", ["postgresql", "sqlite"], indirect=True)
URL = "/admin/v1/reports/service"
MIN = timedelta(minutes=1)


# ---------------------------------------------------------------------------------- the rules, pure


def test_percentiles_interpolate_between_the_nearest_values_as_percentile_cont_does() -> None:
    assert continuous_percentile([], 0.5) is None
    assert continuous_percentile([30.0], 0.9) == 30.0
    assert continuous_percentile([70.0, 20.0, 40.0], 0.5) == 40.0
    assert continuous_percentile([20.0, 40.0, 70.0], 0.9) == pytest.approx(64.0)
    assert continuous_percentile([20.0, 30.0, 40.0, 70.0], 0.5) == 35.0


def test_a_range_is_from_before_to_at_most_366_days() -> None:
    check_range(date(2026, 1, 1), date(2026, 1, 1))
    check_range(date(2024, 1, 1), date(2024, 12, 31))  # a leap year: 366 days
    check_range(date(2026, 1, 1), date(2026, 1, 31), chain_by_day=True)
    with pytest.raises(InvalidInput):
        check_range(date(2026, 1, 1), date(2026, 2, 1), chain_by_day=True)
    for start, end, field in [
        (date(2026, 1, 2), date(2026, 1, 1), "query.from"),
        (date(2025, 1, 1), date(2026, 1, 2), "query.to"),
        (date(1999, 12, 31), date(2000, 1, 1), "query.from"),
    ]:
        with pytest.raises(InvalidInput) as refused:
            check_range(start, end)
        assert refused.value.extra["errors"][0]["field"] == field


def test_the_bounds_of_local_days_are_exact_in_the_zone() -> None:
    day = date(2026, 3, 29)  # Amsterdam moves to summer time that night
    assert utc_bounds(day, day, "Europe/Amsterdam") == (
        datetime(2026, 3, 28, 23, 0, tzinfo=UTC),
        datetime(2026, 3, 29, 22, 0, tzinfo=UTC),
    )
    assert utc_bounds(day, day, "America/New_York") == (
        datetime(2026, 3, 29, 4, 0, tzinfo=UTC),
        datetime(2026, 3, 30, 4, 0, tzinfo=UTC),
    )


# ------------------------------------------------------------------------------- orders of the test


@pytest.fixture
def chain(session: Session) -> None:
    """AMS (Europe/Amsterdam, UTC+1 in November) and NYC (America/New_York, UTC-5), with orders around
    the edges of 23 and 24 November 2026 in their own zones."""
    make_store(session, "AMS", timezone="Europe/Amsterdam")
    make_store(session, "NYC", timezone="America/New_York")
    s = OrderStatus
    # 23 November in Amsterdam: from 22 Nov 23:00 UTC to 23 Nov 23:00 UTC.
    report_order(session, "AMS", "a1", datetime(2026, 11, 22, 23, 30, tzinfo=UTC), s.collected,
           ready_after=20, collected_after=15, arrived_before_collection=4)  # fmt: skip
    report_order(session, "AMS", "a2", datetime(2026, 11, 23, 10, 0, tzinfo=UTC), s.expired, ready_after=40)
    report_order(session, "AMS", "a3", datetime(2026, 11, 23, 11, 0, tzinfo=UTC), s.collected, ready_after=70,
           collected_after=60, arrived_before_collection=8, short_picked=True, returns=2)  # fmt: skip
    report_order(session, "AMS", "a4", datetime(2026, 11, 23, 12, 0, tzinfo=UTC), s.rejected)
    report_order(session, "AMS", "a5", datetime(2026, 11, 23, 22, 59, tzinfo=UTC), s.reserved)  # 23:59 local
    # 24 November in Amsterdam from its first minute; collected without a check-in.
    report_order(session, "AMS", "a6", datetime(2026, 11, 23, 23, 0, tzinfo=UTC), s.collected,
           ready_after=30, collected_after=5)  # fmt: skip
    # 22 November in Amsterdam, the last minute: outside the range.
    report_order(session, "AMS", "a7", datetime(2026, 11, 22, 22, 59, tzinfo=UTC), s.collected, ready_after=5)
    # 22:00 on 23 November in New York, though 24 November in UTC.
    report_order(session, "NYC", "n1", datetime(2026, 11, 24, 3, 0, tzinfo=UTC), s.collected,
           ready_after=15, collected_after=30)  # fmt: skip
    # 25 November in New York (05:00 UTC on the 25th is midnight there): outside the range.
    report_order(session, "NYC", "n2", datetime(2026, 11, 25, 5, 0, tzinfo=UTC), s.rejected)
    session.commit()


def _item(store: str, day: str | None, **figures: Any) -> dict[str, Any]:
    none = {
        "orders": 0,
        "rejected": 0,
        "short_picked": 0,
        "ready_on_time_pct": None,
        "minutes_to_ready_p50": None,
        "minutes_to_ready_p90": None,
        "expired_pct": None,
        "handover_minutes_p50": None,
        "returns": 0,
    }
    return {"store_code": store, "day": day, **none, **figures}


AMS_23 = _item("AMS", "2026-11-23", orders=5, rejected=1, short_picked=1, ready_on_time_pct=66.7,
               minutes_to_ready_p50=40.0, minutes_to_ready_p90=64.0, expired_pct=33.3,
               handover_minutes_p50=6.0, returns=2)  # fmt: skip
AMS_24 = _item("AMS", "2026-11-24", orders=1, ready_on_time_pct=100.0, minutes_to_ready_p50=30.0,
               minutes_to_ready_p90=30.0, expired_pct=0.0)  # fmt: skip
NYC_23 = _item("NYC", "2026-11-23", orders=1, ready_on_time_pct=100.0, minutes_to_ready_p50=15.0,
               minutes_to_ready_p90=15.0, expired_pct=0.0)  # fmt: skip
AMS_RANGE = _item("AMS", None, orders=6, rejected=1, short_picked=1, ready_on_time_pct=75.0,
                  minutes_to_ready_p50=35.0, minutes_to_ready_p90=61.0, expired_pct=25.0,
                  handover_minutes_p50=6.0, returns=2)  # fmt: skip
NYC_RANGE = {**NYC_23, "day": None}
RANGE = {"from": "2026-11-23", "to": "2026-11-24"}


# ---------------------------------------------------------------------------------------- the report


@BOTH_DATABASES
def test_each_figure_per_store_and_day_in_the_stores_own_zone(
    client: TestClient, chain: None, make_key: KeyFactory
) -> None:
    answer = client.get(URL, params=RANGE, headers=make_key("admin"))
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"items": [AMS_23, AMS_24, NYC_23]}
    one_day = client.get(URL, params={"from": "2026-11-24", "to": "2026-11-24"}, headers=make_key("admin"))
    assert one_day.json() == {"items": [AMS_24]}


@BOTH_DATABASES
def test_grouped_by_store_each_figure_covers_the_whole_range(
    client: TestClient, chain: None, make_key: KeyFactory
) -> None:
    answer = client.get(URL, params={**RANGE, "group": "store"}, headers=make_key("admin"))
    assert answer.json() == {"items": [AMS_RANGE, NYC_RANGE]}


@BOTH_DATABASES
def test_the_csv_form_holds_the_same_items(client: TestClient, chain: None, make_key: KeyFactory) -> None:
    answer = client.get(
        URL, params={**RANGE, "group": "store"}, headers={**make_key("admin"), "Accept": "text/csv"}
    )
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "text/csv; charset=utf-8"
    assert answer.text.splitlines() == [
        "store_code,day,orders,rejected,short_picked,ready_on_time_pct,minutes_to_ready_p50,"
        "minutes_to_ready_p90,expired_pct,handover_minutes_p50,returns",
        "AMS,,6,1,1,75.0,35.0,61.0,25.0,6.0,2",
        "NYC,,1,0,0,100.0,15.0,15.0,0.0,,0",
    ]
    by_day = client.get(URL, params=RANGE, headers={**make_key("admin"), "Accept": "text/csv"})
    rows = list(csv.DictReader(io.StringIO(by_day.text)))
    assert [(r["store_code"], r["day"], r["orders"]) for r in rows] == [
        ("AMS", "2026-11-23", "5"),
        ("AMS", "2026-11-24", "1"),
        ("NYC", "2026-11-23", "1"),
    ]


@BOTH_DATABASES
def test_a_staff_key_reports_on_its_own_store_only(
    client: TestClient, chain: None, make_key: KeyFactory
) -> None:
    ams = make_key("staff", store_code="AMS")
    assert client.get(URL, params=RANGE, headers=ams).json() == {"items": [AMS_23, AMS_24]}
    assert client.get(URL, params={**RANGE, "store": "AMS"}, headers=ams).json() == {
        "items": [AMS_23, AMS_24]
    }
    refused = client.get(URL, params={**RANGE, "store": "NYC"}, headers=ams)
    assert refused.status_code == 403
    assert refused.json()["code"] == "wrong_store"
    assert "NYC" not in refused.text.replace("store NYC", "")  # no figure of NYC's in the refusal
    admin = make_key("admin")
    assert client.get(URL, params={**RANGE, "store": "NYC"}, headers=admin).json() == {"items": [NYC_23]}
    assert client.get(URL, params=RANGE).status_code == 401
    assert client.get(URL, params=RANGE, headers=make_key("webshop")).status_code == 403


@BOTH_DATABASES
@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"from": "2026-11-24", "to": "2026-11-23"}, "query.from"),
        ({"from": "2025-11-23", "to": "2026-11-24"}, "query.to"),
        ({"from": "23-11-2026", "to": "2026-11-24"}, "query.from"),
        ({"from": "2026-11-23", "to": "2026-11-31"}, "query.to"),
        ({**RANGE, "group": "week"}, "query.group"),
        ({**RANGE, "store": "S" * 33}, "query.store"),
        ({"from": "2026-11-01", "to": "2026-12-02"}, "query.to"),  # the chain by day: 31 days at most
    ],
)
def test_bad_parameters_are_refused_naming_the_field(
    client: TestClient, chain: None, make_key: KeyFactory, params: dict[str, str], field: str
) -> None:
    answer = client.get(URL, params=params, headers=make_key("admin"))
    assert answer.status_code == 422, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    assert [e["field"] for e in answer.json()["errors"]] == [field]


@BOTH_DATABASES
def test_an_unknown_store_is_404_and_a_range_without_orders_is_empty(
    client: TestClient, chain: None, make_key: KeyFactory
) -> None:
    admin = make_key("admin")
    assert client.get(URL, params={**RANGE, "store": "NOPE"}, headers=admin).status_code == 404
    empty = client.get(URL, params={"from": "2025-01-01", "to": "2025-01-31"}, headers=admin)
    assert empty.json() == {"items": []}
    # A year of one store, or of every store grouped by store, is answered.
    year = {"from": "2025-11-25", "to": "2026-11-24"}
    of_ams = client.get(URL, params={**year, "store": "AMS"}, headers=admin).json()["items"]
    assert [i["day"] for i in of_ams] == ["2026-11-22", "2026-11-23", "2026-11-24"]  # a7 too
    assert of_ams[1:] == [AMS_23, AMS_24]
    by_store = client.get(URL, params={**year, "group": "store"}, headers=admin).json()
    assert [i["store_code"] for i in by_store["items"]] == ["AMS", "NYC"]


# ------------------------------------------------------------------------------------ the real flow


@BOTH_DATABASES
def test_the_lifecycle_stamps_what_the_report_reads(
    client: TestClient, session: Session, open_stores: None, make_key: KeyFactory
) -> None:
    staff = make_key("staff", store_code="S1")
    accepted = post_order(client, order_body("S1", {"KOFFIE": 2, "THEE": 1}), key="k1").json()
    order_id = accepted["order_id"]
    short = {"lines": [{"sku": "KOFFIE", "picked": 1}]}
    ready = client.post(f"/staff/v1/orders/{order_id}/ready", json=short, headers=staff)
    assert ready.json()["status"] == "ready_for_pickup", ready.text
    confirmed = client.post(
        "/staff/v1/pickups/confirm", json={"code": ready.json()["pickup"]["code"]}, headers=staff
    )
    assert confirmed.status_code == 200, confirmed.text
    rejected = post_order(client, order_body("S1", {"KOFFIE": 50}), key="k2").json()

    order = session.exec(select(Order).where(Order.order_id == order_id)).one()  # placed today
    session.refresh(order)
    at = {
        e.status: as_aware_utc(e.at)
        for e in session.exec(
            select(OrderEvent).where(OrderEvent.order_pk == order.id).order_by(col(OrderEvent.id))
        )
    }
    assert order.reserved_at is not None
    assert order.ready_at is not None
    assert order.collected_at is not None
    assert (
        as_aware_utc(order.reserved_at),
        as_aware_utc(order.ready_at),
        as_aware_utc(order.collected_at),
    ) == (
        at[OrderStatus.reserved],
        at[OrderStatus.ready_for_pickup],
        at[OrderStatus.collected],
    )
    assert order.promised_ready_by == order.ready_by
    assert order.short_picked is True
    other = session.exec(select(Order).where(Order.order_id == rejected["order_id"])).one()
    session.refresh(other)
    assert (other.status, other.reserved_at, other.short_picked) == ("rejected", None, False)

    items = client.get(URL, params={"store": "S1"}, headers=staff).json()["items"]
    assert [
        (i["store_code"], i["orders"], i["rejected"], i["short_picked"], i["expired_pct"]) for i in items
    ] == [("S1", 2, 1, 1, 0.0)]


@BOTH_DATABASES
def test_orders_written_without_the_lifecycle_are_stamped_from_their_history(session: Session) -> None:
    make_store(session, "AMS", timezone="Europe/Amsterdam")
    make_product(session, "KOFFIE")
    product = inventory_service.products_by_sku(session, skus=["KOFFIE"])["KOFFIE"]
    assert product.id is not None
    store = stores_service.get_store(session, code="AMS")
    assert store.id is not None
    placed = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    orders = []
    for name, status in (("hist-collected", OrderStatus.collected), ("hist-pending", OrderStatus.pending)):
        order = Order(order_id=name, store_id=store.id, store_snapshot={"code": "AMS"}, status=status,
                      customer_name="S", customer_email="s@example.nl", total=Decimal("1.00"),
                      ready_by=placed + timedelta(hours=1), created_at=placed, updated_at=placed)  # fmt: skip
        session.add(order)
        session.flush()
        assert order.id is not None
        orders.append(order)
    collected, pending = orders
    assert collected.id is not None
    assert pending.id is not None
    session.add(OrderLine(order_pk=collected.id, product_id=product.id, sku="KOFFIE", name="K", quantity=2,
                          unit_price=Decimal("1.00"), picked=1, collected=1))  # fmt: skip
    history = [(OrderStatus.pending, 0), (OrderStatus.reserved, 1), (OrderStatus.ready_for_pickup, 30),
               (OrderStatus.collected, 90)]  # fmt: skip
    for status, minutes in history:
        session.add(OrderEvent(order_pk=collected.id, status=status, at=placed + timedelta(minutes=minutes)))
    session.add(OrderEvent(order_pk=pending.id, status=OrderStatus.pending, at=placed))
    session.flush()

    stamp_from_history(session, order_pks=[collected.id, pending.id])
    session.expire_all()
    stamps = (collected.reserved_at, collected.ready_at, collected.collected_at)
    assert [None if t is None else as_aware_utc(t) for t in stamps] == [
        placed + timedelta(minutes=minutes) for minutes in (1, 30, 90)
    ]
    assert collected.promised_ready_by is not None
    assert as_aware_utc(collected.promised_ready_by) == placed + timedelta(hours=1)
    assert collected.short_picked is True
    assert (pending.reserved_at, pending.ready_at, pending.short_picked) == (None, None, False)

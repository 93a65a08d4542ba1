"""Three weeks of the demo chain's past orders, so that what Winkelpunt measures from history (the service
report and `/manager/`, each store's short-picked share behind the stock confidence) shows real figures
on the first run. The same on every load of the same day: a seeded generator, ids named after store, day
and number, so loading again adds only the days since.

Each store has a pace of its own (its median minutes from reserved to ready) and a few stores find their
shelves short far more often than the rest, so the charts and the confidence differ from store to store.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlmodel import Session

from inventory import service as inventory_service
from orders import service as orders_service
from orders.models import OrderStatus
from stores import service as stores_service

DAYS = 21
PRODUCTS = 60  # the catalogue's first products, the ones the history's baskets are made of
NAMES = ("Sanne de Vries", "Emma Peeters", "Lars Jansen", "Noor Bakker", "Thijs Maes", "Lotte Claes")


def demo_history(session: Session, *, store_codes: Sequence[str], skus: Sequence[str], today: date) -> int:
    """Write the demo's finished orders of the `DAYS` days before `today`; answers how many are new."""
    products = inventory_service.products_by_sku(session, skus=list(skus[:PRODUCTS]))
    catalogue = [products[sku] for sku in skus[:PRODUCTS] if sku in products]
    now = datetime.now(ZoneInfo("UTC"))
    orders: list[orders_service.PastOrder] = []
    for index, code in enumerate(store_codes):
        store = stores_service.get_store(session, code=code)
        assert store.id is not None
        rng = random.Random(f"{code}:{today.isoformat()}")
        pace = rng.uniform(20, 80)  # this store's median opening minutes to ready
        schedule = stores_service.schedule_of(store)
        short_share = 0.35 if index % 23 == 7 else 0.04
        zone = ZoneInfo(store.timezone)
        snapshot = {
            "code": store.code,
            "name": store.name,
            "address": {
                "street": store.street,
                "postcode": store.postcode,
                "city": store.city,
                "country": store.country,
            },
        }
        for back in range(DAYS, 0, -1):
            day = today - timedelta(days=back)
            if day.weekday() == 6:  # most demo shops are closed on Sundays
                continue
            for number in range(rng.randint(1, 4)):
                # Placed in the day's first six opening hours and picked in opening time, as shoppers and
                # clerks do: the measured pick time (orders/store_figures.py) counts opening minutes, and
                # a night shop's orders placed by wall clock would be picked while it is closed.
                opens = datetime.combine(day, time(0, 0), zone)
                placed = stores_service.open_time_after(
                    schedule, start=opens, duration=timedelta(minutes=rng.randint(1, 360))
                )
                pick = timedelta(minutes=max(5.0, rng.lognormvariate(0, 0.45) * pace))
                if placed is None:
                    continue
                reserved = placed + timedelta(minutes=1)
                picked_at = stores_service.open_time_after(schedule, start=reserved, duration=pick)
                if picked_at is None or picked_at >= now:
                    continue
                lines = []
                for product in rng.sample(catalogue, k=rng.randint(1, 3)):
                    assert product.id is not None
                    quantity = rng.randint(1, 2)
                    lines.append(
                        orders_service.PastLine(
                            product_id=product.id,
                            sku=product.sku,
                            name=product.name,
                            quantity=quantity,
                            unit_price=Decimal(product.store_price),
                            picked=quantity,
                        )
                    )
                events: list[tuple[OrderStatus, datetime]] = [
                    (OrderStatus.pending, placed),
                    (OrderStatus.reserved, reserved),
                ]
                fate = rng.random()
                if fate < 0.03:  # nothing of it on the shelf
                    lines = [_short(line, line.quantity) for line in lines]
                    events.append((OrderStatus.rejected, picked_at))
                else:
                    if rng.random() < short_share:
                        lines[0] = _short(lines[0], 1)
                    events.append((OrderStatus.ready_for_pickup, picked_at))
                    expired = picked_at + timedelta(hours=store.hold_hours)
                    if fate < 0.10 and expired < now:
                        events.append((OrderStatus.expired, expired))
                    else:
                        collected = picked_at + timedelta(minutes=rng.randint(20, 36 * 60))
                        events.append((OrderStatus.collected, min(collected, now - timedelta(minutes=1))))
                orders.append(
                    orders_service.PastOrder(
                        order_id=f"ord_demo_{code}_{day:%Y%m%d}_{number}",
                        store_id=store.id,
                        store_snapshot=snapshot,
                        customer_name=rng.choice(NAMES),
                        customer_email="klant@example.nl",
                        locale="nl",
                        lines=lines,
                        events=events,
                        ready_by=reserved + timedelta(minutes=store.pick_minutes),
                    )
                )
    return orders_service.import_history(session, orders=orders)


def _short(line: orders_service.PastLine, missing: int) -> orders_service.PastLine:
    return orders_service.PastLine(
        product_id=line.product_id,
        sku=line.sku,
        name=line.name,
        quantity=line.quantity,
        unit_price=line.unit_price,
        picked=max(0, line.quantity - missing),
    )

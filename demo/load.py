"""Loading the demo chain into the database through the domains' services, as the admin API and the
webshop sync would: stores, warehouses and the lanes between them, products, store prices, a stock count of
every pair, three weeks of past orders, and the demo keys."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import chain
from typing import Final

from sqlmodel import Session

from demo.catalogue import demo_products
from demo.history import demo_history
from demo.keys import ensure_demo_keys
from demo.stock import demo_stock
from demo.store_prices import demo_store_prices
from demo.stores import demo_store_rows, staff_store
from demo.warehouses import demo_lanes, demo_warehouse_rows, demo_warehouse_stock
from inventory import service as inventory_service
from orders import service as orders_service
from retail.clock import utcnow
from stores import service as stores_service

# A fixed count time: loading the demo again finds these counts stale and keeps what orders and movements
# have done since.
DEMO_STOCK_AS_OF: Final = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)


@dataclass(frozen=True)
class DemoLoaded:
    stores: int
    warehouses: int
    lanes: int
    products: int
    store_prices: int
    stock_rows: int  # applied or found stale
    past_orders: int  # orders of the last three weeks written by this load (demo/history.py)
    keys: dict[str, str]  # the demo API keys' secrets, by name


def load_demo(session: Session, *, secret: str) -> DemoLoaded:
    """Upsert the demo chain and make its keys live (`secret`: the service's secret key)."""
    rows = demo_store_rows()
    store_codes = [row["code"] for row in rows]
    stores = stores_service.upsert_stores(session, rows=rows)
    warehouses = stores_service.upsert_stores(session, rows=demo_warehouse_rows())
    lanes = stores_service.upsert_lanes(session, rows=demo_lanes(rows))
    catalogue = inventory_service.upsert_products(session, rows=demo_products())
    prices = inventory_service.upsert_store_prices(session, rows=demo_store_prices(store_codes))
    counts = chain(
        demo_stock(store_codes, as_of=DEMO_STOCK_AS_OF), demo_warehouse_stock(as_of=DEMO_STOCK_AS_OF)
    )
    stock = inventory_service.apply_snapshots(session, rows=enumerate(counts))
    problems = (
        stores.errors + warehouses.errors + lanes.errors + catalogue.errors + prices.errors + stock.errors
    )
    if problems:
        raise RuntimeError(f"the demo data has invalid rows: {problems[:3]}")
    products = [row["sku"] for row in demo_products()]
    now = utcnow()
    past = demo_history(session, store_codes=store_codes, skus=products, today=now.date())
    orders_service.refresh_store_figures(session, now=now)
    staff = staff_store() if staff_store() in store_codes else store_codes[0]
    return DemoLoaded(
        stores=stores.applied,
        warehouses=warehouses.applied,
        lanes=lanes.applied,
        products=catalogue.applied,
        store_prices=prices.applied,
        stock_rows=stock.applied + stock.stale,
        past_orders=past,
        keys=ensure_demo_keys(session, secret=secret, staff_store=staff),
    )

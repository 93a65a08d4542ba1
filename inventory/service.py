"""What other domains (orders, the shopper surface) and the command line ask of the catalogue and stock.

A face, and only that: each name is defined in the module of its concern, and other domains import this
one (`from inventory import service as inventory_service`), so inventory can move its insides without
them noticing. Services take the session first and keyword-only arguments, may flush, and never commit.

- the catalogue and its prices: `inventory.catalogue`; product search: `inventory.search`
- stock and offers at stores and online: `inventory.availability`
- the webshop's stock sync (counts and movements): `inventory.sync`
- the availability feed: `inventory.feed`
- the order flow's reservations: `inventory.ledger`, across two stores `inventory.transfer_ledger`;
  keeping `reserved` right: `inventory.reconciliation`
"""

from __future__ import annotations

from inventory import search
from inventory.alerts import AlertView as AlertView
from inventory.alerts import FiredAlert as FiredAlert
from inventory.alerts import alert_token as alert_token
from inventory.alerts import cancel_alert as cancel_alert
from inventory.alerts import create_alert as create_alert
from inventory.alerts import get_alert as get_alert
from inventory.alerts import take_fired_alerts as take_fired_alerts
from inventory.availability import NO_STOCK as NO_STOCK
from inventory.availability import ONLINE_LOW_STOCK_THRESHOLD as ONLINE_LOW_STOCK_THRESHOLD
from inventory.availability import ShownStock as ShownStock
from inventory.availability import StockLevel as StockLevel
from inventory.availability import StoreOffer as StoreOffer
from inventory.availability import cheapest_offer as cheapest_offer
from inventory.availability import online_availability as online_availability
from inventory.availability import shown_stock as shown_stock
from inventory.availability import stock_levels as stock_levels
from inventory.availability import store_offers as store_offers
from inventory.cards import ProductCard as ProductCard
from inventory.catalogue import PricedProduct as PricedProduct
from inventory.catalogue import get_product as get_product
from inventory.catalogue import priced_beside as priced_beside
from inventory.catalogue import priced_in as priced_in
from inventory.catalogue import products_by_sku as products_by_sku
from inventory.catalogue import upsert_products as upsert_products
from inventory.catalogue import upsert_store_prices as upsert_store_prices
from inventory.feed import availability_feed as availability_feed
from inventory.ledger import BasketOutcome as BasketOutcome
from inventory.ledger import Quantity as Quantity
from inventory.ledger import collect as collect
from inventory.ledger import release as release
from inventory.ledger import reserve_baskets as reserve_baskets
from inventory.ledger import restock as restock
from inventory.ledger import short_pick as short_pick
from inventory.reconciliation import HeldUnits as HeldUnits
from inventory.reconciliation import ReservedDrift as ReservedDrift
from inventory.reconciliation import repair_reserved as repair_reserved
from inventory.reconciliation import reserved_drift as reserved_drift
from inventory.sync import apply_snapshot_csv as apply_snapshot_csv
from inventory.sync import apply_snapshots as apply_snapshots
from inventory.sync import record_movements as record_movements
from inventory.transfer_ledger import SourcedBasket as SourcedBasket
from inventory.transfer_ledger import SourcedOutcome as SourcedOutcome
from inventory.transfer_ledger import receive_transfer as receive_transfer
from inventory.transfer_ledger import reserve_sourced_baskets as reserve_sourced_baskets
from inventory.transfer_ledger import ship_transfer as ship_transfer
from inventory.transfer_ledger import sourced_options as sourced_options

MAX_SEARCH_TERMS = search.MAX_TERMS
search_products = search.search


def search_terms(q: str) -> list[str]:
    """The distinct words of a shopper's search text, each of which a product must match (none: nothing
    to search for, as in "%" or "--")."""
    return search.words(q)

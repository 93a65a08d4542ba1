"""A shopper's basket of skus checked against the nearest stores' stock (`stores/nearest?sku=...`)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlmodel import Session

from inventory import service as inventory_service
from inventory.exceptions import no_product
from inventory.models import Product
from mobile_api.schemas import SkuAvailability
from retail.errors import InvalidInput
from stores.service import StoreView

MAX_BASKET = 20


class Basket:
    """The requested products, and their stock in every store looked at, remembered so that the stores
    the filter already checked are not queried again for the answer."""

    def __init__(self, session: Session, skus: Sequence[str]) -> None:
        wanted = list(dict.fromkeys(skus))  # a sku asked twice is one line of the basket
        if len(wanted) > MAX_BASKET:
            raise InvalidInput(f"at most {MAX_BASKET} different skus", field="query.sku")
        found = inventory_service.products_by_sku(session, skus=wanted)
        missing = [sku for sku in wanted if sku not in found]
        if missing:
            raise InvalidInput(no_product(missing[0]), field="query.sku", code="unknown_sku")
        self.session = session
        self.products: list[Product] = [found[sku] for sku in wanted]
        self._levels: dict[tuple[int, int], inventory_service.StockLevel] = {}
        self._looked_up: set[int] = set()

    def _load(self, stores: Sequence[StoreView]) -> None:
        new = [s.id for s in stores if s.id is not None and s.id not in self._looked_up]
        if new:
            product_ids = [p.id for p in self.products if p.id is not None]
            self._levels.update(
                inventory_service.stock_levels(self.session, store_ids=new, product_ids=product_ids)
            )
            self._looked_up.update(new)

    def stores_with_everything(self, stores: Sequence[StoreView]) -> set[int]:
        """The ids of the stores that have every sku of the basket available (at least one of each)."""
        self._load(stores)
        return {
            s.id for s in stores if s.id is not None and all(a.available > 0 for a in self.availability(s))
        }

    def availability(self, store: StoreView) -> list[SkuAvailability]:
        self._load([store])
        lines = []
        for product in self.products:
            assert store.id is not None
            assert product.id is not None
            level = self._levels.get((store.id, product.id), inventory_service.NO_STOCK)
            shown = inventory_service.shown_stock(level, store)
            lines.append(
                SkuAvailability(
                    sku=product.sku,
                    available=level.available,
                    status=shown.status,
                    as_of=level.as_of,
                    confidence=shown.confidence,
                )
            )
        return lines

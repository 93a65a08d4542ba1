"""A shopper's basket of skus checked against the nearest stores' stock (`stores/nearest?sku=...`), and
with `allow_transfer` against what they can get by transfer (`orders.promises.shown_transfer_ready_by`)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlmodel import Session

from inventory import service as inventory_service
from inventory.exceptions import no_product
from inventory.models import Product
from mobile_api.schemas import SkuAvailability
from orders import service as orders_service
from retail.errors import InvalidInput
from stores.service import StoreView

MAX_BASKET = 20


class Basket:
    """The requested products, and their stock in every store looked at, remembered so that the stores
    the filter already checked are not queried again for the answer.

    After `count_transfers(at=...)` (`allow_transfer`) a store that lacks some lines but can get them all
    by transfer from one source holds the basket too, with the promise an `allow_transfer` order placed
    then would get; worked out once per batch of stores, and remembered as the stock is."""

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
        self._transfer_at: datetime | None = None
        self._by_transfer: dict[int, datetime] = {}
        self._transfers_looked_up: set[int] = set()

    def _load(self, stores: Sequence[StoreView]) -> None:
        new = [s.id for s in stores if s.id is not None and s.id not in self._looked_up]
        if new:
            product_ids = [p.id for p in self.products if p.id is not None]
            self._levels.update(
                inventory_service.stock_levels(self.session, store_ids=new, product_ids=product_ids)
            )
            self._looked_up.update(new)

    def count_transfers(self, *, at: datetime) -> None:
        """From now on, count what the stores can get by transfer, as of `at` (the instant asked about)."""
        self._transfer_at = at

    def _holds_everything(self, store: StoreView) -> bool:
        return all(a.available > 0 for a in self.availability(store))

    def stores_with_everything(self, stores: Sequence[StoreView]) -> set[int]:
        """The ids of the stores that have every sku of the basket available (at least one of each), or,
        counting transfers, can get the ones they lack by transfer."""
        self._load(stores)
        held = {s.id for s in stores if s.id is not None and self._holds_everything(s)}
        if self._transfer_at is not None:
            held |= self.transfer_promises([s for s in stores if s.id not in held]).keys()
        return held

    def transfer_promises(self, stores: Sequence[StoreView]) -> dict[int, datetime]:
        """Counting transfers: by store id, for those of `stores` that lack some lines but can get them by
        transfer, the promise an `allow_transfer` order of the basket would get (else nothing)."""
        if self._transfer_at is None:
            return {}
        self._load(stores)
        new = [
            s
            for s in stores
            if s.id is not None and s.id not in self._transfers_looked_up and not self._holds_everything(s)
        ]
        if new:
            lines = [inventory_service.Quantity(p.id, 1) for p in self.products if p.id is not None]
            self._by_transfer.update(
                orders_service.shown_transfer_ready_by(
                    self.session, stores=new, lines=lines, at=self._transfer_at
                )
            )
            self._transfers_looked_up.update(s.id for s in new)
        return {s.id: self._by_transfer[s.id] for s in stores if s.id in self._by_transfer}

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

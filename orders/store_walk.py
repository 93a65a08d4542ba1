"""Asking about the open orders of every store through the orders' own index, one store at a time.

No index leads with the status (the one there is `ix_order_store_status_created`: store, status,
created_at), so on PostgreSQL a question about every order in some state runs per store, as a LATERAL
subquery over an index range of that store, rather than scan every order ever placed. The stores come
from the same index, not from the stores' table: a recursive skip scan steps from one store id to the
next one that has orders, one index descent each.
"""

from __future__ import annotations

from typing import Final

# PostgreSQL: the ids of the stores that have orders, as `walk(store_id)`; a subquery that joins it with
# `CROSS JOIN LATERAL (... WHERE o.store_id = walk.store_id ...)` runs once per store.
STORES_WITH_ORDERS: Final = """WITH RECURSIVE walk(store_id) AS (
           SELECT min(store_id) FROM "order"
           UNION ALL
           SELECT (SELECT min(o.store_id) FROM "order" o WHERE o.store_id > walk.store_id)
           FROM walk WHERE walk.store_id IS NOT NULL)"""

"""Every domain's tables, imported in one place so that Alembic and the app see the whole schema."""

from __future__ import annotations

from typing import Any

from sqlmodel import SQLModel

from inventory import models as inventory_models
from inventory import search as inventory_search
from orders import models as orders_models
from retail import auth
from stores import models as stores_models

metadata = SQLModel.metadata


def include_object(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
    """Alembic's filter: what a migration made in SQL outside the models (a database's own search
    index) is neither proposed for removal nor reported as a difference."""
    return not (reflected and compare_to is None and name in inventory_search.DATABASE_ONLY_OBJECTS)


__all__ = ["auth", "include_object", "inventory_models", "metadata", "orders_models", "stores_models"]

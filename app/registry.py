"""Every domain's tables and tasks, imported in one place: Alembic and the app see the whole schema, and
a worker, beat and the embedded schedule see every task (and every periodic one) the domains declare."""

from __future__ import annotations

from typing import Any

from sqlmodel import SQLModel

from inventory import models as inventory_models
from inventory import search as inventory_search
from inventory import tasks as inventory_tasks
from orders import models as orders_models
from orders import tasks as orders_tasks
from orders.messages import models as messages_models
from orders.messages import tasks as messages_tasks
from retail import auth
from stores import models as stores_models

metadata = SQLModel.metadata


def include_object(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
    """Alembic's filter: what a migration made in SQL outside the models (a database's own search
    index) is neither proposed for removal nor reported as a difference."""
    return not (reflected and compare_to is None and name in inventory_search.DATABASE_ONLY_OBJECTS)


__all__ = [
    "auth",
    "include_object",
    "inventory_models",
    "inventory_tasks",
    "messages_models",
    "messages_tasks",
    "metadata",
    "orders_models",
    "orders_tasks",
    "stores_models",
]

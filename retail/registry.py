"""Every domain's tables, imported in one place so that Alembic and the app see the whole schema."""

from __future__ import annotations

from sqlmodel import SQLModel

from inventory import models as inventory_models
from orders import models as orders_models
from retail import auth
from stores import models as stores_models

metadata = SQLModel.metadata

__all__ = ["auth", "inventory_models", "metadata", "orders_models", "stores_models"]

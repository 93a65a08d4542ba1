"""API models of transfers as the staff of both stores see them (API.md, "Every store a distribution
point")."""

from __future__ import annotations

import enum

from pydantic import BaseModel, Field

from orders.models import TransferStatus
from retail.clock import UtcDateTime


class TransferDirection(enum.StrEnum):
    outgoing = "outgoing"  # from this store: to pick and ship
    incoming = "incoming"  # to this store: to receive


class TransferLine(BaseModel):
    sku: str
    name: str
    quantity: int


class TransferOrder(BaseModel):
    order_id: str
    customer_name: str
    store_code: str = Field(description="the pickup store")


class StaffTransfer(BaseModel):
    transfer_id: str
    from_store: str = Field(description="the source store's code")
    to_store: str = Field(description="the pickup store's code")
    status: TransferStatus = Field(description="`planned` -> `shipped` -> `received`")
    eta: UtcDateTime | None = Field(description="when the units are due at the pickup store")
    shipped_at: UtcDateTime | None
    received_at: UtcDateTime | None
    lines: list[TransferLine]
    order: TransferOrder


class StaffTransferPage(BaseModel):
    items: list[StaffTransfer]

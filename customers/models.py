"""The customer record: someone the embedding site vouched for, across devices and channels."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from griddesk.crypto import EncryptedText
from griddesk.db import Base, utcnow


class Customer(Base):
    """One verified customer, keyed by the site's own id for them (``external_id``).

    Attributes are the latest the site signed; ``conversation.customer_id`` and ``ticket.customer_id``
    link their conversations (any device, any channel) and tickets. Anonymous customers have no record.
    """

    __tablename__ = "customer"

    id: Mapped[int] = mapped_column(primary_key=True)
    external_id: Mapped[str] = mapped_column(String(128), unique=True)
    # encrypted at rest (griddesk/crypto.py; migration 0008e), shown masked in the consoles
    name: Mapped[str | None] = mapped_column(EncryptedText(), default=None)
    phone: Mapped[str | None] = mapped_column(EncryptedText(), default=None)
    region: Mapped[str | None] = mapped_column(String(64), default=None)
    tier: Mapped[str | None] = mapped_column(String(16), default=None)
    first_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)

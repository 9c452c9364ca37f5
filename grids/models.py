"""Typed database models of grids."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, String
from sqlalchemy.orm import Mapped, mapped_column

from griddesk.db import Base, utcnow
from grids.sla import SlaPolicy


class Grid(Base):
    """A grid: the customers it serves (regions × tiers × categories; empty = any), its manager,
    its overflow grid and its service levels (overrides of the DOMAIN.md defaults)."""

    __tablename__ = "grid"

    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(128))
    regions: Mapped[list[str]] = mapped_column(JSON, default=list)
    tiers: Mapped[list[str]] = mapped_column(JSON, default=list)
    categories: Mapped[list[str]] = mapped_column(JSON, default=list)
    manager: Mapped[str] = mapped_column(String(128), default="")
    overflow_code: Mapped[str | None] = mapped_column(String(64), default=None)
    business_hours: Mapped[dict[str, object]] = mapped_column(JSON, default=dict)
    sla: Mapped[dict[str, object]] = mapped_column(JSON, default=dict)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    def policy(self) -> SlaPolicy:
        return SlaPolicy.from_settings(self.sla)

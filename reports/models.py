"""Typed database models of the reports: each grid's KPI targets and the record of their changes."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from griddesk.db import Base, utcnow


class ReportTarget(Base):
    """A grid's target for one KPI (``reports.catalogue``; its direction is the KPI's); NULL = no target."""

    __tablename__ = "report_target"

    grid_code: Mapped[str] = mapped_column(ForeignKey("grid.code", ondelete="CASCADE"), primary_key=True)
    kpi: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[float | None] = mapped_column(Float, default=None)
    updated_by: Mapped[str] = mapped_column(String(128), default="system")
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class ReportTargetEvent(Base):
    """Append-only record of every change of a target: who, when, from what to what."""

    __tablename__ = "report_target_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    grid_code: Mapped[str] = mapped_column(String(64), index=True)
    kpi: Mapped[str] = mapped_column(String(64))
    old_value: Mapped[float | None] = mapped_column(Float, default=None)
    new_value: Mapped[float | None] = mapped_column(Float, default=None)
    actor: Mapped[str] = mapped_column(String(128))
    at: Mapped[datetime] = mapped_column(default=utcnow)

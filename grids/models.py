"""Typed database models of grids."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from griddesk.db import Base, utcnow
from grids.handoff_policy import HandoffPolicy
from grids.sla import SlaPolicy


class CustomerTier(StrEnum):
    """The customer groups grids are cut along (DOMAIN.md): 一般客户 · 重要客户 · 潜在客户."""

    GENERAL = "general"
    KEY = "key"
    PROSPECT = "prospect"


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
    # overrides of the chat handoff defaults (grids/handoff_policy.py): miss_limit, overflow_after_seconds, …
    handoff: Mapped[dict[str, object]] = mapped_column(JSON, default=dict)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    def policy(self) -> SlaPolicy:
        return SlaPolicy.from_settings(self.sla)

    def handoff_policy(self) -> HandoffPolicy:
        return HandoffPolicy.from_settings(self.handoff)


class AgentStatus(StrEnum):
    ONLINE = "online"  # takes chats
    AWAY = "away"  # keeps their chats, gets no new ones
    OFFLINE = "offline"


class Agent(Base):
    """The serving side of an account: skills, how many chats at once, availability."""

    __tablename__ = "agent"

    account_id: Mapped[int] = mapped_column(ForeignKey("account.id", ondelete="CASCADE"), primary_key=True)
    skills: Mapped[list[str]] = mapped_column(JSON, default=list)
    max_chats: Mapped[int] = mapped_column(default=3)
    status: Mapped[AgentStatus] = mapped_column(String(16), default=AgentStatus.OFFLINE)
    last_seen_at: Mapped[datetime | None] = mapped_column(default=None)


class AgentStatusEvent(Base):
    """Append-only record of every change of an agent's status (``Agent.status`` keeps only the latest): the
    reports' online time and utilisation come from it (docs/kpis.md)."""

    __tablename__ = "agent_status_event"
    __table_args__ = (Index("ix_agent_status_event_account_at", "account_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id", ondelete="CASCADE"))
    status: Mapped[AgentStatus] = mapped_column(String(16))
    at: Mapped[datetime] = mapped_column(default=utcnow)


class GridMembership(Base):
    """An account works in a grid (agents serve its queue; managers oversee it)."""

    __tablename__ = "grid_membership"

    grid_code: Mapped[str] = mapped_column(ForeignKey("grid.code", ondelete="CASCADE"), primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("account.id", ondelete="CASCADE"), primary_key=True)

"""Typed database models of tickets, their audit trail, lookups and alerts."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

import customers.models  # noqa: F401 - registers the customer table the foreign keys name
from griddesk.db import Base, utcnow


class TicketState(StrEnum):
    """The standard service flow (标准化服务流程)."""

    ACCEPTED = "accepted"  # 已受理 (需求受理)
    ANALYSING = "analysing"  # 分析中 (问题分析)
    IN_PROGRESS = "in_progress"  # 处理中 (解决方案制定 / 问题解决)
    RESOLVED = "resolved"  # 已解决
    CLOSED = "closed"  # 已关闭 (服务反馈之后)


class Category(StrEnum):
    CONSULTATION = "consultation"  # 咨询
    FAULT = "fault"  # 故障报修
    COMPLAINT = "complaint"  # 投诉
    SUGGESTION = "suggestion"  # 建议
    BILLING = "billing"  # 账务/发票
    AFTER_SALES = "after_sales"  # 售后
    REFUND = "refund"  # 退款/赔偿


class Priority(StrEnum):
    URGENT = "urgent"
    HIGH = "high"
    NORMAL = "normal"
    LOW = "low"


class Ticket(Base):
    __tablename__ = "ticket"
    __table_args__ = (Index("ix_ticket_grid_state", "grid_code", "state"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(16), unique=True)
    category: Mapped[Category] = mapped_column(String(32))
    description: Mapped[str] = mapped_column(Text)
    contact_phone: Mapped[str] = mapped_column(String(32), index=True)
    contact_name: Mapped[str] = mapped_column(String(64))
    region: Mapped[str] = mapped_column(String(128))
    amount_yuan: Mapped[Decimal | None] = mapped_column(Numeric(12, 2), default=None)
    customer_tier: Mapped[str] = mapped_column(String(16), default="general")
    grid_code: Mapped[str] = mapped_column(ForeignKey("grid.code"))
    priority: Mapped[Priority] = mapped_column(String(16))
    state: Mapped[TicketState] = mapped_column(String(16), default=TicketState.ACCEPTED)
    sender_id: Mapped[str | None] = mapped_column(String(128), default=None, index=True)
    # the verified customer of the conversation it was opened in (customers/), if any
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customer.id"), default=None, index=True)
    needs_approval: Mapped[bool] = mapped_column(default=False)
    approved_by: Mapped[str | None] = mapped_column(String(128), default=None)
    step_due_at: Mapped[datetime | None] = mapped_column(default=None)
    resolve_due_at: Mapped[datetime | None] = mapped_column(default=None)
    overdue: Mapped[bool] = mapped_column(default=False, index=True)
    version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class TicketEvent(Base):
    """The audit trail: append-only (the database refuses UPDATE and DELETE on this table)."""

    __tablename__ = "ticket_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("ticket.id"), index=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    actor: Mapped[str] = mapped_column(String(128))
    kind: Mapped[str] = mapped_column(String(32))  # created · transition · comment · approval · overdue
    from_state: Mapped[str | None] = mapped_column(String(16), default=None)
    to_state: Mapped[str | None] = mapped_column(String(16), default=None)
    note: Mapped[str] = mapped_column(Text, default="")


class LookupGuard(Base):
    """Failed verification attempts of one conversation for one ticket (or phone), and its lock."""

    __tablename__ = "ticket_lookup_guard"
    __table_args__ = (UniqueConstraint("sender_id", "target"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    sender_id: Mapped[str] = mapped_column(String(128))
    target: Mapped[str] = mapped_column(String(64))
    failures: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[datetime | None] = mapped_column(default=None)


class VerifiedPhone(Base):
    """A contact phone this conversation has proved (opened a ticket with it, or passed a check)."""

    __tablename__ = "ticket_verified_phone"
    __table_args__ = (UniqueConstraint("sender_id", "phone"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    sender_id: Mapped[str] = mapped_column(String(128))
    phone: Mapped[str] = mapped_column(String(32))
    verified_at: Mapped[datetime] = mapped_column(default=utcnow)


class Alert(Base):
    """Something the grid manager must see (a ticket overdue past the warning time, …)."""

    __tablename__ = "alert"

    id: Mapped[int] = mapped_column(primary_key=True)
    grid_code: Mapped[str] = mapped_column(ForeignKey("grid.code"), index=True)
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("ticket.id"), default=None)
    # chat alerts (a waiting customer or an accepted chat past its service level)
    handoff_id: Mapped[int | None] = mapped_column(ForeignKey("handoff.id"), default=None)
    kind: Mapped[str] = mapped_column(String(32))
    step: Mapped[str] = mapped_column(String(16), default="")
    message: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    acknowledged_at: Mapped[datetime | None] = mapped_column(default=None)

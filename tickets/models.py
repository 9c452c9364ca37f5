"""Typed database models of tickets, their audit trail, lookups and alerts."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

import customers.models  # noqa: F401 - registers the customer table the foreign keys name
from griddesk.crypto import EncryptedText, keyed_hash_column
from griddesk.db import Base, utcnow

PHONE = "phone"  # the keyed-hash purpose of contact phones: tickets and verified phones hash them alike


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
    __table_args__ = (
        Index("ix_ticket_grid_state", "grid_code", "state"),
        Index("ix_ticket_grid_code_created_at", "grid_code", "created_at"),  # reports
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(16), unique=True)
    category: Mapped[Category] = mapped_column(String(32))
    description: Mapped[str] = mapped_column(Text)
    # customer contact details: encrypted at rest (griddesk.crypto); found by the phone's keyed hash
    contact_phone: Mapped[str] = mapped_column(EncryptedText())
    contact_phone_hash: Mapped[str] = keyed_hash_column("contact_phone", purpose=PHONE)
    contact_name: Mapped[str] = mapped_column(EncryptedText())
    region: Mapped[str] = mapped_column(String(128))
    amount_yuan: Mapped[Decimal | None] = mapped_column(Numeric(12, 2), default=None)
    customer_tier: Mapped[str] = mapped_column(String(16), default="general")
    grid_code: Mapped[str] = mapped_column(ForeignKey("grid.code"))
    priority: Mapped[Priority] = mapped_column(String(16))
    state: Mapped[TicketState] = mapped_column(String(16), default=TicketState.ACCEPTED)
    sender_id: Mapped[str | None] = mapped_column(String(128), default=None, index=True)
    # the verified customer of the conversation it was opened in (customers/), if any
    customer_id: Mapped[int | None] = mapped_column(default=None, index=True)  # customer.id (kept by code)
    # the person on the grid's staff who works on it (the tickets workspace); NULL = nobody yet
    assignee_id: Mapped[int | None] = mapped_column(default=None, index=True)  # account.id (kept by code)
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
    __table_args__ = (Index("ix_ticket_event_at", "at"), Index("ix_ticket_event_ticket_kind", "ticket_id", "kind"))

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("ticket.id"), index=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    actor: Mapped[str] = mapped_column(String(128))
    # created · transition · comment · approval · assignment · overdue · reveal (someone saw the contact in full)
    kind: Mapped[str] = mapped_column(String(32))
    from_state: Mapped[str | None] = mapped_column(String(16), default=None)
    to_state: Mapped[str | None] = mapped_column(String(16), default=None)
    note: Mapped[str] = mapped_column(Text, default="")


class LookupGuard(Base):
    """Failed verification attempts of one conversation for one ticket (target ``*``: for any), and its lock."""

    __tablename__ = "ticket_lookup_guard"
    __table_args__ = (UniqueConstraint("sender_id", "target"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    sender_id: Mapped[str] = mapped_column(String(128))
    target: Mapped[str] = mapped_column(String(64))
    failures: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[datetime | None] = mapped_column(default=None)


class LookupFailure(Base):
    """One failed check of a ticket's digits, whatever the conversation: failures are counted per ticket
    number and per client over a window, so a new conversation per guess starts no fresh count."""

    __tablename__ = "ticket_lookup_failure"
    __table_args__ = (
        Index("ix_ticket_lookup_failure_target_at", "target", "at"),
        Index("ix_ticket_lookup_failure_client_at", "client", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    target: Mapped[str] = mapped_column(String(64))  # the number asked for (normalised), a ticket or not
    sender_id: Mapped[str] = mapped_column(String(128))
    client: Mapped[str | None] = mapped_column(String(64), default=None)  # the gateway's client identifier
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class LookupLock(Base):
    """Every lookup of one ticket number (scope ``ticket``) or from one client (scope ``client``) is refused
    until ``locked_until``, whatever the conversation."""

    __tablename__ = "ticket_lookup_lock"
    __table_args__ = (UniqueConstraint("scope", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    scope: Mapped[str] = mapped_column(String(16))
    key: Mapped[str] = mapped_column(String(64))
    locked_at: Mapped[datetime] = mapped_column(default=utcnow)
    locked_until: Mapped[datetime] = mapped_column(default=utcnow)


class TicketAccess(Base):
    """A ticket one conversation proved with its digits: that conversation sees it again without asking
    (only that ticket: another ticket with the same contact phone needs its own check)."""

    __tablename__ = "ticket_access"
    __table_args__ = (UniqueConstraint("sender_id", "ticket_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    sender_id: Mapped[str] = mapped_column(String(128))
    ticket_id: Mapped[int] = mapped_column(ForeignKey("ticket.id"), index=True)
    granted_at: Mapped[datetime] = mapped_column(default=utcnow)


class Alert(Base):
    """Something the grid manager must see (a ticket overdue past the warning time, its lookups locked, …)."""

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

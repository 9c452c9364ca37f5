"""Typed database models of human handoff: escalations, ownership events, ratings, canned replies."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from conversations.models import Owner
from griddesk.db import Base, utcnow


class HandoffStatus(StrEnum):
    QUEUED = "queued"  # waiting in a grid's queue
    ACTIVE = "active"  # an agent accepted it
    RETURNED = "returned"  # handed back to the bot (by the agent or the customer)
    CLOSED = "closed"  # the agent closed it; the customer is asked for a rating
    ABANDONED = "abandoned"  # the customer left the queue or went silent
    TICKET = "ticket"  # the customer chose to leave a ticket (留言) instead of waiting


class HandoffReason(StrEnum):
    CUSTOMER_REQUEST = "customer_request"
    REPEATED_MISSES = "repeated_misses"
    LOW_CONFIDENCE = "low_confidence"
    COMPLAINT = "complaint"
    FORM_FAILURES = "form_failures"
    RULE = "rule"
    BOT_UNAVAILABLE = "bot_unavailable"  # the bot could not answer for too long (gateway/recovery.py)


class Handoff(Base):
    """One escalation to humans: the packet the action server built, and what became of it."""

    __tablename__ = "handoff"
    __table_args__ = (
        Index("ix_handoff_grid_code_created_at", "grid_code", "created_at"),
        # reports: what the handoff KPIs read, in one index (the packet makes the rows wide)
        Index(
            "ix_handoff_report",
            "created_at",
            "grid_code",
            "status",
            "reason",
            "agent_id",
            "skill",
            "first_accepted_at",
            "first_response_at",
            "ended_at",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversation.id", ondelete="CASCADE"), index=True)
    reason: Mapped[HandoffReason] = mapped_column(String(32))
    grid_code: Mapped[str] = mapped_column(ForeignKey("grid.code"), index=True)
    status: Mapped[HandoffStatus] = mapped_column(String(16), default=HandoffStatus.QUEUED, index=True)
    # DESIGN.md "Handoff packet": intent, FAQ candidates, slots, draft ticket, profile (transcript = the conversation's)
    packet: Mapped[dict[str, object]] = mapped_column(JSON, default=dict)
    skill: Mapped[str | None] = mapped_column(String(64), default=None)
    # the agent the dispatcher picked (skill, least load, last agent); any agent of the grid may still accept
    offered_agent_id: Mapped[int | None] = mapped_column(ForeignKey("account.id"), default=None)
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("account.id"), default=None, index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # when it entered its current grid's queue (reset by a transfer or an overflow)
    queued_at: Mapped[datetime] = mapped_column(default=utcnow)
    accepted_at: Mapped[datetime | None] = mapped_column(default=None)  # reset by a transfer to a grid
    # the first acceptance (the first ownership event to human): queue wait and handle time in reports
    first_accepted_at: Mapped[datetime | None] = mapped_column(default=None)
    first_response_at: Mapped[datetime | None] = mapped_column(default=None)
    ended_at: Mapped[datetime | None] = mapped_column(default=None)
    # SHA-256 (hex) of the one-time rating token the close notice carries (handoff.rating); set on closing
    rating_token_hash: Mapped[str | None] = mapped_column(String(64), default=None)


class OwnershipEvent(Base):
    """Append-only record of every change of owner: who, when, from what to what, and why."""

    __tablename__ = "ownership_event"
    # reports: a handoff's first acceptance
    __table_args__ = (Index("ix_ownership_event_handoff_to_owner", "handoff_id", "to_owner", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversation.id", ondelete="CASCADE"), index=True)
    handoff_id: Mapped[int | None] = mapped_column(ForeignKey("handoff.id"), default=None)
    from_owner: Mapped[Owner] = mapped_column(String(16))
    to_owner: Mapped[Owner] = mapped_column(String(16))
    grid_code: Mapped[str | None] = mapped_column(String(64), default=None)
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("account.id"), default=None)
    # "customer", "bot", "system" or "account:<id>"
    actor: Mapped[str] = mapped_column(String(64))
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Rating(Base):
    """The customer's rating of a closed handoff (CSAT): 1–5 and an optional comment."""

    __tablename__ = "rating"
    __table_args__ = (Index("ix_rating_created_at", "created_at"),)  # reports

    id: Mapped[int] = mapped_column(primary_key=True)
    handoff_id: Mapped[int] = mapped_column(ForeignKey("handoff.id", ondelete="CASCADE"), unique=True)
    score: Mapped[int]
    comment: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class CannedReply(Base):
    """A prepared answer agents insert with one click; grid NULL = every grid."""

    __tablename__ = "canned_reply"

    id: Mapped[int] = mapped_column(primary_key=True)
    grid_code: Mapped[str | None] = mapped_column(ForeignKey("grid.code", ondelete="CASCADE"), default=None)
    title: Mapped[str] = mapped_column(String(64))
    text: Mapped[str] = mapped_column(Text)

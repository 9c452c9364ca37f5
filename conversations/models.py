"""Typed database models of conversations and their transcripts (shared by every channel and feature)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from griddesk.db import Base, utcnow


class Owner(StrEnum):
    """Who answers the customer (DESIGN.md, "Conversation ownership")."""

    BOT = "bot"
    QUEUED = "queued"
    HUMAN = "human"
    CLOSED = "closed"


class Author(StrEnum):
    CUSTOMER = "customer"
    BOT = "bot"
    AGENT = "agent"
    SYSTEM = "system"


class MessageStatus(StrEnum):
    RECEIVED = "received"  # a customer message, not yet answered
    ANSWERED = "answered"  # a customer message the owner replied to
    UNANSWERED = "unanswered"  # the bot could not be reached; kept for retry and for agents
    SENT = "sent"  # a reply to the customer


class Conversation(Base):
    __tablename__ = "conversation"
    # reports (docs/kpis.md): what the conversation KPIs read, in one index
    __table_args__ = (
        Index(
            "ix_conversation_report",
            "created_at",
            "channel",
            "first_handoff_at",
            "first_unhelpful_at",
            "first_ticket_at",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    sender_id: Mapped[str] = mapped_column(String(128), unique=True)
    channel: Mapped[str] = mapped_column(String(32), default="rest")
    owner: Mapped[Owner] = mapped_column(String(16), default=Owner.BOT, index=True)
    last_seq: Mapped[int] = mapped_column(default=0)
    # messaging channels (gateway/channels/relay.py): every message up to this seq has been delivered
    delivered_seq: Mapped[int] = mapped_column(default=0)
    # the grid whose queue holds it (queued) or whose agent serves it (human); NULL while the bot owns it
    grid_code: Mapped[str | None] = mapped_column(ForeignKey("grid.code"), default=None, index=True)
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("account.id"), default=None, index=True)
    # the agent who served this customer last (assignment prefers them when they come back)
    last_agent_id: Mapped[int | None] = mapped_column(ForeignKey("account.id"), default=None)
    # the open (queued/human) or last handoff
    handoff_id: Mapped[int | None] = mapped_column(default=None)
    # the verified customer (customers/: the embedding site signed who they are); NULL = anonymous
    customer_id: Mapped[int | None] = mapped_column(default=None, index=True)  # customer.id (kept by code)
    # shown to agents: a verified customer's {"name", "phone", "region", "tier", "verified": true}; for an
    # anonymous one only the name their client gave ({"name"}), never used for routing or pre-fill
    profile: Mapped[dict[str, object]] = mapped_column(JSON, default=dict)
    # last time the customer's page or client was seen (messages, polls, live connection)
    customer_seen_at: Mapped[datetime | None] = mapped_column(default=None)
    # SHA-256 (hex) of the key our chat page got for this conversation (conversations/keys.py); NULL = none
    client_key_hash: Mapped[str | None] = mapped_column(String(64), default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    # reports (docs/kpis.md, bot-resolved and handoff rates): when the conversation first escalated, first said
    # 没帮助 and first opened a ticket, each written once by the feature that records it (handoff.queue,
    # knowledge_base.inbox, tickets.service) and rebuilt from those rows by reports.facts
    first_handoff_at: Mapped[datetime | None] = mapped_column(default=None)
    first_unhelpful_at: Mapped[datetime | None] = mapped_column(default=None)
    first_ticket_at: Mapped[datetime | None] = mapped_column(default=None)


class Message(Base):
    """One transcript entry; ``seq`` orders a conversation's messages without gaps."""

    __tablename__ = "message"
    __table_args__ = (UniqueConstraint("conversation_id", "seq"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversation.id", ondelete="CASCADE"))
    seq: Mapped[int]
    author: Mapped[Author] = mapped_column(String(16))
    text: Mapped[str | None] = mapped_column(Text, default=None)
    payload: Mapped[dict[str, object] | None] = mapped_column(JSON, default=None)
    status: Mapped[MessageStatus] = mapped_column(String(16), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # an ``unanswered`` message being followed up (gateway/recovery.py): claimed by one gateway until the lease ends
    retry_claimed_at: Mapped[datetime | None] = mapped_column(default=None)

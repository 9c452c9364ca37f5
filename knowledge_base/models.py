"""Typed database models of the knowledge base."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import JSON, ForeignKey, Index, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from griddesk.db import Base, utcnow


class FaqStatus(StrEnum):
    DRAFT = "draft"  # never published: customers do not see it
    PUBLISHED = "published"
    ARCHIVED = "archived"  # withdrawn: customers no longer see it; its history stays


class Review(StrEnum):
    """Where the FAQ's pending draft stands (grid-scoped drafts need their grid manager's approval)."""

    NONE = ""  # no draft pending
    DRAFT = "draft"  # saved, not submitted
    PENDING = "pending"  # submitted, waiting for the grid manager
    REJECTED = "rejected"  # the grid manager said no (the note says why)


class Faq(Base):
    """One question the knowledge base can answer.

    Scope is global when ``grid`` is empty, otherwise the FAQ serves that grid's customers only;
    a grid FAQ that names ``overrides_id`` replaces that global FAQ for its grid.
    """

    __tablename__ = "kb_faq"

    id: Mapped[int] = mapped_column(primary_key=True)
    external_id: Mapped[str] = mapped_column(String(128), unique=True)
    question: Mapped[str] = mapped_column(Text)
    similar_questions: Mapped[list[str]] = mapped_column(JSON, default=list)
    answer: Mapped[str] = mapped_column(Text)
    category: Mapped[str] = mapped_column(String(64), default="")
    grid: Mapped[str | None] = mapped_column(String(64), index=True, default=None)
    overrides_id: Mapped[int | None] = mapped_column(ForeignKey("kb_faq.id", ondelete="SET NULL"), default=None)
    status: Mapped[FaqStatus] = mapped_column(String(16), default=FaqStatus.PUBLISHED, index=True)
    # optimistic concurrency: grows with every change of the row; an edit names the version it started from
    version: Mapped[int] = mapped_column(default=1)
    # number of the FaqVersion customers see (NULL: never published), and of the newest unpublished draft
    published_version: Mapped[int | None] = mapped_column(default=None)
    draft_version: Mapped[int | None] = mapped_column(default=None)
    review: Mapped[Review] = mapped_column(String(16), default=Review.NONE, index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    @property
    def scope(self) -> str:
        return "global" if self.grid is None else "grid"

    def texts(self) -> list[str]:
        """The standard question first, then the similar questions."""
        return [self.question, *self.similar_questions]


class FaqVersion(Base):
    """One saved state of an FAQ's content. Never changed or deleted (the database refuses);
    publishing or restoring points the FAQ at a version and copies its content into the live row."""

    __tablename__ = "kb_faq_version"
    __table_args__ = (UniqueConstraint("faq_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    faq_id: Mapped[int] = mapped_column(ForeignKey("kb_faq.id", ondelete="CASCADE"), index=True)
    number: Mapped[int]
    question: Mapped[str] = mapped_column(Text)
    similar_questions: Mapped[list[str]] = mapped_column(JSON, default=list)
    answer: Mapped[str] = mapped_column(Text)
    category: Mapped[str] = mapped_column(String(64), default="")
    grid: Mapped[str | None] = mapped_column(String(64), default=None)
    overrides_id: Mapped[int | None] = mapped_column(default=None)
    # edit · import · restore · inbox · agent_answer · seed
    source: Mapped[str] = mapped_column(String(32), default="edit")
    author: Mapped[str] = mapped_column(String(64))  # "account:<id>", "import", "system"
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class FaqEvent(Base):
    """Append-only history of an FAQ: drafts saved, submitted, approved, rejected, published, restored, archived."""

    __tablename__ = "kb_faq_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    faq_id: Mapped[int] = mapped_column(ForeignKey("kb_faq.id", ondelete="CASCADE"), index=True)
    version_number: Mapped[int | None] = mapped_column(default=None)
    kind: Mapped[str] = mapped_column(String(32))
    actor: Mapped[str] = mapped_column(String(64))
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class UsageKind(StrEnum):
    ANSWERED = "answered"  # the bot answered with it directly
    SUGGESTED = "suggested"  # offered among the buttons
    CHOSEN = "chosen"  # a customer picked it from the buttons
    HELPFUL = "helpful"  # 有帮助
    UNHELPFUL = "unhelpful"  # 没帮助


class FaqUsage(Base):
    """How often an FAQ was used, per day and kind (one row per faq × day × kind, counted up)."""

    __tablename__ = "kb_usage"
    __table_args__ = (UniqueConstraint("faq_id", "day", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    faq_id: Mapped[int] = mapped_column(ForeignKey("kb_faq.id", ondelete="CASCADE"), index=True)
    day: Mapped[date]
    kind: Mapped[UsageKind] = mapped_column(String(16))
    count: Mapped[int] = mapped_column(default=0)


class Embedding(Base):
    """Cache of sentence vectors keyed by encoder and the hash of the (normalised) text."""

    __tablename__ = "kb_embedding"

    model: Mapped[str] = mapped_column(String(200), primary_key=True)
    text_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    dim: Mapped[int]
    vector: Mapped[bytes] = mapped_column(LargeBinary)


class Miss(Base):
    """A question the assistant could not answer confidently, kept for curation."""

    __tablename__ = "kb_miss"
    __table_args__ = (
        Index("ix_kb_miss_created_at", "created_at"),
        Index("ix_kb_miss_sender_id_kind", "sender_id", "kind"),  # reports: 没帮助 in a conversation
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    text: Mapped[str] = mapped_column(Text)
    normalized: Mapped[str] = mapped_column(Text)
    decision: Mapped[str] = mapped_column(String(16))
    top_faq_id: Mapped[int | None] = mapped_column(ForeignKey("kb_faq.id", ondelete="SET NULL"), default=None)
    top_score: Mapped[float | None] = mapped_column(default=None)
    sender_id: Mapped[str | None] = mapped_column(String(128), default=None)
    grid: Mapped[str | None] = mapped_column(String(64), default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # miss (fallback) · low_confidence (suggestions) · unhelpful (没帮助) · agent_answer (an agent's reply)
    kind: Mapped[str] = mapped_column(String(16), default="miss", index=True)
    # for agent_answer: what the agent replied (proposed as a draft answer)
    proposed_answer: Mapped[str | None] = mapped_column(Text, default=None)
    # how curation dealt with it: NULL = open; {"action": "similar"|"draft"|"dismissed", "faq_id", "by"}
    resolution: Mapped[dict[str, object] | None] = mapped_column(JSON, default=None)
    resolved_at: Mapped[datetime | None] = mapped_column(default=None, index=True)


class AdapterVersion(Base):
    """One version of the vector adapter learned by ``python -m knowledge_base train``.

    Versions are never edited or deleted; at most one is active (the one searches use), and
    ``train --rollback`` makes the previously activated version active again (or none).
    """

    __tablename__ = "kb_adapter"

    id: Mapped[int] = mapped_column(primary_key=True)
    encoder: Mapped[str] = mapped_column(String(200), index=True)
    dim: Mapped[int]
    matrix: Mapped[bytes] = mapped_column(LargeBinary)
    active: Mapped[bool] = mapped_column(default=False, index=True)
    pairs: Mapped[int] = mapped_column(default=0)
    faqs: Mapped[int] = mapped_column(default=0)
    report: Mapped[dict[str, object]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    activated_at: Mapped[datetime | None] = mapped_column(default=None)

    @property
    def version(self) -> int:
        return self.id

"""Typed database models of the knowledge base."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, ForeignKey, Index, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from griddesk.db import Base, utcnow


class FaqStatus(StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"


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
    overrides_id: Mapped[int | None] = mapped_column(
        ForeignKey("kb_faq.id", ondelete="SET NULL"), default=None
    )
    status: Mapped[FaqStatus] = mapped_column(String(16), default=FaqStatus.PUBLISHED, index=True)
    version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    @property
    def scope(self) -> str:
        return "global" if self.grid is None else "grid"

    def texts(self) -> list[str]:
        """The standard question first, then the similar questions."""
        return [self.question, *self.similar_questions]


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
    __table_args__ = (Index("ix_kb_miss_created_at", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    text: Mapped[str] = mapped_column(Text)
    normalized: Mapped[str] = mapped_column(Text)
    decision: Mapped[str] = mapped_column(String(16))
    top_faq_id: Mapped[int | None] = mapped_column(
        ForeignKey("kb_faq.id", ondelete="SET NULL"), default=None
    )
    top_score: Mapped[float | None] = mapped_column(default=None)
    sender_id: Mapped[str | None] = mapped_column(String(128), default=None)
    grid: Mapped[str | None] = mapped_column(String(64), default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


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

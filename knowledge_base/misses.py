"""The curation log: questions the assistant missed or answered with low confidence."""

from __future__ import annotations

from sqlalchemy.orm import Session

from griddesk.text import normalize
from knowledge_base.index import Decision, SearchResult
from knowledge_base.models import Miss


def log_miss(session: Session, result: SearchResult, sender_id: str | None = None, grid: str | None = None) -> Miss:
    """Record a search whose decision was not a confident answer: kind ``miss`` for a fallback,
    ``low_confidence`` when the bot could only suggest."""
    top = result.top
    miss = Miss(
        text=result.query[:2000],
        normalized=normalize(result.query)[:2000],
        decision=str(result.decision),
        top_faq_id=top.faq.id if top else None,
        top_score=top.score if top else None,
        sender_id=sender_id,
        grid=grid,
        kind="low_confidence" if result.decision == Decision.SUGGEST else "miss",
    )
    session.add(miss)
    return miss

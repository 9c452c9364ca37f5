"""Finding FAQs for the curation console: filters, paging, most recently changed first."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Text, cast, func, or_, select
from sqlalchemy.orm import Session

from griddesk.db import MAX_INTEGER
from knowledge_base.models import Faq

MAX_PAGE = 200


def find_faqs(
    session: Session,
    text: str | None = None,
    category: str | None = None,
    grid: str | None = None,
    status: str | None = None,
    review: str | None = None,
    limit: int = 50,
    offset: int = 0,
    visible_grids: Sequence[str] | None = None,
) -> tuple[list[Faq], int]:
    """FAQs matching every given filter, most recently changed first, and how many match in all.

    ``text`` matches the question, similar questions, answer or external id (a number: also the id);
    ``grid="global"`` means global FAQs only; ``review="none"`` FAQs without a pending draft;
    ``visible_grids`` limits the result to global FAQs and
    those grids (a manager's view)."""
    stmt = select(Faq)
    if text and text.strip():
        needle = text.strip()
        escaped = _json_escaped(needle)
        conditions = [
            Faq.question.contains(needle, autoescape=True),
            Faq.answer.contains(needle, autoescape=True),
            Faq.external_id == needle,
            cast(Faq.similar_questions, Text).contains(needle, autoescape=True),
        ]
        if escaped != needle:
            conditions.append(cast(Faq.similar_questions, Text).contains(escaped, autoescape=True))
        if needle.isascii() and needle.isdigit() and int(needle) <= MAX_INTEGER:
            conditions.append(Faq.id == int(needle))
        stmt = stmt.where(or_(*conditions))
    if category:
        stmt = stmt.where(Faq.category == category)
    if grid == "global":
        stmt = stmt.where(Faq.grid.is_(None))
    elif grid:
        stmt = stmt.where(Faq.grid == grid)
    if status:
        stmt = stmt.where(Faq.status == status)
    if review:
        stmt = stmt.where(Faq.review == ("" if review == "none" else review))
    if visible_grids is not None:
        stmt = stmt.where(or_(Faq.grid.is_(None), Faq.grid.in_(list(visible_grids))))
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    limit = max(1, min(limit, MAX_PAGE))
    rows = session.scalars(stmt.order_by(Faq.updated_at.desc(), Faq.id.desc()).limit(limit).offset(max(0, offset)))
    return list(rows), total


def _json_escaped(text: str) -> str:
    """``text`` as the default JSON serialiser stores it inside a list (non-ASCII as \\uXXXX)."""
    import json

    return json.dumps(text)[1:-1]
